/* bert.h - BERT's encoder with its masked-language-model head:
 *
 *   ids (B,T) -> token + position + token-type embeddings -> layer norm
 *   -> dropout -> L x [ self-attention (A heads, key padding mask) ->
 *   dropout -> add -> layer norm -> linear FF -> GELU -> linear H ->
 *   dropout -> add -> layer norm ] -> gather the masked positions (M,H)
 *   -> dense H -> GELU -> layer norm -> logits (M,V) = x @ wte^T + bias
 *
 * post-layer-norm as in the paper and Google's code; the output layer is
 * tied to the token embedding.  Only the M masked positions reach the
 * MLM head (Google's gather_indexes): at BERT-Tiny's size the output
 * projection is most of the work, and nothing is lost by skipping the
 * positions that carry no loss.
 *
 * Weights are laid out as PyTorch's (nn.Linear (out,in)), so a model can
 * be checked against torch tensor by tensor; the attention's Q, K and V
 * projections are one (3H,H) matrix, as nn.MultiheadAttention's in_proj.
 * The parameter block holds the matrices and embeddings first and then
 * biases and layer-norm parameters, so AdamW decays [0, ndecay) only
 * (HuggingFace's and Google's rule: no decay on biases and LayerNorm).
 *
 * Gradient checkpointing per layer: with checkpoint set, forward keeps
 * only each layer's input; backward recomputes one layer at a time, with
 * the same dropout masks (drawn from a generator seeded per (step, layer,
 * site)), so the gradients are bit-identical to the plain run.
 */
#ifndef NK_BERT_H
#define NK_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "nn/gelu.h" /* enum nk_gelu_kind: NK_GELU_ERF, NK_GELU_TANH */
#include "nn/params.h"

#define NK_BERT_MAX_LAYERS 48

typedef struct nk_bert_config {
	int L;          /* encoder layers */
	int H;          /* hidden size */
	int A;          /* attention heads; H % A == 0 */
	int FF;         /* feed-forward size */
	int V;          /* vocabulary, special tokens included */
	int P;          /* positions: the longest sequence */
	int types;      /* token types (segments); 2 as BERT */
	float dropout;  /* hidden and attention-probability dropout */
	int gelu;       /* enum nk_gelu_kind */
	float ln_eps;   /* 1e-12 as BERT */
	int alibi;      /* 1: ALiBi's distance penalty in every head's
			 * attention (nn/attention.h), beside the learned
			 * positions; 0: BERT's learned positions alone */
} nk_bert_config;

/* Views of one encoder layer's tensors into p.data (and p.grads). */
typedef struct nk_bert_layer {
	float *qkv_w, *qkv_b;     /* (3H,H), (3H): Q rows, then K, then V */
	float *proj_w, *proj_b;   /* (H,H), (H) */
	float *ln1_w, *ln1_b;     /* (H) */
	float *ff1_w, *ff1_b;     /* (FF,H), (FF) */
	float *ff2_w, *ff2_b;     /* (H,FF), (H) */
	float *ln2_w, *ln2_b;     /* (H) */
} nk_bert_layer;

typedef struct nk_bert {
	nk_bert_config cfg;
	nk_params p;
	size_t ndecay;            /* p.data[0, ndecay) are decayed */
	float *wte, *wpe, *wtt;   /* (V,H), (P,H), (types,H) */
	float *ln_emb_w, *ln_emb_b;
	nk_bert_layer layer[NK_BERT_MAX_LAYERS], dlayer[NK_BERT_MAX_LAYERS];
	float *dwte, *dwpe, *dwtt, *dln_emb_w, *dln_emb_b;
	float *mlm_w, *mlm_b;     /* head dense (H,H), (H) */
	float *mlm_ln_w, *mlm_ln_b;
	float *mlm_bias;          /* (V) output bias */
	float *dmlm_w, *dmlm_b, *dmlm_ln_w, *dmlm_ln_b, *dmlm_bias;
} nk_bert;

/* Checks the configuration against sane caps (a message naming the bad
 * value) and allocates zeroed parameters. */
int nk_bert_init(nk_bert *m, const nk_bert_config *cfg);
/* BERT's initialization: matrices and embeddings N(0, 0.02) truncated at
 * two standard deviations, biases 0, layer norms 1 and 0. */
void nk_bert_randomize(nk_bert *m, nk_rng *rng);
void nk_bert_free(nk_bert *m);

/* The name of every parameter tensor in p's order ("wte", "wpe", "wtt",
 * "layer.0.qkv_w", ..., "mlm_bias"), its shape and its place; i from 0 to
 * nk_bert_n_tensors(m) - 1.  The model file and the torch tests use
 * these names. */
int nk_bert_n_tensors(const nk_bert *m);
const char *nk_bert_tensor(const nk_bert *m, int i, int *ndim,
			   int64_t shape[2], float **data, float **grad);

/* One batch: B rows of T positions (lengths[b] tokens, then padding that
 * no key attends to), and the M masked positions with their labels. */
typedef struct nk_bert_batch {
	int B, T;
	const uint32_t *ids;      /* (B,T); padding positions any valid id */
	const uint8_t *types;     /* (B,T) token types, or NULL: all 0 */
	const int *lengths;       /* (B) */
	int M;
	const int32_t *mpos;      /* (M) flat positions b*T + t */
	const uint32_t *mlabel;   /* (M) the ids to predict; NULL: none */
} nk_bert_batch;

typedef struct nk_bert_run nk_bert_run;

/* Workspace for batches up to B x T with up to Mmax masked positions.
 * checkpoint: keep only each layer's input (see above); train: also
 * what backward needs. */
nk_bert_run *nk_bert_run_new(const nk_bert *m, int B, int T, int Mmax,
			     int checkpoint, int train);
void nk_bert_run_free(nk_bert_run *r);
/* The most masked positions a batch may have in r (its Mmax). */
int nk_bert_run_max_masked(const nk_bert_run *r);
/* Bytes of activations and workspace (what checkpointing saves). */
size_t nk_bert_run_bytes(const nk_bert_run *r);

/* One training step: forward with dropout seeded by dropout_seed, the
 * mean cross-entropy over the M masked positions, backward into
 * m->p.grads (zeroed first).  Returns the mean loss in nats; *correct
 * (may be NULL) gets how many masked positions had the label as top-1.
 * A batch that does not fit the workspace or the model (an id, type,
 * length or position out of range, M > Mmax, no labels) returns NAN with
 * a message (nk_last_error) and leaves the gradients zero. */
double nk_bert_train_step(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
			  uint64_t dropout_seed, int *correct);

/* Forward without dropout.  The logits of the masked positions (M,V) are
 * then at nk_bert_run_logits(); with labels, returns the summed loss over
 * the M positions and counts top-1 and top-5 hits (either may be NULL).
 * A label counts as top-k when fewer than k logits are strictly greater.
 * A bad batch (as for nk_bert_train_step) returns NAN with a message. */
double nk_bert_forward(const nk_bert *m, nk_bert_run *r,
		       const nk_bert_batch *b, int *top1, int *top5);
const float *nk_bert_run_logits(const nk_bert_run *r);

#endif
