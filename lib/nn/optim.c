/* optim.c - optimizers over one flat parameter block: Adam/AdamW, SGD with
 * momentum, and global-norm gradient clipping, with torch.optim's update
 * rules.  Updates are elementwise, so threads change nothing in the
 * results; the clipping norm sums in a fixed number of chunks. */
#include "nn/optim.h"
#include "core/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAR_ELEMS 65536

int nk_adam_init(nk_adam *a, size_t n, float lr, float beta1, float beta2,
		 float eps, float weight_decay)
{
	memset(a, 0, sizeof *a);
	if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) ||
	    !(eps > 0) || !(weight_decay >= 0))
		return nk_error(NK_EINVAL,
				"adam: lr %g, betas (%g, %g), eps %g, weight decay %g "
				"out of range", lr, beta1, beta2, eps, weight_decay);
	a->m = nk_calloc(n ? n : 1, sizeof *a->m);
	a->v = nk_calloc(n ? n : 1, sizeof *a->v);
	if (!a->m || !a->v) {
		nk_adam_free(a);
		return NK_ENOMEM;
	}
	a->lr = lr, a->beta1 = beta1, a->beta2 = beta2, a->eps = eps;
	a->weight_decay = weight_decay;
	a->n = a->ndecay = n;
	return NK_OK;
}

/* torch.optim.AdamW (Adam when weight_decay is 0):
 *   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
/* One AdamW update of params[lo, hi) with the given decay factor. */
static void adam_range(nk_adam *a, float *params, const float *grads,
		       ptrdiff_t lo, ptrdiff_t hi, float step, float bc2,
		       float decay)
{
	float b1 = a->beta1, b2 = a->beta2, eps = a->eps;
	float *m = a->m, *v = a->v;
#pragma omp parallel for simd schedule(static) if (hi - lo >= PAR_ELEMS)
	for (ptrdiff_t i = lo; i < hi; i++) {
		float g = grads[i];
		float p = params[i] * decay;
		m[i] = b1 * m[i] + (1.0f - b1) * g;
		v[i] = b2 * v[i] + (1.0f - b2) * g * g;
		params[i] = p - step * m[i] / (sqrtf(v[i]) / bc2 + eps);
	}
}

void nk_adam_step(nk_adam *a, float *params, const float *grads, float lr)
{
	a->t++;
	float step = (float)(lr / (1.0 - pow(a->beta1, (double)a->t)));
	float bc2 = (float)sqrt(1.0 - pow(a->beta2, (double)a->t));
	float decay = 1.0f - lr * a->weight_decay;
	ptrdiff_t n = (ptrdiff_t)a->n, nd = (ptrdiff_t)a->ndecay;
	adam_range(a, params, grads, 0, nd, step, bc2, decay);
	adam_range(a, params, grads, nd, n, step, bc2, 1.0f);
}

void nk_adam_free(nk_adam *a)
{
	free(a->m);
	free(a->v);
	a->m = a->v = NULL;
}

int nk_sgd_init(nk_sgd *s, size_t n, float lr, float momentum,
		float weight_decay)
{
	memset(s, 0, sizeof *s);
	if (!(lr >= 0) || !(momentum >= 0) || !(weight_decay >= 0))
		return nk_error(NK_EINVAL,
				"sgd: lr %g, momentum %g, weight decay %g out of range",
				lr, momentum, weight_decay);
	if (momentum > 0 && !(s->velocity = nk_calloc(n ? n : 1, sizeof(float))))
		return NK_ENOMEM;
	s->lr = lr, s->momentum = momentum, s->weight_decay = weight_decay;
	s->n = n;
	return NK_OK;
}

/* torch.optim.SGD without dampening or Nesterov:
 *   g += wd p;  v = mu v + g (v = g at the first step);  p -= lr v. */
void nk_sgd_step(nk_sgd *s, float *params, const float *grads, float lr)
{
	float wd = s->weight_decay, mu = s->momentum, *vel = s->velocity;
	ptrdiff_t n = (ptrdiff_t)s->n;
#pragma omp parallel for simd schedule(static) if (n >= PAR_ELEMS)
	for (ptrdiff_t i = 0; i < n; i++) {
		float g = grads[i] + wd * params[i];
		if (vel) {
			vel[i] = mu * vel[i] + g;
			g = vel[i];
		}
		params[i] -= lr * g;
	}
}

void nk_sgd_free(nk_sgd *s)
{
	free(s->velocity);
	s->velocity = NULL;
}

enum { NORM_CHUNKS = 64 };

/* torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when
 * that is below 1.  The squares are summed in double over a fixed number
 * of chunks, added in order: the same norm on any number of threads. */
double nk_clip_grad_norm(float *grads, size_t n, double max_norm)
{
	double part[NORM_CHUNKS] = {0};
#pragma omp parallel for schedule(static) if (n >= PAR_ELEMS)
	for (int k = 0; k < NORM_CHUNKS; k++) {
		size_t q = n / NORM_CHUNKS, r = n % NORM_CHUNKS, kk = (size_t)k;
		size_t i0 = q * kk + (kk < r ? kk : r), len = q + (kk < r);
		double s = 0;
		for (size_t i = i0; i < i0 + len; i++)
			s += (double)grads[i] * grads[i];
		part[k] = s;
	}
	double sum = 0;
	for (int k = 0; k < NORM_CHUNKS; k++)
		sum += part[k];
	double norm = sqrt(sum);
	double coef = max_norm / (norm + 1e-6);
	if (coef < 1.0) {
		float c = (float)coef;
		ptrdiff_t m = (ptrdiff_t)n;
#pragma omp parallel for simd schedule(static) if (m >= PAR_ELEMS)
		for (ptrdiff_t i = 0; i < m; i++)
			grads[i] *= c;
	}
	return norm;
}
