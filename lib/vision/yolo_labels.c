/* yolo_labels.c - YOLO text labels into a detection set (yolo_labels.h). */
#include "vision/yolo_labels.h"
#include "core/base.h"
#include "vision/image.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_CAP 4096

/* The label file of an image: darknet's images -> labels, else beside. */
static void label_path(char *out, size_t n, const char *img)
{
	char base[PATH_CAP + 16];
	snprintf(base, sizeof base, "%s", img);
	char *dot = strrchr(base, '.'), *slash = strrchr(base, '/');
	if (dot && (!slash || dot > slash))
		*dot = 0;
	static const char *const dirs[] = {"/images/", "/JPEGImages/"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		const char *d = NULL, *p = base;
		while ((p = strstr(p, dirs[i])))
			d = p++;
		if (!d && strncmp(base, dirs[i] + 1, strlen(dirs[i]) - 1) == 0)
			d = base - 1; /* a relative path starting there */
		if (!d)
			continue;
		snprintf(out, n, "%.*s/labels/%.4000s.txt", (int)(d - base), base,
			 d + strlen(dirs[i]));
		if (access(out, F_OK) == 0)
			return;
	}
	snprintf(out, n, "%.4000s.txt", base);
}

static int parse_labels(nk_detset *s, FILE *fp, const char *path, int img,
			int w, int h, int nnames)
{
	char line[1024];
	int rc = NK_OK;
	for (int ln = 1; !rc && fgets(line, sizeof line, fp); ln++) {
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		char *end;
		long cls = strtol(p, &end, 10);
		double v[4];
		int k = 0;
		if (end != p && isspace((unsigned char)*end))
			for (p = end; k < 4; k++, p = end) {
				v[k] = strtod(p, &end);
				if (end == p || !(v[k] >= -1e6 && v[k] <= 1e6))
					break;
			}
		while (k == 4 && isspace((unsigned char)*end))
			end++;
		if (k != 4 || *end) {
			rc = nk_error(NK_EFORMAT, "%s:%d: not CLASS CX CY W H",
				      path, ln);
			break;
		}
		if (cls < 0 || cls >= nnames) {
			rc = nk_error(NK_EFORMAT, "%s:%d: class %ld, the names "
				      "have 0..%d", path, ln, cls, nnames - 1);
			break;
		}
		/* Fractions of the image: a 1.5 is a label made for another
		 * size, or pixels, and would train on a box outside it. */
		static const char *const key[4] = {"CX", "CY", "W", "H"};
		int out = 0;
		while (out < 4 && v[out] >= 0 && v[out] <= 1)
			out++;
		if (out < 4) {
			rc = nk_error(NK_EFORMAT, "%s:%d: %s %g is outside [0, 1] "
				      "(YOLO labels are fractions of the "
				      "image)", path, ln, key[out], v[out]);
			break;
		}
		if (!(v[2] > 0) || !(v[3] > 0)) {
			rc = nk_detset_warn(s, "%s:%d: empty box %g x %g skipped",
					    path, ln, v[2], v[3]);
			continue;
		}
		nk_det_object o = {img, (int)cls, (float)((v[0] - v[2] / 2) * w),
				   (float)((v[1] - v[3] / 2) * h),
				   (float)(v[2] * w), (float)(v[3] * h), 1, 0,
				   (int64_t)s->nobjects + 1, 0, 0};
		o.area = o.w * o.h;
		rc = nk_detset_add_object(s, &o);
	}
	if (!rc && ferror(fp))
		rc = nk_error(NK_EIO, "%s: read error", path);
	return rc;
}

static int read_labels(nk_detset *s, const char *path, int img, int w,
		       int h, int nnames)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return errno == ENOENT ? NK_OK :
		       nk_error(NK_EIO, "%s: %s", path, strerror(errno));
	int rc = parse_labels(s, fp, path, img, w, h, nnames);
	fclose(fp);
	return rc;
}

int nk_yolo_parse_labels(nk_detset *s, const char *data, size_t size,
			 const char *name, int img, int w, int h)
{
	if (img < 0 || img >= s->nimages || w < 1 || h < 1)
		return nk_error(NK_EINVAL, "%s: image %d, size %dx%d", name,
				img, w, h);
	if (!size)
		return NK_OK;
	FILE *fp = fmemopen((void *)data, size, "r");
	if (!fp)
		return NK_ENOMEM;
	int rc = parse_labels(s, fp, name, img, w, h, s->nclasses);
	fclose(fp);
	return rc;
}

int nk_yolo_read(nk_detset *s, const char *list, const char *const *names,
		 int nnames)
{
	memset(s, 0, sizeof *s);
	if (nnames < 1)
		return nk_error(NK_EINVAL, "%s: YOLO labels need the class names",
				list);
	FILE *fp = fopen(list, "r");
	if (!fp)
		return nk_error(NK_EIO, "%s: %s", list, strerror(errno));
	int rc = NK_OK;
	if (!(s->names = nk_calloc((size_t)nnames, sizeof *s->names)) ||
	    !(s->class_ids = nk_calloc((size_t)nnames, sizeof *s->class_ids)))
		rc = NK_ENOMEM;
	for (int k = 0; !rc && k < nnames; k++) {
		s->class_ids[k] = k + 1;
		if (!(s->names[k] = nk_strdup(names[k])))
			rc = NK_ENOMEM;
		s->nclasses = k + 1;
	}
	/* Relative image paths are the list's directory's; the set's paths
	 * are complete (root NULL). */
	const char *slash = strrchr(list, '/');
	int dirlen = slash ? (int)(slash - list) : 0;
	char line[PATH_CAP], img[PATH_CAP + 8], lab[PATH_CAP + 16];
	for (int ln = 1; !rc && fgets(line, sizeof line, fp); ln++) {
		line[strcspn(line, "\r\n")] = 0;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (*p == '/' || !slash)
			snprintf(img, sizeof img, "%s", p);
		else
			snprintf(img, sizeof img, "%.*s/%s", dirlen, list, p);
		int w, h, at;
		char *stem = nk_path_stem(img);
		if (!stem) {
			rc = NK_ENOMEM;
			break;
		}
		if ((rc = nk_image_size(img, &w, &h))) {
			char why[512];
			snprintf(why, sizeof why, "%s", nk_last_error());
			free(stem);
			rc = nk_error(rc, "%s:%d: %s", list, ln, why);
			break;
		}
		rc = nk_detset_add_image(s, img, stem, s->nimages + 1, w, h, &at);
		free(stem);
		if (!rc) {
			label_path(lab, sizeof lab, img);
			rc = read_labels(s, lab, at, w, h, nnames);
		}
	}
	if (!rc && ferror(fp))
		rc = nk_error(NK_EIO, "%s: read error", list);
	fclose(fp);
	if (rc)
		nk_detset_free(s);
	return rc;
}
