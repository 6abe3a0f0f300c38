/* json.c - a small JSON reader and string writer; see json.h. */
#include "formats/json.h"
#include "core/base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int nk_json_fail(nk_json *j, const char *what)
{
	size_t line = 1, col = 1;
	for (const unsigned char *q = j->start; q < j->p && q < j->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return nk_error(NK_EFORMAT, "%s:%zu:%zu: %s", j->name, line, col, what);
}

void nk_json_ws(nk_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int json_hex4(nk_json *j, uint32_t *v)
{
	if (j->end - j->p < 4)
		return nk_json_fail(j, "bad \\u escape");
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int c = j->p[i], d;
		if (c >= '0' && c <= '9') d = c - '0';
		else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
		else return nk_json_fail(j, "bad \\u escape");
		*v = *v << 4 | (uint32_t)d;
	}
	j->p += 4;
	return 0;
}

/* Reads a string into a malloc'd buffer (*out, *len; NUL-terminated). */
int nk_json_string(nk_json *j, char **out, size_t *len)
{
	nk_json_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return nk_json_fail(j, "expected a string");
	j->p++;
	size_t cap = 16, n = 0;
	char *s = nk_malloc(cap);
	if (!s)
		return NK_ENOMEM;
	for (;;) {
		if (j->p >= j->end) {
			free(s);
			return nk_json_fail(j, "unterminated string");
		}
		if (nk_grow((void **)&s, &cap, n + 5, 1)) {
			free(s);
			return NK_ENOMEM;
		}
		unsigned char c = *j->p++;
		if (c == '"')
			break;
		if (c < 0x20) {
			free(s);
			j->p--;
			return nk_json_fail(j, "control character in string");
		}
		if (c != '\\') {
			s[n++] = (char)c;
			continue;
		}
		if (j->p >= j->end) {
			free(s);
			return nk_json_fail(j, "unterminated string");
		}
		c = *j->p++;
		uint32_t cp;
		switch (c) {
		case '"': case '\\': case '/': s[n++] = (char)c; continue;
		case 'b': s[n++] = '\b'; continue;
		case 'f': s[n++] = '\f'; continue;
		case 'n': s[n++] = '\n'; continue;
		case 'r': s[n++] = '\r'; continue;
		case 't': s[n++] = '\t'; continue;
		case 'u':
			if (json_hex4(j, &cp)) {
				free(s);
				return NK_EFORMAT;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo;
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u') {
					free(s);
					return nk_json_fail(j, "lone surrogate");
				}
				j->p += 2;
				if (json_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
					free(s);
					return nk_json_fail(j, "lone surrogate");
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				free(s);
				return nk_json_fail(j, "lone surrogate");
			}
			if (cp < 0x80) {
				s[n++] = (char)cp;
			} else if (cp < 0x800) {
				s[n++] = (char)(0xC0 | cp >> 6);
				s[n++] = (char)(0x80 | (cp & 63));
			} else if (cp < 0x10000) {
				s[n++] = (char)(0xE0 | cp >> 12);
				s[n++] = (char)(0x80 | (cp >> 6 & 63));
				s[n++] = (char)(0x80 | (cp & 63));
			} else {
				s[n++] = (char)(0xF0 | cp >> 18);
				s[n++] = (char)(0x80 | (cp >> 12 & 63));
				s[n++] = (char)(0x80 | (cp >> 6 & 63));
				s[n++] = (char)(0x80 | (cp & 63));
			}
			continue;
		default:
			free(s);
			j->p--;
			return nk_json_fail(j, "bad escape in string");
		}
	}
	s[n] = 0;
	*out = s;
	*len = n;
	return 0;
}

int nk_json_uint(nk_json *j, uint32_t *v)
{
	nk_json_ws(j);
	uint64_t x = 0;
	const unsigned char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		x = x * 10 + (uint64_t)(*j->p++ - '0');
		if (x >= UINT32_MAX)
			return nk_json_fail(j, "number too large");
	}
	if (j->p == s || (j->p - s > 1 && *s == '0'))
		return nk_json_fail(j, "expected a non-negative integer");
	*v = (uint32_t)x;
	return 0;
}

int nk_json_number(nk_json *j, double *v)
{
	nk_json_ws(j);
	char buf[64];
	size_t n = 0;
	while (j->p + n < j->end && n < sizeof buf - 1 &&
	       strchr("+-.eE0123456789", j->p[n]) && j->p[n])
		n++;
	memcpy(buf, j->p, n);
	buf[n] = 0;
	char *e;
	errno = 0;
	*v = strtod(buf, &e);
	if (n == 0 || *e || errno)
		return nk_json_fail(j, "expected a number");
	j->p += n;
	return 0;
}

static int json_expect(nk_json *j, char c)
{
	nk_json_ws(j);
	if (j->p >= j->end || *j->p != (unsigned char)c) {
		char what[32];
		snprintf(what, sizeof what, "expected '%c'", c);
		return nk_json_fail(j, what);
	}
	j->p++;
	return 0;
}

int nk_json_object(nk_json *j, nk_json_member_fn fn, void *ctx)
{
	int rc;
	if ((rc = json_expect(j, '{')))
		return rc;
	nk_json_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		char *key;
		size_t klen;
		if ((rc = nk_json_string(j, &key, &klen)))
			return rc;
		rc = json_expect(j, ':');
		if (!rc)
			rc = fn(ctx, j, key, klen);
		free(key);
		if (rc)
			return rc;
		nk_json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return json_expect(j, '}');
	}
}

int nk_json_array(nk_json *j, nk_json_elem_fn fn, void *ctx)
{
	nk_json_ws(j);
	if (j->p >= j->end || *j->p != '[')
		return nk_json_fail(j, "expected an array");
	j->p++;
	nk_json_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		int rc = fn(ctx, j);
		if (rc)
			return rc;
		nk_json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return nk_json_fail(j, "expected ',' or ']'");
	}
}

int nk_json_skip(nk_json *j, int depth)
{
	if (depth > 64)
		return nk_json_fail(j, "nested too deeply");
	nk_json_ws(j);
	if (j->p >= j->end)
		return nk_json_fail(j, "unexpected end");
	unsigned char c = *j->p;
	if (c == '"') {
		char *s;
		size_t n;
		int rc = nk_json_string(j, &s, &n);
		if (!rc)
			free(s);
		return rc;
	}
	if (c == '{' || c == '[') {
		unsigned char close = c == '{' ? '}' : ']';
		j->p++;
		nk_json_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		for (;;) {
			int rc;
			if (c == '{') {
				char *s;
				size_t n;
				if ((rc = nk_json_string(j, &s, &n)))
					return rc;
				free(s);
				if ((rc = json_expect(j, ':')))
					return rc;
			}
			if ((rc = nk_json_skip(j, depth + 1)))
				return rc;
			nk_json_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			return json_expect(j, (char)close);
		}
	}
	const unsigned char *s = j->p;
	while (j->p < j->end && (strchr("+-.eE", *j->p) ||
				 (*j->p >= '0' && *j->p <= '9') ||
				 (*j->p >= 'a' && *j->p <= 'z')))
		j->p++;
	if (j->p == s)
		return nk_json_fail(j, "expected a value");
	return 0;
}

/* ---- writing ---- */

void nk_json_put_string(FILE *fp, const char *s, size_t n)
{
	fputc('"', fp);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\r')
			fputs("\\r", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}
