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
 * C, MR) at plan time, V read as it was written.  V (nx, C, tiles) and
 * M (OCp, nx, tiles) hold a block of tile rows, sized to stay in cache
 * between the three phases: input transform, products, output transform
 * (winograd_tiles.c does the transforms).
 *
 * Threads take whole blocks when there are many (large images, few
 * channels), or else split each phase of a block (input channels, (xi,
 * channel block) products, output channels); every element is computed
 * by the same operations whichever thread does it and whatever the block
 * size, so results do not depend on the thread count.
 */
#include "nn/conv_infer_impl.h"
#include "core/base.h"

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

/* M rows (ocb*MR .. +MR-1, xi) over all ntp tiles of the block.  M is
 * (OCp, nx, ntp): the output transform of a channel then reads one
 * compact stretch, not nx pages far apart. */
static void products(const nk_wino *wp, float *m, const float *v, int xi,
		     int ocb, int nt, int ntp)
{
	int C = wp->C, MR = wp->MR;
	if (wp->trans) {
		/* M is (ntp, nx, OCp) here */
		size_t ldc = (size_t)wp->nx * wp->nocb * MR;
		const float *a = v + (size_t)xi * C * ntp;
		const float *b = wp->U + ((size_t)xi * wp->nocb + ocb) * C * MR;
		float *c = m + (size_t)xi * wp->nocb * MR + (size_t)ocb * MR;
		for (int t = 0; t < nt; t += 7)
			kern_t(C, a + t, ntp, b, c + t * ldc, ldc);
		return;
	}
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
			nk_wino_input_tiles2(vc + tyl * TW + 16 * g, xs, k->x + c * in_plane,
				     wp, k->ty0 + tyl, g, n);
		else
			nk_wino_input_tiles4(vc + tyl * TW + 16 * g, xs, k->x + c * in_plane,
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
			 k->nb * k->wp->TW, k->ntp);
}

static void phase_out(const blk *k, int u0, int u1)
{
	const nk_wino *wp = k->wp;
	int nb = k->nb, ng = k->ng, ntp = k->ntp, TW = wp->TW;
	size_t out_plane = (size_t)wp->OH * wp->OW;
	if (wp->trans) {
		/* units: tiles by groups of 16 channels */
		int nog = (wp->OC + 15) / 16, OCp = wp->nocb * wp->MR;
		for (int u = u0; u < u1; u++) {
			int t = u / nog, og = u % nog;
			nk_wino_output_tiles2t(k->y, k->m + ((size_t)t * wp->nx * OCp +
					       16 * og), OCp, wp, k->ty0 + t / TW,
					       t % TW, 16 * og, k->bias, k->act);
		}
		return;
	}
	for (int u = u0; u < u1; u++) {
		int oc = u / (nb * ng), tyl = u / ng % nb, g = u % ng;
		const float *mo = k->m + (size_t)oc * wp->nx * ntp + tyl * TW + 16 * g;
		int n = imin(16, TW - 16 * g);
		float bo = k->bias ? k->bias[oc] : 0;
		if (wp->m == 2)
			nk_wino_output_tiles2(k->y + oc * out_plane, mo, ntp, wp,
				      k->ty0 + tyl, g, n, bo, k->act);
		else
			nk_wino_output_tiles4(k->y + oc * out_plane, mo, ntp, wp,
				      k->ty0 + tyl, g, n, bo, k->act);
	}
}

static blk block_at(const nk_wino *wp, float *out, const float *in,
		    const float *bias, nk_act act, float *work, int b, int ty0)
{
	blk k = {.wp = wp, .bias = bias, .act = act, .ty0 = ty0};
	k.nb = imin(wp->nty, wp->TH - ty0);
	k.ng = (wp->TW + 15) / 16;
	k.ntp = pad_tiles(wp, k.nb * wp->TW);
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
#pragma omp for schedule(dynamic, 1)
			for (int u = 0; u < B * nblk; u++) {
				blk k = block_at(wp, out, in, bias, act, mine,
						 u / nblk, u % nblk * wp->nty);
				phase_in(&k, 0, wp->C * k.nb * k.ng);
				phase_products(&k, 0, wp->nx * wp->nocb);
				phase_out(&k, 0, wp->trans ? k.nb * wp->TW *
					  ((wp->OC + 15) / 16) : wp->OC * k.nb * k.ng);
			}
		}
		return;
	}
	/* Few large blocks: the threads share out each phase, in chunks of
	 * about 1/8 of a thread's share, taken as they come: a thread the
	 * system has paused for a while is not waited for at the end.  Who
	 * computes a unit does not change its result. */
#pragma omp parallel
	{
		int nthr = 1;
#ifdef _OPENMP
		nthr = omp_get_num_threads();
#endif
		for (int u = 0; u < B * nblk; u++) {
			blk k = block_at(wp, out, in, bias, act, work, u / nblk,
					 u % nblk * wp->nty);
			int nin = wp->C * k.nb * k.ng, nout = wp->OC * k.nb * k.ng;
			if (wp->trans)
				nout = k.nb * wp->TW * ((wp->OC + 15) / 16);
			int nprod = wp->nx * wp->nocb;
#pragma omp for schedule(dynamic, imax(1, nin / (8 * nthr)))
			for (int i = 0; i < nin; i++)
				phase_in(&k, i, i + 1);
#pragma omp for schedule(dynamic, imax(1, nprod / (8 * nthr)))
			for (int i = 0; i < nprod; i++)
				phase_products(&k, i, i + 1);
			/* No barrier after the output: the next block's input
			 * phase writes V, which no output reads, and its
			 * products write M only after the barrier that ends
			 * that input phase, which every thread reaches after
			 * its share of this output. */
#pragma omp for schedule(dynamic, imax(1, nout / (8 * nthr))) nowait
			for (int i = 0; i < nout; i++)
				phase_out(&k, i, i + 1);
		}
	}
}
