/* test_conv.c - the convolutional layers (conv.h, batchnorm.h, pool.h,
 * activation.h): forwards against naive direct loops written here, every
 * backward against central finite differences, backward adding (twice
 * gives double), batch norm folded into a convolution, and darknet's
 * reorg against its reorg_cpu transcribed.
 *
 *   test_conv               the unit tests
 *   test_conv torch FILE    writes inputs, weights and this library's
 *                           outputs and gradients to FILE (.nkw) for
 *                           tests/t_conv_torch.sh to check against PyTorch
 *   test_conv bench         GFLOPS of the conv forward on yolov3-tiny's
 *                           shapes (not part of make test)
 */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>

#include "check.h"
#include "core/base.h"
#include "core/rng.h"
#include "formats/wfile.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"
#include "nn/pool.h"

static nk_rng rng;

static float *rnd(size_t n, float scale)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (nk_rng_float(&rng) * 2 - 1) * scale;
	return p;
}

static float *zeros(size_t n)
{
	return calloc(n ? n : 1, sizeof(float));
}

static float *dup(const float *x, size_t n)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	memcpy(p, x, n * sizeof *p);
	return p;
}

static double dot(const float *a, const float *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static double max_rel(const float *got, const float *want, size_t n)
{
	double worst = 0, scale = 0;
	for (size_t i = 0; i < n; i++)
		if (fabs(want[i]) > scale)
			scale = fabs(want[i]);
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)got[i] - want[i]) / (1 + scale);
		if (e > worst || isnan(e))
			worst = isnan(e) ? INFINITY : e;
	}
	return worst;
}

/* Central differences of loss() in each element of x against the
 * analytic gradient g.  loss() sums float outputs times random weights
 * in double; eps 1e-2 keeps float rounding well below the tolerance, and
 * the check is "double": a numeric slope computed at two step sizes must
 * agree with the analytic one at both, so a kink hit by one step (relu,
 * max) does not pass or fail by luck. */
typedef double (*loss_fn)(void *ctx);
static int fd_check(const char *what, loss_fn loss, void *ctx, float *x,
		    const float *g, size_t n)
{
	const float steps[2] = {1e-2f, 5e-3f};
	int bad = 0;
	for (size_t i = 0; i < n && !bad; i++) {
		float keep = x[i];
		for (int s = 0; s < 2 && !bad; s++) {
			float eps = steps[s];
			x[i] = keep + eps;
			double lp = loss(ctx);
			x[i] = keep - eps;
			double lm = loss(ctx);
			x[i] = keep;
			/* the step actually taken, after float rounding */
			double h = (double)(keep + eps) - (double)(keep - eps);
			double num = (lp - lm) / h;
			double err = fabs(num - g[i]);
			if (err > 1e-3 + 1e-2 * fabs(num)) {
				printf("    %s[%zu]: analytic %.6g, numeric %.6g "
				       "(step %g)\n", what, i, g[i], num, eps);
				bad = 1;
			}
		}
	}
	CHECK_MSG(!bad, "%s: gradient differs from finite differences", what);
	return !bad;
}

/* 2 * once against twice, a second backward added onto the first. */
static int doubled(const float *once, const float *twice, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fabsf(2 * once[i] - twice[i]) > 1e-5f * (1 + fabsf(twice[i])))
			return 0;
	return 1;
}

/* ---- conv2d ----------------------------------------------------------- */

typedef struct {
	nk_conv2d_shape s;
	int B;
	float *in, *w, *bias, *out, *R, *work;
	size_t nin, nw, nout;
} conv_ctx;

static void conv_init(conv_ctx *c, nk_conv2d_shape s, int B, int with_bias)
{
	memset(c, 0, sizeof *c);
	c->s = s, c->B = B;
	c->nin = (size_t)B * s.C * s.H * s.W;
	c->nw = (size_t)s.OC * (s.C / s.groups) * s.K * s.K;
	c->nout = (size_t)B * s.OC * nk_conv2d_out_h(&s) * nk_conv2d_out_w(&s);
	c->in = rnd(c->nin, 1), c->w = rnd(c->nw, 1);
	c->bias = with_bias ? rnd(s.OC, 1) : NULL;
	c->out = zeros(c->nout), c->R = rnd(c->nout, 1);
	c->work = zeros(nk_conv2d_work_floats(&s));
}

static void conv_free(conv_ctx *c)
{
	free(c->in), free(c->w), free(c->bias), free(c->out), free(c->R);
	free(c->work);
}

/* The definition, one output element at a time, summed in double. */
static void conv_naive(float *out, const float *in, const float *w,
		       const float *bias, int B, const nk_conv2d_shape *s)
{
	int OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s);
	int Cg = s->C / s->groups, OCg = s->OC / s->groups, K = s->K;
	for (int b = 0; b < B; b++)
		for (int oc = 0; oc < s->OC; oc++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					double sum = bias ? bias[oc] : 0;
					int g = oc / OCg;
					for (int ci = 0; ci < Cg; ci++)
						for (int ki = 0; ki < K; ki++)
							for (int kj = 0; kj < K; kj++) {
								int y = oy * s->stride - s->pad + ki;
								int x = ox * s->stride - s->pad + kj;
								if (y < 0 || y >= s->H || x < 0 || x >= s->W)
									continue;
								int c = g * Cg + ci;
								sum += (double)in[((size_t)(b * s->C + c) * s->H + y) * s->W + x] *
								       w[(((size_t)oc * Cg + ci) * K + ki) * K + kj];
							}
					out[(((size_t)b * s->OC + oc) * OH + oy) * OW + ox] = (float)sum;
				}
}

static double conv_loss(void *ctx)
{
	conv_ctx *c = ctx;
	nk_conv2d_forward(c->out, c->in, c->w, c->bias, c->B, &c->s, c->work);
	return dot(c->out, c->R, c->nout);
}

/* C, H, W, OC, K, stride, pad, groups, and B: K 1/2/3/5, stride 1/2,
 * pad 0/1/2, groups 1/2/depthwise (with and without a channel
 * multiplier), B 1/3, odd and non-square sides. */
static const struct {
	nk_conv2d_shape s;
	int B;
} conv_shapes[] = {
	{{3, 7, 6, 4, 3, 1, 1, 1}, 1},
	{{4, 9, 8, 6, 3, 2, 1, 2}, 3},
	{{2, 5, 5, 3, 1, 1, 0, 1}, 3},  /* pointwise: no im2col */
	{{4, 6, 7, 4, 3, 1, 1, 4}, 2},  /* depthwise */
	{{4, 5, 7, 8, 5, 1, 2, 4}, 1},  /* depthwise, multiplier 2 */
	{{3, 11, 9, 5, 5, 2, 2, 1}, 1},
	{{6, 8, 7, 4, 1, 2, 0, 2}, 2},  /* 1x1 stride 2 */
	{{2, 4, 4, 2, 3, 1, 0, 1}, 3},
	{{3, 6, 5, 2, 2, 2, 1, 1}, 1},  /* even K */
	{{2, 3, 3, 3, 5, 2, 2, 1}, 2},  /* padding wider than the input */
	{{5, 13, 13, 7, 3, 1, 2, 1}, 1},
};
#define NSHAPES (int)(sizeof conv_shapes / sizeof conv_shapes[0])

TEST(conv_check_shapes)
{
	for (int i = 0; i < NSHAPES; i++)
		CHECK(nk_conv2d_check(&conv_shapes[i].s) == NK_OK);
	nk_conv2d_shape bad[] = {
		{4, 5, 5, 6, 3, 1, 1, 4}, /* OC not a multiple of groups */
		{3, 5, 5, 4, 3, 1, 1, 2}, /* C not a multiple */
		{3, 2, 5, 4, 5, 1, 1, 1}, /* kernel taller than padded input */
		{3, 5, 5, 4, 3, 0, 1, 1}, /* stride 0 */
		{3, 5, 5, 4, 3, 1, -1, 1},
		{0, 5, 5, 4, 3, 1, 1, 1},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(nk_conv2d_check(&bad[i]) == NK_EINVAL);
		CHECK(strstr(nk_last_error(), "conv2d") != NULL);
	}
}

TEST(conv_forward_naive)
{
	for (int i = 0; i < NSHAPES; i++)
		for (int with_bias = 0; with_bias < 2; with_bias++) {
			conv_ctx c;
			conv_init(&c, conv_shapes[i].s, conv_shapes[i].B, with_bias);
			float *want = zeros(c.nout);
			/* NaN in out must not survive: forward overwrites. */
			for (size_t j = 0; j < c.nout; j++)
				c.out[j] = NAN;
			nk_conv2d_forward(c.out, c.in, c.w, c.bias, c.B, &c.s, c.work);
			conv_naive(want, c.in, c.w, c.bias, c.B, &c.s);
			double e = max_rel(c.out, want, c.nout);
			CHECK_MSG(e < 1e-5, "shape %d bias %d: %.3g from naive", i,
				  with_bias, e);
			free(want);
			conv_free(&c);
		}
}

TEST(conv_gradients)
{
	for (int i = 0; i < NSHAPES; i++) {
		conv_ctx c;
		conv_init(&c, conv_shapes[i].s, conv_shapes[i].B, 1);
		float *din = zeros(c.nin), *dw = zeros(c.nw), *db = zeros(c.s.OC);
		nk_conv2d_backward(din, dw, db, c.R, c.in, c.w, c.B, &c.s, c.work);
		char what[64];
		snprintf(what, sizeof what, "shape %d din", i);
		fd_check(what, conv_loss, &c, c.in, din, c.nin);
		snprintf(what, sizeof what, "shape %d dw", i);
		fd_check(what, conv_loss, &c, c.w, dw, c.nw);
		snprintf(what, sizeof what, "shape %d dbias", i);
		fd_check(what, conv_loss, &c, c.bias, db, c.s.OC);
		/* A second call adds; NULL gradients are skipped. */
		float *din2 = dup(din, c.nin), *dw2 = dup(dw, c.nw);
		float *db2 = dup(db, c.s.OC);
		nk_conv2d_backward(din2, dw2, db2, c.R, c.in, c.w, c.B, &c.s, c.work);
		CHECK(doubled(din, din2, c.nin));
		CHECK(doubled(dw, dw2, c.nw));
		CHECK(doubled(db, db2, c.s.OC));
		nk_conv2d_backward(NULL, dw, NULL, c.R, c.in, c.w, c.B, &c.s, c.work);
		CHECK(memcmp(dw, dw2, c.nw * sizeof *dw) == 0);
		nk_conv2d_backward(din, NULL, NULL, c.R, c.in, c.w, c.B, &c.s, c.work);
		CHECK(memcmp(din, din2, c.nin * sizeof *din) == 0);
		free(din), free(dw), free(db), free(din2), free(dw2), free(db2);
		conv_free(&c);
	}
}

/* Threads change nothing: the same bits on one thread as on several.
 * The shapes are big enough for the forward's bands of rows (and, for the
 * second, several cache-sized chunks per band), checked against the
 * direct loop too. */
TEST(conv_threads_same_bits)
{
	static const struct {
		nk_conv2d_shape s;
		int B;
	} big[] = {
		{{16, 40, 40, 32, 3, 1, 1, 1}, 2},
		{{64, 48, 48, 8, 3, 1, 1, 2}, 2},
		{{8, 64, 63, 16, 1, 1, 0, 1}, 2},
		{{6, 90, 91, 4, 5, 2, 2, 1}, 1},
	};
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
		const nk_conv2d_shape *s = &big[i].s;
		conv_ctx c;
		conv_init(&c, *s, big[i].B, 1);
		float *out1 = zeros(c.nout), *din1 = zeros(c.nin);
		float *dw1 = zeros(c.nw), *din2 = zeros(c.nin), *dw2 = zeros(c.nw);
		float *want = zeros(c.nout);
		int nt = omp_get_max_threads();
		omp_set_num_threads(1);
		nk_conv2d_forward(out1, c.in, c.w, c.bias, c.B, s, c.work);
		nk_conv2d_backward(din1, dw1, NULL, c.R, c.in, c.w, c.B, s, c.work);
		omp_set_num_threads(nt > 1 ? nt : 2);
		nk_conv2d_forward(c.out, c.in, c.w, c.bias, c.B, s, c.work);
		nk_conv2d_backward(din2, dw2, NULL, c.R, c.in, c.w, c.B, s, c.work);
		omp_set_num_threads(nt);
		conv_naive(want, c.in, c.w, c.bias, c.B, s);
		double e = max_rel(c.out, want, c.nout);
		CHECK_MSG(e < 1e-5, "shape %zu: %.3g from naive", i, e);
#ifndef NK_USE_OPENBLAS /* OpenBLAS's bits depend on the sizes */
		CHECK(memcmp(out1, c.out, c.nout * sizeof(float)) == 0);
		CHECK(memcmp(din1, din2, c.nin * sizeof(float)) == 0);
		CHECK(memcmp(dw1, dw2, c.nw * sizeof(float)) == 0);
#endif
		free(out1), free(din1), free(dw1), free(din2), free(dw2);
		free(want);
		conv_free(&c);
	}
}

/* ---- batch norm ------------------------------------------------------- */

typedef struct {
	int B, C, HW;
	float *in, *scale, *bias, *out, *mean, *invstd, *R;
} bn_ctx;

static void bn_init(bn_ctx *c, int B, int C, int HW)
{
	c->B = B, c->C = C, c->HW = HW;
	size_t n = (size_t)B * C * HW;
	c->in = rnd(n, 2), c->scale = rnd(C, 1.5f), c->bias = rnd(C, 1);
	/* A channel far from zero mean: the variance must not cancel. */
	for (size_t i = 0; i < (size_t)HW; i++)
		c->in[i + HW] += 100;
	c->out = zeros(n), c->mean = zeros(C), c->invstd = zeros(C);
	c->R = rnd(n, 1);
}

static void bn_free(bn_ctx *c)
{
	free(c->in), free(c->scale), free(c->bias), free(c->out);
	free(c->mean), free(c->invstd), free(c->R);
}

static double bn_loss(void *ctx)
{
	bn_ctx *c = ctx;
	nk_batchnorm_forward_train(c->out, c->mean, c->invstd, c->in, c->scale,
				   c->bias, NULL, NULL, 0.1f, 1e-5f, c->B, c->C,
				   c->HW);
	return dot(c->out, c->R, (size_t)c->B * c->C * c->HW);
}

TEST(batchnorm_train_forward)
{
	bn_ctx c;
	bn_init(&c, 3, 4, 10);
	int B = c.B, C = c.C, HW = c.HW;
	float rm[4] = {0.5f, -1, 2, 0}, rv[4] = {1, 2, 0.5f, 3};
	float rm0[4], rv0[4];
	memcpy(rm0, rm, sizeof rm), memcpy(rv0, rv, sizeof rv);
	nk_batchnorm_forward_train(c.out, c.mean, c.invstd, c.in, c.scale,
				   c.bias, rm, rv, 0.1f, 1e-5f, B, C, HW);
	for (int ch = 0; ch < C; ch++) {
		double m = 0, v = 0;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++)
				m += c.in[(b * C + ch) * HW + i];
		m /= B * HW;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				double d = c.in[(b * C + ch) * HW + i] - m;
				v += d * d;
			}
		double var = v / (B * HW), is = 1 / sqrt(var + 1e-5);
		CHECK(fabs(c.mean[ch] - m) < 1e-5 * (1 + fabs(m)));
		CHECK(fabs(c.invstd[ch] - is) < 1e-5 * is);
		CHECK(fabs(rm[ch] - (0.9 * rm0[ch] + 0.1 * m)) < 1e-5 * (1 + fabs(m)));
		CHECK(fabs(rv[ch] - (0.9 * rv0[ch] + 0.1 * v / (B * HW - 1))) < 1e-5);
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				int k = (b * C + ch) * HW + i;
				double y = c.scale[ch] * (c.in[k] - m) * is + c.bias[ch];
				CHECK_MSG(fabs(c.out[k] - y) < 1e-4, "out[%d] %g, want %g",
					  k, c.out[k], y);
			}
	}
	bn_free(&c);
}

TEST(batchnorm_gradients)
{
	static const int shapes[][3] = {{2, 3, 5}, {3, 2, 7}, {1, 3, 9}};
	for (int i = 0; i < 3; i++) {
		bn_ctx c;
		bn_init(&c, shapes[i][0], shapes[i][1], shapes[i][2]);
		size_t n = (size_t)c.B * c.C * c.HW;
		float *din = zeros(n), *ds = zeros(c.C), *db = zeros(c.C);
		bn_loss(&c);
		nk_batchnorm_backward(din, ds, db, c.R, c.in, c.mean, c.invstd,
				      c.scale, c.B, c.C, c.HW);
		fd_check("bn din", bn_loss, &c, c.in, din, n);
		fd_check("bn dscale", bn_loss, &c, c.scale, ds, c.C);
		fd_check("bn dbias", bn_loss, &c, c.bias, db, c.C);
		float *din2 = dup(din, n), *ds2 = dup(ds, c.C);
		nk_batchnorm_backward(din2, ds2, NULL, c.R, c.in, c.mean,
				      c.invstd, c.scale, c.B, c.C, c.HW);
		CHECK(doubled(din, din2, n));
		CHECK(doubled(ds, ds2, c.C));
		free(din), free(ds), free(db), free(din2), free(ds2);
		bn_free(&c);
	}
}

/* Inference batch norm after a convolution equals the convolution with
 * the batch norm folded into its weights and bias, with and without a
 * conv bias; and infer is the formula. */
TEST(batchnorm_infer_and_fold)
{
	nk_conv2d_shape s = {4, 7, 6, 6, 3, 2, 1, 2};
	int B = 2, OC = s.OC, P = nk_conv2d_out_h(&s) * nk_conv2d_out_w(&s);
	for (int with_bias = 0; with_bias < 2; with_bias++) {
		conv_ctx c;
		conv_init(&c, s, B, with_bias);
		float *scale = rnd(OC, 2), *bnb = rnd(OC, 1), *rm = rnd(OC, 1);
		float *rv = rnd(OC, 1), *bn_out = zeros(c.nout);
		for (int i = 0; i < OC; i++)
			rv[i] = rv[i] * rv[i] + 0.1f;
		nk_conv2d_forward(c.out, c.in, c.w, c.bias, B, &s, c.work);
		nk_batchnorm_forward_infer(bn_out, c.out, scale, bnb, rm, rv, 1e-5f,
					   B, OC, P);
		for (int b = 0; b < B; b++)
			for (int oc = 0; oc < OC; oc++)
				for (int p = 0; p < P; p++) {
					size_t k = ((size_t)b * OC + oc) * P + p;
					double y = scale[oc] * (c.out[k] - rm[oc]) /
						   sqrt(rv[oc] + 1e-5) + bnb[oc];
					CHECK(fabs(bn_out[k] - y) < 1e-5 * (1 + fabs(y)));
				}
		float *fb = c.bias ? dup(c.bias, OC) : zeros(OC);
		nk_batchnorm_fold(c.w, fb, scale, bnb, rm, rv, 1e-5f, OC,
				  c.nw / OC);
		float *folded = zeros(c.nout);
		nk_conv2d_forward(folded, c.in, c.w, fb, B, &s, c.work);
		double e = max_rel(folded, bn_out, c.nout);
		CHECK_MSG(e < 1e-5, "bias %d: folded differs by %.3g", with_bias, e);
		free(scale), free(bnb), free(rm), free(rv), free(bn_out);
		free(fb), free(folded);
		conv_free(&c);
	}
}

/* ---- pooling ---------------------------------------------------------- */

typedef struct {
	nk_pool_shape s;
	int B, avg;
	float *in, *out, *R;
	int32_t *am;
	size_t nin, nout;
} pool_ctx;

/* Inputs a shuffled ramp 0.1 apart: a finite-difference step (<= 1e-2)
 * never changes which cell wins a max. */
static void pool_init(pool_ctx *c, nk_pool_shape s, int B, int avg)
{
	c->s = s, c->B = B, c->avg = avg;
	c->nin = (size_t)B * s.C * s.H * s.W;
	c->nout = (size_t)B * s.C * s.OH * s.OW;
	c->in = zeros(c->nin), c->out = zeros(c->nout), c->R = rnd(c->nout, 1);
	c->am = calloc(c->nout, sizeof *c->am);
	for (size_t i = 0; i < c->nin; i++)
		c->in[i] = (float)i * 0.1f - (float)c->nin * 0.05f;
	for (size_t i = c->nin; i > 1; i--) {
		size_t j = nk_rng_below(&rng, (uint32_t)i);
		float t = c->in[i - 1];
		c->in[i - 1] = c->in[j], c->in[j] = t;
	}
}

static void pool_free(pool_ctx *c)
{
	free(c->in), free(c->out), free(c->R), free(c->am);
}

static double pool_loss(void *ctx)
{
	pool_ctx *c = ctx;
	if (c->avg)
		nk_avgpool_forward(c->out, c->in, c->B, &c->s);
	else
		nk_maxpool_forward(c->out, c->am, c->in, c->B, &c->s);
	return dot(c->out, c->R, c->nout);
}

/* The window by its definition: every cell of the padded grid, those
 * outside the input left out. */
static void pool_naive(float *out, const float *in, int B, const nk_pool_shape *s,
		       int avg)
{
	for (int pl = 0; pl < B * s->C; pl++)
		for (int oy = 0; oy < s->OH; oy++)
			for (int ox = 0; ox < s->OW; ox++) {
				double m = -INFINITY, sum = 0;
				int n = 0;
				for (int ki = 0; ki < s->K; ki++)
					for (int kj = 0; kj < s->K; kj++) {
						int y = oy * s->stride - s->pad + ki;
						int x = ox * s->stride - s->pad + kj;
						if (y < 0 || x < 0 || y >= s->H || x >= s->W)
							continue;
						double v = in[((size_t)pl * s->H + y) * s->W + x];
						m = v > m ? v : m;
						sum += v, n++;
					}
				out[((size_t)pl * s->OH + oy) * s->OW + ox] =
					(float)(avg ? sum / n : m);
			}
}

/* C, H, W, OH, OW, K, stride, pad: darknet's size=2 stride=1 (output
 * H x W, the last window hanging over the right and bottom edges), its
 * size=2 stride=2 on an odd side, and PyTorch's 3/2/1 and 5/1/2
 * (spp). */
static const nk_pool_shape pool_shapes[] = {
	{3, 7, 7, 7, 7, 2, 1, 0},
	{2, 7, 5, 4, 3, 2, 2, 0},
	{2, 9, 8, 5, 4, 3, 2, 1},
	{2, 6, 7, 6, 7, 5, 1, 2},
	{1, 4, 4, 2, 2, 2, 2, 0},
};

TEST(pool_forward_and_gradients)
{
	for (int avg = 0; avg < 2; avg++)
		for (size_t i = 0; i < sizeof pool_shapes / sizeof pool_shapes[0]; i++) {
			pool_ctx c;
			pool_init(&c, pool_shapes[i], i % 2 ? 3 : 1, avg);
			float *want = zeros(c.nout), *din = zeros(c.nin);
			pool_loss(&c);
			pool_naive(want, c.in, c.B, &c.s, avg);
			double e = max_rel(c.out, want, c.nout);
			CHECK_MSG(e < 1e-6, "%s shape %zu: %.3g from naive",
				  avg ? "avg" : "max", i, e);
			if (avg)
				nk_avgpool_backward(din, c.R, c.B, &c.s);
			else
				nk_maxpool_backward(din, c.R, c.am, c.B, &c.s);
			fd_check(avg ? "avgpool din" : "maxpool din", pool_loss,
				 &c, c.in, din, c.nin);
			float *din2 = dup(din, c.nin);
			if (avg)
				nk_avgpool_backward(din2, c.R, c.B, &c.s);
			else
				nk_maxpool_backward(din2, c.R, c.am, c.B, &c.s);
			CHECK(doubled(din, din2, c.nin));
			free(want), free(din), free(din2);
			pool_free(&c);
		}
}

/* darknet's maxpool size=2 stride=1 keeps the side: the last column's
 * window is its one cell and the one past the edge, skipped. */
TEST(maxpool_darknet_edge)
{
	nk_pool_shape s = {1, 2, 3, 2, 3, 2, 1, 0};
	float in[6] = {1, 5, 2, 7, 3, 9}, out[6];
	int32_t am[6];
	nk_maxpool_forward(out, am, in, 1, &s);
	float want[6] = {7, 9, 9, 7, 9, 9};
	int32_t want_am[6] = {3, 5, 5, 3, 5, 5};
	CHECK(memcmp(out, want, sizeof out) == 0);
	CHECK(memcmp(am, want_am, sizeof am) == 0);
}

/* Without argmax (inference) max pooling reduces a window's rows first;
 * it must give the values of the cell-by-cell pass with argmax, on
 * darknet's shapes (2/2, 2/1 keeping the side, SPP's 5/9/13 stride 1
 * with padding, 3/2 with an odd side) and on negative inputs. */
TEST(maxpool_inference_path)
{
	static const int shapes[][6] = { /* H, W, K, stride, pad, OH/OW rule */
		{8, 8, 2, 2, 0, 0}, {7, 9, 2, 2, 0, 0}, {5, 6, 2, 1, 0, 1},
		{13, 13, 5, 1, 2, 1}, {13, 13, 9, 1, 4, 1}, {13, 11, 13, 1, 6, 1},
		{9, 7, 3, 2, 1, 0}, {4, 4, 3, 3, 1, 0},
	};
	unsigned st = 99;
	for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
		const int *t = shapes[k];
		int B = 2, C = 3, H = t[0], W = t[1], K = t[2], S = t[3], P = t[4];
		int OH = t[5] ? H : (H + 2 * P - K) / S + 1;
		int OW = t[5] ? W : (W + 2 * P - K) / S + 1;
		nk_pool_shape s = {C, H, W, OH, OW, K, S, P};
		size_t n = (size_t)B * C * H * W, m = (size_t)B * C * OH * OW;
		float *in = malloc(n * sizeof *in), *a = malloc(m * sizeof *a),
		      *b = malloc(m * sizeof *b);
		int32_t *am = malloc(m * sizeof *am);
		for (size_t i = 0; i < n; i++) {
			st = st * 1103515245u + 12345u;
			in[i] = (float)((int)(st >> 16) % 2001 - 1500) / 100.f;
		}
		nk_maxpool_forward(a, am, in, B, &s);
		nk_maxpool_forward(b, NULL, in, B, &s);
		CHECK(memcmp(a, b, m * sizeof *a) == 0);
		free(in);
		free(a);
		free(b);
		free(am);
	}
}

typedef struct {
	int B, C, H, W, f, kind; /* 0 global avg, 1 upsample, 2 reorg */
	float *in, *out, *R;
	size_t nin, nout;
} move_ctx;

static double move_loss(void *ctx)
{
	move_ctx *c = ctx;
	if (c->kind == 0)
		nk_global_avgpool_forward(c->out, c->in, c->B, c->C, c->H * c->W);
	else if (c->kind == 1)
		nk_upsample_forward(c->out, c->in, c->B, c->C, c->H, c->W, c->f);
	else
		nk_reorg_forward(c->out, c->in, c->B, c->C, c->H, c->W, c->f);
	return dot(c->out, c->R, c->nout);
}

/* darknet's reorg_cpu (src/blas.c), transcribed; forward_reorg_layer
 * calls it with the input's w, h, c and forward = 0. */
static void darknet_reorg_cpu(float *x, int w, int h, int c, int batch,
			      int stride, int forward, float *out)
{
	int b, i, j, k;
	int out_c = c / (stride * stride);
	for (b = 0; b < batch; ++b)
		for (k = 0; k < c; ++k)
			for (j = 0; j < h; ++j)
				for (i = 0; i < w; ++i) {
					int in_index = i + w * (j + h * (k + c * b));
					int c2 = k % out_c;
					int offset = k / out_c;
					int w2 = i * stride + offset % stride;
					int h2 = j * stride + offset / stride;
					int out_index = w2 + w * stride * (h2 + h * stride * (c2 + out_c * b));
					if (forward)
						out[out_index] = x[in_index];
					else
						out[in_index] = x[out_index];
				}
}

TEST(resample_forward_and_gradients)
{
	static const int shapes[][6] = {
		/* B, C, H, W, f, kind */
		{2, 3, 5, 4, 1, 0}, {1, 2, 1, 1, 1, 0},
		{2, 3, 3, 5, 2, 1}, {1, 2, 2, 3, 3, 1},
		{2, 8, 4, 6, 2, 2}, {1, 18, 6, 3, 3, 2}, {3, 4, 2, 2, 2, 2},
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		move_ctx c = {shapes[i][0], shapes[i][1], shapes[i][2],
			      shapes[i][3], shapes[i][4], shapes[i][5],
			      NULL, NULL, NULL, 0, 0};
		c.nin = (size_t)c.B * c.C * c.H * c.W;
		c.nout = c.kind == 0 ? (size_t)c.B * c.C
			 : c.kind == 1 ? c.nin * c.f * c.f : c.nin;
		c.in = rnd(c.nin, 1), c.out = zeros(c.nout), c.R = rnd(c.nout, 1);
		float *want = zeros(c.nout), *din = zeros(c.nin);
		move_loss(&c);
		for (int b = 0; b < c.B; b++)
			for (int ch = 0; ch < c.C; ch++) {
				const float *x = c.in + ((size_t)b * c.C + ch) * c.H * c.W;
				if (c.kind == 0) {
					double sum = 0;
					for (int k = 0; k < c.H * c.W; k++)
						sum += x[k];
					want[b * c.C + ch] = (float)(sum / (c.H * c.W));
				} else if (c.kind == 1) {
					int OW = c.W * c.f;
					float *y = want + ((size_t)b * c.C + ch) * c.H * c.f * OW;
					for (int oy = 0; oy < c.H * c.f; oy++)
						for (int ox = 0; ox < OW; ox++)
							y[oy * OW + ox] = x[oy / c.f * c.W + ox / c.f];
				}
			}
		if (c.kind == 2)
			darknet_reorg_cpu(c.in, c.W, c.H, c.C, c.B, c.f, 0, want);
		double e = max_rel(c.out, want, c.nout);
		CHECK_MSG(e < 1e-6, "kind %d shape %zu: %.3g from reference",
			  c.kind, i, e);
		if (c.kind == 0)
			nk_global_avgpool_backward(din, c.R, c.B, c.C, c.H * c.W);
		else if (c.kind == 1)
			nk_upsample_backward(din, c.R, c.B, c.C, c.H, c.W, c.f);
		else
			nk_reorg_backward(din, c.R, c.B, c.C, c.H, c.W, c.f);
		fd_check("resample din", move_loss, &c, c.in, din, c.nin);
		if (c.kind == 2) {
			/* darknet's backward is reorg_cpu with forward = 1 */
			float *back = zeros(c.nin);
			darknet_reorg_cpu(c.R, c.W, c.H, c.C, c.B, c.f, 1, back);
			CHECK(memcmp(back, din, c.nin * sizeof *din) == 0);
			free(back);
		}
		free(want), free(din), free(c.in), free(c.out), free(c.R);
	}
}

/* ---- activations ------------------------------------------------------ */

static double act_ref(double x, nk_act a)
{
	double sp = x > 20 ? x : log1p(exp(x));
	switch (a) {
	case NK_ACT_LEAKY: return x > 0 ? x : 0.1 * x;
	case NK_ACT_RELU: return x > 0 ? x : 0;
	case NK_ACT_LOGISTIC: return 1 / (1 + exp(-x));
	case NK_ACT_MISH: return x * tanh(sp);
	case NK_ACT_SILU: return x / (1 + exp(-x));
	default: return x;
	}
}

typedef struct {
	nk_act a;
	float *x, *y, *R;
	size_t n;
} act_ctx;

static double act_loss(void *ctx)
{
	act_ctx *c = ctx;
	memcpy(c->y, c->x, c->n * sizeof *c->y);
	nk_act_forward(c->y, c->n, c->a);
	return dot(c->y, c->R, c->n);
}

TEST(activations)
{
	for (int a = 0; a < NK_ACT_COUNT; a++) {
		CHECK(nk_act_from_name(nk_act_name(a)) == a);
		act_ctx c = {a, NULL, NULL, NULL, 203};
		c.x = rnd(c.n, 6), c.y = zeros(c.n), c.R = rnd(c.n, 1);
		/* Away from the kinks of relu and leaky at 0; some large
		 * values for the tails. */
		for (size_t i = 0; i < c.n; i++)
			if (fabsf(c.x[i]) < 0.05f)
				c.x[i] += 0.1f;
		c.x[0] = 30, c.x[1] = -30, c.x[2] = 90, c.x[3] = -90;
		act_loss(&c);
		double worst = 0;
		for (size_t i = 0; i < c.n; i++) {
			double want = act_ref(c.x[i], a);
			double e = fabs(c.y[i] - want) / (1e-6 + fabs(want));
			if (e > worst && fabs(want) > 1e-30)
				worst = e;
		}
		CHECK_MSG(worst < 2e-6, "%s: relative error %.3g", nk_act_name(a),
			  worst);
		float *dx = zeros(c.n);
		nk_act_backward(dx, c.R, nk_act_backward_needs_input(a) ? c.x : c.y,
				c.n, a);
		fd_check(nk_act_name(a), act_loss, &c, c.x, dx, c.n);
		float *dx2 = dup(dx, c.n);
		act_loss(&c); /* y as it was: fd_check's last call moved it */
		nk_act_backward(dx2, c.R, nk_act_backward_needs_input(a) ? c.x : c.y,
				c.n, a);
		CHECK_MSG(doubled(dx, dx2, c.n), "%s: backward does not add",
			  nk_act_name(a));
		free(dx), free(dx2), free(c.x), free(c.y), free(c.R);
	}
	CHECK(nk_act_from_name("swish") == NK_ACT_SILU);
	CHECK(nk_act_from_name("elu") == -1);
}

/* ---- data for the PyTorch comparison (tests/t_conv_torch.sh) ---------- */

/* The file borrows the data until it is written: keep every buffer. */
static void *keep[256];
static int nkeep;

static void *kept(void *p)
{
	if (nkeep < (int)(sizeof keep / sizeof keep[0]))
		keep[nkeep++] = p;
	return p;
}

static void add4(nk_wfile *f, const char *prefix, const char *name,
		 const float *data, int64_t a, int64_t b, int64_t c, int64_t d)
{
	char key[96];
	int64_t shp[4] = {a, b, c, d};
	int nd = 4;
	while (nd > 1 && shp[nd - 1] == 0)
		nd--;
	snprintf(key, sizeof key, "%s.%s", prefix, name);
	nk_wfile_add(f, key, NK_F32, nd, shp, data);
}

static void dump_conv(nk_wfile *f, int i)
{
	const nk_conv2d_shape *s = &conv_shapes[i].s;
	int B = conv_shapes[i].B, OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s);
	conv_ctx c;
	conv_init(&c, *s, B, 1);
	kept(c.in), kept(c.w), kept(c.bias), kept(c.out), kept(c.R), kept(c.work);
	nk_conv2d_forward(c.out, c.in, c.w, c.bias, B, s, c.work);
	float *din = kept(zeros(c.nin)), *dw = kept(zeros(c.nw));
	float *db = kept(zeros(s->OC));
	nk_conv2d_backward(din, dw, db, c.R, c.in, c.w, B, s, c.work);
	char pre[32], key[48];
	snprintf(pre, sizeof pre, "conv%d", i);
	snprintf(key, sizeof key, "%s.shape", pre);
	nk_wfile_set_ints(f, key, (int64_t[]){s->stride, s->pad, s->groups}, 3);
	int Cg = s->C / s->groups;
	add4(f, pre, "in", c.in, B, s->C, s->H, s->W);
	add4(f, pre, "w", c.w, s->OC, Cg, s->K, s->K);
	add4(f, pre, "b", c.bias, s->OC, 0, 0, 0);
	add4(f, pre, "R", c.R, B, s->OC, OH, OW);
	add4(f, pre, "out", c.out, B, s->OC, OH, OW);
	add4(f, pre, "din", din, B, s->C, s->H, s->W);
	add4(f, pre, "dw", dw, s->OC, Cg, s->K, s->K);
	add4(f, pre, "db", db, s->OC, 0, 0, 0);
}

static void dump_bn(nk_wfile *f)
{
	enum { B = 3, C = 4, H = 5, W = 3 };
	bn_ctx c;
	bn_init(&c, B, C, H * W);
	kept(c.in), kept(c.scale), kept(c.bias), kept(c.out), kept(c.mean);
	kept(c.invstd), kept(c.R);
	float *rm0 = kept(rnd(C, 1)), *rv0 = kept(rnd(C, 1));
	for (int i = 0; i < C; i++)
		rv0[i] = rv0[i] * rv0[i] + 0.5f;
	float *rm = kept(dup(rm0, C)), *rv = kept(dup(rv0, C));
	nk_batchnorm_forward_train(c.out, c.mean, c.invstd, c.in, c.scale, c.bias,
				   rm, rv, 0.1f, 1e-5f, B, C, H * W);
	float *din = kept(zeros(B * C * H * W)), *ds = kept(zeros(C));
	float *db = kept(zeros(C)), *eval = kept(zeros(B * C * H * W));
	nk_batchnorm_backward(din, ds, db, c.R, c.in, c.mean, c.invstd, c.scale,
			      B, C, H * W);
	nk_batchnorm_forward_infer(eval, c.in, c.scale, c.bias, rm, rv, 1e-5f, B,
				   C, H * W);
	add4(f, "bn", "in", c.in, B, C, H, W);
	add4(f, "bn", "scale", c.scale, C, 0, 0, 0);
	add4(f, "bn", "bias", c.bias, C, 0, 0, 0);
	add4(f, "bn", "rm0", rm0, C, 0, 0, 0);
	add4(f, "bn", "rv0", rv0, C, 0, 0, 0);
	add4(f, "bn", "R", c.R, B, C, H, W);
	add4(f, "bn", "out", c.out, B, C, H, W);
	add4(f, "bn", "rm", rm, C, 0, 0, 0);
	add4(f, "bn", "rv", rv, C, 0, 0, 0);
	add4(f, "bn", "din", din, B, C, H, W);
	add4(f, "bn", "dscale", ds, C, 0, 0, 0);
	add4(f, "bn", "dbias", db, C, 0, 0, 0);
	add4(f, "bn", "eval", eval, B, C, H, W);
}

/* max0, max1: PyTorch's sizes; maxdk: darknet's size 2 stride 1;
 * avg0, avg1: count_include_pad = False. */
static void dump_pools(nk_wfile *f)
{
	static const struct {
		const char *name;
		int avg;
		nk_pool_shape s;
	} P[] = {
		{"max0", 0, {3, 9, 8, 5, 4, 3, 2, 1}},
		{"max1", 0, {2, 8, 6, 4, 3, 2, 2, 0}},
		{"maxdk", 0, {3, 7, 6, 7, 6, 2, 1, 0}},
		{"avg0", 1, {3, 9, 8, 5, 4, 3, 2, 1}},
		{"avg1", 1, {2, 6, 7, 6, 7, 3, 1, 1}},
	};
	enum { B = 2 };
	for (size_t i = 0; i < sizeof P / sizeof P[0]; i++) {
		const nk_pool_shape *s = &P[i].s;
		pool_ctx c;
		pool_init(&c, *s, B, P[i].avg);
		kept(c.in), kept(c.out), kept(c.R), kept(c.am);
		pool_loss(&c);
		float *din = kept(zeros(c.nin));
		if (P[i].avg)
			nk_avgpool_backward(din, c.R, B, s);
		else
			nk_maxpool_backward(din, c.R, c.am, B, s);
		char key[48];
		snprintf(key, sizeof key, "%s.shape", P[i].name);
		nk_wfile_set_ints(f, key, (int64_t[]){s->K, s->stride, s->pad}, 3);
		add4(f, P[i].name, "in", c.in, B, s->C, s->H, s->W);
		add4(f, P[i].name, "R", c.R, B, s->C, s->OH, s->OW);
		add4(f, P[i].name, "out", c.out, B, s->C, s->OH, s->OW);
		add4(f, P[i].name, "din", din, B, s->C, s->H, s->W);
	}
}

static void dump_moves(nk_wfile *f)
{
	/* upsample x2 */
	enum { B = 2, C = 3, H = 4, W = 5 };
	size_t n = B * C * H * W;
	float *x = kept(rnd(n, 1)), *y = kept(zeros(4 * n)), *R = kept(rnd(4 * n, 1));
	float *dx = kept(zeros(n));
	nk_upsample_forward(y, x, B, C, H, W, 2);
	nk_upsample_backward(dx, R, B, C, H, W, 2);
	add4(f, "up", "in", x, B, C, H, W);
	add4(f, "up", "R", R, B, C, 2 * H, 2 * W);
	add4(f, "up", "out", y, B, C, 2 * H, 2 * W);
	add4(f, "up", "din", dx, B, C, H, W);
	/* reorg stride 2 of (1, 8, 4, 6), for OpenCV's darknet importer */
	float *ri = kept(rnd(8 * 4 * 6, 1)), *ro = kept(zeros(8 * 4 * 6));
	nk_reorg_forward(ro, ri, 1, 8, 4, 6, 2);
	add4(f, "reorg", "in", ri, 1, 8, 4, 6);
	add4(f, "reorg", "out", ro, 1, 32, 2, 3);
	/* activations */
	static const nk_act acts[] = {NK_ACT_LEAKY, NK_ACT_RELU, NK_ACT_LOGISTIC,
				      NK_ACT_MISH, NK_ACT_SILU};
	enum { N = 300 };
	for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
		const char *name = nk_act_name(acts[i]);
		float *ax = kept(rnd(N, 8)), *ay = kept(zeros(N));
		float *aR = kept(rnd(N, 1)), *adx = kept(zeros(N));
		ax[0] = 25, ax[1] = -25, ax[2] = 50, ax[3] = -50;
		memcpy(ay, ax, N * sizeof *ay);
		nk_act_forward(ay, N, acts[i]);
		nk_act_backward(adx, aR,
				nk_act_backward_needs_input(acts[i]) ? ax : ay,
				N, acts[i]);
		add4(f, name, "in", ax, N, 0, 0, 0);
		add4(f, name, "R", aR, N, 0, 0, 0);
		add4(f, name, "out", ay, N, 0, 0, 0);
		add4(f, name, "din", adx, N, 0, 0, 0);
	}
}

static int torch_dump(const char *path)
{
	nk_wfile *f = nk_wfile_create();
	nk_wfile_set_str(f, "program", "test_conv");
	nk_wfile_set_int(f, "nconv", NSHAPES);
	for (int i = 0; i < NSHAPES; i++)
		dump_conv(f, i);
	dump_bn(f);
	dump_pools(f);
	dump_moves(f);
	int rc = nk_wfile_write(f, path, 0);
	if (rc)
		fprintf(stderr, "test_conv: %s\n", nk_last_error());
	nk_wfile_free(f);
	for (int i = 0; i < nkeep; i++)
		free(keep[i]);
	return rc ? 1 : 0;
}

/* ---- benchmark (test_conv bench) -------------------------------------- */

static double now(void)
{
	return omp_get_wtime();
}

static int bench(void)
{
	static const nk_conv2d_shape shapes[] = {
		{3, 416, 416, 16, 3, 1, 1, 1},
		{16, 208, 208, 32, 3, 1, 1, 1},
		{32, 104, 104, 64, 3, 1, 1, 1},
		{64, 52, 52, 128, 3, 1, 1, 1},
		{128, 26, 26, 256, 3, 1, 1, 1},
		{256, 13, 13, 512, 3, 1, 1, 1},
		{512, 13, 13, 1024, 3, 1, 1, 1},
		{1024, 13, 13, 256, 1, 1, 0, 1},
		{256, 13, 13, 512, 3, 1, 1, 1},
		{384, 26, 26, 256, 3, 1, 1, 1},
	};
	printf("%-34s %9s %9s %9s\n", "shape (C HxW -> OC, K)", "fwd ms",
	       "GFLOPS", "bwd ms");
	printf("(best of several runs, %d threads)\n", omp_get_max_threads());
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		const nk_conv2d_shape *s = &shapes[i];
		conv_ctx c;
		conv_init(&c, *s, 1, 1);
		double flops = 2.0 * s->OC * s->C / s->groups * s->K * s->K *
			       nk_conv2d_out_h(s) * nk_conv2d_out_w(s);
		float *din = zeros(c.nin), *dw = zeros(c.nw);
		/* The best of several runs: the machine may be shared, and
		 * the best time is the one least disturbed.  The first call
		 * of each, which faults the pages in, is not counted. */
		int reps = (int)(1e9 / flops) + 3;
		double tf = INFINITY, tb = INFINITY;
		for (int r = 0; r <= reps; r++) {
			double t0 = now();
			nk_conv2d_forward(c.out, c.in, c.w, c.bias, 1, s, c.work);
			double t1 = now();
			nk_conv2d_backward(din, dw, NULL, c.R, c.in, c.w, 1, s,
					   c.work);
			double t2 = now();
			if (r && t1 - t0 < tf)
				tf = t1 - t0;
			if (r && t2 - t1 < tb)
				tb = t2 - t1;
		}
		char name[64];
		snprintf(name, sizeof name, "%d %dx%d -> %d, %dx%d", s->C, s->H,
			 s->W, s->OC, s->K, s->K);
		printf("%-34s %9.3f %9.1f %9.3f\n", name, tf * 1e3,
		       flops / tf * 1e-9, tb * 1e3);
		free(din), free(dw);
		conv_free(&c);
	}
	return 0;
}

int main(int argc, char **argv)
{
	nk_rng_seed(&rng, 2025, 0);
	if (argc == 2 && strcmp(argv[1], "bench") == 0)
		return bench();
	if (argc == 3 && strcmp(argv[1], "torch") == 0)
		return torch_dump(argv[2]);
	RUN(conv_check_shapes);
	RUN(conv_forward_naive);
	RUN(conv_gradients);
	RUN(conv_threads_same_bits);
	RUN(batchnorm_train_forward);
	RUN(batchnorm_gradients);
	RUN(batchnorm_infer_and_fold);
	RUN(pool_forward_and_gradients);
	RUN(maxpool_darknet_edge);
	RUN(maxpool_inference_path);
	RUN(resample_forward_and_gradients);
	RUN(activations);
	return nk_test_exit();
}
