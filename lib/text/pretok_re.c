/* pretok_re.c - split patterns other than the three built in, by PCRE2.
 *
 * tiktoken's patterns are Rust regexes (fancy-regex): Unicode classes by
 * default, \s as Unicode white space, look-around.  PCRE2 with UTF and UCP
 * reads the same syntax for everything those patterns use, and its JIT
 * makes matching fast; a hand-written matcher stays the path for the
 * known patterns (pretok.c), and tests check that both split alike.
 *
 * Pieces are what tiktoken's find_iter yields, with one difference: text
 * the pattern does not match (tiktoken skips it, and so loses it) becomes
 * a piece of its own, so no byte is ever dropped.  Invalid UTF-8 is
 * never matched (PCRE2_MATCH_INVALID_UTF) and so ends up in such pieces.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/pretok.h"

#include "core/base.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* Backtracking work allowed per match: a pathological pattern fails with
 * a message instead of running for hours. */
#define MATCH_LIMIT 10000000u

struct nk_pretok_re {
	pcre2_code *code;
	char *pat;
};

struct nk_pretok_matcher {
	const nk_pretok_re *re;
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

nk_pretok_re *nk_pretok_re_new(const char *pat)
{
	int err;
	PCRE2_SIZE at;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
					 PCRE2_UTF | PCRE2_UCP |
					 PCRE2_MATCH_INVALID_UTF,
					 &err, &at, NULL);
	if (!code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof msg);
		nk_error(NK_EFORMAT, "pattern does not compile: %s at offset %zu",
			 (const char *)msg, (size_t)at);
		return NULL;
	}
	/* JIT where the platform has it; the interpreter otherwise. */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	nk_pretok_re *re = nk_calloc(1, sizeof *re);
	if (!re || !(re->pat = nk_strdup(pat))) {
		free(re);
		pcre2_code_free(code);
		return NULL;
	}
	re->code = code;
	return re;
}

void nk_pretok_re_free(nk_pretok_re *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	free(re->pat);
	free(re);
}

const char *nk_pretok_re_pattern(const nk_pretok_re *re)
{
	return re->pat;
}

nk_pretok_matcher *nk_pretok_matcher_new(const nk_pretok_re *re)
{
	nk_pretok_matcher *m = nk_calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->re = re;
	m->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	m->mc = pcre2_match_context_create(NULL);
	if (!m->md || !m->mc) {
		nk_pretok_matcher_free(m);
		nk_error(NK_ENOMEM, "out of memory");
		return NULL;
	}
	pcre2_set_match_limit(m->mc, MATCH_LIMIT);
	return m;
}

void nk_pretok_matcher_free(nk_pretok_matcher *m)
{
	if (!m)
		return;
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mc);
	free(m);
}

/* Bytes in the character at s[0]: a well-formed UTF-8 sequence, else 1. */
static size_t char_len(const unsigned char *s, size_t n)
{
	size_t k = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 :
		   s[0] >= 0xC2 ? 2 : 1;
	if (k > n)
		return 1;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return k;
}

long nk_pretok_re_next(nk_pretok_matcher *m, const unsigned char *text,
		       size_t n, size_t pos)
{
	size_t from = pos;
	for (;;) {
		int rc = pcre2_match(m->re->code, (PCRE2_SPTR)text, n, from, 0,
				     m->md, m->mc);
		if (rc == PCRE2_ERROR_NOMATCH)
			return (long)(n - pos);         /* the rest is a gap */
		if (rc < 0) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(rc, msg, sizeof msg);
			return -nk_error(NK_ERANGE,
					 "pattern: %s at byte %zu of the text",
					 (const char *)msg, from);
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
		size_t ms = ov[0], me = ov[1];
		if (me == ms) {
			/* Empty: find_iter moves on one character, which stays
			 * in the gap; an empty match never ends one. */
			if (ms >= n)
				return (long)(n - pos);
			from = ms + char_len(text + ms, n - ms);
			if (from >= n)
				return (long)(n - pos);
			continue;
		}
		if (ms > pos)
			return (long)(ms - pos);        /* a gap before the match */
		return (long)(me - ms);                 /* the match */
	}
}
