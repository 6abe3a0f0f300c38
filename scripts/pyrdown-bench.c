/* pyrdown-bench.c - times nk_pyr_down in-process: a chain of 5 pyrDown
 * calls from a 3840x2160 RGB image, on one thread, best and median of
 * several runs.  Built and run by scripts/bench-pyramid.
 *
 *	pyrdown-bench [W H C LEVELS RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/base.h"
#include "vision/pyramid.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int w = 3840, h = 2160, c = 3, levels = 5, runs = 30;
	if (argc == 6) {
		w = atoi(argv[1]);
		h = atoi(argv[2]);
		c = atoi(argv[3]);
		levels = atoi(argv[4]);
		runs = atoi(argv[5]);
	}
	if (w < 1 || h < 1 || c < 1 || c > 4 || levels < 1 || levels > 16 ||
	    runs < 1 || runs > 1000) {
		fprintf(stderr, "usage: pyrdown-bench [W H C LEVELS RUNS]\n");
		return 2;
	}
	unsigned char *lv[17];
	int lw[17], lh[17];
	lw[0] = w;
	lh[0] = h;
	for (int i = 0; i <= levels; i++) {
		if (i) {
			lw[i] = nk_pyr_down_size(lw[i - 1]);
			lh[i] = nk_pyr_down_size(lh[i - 1]);
		}
		lv[i] = malloc((size_t)lw[i] * lh[i] * c);
		if (!lv[i])
			return 1;
	}
	/* A photograph-like test card: smooth gradients plus noise. */
	unsigned s = 12345;
	for (size_t y = 0; y < (size_t)h; y++)
		for (size_t x = 0; x < (size_t)w * c; x++) {
			s = s * 1103515245u + 12345u;
			lv[0][y * w * c + x] =
				(unsigned char)((x / c + y) / 24 + (s >> 28));
		}
	double *t = malloc(sizeof *t * runs);
	unsigned sum = 0;
	for (int r = -3; r < runs; r++) { /* 3 warm-up runs */
		double t0 = now();
		for (int i = 1; i <= levels; i++)
			if (nk_pyr_down(lv[i], lv[i - 1], lw[i - 1], lh[i - 1], c)) {
				fprintf(stderr, "pyrdown-bench: %s\n", nk_last_error());
				return 1;
			}
		double dt = now() - t0;
		if (r >= 0)
			t[r] = dt;
		sum += lv[levels][0];
	}
	qsort(t, runs, sizeof *t, cmp);
	printf("%.3f %.3f %u\n", t[0] * 1e3, t[runs / 2] * 1e3, sum);
	for (int i = 0; i <= levels; i++)
		free(lv[i]);
	free(t);
	return 0;
}
