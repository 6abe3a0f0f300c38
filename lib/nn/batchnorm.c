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
