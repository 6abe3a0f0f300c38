/* conv.h - 2-D convolution over NCHW tensors, forward and backward.
 *
 * Shapes: in (B, C, H, W), out (B, OC, OH, OW), weight (OC, C/groups, K, K)
 * -- PyTorch's and darknet's layout alike -- and bias (OC) or NULL.
 * OH = (H + 2*pad - K) / stride + 1, and likewise OW.
 * Products go through nk_sgemm (im2col, or the input itself for a 1x1
 * stride-1 convolution); `work` is scratch of nk_conv2d_work_floats floats
 * (C*K*K*OH*OW; 0 for a 1x1 stride-1 unpadded convolution, whose work may
 * then be NULL), shared by forward and backward.  Large outputs are split
 * into bands of rows, one per OpenMP thread; the results are the same bits
 * for any number of threads.
 */
#ifndef NK_NN_CONV_H
#define NK_NN_CONV_H

#include <stddef.h>

#include "nn/layer.h"

typedef struct {
	int C, H, W;    /* input channels, height, width */
	int OC;         /* output channels */
	int K;          /* square kernel side */
	int stride, pad;/* the same on both axes; pad zeros on every side */
	int groups;     /* C and OC are multiples of it */
} nk_conv2d_shape;

static inline int nk_conv2d_out_h(const nk_conv2d_shape *s)
{
	return (s->H + 2 * s->pad - s->K) / s->stride + 1;
}
static inline int nk_conv2d_out_w(const nk_conv2d_shape *s)
{
	return (s->W + 2 * s->pad - s->K) / s->stride + 1;
}

/* NK_EINVAL with a message when the shape is impossible (a size < 1, C or
 * OC not a multiple of groups, an output side < 1). */
int nk_conv2d_check(const nk_conv2d_shape *s);
size_t nk_conv2d_work_floats(const nk_conv2d_shape *s);

/* out = conv(in, w) + bias */
void nk_conv2d_forward(float *out, const float *in, const float *w,
		       const float *bias, int B, const nk_conv2d_shape *s,
		       float *work);
/* din += d/din, dw += d/dw, dbias += d/dbias (any may be NULL). */
void nk_conv2d_backward(float *din, float *dw, float *dbias, const float *dout,
			const float *in, const float *w, int B,
			const nk_conv2d_shape *s, float *work);

#endif
