/* output.c - pyramid's outputs: images per level (-o), a mosaic (-M), a
 * weight file (-t), all renamed into place only once every one of them
 * was written, so a failure leaves none of them behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/io.h"
#include "vision/pyramid_file.h"
#include "pyramid_cmd.h"

#define MAX_OUTS (NK_PYR_MAX_SCALES + 4)

struct outset {
	int n;
	nk_output out[MAX_OUTS];
	char *final[MAX_OUTS]; /* final path, kept to undo a rename */
};

static int outset_open(struct outset *s, const char *path, FILE **fp)
{
	if (s->n == MAX_OUTS)
		return nk_error(NK_ERANGE, "too many output files");
	for (int i = 0; i < s->n; i++)
		if (s->final[i] && strcmp(s->final[i], path) == 0)
			return nk_error(NK_EINVAL, "%s: named twice as an output",
					path);
	nk_output *o = &s->out[s->n];
	if (nk_output_open(o, path))
		return NK_EIO;
	s->final[s->n] = strcmp(path, "-") == 0 ? NULL : nk_strdup(path);
	s->n++;
	*fp = o->fp;
	return NK_OK;
}

static void outset_abort(struct outset *s)
{
	for (int i = 0; i < s->n; i++) {
		nk_output_abort(&s->out[i]);
		free(s->final[i]);
	}
	s->n = 0;
}

/* Renames every output into place; if one fails, the ones already renamed
 * are removed again, so a run leaves all of its files or none. */
static int outset_commit(struct outset *s)
{
	int rc = NK_OK, done = 0;
	for (; done < s->n; done++)
		if ((rc = nk_output_commit(&s->out[done])))
			break;
	if (rc) {
		for (int i = 0; i < done; i++)
			if (s->final[i])
				unlink(s->final[i]);
		for (int i = done; i < s->n; i++)
			nk_output_abort(&s->out[i]);
	}
	for (int i = 0; i < s->n; i++)
		free(s->final[i]);
	s->n = 0;
	return rc;
}

/* Checks that a -o pattern has at most one %d (or %0Nd) and nothing else
 * after a '%' but "%%"; the pattern is never given to printf. */
int pyr_pattern_check(const char *p, int *has_level)
{
	*has_level = 0;
	for (; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		const char *q = p + 1;
		if (*q == '0')
			q++;
		if (*q >= '1' && *q <= '9')
			q++;
		if (*q != 'd' || *has_level)
			return -1;
		*has_level = 1;
		p = q;
	}
	return 0;
}

static char *pattern_path(const char *p, int level)
{
	size_t cap = strlen(p) + 32, n = 0;
	char *s = nk_malloc(cap);
	if (!s)
		return NULL;
	for (; *p; p++) {
		if (*p != '%') {
			s[n++] = *p;
			continue;
		}
		if (p[1] == '%') {
			s[n++] = '%';
			p++;
			continue;
		}
		int width = 0, zero = 0;
		p++;
		if (*p == '0') {
			zero = 1;
			p++;
		}
		if (*p >= '1' && *p <= '9')
			width = *p++ - '0';
		n += (size_t)snprintf(s + n, cap - n, zero ? "%0*d" : "%*d",
				      width, level);
	}
	s[n] = 0;
	return s;
}

static int add_image(struct outset *s, const char *path,
		     const nk_image *img, int quality)
{
	int format = nk_image_format_from_path(path);
	if (format == NK_IMG_UNKNOWN)
		return nk_error(NK_EINVAL, "%s: unknown image type (name it .png, "
				".jpg or .jpeg)", path);
	FILE *fp;
	if (outset_open(s, path, &fp))
		return NK_EIO;
	return nk_image_write_fp(img, fp, strcmp(path, "-") ? path : "(stdout)",
				 format, quality);
}

int pyr_write_levels(const struct opts *o, const char *src,
		     const nk_image *views, int n, const nk_laplacian *lp)
{
	struct outset s = { 0 };
	int rc = NK_OK;
	nk_wfile *wf = NULL;

	if (o->pattern) {
		int has;
		if (pyr_pattern_check(o->pattern, &has))
			return nk_error(NK_EINVAL, "-o %s: use one %%d for the "
					"level and %%%% for a %%", o->pattern);
		if (!has && n > 1)
			return nk_error(NK_EINVAL, "-o %s: %d levels need a %%d in "
					"the name", o->pattern, n);
		for (int i = 0; i < n && !rc; i++) {
			char *path = pattern_path(o->pattern, i);
			rc = path ? add_image(&s, path, &views[i], o->quality)
				  : NK_ENOMEM;
			free(path);
		}
	}
	if (!rc && o->mosaic) {
		nk_image m;
		rc = nk_pyr_mosaic(&m, views, n);
		if (!rc) {
			rc = add_image(&s, o->mosaic, &m, o->quality);
			nk_image_free(&m);
		}
	}
	if (!rc && o->tensor) {
		FILE *fp;
		rc = nk_pyr_file_levels(&wf, pyr_mode_names[o->mode], src, views,
					n, lp);
		if (!rc)
			rc = outset_open(&s, o->tensor, &fp);
		if (!rc)
			rc = nk_wfile_write_fp(wf, fp, strcmp(o->tensor, "-") ?
					       o->tensor : "(stdout)", 0);
	}
	if (rc)
		outset_abort(&s);
	else
		rc = outset_commit(&s);
	nk_wfile_free(wf);
	return rc;
}

void pyr_summary(const struct opts *o, const nk_image *lv, int n)
{
	if (o->quiet)
		return;
	for (int i = 0; i < n; i++)
		fprintf(stderr, "level %d: %dx%d\n", i, lv[i].w, lv[i].h);
}

void pyr_summary_one(const struct opts *o, const nk_image *img)
{
	if (!o->quiet)
		fprintf(stderr, "%s: %dx%d\n", pyr_mode_names[o->mode], img->w,
			img->h);
}
