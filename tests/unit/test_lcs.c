/* test_lcs.c - the integer-list parser and both lcs algorithms.
 *
 * The algorithms are checked against a brute-force reference (sort, then
 * scan) on thousands of random arrays with small ranges, where runs and
 * duplicates are common, and against each other; the parser against
 * printf-formatted round trips cut into chunks of every small size.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "check.h"
#include "algo/intlist.h"
#include "algo/lcs.h"

/* A small deterministic generator (splitmix64), independent of libnk's. */
static uint64_t rng_state = 0x1234567887654321ULL;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The reference: sort, then a scan that never computes x+1 at INT64_MAX. */
static nk_lcs_result brute(const int64_t *v, size_t n)
{
	nk_lcs_result r = { 0, 0, 0 };
	if (n == 0)
		return r;
	int64_t *s = malloc(n * sizeof *s);
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_i64);
	int64_t start = s[0];
	uint64_t len = 1;
	r.len = 1, r.first = r.last = s[0];
	for (size_t i = 1; i < n; i++) {
		if (s[i] == s[i - 1])
			continue;
		if (s[i - 1] != INT64_MAX && s[i] == s[i - 1] + 1) {
			len++;
		} else {
			start = s[i];
			len = 1;
		}
		if (len > r.len) {
			r.len = len;
			r.first = start;
			r.last = s[i];
		}
	}
	free(s);
	return r;
}

/* Runs one algorithm on a copy (nk_lcs clobbers its input). */
static nk_lcs_result run(const int64_t *v, size_t n, enum nk_lcs_algo algo)
{
	nk_lcs_result r = { 99, 99, 99 };
	int64_t *c = malloc((n ? n : 1) * sizeof *c);
	memcpy(c, v, n * sizeof *c);
	if (nk_lcs(&r, c, n, algo) != NK_OK)
		r.len = UINT64_MAX;
	free(c);
	return r;
}

static int same(nk_lcs_result a, nk_lcs_result b)
{
	return a.len == b.len && a.first == b.first && a.last == b.last;
}

/* Checks hash, radix and auto against the reference. */
#define CHECK_ALL(v, n)                                                       \
	do {                                                                  \
		nk_lcs_result want_ = brute((v), (n));                        \
		static const enum nk_lcs_algo algos_[] = {                    \
			NK_LCS_HASH, NK_LCS_RADIX, NK_LCS_AUTO };             \
		for (int a_ = 0; a_ < 3; a_++) {                              \
			nk_lcs_result got_ = run((v), (n), algos_[a_]);       \
			CHECK_MSG(same(got_, want_),                          \
				  "algo %d n=%zu: got %" PRIu64 " %" PRId64   \
				  " %" PRId64 ", want %" PRIu64 " %" PRId64   \
				  " %" PRId64, a_, (size_t)(n), got_.len,     \
				  got_.first, got_.last, want_.len,           \
				  want_.first, want_.last);                   \
		}                                                             \
	} while (0)

/* Parses a whole-mode string; returns the error code. */
static int parse(const char *s, size_t chunk, int64_t **v, size_t *n)
{
	nk_intlist p;
	nk_intlist_init(&p, 0, NULL, NULL);
	int rc = nk_intlist_parse(&p, "t", s, strlen(s), chunk);
	*v = p.v;
	*n = p.n;
	p.v = NULL;
	nk_intlist_free(&p);
	return rc;
}

static uint64_t answer_of(const char *s)
{
	int64_t *v;
	size_t n;
	if (parse(s, 0, &v, &n)) {
		free(v);
		return UINT64_MAX;
	}
	nk_lcs_result r;
	nk_lcs(&r, v, n, NK_LCS_AUTO);
	free(v);
	return r.len;
}

TEST(problem_examples)
{
	CHECK(answer_of("[100,4,200,1,3,2]") == 4);
	CHECK(answer_of("[0,3,7,2,5,8,4,6,0,1]") == 9);
	CHECK(answer_of("[1,0,1,2]") == 3);
	CHECK(answer_of("[]") == 0);
	CHECK(answer_of("") == 0);
	CHECK(answer_of("100 4 200 1 3 2") == 4);
	CHECK(answer_of("100,4\n200, 1 ,3\t2\n") == 4);
	int64_t v[] = { 100, 4, 200, 1, 3, 2 };
	CHECK_ALL(v, 6);
	nk_lcs_result r = run(v, 6, NK_LCS_HASH);
	CHECK(r.len == 4 && r.first == 1 && r.last == 4);
	r = run(v, 0, NK_LCS_RADIX);
	CHECK(r.len == 0 && r.first == 0 && r.last == 0);
	r = run(v, 0, NK_LCS_HASH);
	CHECK(r.len == 0 && r.first == 0 && r.last == 0);
}

TEST(ties_smallest_start)
{
	int64_t v[] = { 10, 11, 12, -5, -4, -3, 100, 101, 102 };
	CHECK_ALL(v, 9);
	nk_lcs_result r = run(v, 9, NK_LCS_HASH);
	CHECK(r.len == 3 && r.first == -5 && r.last == -3);
	r = run(v, 9, NK_LCS_RADIX);
	CHECK(r.len == 3 && r.first == -5 && r.last == -3);
	int64_t one[] = { 7, 7, 7 };
	r = run(one, 3, NK_LCS_HASH);
	CHECK(r.len == 1 && r.first == 7 && r.last == 7);
}

TEST(int64_edges)
{
	int64_t lo[] = { INT64_MIN + 2, INT64_MIN, INT64_MIN + 1, 0 };
	CHECK_ALL(lo, 4);
	CHECK(run(lo, 4, NK_LCS_HASH).len == 3);
	CHECK(run(lo, 4, NK_LCS_HASH).first == INT64_MIN);
	int64_t hi[] = { INT64_MAX, INT64_MAX - 2, INT64_MAX - 1, INT64_MAX };
	CHECK_ALL(hi, 4);
	nk_lcs_result r = run(hi, 4, NK_LCS_RADIX);
	CHECK(r.len == 3 && r.first == INT64_MAX - 2 && r.last == INT64_MAX);
	/* Both ends at once: the widest range, and no wrap from MAX to MIN. */
	int64_t both[] = { INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, -1, 0 };
	CHECK_ALL(both, 6);
	CHECK(run(both, 6, NK_LCS_HASH).len == 2);
	CHECK(run(both, 6, NK_LCS_RADIX).first == INT64_MIN);
	/* Many values over the whole range: every radix pass runs. */
	enum { N = 5000 };
	int64_t *w = malloc(N * sizeof *w);
	for (int i = 0; i < N; i++)
		w[i] = (int64_t)rnd();
	w[0] = INT64_MIN, w[1] = INT64_MAX, w[2] = INT64_MAX - 1;
	CHECK_ALL(w, (size_t)N);
	for (int i = 0; i < N; i++) /* a long run ending at INT64_MAX */
		w[i] = INT64_MAX - (int64_t)(rnd() % 3000);
	CHECK_ALL(w, (size_t)N);
	for (int i = 0; i < N; i++) /* and one starting at INT64_MIN */
		w[i] = INT64_MIN + (int64_t)(rnd() % 3000);
	CHECK_ALL(w, (size_t)N);
	free(w);

	int64_t *v;
	size_t n;
	CHECK(parse("-9223372036854775808", 0, &v, &n) == NK_OK && n == 1 &&
	      v[0] == INT64_MIN);
	free(v);
	CHECK(parse("9223372036854775807 +5 -0 007", 0, &v, &n) == NK_OK &&
	      n == 4 && v[0] == INT64_MAX && v[1] == 5 && v[2] == 0 && v[3] == 7);
	free(v);
	CHECK(parse("9223372036854775808", 0, &v, &n) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "t:1:1: integer out of 64-bit range"));
	free(v);
	CHECK(parse("1 -9223372036854775809", 0, &v, &n) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "t:1:3: integer out of 64-bit range"));
	free(v);
	CHECK(parse("99999999999999999999999", 0, &v, &n) == NK_EFORMAT);
	free(v);
	/* Leading zeros are not digits that count. */
	CHECK(parse("-00000000000000000000000009223372036854775808", 3, &v, &n) ==
	      NK_OK && n == 1 && v[0] == INT64_MIN);
	free(v);
}

TEST(random_small_ranges)
{
	int64_t *v = malloc(3000 * sizeof *v);
	for (int t = 0; t < 4000; t++) {
		size_t n = rnd() % (t < 3000 ? 80 : 3000);
		uint64_t range = 1 + rnd() % (t % 3 == 0 ? 10 : t % 3 == 1 ? 100 : 2 * n + 1);
		int64_t off = (int64_t)(rnd() % 2001) - 1000;
		if (t % 7 == 0)
			off = INT64_MIN + (int64_t)(rnd() % 5);
		if (t % 7 == 1)
			off = INT64_MAX - (int64_t)range + 1 - (int64_t)(rnd() % 3);
		for (size_t i = 0; i < n; i++)
			v[i] = (int64_t)((uint64_t)off + rnd() % range);
		CHECK_ALL(v, n);
		if (check_group_failed)
			break;
	}
	free(v);
}

/* Spreads at the edge of the 32-bit radix path (max - min = 2^32 - 1 is
 * sorted as 32-bit keys, 2^32 as 64-bit ones), with runs that sit at
 * either end of the spread, anywhere in the 64-bit range. */
TEST(spread_at_32_bits)
{
	enum { N = 500 };
	int64_t v[N];
	for (int t = 0; t < 300; t++) {
		uint64_t spread = 0xFFFFFFFFULL + (uint64_t)(t % 3) - 1;
		int64_t off = t % 4 == 0 ? INT64_MIN : t % 4 == 1 ? -(int64_t)(spread / 2)
			    : t % 4 == 2 ? INT64_MAX - (int64_t)spread : (int64_t)(rnd() >> 2);
		for (size_t i = 0; i < N; i++)
			v[i] = (int64_t)((uint64_t)off + rnd() % (spread + 1));
		v[0] = off;                                /* the minimum */
		v[1] = (int64_t)((uint64_t)off + spread);  /* the maximum */
		size_t len = 3 + (size_t)(rnd() % 20);
		uint64_t at = t % 2 ? 0 : spread - len + 1;   /* a run at an end */
		for (size_t i = 0; i < len; i++)
			v[2 + i] = (int64_t)((uint64_t)off + at + i);
		CHECK_ALL(v, N);
		if (check_group_failed)
			break;
	}
}

struct lines {
	uint64_t ans[64];
	unsigned long long line[64];
	int n;
};

static int collect(void *ctx, int64_t *v, size_t n, unsigned long long line)
{
	struct lines *l = ctx;
	nk_lcs_result r;
	if (nk_lcs(&r, v, n, NK_LCS_HASH))
		return NK_ENOMEM;
	if (l->n < 64) {
		l->ans[l->n] = r.len;
		l->line[l->n] = line;
	}
	l->n++;
	return 0;
}

static int parse_lines(const char *s, size_t chunk, struct lines *l)
{
	nk_intlist p;
	memset(l, 0, sizeof *l);
	nk_intlist_init(&p, 1, collect, l);
	int rc = nk_intlist_parse(&p, "t", s, strlen(s), chunk);
	nk_intlist_free(&p);
	return rc;
}

TEST(per_line_mode)
{
	struct lines l;
	const char *in = "[100,4,200,1,3,2]\n[0,3,7,2,5,8,4,6,0,1]\n\n[]\n[1,0,1,2]\n  \n5 6";
	for (size_t chunk = 0; chunk < 9; chunk++) {
		CHECK(parse_lines(in, chunk, &l) == NK_OK);
		CHECK(l.n == 7);
		uint64_t want[] = { 4, 9, 0, 0, 3, 0, 2 };
		for (int i = 0; i < 7; i++)
			CHECK(l.ans[i] == want[i] && l.line[i] == (unsigned long long)i + 1);
	}
	CHECK(parse_lines("", 0, &l) == NK_OK && l.n == 0);
	CHECK(parse_lines("\n", 0, &l) == NK_OK && l.n == 1 && l.ans[0] == 0);
	CHECK(parse_lines("1 2\n3\n", 0, &l) == NK_OK && l.n == 2);
	/* A bracket must close on its line; a comma must not end one. */
	CHECK(parse_lines("1 2\n[3\n4]\n", 0, &l) == NK_EFORMAT && l.n == 1);
	CHECK(strstr(nk_last_error(), "t:2:1: unterminated '['"));
	CHECK(parse_lines("1,\n2\n", 0, &l) == NK_EFORMAT && l.n == 0);
	CHECK(strstr(nk_last_error(), "t:1:3: expected a number after ','"));
	/* ... which whole mode allows. */
	int64_t *v;
	size_t n;
	CHECK(parse("[1,\n2\n,3]", 0, &v, &n) == NK_OK && n == 3 && v[2] == 3);
	free(v);
}

struct bad {
	const char *in, *msg;
};

TEST(bad_input_messages)
{
	static const struct bad cases[] = {
		{ "1,,2", "t:1:3: expected a number, found ','" },
		{ ",1", "t:1:1: ',' without a number before it" },
		{ "1,", "t:1:3: expected a number after ',', found end of input" },
		{ "[1,]", "t:1:4: expected a number, found ']'" },
		{ "[1,2", "t:1:1: unterminated '['" },
		{ "1\n  [2\n3", "t:2:3: unterminated '['" },
		{ "1 2]", "t:1:4: unmatched ']'" },
		{ "[[1]]", "t:1:2: nested '[' (only one level of brackets)" },
		{ "1,[2]", "t:1:3: expected a number, found '['" },
		{ "1 x", "t:1:3: unexpected character 'x'" },
		{ "12a", "t:1:3: unexpected character 'a'" },
		{ "1-2", "t:1:2: unexpected character '-'" },
		{ "1.5", "t:1:2: unexpected character '.'" },
		{ "1\n2\n - 3", "t:3:2: expected a digit after '-'" },
		{ "+", "t:1:1: expected a digit after '+'" },
		{ "1\x01", "t:1:2: unexpected byte 0x01" },
		{ "1\0 2", "t:1:2: unexpected byte 0x00" },
		{ "\n\n 18446744073709551616", "t:3:2: integer out of 64-bit range" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].in);
		if (i == 16)
			len = 4; /* the one with a NUL in it */
		for (size_t chunk = 0; chunk < 6; chunk++) {
			nk_intlist p;
			nk_intlist_init(&p, 0, NULL, NULL);
			int rc = nk_intlist_parse(&p, "t", cases[i].in, len, chunk);
			nk_intlist_free(&p);
			CHECK_MSG(rc == NK_EFORMAT && !strcmp(nk_last_error(), cases[i].msg),
				  "case %zu chunk %zu: rc %d '%s', want '%s'", i,
				  chunk, rc, nk_last_error(), cases[i].msg);
		}
	}
}

/* Random arrays printed with random separators parse back exactly,
 * whatever the chunk size. */
TEST(parser_round_trip)
{
	char *text = malloc(1 << 16);
	int64_t want[400];
	for (int t = 0; t < 600; t++) {
		size_t n = rnd() % 400, len = 0;
		int brackets = t % 2;
		if (brackets)
			text[len++] = '[';
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rnd();
			want[i] = r % 4 == 0 ? (int64_t)r : r % 4 == 1 ? (int64_t)(r % 2001) - 1000
				: r % 4 == 2 ? (r & 8 ? INT64_MIN : INT64_MAX) : (int64_t)(r >> 40);
			if (i) {
				static const char *const seps[] = { " ", ",", ", ", " , ", "\n", ",\n", "\t", "\r\n" };
				const char *sp = seps[rnd() % (brackets ? 8 : 4)];
				len += (size_t)sprintf(text + len, "%s", sp);
			}
			if (rnd() % 10 == 0) /* explicit sign and leading zeros */
				len += (size_t)sprintf(text + len, "%s000%" PRIu64,
						       want[i] < 0 ? "-" : "+",
						       want[i] < 0 ? 0 - (uint64_t)want[i]
								   : (uint64_t)want[i]);
			else
				len += (size_t)sprintf(text + len, "%" PRId64, want[i]);
		}
		if (brackets)
			text[len++] = ']';
		text[len++] = '\n';
		text[len] = 0;
		for (size_t chunk = 0; chunk < 40; chunk += 1 + chunk / 4) {
			int64_t *v;
			size_t got;
			int rc = parse(text, chunk, &v, &got);
			CHECK_MSG(rc == NK_OK, "round trip %d chunk %zu: %s", t, chunk,
				  nk_last_error());
			CHECK(got == n);
			if (rc == NK_OK && got == n && n)
				CHECK(memcmp(v, want, n * sizeof *v) == 0);
			free(v);
		}
		if (check_group_failed)
			break;
	}
	free(text);
}

/* Past 4 MB of values the parser prefaults the array a window at a time
 * and counts against the window's end, not the capacity: 1.5 M values in
 * two inputs (each ending in a number without a newline, so the last value
 * comes from the end-of-input path), cut into odd chunks, must all arrive
 * in order and the planted run must be found. */
TEST(large_list_in_windows)
{
	enum { N = 1500000, RUN_AT = 700000, RUN_LEN = 5000 };
	int64_t *want = malloc(N * sizeof *want);
	char *text = malloc((size_t)N * 12 + 16);
	CHECK(want && text);
	if (!want || !text) {
		free(want);
		free(text);
		return;
	}
	size_t len[2] = { 0, 0 }, half = N / 2;
	for (size_t i = 0; i < N; i++) {
		/* Even values only, but for the run of consecutive ones. */
		want[i] = i >= RUN_AT && i < RUN_AT + RUN_LEN
				  ? (int64_t)(i - RUN_AT) + 1000000001
				  : ((int64_t)(rnd() % 1000000000) - 500000000) * 2;
	}
	nk_intlist p;
	nk_intlist_init(&p, 0, NULL, NULL);
	int rc = NK_OK;
	for (int part = 0; part < 2 && rc == NK_OK; part++) {
		size_t lo = part ? half : 0, hi = part ? N : half;
		for (size_t i = lo; i < hi; i++)
			len[part] += (size_t)sprintf(text + len[part], "%s%" PRId64,
						     i > lo ? " " : "", want[i]);
		rc = nk_intlist_parse(&p, "big", text, len[part], part ? 4093 : 65521);
	}
	CHECK_MSG(rc == NK_OK, "%s", nk_last_error());
	CHECK(p.n == N);
	CHECK(p.room <= p.cap);
	if (rc == NK_OK && p.n == N) {
		CHECK(memcmp(p.v, want, N * sizeof *want) == 0);
		nk_lcs_result r;
		CHECK(nk_lcs(&r, p.v, p.n, NK_LCS_RADIX) == NK_OK);
		CHECK(r.len == RUN_LEN && r.first == 1000000001);
	}
	nk_intlist_free(&p);
	free(want);
	free(text);
}

/* Past 65,536 values with a spread below 2^32 the keys (value - min) are
 * bucketed by their top bits, each bucket sorted on its own and the run
 * carried from one bucket into the next (lcs.c).  Bucket edges are
 * multiples of a power of two in key space, so runs are planted across
 * 2^16 .. 2^30, whatever the bucket count.  Also: nk_lcs_bounded with the
 * true bounds agrees. */
static void check_big(const int64_t *v, size_t n)
{
	CHECK_ALL(v, n);
	nk_lcs_result want = brute(v, n), got;
	int64_t lo = v[0], hi = v[0];
	for (size_t i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	int64_t *c = malloc(n * sizeof *c);
	memcpy(c, v, n * sizeof *c);
	CHECK(nk_lcs_bounded(&got, c, n, lo, hi, NK_LCS_AUTO) == NK_OK);
	CHECK_MSG(same(got, want), "bounded n=%zu: got %" PRIu64 " %" PRId64
		  ", want %" PRIu64 " %" PRId64, n, got.len, got.first,
		  want.len, want.first);
	free(c);
}

/* n values: `noise` of them uniform in [base, base + spread], the rest
 * runs of the given lengths starting at base + at[i], shuffled in. */
static void plant(int64_t *v, size_t n, int64_t base, uint64_t spread,
		  const uint64_t *at, const size_t *len, int runs)
{
	size_t i = 0;
	v[i++] = base;                             /* the minimum */
	v[i++] = (int64_t)((uint64_t)base + spread); /* the maximum */
	for (int r = 0; r < runs; r++)
		for (size_t j = 0; j < len[r] && i < n; j++)
			v[i++] = (int64_t)((uint64_t)base + at[r] + j);
	for (; i < n; i++)
		v[i] = (int64_t)((uint64_t)base + rnd() % (spread + 1));
	for (size_t k = n - 1; k > 0; k--) {
		size_t j = (size_t)(rnd() % (k + 1));
		int64_t t = v[k];
		v[k] = v[j];
		v[j] = t;
	}
}

TEST(bucket_edges)
{
	enum { N = 200000 };
	int64_t *v = malloc(N * sizeof *v);
	const int64_t bases[] = { -1000000000, INT64_MIN, INT64_MAX - 0x7fffffff, 5 };
	for (int b = 0; b < 4; b++) {
		int64_t base = bases[b];
		/* Runs across 2^16 .. 2^30 in key space; the longest (across
		 * 2^20) is the answer, ties below it. */
		uint64_t at[8];
		size_t len[8];
		for (int r = 0; r < 8; r++) {
			int sh = 16 + 2 * r;
			len[r] = r == 2 ? 300 : 40 + (size_t)r;
			at[r] = ((uint64_t)1 << sh) - len[r] / 2;
		}
		plant(v, N, base, 0x7fffffff, at, len, 8);
		check_big(v, N);
		nk_lcs_result r = run(v, N, NK_LCS_AUTO);
		CHECK(r.len == 300 && r.first == (int64_t)((uint64_t)base + at[2]));
		/* Two equal runs, the later one across an edge: the first wins;
		 * then the earlier one across an edge. */
		uint64_t at2[2] = { 1000, ((uint64_t)1 << 24) - 100 };
		size_t len2[2] = { 500, 500 };
		plant(v, N, base, 0x7fffffff, at2, len2, 2);
		check_big(v, N);
		r = run(v, N, NK_LCS_RADIX);
		CHECK(r.len == 500 && r.first == (int64_t)((uint64_t)base + 1000));
		at2[0] = ((uint64_t)1 << 28) - 7, at2[1] = ((uint64_t)1 << 29) + 3;
		plant(v, N, base, 0x7fffffff, at2, len2, 2);
		check_big(v, N);
		if (check_group_failed)
			break;
	}
	/* All keys but the maximum in one bucket (the first, then the last). */
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; i < N; i++)
			v[i] = (int64_t)(rnd() % 300000);
		v[0] = t ? -(int64_t)0x7fffffff : (int64_t)0x7fffffff;
		check_big(v, N);
	}
	/* Empty buckets: two clusters far apart, a run that spans a whole
	 * cluster, duplicates everywhere. */
	for (size_t i = 0; i < N; i++)
		v[i] = i % 2 ? (int64_t)(i / 2 % 1000) : (int64_t)(1u << 30) + (int64_t)(i / 2 % 70000);
	check_big(v, N);
	CHECK(run(v, N, NK_LCS_AUTO).len == 70000);
	/* Every value five times over, runs of every length. */
	for (size_t i = 0; i < N; i++)
		v[i] = (int64_t)((i / 5) * 3 + (i / 5) / 97 % 2 * 1);
	check_big(v, N);
	/* A spread smaller than the bucket count (no low bits), and one of
	 * a single value. */
	for (size_t i = 0; i < N; i++)
		v[i] = (int64_t)(rnd() % 50) * 2 + (i == 7);
	check_big(v, N);
	for (size_t i = 0; i < N; i++)
		v[i] = 42;
	check_big(v, N);
	/* Either side of the threshold, and spreads of 2^32 - 1 (bucketed,
	 * 32 bits of key) and 2^32 (64-bit keys) with a run at each end. */
	const size_t ns[] = { 65535, 65536, 65537, 100003 };
	for (int t = 0; t < 4; t++) {
		uint64_t at3[2] = { 0, 0 };
		size_t len3[2] = { 30, 30 };
		for (int w = 0; w < 3; w++) {
			uint64_t spread = w == 0 ? 0x7fffffffULL : 0xFFFFFFFFULL + (uint64_t)(w - 1);
			at3[1] = spread - 29;
			plant(v, ns[t], -(int64_t)(spread / 2), spread, at3, len3, 2);
			check_big(v, ns[t]);
		}
	}
	free(v);
}

/* The parser's min and max, whole mode and per line; nk_intlist_reserve
 * (any amount, none refused as an error) leaves the values unchanged. */
struct line_bounds {
	nk_intlist *p;
	int lines, bad;
};

/* Per line, p->lo and p->hi are the line's own when the callback runs. */
static int check_line_bounds(void *ctx, int64_t *v, size_t n, unsigned long long line)
{
	struct line_bounds *lb = ctx;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	(void)line;
	for (size_t i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	lb->lines++;
	lb->bad += lb->p->lo != lo || lb->p->hi != hi;
	return 0;
}

TEST(parser_bounds_and_reserve)
{
	nk_intlist p;
	nk_intlist_init(&p, 0, NULL, NULL);
	CHECK(p.lo == INT64_MAX && p.hi == INT64_MIN);
	const char *a = "5 -3 12\n7", *b = "[100, -9223372036854775808]";
	CHECK(nk_intlist_parse(&p, "a", a, strlen(a), 3) == NK_OK);
	CHECK(p.n == 4 && p.lo == -3 && p.hi == 12);
	CHECK(nk_intlist_reserve(&p, 1000) == NK_OK && p.cap >= 1004);
	CHECK(nk_intlist_parse(&p, "b", b, strlen(b), 0) == NK_OK);
	CHECK(p.n == 6 && p.lo == INT64_MIN && p.hi == 100 && p.v[4] == 100);
	/* Refused (more than memory, or than size_t): still NK_OK, and
	 * parsing goes on. */
	CHECK(nk_intlist_reserve(&p, SIZE_MAX / 16) == NK_OK);
	CHECK(nk_intlist_reserve(&p, SIZE_MAX) == NK_OK);
	CHECK(nk_intlist_parse(&p, "a", a, strlen(a), 0) == NK_OK && p.n == 10 &&
	      p.v[9] == 7 && p.v[5] == INT64_MIN);
	nk_intlist_free(&p);
	CHECK(p.lo == INT64_MAX && p.hi == INT64_MIN);

	/* A reserved array of 2 M values (huge pages asked for) filled past
	 * its reservation. */
	enum { N = 2000000 };
	char *text = malloc((size_t)N * 12);
	size_t len = 0;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < N; i++) {
		int64_t x = (int64_t)(rnd() % 2000000001) - 1000000000;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
		len += (size_t)sprintf(text + len, "%" PRId64 " ", x);
	}
	nk_intlist_init(&p, 0, NULL, NULL);
	CHECK(nk_intlist_reserve(&p, N / 2) == NK_OK);
	CHECK(nk_intlist_parse(&p, "big", text, len, 0) == NK_OK);
	CHECK(p.n == N && p.lo == lo && p.hi == hi && p.room <= p.cap);
	size_t ok = 0;
	const char *t = text;
	for (size_t i = 0; i < p.n; i++) {
		char *e;
		ok += p.v[i] == strtoll(t, &e, 10);
		t = e;
	}
	CHECK(ok == N);
	nk_intlist_free(&p);
	free(text);

	struct line_bounds lb = { &p, 0, 0 };
	nk_intlist_init(&p, 1, check_line_bounds, &lb);
	const char *c = "3 1\n\n-4 9 2\n7";
	CHECK(nk_intlist_parse(&p, "c", c, strlen(c), 2) == NK_OK);
	CHECK(lb.lines == 4 && lb.bad == 0);
	CHECK(p.lo == INT64_MAX && p.hi == INT64_MIN);
	nk_intlist_free(&p);
}

TEST(algo_names)
{
	CHECK(nk_lcs_algo_parse("hash") == NK_LCS_HASH);
	CHECK(nk_lcs_algo_parse("radix") == NK_LCS_RADIX);
	CHECK(nk_lcs_algo_parse(NULL) == NK_LCS_AUTO);
	CHECK(nk_lcs_algo_parse("auto") == NK_LCS_AUTO);
	CHECK(nk_lcs_algo_parse("quick") == -1);
}

int main(void)
{
	RUN(problem_examples);
	RUN(ties_smallest_start);
	RUN(int64_edges);
	RUN(random_small_ranges);
	RUN(spread_at_32_bits);
	RUN(per_line_mode);
	RUN(bad_input_messages);
	RUN(parser_round_trip);
	RUN(large_list_in_windows);
	RUN(bucket_edges);
	RUN(parser_bounds_and_reserve);
	RUN(algo_names);
	return nk_test_exit();
}
