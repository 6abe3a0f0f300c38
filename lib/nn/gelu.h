/* gelu.h - the Gaussian error linear unit, forward and backward.
 *
 *   erf form:  gelu(x) = x/2 * (1 + erf(x / sqrt 2))           (BERT paper,
 *              torch's nn.GELU() and F.gelu default)
 *   tanh form: gelu(x) = x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 *              (Google's BERT code, torch's approximate='tanh')
 *
 * Both run on the vector math of vmath.h: the erf is a rational
 * approximation (Eigen's, within a few ulp), so a FF layer's activation
 * costs little beside its GEMMs.
 */
#ifndef NK_NN_GELU_H
#define NK_NN_GELU_H

#include <stddef.h>

#include "nn/layer.h"

enum nk_gelu_kind { NK_GELU_ERF, NK_GELU_TANH };

/* out (n) = gelu(in); out may be in. */
void nk_gelu_forward(float *out, const float *in, size_t n, int kind);
/* pre (N,C) += bias (C), then out (N,C) = gelu(pre): a linear layer's
 * bias and the activation in one pass (the GEMM wrote pre without it). */
void nk_gelu_bias_forward(float *out, float *pre, const float *bias, int N,
			  int C, int kind);
/* din (n) += dout * gelu'(in).  din may be dout: then din is overwritten
 * with dout * gelu'(in) (there is nothing else to add to). */
void nk_gelu_backward(float *din, const float *dout, const float *in,
		      size_t n, int kind);

/* erf(x) of one float, the same approximation (for tests). */
float nk_erff(float x);

#endif
