/* gemm-bench.c - GFLOP/s of nk_sgemm (this library's kernel) and, when
 * built with -DHAVE_OPENBLAS, OpenBLAS's cblas_sgemm, on the same data.
 * Driven by scripts/bench-gemm.
 *
 *   gemm-bench M N K THREADS [TA TB]
 *
 * prints "nk GFLOPS blas GFLOPS" (blas 0 without OpenBLAS): the best of
 * enough repetitions to fill about 0.3 s for each, after a warm-up call.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/gemm.h"
#include "core/rng.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int);
#endif

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void (*gemm_fn)(int, int, int, int, int, const float *, const float *,
			float *);

static void run_nk(int ta, int tb, int M, int N, int K, const float *A,
		   const float *B, float *C)
{
	nk_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C, N);
}

#ifdef HAVE_OPENBLAS
static void run_blas(int ta, int tb, int M, int N, int K, const float *A,
		     const float *B, float *C)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
		    tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, ta ? M : K,
		    B, tb ? K : N, 0.0f, C, N);
}
#endif

static double gflops(gemm_fn f, int ta, int tb, int M, int N, int K,
		     const float *A, const float *B, float *C)
{
	f(ta, tb, M, N, K, A, B, C);
	double flop = 2.0 * M * N * K, best = 1e30, start = now();
	int reps = 0;
	while (reps < 3 || now() - start < 0.3) {
		double t0 = now();
		f(ta, tb, M, N, K, A, B, C);
		double dt = now() - t0;
		if (dt < best)
			best = dt;
		reps++;
	}
	return flop / best * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: gemm-bench M N K THREADS [TA TB]\n");
		return 2;
	}
	int M = atoi(argv[1]), N = atoi(argv[2]), K = atoi(argv[3]);
	int th = atoi(argv[4]);
	int ta = argc > 5 ? atoi(argv[5]) : 0, tb = argc > 6 ? atoi(argv[6]) : 0;
	float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
	float *C = malloc(sizeof(float) * M * N);
	nk_rng r;
	nk_rng_seed(&r, 1, 0);
	for (long i = 0; i < (long)M * K; i++)
		A[i] = nk_rng_float(&r) - 0.5f;
	for (long i = 0; i < (long)K * N; i++)
		B[i] = nk_rng_float(&r) - 0.5f;
	omp_set_num_threads(th);
	double g_nk = gflops(run_nk, ta, tb, M, N, K, A, B, C), g_blas = 0;
#ifdef HAVE_OPENBLAS
	openblas_set_num_threads(th);
	g_blas = gflops(run_blas, ta, tb, M, N, K, A, B, C);
#endif
	printf("%.1f %.1f\n", g_nk, g_blas);
	free(A), free(B), free(C);
	return 0;
}
