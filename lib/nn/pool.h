/* pool.h - pooling and resampling over NCHW tensors: max and average
 * pooling, global average, nearest upsampling and darknet's reorg.
 *
 * Pooling windows are K x K with a stride and a padding BEFORE the first
 * row and column (pad_top == pad_left == pad); the output size is the
 * caller's (darknet and PyTorch round differently), and window cells
 * outside the input are skipped: they never win a max and are not
 * counted in an average (count_include_pad = False).  A window wholly
 * outside the input (only for an output larger than the input allows)
 * gives -FLT_MAX with argmax -1 for max, 0 for average, and no gradient.
 * Ties in a max go to the first cell in row order, as in PyTorch.
 * darknet's maxpool size=2 stride=1 is K 2, stride 1, pad 0, OH = H: the
 * last row's and column's windows hang over the edge.
 * The pooling is in pool.c, upsample and reorg in resample.c.
 */
#ifndef NK_NN_POOL_H
#define NK_NN_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"

typedef struct {
	int C, H, W;    /* input */
	int OH, OW;     /* output, chosen by the caller */
	int K, stride, pad;
} nk_pool_shape;

/* out (B,C,OH,OW); argmax (B,C,OH,OW) receives the flat index within the
 * image plane (y*W + x) of each maximum, for backward (NULL in inference). */
void nk_maxpool_forward(float *out, int32_t *argmax, const float *in, int B,
			const nk_pool_shape *s);
void nk_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
			 int B, const nk_pool_shape *s);
void nk_avgpool_forward(float *out, const float *in, int B,
			const nk_pool_shape *s);
void nk_avgpool_backward(float *din, const float *dout, int B,
			 const nk_pool_shape *s);

/* out (B,C) = mean over H*W of in (B,C,HW) */
void nk_global_avgpool_forward(float *out, const float *in, int B, int C,
			       int HW);
void nk_global_avgpool_backward(float *din, const float *dout, int B, int C,
				int HW);

/* out (B,C,H*f,W*f): nearest neighbour, each pixel repeated f x f. */
void nk_upsample_forward(float *out, const float *in, int B, int C, int H,
			 int W, int f);
void nk_upsample_backward(float *din, const float *dout, int B, int C, int H,
			  int W, int f);

/* darknet's reorg (yolov2's passthrough), stride s: in (B,C,H,W) gives
 * out (B, C*s*s, H/s, W/s) with darknet's (and OpenCV DNN's) element order,
 * which is not PyTorch's pixel_unshuffle: darknet reads the input's memory
 * as (C/s^2, H*s, W*s), so C must be a multiple of s*s and H, W of s
 * (resample.c has the index arithmetic). */
void nk_reorg_forward(float *out, const float *in, int B, int C, int H, int W,
		      int s);
void nk_reorg_backward(float *din, const float *dout, int B, int C, int H,
		       int W, int s);

#endif
