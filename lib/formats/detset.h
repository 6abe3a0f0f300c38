/* detset.h - a detection data set as every reader leaves it: images (file,
 * size), their objects (class, box in pixels), the class names.
 *
 * Readers (one file each): Pascal VOC directories (voc.c), YOLO text
 * labels (yolo_labels.c), COCO JSON ground truth and results (coco.c),
 * and `detect run` lines (detlines.c).  The evaluation (vision/det_eval.h),
 * the image cache and augmentation (vision/augment.h) and the training task
 * all read this one structure.
 *
 * Boxes are in pixels of the original image, top-left corner and size
 * (COCO's bbox convention), as floats.  VOC's corners are kept as VOC
 * has them, x = xmin, y = ymin, w = xmax - xmin, h = ymax - ymin; the VOC
 * evaluation adds its +1 pixel itself (py-faster-rcnn's voc_eval).
 */
#ifndef NK_FORMATS_DETSET_H
#define NK_FORMATS_DETSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct nk_det_object {
	int image;          /* index into nk_detset.images */
	int cls;            /* index into nk_detset.names */
	float x, y, w, h;   /* pixels: top-left corner and size */
	float score;        /* predictions: the detector's score; GT: 1 */
	float area;         /* COCO's "area" (segment area) when given, else
			     * w * h */
	int64_t id;         /* COCO annotation id, or the order read */
	unsigned char difficult, crowd; /* VOC <difficult>, COCO iscrowd */
} nk_det_object;

typedef struct nk_det_image {
	char *file;         /* path as the set names it (VOC: JPEGImages/X.jpg
			     * relative to the set's directory; COCO
			     * file_name) */
	char *name;         /* the key predictions use: VOC/YOLO the file's
			     * stem ("BloodImage_00001"), COCO its file_name */
	int64_t id;         /* COCO image id, or the order read */
	int width, height;  /* 0 when the annotation does not say */
} nk_det_image;

/* A problem that does not stop the reading (a degenerate box skipped):
 * the reader records it here; the program prints it. */
typedef struct nk_det_warning {
	char *msg;          /* "FILE:LINE: what" */
} nk_det_warning;

typedef struct nk_detset {
	nk_det_image *images;
	int nimages;
	nk_det_object *objects; /* sorted by image, then in the order read */
	size_t nobjects;
	char **names;       /* class names, index = class */
	int nclasses;
	int64_t *class_ids; /* COCO category_id of each class (1.. for VOC) */
	nk_det_warning *warnings;
	int nwarnings;
	char *root;         /* the directory image files are relative to */
} nk_detset;

void nk_detset_free(nk_detset *s);

#endif
