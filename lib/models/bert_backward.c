/* bert_backward.c - BERT's backward pass: the MLM head (the tied output
 * embedding's gradient goes into dwte), the scatter of the gathered rows,
 * the encoder layers (recomputed one at a time when checkpointing) and
 * the embeddings.  Gradients add into m->p.grads. */
#include "models/bert.h"
#include "models/bert_impl.h"
#include "nn/attention.h"
#include "nn/gelu.h"
#include "nn/layernorm.h"
#include "nn/vmath.h"

#include <omp.h>
#include <string.h>

/* db (C) += sum over rows of d (N,C), each column summed in row order
 * (so any split gives the same bits); threads take ranges of columns. */
void bert_colsum_add(float *db, const float *d, int N, int C)
{
#pragma omp parallel if (C >= 256 && (double)N * C >= 1 << 18)
	{
		int t = omp_get_thread_num(), nt = omp_get_num_threads();
		int c0 = (int)((int64_t)C * t / nt) & ~15;
		int c1 = t == nt - 1 ? C : (int)((int64_t)C * (t + 1) / nt) & ~15;
		/* Eight rows at a time into one load and store of db, in
		 * vectors (the head's bias sums 600 rows of 8,000; -O2 left
		 * this loop scalar): each column still adds its rows one by
		 * one in order, so the bits are unchanged. */
		int n = 0, cv = c0 + (c1 - c0) / NK_VW * NK_VW;
		for (; n + 8 <= N; n += 8) {
			const float *g = d + (size_t)n * C;
			for (int c = c0; c < cv; c += NK_VW) {
				nk_vf s = nk_vload(db + c);
#pragma GCC unroll 8
				for (int k = 0; k < 8; k++)
					s += nk_vload(g + (size_t)k * C + c);
				nk_vstore(db + c, s);
			}
			for (int c = cv; c < c1; c++)
				for (int k = 0; k < 8; k++)
					db[c] += g[(size_t)k * C + c];
		}
		for (; n < N; n++) {
			const float *g = d + (size_t)n * C;
			for (int c = c0; c < c1; c++)
				db[c] += g[c];
		}
	}
}

void bert_zero(float *x, size_t n)
{
	enum { CHUNK = 1 << 14 };
	ptrdiff_t nc = (ptrdiff_t)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= 1 << 18)
	for (ptrdiff_t k = 0; k < nc; k++) {
		size_t i = (size_t)k * CHUNK;
		memset(x + i, 0, (n - i < CHUNK ? n - i : CHUNK) * sizeof *x);
	}
}

/* din (N,IC) = beta * din + dout @ w;  dw += dout^T @ in;  db += colsum. */
static void linear_back(float *din, float beta, float *dw, float *db,
			const float *dout, const float *in, const float *w,
			int N, int IC, int OC)
{
	if (din)
		bert_sgemm(0, 0, N, IC, OC, 1.0f, dout, OC, w, IC, beta, din, IC,
			   NULL);
	bert_sgemm(1, 0, OC, IC, N, 1.0f, dout, OC, in, IC, 1.0f, dw, IC, NULL);
	bert_colsum_add(db, dout, N, OC);
}

/* dy: the gradient of layer l's output (used as scratch afterwards);
 * dxin: gets the gradient of its input (overwritten). */
void bert_layer_backward(nk_bert *m, nk_bert_run *r, int l,
			   const struct bert_act *a, const nk_bert_batch *b,
			   float *dy, float *dxin, float p, uint64_t seed)
{
	const nk_bert_config *c = &m->cfg;
	const nk_bert_layer *w = &m->layer[l];
	nk_bert_layer *dw = r->dlayer ? &r->dlayer[l] : &m->dlayer[l];
	int H = c->H, FF = c->FF, N = b->B * b->T;
	size_t NH = (size_t)N * H;
	float *dt = r->dt, *dff = r->dff;

	bert_zero(dt, NH);
	nk_layernorm_backward(dt, dw->ln2_w, dw->ln2_b, dy, a->pre2, w->ln2_w,
			      a->mean2, a->rstd2, N, H);
	const float *dff2 = dt; /* dt is now d a1 through the residual */
	if (p > 0) {
		bert_drop(dy, dt, NH, r->row0 * H, p,
			  bert_key(seed, l, SITE_HID2));
		dff2 = dy;
	}
	linear_back(dff, 0.0f, dw->ff2_w, dw->ff2_b, dff2, a->gel, w->ff2_w, N,
		    FF, H);
	nk_gelu_backward(dff, dff, a->ff1, (size_t)N * FF, c->gelu);
	linear_back(dt, 1.0f, dw->ff1_w, dw->ff1_b, dff, a->a1, w->ff1_w, N, H,
		    FF);

	bert_zero(dxin, NH);
	nk_layernorm_backward(dxin, dw->ln1_w, dw->ln1_b, dt, a->pre1, w->ln1_w,
			      a->mean1, a->rstd1, N, H);
	const float *dproj = dxin; /* dxin is now d x through the residual */
	if (p > 0) {
		bert_drop(dy, dxin, NH, r->row0 * H, p,
			  bert_key(seed, l, SITE_HID1));
		dproj = dy;
	}
	linear_back(dt, 0.0f, dw->proj_w, dw->proj_b, dproj, a->ctx, w->proj_w,
		    N, H, H);
	bert_zero(r->dqkv, 3 * NH);
	nk_attention_backward(r->dqkv, r->ascratch, dt, a->qkv, a->att,
			      b->lengths, b->B, b->T, H, c->A, p,
			      p > 0 ? bert_att_key(seed, l, r->group) : 0);
	linear_back(dxin, 1.0f, dw->qkv_w, dw->qkv_b, r->dqkv, r->x[l],
		    w->qkv_w, N, H, 3 * H);
}

/* The head, from dlogits (M,V) (what xent left in r->logits) to the
 * gradient of x[L] (N,H) in dx. */
static void head_backward(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
			  float *dx)
{
	const nk_bert_config *c = &m->cfg;
	int H = c->H, V = c->V, M = b->M, N = b->B * b->T;
	const float *dlog = r->logits;
	/* logits = d2 @ wte^T + bias: the tied embedding gets dlog^T @ d2. */
	bert_sgemm(0, 0, M, H, V, 1.0f, dlog, V, m->wte, H, 0.0f, r->dh, H, NULL);
	bert_sgemm(1, 0, V, H, M, 1.0f, dlog, V, r->d2, H, 1.0f, m->dwte, H, NULL);
	bert_colsum_add(m->dmlm_bias, dlog, M, V);
	memset(r->dg, 0, (size_t)M * H * sizeof *r->dg);
	nk_layernorm_backward(r->dg, m->dmlm_ln_w, m->dmlm_ln_b, r->dh, r->d1g,
			      m->mlm_ln_w, r->hmean, r->hrstd, M, H);
	nk_gelu_backward(r->dg, r->dg, r->d1, (size_t)M * H, c->gelu);
	linear_back(r->dh, 0.0f, m->dmlm_w, m->dmlm_b, r->dg, r->g, m->mlm_w, M,
		    H, H);
	/* Scatter-add the gathered rows back, in order (a position listed
	 * twice accumulates). */
	bert_zero(dx, (size_t)N * H);
	for (int i = 0; i < M; i++) {
		float *d = dx + (size_t)b->mpos[i] * H;
		const float *g = r->dh + (size_t)i * H;
		for (int k = 0; k < H; k++)
			d[k] += g[k];
	}
}

/* A group's part of the embeddings' backward, from the gradient of x[0]
 * in dx: the dropout and the layer norm, leaving the gradient of the
 * summed embeddings in its rows of r->dt. */
void bert_embed_ln_backward(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
			    float *dx, float p, uint64_t seed)
{
	int H = m->cfg.H, N = b->B * b->T;
	size_t NH = (size_t)N * H;
	if (p > 0)
		bert_drop(dx, dx, NH, r->row0 * H, p, bert_key(seed, -1, SITE_EMB));
	bert_zero(r->dt, NH);
	nk_layernorm_backward(r->dt, r->dln_emb_w ? r->dln_emb_w : m->dln_emb_w,
			      r->dln_emb_b ? r->dln_emb_b : m->dln_emb_b, dx,
			      r->emb, m->ln_emb_w, r->emb_mean, r->emb_rstd, N,
			      H);
}

/* The token, type and position embeddings' gradients from r->dt, the
 * whole batch's.  Scatter-adds into rows that repeat: threads split the
 * columns, and every element still sums its rows in order n = 0..N-1. */
void bert_embed_scatter(nk_bert *m, const nk_bert_run *r,
			const nk_bert_batch *b)
{
	int H = m->cfg.H, T = b->T, N = b->B * T;
	const float *de = r->dt;
#pragma omp parallel if ((double)N * H >= 1 << 16 && H >= 32)
	{
		int t = omp_get_thread_num(), nt = omp_get_num_threads();
		int c0 = (int)((int64_t)H * t / nt) & ~15;
		int c1 = t == nt - 1 ? H : (int)((int64_t)H * (t + 1) / nt) & ~15;
		for (int n = 0; n < N; n++) {
			const float *g = de + (size_t)n * H;
			float *w = m->dwte + (size_t)b->ids[n] * H;
			float *tt = m->dwtt + (size_t)(b->types ? b->types[n] : 0) * H;
			float *pp = m->dwpe + (size_t)(n % T) * H;
			for (int k = c0; k < c1; k++) {
				w[k] += g[k];
				tt[k] += g[k];
				pp[k] += g[k];
			}
		}
	}
}

void bert_backward(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
		   float p, uint64_t seed)
{
	head_backward(m, r, b, r->dx);
	bert_encoder_backward(m, r, b, p, seed);
}
