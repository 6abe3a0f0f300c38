/* pretok.h - pre-tokenization: splitting text into the pieces that BPE
 * encodes, exactly as tiktoken's split patterns do.
 *
 * The three known patterns (r50k/gpt2, cl100k, o200k) are matched by hand
 * written code that follows the regex's backtracking order branch by
 * branch, with an ASCII fast path and Unicode categories from utf8proc.
 * \s is Unicode White_Space, as in Rust's regex crate.
 *
 * Invalid UTF-8: each byte that does not start a well-formed UTF-8
 * sequence (overlong, surrogate, beyond U+10FFFF, truncated) is one
 * "character" of its own that is neither letter, number, mark nor space,
 * so it groups with punctuation.  No byte is ever dropped or replaced.
 */
#ifndef NK_PRETOK_H
#define NK_PRETOK_H

#include <stddef.h>

enum nk_pretok {
	NK_PRETOK_NONE,   /* no split: the whole text is one piece */
	NK_PRETOK_R50K,   /* GPT-2 / r50k_base / p50k_base */
	NK_PRETOK_CL100K, /* cl100k_base */
	NK_PRETOK_O200K,  /* o200k_base */
	NK_PRETOK_COUNT,  /* (the built-in ones) */
	NK_PRETOK_REGEX = NK_PRETOK_COUNT, /* any other: PCRE2 (pretok_re.c) */
};

/* Length in bytes of the piece that starts text[0] (text has n > 0
 * bytes; the rest of the text is looked at for look-ahead only).  Always
 * returns a value in [1, n]. */
size_t nk_pretok_next(int kind, const unsigned char *text, size_t n);
/* The same for up to `max` pieces in a row: end[i] is the offset in text
 * just past piece i; returns how many were cut (fewer than max only when
 * the text ends, 0 only when n or max is 0).  Each piece is exactly what
 * nk_pretok_next gives at its start. */
size_t nk_pretok_split(int kind, const unsigned char *text, size_t n,
		       size_t *end, size_t max);

/* "none", "r50k" (also "gpt2", "r50k_base", "p50k_base"), "cl100k"
 * ("cl100k_base"), "o200k" ("o200k_base"); -1 when unknown. */
int nk_pretok_from_name(const char *name);
/* The kind whose tiktoken pat_str is exactly `pat` (the JSON-decoded
 * string; "" is none); -1 when it is none of the known ones. */
int nk_pretok_from_pattern(const char *pat);
const char *nk_pretok_name(int kind);
/* tiktoken's pat_str for the kind ("" for none). */
const char *nk_pretok_pattern(int kind);

/* Any other split pattern, compiled by PCRE2 (pretok_re.c): UTF-8, Unicode
 * properties, JIT.  Text the pattern does not match becomes a piece of
 * its own (tiktoken would drop it), so no byte is ever lost; invalid
 * UTF-8 is never matched, so it lands in such pieces. */
typedef struct nk_pretok_re nk_pretok_re;
typedef struct nk_pretok_matcher nk_pretok_matcher;
/* NULL with the message recorded ("pattern does not compile: ... at
 * offset K"). */
nk_pretok_re *nk_pretok_re_new(const char *pat);
void nk_pretok_re_free(nk_pretok_re *re);
const char *nk_pretok_re_pattern(const nk_pretok_re *re);
/* Matching state: one per thread. */
nk_pretok_matcher *nk_pretok_matcher_new(const nk_pretok_re *re);
void nk_pretok_matcher_free(nk_pretok_matcher *m);
/* Length of the piece that starts at text[pos] (pos < n; the whole text
 * is the subject, for look-behind and look-ahead), or a negative NK_E*
 * code when matching failed (the match limit: a pathological pattern). */
long nk_pretok_re_next(nk_pretok_matcher *m, const unsigned char *text,
		       size_t n, size_t pos);

#endif
