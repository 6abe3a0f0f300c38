/* rnn.c - the Elman RNN with tanh over a time-major sequence
 * (torch.nn.RNN, nonlinearity 'tanh'):
 *   h_t = tanh(x_t @ w_ih^T + b_ih + h_{t-1} @ w_hh^T + b_hh).
 * The input projection of all T steps is one GEMM straight into h; each
 * step adds h_{t-1} @ w_hh^T (w_hh packed once) and applies tanh.
 * Backward needs only h: dpre = dh * (1 - h^2).
 *
 * Cache: workspace only: packed w_hh; dpre (T,B,H); dh carried (B,H).
 */
#include "nn/rnn.h"
#include "nn/vmath.h"
#include "core/gemm.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static size_t al16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static size_t pack_floats(int H)
{
	return al16(nk_sgemm_packed_b_floats(H, H));
}

size_t nk_rnn_cache_floats(int T, int B, int H)
{
	return pack_floats(H) + al16((size_t)T * B * H) + al16((size_t)B * H);
}

void nk_rnn_forward(float *h, float *cache, const float *x, const float *h0,
		    const float *w_ih, const float *w_hh, const float *b_ih,
		    const float *b_hh, int T, int B, int I, int H)
{
	size_t bh = (size_t)B * H;
	int rows = T * B, bias = b_ih || b_hh;
	float *wpack = cache;
	if (bias)
		for (int r = 0; r < rows; r++) {
			float *g = h + (size_t)r * H;
			for (int j = 0; j < H; j++)
				g[j] = (b_ih ? b_ih[j] : 0.0f) + (b_hh ? b_hh[j] : 0.0f);
		}
	nk_sgemm(0, 1, rows, H, I, 1.0f, x, I, w_ih, I, bias ? 1.0f : 0.0f, h, H);
	nk_sgemm_pack_b(wpack, 1, H, H, w_hh, H);
	/* The time loop in one parallel region, a barrier per GEMM and per
	 * tanh pass (see lstm.c). */
#pragma omp parallel if (nk_sgemm_team_worthwhile(B, H, H))
	for (int t = 0; t < T; t++) {
		const float *hp = t ? h + (size_t)(t - 1) * bh : h0;
		float *ht = h + (size_t)t * bh;
		if (hp)
			nk_sgemm_packed_team(0, B, H, H, 1.0f, hp, H, wpack, 1.0f,
					     ht, H);
#pragma omp for schedule(static)
		for (int b = 0; b < B; b++) {
			float *hb = ht + (size_t)b * H;
			for (int j = 0; j < H; j += NK_VW) {
				int n = H - j < NK_VW ? H - j : NK_VW;
				nk_vstore_n(hb + j, nk_vtanhf(nk_vload_n(hb + j, n)), n);
			}
		}
	}
}

void nk_rnn_backward(float *dx, float *dh0, float *dw_ih, float *dw_hh,
		     float *db_ih, float *db_hh, const float *dh,
		     const float *dh_last, float *cache, const float *x,
		     const float *h0, const float *h, const float *w_ih,
		     const float *w_hh, int T, int B, int I, int H)
{
	size_t bh = (size_t)B * H;
	float *wpack = cache, *dg = wpack + pack_floats(H);
	float *dhr = dg + al16((size_t)T * bh);
	if (dh_last)
		memcpy(dhr, dh_last, bh * sizeof *dhr);
	else
		memset(dhr, 0, bh * sizeof *dhr);
	nk_sgemm_pack_b(wpack, 0, H, H, w_hh, H);
#pragma omp parallel if (nk_sgemm_team_worthwhile(B, H, H))
	for (int t = T - 1; t >= 0; t--) {
		const float *ht = h + (size_t)t * bh;
		const float *dht = dh ? dh + (size_t)t * bh : NULL;
		float *dgt = dg + (size_t)t * bh;
#pragma omp for schedule(static)
		for (int b = 0; b < B; b++) {
			size_t o = (size_t)b * H;
			for (int j = 0; j < H; j += NK_VW) {
				int n = H - j < NK_VW ? H - j : NK_VW;
				nk_vf d = nk_vload_n(dhr + o + j, n);
				if (dht)
					d += nk_vload_n(dht + o + j, n);
				nk_vf y = nk_vload_n(ht + o + j, n);
				nk_vstore_n(dgt + o + j, d * (1.0f - y * y), n);
			}
		}
		if (t > 0 || dh0)
			nk_sgemm_packed_team(0, B, H, H, 1.0f, dgt, H, wpack, 0.0f,
					     dhr, H);
	}
	if (dh0)
		for (size_t k = 0; k < bh; k++)
			dh0[k] += dhr[k];
	if (dx)
		nk_sgemm(0, 0, T * B, I, H, 1.0f, dg, H, w_ih, I, 1.0f, dx, I);
	nk_recurrent_weight_grads(dw_ih, dw_hh, db_ih, db_hh, dg, dg, x, h0, h,
				  T, B, I, H, H);
}

void nk_recurrent_weight_grads(float *dw_ih, float *dw_hh, float *db_ih,
			       float *db_hh, const float *dg_ih,
			       const float *dg_hh, const float *x,
			       const float *h0, const float *h, int T, int B,
			       int I, int H, int GH)
{
	size_t bh = (size_t)B * H, bg = (size_t)B * GH;
	double work = (double)T * B * GH * (I + H);
	/* Each thread takes a band of the GH gradient rows and walks all
	 * steps: the GEMMs inside run on the calling thread, and a row's
	 * sums are the same whoever computes them (gemm.h). */
#pragma omp parallel if (work >= (1 << 20))
	{
		int nth = 1, tid = 0;
#ifdef _OPENMP
		nth = omp_get_num_threads(), tid = omp_get_thread_num();
#endif
		int r0 = (int)((int64_t)GH * tid / nth);
		int r1 = (int)((int64_t)GH * (tid + 1) / nth);
		for (int t = T - 1; t >= 0 && r1 > r0; t--) {
			const float *gi = dg_ih + (size_t)t * bg;
			const float *gh = dg_hh + (size_t)t * bg;
			const float *hp = t ? h + (size_t)(t - 1) * bh : h0;
			if (dw_ih)
				nk_sgemm(1, 0, r1 - r0, I, B, 1.0f, gi + r0, GH,
					 x + (size_t)t * B * I, I, 1.0f,
					 dw_ih + (size_t)r0 * I, I);
			if (dw_hh && hp)
				nk_sgemm(1, 0, r1 - r0, H, B, 1.0f, gh + r0, GH, hp,
					 H, 1.0f, dw_hh + (size_t)r0 * H, H);
			for (int b = 0; b < B; b++) {
				if (db_ih)
					for (int j = r0; j < r1; j++)
						db_ih[j] += gi[(size_t)b * GH + j];
				if (db_hh)
					for (int j = r0; j < r1; j++)
						db_hh[j] += gh[(size_t)b * GH + j];
			}
		}
	}
}
