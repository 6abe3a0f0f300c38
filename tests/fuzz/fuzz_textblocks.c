/* fuzz_textblocks.c - cutting text into blocks never changes a thing.
 *
 * The first byte picks the block size (1..64) and the split pattern; the
 * rest is the text, read mapped (a temporary file) and streamed (a pipe,
 * through /dev/fd).  For every cut rule the blocks must put the text back
 * together and end only where the rule allows; with NK_CUT_PIECE (and
 * NK_CUT_NEWLINE under cl100k and o200k), encoding block by block must
 * give exactly the ids of encoding the whole text (a vocabulary that has "\n\n", " \n" and friends as tokens, so a
 * cut that moves a piece boundary shows).
 */
#include "core/base.h"
#include "text/bpe.h"
#include "text/pretok.h"
#include "small_vocab.h"
#include "text/textblocks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static nk_bpe *vocab(int kind)
{
	static const char *const merges[] = {
		"\n\n", "\n\n\n", " \n", "  \n", "\r\n", ".\n", "\n ", "  ", ".\n/",
		"th", "the", " the", "in", "ing", " a", "'s", "12", "123",
		"ab", "abc", "Ab", " Ab", "\xc3\xa9", "\xe4\xb8",
	};
	nk_bpe *b = small_vocab_of(merges, sizeof merges / sizeof *merges, kind);
	if (nk_bpe_finish(b, "small"))
		abort();
	return b;
}

static int letter(unsigned char c)
{
	return (c | 32) >= 'a' && (c | 32) <= 'z';
}

/* NK_CUT_NEWLINE's rule: '\n', spaces and tabs, a visible ASCII
 * character, not a '/' straight after the newline. */
static int newline_cut(const uint8_t *s, size_t at, size_t n)
{
	size_t j = at;
	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	return j < n && s[j] > ' ' && s[j] < 0x7f && (j > at || s[j] != '/');
}

/* Reads every block of path and checks it; encodes them when enc. */
static void check(const char *path, size_t block, int cut,
		  const uint8_t *text, size_t n, nk_bpe_enc *enc,
		  const nk_bpe_ids *want)
{
	nk_textblocks *t = nk_textblocks_open(path, block, cut);
	if (!t)
		abort();
	nk_textblock blk = {0};
	nk_bpe_ids got = {0};
	size_t at = 0;
	int rc;
	while ((rc = nk_textblocks_next(t, &blk)) == 1) {
		if (blk.size == 0 || blk.offset != at || at + blk.size > n ||
		    memcmp(blk.data, text + at, blk.size) != 0)
			abort();
		at += blk.size;
		if (at < n) {
			if (cut == NK_CUT_NONE || text[at - 1] != '\n')
				abort();
			if (cut == NK_CUT_PIECE &&
			    !(at >= 2 && letter(text[at]) && text[at - 2] > ' ' &&
			      text[at - 2] < 0x7f))
				abort();
			if (cut == NK_CUT_NEWLINE && !newline_cut(text, at, n))
				abort();
		}
		if (enc && nk_bpe_encode(enc, blk.data, blk.size,
					 NK_SPECIAL_TEXT, &got))
			abort();
	}
	if (rc != 0 || at != n)
		abort();
	if (enc && (got.n != want->n ||
		    (got.n && memcmp(got.v, want->v, got.n * sizeof *got.v))))
		abort();
	nk_bpe_ids_free(&got);
	free(blk.buf);
	nk_textblocks_close(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nk_bpe *v[NK_PRETOK_COUNT];
	static char path[64];
	if (size < 1 || size > 60000) /* a pipe holds 64 KB */
		return 0;
	/* Text that starts like gzip is read as gzip (and is corrupt): the
	 * reader's business, fuzzed by its own target. */
	if (size >= 3 && data[1] == 0x1f && data[2] == 0x8b)
		return 0;
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/fuzz-textblocks-%d", (int)getpid());
	size_t block = 1 + data[0] % 64;
	int kind = NK_PRETOK_R50K + (data[0] >> 6) % 3;
	const uint8_t *text = data + 1;
	size_t n = size - 1;
	if (!v[kind])
		v[kind] = vocab(kind);
	nk_bpe_enc *enc = nk_bpe_enc_new(v[kind]);
	nk_bpe_ids want = {0};
	if (!enc || nk_bpe_encode(enc, text, n, NK_SPECIAL_TEXT, &want))
		abort();
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(text, 1, n, fp) != n || fclose(fp))
		abort();
	for (int cut = NK_CUT_LINE; cut <= NK_CUT_NONE; cut++) {
		/* the ids must not change where the pattern allows the cut */
		nk_bpe_enc *e = cut == NK_CUT_PIECE ||
				(cut == NK_CUT_NEWLINE && kind != NK_PRETOK_R50K) ?
				enc : NULL;
		check(path, block, cut, text, n, e, &want);
		int fds[2];
		if (pipe(fds) || write(fds[1], text, n) != (ssize_t)n)
			abort();
		close(fds[1]);
		char dev[32];
		snprintf(dev, sizeof dev, "/dev/fd/%d", fds[0]);
		check(dev, block, cut, text, n, e, &want);
		close(fds[0]);
	}
	unlink(path);
	nk_bpe_ids_free(&want);
	nk_bpe_enc_free(enc);
	return 0;
}
