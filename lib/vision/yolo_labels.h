/* yolo_labels.h - darknet's (and Ultralytics') YOLO text labels as a
 * detection set (formats/detset.h).
 *
 * A list file names the images, one path a line (relative paths are
 * relative to the list's directory; blank lines and lines starting with
 * '#' are skipped).  Each image's labels are a text file, one object a
 * line: "CLASS CX CY W H", the centre and size as fractions of the
 * image.  The label file is found as darknet finds it: the image's path
 * with its extension replaced by .txt and a directory named images or
 * JPEGImages replaced by labels; when that file does not exist, the .txt
 * beside the image.  An image without a label file has no objects.
 *
 * The image sizes come from the files' headers (nothing is decoded), so
 * that boxes are kept in pixels, top-left corner and size, as every set.
 * A line that is not five numbers, or a class outside the names, is
 * NK_EFORMAT "FILE:LINE: what"; a box of zero width or height is skipped
 * with a warning, and a box running past the image is kept as written.
 * Lives in vision/ because it reads image headers.
 */
#ifndef NK_VISION_YOLO_LABELS_H
#define NK_VISION_YOLO_LABELS_H

#include "formats/detset.h"

/* names: the classes in index order (darknet's obj.names); nnames of
 * them.  Image names are the files' stems. */
int nk_yolo_read(nk_detset *s, const char *list, const char *const *names,
		 int nnames);

/* One label file's text from memory (what nk_yolo_read does per file;
 * the fuzz target's entry): objects of image img (w x h) of s, whose
 * names are already set. */
int nk_yolo_parse_labels(nk_detset *s, const char *data, size_t size,
			 const char *name, int img, int w, int h);

#endif
