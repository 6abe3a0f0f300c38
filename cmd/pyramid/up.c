/* up.c - pyramid up (one pyrUp) and reconstruct (an image from the
 * Laplacian bands of a weight file). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "vision/pyramid_file.h"
#include "pyramid_cmd.h"

int pyr_run_up(const struct opts *o, const char *file)
{
	nk_image img, up;
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int dw = o->up_w ? o->up_w : 2 * img.w, dh = o->up_h ? o->up_h : 2 * img.h;
	if (abs(dw - 2 * img.w) != dw % 2 || abs(dh - 2 * img.h) != dh % 2) {
		nk_error(NK_ERANGE, "%s: pyrUp of %dx%d gives %dx%d (or one less "
			 "or more on an odd side), not %dx%d", file, img.w, img.h,
			 2 * img.w, 2 * img.h, dw, dh);
		nk_image_free(&img);
		return 1;
	}
	int rc = nk_image_alloc(&up, dw, dh, img.c);
	if (!rc)
		rc = nk_pyr_up(up.data, dw, dh, img.data, img.w, img.h, img.c);
	nk_image_free(&img);
	if (!rc) {
		pyr_summary_one(o, &up);
		rc = pyr_write_levels(o, file, &up, 1, NULL);
	}
	nk_image_free(&up);
	return rc != 0;
}

int pyr_run_reconstruct(const struct opts *o, const char *file)
{
	nk_wfile *r = nk_wfile_read(file);
	if (!r)
		return 1;
	nk_image out;
	int rc = nk_pyr_file_reconstruct(&out, r, file);
	nk_wfile_free(r);
	if (rc)
		return 1;
	pyr_summary_one(o, &out);
	rc = pyr_write_levels(o, file, &out, 1, NULL);
	nk_image_free(&out);
	return rc != 0;
}
