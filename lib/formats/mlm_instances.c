/* mlm_instances.c - reading and writing instance streams (see
 * mlm_instances.h and nnkit-mlm(5)).
 *
 * The reader keeps the unread bytes in buf[p, end); buf[0] is at absolute
 * offset base.  A text line or a binary record is made whole in the buffer
 * before it is parsed (the buffer grows to the longest one, which the
 * limits bound), so the parsers never see a piece, and every position in a
 * message is absolute: it does not depend on how the source chunked.
 */
#include "formats/mlm_instances.h"
#include "formats/mlm_instances_impl.h"

#include "core/base.h"
#include "core/io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>


/* ---- reader ------------------------------------------------------------- */

int nk_mlmr_fail(nk_mlm_reader *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
	r->err = code;
	nk_error(code, "%s", r->msg);
	return -code;
}

int nk_mlmr_fail_lower(nk_mlm_reader *r, int code)
{
	nk_error_prefix(code, r->name);
	snprintf(r->msg, sizeof r->msg, "%s", nk_last_error());
	r->err = code;
	return -code;
}

/* Makes at least k unread bytes available at buf + p (fewer only at the
 * end of input).  Returns how many there are, or -1 on a read error. */
ssize_t nk_mlmr_fill(nk_mlm_reader *r, size_t k)
{
	while (r->end - r->p < k && !r->eof) {
		if (r->p && (r->cap - r->p < k || r->cap - r->end < CHUNK / 4)) {
			memmove(r->buf, r->buf + r->p, r->end - r->p);
			r->base += r->p;
			r->end -= r->p;
			r->p = 0;
		}
		size_t want = k > CHUNK ? k : CHUNK;
		if (r->cap < want && nk_grow((void **)&r->buf, &r->cap, want, 1))
			return -1;
		ssize_t got = r->fn(r->ctx, r->buf + r->end, r->cap - r->end);
		if (got < 0)
			return -1;
		if (got == 0)
			r->eof = 1;
		r->end += (size_t)got;
	}
	return (ssize_t)(r->end - r->p);
}

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	nk_mlm_reader *r = ctx;
	size_t k = r->mem_size - r->mem_pos;
	if (k > n)
		k = n;
	if (k)
		memcpy(buf, r->mem + r->mem_pos, k);
	r->mem_pos += k;
	return (ssize_t)k;
}

static ssize_t file_read(void *ctx, void *buf, size_t n)
{
	return nk_reader_read(ctx, buf, n);
}

static nk_mlm_reader *reader_new(const char *name)
{
	nk_mlm_reader *r = nk_calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->name = nk_strdup(name);
	if (!r->name) {
		free(r);
		return NULL;
	}
	r->need_header = 1;
	return r;
}

/* Text never starts with 'N': one byte settles text, so a line typed at
 * a terminal is not held back waiting for three more. */
static nk_mlm_reader *detect(nk_mlm_reader *r)
{
	ssize_t have = nk_mlmr_fill(r, 1);
	if (have > 0 && r->buf[r->p] == NK_MLM_MAGIC[0])
		have = nk_mlmr_fill(r, 4);
	if (have < 0) {
		nk_mlmr_fail_lower(r, NK_EIO);
		nk_mlm_reader_close(r);
		return NULL;
	}
	r->binary = have >= 4 && memcmp(r->buf + r->p, NK_MLM_MAGIC, 4) == 0;
	return r;
}

nk_mlm_reader *nk_mlm_reader_open_fn(nk_mlm_read_fn fn, void *ctx,
				     const char *name)
{
	nk_mlm_reader *r = reader_new(name);
	if (!r)
		return NULL;
	r->fn = fn;
	r->ctx = ctx;
	return detect(r);
}

nk_mlm_reader *nk_mlm_reader_open_mem(const void *data, size_t size,
				      const char *name)
{
	nk_mlm_reader *r = reader_new(name);
	if (!r)
		return NULL;
	r->mem = data;
	r->mem_size = size;
	r->fn = mem_read;
	r->ctx = r;
	return detect(r);
}

nk_mlm_reader *nk_mlm_reader_open(const char *path)
{
	nk_reader *rd = nk_reader_open(path);
	if (!rd)
		return NULL;
	nk_mlm_reader *r = reader_new(nk_reader_name(rd));
	if (!r) {
		nk_reader_close(rd);
		return NULL;
	}
	r->rd = rd;
	r->fn = file_read;
	r->ctx = rd;
	return detect(r);
}

void nk_mlm_reader_set_limits(nk_mlm_reader *r, uint32_t V, uint32_t T)
{
	r->V = V;
	r->T = T;
}

int nk_mlm_reader_is_binary(const nk_mlm_reader *r)
{
	return r->binary;
}

const char *nk_mlm_reader_name(const nk_mlm_reader *r)
{
	return r->name;
}

uint64_t nk_mlm_reader_count(const nk_mlm_reader *r)
{
	return r->count;
}

int nk_mlm_reader_close(nk_mlm_reader *r)
{
	int rc = NK_OK;
	if (!r)
		return rc;
	if (r->rd && nk_reader_close(r->rd) != 0)
		rc = NK_EIO;
	free(r->buf);
	free(r->arr);
	free(r->types);
	free(r->name);
	free(r);
	return rc;
}

/* Room for n tokens and m predictions in the reader's arrays. */
int nk_mlmr_room(nk_mlm_reader *r, size_t n, size_t m)
{
	if (nk_grow((void **)&r->arr, &r->arr_cap, n + 2 * m + 1,
		    sizeof *r->arr) ||
	    nk_grow((void **)&r->types, &r->types_cap, n + 1, 1))
		return nk_mlmr_fail_lower(r, NK_ENOMEM);
	return 0;
}

/* The limit on tokens: the caller's T, or the format's. */
uint32_t nk_mlmr_tmax(const nk_mlm_reader *r)
{
	return r->T && r->T < NK_MLM_T_MAX ? r->T : NK_MLM_T_MAX;
}

/* Fills *in from the reader's arrays and checks what the counts alone
 * could not: positions and ids.  `where` formats a position for messages
 * ("file:3:" or "file: record at byte offset 40:"). */
int nk_mlmr_finish(nk_mlm_reader *r, nk_mlm_instance *in, uint32_t n,
		  uint32_t na, uint32_t nm, int rnext, const char *where)
{
	in->n = n;
	in->ids = r->arr;
	in->mpos = r->arr + n;
	in->mlabel = r->arr + n + nm;
	in->types = r->types;
	in->nmask = nm;
	in->is_random_next = rnext;
	memset(r->types, 0, na);
	memset(r->types + na, 1, n - na);
	/* items are counted from 1 in messages, as lines and columns are */
	for (uint32_t k = 0; k < nm; k++) {
		if (in->mpos[k] >= n)
			return nk_mlmr_fail(r, NK_ERANGE,
				"%s masked position %u is %u, beyond the "
				"instance's %u tokens", where, k + 1,
				in->mpos[k], n);
		if (k && in->mpos[k] <= in->mpos[k - 1])
			return nk_mlmr_fail(r, NK_EFORMAT,
				"%s masked positions not ascending (%u after "
				"%u)", where, in->mpos[k], in->mpos[k - 1]);
	}
	for (uint32_t i = 0; r->V && i < n + nm; i++) {
		uint32_t v = i < n ? in->ids[i] : in->mlabel[i - n];
		if (v >= r->V)
			return nk_mlmr_fail(r, NK_ERANGE,
				"%s %s %u (id %u) out of range for vocabulary "
				"size %u", where, i < n ? "token" : "label",
				i < n ? i + 1 : i - n + 1, v, r->V);
	}
	r->count++;
	return 1;
}

/* ---- binary form -------------------------------------------------------- */

static void consume(nk_mlm_reader *r, size_t k)
{
	r->crc = (uint32_t)crc32(r->crc, r->buf + r->p, (uInt)k);
	r->p += k;
}

static unsigned long long off_here(const nk_mlm_reader *r)
{
	return (unsigned long long)(r->base + r->p);
}

/* A header at the start, or after an end record (where the end of input
 * is the normal end).  1 when one was read, 0 at the end. */
static int bin_header(nk_mlm_reader *r)
{
	ssize_t have = nk_mlmr_fill(r, NK_MLM_HEADER_SIZE);
	if (have < 0)
		return nk_mlmr_fail_lower(r, NK_EIO);
	unsigned long long off = off_here(r);
	if (have == 0 && r->headers > 0)
		return 0;
	const unsigned char *h = r->buf + r->p;
	size_t m = have < 4 ? (size_t)have : 4;
	if (memcmp(h, NK_MLM_MAGIC, m) != 0 || (have < 4 && r->headers > 0))
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s: unexpected data at byte offset %llu after the end "
			"record (expected the end of input or another \"NKMI\" "
			"header)", r->name, off);
	if (have < NK_MLM_HEADER_SIZE)
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s: truncated header at byte offset %llu: %zd of %d "
			"bytes", r->name, off, have, NK_MLM_HEADER_SIZE);
	unsigned version = nk_load_u16le(h + 4);
	if (version != NK_MLM_VERSION)
		return nk_mlmr_fail(r, NK_EVERSION,
			"%s: instance stream version %u at byte offset %llu; "
			"this nnkit reads version %d (a newer nnkit wrote it: "
			"upgrade, or write the text form)", r->name, version,
			off, NK_MLM_VERSION);
	if (nk_load_u16le(h + 6) || nk_load_u32le(h + 8) ||
	    nk_load_u32le(h + 12))
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s: header at byte offset %llu: reserved fields are "
			"not 0", r->name, off);
	r->crc = (uint32_t)crc32(0, Z_NULL, 0);
	consume(r, NK_MLM_HEADER_SIZE);
	r->nrec = 0;
	r->headers++;
	r->need_header = 0;
	return 1;
}

static int bin_end(nk_mlm_reader *r)
{
	unsigned long long off = off_here(r);
	ssize_t have = nk_mlmr_fill(r, NK_MLM_END_SIZE);
	if (have < 0)
		return nk_mlmr_fail_lower(r, NK_EIO);
	if (have < NK_MLM_END_SIZE)
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s: truncated end record at byte offset %llu: %zd of "
			"%d bytes", r->name, off, have, NK_MLM_END_SIZE);
	const unsigned char *e = r->buf + r->p;
	uint64_t nrec = nk_load_u64le(e + 4);
	uint32_t crc = nk_load_u32le(e + 12);
	if (nrec != r->nrec)
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s: end record at byte offset %llu counts %llu "
			"instances, the stream has %llu", r->name, off,
			(unsigned long long)nrec, (unsigned long long)r->nrec);
	if (crc != r->crc)
		return nk_mlmr_fail(r, NK_ECHECKSUM,
			"%s: checksum mismatch in the end record at byte "
			"offset %llu: stored 0x%08x, computed 0x%08x", r->name,
			off, (unsigned)crc, (unsigned)r->crc);
	r->p += NK_MLM_END_SIZE;
	r->need_header = 1;
	return 0;
}

static int bin_next(nk_mlm_reader *r, nk_mlm_instance *in)
{
	const unsigned char *h;
	unsigned long long off;
	ssize_t have;
	for (;;) {
		if (r->need_header) {
			int rc = bin_header(r);
			if (rc <= 0)
				return rc;
		}
		have = nk_mlmr_fill(r, 4);
		if (have < 0)
			return nk_mlmr_fail_lower(r, NK_EIO);
		off = off_here(r);
		if (have == 0)
			return nk_mlmr_fail(r, NK_EFORMAT,
				"%s: truncated stream at byte offset %llu: no "
				"end record (the writer stopped before "
				"finishing)", r->name, off);
		if (have < 4)
			goto truncated;
		if (nk_load_u32le(r->buf + r->p) != NK_MLM_END_MARK)
			break;
		int rc = bin_end(r);
		if (rc < 0)
			return rc;
	}
	have = nk_mlmr_fill(r, NK_MLM_REC_SIZE);
	if (have < 0)
		return nk_mlmr_fail_lower(r, NK_EIO);
	if (have < NK_MLM_REC_SIZE)
		goto truncated;
	h = r->buf + r->p;
	uint32_t n = nk_load_u32le(h), na = nk_load_u32le(h + 4);
	uint32_t nm = nk_load_u32le(h + 8), flags = nk_load_u32le(h + 12);
	char where[320];
	snprintf(where, sizeof where, "%s: record at byte offset %llu:",
		 r->name, off);
	if (n < 1 || n > nk_mlmr_tmax(r))
		return nk_mlmr_fail(r, NK_ERANGE,
			"%s %u tokens (allowed: 1 to %u)", where, n,
			nk_mlmr_tmax(r));
	if (na > n)
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s %u type-0 tokens of %u", where, na, n);
	if (nm > n)
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s %u masked positions in %u tokens", where, nm, n);
	if (flags & ~NK_MLM_FLAG_RANDOM_NEXT)
		return nk_mlmr_fail(r, NK_EFORMAT,
			"%s unknown flags 0x%08x", where, (unsigned)flags);
	size_t words = (size_t)n + 2 * (size_t)nm;
	have = nk_mlmr_fill(r, NK_MLM_REC_SIZE + 4 * words);
	if (have < 0)
		return nk_mlmr_fail_lower(r, NK_EIO);
	if ((size_t)have < NK_MLM_REC_SIZE + 4 * words)
		goto truncated;
	if (nk_mlmr_room(r, n, nm))
		return -r->err;
	consume(r, NK_MLM_REC_SIZE);
	for (size_t i = 0; i < words; i++)
		r->arr[i] = nk_load_u32le(r->buf + r->p + 4 * i);
	consume(r, 4 * words);
	r->nrec++;
	return nk_mlmr_finish(r, in, n, na, nm, flags & 1, where);
truncated:
	return nk_mlmr_fail(r, NK_EFORMAT,
		"%s: truncated record at byte offset %llu: %zd bytes left (the "
		"writer stopped before finishing)", r->name, off, have);
}

int nk_mlm_reader_next(nk_mlm_reader *r, nk_mlm_instance *in)
{
	if (r->err) {
		nk_error(r->err, "%s", r->msg);
		return -r->err;
	}
	return r->binary ? bin_next(r, in) : nk_mlmr_text_next(r, in);
}

int nk_mlm_read_all(const char *path, uint32_t V, uint32_t T,
		    uint32_t max_pred, nk_mlm_set *s)
{
	nk_mlm_reader *r = nk_mlm_reader_open(path);
	if (!r)
		return NK_EIO;
	nk_mlm_reader_set_limits(r, V, T);
	nk_mlm_instance in;
	int rc;
	while ((rc = nk_mlm_reader_next(r, &in)) == 1)
		if (nk_mlm_set_add(s, &in, max_pred)) {
			rc = -NK_ENOMEM;
			break;
		}
	char msg[512];
	snprintf(msg, sizeof msg, "%s", nk_last_error());
	int crc = nk_mlm_reader_close(r);
	if (rc < 0)
		return nk_error(-rc, "%s", msg);
	if (crc)
		return nk_error(NK_EIO, "%s: error closing", path);
	return NK_OK;
}
