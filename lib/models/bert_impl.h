/* bert_impl.h - the run workspace that bert.c allocates and bert_step.c
 * and bert_backward.c compute in; private to the model. */
#ifndef NK_BERT_IMPL_H
#define NK_BERT_IMPL_H

#include "models/bert.h"

/* What one encoder layer's backward needs; N = B*T rows.  Dropout masks
 * are not kept: dropmask.h rebuilds them from their key. */
struct bert_act {
	float *qkv;                 /* (N,3H) fused Q, K, V projection */
	float *att;                 /* (B,A,T,T) probabilities */
	float *ctx;                 /* (N,H) attention output */
	float *pre1, *mean1, *rstd1;/* (N,H) ln1's input, (N), (N) */
	float *a1;                  /* (N,H) ln1's output */
	float *ff1, *gel;           /* (N,FF) before and after GELU */
	float *pre2, *mean2, *rstd2;/* (N,H) ln2's input */
};

/* The encoder runs on groups of rows (whole sequences), each through all
 * its layers on one thread: a thread reads only what it wrote, where
 * splitting every product among the threads passed each layer's output
 * from core to core (1.2-1.4x the CPU time of one thread).  The number of
 * groups depends on the batch only, so the bits do not depend on the
 * threads: min(B, BERT_GROUPS) groups of B/G sequences (the first B % G
 * one more), each with its own gradients of the encoder's weights, added
 * in group order at the end.  Threads beyond the groups help with the
 * MLM head, which runs on all masked positions at once. */
enum { BERT_GROUPS = 8 };

struct nk_bert_run {
	int B, T, Mmax, checkpoint, train;
	/* A group's view (bert_group_view) sets these; the whole run has
	 * row0 0, group 0 and dlayer NULL (the model's own gradients). */
	size_t row0;                /* its first row in the batch */
	int group;
	nk_bert_layer *dlayer;      /* gradients of the layers, or NULL */
	float *dln_emb_w, *dln_emb_b;
	/* Per group: gradients of [glo, ghi) of p.grads (the layers and
	 * the embeddings' layer norm), and views of them. */
	size_t glo, ghi;
	float *ggrad[BERT_GROUPS];
	nk_bert_layer *gdl;         /* (BERT_GROUPS, L) */
	int nact;                   /* L sets, or 1 (checkpoint or eval) */
	size_t bytes;
	void *block;                /* the one allocation */
	float *emb, *emb_mean, *emb_rstd; /* (N,H) ln input */
	float *x[NK_BERT_MAX_LAYERS + 1]; /* (N,H) x[l] layer l's input */
	struct bert_act act[NK_BERT_MAX_LAYERS];
	int M;                      /* masked positions of the last batch */
	float *g, *d1, *d1g, *d2, *hmean, *hrstd; /* head (M,H), (M) */
	float *logits;              /* (M,V); train: dlogits after backward */
	double *rowloss;            /* (M) */
	/* backward scratch */
	float *dx, *dy, *dt;        /* (N,H) */
	float *dqkv;                /* (N,3H) */
	float *dff;                 /* (N,FF) */
	float *ascratch;            /* (B,A,T,T) */
	float *dg, *dh;             /* (M,H) */
};

/* Dropout: site s of layer l (l = -1: the embeddings) masks with the key
 * bert_key(dropout_seed, l, s), the first draw of the generator seeded
 * with (dropout_seed, (l + 1) * 4 + s). */
enum { SITE_EMB, SITE_ATT, SITE_HID1, SITE_HID2 };
uint64_t bert_key(uint64_t seed, int l, int site);
/* Group g > 0 draws its attention's dropout from its own key (the
 * attention numbers its elements from its first sequence). */
uint64_t bert_att_key(uint64_t seed, int l, int group);
/* out (n) = in * the mask of key (p > 0); out may be in; first: the
 * index of out[0] in the whole tensor, so a group's mask is the slice of
 * the whole batch's. */
void bert_drop(float *out, const float *in, size_t n, size_t first, float p,
	       uint64_t key);

/* How many groups a batch runs in, and group g's view of the run (every
 * row buffer offset to its rows) and of the batch (no masked positions). */
int bert_groups(const nk_bert_batch *b);
void bert_group_view(const nk_bert *m, const nk_bert_run *r,
		     const nk_bert_batch *b, int g, nk_bert_run *v,
		     nk_bert_batch *vb);

/* bert_gemm.c: nk_sgemm with the threads sharing C by blocks (same
 * bits); with bias (N), C's rows start as bias and beta is ignored (1). */
void bert_sgemm(int ta, int tb, int M, int N, int K, float alpha,
		const float *A, int lda, const float *B, int ldb, float beta,
		float *C, int ldc, const float *bias);

/* bert_step.c */
int bert_check_batch(const nk_bert *m, const nk_bert_run *r,
		     const nk_bert_batch *b, int need_labels);
void bert_embed_forward(const nk_bert *m, nk_bert_run *r,
			const nk_bert_batch *b, float p, uint64_t seed);
void bert_layer_forward(const nk_bert *m, nk_bert_run *r, int l,
			struct bert_act *a, const nk_bert_batch *b, float p,
			uint64_t seed);
void bert_head_forward(const nk_bert *m, nk_bert_run *r,
		       const nk_bert_batch *b);
/* bert_backward.c */
/* Layer l's backward: dy the gradient of x[l+1] (used as scratch
 * afterwards), dxin gets x[l]'s (overwritten); weights' gradients add. */
/* Weights' gradients go to r->dlayer[l] (a group's), else the model's. */
void bert_layer_backward(nk_bert *m, nk_bert_run *r, int l,
			 const struct bert_act *a, const nk_bert_batch *b,
			 float *dy, float *dxin, float p, uint64_t seed);
void bert_backward(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
		   float p, uint64_t seed);
void bert_embed_ln_backward(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
			    float *dx, float p, uint64_t seed);
void bert_embed_scatter(nk_bert *m, const nk_bert_run *r,
			const nk_bert_batch *b);
/* bert_group.c: the embeddings and the encoder layers, forward (into
 * r->x[L]) and backward (from the gradient of x[L] in r->dx to the
 * weights' gradients), group by group. */
void bert_encoder_forward(const nk_bert *m, nk_bert_run *r,
			  const nk_bert_batch *b, float p, uint64_t seed);
void bert_encoder_backward(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
			   float p, uint64_t seed);
/* x (n) = 0, shared among threads. */
void bert_zero(float *x, size_t n);
/* Row-order sums, split over columns: the same bits on any threads. */
void bert_colsum_add(float *db, const float *d, int N, int C);

#endif
