/* textdata.h - the language models' data: symbols, vocabulary, streams.
 *
 * A text becomes a sequence of symbols at one of three levels:
 *   byte    every byte is a symbol (0..255);
 *   char    every UTF-8 character is a symbol (its code point); a byte
 *           that is not part of valid UTF-8 becomes 0xDC00 + byte (the
 *           "surrogate escape"), so any input survives the round trip;
 *   tokens  token ids from `tokenize encode` (nnkit-tokens(5), text or
 *           binary); the sequences (lines) are concatenated.
 * A vocabulary maps the distinct symbols of the training data, sorted, to
 * ids 0..V-1 (for tokens the ids are the symbols and V = largest id + 1).
 *
 * Training reads B parallel streams (llm.c's and char-rnn's batching):
 * the data are cut into B equal contiguous pieces and each batch takes the
 * next T+1 symbols of every piece, so the hidden state of stream b at the
 * end of one batch is the right start for the next (truncated BPTT).
 */
#ifndef NK_TEXTDATA_H
#define NK_TEXTDATA_H

#include <stddef.h>
#include <stdint.h>

enum nk_text_level { NK_LEVEL_BYTE, NK_LEVEL_CHAR, NK_LEVEL_TOKENS,
		     NK_LEVEL_COUNT };

/* "byte", "char", "tokens"; -1 for an unknown name. */
const char *nk_text_level_name(int level);
int nk_text_level_from_name(const char *name);

/* Reads a whole input ("-" is stdin, gzip is decompressed) as symbols.
 * For tokens, ids >= max_id are refused with FILE:LINE:COL (0: no limit).
 * *syms is malloc'd (free() it); an empty input gives n = 0. */
int nk_text_read(uint32_t **syms, size_t *n, const char *path, int level,
		 uint32_t max_id);
/* The same over bytes in memory (byte and char levels only). */
int nk_text_decode(uint32_t **syms, size_t *n, const unsigned char *data,
		   size_t size, int level);
/* Writes one symbol's bytes (UTF-8 for char, the byte for byte) into
 * out[0..3]; returns the byte count.  Not for tokens. */
int nk_text_encode_sym(unsigned char out[4], uint32_t sym, int level);

typedef struct nk_textvocab {
	int level;
	int V;
	uint32_t *sym; /* (V) symbol of each id, ascending; NULL for tokens */
} nk_textvocab;

/* The vocabulary of the symbols in syms[0..n). */
int nk_textvocab_build(nk_textvocab *v, int level, const uint32_t *syms,
		       size_t n);
/* A vocabulary from a stored symbol table (ascending, distinct). */
int nk_textvocab_from_syms(nk_textvocab *v, int level, const int64_t *syms,
			   size_t V);
void nk_textvocab_free(nk_textvocab *v);
/* Id of a symbol, or -1. */
int64_t nk_textvocab_id(const nk_textvocab *v, uint32_t sym);
/* Maps syms[0..n) to ids in place.  A symbol outside the vocabulary is
 * an error naming name:LINE:COL (characters, 1-based) and the symbol. */
int nk_textvocab_encode(const nk_textvocab *v, uint32_t *syms, size_t n,
			const char *name);

/* B parallel streams over data[0..n), T steps per batch. */
typedef struct nk_streams {
	const uint32_t *data;
	size_t n;
	int B, T;
	size_t len;   /* symbols per stream: n / B */
	size_t pos;   /* offset of the next batch within every stream */
	int64_t epoch;
} nk_streams;

/* NK_ERANGE ("N tokens is too short for ...") when a stream cannot hold
 * one window of T+1 symbols. */
int nk_streams_init(nk_streams *s, const uint32_t *data, size_t n, int B,
		    int T);
/* Fills x and y (T,B), time-major: x[t*B+b] = stream b at pos+t, y the
 * symbol after it.  Returns 1 when the streams ran out and started over
 * (a new epoch: the caller resets the hidden state), else 0. */
int nk_streams_next(nk_streams *s, uint32_t *x, uint32_t *y);

/* FNV-1a over the ids: identifies the training data in a checkpoint. */
uint64_t nk_text_hash(const uint32_t *ids, size_t n);

#endif
