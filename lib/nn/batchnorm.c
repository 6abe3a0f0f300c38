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

/* ---- one channel's passes, shared by every variant below -------------
 *
 * A sum in double down one chain of adds waits 4 cycles an element: the
 * sums go to LANES accumulators instead, lane j taking the elements
 * i = j mod LANES of each plane, one vector of doubles, joined in one
 * fixed order at the end.  The bits depend on the sizes alone (not on the
 * threads, nor on where the planes lie), and the one-share pieces of the
 * synchronised functions run the same code, so they keep equalling the
 * one-process functions bit for bit. */
#define LANES 8

static double join(const double *a)
{
	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

#define PLANE(p, b, c) ((p) + ((size_t)(b) * C + (c)) * HW)

static double chan_sum(const float *in, int c, int B, int C, int HW)
{
	double a[LANES] = {0};
	for (int b = 0; b < B; b++) {
		const float *x = PLANE(in, b, c);
		int i = 0;
		for (; i + LANES <= HW; i += LANES) {
#pragma omp simd
			for (int j = 0; j < LANES; j++)
				a[j] += x[i + j];
		}
		for (int j = 0; i + j < HW; j++)
			a[j] += x[i + j];
	}
	return join(a);
}

/* Two passes: the squares about the mean, not E[x^2] - mean^2, which
 * cancels when the mean is large. */
static double chan_sq(const float *in, double mean, int c, int B, int C,
		      int HW)
{
	double a[LANES] = {0};
	for (int b = 0; b < B; b++) {
		const float *x = PLANE(in, b, c);
		int i = 0;
		for (; i + LANES <= HW; i += LANES) {
#pragma omp simd
			for (int j = 0; j < LANES; j++) {
				double d = x[i + j] - mean;
				a[j] += d * d;
			}
		}
		for (int j = 0; i + j < HW; j++) {
			double d = x[i + j] - mean;
			a[j] += d * d;
		}
	}
	return join(a);
}

/* The activation after the norm: z > 0 ? z : slope * z (slope 1: none,
 * exactly, as 1 * z is z). */
static inline float leaky(float z, float slope)
{
	return z > 0 ? z : slope * z;
}

/* y = act((x - m) * a + sh) for a channel. */
static void chan_apply(float *out, const float *in, float m, float a,
		       float sh, float slope, int c, int B, int C, int HW)
{
	for (int b = 0; b < B; b++) {
		const float *x = PLANE(in, b, c);
		float *y = PLANE(out, b, c);
#pragma omp simd
		for (int i = 0; i < HW; i++)
			y[i] = leaky((x[i] - m) * a + sh, slope);
	}
}

/* The statistics' end: normalise, save, and move the running ones as
 * PyTorch does (the running variance is the unbiased one; a batch of one
 * pixel leaves it as the biased, 0). */
static void chan_finish(float *out, float *save_mean, float *save_invstd,
			const float *in, const float *scale, const float *bias,
			float *running_mean, float *running_var,
			float momentum, float eps, float slope, double mean,
			double sq, double n, int c, int B, int C, int HW)
{
	double var = sq / n;
	float invstd = (float)(1.0 / sqrt(var + eps));
	float m = (float)mean;
	float a = (scale ? scale[c] : 1.0f) * invstd;
	chan_apply(out, in, m, a, bias ? bias[c] : 0.0f, slope, c, B, C, HW);
	if (save_mean)
		save_mean[c] = m;
	if (save_invstd)
		save_invstd[c] = invstd;
	if (running_mean)
		running_mean[c] = (float)((1.0 - momentum) * running_mean[c] +
					  momentum * mean);
	if (running_var) {
		double unbiased = n > 1 ? sq / (n - 1) : var;
		running_var[c] = (float)((1.0 - momentum) * running_var[c] +
					 momentum * unbiased);
	}
}

/* What backward needs of a channel, and the activation's gradient: dz is
 * dy where the norm's output z was positive, slope * dy elsewhere, z
 * recomputed from x as forward computed it (the same expression, so the
 * same sign), so that nobody keeps z. */
typedef struct {
	float m, is, a, sh, slope;
} chan_bw;

static chan_bw chan_bw_of(const float *save_mean, const float *save_invstd,
			  const float *scale, const float *bias, float slope,
			  int c)
{
	chan_bw k;
	k.m = save_mean[c], k.is = save_invstd[c];
	k.a = (scale ? scale[c] : 1.0f) * k.is;
	k.sh = bias ? bias[c] : 0.0f;
	k.slope = slope;
	return k;
}

static inline float chan_dz(chan_bw k, float dy, float x)
{
	return (x - k.m) * k.a + k.sh > 0 ? dy : k.slope * dy;
}

/* sum dz and sum dz * xhat over a channel.  GCC's -O2 vectorises
 * no loop whose count is unknown: `omp simd` asks for it (here and
 * below), the lanes' order being fixed by the code. */
static void chan_dsums(double *sdz, double *sdzx, const float *dout,
		       const float *in, const chan_bw *kp, int c, int B, int C,
		       int HW)
{
	chan_bw k = *kp;
	double s[LANES] = {0}, t[LANES] = {0};
	for (int b = 0; b < B; b++) {
		const float *x = PLANE(in, b, c), *dy = PLANE(dout, b, c);
		int i = 0;
		for (; i + LANES <= HW; i += LANES) {
#pragma omp simd
			for (int j = 0; j < LANES; j++) {
				float dz = chan_dz(k, dy[i + j], x[i + j]);
				s[j] += dz;
				t[j] += (double)dz * ((x[i + j] - k.m) * k.is);
			}
		}
		for (int j = 0; i + j < HW; j++) {
			float dz = chan_dz(k, dy[i + j], x[i + j]);
			s[j] += dz;
			t[j] += (double)dz * ((x[i + j] - k.m) * k.is);
		}
	}
	*sdz = join(s);
	*sdzx = join(t);
}

/* dx = (or +=, when add) scale * invstd * (dz - mean dz - xhat * mean
 * dz*xhat).  Written, it spares its caller a pass zeroing dx. */
static void chan_input(float *din, int add, const float *dout,
		       const float *in, const chan_bw *kp, const float *scale,
		       double sdz, double sdzx, double n, int c, int B, int C,
		       int HW)
{
	chan_bw k = *kp;
	float g = (scale ? scale[c] : 1.0f) * k.is;
	float mdz = (float)(sdz / n), mdzx = (float)(sdzx / n);
	float m = k.m, is = k.is;
	for (int b = 0; b < B; b++) {
		const float *x = PLANE(in, b, c), *dy = PLANE(dout, b, c);
		float *dx = PLANE(din, b, c);
		if (add) {
#pragma omp simd
			for (int i = 0; i < HW; i++)
				dx[i] += g * (chan_dz(k, dy[i], x[i]) - mdz -
					      (x[i] - m) * is * mdzx);
		} else {
#pragma omp simd
			for (int i = 0; i < HW; i++)
				dx[i] = g * (chan_dz(k, dy[i], x[i]) - mdz -
					     (x[i] - m) * is * mdzx);
		}
	}
}

/* ---- one process ------------------------------------------------------ */

void nk_batchnorm_leaky_forward_train(float *out, float *save_mean,
				      float *save_invstd, const float *in,
				      const float *scale, const float *bias,
				      float *running_mean, float *running_var,
				      float momentum, float eps, float slope,
				      int B, int C, int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		double mean = chan_sum(in, c, B, C, HW) / n;
		double sq = chan_sq(in, mean, c, B, C, HW);
		chan_finish(out, save_mean, save_invstd, in, scale, bias,
			    running_mean, running_var, momentum, eps, slope,
			    mean, sq, (double)n, c, B, C, HW);
	}
}

void nk_batchnorm_forward_train(float *out, float *save_mean,
				float *save_invstd, const float *in,
				const float *scale, const float *bias,
				float *running_mean, float *running_var,
				float momentum, float eps, int B, int C,
				int HW)
{
	nk_batchnorm_leaky_forward_train(out, save_mean, save_invstd, in,
					 scale, bias, running_mean,
					 running_var, momentum, eps, 1.0f, B,
					 C, HW);
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
 * the mean and variance being functions of x too; dy is the activation's
 * dz when one follows. */
static void backward(float *din, int add, float *dscale, float *dbias,
		     const float *dout, const float *in,
		     const float *save_mean, const float *save_invstd,
		     const float *scale, const float *bias, float slope, int B,
		     int C, int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		chan_bw k = chan_bw_of(save_mean, save_invstd, scale, bias,
				       slope, c);
		double sdz, sdzx;
		chan_dsums(&sdz, &sdzx, dout, in, &k, c, B, C, HW);
		if (dbias)
			dbias[c] += (float)sdz;
		if (dscale)
			dscale[c] += (float)sdzx;
		if (din)
			chan_input(din, add, dout, in, &k, scale, sdz, sdzx,
				   (double)n, c, B, C, HW);
	}
}

void nk_batchnorm_backward(float *din, float *dscale, float *dbias,
			   const float *dout, const float *in,
			   const float *save_mean, const float *save_invstd,
			   const float *scale, int B, int C, int HW)
{
	backward(din, 1, dscale, dbias, dout, in, save_mean, save_invstd,
		 scale, NULL, 1.0f, B, C, HW);
}

void nk_batchnorm_leaky_backward(float *din, float *dscale, float *dbias,
				 const float *dout, const float *in,
				 const float *save_mean,
				 const float *save_invstd, const float *scale,
				 const float *bias, float slope, int B, int C,
				 int HW)
{
	backward(din, 0, dscale, dbias, dout, in, save_mean, save_invstd,
		 scale, bias, slope, B, C, HW);
}

/* ---- synchronised: the same arithmetic, the sums taken apart ---------- */

void nk_batchnorm_stats(double *st, const float *in, int B, int C, int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		double sum = chan_sum(in, c, B, C, HW);
		double mean = n ? sum / n : 0;
		st[c] = sum;
		st[C + c] = chan_sq(in, mean, c, B, C, HW);
		st[2 * C + c] = n ? sum * sum / n : 0;
	}
	st[3 * C] = (double)n;
}

static void forward_stats(float *out, float *save_mean, float *save_invstd,
			  const float *in, const double *st,
			  const float *scale, const float *bias,
			  float *running_mean, float *running_var,
			  float momentum, float eps, float slope, int B, int C,
			  int HW)
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
		chan_finish(out, save_mean, save_invstd, in, scale, bias,
			    running_mean, running_var, momentum, eps, slope,
			    mean, sq, n, c, B, C, HW);
	}
}

void nk_batchnorm_forward_stats(float *out, float *save_mean,
				float *save_invstd, const float *in,
				const double *st, const float *scale,
				const float *bias, float *running_mean,
				float *running_var, float momentum, float eps,
				int B, int C, int HW)
{
	forward_stats(out, save_mean, save_invstd, in, st, scale, bias,
		      running_mean, running_var, momentum, eps, 1.0f, B, C,
		      HW);
}

static void backward_sums(double *sd, const float *dout, const float *in,
			  const float *save_mean, const float *save_invstd,
			  const float *scale, const float *bias, float slope,
			  int B, int C, int HW)
{
	size_t n = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (n * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		chan_bw k = chan_bw_of(save_mean, save_invstd, scale, bias,
				       slope, c);
		chan_dsums(&sd[c], &sd[C + c], dout, in, &k, c, B, C, HW);
	}
	sd[2 * C] = (double)n;
}

void nk_batchnorm_backward_sums(double *sd, const float *dout, const float *in,
				const float *save_mean,
				const float *save_invstd, int B, int C,
				int HW)
{
	backward_sums(sd, dout, in, save_mean, save_invstd, NULL, NULL, 1.0f,
		      B, C, HW);
}

static void backward_input(float *din, int add, const float *dout,
			   const float *in, const float *save_mean,
			   const float *save_invstd, const float *scale,
			   const float *bias, float slope, const double *sd,
			   int B, int C, int HW)
{
	size_t here = (size_t)B * HW;
#pragma omp parallel for schedule(static) if (here * C >= PAR_MIN)
	for (int c = 0; c < C; c++) {
		chan_bw k = chan_bw_of(save_mean, save_invstd, scale, bias,
				       slope, c);
		chan_input(din, add, dout, in, &k, scale, sd[c], sd[C + c],
			   sd[2 * C], c, B, C, HW);
	}
}

void nk_batchnorm_backward_input(float *din, const float *dout,
				 const float *in, const float *save_mean,
				 const float *save_invstd, const float *scale,
				 const double *sd, int B, int C, int HW)
{
	backward_input(din, 1, dout, in, save_mean, save_invstd, scale, NULL,
		       1.0f, sd, B, C, HW);
}

int nk_batchnorm_leaky_forward_sync(float *out, float *save_mean,
				    float *save_invstd, const float *in,
				    const float *scale, const float *bias,
				    float *running_mean, float *running_var,
				    float momentum, float eps, float slope,
				    int B, int C, int HW, double *work)
{
	if (nk_dist_size() == 1) {
		nk_batchnorm_leaky_forward_train(out, save_mean, save_invstd,
						 in, scale, bias, running_mean,
						 running_var, momentum, eps,
						 slope, B, C, HW);
		return NK_OK;
	}
	nk_batchnorm_stats(work, in, B, C, HW);
	int rc = nk_dist_sum_f64(work, 3 * (size_t)C + 1);
	if (rc)
		return rc;
	if (!(work[3 * C] > 0))
		return nk_error(NK_EINVAL, "batch norm: no values on any rank");
	forward_stats(out, save_mean, save_invstd, in, work, scale, bias,
		      running_mean, running_var, momentum, eps, slope, B, C,
		      HW);
	return NK_OK;
}

int nk_batchnorm_forward_sync(float *out, float *save_mean, float *save_invstd,
			      const float *in, const float *scale,
			      const float *bias, float *running_mean,
			      float *running_var, float momentum, float eps,
			      int B, int C, int HW, double *work)
{
	return nk_batchnorm_leaky_forward_sync(out, save_mean, save_invstd, in,
					       scale, bias, running_mean,
					       running_var, momentum, eps,
					       1.0f, B, C, HW, work);
}

static int backward_sync(float *din, int add, float *dscale, float *dbias,
			 const float *dout, const float *in,
			 const float *save_mean, const float *save_invstd,
			 const float *scale, const float *bias, float slope,
			 int B, int C, int HW, double *work)
{
	if (nk_dist_size() == 1) {
		backward(din, add, dscale, dbias, dout, in, save_mean,
			 save_invstd, scale, bias, slope, B, C, HW);
		return NK_OK;
	}
	backward_sums(work, dout, in, save_mean, save_invstd, scale, bias,
		      slope, B, C, HW);
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
		backward_input(din, add, dout, in, save_mean, save_invstd,
			       scale, bias, slope, work, B, C, HW);
	return NK_OK;
}

int nk_batchnorm_backward_sync(float *din, float *dscale, float *dbias,
			       const float *dout, const float *in,
			       const float *save_mean,
			       const float *save_invstd, const float *scale,
			       int B, int C, int HW, double *work)
{
	return backward_sync(din, 1, dscale, dbias, dout, in, save_mean,
			     save_invstd, scale, NULL, 1.0f, B, C, HW, work);
}

int nk_batchnorm_leaky_backward_sync(float *din, float *dscale, float *dbias,
				     const float *dout, const float *in,
				     const float *save_mean,
				     const float *save_invstd,
				     const float *scale, const float *bias,
				     float slope, int B, int C, int HW,
				     double *work)
{
	return backward_sync(din, 0, dscale, dbias, dout, in, save_mean,
			     save_invstd, scale, bias, slope, B, C, HW, work);
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
