/* jpeg.c - JPEG read and written with libjpeg-turbo, as OpenCV does.
 *
 * libjpeg-turbo decodes a 4K JPEG several times faster than stb_image,
 * and its pixels are OpenCV's (cv2.imread uses the same library with the
 * same defaults: accurate integer IDCT, smooth chroma upsampling), where
 * stb's differed by 1 to 3 in places.  Gray files decode to 1 channel,
 * colour to RGB; CMYK and YCCK files, which libjpeg does not convert to
 * RGB, are left to stb_image (nk_jpeg_decode returns -1 for them,
 * without a message).  Writing: libjpeg's defaults at the quality
 * asked (4:2:0 chroma, Huffman tables of the standard), as cv2.imwrite;
 * an alpha channel is dropped.  libjpeg reports errors by longjmp; its
 * messages are kept for nk_error, its warnings dropped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "core/base.h"
#include "vision/codec.h"

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	int eof; /* the data ended before the image did */
	char msg[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	int saved = errno;
	/* libjpeg's "out of disk space?" guesses; the short fwrite's errno
	 * says (a full disk, a file size limit). */
	if (e->pub.msg_code == JERR_FILE_WRITE && saved)
		snprintf(e->msg, sizeof e->msg, "write failed: %s",
			 strerror(saved));
	else
		e->pub.format_message(cinfo, e->msg);
	longjmp(e->jump, 1);
}

/* Warnings are dropped but one: data that ends early, which libjpeg
 * fills with gray.  Others (extraneous bytes before a marker, say) are
 * decoded past, as cv2.imread does. */
static void on_message(j_common_ptr cinfo, int level)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
		e->eof = 1;
}

int nk_jpeg_decode(nk_image *img, const unsigned char *p, size_t n,
		   const char *name, const nk_image_limits *lim)
{
	struct jpeg_decompress_struct cinfo;
	struct jerr err;
	memset(img, 0, sizeof *img);
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = on_error;
	err.pub.emit_message = on_message;
	err.msg[0] = 0;
	err.eof = 0;
	if (setjmp(err.jump)) {
		jpeg_destroy_decompress(&cinfo);
		nk_image_free(img);
		return nk_error(NK_EFORMAT, "%s: truncated or corrupt jpeg image "
				"(%s)", name, err.msg);
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, p, (unsigned long)n);
	jpeg_read_header(&cinfo, TRUE);
	if (cinfo.jpeg_color_space == JCS_CMYK ||
	    cinfo.jpeg_color_space == JCS_YCCK) {
		jpeg_destroy_decompress(&cinfo);
		return -1;
	}
	int rc = nk_image_check_size(cinfo.image_width, cinfo.image_height,
				     name, lim);
	if (rc) {
		jpeg_destroy_decompress(&cinfo);
		return rc;
	}
	int c = cinfo.num_components == 1 ? 1 : 3;
	cinfo.out_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_start_decompress(&cinfo);
	if (cinfo.output_components != c ||
	    nk_image_alloc(img, (int)cinfo.output_width,
			   (int)cinfo.output_height, c)) {
		jpeg_destroy_decompress(&cinfo);
		nk_image_free(img);
		return nk_error(NK_ENOMEM, "%s: cannot hold the decoded image",
				name);
	}
	const size_t row = (size_t)img->w * c;
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW r = img->data + cinfo.output_scanline * row;
		jpeg_read_scanlines(&cinfo, &r, 1);
	}
	/* libjpeg fills what a truncated file lacks with gray: refuse it. */
	if (err.eof) {
		jpeg_destroy_decompress(&cinfo);
		nk_image_free(img);
		return nk_error(NK_EFORMAT, "%s: truncated jpeg image (the data "
				"ends before the last row)", name);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return NK_OK;
}

int nk_jpeg_write(const nk_image *img, FILE *fp, const char *name,
		  int quality)
{
	struct jpeg_compress_struct cinfo;
	struct jerr err;
	unsigned char *volatile tmp = NULL;
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = on_error;
	err.pub.emit_message = on_message;
	err.msg[0] = 0;
	err.eof = 0;
	if (setjmp(err.jump)) {
		jpeg_destroy_compress(&cinfo);
		free(tmp);
		return nk_error(NK_EIO, "%s: JPEG encoding failed (%s)", name,
				err.msg);
	}
	jpeg_create_compress(&cinfo);
	jpeg_stdio_dest(&cinfo, fp);
	cinfo.image_width = (JDIMENSION)img->w;
	cinfo.image_height = (JDIMENSION)img->h;
	static const J_COLOR_SPACE in[5] = { JCS_UNKNOWN, JCS_GRAYSCALE,
					     JCS_GRAYSCALE, JCS_RGB,
					     JCS_EXT_RGBX };
	cinfo.in_color_space = in[img->c];
	cinfo.input_components = img->c == 2 ? 1 : img->c;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, quality, TRUE);
	if (img->c == 2 && !(tmp = nk_malloc((size_t)img->w)))
		longjmp(err.jump, 1);
	jpeg_start_compress(&cinfo, TRUE);
	const size_t row = (size_t)img->w * img->c;
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW r = img->data + cinfo.next_scanline * row;
		if (img->c == 2) { /* gray and alpha: the gray */
			for (int x = 0; x < img->w; x++)
				tmp[x] = r[2 * x];
			r = tmp;
		}
		jpeg_write_scanlines(&cinfo, &r, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	free(tmp);
	/* libjpeg writes through stdio: the flush's errno says why. */
	errno = 0;
	if (fflush(fp) != 0 || ferror(fp))
		return nk_error(NK_EIO, "%s: write failed: %s", name,
				errno ? strerror(errno) : "I/O error");
	return NK_OK;
}
