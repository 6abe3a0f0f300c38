/* pyramid_file.h - the weight-file schema of pyramid(1), defined once.
 *
 * Pyramid levels (pyramid -t):
 *	metadata  program "pyramid", schema NK_PYR_SCHEMA, kind "gauss",
 *	          "laplacian", "scale", "up" or "reconstruct", source (the
 *	          image's name), levels N, channels C
 *	tensors   level.0 .. level.N-1, (h, w, C): u8 images, or for
 *	          "laplacian" the i16 bands (-255..255) of nk_laplacian
 * Pooled features (pyramid spp -b):
 *	metadata  program "pyramid", schema NK_PYR_SCHEMA, kind "spp",
 *	          pool "max" or "avg", bins (the levels' bins per side)
 *	tensors   spp.0, spp.1, ... one f32 (B, D) per input
 *
 * A file written before the schema key existed reads as schema 1.
 */
#ifndef NK_PYRAMID_FILE_H
#define NK_PYRAMID_FILE_H

#include <stddef.h>

#include "formats/wfile.h"
#include "vision/image.h"
#include "vision/pyramid.h"

#define NK_PYR_SCHEMA 1 /* written, and the newest read */

/* A weight file of n levels: views[i] as u8 tensors, or, when lp is not
 * NULL, lp's i16 bands (views then give only the shapes).  The data are
 * borrowed until the file is written; *out is freed with nk_wfile_free. */
int nk_pyr_file_levels(nk_wfile **out, const char *kind, const char *source,
		       const nk_image *views, int n, const nk_laplacian *lp);

/* The Laplacian bands of a levels file of kind "laplacian", every shape
 * and value checked; `name` is used in messages.  On failure lp holds
 * nothing to free. */
int nk_pyr_file_read_laplacian(nk_laplacian *lp, const nk_wfile *r,
			       const char *name);
/* The image those bands reconstruct (nk_laplacian_reconstruct). */
int nk_pyr_file_reconstruct(nk_image *out, const nk_wfile *r,
			    const char *name);

/* A weight file for pooled features (mode enum nk_spp_mode). */
nk_wfile *nk_spp_file_create(int mode, const int *levels, int nlevels);
/* Appends out (B, D) as the next spp.N; on success the file owns `out`
 * (malloc'd) and nk_spp_file_free frees it. */
int nk_spp_file_add(nk_wfile *w, float *out, int B, size_t D);
void nk_spp_file_free(nk_wfile *w);

/* An SPP input from bytes: a weight file's f32 (C,H,W) or (B,C,H,W)
 * tensor (the one named tname, or the first), or an image as the
 * (1,C,H,W) float map of its bytes.  *x is malloc'd; dims = B, C, H, W. */
int nk_spp_input_decode(float **x, int dims[4], const void *data,
			size_t size, const char *name, const char *tname,
			const nk_image_limits *lim);

#endif
