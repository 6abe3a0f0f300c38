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

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef __AVX512F__
#include <immintrin.h>
#endif

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

static const v16i EVEN = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
static const v16i ODD = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
static const v16i LO = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const v16i HI = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
static const v16i NEXT0 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const v16i NEXT1 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17};

/* The 6 columns of 16 tiles from 66 floats of a row: d[s] lane k is
 * x[4k + s]. */
static inline void deinterleave(v16 d[6], const v16 x[5])
{
	v16 a = x[0], b = x[1], c = x[2], e = x[3], t = x[4];
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
static inline void interleave(v16 x[4], const v16 y[4])
{
	v16 e0 = __builtin_shuffle(y[0], y[2], LO), f0 = __builtin_shuffle(y[0], y[2], HI);
	v16 e1 = __builtin_shuffle(y[1], y[3], LO), f1 = __builtin_shuffle(y[1], y[3], HI);
	x[0] = __builtin_shuffle(e0, e1, LO);
	x[1] = __builtin_shuffle(e0, e1, HI);
	x[2] = __builtin_shuffle(f0, f1, LO);
	x[3] = __builtin_shuffle(f0, f1, HI);
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

/* F(2x2, 3x3): the 4 columns of 16 tiles from 34 floats, x[2k + s]. */
static inline void deinterleave2(v16 d[4], const v16 x[3])
{
	v16 a = x[0], b = x[1], t = x[2];
	d[0] = __builtin_shuffle(a, b, EVEN);
	d[1] = __builtin_shuffle(a, b, ODD);
	d[2] = __builtin_shuffle(d[0], t, NEXT0);
	d[3] = __builtin_shuffle(d[1], t, NEXT1);
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

static void input_tiles2(float *v, size_t xstride, const float *x,
			 const nk_wino *wp, int ty, int g, int n)
{
	v16 h[4][4]; /* h[j][r]: B^T along the row r, column j */
	for (int r = 0; r < 4; r++) {
		v16 rv[3], d[4], o[4];
		load_row(rv, 3, x, wp->H, wp->W, 2 * ty - wp->pad + r,
			 32 * g - wp->pad);
		deinterleave2(d, rv);
		bt4(o, d);
		for (int j = 0; j < 4; j++)
			h[j][r] = o[j];
	}
	for (int j = 0; j < 4; j++) {
		v16 o[4];
		bt4(o, h[j]);
		for (int i = 0; i < 4; i++)
			st_n(v + (size_t)(i * 4 + j) * xstride, o[i], n);
	}
}

static void output_tiles2(float *y, const float *m, size_t xstride,
			  const nk_wino *wp, int ty, int g, int n, float bias,
			  nk_act act)
{
	v16 t[2][4];
	for (int j = 0; j < 4; j++) {
		v16 c[4], o[2];
		if (n == 16)
			for (int i = 0; i < 4; i++)
				c[i] = ld(m + (size_t)(i * 4 + j) * xstride);
		else
			for (int i = 0; i < 4; i++)
				c[i] = ld_n(m + (size_t)(i * 4 + j) * xstride, n);
		at4(o, c);
		t[0][j] = o[0], t[1][j] = o[1];
	}
	int cols = imin(32, wp->OW - 32 * g);
	for (int r = 0; r < 2 && 2 * ty + r < wp->OH; r++) {
		v16 o[2], x[2];
		at4(o, t[r]);
		o[0] = act_vec(o[0] + bias, act);
		o[1] = act_vec(o[1] + bias, act);
		x[0] = __builtin_shuffle(o[0], o[1], LO);
		x[1] = __builtin_shuffle(o[0], o[1], HI);
		store_row(y + (size_t)(2 * ty + r) * wp->OW + 32 * g, x, cols);
	}
}

/* F(4x4, 3x3): input transform of channel plane x (H, W) for tiles (ty,
 * 16g .. 16g+n-1) into V + xi * xstride, tiles contiguous. */
static void input_tiles4(float *v, size_t xstride, const float *x,
			const nk_wino *wp, int ty, int g, int n)
{
	v16 h[6][6]; /* h[j][r]: B^T along the row r, column j */
	for (int r = 0; r < 6; r++) {
		v16 rv[5], d[6], o[6];
		load_row(rv, 5, x, wp->H, wp->W, 4 * ty - wp->pad + r,
			 64 * g - wp->pad);
		deinterleave(d, rv);
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

/* F(4x4, 3x3): output transform of M + xi * xstride (tiles contiguous) for tiles (ty,
 * 16g .. 16g+n-1) into plane y (OH, OW), with bias and activation. */
static void output_tiles4(float *y, const float *m, size_t xstride,
			 const nk_wino *wp, int ty, int g, int n, float bias,
			 nk_act act)
{
	v16 t[4][6]; /* t[r][j]: A^T down column j, output row r */
	for (int j = 0; j < 6; j++) {
		v16 c[6], o[4];
		if (n == 16)
			for (int i = 0; i < 6; i++)
				c[i] = ld(m + (size_t)(i * 6 + j) * xstride);
		else
			for (int i = 0; i < 6; i++)
				c[i] = ld_n(m + (size_t)(i * 6 + j) * xstride, n);
		at6(o, c);
		for (int r = 0; r < 4; r++)
			t[r][j] = o[r];
	}
	int cols = imin(64, wp->OW - 64 * g);
	for (int r = 0; r < 4 && 4 * ty + r < wp->OH; r++) {
		v16 o[4], x[4];
		at6(o, t[r]);
		for (int s = 0; s < 4; s++)
			o[s] = act_vec(o[s] + bias, act);
		interleave(x, o);
		store_row(y + (size_t)(4 * ty + r) * wp->OW + 64 * g, x, cols);
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

/* M rows (ocb*MR .. +MR-1, xi) over all ntp tiles of the block.  M is
 * (OCp, nx, ntp): the output transform of a channel then reads one
 * compact stretch, not nx pages far apart. */
static void products(const nk_wino *wp, float *m, const float *v, int xi,
		     int ocb, int ntp)
{
	int C = wp->C, MR = wp->MR;
	size_t ldc = (size_t)wp->nx * ntp;
	const float *a = wp->U + ((size_t)xi * wp->nocb + ocb) * C * MR;
	const float *b = v + (size_t)xi * C * ntp;
	float *c = m + (size_t)ocb * MR * ldc + (size_t)xi * ntp;
	for (int t = 0; t < ntp; ) {
		int nv = imin(wp->nv_max, (ntp - t) / 16);
		if (MR == 24)
			kern_24_1(C, a, b + t, ntp, c + t, ldc);
		else if (nv == 3)
			kern_8_3(C, a, b + t, ntp, c + t, ldc);
		else if (nv == 2)
			kern_8_2(C, a, b + t, ntp, c + t, ldc);
		else
			kern_8_1(C, a, b + t, ntp, c + t, ldc);
		t += 16 * nv;
	}
}

static int round16(int n)
{
	return (n + 15) / 16 * 16;
}

/* G, the kernel transform, of F(2x2, 3x3) and of F(4x4, 3x3). */
static const double G2[4][3] = {
	{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1},
};
static const double G4[6][3] = {
	{1.0 / 4, 0, 0},
	{-1.0 / 6, -1.0 / 6, -1.0 / 6},
	{-1.0 / 6, 1.0 / 6, -1.0 / 6},
	{1.0 / 24, 1.0 / 12, 1.0 / 6},
	{1.0 / 24, -1.0 / 12, 1.0 / 6},
	{0, 0, 1},
};

int nk_wino_init(nk_wino *wp, const nk_conv2d_shape *s, const float *w, int m)
{
	const double (*G)[3] = m == 2 ? G2 : G4;
	int n = m + 2; /* input tile side */
	memset(wp, 0, sizeof *wp);
	wp->m = m, wp->nx = n * n;
	wp->C = s->C, wp->OC = s->OC, wp->H = s->H, wp->W = s->W;
	wp->pad = s->pad;
	wp->OH = nk_conv2d_out_h(s), wp->OW = nk_conv2d_out_w(s);
	wp->TH = (wp->OH + m - 1) / m, wp->TW = (wp->OW + m - 1) / m;
	/* A block's V and M in about 2 MB (L2 and a slice of L3), but at
	 * least 48 tiles, or the whole image: U is read once per block. */
	size_t per_tile = (size_t)wp->nx * (s->C + s->OC) * sizeof(float);
	int nt = (int)((2u << 20) / per_tile);
	if (nt < 48)
		nt = 48;
	wp->nty = imin(wp->TH, (nt + wp->TW - 1) / wp->TW);
	/* Many small blocks (large images, few channels): each thread takes
	 * whole blocks in its own V and M, which stay in its core's L2, and
	 * no thread waits for another.  The blocks are then smaller (0.75 MB)
	 * and as many for every thread. */
#ifdef _OPENMP
	wp->slots = omp_get_max_threads();
#else
	wp->slots = 1;
#endif
	int rows = imax(1, (int)((3u << 18) / per_tile) / wp->TW);
	for (int r = imin(rows, wp->TH); r >= 1 && !wp->block_par; r--) {
		int nblk = (wp->TH + r - 1) / r;
		if (r * wp->TW >= 16 && nblk >= 4 * wp->slots &&
		    (nblk % wp->slots == 0 || nblk >= 16 * wp->slots))
			wp->block_par = 1, wp->nty = r;
	}
	wp->ntp = round16(wp->nty * wp->TW);
	/* One vector of tiles (13x13 outputs): 24 channels per call keep the
	 * FMA units busy; otherwise 8 channels by up to 48 tiles. */
	if (wp->ntp == 16 && s->OC >= 48)
		wp->MR = 24, wp->nv_max = 1;
	else
		wp->MR = 8, wp->nv_max = 3;
	wp->nocb = (s->OC + wp->MR - 1) / wp->MR;
	size_t nu = (size_t)wp->nx * wp->nocb * wp->MR * s->C;
	wp->U = nk_malloc_aligned(nu * sizeof *wp->U);
	if (!wp->U)
		return NK_ENOMEM;
	memset(wp->U, 0, nu * sizeof *wp->U);
	for (int oc = 0; oc < s->OC; oc++)
		for (int c = 0; c < s->C; c++) {
			const float *g = w + ((size_t)oc * s->C + c) * 9;
			double gg[6][3], u;
			for (int i = 0; i < n; i++)
				for (int b = 0; b < 3; b++)
					gg[i][b] = G[i][0] * g[b] + G[i][1] * g[3 + b] +
						   G[i][2] * g[6 + b];
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++) {
					u = gg[i][0] * G[j][0] + gg[i][1] * G[j][1] +
					    gg[i][2] * G[j][2];
					size_t at = (((size_t)(i * n + j) * wp->nocb +
						      oc / wp->MR) * s->C + c) * wp->MR +
						    oc % wp->MR;
					wp->U[at] = (float)u;
				}
		}
	return NK_OK;
}

void nk_wino_free(nk_wino *wp)
{
	nk_free_aligned(wp->U);
	wp->U = NULL;
}

/* V and M of one block. */
static size_t block_floats(const nk_wino *wp)
{
	return (size_t)wp->nx * wp->ntp * ((size_t)wp->C + (size_t)wp->nocb * wp->MR);
}

size_t nk_wino_work_floats(const nk_wino *wp)
{
	return block_floats(wp) * (wp->block_par ? wp->slots : 1);
}

/* A block of nb tile rows from ty0: its three phases over the units
 * u0 .. u1-1 of each, so that a caller can run a phase whole or share it
 * out among threads.  ntp = round16(nb * TW). */
typedef struct {
	const nk_wino *wp;
	float *v, *m;        /* (nx, C, ntp), (OCp, nx, ntp) */
	const float *x;      /* (C, H, W) */
	float *y;            /* (OC, OH, OW) */
	const float *bias;
	nk_act act;
	int ty0, nb, ng, ntp;
} blk;

static void phase_in(const blk *k, int u0, int u1)
{
	const nk_wino *wp = k->wp;
	int nb = k->nb, ng = k->ng, ntp = k->ntp, TW = wp->TW, nt = nb * TW;
	size_t xs = (size_t)wp->C * ntp, in_plane = (size_t)wp->H * wp->W;
	for (int u = u0; u < u1; u++) {
		int c = u / (nb * ng), tyl = u / ng % nb, g = u % ng;
		float *vc = k->v + (size_t)c * ntp;
		int n = imin(16, TW - 16 * g);
		if (wp->m == 2)
			input_tiles2(vc + tyl * TW + 16 * g, xs, k->x + c * in_plane,
				     wp, k->ty0 + tyl, g, n);
		else
			input_tiles4(vc + tyl * TW + 16 * g, xs, k->x + c * in_plane,
				     wp, k->ty0 + tyl, g, n);
		if (tyl == nb - 1 && g == ng - 1 && ntp > nt)
			for (int xi = 0; xi < wp->nx; xi++)
				memset(vc + xi * xs + nt, 0,
				       (size_t)(ntp - nt) * sizeof *vc);
	}
}

static void phase_products(const blk *k, int u0, int u1)
{
	for (int u = u0; u < u1; u++)
		products(k->wp, k->m, k->v, u / k->wp->nocb, u % k->wp->nocb,
			 k->ntp);
}

static void phase_out(const blk *k, int u0, int u1)
{
	const nk_wino *wp = k->wp;
	int nb = k->nb, ng = k->ng, ntp = k->ntp, TW = wp->TW;
	size_t out_plane = (size_t)wp->OH * wp->OW;
	for (int u = u0; u < u1; u++) {
		int oc = u / (nb * ng), tyl = u / ng % nb, g = u % ng;
		const float *mo = k->m + (size_t)oc * wp->nx * ntp + tyl * TW + 16 * g;
		int n = imin(16, TW - 16 * g);
		float bo = k->bias ? k->bias[oc] : 0;
		if (wp->m == 2)
			output_tiles2(k->y + oc * out_plane, mo, ntp, wp,
				      k->ty0 + tyl, g, n, bo, k->act);
		else
			output_tiles4(k->y + oc * out_plane, mo, ntp, wp,
				      k->ty0 + tyl, g, n, bo, k->act);
	}
}

static blk block_at(const nk_wino *wp, float *out, const float *in,
		    const float *bias, nk_act act, float *work, int b, int ty0)
{
	blk k = {.wp = wp, .bias = bias, .act = act, .ty0 = ty0};
	k.nb = imin(wp->nty, wp->TH - ty0);
	k.ng = (wp->TW + 15) / 16;
	k.ntp = round16(k.nb * wp->TW);
	k.v = work;
	k.m = work + (size_t)wp->nx * wp->C * wp->ntp;
	k.x = in + (size_t)b * wp->C * wp->H * wp->W;
	k.y = out + (size_t)b * wp->OC * wp->OH * wp->OW;
	return k;
}

void nk_wino_run(const nk_wino *wp, float *out, const float *in, int B,
		 const float *bias, nk_act act, float *work)
{
	int nblk = (wp->TH + wp->nty - 1) / wp->nty;
	if (wp->block_par) {
		int nthr = 1;
#ifdef _OPENMP
		nthr = imin(omp_get_max_threads(), wp->slots);
#endif
#pragma omp parallel num_threads(nthr)
		{
			int t = 0;
#ifdef _OPENMP
			t = omp_get_thread_num();
#endif
			float *mine = work + (size_t)t * block_floats(wp);
#pragma omp for schedule(static)
			for (int u = 0; u < B * nblk; u++) {
				blk k = block_at(wp, out, in, bias, act, mine,
						 u / nblk, u % nblk * wp->nty);
				phase_in(&k, 0, wp->C * k.nb * k.ng);
				phase_products(&k, 0, wp->nx * wp->nocb);
				phase_out(&k, 0, wp->OC * k.nb * k.ng);
			}
		}
		return;
	}
	/* Few large blocks: the threads share out each phase. */
#pragma omp parallel
	for (int u = 0; u < B * nblk; u++) {
		blk k = block_at(wp, out, in, bias, act, work, u / nblk,
				 u % nblk * wp->nty);
		int nin = wp->C * k.nb * k.ng, nout = wp->OC * k.nb * k.ng;
#pragma omp for schedule(static)
		for (int i = 0; i < nin; i++)
			phase_in(&k, i, i + 1);
#pragma omp for schedule(static)
		for (int i = 0; i < wp->nx * wp->nocb; i++)
			phase_products(&k, i, i + 1);
#pragma omp for schedule(static)
		for (int i = 0; i < nout; i++)
			phase_out(&k, i, i + 1);
	}
}
