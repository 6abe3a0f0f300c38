/* train.c - bert-mask train: reads the data (or the run to resume), sets
 * up the model and its task, and hands them to the library's training
 * loop; prints the reports and the progress line. */
#include "cli.h"
#include "cli_dist.h"
#include "bert-mask.h"

#include "core/rng.h"
#include "formats/wfile.h"
#include "nn/train.h"

#include <math.h>

struct report {
	const struct opts *o;
	int prog;              /* draw a progress line */
	double t0, last_draw;
	int64_t start;         /* the step this invocation started from */
	double tokens;         /* tokens per step (sequences x mean length) */
	double sum;            /* training losses since the last report */
	int64_t count;
	const nk_bert_task *task;
};

static int on_step(void *user, const nk_train_event *e)
{
	struct report *r = user;
	r->sum += e->loss;
	r->count++;
	if (e->evaluated || e->step % r->o->eval_every == 0 ||
	    e->step == e->steps) {
		if (r->prog)
			fputs("\r\033[K", stderr);
		char val[160] = "";
		if (e->evaluated)
			snprintf(val, sizeof val, ", validation %.4f "
				 "(perplexity %.2f, top-1 %.3f)", e->val_loss,
				 exp(e->val_loss), r->task->val_acc);
		if (!r->o->quiet)
			cli_warnx("step %lld: train %.4f (mean of %lld steps)%s",
				  (long long)e->step, r->sum / (double)r->count,
				  (long long)r->count, val);
		r->sum = 0;
		r->count = 0;
	}
	if (r->prog && (cli_now() - r->last_draw >= 0.1 || e->step == e->steps)) {
		r->last_draw = cli_now();
		double el = r->last_draw - r->t0, done = (double)(e->step - r->start);
		char eta[32];
		cli_eta(eta, sizeof eta,
			done > 0 ? el / done * (double)(e->steps - e->step) : 0);
		fprintf(stderr, "\r%s: step %lld/%lld  loss %.4f  %.1fk tokens/s"
			"  ETA %s ", cli_prog, (long long)e->step,
			(long long)e->steps, e->loss,
			el > 0 ? done * r->tokens / el / 1e3 : 0, eta);
		fflush(stderr);
	}
	return 0;
}

static void new_model(const struct opts *o, const struct bm_tok *k,
		      nk_bert *m)
{
	nk_bert_config cfg = {o->L, o->H, o->A, o->FF, bm_tok_size(k), o->T,
			      2, o->dropout, o->gelu, 1e-12f};
	if (nk_bert_init(m, &cfg))
		cli_die_lib();
	nk_rng init;
	nk_rng_seed(&init, o->seed, 0);
	nk_bert_randomize(m, &init);
}

int cmd_train(struct opts *o, int argc, char **argv)
{
	if (!o->out)
		cli_usage_error(usage, "train: -o MODEL is required");
	if (strcmp(o->out, "-") == 0)
		cli_usage_error(usage, "train: -o needs a file (it is rewritten "
				"at every checkpoint)");
	/* Under mpirun every rank reads the same inputs and builds the same
	 * sequences (the seed decides them); rank 0 alone reports, logs and
	 * writes the model.  A rank that fails to read ends the whole job
	 * (cli_dist.h's exit hook). */
	if (!cli_dist_root())
		o->quiet = 1, o->verbose = 0, o->progress = 0, o->log = NULL;
	nk_train_config tc = {o->steps, o->lr, o->wd, o->clip, o->sched,
			      o->warmup, o->min_lr, 1000, o->eval_every,
			      o->save_every, o->log_every, o->seed};
	nk_bert_task_config kc = {o->B, o->checkpoint, o->val_frac, o->seed,
				  o->T, o->max_pred, o->whole_word, o->pairs,
				  o->mask_prob, o->short_prob};
	nk_bert_file bf;
	memset(&bf, 0, sizeof bf);
	struct bm_tok *k;
	if (o->resume) {
		if (o->vocab || o->ids || o->tiktoken)
			cli_usage_error(usage, "train --resume: the tokens come "
					"from MODEL, not --vocab, --ids or "
					"--tiktoken");
		if (nk_bert_file_load(&bf, o->out) ||
		    nk_train_config_load(&tc, bf.f) ||
		    nk_bert_task_config_load(&kc, bf.f))
			cli_die_lib();
		if (o->set_steps)
			tc.steps = o->steps;
		/* The data are built and masked as the run began. */
		o->T = kc.seq_len, o->max_pred = kc.max_pred;
		o->whole_word = kc.whole_word, o->pairs = kc.pairs;
		o->mask_prob = kc.mask_prob, o->short_prob = kc.short_prob;
		o->seed = kc.seed;
		k = bm_tok_from_model(&bf);
	} else {
		if (!o->vocab && !o->ids && !o->tiktoken)
			cli_usage_error(usage, "train: --vocab VOCAB.txt, --ids N "
					"or --tiktoken FILE says what the input "
					"is");
		k = bm_tok_from_opts(o);
		new_model(o, k, &bf.m);
	}
	struct bm_seqs q;
	bm_read_seqs(&q, k, o, 0, argc, argv);
	const char *name = argc == 1 ? argv[0] : argc ? "the inputs" : "(stdin)";
	nk_bert_masker masker = bm_masker(k, o);
	nk_bert_task task;
	nk_trainer tr;
	cli_dist_check(nk_bert_task_init(&task, &kc, &bf.m, bm_tok_tokens(k),
					 &q.s, &masker, name));
	nk_train_task bound = nk_bert_task_bind(&task);
	cli_dist_check(nk_trainer_init(&tr, &tc, &bound, o->out) ||
		       (o->resume && nk_trainer_resume(&tr, bf.f)) ? NK_EINVAL
								  : NK_OK);
	double mean_len = (double)q.s.off[q.s.n] / (double)q.s.n;
	if (o->verbose)
		cli_warnx("%zu parameters, vocabulary %d, %zu training and %zu "
			  "validation sequences (mean %.1f tokens), "
			  "activations %.1f MB", bf.m.p.numel, bf.m.cfg.V,
			  task.ntrain, task.nval, mean_len,
			  nk_bert_run_bytes(task.run) / 1e6);

	FILE *log = NULL;
	if (o->log && !(log = fopen(o->log, o->resume ? "a" : "w")))
		cli_errx(1, "%s: %s", o->log, strerror(errno));
	int prog = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
	if (o->quiet && o->progress < 0)
		prog = 0;
	struct report r = {o, prog, cli_now(), 0, tr.step, kc.B * mean_len, 0,
			   0, &task};
	int rc = 0, lrc = nk_trainer_run(&tr, log, on_step, &r);
	if (prog)
		fputc('\n', stderr);
	if (lrc && tr.diverged && cli_dist_root())
		cli_errx(1, "%s (try a smaller --lr)", nk_last_error());
	if (lrc) {
		if (cli_dist_root())
			cli_warn_lib();
		rc = 1;
	}
	if (o->verbose && tr.step > r.start) {
		double el = cli_now() - r.t0;
		cli_warnx("%lld steps in %.2f s: %.0f tokens/s",
			  (long long)(tr.step - r.start), el,
			  (double)(tr.step - r.start) * r.tokens / el);
	}
	if (log && (ferror(log) | fclose(log))) {
		cli_warnx("%s: write error", o->log);
		rc = 1;
	}
	nk_trainer_free(&tr);
	nk_bert_task_free(&task);
	bm_seqs_free(&q);
	bm_tok_free(k);
	if (o->resume)
		nk_bert_file_free(&bf);
	else
		nk_bert_free(&bf.m);
	return cli_dist_end(rc);
}
