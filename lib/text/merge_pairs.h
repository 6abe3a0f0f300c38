/* merge_pairs.h - the pair-merge engine bpe_train.c and wordpiece_train.c
 * share; internal to lib/text.
 *
 * Identical words are counted once (nk_mp_pieces), then each becomes a
 * sequence of token ids.  Pair counts live in a hash table, each pair
 * with the list of words it occurs in, and a max-heap of (count, pair)
 * picks the next merge.  A merge rewrites only the words on the chosen
 * pair's list and moves the counts of the pairs around each rewritten
 * occurrence; the corpus is never recounted.  Heap entries carry the count they were pushed with
 * and are skipped when it is no longer current (every changed pair gets
 * a fresh entry).
 *
 * What a merged token is and how equal counts are ordered are the
 * trainer's: it names the new token's id to nk_mp_apply and passes the
 * tie rule to nk_mp_init.
 */
#ifndef NK_MERGE_PAIRS_H
#define NK_MERGE_PAIRS_H

#include "core/hash.h"

#include <stddef.h>
#include <stdint.h>

/* Distinct pieces of text with their counts, in first-seen order (so
 * nothing depends on hashing), their bytes in one arena. */
struct nk_mp_pieces {
	struct nk_mp_piece { uint64_t count; uint32_t off, len; } *piece;
	size_t pused, pcap;
	nk_idtab index;             /* by FNV-1a of the bytes */
	unsigned char *arena;
	size_t aused, acap;
};

int nk_mp_pieces_init(struct nk_mp_pieces *P);
void nk_mp_pieces_free(struct nk_mp_pieces *P);
/* Counts one occurrence of the n bytes at s. */
int nk_mp_pieces_add(struct nk_mp_pieces *P, const unsigned char *s,
		     size_t n);

struct nk_mp_word {
	uint32_t *sym;
	uint32_t n;
	uint64_t count;
	uint32_t stamp;
};

struct nk_mp_pair {
	uint32_t a, b;
	int64_t count;
	uint32_t *occ; /* words that contain (or contained) the pair */
	uint32_t n_occ, cap_occ;
	uint32_t stamp;
};

/* The tie rule: 1 when pair p is merged before pair q of equal count.
 * p and q point into the same array, so p < q compares pair ids. */
typedef int (*nk_mp_tie_fn)(const void *ctx, const struct nk_mp_pair *p,
			    const struct nk_mp_pair *q);

struct nk_mp {
	struct nk_mp_word *words;  /* filled by the trainer, sym malloc'd */
	size_t n_words;
	struct nk_mp_pair *pairs;
	size_t n_pairs, cap_pairs;
	uint64_t *pslot; /* (a << 32 | b) + 1 keyed; its pair index in pidx */
	uint32_t *pidx;
	size_t pmask;
	struct nk_mp_hent { int64_t count; uint32_t pair; } *heap;
	size_t hn, hcap;
	uint32_t *touched;
	size_t n_touched, cap_touched;
	uint32_t stamp;
	nk_mp_tie_fn tie;
	const void *tie_ctx;
};

/* Room for max_words words (words[0..n_words) for the trainer to fill). */
int nk_mp_init(struct nk_mp *M, size_t max_words, nk_mp_tie_fn tie,
	       const void *tie_ctx);
void nk_mp_free(struct nk_mp *M);
/* Counts the pairs of the filled words and heaps them. */
int nk_mp_count(struct nk_mp *M);
/* The next pair to merge in *pair: 1, or 0 when none is left or the best
 * count is below min_freq. */
int nk_mp_next(struct nk_mp *M, uint64_t min_freq, uint32_t *pair);
/* Rewrites every occurrence of the pair as token c. */
int nk_mp_apply(struct nk_mp *M, uint32_t pair, uint32_t c);

#endif
