/* layernorm.c - layer normalization over the last axis (torch.nn.LayerNorm):
 *   out = (in - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps),
 * var the biased variance.  Rows are independent; the w and b gradients
 * sum over rows in row order, so results do not depend on threads. */
#include "nn/layernorm.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* out (N,C), mean and rstd (N) saved for backward; w, b (C) or NULL
 * (1 and 0).  Statistics in double. */
void nk_layernorm_forward(float *out, float *mean, float *rstd,
			  const float *in, const float *w, const float *b,
			  int N, int C, float eps)
{
#pragma omp parallel for schedule(static) if ((double)N * C > 65536)
	for (int n = 0; n < N; n++) {
		const float *x = in + (size_t)n * C;
		float *o = out + (size_t)n * C;
		double s = 0, ss = 0;
		for (int c = 0; c < C; c++)
			s += x[c];
		double mu = s / C;
		for (int c = 0; c < C; c++) {
			double d = x[c] - mu;
			ss += d * d;
		}
		float m = (float)mu, r = (float)(1.0 / sqrt(ss / C + eps));
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
			double sd = 0, sdn = 0;
			for (int c = 0; c < C; c++) {
				float dn = g[c] * (w ? w[c] : 1.0f);
				sd += dn;
				sdn += (double)dn * ((x[c] - m) * r);
			}
			float md = (float)(sd / C), mdn = (float)(sdn / C);
			for (int c = 0; c < C; c++) {
				float norm = (x[c] - m) * r;
				float dn = g[c] * (w ? w[c] : 1.0f);
				d[c] += (dn - md - norm * mdn) * r;
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
				for (int c = c0; c < c1; c++) {
					if (dw)
						dw[c] += g[c] * ((x[c] - m) * r);
					if (db)
						db[c] += g[c];
				}
			}
		}
	}
}
