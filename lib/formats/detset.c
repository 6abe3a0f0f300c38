/* detset.c - freeing and building an nk_detset; see detset.h. */
#include "formats/detset.h"
#include "core/base.h"
#include "core/hash.h"
#include "core/io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_detset_free(nk_detset *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nimages; i++) {
		free(s->images[i].file);
		free(s->images[i].name);
	}
	free(s->images);
	free(s->objects);
	for (int i = 0; i < s->nclasses; i++)
		free(s->names[i]);
	free(s->names);
	free(s->class_ids);
	for (int i = 0; i < s->nwarnings; i++)
		free(s->warnings[i].msg);
	free(s->warnings);
	free(s->root);
	memset(s, 0, sizeof *s);
}

/* Capacities are not stored in the struct (its layout is shared): grow
 * to the next power of two whenever the count reaches one. */
static int grow_pow2(void **p, size_t n, size_t elem)
{
	if (n != 0 && (n < 8 || (n & (n - 1))))
		return 0;
	void *q = nk_reallocarray(*p, n ? n * 2 : 8, elem);
	if (!q)
		return NK_ENOMEM;
	*p = q;
	return 0;
}

int nk_detset_add_image(nk_detset *s, const char *file, const char *name,
			int64_t id, int width, int height, int *index)
{
	if (s->nimages == INT32_MAX)
		return nk_error(NK_ERANGE, "too many images");
	if (grow_pow2((void **)&s->images, (size_t)s->nimages, sizeof *s->images))
		return NK_ENOMEM;
	nk_det_image *im = &s->images[s->nimages];
	im->file = nk_strdup(file ? file : "");
	im->name = nk_strdup(name ? name : "");
	if (!im->file || !im->name) {
		free(im->file);
		free(im->name);
		return NK_ENOMEM;
	}
	im->id = id;
	im->width = width;
	im->height = height;
	if (index)
		*index = s->nimages;
	s->nimages++;
	return 0;
}

int nk_detset_add_object(nk_detset *s, const nk_det_object *o)
{
	if (grow_pow2((void **)&s->objects, s->nobjects, sizeof *s->objects))
		return NK_ENOMEM;
	s->objects[s->nobjects++] = *o;
	return 0;
}

int nk_detset_warn(nk_detset *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (grow_pow2((void **)&s->warnings, (size_t)s->nwarnings,
		      sizeof *s->warnings))
		return NK_ENOMEM;
	if (!(s->warnings[s->nwarnings].msg = nk_strdup(buf)))
		return NK_ENOMEM;
	s->nwarnings++;
	return 0;
}

/* A counting sort by image: stable, so the order read survives. */
int nk_detset_sort(nk_detset *s)
{
	if (s->nobjects < 2)
		return 0;
	size_t *start = nk_calloc((size_t)s->nimages + 1, sizeof *start);
	nk_det_object *out = nk_reallocarray(NULL, s->nobjects, sizeof *out);
	if (!start || !out) {
		free(start);
		free(out);
		return NK_ENOMEM;
	}
	for (size_t i = 0; i < s->nobjects; i++)
		start[s->objects[i].image + 1]++;
	for (int i = 0; i < s->nimages; i++)
		start[i + 1] += start[i];
	for (size_t i = 0; i < s->nobjects; i++)
		out[start[s->objects[i].image]++] = s->objects[i];
	free(start);
	free(s->objects);
	s->objects = out;
	return 0;
}

static void stem_span(const char *path, const char **b, size_t *len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	*b = base;
	*len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
}

char *nk_path_stem(const char *path)
{
	const char *b;
	size_t len;
	stem_span(path, &b, &len);
	char *r = nk_malloc(len + 1);
	if (r) {
		memcpy(r, b, len);
		r[len] = 0;
	}
	return r;
}

int nk_detset_find_image(const nk_detset *s, const char *name)
{
	for (int i = 0; i < s->nimages; i++)
		if (strcmp(s->images[i].name, name) == 0)
			return i;
	const char *b;
	size_t len;
	stem_span(name, &b, &len);
	for (int i = 0; i < s->nimages; i++) {
		const char *ib;
		size_t ilen;
		stem_span(s->images[i].name, &ib, &ilen);
		if (ilen == len && memcmp(ib, b, len) == 0)
			return i;
	}
	return -1;
}

int64_t nk_detset_class_id(const nk_detset *s, int k)
{
	return s->class_ids ? s->class_ids[k] : (int64_t)k + 1;
}

int nk_names_read(const char *path, char ***names, int *n)
{
	*names = NULL;
	*n = 0;
	nk_input in;
	int rc = nk_input_load(&in, path, NK_NAMES_MAX_BYTES);
	if (rc)
		return rc;
	const char *p = (const char *)in.data, *end = p + in.size;
	char **v = NULL;
	int k = 0;
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t len = (size_t)(e - p);
		while (len && p[len - 1] == '\r')
			len--;
		/* A blank line is a class without a name (darknet reads it
		 * as one, and skipping it shifts every later name onto the
		 * wrong class): refused, whatever reads the file. */
		size_t blank = 0;
		while (blank < len && (p[blank] == ' ' || p[blank] == '\t' ||
				       p[blank] == '\r' || p[blank] == '\v' ||
				       p[blank] == '\f'))
			blank++;
		if (blank == len) {
			rc = nk_error(NK_EFORMAT, "%s:%d: empty class name",
				      in.name, k + 1);
			break;
		}
		char **g = nk_reallocarray(v, (size_t)k + 1, sizeof *v);
		char *name = g ? nk_malloc(len + 1) : NULL;
		if (g)
			v = g;
		if (!name) {
			rc = NK_ENOMEM;
			break;
		}
		memcpy(name, p, len);
		name[len] = 0;
		v[k++] = name;
		p = nl ? nl + 1 : end;
	}
	if (!rc && !k)
		rc = nk_error(NK_EFORMAT, "%s: no class names", in.name);
	/* Two classes of one name: boxes of the second would be scored or
	 * trained as the first's.  Class k is on line k + 1. */
	size_t first, again;
	if (!rc && !(rc = nk_first_repeat((const char *const *)v, (size_t)k,
					  &first, &again)) && again < (size_t)k)
		rc = nk_error(NK_EFORMAT, "%s:%zu: class '%s' listed again, "
			      "first at line %zu", in.name, again + 1,
			      v[again], first + 1);
	nk_input_free(&in);
	if (rc) {
		nk_names_free(v, k);
		return rc;
	}
	*names = v;
	*n = k;
	return NK_OK;
}

void nk_names_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
