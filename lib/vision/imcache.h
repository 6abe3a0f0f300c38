/* imcache.h - every image of a detection set decoded once and held in
 * memory as 8-bit RGB, with the set's boxes, for training epochs that
 * visit each image many times.
 *
 * Images may be downscaled at load (pixel-area averaging, nk_resize_area)
 * so that the longer side is at most max_side; each image's boxes are
 * scaled by the same per-axis factors (new size / old size).  Note that
 * a downscaled image fed to nk_augment is not nk_letterbox_input of the
 * original file: for training that sees exactly what inference sees,
 * keep max_side 0 (no downscaling) or at least the network's size.
 *
 * Decoding runs on `threads` OpenMP threads (0: OpenMP's default); an
 * image that cannot be read fails the whole load, with a message naming
 * the file (the first such image in the set's order).
 */
#ifndef NK_VISION_IMCACHE_H
#define NK_VISION_IMCACHE_H

#include <stddef.h>

#include "formats/detset.h"
#include "vision/image.h"

typedef struct nk_imcache {
	int n;                  /* = set->nimages */
	nk_image *images;       /* n, c = 3 (gray repeated, alpha dropped) */
	float *sx, *sy;         /* n: the scale applied (1 when none) */
	nk_det_object *objects; /* the set's objects, boxes scaled */
	size_t nobjects;
	size_t *first;          /* n + 1: image i's objects are
				 * objects[first[i] .. first[i + 1]) */
	size_t bytes;           /* pixels and objects held */
	int mismatched;         /* images whose file's size differs from
				 * the set's width x height (where given):
				 * their boxes may not fit; the first is
				 * first_mismatch (-1 when none) */
	int first_mismatch;
} nk_imcache;

/* Loads every image of `set`, the file set->root/images[i].file (the
 * file alone when root is NULL or empty or the file is absolute).
 * max_side 0: no downscaling.  NK_EINVAL when the set's objects are not
 * sorted by image; errors of nk_image_load, prefixed "imcache". */
int nk_imcache_load(nk_imcache *cache, const nk_detset *set, int max_side,
		    int threads);
void nk_imcache_free(nk_imcache *cache);

#endif
