/* test_gemm.c - nk_sgemm against the triple loop, every transpose case. */
#include <math.h>
#include <omp.h>

#include "check.h"
#include "gemm.h"
#include "rng.h"

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

int main(void)
{
	RUN(gemm_transpose_cases_odd_sizes);
	RUN(gemm_alpha_beta);
	RUN(gemm_beta_zero_ignores_nan);
	RUN(gemm_same_bits_any_thread_count);
	return nk_test_exit();
}
