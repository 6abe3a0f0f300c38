/* softmax.c - softmax with cross-entropy (the language models' loss) and a
 * plain softmax with a temperature (sampling). */
#include "nn/softmax.h"

#include <math.h>

/* Numerically stable: exponentials of (x - max) with the sum in double.
 * Returns log(sum) + max, the row's logsumexp (at temperature 1). */
static double softmax_row(float *p, const float *x, int V, float inv_temp)
{
	float mx = -INFINITY;
	for (int v = 0; v < V; v++)
		if (x[v] > mx)
			mx = x[v];
	double sum = 0;
	for (int v = 0; v < V; v++) {
		p[v] = expf((x[v] - mx) * inv_temp);
		sum += p[v];
	}
	float inv = (float)(1.0 / sum);
	for (int v = 0; v < V; v++)
		p[v] *= inv;
	return log(sum) + mx;
}

/* probs (N,V) = softmax(logits (N,V)); returns the mean over rows of
 * -log probs[n][targets[n]], computed as logsumexp - logit so that a tiny
 * probability does not round the loss to infinity.  The rows are cut into
 * a fixed number of chunks whatever the thread count, and the chunks' sums
 * added in order: the loss has the same bits on any number of threads. */
enum { XENT_CHUNKS = 64 };
double nk_softmax_xent_forward(float *probs, const float *logits,
			       const uint32_t *targets, int N, int V)
{
	double part[XENT_CHUNKS] = {0};
#pragma omp parallel for schedule(static) if ((double)N * V > 1 << 15)
	for (int k = 0; k < XENT_CHUNKS; k++) {
		int n0 = (int)((int64_t)N * k / XENT_CHUNKS);
		int n1 = (int)((int64_t)N * (k + 1) / XENT_CHUNKS);
		double s = 0;
		for (int n = n0; n < n1; n++) {
			const float *x = logits + (size_t)n * V;
			s += softmax_row(probs + (size_t)n * V, x, V, 1.0f) -
			     x[targets[n]];
		}
		part[k] = s;
	}
	double total = 0;
	for (int k = 0; k < XENT_CHUNKS; k++)
		total += part[k];
	return N > 0 ? total / N : 0.0;
}

/* dlogits (N,V) += scale * (probs - onehot(targets)). */
void nk_softmax_xent_backward(float *dlogits, const float *probs,
			      const uint32_t *targets, int N, int V,
			      float scale)
{
#pragma omp parallel for schedule(static) if ((double)N * V > 1 << 15)
	for (int n = 0; n < N; n++) {
		float *d = dlogits + (size_t)n * V;
		const float *p = probs + (size_t)n * V;
		for (int v = 0; v < V; v++)
			d[v] += scale * p[v];
		d[targets[n]] -= scale;
	}
}

/* out (V) = softmax(logits / temperature); temperature > 0. */
void nk_softmax(float *out, const float *logits, int V, float temperature)
{
	softmax_row(out, logits, V, 1.0f / temperature);
}
