/* fuzz_intlist.c - the integer-list parser and lcs on whatever parses.
 *
 * Every input is parsed four ways: whole and per line, each all at once
 * and in small chunks (so numbers, signs and brackets are cut at every
 * place).  Invariants, any violation aborts:
 *   - the chunked parse gives the same values, or the same error message,
 *     as the one-piece parse;
 *   - on every list, the hash set and the radix sort give the same run;
 *   - the run's length is at most the count, last - first + 1 == length,
 *     and every value of the run is in the list;
 *   - nk_lcs_bounded with the parser's min and max (which must be the
 *     list's) gives the same run as nk_lcs;
 *   - a whole-mode parse that succeeds gives the values of a reference
 *     that splits the text at separators and converts each number a
 *     digit at a time (the parser takes eight at a time).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "algo/intlist.h"
#include "algo/lcs.h"

#define REQUIRE(c)                                                            \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_intlist: %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void check_lcs(const int64_t *v, size_t n)
{
	int64_t *a = malloc((n ? n : 1) * sizeof *a);
	int64_t *b = malloc((n ? n : 1) * sizeof *b);
	REQUIRE(a && b);
	if (n) { /* v may be NULL when n is 0 */
		memcpy(a, v, n * sizeof *a);
		memcpy(b, v, n * sizeof *b);
	}
	nk_lcs_result h, r;
	REQUIRE(nk_lcs(&h, a, n, NK_LCS_HASH) == NK_OK);
	REQUIRE(nk_lcs(&r, b, n, NK_LCS_RADIX) == NK_OK);
	REQUIRE(h.len == r.len && h.first == r.first && h.last == r.last);
	if (n) {
		int64_t lo = v[0], hi = v[0];
		for (size_t i = 1; i < n; i++) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
		memcpy(b, v, n * sizeof *b);
		REQUIRE(nk_lcs_bounded(&h, b, n, lo, hi, NK_LCS_AUTO) == NK_OK);
		REQUIRE(h.len == r.len && h.first == r.first && h.last == r.last);
	}
	REQUIRE(r.len <= n);
	REQUIRE((n == 0) == (r.len == 0));
	if (r.len) {
		REQUIRE((uint64_t)r.last - (uint64_t)r.first + 1 == r.len);
		memcpy(a, v, n * sizeof *a);
		qsort(a, n, sizeof *a, cmp_i64);
		for (uint64_t i = 0; i < r.len && i < 4096; i++) {
			int64_t want = (int64_t)((uint64_t)r.first + i);
			REQUIRE(bsearch(&want, a, n, sizeof *a, cmp_i64));
		}
	}
	free(a);
	free(b);
}

/* Per-line results, flattened: count, then the values, line after line. */
struct log {
	int64_t *v;
	size_t n, cap;
};

static void log_push(struct log *l, int64_t x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		REQUIRE(l->v);
	}
	l->v[l->n++] = x;
}

static int on_line(void *ctx, int64_t *v, size_t n, unsigned long long line)
{
	struct log *l = ctx;
	log_push(l, (int64_t)line);
	log_push(l, (int64_t)n);
	for (size_t i = 0; i < n; i++)
		log_push(l, v[i]);
	check_lcs(v, n);
	return 0;
}

/* The reference for a text the parser accepted: the numbers between the
 * separators, converted by the textbook loop with an exact overflow test;
 * returns how many, or -1 when one does not convert. */
static long reference(const uint8_t *d, size_t size, int64_t *out, size_t max)
{
	size_t n = 0, i = 0;
	while (i < size) {
		if (strchr(" \t\r\v\f\n,[]", d[i]) && d[i]) {
			i++;
			continue;
		}
		int neg = d[i] == '-';
		if (d[i] == '-' || d[i] == '+')
			i++;
		uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
		size_t start = i;
		for (; i < size && d[i] >= '0' && d[i] <= '9'; i++) {
			unsigned dig = d[i] - '0';
			if (acc > (lim - dig) / 10)
				return -1;
			acc = acc * 10 + dig;
		}
		if (i == start || n == max)
			return -1;
		out[n++] = neg ? (acc ? -(int64_t)(acc - 1) - 1 : 0) : (int64_t)acc;
	}
	return (long)n;
}

struct outcome {
	int rc;
	char msg[256];
	int64_t *v;
	size_t n;
	int64_t lo, hi;
};

static void parse(struct outcome *o, int per_line, const uint8_t *data,
		  size_t size, size_t chunk)
{
	nk_intlist p;
	struct log l = { 0 };
	nk_error_clear();
	REQUIRE(nk_intlist_init(&p, per_line, on_line, &l) == NK_OK);
	o->rc = nk_intlist_parse(&p, "f", data, size, chunk);
	snprintf(o->msg, sizeof o->msg, "%s", o->rc ? nk_last_error() : "");
	if (per_line) {
		o->v = l.v;
		o->n = l.n;
	} else {
		o->v = p.v;
		o->n = p.n;
		o->lo = p.lo;
		o->hi = p.hi;
		p.v = NULL;
		free(l.v);
	}
	nk_intlist_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int per_line = 0; per_line < 2; per_line++) {
		struct outcome whole, cut;
		parse(&whole, per_line, data, size, 0);
		parse(&cut, per_line, data, size, 1 + size % 7);
		REQUIRE(whole.rc == cut.rc);
		REQUIRE(strcmp(whole.msg, cut.msg) == 0);
		/* Even after an error: the same values (or lines) came first. */
		REQUIRE(whole.n == cut.n);
		REQUIRE(whole.n == 0 ||
			memcmp(whole.v, cut.v, whole.n * sizeof *whole.v) == 0);
		if (whole.rc == NK_OK) {
			if (!per_line) {
				check_lcs(whole.v, whole.n);
				int64_t lo = INT64_MAX, hi = INT64_MIN;
				for (size_t i = 0; i < whole.n; i++) {
					lo = whole.v[i] < lo ? whole.v[i] : lo;
					hi = whole.v[i] > hi ? whole.v[i] : hi;
				}
				REQUIRE(whole.lo == lo && whole.hi == hi);
				REQUIRE(cut.lo == lo && cut.hi == hi);
				int64_t *ref = malloc((size / 2 + 1) * sizeof *ref);
				REQUIRE(ref);
				long m = reference(data, size, ref, size / 2 + 1);
				REQUIRE(m == (long)whole.n);
				REQUIRE(m == 0 || memcmp(ref, whole.v, whole.n * sizeof *ref) == 0);
				free(ref);
			}
		} else {
			REQUIRE(whole.rc == NK_EFORMAT);
			/* Errors name the input and a line:column in it. */
			REQUIRE(strncmp(whole.msg, "f:", 2) == 0);
		}
		free(whole.v);
		free(cut.v);
	}
	return 0;
}
