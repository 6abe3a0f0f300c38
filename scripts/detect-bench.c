/* detect-bench.c - time the darknet network's forward pass in-process, for
 * scripts/bench-detect.
 *
 *	detect-bench CFG WEIGHTS BATCH RUNS
 *
 * Loads the model as detect run does (nk_darknet_load_infer: the
 * convolution plans built from the mapped file), runs one warm-up forward on a batch of BATCH random
 * inputs of the network's size, then RUNS timed forwards; prints the best
 * and the median milliseconds per forward pass (of the whole batch), and
 * the median CPU milliseconds of the process per forward (all threads
 * together: on a machine shared with other work it shows what the second
 * thread adds in work where the wall clock shows only the load).
 * The thread count is OpenMP's (OMP_NUM_THREADS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/base.h"
#include "models/darknet.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: detect-bench CFG WEIGHTS BATCH RUNS\n");
		return 2;
	}
	int B = atoi(argv[3]), runs = atoi(argv[4]);
	if (B < 1 || runs < 1) {
		fprintf(stderr, "detect-bench: BATCH and RUNS must be positive\n");
		return 2;
	}
	nk_darknet net;
	/* As detect run loads it: planned from the mapped file. */
	if (nk_darknet_load_infer(&net, argv[1], argv[2])) {
		fprintf(stderr, "detect-bench: %s\n", nk_last_error());
		return 1;
	}
	size_t n = net.inputs * (size_t)B;
	float *x = malloc(n * sizeof *x);
	double *t = malloc((size_t)runs * sizeof *t);
	double *c = malloc((size_t)runs * sizeof *c);
	if (!x || !t || !c)
		return 1;
	srand(1);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)rand() / (float)RAND_MAX;
	for (int r = -1; r < runs; r++) {
		double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		if (nk_darknet_forward(&net, x, B)) {
			fprintf(stderr, "detect-bench: %s\n", nk_last_error());
			return 1;
		}
		if (r >= 0) {
			t[r] = (now() - t0) * 1e3;
			c[r] = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e3;
		}
	}
	qsort(t, (size_t)runs, sizeof *t, cmp);
	qsort(c, (size_t)runs, sizeof *c, cmp);
	printf("%.2f %.2f %.2f\n", t[0], t[runs / 2], c[runs / 2]);
	nk_darknet_free(&net);
	free(x);
	free(t);
	free(c);
	return 0;
}
