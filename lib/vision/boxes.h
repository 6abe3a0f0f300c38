/* boxes.h - detection boxes, their overlap and non-maximum suppression.
 *
 * A box is darknet's: centre x, y and width, height, in whatever unit the
 * caller uses (fractions of the image for decoded heads, pixels later).
 * A detection is a box with an objectness and one probability per class
 * (probabilities below the threshold are 0, as darknet leaves them).
 */
#ifndef NK_VISION_BOXES_H
#define NK_VISION_BOXES_H

#include <stddef.h>

typedef struct {
	float x, y, w, h; /* centre and size */
} nk_box;

typedef struct {
	nk_box box;
	float objectness;
	float *prob;     /* classes entries */
	int classes;
	int sort_class;  /* scratch for the sort; -1 sorts by objectness */
} nk_detection;

/* Intersection over union, darknet's box_iou (0 when either is empty). */
float nk_box_iou(nk_box a, nk_box b);

/* darknet's do_nms_sort: detections with objectness 0 are moved to the
 * end and ignored; then for every class k the list is sorted by prob[k]
 * (descending; ties keep their order) and every detection that overlaps a
 * higher one by IoU > thresh gets prob[k] = 0.  Reorders dets.  All
 * detections have dets[0].classes classes.  The sort is stable, as
 * glibc's qsort (a merge sort) is for darknet. */
void nk_nms_per_class(nk_detection *dets, int n, float thresh);
/* Class-agnostic: each detection's score is its highest prob; sorted by
 * it, a detection that overlaps a kept higher-scoring one of ANY class by
 * IoU > thresh has all its probabilities zeroed.  Detections with
 * objectness 0 are moved to the end and ignored, as above.  Reorders
 * dets. */
void nk_nms_agnostic(nk_detection *dets, int n, float thresh);

/* One (detection, class) whose probability survived: what a detector
 * reports as one box.  x, y is the top-left corner, w, h the size. */
typedef struct {
	int det, cls;
	float score;
	float x, y, w, h;
} nk_box_hit;

/* Every detection's classes with a probability above 0, boxes (pixels,
 * centre-based) clipped to [0, im_w] x [0, im_h] and turned into
 * top-left corner and size, best score first (ties by detection, then
 * class).  A box with no width or no height left after clipping is
 * dropped, or kept (at the edge, of size 0, as darknet reports it) when
 * keep_empty is set.  *hits is NULL when there are none; free it with
 * free(). */
int nk_box_hits(const nk_detection *dets, int n, int im_w, int im_h,
		int keep_empty, nk_box_hit **hits, int *nhits);

#endif
