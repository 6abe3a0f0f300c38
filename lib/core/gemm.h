/* gemm.h - the one matrix-multiply entry point every layer calls.
 *
 * Row-major SGEMM: C = alpha * op(A) @ op(B) + beta * C, where op(X) is X
 * or its transpose, C is M x N, op(A) is M x K and op(B) is K x N; lda,
 * ldb, ldc are row strides in elements.  beta == 0 overwrites C without
 * reading it (NaNs in an uninitialized C do not leak through).
 *
 * Built with `make BLAS=openblas` it calls OpenBLAS's cblas_sgemm instead.
 * Otherwise results are bit-identical for any thread count, and a row of
 * C the same for any M: threads split C into tiles, and every element
 * sums over K in one fixed order whoever computes it.
 */
#ifndef NK_GEMM_H
#define NK_GEMM_H

#include <stddef.h>

void nk_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
	      const float *A, int lda, const float *B, int ldb, float beta,
	      float *C, int ldc);

/* Pre-packed B, for a product repeated with the same B and new A (the
 * recurrent step of an RNN: h_{t-1} @ w_hh^T at every t).  Packing op(B)
 * once saves re-reading and re-shuffling it on every call; the results are
 * bit-identical to nk_sgemm's.  Bp holds nk_sgemm_packed_b_floats(N, K)
 * floats and is written by nk_sgemm_pack_b; nk_sgemm_packed is nk_sgemm
 * with that op(B) (K x N). */
size_t nk_sgemm_packed_b_floats(int N, int K);
void nk_sgemm_pack_b(float *Bp, int trans_b, int N, int K, const float *B,
		     int ldb);
void nk_sgemm_packed(int trans_a, int M, int N, int K, float alpha,
		     const float *A, int lda, const float *Bp, float beta,
		     float *C, int ldc);

/* nk_sgemm_packed run by a team: every thread of the enclosing parallel
 * region calls it with the same arguments, the threads share the tiles,
 * and all return after a barrier (outside a parallel region it is
 * nk_sgemm_packed on one thread).  A layer's time loop can so stay in one
 * parallel region, a barrier per step instead of a fork and a join:
 *
 *	#pragma omp parallel if (nk_sgemm_team_worthwhile(B, 4 * H, H))
 *	for (int t = 0; t < T; t++) {
 *		nk_sgemm_packed_team(0, B, 4 * H, H, 1, h_prev, H, wp, 1, g, 4 * H);
 *	#pragma omp for
 *		for (int b = 0; b < B; b++)
 *			... gates of row b ...
 *	}
 *
 * Same bits as nk_sgemm_packed, on any number of threads. */
void nk_sgemm_packed_team(int trans_a, int M, int N, int K, float alpha,
			  const float *A, int lda, const float *Bp, float beta,
			  float *C, int ldc);
/* Whether an M x N x K product is big enough to share between threads
 * (and we are not inside a parallel region already). */
int nk_sgemm_team_worthwhile(int M, int N, int K);

/* The textbook triple loop, for tests to compare against. */
void nk_sgemm_reference(int trans_a, int trans_b, int M, int N, int K,
			float alpha, const float *A, int lda, const float *B,
			int ldb, float beta, float *C, int ldc);

#endif
