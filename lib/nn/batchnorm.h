/* batchnorm.h - batch normalization over the channels of NCHW tensors.
 *
 * y = scale * (x - mean) / sqrt(var + eps) + bias, per channel C over
 * (B, H, W).  Training uses the batch's mean and biased variance, keeps
 * mean and 1/sqrt(var + eps) for backward, and updates the running
 * statistics as PyTorch does (running = (1 - momentum) * running +
 * momentum * batch, the running variance from the unbiased batch
 * variance).  Inference uses the running statistics.  darknet's eps is
 * 1e-5 (.000001 in some versions: the caller passes it).
 */
#ifndef NK_NN_BATCHNORM_H
#define NK_NN_BATCHNORM_H

#include <stddef.h>

#include "nn/layer.h"

/* out (B,C,HW); save_mean, save_invstd (C) written for backward when not
 * NULL; running_mean, running_var (C) updated when not NULL.  In every
 * function here scale NULL means 1 and bias (bn_bias) NULL means 0.
 * Statistics are summed in double, channel by channel: the same bits for
 * any thread count. */
void nk_batchnorm_forward_train(float *out, float *save_mean,
				float *save_invstd, const float *in,
				const float *scale, const float *bias,
				float *running_mean, float *running_var,
				float momentum, float eps, int B, int C,
				int HW);
void nk_batchnorm_forward_infer(float *out, const float *in,
				const float *scale, const float *bias,
				const float *running_mean,
				const float *running_var, float eps, int B,
				int C, int HW);
/* din, dscale, dbias += (any may be NULL) */
void nk_batchnorm_backward(float *din, float *dscale, float *dbias,
			   const float *dout, const float *in,
			   const float *save_mean, const float *save_invstd,
			   const float *scale, int B, int C, int HW);
/* Folds inference batch norm into the convolution before it:
 * w (OC, per_oc) and bias (OC) are rewritten in place so that conv alone
 * gives what conv + batchnorm gave.  bias must exist (zeros if none). */
void nk_batchnorm_fold(float *w, float *bias, const float *scale,
		       const float *bn_bias, const float *running_mean,
		       const float *running_var, float eps, int OC,
		       size_t per_oc);

#endif
