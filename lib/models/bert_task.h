/* bert_task.h - BERT's masked-language model as a training task for the
 * one loop (nn/train.h).
 *
 * The data are sequences already framed as the model reads them ([CLS]
 * ... [SEP], token types), built by the caller.  Each epoch visits the
 * training sequences in a new seeded order, B per step; each sequence is
 * masked afresh when it is visited (RoBERTa's dynamic masking) unless
 * the data carry their masks (instances from `bert-mask mask`: static
 * masking, as BERT's own pipeline); an instance that carries none is
 * masked afresh like the rest (nnkit-mlm(5)).  The tail of the sequences is held
 * out for validation (at most NK_BERT_VAL_MAX sequences: enough for a
 * steady figure, few enough to score often), masked once with a fixed
 * seed, so every evaluation scores the same positions.  The loss is the mean cross-entropy over the
 * masked positions of the batch.
 *
 * The whole position in the data is (epoch, index in the epoch's order):
 * the order and the masks are functions of (seed, epoch, index), so a
 * resumed run draws exactly what the run never stopped would have.
 *
 * Data parallel (nn/train.h): under MPI each rank trains on its share of
 * the rows of the same global batch, weighted by its masked positions,
 * so the ranks together take the step one process takes.
 */
#ifndef NK_BERT_TASK_H
#define NK_BERT_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "models/bert_file.h"
#include "nn/train.h"

#define NK_BERT_VAL_MAX 1024

/* Sequences: sequence i is ids[off[i] .. off[i+1]), types likewise (NULL:
 * all 0).  With moff, the masks too: positions mpos[moff[i] .. moff[i+1])
 * within sequence i, whose original ids are mlabel[...] (ids already hold
 * the replacements); a sequence with none there is masked by the task's
 * masker. */
typedef struct nk_bert_seqs {
	size_t n;
	const size_t *off;
	const uint32_t *ids;
	const uint8_t *types;
	const size_t *moff;
	const int32_t *mpos;
	const uint32_t *mlabel;
} nk_bert_seqs;

/* Masks one sequence in place for dynamic masking: chooses positions of
 * ids[0..n) as the caller's rule says, writes the replacement ids, and
 * returns the count with the positions (ascending) and original ids in
 * mpos/mlabel (room for max_pred).  Returns -1 on failure. */
typedef struct nk_bert_masker {
	int (*mask)(void *ctx, uint32_t *ids, int n, uint64_t seed,
		    int32_t *mpos, uint32_t *mlabel);
	void *ctx;
	int max_pred;     /* the most positions one sequence gets */
} nk_bert_masker;

/* Fixed masks for the sequences of s that have none (s->moff[i] ==
 * s->moff[i + 1]), by masker with a stream of seed per sequence; the
 * others keep theirs.  ids is s's ids, written where masked.  New
 * moff/mpos/mlabel arrays for the caller to free; NK_ENOMEM, or NK_EINVAL
 * when the masker fails. */
int nk_bert_mask_missing(const nk_bert_seqs *s, uint32_t *ids,
			 const nk_bert_masker *masker, uint64_t seed,
			 size_t **moff, int32_t **mpos, uint32_t **mlabel);

/* The task's settings, saved in the checkpoint and fixed for a run. */
typedef struct nk_bert_task_config {
	int B;               /* sequences per step */
	int checkpoint;      /* per-layer gradient checkpointing */
	float val_fraction;  /* the tail of the sequences held out */
	uint64_t seed;       /* the data order and the masks */
	/* How the caller builds and masks the sequences: kept here so that a
	 * resumed run builds and masks them the same way. */
	int seq_len, max_pred, whole_word, pairs;
	float mask_prob, short_prob;
} nk_bert_task_config;

typedef struct nk_bert_task {
	nk_bert_task_config cfg;
	nk_bert *m;                 /* the caller's */
	const nk_bert_tokens *tok;  /* the caller's */
	nk_bert_seqs data;          /* the caller's */
	nk_bert_masker masker;
	size_t ntrain, nval;
	const char *data_name;      /* for messages */
	uint64_t hash;              /* identifies the data in a checkpoint */
	int64_t epoch;
	size_t pos;                 /* next index into order */
	uint32_t *order;            /* (ntrain) this epoch's order */
	size_t *rows;               /* (B) the global batch's sequences */
	int rank, nranks;           /* data parallelism: this rank's share */
	double weight;              /* masked positions of the last step */
	int T, Mmax;                /* the longest sequence; masks per batch */
	nk_bert_run *run;
	uint32_t *ids, *mlabel;     /* the batch */
	uint8_t *types;
	int *lengths;
	int32_t *mpos;
	/* the validation set, masked once */
	uint32_t *val_ids, *val_mlabel;
	int32_t *val_mpos;
	size_t *val_moff;
	/* accuracy since the last log row, and of the last evaluation */
	int64_t hits, masked;
	double val_acc;
} nk_bert_task;

/* Reads the task's settings of a saved run. */
int nk_bert_task_config_load(nk_bert_task_config *cfg,
			     const struct nk_wfile *f);

/* Sets up the task over data (which, with the model, tokens and masker
 * context, stays the caller's and must outlive the task).  NK_ERANGE
 * when the training part cannot fill one batch or a sequence is longer
 * than the model's positions. */
int nk_bert_task_init(nk_bert_task *t, const nk_bert_task_config *cfg,
		      nk_bert *m, const nk_bert_tokens *tok,
		      const nk_bert_seqs *data, const nk_bert_masker *masker,
		      const char *data_name);
void nk_bert_task_free(nk_bert_task *t);

/* The task behind the loop's interface; its log columns are mlm_acc (top-1
 * accuracy over the masked positions since the previous row) and val_acc. */
nk_train_task nk_bert_task_bind(nk_bert_task *t);

/* Scores seqs (masked as given: moff must be set) in batches of B:
 * the summed loss, top-1 and top-5 hits and the number of masked
 * positions. */
int nk_bert_score(const nk_bert *m, nk_bert_run *run, const nk_bert_seqs *s,
		  size_t from, size_t to, int B, double *loss, int64_t *top1,
		  int64_t *top5, int64_t *count);

#endif
