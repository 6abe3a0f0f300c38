/* batchnorm.c - batch normalization over the channels of NCHW tensors
 * (torch.nn.functional.batch_norm; darknet's batch_normalize=1).
 *
 * A channel's statistics run over B planes of HW pixels that are not
 * contiguous, so every loop goes channel by channel, plane by plane.
 * Sums are in double: a channel of a 416x416 batch has millions of terms,
 * and a float sum of them loses the low digits that the variance is made
 * of.  Threads split the channels; each channel is summed in one fixed
 * order, so the bits do not depend on the thread count.
 */
#include "nn/batchnorm.h"
#include "core/base.h"
#include "core/dist.h"

#include <math.h>

/* Elements per call worth a parallel loop. */
#define PAR_MIN (1 << 16)

void nk_batchnorm_forward_train(float *out, float *save_mean,
				float *save_invstd, const float *in,
				const float *scale, const float *bias,
				float *running_mean, float *running_var,
				float momentum, float eps, int B, int C,
				int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		double sum = 0, sq = 0;
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++)
				sum += x[i];
		}
		double mean = sum / n;
		/* Two passes: the sum of squares about the mean, not
		 * E[x^2] - mean^2, which cancels when the mean is large. */
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++) {
				double d = x[i] - mean;
				sq += d * d;
			}
		}
		double var = sq / n;
		float invstd = (float)(1.0 / sqrt(var + eps));
		float m = (float)mean;
		float a = (scale ? scale[c] : 1.0f) * invstd;
		float sh = bias ? bias[c] : 0.0f;
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			float *y = out + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++)
				y[i] = (x[i] - m) * a + sh;
		}
		if (save_mean)
			save_mean[c] = m;
		if (save_invstd)
			save_invstd[c] = invstd;
		/* PyTorch's update: the running variance is the unbiased
		 * one (a batch of one pixel leaves it as the biased, 0). */
		if (running_mean)
			running_mean[c] = (float)((1.0 - momentum) *
						  running_mean[c] +
						  momentum * mean);
		if (running_var) {
			double unbiased = n > 1 ? sq / (n - 1) : var;
			running_var[c] = (float)((1.0 - momentum) *
						 running_var[c] +
						 momentum * unbiased);
		}
	}
}

void nk_batchnorm_forward_infer(float *out, const float *in,
				const float *scale, const float *bias,
				const float *running_mean,
				const float *running_var, float eps, int B,
				int C, int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for collapse(2) schedule(static) if (n * C >= PAR_MIN)
	for (int b = 0; b < B; b++)
		for (int c = 0; c < C; c++) {
			float a = (float)((scale ? scale[c] : 1.0f) /
					  sqrt((double)running_var[c] + eps));
			float m = running_mean[c], sh = bias ? bias[c] : 0.0f;
			const float *x = in + ((size_t)b * C + c) * HW;
			float *y = out + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++)
				y[i] = (x[i] - m) * a + sh;
		}
}

/* With xhat = (x - mean) * invstd and y = scale * xhat + bias over the
 * n = B*HW values of a channel:
 *   dbias  = sum dy,  dscale = sum dy * xhat,
 *   dx     = scale * invstd * (dy - dbias / n - xhat * dscale / n),
 * the mean and variance being functions of x too. */
void nk_batchnorm_backward(float *din, float *dscale, float *dbias,
			   const float *dout, const float *in,
			   const float *save_mean, const float *save_invstd,
			   const float *scale, int B, int C, int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		double sdy = 0, sdyx = 0;
		float m = save_mean[c], is = save_invstd[c];
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			const float *dy = dout + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++) {
				sdy += dy[i];
				sdyx += (double)dy[i] * ((x[i] - m) * is);
			}
		}
		if (dbias)
			dbias[c] += (float)sdy;
		if (dscale)
			dscale[c] += (float)sdyx;
		if (!din)
			continue;
		float k = (scale ? scale[c] : 1.0f) * is;
		float mdy = (float)(sdy / n), mdyx = (float)(sdyx / n);
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			const float *dy = dout + ((size_t)b * C + c) * HW;
			float *dx = din + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++)
				dx[i] += k * (dy[i] - mdy -
					      (x[i] - m) * is * mdyx);
		}
	}
}

/* ---- synchronised: the same arithmetic, the sums taken apart ---------- */

void nk_batchnorm_stats(double *st, const float *in, int B, int C, int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		double sum = 0, sq = 0;
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++)
				sum += x[i];
		}
		double mean = n ? sum / n : 0;
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++) {
				double d = x[i] - mean;
				sq += d * d;
			}
		}
		st[c] = sum;
		st[C + c] = sq;
		st[2 * C + c] = n ? sum * sum / n : 0;
	}
	st[3 * C] = (double)n;
}

void nk_batchnorm_forward_stats(float *out, float *save_mean,
				float *save_invstd, const float *in,
				const double *st, const float *scale,
				const float *bias, float *running_mean,
				float *running_var, float momentum, float eps,
				int B, int C, int HW)
{
	double n = st[3 * C];
	size_t here = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (here * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		double sum = st[c], mean = sum / n;
		/* Chan et al.: the shares' squares about their own means plus
		 * the spread of those means (0 for one share, exactly: the
		 * same product on both sides). */
		double sq = st[C + c] + (st[2 * C + c] - sum * sum / n);
		if (sq < 0)
			sq = 0;
		double var = sq / n;
		float invstd = (float)(1.0 / sqrt(var + eps));
		float m = (float)mean;
		float a = (scale ? scale[c] : 1.0f) * invstd;
		float sh = bias ? bias[c] : 0.0f;
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			float *y = out + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++)
				y[i] = (x[i] - m) * a + sh;
		}
		if (save_mean)
			save_mean[c] = m;
		if (save_invstd)
			save_invstd[c] = invstd;
		if (running_mean)
			running_mean[c] = (float)((1.0 - momentum) *
						  running_mean[c] +
						  momentum * mean);
		if (running_var) {
			double unbiased = n > 1 ? sq / (n - 1) : var;
			running_var[c] = (float)((1.0 - momentum) *
						 running_var[c] +
						 momentum * unbiased);
		}
	}
}

void nk_batchnorm_backward_sums(double *sd, const float *dout, const float *in,
				const float *save_mean,
				const float *save_invstd, int B, int C,
				int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		double sdy = 0, sdyx = 0;
		float m = save_mean[c], is = save_invstd[c];
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			const float *dy = dout + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++) {
				sdy += dy[i];
				sdyx += (double)dy[i] * ((x[i] - m) * is);
			}
		}
		sd[c] = sdy;
		sd[C + c] = sdyx;
	}
	sd[2 * C] = (double)n;
}

void nk_batchnorm_backward_input(float *din, const float *dout,
				 const float *in, const float *save_mean,
				 const float *save_invstd, const float *scale,
				 const double *sd, int B, int C, int HW)
{
	double n = sd[2 * C];
	size_t here = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (here * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		float m = save_mean[c], is = save_invstd[c];
		float k = (scale ? scale[c] : 1.0f) * is;
		float mdy = (float)(sd[c] / n), mdyx = (float)(sd[C + c] / n);
		for (int b = 0; b < B; b++) {
			const float *x = in + ((size_t)b * C + c) * HW;
			const float *dy = dout + ((size_t)b * C + c) * HW;
			float *dx = din + ((size_t)b * C + c) * HW;
			for (int i = 0; i < HW; i++)
				dx[i] += k * (dy[i] - mdy -
					      (x[i] - m) * is * mdyx);
		}
	}
}

int nk_batchnorm_forward_sync(float *out, float *save_mean, float *save_invstd,
			      const float *in, const float *scale,
			      const float *bias, float *running_mean,
			      float *running_var, float momentum, float eps,
			      int B, int C, int HW, double *work)
{
	if (nk_dist_size() == 1) {
		nk_batchnorm_forward_train(out, save_mean, save_invstd, in,
					   scale, bias, running_mean,
					   running_var, momentum, eps, B, C,
					   HW);
		return NK_OK;
	}
	nk_batchnorm_stats(work, in, B, C, HW);
	int rc = nk_dist_sum_f64(work, 3 * (size_t)C + 1);
	if (rc)
		return rc;
	if (!(work[3 * C] > 0))
		return nk_error(NK_EINVAL, "batch norm: no values on any rank");
	nk_batchnorm_forward_stats(out, save_mean, save_invstd, in, work,
				   scale, bias, running_mean, running_var,
				   momentum, eps, B, C, HW);
	return NK_OK;
}

int nk_batchnorm_backward_sync(float *din, float *dscale, float *dbias,
			       const float *dout, const float *in,
			       const float *save_mean,
			       const float *save_invstd, const float *scale,
			       int B, int C, int HW, double *work)
{
	if (nk_dist_size() == 1) {
		nk_batchnorm_backward(din, dscale, dbias, dout, in, save_mean,
				      save_invstd, scale, B, C, HW);
		return NK_OK;
	}
	nk_batchnorm_backward_sums(work, dout, in, save_mean, save_invstd, B,
				   C, HW);
	/* The parameters' gradients are this share's: the loop sums the
	 * ranks'. */
	for (int c = 0; c < C; c++) {
		if (dbias)
			dbias[c] += (float)work[c];
		if (dscale)
			dscale[c] += (float)work[C + c];
	}
	int rc = nk_dist_sum_f64(work, 2 * (size_t)C + 1);
	if (rc)
		return rc;
	if (din)
		nk_batchnorm_backward_input(din, dout, in, save_mean,
					    save_invstd, scale, work, B, C,
					    HW);
	return NK_OK;
}

/* conv + bn: scale * (w.x + bias - mean) / sqrt(var + eps) + bn_bias
 *          = (f * w).x + f * (bias - mean) + bn_bias,  f = scale / sqrt(..). */
void nk_batchnorm_fold(float *w, float *bias, const float *scale,
		       const float *bn_bias, const float *running_mean,
		       const float *running_var, float eps, int OC,
		       size_t per_oc)
{
	for (int oc = 0; oc < OC; oc++) {
		double f = (scale ? scale[oc] : 1.0) /
			   sqrt((double)running_var[oc] + eps);
		float *row = w + (size_t)oc * per_oc;
		for (size_t i = 0; i < per_oc; i++)
			row[i] = (float)(row[i] * f);
		bias[oc] = (float)((bias[oc] - (double)running_mean[oc]) * f +
				   (bn_bias ? bn_bias[oc] : 0.0));
	}
}
