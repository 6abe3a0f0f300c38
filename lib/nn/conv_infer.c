/* conv_infer.c - inference convolution plans: the choice of algorithm and
 * the general path (im2col + nk_sgemm, bias and activation after).
 */
#include "nn/conv_infer.h"
#include "nn/conv_infer_impl.h"
#include "core/base.h"
#include "core/gemm.h"
#include "core/spans.h"

#include <limits.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>

struct nk_conv_plan {
	nk_conv2d_shape s;
	nk_act act;
	int algo;
	float *bias;  /* (OC) or NULL */
	float *w;     /* (OC, C/groups, K, K), the GEMM path;
		       * (OC/8, C, 8), zero past OC, the 1x1 path;
		       * (OC/8, C * 9, 8), the direct 3x3 path */
	nk_wino wino;
	int slots;    /* threads the work has room for (1x1, direct) */
};

static int shape_ok(const nk_conv2d_shape *s)
{
	if (s->C < 1 || s->H < 1 || s->W < 1 || s->OC < 1 || s->K < 1 ||
	    s->stride < 1 || s->pad < 0 || s->groups < 1)
		return nk_error(NK_EINVAL, "conv: bad shape C %d H %d W %d OC %d "
				"K %d stride %d pad %d groups %d", s->C, s->H,
				s->W, s->OC, s->K, s->stride, s->pad, s->groups);
	if (s->C % s->groups || s->OC % s->groups)
		return nk_error(NK_EINVAL, "conv: C %d and OC %d not multiples "
				"of groups %d", s->C, s->OC, s->groups);
	if (s->H + 2 * s->pad < s->K || s->W + 2 * s->pad < s->K)
		return nk_error(NK_EINVAL, "conv: %dx%d input padded by %d is "
				"smaller than the %dx%d kernel", s->H, s->W,
				s->pad, s->K, s->K);
	/* every index below is an int: keep planes and columns in range */
	if ((long long)s->H * s->W > INT_MAX / 64 ||
	    (long long)s->C * s->K * s->K > INT_MAX / 64 ||
	    (long long)nk_conv2d_out_h(s) * nk_conv2d_out_w(s) > INT_MAX / 64 ||
	    s->OC > INT_MAX / 64)
		return nk_error(NK_ERANGE, "conv: shape too large");
	return NK_OK;
}

static int pointwise(const nk_conv2d_shape *s)
{
	return s->K == 1 && s->stride == 1 && s->pad == 0 && s->groups == 1;
}

static int wino_fits(const nk_conv2d_shape *s)
{
	return s->K == 3 && s->stride == 1 && s->groups == 1;
}

nk_conv_plan *nk_conv_plan_new_algo(const nk_conv2d_shape *s, const float *w,
				    const float *bias, nk_act act, int algo)
{
	if (shape_ok(s))
		return NULL;
	if ((unsigned)act >= NK_ACT_COUNT || algo < 0 || algo >= NK_CONV_ALGO_COUNT) {
		nk_error(NK_EINVAL, "conv: unknown activation %d or algorithm %d",
			 (int)act, algo);
		return NULL;
	}
	/* 3x3 on few channels (an image): direct, see conv_direct.c */
	if (algo == NK_CONV_AUTO)
		algo = wino_fits(s) ? (s->C <= 4 ? NK_CONV_DIRECT3 : NK_CONV_WINO2) :
		       pointwise(s) ? NK_CONV_1X1 : NK_CONV_GEMM;
	if (algo == NK_CONV_DIRECT3 && !wino_fits(s)) {
		nk_error(NK_EINVAL, "conv: the direct path needs a 3x3 kernel, "
			 "stride 1, groups 1");
		return NULL;
	}
	if (algo == NK_CONV_1X1 && !pointwise(s)) {
		nk_error(NK_EINVAL, "conv: the 1x1 path needs K 1, stride 1, "
			 "pad 0, groups 1");
		return NULL;
	}
	int wino = algo == NK_CONV_WINO2 ? 2 : algo == NK_CONV_WINO4 ? 4 : 0;
	if (wino && !wino_fits(s)) {
		nk_error(NK_EINVAL, "conv: Winograd needs a 3x3 kernel, stride 1, "
			 "groups 1");
		return NULL;
	}
	nk_conv_plan *p = nk_calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->s = *s;
	p->act = act;
	p->slots = 1;
#ifdef _OPENMP
	p->slots = omp_get_max_threads();
#endif
	p->algo = algo;
	if (bias) {
		p->bias = nk_malloc((size_t)s->OC * sizeof *bias);
		if (!p->bias)
			goto fail;
		memcpy(p->bias, bias, (size_t)s->OC * sizeof *bias);
	}
	if (wino) {
		if (nk_wino_init(&p->wino, s, w, wino))
			goto fail;
	} else if (algo == NK_CONV_DIRECT3) {
		p->w = nk_malloc((size_t)(s->OC + 7) / 8 * 8 * s->C * 9 * sizeof *w);
		if (!p->w)
			goto fail;
		nk_direct3_pack(p->w, w, s);
	} else if (algo == NK_CONV_1X1) {
		size_t n = (size_t)(s->OC + 7) / 8 * 8 * s->C;
		p->w = nk_calloc(n, sizeof *w);
		if (!p->w)
			goto fail;
		for (int oc = 0; oc < s->OC; oc++)
			for (int c = 0; c < s->C; c++)
				p->w[((size_t)(oc / 8) * s->C + c) * 8 + oc % 8] =
					w[(size_t)oc * s->C + c];
	} else {
		size_t n = (size_t)s->OC * (s->C / s->groups) * s->K * s->K;
		p->w = nk_malloc(n * sizeof *w);
		if (!p->w)
			goto fail;
		memcpy(p->w, w, n * sizeof *w);
	}
	return p;
fail:
	nk_conv_plan_free(p);
	return NULL;
}

nk_conv_plan *nk_conv_plan_new(const nk_conv2d_shape *s, const float *w,
			       const float *bias, nk_act act)
{
	return nk_conv_plan_new_algo(s, w, bias, act, NK_CONV_AUTO);
}

int nk_conv_plan_algo(const nk_conv_plan *p)
{
	return p->algo;
}

void nk_conv_plan_free(nk_conv_plan *p)
{
	if (!p)
		return;
	nk_wino_free(&p->wino);
	free(p->bias);
	free(p->w);
	free(p);
}

/* 1x1, stride 1: out (OC, HW) = w (OC, C) @ x (C, HW), the weights packed
 * at plan time for the Winograd micro-kernels (8 channels by up to 48
 * pixels in registers over all of C); bias and activation go on as each
 * 8 x 48 tile is written out.  A unit of work is a panel of 48 pixels
 * for up to 128 channels: its pixels are read from x in place, or, for
 * the last, partial panel, from a copy padded to whole vectors in the
 * thread's own slot of work.  No thread waits for another before the end;
 * each takes its own run of panels (core/spans.h). */
enum { PAN = 48, QO = 16 /* channel blocks of 8 a unit */ };

static void run_1x1(const nk_conv_plan *p, float *out, const float *in,
		    int B, float *work)
{
	const nk_conv2d_shape *s = &p->s;
	int C = s->C, HW = s->H * s->W;
	int nocb = (s->OC + 7) / 8, npan = (HW + PAN - 1) / PAN;
	int nq = (nocb + QO - 1) / QO, nu = npan * nq;
	int nthr = 1;
#ifdef _OPENMP
	nthr = imin(omp_get_max_threads(), p->slots);
#endif
	nk_spans sp;
	nk_spans_init(&sp, (long)B * nu, nthr);
#pragma omp parallel num_threads(nthr)
	{
		int t = 0;
#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		float *xp = work + (size_t)t * C * PAN;
		for (long v; (v = nk_spans_next(&sp, t)) >= 0;) {
			int u = (int)v, b = u / nu, pan = u % nu / nq, q = u % nq;
			int t0 = pan * PAN, n = imin(PAN, HW - t0), nv = (n + 15) / 16;
			const float *x = in + (size_t)b * C * HW, *xb = x + t0;
			float *y = out + (size_t)b * s->OC * HW;
			size_t ldb = HW;
			if (n < PAN) {
				for (int c = 0; c < C; c++) {
					memcpy(xp + (size_t)c * PAN, x + (size_t)c * HW + t0,
					       (size_t)n * sizeof *xp);
					memset(xp + (size_t)c * PAN + n, 0,
					       (size_t)(PAN - n) * sizeof *xp);
				}
				xb = xp, ldb = PAN;
			}
			for (int ocb = q * QO; ocb < imin(nocb, (q + 1) * QO); ocb++) {
				float tile[8 * PAN] __attribute__((aligned(64)));
				const float *a = p->w + (size_t)ocb * C * 8;
				if (nv == 3)
					kern_8_3(C, a, xb, ldb, tile, PAN);
				else if (nv == 2)
					kern_8_2(C, a, xb, ldb, tile, PAN);
				else
					kern_8_1(C, a, xb, ldb, tile, PAN);
				for (int i = 0; i < 8 && ocb * 8 + i < s->OC; i++) {
					int oc = ocb * 8 + i;
					float *d = y + (size_t)oc * HW + t0;
					memcpy(d, tile + i * PAN, (size_t)n * sizeof *d);
					nk_ci_bias_act_vec(d, n, p->bias ? p->bias[oc] : 0,
							   p->act);
				}
			}
		}
	}
}

/* The input itself is the GEMM's right operand for a 1x1 stride-1
 * unpadded convolution; otherwise the columns are gathered. */
static int needs_cols(const nk_conv2d_shape *s)
{
	return !(s->K == 1 && s->stride == 1 && s->pad == 0);
}

size_t nk_conv_plan_work_floats(const nk_conv_plan *p, int B)
{
	const nk_conv2d_shape *s = &p->s;
	if (p->algo == NK_CONV_WINO2 || p->algo == NK_CONV_WINO4)
		return nk_wino_work_floats(&p->wino, B);
	if (p->algo == NK_CONV_1X1)
		return (size_t)p->slots * s->C * PAN;
	if (p->algo == NK_CONV_DIRECT3)
		return nk_direct3_work_floats(s, p->slots);
	if (!needs_cols(s))
		return 0;
	return (size_t)(s->C / s->groups) * s->K * s->K *
	       nk_conv2d_out_h(s) * nk_conv2d_out_w(s);
}

/* cols (C/groups * K * K, OH * OW) for group grp of one image. */
static void im2col(float *cols, const float *x, const nk_conv2d_shape *s,
		   int grp)
{
	int Cg = s->C / s->groups, K = s->K;
	int OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s);
#pragma omp parallel for schedule(static) if (Cg * K * K * OH * OW > 1 << 16)
	for (int row = 0; row < Cg * K * K; row++) {
		int c = grp * Cg + row / (K * K), ky = row / K % K, kx = row % K;
		const float *xc = x + (size_t)c * s->H * s->W;
		float *d = cols + (size_t)row * OH * OW;
		for (int oy = 0; oy < OH; oy++) {
			int iy = oy * s->stride - s->pad + ky;
			for (int ox = 0; ox < OW; ox++) {
				int ix = ox * s->stride - s->pad + kx;
				d[oy * OW + ox] = iy >= 0 && iy < s->H && ix >= 0 &&
						  ix < s->W ? xc[iy * s->W + ix] : 0;
			}
		}
	}
}

static void run_gemm(const nk_conv_plan *p, float *out, const float *in,
		     int B, float *work)
{
	const nk_conv2d_shape *s = &p->s;
	int Cg = s->C / s->groups, OCg = s->OC / s->groups, KK = Cg * s->K * s->K;
	int OHW = nk_conv2d_out_h(s) * nk_conv2d_out_w(s);
	for (int b = 0; b < B; b++) {
		const float *x = in + (size_t)b * s->C * s->H * s->W;
		float *y = out + (size_t)b * s->OC * OHW;
		for (int grp = 0; grp < s->groups; grp++) {
			const float *cols = x + (size_t)grp * Cg * s->H * s->W;
			if (needs_cols(s)) {
				im2col(work, x, s, grp);
				cols = work;
			}
			nk_sgemm(0, 0, OCg, OHW, KK, 1, p->w + (size_t)grp * OCg * KK,
				 KK, cols, OHW, 0, y + (size_t)grp * OCg * OHW, OHW);
		}
#pragma omp parallel for schedule(static) if ((size_t)s->OC * OHW > 1 << 16)
		for (int oc = 0; oc < s->OC; oc++)
			nk_ci_bias_act_vec(y + (size_t)oc * OHW, OHW,
				       p->bias ? p->bias[oc] : 0, p->act);
	}
}

void nk_conv_plan_run(const nk_conv_plan *p, float *out, const float *in,
		      int B, float *work)
{
	if (p->algo == NK_CONV_WINO2 || p->algo == NK_CONV_WINO4)
		nk_wino_run(&p->wino, out, in, B, p->bias, p->act, work, 0);
	else if (p->algo == NK_CONV_1X1)
		run_1x1(p, out, in, B, work);
	else if (p->algo == NK_CONV_DIRECT3)
		nk_direct3_run(p->w, &p->s, out, in, B, p->bias, p->act, work,
			       p->slots, 0);
	else
		run_gemm(p, out, in, B, work);
}

/* F2's output tiles are the pool's windows, and the direct path can
 * compute two rows a unit; the others would need the full map. */
int nk_conv_plan_pools(const nk_conv_plan *p)
{
	return (p->algo == NK_CONV_WINO2 || p->algo == NK_CONV_DIRECT3) &&
	       nk_conv2d_out_h(&p->s) % 2 == 0 && nk_conv2d_out_w(&p->s) % 2 == 0;
}

int nk_conv_plan_run_pool(const nk_conv_plan *p, float *out, const float *in,
			  int B, float *work)
{
	if (!nk_conv_plan_pools(p))
		return nk_error(NK_EINVAL, "conv: this plan cannot fuse a max pool");
	if (p->algo == NK_CONV_WINO2)
		nk_wino_run(&p->wino, out, in, B, p->bias, p->act, work, 1);
	else
		nk_direct3_run(p->w, &p->s, out, in, B, p->bias, p->act, work,
			       p->slots, 1);
	return NK_OK;
}
