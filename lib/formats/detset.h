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

/* Building a set (the readers, detset.c).  Each returns 0 or NK_ENOMEM.
 * nk_detset_add_image copies file and name; *index gets the new image's
 * index.  nk_detset_add_object appends *o as it is (o->image and o->cls
 * already set).  nk_detset_warn records "FILE:LINE: what"-style text. */
int nk_detset_add_image(nk_detset *s, const char *file, const char *name,
			int64_t id, int width, int height, int *index);
int nk_detset_add_object(nk_detset *s, const nk_det_object *o);
int nk_detset_warn(nk_detset *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sorts the objects by image, keeping the order read within an image. */
int nk_detset_sort(nk_detset *s);
/* The index of the image whose name is `name`, or whose name's stem (the
 * base name without directory and extension) equals `name`'s stem; -1
 * when none.  Linear: callers matching many keep their own index. */
int nk_detset_find_image(const nk_detset *s, const char *name);
/* The stem of a path: "a/b/X.jpg" -> "X" (a new string, NULL on no
 * memory). */
char *nk_path_stem(const char *path);

/* The COCO category_id of class k: the set's class_ids (COCO's
 * categories in ascending id), or k + 1 where it has none (VOC, YOLO).
 * What a class index means in `detect run`'s lines, and so what
 * `detect run --json` writes for it. */
int64_t nk_detset_class_id(const nk_detset *s, int k);

/* A names file (darknet's obj.names, coco.names): one class a line, CR
 * before LF dropped; a line empty or all blanks ("FILE:LINE: empty class
 * name"), a name given twice (FILE:LINE) and a file of no names are
 * NK_EFORMAT; more than NK_NAMES_MAX_BYTES is NK_ERANGE.  The last line's
 * newline ends it, not another (empty) name.  Free with nk_names_free. */
#define NK_NAMES_MAX_BYTES ((size_t)16 << 20)
int nk_names_read(const char *path, char ***names, int *n);
void nk_names_free(char **names, int n);

#endif
