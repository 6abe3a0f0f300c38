/* layernorm.h - layer normalization, forward and backward. */
#ifndef NK_NN_LAYERNORM_H
#define NK_NN_LAYERNORM_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"

/* ---- layer norm over the last axis: in (N,C), w/b (C) ----------------
 * mean and rstd (N) are saved for backward. */
void nk_layernorm_forward(float *out, float *mean, float *rstd,
			  const float *in, const float *w, const float *b,
			  int N, int C, float eps);
void nk_layernorm_backward(float *din, float *dw, float *db, const float *dout,
			   const float *in, const float *w, const float *mean,
			   const float *rstd, int N, int C);

#endif
