/* fuzz_intlist.c - the integer-list parser and lcs on whatever parses.
 *
 * Every input is parsed four ways: whole and per line, each all at once
 * and in small chunks (so numbers, signs and brackets are cut at every
 * place).  Invariants, any violation aborts:
 *   - the chunked parse gives the same values, or the same error message,
 *     as the one-piece parse;
 *   - on every list, the hash set and the radix sort give the same run;
 *   - the run's length is at most the count, last - first + 1 == length,
 *     and every value of the run is in the list.
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

struct outcome {
	int rc;
	char msg[256];
	int64_t *v;
	size_t n;
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
			if (!per_line)
				check_lcs(whole.v, whole.n);
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
