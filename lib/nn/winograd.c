/* winograd.c - 3x3 stride-1 convolution by Winograd's F(4x4, 3x3).
 *
 * Each 4x4 output tile is A^T [ sum_c (G g G^T) .* (B^T d B) ] A, where
 * d is the 6x6 input tile, g the 3x3 kernel (Lavin & Gray 2015, points
 * 0, +-1, +-2, infinity).  The element-wise products summed over c are 36
 * matrix products (OC x C) @ (C x tiles), one per tile position xi: 36
 * multiplies per 16 outputs where a direct convolution does 144.
 *
 * Layout: everything is vectorized over 16 neighbouring tiles of a tile
 * row (GCC vector extensions: AVX-512 with -march=native, plain code
 * elsewhere).  An input row of 64 + 2 floats is de-interleaved into the 6
 * columns each of 16 tiles needs; the output is interleaved back the same
 * way.  V (36, C, tiles) and M (36, OCp, tiles) hold the tiles of a block
 * of tile rows, sized to stay in cache between the three phases.
 *
 * Threads split each phase (input channels, (xi, channel block) products,
 * output channels); every element is computed by the same operations
 * whichever thread does it, so results do not depend on the thread count.
 */
#include "nn/conv_infer_impl.h"
#include "core/base.h"

#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

typedef float v16 __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

enum { NX = 36 };

static inline int imin(int a, int b)
{
	return a < b ? a : b;
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

static const v16i EVEN = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
static const v16i ODD = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
static const v16i LO = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const v16i HI = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
static const v16i NEXT0 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const v16i NEXT1 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17};

/* The 6 columns of 16 tiles from 66 floats of a row: d[s] lane k is
 * x[4k + s]. */
static inline void deinterleave(v16 d[6], const float *x)
{
	v16 a = ld(x), b = ld(x + 16), c = ld(x + 32), e = ld(x + 48);
	v16 t = ld(x + 64);
	v16 e0 = __builtin_shuffle(a, b, EVEN), e1 = __builtin_shuffle(a, b, ODD);
	v16 f0 = __builtin_shuffle(c, e, EVEN), f1 = __builtin_shuffle(c, e, ODD);
	d[0] = __builtin_shuffle(e0, f0, EVEN);
	d[2] = __builtin_shuffle(e0, f0, ODD);
	d[1] = __builtin_shuffle(e1, f1, EVEN);
	d[3] = __builtin_shuffle(e1, f1, ODD);
	d[4] = __builtin_shuffle(d[0], t, NEXT0);
	d[5] = __builtin_shuffle(d[1], t, NEXT1);
}

/* The inverse for 4 columns: x[4k + s] = y[s] lane k, 64 floats. */
static inline void interleave(float *x, const v16 y[4])
{
	v16 e0 = __builtin_shuffle(y[0], y[2], LO), f0 = __builtin_shuffle(y[0], y[2], HI);
	v16 e1 = __builtin_shuffle(y[1], y[3], LO), f1 = __builtin_shuffle(y[1], y[3], HI);
	st(x, __builtin_shuffle(e0, e1, LO));
	st(x + 16, __builtin_shuffle(e0, e1, HI));
	st(x + 32, __builtin_shuffle(f0, f1, LO));
	st(x + 48, __builtin_shuffle(f0, f1, HI));
}

/* B^T d for the 6 values of a tile column (or row). */
static inline void bt6(v16 o[6], const v16 d[6])
{
	o[0] = 4 * d[0] - 5 * d[2] + d[4];
	o[1] = (d[4] + d[3]) - 4 * (d[1] + d[2]);
	o[2] = (d[4] - d[3]) + 4 * (d[1] - d[2]);
	o[3] = (d[4] - d[2]) + 2 * (d[3] - d[1]);
	o[4] = (d[4] - d[2]) - 2 * (d[3] - d[1]);
	o[5] = 4 * d[1] - 5 * d[3] + d[5];
}

/* A^T m: 4 outputs from 6. */
static inline void at6(v16 o[4], const v16 m[6])
{
	v16 p12 = m[1] + m[2], m12 = m[1] - m[2];
	v16 p34 = m[3] + m[4], m34 = m[3] - m[4];
	o[0] = m[0] + p12 + p34;
	o[1] = m12 + 2 * m34;
	o[2] = p12 + 4 * p34;
	o[3] = m12 + 8 * m34 + m[5];
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

/* Input transform of channel plane x (H, W) for tiles (ty, 16g .. 16g+n-1)
 * into V + xi * xstride, tiles contiguous. */
static void input_tiles(float *v, size_t xstride, const float *x,
			const nk_wino4 *wp, int ty, int g, int n)
{
	int W = wp->W, x0 = 64 * g - wp->pad;
	v16 h[6][6]; /* h[j][r]: B^T along the row r, column j */
	for (int r = 0; r < 6; r++) {
		int y = 4 * ty - wp->pad + r;
		float buf[80];
		const float *row = buf;
		v16 d[6];
		if (y < 0 || y >= wp->H) {
			for (int j = 0; j < 6; j++)
				h[j][r] = (v16){0};
			continue;
		}
		if (x0 >= 0 && x0 + 80 <= W) {
			row = x + (size_t)y * W + x0;
		} else {
			int lo = x0 < 0 ? -x0 : 0, hi = imin(66, W - x0);
			memset(buf, 0, sizeof buf);
			if (hi > lo)
				memcpy(buf + lo, x + (size_t)y * W + x0 + lo,
				       (size_t)(hi - lo) * sizeof *buf);
		}
		deinterleave(d, row);
		v16 o[6];
		bt6(o, d);
		for (int j = 0; j < 6; j++)
			h[j][r] = o[j];
	}
	for (int j = 0; j < 6; j++) {
		v16 o[6];
		bt6(o, h[j]);
		for (int i = 0; i < 6; i++)
			st_n(v + (size_t)(i * 6 + j) * xstride, o[i], n);
	}
}

/* Output transform of M + xi * xstride (tiles contiguous) for tiles (ty,
 * 16g .. 16g+n-1) into plane y (OH, OW), with bias and activation. */
static void output_tiles(float *y, const float *m, size_t xstride,
			 const nk_wino4 *wp, int ty, int g, int n, float bias,
			 nk_act act)
{
	v16 t[4][6]; /* t[r][j]: A^T down column j, output row r */
	for (int j = 0; j < 6; j++) {
		v16 c[6], o[4];
		for (int i = 0; i < 6; i++)
			c[i] = ld_n(m + (size_t)(i * 6 + j) * xstride, n);
		at6(o, c);
		for (int r = 0; r < 4; r++)
			t[r][j] = o[r];
	}
	int cols = imin(64, wp->OW - 64 * g);
	for (int r = 0; r < 4 && 4 * ty + r < wp->OH; r++) {
		v16 o[4];
		float *dst = y + (size_t)(4 * ty + r) * wp->OW + 64 * g;
		at6(o, t[r]);
		for (int s = 0; s < 4; s++)
			o[s] = act_vec(o[s] + bias, act);
		if (cols == 64) {
			interleave(dst, o);
		} else {
			float buf[64];
			interleave(buf, o);
			memcpy(dst, buf, (size_t)cols * sizeof *buf);
		}
	}
}

/* c (MR_ x 16 NV_, row stride ldc) = a (K x MR_ packed) ^T @ b (K x 16 NV_,
 * row stride ldb): the accumulators stay in registers over all of K. */
#define KERNEL(MR_, NV_)                                                      \
	static void kern_##MR_##_##NV_(int K, const float *a, const float *b, \
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

/* M[xi] rows ocb*MR .. +MR-1 over all ntp tiles of the block. */
static void products(const nk_wino4 *wp, float *m, const float *v, int xi,
		     int ocb, int ntp)
{
	int C = wp->C, MR = wp->MR;
	const float *a = wp->U + ((size_t)xi * wp->nocb + ocb) * C * MR;
	const float *b = v + (size_t)xi * C * ntp;
	float *c = m + ((size_t)xi * wp->nocb * MR + (size_t)ocb * MR) * ntp;
	for (int t = 0; t < ntp; ) {
		int nv = imin(wp->nv_max, (ntp - t) / 16);
		if (MR == 24)
			kern_24_1(C, a, b + t, ntp, c + t, ntp);
		else if (nv == 3)
			kern_8_3(C, a, b + t, ntp, c + t, ntp);
		else if (nv == 2)
			kern_8_2(C, a, b + t, ntp, c + t, ntp);
		else
			kern_8_1(C, a, b + t, ntp, c + t, ntp);
		t += 16 * nv;
	}
}

static int round16(int n)
{
	return (n + 15) / 16 * 16;
}

int nk_wino4_init(nk_wino4 *wp, const nk_conv2d_shape *s, const float *w)
{
	static const double G[6][3] = {
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	};
	memset(wp, 0, sizeof *wp);
	wp->C = s->C, wp->OC = s->OC, wp->H = s->H, wp->W = s->W;
	wp->pad = s->pad;
	wp->OH = nk_conv2d_out_h(s), wp->OW = nk_conv2d_out_w(s);
	wp->TH = (wp->OH + 3) / 4, wp->TW = (wp->OW + 3) / 4;
	/* A block's V and M in about 2 MB (L2 and a slice of L3), but at
	 * least 48 tiles, or the whole image: U is read once per block. */
	size_t per_tile = (size_t)NX * (s->C + s->OC) * sizeof(float);
	int nt = (int)((2u << 20) / per_tile);
	if (nt < 48)
		nt = 48;
	wp->nty = imin(wp->TH, (nt + wp->TW - 1) / wp->TW);
	wp->ntp = round16(wp->nty * wp->TW);
	/* One vector of tiles (13x13 outputs): 24 channels per call keep the
	 * FMA units busy; otherwise 8 channels by up to 48 tiles. */
	if (wp->ntp == 16 && s->OC >= 48)
		wp->MR = 24, wp->nv_max = 1;
	else
		wp->MR = 8, wp->nv_max = 3;
	wp->nocb = (s->OC + wp->MR - 1) / wp->MR;
	size_t n = (size_t)NX * wp->nocb * wp->MR * s->C;
	wp->U = nk_malloc_aligned(n * sizeof *wp->U);
	if (!wp->U)
		return NK_ENOMEM;
	memset(wp->U, 0, n * sizeof *wp->U);
	for (int oc = 0; oc < s->OC; oc++)
		for (int c = 0; c < s->C; c++) {
			const float *g = w + ((size_t)oc * s->C + c) * 9;
			double gg[6][3], u;
			for (int i = 0; i < 6; i++)
				for (int b = 0; b < 3; b++)
					gg[i][b] = G[i][0] * g[b] + G[i][1] * g[3 + b] +
						   G[i][2] * g[6 + b];
			for (int i = 0; i < 6; i++)
				for (int j = 0; j < 6; j++) {
					u = gg[i][0] * G[j][0] + gg[i][1] * G[j][1] +
					    gg[i][2] * G[j][2];
					size_t at = (((size_t)(i * 6 + j) * wp->nocb +
						      oc / wp->MR) * s->C + c) * wp->MR +
						    oc % wp->MR;
					wp->U[at] = (float)u;
				}
		}
	return NK_OK;
}

void nk_wino4_free(nk_wino4 *wp)
{
	nk_free_aligned(wp->U);
	wp->U = NULL;
}

size_t nk_wino4_work_floats(const nk_wino4 *wp)
{
	return (size_t)NX * wp->ntp * ((size_t)wp->C + (size_t)wp->nocb * wp->MR);
}

void nk_wino4_run(const nk_wino4 *wp, float *out, const float *in, int B,
		  const float *bias, nk_act act, float *work)
{
	int C = wp->C, OC = wp->OC, TW = wp->TW, ng = (TW + 15) / 16;
	size_t in_plane = (size_t)wp->H * wp->W;
	size_t out_plane = (size_t)wp->OH * wp->OW;
	float *v = work;
	float *m = work + (size_t)NX * C * wp->ntp;
#pragma omp parallel
	for (int b = 0; b < B; b++)
		for (int ty0 = 0; ty0 < wp->TH; ty0 += wp->nty) {
			int nb = imin(wp->nty, wp->TH - ty0);
			int nt = nb * TW, ntp = round16(nt);
			const float *x = in + (size_t)b * C * in_plane;
			float *y = out + (size_t)b * OC * out_plane;
#pragma omp for schedule(static)
			for (int u = 0; u < C * nb * ng; u++) {
				int c = u / (nb * ng), tyl = u / ng % nb, g = u % ng;
				float *vc = v + (size_t)c * ntp;
				size_t xs = (size_t)C * ntp;
				input_tiles(vc + tyl * TW + 16 * g, xs,
					    x + c * in_plane, wp, ty0 + tyl, g,
					    imin(16, TW - 16 * g));
				if (tyl == nb - 1 && g == ng - 1 && ntp > nt)
					for (int xi = 0; xi < NX; xi++)
						memset(vc + xi * xs + nt, 0,
						       (size_t)(ntp - nt) * sizeof *v);
			}
#pragma omp for schedule(static)
			for (int u = 0; u < NX * wp->nocb; u++)
				products(wp, m, v, u / wp->nocb, u % wp->nocb, ntp);
#pragma omp for schedule(static)
			for (int u = 0; u < OC * nb * ng; u++) {
				int oc = u / (nb * ng), tyl = u / ng % nb, g = u % ng;
				size_t xs = (size_t)wp->nocb * wp->MR * ntp;
				output_tiles(y + oc * out_plane,
					     m + (size_t)oc * ntp + tyl * TW + 16 * g,
					     xs, wp, ty0 + tyl, g,
					     imin(16, TW - 16 * g),
					     bias ? bias[oc] : 0, act);
			}
		}
}
