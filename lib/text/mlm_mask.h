/* mlm_mask.h - BERT's masked-language-model training instances, built and
 * masked as Google's create_pretraining_data.py does.
 *
 * A corpus is documents of sentences of token ids.  nk_mlm_build() cuts
 * it into instances of at most T tokens,
 *
 *   pairs:  [CLS] A... [SEP] B... [SEP]   types 0 up to the first [SEP], 1 after
 *   single: [CLS] A... [SEP]              types all 0
 *
 * with create_pretraining_data's algorithm step for step: documents
 * shuffled; per document a target length (T - 3, or with probability
 * short_seq_prob a uniform one in [2, T - 3]: drawn once per document, as
 * Google's does); sentences gathered until the target is reached or the
 * document ends; A is the first a_end of them (a_end uniform in
 * [1, gathered - 1]); B the rest, or with probability 0.5 (always when one
 * sentence was gathered) sentences from a random other document (10
 * tries) from a random start, the unused sentences put back; the longer
 * of A and B trimmed one token at a time, from the front or the back at
 * random, until they fit; dupe_factor passes over the corpus; every
 * instance masked as it is made; all instances shuffled at the end.
 * Single-segment instances (pairs 0) take the same path with A all the
 * gathered sentences, B empty (no a_end, no random next) and T - 2 tokens
 * for A: RoBERTa's inputs, without next-sentence prediction.
 *
 * Masking (nk_mlm_mask): the number of predictions is
 * min(max_pred, max(1, round(n * p))) with n the whole length including
 * [CLS] and [SEP], and round() half to even on the double n * p, as
 * Python's round() (n = 10, p = 0.15: 2; n = 30: 4).  Candidates are all
 * positions except the special ids (pad, unk, cls, sep, mask: Google's
 * excludes only [CLS] and [SEP]); with whole_word a token whose cont[id]
 * is 1 joins the word of the position before it.  The words are shuffled
 * and taken in turn while the budget lasts, a word that would exceed it
 * skipped; each chosen token becomes [MASK] (80%), a random id uniform in
 * [0, V) (10%: the whole vocabulary, specials included, as Google's), or
 * stays (10%).  Positions come out ascending, with the original ids as
 * labels.
 *
 * Randomness comes from lib/core/rng.h (xoshiro256**), drawn in the order
 * Google's code draws from Python's random: with the same seed the
 * instances are the same on every machine, and their statistics, not their
 * bits, equal Google's.
 */
#ifndef NK_MLM_MASK_H
#define NK_MLM_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "formats/mlm_instances.h"

#define NK_MLM_NONE 0xFFFFFFFFu   /* a special id the vocabulary lacks */

typedef struct nk_mlm_config {
	uint32_t T;               /* max_seq_length, [CLS] and [SEP]s included */
	double short_seq_prob;    /* 0.1 */
	double masked_lm_prob;    /* 0.15 */
	uint32_t max_pred;        /* max_predictions_per_seq, 20 */
	int pairs;                /* two segments and next-sentence labels */
	int whole_word;           /* mask whole words (needs cont) */
	int no_mask;              /* build only: mask later, per epoch */
	uint32_t dupe_factor;     /* passes over the corpus, 10 */
	uint64_t seed;
	uint32_t V;               /* vocabulary size, specials included */
	/* special ids; pad and unk may be NK_MLM_NONE */
	uint32_t pad, unk, cls, sep, mask;
	/* cont[id] = 1: the token continues the previous word (a "##"
	 * WordPiece, a byte-level BPE token not starting with a space).
	 * V entries; only read when whole_word is set. */
	const uint8_t *cont;
} nk_mlm_config;

/* A corpus: sentence s is ids[sent[s] .. sent[s + 1]), document d is
 * sentences doc[d] .. doc[d + 1].  Empty documents are never stored. */
typedef struct nk_mlm_corpus {
	uint32_t *ids;
	size_t *sent;             /* nsent + 1 offsets */
	size_t *doc;              /* ndoc + 1 sentence numbers */
	size_t nids, nsent, ndoc;
	size_t cap_ids, cap_sent, cap_doc;
	int open;                 /* the last document takes more sentences */
} nk_mlm_corpus;

/* What a build did, for the caller's log. */
typedef struct nk_mlm_stats {
	uint64_t docs;            /* document passes (documents x dupe) */
	uint64_t short_docs;      /* of them with a short target */
	uint64_t instances, random_next;
	uint64_t tokens, masked;  /* in the instances */
	uint64_t trimmed;         /* tokens cut by truncation */
} nk_mlm_stats;

/* BERT's defaults: T 128, short 0.1, p 0.15, max_pred 20, single
 * segment, no whole words, dupe 10, seed 12345 (Google's random_seed).
 * Specials NK_MLM_NONE and V 0: the caller sets them. */
void nk_mlm_config_default(nk_mlm_config *cfg);
/* Checks a configuration: NK_EINVAL naming the field that is wrong. */
int nk_mlm_config_check(const nk_mlm_config *cfg);

/* The number of predictions for n tokens: min(max_pred, max(1,
 * round_half_even(n * p))). */
uint32_t nk_mlm_num_to_predict(const nk_mlm_config *cfg, uint32_t n);

/* Adds one sequence of a token stream: a non-empty one is a sentence of
 * the current document, an empty one ends the document (as
 * create_pretraining_data's blank line).  Ids are not checked here. */
int nk_mlm_corpus_add(nk_mlm_corpus *c, const uint32_t *ids, size_t n);
/* Reads a token stream (nnkit-tokens(5); "-" stdin, gzip) into the
 * corpus; ids >= V (when V > 0) are an error naming file and line. */
int nk_mlm_corpus_read(nk_mlm_corpus *c, const char *path, uint32_t V);
void nk_mlm_corpus_free(nk_mlm_corpus *c);

/* Masks one built instance in place (in->n tokens, in->ids unmasked;
 * mpos and mlabel with room for cfg->max_pred), drawing from rng: sets
 * nmask, mpos, mlabel and rewrites ids.  For dynamic masking call
 * nk_mlm_unmask first to restore the ids of the last epoch's masks. */
int nk_mlm_mask(const nk_mlm_config *cfg, nk_rng *rng, nk_mlm_instance *in);
/* Puts the labels back into ids and sets nmask to 0. */
void nk_mlm_unmask(nk_mlm_instance *in);

/* Builds the instances of the corpus (appended to *out, which starts
 * zeroed) as create_pretraining_data does (see above); masked unless
 * cfg->no_mask.  stats may be NULL.  Returns 0 or an NK_E* code; on
 * failure *out holds what was built (free it with nk_mlm_set_free). */
int nk_mlm_build(const nk_mlm_config *cfg, const nk_mlm_corpus *c,
		 nk_mlm_set *out, nk_mlm_stats *stats);

#endif
