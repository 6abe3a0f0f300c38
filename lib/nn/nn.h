/* nn.h - the training engine: layers as forward/backward pairs over float
 * buffers, optimizers, clipping and learning-rate schedules.
 *
 * Conventions (llm.c):
 *   - outputs first, then inputs, then sizes;
 *   - backward ADDS into every gradient it is given (so a parameter used
 *     twice, or a segment recomputed for checkpointing, accumulates);
 *     a NULL gradient pointer means "not needed" and is skipped;
 *   - shapes in the comments, outermost first; letters mean the same
 *     everywhere: B batch, T time, C channels/features, V vocabulary,
 *     H hidden, I input size, N rows (B*T usually), K kernel;
 *   - all matrix products go through nk_sgemm (gemm.h);
 *   - weights are laid out as PyTorch lays them out (nn.Linear weight is
 *     (out, in); LSTM gates i,f,g,o; GRU gates r,z,n with two bias vectors),
 *     so a model can be checked against torch layer by layer;
 *   - results are bit-identical for a given seed and thread count.
 * Layers to come (conv2d, pooling, attention) follow the same mould.
 */
#ifndef NK_NN_H
#define NK_NN_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

/* ---- embedding: out (N,C) = wte[ids[n]] ------------------------------ */
void nk_embedding_forward(float *out, const uint32_t *ids, const float *wte,
			  int N, int C);
void nk_embedding_backward(float *dwte, const float *dout,
			   const uint32_t *ids, int N, int C);

/* ---- linear: out (N,OC) = in (N,IC) @ w^T + b; w (OC,IC), b (OC) or NULL */
void nk_linear_forward(float *out, const float *in, const float *w,
		       const float *b, int N, int IC, int OC);
void nk_linear_backward(float *din, float *dw, float *db, const float *dout,
			const float *in, const float *w, int N, int IC, int OC);

/* ---- recurrent layers over a sequence, time-major ---------------------
 * x (T,B,I) inputs; h0 (B,H) initial state (c0 too for the LSTM); the
 * outputs h (T,B,H) are the hidden states of every step.  `cache` holds
 * what backward needs (gate activations...), *_cache_floats() floats.
 * Backward takes dh (T,B,H), the loss gradient for every output, plus
 * dh_last/dc_last, the gradient flowing into the final state from what
 * came after (the next segment when checkpointing; NULL for none), and
 * produces dx (T,B,I), dh0/dc0 (B,H) and the weight gradients.
 * Weights: w_ih (G*H, I), w_hh (G*H, H), b_ih (G*H), b_hh (G*H) with
 * G = 1 (tanh RNN), 4 (LSTM: i,f,g,o), 3 (GRU: r,z,n), as in torch.nn.
 *
 * The cache's tail is also the layers' workspace (packed weights, the gate
 * gradients of all T steps), which is why backward takes it non-const:
 * backward writes only there and leaves what forward saved intact, so it
 * may run twice on one forward.  Any of dx, dh0, dc0 and the weight
 * gradients may be NULL.
 * Gradient checkpointing: weight and bias gradients are accumulated one
 * time step at a time from the last step to the first, and dx/dh0/dc0
 * row by row, so running backward segment by segment (the last segment
 * first, each one's dh0/dc0 passed as the previous one's dh_last/dc_last,
 * all into the same gradient buffers) gives bits identical to one call
 * over the whole sequence; forward over segments, each starting from the
 * previous one's final state, gives bits identical to one forward. */
size_t nk_rnn_cache_floats(int T, int B, int H);
void nk_rnn_forward(float *h, float *cache, const float *x, const float *h0,
		    const float *w_ih, const float *w_hh, const float *b_ih,
		    const float *b_hh, int T, int B, int I, int H);
void nk_rnn_backward(float *dx, float *dh0, float *dw_ih, float *dw_hh,
		     float *db_ih, float *db_hh, const float *dh,
		     const float *dh_last, float *cache, const float *x,
		     const float *h0, const float *h, const float *w_ih,
		     const float *w_hh, int T, int B, int I, int H);

/* What the three share: the weight and bias gradients from the gate
 * gradients of all T steps, dg_ih for w_ih/b_ih and dg_hh for w_hh/b_hh
 * (the same array but in the GRU), each (T,B,GH):
 *   dw_ih (GH,I) += sum_t dg_ih_t^T x_t,  dw_hh (GH,H) += sum_t dg_hh_t^T h_{t-1},
 *   db_ih += sum_t,b dg_ih,  db_hh += sum_t,b dg_hh,
 * one step at a time from t = T-1 down to 0 (h_{-1} = h0, NULL for
 * zeros).  Threads own rows of the gradients, in one parallel region. */
void nk_recurrent_weight_grads(float *dw_ih, float *dw_hh, float *db_ih,
			       float *db_hh, const float *dg_ih,
			       const float *dg_hh, const float *x,
			       const float *h0, const float *h, int T, int B,
			       int I, int H, int GH);

size_t nk_lstm_cache_floats(int T, int B, int H);
/* c_last (B,H) receives the final cell state (to carry across batches). */
void nk_lstm_forward(float *h, float *c_last, float *cache, const float *x,
		     const float *h0, const float *c0, const float *w_ih,
		     const float *w_hh, const float *b_ih, const float *b_hh,
		     int T, int B, int I, int H);
void nk_lstm_backward(float *dx, float *dh0, float *dc0, float *dw_ih,
		      float *dw_hh, float *db_ih, float *db_hh,
		      const float *dh, const float *dh_last,
		      const float *dc_last, float *cache, const float *x,
		      const float *h0, const float *c0, const float *h,
		      const float *w_ih, const float *w_hh, int T, int B,
		      int I, int H);

size_t nk_gru_cache_floats(int T, int B, int H);
void nk_gru_forward(float *h, float *cache, const float *x, const float *h0,
		    const float *w_ih, const float *w_hh, const float *b_ih,
		    const float *b_hh, int T, int B, int I, int H);
void nk_gru_backward(float *dx, float *dh0, float *dw_ih, float *dw_hh,
		     float *db_ih, float *db_hh, const float *dh,
		     const float *dh_last, float *cache, const float *x,
		     const float *h0, const float *h, const float *w_ih,
		     const float *w_hh, int T, int B, int I, int H);

/* ---- layer norm over the last axis: in (N,C), w/b (C) ----------------
 * mean and rstd (N) are saved for backward. */
void nk_layernorm_forward(float *out, float *mean, float *rstd,
			  const float *in, const float *w, const float *b,
			  int N, int C, float eps);
void nk_layernorm_backward(float *din, float *dw, float *db, const float *dout,
			   const float *in, const float *w, const float *mean,
			   const float *rstd, int N, int C);

/* ---- softmax + cross-entropy: logits (N,V), targets (N) --------------
 * Returns the mean loss in nats over the N rows; probs (N,V) is saved.
 * Backward writes (adds) dlogits = scale * (probs - onehot(target)),
 * scale usually 1/N. */
double nk_softmax_xent_forward(float *probs, const float *logits,
			       const uint32_t *targets, int N, int V);
void nk_softmax_xent_backward(float *dlogits, const float *probs,
			      const uint32_t *targets, int N, int V,
			      float scale);
/* Softmax of one row with a temperature (sampling). */
void nk_softmax(float *out, const float *logits, int V, float temperature);

/* ---- dropout (inverted): out = in * mask, mask[i] in {0, 1/(1-p)} ------ */
void nk_dropout_forward(float *out, float *mask, const float *in, float p,
			size_t n, nk_rng *rng);
void nk_dropout_backward(float *din, const float *dout, const float *mask,
			 size_t n);

/* ---- optimizers over one flat parameter block (nk_params) ------------- */
typedef struct nk_adam {
	float lr, beta1, beta2, eps, weight_decay; /* decoupled (AdamW) */
	int64_t t;                                 /* steps taken */
	float *m, *v;                              /* n floats each */
	size_t n;
} nk_adam;
int nk_adam_init(nk_adam *a, size_t n, float lr, float beta1, float beta2,
		 float eps, float weight_decay);
void nk_adam_step(nk_adam *a, float *params, const float *grads, float lr);
void nk_adam_free(nk_adam *a);

typedef struct nk_sgd {
	float lr, momentum, weight_decay;
	float *velocity; /* n floats, NULL without momentum */
	size_t n;
} nk_sgd;
int nk_sgd_init(nk_sgd *s, size_t n, float lr, float momentum,
		float weight_decay);
void nk_sgd_step(nk_sgd *s, float *params, const float *grads, float lr);
void nk_sgd_free(nk_sgd *s);

/* Scales grads so their global L2 norm is at most max_norm (as
 * torch.nn.utils.clip_grad_norm_); returns the norm before clipping. */
double nk_clip_grad_norm(float *grads, size_t n, double max_norm);

/* ---- learning-rate schedules ------------------------------------------ */
enum nk_lr_kind { NK_LR_CONSTANT, NK_LR_STEP, NK_LR_COSINE };
typedef struct nk_lr_schedule {
	int kind;
	float base_lr;
	int64_t warmup;      /* linear warmup steps (all kinds) */
	int64_t step_size;   /* NK_LR_STEP: multiply by gamma every step_size */
	float gamma;
	int64_t total_steps; /* NK_LR_COSINE: decay to min_lr at total_steps */
	float min_lr;
} nk_lr_schedule;
float nk_lr_at(const nk_lr_schedule *s, int64_t step);

/* ---- elementwise math the layers share --------------------------------
 * exp, sigmoid and tanh on GCC vectors of NK_VW floats (libm's scalar calls
 * would dominate an LSTM step): Cody-Waite reduction and Cephes' degree-5
 * polynomial, about 2 ulp for exp; tanh within 1e-7 absolute.  Layers
 * walk a row NK_VW floats at a time, the tail through nk_vload_n and
 * nk_vstore_n, so every element goes through the same instructions; the
 * scalar forms are lane 0 of the vector ones. */
#if defined(__AVX512F__)
#define NK_VW 16
#elif defined(__AVX__)
#define NK_VW 8
#else
#define NK_VW 4
#endif
typedef float nk_vf __attribute__((vector_size(NK_VW * 4), aligned(4)));
typedef int32_t nk_vi __attribute__((vector_size(NK_VW * 4), aligned(4)));

/* x in every lane (x - 0 keeps the sign of -0; 0 + x would not). */
static inline nk_vf nk_vsplat(float x)
{
	return x - (nk_vf){0};
}
/* m ? a : b, lane by lane; m from a vector comparison (0 or -1). */
static inline nk_vf nk_vsel(nk_vi m, nk_vf a, nk_vf b)
{
	return (nk_vf)((m & (nk_vi)a) | (~m & (nk_vi)b));
}
static inline nk_vf nk_vload(const float *p)
{
	nk_vf v;
	__builtin_memcpy(&v, p, sizeof v);
	return v;
}
static inline void nk_vstore(float *p, nk_vf v)
{
	__builtin_memcpy(p, &v, sizeof v);
}
/* The first n lanes (n <= NK_VW; less at a row's tail, the rest zero). */
static inline nk_vf nk_vload_n(const float *p, int n)
{
	if (n == NK_VW)
		return nk_vload(p);
	nk_vf v = {0};
	__builtin_memcpy(&v, p, (size_t)n * sizeof(float));
	return v;
}
static inline void nk_vstore_n(float *p, nk_vf v, int n)
{
	if (n == NK_VW)
		nk_vstore(p, v);
	else
		__builtin_memcpy(p, &v, (size_t)n * sizeof(float));
}
static inline nk_vf nk_vexpf(nk_vf x)
{
	x = nk_vsel(x < -87.0f, nk_vsplat(-87.0f), x);
	x = nk_vsel(x > 88.0f, nk_vsplat(88.0f), x);
	nk_vf z = x * 1.44269504089f;
	nk_vf half = nk_vsel(z < 0.0f, nk_vsplat(-0.5f), nk_vsplat(0.5f));
	nk_vi ki = __builtin_convertvector(z + half, nk_vi); /* round */
	nk_vf k = __builtin_convertvector(ki, nk_vf);
	nk_vf r = x - k * 0.693359375f;
	r = r - k * -2.12194440e-4f;
	nk_vf p = nk_vsplat(1.9875691500e-4f);
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	return p * (nk_vf)((ki + 127) << 23);
}
static inline nk_vf nk_vsigmoidf(nk_vf x)
{
	return 1.0f / (1.0f + nk_vexpf(-x));
}
static inline nk_vf nk_vtanhf(nk_vf x)
{
	nk_vi signbit = (nk_vi){0} + INT32_MIN;
	nk_vi sign = (nk_vi)x & signbit;
	nk_vf e = nk_vexpf((nk_vf)((nk_vi)x | signbit) * 2.0f); /* -2|x| */
	nk_vf t = (1.0f - e) / (1.0f + e);
	return (nk_vf)((nk_vi)t | sign);
}
static inline float nk_expf(float x)
{
	return nk_vexpf(nk_vsplat(x))[0];
}
static inline float nk_sigmoidf(float x)
{
	return nk_vsigmoidf(nk_vsplat(x))[0];
}
static inline float nk_tanhf(float x)
{
	return nk_vtanhf(nk_vsplat(x))[0];
}

#endif
