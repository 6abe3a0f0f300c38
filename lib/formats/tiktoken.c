/* tiktoken.c - base64 and the .tiktoken rank file; see tiktoken.h. */
#include "formats/tiktoken.h"
#include "core/base.h"

#include <stdlib.h>
#include <string.h>

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const unsigned char nk_b64_digit1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,
	['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27,
	['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47,
	['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52,
	['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
	['+'] = 63, ['/'] = 64, ['='] = NK_B64_PAD + 1,
};

long nk_b64_decode(unsigned char *dst, const char *src, size_t n)
{
	if (n % 4)
		return -1;
	const unsigned char *s = (const unsigned char *)src;
	long out = 0;
	size_t i = 0;
	/* Whole quads without padding: a table lookup per character. */
	for (; i + 4 < n; i += 4) {
		unsigned a = nk_b64_digit1[s[i]] - 1u, b = nk_b64_digit1[s[i + 1]] - 1u,
			 c = nk_b64_digit1[s[i + 2]] - 1u, d = nk_b64_digit1[s[i + 3]] - 1u;
		if ((a | b | c | d) >= 64)      /* not a digit, or '=' */
			return -1;
		uint32_t w = a << 18 | b << 12 | c << 6 | d;
		dst[out++] = (unsigned char)(w >> 16);
		dst[out++] = (unsigned char)(w >> 8);
		dst[out++] = (unsigned char)w;
	}
	/* The last quad, which may end in '=' or '=='. */
	for (; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = s[i + k];
			if (c == '=' && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			v[k] = nk_b64_digit1[c] - 1;
			if (pad || v[k] < 0 || v[k] >= 64)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Canonical: the bits under the padding are zero. */
		if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF)))
			return -1;
		dst[out++] = (unsigned char)(w >> 16);
		if (pad < 2)
			dst[out++] = (unsigned char)(w >> 8);
		if (pad < 1)
			dst[out++] = (unsigned char)w;
	}
	return out;
}

size_t nk_b64_encode(char *dst, const unsigned char *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)src[i] << 16;
		if (i + 1 < n) w |= (uint32_t)src[i + 1] << 8;
		if (i + 2 < n) w |= src[i + 2];
		dst[o++] = b64_alpha[w >> 18 & 63];
		dst[o++] = b64_alpha[w >> 12 & 63];
		dst[o++] = i + 1 < n ? b64_alpha[w >> 6 & 63] : '=';
		dst[o++] = i + 2 < n ? b64_alpha[w & 63] : '=';
	}
	return o;
}

/* ---- rank files ---- */

/* What parsing one line of a rank file found. */
enum line_status { LINE_OK, LINE_EMPTY, LINE_NO_SPACE, LINE_BAD_B64,
		   LINE_TOO_LONG, LINE_BAD_RANK };

struct line_parse {
	uint64_t rank;
	uint32_t len;    /* decoded token bytes */
	uint32_t col;    /* LINE_BAD_RANK: 1-based column */
	uint8_t status;
};

/* Parses the line [p, eol): base64 token into dst, space, decimal rank. */
static void parse_rank_line(const unsigned char *p, const unsigned char *eol,
			    unsigned char *dst, struct line_parse *lp)
{
	lp->status = LINE_OK;
	if (eol == p) {
		lp->status = LINE_EMPTY;
		return;
	}
	const unsigned char *sp = memchr(p, ' ', (size_t)(eol - p));
	if (!sp) {
		lp->status = LINE_NO_SPACE;
		return;
	}
	long k = nk_b64_decode(dst, (const char *)p, (size_t)(sp - p));
	if (k <= 0) {
		lp->status = LINE_BAD_B64;
		return;
	}
	if ((unsigned long)k > NK_TIKTOKEN_TOKEN_MAX) {
		lp->status = LINE_TOO_LONG;
		return;
	}
	lp->len = (uint32_t)k;
	uint64_t r = 0;
	const unsigned char *q = sp + 1;
	if (q == eol || (*q == '0' && q + 1 != eol)) {
		lp->status = LINE_BAD_RANK;
		lp->col = (uint32_t)(q - p) + 1;
		return;
	}
	for (; q < eol; q++) {
		if (*q < '0' || *q > '9' || r > UINT32_MAX) {
			lp->status = LINE_BAD_RANK;
			lp->col = (uint32_t)(q - p) + 1;
			return;
		}
		r = r * 10 + (uint64_t)(*q - '0');
	}
	lp->rank = r;
}

int nk_tiktoken_parse(nk_tiktoken *t, const unsigned char *data, size_t n,
		      const char *name)
{
	memset(t, 0, sizeof *t);
	/* First pass: count lines, so ranks can be checked against it. */
	size_t lines = 0;
	for (const unsigned char *p = data, *e = data + n;
	     p < e && (p = memchr(p, '\n', (size_t)(e - p))); p++)
		lines++;
	if (n && data[n - 1] != '\n')
		lines++;
	if (lines >= UINT32_MAX / 2)
		return nk_error(NK_ERANGE, "%s: too many lines", name);
	const unsigned char **tok = nk_calloc(lines + 1, sizeof *tok);
	uint32_t *len = nk_calloc(lines + 1, sizeof *len);
	uint32_t *line_of = nk_calloc(lines + 1, sizeof *line_of);
	unsigned char *bytes = nk_malloc(n / 4 * 3 + 1);
	int rc = 0;
	if (!tok || !len || !line_of || !bytes) {
		rc = NK_ENOMEM;
		goto out;
	}
	uint32_t count = 0;
	size_t bo = 0;
	const unsigned char *p = data, *end = data + n;
	for (uint32_t l = 1; p < end; l++) {
		const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		struct line_parse lp;
		parse_rank_line(p, eol, bytes + bo, &lp);
		uint64_t r = lp.rank;
		switch (lp.status) {
		case LINE_EMPTY:
			rc = nk_error(NK_EFORMAT, "%s:%u: empty line", name, l);
			goto out;
		case LINE_NO_SPACE:
			rc = nk_error(NK_EFORMAT, "%s:%u: expected 'BASE64 RANK'",
				      name, l);
			goto out;
		case LINE_BAD_B64:
			rc = nk_error(NK_EFORMAT, "%s:%u:1: bad base64 token",
				      name, l);
			goto out;
		case LINE_TOO_LONG:
			rc = nk_error(NK_EFORMAT, "%s:%u: token longer than %u bytes",
				      name, l, NK_TIKTOKEN_TOKEN_MAX);
			goto out;
		case LINE_BAD_RANK:
			rc = nk_error(NK_EFORMAT, "%s:%u:%u: bad rank", name, l,
				      lp.col);
			goto out;
		}
		if (r >= lines) {
			rc = nk_error(NK_EFORMAT,
				      "%s:%u: rank %llu out of range (%zu tokens "
				      "need ranks 0..%zu without gaps)", name, l,
				      (unsigned long long)r, lines, lines - 1);
			goto out;
		}
		if (line_of[r]) {
			rc = nk_error(NK_EFORMAT,
				      "%s:%u: duplicate rank %llu (first on line %u)",
				      name, l, (unsigned long long)r, line_of[r]);
			goto out;
		}
		tok[r] = bytes + bo;
		len[r] = lp.len;
		line_of[r] = l;
		bo += lp.len;
		count++;
		p = eol < end ? eol + 1 : end;
	}
	/* count distinct ranks all < lines, and count == lines: no gaps. */
	if (count == 0) {
		rc = nk_error(NK_EFORMAT, "%s: no tokens", name);
		goto out;
	}
	t->tok = tok;
	t->len = len;
	t->line = line_of;
	t->bytes = bytes;
	t->n = count;
	return 0;
out:
	free(tok);
	free(len);
	free(line_of);
	free(bytes);
	return rc;
}

void nk_tiktoken_free(nk_tiktoken *t)
{
	free(t->tok);
	free(t->len);
	free(t->line);
	free(t->bytes);
	memset(t, 0, sizeof *t);
}
