/* train.c - rnn-train train: reads the data (or the run to resume), sets up
 * the model and its task, and hands them to the library's training loop;
 * prints the reports and the progress line. */
#include "cli.h"
#include "rnn-train.h"

#include "core/rng.h"
#include "models/charlm_file.h"
#include "models/charlm_task.h"
#include "nn/train.h"

#include <math.h>

struct report {
	const struct opts *o;
	int prog;             /* draw a progress line */
	double t0, last_draw;
	int64_t start;        /* the step this invocation started from */
	const char *unit;     /* "char" or "token" */
	int64_t every;        /* a report every N steps (--eval-every) */
	double sum;           /* training losses since the last report */
	int64_t count;
};

static int on_step(void *user, const nk_train_event *e)
{
	struct report *r = user;
	r->sum += e->loss;
	r->count++;
	/* A report at every --eval-every steps and at the end, with or
	 * without validation: the training loss is the mean over the steps
	 * since the previous report (the CSV's rows likewise), and says so. */
	if (e->evaluated || e->step % r->every == 0 || e->step == e->steps) {
		if (r->prog) /* the report replaces the progress line */
			fputs("\r\033[K", stderr);
		char span[64], val[128] = "";
		long long to = (long long)e->step, from = to - r->count + 1;
		if (from == to)
			snprintf(span, sizeof span, "step %lld", to);
		else
			snprintf(span, sizeof span, "mean of steps %lld-%lld",
				 from, to);
		if (e->evaluated)
			snprintf(val, sizeof val, ", validation %.4f nats/%s "
				 "(%.4f bits/%s)", e->val_loss, r->unit,
				 e->val_loss / M_LN2, r->unit);
		if (!r->o->quiet)
			cli_warnx("step %lld: train %.4f nats/%s (%s)%s", to,
				  r->sum / (double)r->count, r->unit, span, val);
		r->sum = 0;
		r->count = 0;
	}
	if (r->prog && (cli_now() - r->last_draw >= 0.1 || e->step == e->steps)) {
		r->last_draw = cli_now();
		double el = r->last_draw - r->t0, done = (double)(e->step - r->start);
		double rate = el > 0 ? done * r->o->B * r->o->T / el : 0;
		char eta[32];
		cli_eta(eta, sizeof eta,
			done > 0 ? el / done * (double)(e->steps - e->step) : 0);
		fprintf(stderr, "\r%s: step %lld/%lld  loss %.4f  %.1fk %ss/s  "
			"ETA %s ", cli_prog, (long long)e->step,
			(long long)e->steps, e->loss, rate / 1e3, r->unit, eta);
		fflush(stderr);
	}
	return 0;
}

/* A new model with its vocabulary built from the data (ids become the
 * vocabulary's ids in place). */
static void new_model(struct opts *o, const char *name, uint32_t *ids,
		      size_t n, nk_charlm_file *lm)
{
	if (nk_textvocab_build(&lm->vocab, o->level, ids, n))
		cli_die_lib();
	if (o->level == NK_LEVEL_TOKENS && o->vocab_size) {
		if (o->vocab_size < lm->vocab.V)
			cli_errx(1, "%s: token id %d is beyond --vocab-size %lld",
				 name, lm->vocab.V - 1, o->vocab_size);
		lm->vocab.V = (int)o->vocab_size;
	}
	if (o->level != NK_LEVEL_TOKENS &&
	    nk_textvocab_encode(&lm->vocab, ids, n, name))
		cli_die_lib();
	lm->level = o->level;
	lm->start_id = ids[0];
	nk_charlm_config cfg = {o->cell, o->L, o->H, o->C, lm->vocab.V,
				o->dropout};
	if (nk_charlm_init(&lm->m, &cfg))
		cli_die_lib();
	nk_rng init;
	nk_rng_seed(&init, o->seed, 0);
	nk_charlm_randomize(&lm->m, &init);
}

/* The settings of the run in lm's file; the command line's --steps may
 * extend it, every other training option comes from the file. */
static void resume_settings(struct opts *o, const nk_charlm_file *lm,
			    nk_train_config *tc, nk_charlm_task_config *kc)
{
	if (nk_train_config_load(tc, lm->f) ||
	    nk_charlm_task_config_load(kc, lm->f))
		cli_die_lib();
	if (o->set_steps)
		tc->steps = o->steps;
	o->steps = tc->steps;
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
	const char *path = argc ? argv[0] : "-";
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	nk_charlm_file lm;
	memset(&lm, 0, sizeof lm);
	uint32_t *ids = NULL;
	size_t n = 0;
	nk_train_config tc = {o->steps, o->lr, o->wd, o->clip, o->sched,
			      o->warmup, o->min_lr, o->step_size, o->eval_every,
			      o->save_every, o->log_every, o->seed};
	int K = o->K == -1 ? (int)(sqrt((double)o->T) + 0.5) : o->K;
	nk_charlm_task_config kc = {o->B, o->T, K < 0 ? 0 : K, o->val_frac};
	if (o->resume) {
		if (nk_charlm_file_load(&lm, o->out))
			cli_die_lib();
		resume_settings(o, &lm, &tc, &kc);
		if (nk_charlm_file_read_ids(&lm, path, &ids, &n))
			cli_die_lib();
	} else {
		if (nk_text_read(&ids, &n, path, o->level, 0))
			cli_die_lib();
		if (n == 0)
			cli_errx(1, "%s: empty input", name);
		new_model(o, name, ids, n, &lm);
	}
	if (n == 0)
		cli_errx(1, "%s: empty input", name);

	nk_charlm_task task;
	nk_trainer tr;
	if (nk_charlm_task_init(&task, &kc, &lm.m, &lm.vocab, lm.level,
				lm.start_id, ids, n, name))
		cli_die_lib();
	nk_train_task bound = nk_charlm_task_bind(&task);
	if (nk_trainer_init(&tr, &tc, &bound, o->out) ||
	    (o->resume && nk_trainer_resume(&tr, lm.f)))
		cli_die_lib();

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

	FILE *log = NULL;
	if (o->log) {
		if (!(log = fopen(o->log, o->resume ? "a" : "w")))
			cli_errx(1, "%s: %s", o->log, strerror(errno));
	}
	int prog = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
	if (o->quiet && o->progress < 0)
		prog = 0;
	struct report r = {o, prog, cli_now(), 0, tr.step, unit,
			   tc.eval_every, 0, 0};
	int rc = 0, lrc = nk_trainer_run(&tr, log, on_step, &r);
	if (prog)
		fputc('\n', stderr);
	if (lrc && tr.diverged)
		cli_errx(1, "%s (try a smaller --lr)", nk_last_error());
	if (lrc) {
		cli_warn_lib();
		rc = 1;
	}
	if (o->verbose && tr.step > r.start) {
		double el = cli_now() - r.t0;
		double syms = (double)(tr.step - r.start) * kc.B * kc.T;
		cli_warnx("%lld steps in %.2f s: %.0f %ss/s",
			  (long long)(tr.step - r.start), el, syms / el, unit);
	}
	if (log && (ferror(log) | fclose(log))) {
		cli_warnx("%s: write error", o->log);
		rc = 1;
	}
	nk_trainer_free(&tr);
	nk_charlm_task_free(&task);
	nk_charlm_file_free(&lm);
	free(ids);
	return rc;
}
