/* darknet_train.c - the training state of a darknet network: the
 * trainable block and its gradients, the activations backward needs, and
 * moving parameters between the block and the net's file order.  The
 * forward and backward passes are in darknet_train_step.c. */
#include "models/darknet_train.h"
#include "core/base.h"
#include "core/rng.h"
#include "nn/conv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int has_params(const nk_dn_layer *l)
{
	return (l->type == NK_DN_CONV || l->type == NK_DN_CONNECTED) &&
	       l->nparams;
}

/* The product is kept apart from the output when backward needs it:
 * batch norm's input, or an activation's whose derivative is not a
 * function of its output. */
static int needs_pre(const nk_dn_layer *l)
{
	if (has_params(l))
		return l->bn || nk_act_backward_needs_input(l->act);
	return l->type == NK_DN_SHORTCUT && nk_act_backward_needs_input(l->act);
}

static int is_head(nk_dn_type t)
{
	return t == NK_DN_SOFTMAX || t == NK_DN_COST || t == NK_DN_YOLO ||
	       t == NK_DN_REGION || t == NK_DN_DETECTION;
}

/* Layers whose backward reads neither their input nor its copy. */
static int backward_inputless(nk_dn_type t)
{
	return t != NK_DN_CONV && t != NK_DN_CONNECTED;
}

/* Who reads whom: every layer its predecessor but a route, which reads
 * its list; a shortcut also its `from`.  Then which outputs may die
 * young (a convolution whose product is kept as pre anyway, read only by
 * layers whose backward does not look at it: recomputing its output
 * from pre in backward is one pointwise pass, keeping it the largest
 * buffer of the network) and which gradients are the layer's own. */
static void readers(nk_dn_train *t)
{
	nk_darknet *net = t->net;
	int n = net->n;
	for (int i = 0; i < n; i++)
		t->tl[i].last = -1, t->tl[i].keep = 0;
	for (int j = 0; j < n; j++) {
		const nk_dn_layer *l = &net->l[j];
		if (l->type == NK_DN_ROUTE) {
			for (int k = 0; k < l->nlayers; k++)
				t->tl[l->layers[k]].last = j;
		} else if (j > 0) {
			t->tl[j - 1].last = j;
		}
		if (l->type == NK_DN_SHORTCUT)
			t->tl[l->from].last = j;
		if (!backward_inputless(l->type) && j > 0)
			t->tl[j - 1].keep = 2; /* this reader needs it */
	}
	for (int i = 0; i < n; i++) {
		const nk_dn_layer *l = &net->l[i];
		nk_dn_tlayer *tl = &t->tl[i];
		tl->own = is_head(l->type) || tl->last < 0;
		tl->keep = tl->own || tl->keep || !has_params(l) ||
			   !needs_pre(l);
	}
}

/* Lays out items that live from time t0 to t1 (inclusive) in buffers
 * shared by items not alive at once: the smallest free buffer that fits,
 * else the largest, grown (darknet_forward.c's rule).  need in floats,
 * 0 for items not in the pool; off and *total in floats. */
static int pool_layout(int n, const size_t *need, const int *t0,
		       const int *t1, size_t *off, size_t *total)
{
	size_t *cap = nk_calloc((size_t)n + 1, sizeof *cap);
	int *until = nk_calloc((size_t)n + 1, sizeof *until),
	    *buf = nk_calloc((size_t)n + 1, sizeof *buf), nb = 0, tmax = -1;
	if (!cap || !until || !buf) {
		free(cap), free(until), free(buf);
		return NK_ENOMEM;
	}
	for (int i = 0; i < n; i++)
		if (need[i] && t1[i] > tmax)
			tmax = t1[i];
	for (int T = 0; T <= tmax; T++)
		for (int i = 0; i < n; i++) {
			if (!need[i] || t0[i] != T)
				continue;
			int pick = -1;
			for (int k = 0; k < nb; k++) {
				if (until[k] >= T)
					continue;
				if (pick < 0 ||
				    (cap[k] >= need[i] && (cap[pick] < need[i] ||
							   cap[k] < cap[pick])) ||
				    (cap[pick] < need[i] && cap[k] > cap[pick]))
					pick = k;
			}
			if (pick < 0)
				pick = nb++;
			if (cap[pick] < need[i])
				cap[pick] = need[i];
			until[pick] = t1[i];
			buf[i] = pick;
		}
	size_t at = 0;
	for (int k = 0; k < nb; k++) {
		size_t c = cap[k];
		cap[k] = at;
		at += c;
	}
	for (int i = 0; i < n; i++)
		off[i] = need[i] ? cap[buf[i]] : 0;
	*total = at;
	free(cap), free(until), free(buf);
	return NK_OK;
}

/* Floats rounded up to a cache line, so each buffer starts aligned. */
static size_t line(size_t floats)
{
	return (floats + 15) & ~(size_t)15;
}

/* Walks the layers' own buffers: with base NULL only counts the floats
 * (int32 and float are both 4 bytes). */
static size_t place(nk_dn_train *t, float *base)
{
	nk_darknet *net = t->net;
	size_t at = 0, B = (size_t)t->B;
#define TAKE(ptr, count, type)                                                \
	do {                                                                  \
		if (base)                                                     \
			(ptr) = (type *)(void *)(base + at);                  \
		at += line(count);                                            \
	} while (0)
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		nk_dn_tlayer *tl = &t->tl[i];
		size_t n = l->outputs * B;
		if (tl->keep)
			TAKE(tl->out, n, float);
		if (tl->own)
			TAKE(tl->dout, n, float);
		if (needs_pre(l))
			TAKE(tl->pre, n, float);
		if (has_params(l) && l->bn) {
			TAKE(tl->mean, (size_t)l->filters, float);
			TAKE(tl->invstd, (size_t)l->filters, float);
		}
		if (l->type == NK_DN_MAXPOOL)
			TAKE(tl->argmax, n, int32_t);
		if (l->type == NK_DN_DROPOUT)
			TAKE(tl->mask, n, float);
	}
#undef TAKE
	return at;
}

/* The whole block: the layers' own buffers, then the pool of young
 * outputs (forward time: layer index), then the pool of shared
 * gradients (backward time: a gradient is written first by its last
 * reader's backward and read last by its own layer's). */
static int lay_out(nk_dn_train *t)
{
	nk_darknet *net = t->net;
	int n = net->n, rc = NK_ENOMEM;
	size_t *need = nk_calloc((size_t)n, sizeof *need),
	       *ooff = nk_calloc((size_t)n, sizeof *ooff),
	       *doff = nk_calloc((size_t)n, sizeof *doff), onum = 0, dnum = 0;
	int *t0 = nk_calloc((size_t)n, sizeof *t0),
	    *t1 = nk_calloc((size_t)n, sizeof *t1);
	if (!need || !ooff || !doff || !t0 || !t1)
		goto out;
	readers(t);
	for (int i = 0; i < n; i++) {
		const nk_dn_tlayer *tl = &t->tl[i];
		need[i] = tl->keep ? 0 : line(net->l[i].outputs * (size_t)t->B);
		t0[i] = i, t1[i] = tl->last;
	}
	if ((rc = pool_layout(n, need, t0, t1, ooff, &onum)))
		goto out;
	for (int i = 0; i < n; i++) {
		const nk_dn_tlayer *tl = &t->tl[i];
		need[i] = tl->own ? 0 : line(net->l[i].outputs * (size_t)t->B);
		t0[i] = n - 1 - tl->last, t1[i] = n - 1 - i;
	}
	if ((rc = pool_layout(n, need, t0, t1, doff, &dnum)))
		goto out;
	size_t own = place(t, NULL), total = own + onum + dnum;
	rc = NK_ENOMEM;
	if (!(t->block = nk_malloc_aligned((total ? total : 1) * sizeof(float))))
		goto out;
	float *base = t->block;
	place(t, base);
	for (int i = 0; i < n; i++) {
		nk_dn_tlayer *tl = &t->tl[i];
		if (!tl->keep)
			tl->out = base + own + ooff[i];
		if (!tl->own)
			tl->dout = base + own + onum + doff[i];
	}
	t->act_bytes = total * sizeof(float);
	rc = NK_OK;
out:
	free(need), free(ooff), free(doff), free(t0), free(t1);
	return rc;
}

static nk_conv2d_shape conv_shape(const nk_dn_layer *l)
{
	return (nk_conv2d_shape){l->c, l->h, l->w, l->filters, l->size,
				 l->stride, l->pad, l->groups};
}

/* Points the layers into the block: weights first (decayed), then
 * biases and scales. */
static void point(nk_dn_train *t)
{
	nk_darknet *net = t->net;
	size_t wat = 0, bat = t->ndecay;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		nk_dn_tlayer *tl = &t->tl[i];
		if (!has_params(l))
			continue;
		tl->w = t->params + wat, tl->gw = t->grads + wat;
		wat += l->nweight;
		tl->b = t->params + bat, tl->gb = t->grads + bat;
		bat += (size_t)l->filters;
		if (l->bn) {
			tl->s = t->params + bat, tl->gs = t->grads + bat;
			bat += (size_t)l->filters;
		}
	}
}

int nk_dn_train_init(nk_dn_train *t, nk_darknet *net, int B)
{
	memset(t, 0, sizeof *t);
	if (B < 1)
		return nk_error(NK_EINVAL, "darknet train: batch %d", B);
	if (!net->params || net->params_dropped)
		return nk_error(NK_EINVAL, "darknet train: the network holds no "
				"parameters (loaded for inference only)");
	t->net = net;
	t->B = B;
	t->momentum = .1f;
	t->eps = 1e-5f;
	size_t work = 1, maxout = 1, maxf = 1;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		if (l->bn && (size_t)l->filters > maxf)
			maxf = (size_t)l->filters;
		if (has_params(l)) {
			t->ndecay += l->nweight;
			t->n += l->nweight + (size_t)l->filters * (l->bn ? 2 : 1);
		}
		if (l->type == NK_DN_CONV) {
			nk_conv2d_shape s = conv_shape(l);
			size_t wf = nk_conv2d_work_floats(&s);
			if (wf > work)
				work = wf;
		}
		size_t o;
		if (nk_size_mul(&o, l->outputs, (size_t)B))
			return NK_ENOMEM;
		if (o > maxout)
			maxout = o;
	}
	int rc = NK_ENOMEM;
	t->tl = nk_calloc((size_t)net->n, sizeof *t->tl);
	t->params = nk_calloc(t->n ? t->n : 1, sizeof *t->params);
	t->grads = nk_calloc(t->n ? t->n : 1, sizeof *t->grads);
	t->work = nk_malloc_aligned(work * sizeof *t->work);
	t->s1 = nk_malloc_aligned(maxout * sizeof *t->s1);
	t->s2 = nk_malloc_aligned(maxout * sizeof *t->s2);
	t->bnwork = nk_malloc((3 * maxf + 1) * sizeof *t->bnwork);
	if (!t->tl || !t->params || !t->grads || !t->work || !t->s1 || !t->s2 ||
	    !t->bnwork)
		goto fail;
	if ((rc = lay_out(t)))
		goto fail;
	rc = NK_ENOMEM;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		if (l->type != NK_DN_DROPOUT)
			continue;
		/* The builder reads probability without keeping it. */
		if ((rc = nk_dncfg_float(&net->cfg, i + 1, "probability", .5f,
					 &t->tl[i].prob)))
			goto fail;
	}
	point(t);
	nk_dn_train_pull(t);
	return NK_OK;
fail:
	nk_dn_train_free(t);
	return rc;
}

void nk_dn_train_free(nk_dn_train *t)
{
	free(t->tl);
	free(t->params);
	free(t->grads);
	nk_free_aligned(t->work);
	nk_free_aligned(t->s1);
	nk_free_aligned(t->s2);
	free(t->bnwork);
	nk_free_aligned(t->block);
	memset(t, 0, sizeof *t);
}

void nk_dn_train_randomize(nk_dn_train *t, uint64_t seed)
{
	nk_darknet *net = t->net;
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		nk_dn_tlayer *tl = &t->tl[i];
		if (!has_params(l))
			continue;
		size_t fan = l->type == NK_DN_CONV ?
			     (size_t)(l->c / l->groups) * l->size * l->size :
			     l->inputs;
		float sd = sqrtf(2.f / (float)fan);
		for (size_t k = 0; k < l->nweight; k++)
			tl->w[k] = sd * (float)nk_rng_normal(&r);
		for (int k = 0; k < l->filters; k++) {
			tl->b[k] = 0;
			if (l->bn)
				tl->s[k] = 1, l->bn_mean[k] = 0, l->bn_var[k] = 1;
		}
	}
	net->folded = 0;
}

void nk_dn_train_pull(nk_dn_train *t)
{
	nk_darknet *net = t->net;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		nk_dn_tlayer *tl = &t->tl[i];
		if (!has_params(l))
			continue;
		size_t F = (size_t)l->filters;
		memcpy(tl->w, l->weight, l->nweight * sizeof(float));
		memcpy(tl->b, l->bias, F * sizeof(float));
		if (l->bn)
			memcpy(tl->s, l->bn_scale, F * sizeof(float));
	}
}

void nk_dn_train_push(nk_dn_train *t)
{
	nk_darknet *net = t->net;
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		const nk_dn_tlayer *tl = &t->tl[i];
		if (!has_params(l))
			continue;
		size_t F = (size_t)l->filters;
		memcpy(l->weight, tl->w, l->nweight * sizeof(float));
		memcpy(l->bias, tl->b, F * sizeof(float));
		if (l->bn)
			memcpy(l->bn_scale, tl->s, F * sizeof(float));
	}
	net->folded = 0;
}

float *nk_dn_train_out(nk_dn_train *t, int i)
{
	if (i < 0 || i >= t->net->n || !t->fwdB || !t->tl[i].keep)
		return NULL;
	return t->tl[i].out;
}

float *nk_dn_train_dout(nk_dn_train *t, int i)
{
	if (i < 0 || i >= t->net->n || !t->fwdB || !t->tl[i].own)
		return NULL;
	nk_dn_tlayer *tl = &t->tl[i];
	if (!tl->given) {
		memset(tl->dout, 0, t->net->l[i].outputs * (size_t)t->fwdB *
		       sizeof(float));
		tl->given = 1;
	}
	return tl->dout;
}
