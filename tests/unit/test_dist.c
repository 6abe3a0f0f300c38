/* test_dist.c - data parallelism without MPI: the shares of a batch, the
 * single-process collectives, and rnn-train's task split over 3 simulated
 * ranks in one process, whose weighted gradients add up to the whole
 * batch's gradient and whose carried states are slices of the whole
 * batch's (what the loop and the gather rely on under mpirun; the real
 * thing is tests/t_mpi.sh). */
#include "check.h"

#include "core/base.h"
#include "core/dist.h"
#include "core/rng.h"
#include "models/charlm.h"
#include "models/charlm_task.h"
#include "text/textdata.h"

#include <math.h>

TEST(shares)
{
	/* Every n and size: consecutive, covering, within one of even. */
	for (size_t n = 0; n < 40; n++)
		for (int N = 1; N <= 9; N++) {
			size_t at = 0;
			for (int r = 0; r < N; r++) {
				size_t lo, hi;
				nk_dist_share(n, r, N, &lo, &hi);
				CHECK(lo == at && hi >= lo);
				CHECK(hi - lo == n / N || hi - lo == n / N + 1);
				at = hi;
			}
			CHECK(at == n);
		}
}

TEST(one_process)
{
	/* Outside mpirun every collective is the identity. */
	CHECK(nk_dist_init(NULL, NULL) == 0);
	CHECK(nk_dist_rank() == 0 && nk_dist_size() == 1 && !nk_dist_joined());
	float v[3] = {1, 2, 3}, out[3] = {0};
	double d[2] = {0.5, 7};
	CHECK(nk_dist_sum(v, 3) == 0 && v[0] == 1 && v[2] == 3);
	CHECK(nk_dist_sum_f64(d, 2) == 0 && d[0] == 0.5 && d[1] == 7);
	CHECK(nk_dist_gather(v, 3, out, 3, 0) == 0 && out[1] == 2);
	CHECK(nk_dist_gather(v, 3, out, 2, 0) == NK_ERANGE);
	CHECK(nk_dist_same(42) == 1);
	CHECK(nk_dist_agree(0) == 0);
	CHECK(nk_dist_agree(NK_EIO) == NK_EIO);
}

/* Three ranks' shares of a batch of 7 streams (3 + 2 + 2 by
 * nk_dist_share: 2, 2, 3) against the whole batch, over two steps (the
 * second starts from the carried state). */
TEST(charlm_shares_add_up)
{
	enum { B = 7, T = 6, N = 3, NSYM = 400 };
	nk_charlm_config mc = {NK_CELL_LSTM, 2, 9, 5, 13, 0};
	nk_charlm m;
	nk_rng g;
	CHECK(nk_charlm_init(&m, &mc) == 0);
	nk_rng_seed(&g, 3, 0);
	nk_charlm_randomize(&m, &g);
	uint32_t ids[NSYM];
	nk_rng_seed(&g, 4, 1);
	for (int i = 0; i < NSYM; i++)
		ids[i] = (uint32_t)nk_rng_below(&g, 13);
	nk_textvocab v = {0};
	size_t np = m.p.numel;
	nk_charlm_task whole, part[N];
	nk_charlm_task_config kc = {B, T, 0, 0.1f, 0, 1};
	CHECK(nk_charlm_task_init(&whole, &kc, &m, &v, NK_LEVEL_BYTE, 0, ids,
				  NSYM, "ids") == 0);
	for (int r = 0; r < N; r++) {
		nk_charlm_task_config pc = {B, T, 0, 0.1f, r, N};
		CHECK(nk_charlm_task_init(&part[r], &pc, &m, &v, NK_LEVEL_BYTE,
					  0, ids, NSYM, "ids") == 0);
	}
	nk_train_task kw = nk_charlm_task_bind(&whole);
	float *gw = malloc(np * sizeof *gw), *gs = calloc(np, sizeof *gs);
	CHECK(kw.sharded && kw.weight && kw.gather);
	for (int step = 0; step < 2; step++) {
		double lw, ls = 0, wsum = 0;
		CHECK(kw.step(kw.ctx, 9, &lw) == 0);
		memcpy(gw, m.p.grads, np * sizeof *gw);
		CHECK(kw.weight(kw.ctx) == B);
		memset(gs, 0, np * sizeof *gs);
		for (int r = 0; r < N; r++) {
			nk_train_task k = nk_charlm_task_bind(&part[r]);
			double l;
			CHECK(k.step(k.ctx, 9, &l) == 0);
			double w = k.weight(k.ctx);
			wsum += w;
			ls += w * l;
			for (size_t i = 0; i < np; i++)
				gs[i] += (float)(w / B) * m.p.grads[i];
		}
		CHECK(wsum == B);
		CHECK_MSG(fabs(ls / wsum - lw) < 1e-6 * lw, "loss %.9g vs %.9g",
			  ls / wsum, lw);
		double worst = 0, big = 0;
		for (size_t i = 0; i < np; i++) {
			worst = fmax(worst, fabs(gs[i] - gw[i]));
			big = fmax(big, fabs(gw[i]));
		}
		CHECK_MSG(worst <= 1e-5 * big, "gradient differs by %g (max %g)",
			  worst, big);
		/* The carried state: share r is streams b0..b0+Bl-1. */
		const float *hw = nk_charlm_run_h(whole.run);
		for (int r = 0; r < N; r++) {
			const float *h = nk_charlm_run_h(part[r].run);
			int Bl = part[r].Bl, b0 = part[r].b0;
			for (int l = 0; l < mc.L; l++)
				for (int b = 0; b < Bl; b++)
					for (int j = 0; j < mc.H; j++)
						CHECK(fabsf(h[((size_t)l * Bl + b) * mc.H + j] -
							    hw[((size_t)l * B + b0 + b) * mc.H + j]) < 1e-5f);
		}
	}
	CHECK(part[0].Bl + part[1].Bl + part[2].Bl == B && part[2].b0 == 4);
	/* More ranks than streams: refused. */
	nk_charlm_task bad;
	nk_charlm_task_config xc = {B, T, 0, 0.1f, 0, B + 1};
	CHECK(nk_charlm_task_init(&bad, &xc, &m, &v, NK_LEVEL_BYTE, 0, ids,
				  NSYM, "ids") == NK_EINVAL);
	free(gw);
	free(gs);
	nk_charlm_task_free(&whole);
	for (int r = 0; r < N; r++)
		nk_charlm_task_free(&part[r]);
	nk_charlm_free(&m);
}

int main(void)
{
	RUN(shares);
	RUN(one_process);
	RUN(charlm_shares_add_up);
	return nk_test_exit();
}
