/* winograd.c - 3x3 stride-1 convolution by Winograd's F(2x2, 3x3) or
 * F(4x4, 3x3): the plan, the products and how threads share them out.
 *
 * Each m x m output tile is A^T [ sum_c (G g G^T) .* (B^T d B) ] A, where
 * d is the (m+2) x (m+2) input tile, g the 3x3 kernel (Lavin & Gray 2015;
 * points 0, +-1 for m = 2, 0, +-1, +-2 for m = 4, and infinity).  The
 * element-wise products summed over c are nx = (m+2)^2 matrix products
 * (OC x C) @ (C x tiles), one per tile position xi: 16 multiplies per 4
 * outputs (F2) or 36 per 16 (F4) where a direct convolution does 9 per
 * output.  F4 does fewer but its points +-2 amplify rounding: 3e-4 off
 * the direct convolution on outputs of magnitude 1..10 where F2 is 2e-5
 * (tests/unit/test_conv_infer.c), so F2 is what plans choose.
 *
 * The products: a micro-kernel keeps 8 output channels by 48 tiles (or 24
 * by 16) of M in registers over all of C, the weights packed (nx, OC/MR,
 * C, MR) at plan time, V read as it was written; or, where 16-tile
 * vectors would run partly empty (13x13 outputs: 49 tiles), 7 tiles by
 * 64 channels (kern_t).  V (nx, C, tiles) holds a block of tile rows,
 * M (MR, nx, tiles) one block of output channels, transformed out while
 * in cache (winograd_tiles.c does the transforms).
 *
 * Threads take whole blocks, or blocks of output channels of a block,
 * each transforming the input into its own V (see nk_wino_run); every
 * element is computed by the same operations whichever thread does it
 * and whatever the block size, so results do not depend on the thread
 * count.
 */
#include "nn/conv_infer_impl.h"
#include "core/base.h"
#include "core/spans.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif


/* Tiles as rows, for blocks whose tile count is far from a multiple of 16
 * (13x13 outputs: 49 tiles): c (7 tiles x 64 channels) = a^T @ b, where
 * a is V (K x 7 of a row of stride lda) and b the packed weights (K x 64).
 * 28 accumulators; 49 tiles are 7 calls, not 64 lanes for 49. */
static void kern_t(int K, const float *a, size_t lda, const float *b,
		   float *c, size_t ldc)
{
	v16 acc[7][4];
	const v16 zero = {0};
	_Pragma("GCC unroll 7") for (int i = 0; i < 7; i++)
		_Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
			acc[i][j] = zero;
	for (int k = 0; k < K; k++) {
		v16 bv[4];
		_Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
			bv[j] = ld(b + 16 * j);
		_Pragma("GCC unroll 7") for (int i = 0; i < 7; i++) {
			v16 ai = a[i] - zero;
			_Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
				acc[i][j] += ai * bv[j];
		}
		a += lda;
		b += 64;
	}
	_Pragma("GCC unroll 7") for (int i = 0; i < 7; i++)
		_Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
			st(c + i * ldc + 16 * j, acc[i][j]);
}

/* The products of tile position xi for output channels ocb*MR .. +MR-1
 * over the nt tiles of a block, into m: (MR, nx, ntp), or (ntp, nx, MR)
 * with tiles as rows. */
static void products(const nk_wino *wp, float *m, const float *v, int xi,
		     int ocb, int nt, int ntp)
{
	int C = wp->C, MR = wp->MR;
	const float *u = wp->U + ((size_t)xi * wp->nocb + ocb) * C * MR;
	const float *b = v + (size_t)xi * C * ntp;
	if (wp->trans) {
		size_t ldc = (size_t)wp->nx * MR;
		for (int t = 0; t < nt; t += 7)
			kern_t(C, b + t, ntp, u, m + xi * MR + t * ldc, ldc);
		return;
	}
	size_t ldc = (size_t)wp->nx * ntp;
	float *c = m + (size_t)xi * ntp;
	for (int t = 0; t < ntp; ) {
		int nv = imin(wp->nv_max, (ntp - t) / 16);
		if (MR == 24)
			kern_24_1(C, u, b + t, ntp, c + t, ldc);
		else if (nv == 3)
			kern_8_3(C, u, b + t, ntp, c + t, ldc);
		else if (nv == 2)
			kern_8_2(C, u, b + t, ntp, c + t, ldc);
		else
			kern_8_1(C, u, b + t, ntp, c + t, ldc);
		t += 16 * nv;
	}
}

static int round16(int n)
{
	return (n + 15) / 16 * 16;
}

/* Tile slots of a block of nt tiles: vectors of 16, and room for the
 * last call of 7 in the tiles-as-rows layout. */
static int pad_tiles(const nk_wino *wp, int nt)
{
	return round16(wp->trans ? (nt + 6) / 7 * 7 : nt);
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
	/* Tiles as rows (kern_t) where the channels fill vectors of 64 and
	 * vectors of 16 tiles would leave over a tenth of their lanes empty,
	 * or the image is small (its outputs, stored one by one, few): its
	 * products load 4 vectors for 28 FMAs where kern_8_3 loads 11 for
	 * 24.  Measured on yolov3-tiny's 13x13 and 26x26 layers: 25-40%
	 * faster; on 104x104 (64 channels) 30% slower, the stores. */
	int nt0 = wp->nty * wp->TW;
	if (m == 2 && s->OC % 64 == 0 &&
	    ((round16(nt0) - nt0) * 10 > round16(nt0) || wp->TH * wp->TW <= 256))
		wp->trans = 1;
	wp->ntp = pad_tiles(wp, nt0);
	/* One vector of tiles (13x13 outputs): 24 channels per call keep the
	 * FMA units busy; otherwise 8 channels by up to 48 tiles. */
	if (wp->trans)
		wp->MR = 64, wp->nv_max = 0;
	else if (wp->ntp == 16 && s->OC >= 48)
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

/* A block's V (nx, C, ntp), and M (one block of channels). */
static size_t v_floats(const nk_wino *wp)
{
	return (size_t)wp->nx * wp->ntp * wp->C;
}
static size_t m_floats(const nk_wino *wp)
{
	return (size_t)wp->nx * wp->ntp * wp->MR;
}

/* A V and an M for each thread.  The batch does not change the size. */
size_t nk_wino_work_floats(const nk_wino *wp, int B)
{
	(void)B;
	return (v_floats(wp) + m_floats(wp)) * wp->slots;
}

/* A block of nb tile rows from ty0, in one thread's V and M. */
typedef struct {
	const nk_wino *wp;
	float *v, *m;
	const float *x;      /* (C, H, W) */
	float *y;            /* (OC, OH, OW) */
	const float *bias;
	nk_act act;
	int ty0, nb, ng, ntp;
	int pool;            /* y is (OC, OH/2, OW/2), max-pooled */
} blk;

static blk block_at(const nk_wino *wp, float *out, const float *in,
		    const float *bias, nk_act act, float *v, float *m, int b,
		    int ty0, int pool)
{
	blk k = {.wp = wp, .bias = bias, .act = act, .ty0 = ty0, .pool = pool};
	k.nb = imin(wp->nty, wp->TH - ty0);
	k.ng = (wp->TW + 15) / 16;
	k.ntp = pad_tiles(wp, k.nb * wp->TW);
	k.v = v;
	k.m = m;
	k.x = in + (size_t)b * wp->C * wp->H * wp->W;
	k.y = out + (size_t)b * wp->OC * (pool ? (size_t)(wp->OH / 2) * (wp->OW / 2) :
					  (size_t)wp->OH * wp->OW);
	return k;
}

/* The block's V: input channel c's tiles. */
static void block_input_channel(const blk *k, int c)
{
	const nk_wino *wp = k->wp;
	int nb = k->nb, ng = k->ng, ntp = k->ntp, TW = wp->TW, nt = nb * TW;
	size_t xs = (size_t)wp->C * ntp;
	float *vc = k->v + (size_t)c * ntp;
	const float *xc = k->x + (size_t)c * wp->H * wp->W;
	for (int tyl = 0; tyl < nb; tyl++)
		for (int g = 0; g < ng; g++) {
			int n = imin(16, TW - 16 * g);
			float *d = vc + tyl * TW + 16 * g;
			if (wp->m == 2)
				nk_wino_input_tiles2(d, xs, xc, wp, k->ty0 + tyl, g, n);
			else
				nk_wino_input_tiles4(d, xs, xc, wp, k->ty0 + tyl, g, n);
		}
	for (int xi = 0; xi < wp->nx && ntp > nt; xi++)
		memset(vc + xi * xs + nt, 0, (size_t)(ntp - nt) * sizeof *vc);
}

/* Output channels ocb*MR .. +MR-1 of the block: products, then the
 * output transform while M is still in cache. */
static void block_channels(const blk *k, int ocb)
{
	const nk_wino *wp = k->wp;
	int nb = k->nb, ng = k->ng, ntp = k->ntp, TW = wp->TW, nt = nb * TW;
	size_t out_plane = k->pool ? (size_t)(wp->OH / 2) * (wp->OW / 2) :
				     (size_t)wp->OH * wp->OW;
	for (int xi = 0; xi < wp->nx; xi++)
		products(wp, k->m, k->v, xi, ocb, nt, ntp);
	int oc0 = ocb * wp->MR, oc1 = imin(wp->OC, oc0 + wp->MR);
	if (wp->trans) {
		for (int t = 0; t < nt; t++)
			for (int oc = oc0; oc < oc1; oc += 16)
				nk_wino_output_tiles2t(k->y, k->m + (size_t)t * wp->nx *
						       wp->MR + (oc - oc0), wp->MR,
						       wp, k->ty0 + t / TW, t % TW,
						       oc, k->bias, k->act, k->pool);
		return;
	}
	for (int oc = oc0; oc < oc1; oc++) {
		const float *mo = k->m + (size_t)(oc - oc0) * wp->nx * ntp;
		float bo = k->bias ? k->bias[oc] : 0;
		for (int tyl = 0; tyl < nb; tyl++)
			for (int g = 0; g < ng; g++) {
				int n = imin(16, TW - 16 * g);
				const float *mt = mo + tyl * TW + 16 * g;
				if (wp->m == 2)
					nk_wino_output_tiles2(k->y + oc * out_plane, mt,
							      ntp, wp, k->ty0 + tyl,
							      g, n, bo, k->act, k->pool);
				else
					nk_wino_output_tiles4(k->y + oc * out_plane, mt,
							      ntp, wp, k->ty0 + tyl,
							      g, n, bo, k->act);
			}
	}
}

/* A unit of work is a block of output channels of an image block.  Each
 * thread takes a run of units (core/spans.h) and transforms the input of
 * each image block it comes to into its own V: many blocks (large images,
 * few channels) are shared out whole, one block (small images, many
 * channels) by its output channels, each thread transforming all of its
 * input.  No thread reads what another wrote or waits for another before
 * the end.  A V shared by the threads, each transforming part of it, then
 * all reading it, was measured slower: on yolov3-tiny's 13x13 and 26x26
 * layers the threads spent 1.15-1.5x one thread's CPU time, where a V of
 * its own costs each thread the repeated transform (the 512->1024 layer
 * at 13x13, alone: 1.00-1.01x one thread's CPU time on two, the input
 * transformed twice).  Neighbouring units are taken
 * by the same thread, save where two runs meet, so no two cores write
 * the edges of neighbouring tile rows at once.  Who computes an element
 * does not change its result. */
void nk_wino_run(const nk_wino *wp, float *out, const float *in, int B,
		 const float *bias, nk_act act, float *work, int pool)
{
	int nblk = (wp->TH + wp->nty - 1) / wp->nty;
	int nthr = 1;
#ifdef _OPENMP
	nthr = imin(omp_get_max_threads(), wp->slots);
#endif
	nk_spans sp;
	nk_spans_init(&sp, (long)B * nblk * wp->nocb, nthr);
#pragma omp parallel num_threads(nthr)
	{
		int t = 0;
#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		float *v = work + (size_t)t * (v_floats(wp) + m_floats(wp));
		long have = -1; /* the image block whose V is in v */
		blk k;
		for (long u; (u = nk_spans_next(&sp, t)) >= 0;) {
			long ub = u / wp->nocb;
			if (ub != have) {
				k = block_at(wp, out, in, bias, act, v,
					     v + v_floats(wp), (int)(ub / nblk),
					     (int)(ub % nblk) * wp->nty, pool);
				for (int c = 0; c < wp->C; c++)
					block_input_channel(&k, c);
				have = ub;
			}
			block_channels(&k, (int)(u % wp->nocb));
		}
	}
}
