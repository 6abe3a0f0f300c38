/* gemm.c - blocked, packed, vectorized, OpenMP-parallel SGEMM.
 *
 * The structure is the Goto/BLIS one: C is cut into NC-wide column blocks
 * and KC-deep slices of K; each slice of B is packed into NR-wide panels
 * so the micro-kernel streams it from contiguous memory; A is read in
 * place, MR rows of op(A) at a time (packing it into MR-tall panels made
 * a narrow product, N of 128, take 1.6x as long), and only a last partial
 * panel is packed (or all of A where its rows are 4 KB apart and C is
 * wide).  The micro-kernel keeps an MR x NR block of C in vector
 * registers.  B's packing also absorbs its transpose.
 *
 * Threads share out tiles of C (a block of rows times a group of column
 * panels): row blocks when M is tall, column groups when M is short (the
 * recurrent step of an RNN is 50 x 512 x 128).  Whoever computes a tile,
 * every element of C is the same sum: each KC slice is summed in
 * registers from zero in order p = 0..kc-1 and added to C, the slices in
 * order.  So results are bit-identical for any thread count, and for any
 * M (a row of C depends only on its row of A).
 * Small products run on the calling thread alone; the B packing buffer is
 * per thread and kept between calls, so a small GEMM costs no malloc.
 * A partial tile at an edge is computed like a full one, so an element's
 * bits never depend on M, N or where the tile boundaries fall.
 */
#include "core/gemm.h"
#include "core/base.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef NK_USE_OPENBLAS
#include <cblas.h>
#endif

/* The register block follows the vector width the compiler targets:
 * AVX-512 has 32 registers of 16 floats, room for a 12 x 32 block of C
 * (24 accumulators); AVX2 has 16 of 8, room for 6 x 16 (12 accumulators). */
#ifdef __AVX512F__
enum { VW = 16, MR = 12 };
#else
enum { VW = 8, MR = 6 };
#endif
enum { NR = 2 * VW, MC = 12 * MR, KC = 256, NC = 2048 };
/* Below this many multiply-adds a product stays on one thread. */
#define PAR_MIN_WORK (1 << 20)

typedef float vecf __attribute__((vector_size(VW * 4), aligned(4)));

static inline int imin(int a, int b)
{
	return a < b ? a : b;
}
static inline int round_up(int n, int m)
{
	return (n + m - 1) / m * m;
}

/* Element (i, p) of op(A) and (p, j) of op(B). */
static inline float a_at(const float *A, int lda, int ta, int i, int p)
{
	return ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
}
static inline float b_at(const float *B, int ldb, int tb, int p, int j)
{
	return tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
}

#ifdef __AVX512F__
#include <immintrin.h>
/* r[k] = column k of the 16 x 16 block whose rows are r[0..15]. */
static inline __attribute__((always_inline)) void transpose16(__m512 r[16])
{
	__m512 t[16];
	for (int i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
		t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
	}
	for (int i = 0; i < 16; i += 4) {
		r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
		r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
		r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
		r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
	}
	for (int i = 0; i < 4; i++) {
		t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
		t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
		t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
		t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
	}
	for (int i = 0; i < 4; i++) {
		r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
		r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
		r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
		r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
	}
}

/* One full panel of A not transposed: 12 rows of kc, stored p-major
 * (dst[p*12 + i] = src[i][p]).  Sixteen columns at a time go through a
 * 16 x 16 register transpose (rows 12..15 are don't-care) and out as 16
 * masked stores of 12 floats; the rest one by one.  Used where A is
 * packed whole (rows 4 KB apart, C wide: see gemm_team). */
static void pack_a_rows12(float *dst, const float *src, int lda, int kc)
{
	int p = 0;
	for (; p + 16 <= kc; p += 16) {
		__m512 r[16];
		for (int i = 0; i < 12; i++)
			r[i] = _mm512_loadu_ps(src + (size_t)i * lda + p);
		for (int i = 12; i < 16; i++)
			r[i] = _mm512_setzero_ps();
		transpose16(r);
		for (int k = 0; k < 16; k++)
			_mm512_mask_storeu_ps(dst + (size_t)(p + k) * MR,
					      0x0fff, r[k]);
	}
	for (; p < kc; p++)
		for (int i = 0; i < 12; i++)
			dst[(size_t)p * MR + i] = src[(size_t)i * lda + p];
}

/* One panel of B transposed (row j of src is column j of op(B)): nr <= 32
 * rows of kc into dst[p*32 + j], zero past nr.  The weight matrices of
 * every forward product (x @ W^T) come this way; one scalar store per
 * element took 3% of a BERT-Tiny step. */
static void pack_b_rows32(float *dst, const float *src, int ldb, int nr,
			  int kc)
{
	int p = 0;
	for (; p + 16 <= kc; p += 16)
		for (int jb = 0; jb < NR; jb += 16) {
			__m512 r[16];
			for (int i = 0; i < 16; i++)
				r[i] = jb + i < nr
				       ? _mm512_loadu_ps(src + (size_t)(jb + i) * ldb + p)
				       : _mm512_setzero_ps();
			transpose16(r);
			for (int k = 0; k < 16; k++)
				_mm512_storeu_ps(dst + (size_t)(p + k) * NR + jb,
						 r[k]);
		}
	for (; p < kc; p++)
		for (int j = 0; j < NR; j++)
			dst[(size_t)p * NR + j] = j < nr ? src[(size_t)j * ldb + p] : 0;
}
#endif

/* Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels, zero-padding the
 * last. */
static void pack_a(float *dst, const float *A, int lda, int ta, int i0, int mc,
		   int p0, int kc)
{
	for (int ir = 0; ir < mc; ir += MR) {
		int mr = imin(MR, mc - ir);
		if (ta) {
			/* Per p, mr floats of one row, as one masked load and
			 * store (a last partial panel of a weight gradient's
			 * dY^T). */
#ifdef __AVX512F__
			__mmask16 m = (__mmask16)((1u << mr) - 1);
			for (int p = 0; p < kc; p++) {
				const float *src = A + (size_t)(p0 + p) * lda + i0 + ir;
				_mm512_mask_storeu_ps(dst, 0x0fff,
						      _mm512_maskz_loadu_ps(m, src));
				dst += MR;
			}
#else
			for (int p = 0; p < kc; p++) {
				const float *src = A + (size_t)(p0 + p) * lda + i0 + ir;
				for (int i = 0; i < mr; i++)
					dst[i] = src[i];
				for (int i = mr; i < MR; i++)
					dst[i] = 0;
				dst += MR;
			}
#endif
		} else {
#ifdef __AVX512F__
			if (mr == MR) {
				pack_a_rows12(dst, A + (size_t)(i0 + ir) * lda + p0,
					      lda, kc);
				dst += (size_t)kc * MR;
				continue;
			}
#endif
			if (mr < MR)
				memset(dst, 0, (size_t)kc * MR * sizeof *dst);
			for (int i = 0; i < mr; i++) {
				const float *src = A + (size_t)(i0 + ir + i) * lda + p0;
				for (int p = 0; p < kc; p++)
					dst[(size_t)p * MR + i] = src[p];
			}
			dst += (size_t)kc * MR;
		}
	}
}

/* Packs op(B)[p0:p0+kc, j0:j0+nr] (nr <= NR) into one NR-wide panel. */
static void pack_b_panel(float *dst, const float *B, int ldb, int tb, int p0,
			 int kc, int j0, int nr)
{
	if (!tb) {
		/* A full panel's rows as fixed-size copies, which the compiler
		 * turns into two vector moves (a call to memcpy per 128 bytes
		 * cost 2.6% of a BERT-Tiny step). */
		if (nr == NR) {
			for (int p = 0; p < kc; p++, dst += NR)
				memcpy(dst, B + (size_t)(p0 + p) * ldb + j0,
				       NR * sizeof *dst);
			return;
		}
		for (int p = 0; p < kc; p++, dst += NR) {
			const float *src = B + (size_t)(p0 + p) * ldb + j0;
			memcpy(dst, src, (size_t)nr * sizeof *dst);
			for (int j = nr; j < NR; j++)
				dst[j] = 0;
		}
	} else {
#ifdef __AVX512F__
		pack_b_rows32(dst, B + (size_t)j0 * ldb + p0, ldb, nr, kc);
#else
		if (nr < NR)
			memset(dst, 0, (size_t)kc * NR * sizeof *dst);
		for (int j = 0; j < nr; j++) {
			const float *src = B + (size_t)(j0 + j) * ldb + p0;
			for (int p = 0; p < kc; p++)
				dst[(size_t)p * NR + j] = src[p];
		}
#endif
	}
}

/* C[0:mr, 0:nr] += alpha * Apanel @ Bpanel over kc steps; element (i, p)
 * of the A panel at a[i * rs + p * ps]: a packed panel (rs 1, ps MR) or
 * MR rows of op(A) read in place (kernel_rows, kernel_cols below). */
static inline __attribute__((always_inline)) void
kernel_body(int kc, float alpha, const float *a, size_t rs, size_t ps,
	    const float *b, float *C, int ldc, int mr, int nr, int load_c)
{
	/* Fully unrolled over i so the 2*MR accumulators live in registers;
	 * a[i] - 0 is a broadcast of a[i] (x - 0 == x for every float,
	 * -0 included, so the compiler drops the subtraction). */
	vecf acc[MR][2];
	const vecf zero = {0};
#pragma GCC unroll 16
	for (int i = 0; i < MR; i++)
		acc[i][0] = acc[i][1] = zero;
	for (int p = 0; p < kc; p++) {
		vecf b0, b1;
		memcpy(&b0, b, sizeof b0);
		memcpy(&b1, b + VW, sizeof b1);
#pragma GCC unroll 16
		for (int i = 0; i < MR; i++) {
			vecf ai = a[i * rs] - zero;
			acc[i][0] += ai * b0;
			acc[i][1] += ai * b1;
		}
		a += ps;
		b += NR;
	}
	/* A partial tile goes through the same vector arithmetic as a full
	 * one, so an element's bits never depend on where its tile ends.
	 * Without load_c (beta = 0, first slice) C is taken as +0 without
	 * being read: the same sums as zeroing C first, one pass fewer. */
	float tile[MR][NR] __attribute__((aligned(64)));
	float *c = C;
	int ldt = ldc;
	if (mr < MR || nr < NR) {
		memset(tile, 0, sizeof tile);
		for (int i = 0; i < mr && load_c; i++)
			memcpy(tile[i], C + (size_t)i * ldc, (size_t)nr * sizeof(float));
		c = &tile[0][0];
		ldt = NR;
		load_c = 1;
	}
#pragma GCC unroll 16
	for (int i = 0; i < MR; i++) {
		float *ci = c + (size_t)i * ldt;
		vecf c0 = zero, c1 = zero;
		if (load_c) {
			memcpy(&c0, ci, sizeof c0);
			memcpy(&c1, ci + VW, sizeof c1);
		}
		c0 += alpha * acc[i][0];
		c1 += alpha * acc[i][1];
		memcpy(ci, &c0, sizeof c0);
		memcpy(ci + VW, &c1, sizeof c1);
	}
	if (c != C)
		for (int i = 0; i < mr; i++)
			memcpy(C + (size_t)i * ldc, tile[i], (size_t)nr * sizeof(float));
}

static void kernel(int kc, float alpha, const float *a, const float *b,
		   float *C, int ldc, int mr, int nr, int load_c)
{
	kernel_body(kc, alpha, a, 1, MR, b, C, ldc, mr, nr, load_c);
}

/* The same sums from MR full rows of op(A) read in place, no packing: A
 * not transposed gives MR row streams (rs lda, ps 1), A transposed MR
 * adjacent floats at every p (rs 1, ps lda), the packed layout with a
 * longer step.  Packing made a product whose A block meets only a few
 * column panels (N of 128: four) take 1.6x as long. */
static void kernel_rows(int kc, float alpha, const float *a, int lda,
			const float *b, float *C, int ldc, int nr, int load_c)
{
	kernel_body(kc, alpha, a, (size_t)lda, 1, b, C, ldc, MR, nr, load_c);
}

static void kernel_cols(int kc, float alpha, const float *a, int lda,
			const float *b, float *C, int ldc, int nr, int load_c)
{
	kernel_body(kc, alpha, a, 1, (size_t)lda, b, C, ldc, MR, nr, load_c);
}

static void scale_c(int M, int N, float beta, float *C, int ldc)
{
	if (beta == 1.0f)
		return;
	for (int i = 0; i < M; i++) {
		float *c = C + (size_t)i * ldc;
		if (beta == 0.0f)
			memset(c, 0, (size_t)N * sizeof *c);
		else
			for (int j = 0; j < N; j++)
				c[j] *= beta;
	}
}

/* C += alpha * op(A) @ op(B) with the loops in i, p, j order. */
static void gemm_unpacked(int ta, int tb, int M, int N, int K, float alpha,
			  const float *A, int lda, const float *B, int ldb,
			  float *C, int ldc)
{
	for (int i = 0; i < M; i++)
		for (int p = 0; p < K; p++) {
			float a = alpha * a_at(A, lda, ta, i, p);
			float *c = C + (size_t)i * ldc;
			for (int j = 0; j < N; j++)
				c[j] += a * b_at(B, ldb, tb, p, j);
		}
}

/* The calling thread's packing buffer, kept between calls. */
static _Thread_local float *tl_buf;
static _Thread_local size_t tl_cap;

static float *thread_buffer(size_t floats)
{
	if (floats > tl_cap) {
		float *p = nk_malloc_aligned(floats * sizeof(float));
		if (!p)
			return NULL;
		nk_free_aligned(tl_buf);
		tl_buf = p;
		tl_cap = floats;
	}
	return tl_buf;
}

static int use_threads(double work)
{
#ifdef _OPENMP
	return work >= PAR_MIN_WORK && !omp_in_parallel() &&
	       omp_get_max_threads() > 1;
#else
	(void)work;
	return 0;
#endif
}

static int team_size(void)
{
#ifdef _OPENMP
	return omp_get_num_threads();
#else
	return 1;
#endif
}

/* C += alpha * op(A) @ op(B), op(B) either pre-packed (Bp, laid out as
 * nk_sgemm_pack_b lays it out) or packed here, slice by slice, into
 * bbuf (KC * round_up(min(N, NC), NR) floats).  Run by every thread of
 * the current team (its worksharing loops are orphaned: outside a
 * parallel region they run on the calling thread alone); nth is the team
 * size, which decides the tiling and nothing else.  Ends on a barrier. */
/* One tile of C: rows of block rb, column panels of group cg, slice pc. */
#define TILE_BODY                                                             \
	do {                                                                  \
		int rb = tile / cgroups, cg = tile % cgroups;                 \
		int ic = rb * mcb, mc = imin(mcb, M - ic);                    \
		int full = in_place ? mc / MR * MR : 0;                       \
		if (ic != a_ic || pc != a_pc) {                               \
			if (full < mc)                                        \
				pack_a(apack + (size_t)full * kc, A, lda, ta, \
				       ic + full, mc - full, pc, kc);         \
			a_ic = ic, a_pc = pc;                                 \
		}                                                             \
		int q0 = (int)((int64_t)panels * cg / cgroups);               \
		int q1 = (int)((int64_t)panels * (cg + 1) / cgroups);         \
		for (int q = q0; q < q1; q++) {                               \
			int jr = q * NR, nr = imin(NR, nc - jr);              \
			int lc = !(beta_zero && pc == 0);                     \
			float *c0 = C + (size_t)ic * ldc + jc + jr;           \
			int ir = 0;                                           \
			for (; ir < full; ir += MR)                           \
				if (ta)                                       \
					kernel_cols(kc, alpha, A + (size_t)pc * lda + ic + ir, \
						    lda, bs + (size_t)jr * kc, \
						    c0 + (size_t)ir * ldc, ldc, nr, lc); \
				else                                          \
					kernel_rows(kc, alpha, A + (size_t)(ic + ir) * lda + pc, \
						    lda, bs + (size_t)jr * kc, \
						    c0 + (size_t)ir * ldc, ldc, nr, lc); \
			for (; ir < mc; ir += MR)                             \
				kernel(kc, alpha, apack + (size_t)ir * kc,    \
				       bs + (size_t)jr * kc,                  \
				       c0 + (size_t)ir * ldc, ldc,            \
				       imin(MR, mc - ir), nr, lc);            \
		}                                                             \
	} while (0)

#define PACK_B_PANEL                                                          \
	pack_b_panel(bbuf + (size_t)q * NR * kc, B, ldb, tb, pc, kc,          \
		     jc + q * NR, imin(NR, nc - q * NR))

/* solo: the calling thread alone, with no OpenMP construct at all.  A
 * product computed inside someone else's parallel region (attention's
 * per-head products) would otherwise open a nested region of one thread
 * per call, which costs libgomp a few microseconds of futex calls. */
static void gemm_team(int ta, int M, int N, int K, float alpha,
		      const float *A, int lda, const float *Bp, const float *B,
		      int ldb, int tb, float *bbuf, float *C, int ldc,
		      int beta_zero, int nth, int solo)
{
	/* Row blocks of equal height, as many as a multiple of the threads
	 * (512 rows on 2 threads: 4 blocks of 132, not 144+144 against
	 * 144+80).  Block heights change no result. */
	int rblocks = (M + MC - 1) / MC;
	if (rblocks % nth && rblocks > 1)
		rblocks += nth - rblocks % nth;
	int mcb = round_up((M + rblocks - 1) / rblocks, MR);
	rblocks = (M + mcb - 1) / mcb;
	float apack[MC * KC] __attribute__((aligned(64)));
	int a_ic = -1, a_pc = -1;
	/* A is read in place, save a last partial panel (packed, so no row
	 * past M is read): faster than packing at most shapes measured, not
	 * transposed 115 -> 185 GFLOP/s where N is 128 (a transformer's
	 * narrow products), transposed 173 -> 195 for a weight gradient
	 * (384 x 128 x 4096).  But MR rows 4 KB apart share one set of the
	 * L1 cache, and where such a block meets many panels packing wins
	 * (1024 cubed: 0.87x in place), so that A is packed. */
	int in_place = ta || lda % 1024 || N <= 512;
	for (int jc = 0; jc < N; jc += NC) {
		int nc = imin(NC, N - jc), ncr = round_up(nc, NR);
		int panels = ncr / NR;
		int cgroups = rblocks >= 2 * nth ? 1
			      : imin(panels, (4 * nth + rblocks - 1) / rblocks);
		for (int pc = 0; pc < K; pc += KC) {
			int kc = imin(KC, K - pc);
			const float *bs;
			if (Bp) {
				bs = Bp + (size_t)jc * K + (size_t)pc * ncr;
			} else {
				bs = bbuf;
				if (solo) {
					for (int q = 0; q < panels; q++)
						PACK_B_PANEL;
				} else {
#pragma omp for schedule(static)
					for (int q = 0; q < panels; q++)
						PACK_B_PANEL;
				}
			}
			/* With B pre-packed nothing is shared between slices
			 * but C, and static scheduling gives every slice's
			 * tiles to the same threads: no barrier until the end. */
			if (solo) {
				for (int tile = 0; tile < rblocks * cgroups; tile++)
					TILE_BODY;
			} else if (Bp) {
#pragma omp for schedule(static) nowait
				for (int tile = 0; tile < rblocks * cgroups; tile++)
					TILE_BODY;
			} else {
#pragma omp for schedule(static)
				for (int tile = 0; tile < rblocks * cgroups; tile++)
					TILE_BODY;
			}
		}
	}
	if (!solo) {
#pragma omp barrier
	}
}
#undef TILE_BODY
#undef PACK_B_PANEL

static void gemm_packed(int ta, int M, int N, int K, float alpha,
			const float *A, int lda, const float *Bp,
			const float *B, int ldb, int tb, float *bbuf, float *C,
			int ldc, int beta_zero)
{
	if (!use_threads((double)M * N * K)) {
		gemm_team(ta, M, N, K, alpha, A, lda, Bp, B, ldb, tb, bbuf, C,
			  ldc, beta_zero, 1, 1);
		return;
	}
#pragma omp parallel
	gemm_team(ta, M, N, K, alpha, A, lda, Bp, B, ldb, tb, bbuf, C, ldc,
		  beta_zero, team_size(), 0);
}

void nk_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
	      const float *A, int lda, const float *B, int ldb, float beta,
	      float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
#ifdef NK_USE_OPENBLAS
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
		    trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
		    B, ldb, beta, C, ldc);
	return;
#endif
	/* beta = 0 with something to add: the kernel writes C unread. */
	int beta_zero = beta == 0.0f && K > 0 && alpha != 0.0f;
	if (!beta_zero)
		scale_c(M, N, beta, C, ldc);
	if (K <= 0 || alpha == 0.0f)
		return;
	/* Even a tiny product goes through the packed kernel: an element's
	 * bits must not depend on the sizes around it (a segment of a sequence
	 * gives the same rows as the whole).  Without the buffer we fall back
	 * to the plain loops: a slow answer beats none. */
	float *bbuf = thread_buffer((size_t)KC * round_up(imin(N, NC), NR));
	if (!bbuf) {
		if (beta_zero)
			scale_c(M, N, 0.0f, C, ldc);
		gemm_unpacked(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
			      C, ldc);
		return;
	}
	gemm_packed(trans_a, M, N, K, alpha, A, lda, NULL, B, ldb, trans_b,
		    bbuf, C, ldc, beta_zero);
}

size_t nk_sgemm_packed_b_floats(int N, int K)
{
	if (N <= 0 || K <= 0)
		return 0;
	return (size_t)K * round_up(N, NR);
}

/* Column block jc, slice pc, panel q sits at jc*K + pc*ncr + q*NR*kc:
 * the order in which gemm_packed walks them. */
void nk_sgemm_pack_b(float *Bp, int trans_b, int N, int K, const float *B,
		     int ldb)
{
#ifdef NK_USE_OPENBLAS
	for (int p = 0; p < K; p++)
		for (int j = 0; j < N; j++)
			Bp[(size_t)p * N + j] = b_at(B, ldb, trans_b, p, j);
	return;
#endif
	for (int jc = 0; jc < N; jc += NC) {
		int nc = imin(NC, N - jc), ncr = round_up(nc, NR);
		for (int pc = 0; pc < K; pc += KC) {
			int kc = imin(KC, K - pc);
			float *dst = Bp + (size_t)jc * K + (size_t)pc * ncr;
			for (int q = 0; q * NR < nc; q++)
				pack_b_panel(dst + (size_t)q * NR * kc, B, ldb,
					     trans_b, pc, kc, jc + q * NR,
					     imin(NR, nc - q * NR));
		}
	}
}

void nk_sgemm_packed(int trans_a, int M, int N, int K, float alpha,
		     const float *A, int lda, const float *Bp, float beta,
		     float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
#ifdef NK_USE_OPENBLAS
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
		    CblasNoTrans, M, N, K, alpha, A, lda, Bp, N, beta, C, ldc);
	return;
#endif
	int beta_zero = beta == 0.0f && K > 0 && alpha != 0.0f;
	if (!beta_zero)
		scale_c(M, N, beta, C, ldc);
	if (K <= 0 || alpha == 0.0f)
		return;
	gemm_packed(trans_a, M, N, K, alpha, A, lda, Bp, NULL, 0, 0, NULL, C,
		    ldc, beta_zero);
}

void nk_sgemm_packed_team(int trans_a, int M, int N, int K, float alpha,
			  const float *A, int lda, const float *Bp, float beta,
			  float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
#ifdef NK_USE_OPENBLAS
#pragma omp single
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
		    CblasNoTrans, M, N, K, alpha, A, lda, Bp, N, beta, C, ldc);
	return;
#endif
	int beta_zero = beta == 0.0f && K > 0 && alpha != 0.0f;
	if (beta != 1.0f && !beta_zero) {
#pragma omp for schedule(static)
		for (int i = 0; i < M; i++)
			scale_c(1, N, beta, C + (size_t)i * ldc, ldc);
	}
	if (K <= 0 || alpha == 0.0f)
		return;
	gemm_team(trans_a, M, N, K, alpha, A, lda, Bp, NULL, 0, 0, NULL, C, ldc,
		  beta_zero, team_size(), 0);
}

int nk_sgemm_team_worthwhile(int M, int N, int K)
{
	return use_threads((double)M * N * K);
}

void nk_sgemm_reference(int trans_a, int trans_b, int M, int N, int K,
			float alpha, const float *A, int lda, const float *B,
			int ldb, float beta, float *C, int ldc)
{
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double s = 0;
			for (int p = 0; p < K; p++)
				s += (double)a_at(A, lda, trans_a, i, p) *
				     b_at(B, ldb, trans_b, p, j);
			float *c = &C[(size_t)i * ldc + j];
			*c = (float)(alpha * s + (beta == 0.0f ? 0.0f : beta * *c));
		}
}
