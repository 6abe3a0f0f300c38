/* wordpiece_basic.c - BERT's basic tokenization: clean the text, space
 * out CJK ideographs, lower-case and strip accents, split on whitespace
 * and punctuation (tokenizers' BertNormalizer + BertPreTokenizer).
 *
 * One pass over the bytes: each character is classified once, turned
 * into the characters it becomes (lower-casing can give two, NFD up to
 * four) and each of those is appended to the current word, or closes it.
 * ASCII takes a table-free fast path; the rest asks utf8proc.
 */
#include "text/wordpiece_impl.h"

#include "core/base.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

size_t nk_wp_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned b0 = s[0];
	if (b0 < 0x80) {
		*cp = b0;
		return 1;
	}
	if (b0 < 0xC2 || b0 > 0xF4)
		return 0;
	if (b0 < 0xE0) {
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = (b0 & 0x1Fu) << 6 | (s[1] & 0x3Fu);
		return 2;
	}
	if (b0 < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		uint32_t c = (b0 & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 |
			     (s[2] & 0x3Fu);
		if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))
			return 0;
		*cp = c;
		return 3;
	}
	if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
	    (s[3] & 0xC0) != 0x80)
		return 0;
	uint32_t c = (b0 & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 |
		     (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
	if (c < 0x10000 || c > 0x10FFFF)
		return 0;
	*cp = c;
	return 4;
}

/* transformers' _is_chinese_char: the CJK Unified Ideographs blocks and
 * extensions A-E, and the compatibility ideographs.  Hangul, kana and
 * CJK punctuation are not in it. */
static int is_cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x20000 && c <= 0x2A6DF) ||
	       (c >= 0x2A700 && c <= 0x2B73F) ||
	       (c >= 0x2B740 && c <= 0x2B81F) ||
	       (c >= 0x2B820 && c <= 0x2CEAF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* _is_punctuation: all non-alphanumeric printable ASCII (so $ + < = > ^
 * ` | ~, which Unicode calls symbols, count too), and category P*. */
static int is_punct(uint32_t c)
{
	if (c < 0x80)
		return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
		       (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
	switch (utf8proc_category((utf8proc_int32_t)c)) {
	case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD:
	case UTF8PROC_CATEGORY_PS: case UTF8PROC_CATEGORY_PE:
	case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
	case UTF8PROC_CATEGORY_PO:
		return 1;
	default:
		return 0;
	}
}

struct basic {
	struct nk_wp_words *w;
	size_t start; /* where the open word starts in buf; SIZE_MAX: none */
};

static int put(struct basic *b, uint32_t c)
{
	struct nk_wp_words *w = b->w;
	if (w->n_buf + 4 > w->cap_buf &&
	    nk_grow((void **)&w->buf, &w->cap_buf, w->n_buf + 4, 1))
		return NK_ENOMEM;
	if (b->start == SIZE_MAX)
		b->start = w->n_buf;
	w->n_buf += (size_t)utf8proc_encode_char((utf8proc_int32_t)c,
						 w->buf + w->n_buf);
	return 0;
}

static int close_word(struct basic *b)
{
	struct nk_wp_words *w = b->w;
	if (b->start == SIZE_MAX)
		return 0;
	size_t s = b->start;
	b->start = SIZE_MAX;
	if (w->n_buf > UINT32_MAX)
		return nk_error(NK_ERANGE, "text too large (over 4 GB of words)");
	if (nk_grow((void **)&w->off, &w->cap, w->n + 1, sizeof *w->off) ||
	    nk_grow((void **)&w->len, &w->cap_len, w->n + 1, sizeof *w->len))
		return NK_ENOMEM;
	w->off[w->n] = (uint32_t)s;
	w->len[w->n++] = (uint32_t)(w->n_buf - s);
	return 0;
}

/* A character the normalizer produced: punctuation stands alone. */
static int emit(struct basic *b, uint32_t c)
{
	if (!is_punct(c))
		return put(b, c);
	int rc = close_word(b);
	if (!rc)
		rc = put(b, c);
	if (!rc)
		rc = close_word(b);
	return rc;
}

/* Lower-casing and accent stripping of one non-ASCII character. */
static int transform(struct basic *b, uint32_t c, int lower, int strip)
{
	uint32_t low[2] = {c, 0};
	int nlow = 1, rc = 0;
	if (lower) {
		if (c == 0x130) { /* SpecialCasing: the one unconditional
				   * many-character lower-case mapping */
			low[0] = 'i';
			low[1] = 0x307;
			nlow = 2;
		} else {
			low[0] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
		}
	}
	for (int i = 0; i < nlow && !rc; i++) {
		if (!strip) {
			rc = emit(b, low[i]);
			continue;
		}
		utf8proc_int32_t d[16];
		utf8proc_ssize_t nd = utf8proc_decompose_char(
			(utf8proc_int32_t)low[i], d, 16, UTF8PROC_DECOMPOSE, NULL);
		if (nd < 0 || nd > 16) { /* cannot happen: NFD gives <= 4 */
			d[0] = (utf8proc_int32_t)low[i];
			nd = 1;
		}
		for (utf8proc_ssize_t k = 0; k < nd && !rc; k++)
			if (utf8proc_category(d[k]) != UTF8PROC_CATEGORY_MN)
				rc = emit(b, (uint32_t)d[k]);
	}
	return rc;
}

int nk_wp_basic(struct nk_wp_words *w, const unsigned char *s, size_t n,
		int lower, int strip)
{
	struct basic b = {w, SIZE_MAX};
	int rc = 0;
	for (size_t i = 0; i < n && !rc;) {
		uint32_t c = s[i];
		if (c < 0x80) {
			i++;
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
				rc = close_word(&b);
			else if (c < 32 || c == 127)
				; /* NUL and the other controls: dropped */
			else if (lower && c >= 'A' && c <= 'Z')
				rc = put(&b, c + 32);
			else
				rc = emit(&b, c);
			continue;
		}
		size_t k = nk_wp_utf8(s + i, n - i, &c);
		if (!k) { /* ill-formed: U+FFFD, which cleaning drops */
			i++;
			continue;
		}
		i += k;
		if (c == 0xFFFD)
			continue;
		/* Controls: Cc, Cf, Co (Cs cannot be well-formed).  Unassigned
		 * code points (Cn) stay, as in tokenizers' is_control (Rust's
		 * is_other() has no Cn); only the slow Python tokenizer drops
		 * them. */
		switch (utf8proc_category((utf8proc_int32_t)c)) {
		case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
		case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CS:
			continue;
		case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL:
		case UTF8PROC_CATEGORY_ZP:
			rc = close_word(&b);
			continue;
		default:
			break;
		}
		if (is_cjk(c)) {
			rc = close_word(&b);
			if (!rc)
				rc = transform(&b, c, lower, strip);
			if (!rc)
				rc = close_word(&b);
		} else {
			rc = transform(&b, c, lower, strip);
		}
	}
	if (!rc)
		rc = close_word(&b);
	return rc;
}

void nk_wp_words_free(struct nk_wp_words *w)
{
	free(w->buf);
	free(w->off);
	free(w->len);
	memset(w, 0, sizeof *w);
}
