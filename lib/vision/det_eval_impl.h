/* det_eval_impl.h - what the COCO (det_eval.c) and VOC (voc_eval.c)
 * evaluations share: stable sort keys, objects grouped by class and
 * image, the check that predictions index the ground truth.  Private to
 * those two files. */
#ifndef NK_VISION_DET_EVAL_IMPL_H
#define NK_VISION_DET_EVAL_IMPL_H

#include <stddef.h>

#include "formats/detset.h"

/* Sort keys for qsort: three keys and the position, which makes any sort
 * stable (numpy's mergesort). */
struct nk_det_key {
	double k1, k2, k3;
	size_t pos;
};
int nk_det_key_cmp(const void *a, const void *b);

/* The objects of a set grouped by (class rank, image rank) in the order
 * read: idx[start[k * I + i] .. start[k * I + i + 1]).  Freed by the
 * caller (free idx and start). */
struct nk_det_groups {
	size_t *idx;
	size_t *start;
};
int nk_det_group(struct nk_det_groups *g, const nk_detset *s,
		 const int *crank, const int *irank, int K, int I);

/* NK_EINVAL unless every object of s has an image and a class of gt. */
int nk_det_check_indices(const nk_detset *gt, const nk_detset *s,
			 const char *what);

#endif
