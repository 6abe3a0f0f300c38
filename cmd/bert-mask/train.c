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
	struct cli_train_report r;
	const struct opts *o;
	const nk_bert_task *task;
	struct cli_train_log *log;
	int64_t save_every;
	int log_failed;     /* the log could not replace --log FILE */
};

static int on_step(void *user, const nk_train_event *e)
{
	struct report *rep = user;
	if (cli_train_report_due(&rep->r, e)) {
		char val[160] = "";
		int64_t n;
		double mean = cli_train_report_take(&rep->r, &n);
		if (e->evaluated)
			snprintf(val, sizeof val, ", validation %.4f "
				 "(perplexity %.2f, top-1 %.3f)", e->val_loss,
				 exp(e->val_loss), rep->task->val_acc);
		if (!rep->o->quiet)
			cli_warnx("step %lld: train %.4f (mean of %lld steps)%s",
				  (long long)e->step, mean, (long long)n, val);
	}
	cli_train_progress(&rep->r, e);
	/* The model was just saved: the log follows it.  A failure is
	 * reported once and ends the run with 1 (the callback answers alike
	 * on every rank, so the run itself goes on). */
	if ((e->step % rep->save_every == 0 || e->step == e->steps) &&
	    !rep->log_failed && cli_train_log_sync(rep->log)) {
		cli_warn_lib();
		rep->log_failed = 1;
	}
	return 0;
}

static void new_model(const struct opts *o, const struct bm_tok *k,
		      nk_bert *m)
{
	nk_bert_config cfg = {o->L, o->H, o->A, o->FF, bm_tok_size(k), o->T,
			      2, o->dropout, o->gelu, 1e-12f, o->alibi};
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
	/* Found now, not after the run. */
	if (cli_train_output_ok(o->out) || cli_train_output_ok(o->t.log))
		cli_die_lib();
	/* Under mpirun every rank reads the same inputs and builds the same
	 * sequences (the seed decides them); rank 0 alone reports, logs and
	 * writes the model.  A rank that fails to read ends the whole job
	 * (cli_dist.h's exit hook). */
	if (!cli_dist_root())
		o->quiet = 1, o->verbose = 0, o->progress = 0, o->t.log = NULL;
	nk_train_config tc = o->t.tc;
	tc.seed = o->seed;
	nk_bert_task_config kc = {o->B, o->checkpoint, o->t.val_frac, o->seed,
				  o->T, o->max_pred, o->whole_word, o->pairs,
				  o->mask_prob, o->short_prob};
	nk_bert_file bf;
	memset(&bf, 0, sizeof bf);
	struct bm_tok *k;
	if (o->t.resume) {
		if (o->vocab || o->ids || o->tiktoken)
			cli_usage_error(usage, "train --resume: the tokens come "
					"from MODEL, not --vocab, --ids or "
					"--tiktoken");
		if (nk_bert_file_load(&bf, o->out) ||
		    nk_train_config_load(&tc, bf.f) ||
		    nk_bert_task_config_load(&kc, bf.f))
			cli_die_lib();
		bm_resume_check(o, &bf, &tc, &kc);
		if (o->t.set_steps)
			tc.steps = o->t.tc.steps;
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
	bm_read_seqs(&q, k, o, BM_MASK_NONE, argc, argv);
	const char *name = argc == 1 ? argv[0] : argc ? "the inputs" : "(stdin)";
	nk_bert_masker masker = bm_masker(k, o);
	nk_bert_task task;
	nk_trainer tr;
	cli_dist_check(nk_bert_task_init(&task, &kc, &bf.m, bm_tok_tokens(k),
					 &q.s, &masker, name));
	nk_train_task bound = nk_bert_task_bind(&task);
	cli_dist_check(nk_trainer_init(&tr, &tc, &bound, o->out) ||
		       (o->t.resume && nk_trainer_resume(&tr, bf.f)) ? NK_EINVAL
								  : NK_OK);
	/* Fewer steps than the run has made would rewrite the model as it
	 * is: say so rather than pretend to train. */
	if (o->t.set_steps && tc.steps < tr.step)
		cli_usage_error(usage, "train --resume: --steps %lld is fewer "
				"than the %lld steps %s has made", (long long)
				tc.steps, (long long)tr.step, o->out);
	double mean_len = (double)q.s.off[q.s.n] / (double)q.s.n;
	if (o->verbose)
		cli_warnx("%zu parameters, vocabulary %d, %zu training and %zu "
			  "validation sequences (mean %.1f tokens), "
			  "activations %.1f MB", bf.m.p.numel, bf.m.cfg.V,
			  task.ntrain, task.nval, mean_len,
			  nk_bert_run_bytes(task.run) / 1e6);

	/* The log is a temporary file until a checkpoint: an existing log
	 * outlives a run that fails before it (cli_train.h). */
	struct cli_train_log log;
	if (cli_train_log_begin(&log, o->t.log, o->t.resume))
		cli_die_lib();
	/* Reports at every evaluation: the run's --eval-every (the file's on
	 * --resume). */
	struct report r = {.o = o, .task = &task, .log = &log,
			   .save_every = tc.save_every};
	cli_train_report_init(&r.r, o->progress, o->quiet, tr.step,
			      tc.eval_every, kc.B * mean_len, "token");
	int rc = 0, lrc = nk_trainer_run(&tr, log.out.fp, on_step, &r);
	cli_train_report_end(&r.r);
	if (lrc && tr.diverged && cli_dist_root()) {
		cli_warnx("%s (try a smaller --lr)", nk_last_error());
		cli_train_log_end(&log, 0);
		exit(1);
	}
	if (lrc) {
		if (cli_dist_root())
			cli_train_warn_run(&log);
		rc = 1;
	}
	if (o->verbose)
		cli_train_report_speed(&r.r, tr.step);
	if (cli_train_log_end(&log, !rc) || r.log_failed)
		rc = 1;
	nk_trainer_free(&tr);
	nk_bert_task_free(&task);
	bm_seqs_free(&q);
	bm_tok_free(k);
	if (o->t.resume)
		nk_bert_file_free(&bf);
	else
		nk_bert_free(&bf.m);
	return cli_dist_end(rc);
}
