/* train_opts.c - detect train's options: the usage text, their parsing
 * and checks (usage errors exit 2), the defaults. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"
#include "models/det_task.h"

enum {
	O_DATA = CLI_OPT_NO_PROGRESS + 1, O_SPLIT, O_VAL, O_HEAD, O_FPN, O_SPP,
	O_SIZE, O_BASE, O_STEPS, O_LR, O_WD, O_WARMUP, O_SCHED, O_CLIP,
	O_EVAL, O_LOG, O_LOG_EVERY, O_SEED, O_RESUME, O_NOAUG, O_FORMAT, O_NAMES,
	O_MAXSIDE, O_CROP, O_LEVELS,
};


/* The options of TO_*, as messages name them. */
static const char *const given_name[] = {
	"--head", "--fpn", "--levels", "--spp", "--size", "--base", "-b",
	"--lr", "--wd", "--warmup", "--schedule", "--clip", "--eval-every",
	"--log-every", "--seed", "--no-augment", "--crop", "--max-side",
};
_Static_assert(sizeof given_name / sizeof *given_name == TO_COUNT,
	       "a name for every TO_* option");

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s train --data DIR -o MODEL.nkw [--head yolo|centernet]\n"
		"                  [--fpn] [--spp] [--size N] [-c MODEL.cfg] [options]\n"
		"Trains a detector from scratch on a Pascal VOC or COCO directory;\n"
		"MODEL.nkw is the checkpoint and the model 'detect run -m' reads.\n"
		"  --data DIR       VOC directory (Annotations/, JPEGImages/,\n"
		"                   ImageSets/Main/) or COCO's (annotations/, images)\n"
		"  --format F       voc (default); coco: annotations/instances_S.json\n"
		"                   with the images in DIR/S/; yolo: DIR/S.txt lists\n"
		"                   the images, labels as darknet finds them\n"
		"  --split S        training images: ImageSets/Main/S.txt (train)\n"
		"  --val-split S    validation images (val; 'none': no validation)\n"
		"  --names FILE     class names in index order (default: sorted)\n"
		"  --head H         yolo (a YOLOv1 grid at stride 16, default) or\n"
		"                   centernet (heatmaps at stride 4)\n"
		"  --fpn            lateral connections on the path to the head;\n"
		"                   yolo: heads at strides 8, 16, 32 (--levels)\n"
		"  --levels N       yolo with --fpn: heads on 1 (stride 16), 2\n"
		"                   (8, 16) or 3 (8, 16, 32) levels, each for its\n"
		"                   sizes (%d)\n"
		"  --spp            an SPP block (max-pool 5, 9, 13) after the backbone\n"
		"  --size N         network input N x N, a multiple of 32 (416)\n"
		"  --base N         filters of the first layer, doubled per stride (16)\n"
		"  -c FILE          train this darknet cfg (ending in [grid] or\n"
		"                   [centernet]) instead (no --head ... --base)\n"
		"  -o FILE          the model and checkpoint (required)\n"
		"  --resume         continue the run saved in -o with its settings\n"
		"                   (an option that shapes the run, given again,\n"
		"                   must agree); data with the same classes\n"
		"  --steps N        train until step N (2000); with --resume, above\n"
		"                   the steps done\n"
		"  -b N             images per step (8)\n"
		"  --lr F           AdamW learning rate (0.001)\n"
		"  --wd F           weight decay of the weights (0.0005)\n"
		"  --warmup N       linear warmup steps (100)\n"
		"  --schedule S     cosine (default), constant, linear or step\n"
		"  --clip F         gradient norm clip, 0 off (10)\n"
		"  --eval-every N   validation every N steps and at the end (250)\n"
		"  --log FILE       CSV log: step, losses, validation mAP@0.5 (replaced\n"
		"                   at each checkpoint; appended to with --resume)\n"
		"  --log-every N    a log row every N steps and at the end (10)\n"
		"  --seed N         initialisation, order and augmentation (1)\n"
		"  --no-augment     no flips, jitter or colour changes\n"
		"  --crop           random crops instead of jittered letterboxing\n"
		"  --max-side N     downscale images at load to this longer side\n"
		"  -j N             threads (default: one per core)\n"
		"  -q               no reports; --progress/--no-progress: the line\n"
		"  -h, --help       this text\n",
		cli_prog, NK_DET_FPN_LEVELS);
}

static const struct option long_opts[] = {
	{"data", required_argument, 0, O_DATA},
	{"format", required_argument, 0, O_FORMAT},
	{"split", required_argument, 0, O_SPLIT},
	{"val-split", required_argument, 0, O_VAL},
	{"names", required_argument, 0, O_NAMES},
	{"head", required_argument, 0, O_HEAD},
	{"fpn", no_argument, 0, O_FPN},
	{"levels", required_argument, 0, O_LEVELS},
	{"spp", no_argument, 0, O_SPP},
	{"size", required_argument, 0, O_SIZE},
	{"base", required_argument, 0, O_BASE},
	{"steps", required_argument, 0, O_STEPS},
	{"lr", required_argument, 0, O_LR},
	{"wd", required_argument, 0, O_WD},
	{"warmup", required_argument, 0, O_WARMUP},
	{"schedule", required_argument, 0, O_SCHED},
	{"clip", required_argument, 0, O_CLIP},
	{"eval-every", required_argument, 0, O_EVAL},
	{"log", required_argument, 0, O_LOG},
	{"log-every", required_argument, 0, O_LOG_EVERY},
	{"seed", required_argument, 0, O_SEED},
	{"resume", no_argument, 0, O_RESUME},
	{"no-augment", no_argument, 0, O_NOAUG},
	{"crop", no_argument, 0, O_CROP},
	{"max-side", required_argument, 0, O_MAXSIDE},
	{"progress", no_argument, 0, CLI_OPT_PROGRESS},
	{"no-progress", no_argument, 0, CLI_OPT_NO_PROGRESS},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0},
};

void detect_train_parse(struct train_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->format = "voc", o->split = "train", o->val_split = "val";
	o->arch = nk_det_arch_default();
	o->batch = 8;
	o->progress = -1;
	o->tc = (nk_train_config){.steps = 2000, .lr = 1e-3f, .weight_decay = 5e-4f,
				  .clip = 10, .schedule = NK_LR_COSINE,
				  .warmup = 100, .min_lr = 1e-5f,
				  .step_size = 1000, .eval_every = 250,
				  .save_every = 250, .log_every = 10, .seed = 1};
	int c;
	while ((c = getopt_long(argc, argv, "c:o:b:j:qh", long_opts, NULL)) != -1) {
		switch (c) {
		case O_DATA: o->data = optarg; break;
		case O_FORMAT: o->format = optarg; break;
		case O_SPLIT: o->split = optarg; break;
		case O_VAL: o->val_split = optarg; break;
		case O_NAMES: o->names_path = optarg; break;
		case O_HEAD:
			o->given |= 1u << TO_HEAD;
			if (strcmp(optarg, "yolo") == 0 || strcmp(optarg, "grid") == 0)
				o->arch.head = NK_HEAD_GRID;
			else if (strcmp(optarg, "centernet") == 0)
				o->arch.head = NK_HEAD_CENTERNET;
			else
				cli_usage_error(usage, "--head: '%s' is not yolo or "
						"centernet", optarg);
			break;
		case O_FPN: o->arch.fpn = 1, o->given |= 1u << TO_FPN; break;
		case O_SPP: o->arch.spp = 1, o->given |= 1u << TO_SPP; break;
		case O_LEVELS:
			o->given |= 1u << TO_LEVELS;
			o->arch.levels = (int)cli_parse_int_opt(usage, "--levels",
								optarg, 1, 3);
			break;
		case O_SIZE:
			o->given |= 1u << TO_SIZE;
			o->arch.width = o->arch.height =
				(int)cli_parse_int_opt(usage, "--size", optarg, 32, 4096);
			if (o->arch.width % 32)
				cli_usage_error(usage, "--size %d: a multiple of 32",
						o->arch.width);
			break;
		case O_BASE:
			o->given |= 1u << TO_BASE;
			o->arch.base = (int)cli_parse_int_opt(usage, "--base", optarg, 1, 256);
			break;
		case 'c': o->cfg = optarg; break;
		case 'o': o->out = optarg; break;
		case O_RESUME: o->resume = 1; break;
		case O_STEPS:
			o->tc.steps = cli_parse_int_opt(usage, "--steps", optarg, 0, 1LL << 40);
			o->set_steps = 1;
			break;
		case 'b':
			o->given |= 1u << TO_BATCH;
			o->batch = (int)cli_parse_int_opt(usage, "-b", optarg, 1, 4096);
			break;
		case O_LR:
			o->given |= 1u << TO_LR;
			o->tc.lr = (float)cli_parse_float_opt(usage, "--lr", optarg, 1e-9, 10);
			break;
		case O_WD:
			o->given |= 1u << TO_WD;
			o->tc.weight_decay = (float)cli_parse_float_opt(usage, "--wd", optarg, 0, 1);
			break;
		case O_WARMUP:
			o->given |= 1u << TO_WARMUP;
			o->tc.warmup = cli_parse_int_opt(usage, "--warmup", optarg, 0, 1LL << 40);
			break;
		case O_SCHED:
			o->given |= 1u << TO_SCHED;
			if ((o->tc.schedule = nk_lr_kind_from_name(optarg)) < 0)
				cli_usage_error(usage, "--schedule: '%s' is not constant, "
						"cosine, linear or step", optarg);
			break;
		case O_CLIP:
			o->given |= 1u << TO_CLIP;
			o->tc.clip = (float)cli_parse_float_opt(usage, "--clip", optarg, 0, 1e9);
			break;
		case O_EVAL:
			o->given |= 1u << TO_EVAL;
			o->tc.eval_every = o->tc.save_every =
				cli_parse_int_opt(usage, "--eval-every", optarg, 1, 1LL << 40);
			break;
		case O_LOG: o->log = optarg; break;
		case O_LOG_EVERY:
			o->given |= 1u << TO_LOG_EVERY;
			o->tc.log_every = cli_parse_int_opt(usage, "--log-every",
							    optarg, 1, 1LL << 40);
			break;
		case O_SEED:
			o->given |= 1u << TO_SEED;
			o->tc.seed = (uint64_t)cli_parse_int_opt(usage, "--seed", optarg, 0,
								 INT64_MAX);
			break;
		case O_NOAUG: o->noaug = 1, o->given |= 1u << TO_NOAUG; break;
		case O_CROP: o->crop = 1, o->given |= 1u << TO_CROP; break;
		case O_MAXSIDE:
			o->given |= 1u << TO_MAXSIDE;
			o->max_side = (int)cli_parse_int_opt(usage, "--max-side", optarg, 32,
							     65536);
			break;
		case 'j':
			o->threads = (int)cli_parse_int_opt(usage, "-j", optarg, 1, 1024);
			break;
		case 'q': o->quiet = 1; break;
		case CLI_OPT_PROGRESS: o->progress = 1; break;
		case CLI_OPT_NO_PROGRESS: o->progress = 0; break;
		case 'h': cli_exit_help(usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default: cli_usage_error(usage, NULL);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "train takes no operands ('%s')", argv[optind]);
	if (!o->data)
		cli_usage_error(usage, "train: --data DIR is required");
	if (!o->out)
		cli_usage_error(usage, "train: -o MODEL.nkw is required");
	if (strcmp(o->format, "voc") && strcmp(o->format, "coco") &&
	    strcmp(o->format, "yolo"))
		cli_usage_error(usage, "--format: '%s' is not voc, yolo or coco",
				o->format);
	if (o->names_path && strcmp(o->format, "coco") == 0)
		cli_usage_error(usage, "--names orders VOC's or YOLO's classes; "
				"COCO's are its categories");
	if (!o->names_path && strcmp(o->format, "yolo") == 0)
		cli_usage_error(usage, "--format yolo needs --names FILE (the "
				"classes in index order)");
	if (o->arch.levels && (!o->arch.fpn || o->arch.head != NK_HEAD_GRID))
		cli_usage_error(usage, "--levels is for --head yolo --fpn");
	if (o->resume && o->cfg)
		cli_usage_error(usage, "--resume takes the network from -o; -c is "
				"for a new run");
	/* The cfg is the whole network: an option that would build another
	 * part of one would be silently ignored. */
	for (int k = 0; o->cfg && k < TO_ARCH; k++)
		if (o->given >> k & 1)
			cli_usage_error(usage, "%s: -c %s fixes the network; the "
					"option is for a network train builds",
					given_name[k], o->cfg);
}

/* An option given again with --resume must say what the run already
 * does: the checkpoint is the run's only record, and a differing value
 * that it overrode silently would let the user believe it was applied. */
static _Noreturn void differs(const struct train_opts *o, int k)
{
	cli_usage_error(usage, "%s: not the setting of the run in %s "
			"(--resume continues it with its own settings; leave "
			"the option out)", given_name[k], o->out);
}

void detect_train_check_resume(const struct train_opts *o,
			       const nk_train_config *tc,
			       const nk_det_task_config *kc,
			       const nk_det_arch *arch)
{
	const nk_augment_config val = nk_augment_val();
	const nk_augment_config *a = &kc->aug;
	int plain = a->flip_h == val.flip_h && a->flip_v == val.flip_v &&
		    a->scale_min == val.scale_min &&
		    a->scale_max == val.scale_max && a->aspect == val.aspect &&
		    a->translate == val.translate && a->hue == val.hue &&
		    a->saturation == val.saturation &&
		    a->exposure == val.exposure;
	for (int k = 0; k < TO_COUNT; k++) {
		if (!(o->given >> k & 1))
			continue;
		if (k < TO_ARCH && !arch)
			cli_usage_error(usage, "%s: the run in %s trains a "
					"user's cfg, which fixes the network",
					given_name[k], o->out);
		int same = 1;
		switch (k) {
		case TO_HEAD: same = o->arch.head == arch->head; break;
		case TO_FPN: same = arch->fpn; break;
		case TO_LEVELS:
			same = nk_det_arch_levels(&o->arch) ==
			       nk_det_arch_levels(arch);
			break;
		case TO_SPP: same = arch->spp; break;
		case TO_SIZE:
			same = o->arch.width == arch->width &&
			       o->arch.height == arch->height;
			break;
		case TO_BASE: same = o->arch.base == arch->base; break;
		case TO_BATCH: same = o->batch == kc->batch; break;
		case TO_LR: same = o->tc.lr == tc->lr; break;
		case TO_WD: same = o->tc.weight_decay == tc->weight_decay; break;
		case TO_WARMUP: same = o->tc.warmup == tc->warmup; break;
		case TO_SCHED: same = o->tc.schedule == tc->schedule; break;
		case TO_CLIP: same = o->tc.clip == tc->clip; break;
		case TO_EVAL: same = o->tc.eval_every == tc->eval_every; break;
		case TO_LOG_EVERY: same = o->tc.log_every == tc->log_every; break;
		case TO_SEED: same = o->tc.seed == tc->seed; break;
		case TO_NOAUG: same = plain; break;
		case TO_CROP: same = a->mode == NK_AUG_CROP; break;
		case TO_MAXSIDE: same = o->max_side == kc->max_side; break;
		}
		if (!same)
			differs(o, k);
	}
}

void detect_train_usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_usage_error(usage, "%s", msg);
}
