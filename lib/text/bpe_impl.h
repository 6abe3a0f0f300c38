/* bpe_impl.h - what the bpe*.c files share and callers must not see:
 * the vocabulary's layout and the helpers that cross files. */
#ifndef NK_BPE_IMPL_H
#define NK_BPE_IMPL_H

#include "core/base.h"
#include "core/io.h"
#include "text/bpe.h"
#include "text/pretok.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RANK_NONE UINT32_MAX
#define SHORT_PIECE 96          /* longer pieces use the heap merge */
#define CACHE_PIECE 256         /* longest piece kept in the cache: C's
				 * rules of dashes and stars recur */
#define CACHE_SLOTS (1u << 15)

struct special {
	char *text;
	size_t len;
	uint32_t id;
};

/* A slot of the rank table holds the token's first 8 bytes (zero-padded)
 * and a check word of its length and 24 bits of its hash beside its rank,
 * so a lookup that finds its slot has the answer there: a token of up to
 * 8 bytes (most of those the merge loop asks for) is wholly in the slot,
 * and a longer one reads the pool only once the first 8 bytes, length and
 * hash bits agree.  The table is larger than a core's cache, and going on
 * to the token's offset and bytes were two more misses in a row on every
 * hit (a third of encoding C headers went to waiting on them). */
struct rank_slot {
	uint64_t head;   /* head_bytes of the token */
	uint32_t check;  /* slot_check(hash, length) */
	uint32_t rank1;  /* rank + 1; 0: empty */
};

struct nk_bpe {
	int pretok;
	nk_pretok_re *re;        /* pretok == NK_PRETOK_REGEX: the pattern */
	uint32_t n_ranks;
	unsigned char *pool;     /* token bytes, by rank */
	uint32_t *off;           /* n_ranks + 1 offsets into pool */
	struct rank_slot *slots; /* the rank table (below) */
	size_t mask;
	uint64_t *filter;        /* the tokens' filter (below); NULL: none */
	size_t fmask;            /* its words - 1 */
	uint32_t byte_rank[256];
	uint32_t *pair1;         /* [a << 8 | b]: rank of the 2 bytes + 1; 0 none */
	struct special *spec;
	size_t n_spec;
	uint32_t n_vocab;
	uint32_t explicit_n_vocab; /* from the side file, 0 when absent */
	uint32_t *dec_off;       /* by id - n_ranks: offset into dec_pool, */
	uint32_t *dec_len;       /* and length (UINT32_MAX: no such id) */
	unsigned char *dec_pool; /* special token texts */
	/* Set when pool, off, slots and pair1 point into a compiled
	 * vocabulary's mapping (bpe_compiled.c) rather than own memory:
	 * freeing unmaps it instead (map_len 0: the caller's memory,
	 * left alone). */
	void *map;
	size_t map_len;
};

/* Every lookup hashes a piece, and most pieces are under 8 bytes: the
 * last 1-8 bytes are read with two overlapping loads (or three bytes),
 * never byte by byte, and never past the end. */
static inline uint64_t hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
	while (n > 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	uint64_t w = 0;
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		w = (uint64_t)a << 32 | b;
	} else if (n) {
		w = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
	}
	h = (h ^ w) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

/* The first min(n, 8) bytes of p as a little-endian integer (the rest
 * zero), read with at most two loads and never past p + n. */
static inline uint64_t head_bytes(const unsigned char *p, size_t n)
{
	uint64_t w;
	if (n >= 8) {
		memcpy(&w, p, 8);
		return w;
	}
	if (n >= 4) {
		uint32_t a, c;
		memcpy(&a, p, 4);
		memcpy(&c, p + n - 4, 4);
		return (uint64_t)a | (uint64_t)c << (8 * (n - 4));
	}
	if (n == 0)
		return 0;
	return (uint64_t)p[0] | (uint64_t)p[n >> 1] << (8 * (n >> 1)) |
	       (uint64_t)p[n - 1] << (8 * (n - 1));
}

/* Whether rank r's token is s[0..n): its length, then its bytes, the
 * short ones (most of what the merge loop looks up) in a register or
 * two rather than by a call to memcmp. */
static inline int token_equal(const nk_bpe *b, uint32_t r,
			      const unsigned char *s, size_t n)
{
	/* r comes from a slot, which in a compiled vocabulary is not
	 * checked at load (bpe_compiled.c): in range before it indexes. */
	if (r >= b->n_ranks || b->off[r + 1] - b->off[r] != n)
		return 0;
	const unsigned char *t = b->pool + b->off[r];
	if (n <= 8)
		return head_bytes(t, n) == head_bytes(s, n);
	return memcmp(t, s, n) == 0;
}

/* A slot's check word: the length (up to 255; a longer token's exact
 * length is checked in the pool) and the hash's top 24 bits, which the
 * slot's index does not use. */
static inline uint32_t slot_check(uint64_t h, size_t n)
{
	return (uint32_t)(h >> 40) << 8 | (uint32_t)(n < 255 ? n : 255);
}

/* The filter: a word of 64 bits per few tokens, in which each token
 * sets two bits, both chosen by bits of its hash that the slot's index
 * and check do not use.  A sixth (prose) to two fifths (C) of the rank
 * table's lookups are for strings that are no token (a merge's
 * candidates, pieces of several tokens),
 * and the table is larger than a core's cache: the filter, ten bits a
 * token (128 KB for cl100k), answers most of them from the cache, and
 * lets through one in about 30 of those it should refuse (3.4% of
 * random hashes against cl100k's filter). */
static inline size_t filter_word(uint64_t h, size_t fmask)
{
	return (size_t)(h >> 20) & fmask;
}

static inline uint64_t filter_bits(uint64_t h)
{
	return 1ull << (h >> 34 & 63) | 1ull << (h >> 50 & 63);
}

/* The rank of s[0..n) whose hash_bytes is h, RANK_NONE when it is no
 * token. */
static inline uint32_t lookup_h(const nk_bpe *b, const unsigned char *s,
				size_t n, uint64_t h)
{
	if (b->filter) {
		uint64_t m = filter_bits(h);
		if ((b->filter[filter_word(h, b->fmask)] & m) != m)
			return RANK_NONE;
	}
	uint64_t head = head_bytes(s, n);
	uint32_t check = slot_check(h, n);
	for (size_t i = h & b->mask;; i = (i + 1) & b->mask) {
		const struct rank_slot *e = &b->slots[i];
		if (!e->rank1)
			return RANK_NONE;
		if (e->check == check && e->head == head &&
		    (n <= 8 || token_equal(b, e->rank1 - 1, s, n)))
			return e->rank1 - 1;
	}
}

static inline uint32_t lookup(const nk_bpe *b, const unsigned char *s,
			      size_t n)
{
	return lookup_h(b, s, n, hash_bytes(s, n));
}

/* The rank of the two bytes s[0], s[1]: every merge starts from these,
 * and a direct table answers them without hashing or probing. */
static inline uint32_t pair_rank(const nk_bpe *b, const unsigned char *s)
{
	return b->pair1[(unsigned)s[0] << 8 | s[1]] - 1;
}

/* Room for `more` ids in ids; inline, the encoder calls it per piece. */
static inline int nk_bpe_ids_reserve(nk_bpe_ids *ids, size_t more)
{
	if (ids->cap - ids->n >= more)
		return 0;
	if (more > SIZE_MAX - ids->n)
		return nk_error(NK_ENOMEM, "%zu more ids overflow", more);
	return nk_grow((void **)&ids->v, &ids->cap, ids->n + more,
		       sizeof *ids->v);
}

/* Builds pool/off/slots from `count` tokens given as (bytes, len) by
 * rank; `line` (may be NULL) maps ranks to file lines for messages
 * (bpe_load.c). */
int nk_bpe_build_table(nk_bpe *b, const unsigned char *const *tok,
		       const uint32_t *len, uint32_t count, const char *name,
		       const uint32_t *line);
/* Frees (or unmaps) pool, off, slots, pair1 and the filter (bpe_load.c). */
void nk_bpe_drop_tables(nk_bpe *b);
/* Loads a vocabulary file whole, with the size cap they all share. */
int nk_bpe_load_file(nk_input *in, const char *path);

#endif
