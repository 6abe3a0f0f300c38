/* pretok.c - hand-written matchers for tiktoken's three split patterns.
 *
 * Each matcher returns the end of the match that the regex engine would
 * find at the start of the text, trying the alternatives in the pattern's
 * order and, inside one alternative, backtracking the way a greedy regex
 * does.  The comments quote the alternative being matched.  Every loop
 * moves forward one character at a time, and the only backtracking (the
 * `[U]*[LW]+` of o200k) is resolved by remembering the last position it
 * could fall back to, so each piece costs time linear in its length plus
 * one character of look-ahead.
 */
#include "text/pretok.h"

#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

/* Character classes as bits. */
enum {
	C_L = 1,   /* \p{L} */
	C_N = 2,   /* \p{N} */
	C_WS = 4,  /* \s: Unicode White_Space */
	C_NL = 8,  /* [\r\n] */
	C_UP = 16, /* o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] */
	C_LW = 32, /* o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}] */
};

static const unsigned char ascii_cls[128] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  4, 12,  4,  4, 12,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 4,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  0,  0,  0,  0,  0,  0,
	 0, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17,
	17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17,  0,  0,  0,  0,  0,
	 0, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
	33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,  0,  0,  0,  0,  0,
};

static unsigned cat_cls(utf8proc_category_t cat)
{
	switch (cat) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LT: return C_L | C_UP;
	case UTF8PROC_CATEGORY_LL: return C_L | C_LW;
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: return C_L | C_UP | C_LW;
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME: return C_UP | C_LW;
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO: return C_N;
	default: return 0;
	}
}

/* Unicode White_Space beyond ASCII (PropList.txt; stable since 6.3). */
static int is_white_space(uint32_t cp)
{
	return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Class of the character at s[i] (s[i] >= 0x80), its length in *len.
 * An ill-formed sequence is one byte of class 0. */
static unsigned cls_nonascii(const unsigned char *s, size_t n, size_t i,
			     size_t *len)
{
	unsigned b0 = s[i];
	uint32_t cp;
	*len = 1;
	if (b0 < 0xC2 || b0 > 0xF4)
		return 0;
	if (b0 < 0xE0) {
		if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
			return 0;
		cp = (b0 & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu);
		*len = 2;
	} else if (b0 < 0xF0) {
		if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 ||
		    (s[i + 2] & 0xC0) != 0x80)
			return 0;
		cp = (b0 & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 |
		     (s[i + 2] & 0x3Fu);
		if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		*len = 3;
	} else {
		if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 ||
		    (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
			return 0;
		cp = (b0 & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 |
		     (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3Fu);
		if (cp < 0x10000 || cp > 0x10FFFF)
			return 0;
		*len = 4;
	}
	if (is_white_space(cp))
		return C_WS;
	return cat_cls(utf8proc_category((utf8proc_int32_t)cp));
}

static inline unsigned cls_at(const unsigned char *s, size_t n, size_t i,
			      size_t *len)
{
	if (s[i] < 0x80) {
		*len = 1;
		return ascii_cls[s[i]];
	}
	return cls_nonascii(s, n, i, len);
}

/* End of the run of characters from q whose class c has (c & mask) == want. */
static inline size_t run(const unsigned char *s, size_t n, size_t q,
			 unsigned mask, unsigned want)
{
	while (q < n) {
		if (s[q] < 0x80) {
			if ((ascii_cls[s[q]] & mask) != want)
				break;
			q++;
			continue;
		}
		size_t len;
		if ((cls_nonascii(s, n, q, &len) & mask) != want)
			break;
		q += len;
	}
	return q;
}

/* The same for \p{L}+, eight ASCII bytes at a time while they are all
 * letters (most of a word), then character by character from the first
 * byte that is not (a non-ASCII letter is still taken there). */
static inline size_t run_letters(const unsigned char *s, size_t n, size_t q)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ull, high = 0x80 * ones;
	while (n - q >= 8) {
		uint64_t w;
		memcpy(&w, s + q, 8);
		/* Per byte, with no carry between bytes: x is the byte
		 * lower-cased (for letters), y its low 7 bits; bit 7 of
		 * y + 0x1F is y >= 'a', of y + 0x05 is y > 'z'. */
		uint64_t x = w | 0x20 * ones, y = x & ~high;
		uint64_t letter = (y + 0x1F * ones) & ~(y + 0x05 * ones) & ~x & high;
		uint64_t stop = ~letter & high;
		if (stop)
			return run(s, n, q + (size_t)(__builtin_ctzll(stop) >> 3),
				   C_L, C_L);
		q += 8;
	}
#endif
	return run(s, n, q, C_L, C_L);
}

#define OTHER_MASK (C_L | C_N | C_WS) /* [^\s\p{L}\p{N}]: (c & mask) == 0 */

/* Up to `max` characters of class N from q. */
static size_t run_n(const unsigned char *s, size_t n, size_t q, int max)
{
	for (int k = 0; k < max && q < n; k++) {
		size_t len;
		if (!(cls_at(s, n, q, &len) & C_N))
			break;
		q += len;
	}
	return q;
}

/* The whitespace alternatives at a position holding whitespace:
 * `\s*[\r\n]+` (when nl), then `\s+(?!\S)`, then `\s+`. */
static size_t space_tail(const unsigned char *s, size_t n, int nl)
{
	size_t q = 0, last = 0, nl_end = 0, chars = 0;
	while (q < n) {
		size_t len;
		unsigned c = cls_at(s, n, q, &len);
		if (!(c & C_WS))
			break;
		if (c & C_NL)
			nl_end = q + len;
		last = q;
		chars++;
		q += len;
	}
	if (nl && nl_end)
		return nl_end;      /* \s*[\r\n]+ ends after the last newline */
	if (q == n || chars < 2)
		return q;           /* \s+(?!\S) at the end, or \s+ */
	return last;                /* \s+(?!\S): leave one for the next word */
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at s[q]: its length or 0.  Case folding
 * is Unicode's, under which 's' also matches U+017F (long s). */
static size_t contraction(const unsigned char *s, size_t n, size_t q, int ci)
{
	if (q + 1 >= n || s[q] != '\'')
		return 0;
	unsigned a = s[q + 1];
	if (ci && a >= 'A' && a <= 'Z')
		a += 32;
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if (ci && a == 0xC5 && q + 2 < n && s[q + 2] == 0xBF)
		return 3;
	if (q + 2 >= n)
		return 0;
	unsigned b = s[q + 2];
	if (ci && b >= 'A' && b <= 'Z')
		b += 32;
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
	    (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static inline __attribute__((always_inline)) size_t
r50k_next(const unsigned char *s, size_t n)
{
	size_t k, len;
	if (s[0] == '\'' && (k = contraction(s, n, 0, 0)))
		return k;
	size_t j = s[0] == ' ';
	if (j < n) {
		unsigned c = cls_at(s, n, j, &len);
		if (c & C_L)
			return run_letters(s, n, j + len);
		if (c & C_N)
			return run(s, n, j + len, C_N, C_N);
		if (!(c & OTHER_MASK))
			return run(s, n, j + len, OTHER_MASK, 0);
	}
	return space_tail(s, n, 0);
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static inline __attribute__((always_inline)) size_t
cl100k_next(const unsigned char *s, size_t n)
{
	size_t k, l0, len;
	if (s[0] == '\'' && (k = contraction(s, n, 0, 1)))
		return k;
	unsigned c0 = cls_at(s, n, 0, &l0);
	if (c0 & C_L)
		return run_letters(s, n, l0);
	if (!(c0 & (C_NL | C_L | C_N)) && l0 < n &&
	    (cls_at(s, n, l0, &len) & C_L))
		return run_letters(s, n, l0 + len);
	if (c0 & C_N)
		return run_n(s, n, l0, 2);
	size_t j = s[0] == ' ';
	if (j < n && !(cls_at(s, n, j, &len) & OTHER_MASK)) {
		size_t q = run(s, n, j + len, OTHER_MASK, 0);
		while (q < n && (s[q] == '\r' || s[q] == '\n'))
			q++;
		return q;
	}
	return space_tail(s, n, 1);
}

/* o200k's [U]*[LW]+C? from p (U, LW: the case classes; C: contraction);
 * 0 when it does not match.  The greedy [U]* gives back characters until
 * [LW]+ can start: at the character after the U run when that is LW, else
 * at the last LW-capable character inside the run. */
static size_t o200k_lower(const unsigned char *s, size_t n, size_t p)
{
	size_t q = p, lw_end = 0, len, f;
	while (q < n) {
		unsigned c = cls_at(s, n, q, &len);
		if (!(c & C_UP))
			break;
		if (c & C_LW)
			lw_end = q + len;
		q += len;
	}
	if (q < n && (cls_at(s, n, q, &len) & C_LW))
		f = run(s, n, q + len, C_LW, C_LW);
	else if (lw_end)
		f = lw_end; /* the next character is not LW */
	else
		return 0;
	return f + contraction(s, n, f, 1);
}

/* o200k's [U]+[LW]*C? from p; 0 when it does not match. */
static size_t o200k_upper(const unsigned char *s, size_t n, size_t p)
{
	size_t len;
	if (p >= n || !(cls_at(s, n, p, &len) & C_UP))
		return 0;
	size_t q = run(s, n, p + len, C_UP, C_UP);
	q = run(s, n, q, C_LW, C_LW);
	return q + contraction(s, n, q, 1);
}

/* [^\r\n\p{L}\p{N}]?[U]*[LW]+C?|[^\r\n\p{L}\p{N}]?[U]+[LW]*C?|\p{N}{1,3}|
 *  ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static inline __attribute__((always_inline)) size_t
o200k_next(const unsigned char *s, size_t n)
{
	size_t l0, len, r;
	unsigned c0 = cls_at(s, n, 0, &l0);
	int pre = !(c0 & (C_NL | C_L | C_N)) && l0 < n;
	if (pre && (r = o200k_lower(s, n, l0)))
		return r;
	if ((r = o200k_lower(s, n, 0)))
		return r;
	if (pre && (r = o200k_upper(s, n, l0)))
		return r;
	if ((r = o200k_upper(s, n, 0)))
		return r;
	if (c0 & C_N)
		return run_n(s, n, l0, 2);
	size_t j = s[0] == ' ';
	if (j < n && !(cls_at(s, n, j, &len) & OTHER_MASK)) {
		size_t q = run(s, n, j + len, OTHER_MASK, 0);
		while (q < n && (s[q] == '\r' || s[q] == '\n' || s[q] == '/'))
			q++;
		return q;
	}
	return space_tail(s, n, 1);
}

size_t nk_pretok_next(int kind, const unsigned char *text, size_t n)
{
	switch (kind) {
	case NK_PRETOK_R50K: return r50k_next(text, n);
	case NK_PRETOK_CL100K: return cl100k_next(text, n);
	case NK_PRETOK_O200K: return o200k_next(text, n);
	default: return n;
	}
}

/* One loop per pattern, so that its matcher is inlined into it: a call
 * per piece (its prologue, the switch, the epilogue) cost as much as
 * matching a short piece, and code is mostly short pieces. */
#define SPLIT_LOOP(next)                                        \
	do {                                                    \
		while (k < max && q < n) {                      \
			q += next(text + q, n - q);             \
			end[k++] = q;                           \
		}                                               \
	} while (0)

size_t nk_pretok_split(int kind, const unsigned char *text, size_t n,
		       size_t *end, size_t max)
{
	size_t k = 0, q = 0;
	switch (kind) {
	case NK_PRETOK_R50K: SPLIT_LOOP(r50k_next); break;
	case NK_PRETOK_CL100K: SPLIT_LOOP(cl100k_next); break;
	case NK_PRETOK_O200K: SPLIT_LOOP(o200k_next); break;
	default:
		if (n && max)
			end[k++] = n;
		break;
	}
	return k;
}

static const char *const names[NK_PRETOK_COUNT] = {
	"none", "r50k", "cl100k", "o200k",
};
_Static_assert(sizeof names / sizeof names[0] == NK_PRETOK_COUNT,
	       "a name for every pre-tokenizer");

static const char *const patterns[NK_PRETOK_COUNT] = {
	"",
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+"
	"|\\s+(?!\\S)|\\s+",
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
	"|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
	"|\\s+(?!\\S)|\\s+",
	"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
	"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
	"|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
	"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
	"|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+"
	"|\\s+(?!\\S)|\\s+",
};

/* Spellings of the newer cl100k pattern (possessive quantifiers) that
 * match exactly the same pieces. */
static const char cl100k_possessive[] =
	"'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}"
	"| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

int nk_pretok_from_name(const char *name)
{
	static const struct { const char *name; int kind; } alias[] = {
		{"none", NK_PRETOK_NONE}, {"gpt2", NK_PRETOK_R50K},
		{"r50k", NK_PRETOK_R50K}, {"r50k_base", NK_PRETOK_R50K},
		{"p50k_base", NK_PRETOK_R50K}, {"cl100k", NK_PRETOK_CL100K},
		{"cl100k_base", NK_PRETOK_CL100K}, {"o200k", NK_PRETOK_O200K},
		{"o200k_base", NK_PRETOK_O200K},
	};
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (strcmp(name, alias[i].name) == 0)
			return alias[i].kind;
	return -1;
}

int nk_pretok_from_pattern(const char *pat)
{
	for (int k = 0; k < NK_PRETOK_COUNT; k++)
		if (strcmp(pat, patterns[k]) == 0)
			return k;
	if (strcmp(pat, cl100k_possessive) == 0)
		return NK_PRETOK_CL100K;
	return -1;
}

const char *nk_pretok_name(int kind)
{
	return kind >= 0 && kind < NK_PRETOK_COUNT ? names[kind] :
	       kind == NK_PRETOK_REGEX ? "regex" : "?";
}

const char *nk_pretok_pattern(int kind)
{
	return kind >= 0 && kind < NK_PRETOK_COUNT ? patterns[kind] : "";
}
