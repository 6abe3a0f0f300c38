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
/* ---- synchronised batch norm: one batch over the ranks of a job ----------
 *
 * Data parallelism (core/dist.h) gives each rank a share of the batch;
 * the statistics must still be the whole batch's, or a rank's share of
 * one image normalises differently from one process's batch.  Each
 * channel's local sums go through one fixed-order sum over the ranks
 * (nk_dist_sum_f64) in forward and one in backward.
 *
 * The variance: each rank sums its squares about ITS OWN mean (two
 * passes, as the one-process code), and the shares are joined by Chan,
 * Golub and LeVeque's parallel formula,
 *	M2 = sum_r M2_r + (sum_r S_r^2 / n_r - S^2 / n),
 * whose only cancellation is in the between-shares term, in double: about
 * 1e-16 * mean^2 / var relative, far below float's 6e-8, and one sum of
 * 3C + 1 doubles instead of the two (mean, then squares about it) that
 * the textbook two-pass variance would need.
 *
 * The pieces are public so that a test can run "ranks" in one process:
 *	nk_batchnorm_stats(st_r, share r)     for every r; st = sum of st_r
 *	nk_batchnorm_forward_stats(out_r, ..., st, share r)
 *	nk_batchnorm_backward_sums(sd_r, share r); sd = sum of sd_r
 *	nk_batchnorm_backward_input(din_r, ..., sd, share r)
 * With one share all four give the bits of the functions above. */

/* st (3C + 1): [sum x (C), sum (x - own mean)^2 (C), (sum x)^2 / n (C),
 * n = B*HW] over this share's B images. */
void nk_batchnorm_stats(double *st, const float *in, int B, int C, int HW);
/* The training forward from st summed over every share (st's n is the
 * whole batch's): as nk_batchnorm_forward_train, on this share's B. */
void nk_batchnorm_forward_stats(float *out, float *save_mean,
				float *save_invstd, const float *in,
				const double *st, const float *scale,
				const float *bias, float *running_mean,
				float *running_var, float momentum, float eps,
				int B, int C, int HW);
/* sd (2C + 1): [sum dy (C), sum dy * xhat (C), n] over this share, with
 * xhat from the saved (whole batch's) mean and invstd. */
void nk_batchnorm_backward_sums(double *sd, const float *dout, const float *in,
				const float *save_mean,
				const float *save_invstd, int B, int C,
				int HW);
/* din += the input gradient from sd summed over every share. */
void nk_batchnorm_backward_input(float *din, const float *dout,
				 const float *in, const float *save_mean,
				 const float *save_invstd, const float *scale,
				 const double *sd, int B, int C, int HW);

/* Over the ranks of the job (core/dist.h): the statistics of every
 * rank's share together; work holds 3C + 1 doubles (the caller's, so
 * that nothing can fail on one rank alone between collectives).  Every
 * rank must call it, for the same layers in the same order; on one rank
 * it is nk_batchnorm_forward_train exactly (no MPI call).  Returns NK_OK
 * or the error of the sum. */
int nk_batchnorm_forward_sync(float *out, float *save_mean, float *save_invstd,
			      const float *in, const float *scale,
			      const float *bias, float *running_mean,
			      float *running_var, float momentum, float eps,
			      int B, int C, int HW, double *work);
/* Its backward: dscale, dbias get this rank's share of the sums (the
 * training loop adds the ranks' gradients), din the gradient through the
 * whole batch's statistics.  The douts of every rank must be gradients of
 * the same loss (scaled alike).  On one rank nk_batchnorm_backward
 * exactly. */
int nk_batchnorm_backward_sync(float *din, float *dscale, float *dbias,
			       const float *dout, const float *in,
			       const float *save_mean,
			       const float *save_invstd, const float *scale,
			       int B, int C, int HW, double *work);

/* ---- with a leaky activation after it, fused ---------------------------
 *
 * y = z > 0 ? z : slope * z, z the batch norm's output: forward normalises
 * and activates in one pass (slope 1: no activation; the functions above
 * are these with slope 1).  Backward takes dout, the gradient of y, and
 * finds the sign of z again from in as forward computed it, so that
 * neither z nor y need be kept or read, and the activation's gradient
 * costs no pass of its own.  Unlike every other backward here, din is
 * WRITTEN, not added to: its caller's buffer needs no zeroing pass
 * (dscale and dbias still add).  bias is bn_bias, as in forward. */
void nk_batchnorm_leaky_forward_train(float *out, float *save_mean,
				      float *save_invstd, const float *in,
				      const float *scale, const float *bias,
				      float *running_mean, float *running_var,
				      float momentum, float eps, float slope,
				      int B, int C, int HW);
/* din = (may be NULL); dscale, dbias += */
void nk_batchnorm_leaky_backward(float *din, float *dscale, float *dbias,
				 const float *dout, const float *in,
				 const float *save_mean,
				 const float *save_invstd, const float *scale,
				 const float *bias, float slope, int B, int C,
				 int HW);
/* Their synchronised forms, as nk_batchnorm_forward_sync and
 * nk_batchnorm_backward_sync (din written here too). */
int nk_batchnorm_leaky_forward_sync(float *out, float *save_mean,
				    float *save_invstd, const float *in,
				    const float *scale, const float *bias,
				    float *running_mean, float *running_var,
				    float momentum, float eps, float slope,
				    int B, int C, int HW, double *work);
int nk_batchnorm_leaky_backward_sync(float *din, float *dscale, float *dbias,
				     const float *dout, const float *in,
				     const float *save_mean,
				     const float *save_invstd,
				     const float *scale, const float *bias,
				     float slope, int B, int C, int HW,
				     double *work);

/* Folds inference batch norm into the convolution before it:
 * w (OC, per_oc) and bias (OC) are rewritten in place so that conv alone
 * gives what conv + batchnorm gave.  bias must exist (zeros if none). */
void nk_batchnorm_fold(float *w, float *bias, const float *scale,
		       const float *bn_bias, const float *running_mean,
		       const float *running_var, float eps, int OC,
		       size_t per_oc);

#endif
