/* fuzz_image.c - hostile bytes through the image decoder and the pyramid.
 *
 * Every input goes to nk_image_decode with small caps (512 pixels per
 * side, 2^16 pixels: a fuzzer must not spend its time on big images, and
 * the caps themselves are under test).  What decodes must respect them;
 * then the Gaussian and Laplacian pyramids run on it, the Laplacian must
 * reconstruct the image exactly, and a PNG encode/decode must give the
 * same pixels back.  Any violation aborts, which the fuzzer reports.
 *
 * The stb_image decoder itself is compiled into this target from Debian's
 * header (the same code as libstb's) so that the fuzzer sees its branches
 * and the sanitizers watch its memory accesses; a definition in the
 * program takes precedence over the shared library's.  lib/ never does
 * this: it links libstb.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include "core/base.h"
#include "vision/image.h"
#include "vision/pyramid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nk_image_limits lim = { 512, 1 << 16 };
	nk_image img;
	int rc = nk_image_decode(&img, data, size, "fuzz", &lim);
	if (rc) {
		if (img.data || !nk_last_error()[0])
			abort();
		return 0;
	}
	if (img.w < 1 || img.h < 1 || img.w > 512 || img.h > 512 ||
	    (int64_t)img.w * img.h > (1 << 16) || img.c < 1 || img.c > 4)
		abort();
	int n = nk_pyr_max_levels(img.w, img.h);
	nk_laplacian lp;
	nk_image back;
	if (nk_laplacian_build(&lp, &img, n) == 0) {
		if (nk_laplacian_reconstruct(&back, &lp) != 0 ||
		    memcmp(back.data, img.data, nk_image_bytes(&img)) != 0)
			abort();
		nk_image_free(&back);
		nk_laplacian_free(&lp);
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (fp && nk_image_write_fp(&img, fp, "fuzz.png", NK_IMG_PNG, 0) == 0) {
		fclose(fp);
		fp = NULL;
		if (nk_image_decode(&back, (unsigned char *)buf, len, "re", &lim) != 0 ||
		    back.w != img.w || back.h != img.h || back.c != img.c ||
		    memcmp(back.data, img.data, nk_image_bytes(&img)) != 0)
			abort();
		nk_image_free(&back);
	}
	if (fp)
		fclose(fp);
	free(buf);
	nk_image_free(&img);
	return 0;
}
