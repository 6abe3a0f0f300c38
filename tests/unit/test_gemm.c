/* test_gemm.c - nk_sgemm against the triple loop, every transpose case. */
#include <math.h>
#include <omp.h>

#include "check.h"
#include "core/gemm.h"
#include "core/rng.h"

static int max_rel_err_ok(const float *got, const float *want, int M, int N,
			  int ldc, int K)
{
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			float g = got[(size_t)i * ldc + j], w = want[(size_t)i * ldc + j];
			/* float accumulation over K terms of size ~1 */
			if (fabsf(g - w) > 1e-5f * (K + 1) * (1 + fabsf(w)))
				return 0;
		}
	return 1;
}

static void one_case(nk_rng *r, int ta, int tb, int M, int N, int K,
		     float alpha, float beta, int pad)
{
	int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
	size_t asz = (size_t)(ta ? K : M) * lda, bsz = (size_t)(tb ? N : K) * ldb,
	       csz = (size_t)M * ldc;
	float *A = malloc((asz + 1) * 4), *B = malloc((bsz + 1) * 4);
	float *C = malloc((csz + 1) * 4), *R = malloc((csz + 1) * 4);
	for (size_t i = 0; i < asz; i++)
		A[i] = nk_rng_float(r) * 2 - 1;
	for (size_t i = 0; i < bsz; i++)
		B[i] = nk_rng_float(r) * 2 - 1;
	for (size_t i = 0; i < csz; i++)
		C[i] = R[i] = nk_rng_float(r);
	nk_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
	nk_sgemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
	CHECK_MSG(max_rel_err_ok(C, R, M, N, ldc, K),
		  "ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g pad=%d", ta, tb,
		  M, N, K, alpha, beta, pad);
	/* Padding columns between rows must be untouched. */
	for (int i = 0; i < M && pad; i++)
		for (int j = N; j < ldc; j++)
			CHECK(C[(size_t)i * ldc + j] == R[(size_t)i * ldc + j]);
	free(A), free(B), free(C), free(R);
}

TEST(gemm_transpose_cases_odd_sizes)
{
	nk_rng r;
	nk_rng_seed(&r, 1, 0);
	static const int sizes[][3] = {
		{1, 1, 1},    {1, 17, 3},   {5, 1, 9},    {7, 13, 1},
		{33, 31, 29}, {6, 16, 256}, {7, 17, 257}, {145, 33, 300},
		{64, 64, 64}, {100, 2050, 3}, {150, 70, 513},
	};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
		for (int ta = 0; ta < 2; ta++)
			for (int tb = 0; tb < 2; tb++)
				one_case(&r, ta, tb, sizes[s][0], sizes[s][1],
					 sizes[s][2], 1.0f, 0.0f, s % 3);
}

TEST(gemm_alpha_beta)
{
	nk_rng r;
	nk_rng_seed(&r, 2, 0);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			one_case(&r, ta, tb, 40, 50, 60, 0.5f, 1.0f, 1);
			one_case(&r, ta, tb, 40, 50, 60, -2.0f, 0.25f, 0);
			one_case(&r, ta, tb, 3, 4, 5, 1.5f, -1.0f, 2);
		}
}

TEST(gemm_beta_zero_ignores_nan)
{
	float A[64 * 64], B[64 * 64], C[64 * 64];
	for (int i = 0; i < 64 * 64; i++)
		A[i] = B[i] = 1.0f, C[i] = NAN;
	nk_sgemm(0, 0, 64, 64, 64, 1.0f, A, 64, B, 64, 0.0f, C, 64);
	for (int i = 0; i < 64 * 64; i++)
		CHECK(C[i] == 64.0f);
}

TEST(gemm_same_bits_any_thread_count)
{
	enum { M = 300, N = 200, K = 520 };
	static float A[M * K], B[K * N], C1[M * N], C2[M * N];
	nk_rng r;
	nk_rng_seed(&r, 3, 0);
	for (int i = 0; i < M * K; i++)
		A[i] = nk_rng_float(&r);
	for (int i = 0; i < K * N; i++)
		B[i] = nk_rng_float(&r);
	omp_set_num_threads(1);
	nk_sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C1, N);
	omp_set_num_threads(2);
	nk_sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C2, N);
	CHECK(memcmp(C1, C2, sizeof C1) == 0);
}

/* Pre-packed B gives the same bits as nk_sgemm, every transpose case,
 * sizes across the block edges. */
TEST(gemm_packed_b_same_bits)
{
	static const int sizes[][3] = {
		{1, 1, 1}, {50, 512, 128}, {50, 128, 512}, {7, 33, 257},
		{145, 2050, 3}, {13, 31, 600},
	};
	nk_rng r;
	nk_rng_seed(&r, 4, 0);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
		float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)K * N * 4);
		float *C1 = malloc((size_t)M * N * 4), *C2 = malloc((size_t)M * N * 4);
		float *Bp = malloc(nk_sgemm_packed_b_floats(N, K) * 4);
		for (int i = 0; i < M * K; i++)
			A[i] = nk_rng_float(&r) - 0.5f;
		for (int i = 0; i < K * N; i++)
			B[i] = nk_rng_float(&r) - 0.5f;
		for (int ta = 0; ta < 2; ta++)
			for (int tb = 0; tb < 2; tb++) {
				for (int i = 0; i < M * N; i++)
					C1[i] = C2[i] = (float)i * 1e-3f;
				nk_sgemm(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B,
					 tb ? K : N, 1.0f, C1, N);
				nk_sgemm_pack_b(Bp, tb, N, K, B, tb ? K : N);
				nk_sgemm_packed(ta, M, N, K, 0.5f, A, ta ? M : K, Bp,
						1.0f, C2, N);
				CHECK_MSG(memcmp(C1, C2, (size_t)M * N * 4) == 0,
					  "M=%d N=%d K=%d ta=%d tb=%d", M, N, K, ta, tb);
			}
		free(A), free(B), free(C1), free(C2), free(Bp);
	}
}

/* A row of C has the same bits whatever M and whichever rows share its
 * tile (what lets a recurrent layer run a sequence segment by segment),
 * and small products (the LSTM step) the same on 1 and 2 threads. */
TEST(gemm_rows_independent_of_m)
{
	enum { M = 150, N = 70, K = 300 };
	static float A[M * K], B[N * K], C[M * N], D[M * N];
	nk_rng r;
	nk_rng_seed(&r, 5, 0);
	for (int i = 0; i < M * K; i++)
		A[i] = nk_rng_float(&r) - 0.5f;
	for (int i = 0; i < N * K; i++)
		B[i] = nk_rng_float(&r) - 0.5f;
	nk_sgemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
	static const int cuts[][2] = {{0, 1}, {1, 13}, {14, 50}, {64, 86}, {149, 1}};
	for (int c = 0; c < 5; c++) {
		int i0 = cuts[c][0], m = cuts[c][1];
		nk_sgemm(0, 1, m, N, K, 1.0f, A + (size_t)i0 * K, K, B, K, 0.0f,
			 D + (size_t)i0 * N, N);
		CHECK_MSG(memcmp(C + (size_t)i0 * N, D + (size_t)i0 * N,
				 (size_t)m * N * 4) == 0, "rows %d..%d", i0, i0 + m);
	}
	static float H[50 * 128], W[512 * 128], E[50 * 512], F[50 * 512];
	for (int i = 0; i < 50 * 128; i++)
		H[i] = nk_rng_float(&r) - 0.5f;
	for (int i = 0; i < 512 * 128; i++)
		W[i] = nk_rng_float(&r) - 0.5f;
	omp_set_num_threads(1);
	nk_sgemm(0, 1, 50, 512, 128, 1.0f, H, 128, W, 128, 0.0f, E, 512);
	omp_set_num_threads(2);
	nk_sgemm(0, 1, 50, 512, 128, 1.0f, H, 128, W, 128, 0.0f, F, 512);
	CHECK(memcmp(E, F, sizeof E) == 0);
}

int main(void)
{
	RUN(gemm_transpose_cases_odd_sizes);
	RUN(gemm_alpha_beta);
	RUN(gemm_beta_zero_ignores_nan);
	RUN(gemm_same_bits_any_thread_count);
	RUN(gemm_packed_b_same_bits);
#ifdef NK_USE_OPENBLAS
	nk_test_skip("gemm_rows_independent_of_m",
		     "built with BLAS=openblas, whose rows depend on M");
	(void)gemm_rows_independent_of_m;
#else
	RUN(gemm_rows_independent_of_m);
#endif
	return nk_test_exit();
}
