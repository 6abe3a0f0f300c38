/* linear.c - a fully connected layer, out = in @ w^T + b (torch.nn.Linear). */
#include "nn/linear.h"
#include "core/gemm.h"

/* out (N,OC) = in (N,IC) @ w (OC,IC)^T + b (OC).  The bias goes into out
 * first and the product is added to it, so each element is rounded the
 * same way whatever N is. */
void nk_linear_forward(float *out, const float *in, const float *w,
		       const float *b, int N, int IC, int OC)
{
	if (b) {
		for (int n = 0; n < N; n++) {
			float *o = out + (size_t)n * OC;
			for (int c = 0; c < OC; c++)
				o[c] = b[c];
		}
	}
	nk_sgemm(0, 1, N, OC, IC, 1.0f, in, IC, w, IC, b ? 1.0f : 0.0f, out,
		 OC);
}

/* din (N,IC) += dout @ w;  dw (OC,IC) += dout^T @ in;  db (OC) += sum_n dout.
 * Any of din, dw, db may be NULL. */
void nk_linear_backward(float *din, float *dw, float *db, const float *dout,
			const float *in, const float *w, int N, int IC, int OC)
{
	if (din)
		nk_sgemm(0, 0, N, IC, OC, 1.0f, dout, OC, w, IC, 1.0f, din, IC);
	if (dw)
		nk_sgemm(1, 0, OC, IC, N, 1.0f, dout, OC, in, IC, 1.0f, dw, IC);
	if (db) {
		/* Column sums in row order: the same bits for any thread count. */
		for (int n = 0; n < N; n++) {
			const float *g = dout + (size_t)n * OC;
			for (int c = 0; c < OC; c++)
				db[c] += g[c];
		}
	}
}
