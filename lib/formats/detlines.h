/* detlines.h - `detect run`'s box lines as predictions:
 *
 *	IMAGE CLASS SCORE X Y W H
 *
 * one box a line, X Y W H in pixels (top-left corner and size).  IMAGE is
 * the first word; SCORE X Y W H the last five; CLASS what lies between
 * (a name may hold spaces): one of the ground truth's names, else a class
 * index.  IMAGE is matched to a ground-truth image by its name, or by
 * its stem (the base name without extension).  Blank lines and lines
 * starting with # are skipped.
 */
#ifndef NK_FORMATS_DETLINES_H
#define NK_FORMATS_DETLINES_H

#include <stddef.h>

#include "formats/detset.h"

/* Fills `pred` with objects numbered by `gt` (image and class indices;
 * pred has no images or names of its own).  Errors NK_EFORMAT "FILE:LINE:
 * what": too few fields, a bad number, an unknown class or image. */
int nk_detlines_read(nk_detset *pred, const nk_detset *gt, const char *path);
int nk_detlines_parse(nk_detset *pred, const nk_detset *gt, const char *data,
		      size_t size, const char *file);

#endif
