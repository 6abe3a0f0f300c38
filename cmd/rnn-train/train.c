/* train.c - rnn-train train: reads the data (or the run to resume), sets up
 * the model and its task, and hands them to the library's training loop;
 * prints the reports and the progress line. */
#include "cli.h"
#include "cli_dist.h"
#include "rnn-train.h"

#include "core/rng.h"
#include "models/charlm_file.h"
#include "models/charlm_task.h"
#include "nn/train.h"

#include <math.h>

struct report {
	struct cli_train_report r;
	const struct opts *o;
	struct cli_train_log *log;
	int64_t save_every; /* the run's (the file's on --resume) */
	int log_failed;     /* the log could not replace --log FILE */
};

static int on_step(void *user, const nk_train_event *e)
{
	struct report *rep = user;
	struct cli_train_report *r = &rep->r;
	/* A report at every --eval-every steps and at the end, with or
	 * without validation: the training loss is the mean over the steps
	 * since the previous report (the CSV's rows likewise), and says so. */
	if (cli_train_report_due(r, e)) {
		char span[64], val[128] = "";
		int64_t n;
		double mean = cli_train_report_take(r, &n);
		long long to = (long long)e->step, from = to - n + 1;
		if (from == to)
			snprintf(span, sizeof span, "step %lld", to);
		else
			snprintf(span, sizeof span, "mean of steps %lld-%lld",
				 from, to);
		if (e->evaluated)
			snprintf(val, sizeof val, ", validation %.4f nats/%s "
				 "(%.4f bits/%s)", e->val_loss, r->unit,
				 e->val_loss / M_LN2, r->unit);
		if (!rep->o->quiet)
			cli_warnx("step %lld: train %.4f nats/%s (%s)%s", to,
				  mean, r->unit, span, val);
	}
	cli_train_progress(r, e);
	/* The model was just saved: the log follows it (cli_train.h).  A
	 * failure is reported once and ends the run with 1. */
	if ((e->step % rep->save_every == 0 || e->step == e->steps) &&
	    !rep->log_failed && cli_train_log_sync(rep->log)) {
		cli_warn_lib();
		rep->log_failed = 1;
	}
	return 0;
}

/* A new model with its vocabulary built from the data (ids become the
 * vocabulary's ids in place). */
static int new_model(struct opts *o, const char *name, uint32_t *ids,
		     size_t n, nk_charlm_file *lm)
{
	if (nk_textvocab_build(&lm->vocab, o->level, ids, n))
		return NK_EFORMAT;
	if (o->level == NK_LEVEL_TOKENS && o->vocab_size) {
		if (o->vocab_size < lm->vocab.V)
			return nk_error(NK_ERANGE, "%s: token id %d is beyond "
					"--vocab-size %lld", name,
					lm->vocab.V - 1, o->vocab_size);
		lm->vocab.V = (int)o->vocab_size;
	}
	if (o->level != NK_LEVEL_TOKENS &&
	    nk_textvocab_encode(&lm->vocab, ids, n, name))
		return NK_EFORMAT;
	lm->level = o->level;
	lm->start_id = ids[0];
	nk_charlm_config cfg = {o->cell, o->L, o->H, o->C, lm->vocab.V,
				o->dropout};
	if (nk_charlm_init(&lm->m, &cfg))
		return NK_EINVAL;
	nk_rng init;
	nk_rng_seed(&init, o->seed, 0);
	nk_charlm_randomize(&lm->m, &init);
	return NK_OK;
}

/* The settings of the run in lm's file; the command line's --steps may
 * extend it, every other training option comes from the file. */
static void resume_settings(struct opts *o, const nk_charlm_file *lm,
			    nk_train_config *tc, nk_charlm_task_config *kc)
{
	cli_dist_check(nk_train_config_load(tc, lm->f) ||
		       nk_charlm_task_config_load(kc, lm->f) ? NK_EFORMAT : 0);
	if (o->t.set_steps)
		tc->steps = o->t.tc.steps;
	o->t.tc.steps = tc->steps;
	o->B = kc->B, o->T = kc->T, o->K = kc->K;
	o->level = lm->level;
}

int cmd_train(struct opts *o, int argc, char **argv)
{
	if (!o->out)
		cli_usage_error(usage, "train: -o MODEL is required");
	if (strcmp(o->out, "-") == 0)
		cli_usage_error(usage, "train: -o needs a file (it is rewritten "
				"at every checkpoint)");
	if (argc > 1)
		cli_usage_error(usage, "train: one input file at most");
	/* The other ranks of an MPI job keep quiet: rank 0 reports. */
	if (!cli_dist_root())
		o->quiet = 1, o->verbose = 0, o->progress = 0;
	const char *path = argc ? argv[0] : "-";
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	nk_charlm_file lm;
	memset(&lm, 0, sizeof lm);
	uint32_t *ids = NULL;
	size_t n = 0;
	nk_train_config tc = o->t.tc;
	tc.seed = o->seed;
	int K = o->K == -1 ? (int)(sqrt((double)o->T) + 0.5) : o->K;
	nk_charlm_task_config kc = {o->B, o->T, K < 0 ? 0 : K, o->t.val_frac,
				    nk_dist_rank(), nk_dist_size()};
	/* Under mpirun every rank reads the input and the run to resume
	 * (the same files, at the same paths), and every step of the set-up
	 * that can fail on one rank is agreed on by all: a rank that
	 * cannot read its input ends the job with its message. */
	int rc = NK_OK;
	if (o->t.resume) {
		cli_dist_check(nk_charlm_file_load(&lm, o->out));
		resume_settings(o, &lm, &tc, &kc);
		rc = nk_charlm_file_read_ids(&lm, path, &ids, &n);
	} else {
		rc = nk_text_read(&ids, &n, path, o->level, 0);
		if (!rc && n == 0)
			rc = nk_error(NK_EFORMAT, "%s: empty input", name);
		if (!rc)
			rc = new_model(o, name, ids, n, &lm);
	}
	if (!rc && n == 0)
		rc = nk_error(NK_EFORMAT, "%s: empty input", name);
	cli_dist_check(rc);

	/* The ranks must share one batch (a job of several programs, or
	 * of several command lines, could give each its own). */
	int64_t same = (int64_t)kc.B << 40 ^ (int64_t)kc.T << 20 ^ kc.K ^
		       (int64_t)(tc.seed * 0x9E3779B97F4A7C15u) ^ tc.steps;
	if (nk_dist_same(same) != 1)
		rc = nk_error(NK_EINVAL, "the ranks were given different "
			      "training settings");
	cli_dist_check(rc);

	nk_charlm_task task;
	nk_trainer tr;
	cli_dist_check(nk_charlm_task_init(&task, &kc, &lm.m, &lm.vocab,
					   lm.level, lm.start_id, ids, n, name));
	nk_train_task bound = nk_charlm_task_bind(&task);
	cli_dist_check(nk_trainer_init(&tr, &tc, &bound, o->out) ||
		       (o->t.resume && nk_trainer_resume(&tr, lm.f)) ? NK_EFORMAT : 0);

	const char *unit = lm.level == NK_LEVEL_TOKENS ? "token" : "char";
	if (task.nval && !task.validate && !o->quiet)
		cli_warnx("%s: validation part too short (%zu); not evaluated",
			  name, task.nval);
	if (o->verbose)
		cli_warnx("%d parameters, vocabulary %d, %zu training and %zu "
			  "validation %ss, activations %.1f MB (segment %d)",
			  (int)lm.m.p.numel, lm.m.cfg.V, task.ntrain, task.nval,
			  unit, nk_charlm_run_bytes(task.run) / 1e6,
			  kc.K ? kc.K : kc.T);

	/* Rank 0 alone writes the log (and the checkpoints); it is a
	 * temporary file until a checkpoint, so an existing log outlives a
	 * run that fails before it. */
	cli_dist_check(cli_dist_root() ? cli_train_output_ok(o->out) : NK_OK);
	struct cli_train_log log;
	cli_dist_check(cli_train_log_begin(&log, cli_dist_root() ? o->t.log
								  : NULL,
					   o->t.resume));
	struct report r = {.o = o, .log = &log, .save_every = tc.save_every};
	cli_train_report_init(&r.r, o->progress, o->quiet, tr.step,
			      tc.eval_every, (double)kc.B * kc.T, unit);
	int lrc = nk_trainer_run(&tr, log.out.fp, on_step, &r);
	cli_train_report_end(&r.r);
	if (lrc && tr.diverged) {
		/* Every rank saw the same summed loss. */
		if (cli_dist_root())
			cli_warnx("%s (try a smaller --lr)", nk_last_error());
		cli_dist_die();
	}
	if (lrc && nk_dist_size() > 1)
		cli_dist_die(); /* the error was agreed on by every rank */
	if (lrc) {
		cli_train_warn_run(&log);
		rc = 1;
	}
	if (o->verbose)
		cli_train_report_speed(&r.r, tr.step);
	if (cli_train_log_end(&log, !rc) || r.log_failed)
		rc = 1;
	nk_trainer_free(&tr);
	nk_charlm_task_free(&task);
	nk_charlm_file_free(&lm);
	free(ids);
	return rc;
}
