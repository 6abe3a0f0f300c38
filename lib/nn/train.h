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
/* Restores the loop's state and then the task's from a checkpoint; a
 * checkpoint that does not fit (moments of another size, state out of
 * range) is refused with a message naming the file. */
int nk_trainer_resume(nk_trainer *t, const struct nk_wfile *f);

/* Writes the whole training state to t->path, atomically. */
int nk_trainer_save(nk_trainer *t);

/* Trains from t->step to cfg.steps.  log (may be NULL) gets CSV rows
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
