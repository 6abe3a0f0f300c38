/* mpi-bench.c - the allreduce of scripts/bench-mpi: times the library's
 * fixed-order sum (nk_dist_sum: MPI_Alltoallv, a sum in rank order,
 * MPI_Allgatherv) and, beside it, MPI_Allreduce(MPI_SUM), for buffers of
 * the given numbers of floats, under mpirun.
 *
 *	mpirun -np 2 mpi-bench REPS N...
 *
 * Rank 0 prints one line per N: "N bytes fixed_s mpi_s" (medians over
 * REPS after two warm-up runs; each timed run starts after a barrier, and
 * its time is the slowest rank's).  Built with -DNK_MPI and Open MPI's
 * flags for the MPI_Allreduce column; without, it prints 0 there. */
#include "core/base.h"
#include "core/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef NK_MPI
#include <mpi.h>
#endif

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The slowest rank's time: what the next step waits for. */
static double slowest(double t)
{
	double all[1024] = {0};
	int N = nk_dist_size();
	if (N > 1024)
		return t;
	all[nk_dist_rank()] = t;
	nk_dist_sum_f64(all, (size_t)N);
	double m = 0;
	for (int r = 0; r < N; r++)
		m = all[r] > m ? all[r] : m;
	return m;
}

static double timeit(float *buf, size_t n, int reps, int mpi)
{
	double *t = calloc((size_t)reps, sizeof *t);
	if (!t)
		return -1;
	for (int i = -2; i < reps; i++) {
		for (size_t j = 0; j < n; j++)
			buf[j] = (float)(j % 7) * 0.5f;
#ifdef NK_MPI
		if (nk_dist_joined())
			MPI_Barrier(MPI_COMM_WORLD);
#endif
		double t0 = now();
		if (!mpi) {
			if (nk_dist_sum(buf, n))
				return -1;
		} else {
#ifdef NK_MPI
			if (nk_dist_joined())
				MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT,
					      MPI_SUM, MPI_COMM_WORLD);
#endif
		}
		double dt = now() - t0;
		if (i >= 0)
			t[i] = slowest(dt);
	}
	qsort(t, (size_t)reps, sizeof *t, cmp);
	double m = t[reps / 2];
	free(t);
	return m;
}

int main(int argc, char **argv)
{
	if (nk_dist_init(&argc, &argv)) {
		fprintf(stderr, "mpi-bench: %s\n", nk_last_error());
		return 1;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: mpirun -np N mpi-bench REPS N...\n");
		return 2;
	}
	int reps = atoi(argv[1]);
	if (reps < 1)
		reps = 1;
	for (int a = 2; a < argc; a++) {
		size_t n = (size_t)strtoull(argv[a], NULL, 10);
		float *buf = malloc((n ? n : 1) * sizeof *buf);
		if (!buf)
			return 1;
		double tf = timeit(buf, n, reps, 0);
		double tm = 0;
#ifdef NK_MPI
		tm = timeit(buf, n, reps, 1);
#endif
		if (nk_dist_rank() == 0)
			printf("%zu %zu %.6g %.6g\n", n, n * sizeof(float), tf, tm);
		free(buf);
	}
	nk_dist_finalize();
	return 0;
}
