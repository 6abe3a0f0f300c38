/* optim.h - optimizers over one flat parameter block, and gradient clipping. */
#ifndef NK_NN_OPTIM_H
#define NK_NN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

/* ---- optimizers over one flat parameter block (nk_params) ------------- */
typedef struct nk_adam {
	float lr, beta1, beta2, eps, weight_decay; /* decoupled (AdamW) */
	int64_t t;                                 /* steps taken */
	float *m, *v;                              /* n floats each */
	size_t n;
	size_t ndecay; /* weight decay applies to params [0, ndecay) only:
			* weights first, then biases and norm scales, which
			* decay would only pull towards 0; init sets n */
} nk_adam;
int nk_adam_init(nk_adam *a, size_t n, float lr, float beta1, float beta2,
		 float eps, float weight_decay);
void nk_adam_step(nk_adam *a, float *params, const float *grads, float lr);
void nk_adam_free(nk_adam *a);

typedef struct nk_sgd {
	float lr, momentum, weight_decay;
	float *velocity; /* n floats, NULL without momentum */
	size_t n;
} nk_sgd;
int nk_sgd_init(nk_sgd *s, size_t n, float lr, float momentum,
		float weight_decay);
void nk_sgd_step(nk_sgd *s, float *params, const float *grads, float lr);
void nk_sgd_free(nk_sgd *s);

/* Scales grads so their global L2 norm is at most max_norm (as
 * torch.nn.utils.clip_grad_norm_); returns the norm before clipping. */
double nk_clip_grad_norm(float *grads, size_t n, double max_norm);

#endif
