/* spp.c - spatial pyramid pooling, forward and backward. */
#include <string.h>

#include "core/base.h"
#include "vision/spp.h"

void nk_spp_bin(int *start, int *end, int i, int a, int n)
{
	int s = a / n, k = (a + n - 1) / n;
	if (s == 0) {
		*start = (int)((int64_t)i * a / n);
		*end = *start + 1;
		return;
	}
	*start = i * s;
	*end = i == n - 1 ? a : (i * s + k < a ? i * s + k : a);
}

size_t nk_spp_dim(int C, const int *levels, int nlevels)
{
	if (C < 1 || nlevels < 1 || nlevels > NK_SPP_MAX_LEVELS) {
		nk_error(NK_ERANGE, "SPP: %d channels, %d levels (1 to %d)", C,
			 nlevels, NK_SPP_MAX_LEVELS);
		return 0;
	}
	size_t bins = 0;
	for (int l = 0; l < nlevels; l++) {
		if (levels[l] < 1 || levels[l] > NK_SPP_MAX_BINS) {
			nk_error(NK_ERANGE, "SPP: level %d not in [1, %d]",
				 levels[l], NK_SPP_MAX_BINS);
			return 0;
		}
		bins += (size_t)levels[l] * levels[l];
	}
	size_t d;
	if (nk_size_mul(&d, bins, (size_t)C))
		return 0;
	return d;
}

static int check(int B, int C, int H, int W, const int *levels, int nlevels,
		 int mode)
{
	if (B < 1 || H < 1 || W < 1 || (mode != NK_SPP_MAX && mode != NK_SPP_AVG))
		return nk_error(NK_EINVAL, "SPP: bad input (%d,%d,%d,%d), mode %d",
				B, C, H, W, mode);
	if (!nk_spp_dim(C, levels, nlevels))
		return NK_ERANGE;
	return NK_OK;
}

int nk_spp_forward(float *out, int32_t *argmax, const float *in, int B,
		   int C, int H, int W, const int *levels, int nlevels,
		   int mode)
{
	int rc = check(B, C, H, W, levels, nlevels, mode);
	if (rc)
		return rc;
	if (mode == NK_SPP_MAX && !argmax)
		return nk_error(NK_EINVAL, "SPP: max mode needs an argmax cache");
	const size_t D = nk_spp_dim(C, levels, nlevels), plane = (size_t)H * W;
	for (int b = 0; b < B; b++) {
		size_t o = (size_t)b * D;
		for (int l = 0; l < nlevels; l++) {
			int n = levels[l];
			for (int c = 0; c < C; c++) {
				const float *p = in + ((size_t)b * C + c) * plane;
				for (int by = 0; by < n; by++) {
					int y0, y1;
					nk_spp_bin(&y0, &y1, by, H, n);
					for (int bx = 0; bx < n; bx++, o++) {
						int x0, x1;
						nk_spp_bin(&x0, &x1, bx, W, n);
						if (mode == NK_SPP_MAX) {
							int32_t best = y0 * W + x0;
							float m = p[best];
							for (int y = y0; y < y1; y++)
								for (int x = x0; x < x1; x++)
									if (p[y * W + x] > m) {
										m = p[y * W + x];
										best = y * W + x;
									}
							out[o] = m;
							argmax[o] = best;
						} else {
							double s = 0;
							for (int y = y0; y < y1; y++)
								for (int x = x0; x < x1; x++)
									s += p[y * W + x];
							out[o] = (float)(s / ((double)(y1 - y0) *
									     (x1 - x0)));
							if (argmax)
								argmax[o] = -1;
						}
					}
				}
			}
		}
	}
	return NK_OK;
}

int nk_spp_backward(float *din, const float *dout, const int32_t *argmax,
		    int B, int C, int H, int W, const int *levels, int nlevels,
		    int mode)
{
	int rc = check(B, C, H, W, levels, nlevels, mode);
	if (rc)
		return rc;
	if (mode == NK_SPP_MAX && !argmax)
		return nk_error(NK_EINVAL, "SPP: max mode needs the argmax cache");
	const size_t D = nk_spp_dim(C, levels, nlevels), plane = (size_t)H * W;
	for (int b = 0; b < B; b++) {
		size_t o = (size_t)b * D;
		for (int l = 0; l < nlevels; l++) {
			int n = levels[l];
			for (int c = 0; c < C; c++) {
				float *g = din + ((size_t)b * C + c) * plane;
				for (int by = 0; by < n; by++) {
					int y0, y1;
					nk_spp_bin(&y0, &y1, by, H, n);
					for (int bx = 0; bx < n; bx++, o++) {
						if (mode == NK_SPP_MAX) {
							int32_t a = argmax[o];
							if (a < 0 || (size_t)a >= plane)
								return nk_error(NK_EINVAL,
									"SPP: argmax %d out of "
									"range", (int)a);
							g[a] += dout[o];
							continue;
						}
						int x0, x1;
						nk_spp_bin(&x0, &x1, bx, W, n);
						float d = (float)(dout[o] /
							((double)(y1 - y0) * (x1 - x0)));
						for (int y = y0; y < y1; y++)
							for (int x = x0; x < x1; x++)
								g[y * W + x] += d;
					}
				}
			}
		}
	}
	return NK_OK;
}
