/* voc.h - Pascal VOC directories: ImageSets/Main/SPLIT.txt naming the
 * images, Annotations/ID.xml describing each.
 *
 * Read from each annotation: filename, size/width and size/height, and
 * per object its name, difficult and bndbox xmin, ymin, xmax, ymax
 * (numbers, decimals allowed).  Elements are found by their path
 * (annotation/object/bndbox/xmin), so a person's <part>s are not taken
 * for objects.  The XML reader handles comments, processing
 * instructions, a DOCTYPE, attributes, self-closing tags and the five
 * predefined entities plus &#N; and &#xN;; CDATA is not supported.
 *
 * Boxes are kept as VOC has them (x = xmin, w = xmax - xmin; see
 * detset.h).  A box with w or h <= 0 is skipped with a warning "FILE:LINE:
 * ..." in s->warnings (BCCD has two).  Classes: the order of `names` when
 * given (an object of another class is an error), else the names found,
 * sorted by strcmp.  class_ids are 1, 2, ...; image ids 1, 2, ... in
 * split order; object ids 1, 2, ... in reading order.
 */
#ifndef NK_FORMATS_VOC_H
#define NK_FORMATS_VOC_H

#include "formats/detset.h"

/* split: "test" reads DIR/ImageSets/Main/test.txt (the first word of each
 * line is the id); NULL reads every DIR/Annotations/ID.xml in name order.
 * Errors: NK_EIO naming the file, NK_EFORMAT "FILE:LINE: what". */
int nk_voc_read(nk_detset *s, const char *dir, const char *split,
		const char *const *names, int nnames);
/* One annotation from memory (what nk_voc_read does per file; the fuzz
 * target's entry).  `file` names it in messages; `id` becomes the
 * image's name when the XML has no filename. */
int nk_voc_parse(nk_detset *s, const char *data, size_t size,
		 const char *file, const char *id, const char *const *names,
		 int nnames);

#endif
