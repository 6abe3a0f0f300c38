/* lcs.h - the longest run of consecutive values in an array of int64_t.
 *
 * "Consecutive" means x, x+1, ..., x+k-1 all present, wherever they stand
 * in the array; duplicates count once.  [100,4,200,1,3,2] has the run
 * 1,2,3,4: length 4.  The whole int64_t range is handled: no value is
 * incremented past INT64_MAX, and lengths are unsigned differences.
 *
 * Two O(n) algorithms with the same answer:
 *   NK_LCS_HASH   an open-addressing hash set (linear probing, splitmix64
 *                 finalizer over the key xor a per-call random seed), then a
 *                 walk up from each value whose predecessor is absent;
 *   NK_LCS_RADIX  a radix sort of (value - min), then one scan: LSD
 *                 passes of 8-bit digits, or, past 65,535 values whose
 *                 spread is below 2^32, one scatter into buckets by the
 *                 top bits and each bucket sorted in cache (lcs.c).
 * NK_LCS_AUTO picks radix, 11 to 19 times faster on the benchmark input
 * (see lcs.c and scripts/bench-lcs).
 */
#ifndef NK_LCS_H
#define NK_LCS_H

#include <stddef.h>
#include <stdint.h>

enum nk_lcs_algo { NK_LCS_AUTO, NK_LCS_HASH, NK_LCS_RADIX };

typedef struct nk_lcs_result {
	uint64_t len;        /* 0 for an empty array */
	int64_t first, last; /* the run; among equally long runs the one with
	                      * the smallest first value.  0, 0 when empty. */
} nk_lcs_result;

/* Finds the longest run in v[0..n).  v is used as scratch: its contents
 * are unspecified afterwards.  Needs up to 8n extra bytes (radix; about
 * 40 KB past 65,535 values whose spread is below 2^32, sorted in v's own
 * memory) or 16n (hash).  Returns NK_OK, or NK_ENOMEM with a message. */
int nk_lcs(nk_lcs_result *res, int64_t *v, size_t n, enum nk_lcs_algo algo);

/* The same when the smallest and largest of v[0..n) are known (lo, hi;
 * the parser notes them as it goes): the radix sort's pass over the whole
 * array to find them is saved.  They must be exact. */
int nk_lcs_bounded(nk_lcs_result *res, int64_t *v, size_t n, int64_t lo,
		   int64_t hi, enum nk_lcs_algo algo);

/* Parses "hash", "radix" or "auto" (for NK_LCS_ALGO); -1 otherwise. */
int nk_lcs_algo_parse(const char *name);

#endif
