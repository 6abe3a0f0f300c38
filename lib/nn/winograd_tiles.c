/* winograd_tiles.c - the tile transforms of winograd.c, vectorized over
 * 16 neighbouring tiles of a tile row: B^T d B of the input tiles into V
 * and A^T M A (+ bias, activation) of the products into the output, for
 * F(2x2, 3x3) and F(4x4, 3x3).
 *
 * An input row of 32 + 2 (or 64 + 2) floats is de-interleaved into the
 * 4 (6) columns each of 16 tiles needs, with AVX-512 permutes where the
 * compiler targets it (GCC vector extensions otherwise); the output is
 * interleaved back the same way and stored masked at the image's edge.
 */
#include "nn/conv_infer_impl.h"

#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* Lane permutations of two 16-float vectors (lanes 16..31 are the second
 * one's).  __builtin_shufflevector with constant lanes is what both gcc
 * (12 and later) and clang accept; gcc's __builtin_shuffle is not clang's,
 * and the fuzzing build compiles this file with clang. */
#define SHUF_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, \
	12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define SHUF_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, \
	13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define SHUF_LO(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, \
	3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define SHUF_HI(a, b) __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, \
	11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#define SHUF_NEXT0(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, \
	7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
#define SHUF_NEXT1(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, \
	7, 8, 9, 10, 11, 12, 13, 14, 15, 17)

/* The 6 columns of 16 tiles from 66 floats of a row: d[s] lane k is
 * x[4k + s]. */
static inline void deinterleave(v16 d[6], const v16 x[5])
{
	v16 a = x[0], b = x[1], c = x[2], e = x[3], t = x[4];
	v16 e0 = SHUF_EVEN(a, b), e1 = SHUF_ODD(a, b);
	v16 f0 = SHUF_EVEN(c, e), f1 = SHUF_ODD(c, e);
	d[0] = SHUF_EVEN(e0, f0);
	d[2] = SHUF_ODD(e0, f0);
	d[1] = SHUF_EVEN(e1, f1);
	d[3] = SHUF_ODD(e1, f1);
	d[4] = SHUF_NEXT0(d[0], t);
	d[5] = SHUF_NEXT1(d[1], t);
}

/* The inverse for 4 columns: x[4k + s] = y[s] lane k, 64 floats. */
static inline void interleave(v16 x[4], const v16 y[4])
{
	v16 e0 = SHUF_LO(y[0], y[2]), f0 = SHUF_HI(y[0], y[2]);
	v16 e1 = SHUF_LO(y[1], y[3]), f1 = SHUF_HI(y[1], y[3]);
	x[0] = SHUF_LO(e0, e1);
	x[1] = SHUF_HI(e0, e1);
	x[2] = SHUF_LO(f0, f1);
	x[3] = SHUF_HI(f0, f1);
}

/* n floats from dst on, 16 a vector, the last vector partial. */
static inline void store_row(float *dst, const v16 *x, int n)
{
	for (int k = 0; n > 0; k++, n -= 16)
		st_n(dst + 16 * k, x[k], imin(n, 16));
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

/* F(2x2, 3x3): the 4 columns of 16 tiles from 34 floats, x[2k + s]. */
static inline void deinterleave2(v16 d[4], const v16 x[3])
{
	v16 a = x[0], b = x[1], t = x[2];
	d[0] = SHUF_EVEN(a, b);
	d[1] = SHUF_ODD(a, b);
	d[2] = SHUF_NEXT0(d[0], t);
	d[3] = SHUF_NEXT1(d[1], t);
}
static inline void bt4(v16 o[4], const v16 d[4])
{
	o[0] = d[0] - d[2];
	o[1] = d[1] + d[2];
	o[2] = d[2] - d[1];
	o[3] = d[1] - d[3];
}
static inline void at4(v16 o[2], const v16 m[4])
{
	o[0] = m[0] + m[1] + m[2];
	o[1] = m[1] - m[2] - m[3];
}

/* Row y of plane x (H, W) from column x0 on, nv vectors, zero outside
 * the plane.  AVX-512 loads the edges masked, without a copy. */
static inline void load_row(v16 *r, int nv, const float *x, int H, int W,
			    int y, int x0)
{
	if (y < 0 || y >= H) {
		for (int k = 0; k < nv; k++)
			r[k] = (v16){0};
		return;
	}
	const float *row = x + (size_t)y * W;
	if (x0 >= 0 && x0 + 16 * nv <= W) {
		for (int k = 0; k < nv; k++)
			r[k] = ld(row + x0 + 16 * k);
		return;
	}
	for (int k = 0; k < nv; k++) {
		int lo = x0 + 16 * k; /* lanes lo.. lo+15 of the row */
		int a = lo < 0 ? -lo : 0, b = W - lo < 16 ? W - lo : 16;
		if (b <= a) {
			r[k] = (v16){0};
			continue;
		}
#ifdef __AVX512F__
		__mmask16 msk = (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1));
		/* masked-off lanes are not read, even before the row */
		r[k] = (v16)_mm512_maskz_loadu_ps(msk, (const char *)row +
						  (ptrdiff_t)lo * 4);
#else
		float t[16] = {0};
		memcpy(t + a, row + lo + a, (size_t)(b - a) * sizeof *t);
		r[k] = ld(t);
#endif
	}
}

void nk_wino_input_tiles2(float *v, size_t xstride, const float *x,
			 const nk_wino *wp, int ty, int g, int n)
{
	v16 h[4][4]; /* h[j][r]: B^T along the row r, column j */
	_Pragma("GCC unroll 8")
	for (int r = 0; r < 4; r++) {
		v16 rv[3], d[4], o[4];
		load_row(rv, 3, x, wp->H, wp->W, 2 * ty - wp->pad + r,
			 32 * g - wp->pad);
		deinterleave2(d, rv);
		bt4(o, d);
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 4; j++)
			h[j][r] = o[j];
	}
	_Pragma("GCC unroll 8")
	for (int j = 0; j < 4; j++) {
		v16 o[4];
		bt4(o, h[j]);
		_Pragma("GCC unroll 8")
		for (int i = 0; i < 4; i++)
			st_n(v + (size_t)(i * 4 + j) * xstride, o[i], n);
	}
}

void nk_wino_output_tiles2(float *y, const float *m, size_t xstride,
			  const nk_wino *wp, int ty, int g, int n, float bias,
			  nk_act act, int pool)
{
	v16 t[2][4];
	_Pragma("GCC unroll 8")
	for (int j = 0; j < 4; j++) {
		v16 c[4], o[2];
		if (n == 16)
			_Pragma("GCC unroll 8")
			for (int i = 0; i < 4; i++)
				c[i] = ld(m + (size_t)(i * 4 + j) * xstride);
		else
			_Pragma("GCC unroll 8")
			for (int i = 0; i < 4; i++)
				c[i] = ld_n(m + (size_t)(i * 4 + j) * xstride, n);
		at4(o, c);
		t[0][j] = o[0], t[1][j] = o[1];
	}
	if (pool) {
		/* Lane k is tile 16g + k: its 2x2 outputs are one window.
		 * Each column's two rows first, then the columns, as the
		 * max pool takes them. */
		v16 r0[2], r1[2];
		at4(r0, t[0]);
		at4(r1, t[1]);
		v16 c0 = max_later(act_vec(r0[0] + bias, act),
				   act_vec(r1[0] + bias, act));
		v16 c1 = max_later(act_vec(r0[1] + bias, act),
				   act_vec(r1[1] + bias, act));
		st_n(y + (size_t)ty * (wp->OW / 2) + 16 * g, max_later(c0, c1), n);
		return;
	}
	int cols = imin(32, wp->OW - 32 * g), rows = imin(2, wp->OH - 2 * ty);
	for (int r = 0; r < rows; r++) {
		v16 o[2], x[2];
		at4(o, t[r]);
		o[0] = act_vec(o[0] + bias, act);
		o[1] = act_vec(o[1] + bias, act);
		x[0] = SHUF_LO(o[0], o[1]);
		x[1] = SHUF_HI(o[0], o[1]);
		store_row(y + (size_t)(2 * ty + r) * wp->OW + 32 * g, x, cols);
	}
}

/* Tiles as rows: 16 channels of one tile a vector; the outputs go out
 * one by one, a plane apart (13x13 layers: few of them). */
void nk_wino_output_tiles2t(float *out, const float *m, size_t xstride,
			    const nk_wino *wp, int ty, int tx, int oc0,
			    const float *bias, nk_act act, int pool)
{
	int n = imin(16, wp->OC - oc0);
	v16 t[2][4], b = bias ? ld_n(bias + oc0, n) : (v16){0};
	_Pragma("GCC unroll 4")
	for (int j = 0; j < 4; j++) {
		v16 c[4], o[2];
		_Pragma("GCC unroll 4")
		for (int i = 0; i < 4; i++)
			c[i] = ld(m + (size_t)(i * 4 + j) * xstride);
		at4(o, c);
		t[0][j] = o[0], t[1][j] = o[1];
	}
	if (pool) {
		v16 r0[2], r1[2], v;
		float p[16];
		size_t pplane = (size_t)(wp->OH / 2) * (wp->OW / 2);
		at4(r0, t[0]);
		at4(r1, t[1]);
		v = max_later(max_later(act_vec(r0[0] + b, act),
					act_vec(r1[0] + b, act)),
			      max_later(act_vec(r0[1] + b, act),
					act_vec(r1[1] + b, act)));
		st(p, v);
		float *y = out + (size_t)oc0 * pplane + (size_t)ty * (wp->OW / 2) + tx;
		for (int k = 0; k < n; k++)
			y[k * pplane] = p[k];
		return;
	}
	size_t plane = (size_t)wp->OH * wp->OW;
	for (int r = 0; r < 2 && 2 * ty + r < wp->OH; r++) {
		v16 o[2];
		at4(o, t[r]);
		for (int s = 0; s < 2 && 2 * tx + s < wp->OW; s++) {
			float v[16];
			st(v, act_vec(o[s] + b, act));
			float *y = out + (size_t)oc0 * plane +
				   (size_t)(2 * ty + r) * wp->OW + 2 * tx + s;
			for (int k = 0; k < n; k++)
				y[k * plane] = v[k];
		}
	}
}

/* F(4x4, 3x3): input transform of channel plane x (H, W) for tiles (ty,
 * 16g .. 16g+n-1) into V + xi * xstride, tiles contiguous. */
void nk_wino_input_tiles4(float *v, size_t xstride, const float *x,
			const nk_wino *wp, int ty, int g, int n)
{
	v16 h[6][6]; /* h[j][r]: B^T along the row r, column j */
	_Pragma("GCC unroll 8")
	for (int r = 0; r < 6; r++) {
		v16 rv[5], d[6], o[6];
		load_row(rv, 5, x, wp->H, wp->W, 4 * ty - wp->pad + r,
			 64 * g - wp->pad);
		deinterleave(d, rv);
		bt6(o, d);
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 6; j++)
			h[j][r] = o[j];
	}
	_Pragma("GCC unroll 8")
	for (int j = 0; j < 6; j++) {
		v16 o[6];
		bt6(o, h[j]);
		_Pragma("GCC unroll 8")
		for (int i = 0; i < 6; i++)
			st_n(v + (size_t)(i * 6 + j) * xstride, o[i], n);
	}
}

/* F(4x4, 3x3): output transform of M + xi * xstride (tiles contiguous) for tiles (ty,
 * 16g .. 16g+n-1) into plane y (OH, OW), with bias and activation. */
void nk_wino_output_tiles4(float *y, const float *m, size_t xstride,
			 const nk_wino *wp, int ty, int g, int n, float bias,
			 nk_act act)
{
	v16 t[4][6]; /* t[r][j]: A^T down column j, output row r */
	_Pragma("GCC unroll 8")
	for (int j = 0; j < 6; j++) {
		v16 c[6], o[4];
		if (n == 16)
			_Pragma("GCC unroll 8")
			for (int i = 0; i < 6; i++)
				c[i] = ld(m + (size_t)(i * 6 + j) * xstride);
		else
			_Pragma("GCC unroll 8")
			for (int i = 0; i < 6; i++)
				c[i] = ld_n(m + (size_t)(i * 6 + j) * xstride, n);
		at6(o, c);
		_Pragma("GCC unroll 8")
		for (int r = 0; r < 4; r++)
			t[r][j] = o[r];
	}
	int cols = imin(64, wp->OW - 64 * g), rows = imin(4, wp->OH - 4 * ty);
	for (int r = 0; r < rows; r++) {
		v16 o[4], x[4];
		at6(o, t[r]);
		_Pragma("GCC unroll 8")
		for (int s = 0; s < 4; s++)
			o[s] = act_vec(o[s] + bias, act);
		interleave(x, o);
		store_row(y + (size_t)(4 * ty + r) * wp->OW + 64 * g, x, cols);
	}
}

