/* output.c - what detect run writes: class names, box lines or COCO
 * results, and the pictures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		       const int64_t *cat_ids, const char *path,
		       const nk_box_hit *h, int n, int *json_count)
{
	char buf[16];
	for (int i = 0; i < n; i++) {
		if (json) {
			fputs(*json_count ? ",\n" : "[\n", stdout);
			fputs("{\"image_id\": ", stdout);
			json_image_id(stdout, path);
			/* COCO numbers categories from 1, and a real data
			 * set's ids have gaps (1..90 for 80 classes). */
			long long id = cat_ids ? (long long)cat_ids[h[i].cls] :
					h[i].cls + 1LL;
			printf(", \"category_id\": %lld, \"bbox\": [%.3f, %.3f, "
			       "%.3f, %.3f], \"score\": %.6f}",
			       id, h[i].x, h[i].y, h[i].w, h[i].h, h[i].score);
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


/* ---- outputs that would overwrite ------------------------------------ */

void detect_refuse_same(void (*usage)(FILE *), const char *out_opt,
			const char *out, const char *what, const char *in)
{
	if (nk_same_file(out, in))
		cli_usage_error(usage, "%s %s is %s %s: refusing to overwrite it",
				out_opt, out, what, in);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct file_id {
	dev_t dev;
	ino_t ino;
	int arg;
};

void detect_check_drawn(void (*usage)(FILE *), const char *dir,
			char *const *images, int n)
{
	char **out = calloc((size_t)n + 1, sizeof *out);
	struct file_id *in = calloc((size_t)n + 1, sizeof *in);
	if (!out || !in)
		cli_errx(1, "out of memory");
	int nin = 0;
	for (int i = 0; i < n; i++) {
		out[i] = detect_drawn_path(dir, images[i]);
		struct stat st;
		if (stat(images[i], &st) == 0 && S_ISREG(st.st_mode))
			in[nin++] = (struct file_id){ st.st_dev, st.st_ino, i };
	}
	/* An input drawn over: an existing DIR/NAME.png that is an input
	 * (-O . with ./x.png among the images). */
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(out[i], &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		for (int k = 0; k < nin; k++)
			if (in[k].dev == st.st_dev && in[k].ino == st.st_ino)
				cli_usage_error(usage, "-O %s: %s would be drawn "
						"over the input %s", dir,
						out[i], images[in[k].arg]);
	}
	/* Two images of one name (d1/x.png, d2/x.jpg): one picture would
	 * replace the other.  One image given twice draws one picture
	 * twice, which is harmless. */
	char **sorted = malloc(((size_t)n + 1) * sizeof *sorted);
	if (!sorted)
		cli_errx(1, "out of memory");
	memcpy(sorted, out, (size_t)n * sizeof *sorted);
	qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
	for (int i = 1; i < n; i++) {
		if (strcmp(sorted[i], sorted[i - 1]) != 0)
			continue;
		int first = -1;
		for (int k = 0; k < n; k++) {
			if (strcmp(out[k], sorted[i]) != 0)
				continue;
			if (first < 0)
				first = k;
			else if (!nk_same_file(images[first], images[k]))
				cli_usage_error(usage, "-O %s: %s and %s would "
						"both be drawn to %s", dir,
						images[first], images[k],
						sorted[i]);
		}
	}
	free(sorted);
	for (int i = 0; i < n; i++)
		free(out[i]);
	free(out);
	free(in);
}
