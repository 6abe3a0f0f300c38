/* charlm.h - a recurrent language model over characters or tokens:
 *
 *   ids (T,B) -> embedding (T,B,C) -> L recurrent layers (RNN, LSTM or GRU)
 *   of H units, with dropout between them -> linear (V,H) -> softmax-xent
 *
 * built from the layers of lib/nn/ over one nk_params block.  Its file
 * schema is charlm_file.h; its training task, charlm_task.h.  Training is
 * truncated BPTT: each step runs T time steps of B streams from the hidden
 * state the previous step ended in, and the gradient stops there.
 *
 * Gradient checkpointing (Chen et al. 2016): with a segment length K < T,
 * the forward pass keeps only every layer's state at each segment start
 * and discards the rest; backward recomputes one segment at a time (the
 * last one first) and chains the segments through dh_last/dc_last.  The
 * layers accumulate weight gradients one time step at a time from the last
 * step to the first, and this file does the same for the output layer and
 * the embedding, so the gradients are bit-identical to the plain run.
 * Dropout masks come from a generator seeded per (step, layer, time step),
 * so a recomputed segment draws the masks it drew the first time.
 */
#ifndef NK_CHARLM_H
#define NK_CHARLM_H

#include <stddef.h>
#include <stdint.h>

#include "nn/params.h"
#include "core/rng.h"

#define NK_CHARLM_MAX_LAYERS 16

enum nk_cell { NK_CELL_RNN, NK_CELL_LSTM, NK_CELL_GRU, NK_CELL_COUNT };

/* "rnn", "lstm", "gru"; -1 / NULL for unknown. */
const char *nk_cell_name(int cell);
int nk_cell_from_name(const char *name);

typedef struct nk_charlm_config {
	int cell;      /* enum nk_cell */
	int L;         /* recurrent layers */
	int H;         /* hidden units per layer */
	int C;         /* embedding size */
	int V;         /* vocabulary */
	float dropout; /* between recurrent layers, in training */
} nk_charlm_config;

typedef struct nk_charlm {
	nk_charlm_config cfg;
	int G;            /* gates: 1 rnn, 4 lstm, 3 gru */
	nk_params p;
	/* Named views into p.data (values) and p.grads (gradients). */
	float *wte, *dwte;                 /* (V,C) */
	float *w_ih[NK_CHARLM_MAX_LAYERS], *dw_ih[NK_CHARLM_MAX_LAYERS];
	float *w_hh[NK_CHARLM_MAX_LAYERS], *dw_hh[NK_CHARLM_MAX_LAYERS];
	float *b_ih[NK_CHARLM_MAX_LAYERS], *db_ih[NK_CHARLM_MAX_LAYERS];
	float *b_hh[NK_CHARLM_MAX_LAYERS], *db_hh[NK_CHARLM_MAX_LAYERS];
	float *w_out, *dw_out;             /* (V,H) */
	float *b_out, *db_out;             /* (V) */
} nk_charlm;

/* Checks the configuration against sane caps and allocates zeroed
 * parameters. */
int nk_charlm_init(nk_charlm *m, const nk_charlm_config *cfg);
/* PyTorch's default initialization: embedding N(0,1); recurrent and
 * output weights and biases U(-1/sqrt(fan), 1/sqrt(fan)). */
void nk_charlm_randomize(nk_charlm *m, nk_rng *rng);
void nk_charlm_free(nk_charlm *m);

/* Gates per step of a cell: 1 rnn, 4 lstm, 3 gru; 0 for unknown. */
int nk_cell_gates(int cell);

/* ---- running: forward over B streams, T steps at a time -------------- */

/* Workspace for up to T steps of B streams, and the carried state. */
typedef struct nk_charlm_run nk_charlm_run;

/* K: segment length for gradient checkpointing (0 or >= T: none).
 * train: also allocate what backward needs. */
nk_charlm_run *nk_charlm_run_new(const nk_charlm *m, int B, int T, int K,
				 int train);
void nk_charlm_run_free(nk_charlm_run *r);
/* Bytes of activations and workspace (what checkpointing saves). */
size_t nk_charlm_run_bytes(const nk_charlm_run *r);
/* The carried state: h (L,B,H), and c (L,B,H) for the LSTM (else NULL). */
float *nk_charlm_run_h(nk_charlm_run *r);
float *nk_charlm_run_c(nk_charlm_run *r);
void nk_charlm_run_reset(nk_charlm_run *r);

/* One training step over x, y (T,B), time-major: forward, loss, backward
 * into m->p.grads (zeroed first), and the final state carried.  Returns
 * the mean loss in nats.  dropout_seed seeds this step's masks. */
double nk_charlm_train_step(nk_charlm *m, nk_charlm_run *r,
			    const uint32_t *x, const uint32_t *y,
			    uint64_t dropout_seed);

/* Forward only over T' <= T steps of x (T',B), state carried, no dropout.
 * With y, returns the summed loss over the T'*B predictions; the
 * logits of the last step (B,V) are at nk_charlm_run_logits(). */
double nk_charlm_forward(const nk_charlm *m, nk_charlm_run *r,
			 const uint32_t *x, const uint32_t *y, int T);
const float *nk_charlm_run_logits(const nk_charlm_run *r);

/* *loss = mean loss (nats) over ids[0..n): each of B streams (fewer when the
 * data are short) predicts every next symbol from the start of its piece,
 * T steps per chunk, state carried.  *count gets the predictions made.
 * The workspace does not grow with T: a chunk runs in segments of about
 * 2048 predictions, with the same result, bit for bit, as one of T steps. */
int nk_charlm_evaluate(const nk_charlm *m, const uint32_t *ids, size_t n,
		       int B, int T, double *loss, size_t *count);

/* Samples one id from logits (V) at `temperature` among the top_k most
 * likely (0: all), with u uniform in [0,1).  `work` holds 2*V floats. */
uint32_t nk_charlm_pick(const float *logits, int V, float temperature,
			int top_k, double u, float *work);

/* ---- generation: one symbol at a time ---------------------------------- */
typedef struct nk_charlm_sampler nk_charlm_sampler;

/* Draws with its own generator seeded from seed (stream 0), at temperature
 * among the top_k most likely (0: all). */
nk_charlm_sampler *nk_charlm_sampler_new(const nk_charlm *m, uint64_t seed,
					 float temperature, int top_k);
void nk_charlm_sampler_free(nk_charlm_sampler *s);
/* Runs the model over ids (a prime, or the start symbol), carrying the
 * state, so the next draw continues from them. */
void nk_charlm_sampler_feed(nk_charlm_sampler *s, const uint32_t *ids,
			    size_t n);
/* The next symbol; it is fed back before the draw after it. */
uint32_t nk_charlm_sampler_next(nk_charlm_sampler *s);

#endif
