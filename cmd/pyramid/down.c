/* down.c - pyramid gauss, laplacian and scale: the pyramids that go down
 * from an image. */
#include <stdio.h>

#include "cli.h"
#include "pyramid_cmd.h"

/* The -n levels for a w x h image, or the default; -1 with a message
 * when the image cannot have that many. */
static int levels_for(const struct opts *o, const char *file, int w, int h)
{
	int max = nk_pyr_max_levels(w, h);
	if (max > NK_PYR_MAX_LEVELS)
		max = NK_PYR_MAX_LEVELS;
	if (!o->levels)
		return max < 5 ? max : 5;
	if (o->levels > max) {
		nk_error(NK_ERANGE, "%s: %d levels requested, but a %dx%d image "
			 "has at most %d (it is 1x1 by then)", file, o->levels, w,
			 h, max);
		return -1;
	}
	return o->levels;
}

int pyr_run_gauss(const struct opts *o, const char *file)
{
	nk_image img, lv[NK_PYR_MAX_LEVELS];
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int n = levels_for(o, file, img.w, img.h);
	int rc = n < 0 ? NK_ERANGE : nk_pyr_gaussian(lv, n, &img);
	nk_image_free(&img);
	if (rc)
		return 1;
	pyr_summary(o, lv, n);
	rc = pyr_write_levels(o, file, lv, n, NULL);
	for (int i = 0; i < n; i++)
		nk_image_free(&lv[i]);
	return rc != 0;
}

int pyr_run_laplacian(const struct opts *o, const char *file)
{
	nk_image img, views[NK_PYR_MAX_LEVELS];
	nk_laplacian lp;
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int n = levels_for(o, file, img.w, img.h);
	int rc = n < 0 ? NK_ERANGE : nk_laplacian_build(&lp, &img, n);
	nk_image_free(&img);
	if (rc)
		return 1;
	int made = 0;
	for (; made < n && !rc; made++)
		rc = nk_laplacian_view(&views[made], &lp, made);
	if (!rc) {
		pyr_summary(o, views, n);
		rc = pyr_write_levels(o, file, views, n, &lp);
	}
	for (int i = 0; i < made; i++)
		nk_image_free(&views[i]);
	nk_laplacian_free(&lp);
	return rc != 0;
}

int pyr_run_scale(const struct opts *o, const char *file)
{
	static nk_image lv[NK_PYR_MAX_SCALES];
	static int ws[NK_PYR_MAX_SCALES], hs[NK_PYR_MAX_SCALES];
	nk_image img;
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int max = o->levels ? o->levels : NK_PYR_MAX_SCALES;
	int n = nk_pyr_scale_sizes(ws, hs, max, img.w, img.h, o->factor,
				   o->min_side);
	if (o->levels && n < o->levels) {
		nk_error(NK_ERANGE, "%s: %d levels requested, but a %dx%d image "
			 "has %d at factor %g down to %d pixels", file, o->levels,
			 img.w, img.h, n, o->factor, o->min_side);
		nk_image_free(&img);
		return 1;
	}
	int rc = nk_pyr_scale(lv, n, ws, hs, &img);
	nk_image_free(&img);
	if (rc)
		return 1;
	pyr_summary(o, lv, n);
	rc = pyr_write_levels(o, file, lv, n, NULL);
	for (int i = 0; i < n; i++)
		nk_image_free(&lv[i]);
	return rc != 0;
}
