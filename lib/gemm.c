/* gemm.c - blocked, packed, vectorized, OpenMP-parallel SGEMM.
 *
 * The structure is the Goto/BLIS one: C is cut into NC-wide column blocks
 * and KC-deep slices of K; each slice of B is packed into NR-wide panels
 * and each MC-tall block of A into MR-tall panels, so the micro-kernel
 * streams both from contiguous memory.  The micro-kernel keeps an MR x NR
 * block of C in vector registers.
 * Packing also absorbs the transpose cases: the kernel only ever sees one
 * layout.
 */
#include "gemm.h"
#include "base.h"

#include <string.h>

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

typedef float vecf __attribute__((vector_size(VW * 4), aligned(4)));

/* Element (i, p) of op(A) and (p, j) of op(B). */
static inline float a_at(const float *A, int lda, int ta, int i, int p)
{
	return ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
}
static inline float b_at(const float *B, int ldb, int tb, int p, int j)
{
	return tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
}

/* Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels, zero-padding the last. */
static void pack_a(float *dst, const float *A, int lda, int ta, int i0, int mc,
		   int p0, int kc)
{
	for (int ir = 0; ir < mc; ir += MR) {
		int mr = mc - ir < MR ? mc - ir : MR;
		for (int p = 0; p < kc; p++) {
			for (int i = 0; i < mr; i++)
				dst[i] = a_at(A, lda, ta, i0 + ir + i, p0 + p);
			for (int i = mr; i < MR; i++)
				dst[i] = 0;
			dst += MR;
		}
	}
}

/* Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels. */
static void pack_b(float *dst, const float *B, int ldb, int tb, int p0, int kc,
		   int j0, int nc)
{
	for (int jr = 0; jr < nc; jr += NR) {
		int nr = nc - jr < NR ? nc - jr : NR;
		for (int p = 0; p < kc; p++) {
			if (!tb && nr == NR) {
				memcpy(dst, B + (size_t)(p0 + p) * ldb + j0 + jr,
				       NR * sizeof(float));
			} else {
				for (int j = 0; j < nr; j++)
					dst[j] = b_at(B, ldb, tb, p0 + p, j0 + jr + j);
				for (int j = nr; j < NR; j++)
					dst[j] = 0;
			}
			dst += NR;
		}
	}
}

/* C[0:mr, 0:nr] += alpha * Apanel @ Bpanel over kc steps. */
static void kernel(int kc, float alpha, const float *a, const float *b,
		   float *C, int ldc, int mr, int nr)
{
	vecf acc[MR][2];
	memset(acc, 0, sizeof acc);
	for (int p = 0; p < kc; p++) {
		vecf b0, b1;
		memcpy(&b0, b, sizeof b0);
		memcpy(&b1, b + VW, sizeof b1);
		for (int i = 0; i < MR; i++) {
			vecf ai = b0 * 0 + a[i]; /* broadcast */
			acc[i][0] += ai * b0;
			acc[i][1] += ai * b1;
		}
		a += MR;
		b += NR;
	}
	float tile[MR][NR];
	memcpy(tile, acc, sizeof tile);
	for (int i = 0; i < mr; i++) {
		float *c = C + (size_t)i * ldc;
		for (int j = 0; j < nr; j++)
			c[j] += alpha * tile[i][j];
	}
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
	scale_c(M, N, beta, C, ldc);
	if (K <= 0 || alpha == 0.0f)
		return;
	int nc_max = N < NC ? N : NC;
	size_t bsize = (size_t)KC * ((nc_max + NR - 1) / NR * NR);
	/* Small products are not worth packing; nor can we pack without the
	 * buffer, and a slow answer beats none. */
	float *bpack = (double)M * N * K < 32 * 32 * 32
			       ? NULL
			       : nk_malloc_aligned(bsize * sizeof(float));
	if (!bpack) {
		gemm_unpacked(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
			      C, ldc);
		return;
	}
	for (int jc = 0; jc < N; jc += NC) {
		int nc = N - jc < NC ? N - jc : NC;
		for (int pc = 0; pc < K; pc += KC) {
			int kc = K - pc < KC ? K - pc : KC;
			pack_b(bpack, B, ldb, trans_b, pc, kc, jc, nc);
			int blocks = (M + MC - 1) / MC;
#pragma omp parallel for schedule(static) if (blocks > 1 && (double)M * nc * kc > 1e6)
			for (int blk = 0; blk < blocks; blk++) {
				float apack[MC * KC] __attribute__((aligned(64)));
				int ic = blk * MC;
				int mc = M - ic < MC ? M - ic : MC;
				pack_a(apack, A, lda, trans_a, ic, mc, pc, kc);
				for (int jr = 0; jr < nc; jr += NR) {
					int nr = nc - jr < NR ? nc - jr : NR;
					for (int ir = 0; ir < mc; ir += MR) {
						int mr = mc - ir < MR ? mc - ir : MR;
						kernel(kc, alpha, apack + (size_t)ir * kc,
						       bpack + (size_t)jr * kc,
						       C + (size_t)(ic + ir) * ldc + jc + jr,
						       ldc, mr, nr);
					}
				}
			}
		}
	}
	nk_free_aligned(bpack);
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
