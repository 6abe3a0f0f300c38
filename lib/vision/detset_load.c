/* detset_load.c - a data set by layout name (detset_load.h). */
#include "vision/detset_load.h"
#include "core/base.h"
#include "formats/coco.h"
#include "formats/voc.h"
#include "vision/yolo_labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nk_detset_load(nk_detset *s, const char *format, const char *dir,
		   const char *split, const char *const *names, int nnames)
{
	char path[4096];
	memset(s, 0, sizeof *s);
	if (strcmp(format, "voc") == 0)
		return nk_voc_read(s, dir, split, names, nnames);
	if (strcmp(format, "coco") == 0) {
		if (names)
			return nk_error(NK_EINVAL, "COCO's classes are its "
					"categories: no names list");
		snprintf(path, sizeof path, "%s/annotations/instances_%s.json",
			 dir, split);
		int rc = nk_coco_read(s, path);
		if (rc)
			return rc;
		snprintf(path, sizeof path, "%s/%s", dir, split);
		free(s->root);
		if (!(s->root = nk_strdup(path))) {
			nk_detset_free(s);
			return NK_ENOMEM;
		}
		return NK_OK;
	}
	if (strcmp(format, "yolo") == 0) {
		snprintf(path, sizeof path, "%s/%s.txt", dir, split);
		return nk_yolo_read(s, path, names, nnames);
	}
	return nk_error(NK_EINVAL, "data set format '%s' (voc, coco or yolo)",
			format);
}

void nk_detset_drop_crowds(nk_detset *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nobjects; i++)
		if (!s->objects[i].crowd)
			s->objects[k++] = s->objects[i];
	s->nobjects = k;
}
