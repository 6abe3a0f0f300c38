/* resize_area.c - cv::resize(INTER_AREA) of OpenCV 4.6 to the byte, for
 * downscaling 8-bit images.
 *
 * OpenCV takes one of three paths, and each rounds its own way:
 *
 *  - Integer factors on both axes ("area fast": |s - round(s)| below
 *    DBL_EPSILON, where s = 1 / (dw / w) in double, as cv::resize
 *    computes it): each output is the integer sum of its s_x by s_y
 *    block.  At 2x2 with 1, 3 or 4 channels the sum is rounded as
 *    (sum + 2) >> 2 (half up); otherwise as cvRound(sum * (1.f / area))
 *    in float (half to even).
 *  - Any other factor: computeResizeAreaTab's weights along each axis
 *    (float, from double arithmetic on s), applied to a row as
 *    buf += src * alpha per table entry in order, the rows of one
 *    output row summed as acc += beta * buf, all in float, then cvRound
 *    (half to even).
 *  - Equal sizes: a copy.
 *
 * Float results depend on the order and rounding of every operation, so
 * this file is compiled without contracting a * b + c into a fused
 * multiply-add (the Makefile's -ffp-contract=fast with -march=native
 * would), which OpenCV's baseline x86-64 build does not use either.
 */
#pragma GCC optimize("fp-contract=off")
#ifdef __clang__
#pragma clang fp contract(off)
#endif

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "vision/pyramid.h"

static uint8_t round_u8(float v)
{
	long r = lrintf(v); /* cvRound: to nearest, ties to even */
	return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

/* Integer factors sx, sy: block sums. */
static void area_fast(uint8_t *dst, int dw, int dh, const uint8_t *src,
		      int w, int c, int sx, int sy)
{
	const int area = sx * sy;
	const float scale = 1.f / (float)area;
	const int half = sx == 2 && sy == 2 && c != 2;
	const size_t srow = (size_t)w * c;
	for (int dy = 0; dy < dh; dy++) {
		const uint8_t *s0 = src + (size_t)dy * sy * srow;
		uint8_t *d = dst + (size_t)dy * dw * c;
		for (int dx = 0; dx < dw; dx++)
			for (int k = 0; k < c; k++) {
				const uint8_t *p = s0 + (size_t)dx * sx * c + k;
				int sum = 0;
				for (int y = 0; y < sy; y++)
					for (int x = 0; x < sx; x++)
						sum += p[(size_t)y * srow +
							 (size_t)x * c];
				d[(size_t)dx * c + k] =
					half ? (uint8_t)((sum + 2) >> 2)
					     : round_u8((float)sum * scale);
			}
	}
}

/* OpenCV's computeResizeAreaTab: for output d, the source cells of
 * [d*s, (d+1)*s), fractional cells at either end weighted by the part
 * covered.  Entries grouped by output index, in increasing order. */
struct area_tab {
	int di, si;
	float alpha;
};

static int area_tab(struct area_tab *tab, int n, int dn, double scale)
{
	int k = 0;
	for (int d = 0; d < dn; d++) {
		double f1 = d * scale, f2 = f1 + scale;
		double cell = scale < n - f1 ? scale : n - f1;
		int s1 = (int)ceil(f1), s2 = (int)floor(f2);
		if (s2 > n - 1)
			s2 = n - 1;
		if (s1 > s2)
			s1 = s2;
		if (s1 - f1 > 1e-3)
			tab[k++] = (struct area_tab){ d, s1 - 1,
						      (float)((s1 - f1) / cell) };
		for (int s = s1; s < s2; s++)
			tab[k++] = (struct area_tab){ d, s, (float)(1.0 / cell) };
		if (f2 - s2 > 1e-3) {
			double part = f2 - s2 < 1.0 ? f2 - s2 : 1.0;
			if (part > cell)
				part = cell;
			tab[k++] = (struct area_tab){ d, s2, (float)(part / cell) };
		}
	}
	return k;
}

static int area_general(uint8_t *dst, int dw, int dh, const uint8_t *src,
			int w, int h, int c, double scale_x, double scale_y)
{
	/* Each source cell meets at most two output cells: 2n entries. */
	struct area_tab *xt = nk_calloc(2 * (size_t)w + 2, sizeof *xt);
	struct area_tab *yt = nk_calloc(2 * (size_t)h + 2, sizeof *yt);
	float *buf = nk_calloc((size_t)dw * c, sizeof *buf);
	float *acc = nk_calloc((size_t)dw * c, sizeof *acc);
	if (!xt || !yt || !buf || !acc) {
		free(xt);
		free(yt);
		free(buf);
		free(acc);
		return NK_ENOMEM;
	}
	int nx = area_tab(xt, w, dw, scale_x), ny = area_tab(yt, h, dh, scale_y);
	const size_t drow = (size_t)dw * c;
	int j = 0;
	for (int dy = 0; dy < dh; dy++) {
		memset(acc, 0, drow * sizeof *acc);
		for (; j < ny && yt[j].di == dy; j++) {
			const uint8_t *s = src + (size_t)yt[j].si * w * c;
			memset(buf, 0, drow * sizeof *buf);
			for (int i = 0; i < nx; i++) {
				float *o = buf + (size_t)xt[i].di * c;
				const uint8_t *p = s + (size_t)xt[i].si * c;
				const float a = xt[i].alpha;
				for (int k = 0; k < c; k++)
					o[k] = o[k] + (float)p[k] * a;
			}
			const float b = yt[j].alpha;
			for (size_t i = 0; i < drow; i++)
				acc[i] = acc[i] + b * buf[i];
		}
		uint8_t *o = dst + (size_t)dy * drow;
		for (size_t i = 0; i < drow; i++)
			o[i] = round_u8(acc[i]);
	}
	free(xt);
	free(yt);
	free(buf);
	free(acc);
	return NK_OK;
}

int nk_resize_area(unsigned char *dst, int dw, int dh,
		   const unsigned char *src, int w, int h, int c)
{
	if (w < 1 || h < 1 || dw < 1 || dh < 1 || dw > w || dh > h || c < 1 ||
	    c > 4)
		return nk_error(NK_EINVAL, "area resize: cannot go from %dx%d to "
				"%dx%d", w, h, dw, dh);
	if (dw == w && dh == h) {
		memcpy(dst, src, (size_t)w * h * c);
		return NK_OK;
	}
	/* As cv::resize: the inverse of the inverse scale, in double. */
	const double scale_x = 1. / ((double)dw / w);
	const double scale_y = 1. / ((double)dh / h);
	const int ix = (int)lrint(scale_x), iy = (int)lrint(scale_y);
	if (fabs(scale_x - ix) < DBL_EPSILON && fabs(scale_y - iy) < DBL_EPSILON) {
		area_fast(dst, dw, dh, src, w, c, ix, iy);
		return NK_OK;
	}
	return area_general(dst, dw, dh, src, w, h, c, scale_x, scale_y);
}
