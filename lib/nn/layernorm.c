/* layernorm.c - layer normalization over the last axis (torch.nn.LayerNorm):
 *   out = (in - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps),
 * var the biased variance.  Rows are independent; the w and b gradients
 * sum over rows in row order, so results do not depend on threads. */
#include "nn/layernorm.h"

#include "nn/vmath.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Sum of a row's lanes, in double. */
static double lanes_sum(nk_vf v)
{
	double s = 0;
	for (int k = 0; k < NK_VW; k++)
		s += v[k];
	return s;
}

/* out (N,C), mean and rstd (N) saved for backward; w, b (C) or NULL
 * (1 and 0).  Each statistic is summed in NK_VW float lanes and the
 * lanes in double: a row of 128 has 8 terms a lane, and the double
 * loops it replaces (one element at a time) took 4% of a BERT-Tiny
 * step. */
void nk_layernorm_forward(float *out, float *mean, float *rstd,
			  const float *in, const float *w, const float *b,
			  int N, int C, float eps)
{
#pragma omp parallel for schedule(static) if ((double)N * C > 65536)
	for (int n = 0; n < N; n++) {
		const float *x = in + (size_t)n * C;
		float *o = out + (size_t)n * C;
		nk_vf sv = {0}, ssv = {0};
		for (int c = 0; c < C; c += NK_VW)
			sv += nk_vload_n(x + c, C - c < NK_VW ? C - c : NK_VW);
		float m = (float)(lanes_sum(sv) / C);
		for (int c = 0; c < C; c += NK_VW) {
			int k = C - c < NK_VW ? C - c : NK_VW;
			nk_vf d = nk_vload_n(x + c, k) - m;
			for (int j = k; j < NK_VW; j++)
				d[j] = 0;
			ssv += d * d;
		}
		float r = (float)(1.0 / sqrt(lanes_sum(ssv) / C + eps));
		if (w && b)
			for (int c = 0; c < C; c += NK_VW) {
				int k = C - c < NK_VW ? C - c : NK_VW;
				nk_vf y = (nk_vload_n(x + c, k) - m) * r;
				nk_vstore_n(o + c, y * nk_vload_n(w + c, k) +
						   nk_vload_n(b + c, k), k);
			}
		else
			for (int c = 0; c < C; c++) {
				float y = (x[c] - m) * r;
				o[c] = y * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
			}
		mean[n] = m;
		rstd[n] = r;
	}
}

/* din (N,C) += (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd
 * with norm = (in - mean) * rstd and dnorm = dout * w;
 * dw (C) += sum_n dout * norm; db (C) += sum_n dout.  Any may be NULL. */
void nk_layernorm_backward(float *din, float *dw, float *db, const float *dout,
			   const float *in, const float *w, const float *mean,
			   const float *rstd, int N, int C)
{
	if (din) {
#pragma omp parallel for schedule(static) if ((double)N * C > 65536)
		for (int n = 0; n < N; n++) {
			const float *x = in + (size_t)n * C, *g = dout + (size_t)n * C;
			float *d = din + (size_t)n * C;
			float m = mean[n], r = rstd[n];
			nk_vf sd = {0}, sdn = {0};
			for (int c = 0; c < C; c += NK_VW) {
				int k = C - c < NK_VW ? C - c : NK_VW;
				nk_vf dn = nk_vload_n(g + c, k);
				if (w)
					dn *= nk_vload_n(w + c, k);
				sd += dn;
				sdn += dn * ((nk_vload_n(x + c, k) - m) * r);
			}
			float md = (float)(lanes_sum(sd) / C),
			      mdn = (float)(lanes_sum(sdn) / C);
			for (int c = 0; c < C; c += NK_VW) {
				int k = C - c < NK_VW ? C - c : NK_VW;
				nk_vf norm = (nk_vload_n(x + c, k) - m) * r;
				nk_vf dn = nk_vload_n(g + c, k);
				if (w)
					dn *= nk_vload_n(w + c, k);
				nk_vstore_n(d + c, nk_vload_n(d + c, k) +
						   (dn - md - norm * mdn) * r, k);
			}
		}
	}
	if (dw || db) {
		/* Threads split the columns; each column still sums its rows
		 * in order, so the bits do not depend on the thread count. */
#pragma omp parallel if ((double)N * C > 65536 && C >= 64)
		{
#ifdef _OPENMP
			int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
			int t = 0, nt = 1;
#endif
			int c0 = (int)((int64_t)C * t / nt) & ~15;
			int c1 = t == nt - 1 ? C : (int)((int64_t)C * (t + 1) / nt) & ~15;
			for (int n = 0; n < N; n++) {
				const float *x = in + (size_t)n * C, *g = dout + (size_t)n * C;
				float m = mean[n], r = rstd[n];
				int c = c0;
				if (dw && db) {
					for (; c + NK_VW <= c1; c += NK_VW) {
						nk_vf gv = nk_vload(g + c);
						nk_vstore(dw + c, nk_vload(dw + c) + gv *
							  ((nk_vload(x + c) - m) * r));
						nk_vstore(db + c, nk_vload(db + c) + gv);
					}
					for (; c < c1; c++) {
						dw[c] += g[c] * ((x[c] - m) * r);
						db[c] += g[c];
					}
				} else if (dw)
					for (int c = c0; c < c1; c++)
						dw[c] += g[c] * ((x[c] - m) * r);
				else
					for (int c = c0; c < c1; c++)
						db[c] += g[c];
			}
		}
	}
}
