/* activation.h - the pointwise activations of convolutional networks
 * (darknet's names), forward in place and backward.
 *
 * leaky is darknet's: slope 0.1 below zero.  mish is x * tanh(softplus(x)),
 * silu (swish) x * logistic(x).  Backward takes the layer's OUTPUT y (what
 * the forward left in place) where that determines the derivative (linear,
 * leaky, relu, logistic) and the INPUT x for mish and silu, whose
 * derivative is not a function of y; nk_act_backward_needs_input says which.
 */
#ifndef NK_NN_ACTIVATION_H
#define NK_NN_ACTIVATION_H

#include <stddef.h>

#include "nn/layer.h"

typedef enum {
	NK_ACT_LINEAR,
	NK_ACT_LEAKY,
	NK_ACT_RELU,
	NK_ACT_LOGISTIC,
	NK_ACT_MISH,
	NK_ACT_SILU,
	NK_ACT_COUNT
} nk_act;

/* "linear", "leaky", ... (darknet's spelling; "swish" is accepted for
 * silu); -1 for an unknown name. */
int nk_act_from_name(const char *name);
const char *nk_act_name(nk_act a);
int nk_act_backward_needs_input(nk_act a);

/* x[i] = f(x[i]) for i < n. */
void nk_act_forward(float *x, size_t n, nk_act a);
/* dx[i] += f'(.) * dy[i]; `xy` is y or x as described above. */
void nk_act_backward(float *dx, const float *dy, const float *xy, size_t n,
		     nk_act a);

#endif
