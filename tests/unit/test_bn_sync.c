/* test_bn_sync.c - synchronised batch norm's pieces (nn/batchnorm.h) with
 * "ranks" simulated in one process: a batch cut into uneven shares, each
 * share's sums added in rank order as nk_dist_sum_f64 adds them, each
 * share normalised with the total.  Against a plain double-precision
 * reference of the whole batch (forward: mean, biased variance, the
 * running statistics; backward: the textbook formula) and against the
 * one-process functions, which one share must equal bit for bit.  The
 * real MPI run is tests/t_mpi.sh's detect rows. */
#include "check.h"

#include "core/base.h"
#include "core/rng.h"
#include "nn/batchnorm.h"

#include <math.h>

enum { B = 5, C = 3, HW = 11, N = B * C * HW };

static void fill(float *v, size_t n, nk_rng *r, float shift, float sd)
{
	for (size_t i = 0; i < n; i++)
		v[i] = shift + sd * (2 * nk_rng_float(r) - 1);
}

static double rel(double a, double b)
{
	return fabs(a - b) / (fabs(b) > 1 ? fabs(b) : 1);
}

/* The shares: images [cut[r], cut[r+1]). */
static const int cut[] = {0, 1, 3, 5}; /* 1, 2 and 2 images */
#define NSH 3

TEST(forward_shares_equal_whole_batch)
{
	nk_rng r;
	nk_rng_seed(&r, 7, 0);
	static float x[N], scale[C], bias[C], out[N], mean[C], invstd[C];
	float rm[C] = {.5f, -1, 0}, rv[C] = {1, 2, .5f};
	/* A large mean against a small spread: the variance's hard case. */
	fill(x, N, &r, 40, 3);
	fill(scale, C, &r, 1, .5f);
	fill(bias, C, &r, 0, 1);
	double st[3 * C + 1] = {0}, one[3 * C + 1];
	for (int s = 0; s < NSH; s++) {
		nk_batchnorm_stats(one, x + (size_t)cut[s] * C * HW,
				   cut[s + 1] - cut[s], C, HW);
		for (int k = 0; k < 3 * C + 1; k++)
			st[k] += one[k];
	}
	CHECK(st[3 * C] == B * HW);
	float rm2[C], rv2[C];
	memcpy(rm2, rm, sizeof rm);
	memcpy(rv2, rv, sizeof rv);
	for (int s = 0; s < NSH; s++) {
		size_t at = (size_t)cut[s] * C * HW;
		/* Running statistics move once, from the total: share 0's. */
		nk_batchnorm_forward_stats(out + at, mean, invstd, x + at, st,
					   scale, bias, s ? NULL : rm2,
					   s ? NULL : rv2, .1f, 1e-5f,
					   cut[s + 1] - cut[s], C, HW);
	}
	double worst = 0;
	for (int c = 0; c < C; c++) {
		double m = 0, v = 0, n = B * HW;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++)
				m += x[(b * C + c) * HW + i];
		m /= n;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				double d = x[(b * C + c) * HW + i] - m;
				v += d * d;
			}
		double var = v / n, is = 1 / sqrt(var + 1e-5);
		worst = fmax(worst, rel(mean[c], m));
		worst = fmax(worst, rel(invstd[c], is));
		worst = fmax(worst, rel(rm2[c], .9 * rm[c] + .1 * m));
		worst = fmax(worst, rel(rv2[c], .9 * rv[c] + .1 * v / (n - 1)));
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				size_t k = (size_t)(b * C + c) * HW + i;
				worst = fmax(worst, rel(out[k], scale[c] *
						   (x[k] - m) * is + bias[c]));
			}
	}
	/* float outputs of values about 40 with a spread of 3: a few ulps
	 * of 40 relative to the spread. */
	CHECK_MSG(worst < 2e-5, "worst relative difference %g", worst);

	/* One share is the one-process function, bit for bit. */
	static float o1[N], o2[N];
	float m1[C], m2[C], i1[C], i2[C], a1[C], a2[C], v1[C], v2[C];
	memcpy(a1, rm, sizeof rm), memcpy(a2, rm, sizeof rm);
	memcpy(v1, rv, sizeof rv), memcpy(v2, rv, sizeof rv);
	nk_batchnorm_forward_train(o1, m1, i1, x, scale, bias, a1, v1, .1f,
				   1e-5f, B, C, HW);
	nk_batchnorm_stats(one, x, B, C, HW);
	nk_batchnorm_forward_stats(o2, m2, i2, x, one, scale, bias, a2, v2,
				   .1f, 1e-5f, B, C, HW);
	CHECK(!memcmp(o1, o2, sizeof o1) && !memcmp(m1, m2, sizeof m1) &&
	      !memcmp(i1, i2, sizeof i1) && !memcmp(a1, a2, sizeof a1) &&
	      !memcmp(v1, v2, sizeof v1));
}

TEST(backward_shares_equal_whole_batch)
{
	nk_rng r;
	nk_rng_seed(&r, 8, 0);
	static float x[N], dy[N], scale[C], out[N], mean[C], invstd[C];
	static float dx[N], dxw[N];
	fill(x, N, &r, 2, 1);
	fill(dy, N, &r, .1f, 1);
	fill(scale, C, &r, 1, .5f);
	nk_batchnorm_forward_train(out, mean, invstd, x, scale, NULL, NULL, NULL,
				   .1f, 1e-5f, B, C, HW);
	/* Shares: each adds its part of dscale, dbias; sums in rank order. */
	double sd[2 * C + 1] = {0}, one[2 * C + 1];
	float ds[C] = {0}, db[C] = {0};
	for (int s = 0; s < NSH; s++) {
		size_t at = (size_t)cut[s] * C * HW;
		nk_batchnorm_backward_sums(one, dy + at, x + at, mean, invstd,
					   cut[s + 1] - cut[s], C, HW);
		for (int c = 0; c < C; c++)
			db[c] += (float)one[c], ds[c] += (float)one[C + c];
		for (int k = 0; k < 2 * C + 1; k++)
			sd[k] += one[k];
	}
	for (int s = 0; s < NSH; s++) {
		size_t at = (size_t)cut[s] * C * HW;
		nk_batchnorm_backward_input(dx + at, dy + at, x + at, mean,
					    invstd, scale, sd,
					    cut[s + 1] - cut[s], C, HW);
	}
	/* The reference in double: dx = g/sigma (dy - mean dy - xhat
	 * mean(dy xhat)). */
	double worst = 0;
	for (int c = 0; c < C; c++) {
		double n = B * HW, m = mean[c], is = invstd[c], a = 0, bb = 0;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				size_t k = (size_t)(b * C + c) * HW + i;
				a += dy[k];
				bb += dy[k] * (x[k] - m) * is;
			}
		worst = fmax(worst, rel(db[c], a));
		worst = fmax(worst, rel(ds[c], bb));
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				size_t k = (size_t)(b * C + c) * HW + i;
				double xh = (x[k] - m) * is;
				worst = fmax(worst, rel(dx[k], scale[c] * is *
						   (dy[k] - a / n - xh * bb / n)));
			}
	}
	CHECK_MSG(worst < 1e-5, "worst relative difference %g", worst);

	/* One share: the one-process backward's bits. */
	float ds1[C] = {0}, db1[C] = {0};
	nk_batchnorm_backward(dxw, ds1, db1, dy, x, mean, invstd, scale, B, C,
			      HW);
	static float dx1[N];
	nk_batchnorm_backward_sums(one, dy, x, mean, invstd, B, C, HW);
	nk_batchnorm_backward_input(dx1, dy, x, mean, invstd, scale, one, B, C,
				    HW);
	CHECK(!memcmp(dxw, dx1, sizeof dx1));
	CHECK((float)one[0] == db1[0] && (float)one[C] == ds1[0]);
}

TEST(sync_on_one_rank)
{
	/* Outside mpirun the _sync functions are the one-process ones. */
	nk_rng r;
	nk_rng_seed(&r, 9, 0);
	static float x[N], dy[N], o1[N], o2[N], d1[N], d2[N];
	float m1[C], m2[C], i1[C], i2[C], s1[C] = {0}, s2[C] = {0};
	float b1[C] = {0}, b2[C] = {0};
	double work[3 * C + 1];
	fill(x, N, &r, 1, 2);
	fill(dy, N, &r, 0, 1);
	nk_batchnorm_forward_train(o1, m1, i1, x, NULL, NULL, NULL, NULL, .1f,
				   1e-5f, B, C, HW);
	CHECK(nk_batchnorm_forward_sync(o2, m2, i2, x, NULL, NULL, NULL, NULL,
					.1f, 1e-5f, B, C, HW, work) == NK_OK);
	CHECK(!memcmp(o1, o2, sizeof o1) && !memcmp(i1, i2, sizeof i1));
	nk_batchnorm_backward(d1, s1, b1, dy, x, m1, i1, NULL, B, C, HW);
	CHECK(nk_batchnorm_backward_sync(d2, s2, b2, dy, x, m2, i2, NULL, B, C,
					 HW, work) == NK_OK);
	CHECK(!memcmp(d1, d2, sizeof d1) && !memcmp(s1, s2, sizeof s1) &&
	      !memcmp(b1, b2, sizeof b1));
}

/* The fused leaky functions against batch norm and leaky apart: forward
 * the same bits; backward, whose din is written (so garbage in it must not
 * matter), the bits of the activation's gradient then the plain backward
 * into zeros, and within 1e-5 of a double-precision reference.  Then the
 * _sync forms on one rank. */
TEST(leaky_fused_equals_apart)
{
	nk_rng r;
	nk_rng_seed(&r, 10, 0);
	static float x[N], dy[N], z[N], y1[N], y2[N], dz[N], d1[N], d2[N];
	static float d3[N];
	float scale[C], bias[C], m1[C], m2[C], i1[C], i2[C];
	float s1[C] = {0}, s2[C] = {0}, b1[C] = {0}, b2[C] = {0};
	float s3[C] = {0}, b3[C] = {0};
	double work[3 * C + 1];
	fill(x, N, &r, 1, 2);
	fill(dy, N, &r, 0, 1);
	fill(scale, C, &r, 1, .5f);
	fill(bias, C, &r, 0, .5f);
	nk_batchnorm_forward_train(z, m1, i1, x, scale, bias, NULL, NULL, .1f,
				   1e-5f, B, C, HW);
	int neg = 0;
	for (int k = 0; k < N; k++) {
		neg += z[k] <= 0;
		y1[k] = z[k] > 0 ? z[k] : .1f * z[k];
		dz[k] = z[k] > 0 ? dy[k] : .1f * dy[k];
	}
	CHECK_MSG(neg > N / 5 && neg < N * 4 / 5, "%d of %d negative", neg, N);
	nk_batchnorm_leaky_forward_train(y2, m2, i2, x, scale, bias, NULL,
					 NULL, .1f, 1e-5f, .1f, B, C, HW);
	CHECK(!memcmp(y1, y2, sizeof y1) && !memcmp(m1, m2, sizeof m1) &&
	      !memcmp(i1, i2, sizeof i1));
	nk_batchnorm_backward(d1, s1, b1, dz, x, m1, i1, scale, B, C, HW);
	for (int k = 0; k < N; k++)
		d2[k] = NAN;
	nk_batchnorm_leaky_backward(d2, s2, b2, dy, x, m1, i1, scale, bias,
				    .1f, B, C, HW);
	CHECK(!memcmp(d1, d2, sizeof d1) && !memcmp(s1, s2, sizeof s1) &&
	      !memcmp(b1, b2, sizeof b1));
	double worst = 0;
	for (int c = 0; c < C; c++) {
		double n = B * HW, m = m1[c], is = i1[c], a = 0, bb = 0;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				size_t k = (size_t)(b * C + c) * HW + i;
				double g = z[k] > 0 ? dy[k] : .1 * dy[k];
				a += g;
				bb += g * (x[k] - m) * is;
			}
		worst = fmax(worst, rel(b2[c], a));
		worst = fmax(worst, rel(s2[c], bb));
		for (int b = 0; b < B; b++)
			for (int i = 0; i < HW; i++) {
				size_t k = (size_t)(b * C + c) * HW + i;
				double g = z[k] > 0 ? dy[k] : .1 * dy[k];
				double xh = (x[k] - m) * is;
				worst = fmax(worst, rel(d2[k], scale[c] * is *
						   (g - a / n - xh * bb / n)));
			}
	}
	CHECK_MSG(worst < 1e-5, "worst relative difference %g", worst);
	CHECK(nk_batchnorm_leaky_forward_sync(y2, m2, i2, x, scale, bias,
					      NULL, NULL, .1f, 1e-5f, .1f, B,
					      C, HW, work) == NK_OK);
	CHECK(!memcmp(y1, y2, sizeof y1));
	CHECK(nk_batchnorm_leaky_backward_sync(d3, s3, b3, dy, x, m1, i1,
					       scale, bias, .1f, B, C, HW,
					       work) == NK_OK);
	CHECK(!memcmp(d1, d3, sizeof d1) && !memcmp(s1, s3, sizeof s1) &&
	      !memcmp(b1, b3, sizeof b1));
}

int main(void)
{
	RUN(forward_shares_equal_whole_batch);
	RUN(backward_shares_equal_whole_batch);
	RUN(sync_on_one_rank);
	RUN(leaky_fused_equals_apart);
	return nk_test_exit();
}
