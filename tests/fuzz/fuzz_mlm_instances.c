/* fuzz_mlm_instances.c - instance streams (nnkit-mlm(5)): arbitrary bytes
 * through the reader.
 *
 * The first byte chooses how the rest is fed:
 *   bits 0-1  0: as is (text, or binary if it starts with "NKMI")
 *             1: "NKMI" prepended (a binary header to get wrong)
 *             2: as is, with vocabulary size 1000 and T 64
 *             3: a valid 16-byte header prepended (straight to records)
 *   bits 2-7  the step (1..64 bytes) of a second, streaming parse
 * Checks: the memory parse and the streaming parse agree on every
 * instance, the result code and the message (positions are absolute, the
 * chunking must not show); every instance returned passes
 * nk_mlm_instance_check; whatever parsed is written as text and as binary
 * and reads back the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/base.h"
#include "formats/mlm_instances.h"

typedef struct result {
	nk_mlm_set set;
	int rc;
	char msg[512];
} result;

static void drain(nk_mlm_reader *r, uint32_t V, uint32_t T, result *out)
{
	nk_mlm_instance in;
	memset(out, 0, sizeof *out);
	if (!r) {
		out->rc = -1000;
		return;
	}
	nk_mlm_reader_set_limits(r, V, T);
	while ((out->rc = nk_mlm_reader_next(r, &in)) == 1) {
		if (nk_mlm_instance_check(&in, V) != 0 ||
		    (T && in.n > T))
			abort();  /* the reader let through what it must not */
		if (nk_mlm_set_add(&out->set, &in, 0))
			abort();
	}
	if (out->rc < 0)
		snprintf(out->msg, sizeof out->msg, "%s", nk_last_error());
	nk_mlm_reader_close(r);
}

static int same_instance(const nk_mlm_instance *a, const nk_mlm_instance *b)
{
	return a->n == b->n && a->nmask == b->nmask &&
	       a->is_random_next == b->is_random_next &&
	       !memcmp(a->ids, b->ids, a->n * sizeof *a->ids) &&
	       !memcmp(a->types, b->types, a->n) &&
	       !memcmp(a->mpos, b->mpos, a->nmask * sizeof *a->mpos) &&
	       !memcmp(a->mlabel, b->mlabel, a->nmask * sizeof *a->mlabel);
}

static int same(const nk_mlm_set *a, const nk_mlm_set *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!same_instance(&a->inst[i], &b->inst[i]))
			return 0;
	return 1;
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

static void die(const char *what, const result *a, const result *b)
{
	fprintf(stderr, "fuzz_mlm_instances: %s\n  rc %d '%s'\n  rc %d '%s'\n",
		what, a->rc, a->msg, b->rc, b->msg);
	abort();
}

static void roundtrip(const result *a, int binary)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);
	nk_mlm_writer *w = nk_mlm_writer_open(fp, binary);
	for (size_t i = 0; i < a->set.n; i++)
		if (nk_mlm_writer_put(w, &a->set.inst[i]) != 0)
			abort(); /* every instance the reader returns is writable */
	if (nk_mlm_writer_close(w) != 0)
		abort();
	fclose(fp);
	result back;
	drain(nk_mlm_reader_open_mem(buf, size, "re"), 0, 0, &back);
	if (back.rc != 0 || !same(&a->set, &back.set))
		die(binary ? "binary round trip" : "text round trip", a, &back);
	nk_mlm_set_free(&back.set);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > (1 << 20))
		return 0;
	/* The recognition bert-mask sorts its inputs by: any bytes. */
	(void)nk_mlm_is_instances(data, size);
	unsigned mode = data[0] & 3, step = (data[0] >> 2) + 1u;
	size_t pre = mode == 1 ? 4 : mode == 3 ? 16 : 0;
	unsigned char *in = malloc(pre + size);
	static const unsigned char header[16] = {'N', 'K', 'M', 'I', 1, 0};
	memcpy(in, header, pre);
	memcpy(in + pre, data + 1, size - 1);
	size_t n = pre + size - 1;
	uint32_t V = mode == 2 ? 1000 : 0, T = mode == 2 ? 64 : 0;

	result a, b;
	drain(nk_mlm_reader_open_mem(in, n, "f"), V, T, &a);
	dribble d = {in, n, 0, step};
	drain(nk_mlm_reader_open_fn(dribble_read, &d, "f"), V, T, &b);
	if (a.rc == -1000 || b.rc == -1000)
		abort(); /* opening memory input cannot fail but for memory */
	if (a.rc != b.rc || strcmp(a.msg, b.msg) != 0 || !same(&a.set, &b.set))
		die("memory and streaming parses differ", &a, &b);
	if (a.rc < 0 && strncmp(a.msg, "f:", 2) != 0)
		die("message does not name the input", &a, &b);
	roundtrip(&a, 0);
	roundtrip(&a, 1);
	nk_mlm_set_free(&a.set);
	nk_mlm_set_free(&b.set);
	free(in);
	return 0;
}
