/* test_minwindow.c - the minimum window against a brute-force reference. */
#include "check.h"

#include "core/base.h"
#include "algo/minwindow.h"

#include <stdint.h>

/* ---- brute force: every window, shortest first, leftmost first -------- */

/* Decodes valid UTF-8 into code points and their byte offsets (off[k] is
 * where code point k starts; off[count] == n). */
static size_t decode_all(const unsigned char *s, size_t n, uint32_t *cp,
			 size_t *off)
{
	size_t k = 0, i = 0;
	while (i < n) {
		unsigned c = s[i];
		int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		uint32_t v = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
		for (int j = 1; j < len; j++)
			v = v << 6 | (s[i + j] & 0x3F);
		off[k] = i;
		cp[k++] = v;
		i += (size_t)len;
	}
	off[k] = n;
	return k;
}

/* Reference over characters: for every start, the first end at which
 * the window holds every character of t with multiplicity (checked in
 * full, character by character of t, after each step); then the shortest
 * of those, the leftmost on a tie.  Returns 1 and [*off, +*len). */
static int brute(const uint32_t *s, size_t n, const uint32_t *t, size_t tn,
		 size_t *off, size_t *len)
{
	size_t have[64], want[64];
	int found = 0;
	for (size_t a = 0; a < tn; a++) {
		want[a] = 0;
		for (size_t b = 0; b < tn; b++)
			want[a] += t[b] == t[a];
	}
	for (size_t i = 0; i < n; i++) {
		memset(have, 0, sizeof have);
		for (size_t j = i; j < n; j++) {
			int ok = 1;
			for (size_t a = 0; a < tn; a++) {
				have[a] += s[j] == t[a];
				ok &= have[a] >= want[a];
			}
			if (ok) {
				if (!found || j + 1 - i < *len) {
					*off = i;
					*len = j + 1 - i;
					found = 1;
				}
				break;
			}
		}
	}
	return found;
}

static int brute_bytes(const unsigned char *s, size_t n,
		       const unsigned char *t, size_t tn, size_t *off,
		       size_t *len)
{
	uint32_t S[256], T[256];
	for (size_t i = 0; i < n; i++)
		S[i] = s[i];
	for (size_t i = 0; i < tn; i++)
		T[i] = t[i];
	return brute(S, n, T, tn, off, len);
}

/* The window of s for pattern t, as a string ("" when none). */
static const char *window(const char *t, const char *s, int flags)
{
	static char buf[256];
	nk_mw *mw;
	nk_mw_match m;
	if (nk_mw_new(&mw, t, strlen(t), flags, NULL))
		return "(new failed)";
	int rc = nk_mw_find(mw, s, strlen(s), &m);
	nk_mw_free(mw);
	if (rc)
		return "(find failed)";
	memcpy(buf, s + m.off, m.len);
	buf[m.len] = '\0';
	return buf;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
	/* splitmix64: fixed seed, so a failure reproduces. */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return (uint32_t)(z % n);
}

/* ---- tests -------------------------------------------------------------- */

TEST(problem_examples)
{
	CHECK(strcmp(window("ABC", "ADOBECODEBANC", 0), "BANC") == 0);
	CHECK(strcmp(window("a", "a", 0), "a") == 0);
	CHECK(strcmp(window("aa", "a", 0), "") == 0);
	CHECK(strcmp(window("ABC", "ADOBECODEBANC", NK_MW_UTF8), "BANC") == 0);
	CHECK(strcmp(window("aa", "a", NK_MW_UTF8), "") == 0);
	CHECK(strcmp(window("aab", "abab", 0), "aba") == 0);
	CHECK(strcmp(window("x", "", 0), "") == 0);
}

TEST(leftmost_tie)
{
	nk_mw *mw;
	nk_mw_match m;
	CHECK(nk_mw_new(&mw, "ab", 2, 0, NULL) == NK_OK);
	/* "ab" at 0 and "ba" at 1 and "ab" at 2: all length 2. */
	CHECK(nk_mw_find(mw, "abab", 4, &m) == NK_OK);
	CHECK(m.off == 0 && m.len == 2);
	CHECK(nk_mw_find(mw, "xxbxaxxab", 9, &m) == NK_OK);
	CHECK(m.off == 7 && m.len == 2);
	CHECK(nk_mw_find(mw, "axxbxxa", 7, &m) == NK_OK);
	CHECK(m.off == 0 && m.len == 4);
	nk_mw_free(mw);
}

TEST(empty_pattern)
{
	nk_mw *mw = (nk_mw *)1;
	CHECK(nk_mw_new(&mw, "", 0, 0, NULL) == NK_EINVAL);
	CHECK(mw == NULL);
	CHECK(nk_mw_new(&mw, "", 0, NK_MW_UTF8, NULL) == NK_EINVAL);
}

/* Thousands of random short strings over small alphabets, so that ties
 * and repeated characters are common; one pattern is reused for several
 * strings so that the counters must come back after each. */
TEST(random_bytes_vs_brute)
{
	static const unsigned char alpha[] = {'a', 'b', 'c', 0, 0xFF, '\r'};
	unsigned char t[8], s[64];
	int cases = 0;
	for (int iter = 0; iter < 3000; iter++) {
		uint32_t k = 1 + rnd(6);
		size_t tn = 1 + rnd(5);
		for (size_t i = 0; i < tn; i++)
			t[i] = alpha[rnd(k)];
		nk_mw *mw;
		CHECK(nk_mw_new(&mw, t, tn, 0, NULL) == NK_OK);
		if (!mw)
			return;
		CHECK(nk_mw_len(mw) == tn);
		for (int rep = 0; rep < 4; rep++) {
			size_t n = rnd(40);
			for (size_t i = 0; i < n; i++)
				s[i] = alpha[rnd(k)];
			size_t off = 0, len = 0;
			int found = brute_bytes(s, n, t, tn, &off, &len);
			nk_mw_match m;
			CHECK(nk_mw_find(mw, s, n, &m) == NK_OK);
			CHECK_MSG(found ? m.off == off && m.len == len : m.len == 0,
				  "iter %d: want %d %zu+%zu, got %zu+%zu", iter,
				  found, off, len, m.off, m.len);
			CHECK(m.cp_off == m.off && m.cp_len == m.len);
			cases++;
		}
		nk_mw_free(mw);
	}
	CHECK(cases == 12000);
}

/* The same over code points of 1 to 4 bytes: UTF-8 mode against the
 * brute force over code points, byte mode against the one over bytes. */
TEST(random_utf8_vs_brute)
{
	static const char *const alpha[] = {"a", "b", "\xC3\xA9" /* é */,
					    "\xE2\x82\xAC" /* € */,
					    "\xF0\x9F\x98\x80" /* 😀 */,
					    "\xC3\xA8" /* è: shares é's lead */};
	unsigned char t[64], s[256];
	uint32_t tc[64], sc[256];
	size_t toff[65], soff[257];
	int differ = 0;
	for (int iter = 0; iter < 3000; iter++) {
		uint32_t k = 1 + rnd(6);
		size_t tn = 0, nt = 1 + rnd(4);
		for (size_t i = 0; i < nt; i++) {
			const char *a = alpha[rnd(k)];
			memcpy(t + tn, a, strlen(a));
			tn += strlen(a);
		}
		nk_mw *mw, *mb;
		CHECK(nk_mw_new(&mw, t, tn, NK_MW_UTF8, NULL) == NK_OK);
		CHECK(nk_mw_new(&mb, t, tn, 0, NULL) == NK_OK);
		if (!mw || !mb)
			return;
		size_t tcn = decode_all(t, tn, tc, toff);
		CHECK(nk_mw_len(mw) == tcn);
		for (int rep = 0; rep < 4; rep++) {
			size_t n = 0, ns = rnd(30);
			for (size_t i = 0; i < ns; i++) {
				const char *a = alpha[rnd(k)];
				memcpy(s + n, a, strlen(a));
				n += strlen(a);
			}
			size_t scn = decode_all(s, n, sc, soff);
			size_t off = 0, len = 0;
			int found = brute(sc, scn, tc, tcn, &off, &len);
			nk_mw_match m;
			CHECK(nk_mw_find(mw, s, n, &m) == NK_OK);
			CHECK_MSG(found ? m.cp_off == off && m.cp_len == len &&
						  m.off == soff[off] &&
						  m.len == soff[off + len] - soff[off]
					: m.len == 0,
				  "utf8 iter %d: want %d %zu+%zu, got %zu+%zu",
				  iter, found, off, len, m.cp_off, m.cp_len);
			size_t boff = 0, blen = 0;
			int bfound = brute_bytes(s, n, t, tn, &boff, &blen);
			nk_mw_match b;
			CHECK(nk_mw_find(mb, s, n, &b) == NK_OK);
			CHECK_MSG(bfound ? b.off == boff && b.len == blen
					 : b.len == 0,
				  "bytes iter %d: want %d %zu+%zu, got %zu+%zu",
				  iter, bfound, boff, blen, b.off, b.len);
			differ += found && bfound && (m.off != b.off || m.len != b.len);
		}
		nk_mw_free(mw);
		nk_mw_free(mb);
	}
	/* Byte mode can match part of a character: the modes must differ
	 * somewhere in this many cases, or the test is not testing. */
	CHECK(differ > 0);
}

TEST(utf8_vs_bytes)
{
	/* Shortest in code points "a€b" (3 cps, 5 bytes) against shortest
	 * in bytes "b12a" (4 bytes). */
	CHECK(strcmp(window("ab", "a\xE2\x82\xAC" "b12a", 0), "b12a") == 0);
	CHECK(strcmp(window("ab", "a\xE2\x82\xAC" "b12a", NK_MW_UTF8),
		      "a\xE2\x82\xAC" "b") == 0);
	/* é and è share their lead byte 0xC3: in byte mode è covers it. */
	CHECK(strcmp(window("\xC3\xA9", "\xC3\xA8\xA9", 0),
		      "\xC3\xA8\xA9") == 0);
	CHECK(strcmp(window("\xC3\xA9", "\xC3\xA8", 0), "") == 0);
	CHECK(strcmp(window("\xC3\xA9", "x\xC3\xA8y\xA9", 0),
		      "\xC3\xA8y\xA9") == 0);
	CHECK(strcmp(window("\xC3\xA9\xC3\xA9", "\xC3\xA9x\xC3\xA9", NK_MW_UTF8),
		      "\xC3\xA9x\xC3\xA9") == 0);
	nk_mw *mw;
	nk_mw_match m;
	CHECK(nk_mw_new(&mw, "\xE2\x82\xAC" "a", 4, NK_MW_UTF8, NULL) == NK_OK);
	CHECK(nk_mw_len(mw) == 2);
	CHECK(nk_mw_find(mw, "\xC3\xA9\xC3\xA9" "a\xE2\x82\xAC", 8, &m) == NK_OK);
	CHECK(m.cp_off == 2 && m.cp_len == 2 && m.off == 4 && m.len == 4);
	nk_mw_free(mw);
}

TEST(binary_bytes)
{
	nk_mw *mw;
	nk_mw_match m;
	const unsigned char t[] = {0, 0xFF, 0};
	const unsigned char s[] = {'x', 0, 'y', 0xFF, 0, 0, 0xFF, 0};
	CHECK(nk_mw_new(&mw, t, 3, 0, NULL) == NK_OK);
	CHECK(nk_mw_find(mw, s, sizeof s, &m) == NK_OK);
	CHECK(m.off == 3 && m.len == 3);
	/* NUL and 0xFF are not UTF-8 troubles in byte mode. */
	CHECK(nk_mw_find(mw, s, 4, &m) == NK_OK && m.len == 0);
	nk_mw_free(mw);
}

TEST(invalid_utf8)
{
	static const struct {
		const char *s;
		size_t n, bad;
	} cases[] = {
		{"ab\xC3(", 4, 2},           /* lead without continuation */
		{"\x80", 1, 0},              /* lone continuation */
		{"a\xC0\x80", 3, 1},         /* overlong NUL */
		{"ab\xE0\x80\xAF", 5, 2},    /* overlong / */
		{"\xED\xA0\x80", 3, 0},      /* surrogate */
		{"xy\xF4\x90\x80\x80", 6, 2},/* above U+10FFFF */
		{"abc\xE2\x82", 5, 3},       /* cut short at the end */
		{"abc\xFF", 4, 3},
		{"abcab\xF5\x80\x80\x80", 9, 5},
	};
	nk_mw *mw;
	CHECK(nk_mw_new(&mw, "ab", 2, NK_MW_UTF8, NULL) == NK_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		nk_mw_match m;
		size_t bad = 99;
		CHECK_MSG(nk_mw_find(mw, cases[i].s, cases[i].n, &m) == NK_EFORMAT,
			  "case %zu accepted", i);
		CHECK_MSG(m.bad == cases[i].bad, "case %zu: bad %zu, want %zu",
			  i, m.bad, cases[i].bad);
		CHECK(!nk_mw_utf8_valid(cases[i].s, cases[i].n, &bad) &&
		      bad == cases[i].bad);
		char want[64];
		snprintf(want, sizeof want, "invalid UTF-8 at byte offset %zu",
			 cases[i].bad);
		CHECK(strcmp(nk_last_error(), want) == 0);
		/* The counters survive a failed string. */
		CHECK(nk_mw_find(mw, "xaxb", 4, &m) == NK_OK && m.off == 1 &&
		      m.len == 3);
	}
	/* An invalid byte after a window that cannot be beaten ("ab" is as
	 * short as T) is still found. */
	nk_mw_match m;
	CHECK(nk_mw_find(mw, "ab\xFFzzzz", 7, &m) == NK_EFORMAT && m.bad == 2);
	CHECK(nk_mw_find(mw, "abzzzz\xFF", 7, &m) == NK_EFORMAT && m.bad == 6);
	nk_mw_free(mw);
	/* In T. */
	size_t bad = 0;
	CHECK(nk_mw_new(&mw, "a\xE2\x82", 3, NK_MW_UTF8, &bad) == NK_EFORMAT);
	CHECK(bad == 1 && mw == NULL);
	/* Byte mode takes any bytes. */
	CHECK(nk_mw_new(&mw, "a\xE2\x82", 3, 0, &bad) == NK_OK);
	nk_mw_free(mw);
	/* Valid edge cases. */
	CHECK(nk_mw_utf8_valid("\xF4\x8F\xBF\xBF\xEF\xBF\xBF\xC2\x80", 9, NULL));
	CHECK(nk_mw_utf8_valid("", 0, NULL));
	CHECK(nk_mw_utf8_valid("0123456789abcdef\xC3\xA9", 18, NULL));
}

/* A long string where a counter goes far below zero and the window is
 * at the very end. */
TEST(long_string)
{
	size_t n = 3000000;
	unsigned char *s = nk_malloc(n);
	CHECK(s != NULL);
	if (!s)
		return;
	memset(s, 'c', n);
	s[0] = 'a';
	s[n - 2] = 'b';
	s[n - 1] = 'a';
	nk_mw *mw;
	nk_mw_match m;
	CHECK(nk_mw_new(&mw, "abc", 3, 0, NULL) == NK_OK);
	CHECK(nk_mw_find(mw, s, n, &m) == NK_OK);
	CHECK(m.off == n - 3 && m.len == 3);
	nk_mw_free(mw);
	CHECK(nk_mw_new(&mw, "abc", 3, NK_MW_UTF8, NULL) == NK_OK);
	CHECK(nk_mw_find(mw, s, n, &m) == NK_OK);
	CHECK(m.cp_off == n - 3 && m.cp_len == 3);
	nk_mw_free(mw);
	free(s);
}

/* A pattern with many distinct code points: the hash map grows with T. */
TEST(large_utf8_alphabet)
{
	size_t tn = 0, cps = 3000;
	unsigned char *t = nk_malloc(cps * 3), *s = nk_malloc(cps * 3 + 2);
	CHECK(t && s);
	if (!t || !s)
		return;
	for (size_t i = 0; i < cps; i++) {
		uint32_t cp = 0x4E00 + (uint32_t)i; /* CJK, 3 bytes each */
		t[tn++] = (unsigned char)(0xE0 | cp >> 12);
		t[tn++] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		t[tn++] = (unsigned char)(0x80 | (cp & 0x3F));
	}
	/* s: "x" then T reversed by characters, then "y". */
	s[0] = 'x';
	for (size_t i = 0; i < cps; i++)
		memcpy(s + 1 + 3 * i, t + tn - 3 * (i + 1), 3);
	s[tn + 1] = 'y';
	nk_mw *mw;
	nk_mw_match m;
	CHECK(nk_mw_new(&mw, t, tn, NK_MW_UTF8, NULL) == NK_OK);
	CHECK(nk_mw_len(mw) == cps);
	CHECK(nk_mw_find(mw, s, tn + 2, &m) == NK_OK);
	CHECK(m.cp_off == 1 && m.cp_len == cps && m.off == 1 && m.len == tn);
	/* Missing one character: no window. */
	CHECK(nk_mw_find(mw, s, tn - 2, &m) == NK_OK && m.len == 0);
	nk_mw_free(mw);
	free(t);
	free(s);
}

int main(void)
{
	RUN(problem_examples);
	RUN(leftmost_tie);
	RUN(empty_pattern);
	RUN(random_bytes_vs_brute);
	RUN(random_utf8_vs_brute);
	RUN(utf8_vs_bytes);
	RUN(binary_bytes);
	RUN(invalid_utf8);
	RUN(long_string);
	RUN(large_utf8_alphabet);
	return nk_test_exit();
}
