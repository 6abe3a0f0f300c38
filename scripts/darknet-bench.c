/* darknet-bench.c - time darknet's own forward pass (Debian's
 * libdarknet.so) the way detect-bench.c times nnkit's, for
 * scripts/bench-detect.
 *
 *	darknet-bench CFG WEIGHTS RUNS
 *
 * One warm-up network_predict on random input, then RUNS timed ones;
 * prints the best and the median milliseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "darknet.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: darknet-bench CFG WEIGHTS RUNS\n");
		return 2;
	}
	int runs = atoi(argv[3]);
	network *net = load_network(argv[1], argv[2], 0);
	set_batch_network(net, 1);
	float *x = malloc(sizeof *x * net->inputs);
	double *t = malloc(sizeof *t * (runs > 0 ? runs : 1));
	srand(1);
	for (int i = 0; i < net->inputs; i++)
		x[i] = (float)rand() / (float)RAND_MAX;
	for (int r = -1; r < runs; r++) {
		double t0 = now();
		network_predict(net, x);
		if (r >= 0)
			t[r] = (now() - t0) * 1e3;
	}
	qsort(t, runs, sizeof *t, cmp);
	printf("%.2f %.2f\n", t[0], t[runs / 2]);
	return 0;
}
