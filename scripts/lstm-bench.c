/* lstm-bench.c - one LSTM layer's forward + backward, timed; driven by
 * scripts/bench-lstm-layer.
 *
 *   lstm-bench T B I H THREADS REPS
 *
 * prints "fwd_ms fwdbwd_ms" (the best of REPS after a warm-up): forward
 * alone, then forward followed by backward with every gradient (dx, dh0,
 * dc0, weights, biases) as a training step needs them.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn/lstm.h"
#include "core/rng.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *rnd(nk_rng *r, size_t n, float s)
{
	float *p = malloc(n * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (nk_rng_float(r) * 2 - 1) * s;
	return p;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: lstm-bench T B I H THREADS REPS\n");
		return 2;
	}
	int T = atoi(argv[1]), B = atoi(argv[2]), I = atoi(argv[3]);
	int H = atoi(argv[4]), th = atoi(argv[5]), reps = atoi(argv[6]);
	omp_set_num_threads(th);
	nk_rng r;
	nk_rng_seed(&r, 1, 0);
	size_t tb = (size_t)T * B, bh = (size_t)B * H;
	float k = 1.0f / sqrtf(H);
	float *x = rnd(&r, tb * I, 1), *h0 = rnd(&r, bh, 0.5f), *c0 = rnd(&r, bh, 0.5f);
	float *w_ih = rnd(&r, 4 * H * I, k), *w_hh = rnd(&r, 4 * H * H, k);
	float *b_ih = rnd(&r, 4 * H, k), *b_hh = rnd(&r, 4 * H, k);
	float *dh = rnd(&r, tb * H, 1), *h = calloc(tb * H, 4), *cl = calloc(bh, 4);
	float *cache = calloc(nk_lstm_cache_floats(T, B, H), 4);
	float *dx = calloc(tb * I, 4), *dh0 = calloc(bh, 4), *dc0 = calloc(bh, 4);
	float *dw_ih = calloc(4 * H * I, 4), *dw_hh = calloc(4 * H * H, 4);
	float *db_ih = calloc(4 * H, 4), *db_hh = calloc(4 * H, 4);
	double *tf = malloc(reps * sizeof *tf), *tfb = malloc(reps * sizeof *tfb);
	for (int i = -1; i < reps; i++) {
		double t0 = now();
		nk_lstm_forward(h, cl, cache, x, h0, c0, w_ih, w_hh, b_ih, b_hh, T,
				B, I, H);
		double t1 = now();
		nk_lstm_backward(dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dh, NULL,
				 NULL, cache, x, h0, c0, h, w_ih, w_hh, T, B, I, H);
		double t2 = now();
		if (i >= 0)
			tf[i] = (t1 - t0) * 1e3, tfb[i] = (t2 - t0) * 1e3;
	}
	qsort(tf, reps, sizeof *tf, cmp);
	qsort(tfb, reps, sizeof *tfb, cmp);
	printf("%.3f %.3f\n", tf[0], tfb[0]);
	return 0;
}
