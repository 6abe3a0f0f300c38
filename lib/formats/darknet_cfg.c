/* darknet_cfg.c - the .cfg reader: sections, key=value lines, typed
 * getters that name FILE:LINE, and the list of keys nobody read. */
#include "formats/darknet_cfg.h"
#include "core/base.h"
#include "core/io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_dncfg_free(nk_dncfg *c)
{
	for (int i = 0; i < c->nsec; i++) {
		for (int j = 0; j < c->sec[i].nkv; j++)
			free(c->sec[i].kv[j].key); /* val lives in the same block */
		free(c->sec[i].kv);
		free(c->sec[i].type);
	}
	free(c->sec);
	free(c->text);
	free(c->name);
	memset(c, 0, sizeof *c);
}

/* darknet's strip(): every space, tab and CR goes, wherever it is. */
static size_t strip(char *dst, const char *src, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (src[i] != ' ' && src[i] != '\t' && src[i] != '\r')
			dst[k++] = src[i];
	dst[k] = 0;
	return k;
}

static int add_section(nk_dncfg *c, const char *type, size_t n, int line)
{
	if (nk_grow((void **)&c->sec, &c->cap, (size_t)c->nsec + 1,
		    sizeof *c->sec))
		return NK_ENOMEM;
	nk_dncfg_section *s = &c->sec[c->nsec];
	memset(s, 0, sizeof *s);
	if (!(s->type = nk_malloc(n + 1)))
		return NK_ENOMEM;
	memcpy(s->type, type, n);
	s->type[n] = 0;
	s->line = line;
	c->nsec++;
	return NK_OK;
}

static int add_kv(nk_dncfg_section *s, const char *l, size_t eq, size_t n,
		  int line)
{
	if (nk_grow((void **)&s->kv, &s->cap, (size_t)s->nkv + 1,
		    sizeof *s->kv))
		return NK_ENOMEM;
	char *b = nk_malloc(n + 1); /* "key\0value\0" in one block */
	if (!b)
		return NK_ENOMEM;
	memcpy(b, l, n);
	b[eq] = 0;
	b[n] = 0;
	s->kv[s->nkv++] = (nk_dncfg_kv){b, b + eq + 1, line, 0};
	return NK_OK;
}

static int parse_lines(nk_dncfg *c, char *line)
{
	const char *p = c->text, *end = c->text + c->size;
	for (int nu = 1; p < end; nu++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (memchr(p, 0, len))
			return nk_error(NK_EFORMAT, "%s:%d: a NUL byte in a "
					"text file", c->name, nu);
		size_t n = strip(line, p, len);
		p += len + 1;
		if (n == 0 || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[') {
			if (line[n - 1] != ']' || n < 3)
				return nk_error(NK_EFORMAT, "%s:%d: a section "
						"line is '[name]', not '%s'",
						c->name, nu, line);
			if (add_section(c, line + 1, n - 2, nu))
				return NK_ENOMEM;
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq || eq == line)
			return nk_error(NK_EFORMAT, "%s:%d: expected key=value, "
					"not '%s'", c->name, nu, line);
		if (c->nsec == 0)
			return nk_error(NK_EFORMAT, "%s:%d: '%s' before the "
					"first [section]", c->name, nu, line);
		if (add_kv(&c->sec[c->nsec - 1], line, (size_t)(eq - line), n,
			   nu))
			return NK_ENOMEM;
	}
	return NK_OK;
}

int nk_dncfg_parse(nk_dncfg *c, const char *text, size_t size,
		   const char *name)
{
	memset(c, 0, sizeof *c);
	if (size > NK_DNCFG_MAX_BYTES)
		return nk_error(NK_ERANGE, "%s: %zu bytes, more than a cfg may "
				"have (%u)", name, size, NK_DNCFG_MAX_BYTES);
	if (!(c->name = nk_strdup(name)) || !(c->text = nk_malloc(size + 1)))
		goto nomem;
	memcpy(c->text, text, size);
	c->text[size] = 0;
	c->size = size;
	char *line = nk_malloc(size + 1); /* one line at most this long */
	if (!line)
		goto nomem;
	int rc = parse_lines(c, line);
	free(line);
	if (!rc && c->nsec == 0)
		rc = nk_error(NK_EFORMAT, "%s: no [section] in the file", name);
	if (rc)
		nk_dncfg_free(c);
	return rc;
nomem:
	nk_dncfg_free(c);
	return NK_ENOMEM;
}

int nk_dncfg_load(nk_dncfg *c, const char *path)
{
	nk_input in;
	memset(c, 0, sizeof *c);
	if (nk_input_load(&in, path, NK_DNCFG_MAX_BYTES))
		return NK_EIO;
	int rc = nk_dncfg_parse(c, (const char *)in.data, in.size, in.name);
	nk_input_free(&in);
	return rc;
}

nk_dncfg_kv *nk_dncfg_find(nk_dncfg *c, int s, const char *key)
{
	if (s < 0 || s >= c->nsec)
		return NULL;
	nk_dncfg_section *sec = &c->sec[s];
	for (int i = 0; i < sec->nkv; i++)
		if (strcmp(sec->kv[i].key, key) == 0) {
			sec->kv[i].used = 1;
			return &sec->kv[i];
		}
	return NULL;
}

static const nk_dncfg_kv *find_quiet(const nk_dncfg *c, int s,
				     const char *key)
{
	for (int i = 0; key && s >= 0 && s < c->nsec && i < c->sec[s].nkv; i++)
		if (strcmp(c->sec[s].kv[i].key, key) == 0)
			return &c->sec[s].kv[i];
	return NULL;
}

/* "layer 3 [convolutional]", or "[net]" for the first section. */
static void where(char *buf, size_t n, const nk_dncfg *c, int s)
{
	const char *type = s >= 0 && s < c->nsec ? c->sec[s].type : "?";
	if (s <= 0)
		snprintf(buf, n, "[%s]", type);
	else
		snprintf(buf, n, "layer %d [%s]", s - 1, type);
}

int nk_dncfg_error(const nk_dncfg *c, int s, const char *key, int code,
		   const char *fmt, ...)
{
	char msg[512], wh[128];
	const nk_dncfg_kv *kv = find_quiet(c, s, key);
	int line = kv ? kv->line : s >= 0 && s < c->nsec ? c->sec[s].line : 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	where(wh, sizeof wh, c, s);
	return nk_error(code, "%s:%d: %s: %s", c->name, line, wh, msg);
}

static int parse_int(const char *v, int *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (end == v || *end || errno || x < INT_MIN || x > INT_MAX)
		return -1;
	*out = (int)x;
	return 0;
}

static int parse_float(const char *v, float *out)
{
	char *end;
	errno = 0;
	float x = strtof(v, &end);
	if (end == v || *end || errno == ERANGE || !isfinite(x))
		return -1;
	*out = x;
	return 0;
}

int nk_dncfg_int(nk_dncfg *c, int s, const char *key, int def, int *out)
{
	nk_dncfg_kv *kv = nk_dncfg_find(c, s, key);
	*out = def;
	if (kv && parse_int(kv->val, out))
		return nk_dncfg_error(c, s, key, NK_EFORMAT, "'%s' is not an "
				      "integer: '%s'", key, kv->val);
	return NK_OK;
}

int nk_dncfg_float(nk_dncfg *c, int s, const char *key, float def,
		   float *out)
{
	nk_dncfg_kv *kv = nk_dncfg_find(c, s, key);
	*out = def;
	if (kv && parse_float(kv->val, out))
		return nk_dncfg_error(c, s, key, NK_EFORMAT, "'%s' is not a "
				      "number: '%s'", key, kv->val);
	return NK_OK;
}

const char *nk_dncfg_str(nk_dncfg *c, int s, const char *key, const char *def)
{
	nk_dncfg_kv *kv = nk_dncfg_find(c, s, key);
	return kv ? kv->val : def;
}

/* One list parser for both element types: `put` converts item i. */
static int parse_list(nk_dncfg *c, int s, const char *key, void **out,
		      int *n, size_t elem, int is_float)
{
	*out = NULL;
	*n = 0;
	nk_dncfg_kv *kv = nk_dncfg_find(c, s, key);
	if (!kv)
		return NK_OK;
	size_t count = 1;
	for (const char *p = kv->val; *p; p++)
		count += *p == ',';
	if (count > NK_DNCFG_MAX_LIST)
		return nk_dncfg_error(c, s, key, NK_ERANGE, "'%s' has %zu "
				      "items, more than %d", key, count,
				      NK_DNCFG_MAX_LIST);
	char *buf = nk_strdup(kv->val);
	unsigned char *a = nk_calloc(count, elem);
	if (!buf || !a) {
		free(buf);
		free(a);
		return NK_ENOMEM;
	}
	char *item = buf;
	for (size_t i = 0; i < count; i++) {
		char *comma = strchr(item, ',');
		if (comma)
			*comma = 0;
		int bad = is_float ? parse_float(item, (float *)a + i)
				   : parse_int(item, (int *)a + i);
		if (bad) {
			int rc = nk_dncfg_error(c, s, key, NK_EFORMAT, "item %zu "
						"of '%s' is not %s: '%s'",
						i + 1, key, is_float ? "a number"
						: "an integer", item);
			free(buf);
			free(a);
			return rc;
		}
		item = comma + 1;
	}
	free(buf);
	*out = a;
	*n = (int)count;
	return NK_OK;
}

int nk_dncfg_ints(nk_dncfg *c, int s, const char *key, int **out, int *n)
{
	return parse_list(c, s, key, (void **)out, n, sizeof **out, 0);
}

int nk_dncfg_floats(nk_dncfg *c, int s, const char *key, float **out, int *n)
{
	return parse_list(c, s, key, (void **)out, n, sizeof **out, 1);
}

void nk_dncfg_lines_free(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

int nk_dncfg_unused(const nk_dncfg *c, char ***lines, size_t *n)
{
	size_t cap = 0, k = 0;
	char **a = NULL, wh[128];
	for (int s = 0; s < c->nsec; s++)
		for (int i = 0; i < c->sec[s].nkv; i++) {
			const nk_dncfg_kv *kv = &c->sec[s].kv[i];
			if (kv->used)
				continue;
			/* A repeated key is unused because the first wins. */
			const nk_dncfg_kv *first = find_quiet(c, s, kv->key);
			char buf[512];
			where(wh, sizeof wh, c, s);
			snprintf(buf, sizeof buf, "%s:%d: %s: %s key '%s'",
				 c->name, kv->line, wh, first != kv ?
				 "repeated (ignored)" : "unused", kv->key);
			char *dup = nk_strdup(buf);
			if (!dup || nk_grow((void **)&a, &cap, k + 1, sizeof *a)) {
				free(dup);
				nk_dncfg_lines_free(a, k);
				return NK_ENOMEM;
			}
			a[k++] = dup;
		}
	*lines = a;
	*n = k;
	return NK_OK;
}
