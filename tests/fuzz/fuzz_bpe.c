/* fuzz_bpe.c - the vocabulary parsers and the encode/decode round trip.
 *
 * The first byte picks the target:
 *   0  a .tiktoken rank file (the rest of the input), then, if it loads,
 *      encode/decode of the rank file's own bytes with it
 *   1  the JSON side file
 *   2  GPT-2's encoder.json and vocab.bpe, split at the first NUL
 *   255 a split pattern of one's own (PCRE2): the input up to the first
 *      newline is the pattern, the rest (at most 512 bytes) the text;
 *      decode(encode(x)) == x must hold whatever the pattern matches
 *   3+ decode(encode(x)) == x for the rest of the input, with a small
 *      built-in vocabulary, the pre-tokenizer (byte % 4) and special
 *      tokens allowed
 */
#include "core/base.h"
#include "text/bpe.h"
#include "text/pretok.h"
#include "small_vocab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void round_trip(const nk_bpe *b, const uint8_t *s, size_t n, int mode)
{
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	nk_bpe_ids ids = {0};
	if (!e)
		return;
	int rc = nk_bpe_encode(e, s, n, mode, &ids);
	if (rc == 0) {
		unsigned char *back = malloc(n + 1);
		size_t o = 0;
		for (size_t i = 0; i < ids.n; i++) {
			size_t len;
			const unsigned char *t = nk_bpe_token(b, ids.v[i], &len);
			if (!t || o + len > n)
				abort();
			memcpy(back + o, t, len);
			o += len;
		}
		if (o != n || memcmp(back, s, n) != 0)
			abort();
		free(back);
	} else if (mode != NK_SPECIAL_FAIL &&
		   !(nk_bpe_pretok(b) == NK_PRETOK_REGEX && rc == NK_ERANGE)) {
		abort(); /* only a pattern's match limit may stop an encode */
	}
	nk_bpe_ids_free(&ids);
	nk_bpe_enc_free(e);
}

static nk_bpe *small_vocab(int kind)
{
	static const char *const merges[] = {
		"th", "the", " the", "in", "ing", " a", "an", "and", " and",
		"er", "re", "  ", "    ", "\n\n", "12", "123", "aa", "aaaa",
		"\xc3\xa9", "\xe4\xb8", "ab", "abc", "bc", "ca", "cab",
	};
	nk_bpe *b = small_vocab_of(merges, sizeof merges / sizeof *merges, kind);
	if (nk_bpe_add_special(b, "<|x|>", 5, 300) ||
	    nk_bpe_add_special(b, "<|x|>y", 6, 302) ||
	    nk_bpe_finish(b, "small"))
		abort();
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0];
	data++;
	size--;
	if (which == 0) {
		nk_bpe *b = nk_bpe_new();
		if (b && nk_bpe_load_ranks(b, data, size, "fuzz") == 0 &&
		    nk_bpe_finish(b, "fuzz") == 0) {
			nk_bpe_set_pretok(b, size % NK_PRETOK_COUNT);
			round_trip(b, data, size, NK_SPECIAL_TEXT);
		}
		nk_bpe_free(b);
	} else if (which == 1) {
		nk_bpe *b = nk_bpe_new();
		if (b)
			nk_bpe_load_meta(b, data, size, "fuzz.json");
		nk_bpe_free(b);
	} else if (which == 2) {
		const uint8_t *z = memchr(data, 0, size);
		size_t a = z ? (size_t)(z - data) : size;
		nk_bpe *b = NULL;
		if (nk_bpe_load_gpt2(&b, data, a, "encoder.json",
				     z ? z + 1 : data + size,
				     z ? size - a - 1 : 0, "vocab.bpe") == 0) {
			round_trip(b, data, a, NK_SPECIAL_ALLOW);
			nk_bpe_free(b);
		}
	} else if (which == 255) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t pl = nl ? (size_t)(nl - data) : size;
		const uint8_t *text = nl ? nl + 1 : data + size;
		size_t tn = (size_t)(data + size - text);
		if (pl > 200 || tn > 512)
			return 0;
		char pat[201];
		memcpy(pat, data, pl);
		pat[pl] = 0;
		nk_bpe *b = small_vocab(NK_PRETOK_NONE);
		if (nk_bpe_set_regex(b, pat) == 0)
			round_trip(b, text, tn, NK_SPECIAL_TEXT);
		nk_bpe_free(b);
	} else {
		static nk_bpe *v[NK_PRETOK_COUNT];
		int kind = which % NK_PRETOK_COUNT;
		if (!v[kind])
			v[kind] = small_vocab(kind);
		round_trip(v[kind], data, size, (which / 4) % 3);
	}
	return 0;
}
