/* fuzz_wordpiece.c - the vocab.txt parser, encoding, decoding and the
 * trainer on arbitrary bytes.
 *
 * The first byte picks the target:
 *   0  a vocab.txt (the rest of the input); if it loads, its own bytes
 *      are encoded with it (lower-cased and cased) and decoded
 *   1  text encoded with a small built-in vocab, bit 0 of the second
 *      byte lower-casing, bit 1 accent stripping
 *   2  a vocab learned from the text (size from the second byte) must
 *      load, and encode the text with no error
 * Every encode must give ids inside the vocab with the continuation flag
 * equal to "the token starts with ##", and its ids must decode.
 */
#include "core/base.h"
#include "text/wordpiece.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const nk_wordpiece *wp, const uint8_t *s, size_t n)
{
	nk_wp_ids ids = {0};
	int rc = nk_wp_encode(wp, s, n, &ids);
	int32_t sp[NK_WP_NSPECIAL];
	nk_wp_specials(wp, sp);
	/* only a word needing an absent [UNK] may fail */
	if (rc && !(rc == NK_ENOTFOUND && sp[NK_WP_UNK] < 0))
		abort();
	for (size_t i = 0; !rc && i < ids.n; i++) {
		size_t len;
		const char *t = nk_wp_token(wp, ids.id[i], &len);
		if (!t || len != strlen(t))
			abort();
		if (ids.cont[i] && !(len > 2 && t[0] == '#' && t[1] == '#'))
			abort();
	}
	char *text;
	size_t len;
	if (!rc) {
		if (nk_wp_decode(wp, ids.id, ids.n, 0, &text, &len) ||
		    len != strlen(text))
			abort();
		free(text);
		if (nk_wp_decode(wp, ids.id, ids.n, 1, &text, &len))
			abort();
		free(text);
	}
	nk_wp_ids_free(&ids);
}

static const char small[] =
	"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n##s\na\n##a\nb\n##b\n.\n,\n"
	"\xe4\xb8\xad\ncafe\n##\xc3\xa9\ne\n##e\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const uint8_t *s = data + 2;
	size_t n = size - 2;
	nk_wordpiece *wp = NULL;
	switch (data[0] % 3) {
	case 0:
		if (nk_wp_from_buffer(&wp, "fuzz", data + 1, size - 1) == 0) {
			check(wp, data + 1, size - 1);
			nk_wp_set_case(wp, 0, -1);
			check(wp, data + 1, size - 1);
		}
		break;
	case 1:
		if (nk_wp_from_buffer(&wp, "small", (const uint8_t *)small,
				      sizeof small - 1))
			abort();
		nk_wp_set_case(wp, data[1] & 1, data[1] & 2 ? 1 : -1);
		check(wp, s, n);
		break;
	case 2: {
		nk_wp_trainer *t = nk_wp_trainer_new(data[1] & 1, -1);
		char *v;
		size_t len;
		if (!t || nk_wp_trainer_add(t, s, n) ||
		    nk_wp_trainer_run(t, 5 + data[1] / 2, data[1] & 2, NULL, NULL,
				      &v, &len))
			abort();
		/* an empty text teaches the five special tokens only */
		if (nk_wp_from_buffer(&wp, "trained", (const uint8_t *)v, len))
			abort();
		nk_wp_set_case(wp, data[1] & 1, -1);
		check(wp, s, n);
		free(v);
		nk_wp_trainer_free(t);
		break;
	}
	}
	nk_wp_free(wp);
	return 0;
}
