/* detset_load.h - a detection data set from a directory in one of the
 * layouts training tools use, by name:
 *   voc   DIR/ImageSets/Main/SPLIT.txt, Annotations/, JPEGImages/
 *         (formats/voc.h)
 *   coco  DIR/annotations/instances_SPLIT.json with the images in
 *         DIR/SPLIT/ (formats/coco.h; COCO 2017's layout)
 *   yolo  DIR/SPLIT.txt listing the images, darknet's labels
 *         (vision/yolo_labels.h; names required)
 * Lives in vision/ because YOLO labels need the images' headers.
 */
#ifndef NK_VISION_DETSET_LOAD_H
#define NK_VISION_DETSET_LOAD_H

#include "formats/detset.h"

/* NK_EINVAL for an unknown format, or names given to coco (its classes
 * are its categories) or missing for yolo; the readers' errors. */
int nk_detset_load(nk_detset *s, const char *format, const char *dir,
		   const char *split, const char *const *names, int nnames);

/* Takes out crowd regions (COCO's iscrowd: many objects under one box),
 * which a detector should not learn as one object. */
void nk_detset_drop_crowds(nk_detset *s);

#endif
