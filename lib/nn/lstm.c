/* lstm.c - a long short-term memory layer over a time-major sequence, with
 * torch.nn.LSTM's weights and gate order (i, f, g, o).
 *
 * Forward: the input projection of all T steps is one GEMM,
 *   G (T*B, 4H) = x (T*B, I) @ w_ih^T + b_ih + b_hh,
 * then each step adds h_{t-1} @ w_hh^T (w_hh packed once for all steps)
 * and applies the gate nonlinearities and the cell update in one pass:
 *   i,f,o = sigmoid, g = tanh, c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
 * Backward runs the recurrence from T-1 down to 0 computing the gate
 * gradients dG (T*B, 4H) and dh_{t-1} = dG_t @ w_hh, then
 * dx = dG @ w_ih in one GEMM and the weight gradients step by step.
 *
 * Cache (floats, each part 64-byte aligned):
 *   gates (T,B,4H) after their nonlinearities; c (T,B,H); tanh(c) (T,B,H);
 *   then workspace: packed w_hh; dG (T,B,4H); dh, dc carried (B,H) each.
 */
#include "nn/lstm.h"
#include "nn/vmath.h"
#include "core/gemm.h"

#include <string.h>

static size_t al16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static size_t pack_floats(int H)
{
	size_t a = nk_sgemm_packed_b_floats(4 * H, H); /* w_hh^T (forward) */
	size_t b = nk_sgemm_packed_b_floats(H, 4 * H); /* w_hh (backward) */
	return al16(a > b ? a : b);
}

typedef struct lstm_cache {
	float *gates, *c, *tc, *wpack, *dg, *dh, *dc;
} lstm_cache;

static lstm_cache lstm_layout(float *cache, int T, int B, int H)
{
	size_t tbh = (size_t)T * B * H, bh = (size_t)B * H;
	lstm_cache L;
	L.gates = cache;
	L.c = L.gates + al16(4 * tbh);
	L.tc = L.c + al16(tbh);
	L.wpack = L.tc + al16(tbh);
	L.dg = L.wpack + pack_floats(H);
	L.dh = L.dg + al16(4 * tbh);
	L.dc = L.dh + al16(bh);
	return L;
}

size_t nk_lstm_cache_floats(int T, int B, int H)
{
	size_t tbh = (size_t)T * B * H, bh = (size_t)B * H;
	return 2 * al16(4 * tbh) + 2 * al16(tbh) + pack_floats(H) +
	       2 * al16(bh);
}

#define ld nk_vload_n
#define st nk_vstore_n

/* One row of one step: gate nonlinearities (in place in g) and the cell
 * update; cp (the previous cell) NULL for zeros. */
static void cell_forward(float *restrict g, const float *restrict cp,
			 float *restrict c, float *restrict tc,
			 float *restrict h, int H)
{
	float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
	for (int j = 0; j < H; j += NK_VW) {
		int n = H - j < NK_VW ? H - j : NK_VW;
		nk_vf i = nk_vsigmoidf(ld(gi + j, n));
		nk_vf f = nk_vsigmoidf(ld(gf + j, n));
		nk_vf u = nk_vtanhf(ld(gg + j, n));
		nk_vf o = nk_vsigmoidf(ld(go + j, n));
		nk_vf cj = i * u;
		if (cp)
			cj += f * ld(cp + j, n);
		nk_vf t = nk_vtanhf(cj);
		st(gi + j, i, n), st(gf + j, f, n), st(gg + j, u, n);
		st(go + j, o, n);
		st(c + j, cj, n), st(tc + j, t, n), st(h + j, o * t, n);
	}
}

/* One row of one step backward: the gate gradients dg from the carried
 * dh (plus this step's dh_in) and dc, and the dc carried to t-1. */
static void cell_backward(float *restrict dg, const float *restrict dhr,
			  float *restrict dcr, const float *restrict g,
			  const float *restrict cp, const float *restrict tc,
			  const float *restrict dh_in, int H)
{
	const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
	for (int j = 0; j < H; j += NK_VW) {
		int n = H - j < NK_VW ? H - j : NK_VW;
		nk_vf i = ld(gi + j, n), f = ld(gf + j, n), u = ld(gg + j, n);
		nk_vf o = ld(go + j, n), t = ld(tc + j, n);
		nk_vf d = ld(dhr + j, n);
		if (dh_in)
			d += ld(dh_in + j, n);
		nk_vf dc = ld(dcr + j, n) + d * o * (1.0f - t * t);
		nk_vf cprev = cp ? ld(cp + j, n) : nk_vsplat(0.0f);
		st(dg + j, dc * u * i * (1.0f - i), n);
		st(dg + H + j, dc * cprev * f * (1.0f - f), n);
		st(dg + 2 * H + j, dc * i * (1.0f - u * u), n);
		st(dg + 3 * H + j, d * t * o * (1.0f - o), n);
		st(dcr + j, dc * f, n);
	}
}

void nk_lstm_forward(float *h, float *c_last, float *cache, const float *x,
		     const float *h0, const float *c0, const float *w_ih,
		     const float *w_hh, const float *b_ih, const float *b_hh,
		     int T, int B, int I, int H)
{
	lstm_cache L = lstm_layout(cache, T, B, H);
	size_t G4 = (size_t)4 * H, bh = (size_t)B * H;
	int rows = T * B, bias = b_ih || b_hh;
	if (bias) {
#pragma omp parallel for schedule(static) if ((size_t)rows * G4 >= 1 << 16)
		for (int r = 0; r < rows; r++) {
			float *g = L.gates + (size_t)r * G4;
			for (size_t j = 0; j < G4; j++)
				g[j] = (b_ih ? b_ih[j] : 0.0f) + (b_hh ? b_hh[j] : 0.0f);
		}
	}
	nk_sgemm(0, 1, rows, 4 * H, I, 1.0f, x, I, w_ih, I, bias ? 1.0f : 0.0f,
		 L.gates, 4 * H);
	nk_sgemm_pack_b(L.wpack, 1, 4 * H, H, w_hh, H);
	/* The time loop in one parallel region: per step the recurrent GEMM
	 * (threads share its tiles) and the cell update (threads share the
	 * rows), a barrier after each. */
#pragma omp parallel if (nk_sgemm_team_worthwhile(B, 4 * H, H))
	for (int t = 0; t < T; t++) {
		const float *hp = t ? h + (size_t)(t - 1) * bh : h0;
		const float *cp = t ? L.c + (size_t)(t - 1) * bh : c0;
		float *gt = L.gates + (size_t)t * B * G4;
		float *ct = L.c + (size_t)t * bh, *tct = L.tc + (size_t)t * bh;
		float *ht = h + (size_t)t * bh;
		if (hp)
			nk_sgemm_packed_team(0, B, 4 * H, H, 1.0f, hp, H, L.wpack,
					     1.0f, gt, 4 * H);
#pragma omp for schedule(static)
		for (int b = 0; b < B; b++)
			cell_forward(gt + (size_t)b * G4,
				     cp ? cp + (size_t)b * H : NULL,
				     ct + (size_t)b * H, tct + (size_t)b * H,
				     ht + (size_t)b * H, H);
	}
	if (c_last && T > 0)
		memcpy(c_last, L.c + (size_t)(T - 1) * bh, bh * sizeof *c_last);
	else if (c_last && c0)
		memcpy(c_last, c0, bh * sizeof *c_last);
	else if (c_last)
		memset(c_last, 0, bh * sizeof *c_last);
}

void nk_lstm_backward(float *dx, float *dh0, float *dc0, float *dw_ih,
		      float *dw_hh, float *db_ih, float *db_hh,
		      const float *dh, const float *dh_last,
		      const float *dc_last, float *cache, const float *x,
		      const float *h0, const float *c0, const float *h,
		      const float *w_ih, const float *w_hh, int T, int B,
		      int I, int H)
{
	lstm_cache L = lstm_layout(cache, T, B, H);
	size_t G4 = (size_t)4 * H, bh = (size_t)B * H;
	if (dh_last)
		memcpy(L.dh, dh_last, bh * sizeof(float));
	else
		memset(L.dh, 0, bh * sizeof(float));
	if (dc_last)
		memcpy(L.dc, dc_last, bh * sizeof(float));
	else
		memset(L.dc, 0, bh * sizeof(float));
	nk_sgemm_pack_b(L.wpack, 0, H, 4 * H, w_hh, H);
#pragma omp parallel if (nk_sgemm_team_worthwhile(B, H, 4 * H))
	for (int t = T - 1; t >= 0; t--) {
		const float *gt = L.gates + (size_t)t * B * G4;
		const float *cp = t ? L.c + (size_t)(t - 1) * bh : c0;
		const float *tct = L.tc + (size_t)t * bh;
		const float *dht = dh ? dh + (size_t)t * bh : NULL;
		float *dgt = L.dg + (size_t)t * B * G4;
#pragma omp for schedule(static)
		for (int b = 0; b < B; b++)
			cell_backward(dgt + (size_t)b * G4, L.dh + (size_t)b * H,
				      L.dc + (size_t)b * H, gt + (size_t)b * G4,
				      cp ? cp + (size_t)b * H : NULL,
				      tct + (size_t)b * H,
				      dht ? dht + (size_t)b * H : NULL, H);
		if (t > 0 || dh0)
			nk_sgemm_packed_team(0, B, H, 4 * H, 1.0f, dgt, 4 * H,
					     L.wpack, 0.0f, L.dh, H);
	}
	if (dh0)
		for (size_t k = 0; k < bh; k++)
			dh0[k] += L.dh[k];
	if (dc0)
		for (size_t k = 0; k < bh; k++)
			dc0[k] += L.dc[k];
	if (dx)
		nk_sgemm(0, 0, T * B, I, 4 * H, 1.0f, L.dg, 4 * H, w_ih, I, 1.0f,
			 dx, I);
	nk_recurrent_weight_grads(dw_ih, dw_hh, db_ih, db_hh, L.dg, L.dg, x, h0,
				  h, T, B, I, H, 4 * H);
}
