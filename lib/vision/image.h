/* image.h - 8-bit images in memory: PNG through libpng (png.c), JPEG
 * through libjpeg-turbo (jpeg.c, stb_image for CMYK), binary PNM by our own
 * decoder (pnm.c), BMP, TGA and GIF through stb_image.
 *
 * An image is rows of interleaved channels, top row first, no padding:
 * pixel (x, y) channel k is data[(y * w + x) * c + k].  c is 1 (gray),
 * 2 (gray+alpha), 3 (RGB) or 4 (RGBA), as the file stores it.
 *
 * Decoding treats every input as hostile (stb_image has had CVEs on
 * crafted files): the header is read first and the declared width, height and pixel count are checked against caps
 * BEFORE anything is decoded or allocated.  The defaults are 32768 pixels
 * per side and 2^28 pixels in all (768 MiB as RGB); callers may lower or
 * raise them.  PNG, JPEG, BMP, TGA, PNM (P5/P6) and GIF (first frame) are
 * read; PSD, HDR and PIC, which stb_image also knows, are refused.
 * PNG and JPEG are written.
 */
#ifndef NK_IMAGE_H
#define NK_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/tensor.h"

#define NK_IMAGE_MAX_SIDE 32768
#define NK_IMAGE_MAX_PIXELS (1LL << 28)
/* The bytes of an image file read: the largest image the pixel cap
 * allows, 8-bit RGBA, uncompressed; a compressed one is far smaller. */
#define NK_IMAGE_MAX_BYTES ((size_t)1 << 30)

typedef struct nk_image {
	int w, h, c;
	unsigned char *data; /* h * w * c bytes, owned */
} nk_image;

/* The image as the one compute view (core/tensor.h): u8, (h, w, c), over
 * the image's pixels.  nk_image stays the codec's record (what stb_image
 * hands over and takes); computing goes through nk_tensor. */
int nk_image_view(const nk_image *im, nk_tensor *t);

/* Caps checked against the header before decoding. */
typedef struct nk_image_limits {
	int64_t max_side;   /* width and height each at most this */
	int64_t max_pixels; /* width * height at most this */
} nk_image_limits;

enum nk_image_format {
	NK_IMG_UNKNOWN = 0,
	NK_IMG_PNG,
	NK_IMG_JPEG,
	NK_IMG_BMP,
	NK_IMG_GIF,
	NK_IMG_PNM,
	NK_IMG_TGA,
	NK_IMG_FORMAT_COUNT
};

/* The defaults above. */
nk_image_limits nk_image_default_limits(void);

/* A new zero-filled image; checks the sizes (1..NK_IMAGE_MAX_SIDE each,
 * c 1..4) and their product. */
int nk_image_alloc(nk_image *img, int w, int h, int c);
void nk_image_free(nk_image *img);
size_t nk_image_bytes(const nk_image *img);

/* "png", "jpeg", ...; "unknown" for anything else. */
const char *nk_image_format_name(int format);
/* The format the bytes start with, by magic number (TGA has none: it is
 * what stb_image accepts that no other magic matched). */
int nk_image_sniff(const unsigned char *buf, size_t n);
/* The output format a file name asks for: .png, .jpg/.jpeg; "-" is PNG. */
int nk_image_format_from_path(const char *path);

/* Decodes an image from memory.  `name` is used in messages ("a.png:
 * 70000x10 exceeds the 32768-pixel side limit").  `lim` NULL means the
 * defaults.  On failure *img is zeroed. */
int nk_image_decode(nk_image *img, const unsigned char *buf, size_t n,
		    const char *name, const nk_image_limits *lim);
/* Reads a whole file ("-" for stdin) and decodes it. */
int nk_image_load(nk_image *img, const char *path,
		  const nk_image_limits *lim);
/* The width and height from the file's header alone (nothing decoded). */
int nk_image_size(const char *path, int *w, int *h);

/* Encodes to an open stream: NK_IMG_PNG, or NK_IMG_JPEG with quality
 * 1..100 (the alpha channel of a JPEG is dropped).  The caller checks and
 * closes the stream.  `name` is for messages. */
int nk_image_write_fp(const nk_image *img, FILE *fp, const char *name,
		      int format, int quality);
/* Writes atomically (temporary file, fsync, rename); "-" is stdout.  The
 * format comes from the file name (nk_image_format_from_path). */
int nk_image_save(const nk_image *img, const char *path, int quality);

#endif
