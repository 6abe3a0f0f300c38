/* gemm.h - the one matrix-multiply entry point every layer calls.
 *
 * Row-major SGEMM: C = alpha * op(A) @ op(B) + beta * C, where op(X) is X
 * or its transpose, C is M x N, op(A) is M x K and op(B) is K x N; lda,
 * ldb, ldc are row strides in elements.  beta == 0 overwrites C without
 * reading it (NaNs in an uninitialized C do not leak through).
 *
 * Built with `make BLAS=openblas` it calls OpenBLAS's cblas_sgemm instead.
 * Otherwise results are bit-identical for any thread count: threads split
 * the rows of C, and every element sums over K in one fixed order.
 */
#ifndef NK_GEMM_H
#define NK_GEMM_H

void nk_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
	      const float *A, int lda, const float *B, int ldb, float beta,
	      float *C, int ldc);

/* The textbook triple loop, for tests to compare against. */
void nk_sgemm_reference(int trans_a, int trans_b, int M, int N, int K,
			float alpha, const float *A, int lda, const float *B,
			int ldb, float beta, float *C, int ldc);

#endif
