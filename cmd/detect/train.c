/* train.c - detect train: a detection set read and its images decoded
 * once, a detector built (nnkit's architecture from the options, or the
 * user's cfg), and the pair handed to the library's training loop through
 * models/det_task.c; the reports and the progress line are printed here.
 *
 * Under mpirun every rank reads the set and decodes its images (each
 * augments only its share of a batch: det_task.h); rank 0 alone reports,
 * logs and writes the model.  Where the ranks may diverge (reading the
 * images, the checkpoint) they agree on success, so that a rank that
 * fails makes every rank exit 1 with its message (cli_dist.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "cli_dist.h"
#include "cli_train.h"
#include "detect.h"
#include "models/det_arch.h"
#include "models/det_task.h"
#include "nn/train.h"
#include "vision/detset_load.h"

/* ---- reading the data --------------------------------------------------- */

static void read_set(nk_detset *s, const struct train_opts *o,
		     const char *split, const char *const *names, int nnames)
{
	cli_dist_check(nk_detset_load(s, o->format, o->data, split, names,
				      nnames));
	nk_detset_drop_crowds(s);
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
	struct cli_train_log *log;
	int prog;
	double t0, last_draw;
	int64_t start;
	int log_failed;     /* the log could not replace --log FILE */
};

static int on_step(void *user, const nk_train_event *e)
{
	struct report *r = user;
	nk_det_task *t = r->task;
	/* A checkpoint was just written: the log follows it.  A failure is
	 * reported once and ends the run with 1 (the callback must answer
	 * alike on every rank, so the run itself goes on). */
	const nk_train_config *c = &r->o->tc;
	if ((e->step % c->save_every == 0 || e->step == e->steps) &&
	    !r->log_failed && cli_train_log_sync(r->log)) {
		cli_warn_lib();
		r->log_failed = 1;
	}
	if (e->evaluated && !r->o->quiet) {
		if (r->prog)
			fputs("\r\033[K", stderr);
		/* Every class's AP (a long list is cut with "..."). */
		char aps[2048] = "";
		size_t at = 0;
		for (int k = 0; k < t->valset->nclasses; k++) {
			int w = snprintf(aps + at, sizeof aps - at, " %s %.3f",
					 t->valset->names[k], t->val_ap[k]);
			if (w < 0 || (size_t)w >= sizeof aps - at - 4) {
				strcpy(aps + at, " ...");
				break;
			}
			at += (size_t)w;
		}
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
			nk_det_arch *a, int classes)
{
	if (o->cfg) {
		cli_dist_check(nk_darknet_load_cfg(net, o->cfg));
		if (nk_darknet_classes(net) != classes)
			cli_errx(1, "%s: the head has %d classes, the data %d", o->cfg,
				 nk_darknet_classes(net), classes);
		return;
	}
	*a = o->arch;
	a->classes = classes;
	char *text;
	nk_dncfg c;
	cli_dist_check(nk_det_arch_cfg(a, &text) ||
		       nk_dncfg_parse(&c, text, strlen(text), "detect-train.cfg") ||
		       nk_darknet_build(net, &c) ? NK_EINVAL : NK_OK);
	free(text);
}

/* --resume: the checkpoint, its loop and task settings and the options
 * its net was built from (*has_arch 0: a user's cfg), checked against
 * the command line before any data is read. */
static nk_wfile *read_checkpoint(const struct train_opts *o,
				 nk_train_config *tc, nk_det_task_config *kc,
				 nk_det_arch *arch, int *has_arch)
{
	nk_wfile *ck = nk_wfile_read(o->out);
	int64_t done = 0;
	int rc = ck ? NK_OK : NK_EIO;
	if (!rc && !(rc = nk_train_config_load(tc, ck)) &&
	    !(rc = nk_det_task_config_load(kc, ck)) &&
	    !(rc = nk_train_saved_step(ck, &done))) {
		rc = nk_det_arch_load(arch, ck);
		*has_arch = rc == NK_OK;
		if (rc == NK_ENOTFOUND)
			rc = NK_OK;
	}
	cli_dist_check(rc);
	detect_train_check_resume(o, tc, kc, *has_arch ? arch : NULL);
	/* A target reached already would rewrite the file for nothing
	 * and say nothing: the user asked for steps that will not run. */
	if (o->set_steps && o->tc.steps <= done)
		detect_train_usage_error("--steps %lld: the run in %s has done "
					 "%lld steps; --resume needs a target "
					 "above them", (long long)o->tc.steps,
					 o->out, (long long)done);
	if (o->set_steps)
		tc->steps = o->tc.steps;
	else if (tc->steps <= done)
		detect_train_usage_error("the run in %s is complete (step %lld "
					 "of %lld); --resume --steps N with N "
					 "above it trains on", o->out,
					 (long long)done, (long long)tc->steps);
	return ck;
}

int detect_train(int argc, char **argv)
{
	struct train_opts o;
	detect_train_parse(&o, argc, argv);
	cli_dist_init(&argc, &argv);
	if (!cli_dist_root())
		o.quiet = 1, o.progress = 0, o.log = NULL;
#ifdef _OPENMP
	if (o.threads)
		omp_set_num_threads(o.threads);
#endif
	/* The run's settings: the options', or on --resume the
	 * checkpoint's (every one that shapes the run, so that it goes on
	 * as it began). */
	nk_det_task_config kc = nk_det_task_default();
	kc.batch = o.batch;
	kc.seed = o.tc.seed;
	kc.max_side = o.max_side;
	if (o.noaug)
		kc.aug = nk_augment_val();
	if (o.crop)
		kc.aug.mode = NK_AUG_CROP;
	nk_det_arch arch;
	int has_arch = !o.cfg;
	nk_wfile *ck = NULL;
	if (o.resume) {
		nk_train_config saved;
		ck = read_checkpoint(&o, &saved, &kc, &arch, &has_arch);
		o.tc = saved;
		o.batch = kc.batch;
	}
	cli_dist_check(cli_dist_root() ? cli_train_output_ok(o.out) : NK_OK);
	/* The log is a temporary file until a checkpoint: an existing log
	 * outlives a run that fails before one (cli_train.h). */
	struct cli_train_log log;
	cli_dist_check(cli_train_log_begin(&log, o.log, o.resume));

	char **names = NULL;
	int nnames = 0;
	if (o.names_path)
		cli_dist_check(nk_names_read(o.names_path, &names, &nnames));
	nk_detset trs, vas;
	int has_val = strcmp(o.val_split, "none") != 0;
	read_set(&trs, &o, o.split, (const char *const *)names, nnames);
	if (has_val) {
		/* The training split's classes, in its order (COCO's are
		 * its categories, compared below). */
		int coco = strcmp(o.format, "coco") == 0;
		read_set(&vas, &o, o.val_split,
			 coco ? NULL : (const char *const *)trs.names,
			 coco ? 0 : trs.nclasses);
		int same = vas.nclasses == trs.nclasses;
		for (int k = 0; same && k < trs.nclasses; k++)
			same = strcmp(vas.names[k], trs.names[k]) == 0;
		if (!same)
			cli_errx(1, "%s: the validation split's classes differ from "
				 "the training split's", o.data);
	}

	nk_darknet net;
	if (o.resume) {
		/* Renamed or reordered classes would train one class's
		 * weights on another's boxes without a word. */
		cli_dist_check(nk_det_task_check_classes(
			ck, (const char *const *)trs.names, trs.nclasses,
			o.data));
		cli_dist_check(nk_darknet_from_wfile(&net, ck));
	} else {
		new_network(&net, &o, &arch, trs.nclasses);
	}
	kc.names = (const char *const *)trs.names;
	kc.arch = has_arch ? &arch : NULL;

	nk_imcache trc, vac;
	double t0 = cli_now();
	int lrc = nk_imcache_load(&trc, &trs, kc.max_side, o.threads);
	if (!lrc && has_val &&
	    (lrc = nk_imcache_load(&vac, &vas, kc.max_side, o.threads)))
		nk_imcache_free(&trc);
	cli_dist_check(lrc);
	/* The same data everywhere, or the global batch is no batch. */
	if (nk_dist_same((int64_t)trc.n << 32 ^ (int64_t)trc.nobjects << 8 ^
			 trs.nclasses) != 1)
		cli_dist_check(nk_error(NK_EINVAL, "%s: the ranks read "
					"different training sets", o.data));
	if (!o.quiet)
		cli_warnx("%d training and %d validation images, %d classes, "
			  "decoded in %.1f s (%.0f MB)", trs.nimages,
			  has_val ? vas.nimages : 0, trs.nclasses, cli_now() - t0,
			  (trc.bytes + (has_val ? vac.bytes : 0)) / 1e6);

	nk_det_task task;
	cli_dist_check(nk_det_task_init(&task, &net, &trc,
					has_val ? &vac : NULL,
					has_val ? &vas : NULL, &kc));
	if (!o.resume)
		nk_det_task_randomize(&task, o.tc.seed);
	nk_train_task bound = nk_det_task_bind(&task);
	nk_trainer tr;
	int trc_ = nk_trainer_init(&tr, &o.tc, &bound, o.out);
	if (!trc_ && o.resume)
		trc_ = nk_trainer_resume(&tr, ck);
	cli_dist_check(trc_);
	nk_wfile_free(ck);
	if (!o.quiet)
		cli_warnx("%zu parameters, activations %.0f MB for %d images",
			  task.tr.n, task.tr.act_bytes / 1e6, o.batch);

	int prog = o.progress < 0 ? isatty(STDERR_FILENO) && !o.quiet : o.progress;
	struct report r = {&o, &task, &log, prog, cli_now(), 0, tr.step, 0};
	int rc = 0;
	lrc = nk_trainer_run(&tr, log.out.fp, on_step, &r);
	if (prog)
		fputc('\n', stderr);
	/* Every rank has the loop's (agreed) status: rank 0 speaks. */
	if (lrc && cli_dist_root()) {
		if (tr.diverged)
			cli_warnx("%s (try a smaller --lr)", nk_last_error());
		else
			cli_train_warn_run(&log);
	}
	if (lrc || r.log_failed)
		rc = 1;
	if (!o.quiet && tr.step > r.start && !tr.diverged) {
		double el = cli_now() - r.t0;
		cli_warnx("%lld steps in %.1f s: %.2f images/s",
			  (long long)(tr.step - r.start), el,
			  (double)(tr.step - r.start) * o.batch / el);
	}
	if (cli_train_log_end(&log, !rc))
		rc = 1;
	nk_trainer_free(&tr);
	nk_det_task_free(&task);
	nk_imcache_free(&trc);
	if (has_val) {
		nk_imcache_free(&vac);
		nk_detset_free(&vas);
	}
	nk_detset_free(&trs);
	nk_darknet_free(&net);
	nk_names_free(names, nnames);
	return cli_dist_end(rc);
}
