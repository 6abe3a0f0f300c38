/* minwindow.c - minimum window substring in one two-pointer scan.
 *
 * need[c] starts as the count of c in T and is decremented as the right
 * end takes c in; `missing` counts characters of T not yet covered.  When
 * it reaches zero, the left end drops characters the window has in
 * surplus (need < 0), the window is recorded, and the left end then drops
 * one needed character so that the scan goes on looking for a shorter one.
 * A strict "shorter than the best" keeps the leftmost of equal windows.
 *
 * Between strings the counters are put back by undoing what is left of
 * the window ([l, end)), which costs at most the string's own length, so
 * that many short lines do not each pay for a reset of the whole table.
 */
#include "algo/minwindow.h"
#include "core/base.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_KEY UINT32_MAX /* never a code point */

struct nk_mw {
	int utf8;
	size_t tlen;          /* characters in T */
	int64_t need[256];    /* byte mode: T's count minus the window's */
	/* UTF-8 mode: each distinct code point of T has an index into cnt;
	 * ASCII through a direct table, the rest through an open-addressed
	 * hash map (linear probing, at most half full). */
	int32_t ascii[128];   /* index, or `sink` when not in T */
	uint32_t *keys;
	int32_t *vals;
	uint32_t mask;        /* hash map slots - 1 */
	int32_t sink;         /* the one slot of every character not in T */
	int64_t *cnt;
};

/* Decodes one code point of s[0..avail), avail >= 1.  Returns its length
 * in bytes, or 0 when the bytes there are not valid UTF-8. */
static inline int utf8_decode(const unsigned char *p, size_t avail,
			      uint32_t *cp)
{
	unsigned c = p[0];
	uint32_t v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2) /* continuation byte, or an overlong 2-byte lead */
		return 0;
	if (c < 0xE0) {
		if (avail < 2 || (p[1] & 0xC0) != 0x80)
			return 0;
		*cp = (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
		return 2;
	}
	if (c < 0xF0) {
		if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		v = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 |
		    (p[2] & 0x3F);
		if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		*cp = v;
		return 3;
	}
	if (c < 0xF5) {
		if (avail < 4 || (p[1] & 0xC0) != 0x80 ||
		    (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		v = (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
		    (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
		if (v < 0x10000 || v > 0x10FFFF)
			return 0;
		*cp = v;
		return 4;
	}
	return 0;
}

int nk_mw_utf8_valid(const void *sv, size_t n, size_t *bad)
{
	const unsigned char *s = sv;
	size_t i = 0;
	while (i < n) {
		/* Eight ASCII bytes at a time: the common case. */
		while (n - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i == n)
			break;
		uint32_t cp = 0;
		int k = utf8_decode(s + i, n - i, &cp);
		if (!k) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += (size_t)k;
	}
	return 1;
}

static inline uint32_t hash_slot(uint32_t cp, uint32_t mask)
{
	return (cp * 0x9E3779B1u >> 7) & mask;
}

/* The index of code point cp in cnt; `sink` when T does not have it.
 *
 * All characters outside T share the sink slot: its count is minus the
 * number of them in the window, so it is below zero whenever the left end
 * stands on one, and the shrinking step drops them like any surplus
 * character, with no branch on "is it in T" in the scan. */
static inline int32_t cp_index(const nk_mw *mw, uint32_t cp)
{
	if (cp < 128)
		return mw->ascii[cp];
	for (uint32_t h = hash_slot(cp, mw->mask);; h = (h + 1) & mw->mask) {
		if (mw->keys[h] == cp)
			return mw->vals[h];
		if (mw->keys[h] == EMPTY_KEY)
			return mw->sink;
	}
}

void nk_mw_free(nk_mw *mw)
{
	if (!mw)
		return;
	free(mw->keys);
	free(mw->vals);
	free(mw->cnt);
	free(mw);
}

size_t nk_mw_len(const nk_mw *mw)
{
	return mw->tlen;
}

static int build_utf8(nk_mw *mw, const unsigned char *t, size_t tn,
		      size_t *bad)
{
	size_t at;
	if (!nk_mw_utf8_valid(t, tn, &at)) {
		if (bad)
			*bad = at;
		return nk_error(NK_EFORMAT, "invalid UTF-8 at byte offset %zu",
				at);
	}
	/* Distinct non-ASCII code points are at most tn / 2. */
	size_t slots = 16;
	while (slots < tn)
		slots *= 2;
	if (slots > UINT32_MAX / 2)
		return nk_error(NK_ERANGE, "pattern of %zu bytes is too long",
				tn);
	mw->mask = (uint32_t)slots - 1;
	mw->keys = nk_malloc(slots * sizeof *mw->keys);
	mw->vals = nk_malloc(slots * sizeof *mw->vals);
	mw->cnt = nk_calloc(tn + 1, sizeof *mw->cnt);
	if (!mw->keys || !mw->vals || !mw->cnt)
		return NK_ENOMEM;
	memset(mw->keys, 0xFF, slots * sizeof *mw->keys);
	int32_t distinct = 0;
	for (size_t i = 0; i < tn;) {
		uint32_t cp = 0;
		i += (size_t)utf8_decode(t + i, tn - i, &cp);
		int32_t idx;
		if (cp < 128) {
			if (mw->ascii[cp] == -1)
				mw->ascii[cp] = distinct++;
			idx = mw->ascii[cp];
		} else {
			uint32_t h = hash_slot(cp, mw->mask);
			while (mw->keys[h] != cp && mw->keys[h] != EMPTY_KEY)
				h = (h + 1) & mw->mask;
			if (mw->keys[h] == EMPTY_KEY) {
				mw->keys[h] = cp;
				mw->vals[h] = distinct++;
			}
			idx = mw->vals[h];
		}
		mw->cnt[idx]++;
		mw->tlen++;
	}
	mw->sink = distinct;
	for (int c = 0; c < 128; c++)
		if (mw->ascii[c] == -1)
			mw->ascii[c] = mw->sink;
	return NK_OK;
}

int nk_mw_new(nk_mw **out, const void *t, size_t tn, int flags, size_t *bad)
{
	*out = NULL;
	if (tn == 0)
		return nk_error(NK_EINVAL, "the pattern is empty");
	if (tn > INT32_MAX)
		return nk_error(NK_ERANGE, "pattern of %zu bytes is too long",
				tn);
	nk_mw *mw = nk_calloc(1, sizeof *mw);
	if (!mw)
		return NK_ENOMEM;
	mw->utf8 = (flags & NK_MW_UTF8) != 0;
	memset(mw->ascii, 0xFF, sizeof mw->ascii);
	if (mw->utf8) {
		int rc = build_utf8(mw, t, tn, bad);
		if (rc) {
			nk_mw_free(mw);
			return rc;
		}
	} else {
		const unsigned char *p = t;
		for (size_t i = 0; i < tn; i++)
			mw->need[p[i]]++;
		mw->tlen = tn;
	}
	*out = mw;
	return NK_OK;
}

static void find_bytes(nk_mw *mw, const unsigned char *s, size_t n,
		       nk_mw_match *m)
{
	int64_t *need = mw->need;
	size_t missing = mw->tlen, l = 0, r = 0;
	size_t best_off = 0, best_len = SIZE_MAX;
	while (r < n) {
		/* Branch-free on the common path: a byte not in T only sends
		 * its own counter below zero. */
		missing -= need[s[r++]]-- > 0;
		if (missing)
			continue;
		while (need[s[l]] < 0)
			need[s[l++]]++;
		if (r - l < best_len) {
			best_len = r - l;
			best_off = l;
			if (best_len == mw->tlen) /* nothing can be shorter */
				break;
		}
		need[s[l++]]++;
		missing = 1;
	}
	for (size_t i = l; i < r; i++)
		need[s[i]]++;
	if (best_len != SIZE_MAX) {
		m->off = m->cp_off = best_off;
		m->len = m->cp_len = best_len;
	}
}

/* The index in cnt of the valid character at p, and its length. */
static inline int32_t char_index(const nk_mw *mw, const unsigned char *p,
				 int *len)
{
	if (*p < 0x80) {
		*len = 1;
		return mw->ascii[*p];
	}
	uint32_t cp = 0;
	*len = utf8_decode(p, 4, &cp);
	return cp_index(mw, cp);
}

static int find_utf8(nk_mw *mw, const unsigned char *s, size_t n,
		     nk_mw_match *m)
{
	int64_t *cnt = mw->cnt;
	size_t missing = mw->tlen, l = 0, lcp = 0, r = 0, rcp = 0;
	size_t best_off = 0, best_cp = 0, best_bytes = 0;
	size_t best_len = SIZE_MAX;
	int rc = NK_OK;
	while (r < n) {
		int32_t idx;
		if (s[r] < 0x80) {
			idx = mw->ascii[s[r]];
			r++;
		} else {
			uint32_t cp = 0;
			int k = utf8_decode(s + r, n - r, &cp);
			if (!k) {
				m->bad = r;
				rc = nk_error(NK_EFORMAT,
					      "invalid UTF-8 at byte offset %zu",
					      r);
				break;
			}
			idx = cp_index(mw, cp);
			r += (size_t)k;
		}
		rcp++;
		missing -= cnt[idx]-- > 0;
		if (missing)
			continue;
		int k;
		int32_t li;
		while (cnt[li = char_index(mw, s + l, &k)] < 0) {
			cnt[li]++;
			l += (size_t)k;
			lcp++;
		}
		if (rcp - lcp < best_len) {
			best_len = rcp - lcp;
			best_off = l;
			best_cp = lcp;
			best_bytes = r - l;
			if (best_len == mw->tlen) {
				/* Nothing can be shorter; the rest of s only
				 * needs checking. */
				size_t at;
				if (!nk_mw_utf8_valid(s + r, n - r, &at)) {
					m->bad = r + at;
					rc = nk_error(NK_EFORMAT,
						      "invalid UTF-8 at byte "
						      "offset %zu", r + at);
				}
				break;
			}
		}
		cnt[li]++;
		l += (size_t)k;
		lcp++;
		missing = 1;
	}
	while (l < r) {
		int k;
		cnt[char_index(mw, s + l, &k)]++;
		l += (size_t)k;
	}
	if (rc == NK_OK && best_len != SIZE_MAX) {
		m->off = best_off;
		m->len = best_bytes;
		m->cp_off = best_cp;
		m->cp_len = best_len;
	}
	return rc;
}

int nk_mw_find(nk_mw *mw, const void *s, size_t n, nk_mw_match *m)
{
	memset(m, 0, sizeof *m);
	if (!mw->utf8) {
		find_bytes(mw, s, n, m);
		return NK_OK;
	}
	return find_utf8(mw, s, n, m);
}
