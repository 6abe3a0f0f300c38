/* vocab.h - a word-count vocabulary: counting with pruning, save and load.
 *
 * Words are byte strings of 1 .. NK_VOCAB_WORD_MAX bytes without blanks.
 * Counting grows a hash table; when a maximum size is set and reached,
 * words seen at most `prune` times are dropped and the threshold rises
 * (word2vec's ReduceVocab), so a huge corpus cannot exhaust memory.
 * nk_vocab_finish() applies min-count and sorts by count (ties by bytes),
 * so ids are dense, frequent words first, and the same for the same input.
 *
 * The text form (nk_vocab_save/nk_vocab_load) is one "word count" per line.
 */
#ifndef NK_VOCAB_H
#define NK_VOCAB_H

#include "core/hash.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NK_VOCAB_WORD_MAX 255 /* bytes in one word */

typedef struct nk_vocab {
	char **words;      /* NUL-terminated, owned */
	uint64_t *counts;
	uint32_t n;
	size_t cap_words, cap_counts;
	nk_idtab index;    /* word -> id */
	uint64_t max_size; /* 0: unlimited */
	uint64_t prune;    /* words counted <= prune were dropped */
	uint64_t total;    /* sum of counts */
} nk_vocab;

int nk_vocab_init(nk_vocab *v, uint64_t max_size);
void nk_vocab_free(nk_vocab *v);
/* The id of a word, or -1. */
int64_t nk_vocab_find(const nk_vocab *v, const char *w, size_t len);
/* Adds `count` to a word (inserting it); may prune.  Returns 0 or NK_E*.
 * `len` must be 1 .. NK_VOCAB_WORD_MAX (the caller reports longer words
 * with their position). */
int nk_vocab_add(nk_vocab *v, const char *w, size_t len, uint64_t count);
/* Drops words counted fewer than min_count times, sorts by count
 * (descending, ties by bytes), rebuilds the index. */
int nk_vocab_finish(nk_vocab *v, uint64_t min_count);
/* "word count\n" per word, in id order. */
int nk_vocab_save(const nk_vocab *v, FILE *fp);
/* Parses "word count" lines (a missing count reads as 1); the words keep
 * the file's order.  Errors name NAME:LINE. */
int nk_vocab_load_mem(nk_vocab *v, const void *data, size_t size,
		      const char *name);

#endif
