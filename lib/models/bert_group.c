/* bert_group.c - the encoder run group by group (see BERT_GROUPS in
 * bert_impl.h): each group of whole sequences goes through the
 * embeddings and every layer on one thread, forward and backward, in
 * views of the run's buffers offset to its rows; its weights' gradients
 * go to its own copy, added to the model's in group order. */
#include "models/bert_impl.h"
#include "core/base.h"

#include <string.h>

int bert_groups(const nk_bert_batch *b)
{
	return b->B < BERT_GROUPS ? b->B : BERT_GROUPS;
}

/* p + n, where p may be NULL (a buffer the run does not have). */
static float *at(float *p, size_t n)
{
	return p ? p + n : NULL;
}

void bert_group_view(const nk_bert *m, const nk_bert_run *r,
		     const nk_bert_batch *b, int g, nk_bert_run *v,
		     nk_bert_batch *vb)
{
	int G = bert_groups(b), T = b->T, L = m->cfg.L;
	int b0 = b->B / G * g + (g < b->B % G ? g : b->B % G);
	int nb = b->B / G + (g < b->B % G);
	size_t n0 = (size_t)b0 * T, H = (size_t)m->cfg.H, FF = (size_t)m->cfg.FF;
	size_t att = (size_t)b0 * m->cfg.A * T * T;
	*v = *r;
	v->row0 = n0;
	v->group = g;
	v->emb = at(r->emb, n0 * H);
	v->emb_mean = at(r->emb_mean, n0);
	v->emb_rstd = at(r->emb_rstd, n0);
	for (int l = 0; l <= L; l++)
		v->x[l] = at(r->x[l], n0 * H);
	for (int l = 0; l < r->nact; l++) {
		const struct bert_act *a = &r->act[l];
		struct bert_act *w = &v->act[l];
		w->qkv = at(a->qkv, n0 * 3 * H);
		w->att = at(a->att, att);
		w->ctx = at(a->ctx, n0 * H);
		w->pre1 = at(a->pre1, n0 * H);
		w->mean1 = at(a->mean1, n0);
		w->rstd1 = at(a->rstd1, n0);
		w->a1 = at(a->a1, n0 * H);
		w->ff1 = at(a->ff1, n0 * FF);
		w->gel = at(a->gel, n0 * FF);
		w->pre2 = at(a->pre2, n0 * H);
		w->mean2 = at(a->mean2, n0);
		w->rstd2 = at(a->rstd2, n0);
	}
	v->dx = at(r->dx, n0 * H);
	v->dy = at(r->dy, n0 * H);
	v->dt = at(r->dt, n0 * H);
	v->dqkv = at(r->dqkv, n0 * 3 * H);
	v->dff = at(r->dff, n0 * FF);
	v->ascratch = at(r->ascratch, att);
	if (r->ggrad[g]) {
		float *base = r->ggrad[g] - r->glo;
		v->dlayer = r->gdl + (size_t)g * L;
		v->dln_emb_w = base + (m->dln_emb_w - m->p.grads);
		v->dln_emb_b = base + (m->dln_emb_b - m->p.grads);
	}
	*vb = (nk_bert_batch){.B = nb, .T = T, .ids = b->ids + n0,
			      .types = b->types ? b->types + n0 : NULL,
			      .lengths = b->lengths + b0};
}

void bert_encoder_forward(const nk_bert *m, nk_bert_run *r,
			  const nk_bert_batch *b, float p, uint64_t seed)
{
	int G = bert_groups(b);
	/* Dynamic: the two cores of a small machine often run at unequal
	 * speeds, and a faster one takes more groups. */
#pragma omp parallel for schedule(dynamic, 1) if (G > 1)
	for (int g = 0; g < G; g++) {
		nk_bert_run v;
		nk_bert_batch vb;
		bert_group_view(m, r, b, g, &v, &vb);
		bert_embed_forward(m, &v, &vb, p, seed);
		for (int l = 0; l < m->cfg.L; l++)
			bert_layer_forward(m, &v, l, &v.act[v.nact > 1 ? l : 0],
					   &vb, p, seed);
	}
}

void bert_encoder_backward(nk_bert *m, nk_bert_run *r, const nk_bert_batch *b,
			   float p, uint64_t seed)
{
	int G = bert_groups(b), L = m->cfg.L;
	size_t span = r->ghi - r->glo;
#pragma omp parallel for schedule(dynamic, 1) if (G > 1)
	for (int g = 0; g < G; g++) {
		nk_bert_run v;
		nk_bert_batch vb;
		bert_group_view(m, r, b, g, &v, &vb);
		memset(r->ggrad[g], 0, span * sizeof(float));
		float *dcur = v.dx, *dnext = v.dy;
		for (int l = L - 1; l >= 0; l--) {
			const struct bert_act *a = &v.act[v.nact > 1 ? l : 0];
			/* Checkpointing: the last layer's activations are
			 * still in the one set; the others are recomputed
			 * from x[l], with the same dropout streams, into it. */
			if (v.nact == 1 && l != L - 1)
				bert_layer_forward(m, &v, l, &v.act[0], &vb, p,
						   seed);
			bert_layer_backward(m, &v, l, a, &vb, dcur, dnext, p,
					    seed);
			float *t = dcur;
			dcur = dnext;
			dnext = t;
		}
		bert_embed_ln_backward(m, &v, &vb, dcur, p, seed);
	}
	/* The groups' gradients, added in group order whatever thread
	 * computed them. */
	float *dst = m->p.grads + r->glo;
	enum { CHUNK = 4096 };
	ptrdiff_t nc = (ptrdiff_t)((span + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (span >= 1 << 16)
	for (ptrdiff_t k = 0; k < nc; k++) {
		size_t i0 = (size_t)k * CHUNK;
		size_t i1 = span - i0 < CHUNK ? span : i0 + CHUNK;
		for (int g = 0; g < G; g++) {
			const float *src = r->ggrad[g];
			for (size_t i = i0; i < i1; i++)
				dst[i] += src[i];
		}
	}
	bert_embed_scatter(m, r, b);
}
