/* output.c - what detect run writes: class names, box lines or COCO
 * results, and the pictures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"
#include "formats/detset.h"
#include "vision/draw.h"
#include "vision/image.h"

/* ---- class names ------------------------------------------------------ */

void detect_names_load(struct names *nm, const char *path, int classes)
{
	nm->name = NULL;
	nm->n = 0;
	if (!path)
		return;
	/* The reader eval and train use: its size limit, its check for a
	 * name given twice, its messages naming the file. */
	if (nk_names_read(path, &nm->name, &nm->n))
		cli_die_lib();
	if (nm->n < classes)
		cli_errx(1, "%s: %d names, the model has %d classes", path, nm->n,
			 classes);
}

void detect_names_free(struct names *nm)
{
	nk_names_free(nm->name, nm->n);
}

/* ---- one image's boxes ---------------------------------------------------- */

static const char *class_name(const struct names *nm, int c, char *buf,
			      size_t size)
{
	if (nm->name)
		return nm->name[c];
	snprintf(buf, size, "%d", c);
	return buf;
}

/* image_id for COCO results: the file name without directory and
 * extension, a number when it is all digits. */
static void json_image_id(FILE *fp, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	int digits = len > 0 && len < 19;
	for (size_t i = 0; i < len && digits; i++)
		digits = base[i] >= '0' && base[i] <= '9';
	if (digits) {
		fprintf(fp, "%lld", strtoll(base, NULL, 10));
		return;
	}
	fputc('"', fp);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)base[i];
		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

void detect_print_hits(int json, const struct names *nm,
		       const char *path, const nk_box_hit *h, int n,
		       int *json_count)
{
	char buf[16];
	for (int i = 0; i < n; i++) {
		if (json) {
			fputs(*json_count ? ",\n" : "[\n", stdout);
			fputs("{\"image_id\": ", stdout);
			json_image_id(stdout, path);
			printf(", \"category_id\": %d, \"bbox\": [%.3f, %.3f, %.3f, "
			       "%.3f], \"score\": %.6f}",
			       h[i].cls, h[i].x, h[i].y, h[i].w, h[i].h, h[i].score);
			++*json_count;
		} else {
			printf("%s %s %.6f %.3f %.3f %.3f %.3f\n", path,
			       class_name(nm, h[i].cls, buf, sizeof buf),
			       h[i].score, h[i].x, h[i].y, h[i].w, h[i].h);
		}
	}
}

/* The picture, as darknet draws it, onto an RGB copy of the image. */
int detect_draw(const char *out, const nk_image *src, const nk_detection *d,
		int n, int classes, const struct names *nm)
{
	nk_image im;
	int rc = nk_image_to_rgb(&im, src);
	if (!rc)
		rc = nk_draw_detections(&im, d, n, classes,
					(const char *const *)nm->name);
	if (!rc)
		rc = nk_image_save(&im, out, 95);
	nk_image_free(&im);
	return rc;
}

char *detect_drawn_path(const char *dir, const char *image)
{
	const char *base = strrchr(image, '/');
	base = base ? base + 1 : image;
	const char *dot = strrchr(base, '.');
	int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
	size_t size = strlen(dir) + (size_t)len + 6;
	char *p = malloc(size);
	if (!p)
		cli_errx(1, "out of memory");
	snprintf(p, size, "%s/%.*s.png", dir, len, base);
	return p;
}

