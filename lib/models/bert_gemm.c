/* bert_gemm.c - the model's matrix products shared among threads by
 * blocks of C, one block per thread and no barrier inside.
 *
 * nk_sgemm's own threads meet at two barriers for every 256-deep slice of
 * K (they share the packed slice of B): 33 for a weight gradient summed
 * over 4096 positions, about 2,500 sleeps and wake-ups per BERT-Tiny step
 * with OMP_WAIT_POLICY=passive.  Here each thread calls nk_sgemm, alone,
 * on its rows of C (when C is taller than wide) or its columns, packing
 * the operand it shares on its own: a little packing twice for a single
 * fork and join.  An element of C is the same sum whatever block computes
 * it (gemm.h), so the bits are nk_sgemm's on any number of threads.
 */
#include "models/bert_impl.h"
#include "core/gemm.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Blocks aligned to the kernel's register tile (12 rows, 32 columns). */
static void split(int n, int align, int t, int nt, int *lo, int *hi)
{
	int units = (n + align - 1) / align;
	*lo = (int)((int64_t)units * t / nt) * align;
	*hi = (int)((int64_t)units * (t + 1) / nt) * align;
	if (*hi > n)
		*hi = n;
	if (*lo > n)
		*lo = n;
}

void bert_sgemm(int ta, int tb, int M, int N, int K, float alpha,
		const float *A, int lda, const float *B, int ldb, float beta,
		float *C, int ldc, const float *bias)
{
	int par = 0;
#ifdef _OPENMP
	par = omp_get_max_threads() > 1 && !omp_in_parallel() &&
	      (double)M * N * K >= 1 << 21;
#endif
	int rows = N <= M;
	(void)par; /* without OpenMP */
#pragma omp parallel if (par)
	{
		int t = 0, nt = 1;
#ifdef _OPENMP
		t = omp_get_thread_num(), nt = omp_get_num_threads();
#endif
		int i0 = 0, i1 = M, j0 = 0, j1 = N;
		if (rows)
			split(M, 12, t, nt, &i0, &i1);
		else
			split(N, 32, t, nt, &j0, &j1);
		if (bias)
			for (int i = i0; i < i1; i++)
				memcpy(C + (size_t)i * ldc + j0, bias + j0,
				       (size_t)(j1 - j0) * sizeof *C);
		if (i1 > i0 && j1 > j0)
			nk_sgemm(ta, tb, i1 - i0, j1 - j0, K, alpha,
				 ta ? A + i0 : A + (size_t)i0 * lda, lda,
				 tb ? B + (size_t)j0 * ldb : B + j0, ldb,
				 bias ? 1.0f : beta, C + (size_t)i0 * ldc + j0,
				 ldc);
	}
}
