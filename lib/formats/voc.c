/* voc.c - Pascal VOC annotation directories; see voc.h.
 *
 * The XML reader is a loop over tags that keeps the path of open
 * elements and the text of the innermost one; what VOC needs is decided
 * when an element closes, by its path.  That is all of XML an annotation
 * uses, and it keeps every error at a line number.
 */
#include "formats/voc.h"
#include "core/base.h"
#include "core/hash.h"
#include "core/io.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32
#define MAX_NAME 64
#define MAX_TEXT 4096

struct voc_object {
	char name[MAX_TEXT];
	double box[4];      /* xmin ymin xmax ymax */
	int have[4];
	int difficult, line;
};

struct xml {
	const char *p, *end, *file;
	int line;
	char path[MAX_DEPTH][MAX_NAME];
	int depth;
	char text[MAX_TEXT];
	size_t ntext;
};

static int xml_fail(struct xml *x, const char *what, const char *arg)
{
	return nk_error(NK_EFORMAT, "%s:%d: %s%s%s%s", x->file, x->line, what,
			arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
}

/* Skips to just past `end` (counting lines). */
static int skip_past(struct xml *x, const char *end, const char *what)
{
	size_t n = strlen(end);
	for (; x->p + n <= x->end; x->p++) {
		if (memcmp(x->p, end, n) == 0) {
			x->p += n;
			return 0;
		}
		x->line += *x->p == '\n';
	}
	return xml_fail(x, what, NULL);
}

static int text_put(struct xml *x, const char *s, size_t n)
{
	if (x->ntext + n >= MAX_TEXT)
		return xml_fail(x, "text too long", NULL);
	memcpy(x->text + x->ntext, s, n);
	x->ntext += n;
	return 0;
}

/* &amp; &lt; &gt; &quot; &apos; &#N; &#xN; at x->p (the '&'). */
static int entity(struct xml *x)
{
	static const struct { const char *name, *val; } ent[] = {
		{ "amp", "&" }, { "lt", "<" }, { "gt", ">" },
		{ "quot", "\"" }, { "apos", "'" },
	};
	const char *semi = memchr(x->p, ';', (size_t)(x->end - x->p));
	if (!semi || semi - x->p > 12)
		return xml_fail(x, "unterminated entity", NULL);
	const char *s = x->p + 1;
	size_t n = (size_t)(semi - s);
	x->p = semi + 1;
	for (size_t i = 0; i < sizeof ent / sizeof *ent; i++)
		if (strlen(ent[i].name) == n && memcmp(s, ent[i].name, n) == 0)
			return text_put(x, ent[i].val, 1);
	if (n >= 2 && s[0] == '#') {
		char buf[16], *e;
		memcpy(buf, s + 1, n - 1);
		buf[n - 1] = 0;
		int hex = buf[0] == 'x';
		unsigned long cp = strtoul(buf + hex, &e, hex ? 16 : 10);
		if (*e || e == buf + hex || cp == 0 || cp > 0x10FFFF)
			return xml_fail(x, "bad character reference", NULL);
		char u[4];
		size_t k;
		if (cp < 0x80) {
			u[0] = (char)cp;
			k = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xC0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 63));
			k = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xE0 | cp >> 12);
			u[1] = (char)(0x80 | (cp >> 6 & 63));
			u[2] = (char)(0x80 | (cp & 63));
			k = 3;
		} else {
			u[0] = (char)(0xF0 | cp >> 18);
			u[1] = (char)(0x80 | (cp >> 12 & 63));
			u[2] = (char)(0x80 | (cp >> 6 & 63));
			u[3] = (char)(0x80 | (cp & 63));
			k = 4;
		}
		return text_put(x, u, k);
	}
	return xml_fail(x, "unknown entity", NULL);
}

/* The element text without surrounding white space. */
static char *trimmed(struct xml *x)
{
	x->text[x->ntext] = 0;
	char *s = x->text, *e = x->text + x->ntext;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int is_path(const struct xml *x, int n, const char *const *names)
{
	if (x->depth != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(x->path[i], names[i]) != 0)
			return 0;
	return 1;
}

static int number(struct xml *x, const char *s, double *v)
{
	char *e;
	errno = 0;
	*v = strtod(s, &e);
	if (e == s || *e || errno)
		return xml_fail(x, "not a number:", s);
	return 0;
}

/* The class index of `name`: from the given list, or appended. */
static int class_of(nk_detset *s, const char *name, const char *const *names,
		    int nnames, int *cls)
{
	if (names) {
		for (int i = 0; i < nnames; i++)
			if (strcmp(names[i], name) == 0)
				return *cls = i, 0;
		return -1;
	}
	for (int i = 0; i < s->nclasses; i++)
		if (strcmp(s->names[i], name) == 0)
			return *cls = i, 0;
	char **nn = nk_reallocarray(s->names, (size_t)s->nclasses + 1,
				    sizeof *nn);
	if (!nn)
		return NK_ENOMEM;
	s->names = nn;
	if (!(nn[s->nclasses] = nk_strdup(name)))
		return NK_ENOMEM;
	*cls = s->nclasses++;
	return 0;
}

static const char *const P_FILENAME[] = { "annotation", "filename" };
static const char *const P_WIDTH[] = { "annotation", "size", "width" };
static const char *const P_HEIGHT[] = { "annotation", "size", "height" };
static const char *const P_OBJECT[] = { "annotation", "object" };
static const char *const P_NAME[] = { "annotation", "object", "name" };
static const char *const P_DIFF[] = { "annotation", "object", "difficult" };
static const char *const P_BOX[4][4] = {
	{ "annotation", "object", "bndbox", "xmin" },
	{ "annotation", "object", "bndbox", "ymin" },
	{ "annotation", "object", "bndbox", "xmax" },
	{ "annotation", "object", "bndbox", "ymax" },
};
static const char *const BOX_NAME[4] = { "xmin", "ymin", "xmax", "ymax" };

struct ann {
	char filename[MAX_TEXT];
	double width, height;
	struct voc_object obj;
	struct voc_object *objs;
	int nobjs;
	int root_seen;
};

/* An element closed: take what VOC needs of it. */
static int on_close(struct xml *x, struct ann *a)
{
	char *t = trimmed(x);
	struct voc_object *o = &a->obj;
	if (is_path(x, 2, P_FILENAME)) {
		snprintf(a->filename, sizeof a->filename, "%s", t);
	} else if (is_path(x, 3, P_WIDTH)) {
		return number(x, t, &a->width);
	} else if (is_path(x, 3, P_HEIGHT)) {
		return number(x, t, &a->height);
	} else if (is_path(x, 3, P_NAME)) {
		snprintf(o->name, sizeof o->name, "%s", t);
	} else if (is_path(x, 3, P_DIFF)) {
		double d;
		if (number(x, t, &d))
			return NK_EFORMAT;
		o->difficult = d != 0;
	} else if (is_path(x, 2, P_OBJECT)) {
		if (!o->name[0])
			return nk_error(NK_EFORMAT, "%s:%d: object without a name",
					x->file, o->line);
		for (int i = 0; i < 4; i++)
			if (!o->have[i])
				return nk_error(NK_EFORMAT, "%s:%d: object '%s' "
						"has no bndbox/%s", x->file,
						o->line, o->name, BOX_NAME[i]);
		struct voc_object *no = nk_reallocarray(a->objs,
							(size_t)a->nobjs + 1,
							sizeof *no);
		if (!no)
			return NK_ENOMEM;
		a->objs = no;
		a->objs[a->nobjs++] = *o;
	} else {
		for (int i = 0; i < 4; i++)
			if (is_path(x, 4, P_BOX[i])) {
				o->have[i] = 1;
				return number(x, t, &o->box[i]);
			}
	}
	return 0;
}

/* A start tag at x->p (after '<'): its name, and whether it closes
 * itself. */
static int start_tag(struct xml *x, struct ann *a)
{
	const char *s = x->p;
	while (x->p < x->end && *x->p != '>' && *x->p != '/' && *x->p != ' ' &&
	       *x->p != '\t' && *x->p != '\n' && *x->p != '\r')
		x->p++;
	size_t n = (size_t)(x->p - s);
	if (n == 0 || n >= MAX_NAME)
		return xml_fail(x, n ? "tag name too long" : "empty tag name",
				NULL);
	if (x->depth == MAX_DEPTH)
		return xml_fail(x, "elements nested too deep", NULL);
	if (x->depth == 0) {
		if (a->root_seen)
			return xml_fail(x, "a second root element", NULL);
		a->root_seen = 1;
	}
	memcpy(x->path[x->depth], s, n);
	x->path[x->depth][n] = 0;
	x->depth++;
	/* attributes: skipped, minding quotes */
	char q = 0;
	for (; x->p < x->end; x->p++) {
		char c = *x->p;
		x->line += c == '\n';
		if (q) {
			if (c == q)
				q = 0;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == '>') {
			break;
		}
	}
	if (x->p >= x->end)
		return xml_fail(x, "unterminated tag", x->path[x->depth - 1]);
	int self = x->p[-1] == '/';
	x->p++;
	x->ntext = 0;
	if (is_path(x, 2, P_OBJECT)) {
		memset(&a->obj, 0, sizeof a->obj);
		a->obj.line = x->line;
	}
	if (self) {
		int rc = on_close(x, a);
		x->depth--;
		return rc;
	}
	return 0;
}

static int parse_xml(struct xml *x, struct ann *a)
{
	while (x->p < x->end) {
		char c = *x->p;
		if (c == '&') {
			if (entity(x))
				return NK_EFORMAT;
			continue;
		}
		if (c != '<') {
			x->line += c == '\n';
			/* outside the root only white space (and a byte
			 * order mark before it) */
			if (x->depth == 0 && c != ' ' && c != '\t' && c != '\n' &&
			    c != '\r' && ((unsigned char)c < 0x80 || a->root_seen))
				return xml_fail(x, "text outside the root element",
						NULL);
			if (x->depth && text_put(x, x->p, 1))
				return NK_EFORMAT;
			x->p++;
			continue;
		}
		size_t left = (size_t)(x->end - x->p);
		if (left >= 4 && memcmp(x->p, "<!--", 4) == 0) {
			x->p += 4;
			if (skip_past(x, "-->", "unterminated comment"))
				return NK_EFORMAT;
		} else if (left >= 9 && memcmp(x->p, "<![CDATA[", 9) == 0) {
			return xml_fail(x, "CDATA sections are not supported", NULL);
		} else if (left >= 2 && (x->p[1] == '?' || x->p[1] == '!')) {
			x->p += 2;
			if (skip_past(x, x->p[-1] == '?' ? "?>" : ">",
				      "unterminated declaration"))
				return NK_EFORMAT;
		} else if (left >= 2 && x->p[1] == '/') {
			const char *s = x->p + 2;
			const char *gt = memchr(s, '>', (size_t)(x->end - s));
			if (!gt)
				return xml_fail(x, "unterminated end tag", NULL);
			const char *e = gt;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
					 e[-1] == '\n' || e[-1] == '\r'))
				e--;
			size_t n = (size_t)(e - s);
			if (x->depth == 0)
				return xml_fail(x, "end tag without a start", NULL);
			const char *open = x->path[x->depth - 1];
			if (strlen(open) != n || memcmp(open, s, n) != 0)
				return xml_fail(x, "end tag does not close", open);
			for (const char *q = x->p; q < gt; q++)
				x->line += *q == '\n';
			x->p = gt + 1;
			if (on_close(x, a))
				return NK_EFORMAT;
			x->depth--;
			x->ntext = 0;
		} else {
			x->p++;
			if (start_tag(x, a))
				return NK_EFORMAT;
		}
	}
	if (x->depth)
		return xml_fail(x, "unclosed element", x->path[x->depth - 1]);
	if (!a->root_seen || strcmp(x->path[0], "annotation") != 0)
		return xml_fail(x, "no <annotation> element", NULL);
	return 0;
}

int nk_voc_parse(nk_detset *s, const char *data, size_t size,
		 const char *file, const char *id, const char *const *names,
		 int nnames)
{
	struct xml *x = nk_calloc(1, sizeof *x);
	struct ann *a = nk_calloc(1, sizeof *a);
	int rc = NK_ENOMEM;
	if (!x || !a)
		goto out;
	x->p = data;
	x->end = data + size;
	x->file = file;
	x->line = 1;
	if ((rc = parse_xml(x, a)))
		goto out;
	char path[MAX_TEXT + 16];
	const char *fn = a->filename;
	char *stem = NULL;
	if (!fn[0]) {
		snprintf(a->filename, sizeof a->filename, "%s.jpg", id ? id : file);
		fn = a->filename;
	}
	snprintf(path, sizeof path, "JPEGImages/%s", fn);
	stem = nk_path_stem(id ? id : fn);
	if (!stem)
		goto out;
	int img;
	if (a->width < 0 || a->width > 1e6 || a->height < 0 || a->height > 1e6) {
		free(stem);
		rc = nk_error(NK_EFORMAT, "%s: image size %gx%g out of range",
			      file, a->width, a->height);
		goto out;
	}
	rc = nk_detset_add_image(s, path, stem, s->nimages + 1, (int)a->width,
				 (int)a->height, &img);
	free(stem);
	if (rc)
		goto out;
	for (int i = 0; i < a->nobjs; i++) {
		struct voc_object *o = &a->objs[i];
		int cls;
		if ((rc = class_of(s, o->name, names, nnames, &cls))) {
			if (rc < 0)
				rc = nk_error(NK_EFORMAT, "%s:%d: class '%s' is "
					      "not among the names", file,
					      o->line, o->name);
			goto out;
		}
		double w = o->box[2] - o->box[0], h = o->box[3] - o->box[1];
		if (!(w > 0 && h > 0)) {
			if ((rc = nk_detset_warn(s, "%s:%d: object '%s': empty "
						 "box %g,%g - %g,%g skipped",
						 file, o->line, o->name,
						 o->box[0], o->box[1],
						 o->box[2], o->box[3])))
				goto out;
			continue;
		}
		nk_det_object ob = {
			.image = img, .cls = cls, .x = (float)o->box[0],
			.y = (float)o->box[1], .w = (float)w, .h = (float)h,
			.score = 1, .area = (float)(w * h),
			.id = (int64_t)s->nobjects + 1,
			.difficult = (unsigned char)o->difficult,
		};
		if ((rc = nk_detset_add_object(s, &ob)))
			goto out;
	}
	rc = 0;
out:
	if (a)
		free(a->objs);
	free(a);
	free(x);
	return rc;
}

/* ---- the directory ---------------------------------------------------- */

static int read_one(nk_detset *s, const char *dir, const char *id,
		    const char *const *names, int nnames)
{
	size_t n = strlen(dir) + strlen(id) + 32;
	char *path = nk_malloc(n);
	if (!path)
		return NK_ENOMEM;
	snprintf(path, n, "%s/Annotations/%s.xml", dir, id);
	nk_input in;
	int rc = nk_input_load(&in, path, (size_t)64 << 20);
	if (!rc) {
		rc = nk_voc_parse(s, (const char *)in.data, in.size, path, id,
				  names, nnames);
		nk_input_free(&in);
	}
	free(path);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids: the split file's first words, or Annotations/ *.xml sorted. */
static int list_ids(const char *dir, const char *split, char ***ids, int *n)
{
	*ids = NULL;
	*n = 0;
	size_t len = strlen(dir) + (split ? strlen(split) : 0) + 32;
	char *path = nk_malloc(len);
	if (!path)
		return NK_ENOMEM;
	int rc = 0;
	if (split) {
		snprintf(path, len, "%s/ImageSets/Main/%s.txt", dir, split);
		nk_input in;
		if ((rc = nk_input_load(&in, path, (size_t)256 << 20)))
			goto out;
		const char *p = (const char *)in.data, *end = p + in.size;
		int line = 0, *lines = NULL;
		while (p < end && !rc) {
			line++;
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *le = nl ? nl : end;
			while (p < le && (*p == ' ' || *p == '\t'))
				p++;
			const char *w = p;
			while (p < le && *p != ' ' && *p != '\t' && *p != '\r')
				p++;
			if (p > w) {
				char **ni = nk_reallocarray(*ids, (size_t)*n + 1,
							    sizeof *ni);
				int *nl2 = ni ? nk_reallocarray(lines,
						(size_t)*n + 1, sizeof *nl2) : NULL;
				if (ni)
					*ids = ni;
				if (nl2)
					lines = nl2;
				if (!nl2 || !(ni[*n] = nk_malloc((size_t)(p - w) + 1))) {
					rc = NK_ENOMEM;
					break;
				}
				lines[*n] = line;
				memcpy(ni[*n], w, (size_t)(p - w));
				ni[(*n)++][p - w] = 0;
			}
			p = le + 1;
		}
		/* An image listed twice would count its objects twice. */
		size_t first, again;
		if (!rc && !(rc = nk_first_repeat((const char *const *)*ids,
						  (size_t)*n, &first, &again)) &&
		    again < (size_t)*n)
			rc = nk_error(NK_EFORMAT, "%s:%d: %s listed again, first "
				      "at line %d", path, lines[again],
				      (*ids)[again], lines[first]);
		free(lines);
		nk_input_free(&in);
		goto out;
	}
	snprintf(path, len, "%s/Annotations", dir);
	DIR *d = opendir(path);
	if (!d) {
		rc = nk_error(NK_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".xml") != 0)
			continue;
		char **ni = nk_reallocarray(*ids, (size_t)*n + 1, sizeof *ni);
		if (!ni || !(ni[*n] = nk_strdup(de->d_name))) {
			if (ni)
				*ids = ni;
			rc = NK_ENOMEM;
			break;
		}
		*ids = ni;
		ni[(*n)++][l - 4] = 0;
	}
	closedir(d);
	if (!rc && *n)
		qsort(*ids, (size_t)*n, sizeof **ids, cmp_str);
out:
	free(path);
	return rc;
}

/* Classes found in reading order -> sorted by name. */
static int sort_classes(nk_detset *s)
{
	int K = s->nclasses;
	int *order = nk_reallocarray(NULL, (size_t)K + 1, sizeof *order);
	int *to = nk_reallocarray(NULL, (size_t)K + 1, sizeof *to);
	char **sorted = nk_reallocarray(NULL, (size_t)K + 1, sizeof *sorted);
	if (!order || !to || !sorted) {
		free(order);
		free(to);
		free(sorted);
		return NK_ENOMEM;
	}
	for (int i = 0; i < K; i++)
		sorted[i] = s->names[i];
	qsort(sorted, (size_t)K, sizeof *sorted, cmp_str);
	for (int i = 0; i < K; i++)
		for (int j = 0; j < K; j++)
			if (s->names[i] == sorted[j])
				to[i] = j;
	for (size_t j = 0; j < s->nobjects; j++)
		s->objects[j].cls = to[s->objects[j].cls];
	free(s->names);
	s->names = sorted;
	free(order);
	free(to);
	return 0;
}

int nk_voc_read(nk_detset *s, const char *dir, const char *split,
		const char *const *names, int nnames)
{
	memset(s, 0, sizeof *s);
	char **ids;
	int n, rc;
	if ((rc = list_ids(dir, split, &ids, &n)))
		goto out;
	for (int i = 0; i < n && !rc; i++)
		rc = read_one(s, dir, ids[i], names, nnames);
	if (!rc && names) {
		s->names = nk_calloc((size_t)nnames + 1, sizeof *s->names);
		if (!s->names)
			rc = NK_ENOMEM;
		for (int i = 0; i < nnames && !rc; i++) {
			if (!(s->names[i] = nk_strdup(names[i])))
				rc = NK_ENOMEM;
			s->nclasses = i + 1;
		}
	} else if (!rc) {
		rc = sort_classes(s);
	}
	if (!rc) {
		s->class_ids = nk_calloc((size_t)s->nclasses + 1,
					 sizeof *s->class_ids);
		if (!s->class_ids)
			rc = NK_ENOMEM;
		for (int i = 0; i < s->nclasses && !rc; i++)
			s->class_ids[i] = i + 1;
	}
	if (!rc && !(s->root = nk_strdup(dir)))
		rc = NK_ENOMEM;
out:
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (rc)
		nk_detset_free(s);
	return rc;
}
