/* bpe_gpt2.c - importing GPT-2's encoder.json and vocab.bpe.
 *
 * GPT-2 spells token bytes in a printable alphabet and lists merges, not
 * ranks; both are turned into an ordinary rank table here, after which
 * the vocabulary encodes like any tiktoken one.
 */
#include "text/bpe_impl.h"
#include "core/base.h"
#include "core/io.h"
#include "formats/json.h"

#include <stdlib.h>
#include <string.h>

/* GPT-2's byte-to-unicode alphabet: printable Latin-1 bytes stand for
 * themselves, the others are shifted to U+0100 and up in byte order. */
static void gpt2_alphabet(uint32_t cp_of[256])
{
	uint32_t next = 256;
	for (int c = 0; c < 256; c++) {
		int printable = (c >= '!' && c <= '~') ||
				(c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
		cp_of[c] = printable ? (uint32_t)c : next++;
	}
}

/* Maps a UTF-8 string in the GPT-2 alphabet back to bytes (in place);
 * -1 when a character is outside the alphabet. */
static long gpt2_unmap(unsigned char *s, size_t n, const int16_t *byte_of)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		if (s[i] < 0x80) {
			cp = s[i++];
		} else if ((s[i] & 0xE0) == 0xC0 && i + 1 < n) {
			cp = (s[i] & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu);
			i += 2;
		} else {
			return -1;
		}
		if (cp >= 324 || byte_of[cp] < 0)
			return -1;
		s[o++] = (unsigned char)byte_of[cp];
	}
	return (long)o;
}

struct enc_ctx {
	const int16_t *byte_of;
	unsigned char **tok;
	uint32_t *len;
	uint32_t cap;
	uint32_t max_id;
	int count;
};

static int enc_member(void *vctx, nk_json *j, const char *key,
		      size_t klen)
{
	struct enc_ctx *e = vctx;
	uint32_t id;
	const unsigned char *at = j->p;
	int rc = nk_json_uint(j, &id);
	if (rc)
		return rc;
	if (klen == 13 && memcmp(key, "<|endoftext|>", 13) == 0)
		return 0;
	if (id >= e->cap) {
		j->p = at;
		return nk_json_fail(j, "id out of range");
	}
	unsigned char *t = nk_malloc(klen + 1);
	if (!t)
		return NK_ENOMEM;
	memcpy(t, key, klen);
	long n = gpt2_unmap(t, klen, e->byte_of);
	if (n <= 0 || e->tok[id]) {
		free(t);
		j->p = at;
		return nk_json_fail(j, n <= 0 ? "token outside GPT-2's byte alphabet"
					   : "duplicate id");
	}
	e->tok[id] = t;
	e->len[id] = (uint32_t)n;
	e->count++;
	if (id > e->max_id)
		e->max_id = id;
	return 0;
}

int nk_bpe_load_gpt2(nk_bpe **out, const unsigned char *enc_data,
		     size_t enc_n, const char *encoder_json,
		     const unsigned char *bpe_data, size_t bpe_n,
		     const char *vocab_bpe)
{
	uint32_t cp_of[256];
	int16_t byte_of[324];
	gpt2_alphabet(cp_of);
	for (int i = 0; i < 324; i++)
		byte_of[i] = -1;
	for (int c = 0; c < 256; c++)
		byte_of[cp_of[c]] = (int16_t)c;

	nk_bpe *b = NULL;
	/* Ids must be below the number of entries (no gaps), and every
	 * entry has a ':', so that bounds the tables. */
	uint32_t cap = 1;
	for (size_t i = 0; i < enc_n && cap < (1u << 24); i++)
		cap += enc_data[i] == ':';
	struct enc_ctx e = {byte_of, NULL, NULL, cap, 0, 0};
	unsigned char **mt = NULL;
	uint32_t *ml = NULL;
	int rc;
	size_t lines = 1;
	e.tok = nk_calloc(e.cap, sizeof *e.tok);
	e.len = nk_calloc(e.cap, sizeof *e.len);
	if (!e.tok || !e.len) {
		rc = NK_ENOMEM;
		goto out;
	}
	nk_json j = {enc_data, enc_data + enc_n, enc_data, encoder_json};
	if ((rc = nk_json_object(&j, enc_member, &e)))
		goto out;
	/* The ranks implied by vocab.bpe: 256 bytes in alphabet order, then
	 * one per merge; encoder.json must agree with them exactly. */
	nk_json_ws(&j);
	if (j.p != j.end) {
		rc = nk_json_fail(&j, "text after the object");
		goto out;
	}
	for (size_t i = 0; i < bpe_n; i++)
		lines += bpe_data[i] == '\n';
	mt = nk_calloc(lines + 256, sizeof *mt);
	ml = nk_calloc(lines + 256, sizeof *ml);
	if (!mt || !ml) {
		rc = NK_ENOMEM;
		goto out;
	}
	/* Ranks 0..255: printable bytes, then the others, each in byte order
	 * (tiktoken's data_gym_to_mergeable_bpe_ranks). */
	uint32_t r = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int c = 0; c < 256; c++) {
			int printable = cp_of[c] == (uint32_t)c;
			if (printable != (pass == 0))
				continue;
			mt[r] = nk_malloc(1);
			if (!mt[r]) {
				rc = NK_ENOMEM;
				goto out;
			}
			mt[r][0] = (unsigned char)c;
			ml[r++] = 1;
		}
	const unsigned char *p = bpe_data, *end = bpe_data + bpe_n;
	for (uint32_t ln = 1; p < end; ln++) {
		const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		size_t n = (size_t)(eol - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (ln == 1 && n >= 8 && memcmp(p, "#version", 8) == 0) {
			p = eol < end ? eol + 1 : end;
			continue;
		}
		if (n == 0) {
			p = eol < end ? eol + 1 : end;
			continue;
		}
		const unsigned char *sp = memchr(p, ' ', n);
		unsigned char *t = nk_malloc(n + 1);
		if (!t) {
			rc = NK_ENOMEM;
			goto out;
		}
		long a = -1, c = -1;
		if (sp && sp > p && sp + 1 < p + n) {
			size_t la = (size_t)(sp - p), lc = n - la - 1;
			memcpy(t, p, la);
			a = gpt2_unmap(t, la, byte_of);
			if (a > 0) {
				memcpy(t + a, sp + 1, lc);
				c = gpt2_unmap(t + a, lc, byte_of);
			}
		}
		if (a <= 0 || c <= 0 || memchr(sp + 1, ' ', (size_t)(p + n - sp - 1))) {
			free(t);
			rc = nk_error(NK_EFORMAT, "%s:%u: expected a merge 'A B' in "
				      "GPT-2's byte alphabet", vocab_bpe, ln);
			goto out;
		}
		mt[r] = t;
		ml[r] = (uint32_t)(a + c);
		if (r >= e.cap || !e.tok[r] || e.len[r] != ml[r] ||
		    memcmp(e.tok[r], t, ml[r]) != 0) {
			rc = nk_error(NK_EFORMAT, "%s:%u: merge gives rank %u, but "
				      "%s disagrees (missing or different token)",
				      vocab_bpe, ln, r, encoder_json);
			goto out;
		}
		r++;
		p = eol < end ? eol + 1 : end;
	}
	for (uint32_t k = 0; k < 256; k++)
		if (!e.tok[k] || e.len[k] != 1 || e.tok[k][0] != mt[k][0]) {
			rc = nk_error(NK_EFORMAT, "%s: id %u is not the byte "
				      "token GPT-2's alphabet puts there",
				      encoder_json, k);
			goto out;
		}
	if ((uint32_t)e.count != r) {
		rc = nk_error(NK_EFORMAT, "%s has %d tokens but %s gives %u "
			      "(256 bytes + merges)", encoder_json, e.count,
			      vocab_bpe, r);
		goto out;
	}
	if (!(b = nk_bpe_new())) {
		rc = NK_ENOMEM;
		goto out;
	}
	if ((rc = nk_bpe_build_table(b, (const unsigned char *const *)mt, ml, r,
			      vocab_bpe, NULL)))
		goto out;
	b->pretok = NK_PRETOK_R50K;
	if ((rc = nk_bpe_add_special(b, "<|endoftext|>", 13, r)) ||
	    (rc = nk_bpe_finish(b, encoder_json)))
		goto out;
	*out = b;
	b = NULL;
out:
	nk_bpe_free(b);
	if (e.tok)
		for (uint32_t k = 0; k < e.cap; k++)
			free(e.tok[k]);
	free(e.tok);
	free(e.len);
	if (mt)
		for (size_t k = 0; k < lines + 256; k++)
			free(mt[k]);
	free(mt);
	free(ml);
	return rc;
}

int nk_bpe_open_gpt2(nk_bpe **out, const char *encoder_json,
		     const char *vocab_bpe)
{
	nk_input ej = {0}, vb = {0};
	int rc = nk_bpe_load_file(&ej, encoder_json);
	if (!rc)
		rc = nk_bpe_load_file(&vb, vocab_bpe);
	if (!rc)
		rc = nk_bpe_load_gpt2(out, ej.data, ej.size, encoder_json,
				      vb.data, vb.size, vocab_bpe);
	nk_input_free(&ej);
	nk_input_free(&vb);
	return rc;
}
