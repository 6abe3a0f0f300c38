/* fuzz_tokstream.c - token-id streams: arbitrary bytes through the reader.
 *
 * The first byte chooses how the rest is fed:
 *   bits 0-1  0: as is (text, or binary if it starts with "NKTS")
 *             1: "NKTS" prepended (a binary header to get wrong)
 *             2: as is, with a vocabulary size of 1000
 *             3: a valid 16-byte header prepended (straight to records)
 *   bits 2-7  the step (1..64 bytes) of a second, streaming parse
 * Checks: the memory parse and the streaming parse agree on every sequence,
 * the result code and the message (positions are absolute, chunking must
 * not show); whatever parsed re-encodes as text and as binary and reads
 * back the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/base.h"
#include "formats/tokstream.h"

typedef struct seqs {
	uint32_t *ids;
	size_t nids, cap;
	size_t *len;
	size_t nseq, capseq;
	int rc;
	char msg[512];
} seqs;

static void add(seqs *s, const uint32_t *ids, size_t n)
{
	if (s->nids + n > s->cap) {
		s->cap = (s->nids + n) * 2;
		s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
	}
	if (s->nseq == s->capseq) {
		s->capseq = s->capseq * 2 + 8;
		s->len = realloc(s->len, s->capseq * sizeof *s->len);
	}
	if (n)
		memcpy(s->ids + s->nids, ids, n * sizeof *ids);
	s->nids += n;
	s->len[s->nseq++] = n;
}

static void drain(nk_tokreader *r, uint32_t max_id, seqs *s)
{
	uint32_t *ids;
	size_t n;
	memset(s, 0, sizeof *s);
	if (!r) {
		s->rc = -1000;
		return;
	}
	nk_tokreader_set_max_id(r, max_id);
	while ((s->rc = nk_tokreader_next(r, &ids, &n)) == 1)
		add(s, ids, n);
	if (s->rc < 0)
		snprintf(s->msg, sizeof s->msg, "%s", nk_last_error());
	nk_tokreader_close(r);
}

static void release(seqs *s)
{
	free(s->ids);
	free(s->len);
}

static int same(const seqs *a, const seqs *b)
{
	return a->nseq == b->nseq && a->nids == b->nids &&
	       (!a->nseq || !memcmp(a->len, b->len, a->nseq * sizeof *a->len)) &&
	       (!a->nids || !memcmp(a->ids, b->ids, a->nids * sizeof *a->ids));
}

typedef struct dribble {
	const unsigned char *data;
	size_t size, pos, step;
} dribble;

static ssize_t dribble_read(void *ctx, void *buf, size_t n)
{
	dribble *d = ctx;
	size_t k = d->size - d->pos;
	if (k > d->step)
		k = d->step;
	if (k > n)
		k = n;
	memcpy(buf, d->data + d->pos, k);
	d->pos += k;
	return (ssize_t)k;
}

static void die(const char *what, const seqs *a, const seqs *b)
{
	fprintf(stderr, "fuzz_tokstream: %s\n  rc %d '%s'\n  rc %d '%s'\n",
		what, a->rc, a->msg, b->rc, b->msg);
	abort();
}

/* Re-encodes `s` and reads it back. */
static void roundtrip(const seqs *s, int binary)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);
	nk_tokwriter *w = nk_tokwriter_open(fp, binary);
	size_t at = 0;
	for (size_t i = 0; i < s->nseq; i++) {
		if (nk_tokwriter_put(w, s->ids ? s->ids + at : NULL,
				     s->len[i]) != 0)
			abort(); /* every id the reader returns is writable */
		at += s->len[i];
	}
	if (nk_tokwriter_close(w) != 0)
		abort();
	fclose(fp);
	seqs back;
	drain(nk_tokreader_open_mem(buf, size, "re"), 0, &back);
	if (back.rc != 0 || !same(s, &back))
		die(binary ? "binary round trip" : "text round trip", s, &back);
	release(&back);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > (1 << 20))
		return 0;
	unsigned mode = data[0] & 3, step = (data[0] >> 2) + 1u;
	size_t pre = mode == 1 ? 4 : mode == 3 ? 16 : 0;
	unsigned char *in = malloc(pre + size - 1 + 1);
	static const unsigned char header[16] = {'N', 'K', 'T', 'S', 1, 0, 4};
	memcpy(in, header, pre);
	memcpy(in + pre, data + 1, size - 1);
	size_t n = pre + size - 1;
	uint32_t max_id = mode == 2 ? 1000 : 0;

	seqs a, b;
	drain(nk_tokreader_open_mem(in, n, "f"), max_id, &a);
	dribble d = {in, n, 0, step};
	drain(nk_tokreader_open_fn(dribble_read, &d, "f"), max_id, &b);
	if (a.rc == -1000 || b.rc == -1000)
		abort(); /* opening memory input cannot fail but for memory */
	if (a.rc != b.rc || strcmp(a.msg, b.msg) != 0 || !same(&a, &b))
		die("memory and streaming parses differ", &a, &b);
	if (a.rc < 0 && strncmp(a.msg, "f:", 2) != 0)
		die("message does not name the input", &a, &b);
	roundtrip(&a, 0);
	roundtrip(&a, 1);
	release(&a);
	release(&b);
	free(in);
	return 0;
}
