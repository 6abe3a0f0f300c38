/* resample.c - the layers that only move pixels: nearest upsampling and
 * darknet's reorg (declared in pool.h).  Backward of each is the same
 * move the other way, adding. */
#include "nn/pool.h"

#include <string.h>

void nk_upsample_forward(float *out, const float *in, int B, int C, int H,
			 int W, int f)
{
	int OW = W * f;
#pragma omp parallel for schedule(static) if ((size_t)B * C * H * W * f * f >= (1 << 16))
	for (int pl = 0; pl < B * C; pl++) {
		const float *x = in + (size_t)pl * H * W;
		float *y = out + (size_t)pl * H * f * OW;
		for (int iy = 0; iy < H; iy++) {
			float *row = y + (size_t)iy * f * OW;
			for (int ix = 0; ix < W; ix++)
				for (int j = 0; j < f; j++)
					row[ix * f + j] = x[iy * W + ix];
			for (int i = 1; i < f; i++)
				memcpy(row + (size_t)i * OW, row,
				       (size_t)OW * sizeof *row);
		}
	}
}

void nk_upsample_backward(float *din, const float *dout, int B, int C, int H,
			  int W, int f)
{
	int OW = W * f;
#pragma omp parallel for schedule(static) if ((size_t)B * C * H * W * f * f >= (1 << 16))
	for (int pl = 0; pl < B * C; pl++) {
		float *dx = din + (size_t)pl * H * W;
		const float *dy = dout + (size_t)pl * H * f * OW;
		for (int iy = 0; iy < H; iy++)
			for (int ix = 0; ix < W; ix++) {
				float sum = 0;
				for (int i = 0; i < f; i++)
					for (int j = 0; j < f; j++)
						sum += dy[(size_t)(iy * f + i) * OW +
							  ix * f + j];
				dx[iy * W + ix] += sum;
			}
	}
}

/* darknet's forward_reorg_layer calls reorg_cpu(input, w, h, c, batch,
 * stride, forward = 0, output) with the INPUT's w, h, c, which reads the
 * input as if it were (C/s^2, H*s, W*s) and writes an output laid out as
 * (C, H, W), the next layer then reading that as (C*s^2, H/s, W/s).
 * Element (c2, y, x) of that view of the input goes to channel
 * ((y % s) * s + x % s) * C/s^2 + c2, pixel (y / s, x / s) of the output's
 * (C, H, W) layout.  So it is a space-to-depth, but of the input's memory
 * taken as (C/s^2, H*s, W*s), not as (C, H, W): rows of different channels
 * mix, as darknet's yolov2 weights expect.  OpenCV's ReorgLayer gives the
 * same element order (checked in tests/t_conv_torch.sh). */
static void reorg(float *dst, const float *src, int B, int C, int H, int W,
		  int s, int add)
{
	int C2 = C / (s * s), SH = H * s, SW = W * s;
	size_t img = (size_t)C * H * W;
	for (int b = 0; b < B; b++) {
		const float *x = src + b * img;
		float *y = dst + b * img;
		for (int c2 = 0; c2 < C2; c2++)
			for (int h2 = 0; h2 < SH; h2++)
				for (int w2 = 0; w2 < SW; w2++) {
					size_t i = ((size_t)c2 * SH + h2) * SW + w2;
					int k = ((h2 % s) * s + w2 % s) * C2 + c2;
					size_t o = ((size_t)k * H + h2 / s) * W +
						   w2 / s;
					/* forward: out[o] = in[i];
					 * backward: din[i] += dout[o] */
					if (add)
						y[i] += x[o];
					else
						y[o] = x[i];
				}
	}
}

void nk_reorg_forward(float *out, const float *in, int B, int C, int H, int W,
		      int s)
{
	reorg(out, in, B, C, H, W, s, 0);
}

void nk_reorg_backward(float *din, const float *dout, int B, int C, int H,
		       int W, int s)
{
	reorg(din, dout, B, C, H, W, s, 1);
}
