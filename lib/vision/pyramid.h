/* pyramid.h - Gaussian, Laplacian and any-scale image pyramids.
 *
 * All kernels work on 8-bit images of interleaved channels (lib/image.h
 * layout: pixel (x, y) channel k at (y * w + x) * c + k), c = 1..4.
 *
 * nk_pyr_down is OpenCV's cv::pyrDown to the byte: the 5x5 kernel
 * [1 4 6 4 1]^T [1 4 6 4 1] / 256 summed in integers, rounded as
 * (sum + 128) >> 8, borders reflected without repeating the edge
 * (BORDER_REFLECT_101: ... 2 1 | 0 1 2 ... ; a 1-pixel side reflects to
 * itself), then every other row and column kept, giving ((w+1)/2,
 * (h+1)/2).  nk_pyr_up is cv::pyrUp: zeros inserted, the same kernel
 * times 4, so that even outputs take taps [1 6 1] and odd ones [4 4],
 * rounded as (sum + 32) >> 6, reflected in the doubled grid.
 */
#ifndef NK_PYRAMID_H
#define NK_PYRAMID_H

#include <stdint.h>

#include "vision/image.h"

#define NK_PYR_MAX_LEVELS 32   /* Gaussian / Laplacian levels */
#define NK_PYR_MAX_SCALES 256  /* any-scale pyramid levels */

static inline int nk_pyr_down_size(int n)
{
	return (n + 1) / 2;
}

/* dst (((h+1)/2), ((w+1)/2), c)  <-  src (h, w, c).  NK_ENOMEM only. */
int nk_pyr_down(unsigned char *dst, const unsigned char *src, int w, int h,
		int c);
/* dst (dh, dw, c)  <-  src (h, w, c), where dw is 2w, or 2w +- 1 when dw is
 * odd (likewise dh), as cv::pyrUp's dstsize allows.  An extra last column
 * repeats the one before it; an extra last row repeats row 2h-2 (both as
 * OpenCV 4 does). */
int nk_pyr_up(unsigned char *dst, int dw, int dh, const unsigned char *src,
	      int w, int h, int c);

/* How many levels (the image itself counted) halving can make before the
 * image is 1x1: 1 + ceil(log2(max(w, h))). */
int nk_pyr_max_levels(int w, int h);

/* lv[0] = a copy of src, lv[i] = pyrDown(lv[i-1]) for i < n.  On failure
 * every lv[i] is freed. */
int nk_pyr_gaussian(nk_image *lv, int n, const nk_image *src);

/* A Laplacian pyramid (Burt & Adelson): band[i] = G[i] - pyrUp(G[i+1]) at
 * G[i]'s size, for i < n-1, and band[n-1] = G[n-1] itself, all as signed
 * 16-bit values (h[i], w[i], c).  Reconstruction from the top down,
 * G[i] = pyrUp(G[i+1]) + band[i], is exact. */
typedef struct nk_laplacian {
	int n, c;
	int w[NK_PYR_MAX_LEVELS], h[NK_PYR_MAX_LEVELS];
	int16_t *band[NK_PYR_MAX_LEVELS];
} nk_laplacian;

int nk_laplacian_build(nk_laplacian *lp, const nk_image *src, int n);
/* Validates sizes (w[i+1] = (w[i]+1)/2, ...) and that every reconstructed
 * value lies in 0..255 (NK_EFORMAT otherwise: the bands are not a
 * Laplacian pyramid of an 8-bit image). */
int nk_laplacian_reconstruct(nk_image *out, const nk_laplacian *lp);
/* A band for viewing: value + 128 clamped to 0..255 (the top level, a
 * Gaussian image, is copied as it is). */
int nk_laplacian_view(nk_image *out, const nk_laplacian *lp, int level);
void nk_laplacian_free(nk_laplacian *lp);

/* Anti-aliased downscale by pixel-area averaging (OpenCV's INTER_AREA
 * definition): each output pixel is the mean of the source area it
 * covers, partial pixels weighted by their covered fraction; rounded to
 * nearest.  Requires dw <= w and dh <= h. */
int nk_resize_area(unsigned char *dst, int dw, int dh,
		   const unsigned char *src, int w, int h, int c);

/* Sizes of an any-scale pyramid: level k is round(w * factor^k) by
 * round(h * factor^k), for as long as both sides stay >= min_side (level 0
 * is the image itself and always counts); at most `max` levels.  Returns
 * the number of levels. */
int nk_pyr_scale_sizes(int *ws, int *hs, int max, int w, int h,
		       double factor, int min_side);

/* lv[k] (hs[k], ws[k], c) = src area-resized (nk_resize_area) to each of
 * the n sizes.  On failure every lv[k] is freed. */
int nk_pyr_scale(nk_image *lv, int n, const int *ws, const int *hs,
		 const nk_image *src);

/* The n images side by side, left to right, in one image of lv[0]'s
 * height and channels (rows below a shorter image are zero). */
int nk_pyr_mosaic(nk_image *m, const nk_image *lv, int n);

#endif
