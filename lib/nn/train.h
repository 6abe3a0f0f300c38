/* train.h - the one training loop: AdamW steps with clipping and a
 * learning-rate schedule, validation every N steps, a CSV log, atomic
 * checkpoints of the whole training state and exact resume, for any model
 * that can stand behind nk_train_task.
 *
 * The loop knows nothing of what it trains.  A task (models/charlm_task.c
 * for rnn-train; bert-mask and detect bring their own) owns the model, its
 * data and whatever else must survive a resume (the position in the data,
 * a carried hidden state); the loop owns the optimizer, the schedule, the
 * step counter, the random stream that seeds each step, the log and the
 * checkpoint file.  A checkpoint is one weight file (nnkit-wfile(5)) with
 * the task's part and the loop's part side by side, written to a
 * temporary file and renamed into place, so a killed run leaves the last
 * complete checkpoint; resuming from it continues bit for bit: the same
 * losses and the same weights as a run never stopped.
 *
 * Data parallelism (core/dist.h; rnn-train under mpirun): every rank runs
 * the same loop on the same model.  Each step every rank's task computes
 * the gradient of its share of the global batch; the loop sums the
 * shares' gradients, weighted so that the sum is the gradient of the
 * global batch's mean loss, in rank order (nk_dist_sum), and the losses
 * likewise; every rank then clips and takes the same AdamW step, so the
 * weights stay equal on every rank without ever being sent.  Rank 0
 * alone evaluates (the others wait for its result: validation is a pass
 * of the whole held-out set, as one process makes it) and writes the
 * checkpoint and the log; a checkpoint holds the global state only, so
 * a run resumes on any number of ranks.  A rank whose step, evaluation or
 * checkpoint fails makes the loop return the failing rank's error on
 * every rank (nk_dist_agree), never a hang.
 *
 * What a task must do to be MPI-ready (charlm_task.c is the example):
 *   - set .sharded; without it the loop refuses to run on several ranks
 *     (NK_EINVAL, the same on every rank), so a task not yet ready stays
 *     correct on one;
 *   - learn its rank and the number of ranks at its init
 *     (nk_dist_rank/size, or from its caller) and make step() work on its
 *     own share of the global batch only, e.g. items
 *     nk_dist_share(B, rank, size) of the batch the single process would
 *     draw, every rank advancing through the data in step with the
 *     others (each draws the same global batch and keeps its share), so
 *     that the global batch is the same as one process's whatever the
 *     number of ranks; a rank may have an empty share (weight 0);
 *   - step(): grads = the gradient of the mean loss over ITS share, *loss
 *     that mean (as for one process), and .weight(ctx) the share's count
 *     of loss terms for the last step (sequences, tokens, masked tokens,
 *     images: whatever the mean divides by; NULL: every rank weighs 1);
 *     randomness must come from the seed (the same on every rank) and the
 *     item's global index, not from the rank, for the batch to be the
 *     same as one process's;
 *   - keep the model's initialization identical on every rank (the loop
 *     broadcasts rank 0's parameters once at the start anyway);
 *   - evaluate(): called on rank 0 only; it evaluates the whole
 *     validation set;
 *   - state beyond the weights that lives per share (a carried hidden
 *     state) must be brought to rank 0 by .gather(ctx), which the loop
 *     calls on every rank before rank 0 calls save(); save() writes the
 *     GLOBAL state (as one process would), and restore(), called on every
 *     rank, takes the rank's share back out of it: then --resume works
 *     with any number of ranks;
 *   - log_values() is called on rank 0 only; sums a task keeps for its
 *     log columns must be summed over the ranks by the task (nk_dist_sum_f64
 *     inside step(), which every rank calls).
 *
 * The loop's keys in the file: steps, lr, weight_decay, clip, schedule,
 * warmup, min_lr, step_size, eval_every, save_every, log_every, seed
 * (the settings), step, rng, adam_t, log_loss_sum, log_loss_count, elapsed
 * (the state) and the tensors train.adam.m, train.adam.v.
 */
#ifndef NK_NN_TRAIN_H
#define NK_NN_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/rng.h"
#include "nn/lr.h"
#include "nn/optim.h"

struct nk_wfile;

/* What the user chose; saved in every checkpoint and read back on resume. */
typedef struct nk_train_config {
	int64_t steps;        /* train until this step */
	float lr;             /* AdamW base rate */
	float weight_decay;   /* decoupled */
	float clip;           /* global gradient norm; 0: off */
	int schedule;         /* enum nk_lr_kind */
	int64_t warmup;       /* linear warmup steps */
	float min_lr;         /* cosine: final rate */
	int64_t step_size;    /* step schedule: halve every step_size */
	int64_t eval_every;   /* validation every N steps (and at the end) */
	int64_t save_every;   /* checkpoint every N steps (and at the end) */
	int64_t log_every;    /* a CSV row every N steps (and at the end) */
	uint64_t seed;        /* the per-step random stream */
} nk_train_config;

/* The model and its data, as the loop sees them.  Every callback returns
 * NK_OK or an error code with a message recorded. */
typedef struct nk_train_task {
	void *ctx;
	float *params, *grads;   /* the model's one value and gradient block */
	size_t numel;
	/* Forward and backward on the next batch: grads overwritten with the
	 * gradient of the batch's mean loss, returned in *loss.  seed: this
	 * step's randomness (dropout masks), from the loop's stream. */
	int (*step)(void *ctx, uint64_t seed, double *loss);
	/* The mean validation loss; NULL when there is nothing to validate. */
	int (*evaluate)(void *ctx, double *loss);
	/* Adds the model and the task's own settings and state to a
	 * checkpoint being written. */
	int (*save)(void *ctx, struct nk_wfile *w);
	/* Restores the task's state from a checkpoint (resume): the position
	 * in the data, carried state.  The model's weights are the caller's
	 * to load before. */
	int (*restore)(void *ctx, const struct nk_wfile *f);
	size_t ndecay;           /* weight decay for params [0, ndecay) only
				  * (weights first, then biases and norm
				  * scales); 0: for all */
	/* More CSV columns after "time" (NULL: none): their names,
	 * comma-separated, and a function that writes a row's values the
	 * same way into buf (the task's loss parts since the last row, a
	 * metric when evaluated is set). */
	const char *log_columns;
	int (*log_values)(void *ctx, int evaluated, char *buf, size_t n);
	/* Data parallelism (see above): the task steps on its rank's share
	 * of the batch; its weight in the last step (NULL: 1); the
	 * collective that brings per-share state to rank 0 before a save
	 * (NULL: none). */
	int sharded;
	double (*weight)(void *ctx);
	int (*gather)(void *ctx);
} nk_train_task;

/* What happened in one step, for the caller's reports and progress line. */
typedef struct nk_train_event {
	int64_t step;        /* steps done, this one included */
	int64_t steps;       /* the target */
	double loss;         /* this step's training loss */
	double val_loss;     /* when evaluated is set */
	int evaluated;
	double elapsed;      /* seconds of training, across resumes */
} nk_train_event;

/* Called after every step (after its evaluation, log row and checkpoint);
 * a non-zero return stops the run there, with NK_OK. */
typedef int (*nk_train_callback)(void *user, const nk_train_event *e);

typedef struct nk_trainer {
	nk_train_config cfg;
	nk_train_task task;
	const char *path;      /* the checkpoint file */
	nk_adam adam;
	nk_lr_schedule sched;
	nk_rng rng;            /* seeds each step */
	int64_t step;
	double elapsed;
	double log_sum;        /* losses since the last CSV row */
	int64_t log_count;
	int diverged;          /* the run stopped on a non-finite loss */
} nk_trainer;

/* Sets up a fresh run: zero moments, step 0, the step stream seeded from
 * cfg->seed (stream 1; stream 0 is the model's initialization). */
int nk_trainer_init(nk_trainer *t, const nk_train_config *cfg,
		    const nk_train_task *task, const char *path);
void nk_trainer_free(nk_trainer *t);

/* The settings of a saved run (the caller may then change steps). */
int nk_train_config_load(nk_train_config *cfg, const struct nk_wfile *f);
/* The steps a saved run has done, so that a resume can refuse a target
 * it has reached before loading anything else; NK_EFORMAT as
 * nk_trainer_resume's. */
int nk_train_saved_step(const struct nk_wfile *f, int64_t *step);
/* Restores the loop's state and then the task's from a checkpoint; a
 * checkpoint that does not fit (moments of another size, state out of
 * range) is refused with a message naming the file. */
int nk_trainer_resume(nk_trainer *t, const struct nk_wfile *f);

/* The messages of loaders and of tasks' restore() (models/charlm_task.c,
 * bert_task.c), so that every program words them alike.  Both rewrite the
 * last error, a lower layer's about f (a missing key), and return
 * NK_EFORMAT: "NAME: not a training checkpoint (WHY)" for the settings of
 * a run, "NAME: cannot resume: WHY" for its state. */
int nk_train_not_checkpoint(const struct nk_wfile *f);
int nk_train_cannot_resume(const struct nk_wfile *f);
/* A task's data against the checkpoint's data_len and data_hash (len,
 * hash): NK_EFORMAT, "NAME: cannot resume: the model was trained on other
 * data than DATA", unless they are n and want_hash. */
int nk_train_check_data(const struct nk_wfile *f, int64_t len, int64_t hash,
			size_t n, uint64_t want_hash, const char *data_name);

/* Writes the whole training state to t->path, atomically. */
int nk_trainer_save(nk_trainer *t);

/* Trains from t->step to cfg.steps, on every rank of a data-parallel run
 * (a collective: see above; log and cb matter on rank 0, log should be
 * NULL elsewhere, and cb must return the same on every rank).  log (may be NULL) gets CSV rows
 * "step,train_loss,val_loss,time" and the task's log_columns (a header
 * first when it is empty); the
 * train loss of a row is the mean since the previous row.  A non-finite
 * loss stops the run with NK_ERANGE ("step N: the loss is nan") and sets
 * t->diverged.  A run
 * with nothing to do (--steps already reached, or 0) still writes its
 * checkpoint. */
int nk_trainer_run(nk_trainer *t, FILE *log, nk_train_callback cb,
		   void *user);

#endif
