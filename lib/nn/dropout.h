/* dropout.h - inverted dropout, forward and backward. */
#ifndef NK_NN_DROPOUT_H
#define NK_NN_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"
#include "core/rng.h"

/* ---- dropout (inverted): out = in * mask, mask[i] in {0, 1/(1-p)} ------ */
void nk_dropout_forward(float *out, float *mask, const float *in, float p,
			size_t n, nk_rng *rng);
void nk_dropout_backward(float *din, const float *dout, const float *mask,
			 size_t n);

#endif
