/* coco.h - COCO JSON: ground truth (instances_*.json) and results.
 *
 * Ground truth: "images" (id, file_name, width, height), "annotations"
 * (id, image_id, category_id, bbox [x, y, w, h], area, iscrowd) and
 * "categories" (id, name); other keys are skipped.  Classes are the
 * categories in ascending id (COCOeval's order), class_ids their ids;
 * images in file order, name = file_name; an annotation without "area"
 * gets w * h.  Objects end sorted by image, in file order within one.
 *
 * Results: an array of {image_id, category_id, bbox, score}, numbered
 * by the ground truth (a prediction set has no images or names of its
 * own).  image_id is a ground-truth image id, or a string matched to an
 * image's file_name stem (what `detect run --json` writes for files not
 * named by number); category_id one of the ground truth's class_ids.
 * Ids count 1, 2, ... in file order as pycocotools' loadRes does, and
 * area is w * h.
 *
 * Errors are NK_EFORMAT "FILE:LINE:COL: what".
 */
#ifndef NK_FORMATS_COCO_H
#define NK_FORMATS_COCO_H

#include <stddef.h>

#include "formats/detset.h"

int nk_coco_read(nk_detset *s, const char *path);
int nk_coco_parse(nk_detset *s, const char *data, size_t size,
		  const char *file);
int nk_coco_results_read(nk_detset *pred, const nk_detset *gt,
			 const char *path);
int nk_coco_results_parse(nk_detset *pred, const nk_detset *gt,
			  const char *data, size_t size, const char *file);

#endif
