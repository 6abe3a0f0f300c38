/* image.c - image decoding with caps checked first, PNG/JPEG encoding.
 *
 * The checks before any decoder and the dispatch: PNG to libpng (png.c),
 * JPEG to libjpeg-turbo (jpeg.c), binary PNM to pnm.c, BMP, TGA, GIF and
 * CMYK JPEG to stb_image, whose implementation Debian's libstb carries
 * (only its declarations are included here).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stb/stb_image.h>

#include "core/base.h"
#include "vision/codec.h"
#include "vision/image.h"
#include "core/io.h"

static const char *const format_names[] = {
	"unknown", "png", "jpeg", "bmp", "gif", "pnm", "tga",
};
_Static_assert(sizeof format_names / sizeof format_names[0] ==
		       NK_IMG_FORMAT_COUNT,
	       "every image format needs a name");

nk_image_limits nk_image_default_limits(void)
{
	nk_image_limits lim = { NK_IMAGE_MAX_SIDE, NK_IMAGE_MAX_PIXELS };
	return lim;
}

const char *nk_image_format_name(int format)
{
	if (format < 0 || format >= NK_IMG_FORMAT_COUNT)
		format = NK_IMG_UNKNOWN;
	return format_names[format];
}

int nk_image_alloc(nk_image *img, int w, int h, int c)
{
	memset(img, 0, sizeof *img);
	if (w < 1 || h < 1 || w > NK_IMAGE_MAX_SIDE || h > NK_IMAGE_MAX_SIDE ||
	    c < 1 || c > 4)
		return nk_error(NK_EINVAL, "image size %dx%dx%d out of range",
				w, h, c);
	size_t n;
	if (nk_size_mul(&n, (size_t)w * (size_t)h, (size_t)c))
		return NK_ERANGE;
	img->data = nk_calloc(n, 1);
	if (!img->data)
		return NK_ENOMEM;
	img->w = w;
	img->h = h;
	img->c = c;
	return NK_OK;
}

void nk_image_free(nk_image *img)
{
	free(img->data);
	memset(img, 0, sizeof *img);
}

size_t nk_image_bytes(const nk_image *img)
{
	return (size_t)img->w * (size_t)img->h * (size_t)img->c;
}

int nk_image_sniff(const unsigned char *p, size_t n)
{
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return NK_IMG_PNG;
	if (n >= 2 && p[0] == 0xff) {
		/* stb_image, like libjpeg, skips 0xFF fill bytes before SOI. */
		size_t i = 1;
		while (i < n && p[i] == 0xff)
			i++;
		if (i < n && p[i] == 0xd8)
			return NK_IMG_JPEG;
	}
	if (n >= 2 && p[0] == 'B' && p[1] == 'M')
		return NK_IMG_BMP;
	if (n >= 4 && memcmp(p, "GIF8", 4) == 0)
		return NK_IMG_GIF;
	if (n >= 2 && p[0] == 'P' && (p[1] == '5' || p[1] == '6'))
		return NK_IMG_PNM;
	return NK_IMG_UNKNOWN;
}

/* Formats stb_image reads that we do not offer: refused by name, so
 * that the message says what the file is. */
static const char *refused_format(const unsigned char *p, size_t n)
{
	if (n >= 4 && memcmp(p, "8BPS", 4) == 0)
		return "PSD";
	if (n >= 2 && memcmp(p, "#?", 2) == 0)
		return "Radiance HDR";
	if (n >= 4 && memcmp(p, "\x53\x80\xf6\x34", 4) == 0)
		return "Softimage PIC";
	if (n >= 3 && p[0] == 'P' && strchr("1234", p[1]) && p[1] &&
	    (p[2] == ' ' || (p[2] >= '\t' && p[2] <= '\r')))
		return "plain-text or bitmap PNM; convert it to binary P5/P6";
	return NULL;
}

/* Every scan of a JPEG must use Huffman tables defined before it.  stb
 * 2.27 decodes with whatever an undefined table's memory holds and then
 * reads past its maxcode[18] (found by tests/fuzz/fuzz_image.c); a JPEG
 * that relies on the standard's default tables (a Motion-JPEG frame) is
 * refused here too, which stb could not decode anyway.  Markers are
 * found as stb finds them: bytes that are not 0xFF are skipped, 0xFF
 * fill bytes too, FF 00 is stuffing inside entropy-coded data. */
static int jpeg_scans_ok(const unsigned char *p, size_t n)
{
	int defined[2][4] = { { 0 } }, progressive = 0;
	size_t i = 0;
	while (i + 1 < n) {
		if (p[i] != 0xff) {
			i++;
			continue;
		}
		while (i + 1 < n && p[i + 1] == 0xff)
			i++;
		if (i + 1 >= n)
			break;
		unsigned m = p[i + 1];
		if (m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd9)) {
			i += 2;
			continue;
		}
		if (i + 4 > n)
			break;
		size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
		size_t q = i + 4, end = i + 2 + len < n ? i + 2 + len : n;
		if (m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce)
			progressive = 1;
		if (m == 0xc4) {
			while (q + 17 <= end) {
				unsigned tc = p[q] >> 4, th = p[q] & 15, sum = 0;
				for (int k = 1; k <= 16; k++)
					sum += p[q + k];
				if (tc < 2 && th < 4)
					defined[tc][th] = 1;
				q += 17 + sum;
			}
		}
		if (m == 0xda && q < end) {
			unsigned ns = p[q];
			size_t c = q + 1, tail = c + 2 * (size_t)ns;
			if (tail + 3 <= end) {
				unsigned ss = p[tail], ah = p[tail + 2] >> 4;
				int dc = !progressive || (ss == 0 && ah == 0);
				int ac = !progressive || ss > 0;
				for (unsigned k = 0; k < ns; k++) {
					unsigned td = p[c + 2 * k + 1] >> 4;
					unsigned ta = p[c + 2 * k + 1] & 15;
					if ((dc && td < 4 && !defined[0][td]) ||
					    (ac && ta < 4 && !defined[1][ta]))
						return 0;
				}
			}
		}
		i += 2 + len;
	}
	return 1;
}

/* Every PNG chunk must fit in the file: stb 2.27 grows its buffer for
 * the image data to the length a chunk header declares before reading
 * it, so a 100-byte file could make it allocate 2 GiB.  And the first
 * IDAT must not be empty: stb then copies 0 bytes to a NULL pointer
 * (undefined behaviour, though harmless in practice).  Both found by
 * tests/fuzz/fuzz_image.c.  Returns 0 if fine, 1 or 2 for the problem. */
static int png_chunks_bad(const unsigned char *p, size_t n)
{
	size_t i = 8;
	int seen_data = 0;
	while (i + 8 <= n) { /* length and type: stb reads the data next */
		uint32_t len = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
			       (uint32_t)p[i + 2] << 8 | p[i + 3];
		if (len > n - i - 8)
			return 1;
		if (memcmp(p + i + 4, "IDAT", 4) == 0) {
			if (len == 0 && !seen_data)
				return 2;
			seen_data = 1;
		}
		if (memcmp(p + i + 4, "IEND", 4) == 0)
			break;
		i += 12 + (size_t)len;
	}
	return 0;
}

/* The declared size of formats whose header keeps it at a fixed place,
 * read before stb_image sees the file: stb refuses some huge or empty
 * images with a generic "unknown image type" that would hide the cause.
 * 1: found, 0: not known for this format, -1: a corrupt header. */
static int declared_size(const unsigned char *p, size_t n, int format,
			 int64_t *w, int64_t *h)
{
	if (format == NK_IMG_PNG && n >= 24 && memcmp(p + 12, "IHDR", 4) == 0) {
		*w = (int64_t)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19];
		*h = (int64_t)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23];
		return 1;
	}
	if (format == NK_IMG_GIF && n >= 10) {
		*w = nk_load_u16le(p + 6);
		*h = nk_load_u16le(p + 8);
		return 1;
	}
	if (format == NK_IMG_PNM) {
		nk_pnm_header hd;
		int rc = nk_pnm_read_header(&hd, p, n);
		if (rc == -2)
			return 0; /* not a number: nk_pnm_decode says which */
		if (rc != 0)
			return -1;
		*w = hd.w;
		*h = hd.h;
		return 1;
	}
	if (format == NK_IMG_BMP && n >= 26 && nk_load_u32le(p + 14) >= 40) {
		*w = (int32_t)nk_load_u32le(p + 18);
		*h = (int32_t)nk_load_u32le(p + 22);
		if (*h < 0) /* top-down rows */
			*h = -*h;
		return 1;
	}
	return 0;
}

/* Checks every Huffman table (DHT segment) of a JPEG: the 16 code-length
 * counts of a table must sum to at most 256.  stb_image 2.27 (Debian 12's
 * libstb) writes past its size[257] array when they do not (found by
 * tests/fuzz/fuzz_image.c; newer stb checks it), so such a file is refused
 * before it reaches the decoder.  stb resynchronises on garbage between
 * segments and reads DHT segments between progressive scans too, so
 * rather than follow the segment chain this looks at every FF C4 in the
 * file and reads the tables there as stb would (missing bytes as 0, the
 * way stb reads past the end).  Entropy-coded data cannot hold FF C4
 * (0xFF is stuffed as FF 00); a false alarm would need those bytes inside
 * some other segment's payload followed by impossible counts. */
static int jpeg_tables_ok(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		if (p[i] != 0xff || p[i + 1] != 0xc4)
			continue;
		long left = (long)(p[i + 2] << 8 | p[i + 3]) - 2;
		size_t q = i + 4;
		while (left > 0 && q < n) {
			unsigned sum = 0;
			for (size_t k = 1; k <= 16 && q + k < n; k++)
				sum += p[q + k];
			if (sum > 256)
				return 0;
			left -= 17 + (long)sum;
			q += 17 + sum;
		}
	}
	return 1;
}

int nk_image_check_size(int64_t w, int64_t h, const char *name,
			const nk_image_limits *lim)
{
	if (w <= 0 || h <= 0)
		return nk_error(NK_EFORMAT, "%s: zero-size image (%lldx%lld)",
				name, (long long)w, (long long)h);
	if (w > lim->max_side || h > lim->max_side)
		return nk_error(NK_ERANGE, "%s: %lldx%lld image exceeds the "
				"limit of %lld pixels per side", name,
				(long long)w, (long long)h,
				(long long)lim->max_side);
	if (w * h > lim->max_pixels)
		return nk_error(NK_ERANGE, "%s: %lldx%lld image has %lld pixels, "
				"more than the limit of %lld", name,
				(long long)w, (long long)h, (long long)(w * h),
				(long long)lim->max_pixels);
	return NK_OK;
}

int nk_image_format_from_path(const char *path)
{
	if (strcmp(path, "-") == 0)
		return NK_IMG_PNG;
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return NK_IMG_UNKNOWN;
	if (strcasecmp(dot, ".png") == 0)
		return NK_IMG_PNG;
	if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
		return NK_IMG_JPEG;
	return NK_IMG_UNKNOWN;
}

int nk_image_decode(nk_image *img, const unsigned char *buf, size_t n,
		    const char *name, const nk_image_limits *lim)
{
	nk_image_limits def = nk_image_default_limits();
	if (!lim)
		lim = &def;
	memset(img, 0, sizeof *img);
	if (n == 0)
		return nk_error(NK_EFORMAT, "%s: empty file, not an image",
				name);
	if (n > INT_MAX)
		return nk_error(NK_ERANGE, "%s: %zu bytes, more than an image "
				"may have (%d)", name, n, INT_MAX);
	const char *refused = refused_format(buf, n);
	if (refused)
		return nk_error(NK_EFORMAT, "%s: unsupported image format "
				"(%s); use PNG, JPEG, BMP, TGA, PNM or GIF",
				name, refused);
	int format = nk_image_sniff(buf, n);
	int64_t dw, dh;
	int known = declared_size(buf, n, format, &dw, &dh);
	if (known < 0)
		return nk_error(NK_EFORMAT, "%s: corrupt %s header (a number is "
				"too large)", name, nk_image_format_name(format));
	if (known) {
		int rc = nk_image_check_size(dw, dh, name, lim);
		if (rc)
			return rc;
	}
	if (format == NK_IMG_PNM)
		return nk_pnm_decode(img, buf, n, name, lim);
	if (format == NK_IMG_JPEG && !jpeg_tables_ok(buf, n))
		return nk_error(NK_EFORMAT, "%s: corrupt jpeg image (a Huffman "
				"table has more than 256 codes)", name);
	int bad_png = format == NK_IMG_PNG ? png_chunks_bad(buf, n) : 0;
	if (bad_png == 1)
		return nk_error(NK_EFORMAT, "%s: truncated or corrupt png image "
				"(a chunk runs past the end of the file)", name);
	if (bad_png == 2)
		return nk_error(NK_EFORMAT, "%s: unsupported png image (its first "
				"IDAT chunk is empty)", name);
	if (format == NK_IMG_PNG)
		return nk_png_decode(img, buf, n, name, lim);
	if (format == NK_IMG_JPEG && !jpeg_scans_ok(buf, n))
		return nk_error(NK_EFORMAT, "%s: corrupt or unsupported jpeg "
				"image (a scan uses a Huffman table that was "
				"never defined)", name);
	if (format == NK_IMG_JPEG) {
		int rc = nk_jpeg_decode(img, buf, n, name, lim);
		if (rc != -1)
			return rc;
	}
	int w = 0, h = 0, c = 0;
	/* The header alone: nothing is decoded or allocated for the
	 * pixels until the declared size has passed the caps. */
	if (!stbi_info_from_memory(buf, (int)n, &w, &h, &c)) {
		const char *why = stbi_failure_reason();
		if (format == NK_IMG_UNKNOWN)
			return nk_error(NK_EFORMAT, "%s: unsupported image "
					"format (not PNG, JPEG, BMP, TGA, PNM "
					"or GIF)", name);
		return nk_error(NK_EFORMAT, "%s: corrupt %s header (%s)", name,
				nk_image_format_name(format),
				why ? why : "unreadable");
	}
	if (format == NK_IMG_UNKNOWN)
		format = NK_IMG_TGA;
	int rc = nk_image_check_size(w, h, name, lim);
	if (rc)
		return rc;
	if (c < 1 || c > 4)
		return nk_error(NK_EFORMAT, "%s: %d channels per pixel "
				"(1 to 4 are supported)", name, c);
	int w2 = 0, h2 = 0, c2 = 0;
	unsigned char *px = stbi_load_from_memory(buf, (int)n, &w2, &h2, &c2, 0);
	if (!px) {
		const char *why = stbi_failure_reason();
		return nk_error(NK_EFORMAT, "%s: truncated or corrupt %s image "
				"(%s)", name, nk_image_format_name(format),
				why ? why : "decoder failed");
	}
	/* The decoder must agree with the header the caps were checked on. */
	if (w2 != w || h2 != h || c2 != c) {
		stbi_image_free(px);
		return nk_error(NK_EFORMAT, "%s: corrupt %s image (header says "
				"%dx%dx%d, data %dx%dx%d)", name,
				nk_image_format_name(format), w, h, c, w2, h2,
				c2);
	}
	/* Own the pixels with our allocator so that nk_image_free is plain
	 * free(): stb's allocator is malloc in Debian's build, but copying
	 * keeps that an assumption we do not make. */
	if (nk_image_alloc(img, w, h, c)) {
		stbi_image_free(px);
		return nk_error_prefix(NK_ENOMEM, name);
	}
	memcpy(img->data, px, nk_image_bytes(img));
	stbi_image_free(px);
	return NK_OK;
}

int nk_image_load(nk_image *img, const char *path,
		  const nk_image_limits *lim)
{
	nk_input in;
	memset(img, 0, sizeof *img);
	/* The cap keeps a gzip bomb, a giant stdin or /dev/zero from
	 * filling memory. */
	if (nk_input_load(&in, path, NK_IMAGE_MAX_BYTES))
		return NK_EIO;
	int rc = nk_image_decode(img, in.data, in.size, in.name, lim);
	nk_input_free(&in);
	return rc;
}

int nk_image_write_fp(const nk_image *img, FILE *fp, const char *name,
		      int format, int quality)
{
	if (!img->data || img->w < 1 || img->h < 1 || img->c < 1 || img->c > 4)
		return nk_error(NK_EINVAL, "%s: no image to write", name);
	if ((int64_t)img->w * img->c > INT_MAX / 2)
		return nk_error(NK_ERANGE, "%s: image too wide to encode", name);
	if (format == NK_IMG_PNG)
		return nk_png_write(img, fp, name);
	if (format != NK_IMG_JPEG)
		return nk_error(NK_EINVAL, "%s: cannot write this format "
				"(use .png or .jpg)", name);
	if (quality < 1 || quality > 100)
		return nk_error(NK_ERANGE, "%s: JPEG quality %d not in [1, 100]",
				name, quality);
	if (img->w > 65535 || img->h > 65535)
		return nk_error(NK_ERANGE, "%s: JPEG cannot hold %dx%d", name,
				img->w, img->h);
	return nk_jpeg_write(img, fp, name, quality);
}

int nk_image_save(const nk_image *img, const char *path, int quality)
{
	int format = nk_image_format_from_path(path);
	if (format == NK_IMG_UNKNOWN)
		return nk_error(NK_EINVAL, "%s: unknown image type (name it "
				".png, .jpg or .jpeg)", path);
	nk_output out;
	if (nk_output_open(&out, path))
		return NK_EIO;
	const char *name = strcmp(path, "-") == 0 ? "(stdout)" : path;
	int rc = nk_image_write_fp(img, out.fp, name, format, quality);
	if (rc) {
		nk_output_abort(&out);
		return rc;
	}
	return nk_output_commit(&out);
}

int nk_image_view(const nk_image *im, nk_tensor *t)
{
	int64_t shape[3] = {im->h, im->w, im->c};
	return nk_tensor_wrap(t, im->data, NK_U8, 3, shape);
}

int nk_image_size(const char *path, int *w, int *h)
{
	int c;
	*w = *h = 0;
	if (!stbi_info(path, w, h, &c))
		return nk_error(NK_EFORMAT, "%s: not an image whose size can be "
				"read (%s)", path, stbi_failure_reason() ?
				stbi_failure_reason() : "unreadable");
	return NK_OK;
}
