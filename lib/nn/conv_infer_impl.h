/* conv_infer_impl.h - private to conv_infer.c and winograd.c: the Winograd
 * plan and the activation both algorithms apply as they write the output.
 */
#ifndef NK_NN_CONV_INFER_IMPL_H
#define NK_NN_CONV_INFER_IMPL_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "nn/activation.h"
#include "nn/conv.h"

/* Winograd F(m x m, 3x3), m 2 or 4: output tiles of m x m from input
 * tiles of (m+2) x (m+2), nx = (m+2)^2 products per tile.
 * The output is cut into TH x TW tiles; a block of nty tile rows is
 * transformed, multiplied and transformed back before the next, so that
 * its V (nx, C, ntp) and M (MR, nx, ntp) stay in cache. */
typedef struct {
	int m, nx;
	int C, OC, H, W, pad, OH, OW, TH, TW;
	int MR;       /* output channels per micro-kernel (8 or 24) */
	int nocb;     /* blocks of MR output channels; OCp = nocb * MR */
	int nv_max;   /* vectors of 16 tiles per micro-kernel call */
	int nty;      /* tile rows per block */
	int ntp;      /* tiles per block rounded up to 16 (the largest block) */
	int block_par;/* many small blocks (threads take whole ones) */
	int slots;    /* threads the work holds a V and an M for */
	int trans;    /* tiles as rows: M (ntp, nx, MR), MR 64 */
	float *U;     /* (nx, nocb, C, MR): G g G^T, zero past OC */
} nk_wino;

int nk_wino_init(nk_wino *wp, const nk_conv2d_shape *s, const float *w, int m);
void nk_wino_free(nk_wino *wp);
size_t nk_wino_work_floats(const nk_wino *wp, int B);
/* pool: out is (B, OC, OH/2, OW/2), each 2x2 output tile max-pooled to
 * one value (F2 only, OH and OW even). */
void nk_wino_run(const nk_wino *wp, float *out, const float *in, int B,
		  const float *bias, nk_act act, float *work, int pool);

/* 16 floats: the vector the Winograd code works in (GCC vector
 * extensions; one AVX-512 register with -march=native). */
typedef float v16 __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

static inline int imin(int a, int b)
{
	return a < b ? a : b;
}
static inline int imax(int a, int b)
{
	return a > b ? a : b;
}

static inline v16 ld(const float *p)
{
	v16 v;
	memcpy(&v, p, sizeof v);
	return v;
}
static inline void st(float *p, v16 v)
{
	memcpy(p, &v, sizeof v);
}
/* The first n lanes; the rest read as zero and are not touched. */
static inline v16 ld_n(const float *p, int n)
{
	if (n == 16)
		return ld(p);
#ifdef __AVX512F__
	return (v16)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#else
	float t[16] = {0};
	memcpy(t, p, (size_t)n * sizeof *t);
	return ld(t);
#endif
}
static inline void st_n(float *p, v16 v, int n)
{
	if (n == 16) {
		st(p, v);
		return;
	}
#ifdef __AVX512F__
	_mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
#else
	float t[16];
	st(t, v);
	memcpy(p, t, (size_t)n * sizeof *t);
#endif
}

/* The tile transforms (winograd_tiles.c).  Input: channel plane x (H, W)
 * for the n <= 16 tiles (ty, 16g ..) into v + xi * xstride, tiles
 * contiguous.  Output: m + xi * xstride for the same tiles into plane y
 * (OH, OW), plus bias, through the activation. */
void nk_wino_input_tiles2(float *v, size_t xstride, const float *x,
			  const nk_wino *wp, int ty, int g, int n);
void nk_wino_input_tiles4(float *v, size_t xstride, const float *x,
			  const nk_wino *wp, int ty, int g, int n);
/* pool: each tile's 4 outputs max-pooled into plane y (OH/2, OW/2). */
void nk_wino_output_tiles2(float *y, const float *m, size_t xstride,
			   const nk_wino *wp, int ty, int g, int n, float bias,
			   nk_act act, int pool);
/* Tiles as rows: tile (ty, tx), channels oc0 .. oc0+15 (those < OC) from
 * m + xi * xstride, channels contiguous, into out (OC, OH, OW), or
 * pooled into out (OC, OH/2, OW/2). */
void nk_wino_output_tiles2t(float *out, const float *m, size_t xstride,
			    const nk_wino *wp, int ty, int tx, int oc0,
			    const float *bias, nk_act act, int pool);
void nk_wino_output_tiles4(float *y, const float *m, size_t xstride,
			   const nk_wino *wp, int ty, int g, int n, float bias,
			   nk_act act);

/* darknet's activations; softplus cut off where darknet cuts it. */
static inline float nk_ci_softplus(float x)
{
	if (x > 20)
		return x;
	if (x < -20)
		return expf(x);
	return log1pf(expf(x));
}

/* x[i] = act(x[i] + b) for i < n: the last step of every output row.
 * The switch is outside the loops so that each loop vectorizes. */
static inline void nk_ci_bias_act(float *x, int n, float b, nk_act act)
{
	switch (act) {
	case NK_ACT_LEAKY:
		for (int i = 0; i < n; i++) {
			float v = x[i] + b;
			x[i] = v > 0 ? v : 0.1f * v;
		}
		break;
	case NK_ACT_RELU:
		for (int i = 0; i < n; i++) {
			float v = x[i] + b;
			x[i] = v > 0 ? v : 0;
		}
		break;
	case NK_ACT_LOGISTIC:
		for (int i = 0; i < n; i++)
			x[i] = 1 / (1 + expf(-(x[i] + b)));
		break;
	case NK_ACT_MISH:
		for (int i = 0; i < n; i++) {
			float v = x[i] + b;
			x[i] = v * tanhf(nk_ci_softplus(v));
		}
		break;
	case NK_ACT_SILU:
		for (int i = 0; i < n; i++) {
			float v = x[i] + b;
			x[i] = v / (1 + expf(-v));
		}
		break;
	default:
		for (int i = 0; i < n; i++)
			x[i] += b;
		break;
	}
}

/* The activations in vector form where they are cheap (max(x, 0.1 x) is
 * leaky for any x but NaN); the rest go through the scalar functions. */
static inline v16 act_vec(v16 x, nk_act act)
{
	v16i m;
	switch (act) {
	case NK_ACT_LINEAR:
		return x;
	case NK_ACT_LEAKY:
		m = x > 0;
		return (v16)(((v16i)x & m) | ((v16i)(0.1f * x) & ~m));
	case NK_ACT_RELU:
		m = x > 0;
		return (v16)((v16i)x & m);
	default: {
		float t[16];
		st(t, x);
		nk_ci_bias_act(t, 16, 0, act);
		return ld(t);
	}
	}
}

/* b > a ? b : a lane by lane: a max pool's step, the earlier value
 * kept on ties (and on NaN), as nk_maxpool_forward keeps it. */
static inline v16 max_later(v16 a, v16 b)
{
	v16i m = b > a;
	return (v16)(((v16i)b & m) | ((v16i)a & ~m));
}

/* x[i] = act(x[i] + b) for i < n, 16 at a time. */
static inline void nk_ci_bias_act_vec(float *x, int n, float b, nk_act act)
{
	int i = 0;
	for (; i + 16 <= n; i += 16)
		st(x + i, act_vec(ld(x + i) + b, act));
	if (i < n)
		st_n(x + i, act_vec(ld_n(x + i, n - i) + b, act), n - i);
}

/* The micro-kernels of the Winograd products and the 1x1 path. */
/* c (MR_ x 16 NV_, row stride ldc) = a (K x MR_ packed) ^T @ b (K x 16 NV_,
 * row stride ldb): the accumulators stay in registers over all of K. */
#define KERNEL(MR_, NV_)                                                      \
	static inline void kern_##MR_##_##NV_(int K, const float *a, const float *b, \
				       size_t ldb, float *c, size_t ldc)      \
	{                                                                     \
		v16 acc[MR_][NV_];                                            \
		const v16 zero = {0};                                         \
		_Pragma("GCC unroll 24") for (int i = 0; i < MR_; i++)        \
			_Pragma("GCC unroll 3") for (int j = 0; j < NV_; j++) \
				acc[i][j] = zero;                             \
		for (int k = 0; k < K; k++) {                                 \
			v16 bv[NV_];                                          \
			_Pragma("GCC unroll 3") for (int j = 0; j < NV_; j++) \
				bv[j] = ld(b + 16 * j);                       \
			_Pragma("GCC unroll 24") for (int i = 0; i < MR_; i++) { \
				v16 ai = a[i] - zero;                         \
				_Pragma("GCC unroll 3") for (int j = 0; j < NV_; j++) \
					acc[i][j] += ai * bv[j];              \
			}                                                     \
			a += MR_;                                             \
			b += ldb;                                             \
		}                                                             \
		_Pragma("GCC unroll 24") for (int i = 0; i < MR_; i++)        \
			_Pragma("GCC unroll 3") for (int j = 0; j < NV_; j++) \
				st(c + i * ldc + 16 * j, acc[i][j]);          \
	}
KERNEL(8, 1)
KERNEL(8, 2)
KERNEL(8, 3)
KERNEL(24, 1)

/* Direct 3x3 stride-1 convolution for few input channels (conv_direct.c):
 * weights packed by nk_direct3_pack into (OC/8) * C * 9 * 8 floats. */
size_t nk_direct3_work_floats(const nk_conv2d_shape *s, int slots);
void nk_direct3_pack(float *wp, const float *w, const nk_conv2d_shape *s);
void nk_direct3_run(const float *wp, const nk_conv2d_shape *s, float *out,
		    const float *in, int B, const float *bias, nk_act act,
		    float *work, int slots, int pool);

#endif
