/* small_vocab.h - a byte-level vocabulary for fuzz targets: the 256
 * bytes, then the given merges as ranks 256 and up, under a split
 * pattern.  Not finished: the caller adds special tokens, then calls
 * nk_bpe_finish.  Aborts on failure (a fuzz target has no other way). */
#ifndef NK_FUZZ_SMALL_VOCAB_H
#define NK_FUZZ_SMALL_VOCAB_H

#include "text/bpe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static nk_bpe *small_vocab_of(const char *const *merges, size_t nm, int kind)
{
	const unsigned char *tok[256 + 64];
	uint32_t len[256 + 64];
	static unsigned char bytes[256];
	if (nm > 64)
		abort();
	for (int c = 0; c < 256; c++) {
		bytes[c] = (unsigned char)c;
		tok[c] = bytes + c;
		len[c] = 1;
	}
	for (size_t i = 0; i < nm; i++) {
		tok[256 + i] = (const unsigned char *)merges[i];
		len[256 + i] = (uint32_t)strlen(merges[i]);
	}
	nk_bpe *b = NULL;
	if (nk_bpe_build(&b, tok, len, (uint32_t)(256 + nm), kind))
		abort();
	return b;
}

#endif
