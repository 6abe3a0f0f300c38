/* fuzz_minwindow.c - the minimum window on arbitrary T and s.
 *
 * Input: byte 0 is T's length (capped at what follows), then T, then s.
 * Both byte and UTF-8 modes run; every answer is checked to cover T and
 * to be no longer than a brute-force search finds (on small inputs), the
 * UTF-8 errors against the validator, and a pattern reused on a second
 * string must give the same answer as a fresh one (the counters come back).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "algo/minwindow.h"

/* Decodes already validated UTF-8; returns the number of code points. */
static size_t decode(const uint8_t *s, size_t n, uint32_t *cp, size_t *off)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		uint32_t v = len == 1 ? c : len == 2 ? c & 0x1F
				      : len == 3 ? c & 0x0F : c & 0x07;
		for (int j = 1; j < len; j++)
			v = v << 6 | (s[i + j] & 0x3F);
		if (off)
			off[k] = i;
		cp[k++] = v;
		i += (size_t)len;
	}
	if (off)
		off[k] = n;
	return k;
}

static int covers(const uint32_t *w, size_t wn, const uint32_t *t, size_t tn)
{
	for (size_t a = 0; a < tn; a++) {
		size_t want = 0, have = 0;
		for (size_t b = 0; b < tn; b++)
			want += t[b] == t[a];
		for (size_t b = 0; b < wn; b++)
			have += w[b] == t[a];
		if (have < want)
			return 0;
	}
	return 1;
}

/* Shortest covering window, leftmost on a tie; 0 when none. */
static int brute(const uint32_t *s, size_t n, const uint32_t *t, size_t tn,
		 size_t *off, size_t *len)
{
	for (size_t w = tn; w <= n; w++)
		for (size_t i = 0; i + w <= n; i++)
			if (covers(s + i, w, t, tn)) {
				*off = i;
				*len = w;
				return 1;
			}
	return 0;
}

static uint32_t tc[256], sc[4096];
static size_t soff[4097];

static void check_mode(const uint8_t *t, size_t tn, const uint8_t *s,
		       size_t n, int flags)
{
	nk_mw *mw;
	size_t tbad = 0, sbad = 0;
	int rc = nk_mw_new(&mw, t, tn, flags, &tbad);
	if (tn == 0) {
		if (rc != NK_EINVAL)
			abort();
		return;
	}
	if (flags & NK_MW_UTF8) {
		size_t want;
		int valid = nk_mw_utf8_valid(t, tn, &want);
		if (valid != (rc == NK_OK) || (!valid && (rc != NK_EFORMAT ||
							  tbad != want)))
			abort();
		if (!valid)
			return;
	} else if (rc != NK_OK) {
		abort();
	}

	nk_mw_match m, again;
	rc = nk_mw_find(mw, s, n, &m);
	if (flags & NK_MW_UTF8) {
		int valid = nk_mw_utf8_valid(s, n, &sbad);
		if (valid != (rc == NK_OK) || (!valid && m.bad != sbad))
			abort();
	} else if (rc != NK_OK) {
		abort();
	}
	/* Reused after success or failure, the pattern answers the same. */
	if (nk_mw_find(mw, s, n, &again) != rc)
		abort();
	if (rc == NK_OK && memcmp(&m, &again, sizeof m) != 0)
		abort();
	if (rc != NK_OK) {
		/* The valid prefix still has an answer. */
		rc = nk_mw_find(mw, s, sbad, &m);
		if (rc != NK_OK)
			abort();
		n = sbad;
	}
	nk_mw_free(mw);

	size_t tcn, scn;
	if (flags & NK_MW_UTF8) {
		if (n > 4096)
			return;
		tcn = decode(t, tn, tc, NULL);
		scn = decode(s, n, sc, soff);
	} else {
		if (n > 4096)
			return;
		for (size_t i = 0; i < tn; i++)
			tc[i] = t[i];
		for (size_t i = 0; i < n; i++) {
			sc[i] = s[i];
			soff[i] = i;
		}
		soff[n] = n;
		tcn = tn;
		scn = n;
	}
	if (m.len) {
		/* In bounds, on character boundaries, covering T. */
		if (m.cp_off + m.cp_len > scn || m.off != soff[m.cp_off] ||
		    m.len != soff[m.cp_off + m.cp_len] - m.off ||
		    !covers(sc + m.cp_off, m.cp_len, tc, tcn))
			abort();
	}
	if (scn <= 48 && tcn <= 12) {
		size_t off = 0, len = 0;
		int found = brute(sc, scn, tc, tcn, &off, &len);
		if (found != (m.len != 0) ||
		    (found && (m.cp_off != off || m.cp_len != len)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t tn = data[0];
	if (tn > size - 1)
		tn = size - 1;
	if (tn > 255)
		tn = 255;
	const uint8_t *t = data + 1, *s = data + 1 + tn;
	size_t n = size - 1 - tn;
	check_mode(t, tn, s, n, 0);
	check_mode(t, tn, s, n, NK_MW_UTF8);
	nk_error_clear();
	return 0;
}
