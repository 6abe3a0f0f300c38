/* detlines.c - `detect run` lines as predictions; see detlines.h. */
#include "formats/detlines.h"
#include "core/base.h"
#include "core/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 4096

/* A ground-truth image by name or stem: a sorted table of stems, so that
 * a million lines do not each scan every image. */
struct stem_ix {
	char **stem;
	int n;
};

static int stem_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}


static void stem_ix_free(struct stem_ix *ix)
{
	for (int i = 0; i < ix->n; i++)
		free(ix->stem[i]);
	free(ix->stem);

}

static int find_class(const nk_detset *gt, const char *s, size_t n)
{
	for (int c = 0; c < gt->nclasses; c++)
		if (strlen(gt->names[c]) == n && memcmp(gt->names[c], s, n) == 0)
			return c;
	if (n == 0 || n > 9)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v < gt->nclasses ? v : -1;
}

int nk_detlines_parse(nk_detset *pred, const nk_detset *gt, const char *data,
		      size_t size, const char *file)
{
	memset(pred, 0, sizeof *pred);
	/* "stem\0index" strings sorted: one allocation per image */
	struct stem_ix ix = { 0 };
	ix.stem = nk_calloc((size_t)gt->nimages + 1, sizeof *ix.stem);
	int rc = NK_ENOMEM;
	if (!ix.stem)
		goto out;
	for (int i = 0; i < gt->nimages; i++) {
		char *st = nk_path_stem(gt->images[i].name);
		if (!st)
			goto out;
		size_t l = strlen(st);
		char *e = nk_malloc(l + 16);
		if (!e) {
			free(st);
			goto out;
		}
		memcpy(e, st, l + 1);
		memcpy(e + l + 1, &i, sizeof i);
		free(st);
		ix.stem[ix.n++] = e;
	}
	qsort(ix.stem, (size_t)ix.n, sizeof *ix.stem, stem_cmp);
	const char *p = data, *end = data + size;
	int line = 0;
	char buf[MAX_LINE];
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		line++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n >= MAX_LINE) {
			rc = nk_error(NK_EFORMAT, "%s:%d: line too long", file, line);
			goto out;
		}
		memcpy(buf, p, n);
		buf[n] = 0;
		p = le + 1;
		char *s = buf;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		/* the last five words are numbers */
		double v[5];
		char *e = s + strlen(s);
		for (int k = 4; k >= 0; k--) {
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				*--e = 0;
			char *w = e;
			while (w > s && w[-1] != ' ' && w[-1] != '\t')
				w--;
			char *q;
			errno = 0;
			v[k] = strtod(w, &q);
			if (w == e || q != e || errno || w == s) {
				rc = nk_error(NK_EFORMAT, "%s:%d: want IMAGE CLASS "
					      "SCORE X Y W H", file, line);
				goto out;
			}
			e = w;
		}
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		char *img = s, *cls = s;
		while (*cls && *cls != ' ' && *cls != '\t')
			cls++;
		if (*cls)
			*cls++ = 0;
		while (*cls == ' ' || *cls == '\t')
			cls++;
		int c = find_class(gt, cls, strlen(cls));
		if (c < 0) {
			rc = nk_error(NK_EFORMAT, "%s:%d: class '%s' is not among "
				      "the ground truth's", file, line, cls);
			goto out;
		}
		char *st = nk_path_stem(img);
		if (!st)
			goto out;
		char **hit = bsearch(&st, ix.stem, (size_t)ix.n, sizeof *ix.stem,
				     stem_cmp);
		free(st);
		if (!hit) {
			rc = nk_error(NK_EFORMAT, "%s:%d: image '%s' is not in the "
				      "ground truth", file, line, img);
			goto out;
		}
		int im;
		memcpy(&im, *hit + strlen(*hit) + 1, sizeof im);
		/* strtod reads "nan": say so, not "negative". */
		static const char *const what[5] = {"score", "X", "Y", "W", "H"};
		for (int k = 0; k < 5; k++)
			if (v[k] != v[k]) {
				rc = nk_error(NK_EFORMAT, "%s:%d: %s is not a "
					      "number", file, line, what[k]);
				goto out;
			}
		if (!(v[0] >= 0 && v[0] <= 1e9) || !(v[3] >= 0) || !(v[4] >= 0)) {
			rc = nk_error(NK_EFORMAT, "%s:%d: a negative score or size",
				      file, line);
			goto out;
		}
		nk_det_object o = {
			.image = im, .cls = c, .score = (float)v[0],
			.x = (float)v[1], .y = (float)v[2], .w = (float)v[3],
			.h = (float)v[4], .area = (float)(v[3] * v[4]),
			.id = (int64_t)pred->nobjects + 1,
		};
		if ((rc = nk_detset_add_object(pred, &o)))
			goto out;
	}
	rc = 0;
out:
	stem_ix_free(&ix);
	if (rc)
		nk_detset_free(pred);
	return rc;
}

int nk_detlines_read(nk_detset *pred, const nk_detset *gt, const char *path)
{
	nk_input in;
	memset(pred, 0, sizeof *pred);
	int rc = nk_input_load(&in, path, 0);
	if (rc)
		return rc;
	rc = nk_detlines_parse(pred, gt, (const char *)in.data, in.size,
			       in.name);
	nk_input_free(&in);
	return rc;
}
