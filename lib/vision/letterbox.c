/* letterbox.c - darknet 2018's resize_image and letterbox_image over
 * float planes (pjreddie/darknet src/image.c), operation for operation.
 *
 * Every product and sum is rounded as darknet's baseline x86-64 build
 * rounds it: no fused multiply-add (the Makefile's -ffp-contract=fast
 * with -march=native would fuse (1 - dx) * a + dx * b), and the second
 * pass adds dy * b to the stored (1 - dy) * a, as darknet's add_pixel
 * does, rather than evaluating one expression.
 */
#pragma GCC optimize("fp-contract=off")
#ifdef __clang__
#pragma clang fp contract(off)
#endif

#include <stdlib.h>

#include "core/base.h"
#include "vision/letterbox.h"

void nk_letterbox_size(int *new_w, int *new_h, int im_w, int im_h, int w,
		       int h)
{
	/* darknet compares the float ratios, then scales in int; int64
	 * here so that large images do not overflow. */
	if ((float)w / im_w < (float)h / im_h) {
		*new_w = w;
		*new_h = (int)(((int64_t)im_h * w) / im_w);
	} else {
		*new_h = h;
		*new_w = (int)(((int64_t)im_w * h) / im_h);
	}
	/* A sliver (3000x2 into 32x32) truncates to 0 rows, where darknet
	 * reads past its buffer: one row (or column) keeps the image
	 * running.  Every size darknet handles is left as it computes it. */
	if (*new_w < 1)
		*new_w = 1;
	if (*new_h < 1)
		*new_h = 1;
}

static int check_sizes(int C, int iw, int ih, int w, int h)
{
	if (C < 1 || iw < 1 || ih < 1 || w < 1 || h < 1 ||
	    iw > NK_IMAGE_MAX_SIDE || ih > NK_IMAGE_MAX_SIDE ||
	    w > NK_IMAGE_MAX_SIDE || h > NK_IMAGE_MAX_SIDE)
		return nk_error(NK_EINVAL,
				"resize: %dx%d to %dx%d (%d planes) out of range",
				iw, ih, w, h, C);
	return NK_OK;
}

int nk_darknet_resize(float *out, const float *in, int C, int iw, int ih,
		      int w, int h)
{
	int rc = check_sizes(C, iw, ih, w, h);
	if (rc)
		return rc;
	size_t n;
	if (nk_size_mul(&n, (size_t)w * (size_t)ih, (size_t)C))
		return NK_ENOMEM;
	float *part = nk_malloc(n * sizeof *part);
	if (!part)
		return NK_ENOMEM;
	/* (in - 1) / (out - 1) in float; 0/0 and x/0 when out is 1, where
	 * darknet takes the last column (below) and has no defined row. */
	float w_scale = w > 1 ? (float)(iw - 1) / (w - 1) : 0;
	float h_scale = h > 1 ? (float)(ih - 1) / (h - 1) : 0;

	for (int k = 0; k < C; k++) {
		const float *src = in + (size_t)k * ih * iw;
		float *dst = part + (size_t)k * ih * w;
		for (int r = 0; r < ih; r++) {
			const float *row = src + (size_t)r * iw;
			float *o = dst + (size_t)r * w;
			for (int c = 0; c < w; c++) {
				float val;
				if (c == w - 1 || iw == 1) {
					val = row[iw - 1];
				} else {
					float sx = c * w_scale;
					int ix = (int)sx;
					float dx = sx - ix;
					val = (1 - dx) * row[ix] + dx * row[ix + 1];
				}
				o[c] = val;
			}
		}
	}
	for (int k = 0; k < C; k++) {
		const float *src = part + (size_t)k * ih * w;
		float *dst = out + (size_t)k * h * w;
		for (int r = 0; r < h; r++) {
			float sy = r * h_scale;
			int iy = (int)sy;
			float dy = sy - iy;
			const float *a = src + (size_t)iy * w;
			float *o = dst + (size_t)r * w;
			for (int c = 0; c < w; c++)
				o[c] = (1 - dy) * a[c];
			if (r == h - 1 || ih == 1)
				continue;
			const float *b = a + w;
			for (int c = 0; c < w; c++)
				o[c] += dy * b[c];
		}
	}
	free(part);
	return NK_OK;
}

int nk_image_planes(float *out, const nk_image *im)
{
	if (!im || !im->data || im->c < 1 || im->c > 4 || im->w < 1 ||
	    im->h < 1)
		return nk_error(NK_EINVAL, "image planes: no image");
	/* darknet: (float)byte / 255. in double, rounded once to float */
	float lut[256];
	for (int v = 0; v < 256; v++)
		lut[v] = (float)(v / 255.);
	size_t plane = (size_t)im->w * im->h;
	int c = im->c;
	/* gray and gray+alpha: the gray value in all three planes */
	int off[3] = { 0, c >= 3 ? 1 : 0, c >= 3 ? 2 : 0 };
	for (int k = 0; k < 3; k++) {
		const unsigned char *p = im->data + off[k];
		float *o = out + k * plane;
		for (size_t i = 0; i < plane; i++)
			o[i] = lut[p[i * c]];
	}
	return NK_OK;
}

/* The image's planes in a new buffer. */
static float *planes_of(const nk_image *im)
{
	size_t n;
	if (nk_size_mul(&n, (size_t)im->w * (size_t)im->h, 3))
		return NULL;
	float *p = nk_malloc(n * sizeof *p);
	if (p && nk_image_planes(p, im)) {
		free(p);
		return NULL;
	}
	return p;
}

int nk_resize_input(float *out, const nk_image *im, int w, int h)
{
	if (!im || !im->data)
		return nk_error(NK_EINVAL, "resize: no image");
	int rc = check_sizes(3, im->w, im->h, w, h);
	if (rc)
		return rc;
	float *p = planes_of(im);
	if (!p)
		return NK_ENOMEM;
	rc = nk_darknet_resize(out, p, 3, im->w, im->h, w, h);
	free(p);
	return rc;
}

int nk_letterbox_input(float *out, const nk_image *im, int w, int h)
{
	if (!im || !im->data)
		return nk_error(NK_EINVAL, "letterbox: no image");
	int rc = check_sizes(3, im->w, im->h, w, h);
	if (rc)
		return rc;
	int nw, nh;
	nk_letterbox_size(&nw, &nh, im->w, im->h, w, h);
	float *p = planes_of(im);
	float *r = p ? nk_malloc((size_t)3 * nw * nh * sizeof *r) : NULL;
	if (!r) {
		free(p);
		return NK_ENOMEM;
	}
	rc = nk_darknet_resize(r, p, 3, im->w, im->h, nw, nh);
	free(p);
	if (rc) {
		free(r);
		return rc;
	}
	size_t plane = (size_t)w * h;
	for (size_t i = 0; i < 3 * plane; i++)
		out[i] = .5f;
	/* embed_image: offsets truncate toward zero, pixels that fall
	 * outside the canvas are dropped (set_pixel's bounds check). */
	int dx = (w - nw) / 2, dy = (h - nh) / 2;
	for (int k = 0; k < 3; k++)
		for (int y = 0; y < nh; y++) {
			int oy = dy + y;
			if (oy < 0 || oy >= h)
				continue;
			for (int x = 0; x < nw; x++) {
				int ox = dx + x;
				if (ox < 0 || ox >= w)
					continue;
				out[k * plane + (size_t)oy * w + ox] =
					r[((size_t)k * nh + y) * nw + x];
			}
		}
	free(r);
	return NK_OK;
}
