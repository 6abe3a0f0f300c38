/* darknet_train_step.c - a darknet network's training forward and its
 * backward, layer by layer through lib/nn/ (conv, batchnorm, pool,
 * activation, dropout); what is particular to darknet (shortcuts between
 * sizes, the heads' activations) follows darknet_forward.c. */
#include "models/darknet_train.h"
#include "models/darknet_build.h"
#include "core/base.h"
#include "core/rng.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/pool.h"

#include <float.h>
#include <math.h>
#include <string.h>

static nk_conv2d_shape conv_shape(const nk_dn_layer *l)
{
	return (nk_conv2d_shape){l->c, l->h, l->w, l->filters, l->size,
				 l->stride, l->pad, l->groups};
}

/* darknet pads a maxpool by padding/2 before, the rest after. */
static nk_pool_shape pool_shape(const nk_dn_layer *l)
{
	return (nk_pool_shape){l->c, l->h, l->w, l->out_h, l->out_w, l->size,
			       l->stride, l->pad / 2};
}

/* Max of a window of up to 2x2 at (y, x), the first maximum in row order
 * winning ties as nk_maxpool_forward's; cells past the edge skipped. */
static inline void max2(float *y, int32_t *am, const float *p, int W, int H,
			int r, int c)
{
	const float *q = p + (size_t)r * W + c;
	float m = q[0];
	int32_t k = r * W + c;
	int right = c + 1 < W, down = r + 1 < H;
	if (right && q[1] > m)
		m = q[1], k = r * W + c + 1;
	if (down && q[W] > m)
		m = q[W], k = (r + 1) * W + c;
	if (right && down && q[W + 1] > m)
		m = q[W + 1], k = (r + 1) * W + c + 1;
	*y = m;
	*am = k;
}

/* A row of size 2 stride 2 windows, all inside, from input row r: as
 * max2, the first maximum in row order winning ties. */
static void pool2_row(float *y, int32_t *am, const float *p, int W, int r,
		      int OW)
{
	const float *q0 = p + (size_t)r * W, *q1 = q0 + W;
	int32_t k0 = r * W, k1 = k0 + W;
#pragma omp simd
	for (int ox = 0; ox < OW; ox++) {
		float a = q0[2 * ox], b = q0[2 * ox + 1];
		float c = q1[2 * ox], d = q1[2 * ox + 1];
		int32_t ka = k0 + 2 * ox, kc = k1 + 2 * ox;
		float m1 = b > a ? b : a, m2 = d > c ? d : c;
		int32_t i1 = b > a ? ka + 1 : ka, i2 = d > c ? kc + 1 : kc;
		y[ox] = m2 > m1 ? m2 : m1;
		am[ox] = m2 > m1 ? i2 : i1;
	}
}

/* darknet's two maxpools, size 2 stride 2 and size 2 stride 1, with the
 * winners for backward: the same results as nk_maxpool_forward, whose
 * general window loop took a tenth of a tiny-yolo training step. */
static int maxpool2(float *out, int32_t *argmax, const float *in, int B,
		    const nk_pool_shape *s)
{
	int H = s->H, W = s->W, OH = s->OH, OW = s->OW, st = s->stride;
	if (s->K != 2 || s->pad != 0 || (st != 1 && st != 2) ||
	    (st == 2 && (2 * OH > H || 2 * OW > W)) ||
	    (st == 1 && (OH != H || OW != W)))
		return 0;
	int planes = B * s->C;
#pragma omp parallel for schedule(static) if ((size_t)planes * OH * OW >= (1 << 15))
	for (int pl = 0; pl < planes; pl++) {
		const float *x = in + (size_t)pl * H * W;
		float *y = out + (size_t)pl * OH * OW;
		int32_t *am = argmax + (size_t)pl * OH * OW;
		if (st == 2) {
			/* Every window inside (2 OH <= H, 2 OW <= W): no
			 * edge tests, and a loop the compiler vectorises. */
			for (int oy = 0; oy < OH; oy++)
				pool2_row(y + oy * OW, am + oy * OW, x, W,
					  2 * oy, OW);
			continue;
		}
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++)
				max2(y + oy * OW + ox, am + oy * OW + ox, x, W, H,
				     oy * st, ox * st);
	}
	return 1;
}


/* darknet's shortcut_cpu index pairs: `fn` gets (o, a) for each element
 * o of the layer's output and a of layer `from`'s that meet. */
#define SHORTCUT_EACH(l, f, B, BODY)                                          \
	do {                                                                  \
		int w1 = (f)->out_w, h1 = (f)->out_h, c1 = (f)->out_c;        \
		int w2 = (l)->out_w, h2 = (l)->out_h, c2 = (l)->out_c;        \
		int st = w1 / w2 > 1 ? w1 / w2 : 1;                           \
		int sa = w2 / w1 > 1 ? w2 / w1 : 1;                           \
		int mw = w1 < w2 ? w1 : w2, mh = h1 < h2 ? h1 : h2,           \
		    mc = c1 < c2 ? c1 : c2;                                   \
		for (int b_ = 0; b_ < (B); b_++)                              \
			for (int k_ = 0; k_ < mc; k_++)                       \
				for (int j_ = 0; j_ < mh; j_++)               \
					for (int i_ = 0; i_ < mw; i_++) {     \
						size_t o = (size_t)i_ * sa +  \
							   (size_t)w2 * (j_ * sa + \
							   (size_t)h2 * (k_ + (size_t)c2 * b_)); \
						size_t a = (size_t)i_ * st +  \
							   (size_t)w1 * (j_ * st + \
							   (size_t)h1 * (k_ + (size_t)c1 * b_)); \
						BODY;                         \
					}                                     \
	} while (0)

/* Inference batch norm as darknet's CPU code and the folded weights of
 * nk_darknet_forward have it: divided by sqrt(var) + 1e-6. */
static void bn_eval(float *out, const float *x, const nk_dn_layer *l,
		    const float *scale, const float *bias, int B, size_t HW)
{
	size_t F = (size_t)l->filters;
	for (int b = 0; b < B; b++)
		for (size_t f = 0; f < F; f++) {
			float k = scale[f] / (sqrtf(l->bn_var[f]) + .000001f);
			float c = bias[f] - l->bn_mean[f] * k;
			const float *p = x + (b * F + f) * HW;
			float *q = out + (b * F + f) * HW;
			for (size_t i = 0; i < HW; i++)
				q[i] = p[i] * k + c;
		}
}

/* The slope of the activation that batch norm's passes can apply
 * themselves (nn/batchnorm.h's leaky functions): leaky's, 1 for none,
 * -1 for the others, which take passes of their own. */
static float bn_slope(const nk_dn_layer *l)
{
	if (l->act == NK_ACT_LEAKY)
		return .1f;
	return l->act == NK_ACT_LINEAR ? 1.0f : -1.0f;
}

/* Returns NK_OK, or the error of a batch norm's sum over the ranks. */
static int forward_layer(nk_dn_train *t, int i, const float *in, int B,
			 uint64_t seed, int train)
{
	nk_darknet *net = t->net;
	nk_dn_layer *l = &net->l[i];
	nk_dn_tlayer *tl = &t->tl[i];
	size_t n = l->outputs * (size_t)B;
	float *out = tl->out;
	switch (l->type) {
	case NK_DN_CONV:
	case NK_DN_CONNECTED: {
		float *dst = tl->pre ? tl->pre : out;
		const float *bias = l->bn ? NULL : tl->b;
		size_t HW = (size_t)l->out_h * l->out_w;
		if (l->type == NK_DN_CONV) {
			nk_conv2d_shape s = conv_shape(l);
			nk_conv2d_forward(dst, in, tl->w, bias, B, &s, t->work);
		} else {
			nk_linear_forward(dst, in, tl->w, bias, B,
					  (int)l->inputs, l->filters);
		}
		/* Leaky (or none) goes into batch norm's last pass. */
		float slope = bn_slope(l);
		int fused = l->bn && train && slope >= 0;
		if (l->bn && train && t->sync) {
			int rc = nk_batchnorm_leaky_forward_sync(
				out, tl->mean, tl->invstd, dst, tl->s, tl->b,
				l->bn_mean, l->bn_var, t->momentum, t->eps,
				fused ? slope : 1.0f, B, l->filters, (int)HW,
				t->bnwork);
			if (rc)
				return rc;
		} else if (l->bn && train)
			nk_batchnorm_leaky_forward_train(
				out, tl->mean, tl->invstd, dst, tl->s, tl->b,
				l->bn_mean, l->bn_var, t->momentum, t->eps,
				fused ? slope : 1.0f, B, l->filters, (int)HW);
		else if (l->bn)
			bn_eval(out, dst, l, tl->s, tl->b, B, HW);
		else if (tl->pre)
			memcpy(out, dst, n * sizeof *out);
		if (!fused)
			nk_act_forward(out, n, l->act);
		break;
	}
	case NK_DN_MAXPOOL: {
		nk_pool_shape s = pool_shape(l);
		if (!maxpool2(out, tl->argmax, in, B, &s))
			nk_maxpool_forward(out, tl->argmax, in, B, &s);
		break;
	}
	case NK_DN_AVGPOOL:
		nk_global_avgpool_forward(out, in, B, l->c, l->h * l->w);
		break;
	case NK_DN_ROUTE: {
		size_t off = 0;
		for (int k = 0; k < l->nlayers; k++) {
			const nk_dn_layer *f = &net->l[l->layers[k]];
			const float *src = t->tl[l->layers[k]].out;
			for (int b = 0; b < B; b++)
				memcpy(out + b * l->outputs + off,
				       src + b * f->outputs,
				       f->outputs * sizeof(float));
			off += f->outputs;
		}
		break;
	}
	case NK_DN_SHORTCUT: {
		const nk_dn_layer *f = &net->l[l->from];
		const float *add = t->tl[l->from].out;
		float *dst = tl->pre ? tl->pre : out, s1 = l->alpha, s2 = l->beta;
		memcpy(dst, in, n * sizeof *dst);
		SHORTCUT_EACH(l, f, B, dst[o] = s1 * dst[o] + s2 * add[a]);
		if (tl->pre)
			memcpy(out, dst, n * sizeof *out);
		nk_act_forward(out, n, l->act);
		break;
	}
	case NK_DN_UPSAMPLE:
		nk_upsample_forward(out, in, B, l->c, l->h, l->w, l->stride);
		if (l->scale != 1)
			for (size_t k = 0; k < n; k++)
				out[k] *= l->scale;
		break;
	case NK_DN_REORG:
		nk_reorg_forward(out, in, B, l->c, l->h, l->w, l->stride);
		break;
	case NK_DN_DROPOUT:
		if (train) {
			/* A stream per layer: masks do not depend on which
			 * other layers draw. */
			nk_rng r;
			nk_rng_seed(&r, seed, (uint64_t)i + 1);
			nk_dropout_forward(out, tl->mask, in, tl->prob, n, &r);
		} else {
			memcpy(out, in, n * sizeof *out);
		}
		break;
	case NK_DN_SOFTMAX:
	case NK_DN_DETECTION:
	case NK_DN_YOLO:
	case NK_DN_REGION:
	case NK_DN_GRID:      /* raw: the loss activates what it reads */
	case NK_DN_CENTERNET:
	case NK_DN_COST:
	case NK_DN_TYPE_COUNT:
		memcpy(out, in, n * sizeof *out);
		nk_dn_head_forward(l, out, B);
		break;
	}
	return NK_OK;
}

static int run_forward(nk_dn_train *t, const float *in, int B, uint64_t seed,
		       int train)
{
	if (B < 1 || B > t->B)
		return nk_error(NK_EINVAL, "darknet train: batch %d (1..%d)", B,
				t->B);
	nk_darknet *net = t->net;
	for (int i = 0; i < net->n; i++) {
		t->tl[i].given = 0;
		int rc = forward_layer(t, i, in, B, seed, train);
		if (rc)
			return rc;
		in = t->tl[i].out;
		/* Running statistics moved: the folded weights are stale. */
		if (train && net->l[i].bn)
			net->folded = 0;
	}
	t->fwdB = B;
	t->train = train;
	return NK_OK;
}

int nk_dn_train_forward(nk_dn_train *t, const float *in, int B,
			uint64_t seed)
{
	return run_forward(t, in, B, seed, 1);
}

int nk_dn_train_eval(nk_dn_train *t, const float *in, int B)
{
	return run_forward(t, in, B, 0, 0);
}

static void add(float *dst, const float *src, size_t n)
{
	for (size_t k = 0; k < n; k++)
		dst[k] += src[k];
}

/* dout through the layer's activation: dy itself when linear, else s1;
 * x is the activation's input, y its output. */
static const float *through_act(nk_dn_train *t, const nk_dn_layer *l,
				const float *dy, const float *x, const float *y,
				size_t n)
{
	if (l->act == NK_ACT_LINEAR)
		return dy;
	if (l->act == NK_ACT_LEAKY) {
		/* The common case written, not zeroed and added to: one
		 * pass less over the largest buffers. */
		float *d = t->s1;
#pragma omp parallel for schedule(static) if (n >= (1 << 18))
		for (size_t i = 0; i < n; i++)
			d[i] = y[i] > 0 ? dy[i] : .1f * dy[i];
		return d;
	}
	memset(t->s1, 0, n * sizeof *t->s1);
	nk_act_backward(t->s1, dy, nk_act_backward_needs_input(l->act) ? x : y,
			n, l->act);
	return t->s1;
}

/* The product's backward, from the gradient dz of its output. */
static void conv_backward(nk_dn_train *t, const nk_dn_layer *l,
			  nk_dn_tlayer *tl, float *din, const float *dz,
			  const float *in, float *gb, int B)
{
	if (l->type == NK_DN_CONV) {
		nk_conv2d_shape s = conv_shape(l);
		nk_conv2d_backward(din, tl->gw, gb, dz, in, tl->w, B, &s,
				   t->work);
	} else {
		nk_linear_backward(din, tl->gw, gb, dz, in, tl->w, B,
				   (int)l->inputs, l->filters);
	}
}

static int backward_layer(nk_dn_train *t, int i, const float *in, int B)
{
	nk_darknet *net = t->net;
	const nk_dn_layer *l = &net->l[i];
	nk_dn_tlayer *tl = &t->tl[i];
	size_t n = l->outputs * (size_t)B;
	const float *dy = tl->dout;
	float *din = i > 0 ? t->tl[i - 1].dout : NULL;
	switch (l->type) {
	case NK_DN_CONV:
	case NK_DN_CONNECTED: {
		size_t HW = (size_t)l->out_h * l->out_w;
		const float *x = tl->pre, *y = tl->out;
		int need_x = nk_act_backward_needs_input(l->act);
		float slope = bn_slope(l);
		if (l->bn && slope >= 0) {
			/* The activation's gradient inside batch norm's
			 * backward, which writes s2: no z, no s1, no
			 * zeroing. */
			int rc = NK_OK;
			if (t->sync)
				rc = nk_batchnorm_leaky_backward_sync(
					t->s2, tl->gs, tl->gb, dy, tl->pre,
					tl->mean, tl->invstd, tl->s, tl->b,
					slope, B, l->filters, (int)HW,
					t->bnwork);
			else
				nk_batchnorm_leaky_backward(
					t->s2, tl->gs, tl->gb, dy, tl->pre,
					tl->mean, tl->invstd, tl->s, tl->b,
					slope, B, l->filters, (int)HW);
			if (rc)
				return rc;
			conv_backward(t, l, tl, din, t->s2, in, NULL, B);
			break;
		}
		if (l->bn && l->act != NK_ACT_LINEAR &&
		    (need_x || !tl->keep)) {
			/* The activation's input, again from the product. */
			float *z = t->s2;
			size_t F = (size_t)l->filters;
			for (int b = 0; b < B; b++)
				for (size_t f = 0; f < F; f++) {
					const float *p = tl->pre + (b * F + f) * HW;
					float *q = z + (b * F + f) * HW;
					float k = tl->s[f] * tl->invstd[f],
					      c = tl->b[f] - tl->mean[f] * k;
					for (size_t j = 0; j < HW; j++)
						q[j] = p[j] * k + c;
				}
			x = z;
			/* An output not kept: again from its input. */
			if (!tl->keep && !need_x) {
				nk_act_forward(z, n, l->act);
				y = z;
			}
		}
		const float *dz = through_act(t, l, dy, x, y, n);
		if (l->bn) {
			memset(t->s2, 0, n * sizeof *t->s2);
			if (t->sync) {
				int rc = nk_batchnorm_backward_sync(
					t->s2, tl->gs, tl->gb, dz, tl->pre,
					tl->mean, tl->invstd, tl->s, B,
					l->filters, (int)HW, t->bnwork);
				if (rc)
					return rc;
			} else {
				nk_batchnorm_backward(t->s2, tl->gs, tl->gb, dz,
						      tl->pre, tl->mean,
						      tl->invstd, tl->s, B,
						      l->filters, (int)HW);
			}
			dz = t->s2;
		}
		conv_backward(t, l, tl, din, dz, in, l->bn ? NULL : tl->gb, B);
		break;
	}
	case NK_DN_MAXPOOL: {
		nk_pool_shape s = pool_shape(l);
		if (din)
			nk_maxpool_backward(din, dy, tl->argmax, B, &s);
		break;
	}
	case NK_DN_AVGPOOL:
		if (din)
			nk_global_avgpool_backward(din, dy, B, l->c, l->h * l->w);
		break;
	case NK_DN_ROUTE: {
		size_t off = 0;
		for (int k = 0; k < l->nlayers; k++) {
			const nk_dn_layer *f = &net->l[l->layers[k]];
			float *d = t->tl[l->layers[k]].dout;
			for (int b = 0; b < B; b++)
				add(d + b * f->outputs, dy + b * l->outputs + off,
				    f->outputs);
			off += f->outputs;
		}
		break;
	}
	case NK_DN_SHORTCUT: {
		const nk_dn_layer *f = &net->l[l->from];
		float *dadd = t->tl[l->from].dout;
		const float *dp = through_act(t, l, dy, tl->pre, tl->out, n);
		float s1 = l->alpha - 1, s2 = l->beta;
		/* Outside the overlap the input passes unscaled. */
		if (din)
			add(din, dp, n);
		SHORTCUT_EACH(l, f, B, {
			if (din)
				din[o] += s1 * dp[o];
			dadd[a] += s2 * dp[o];
		});
		break;
	}
	case NK_DN_UPSAMPLE:
		if (!din)
			break;
		if (l->scale != 1) {
			for (size_t k = 0; k < n; k++)
				t->s1[k] = dy[k] * l->scale;
			dy = t->s1;
		}
		nk_upsample_backward(din, dy, B, l->c, l->h, l->w, l->stride);
		break;
	case NK_DN_REORG:
		if (din)
			nk_reorg_backward(din, dy, B, l->c, l->h, l->w, l->stride);
		break;
	case NK_DN_DROPOUT:
		if (din)
			nk_dropout_backward(din, dy, tl->mask, n);
		break;
	default: /* heads: the caller's gradient is the input's */
		if (din)
			add(din, dy, n);
		break;
	}
	return NK_OK;
}

int nk_dn_train_backward(nk_dn_train *t, const float *in, int B)
{
	nk_darknet *net = t->net;
	if (!t->fwdB || !t->train)
		return nk_error(NK_EINVAL, "darknet train: backward without a "
				"training forward");
	if (B != t->fwdB)
		return nk_error(NK_EINVAL, "darknet train: backward of %d images "
				"after a forward of %d", B, t->fwdB);
	/* A gradient starts at zero: the layer's own when not given, a
	 * shared one just before its last reader's backward adds into it. */
	for (int i = 0; i < net->n; i++)
		if (t->tl[i].own && !t->tl[i].given)
			memset(t->tl[i].dout, 0, net->l[i].outputs * (size_t)B *
			       sizeof(float));
	for (int j = net->n - 1; j >= 0; j--) {
		for (int i = 0; i < j; i++)
			if (!t->tl[i].own && t->tl[i].last == j)
				memset(t->tl[i].dout, 0, net->l[i].outputs *
				       (size_t)B * sizeof(float));
		int rc = backward_layer(t, j, j ? t->tl[j - 1].out : in, B);
		if (rc)
			return rc;
	}
	return NK_OK;
}
