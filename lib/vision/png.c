/* png.c - PNG read and written with libpng.
 *
 * stb_image's PNG decoder took ~0.6 s for a 3840x2160 photograph and
 * stb_image_write's deflate is slow and ~25% larger than zlib's; libpng
 * over zlib is what OpenCV uses (see scripts/bench-pyramid).  Pixels are
 * read as stb read them: palettes and gray below 8 bits expanded, tRNS
 * made an alpha channel, 16-bit samples cut to their high byte, no gamma
 * or colour-space conversion; the channel count is the file's.
 * libpng reports errors by longjmp: its messages are kept for nk_error,
 * its warnings dropped (the library never prints).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "core/base.h"
#include "vision/codec.h"

struct png_ctx {
	const unsigned char *p;
	size_t n, at;
	char msg[128];
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_ctx *c = png_get_error_ptr(png);
	snprintf(c->msg, sizeof c->msg, "%s", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void on_read(png_structp png, png_bytep out, size_t len)
{
	struct png_ctx *c = png_get_io_ptr(png);
	if (len > c->n - c->at)
		png_error(png, "file ends early");
	memcpy(out, c->p + c->at, len);
	c->at += len;
}

int nk_png_decode(nk_image *img, const unsigned char *p, size_t n,
		  const char *name, const nk_image_limits *lim)
{
	struct png_ctx ctx = { p, n, 0, "" };
	memset(img, 0, sizeof *img);
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx,
						 on_error, on_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	png_bytep *volatile rows = NULL;
	if (!png || !info) {
		png_destroy_read_struct(&png, NULL, NULL);
		return nk_error(NK_ENOMEM, "%s: out of memory", name);
	}
	if (setjmp(png_jmpbuf(png))) {
		free(rows);
		nk_image_free(img);
		png_destroy_read_struct(&png, &info, NULL);
		return nk_error(NK_EFORMAT, "%s: truncated or corrupt png image "
				"(%s)", name, ctx.msg[0] ? ctx.msg : "libpng");
	}
	png_set_read_fn(png, &ctx, on_read);
	/* The caps are checked here; libpng's own limit is lifted so that
	 * they, not its 1000000 default, decide. */
	png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
	/* stb ignores CRCs of ancillary chunks and checks none of the
	 * critical ones; libpng's default (error on a bad critical CRC) is
	 * kept: a damaged file is reported, not decoded. */
	png_read_info(png, info);
	png_uint_32 w = png_get_image_width(png, info);
	png_uint_32 h = png_get_image_height(png, info);
	int rc = nk_image_check_size(w, h, name, lim);
	if (rc) {
		png_destroy_read_struct(&png, &info, NULL);
		return rc;
	}
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	int c = png_get_channels(png, info);
	if (c < 1 || c > 4 || png_get_rowbytes(png, info) != (size_t)w * c)
		png_error(png, "unexpected pixel layout");
	if (nk_image_alloc(img, (int)w, (int)h, c))
		png_error(png, "out of memory");
	rows = nk_malloc((size_t)h * sizeof *rows);
	if (!rows)
		png_error(png, "out of memory");
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = img->data + (size_t)y * w * c;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	free(rows);
	png_destroy_read_struct(&png, &info, NULL);
	return NK_OK;
}

struct png_out {
	FILE *fp;
	int failed; /* errno of the first failed write (EIO if none) */
	char msg[128];
};

static void on_write_error(png_structp png, png_const_charp msg)
{
	struct png_out *o = png_get_error_ptr(png);
	snprintf(o->msg, sizeof o->msg, "%s", msg);
	png_longjmp(png, 1);
}

static void on_write(png_structp png, png_bytep data, size_t len)
{
	struct png_out *o = png_get_io_ptr(png);
	errno = 0;
	if (len && fwrite(data, 1, len, o->fp) != len && !o->failed)
		o->failed = errno ? errno : EIO;
}

static void on_flush(png_structp png)
{
	(void)png;
}

int nk_png_write(const nk_image *img, FILE *fp, const char *name)
{
	static const int types[5] = { 0, PNG_COLOR_TYPE_GRAY,
				      PNG_COLOR_TYPE_GRAY_ALPHA,
				      PNG_COLOR_TYPE_RGB,
				      PNG_COLOR_TYPE_RGB_ALPHA };
	struct png_out out = { fp, 0, "" };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &out,
						  on_write_error, on_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!png || !info) {
		png_destroy_write_struct(&png, NULL);
		return nk_error(NK_ENOMEM, "%s: out of memory", name);
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return nk_error(NK_EIO, "%s: PNG encoding failed (%s)", name,
				out.msg);
	}
	png_set_write_fn(png, &out, on_write, on_flush);
	/* zlib level 1 with libpng's adaptive filters, OpenCV's imwrite
	 * default: fast, and smaller than stb_image_write's level 8. */
	png_set_compression_level(png, 1);
	png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8,
		     types[img->c], PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < img->h; y++)
		png_write_row(png, img->data + (size_t)y * img->w * img->c);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	if (out.failed)
		return nk_error(NK_EIO, "%s: write failed: %s", name,
				strerror(out.failed));
	return NK_OK;
}
