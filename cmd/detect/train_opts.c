/* train_opts.c - detect train's options: the usage text, their parsing
 * and checks (usage errors exit 2), the defaults. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"

enum {
	O_DATA = CLI_OPT_NO_PROGRESS + 1, O_SPLIT, O_VAL, O_HEAD, O_FPN, O_SPP,
	O_SIZE, O_BASE, O_STEPS, O_LR, O_WD, O_WARMUP, O_SCHED, O_CLIP,
	O_EVAL, O_LOG, O_LOG_EVERY, O_SEED, O_RESUME, O_NOAUG, O_FORMAT, O_NAMES,
	O_MAXSIDE, O_CROP, O_LEVELS,
};


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
		"                   [centernet]) instead\n"
		"  -o FILE          the model and checkpoint (required)\n"
		"  --resume         continue the run saved in -o\n"
		"  --steps N        train until step N (2000)\n"
		"  -b N             images per step (8)\n"
		"  --lr F           AdamW learning rate (0.001)\n"
		"  --wd F           weight decay of the weights (0.0005)\n"
		"  --warmup N       linear warmup steps (100)\n"
		"  --schedule S     cosine (default), constant, linear or step\n"
		"  --clip F         gradient norm clip, 0 off (10)\n"
		"  --eval-every N   validation every N steps and at the end (250)\n"
		"  --log FILE       CSV log: step, losses, validation mAP@0.5\n"
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
			if (strcmp(optarg, "yolo") == 0 || strcmp(optarg, "grid") == 0)
				o->arch.head = NK_HEAD_GRID;
			else if (strcmp(optarg, "centernet") == 0)
				o->arch.head = NK_HEAD_CENTERNET;
			else
				cli_usage_error(usage, "--head: '%s' is not yolo or "
						"centernet", optarg);
			break;
		case O_FPN: o->arch.fpn = 1; break;
		case O_SPP: o->arch.spp = 1; break;
		case O_LEVELS:
			o->arch.levels = (int)cli_parse_int_opt(usage, "--levels",
								optarg, 1, 3);
			break;
		case O_SIZE:
			o->arch.width = o->arch.height =
				(int)cli_parse_int_opt(usage, "--size", optarg, 32, 4096);
			if (o->arch.width % 32)
				cli_usage_error(usage, "--size %d: a multiple of 32",
						o->arch.width);
			break;
		case O_BASE:
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
			o->batch = (int)cli_parse_int_opt(usage, "-b", optarg, 1, 4096);
			break;
		case O_LR:
			o->tc.lr = (float)cli_parse_float_opt(usage, "--lr", optarg, 1e-9, 10);
			break;
		case O_WD:
			o->tc.weight_decay = (float)cli_parse_float_opt(usage, "--wd", optarg, 0, 1);
			break;
		case O_WARMUP:
			o->tc.warmup = cli_parse_int_opt(usage, "--warmup", optarg, 0, 1LL << 40);
			break;
		case O_SCHED:
			if ((o->tc.schedule = nk_lr_kind_from_name(optarg)) < 0)
				cli_usage_error(usage, "--schedule: '%s' is not constant, "
						"cosine, linear or step", optarg);
			break;
		case O_CLIP:
			o->tc.clip = (float)cli_parse_float_opt(usage, "--clip", optarg, 0, 1e9);
			break;
		case O_EVAL:
			o->tc.eval_every = o->tc.save_every =
				cli_parse_int_opt(usage, "--eval-every", optarg, 1, 1LL << 40);
			break;
		case O_LOG: o->log = optarg; break;
		case O_LOG_EVERY:
			o->tc.log_every = cli_parse_int_opt(usage, "--log-every",
							    optarg, 1, 1LL << 40);
			break;
		case O_SEED:
			o->tc.seed = (uint64_t)cli_parse_int_opt(usage, "--seed", optarg, 0,
								 INT64_MAX);
			break;
		case O_NOAUG: o->noaug = 1; break;
		case O_CROP: o->crop = 1; break;
		case O_MAXSIDE:
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
}
