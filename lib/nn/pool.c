/* pool.c - max, average and global average pooling over NCHW tensors.
 *
 * A window's rows run iy = oy*stride - pad + ki for ki < K, clipped to the
 * input; cells outside are skipped (darknet's maxpool skips them the same
 * way, and PyTorch pads max pooling with -inf).  Planes (b, c) are
 * independent, so threads split them and the bits do not depend on the
 * thread count.  Upsampling and reorg are in resample.c.
 */
#include "nn/pool.h"

#include <float.h>
#include <stdlib.h>

#define PAR_MIN (1 << 15)

static inline int imax(int a, int b)
{
	return a > b ? a : b;
}
static inline int imin(int a, int b)
{
	return a < b ? a : b;
}

static inline float fmax_first(float best, float v)
{
	return v > best ? v : best;
}

/* Inference (no argmax): the window's rows reduced to one row first, a
 * pass the compiler vectorizes, then that row's windows.  The maximum is
 * the same value the cell-by-cell loop finds; this was 37% of
 * yolov3-tiny's forward the other way. */
static void maxpool_plane_rows(float *y, const float *x, float *row,
			       const nk_pool_shape *s)
{
	int H = s->H, W = s->W, OW = s->OW, K = s->K, st = s->stride;
	for (int oy = 0; oy < s->OH; oy++) {
		int y0 = oy * st - s->pad;
		int ya = imax(y0, 0), yb = imin(y0 + K, H);
		if (ya >= yb) {
			for (int ox = 0; ox < OW; ox++)
				y[(size_t)oy * OW + ox] = -FLT_MAX;
			continue;
		}
		const float *r0 = x + (size_t)ya * W;
		for (int ix = 0; ix < W; ix++)
			row[ix] = r0[ix];
		for (int iy = ya + 1; iy < yb; iy++) {
			const float *r = x + (size_t)iy * W;
			for (int ix = 0; ix < W; ix++)
				row[ix] = fmax_first(row[ix], r[ix]);
		}
		float *yo = y + (size_t)oy * OW;
		if (K == 2 && st == 2 && s->pad == 0 && 2 * OW <= W) {
			for (int ox = 0; ox < OW; ox++)
				yo[ox] = fmax_first(row[2 * ox], row[2 * ox + 1]);
			continue;
		}
		for (int ox = 0; ox < OW; ox++) {
			int x0 = ox * st - s->pad;
			int xa = imax(x0, 0), xb = imin(x0 + K, W);
			float best = -FLT_MAX;
			if (xa < xb)
				best = row[xa];
			for (int ix = xa + 1; ix < xb; ix++)
				best = fmax_first(best, row[ix]);
			yo[ox] = best;
		}
	}
}

void nk_maxpool_forward(float *out, int32_t *argmax, const float *in, int B,
			const nk_pool_shape *s)
{
	int planes = B * s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	if (!argmax) {
		int fallback = 0;
#pragma omp parallel if ((size_t)planes * OH * OW * s->K * s->K >= PAR_MIN)
		{
			float *row = malloc((size_t)W * sizeof *row);
#pragma omp for schedule(static)
			for (int pl = 0; pl < planes; pl++) {
				if (row)
					maxpool_plane_rows(out + (size_t)pl * OH * OW,
							   in + (size_t)pl * H * W, row, s);
			}
			if (!row) {
#pragma omp atomic write
				fallback = 1;
			}
			free(row);
		}
		if (!fallback)
			return;
	}
#pragma omp parallel for schedule(static) if ((size_t)planes * OH * OW * s->K * s->K >= PAR_MIN)
	for (int pl = 0; pl < planes; pl++) {
		const float *x = in + (size_t)pl * H * W;
		float *y = out + (size_t)pl * OH * OW;
		int32_t *am = argmax ? argmax + (size_t)pl * OH * OW : NULL;
		for (int oy = 0; oy < OH; oy++) {
			int y0 = oy * s->stride - s->pad;
			int ya = imax(y0, 0), yb = imin(y0 + s->K, H);
			for (int ox = 0; ox < OW; ox++) {
				int x0 = ox * s->stride - s->pad;
				int xa = imax(x0, 0), xb = imin(x0 + s->K, W);
				/* The first maximum in row order wins ties,
				 * as in PyTorch and darknet. */
				float best = -FLT_MAX;
				int32_t at = -1;
				for (int iy = ya; iy < yb; iy++)
					for (int ix = xa; ix < xb; ix++) {
						float v = x[iy * W + ix];
						if (v > best || at < 0) {
							best = v;
							at = iy * W + ix;
						}
					}
				y[oy * OW + ox] = best;
				if (am)
					am[oy * OW + ox] = at;
			}
		}
	}
}

void nk_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
			 int B, const nk_pool_shape *s)
{
	int planes = B * s->C, HW = s->H * s->W, P = s->OH * s->OW;
#pragma omp parallel for schedule(static) if ((size_t)planes * P >= PAR_MIN)
	for (int pl = 0; pl < planes; pl++) {
		float *dx = din + (size_t)pl * HW;
		const float *dy = dout + (size_t)pl * P;
		const int32_t *am = argmax + (size_t)pl * P;
		for (int p = 0; p < P; p++)
			if (am[p] >= 0)
				dx[am[p]] += dy[p];
	}
}

void nk_avgpool_forward(float *out, const float *in, int B,
			const nk_pool_shape *s)
{
	int planes = B * s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
#pragma omp parallel for schedule(static) if ((size_t)planes * OH * OW * s->K * s->K >= PAR_MIN)
	for (int pl = 0; pl < planes; pl++) {
		const float *x = in + (size_t)pl * H * W;
		float *y = out + (size_t)pl * OH * OW;
		for (int oy = 0; oy < OH; oy++) {
			int y0 = oy * s->stride - s->pad;
			int ya = imax(y0, 0), yb = imin(y0 + s->K, H);
			for (int ox = 0; ox < OW; ox++) {
				int x0 = ox * s->stride - s->pad;
				int xa = imax(x0, 0), xb = imin(x0 + s->K, W);
				float sum = 0;
				for (int iy = ya; iy < yb; iy++)
					for (int ix = xa; ix < xb; ix++)
						sum += x[iy * W + ix];
				int n = (yb - ya) * (xb - xa);
				y[oy * OW + ox] = n > 0 ? sum / n : 0.0f;
			}
		}
	}
}

void nk_avgpool_backward(float *din, const float *dout, int B,
			 const nk_pool_shape *s)
{
	int planes = B * s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
#pragma omp parallel for schedule(static) if ((size_t)planes * OH * OW * s->K * s->K >= PAR_MIN)
	for (int pl = 0; pl < planes; pl++) {
		float *dx = din + (size_t)pl * H * W;
		const float *dy = dout + (size_t)pl * OH * OW;
		for (int oy = 0; oy < OH; oy++) {
			int y0 = oy * s->stride - s->pad;
			int ya = imax(y0, 0), yb = imin(y0 + s->K, H);
			for (int ox = 0; ox < OW; ox++) {
				int x0 = ox * s->stride - s->pad;
				int xa = imax(x0, 0), xb = imin(x0 + s->K, W);
				int n = (yb - ya) * (xb - xa);
				if (n <= 0)
					continue;
				float g = dy[oy * OW + ox] / n;
				for (int iy = ya; iy < yb; iy++)
					for (int ix = xa; ix < xb; ix++)
						dx[iy * W + ix] += g;
			}
		}
	}
}

void nk_global_avgpool_forward(float *out, const float *in, int B, int C,
			       int HW)
{
	for (size_t pl = 0; pl < (size_t)B * C; pl++) {
		const float *x = in + pl * HW;
		double sum = 0;
		for (int i = 0; i < HW; i++)
			sum += x[i];
		out[pl] = (float)(sum / HW);
	}
}

void nk_global_avgpool_backward(float *din, const float *dout, int B, int C,
				int HW)
{
	for (size_t pl = 0; pl < (size_t)B * C; pl++) {
		float g = dout[pl] / HW;
		float *dx = din + pl * HW;
		for (int i = 0; i < HW; i++)
			dx[i] += g;
	}
}
