/* charlm_task.h - a character/token language model as a training task for
 * the one loop (nn/train.h): batches from B parallel streams of the data,
 * truncated BPTT with the hidden state carried between batches, the held-
 * out tail of the data as validation, and the task's part of the
 * checkpoint (charlm_file.h lists the whole schema).
 */
#ifndef NK_CHARLM_TASK_H
#define NK_CHARLM_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "models/charlm.h"
#include "nn/train.h"
#include "text/textdata.h"

/* The task's settings, saved in the checkpoint and fixed for a run. */
typedef struct nk_charlm_task_config {
	int B;               /* parallel streams per batch */
	int T;               /* time steps per batch */
	int K;               /* gradient checkpointing segment; 0: none */
	float val_fraction;  /* the tail of the data held out */
	/* Data parallelism (nn/train.h), not saved: this process steps on
	 * streams nk_dist_share(B, rank, nranks) of the global batch only;
	 * nranks 0 or 1: all B. */
	int rank, nranks;
} nk_charlm_task_config;

typedef struct nk_charlm_task {
	nk_charlm_task_config cfg;
	nk_charlm *m;               /* the caller's */
	const nk_textvocab *vocab;  /* the caller's */
	int level;
	int64_t start_id;
	const uint32_t *ids;        /* the caller's: training, then validation */
	size_t n, ntrain, nval;
	int validate;               /* the held-out part is long enough */
	const char *data_name;      /* for messages */
	uint64_t hash;              /* identifies the data in a checkpoint */
	nk_streams streams;         /* over this rank's streams only */
	int b0, Bl;                 /* this rank's streams [b0, b0 + Bl) */
	nk_charlm_run *run;         /* Bl streams */
	uint32_t *x, *y;            /* (T,Bl) the batch */
	float *hall, *call;         /* (L,B,H) gathered on rank 0 for save */
} nk_charlm_task;

/* Reads the task's settings of a saved run. */
int nk_charlm_task_config_load(nk_charlm_task_config *cfg,
			       const struct nk_wfile *f);

/* Sets up streams over ids[0..n - nval) (this rank's share of them) and a
 * workspace; the last
 * val_fraction of the ids is validation (when at least 2 symbols).  The
 * model, vocabulary and ids stay the caller's and must outlive the task.
 * NK_ERANGE when the training part cannot fill one batch. */
int nk_charlm_task_init(nk_charlm_task *t, const nk_charlm_task_config *cfg,
			nk_charlm *m, const nk_textvocab *vocab, int level,
			int64_t start_id, const uint32_t *ids, size_t n,
			const char *data_name);
void nk_charlm_task_free(nk_charlm_task *t);

/* The task behind the loop's interface. */
nk_train_task nk_charlm_task_bind(nk_charlm_task *t);

#endif
