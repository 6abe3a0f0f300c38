/* fuzz_bpe_compiled.c - the compiled vocabulary's loader (nnkit-bpe(5)).
 *
 * A compiled file is mostly tables (a 256 KB pair table in every one), too
 * big for a fuzzer to grow from nothing, so most inputs are edits to a
 * good file compiled here from a small vocabulary.  The first byte picks:
 *   bit 0  the input after the first byte is the file itself (headers,
 *          truncation, magic and version); otherwise edits, below
 *   bit 1  reseal: recompute the checksums after the edits, so that the
 *          structural checks rather than the checksums meet them
 *   bit 2  open with full checks
 * Edits: a 4-byte length to cut the file to (mod its size + 1, 0 keeps
 * it whole), then 5-byte records: an offset (4 bytes, mod the size)
 * and a byte to xor in there.
 * Whatever loads must encode and decode text without a crash; ids may
 * be wrong (a damaged table is only checked as far as safety needs).
 */
#include "core/base.h"
#include "text/bpe.h"
#include "text/bpe_compiled.h"
#include "text/pretok.h"
#include "small_vocab.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *good;
static size_t good_n;

static void make_good(void)
{
	static const char *const merges[] = {
		"th", "the", " the", "in", "ing", " a", "an", "and", " and",
		"er", "re", "  ", "    ", "\n\n", "12", "123", "aa", "aaaa",
		"aaaaaaaa", "aaaaaaaaaaaaaaaa", "\xc3\xa9", "ab", "abc",
	};
	nk_bpe *b = small_vocab_of(merges, sizeof merges / sizeof *merges,
				   NK_PRETOK_CL100K);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (nk_bpe_add_special(b, "<|endoftext|>", 13, 300) ||
	    nk_bpe_finish(b, "fuzz") || !fp || nk_bpe_write_compiled(b, fp) ||
	    fclose(fp))
		abort();
	good = (unsigned char *)buf;
	good_n = len;
	nk_bpe_free(b);
}

static void exercise(const nk_bpe *b, const uint8_t *s, size_t n)
{
	static const char text[] = "the thing and the 123 aaaaaaaaaaaaaaaaaaaaa "
				   "caf\xc3\xa9 <|endoftext|>\n\n  x";
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	nk_bpe_ids ids = {0};
	if (!e)
		return;
	nk_bpe_encode(e, (const unsigned char *)text, sizeof text - 1,
		      NK_SPECIAL_ALLOW, &ids);
	nk_bpe_encode(e, s, n < 512 ? n : 512, NK_SPECIAL_TEXT, &ids);
	size_t total = 0;
	for (size_t i = 0; i < ids.n; i++) {
		size_t len;
		if (nk_bpe_token(b, ids.v[i], &len))
			total += len;
	}
	(void)total;
	uint32_t r;
	nk_bpe_rank(b, s, n < 40 ? n : 40, &r);
	nk_bpe_ids_free(&ids);
	nk_bpe_enc_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!good)
		make_good();
	if (size < 1)
		return 0;
	int mode = data[0];
	data++;
	size--;
	size_t n;
	unsigned char *f;
	if (mode & 1) {
		n = size;
		f = aligned_alloc(64, (n + 63) & ~(size_t)63);
		memcpy(f, data, n);
	} else {
		n = good_n;
		if (size >= 4) {
			uint32_t cut = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
				       (uint32_t)data[2] << 16 |
				       (uint32_t)data[3] << 24;
			if (cut % (good_n + 1))
				n = cut % (good_n + 1);
			data += 4;
			size -= 4;
		}
		f = aligned_alloc(64, (good_n + 63) & ~(size_t)63);
		memcpy(f, good, good_n);
		for (; size >= 5 && n; data += 5, size -= 5) {
			uint32_t at = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
				      (uint32_t)data[2] << 16 |
				      (uint32_t)data[3] << 24;
			f[at % n] ^= data[4];
		}
	}
	if (mode & 2)
		nk_bpe_compiled_seal(f, n);
	nk_bpe *b = NULL;
	if (nk_bpe_load_compiled(&b, f, n, "fuzz.nkv", (mode >> 2) & 1) == 0) {
		exercise(b, data, size);
		nk_bpe_free(b);
	} else if (strncmp(nk_last_error(), "fuzz.nkv", 8) != 0) {
		abort();    /* every refusal names the file */
	}
	free(f);
	return 0;
}
