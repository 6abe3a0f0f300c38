/* textdata.c - symbols from text or token streams, vocabularies, streams. */
#include "text/textdata.h"
#include "core/base.h"
#include "core/hash.h"
#include "core/io.h"
#include "formats/tokstream.h"

#include <stdlib.h>
#include <string.h>

#define MAX_INPUT ((size_t)1 << 34) /* 16 GiB after decompression */

static const char *level_names[] = {"byte", "char", "tokens"};
_Static_assert(sizeof level_names / sizeof *level_names == NK_LEVEL_COUNT,
	       "a name for every level");

const char *nk_text_level_name(int level)
{
	return level >= 0 && level < NK_LEVEL_COUNT ? level_names[level] : NULL;
}

int nk_text_level_from_name(const char *name)
{
	for (int i = 0; i < NK_LEVEL_COUNT; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

/* One UTF-8 character at p (n bytes left): its code point and length, or
 * length 0 when the bytes there are not valid UTF-8. */
static int utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0];
	int len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

int nk_text_decode(uint32_t **syms, size_t *n, const unsigned char *data,
		   size_t size, int level)
{
	*syms = NULL;
	*n = 0;
	if (level != NK_LEVEL_BYTE && level != NK_LEVEL_CHAR)
		return nk_error(NK_EINVAL, "nk_text_decode: level %d", level);
	uint32_t *s = nk_reallocarray(NULL, size ? size : 1, sizeof *s);
	if (!s)
		return NK_ENOMEM;
	size_t k = 0;
	if (level == NK_LEVEL_BYTE) {
		for (size_t i = 0; i < size; i++)
			s[k++] = data[i];
	} else {
		for (size_t i = 0; i < size;) {
			uint32_t cp;
			int len = utf8_next(data + i, size - i, &cp);
			if (len == 0) {
				cp = 0xDC00u + data[i];
				len = 1;
			}
			s[k++] = cp;
			i += (size_t)len;
		}
	}
	*syms = s;
	*n = k;
	return NK_OK;
}

int nk_text_encode_sym(unsigned char out[4], uint32_t sym, int level)
{
	if (level == NK_LEVEL_BYTE || sym < 0x80) {
		out[0] = (unsigned char)sym;
		return 1;
	}
	if (sym >= 0xDC80 && sym <= 0xDCFF) { /* an escaped invalid byte */
		out[0] = (unsigned char)(sym - 0xDC00);
		return 1;
	}
	if (sym < 0x800) {
		out[0] = (unsigned char)(0xC0 | sym >> 6);
		out[1] = (unsigned char)(0x80 | (sym & 0x3F));
		return 2;
	}
	if (sym < 0x10000) {
		out[0] = (unsigned char)(0xE0 | sym >> 12);
		out[1] = (unsigned char)(0x80 | (sym >> 6 & 0x3F));
		out[2] = (unsigned char)(0x80 | (sym & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | sym >> 18);
	out[1] = (unsigned char)(0x80 | (sym >> 12 & 0x3F));
	out[2] = (unsigned char)(0x80 | (sym >> 6 & 0x3F));
	out[3] = (unsigned char)(0x80 | (sym & 0x3F));
	return 4;
}

int nk_text_read(uint32_t **syms, size_t *n, const char *path, int level,
		 uint32_t max_id)
{
	*syms = NULL;
	*n = 0;
	if (level == NK_LEVEL_TOKENS) {
		int rc = nk_tok_read_all(path, max_id, 0, syms, n);
		if (rc) {
			free(*syms);
			*syms = NULL;
			*n = 0;
		}
		return rc;
	}
	nk_input in;
	int rc = nk_input_load(&in, path, MAX_INPUT);
	if (rc)
		return rc;
	rc = nk_text_decode(syms, n, in.data, in.size, level);
	nk_input_free(&in);
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int nk_textvocab_build(nk_textvocab *v, int level, const uint32_t *syms,
		       size_t n)
{
	memset(v, 0, sizeof *v);
	v->level = level;
	if (level == NK_LEVEL_TOKENS) {
		uint32_t mx = 0;
		for (size_t i = 0; i < n; i++)
			if (syms[i] > mx)
				mx = syms[i];
		if (mx >= (1u << 24))
			return nk_error(NK_ERANGE, "token id %u: vocabularies "
					"are limited to 2^24 ids", mx);
		v->V = (int)mx + 1;
		return NK_OK;
	}
	if (level == NK_LEVEL_BYTE) {
		char seen[256] = {0};
		int V = 0;
		for (size_t i = 0; i < n; i++)
			seen[syms[i] & 0xFF] = 1;
		for (int c = 0; c < 256; c++)
			V += seen[c];
		if (!(v->sym = nk_calloc((size_t)V + 1, sizeof *v->sym)))
			return NK_ENOMEM;
		for (int c = 0, k = 0; c < 256; c++)
			if (seen[c])
				v->sym[k++] = (uint32_t)c;
		v->V = V;
		return NK_OK;
	}
	/* Characters: sort a copy and keep the distinct ones. */
	uint32_t *s = nk_reallocarray(NULL, n ? n : 1, sizeof *s);
	if (!s)
		return NK_ENOMEM;
	if (n)
		memcpy(s, syms, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_u32);
	size_t V = 0;
	for (size_t i = 0; i < n; i++)
		if (V == 0 || s[V - 1] != s[i])
			s[V++] = s[i];
	if (V > (1u << 24)) {
		free(s);
		return nk_error(NK_ERANGE, "%zu distinct characters", V);
	}
	uint32_t *t = nk_reallocarray(s, V ? V : 1, sizeof *s);
	v->sym = t ? t : s;
	v->V = (int)V;
	return NK_OK;
}

int nk_textvocab_from_syms(nk_textvocab *v, int level, const int64_t *syms,
			   size_t V)
{
	memset(v, 0, sizeof *v);
	v->level = level;
	if (V == 0 || V > (1u << 24))
		return nk_error(NK_EFORMAT, "vocabulary of %zu symbols", V);
	if (!(v->sym = nk_calloc(V, sizeof *v->sym)))
		return NK_ENOMEM;
	uint32_t limit = level == NK_LEVEL_BYTE ? 0xFF : 0x10FFFF;
	for (size_t i = 0; i < V; i++) {
		if (syms[i] < 0 || syms[i] > limit ||
		    (i && syms[i] <= syms[i - 1])) {
			nk_textvocab_free(v);
			return nk_error(NK_EFORMAT, "vocabulary symbol %zu (%lld) "
					"is out of order or range", i,
					(long long)syms[i]);
		}
		v->sym[i] = (uint32_t)syms[i];
	}
	v->V = (int)V;
	return NK_OK;
}

void nk_textvocab_free(nk_textvocab *v)
{
	free(v->sym);
	memset(v, 0, sizeof *v);
}

int64_t nk_textvocab_id(const nk_textvocab *v, uint32_t sym)
{
	if (!v->sym)
		return sym < (uint32_t)v->V ? (int64_t)sym : -1;
	size_t lo = 0, hi = (size_t)v->V;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->sym[mid] < sym)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < (size_t)v->V && v->sym[lo] == sym ? (int64_t)lo : -1;
}

int nk_textvocab_encode(const nk_textvocab *v, uint32_t *syms, size_t n,
			const char *name)
{
	/* Bytes and ASCII characters go through a table. */
	int32_t table[128];
	for (uint32_t c = 0; c < 128; c++)
		table[c] = (int32_t)nk_textvocab_id(v, c);
	for (size_t i = 0; i < n; i++) {
		uint32_t s = syms[i];
		int64_t id = s < 128 ? table[s] : nk_textvocab_id(v, s);
		if (id >= 0) {
			syms[i] = (uint32_t)id;
			continue;
		}
		if (v->level == NK_LEVEL_TOKENS)
			return nk_error(NK_ERANGE, "%s: token %zu: id %u is "
					"beyond the model's vocabulary (%d ids)",
					name, i + 1, s, v->V);
		/* Where: count lines among the symbols before it (those
		 * already mapped are ids now, so map '\n' the same way). */
		int64_t nl = nk_textvocab_id(v, '\n');
		size_t line = 1, col = 1;
		for (size_t j = 0; j < i; j++) {
			if (syms[j] == (uint32_t)nl && nl >= 0)
				line++, col = 1;
			else
				col++;
		}
		if (s >= 0x20 && s < 0x7F)
			return nk_error(NK_ERANGE, "%s:%zu:%zu: character '%c' "
					"is not in the model's vocabulary",
					name, line, col, (char)s);
		return nk_error(NK_ERANGE, "%s:%zu:%zu: %s 0x%X is not in "
				"the model's vocabulary", name, line, col,
				v->level == NK_LEVEL_BYTE ? "byte"
							  : "character U+",
				s);
	}
	return NK_OK;
}

int nk_streams_init(nk_streams *s, const uint32_t *data, size_t n, int B,
		    int T)
{
	memset(s, 0, sizeof *s);
	if (B < 1 || T < 1)
		return nk_error(NK_EINVAL, "batch %d, BPTT %d", B, T);
	s->data = data;
	s->n = n;
	s->B = B;
	s->T = T;
	s->len = n / (size_t)B;
	if (s->len < (size_t)T + 1)
		return nk_error(NK_ERANGE, "%zu symbols of training data are "
				"too few for %d streams of one BPTT window "
				"(%d+1): need at least %zu", n, B, T,
				(size_t)B * ((size_t)T + 1));
	return NK_OK;
}

int nk_streams_next(nk_streams *s, uint32_t *x, uint32_t *y)
{
	int wrapped = 0;
	if (s->pos + (size_t)s->T + 1 > s->len) {
		s->pos = 0;
		s->epoch++;
		wrapped = 1;
	}
	for (int b = 0; b < s->B; b++) {
		const uint32_t *src = s->data + (size_t)b * s->len + s->pos;
		for (int t = 0; t < s->T; t++) {
			x[(size_t)t * s->B + b] = src[t];
			y[(size_t)t * s->B + b] = src[t + 1];
		}
	}
	s->pos += (size_t)s->T;
	return wrapped;
}

uint64_t nk_text_hash(const uint32_t *ids, size_t n)
{
	return nk_fnv1a_u32(ids, n) ^ n;
}
