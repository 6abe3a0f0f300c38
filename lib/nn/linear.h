/* linear.h - a fully connected layer, forward and backward. */
#ifndef NK_NN_LINEAR_H
#define NK_NN_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"

/* ---- linear: out (N,OC) = in (N,IC) @ w^T + b; w (OC,IC), b (OC) or NULL */
void nk_linear_forward(float *out, const float *in, const float *w,
		       const float *b, int N, int IC, int OC);
void nk_linear_backward(float *din, float *dw, float *db, const float *dout,
			const float *in, const float *w, int N, int IC, int OC);

#endif
