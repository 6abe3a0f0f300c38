/* bert_step.c - BERT's forward pass (embeddings, encoder layers, the MLM
 * head over the gathered masked positions), its loss, and the two entry
 * points: a training step and a forward for evaluation and fill-mask. */
#include "models/bert.h"
#include "models/bert_impl.h"
#include "core/base.h"
#include "nn/attention.h"
#include "nn/dropmask.h"
#include "nn/gelu.h"
#include "nn/layernorm.h"
#include "nn/vmath.h"

#include <math.h>
#include <string.h>

int bert_check_batch(const nk_bert *m, const nk_bert_run *r,
		     const nk_bert_batch *b, int need_labels)
{
	const nk_bert_config *c = &m->cfg;
	if (b->B < 1 || b->T < 1 || b->B > r->B || b->T > r->T ||
	    (int64_t)b->B * b->T > (int64_t)r->B * r->T)
		return nk_error(NK_ERANGE, "bert: a %d x %d batch in a workspace "
				"for %d x %d", b->B, b->T, r->B, r->T);
	if (b->M < 0 || b->M > r->Mmax)
		return nk_error(NK_ERANGE, "bert: %d masked positions, the "
				"workspace holds %d", b->M, r->Mmax);
	if (need_labels && b->M > 0 && !b->mlabel)
		return nk_error(NK_EINVAL, "bert: a training batch without labels");
	size_t N = (size_t)b->B * b->T;
	for (size_t n = 0; n < N; n++) {
		if (b->ids[n] >= (uint32_t)c->V)
			return nk_error(NK_ERANGE, "bert: token id %u at row %zu "
					"position %zu: the vocabulary has %d",
					b->ids[n], n / b->T, n % b->T, c->V);
		if (b->types && b->types[n] >= c->types)
			return nk_error(NK_ERANGE, "bert: token type %u at row "
					"%zu: the model has %d", b->types[n],
					n / b->T, c->types);
	}
	for (int i = 0; i < b->B; i++)
		if (b->lengths[i] < 1 || b->lengths[i] > b->T)
			return nk_error(NK_ERANGE, "bert: row %d has length %d: "
					"1 to %d allowed", i, b->lengths[i], b->T);
	for (int i = 0; i < b->M; i++) {
		int32_t pos = b->mpos[i];
		if (pos < 0 || (size_t)pos >= N ||
		    pos % b->T >= b->lengths[pos / b->T])
			return nk_error(NK_ERANGE, "bert: masked position %d "
					"(%d) is outside the rows' tokens", i,
					(int)pos);
		if (b->mlabel && b->mlabel[i] >= (uint32_t)c->V)
			return nk_error(NK_ERANGE, "bert: label %u of masked "
					"position %d: the vocabulary has %d",
					b->mlabel[i], i, c->V);
	}
	return NK_OK;
}

uint64_t bert_key(uint64_t seed, int l, int site)
{
	nk_rng rng;
	nk_rng_seed(&rng, seed, (uint64_t)(l + 1) * 4 + (uint64_t)site);
	return nk_rng_u64(&rng);
}

uint64_t bert_att_key(uint64_t seed, int l, int group)
{
	nk_rng rng;
	nk_rng_seed(&rng, seed, ((uint64_t)(l + 1) * 4 + SITE_ATT) |
				(uint64_t)group << 32);
	return nk_rng_u64(&rng);
}

void bert_drop(float *out, const float *in, size_t n, size_t first, float p,
	       uint64_t key)
{
	nk_dropmask dm = nk_dropmask_make(key, p);
	enum { CHUNK = 4096 }; /* a multiple of NK_VW */
	ptrdiff_t nc = (ptrdiff_t)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= 1 << 16)
	for (ptrdiff_t k = 0; k < nc; k++) {
		size_t i = (size_t)k * CHUNK, m = n - i < CHUNK ? n - i : CHUNK;
		nk_dropmask_apply(out + i, in + i, m, &dm, first + i);
	}
}

/* y (N,C) = res + dropout(y + bias): a projection's bias, the dropout
 * after it and the residual add in one pass (p = 0: no dropout); row0:
 * y's first row in the batch (the mask's numbering). */
static void bias_drop_add(float *y, const float *res, const float *bias,
			  int N, int C, size_t row0, float p, uint64_t key)
{
	nk_dropmask dm = nk_dropmask_make(key, p);
#pragma omp parallel for schedule(static) if ((double)N * C >= 1 << 16)
	for (int n = 0; n < N; n++) {
		float *yr = y + (size_t)n * C;
		const float *rr = res + (size_t)n * C;
		for (int c = 0; c < C; c += NK_VW) {
			int w = C - c < NK_VW ? C - c : NK_VW;
			nk_vf v = nk_vload_n(yr + c, w) + nk_vload_n(bias + c, w);
			if (p > 0)
				v *= nk_dropmask_v(&dm, (uint64_t)(row0 + n) * C + c);
			nk_vstore_n(yr + c, nk_vload_n(rr + c, w) + v, w);
		}
	}
}

/* x[0] (N,H) = dropout(layernorm(wte[ids] + wtt[types] + wpe[t])). */
void bert_embed_forward(const nk_bert *m, nk_bert_run *r,
			const nk_bert_batch *b, float p, uint64_t seed)
{
	int H = m->cfg.H, T = b->T, N = b->B * T;
#pragma omp parallel for schedule(static) if (N * H >= 1 << 16)
	for (int n = 0; n < N; n++) {
		float *e = r->emb + (size_t)n * H;
		const float *w = m->wte + (size_t)b->ids[n] * H;
		const float *tt = m->wtt + (size_t)(b->types ? b->types[n] : 0) * H;
		const float *pp = m->wpe + (size_t)(n % T) * H;
		for (int c = 0; c < H; c++)
			e[c] = (w[c] + tt[c]) + pp[c];
	}
	nk_layernorm_forward(r->x[0], r->emb_mean, r->emb_rstd, r->emb,
			     m->ln_emb_w, m->ln_emb_b, N, H, m->cfg.ln_eps);
	if (p > 0)
		bert_drop(r->x[0], r->x[0], (size_t)N * H, r->row0 * H, p,
			  bert_key(seed, -1, SITE_EMB));
}

/* x[l+1] = layer l (x[l]), keeping in a what backward needs.  The
 * projections after the attention and the FF take their bias in the pass
 * that follows them (dropout + residual, GELU). */
void bert_layer_forward(const nk_bert *m, nk_bert_run *r, int l,
			struct bert_act *a, const nk_bert_batch *b, float p,
			uint64_t seed)
{
	const nk_bert_config *c = &m->cfg;
	const nk_bert_layer *w = &m->layer[l];
	int H = c->H, FF = c->FF, N = b->B * b->T;
	const float *xin = r->x[l];
	bert_sgemm(0, 1, N, 3 * H, H, 1.0f, xin, H, w->qkv_w, H, 0.0f, a->qkv,
		   3 * H, w->qkv_b);
	nk_attention_forward(a->ctx, a->att, r->ascratch, a->qkv, b->lengths,
			     b->B, b->T, H, c->A, c->alibi, p,
			     p > 0 ? bert_att_key(seed, l, r->group) : 0);
	bert_sgemm(0, 1, N, H, H, 1.0f, a->ctx, H, w->proj_w, H, 0.0f, a->pre1,
		   H, NULL);
	bias_drop_add(a->pre1, xin, w->proj_b, N, H, r->row0, p,
		      p > 0 ? bert_key(seed, l, SITE_HID1) : 0);
	nk_layernorm_forward(a->a1, a->mean1, a->rstd1, a->pre1, w->ln1_w,
			     w->ln1_b, N, H, c->ln_eps);
	bert_sgemm(0, 1, N, FF, H, 1.0f, a->a1, H, w->ff1_w, H, 0.0f, a->ff1,
		   FF, NULL);
	nk_gelu_bias_forward(a->gel, a->ff1, w->ff1_b, N, FF, c->gelu);
	bert_sgemm(0, 1, N, H, FF, 1.0f, a->gel, FF, w->ff2_w, FF, 0.0f, a->pre2,
		   H, NULL);
	bias_drop_add(a->pre2, a->a1, w->ff2_b, N, H, r->row0, p,
		      p > 0 ? bert_key(seed, l, SITE_HID2) : 0);
	nk_layernorm_forward(r->x[l + 1], a->mean2, a->rstd2, a->pre2, w->ln2_w,
			     w->ln2_b, N, H, c->ln_eps);
}

/* logits (M,V) = layernorm(gelu(x[L][mpos] @ mlm_w^T + mlm_b)) @ wte^T;
 * mlm_bias is added by the pass that reads them next (xent, add_bias). */
void bert_head_forward(const nk_bert *m, nk_bert_run *r,
		       const nk_bert_batch *b)
{
	const nk_bert_config *c = &m->cfg;
	int H = c->H, M = b->M;
	const float *x = r->x[c->L];
	for (int i = 0; i < M; i++)
		memcpy(r->g + (size_t)i * H, x + (size_t)b->mpos[i] * H,
		       (size_t)H * sizeof *x);
	bert_sgemm(0, 1, M, H, H, 1.0f, r->g, H, m->mlm_w, H, 0.0f, r->d1, H,
		   m->mlm_b);
	nk_gelu_forward(r->d1g, r->d1, (size_t)M * H, c->gelu);
	nk_layernorm_forward(r->d2, r->hmean, r->hrstd, r->d1g, m->mlm_ln_w,
			     m->mlm_ln_b, M, H, c->ln_eps);
	bert_sgemm(0, 1, M, c->V, H, 1.0f, r->d2, H, m->wte, H, 0.0f, r->logits,
		   c->V, NULL);
}

static void add_bias(float *x, const float *bias, int M, int V)
{
#pragma omp parallel for schedule(static) if ((double)M * V >= 1 << 16)
	for (int i = 0; i < M; i++) {
		float *row = x + (size_t)i * V;
		for (int j = 0; j < V; j++)
			row[j] += bias[j];
	}
}

/* Adds bias (V) to each row of logits (M,V), then the cross-entropy of
 * each row against its label: rowloss gets logsumexp - logit[label]; top1/top5 count labels with fewer than
 * 1 / 5 strictly greater logits.  With grad, the logits are replaced by
 * scale * (softmax - onehot). */
static double xent(float *logits, const float *bias, double *rowloss,
		   const uint32_t *labels, int M, int V, float scale, int grad,
		   int *top1, int *top5)
{
	int t1 = 0, t5 = 0;
#pragma omp parallel for schedule(static) reduction(+ : t1, t5) \
	if ((double)M * V >= 1 << 16)
	for (int i = 0; i < M; i++) {
		float *x = logits + (size_t)i * V;
		float xl = x[labels[i]] + bias[labels[i]];
		nk_vf mv = nk_vsplat(-INFINITY), gt = {0};
		int j;
		for (j = 0; j + NK_VW <= V; j += NK_VW) {
			nk_vf v = nk_vload(x + j) + nk_vload(bias + j);
			nk_vstore(x + j, v);
			mv = nk_vsel(v > mv, v, mv);
			gt = nk_vsel(v > xl, gt + 1.0f, gt);
		}
		float mx = -INFINITY;
		int greater = 0;
		for (int k = 0; k < NK_VW; k++) {
			mx = mv[k] > mx ? mv[k] : mx;
			greater += (int)gt[k];
		}
		for (; j < V; j++) {
			x[j] += bias[j];
			mx = x[j] > mx ? x[j] : mx;
			greater += x[j] > xl;
		}
		t1 += greater < 1;
		t5 += greater < 5;
		nk_vf sv = {0};
		for (j = 0; j < V; j += NK_VW) {
			int w = V - j < NK_VW ? V - j : NK_VW;
			nk_vf e = nk_vexpf(nk_vload_n(x + j, w) - mx);
			for (int k = w; k < NK_VW; k++)
				e[k] = 0;
			sv += e;
			if (grad)
				nk_vstore_n(x + j, e, w);
		}
		double s = 0;
		for (int k = 0; k < NK_VW; k++)
			s += sv[k];
		rowloss[i] = log(s) + mx - xl;
		if (grad) {
			float f = (float)(scale / s);
			for (j = 0; j < V; j++)
				x[j] *= f;
			x[labels[i]] -= scale;
		}
	}
	if (top1)
		*top1 = t1;
	if (top5)
		*top5 = t5;
	double total = 0;
	for (int i = 0; i < M; i++)
		total += rowloss[i];
	return total;
}

static void forward(const nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
		    float p, uint64_t seed)
{
	bert_encoder_forward(m, r, b, p, seed);
	r->M = b->M;
	if (b->M > 0)
		bert_head_forward(m, r, b);
}

double nk_bert_train_step(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
			  uint64_t dropout_seed, int *correct)
{
	bert_zero(m->p.grads, m->p.numel);
	if (correct)
		*correct = 0;
	if (!r->train) {
		nk_error(NK_EINVAL, "bert: a training step in an evaluation "
			 "workspace");
		return NAN;
	}
	if (bert_check_batch(m, r, b, 1))
		return NAN;
	if (b->M == 0)
		return 0.0;
	float p = m->cfg.dropout;
	forward(m, r, b, p, dropout_seed);
	double loss = xent(r->logits, m->mlm_bias, r->rowloss, b->mlabel, b->M,
			   m->cfg.V, 1.0f / b->M, 1, correct, NULL) / b->M;
	bert_backward(m, r, b, p, dropout_seed);
	return loss;
}

double nk_bert_forward(const nk_bert *m, nk_bert_run *r,
		       const nk_bert_batch *b, int *top1, int *top5)
{
	if (top1)
		*top1 = 0;
	if (top5)
		*top5 = 0;
	if (bert_check_batch(m, r, b, 0))
		return NAN;
	forward(m, r, b, 0.0f, 0);
	if (b->M == 0)
		return 0.0;
	if (!b->mlabel) {
		add_bias(r->logits, m->mlm_bias, b->M, m->cfg.V);
		return 0.0;
	}
	return xent(r->logits, m->mlm_bias, r->rowloss, b->mlabel, b->M,
		    m->cfg.V, 1.0f, 0, top1, top5);
}
