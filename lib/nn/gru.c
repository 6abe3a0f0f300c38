/* gru.c - the gated recurrent unit over a time-major sequence, with
 * torch.nn.GRU's weights, gate order (r, z, n) and two bias vectors:
 *   r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
 *   z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
 *   n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
 *   h' = (1 - z) * n + z * h
 * The input projection of all T steps is one GEMM; each step computes
 * gh = h_{t-1} @ w_hh^T + b_hh (w_hh packed once) and the gates in one
 * pass.  Backward: gate gradients per step, dh_{t-1} = dh z + dGh @ w_hh,
 * then dx in one GEMM and the weight gradients step by step.
 *
 * Cache: gates (T,B,3H) after their nonlinearities; gh_n (T,B,H); then
 * workspace: packed w_hh; gh (B,3H); dGx, dGh (T,B,3H) each; dh (B,H).
 */
#include "nn/gru.h"
#include "nn/vmath.h"
#include "core/gemm.h"

#include <string.h>

static size_t al16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static size_t pack_floats(int H)
{
	size_t a = nk_sgemm_packed_b_floats(3 * H, H);
	size_t b = nk_sgemm_packed_b_floats(H, 3 * H);
	return al16(a > b ? a : b);
}

typedef struct gru_cache {
	float *gates, *ghn, *wpack, *gh, *dgx, *dgh, *dh;
} gru_cache;

static gru_cache gru_layout(float *cache, int T, int B, int H)
{
	size_t tbh = (size_t)T * B * H, bh = (size_t)B * H;
	gru_cache L;
	L.gates = cache;
	L.ghn = L.gates + al16(3 * tbh);
	L.wpack = L.ghn + al16(tbh);
	L.gh = L.wpack + pack_floats(H);
	L.dgx = L.gh + al16(3 * bh);
	L.dgh = L.dgx + al16(3 * tbh);
	L.dh = L.dgh + al16(3 * tbh);
	return L;
}

size_t nk_gru_cache_floats(int T, int B, int H)
{
	size_t tbh = (size_t)T * B * H, bh = (size_t)B * H;
	return 3 * al16(3 * tbh) + al16(tbh) + pack_floats(H) + al16(3 * bh) +
	       al16(bh);
}

/* One row of one forward step: r, z, n from the input part gx (then
 * overwritten with r, z, n) and the recurrent part gh; h' and gh_n. */
static void gru_cell(float *restrict gx, const float *restrict gh,
		     const float *restrict hpb, float *restrict hb,
		     float *restrict gn, int H)
{
	for (int j = 0; j < H; j += NK_VW) {
		int n = H - j < NK_VW ? H - j : NK_VW;
		nk_vf r = nk_vsigmoidf(nk_vload_n(gx + j, n) + nk_vload_n(gh + j, n));
		nk_vf z = nk_vsigmoidf(nk_vload_n(gx + H + j, n) +
				       nk_vload_n(gh + H + j, n));
		nk_vf hn = nk_vload_n(gh + 2 * H + j, n);
		nk_vf u = nk_vtanhf(nk_vload_n(gx + 2 * H + j, n) + r * hn);
		nk_vf y = (1.0f - z) * u;
		if (hpb)
			y += z * nk_vload_n(hpb + j, n);
		nk_vstore_n(gx + j, r, n);
		nk_vstore_n(gx + H + j, z, n);
		nk_vstore_n(gx + 2 * H + j, u, n);
		nk_vstore_n(gn + j, hn, n);
		nk_vstore_n(hb + j, y, n);
	}
}

/* One row of one backward step: the gate gradients for the input side
 * (dgx) and the recurrent side (dgh), and dh z into the carried dh. */
static void gru_cell_backward(float *restrict dx_, float *restrict dh_,
			      float *restrict dr, const float *restrict g,
			      const float *restrict gn,
			      const float *restrict hpb,
			      const float *restrict dhb, int H)
{
	for (int j = 0; j < H; j += NK_VW) {
		int n = H - j < NK_VW ? H - j : NK_VW;
		nk_vf r = nk_vload_n(g + j, n), z = nk_vload_n(g + H + j, n);
		nk_vf u = nk_vload_n(g + 2 * H + j, n);
		nk_vf d = nk_vload_n(dr + j, n);
		if (dhb)
			d += nk_vload_n(dhb + j, n);
		nk_vf hv = hpb ? nk_vload_n(hpb + j, n) : nk_vsplat(0.0f);
		nk_vf dnp = d * (1.0f - z) * (1.0f - u * u);
		nk_vf drp = dnp * nk_vload_n(gn + j, n) * r * (1.0f - r);
		nk_vf dzp = d * (hv - u) * z * (1.0f - z);
		nk_vstore_n(dx_ + j, drp, n);
		nk_vstore_n(dx_ + H + j, dzp, n);
		nk_vstore_n(dx_ + 2 * H + j, dnp, n);
		nk_vstore_n(dh_ + j, drp, n);
		nk_vstore_n(dh_ + H + j, dzp, n);
		nk_vstore_n(dh_ + 2 * H + j, dnp * r, n);
		nk_vstore_n(dr + j, d * z, n);
	}
}

void nk_gru_forward(float *h, float *cache, const float *x, const float *h0,
		    const float *w_ih, const float *w_hh, const float *b_ih,
		    const float *b_hh, int T, int B, int I, int H)
{
	gru_cache L = gru_layout(cache, T, B, H);
	size_t G3 = (size_t)3 * H, bh = (size_t)B * H;
	int rows = T * B;
	if (b_ih)
		for (int r = 0; r < rows; r++)
			memcpy(L.gates + (size_t)r * G3, b_ih, G3 * sizeof(float));
	nk_sgemm(0, 1, rows, 3 * H, I, 1.0f, x, I, w_ih, I, b_ih ? 1.0f : 0.0f,
		 L.gates, 3 * H);
	nk_sgemm_pack_b(L.wpack, 1, 3 * H, H, w_hh, H);
	/* The time loop in one parallel region (see lstm.c): per step the
	 * b_hh rows, the recurrent GEMM and the gates, a barrier after each. */
#pragma omp parallel if (nk_sgemm_team_worthwhile(B, 3 * H, H))
	for (int t = 0; t < T; t++) {
		const float *hp = t ? h + (size_t)(t - 1) * bh : h0;
		float *gt = L.gates + (size_t)t * B * G3;
		float *ghn = L.ghn + (size_t)t * bh, *ht = h + (size_t)t * bh;
#pragma omp for schedule(static)
		for (int b = 0; b < B; b++) {
			float *g = L.gh + (size_t)b * G3;
			if (b_hh)
				memcpy(g, b_hh, G3 * sizeof(float));
			else
				memset(g, 0, G3 * sizeof(float));
		}
		if (hp)
			nk_sgemm_packed_team(0, B, 3 * H, H, 1.0f, hp, H, L.wpack,
					     1.0f, L.gh, 3 * H);
#pragma omp for schedule(static)
		for (int b = 0; b < B; b++)
			gru_cell(gt + (size_t)b * G3, L.gh + (size_t)b * G3,
				 hp ? hp + (size_t)b * H : NULL, ht + (size_t)b * H,
				 ghn + (size_t)b * H, H);
	}
}

void nk_gru_backward(float *dx, float *dh0, float *dw_ih, float *dw_hh,
		     float *db_ih, float *db_hh, const float *dh,
		     const float *dh_last, float *cache, const float *x,
		     const float *h0, const float *h, const float *w_ih,
		     const float *w_hh, int T, int B, int I, int H)
{
	gru_cache L = gru_layout(cache, T, B, H);
	size_t G3 = (size_t)3 * H, bh = (size_t)B * H;
	float *dhr = L.dh;
	if (dh_last)
		memcpy(dhr, dh_last, bh * sizeof *dhr);
	else
		memset(dhr, 0, bh * sizeof *dhr);
	nk_sgemm_pack_b(L.wpack, 0, H, 3 * H, w_hh, H);
#pragma omp parallel if (nk_sgemm_team_worthwhile(B, H, 3 * H))
	for (int t = T - 1; t >= 0; t--) {
		const float *gt = L.gates + (size_t)t * B * G3;
		const float *ghn = L.ghn + (size_t)t * bh;
		const float *hp = t ? h + (size_t)(t - 1) * bh : h0;
		const float *dht = dh ? dh + (size_t)t * bh : NULL;
		float *dgx = L.dgx + (size_t)t * B * G3;
		float *dgh = L.dgh + (size_t)t * B * G3;
#pragma omp for schedule(static)
		for (int b = 0; b < B; b++)
			gru_cell_backward(dgx + (size_t)b * G3, dgh + (size_t)b * G3,
					  dhr + (size_t)b * H, gt + (size_t)b * G3,
					  ghn + (size_t)b * H,
					  hp ? hp + (size_t)b * H : NULL,
					  dht ? dht + (size_t)b * H : NULL, H);
		if (t > 0 || dh0)
			nk_sgemm_packed_team(0, B, H, 3 * H, 1.0f, dgh, 3 * H,
					     L.wpack, 1.0f, dhr, H);
	}
	if (dh0)
		for (size_t k = 0; k < bh; k++)
			dh0[k] += dhr[k];
	if (dx)
		nk_sgemm(0, 0, T * B, I, 3 * H, 1.0f, L.dgx, 3 * H, w_ih, I, 1.0f,
			 dx, I);
	nk_recurrent_weight_grads(dw_ih, dw_hh, db_ih, db_hh, L.dgx, L.dgh, x,
				  h0, h, T, B, I, H, 3 * H);
}
