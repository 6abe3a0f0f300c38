/* bpe_compiled_write.c - writing a compiled vocabulary (nnkit-bpe(5)):
 * the tables of a finished nk_bpe as they lie in memory, each section
 * padded to 64 bytes and summed, the header last with its CRC-32; and
 * the resealing of an altered one for tests and fuzzing. */
#include "text/bpe_compiled.h"
#include "text/bpe_compiled_impl.h"
#include "core/base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct sect {
	const void *p;
	size_t n;
};

int nk_bpe_write_compiled(const nk_bpe *b, FILE *fp)
{
	if (!b->pool || !b->n_vocab || !b->filter)
		return nk_error(NK_EINVAL, "compile: the vocabulary is not finished");
	const char *pat = nk_bpe_pattern(b);
	size_t spec_text = 0;
	for (size_t i = 0; i < b->n_spec; i++)
		spec_text += b->spec[i].len;
	if (b->n_spec > MAX_SPEC || strlen(pat) > MAX_PATTERN ||
	    b->mask + 1 > MAX_SLOTS)
		return nk_error(NK_ERANGE, "compile: the vocabulary is too large "
				"for the compiled format");
	unsigned char *spec = nk_malloc((b->n_spec ? b->n_spec : 1) * 8);
	unsigned char *text = nk_malloc(spec_text + 1);
	if (!spec || !text) {
		free(spec);
		free(text);
		return NK_ENOMEM;
	}
	size_t o = 0;
	for (size_t i = 0; i < b->n_spec; i++) {
		nk_store_u32le(spec + 8 * i, b->spec[i].id);
		nk_store_u32le(spec + 8 * i + 4, (uint32_t)b->spec[i].len);
		memcpy(text + o, b->spec[i].text, b->spec[i].len);
		o += b->spec[i].len;
	}
	const struct sect s[N_SECT] = {
		{b->pool, b->off[b->n_ranks]},
		{b->off, ((size_t)b->n_ranks + 1) * 4},
		{b->slots, (b->mask + 1) * sizeof *b->slots},
		{b->pair1, 65536 * 4},
		{b->byte_rank, 256 * 4},
		{pat, strlen(pat)},
		{spec, b->n_spec * 8},
		{text, spec_text},
		{b->filter, (b->fmask + 1) * sizeof *b->filter},
	};
	unsigned char h[HEADER_SIZE] = {0};
	size_t at = HEADER_SIZE;
	for (int k = 0; k < N_SECT; k++) {
		struct sum sum = {0};
		sum_padded(&sum, s[k].p, s[k].n);
		nk_store_u64le(h + 64 + 24 * k, at);
		nk_store_u64le(h + 64 + 24 * k + 8, s[k].n);
		nk_store_u64le(h + 64 + 24 * k + 16, nk_bpe_compiled_sum_final(&sum));
		at += pad64(s[k].n);
	}
	uint32_t empty = 0;     /* the table is at most half full */
	while (b->slots[empty].rank1)
		empty++;
	memcpy(h, NK_BPE_COMPILED_MAGIC, 4);
	nk_store_u16le(h + 4, NK_BPE_COMPILED_VERSION);
	nk_store_u16le(h + 6, HEADER_SIZE);
	nk_store_u64le(h + 16, at);
	nk_store_u64le(h + 24, nk_bpe_layout_fingerprint());
	nk_store_u32le(h + 32, b->n_ranks);
	nk_store_u32le(h + 36, b->explicit_n_vocab);
	nk_store_u32le(h + 40, (uint32_t)b->n_spec);
	nk_store_u32le(h + 44, (uint32_t)(b->mask + 1));
	nk_store_u32le(h + 48, empty);
	nk_store_u32le(h + 52, (uint32_t)(b->fmask + 1));
	nk_store_u32le(h + 12, (uint32_t)crc32(0, h, HEADER_SIZE));
	static const unsigned char zeros[ALIGN];
	int bad = fwrite(h, 1, HEADER_SIZE, fp) != HEADER_SIZE;
	for (int k = 0; k < N_SECT && !bad; k++) {
		size_t padn = pad64(s[k].n) - s[k].n;
		bad = (s[k].n && fwrite(s[k].p, 1, s[k].n, fp) != s[k].n) ||
		      (padn && fwrite(zeros, 1, padn, fp) != padn);
	}
	free(spec);
	free(text);
	if (bad || ferror(fp))
		return nk_error(NK_EIO, "write error: %s", strerror(errno));
	return 0;
}

int nk_bpe_compiled_seal(unsigned char *data, size_t n)
{
	if (n < HEADER_SIZE)
		return nk_error(NK_EFORMAT, "seal: %zu bytes, no header", n);
	for (int k = 0; k < N_SECT; k++) {
		unsigned char *e = data + 64 + 24 * k;
		uint64_t o = nk_load_u64le(e), l = nk_load_u64le(e + 8);
		if (o > n || l > n - o || pad64((size_t)l) > n - o)
			continue;
		struct sum sum = {0};   /* the padding as it is, as loading reads it */
		sum_blocks(&sum, data + o, pad64((size_t)l));
		nk_store_u64le(e + 16, nk_bpe_compiled_sum_final(&sum));
	}
	memset(data + 12, 0, 4);
	nk_store_u32le(data + 12, (uint32_t)crc32(0, data, HEADER_SIZE));
	return 0;
}
