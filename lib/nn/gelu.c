/* gelu.c - GELU in its erf and tanh forms, forward and backward. */
#include "nn/gelu.h"
#include "nn/vmath.h"

#include <stdint.h>

/* erf as a ratio of an odd degree-13 and an even degree-8 polynomial on
 * [-4, 4] (Eigen's generic_fast_erf_float); beyond 4, erf is +-1 in float. */
static inline nk_vf verf(nk_vf a)
{
	nk_vf x = nk_vsel(a > 4.0f, nk_vsplat(4.0f), a);
	x = nk_vsel(x < -4.0f, nk_vsplat(-4.0f), x);
	nk_vf x2 = x * x;
	nk_vf p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
	p = x2 * p + -2.10102402082508e-06f;
	p = x2 * p + -5.69250639462346e-05f;
	p = x2 * p + -7.34990630326855e-04f;
	p = x2 * p + -2.95459980854025e-03f;
	p = x2 * p + -1.60960333262415e-02f;
	p = x * p;
	nk_vf q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
	q = x2 * q + -1.68282697438203e-03f;
	q = x2 * q + -7.37332916720468e-03f;
	q = x2 * q + -1.42647390514189e-02f;
	return p / q;
}

float nk_erff(float x)
{
	return verf(nk_vsplat(x))[0];
}

#define SQRT1_2 0.70710678118654752f
#define SQRT2_PI 0.79788456080286536f     /* sqrt(2/pi) */
#define INV_SQRT_2PI 0.39894228040143268f /* 1/sqrt(2 pi) */
#define GELU_C 0.044715f

static inline nk_vf vgelu(nk_vf x, int kind)
{
	if (kind == NK_GELU_TANH)
		return 0.5f * x *
		       (1.0f + nk_vtanhf(SQRT2_PI * (x + GELU_C * x * x * x)));
	return 0.5f * x * (1.0f + verf(x * SQRT1_2));
}

static inline nk_vf vgelu_grad(nk_vf x, int kind)
{
	if (kind == NK_GELU_TANH) {
		nk_vf x2 = x * x;
		nk_vf t = nk_vtanhf(SQRT2_PI * x * (1.0f + GELU_C * x2));
		return 0.5f * (1.0f + t) +
		       0.5f * x * (1.0f - t * t) * SQRT2_PI *
			       (1.0f + 3.0f * GELU_C * x2);
	}
	return 0.5f * (1.0f + verf(x * SQRT1_2)) +
	       x * INV_SQRT_2PI * nk_vexpf(-0.5f * x * x);
}

/* A chunk per thread; every element goes through the same vector code
 * (the tail through the masked loads), so bits do not depend on threads. */
void nk_gelu_forward(float *out, const float *in, size_t n, int kind)
{
	ptrdiff_t nv = (ptrdiff_t)((n + NK_VW - 1) / NK_VW);
#pragma omp parallel for schedule(static) if (n >= 1 << 16)
	for (ptrdiff_t k = 0; k < nv; k++) {
		size_t i = (size_t)k * NK_VW;
		int w = n - i < NK_VW ? (int)(n - i) : NK_VW;
		nk_vstore_n(out + i, vgelu(nk_vload_n(in + i, w), kind), w);
	}
}

void nk_gelu_backward(float *din, const float *dout, const float *in,
		      size_t n, int kind)
{
	ptrdiff_t nv = (ptrdiff_t)((n + NK_VW - 1) / NK_VW);
	int set = din == dout;
#pragma omp parallel for schedule(static) if (n >= 1 << 16)
	for (ptrdiff_t k = 0; k < nv; k++) {
		size_t i = (size_t)k * NK_VW;
		int w = n - i < NK_VW ? (int)(n - i) : NK_VW;
		nk_vf g = nk_vload_n(dout + i, w) *
			  vgelu_grad(nk_vload_n(in + i, w), kind);
		if (!set)
			g += nk_vload_n(din + i, w);
		nk_vstore_n(din + i, g, w);
	}
}

void nk_gelu_bias_forward(float *out, float *pre, const float *bias, int N,
			  int C, int kind)
{
#pragma omp parallel for schedule(static) if ((double)N * C >= 1 << 16)
	for (int n = 0; n < N; n++) {
		float *x = pre + (size_t)n * C, *y = out + (size_t)n * C;
		for (int c = 0; c < C; c += NK_VW) {
			int w = C - c < NK_VW ? C - c : NK_VW;
			nk_vf v = nk_vload_n(x + c, w) + nk_vload_n(bias + c, w);
			nk_vstore_n(x + c, v, w);
			nk_vstore_n(y + c, vgelu(v, kind), w);
		}
	}
}
