/* codec.h - the image codecs behind image.c, private to lib/vision.
 *
 * PNM is read here (stb_image 2.27 reads a truncated P5/P6 into
 * uninitialised memory and does not scale maxval); PNG is read and
 * written with libpng, JPEG with libjpeg-turbo (CMYK JPEG by stb);
 * stb_image keeps BMP, TGA and GIF.  Each decoder is given the whole file and a name for its
 * messages, checks the declared size against the caps before it
 * allocates, and on failure leaves *img zeroed.
 */
#ifndef NK_VISION_CODEC_H
#define NK_VISION_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vision/image.h"

/* A binary PNM header: sizes, samples per pixel, maximum value and
 * where the pixels start. */
typedef struct nk_pnm_header {
	int64_t w, h, maxval;
	int c;
	size_t data; /* offset of the first pixel byte */
	int bad;       /* on -2: the field (0 width, 1 height, 2 maxval) */
	size_t bad_at; /* on -2: where it should start */
} nk_pnm_header;

/* 0, -1 when a number does not fit 31 bits, -2 when a field has no
 * digits (a sign, a letter, the end of the file). */
int nk_pnm_read_header(nk_pnm_header *hd, const unsigned char *p, size_t n);
int nk_pnm_decode(nk_image *img, const unsigned char *p, size_t n,
		  const char *name, const nk_image_limits *lim);

int nk_png_decode(nk_image *img, const unsigned char *p, size_t n,
		  const char *name, const nk_image_limits *lim);
int nk_png_write(const nk_image *img, FILE *fp, const char *name);

/* -1, with *img zeroed and no message, for a CMYK or YCCK file: libjpeg
 * does not make RGB of those, stb_image does. */
int nk_jpeg_decode(nk_image *img, const unsigned char *p, size_t n,
		   const char *name, const nk_image_limits *lim);
/* quality 1..100; an alpha channel is dropped. */
int nk_jpeg_write(const nk_image *img, FILE *fp, const char *name,
		  int quality);

/* check_size() of image.c, shared by the decoders. */
int nk_image_check_size(int64_t w, int64_t h, const char *name,
			const nk_image_limits *lim);

#endif
