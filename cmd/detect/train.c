/* train.c - detect train: a detection set read and its images decoded
 * once, a detector built (nnkit's architecture from the options, or the
 * user's cfg), and the pair handed to the library's training loop through
 * models/det_task.c; the reports and the progress line are printed here.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "detect.h"
#include "formats/coco.h"
#include "formats/voc.h"
#include "vision/yolo_labels.h"
#include "models/det_arch.h"
#include "models/det_task.h"
#include "nn/train.h"

enum {
	O_DATA = CLI_OPT_NO_PROGRESS + 1, O_SPLIT, O_VAL, O_HEAD, O_FPN, O_SPP,
	O_SIZE, O_BASE, O_STEPS, O_LR, O_WD, O_WARMUP, O_SCHED, O_CLIP,
	O_EVAL, O_LOG, O_SEED, O_RESUME, O_NOAUG, O_FORMAT, O_NAMES,
	O_MAXSIDE, O_CROP,
};

struct train_opts {
	const char *data, *format, *split, *val_split, *out, *cfg, *log,
		*names_path;
	nk_det_arch arch;
	nk_train_config tc;
	int set_steps, batch, threads, resume, noaug, crop, quiet, max_side,
	    progress;
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
		"  --fpn            lateral connections on the path to the head\n"
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
		"  --schedule S     cosine (default), constant or step\n"
		"  --clip F         gradient norm clip, 0 off (10)\n"
		"  --eval-every N   validation every N steps and at the end (250)\n"
		"  --log FILE       CSV log: step, losses, validation mAP@0.5\n"
		"  --seed N         initialisation, order and augmentation (1)\n"
		"  --no-augment     no flips, jitter or colour changes\n"
		"  --crop           random crops instead of jittered letterboxing\n"
		"  --max-side N     downscale images at load to this longer side\n"
		"  -j N             threads (default: one per core)\n"
		"  -q               no reports; --progress/--no-progress: the line\n"
		"  -h, --help       this text\n",
		cli_prog);
}

static const struct option long_opts[] = {
	{"data", required_argument, 0, O_DATA},
	{"format", required_argument, 0, O_FORMAT},
	{"split", required_argument, 0, O_SPLIT},
	{"val-split", required_argument, 0, O_VAL},
	{"names", required_argument, 0, O_NAMES},
	{"head", required_argument, 0, O_HEAD},
	{"fpn", no_argument, 0, O_FPN},
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

static void parse(struct train_opts *o, int argc, char **argv)
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
						"cosine or step", optarg);
			break;
		case O_CLIP:
			o->tc.clip = (float)cli_parse_float_opt(usage, "--clip", optarg, 0, 1e9);
			break;
		case O_EVAL:
			o->tc.eval_every = o->tc.save_every =
				cli_parse_int_opt(usage, "--eval-every", optarg, 1, 1LL << 40);
			break;
		case O_LOG: o->log = optarg; break;
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
	if (o->resume && o->cfg)
		cli_usage_error(usage, "--resume takes the network from -o; -c is "
				"for a new run");
}

/* ---- reading the data --------------------------------------------------- */

static char **read_names(const char *path, int *n)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		cli_errx(1, "%s: %s", path, strerror(errno));
	char **v = NULL, line[1024];
	int cap = 0;
	*n = 0;
	while (fgets(line, sizeof line, fp)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (*n == cap && !(v = realloc(v, (size_t)(cap = cap ? 2 * cap : 8) *
					       sizeof *v)))
			cli_errx(1, "out of memory");
		if (!(v[(*n)++] = strdup(line)))
			cli_errx(1, "out of memory");
	}
	fclose(fp);
	if (!*n)
		cli_errx(1, "%s: no class names", path);
	return v;
}

/* COCO's layout: DIR/annotations/instances_SPLIT.json, the images in
 * DIR/SPLIT/.  Crowd regions (many objects under one box) are not
 * objects to learn: they are dropped. */
static void read_coco(nk_detset *s, const struct train_opts *o,
		      const char *split)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/annotations/instances_%s.json", o->data,
		 split);
	if (nk_coco_read(s, path))
		cli_die_lib();
	snprintf(path, sizeof path, "%s/%s", o->data, split);
	free(s->root);
	if (!(s->root = strdup(path)))
		cli_errx(1, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < s->nobjects; i++)
		if (!s->objects[i].crowd)
			s->objects[k++] = s->objects[i];
	s->nobjects = k;
}

static void read_set(nk_detset *s, const struct train_opts *o,
		     const char *split, const char *const *names, int nnames)
{
	memset(s, 0, sizeof *s);
	if (strcmp(o->format, "coco") == 0) {
		read_coco(s, o, split);
	} else if (strcmp(o->format, "yolo") == 0) {
		/* darknet's layout: DIR/SPLIT.txt lists the images. */
		char path[4096];
		snprintf(path, sizeof path, "%s/%s.txt", o->data, split);
		if (nk_yolo_read(s, path, names, nnames))
			cli_die_lib();
	} else if (nk_voc_read(s, o->data, split, names, nnames))
		cli_die_lib();
	for (int i = 0; i < s->nwarnings && !o->quiet; i++)
		cli_warnx("%s", s->warnings[i].msg);
	if (s->nwarnings && !o->quiet)
		cli_warnx("%s/%s: %d degenerate box%s skipped", o->data, split,
			  s->nwarnings, s->nwarnings == 1 ? "" : "es");
	if (!s->nimages)
		cli_errx(1, "%s: split '%s' has no images", o->data, split);
}

/* ---- reports -------------------------------------------------------------- */

struct report {
	const struct train_opts *o;
	nk_det_task *task;
	int prog;
	double t0, last_draw;
	int64_t start;
};

static int on_step(void *user, const nk_train_event *e)
{
	struct report *r = user;
	nk_det_task *t = r->task;
	if (e->evaluated && !r->o->quiet) {
		if (r->prog)
			fputs("\r\033[K", stderr);
		char aps[160] = "";
		size_t at = 0;
		for (int k = 0; k < t->valset->nclasses && k < 3; k++)
			at += (size_t)snprintf(aps + at, sizeof aps - at, " %s %.3f",
					       t->valset->names[k], t->val_ap[k]);
		cli_warnx("step %lld: train loss %.4f, validation loss %.4f, "
			  "mAP@0.5 %.4f (%s )", (long long)e->step, e->loss,
			  e->val_loss, t->val_map, aps);
	}
	if (r->prog && (cli_now() - r->last_draw >= 0.2 || e->step == e->steps)) {
		r->last_draw = cli_now();
		double el = r->last_draw - r->t0, done = (double)(e->step - r->start);
		char eta[32];
		cli_eta(eta, sizeof eta,
			done > 0 ? el / done * (double)(e->steps - e->step) : 0);
		fprintf(stderr, "\r%s: step %lld/%lld  loss %.4f  %.1f images/s  "
			"ETA %s ", cli_prog, (long long)e->step,
			(long long)e->steps, e->loss,
			el > 0 ? done * t->cfg.batch / el : 0, eta);
		fflush(stderr);
	}
	return 0;
}

/* ---- the run ---------------------------------------------------------------- */

static void new_network(nk_darknet *net, const struct train_opts *o,
			int classes)
{
	if (o->cfg) {
		if (nk_darknet_load_cfg(net, o->cfg))
			cli_die_lib();
		if (nk_darknet_classes(net) != classes)
			cli_errx(1, "%s: the head has %d classes, the data %d", o->cfg,
				 nk_darknet_classes(net), classes);
		return;
	}
	nk_det_arch a = o->arch;
	a.classes = classes;
	char *text;
	nk_dncfg c;
	if (nk_det_arch_cfg(&a, &text) ||
	    nk_dncfg_parse(&c, text, strlen(text), "detect-train.cfg") ||
	    nk_darknet_build(net, &c))
		cli_die_lib();
	free(text);
}

int detect_train(int argc, char **argv)
{
	struct train_opts o;
	parse(&o, argc, argv);
#ifdef _OPENMP
	if (o.threads)
		omp_set_num_threads(o.threads);
#endif
	char **names = NULL;
	int nnames = 0;
	if (o.names_path)
		names = read_names(o.names_path, &nnames);
	nk_detset trs, vas;
	int has_val = strcmp(o.val_split, "none") != 0;
	read_set(&trs, &o, o.split, (const char *const *)names, nnames);
	if (has_val) {
		read_set(&vas, &o, o.val_split, (const char *const *)trs.names,
			 trs.nclasses);
		int same = vas.nclasses == trs.nclasses;
		for (int k = 0; same && k < trs.nclasses; k++)
			same = strcmp(vas.names[k], trs.names[k]) == 0;
		if (!same)
			cli_errx(1, "%s: the validation split's classes differ from "
				 "the training split's", o.data);
	}

	nk_darknet net;
	nk_wfile *ck = NULL;
	if (o.resume) {
		if (!(ck = nk_wfile_read(o.out)) || nk_darknet_from_wfile(&net, ck))
			cli_die_lib();
		nk_train_config saved;
		if (nk_train_config_load(&saved, ck))
			cli_die_lib();
		if (o.set_steps)
			saved.steps = o.tc.steps;
		o.tc = saved;
	} else {
		new_network(&net, &o, trs.nclasses);
	}

	nk_imcache trc, vac;
	double t0 = cli_now();
	if (nk_imcache_load(&trc, &trs, o.max_side, o.threads) ||
	    (has_val && nk_imcache_load(&vac, &vas, o.max_side, o.threads)))
		cli_die_lib();
	if (!o.quiet)
		cli_warnx("%d training and %d validation images, %d classes, "
			  "decoded in %.1f s (%.0f MB)", trs.nimages,
			  has_val ? vas.nimages : 0, trs.nclasses, cli_now() - t0,
			  (trc.bytes + (has_val ? vac.bytes : 0)) / 1e6);

	nk_det_task_config kc = nk_det_task_default();
	kc.batch = o.batch;
	kc.seed = o.tc.seed;
	if (o.noaug)
		kc.aug = nk_augment_val();
	if (o.crop)
		kc.aug.mode = NK_AUG_CROP;
	nk_det_task task;
	if (nk_det_task_init(&task, &net, &trc, has_val ? &vac : NULL,
			     has_val ? &vas : NULL, &kc))
		cli_die_lib();
	if (!o.resume)
		nk_det_task_randomize(&task, o.tc.seed);
	nk_train_task bound = nk_det_task_bind(&task);
	nk_trainer tr;
	if (nk_trainer_init(&tr, &o.tc, &bound, o.out) ||
	    (o.resume && nk_trainer_resume(&tr, ck)))
		cli_die_lib();
	nk_wfile_free(ck);
	if (!o.quiet)
		cli_warnx("%zu parameters, activations %.0f MB for %d images",
			  task.tr.n, task.tr.act_bytes / 1e6, o.batch);

	FILE *log = NULL;
	if (o.log && !(log = fopen(o.log, o.resume ? "a" : "w")))
		cli_errx(1, "%s: %s", o.log, strerror(errno));
	int prog = o.progress < 0 ? isatty(STDERR_FILENO) && !o.quiet : o.progress;
	struct report r = {&o, &task, prog, cli_now(), 0, tr.step};
	int rc = 0, lrc = nk_trainer_run(&tr, log, on_step, &r);
	if (prog)
		fputc('\n', stderr);
	if (lrc && tr.diverged)
		cli_errx(1, "%s (try a smaller --lr)", nk_last_error());
	if (lrc) {
		cli_warn_lib();
		rc = 1;
	}
	if (!o.quiet && tr.step > r.start) {
		double el = cli_now() - r.t0;
		cli_warnx("%lld steps in %.1f s: %.2f images/s",
			  (long long)(tr.step - r.start), el,
			  (double)(tr.step - r.start) * o.batch / el);
	}
	if (log && (ferror(log) | fclose(log))) {
		cli_warnx("%s: write error", o.log);
		rc = 1;
	}
	nk_trainer_free(&tr);
	nk_det_task_free(&task);
	nk_imcache_free(&trc);
	if (has_val) {
		nk_imcache_free(&vac);
		nk_detset_free(&vas);
	}
	nk_detset_free(&trs);
	nk_darknet_free(&net);
	for (int i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return rc;
}
