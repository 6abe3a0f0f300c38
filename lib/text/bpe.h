/* bpe.h - byte-level BPE: rank tables, encode, decode (tiktoken-exact).
 *
 * A vocabulary is a rank table: every token is a byte string and its rank
 * is its id; a lower rank merges first.  Encoding splits the text with the
 * vocabulary's pre-tokenizer (pretok.h), then encodes each piece by
 * repeatedly merging the adjacent pair whose concatenation has the lowest
 * rank (the leftmost on a tie), exactly as tiktoken's byte_pair_merge.
 * Pieces of more than a few dozen bytes use a heap and a linked list, so
 * a piece of n bytes costs O(n log n), never O(n^2).
 *
 * Files: a tiktoken rank file ("base64(token) rank" per line, as
 * published by OpenAI) and beside it an optional JSON side file in the
 * format of tiktoken's own encoding definitions:
 *     {"pat_str": "...", "special_tokens": {"<|endoftext|>": 50256}}
 * FOO.tiktoken finds FOO.json; the rank file stays loadable by tiktoken.
 */
#ifndef NK_BPE_H
#define NK_BPE_H

#include "formats/tiktoken.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct nk_bpe nk_bpe;
typedef struct nk_bpe_enc nk_bpe_enc;

/* What encode does with the text of a special token ("<|endoftext|>"). */
enum nk_special_mode {
	NK_SPECIAL_TEXT,  /* encode it as ordinary text (the default) */
	NK_SPECIAL_ALLOW, /* emit the special token's id */
	NK_SPECIAL_FAIL,  /* fail with NK_EFORMAT naming it and its offset */
};

/* A growable list of ids. */
typedef struct nk_bpe_ids {
	uint32_t *v;
	size_t n, cap;
} nk_bpe_ids;
int nk_bpe_ids_push(nk_bpe_ids *ids, uint32_t id);
void nk_bpe_ids_free(nk_bpe_ids *ids);

/* Building a vocabulary: new, then ranks (and optionally metadata and
 * extra special tokens), then finish.  Messages name `name` and a line. */
nk_bpe *nk_bpe_new(void);
void nk_bpe_free(nk_bpe *b);
int nk_bpe_load_ranks(nk_bpe *b, const unsigned char *data, size_t n,
		      const char *name);
/* The JSON side file: pat_str (see nk_bpe_set_pattern), special_tokens,
 * optional explicit_n_vocab (checked). */
int nk_bpe_load_meta(nk_bpe *b, const unsigned char *data, size_t n,
		     const char *name);
int nk_bpe_add_special(nk_bpe *b, const char *text, size_t len, uint32_t id);
void nk_bpe_set_pretok(nk_bpe *b, int kind);
/* The split pattern as tiktoken's pat_str: one of the three known ones
 * gets its built-in matcher, any other is compiled by PCRE2 (a message
 * with the offset when it does not compile).  Set before making
 * encoders. */
int nk_bpe_set_pattern(nk_bpe *b, const char *pat);
/* The same, but always through PCRE2 (tests compare the two). */
int nk_bpe_set_regex(nk_bpe *b, const char *pat);
/* The pat_str in use ("" for none). */
const char *nk_bpe_pattern(const nk_bpe *b);
/* Validates (all 256 single bytes present, specials distinct from ranks)
 * and builds the decode table. */
int nk_bpe_finish(nk_bpe *b, const char *name);

/* Loads a rank file and its side file (meta_path NULL: the rank file's
 * name with .tiktoken replaced by .json, skipped when absent; then the
 * pre-tokenizer stays none unless set).  Gzip is read transparently. */
int nk_bpe_open(nk_bpe **out, const char *rank_path, const char *meta_path);
/* A GPT-2 style pair: encoder.json (token string -> id, in the bytes-to-
 * unicode alphabet) and vocab.bpe (merges).  Pre-tokenizer r50k. */
int nk_bpe_open_gpt2(nk_bpe **out, const char *encoder_json,
		     const char *vocab_bpe);
/* The same from memory (names are for messages). */
int nk_bpe_load_gpt2(nk_bpe **out, const unsigned char *enc_data,
		     size_t enc_n, const char *encoder_json,
		     const unsigned char *bpe_data, size_t bpe_n,
		     const char *vocab_bpe);

/* A vocabulary from tokens given by rank (as training makes it). */
int nk_bpe_build(nk_bpe **out, const unsigned char *const *tok,
		 const uint32_t *len, uint32_t count, int pretok);

int nk_bpe_pretok(const nk_bpe *b);
/* One more than the largest id (specials included). */
uint32_t nk_bpe_n_vocab(const nk_bpe *b);
/* Number of ordinary (ranked) tokens. */
uint32_t nk_bpe_n_ranks(const nk_bpe *b);
size_t nk_bpe_n_special(const nk_bpe *b);
/* The bytes of id (specials included); NULL when no token has that id. */
const unsigned char *nk_bpe_token(const nk_bpe *b, uint32_t id, size_t *len);
/* The rank of a byte string; 0 when found, else NK_ENOTFOUND (no message). */
int nk_bpe_rank(const nk_bpe *b, const unsigned char *s, size_t n,
		uint32_t *rank);

/* An encoder: per-thread state (the piece cache and scratch space) over a
 * vocabulary that is shared read-only between threads. */
nk_bpe_enc *nk_bpe_enc_new(const nk_bpe *b);
void nk_bpe_enc_free(nk_bpe_enc *e);
/* Appends the ids of text[0..n) to out.  Fails only when out of memory,
 * or with NK_EFORMAT under NK_SPECIAL_FAIL (nk_bpe_enc_fail_offset then
 * gives the byte offset of the special token in text). */
int nk_bpe_encode(nk_bpe_enc *e, const unsigned char *text, size_t n,
		  int special, nk_bpe_ids *out);
size_t nk_bpe_enc_fail_offset(const nk_bpe_enc *e);
/* Encodes one piece (no pre-tokenization, no special tokens). */
int nk_bpe_encode_piece(nk_bpe_enc *e, const unsigned char *s, size_t n,
			nk_bpe_ids *out);
/* Counts the ids that nk_bpe_encode would append. */
int nk_bpe_count(nk_bpe_enc *e, const unsigned char *text, size_t n,
		 int special, size_t *count);

/* Writers: the rank file and its JSON side file. */
int nk_bpe_write_ranks(const nk_bpe *b, FILE *fp);
int nk_bpe_write_meta(const nk_bpe *b, FILE *fp);

/* Base64 (nk_b64_decode, nk_b64_encode): formats/tiktoken.h. */

/* Training (bpe_train.c): byte-level BPE from text.  Add text, then run.
 * Pieces come from the pre-tokenizer `kind` and are counted; merges are
 * learnt until the vocabulary has vocab_size tokens (256 bytes + merges)
 * or no pair occurs min_freq times.  Ties: the highest count wins, then
 * the pair whose (left bytes, right bytes) is lexicographically smallest. */
typedef struct nk_bpe_trainer nk_bpe_trainer;
nk_bpe_trainer *nk_bpe_trainer_new(int kind);
/* Splits by a pattern of the user's (PCRE2) instead of kind's. */
int nk_bpe_trainer_set_regex(nk_bpe_trainer *t, const char *pat);
void nk_bpe_trainer_free(nk_bpe_trainer *t);
int nk_bpe_trainer_add(nk_bpe_trainer *t, const unsigned char *text,
		       size_t n);
/* Called now and then with the merges done so far. */
typedef void (*nk_bpe_progress_fn)(void *ctx, uint32_t done, uint32_t total);
int nk_bpe_trainer_run(nk_bpe_trainer *t, uint32_t vocab_size,
		       uint64_t min_freq, nk_bpe_progress_fn fn, void *ctx,
		       nk_bpe **out);
/* Distinct pieces counted so far. */
size_t nk_bpe_trainer_pieces(const nk_bpe_trainer *t);

#endif
