/* lcs.c - longest consecutive sequence: a hash set and a radix sort.
 *
 * Both are O(n).  Which one NK_LCS_AUTO uses was decided by
 * scripts/bench-lcs (5,000,000 values in +-10^9 with a planted run of
 * 100,000; 51 MB of text): the whole run, parsing included, takes 0.18 s
 * with the radix sort and 3.5 s with the hash set (2026-12-06, load 5;
 * 0.35 and 3.95 s in a second run).
 * The radix sort streams through memory, while every hash probe is a
 * cache (and TLB) miss in a 64 MB table; prefetching 16 keys ahead
 * narrows the gap but does not close it.  The hash set keeps its place as
 * the cross-check (the unit test and the fuzz target compare the two).
 *
 * The keys are the values less their minimum, so the work depends on the
 * spread of the values, not on their magnitude.  Three ways to sort them:
 *   - a spread of 2^32 or more: 64-bit keys, LSD passes of 8-bit digits
 *     (passes whose digit is the same for every key skipped);
 *   - a spread below 2^32 and at most 65,535 values: 32-bit keys, the
 *     same passes over half the bytes (radix32_run);
 *   - a spread below 2^32 and more values (the benchmark): 32-bit keys
 *     written over the values' own memory, scattered once by their top
 *     bits into up to 2048 buckets of about 1024 keys or more, each
 *     bucket then sorted by its low bits in L1 (two passes of up to 11
 *     bits on the benchmark) and scanned, the run carried from one
 *     bucket into the next (bucket32_run).  One trip through memory
 *     instead of four, and no new memory: on this VM the first touch of
 *     a page costs more than sorting what it holds.
 * On the benchmark nk_lcs fell from 555 M instructions to 369 M
 * (cachegrind), and from 80 MB of peak memory to 42 MB; with the parser's
 * changes (intlist.c) the run went from 2.1x the CPU time of `wc -w` on
 * the same file to 0.5-0.7x (README).
 *
 * All arithmetic on values is done on their uint64_t images, where x+1
 * and y-x+1 wrap harmlessly; a run never steps past INT64_MAX because the
 * walk stops there before adding one.
 */
#include "algo/lcs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "core/base.h"

/* The int64_t whose two's-complement image is u, without relying on the
 * implementation-defined conversion of out-of-range values. */
static inline int64_t u2i(uint64_t u)
{
	return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)~u - 1;
}

int nk_lcs_algo_parse(const char *name)
{
	if (!name || !strcmp(name, "auto") || !strcmp(name, ""))
		return NK_LCS_AUTO;
	if (!strcmp(name, "hash"))
		return NK_LCS_HASH;
	if (!strcmp(name, "radix"))
		return NK_LCS_RADIX;
	return -1;
}

/* ---- hash set ---------------------------------------------------------- */

/* The splitmix64 finalizer: a bijection whose every output bit depends on
 * every input bit, so consecutive keys land far apart. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* A seed the input cannot predict, so that nobody can prepare values that
 * all probe the same slots.  Drawn once per thread: with -l there is one
 * set per line, and a system call each would show. */
static uint64_t random_seed(void)
{
	static _Thread_local uint64_t seed;
	if (seed)
		return seed;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^
		       (uint64_t)(uintptr_t)&ts;
	}
	seed = mix64(seed) | 1; /* never 0: 0 means "not drawn yet" */
	return seed;
}

/* Key 0 marks an empty slot; whether 0 itself is present is kept aside. */
struct set {
	uint64_t *slot;
	uint64_t mask, seed;
	int shift, has_zero;
};

static inline uint64_t set_home(const struct set *s, uint64_t k)
{
	return mix64(k ^ s->seed) >> s->shift;
}

static inline int set_has(const struct set *s, uint64_t k)
{
	if (k == 0)
		return s->has_zero;
	for (uint64_t i = set_home(s, k);; i = (i + 1) & s->mask) {
		uint64_t x = s->slot[i];
		if (x == k)
			return 1;
		if (x == 0)
			return 0;
	}
}

/* Ahead of the element being worked on, so that the cache misses of the
 * next few overlap with this one. */
#define PREFETCH_AHEAD 16

static int lcs_hash(nk_lcs_result *res, const int64_t *v, size_t n)
{
	struct set s = { .seed = random_seed() };
	size_t cap = 16;
	int bits = 4;
	/* Load at most 2/3: 1.5n..3n slots. */
	while (cap - cap / 3 < n) {
		if (cap > SIZE_MAX / 16)
			return nk_error(NK_ENOMEM, "lcs: %zu values are too many", n);
		cap *= 2;
		bits++;
	}
	s.slot = nk_calloc(cap, sizeof *s.slot);
	if (!s.slot)
		return NK_ENOMEM;
	s.mask = cap - 1;
	s.shift = 64 - bits;

	for (size_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			__builtin_prefetch(&s.slot[set_home(&s, (uint64_t)v[i + PREFETCH_AHEAD])]);
		uint64_t k = (uint64_t)v[i];
		if (k == 0) {
			s.has_zero = 1;
			continue;
		}
		for (uint64_t j = set_home(&s, k);; j = (j + 1) & s.mask) {
			uint64_t x = s.slot[j];
			if (x == k)
				break;
			if (x == 0) {
				s.slot[j] = k;
				break;
			}
		}
	}

	/* Walk up from every value whose predecessor is absent: each value is
	 * visited by one walk, so this is O(n) too. */
	uint64_t best = 0, best_first = 0;
	const uint64_t min_key = (uint64_t)INT64_MIN, max_key = (uint64_t)INT64_MAX;
	for (size_t j = 0; j <= cap; j++) {
		uint64_t k;
		if (j == cap) { /* the key kept aside */
			if (!s.has_zero)
				break;
			k = 0;
		} else {
			if (j + PREFETCH_AHEAD < cap && s.slot[j + PREFETCH_AHEAD])
				__builtin_prefetch(&s.slot[set_home(&s, s.slot[j + PREFETCH_AHEAD] - 1)]);
			if ((k = s.slot[j]) == 0)
				continue;
		}
		if (k != min_key && set_has(&s, k - 1))
			continue;
		uint64_t y = k;
		while (y != max_key && set_has(&s, y + 1))
			y++;
		uint64_t len = y - k + 1;
		if (len > best || (len == best && u2i(k) < u2i(best_first))) {
			best = len;
			best_first = k;
		}
	}
	free(s.slot);
	res->len = best;
	res->first = best ? u2i(best_first) : 0;
	res->last = best ? u2i(best_first + best - 1) : 0;
	return NK_OK;
}

/* ---- radix sort -------------------------------------------------------- */

#define RADIX_BITS 8
#define RADIX_SIZE (1u << RADIX_BITS)

static void insertion_sort(uint64_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x = k[i];
		size_t j = i;
		for (; j > 0 && k[j - 1] > x; j--)
			k[j] = k[j - 1];
		k[j] = x;
	}
}

/* Turns a pass's digit counts c into the first place of each digit;
 * 0 when every key has the digit `first` has (the pass would only copy:
 * skip it). */
static int radix_offsets(size_t *c, size_t n, unsigned first)
{
	if (c[first] == n)
		return 0;
	size_t sum = 0;
	for (unsigned d = 0; d < RADIX_SIZE; d++) {
		size_t t = c[d];
		c[d] = sum;
		sum += t;
	}
	return 1;
}

/* Sorts k[0..n) (keys below 2^bits) and returns where the result is: k or
 * tmp. */
static uint64_t *radix_sort(uint64_t *k, uint64_t *tmp, size_t n, int bits,
			    size_t (*cnt)[RADIX_SIZE])
{
	int passes = (bits + RADIX_BITS - 1) / RADIX_BITS;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = k[i];
		for (int p = 0; p < passes; p++)
			cnt[p][(x >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
	}
	uint64_t *src = k, *dst = tmp;
	for (int p = 0; p < passes; p++) {
		int sh = p * RADIX_BITS;
		size_t *c = cnt[p];
		if (!radix_offsets(c, n, (src[0] >> sh) & (RADIX_SIZE - 1)))
			continue;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = src[i];
			dst[c[(x >> sh) & (RADIX_SIZE - 1)]++] = x;
		}
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	return src;
}

/* Every page of a sort buffer is written by the first pass: asked for in
 * one call they cost a little over half what their page faults do (10,000
 * for 5 M 64-bit keys; see intlist.c).  A hint only, and not worth a system
 * call for small arrays (one per line with -l). */
static void populate(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
	if (bytes < (1u << 20))
		return;
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
	(void)madvise((void *)a, (uintptr_t)p + bytes - a, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)bytes;
#endif
}

/* The state of the scan for the longest run, carried across buckets. */
struct run_scan {
	uint32_t start, prev;
	uint64_t best;
	uint32_t best_first;
};

/* Ascending keys, so keeping a run only when strictly longer keeps the
 * smallest start among ties. */
static void scan32(struct run_scan *r, const uint32_t *a, size_t n)
{
	uint32_t start = r->start, prev = r->prev, best_first = r->best_first;
	uint64_t best = r->best;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = a[i];
		if (x == prev)
			continue;
		if (x != prev + 1)
			start = x;
		prev = x;
		if ((uint64_t)(x - start) + 1 > best) {
			best = (uint64_t)(x - start) + 1;
			best_first = start;
		}
	}
	r->start = start, r->prev = prev, r->best = best, r->best_first = best_first;
}

/* A spread below 2^32 (the benchmark's +-10^9 among them) is sorted as
 * 32-bit keys in arrays of their own: every pass moves half the bytes, the
 * histograms are counted while the keys are made, and the two arrays take
 * the place of the 64-bit path's second buffer.  On the benchmark's 5 M
 * values nk_lcs fell from 220 to 140 ms of CPU (best of 7, loaded machine).
 * Sets the longest run's length and its first key. */
static int radix32_run(const int64_t *v, size_t n, uint64_t base, int bits,
		       uint64_t *best_out, uint64_t *first_out)
{
	int passes = (bits + RADIX_BITS - 1) / RADIX_BITS;
	uint32_t *k = nk_reallocarray(NULL, n, sizeof *k);
	uint32_t *tmp = nk_reallocarray(NULL, n, sizeof *tmp);
	size_t (*cnt)[RADIX_SIZE] = nk_calloc((size_t)passes, sizeof *cnt);
	if (!k || !tmp || !cnt) {
		free(k);
		free(tmp);
		free(cnt);
		return NK_ENOMEM;
	}
	populate(k, n * sizeof *k);
	populate(tmp, n * sizeof *tmp);
	for (size_t i = 0; i < n; i++) {
		uint32_t x = (uint32_t)((uint64_t)v[i] - base);
		k[i] = x;
		for (int p = 0; p < passes; p++)
			cnt[p][(x >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
	}
	uint32_t *src = k, *dst = tmp;
	for (int p = 0; p < passes; p++) {
		int sh = p * RADIX_BITS;
		size_t *c = cnt[p];
		if (!radix_offsets(c, n, (src[0] >> sh) & (RADIX_SIZE - 1)))
			continue;
		for (size_t i = 0; i < n; i++) {
			uint32_t x = src[i];
			dst[c[(x >> sh) & (RADIX_SIZE - 1)]++] = x;
		}
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	struct run_scan r = {src[0], src[0], 1, src[0]};
	scan32(&r, src + 1, n - 1);
	free(k);
	free(tmp);
	free(cnt);
	*best_out = r.best;
	*first_out = r.best_first;
	return NK_OK;
}

/* ---- 32-bit keys in buckets --------------------------------------------- */

/* Above this many values the 32-bit keys take one trip through memory:
 * scattered by their top bits into at most 2^BUCKET_BITS buckets, each
 * then sorted by its low bits while it sits in L1 and scanned, the run
 * carried from one bucket into the next.  An LSD sort over the whole array
 * would read and write it once per digit. */
#define BUCKET_MIN 65536
/* 2048 buckets: their write streams (2048 cache lines, 128 KB) stay in L2
 * during the scatter. */
#define BUCKET_BITS 11
/* Aim for buckets of 1024 keys or more (a 4 KB block and its scratch in
 * L1), fewer buckets for fewer values. */
#define BUCKET_KEYS_BITS 10
/* Digits within a bucket: 2048 counters of 32 bits (8 KB) per pass. */
#define DIGIT_MAX_BITS 11
#define DIGIT_MAX_PASSES 3

/* Sorts a[0..n), keys that differ only in their low `bits` (at most
 * DIGIT_MAX_BITS * DIGIT_MAX_PASSES), by LSD passes into and out of tmp;
 * returns where the result is.  Counters of 32 bits: a bucket of 2^32 keys
 * or more takes the 64-bit counters of radix_sort's kind instead (caller). */
static uint32_t *sort_low(uint32_t *a, uint32_t *tmp, size_t n, int bits)
{
	static _Thread_local uint32_t cnt[DIGIT_MAX_PASSES][1u << DIGIT_MAX_BITS];
	if (n <= 32) {
		for (size_t i = 1; i < n; i++) {
			uint32_t x = a[i];
			size_t j = i;
			for (; j > 0 && a[j - 1] > x; j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return a;
	}
	int passes = (bits + DIGIT_MAX_BITS - 1) / DIGIT_MAX_BITS;
	if (passes == 0)
		return a;
	int db = (bits + passes - 1) / passes;
	uint32_t mask = (1u << db) - 1;
	memset(cnt, 0, sizeof cnt[0] * (size_t)passes);
	if (passes == 2) { /* the common case, unrolled: 5% fewer instructions */
		for (size_t i = 0; i < n; i++) {
			cnt[0][a[i] & mask]++;
			cnt[1][(a[i] >> db) & mask]++;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			uint32_t x = a[i];
			for (int p = 0; p < passes; p++)
				cnt[p][(x >> (p * db)) & mask]++;
		}
	}
	uint32_t *src = a, *dst = tmp;
	for (int p = 0; p < passes; p++) {
		int sh = p * db;
		uint32_t *c = cnt[p];
		if (c[(src[0] >> sh) & mask] == n)
			continue; /* every key has this digit: only a copy */
		uint32_t sum = 0;
		for (uint32_t d = 0; d <= mask; d++) {
			uint32_t t = c[d];
			c[d] = sum;
			sum += t;
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t x = src[i];
			dst[c[(x >> sh) & mask]++] = x;
		}
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	return src;
}

/* The longest run among n >= BUCKET_MIN values whose spread (below 2^32)
 * needs `bits` bits: its length and first key (value - base).  The keys
 * and the buckets take the place of the values, 4 + 4 bytes for 8: no new
 * memory, whose first touch (a page fault per 4 KB) would cost more than
 * the sort (see populate). */
static int bucket32_run(int64_t *v, size_t n, uint64_t base, int bits,
			uint64_t *best_out, uint64_t *first_out)
{
	int hi = 63 - __builtin_clzll((unsigned long long)n) - BUCKET_KEYS_BITS;
	hi = hi > BUCKET_BITS ? BUCKET_BITS : hi;
	hi = hi > bits ? bits : hi;
	int lo = bits - hi;
	size_t nb = (size_t)1 << hi;
	size_t *at = nk_calloc(nb + 1, sizeof *at);
	if (!at)
		return NK_ENOMEM;
	/* The keys over the first half of v, each written after the value
	 * it overwrites was read (key i ends at byte 4i + 4 <= 8i for i >= 1;
	 * for i = 0 the value is read first).  memcpy, a character access,
	 * keeps the compiler from reordering the two.  With them the bucket
	 * sizes, then each bucket's first place. */
	unsigned char *mem = (unsigned char *)v;
	for (size_t i = 0; i < n; i++) {
		int64_t y;
		memcpy(&y, mem + 8 * i, sizeof y);
		uint32_t x = (uint32_t)((uint64_t)y - base);
		memcpy(mem + 4 * i, &x, sizeof x);
		at[(x >> lo) + 1]++;
	}
	uint32_t *k = (uint32_t *)v, *tmp = k + n;
	for (size_t b = 1; b <= nb; b++)
		at[b] += at[b - 1];
	/* at[b], bucket b's start, ends the scatter at its end: bucket b is
	 * then at[b-1]..at[b] (from 0 for the first). */
	for (size_t i = 0; i < n; i++) {
		uint32_t x = k[i];
		tmp[at[x >> lo]++] = x;
	}
	/* The minimum's key, 0, is the first: a run of 1 to start from. */
	struct run_scan r = { 0, 0, 1, 0 };
	size_t from = 0;
	for (size_t b = 0; b < nb; b++) {
		size_t to = at[b];
		if (to > from)
			scan32(&r, sort_low(tmp + from, k + from, to - from, lo),
			       to - from);
		from = to;
	}
	free(at);
	*best_out = r.best;
	*first_out = r.best_first;
	return NK_OK;
}

static int lcs_radix(nk_lcs_result *res, int64_t *v, size_t n, int64_t lo,
		     int64_t hi)
{
	if (n == 0) {
		*res = (nk_lcs_result){ 0, 0, 0 };
		return NK_OK;
	}
	/* Keys are offsets from the minimum: order-preserving, and as many
	 * bits as the spread needs.  (int64_t and uint64_t may alias.) */
	uint64_t *k = (uint64_t *)v, base = (uint64_t)lo;
	uint64_t range = (uint64_t)hi - base;
	if (n > 64 && range > 0 && range <= UINT32_MAX) {
		uint64_t best, first;
		int bits = 64 - __builtin_clzll(range);
		int rc = n >= BUCKET_MIN && n <= UINT32_MAX
				 ? bucket32_run(v, n, base, bits, &best, &first)
				 : radix32_run(v, n, base, bits, &best, &first);
		if (rc)
			return rc;
		res->len = best;
		res->first = u2i(base + first);
		res->last = u2i(base + first + best - 1);
		return NK_OK;
	}
	for (size_t i = 0; i < n; i++)
		k[i] = (uint64_t)v[i] - base;

	uint64_t *sorted = k, *tmp = NULL;
	if (n <= 64) {
		insertion_sort(k, n);
	} else if (range > 0) {
		/* Histograms for the passes the spread needs, no more: small
		 * arrays (one per line with -l) stay cheap. */
		int bits = 64 - __builtin_clzll(range);
		size_t (*cnt)[RADIX_SIZE] =
			nk_calloc((size_t)(bits + RADIX_BITS - 1) / RADIX_BITS, sizeof *cnt);
		tmp = nk_reallocarray(NULL, n, sizeof *tmp);
		if (!cnt || !tmp) {
			free(cnt);
			free(tmp);
			return NK_ENOMEM;
		}
		populate(tmp, n * sizeof *tmp);
		sorted = radix_sort(k, tmp, n, bits, cnt);
		free(cnt);
	}

	/* Ascending, so keeping a run only when strictly longer keeps the
	 * smallest start among ties. */
	uint64_t best = 1, best_first = sorted[0], start = sorted[0];
	uint64_t prev = sorted[0];
	for (size_t i = 1; i < n; i++) {
		uint64_t x = sorted[i];
		if (x == prev)
			continue;
		if (x != prev + 1)
			start = x;
		prev = x;
		if (x - start + 1 > best) {
			best = x - start + 1;
			best_first = start;
		}
	}
	free(tmp);
	res->len = best;
	res->first = u2i(base + best_first);
	res->last = u2i(base + best_first + best - 1);
	return NK_OK;
}

int nk_lcs_bounded(nk_lcs_result *res, int64_t *v, size_t n, int64_t lo,
		   int64_t hi, enum nk_lcs_algo algo)
{
	if (algo == NK_LCS_HASH)
		return lcs_hash(res, v, n);
	return lcs_radix(res, v, n, lo, hi);
}

int nk_lcs(nk_lcs_result *res, int64_t *v, size_t n, enum nk_lcs_algo algo)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	if (algo != NK_LCS_HASH) {
		for (size_t i = 0; i < n; i++) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
	}
	return nk_lcs_bounded(res, v, n, lo, hi, algo);
}
