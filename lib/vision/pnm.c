/* pnm.c - binary PNM (P5 gray, P6 RGB) decoded here, not by stb_image.
 *
 * stb_image 2.27 reads the pixels with a length it does not check, so a
 * truncated file decoded into uninitialised memory, and it keeps samples
 * of a maxval other than 255 unscaled (a 16-bit sample becomes its high
 * byte).  Here the pixel bytes the header promises must all be present,
 * and samples are scaled to 0..255 as netpbm does: v * 255 / maxval,
 * rounded to nearest (maxval 255 copies, 65535 is the high byte rounded).
 * The header is read as stb reads it: blanks and # comments between the
 * numbers, one blank after the maximum value.
 */
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "vision/codec.h"

static int is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

int nk_pnm_read_header(nk_pnm_header *hd, const unsigned char *p, size_t n)
{
	int64_t v[3];
	size_t i = 2;
	memset(hd, 0, sizeof *hd);
	hd->c = n >= 2 && p[1] == '6' ? 3 : 1;
	for (int k = 0; k < 3; k++) {
		for (;;) {
			while (i < n && is_space(p[i]))
				i++;
			if (i < n && p[i] == '#') {
				while (i < n && p[i] != '\n' && p[i] != '\r')
					i++;
				continue;
			}
			break;
		}
		v[k] = 0;
		size_t at = i;
		while (i < n && p[i] >= '0' && p[i] <= '9') {
			v[k] = v[k] * 10 + (p[i++] - '0');
			if (v[k] > INT32_MAX / 10)
				return -1;
		}
		/* "-3" or "abc": no digits at all, which stb reads as 0. */
		if (i == at) {
			hd->bad = k;
			hd->bad_at = at;
			return -2;
		}
	}
	hd->w = v[0];
	hd->h = v[1];
	hd->maxval = v[2];
	hd->data = i + 1; /* the one blank after the maximum value */
	return 0;
}

int nk_pnm_decode(nk_image *img, const unsigned char *p, size_t n,
		  const char *name, const nk_image_limits *lim)
{
	nk_pnm_header hd;
	memset(img, 0, sizeof *img);
	int hrc = nk_pnm_read_header(&hd, p, n);
	if (hrc == -2) {
		static const char *const field[3] = {"width", "height",
						     "maximum value"};
		size_t e = hd.bad_at;
		while (e < n && e - hd.bad_at < 20 && !is_space(p[e]))
			e++;
		if (e == hd.bad_at)
			return nk_error(NK_EFORMAT, "%s: truncated pnm header (no "
					"%s)", name, field[hd.bad]);
		return nk_error(NK_EFORMAT, "%s: corrupt pnm header (the %s is "
				"'%.*s', not a whole number)", name,
				field[hd.bad], (int)(e - hd.bad_at),
				(const char *)p + hd.bad_at);
	}
	if (hrc)
		return nk_error(NK_EFORMAT, "%s: corrupt pnm header (a number "
				"is too large)", name);
	int rc = nk_image_check_size(hd.w, hd.h, name, lim);
	if (rc)
		return rc;
	if (hd.maxval < 1 || hd.maxval > 65535)
		return nk_error(NK_EFORMAT, "%s: corrupt pnm header (maximum "
				"value %lld, not in [1, 65535])", name,
				(long long)hd.maxval);
	if (hd.data > n || !is_space(p[hd.data - 1]))
		return nk_error(NK_EFORMAT, "%s: truncated pnm image (the "
				"header does not end with a blank after the "
				"maximum value)", name);
	size_t bps = hd.maxval > 255 ? 2 : 1;
	size_t samples = (size_t)hd.w * (size_t)hd.h * (size_t)hd.c;
	size_t need = samples * bps, have = n - hd.data;
	if (have < need)
		return nk_error(NK_EFORMAT, "%s: truncated pnm image: %zu of "
				"%zu pixel bytes missing (%lldx%lld, %d channel%s, "
				"%zu byte%s per sample)", name, need - have, need,
				(long long)hd.w, (long long)hd.h, hd.c,
				hd.c > 1 ? "s" : "", bps, bps > 1 ? "s" : "");
	if ((rc = nk_image_alloc(img, (int)hd.w, (int)hd.h, hd.c)))
		return nk_error_prefix(rc, name);
	const unsigned char *s = p + hd.data;
	const uint32_t m = (uint32_t)hd.maxval;
	if (bps == 1 && m == 255) {
		memcpy(img->data, s, samples);
		return NK_OK;
	}
	for (size_t k = 0; k < samples; k++) {
		uint32_t v = bps == 2 ? (uint32_t)s[2 * k] << 8 | s[2 * k + 1]
				      : s[k];
		if (v > m) {
			nk_image_free(img);
			return nk_error(NK_EFORMAT, "%s: corrupt pnm image: "
					"sample %zu is %u, above the maximum "
					"value %u (byte offset %zu)", name, k,
					v, m, hd.data + k * bps);
		}
		img->data[k] = (uint8_t)((v * 255 + m / 2) / m);
	}
	return NK_OK;
}
