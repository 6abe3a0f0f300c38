/* bert.c - the BERT model's parameters and its run workspace: checked
 * configuration, tensor table, initialization, allocation. */
#include "models/bert.h"
#include "models/bert_impl.h"
#include "core/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The per-layer tensors, matrices first (decayed), then the vectors;
 * offsetof into nk_bert_layer so one table serves data and grads. */
static const struct {
	const char *name;
	size_t off;
	int rows, cols; /* in units: 0 none, 1 H, 2 3H, 3 FF */
} layer_tensors[] = {
	{"qkv_w", offsetof(nk_bert_layer, qkv_w), 2, 1},
	{"proj_w", offsetof(nk_bert_layer, proj_w), 1, 1},
	{"ff1_w", offsetof(nk_bert_layer, ff1_w), 3, 1},
	{"ff2_w", offsetof(nk_bert_layer, ff2_w), 1, 3},
	{"qkv_b", offsetof(nk_bert_layer, qkv_b), 2, 0},
	{"proj_b", offsetof(nk_bert_layer, proj_b), 1, 0},
	{"ln1_w", offsetof(nk_bert_layer, ln1_w), 1, 0},
	{"ln1_b", offsetof(nk_bert_layer, ln1_b), 1, 0},
	{"ff1_b", offsetof(nk_bert_layer, ff1_b), 3, 0},
	{"ff2_b", offsetof(nk_bert_layer, ff2_b), 1, 0},
	{"ln2_w", offsetof(nk_bert_layer, ln2_w), 1, 0},
	{"ln2_b", offsetof(nk_bert_layer, ln2_b), 1, 0},
};
enum { LAYER_TENSORS = sizeof layer_tensors / sizeof *layer_tensors,
       LAYER_MATRICES = 4, MAX_TENSORS = 12 + LAYER_TENSORS * NK_BERT_MAX_LAYERS };

static int check_config(const nk_bert_config *c)
{
	if (c->L < 1 || c->L > NK_BERT_MAX_LAYERS)
		return nk_error(NK_ERANGE, "bert: %d layers: 1 to %d allowed",
				c->L, NK_BERT_MAX_LAYERS);
	if (c->H < 1 || c->H > 16384)
		return nk_error(NK_ERANGE, "bert: hidden size %d: 1 to 16384 "
				"allowed", c->H);
	if (c->A < 1 || c->A > c->H || c->H % c->A)
		return nk_error(NK_ERANGE, "bert: %d heads do not divide the "
				"hidden size %d", c->A, c->H);
	if (c->FF < 1 || c->FF > 65536)
		return nk_error(NK_ERANGE, "bert: feed-forward size %d: 1 to "
				"65536 allowed", c->FF);
	if (c->V < 2 || c->V > (1 << 24))
		return nk_error(NK_ERANGE, "bert: vocabulary of %d: 2 to 2^24 "
				"allowed", c->V);
	if (c->P < 1 || c->P > 65536)
		return nk_error(NK_ERANGE, "bert: %d positions: 1 to 65536 "
				"allowed", c->P);
	if (c->types < 1 || c->types > 256)
		return nk_error(NK_ERANGE, "bert: %d token types: 1 to 256 "
				"allowed", c->types);
	if (!(c->dropout >= 0 && c->dropout < 1))
		return nk_error(NK_ERANGE, "bert: dropout %g: 0 <= p < 1 "
				"allowed", c->dropout);
	if (c->gelu != NK_GELU_ERF && c->gelu != NK_GELU_TANH)
		return nk_error(NK_EINVAL, "bert: unknown GELU form %d", c->gelu);
	if (!(c->ln_eps > 0 && c->ln_eps < 1))
		return nk_error(NK_ERANGE, "bert: layer-norm epsilon %g: 0 < eps "
				"< 1 allowed", c->ln_eps);
	return NK_OK;
}

int nk_bert_init(nk_bert *m, const nk_bert_config *cfg)
{
	memset(m, 0, sizeof *m);
	int rc = check_config(cfg);
	if (rc)
		return rc;
	m->cfg = *cfg;
	int L = cfg->L;
	int64_t H = cfg->H, FF = cfg->FF, unit[4] = {0, H, 3 * H, FF};
	nk_param_spec spec[MAX_TENSORS];
	char names[LAYER_TENSORS * NK_BERT_MAX_LAYERS][32];
	nk_param_spec *s = spec;
	char (*nm)[32] = names;
	/* Decayed: embeddings, layer matrices, the head's dense. */
	*s++ = (nk_param_spec){"wte", 2, {cfg->V, H}};
	*s++ = (nk_param_spec){"wpe", 2, {cfg->P, H}};
	*s++ = (nk_param_spec){"wtt", 2, {cfg->types, H}};
	for (int pass = 0; pass < 2; pass++) {
		for (int l = 0; l < L; l++)
			for (int k = pass ? LAYER_MATRICES : 0;
			     k < (pass ? LAYER_TENSORS : LAYER_MATRICES); k++) {
				snprintf(*nm, sizeof *nm, "layer.%d.%s", l,
					 layer_tensors[k].name);
				int cols = layer_tensors[k].cols;
				*s++ = (nk_param_spec){*nm, cols ? 2 : 1,
					{unit[layer_tensors[k].rows],
					 cols ? unit[cols] : 0}};
				nm++;
			}
		if (pass == 0) {
			*s++ = (nk_param_spec){"mlm_w", 2, {H, H}};
			*s++ = (nk_param_spec){"ln_emb_w", 1, {H}};
			*s++ = (nk_param_spec){"ln_emb_b", 1, {H}};
		}
	}
	*s++ = (nk_param_spec){"mlm_b", 1, {H}};
	*s++ = (nk_param_spec){"mlm_ln_w", 1, {H}};
	*s++ = (nk_param_spec){"mlm_ln_b", 1, {H}};
	*s++ = (nk_param_spec){"mlm_bias", 1, {cfg->V}};
	if ((rc = nk_params_init(&m->p, spec, (int)(s - spec))))
		return rc;
	/* Named views, looked up by name so the table above is the one
	 * place that orders them. */
	nk_params *p = &m->p;
#define VIEW(field, name)                                                     \
	(m->field = nk_params_value(p, name), m->d##field = nk_params_grad(p, name))
	VIEW(wte, "wte");
	VIEW(wpe, "wpe");
	VIEW(wtt, "wtt");
	VIEW(ln_emb_w, "ln_emb_w");
	VIEW(ln_emb_b, "ln_emb_b");
	VIEW(mlm_w, "mlm_w");
	VIEW(mlm_b, "mlm_b");
	VIEW(mlm_ln_w, "mlm_ln_w");
	VIEW(mlm_ln_b, "mlm_ln_b");
	VIEW(mlm_bias, "mlm_bias");
#undef VIEW
	for (int l = 0; l < L; l++)
		for (int k = 0; k < LAYER_TENSORS; k++) {
			char name[32];
			snprintf(name, sizeof name, "layer.%d.%s", l,
				 layer_tensors[k].name);
			int i = nk_params_find(p, name);
			*(float **)((char *)&m->layer[l] + layer_tensors[k].off) =
				p->value[i].data;
			*(float **)((char *)&m->dlayer[l] + layer_tensors[k].off) =
				p->grad[i].data;
		}
	m->ndecay = (size_t)(m->ln_emb_w - p->data);
	return NK_OK;
}

/* Matrices and embeddings (everything before ndecay): truncated normal;
 * layer-norm weights 1; biases 0. */
void nk_bert_randomize(nk_bert *m, nk_rng *rng)
{
	nk_params *p = &m->p;
	for (int i = 0; i < p->count; i++) {
		float *d = p->value[i].data;
		size_t n = (size_t)nk_tensor_numel(&p->value[i]);
		const char *name = p->names[i];
		size_t len = strlen(name);
		if ((size_t)(d - p->data) < m->ndecay) {
			for (size_t j = 0; j < n; j++) {
				double z;
				do
					z = nk_rng_normal(rng);
				while (fabs(z) > 2.0);
				d[j] = (float)(0.02 * z);
			}
		} else {
			/* ln_emb_w, layer.l.ln1_w, ln2_w, mlm_ln_w */
			float v = strstr(name, "ln") && name[len - 1] == 'w';
			for (size_t j = 0; j < n; j++)
				d[j] = v;
		}
	}
}

void nk_bert_free(nk_bert *m)
{
	nk_params_free(&m->p);
	memset(m, 0, sizeof *m);
}

int nk_bert_n_tensors(const nk_bert *m)
{
	return m->p.count;
}

const char *nk_bert_tensor(const nk_bert *m, int i, int *ndim,
			   int64_t shape[2], float **data, float **grad)
{
	if (i < 0 || i >= m->p.count)
		return NULL;
	const nk_tensor *t = &m->p.value[i];
	if (ndim)
		*ndim = t->ndim;
	if (shape) {
		shape[0] = t->ne[0];
		shape[1] = t->ndim > 1 ? t->ne[1] : 1;
	}
	if (data)
		*data = t->data;
	if (grad)
		*grad = m->p.grad[i].data;
	return m->p.names[i];
}

/* ---- the run workspace ---------------------------------------------------- */

/* Carves 64-byte-aligned pieces out of one block: a first pass with
 * base NULL counts, the second assigns. */
struct carve {
	char *base;
	size_t used;
	int overflow;
};

static void *take(struct carve *c, size_t n, size_t elem)
{
	size_t bytes;
	if (nk_size_mul(&bytes, n, elem) ||
	    nk_size_add(&bytes, bytes, 63)) {
		c->overflow = 1;
		return NULL;
	}
	bytes &= ~(size_t)63;
	void *p = c->base ? c->base + c->used : NULL;
	if (nk_size_add(&c->used, c->used, bytes))
		c->overflow = 1;
	return p;
}

static void layout(nk_bert_run *r, const nk_bert *m, struct carve *c)
{
	const nk_bert_config *k = &m->cfg;
	size_t N = (size_t)r->B * r->T, H = k->H, FF = k->FF, M = r->Mmax;
	size_t TT = (size_t)r->T * r->T, BA = (size_t)r->B * k->A;
	r->emb = take(c, N * H, 4);
	r->emb_mean = take(c, N, 4);
	r->emb_rstd = take(c, N, 4);
	for (int l = 0; l <= k->L; l++)
		r->x[l] = take(c, N * H, 4);
	for (int l = 0; l < r->nact; l++) {
		struct bert_act *a = &r->act[l];
		a->qkv = take(c, N * 3 * H, 4);
		a->att = take(c, BA * TT, 4);
		a->ctx = take(c, N * H, 4);
		a->pre1 = take(c, N * H, 4);
		a->mean1 = take(c, N, 4);
		a->rstd1 = take(c, N, 4);
		a->a1 = take(c, N * H, 4);
		a->ff1 = take(c, N * FF, 4);
		a->gel = take(c, N * FF, 4);
		a->pre2 = take(c, N * H, 4);
		a->mean2 = take(c, N, 4);
		a->rstd2 = take(c, N, 4);
	}
	r->g = take(c, M * H, 4);
	r->d1 = take(c, M * H, 4);
	r->d1g = take(c, M * H, 4);
	r->d2 = take(c, M * H, 4);
	r->hmean = take(c, M, 4);
	r->hrstd = take(c, M, 4);
	r->logits = take(c, M * (size_t)k->V, 4);
	r->rowloss = take(c, M, 8);
	if (r->train) {
		int G = r->B < BERT_GROUPS ? r->B : BERT_GROUPS;
		for (int g = 0; g < G; g++)
			r->ggrad[g] = take(c, r->ghi - r->glo, 4);
		r->dx = take(c, N * H, 4);
		r->dy = take(c, N * H, 4);
		r->dt = take(c, N * H, 4);
		r->dqkv = take(c, N * 3 * H, 4);
		r->dff = take(c, N * FF, 4);
		r->ascratch = take(c, BA * TT, 4);
		r->dg = take(c, M * H, 4);
		r->dh = take(c, M * H, 4);
	}
}

/* The span of p.grads that a group keeps its own copy of: every layer's
 * tensors and the embeddings' layer norm (the head's dense matrix, which
 * lies between them, comes along unused). */
static int group_grads(nk_bert_run *r, const nk_bert *m)
{
	size_t lo = SIZE_MAX, hi = 0;
	for (int i = 0; i < m->p.count; i++) {
		const char *name = m->p.names[i];
		if (strncmp(name, "layer.", 6) && strncmp(name, "ln_emb_", 7))
			continue;
		size_t at = (size_t)((float *)m->p.grad[i].data - m->p.grads);
		size_t end = at + (size_t)nk_tensor_numel(&m->p.grad[i]);
		lo = at < lo ? at : lo;
		hi = end > hi ? end : hi;
	}
	r->glo = lo, r->ghi = hi;
	r->gdl = nk_calloc((size_t)BERT_GROUPS * m->cfg.L, sizeof *r->gdl);
	return r->gdl ? NK_OK : NK_ENOMEM;
}

/* Each group's layer gradients: the model's views moved to its copy. */
static void group_views(nk_bert_run *r, const nk_bert *m)
{
	for (int g = 0; g < BERT_GROUPS && r->ggrad[g]; g++)
		for (int l = 0; l < m->cfg.L; l++)
			for (int k = 0; k < LAYER_TENSORS; k++) {
				size_t off = layer_tensors[k].off;
				const float *d = *(float *const *)((const char *)
					&m->dlayer[l] + off);
				*(float **)((char *)&r->gdl[g * m->cfg.L + l] + off) =
					r->ggrad[g] + (d - m->p.grads - r->glo);
			}
}

int nk_bert_run_max_masked(const nk_bert_run *r)
{
	return r->Mmax;
}

nk_bert_run *nk_bert_run_new(const nk_bert *m, int B, int T, int Mmax,
			     int checkpoint, int train)
{
	if (B < 1 || T < 1 || T > m->cfg.P || (int64_t)B * T > (1 << 24)) {
		nk_error(NK_ERANGE, "bert: batch %d x %d: rows of 1 to %d "
			 "positions, 2^24 positions in all allowed", B, T,
			 m->cfg.P);
		return NULL;
	}
	if (Mmax < 0 || (int64_t)Mmax > (int64_t)B * T) {
		nk_error(NK_ERANGE, "bert: %d masked positions in a %d x %d "
			 "batch", Mmax, B, T);
		return NULL;
	}
	nk_bert_run *r = nk_calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->B = B, r->T = T, r->Mmax = Mmax;
	r->checkpoint = checkpoint && train;
	r->train = train;
	r->nact = train && !checkpoint ? m->cfg.L : 1;
	if (train && group_grads(r, m)) {
		free(r);
		return NULL;
	}
	struct carve c = {0};
	layout(r, m, &c);
	if (c.overflow) {
		free(r->gdl);
		free(r);
		nk_error(NK_ENOMEM, "bert: a %d x %d batch's workspace does not "
			 "fit in memory", B, T);
		return NULL;
	}
	if (!(r->block = nk_malloc_aligned(c.used ? c.used : 64))) {
		free(r->gdl);
		free(r);
		return NULL;
	}
	r->bytes = c.used;
	c = (struct carve){.base = r->block};
	layout(r, m, &c);
	if (train)
		group_views(r, m);
	return r;
}

void nk_bert_run_free(nk_bert_run *r)
{
	if (!r)
		return;
	nk_free_aligned(r->block);
	free(r->gdl);
	free(r);
}

size_t nk_bert_run_bytes(const nk_bert_run *r)
{
	return r->bytes;
}

const float *nk_bert_run_logits(const nk_bert_run *r)
{
	return r->logits;
}
