/* tokstream.c - reading and writing token-id streams (see tokstream.h and
 * nnkit-tokens(5)).
 *
 * The reader keeps a window [p, end) of unread bytes.  For a stream the
 * window lives in a 64 KiB buffer that is refilled from the source; the few
 * bytes of an unfinished token or record header are moved to the front
 * first, so the parsers always see a token or a header whole.  For memory
 * input the window is the caller's buffer.  Every position in a message is
 * an absolute offset into the stream, so a message does not depend on how
 * the source happened to chunk its bytes.
 */
#include "formats/tokstream.h"

#include "core/base.h"
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1u << 16)
/* Longest run of digits accepted as one id: enough for any leading zeros a
 * sane writer emits, and a bound on what a refill must carry over. */
#define DIGITS_MAX 64

struct nk_tokreader {
	char *name;
	nk_tokread_fn fn;
	void *ctx;
	nk_reader *rd;              /* owned when opened by path */
	unsigned char *buf;         /* stream buffer; NULL for memory input */
	const unsigned char *base;  /* byte at absolute offset base_off */
	const unsigned char *p;     /* next unread byte */
	const unsigned char *end;   /* end of the bytes read so far */
	uint64_t base_off;
	int eof;                    /* the source has no more bytes */
	int binary;
	int err;                    /* sticky NK_E* code, 0 when fine */
	uint32_t max_id;            /* 0: only NK_TOK_ID_MAX */
	uint32_t *ids;
	size_t ids_cap;             /* in ids */
	uint64_t seqno;
	uint64_t line_start;        /* text: offset of the current line */
	int need_header;            /* binary: a header comes next */
	int headers;                /* binary: headers read so far */
	uint32_t crc;               /* binary: CRC-32 since the header */
	uint64_t nrec;              /* binary: records since the header */
	char msg[512];              /* the sticky error's message */
};

static uint64_t offset_of(const nk_tokreader *r, const unsigned char *q)
{
	return r->base_off + (uint64_t)(q - r->base);
}

/* Records a failure: the message (already naming the file) is kept so that
 * a later call reports it again. */
static int fail(nk_tokreader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(nk_tokreader *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
	r->err = code;
	nk_error(code, "%s", r->msg);
	return -code;
}

/* A failure whose message a lower layer recorded (I/O, allocation). */
static int fail_lower(nk_tokreader *r, int code)
{
	nk_error_prefix(code, r->name);
	snprintf(r->msg, sizeof r->msg, "%s", nk_last_error());
	r->err = code;
	return -code;
}

/* Moves [keep, end) to the front of the buffer and reads more after it.
 * Returns bytes read (0 at the end of input, which sets eof), or -1. */
static ssize_t refill(nk_tokreader *r, const unsigned char *keep)
{
	if (r->eof)
		return 0;
	size_t left = (size_t)(r->end - keep);
	size_t pos = (size_t)(r->p - keep);
	r->base_off += (uint64_t)(keep - r->base);
	memmove(r->buf, keep, left);
	r->base = r->buf;
	r->p = r->buf + pos;
	r->end = r->buf + left;
	ssize_t got = r->fn(r->ctx, r->buf + left, CHUNK - left);
	if (got < 0)
		return -1;
	if (got == 0)
		r->eof = 1;
	r->end += got;
	return got;
}

/* Ensures `k` unread bytes (k <= DIGITS_MAX) unless the input ends first;
 * returns how many there are, or -1 on a read error. */
static ssize_t ensure(nk_tokreader *r, size_t k)
{
	while ((size_t)(r->end - r->p) < k && !r->eof)
		if (refill(r, r->p) < 0)
			return -1;
	return r->end - r->p;
}

static int grow_ids(nk_tokreader *r, size_t want);

static nk_tokreader *reader_new(const char *name)
{
	nk_tokreader *r = nk_calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->name = nk_strdup(name);
	if (!r->name) {
		free(r);
		return NULL;
	}
	r->need_header = 1;
	/* so that even an empty first sequence comes with a real pointer */
	if (grow_ids(r, 1)) {
		free(r->name);
		free(r);
		return NULL;
	}
	return r;
}

/* Decides the form from the first bytes.  Text never starts with 'N', so
 * one byte settles it for text: a program reading a line typed at a
 * terminal does not wait for three more. */
static nk_tokreader *detect(nk_tokreader *r)
{
	ssize_t have = ensure(r, 1);
	if (have > 0 && r->p[0] == NK_TOK_MAGIC[0])
		have = ensure(r, 4);
	if (have < 0) {
		fail_lower(r, NK_EIO);
		nk_tokreader_close(r);
		return NULL;
	}
	r->binary = have >= 4 && memcmp(r->p, NK_TOK_MAGIC, 4) == 0;
	return r;
}

nk_tokreader *nk_tokreader_open_mem(const void *data, size_t size,
				    const char *name)
{
	nk_tokreader *r = reader_new(name);
	if (!r)
		return NULL;
	static const unsigned char empty[1];
	r->base = r->p = size ? data : empty;
	r->end = r->p + size;
	r->eof = 1;
	return detect(r);
}

nk_tokreader *nk_tokreader_open_fn(nk_tokread_fn fn, void *ctx,
				   const char *name)
{
	nk_tokreader *r = reader_new(name);
	if (!r)
		return NULL;
	r->buf = nk_malloc(CHUNK);
	if (!r->buf) {
		nk_tokreader_close(r);
		return NULL;
	}
	r->fn = fn;
	r->ctx = ctx;
	r->base = r->p = r->end = r->buf;
	return detect(r);
}

static ssize_t reader_read(void *ctx, void *buf, size_t n)
{
	return nk_reader_read(ctx, buf, n);
}

nk_tokreader *nk_tokreader_open(const char *path)
{
	nk_reader *rd = nk_reader_open(path);
	if (!rd)
		return NULL;
	nk_tokreader *r = reader_new(nk_reader_name(rd));
	if (!r) {
		nk_reader_close(rd);
		return NULL;
	}
	r->rd = rd;
	r->buf = nk_malloc(CHUNK);
	if (!r->buf) {
		nk_tokreader_close(r);
		return NULL;
	}
	r->fn = reader_read;
	r->ctx = rd;
	r->base = r->p = r->end = r->buf;
	return detect(r);
}

void nk_tokreader_set_max_id(nk_tokreader *r, uint32_t v)
{
	r->max_id = v;
}

int nk_tokreader_is_binary(const nk_tokreader *r)
{
	return r->binary;
}

const char *nk_tokreader_name(const nk_tokreader *r)
{
	return r->name;
}

uint64_t nk_tokreader_seqno(const nk_tokreader *r)
{
	return r->seqno;
}

int nk_tokreader_close(nk_tokreader *r)
{
	int rc = NK_OK;
	if (!r)
		return rc;
	if (r->rd && nk_reader_close(r->rd) != 0)
		rc = NK_EIO;
	free(r->buf);
	free(r->ids);
	free(r->name);
	free(r);
	return rc;
}

/* Grows the id buffer to hold at least `want` ids. */
static int grow_ids(nk_tokreader *r, size_t want)
{
	if (want <= r->ids_cap)
		return 0;
	size_t cap = r->ids_cap ? r->ids_cap : 256;
	while (cap < want)
		cap *= 2;
	if (cap > NK_TOK_SEQ_MAX)
		cap = want > NK_TOK_SEQ_MAX ? want : NK_TOK_SEQ_MAX;
	uint32_t *ids = nk_reallocarray(r->ids, cap, sizeof *ids);
	if (!ids)
		return fail_lower(r, NK_ENOMEM);
	r->ids = ids;
	r->ids_cap = cap;
	return 0;
}

/* Shows a byte in a message: 'x', or '\xNN' when it is not printable. */
static const char *show_byte(char out[8], unsigned char c)
{
	if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
		snprintf(out, 8, "'%c'", c);
	else if (c == '\n')
		snprintf(out, 8, "'\\n'");
	else if (c == '\r')
		snprintf(out, 8, "'\\r'");
	else if (c == '\t')
		snprintf(out, 8, "'\\t'");
	else
		snprintf(out, 8, "'\\x%02x'", c);
	return out;
}

/* ---- text form ---------------------------------------------------------- */

static int text_fail_at(nk_tokreader *r, const unsigned char *q, int code,
			const char *what)
{
	return fail(r, code, "%s:%llu:%llu: %s", r->name,
		    (unsigned long long)r->seqno + 1,
		    (unsigned long long)(offset_of(r, q) - r->line_start + 1),
		    what);
}

static int text_bad_byte(nk_tokreader *r, const unsigned char *q,
			 const char *expected)
{
	char what[160], c[8];
	snprintf(what, sizeof what, "expected %s, found %s%s", expected,
		 show_byte(c, *q),
		 *q == '-' ? " (token ids are not negative)" : "");
	return text_fail_at(r, q, NK_EFORMAT, what);
}

static int text_bad_id(nk_tokreader *r, const unsigned char *s, size_t len,
		       uint64_t v)
{
	char what[200];
	if (len > DIGITS_MAX)
		snprintf(what, sizeof what,
			 "token id %.20s... too long (more than %d digits)",
			 (const char *)s, DIGITS_MAX);
	else if (v > NK_TOK_ID_MAX)
		snprintf(what, sizeof what,
			 "token id %.*s%s out of range (the largest is %u)",
			 len > 24 ? 20 : (int)len, (const char *)s,
			 len > 24 ? "..." : "", NK_TOK_ID_MAX);
	else
		snprintf(what, sizeof what,
			 "token id %llu out of range for vocabulary size %u",
			 (unsigned long long)v, r->max_id);
	return text_fail_at(r, s, NK_ERANGE, what);
}

static int text_next(nk_tokreader *r, uint32_t **out, size_t *nout)
{
	const unsigned char *p = r->p, *end = r->end;
	/* ids above `limit` are refused: the vocabulary or the format's cap */
	uint64_t limit = r->max_id ? (uint64_t)r->max_id - 1 : NK_TOK_ID_MAX;
	size_t n = 0;
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end) {
			if (!r->eof) {
				r->p = p;
				if (refill(r, p) < 0)
					return fail_lower(r, NK_EIO);
				p = r->p, end = r->end;
				continue;
			}
			if (offset_of(r, p) == r->line_start)
				return 0;     /* no bytes after the last '\n' */
			break;                /* a final line without '\n' */
		}
		unsigned c = *p;
		if (c - '0' < 10) {
			const unsigned char *s = p;
			uint64_t v = 0;
			while (p < end && (unsigned)(*p - '0') < 10) {
				v = v * 10 + (unsigned)(*p - '0');
				if (v > (uint64_t)NK_TOK_ID_MAX + 1)
					v = (uint64_t)NK_TOK_ID_MAX + 1;
				p++;
			}
			size_t len = (size_t)(p - s);
			if (len > DIGITS_MAX)
				return text_bad_id(r, s, len, v);
			if (p == end && !r->eof) {
				/* the id may go on in the next chunk */
				r->p = s;
				if (refill(r, s) < 0)
					return fail_lower(r, NK_EIO);
				p = r->p, end = r->end;
				continue;
			}
			if (p < end && *p != ' ' && *p != '\t' && *p != '\n' &&
			    *p != '\r')
				return text_bad_byte(r, p,
				    "a space or the end of the line after a token id");
			if (v > limit)
				return text_bad_id(r, s, len, v);
			if (n == r->ids_cap) {
				if (n == NK_TOK_SEQ_MAX)
					return text_fail_at(r, s, NK_ERANGE,
					    "line has more than 268435456 token ids");
				r->p = p;
				if (grow_ids(r, n + 1))
					return -r->err;
			}
			r->ids[n++] = (uint32_t)v;
			continue;
		}
		if (c == '\n') {
			p++;
			break;
		}
		if (c == '\r') {
			if (p + 1 == end && !r->eof) {
				r->p = p;
				if (refill(r, p) < 0)
					return fail_lower(r, NK_EIO);
				p = r->p, end = r->end;
				continue;
			}
			if (p + 1 == end) {
				p++;
				break;
			}
			if (p[1] == '\n') {
				p += 2;
				break;
			}
			return text_bad_byte(r, p + 1,
					     "a newline after a carriage return");
		}
		return text_bad_byte(r, p, "a token id");
	}
	r->p = p;
	r->line_start = offset_of(r, p);
	r->seqno++;
	*out = r->ids;
	*nout = n;
	return 1;
}

/* ---- binary form -------------------------------------------------------- */

static void consume(nk_tokreader *r, size_t k)
{
	r->crc = (uint32_t)crc32(r->crc, r->p, (uInt)k);
	r->p += k;
}

/* Reads a header: at the start of the stream, or after an end record, where
 * the end of input is the normal end and another header begins a
 * concatenated stream.  Returns 1 when a header was read, 0 at the end. */
static int bin_header(nk_tokreader *r)
{
	ssize_t have = ensure(r, NK_TOK_HEADER_SIZE);
	if (have < 0)
		return fail_lower(r, NK_EIO);
	uint64_t off = offset_of(r, r->p);
	if (have == 0 && r->headers > 0)
		return 0;
	size_t m = have < 4 ? (size_t)have : 4;
	if (memcmp(r->p, NK_TOK_MAGIC, m) != 0 || (have < 4 && r->headers > 0))
		return fail(r, NK_EFORMAT,
			    "%s: unexpected data at byte offset %llu after the "
			    "end record (expected the end of input or another "
			    "\"NKTS\" header)",
			    r->name, (unsigned long long)off);
	if (have < NK_TOK_HEADER_SIZE)
		return fail(r, NK_EFORMAT,
			    "%s: truncated header at byte offset %llu: %zd of "
			    "%d bytes", r->name, (unsigned long long)off, have,
			    NK_TOK_HEADER_SIZE);
	const unsigned char *h = r->p;
	unsigned version = nk_load_u16le(h + 4);
	unsigned width = nk_load_u16le(h + 6);
	uint32_t flags = nk_load_u32le(h + 8);
	uint32_t reserved = nk_load_u32le(h + 12);
	if (version != NK_TOK_VERSION)
		return fail(r, NK_EVERSION,
			    "%s: token stream version %u at byte offset %llu; "
			    "this nnkit reads version %d (a newer nnkit wrote "
			    "it: upgrade, or write text with tokenize)",
			    r->name, version, (unsigned long long)off,
			    NK_TOK_VERSION);
	if (width != 4)
		return fail(r, NK_EFORMAT,
			    "%s: header at byte offset %llu: id width %u bytes "
			    "not supported (only 4)",
			    r->name, (unsigned long long)off, width);
	if (flags != 0)
		return fail(r, NK_EFORMAT,
			    "%s: header at byte offset %llu: unknown flags "
			    "0x%08x", r->name, (unsigned long long)off,
			    (unsigned)flags);
	if (reserved != 0)
		return fail(r, NK_EFORMAT,
			    "%s: header at byte offset %llu: reserved field is "
			    "0x%08x, not 0", r->name,
			    (unsigned long long)off + 12, (unsigned)reserved);
	r->crc = (uint32_t)crc32(0, Z_NULL, 0);
	consume(r, NK_TOK_HEADER_SIZE);
	r->nrec = 0;
	r->headers++;
	r->need_header = 0;
	return 1;
}

/* Checks the end record at r->p (the mark already seen). */
static int bin_end(nk_tokreader *r)
{
	uint64_t off = offset_of(r, r->p);
	ssize_t have = ensure(r, NK_TOK_END_SIZE);
	if (have < 0)
		return fail_lower(r, NK_EIO);
	if (have < NK_TOK_END_SIZE)
		return fail(r, NK_EFORMAT,
			    "%s: truncated end record at byte offset %llu: "
			    "%zd of %d bytes", r->name,
			    (unsigned long long)off, have, NK_TOK_END_SIZE);
	uint64_t nrec = nk_load_u64le(r->p + 4);
	uint32_t crc = nk_load_u32le(r->p + 12);
	if (nrec != r->nrec)
		return fail(r, NK_EFORMAT,
			    "%s: end record at byte offset %llu counts %llu "
			    "sequences, the stream has %llu", r->name,
			    (unsigned long long)off, (unsigned long long)nrec,
			    (unsigned long long)r->nrec);
	if (crc != r->crc)
		return fail(r, NK_ECHECKSUM,
			    "%s: checksum mismatch in the end record at byte "
			    "offset %llu: stored 0x%08x, computed 0x%08x",
			    r->name, (unsigned long long)off, (unsigned)crc,
			    (unsigned)r->crc);
	r->p += NK_TOK_END_SIZE;
	r->need_header = 1;
	return 0;
}

static int bin_next(nk_tokreader *r, uint32_t **out, size_t *nout)
{
	uint32_t count;
	uint64_t off;
	for (;;) {
		if (r->need_header) {
			int rc = bin_header(r);
			if (rc <= 0)
				return rc;
		}
		ssize_t have = ensure(r, 4);
		if (have < 0)
			return fail_lower(r, NK_EIO);
		off = offset_of(r, r->p);
		if (have == 0)
			return fail(r, NK_EFORMAT,
				    "%s: truncated stream at byte offset %llu: "
				    "no end record (the writer stopped before "
				    "finishing)", r->name,
				    (unsigned long long)off);
		if (have < 4)
			return fail(r, NK_EFORMAT,
				    "%s: truncated record at byte offset %llu: "
				    "%zd of 4 count bytes", r->name,
				    (unsigned long long)off, have);
		count = nk_load_u32le(r->p);
		if (count != NK_TOK_END_MARK)
			break;
		int rc = bin_end(r);
		if (rc < 0)
			return rc;
	}
	if (count > NK_TOK_SEQ_MAX)
		return fail(r, NK_EFORMAT,
			    "%s: record at byte offset %llu: count %u ids is "
			    "over the limit of %u", r->name,
			    (unsigned long long)off, (unsigned)count,
			    NK_TOK_SEQ_MAX);
	consume(r, 4);
	size_t need = (size_t)count * 4, done = 0;
	/* Memory input can be checked before allocating; a stream grows the
	 * buffer only as bytes arrive, so a lying count costs nothing. */
	if (r->eof && (size_t)(r->end - r->p) < need)
		goto truncated;
	while (done < need) {
		if (r->p == r->end) {
			ssize_t got = refill(r, r->p);
			if (got < 0)
				return fail_lower(r, NK_EIO);
			if (got == 0)
				goto truncated;
		}
		size_t take = (size_t)(r->end - r->p);
		if (take > need - done)
			take = need - done;
		if (grow_ids(r, (done + take + 3) / 4))
			return -r->err;
		memcpy((unsigned char *)r->ids + done, r->p, take);
		consume(r, take);
		done += take;
	}
	uint32_t *ids = r->ids;
	uint32_t limit = r->max_id ? r->max_id - 1 : NK_TOK_ID_MAX;
	for (size_t i = 0; i < count; i++) {
		uint32_t v = nk_load_u32le((const unsigned char *)&ids[i]);
		ids[i] = v;
		if (v > limit) {
			unsigned long long at = off + 4 + 4 * (uint64_t)i;
			if (v == 0xFFFFFFFFu)
				return fail(r, NK_ERANGE,
					    "%s: reserved token id 4294967295 "
					    "at byte offset %llu", r->name, at);
			return fail(r, NK_ERANGE,
				    "%s: token id %u at byte offset %llu out "
				    "of range for vocabulary size %u",
				    r->name, (unsigned)v, at,
				    (unsigned)r->max_id);
		}
	}
	r->nrec++;
	r->seqno++;
	*out = ids;
	*nout = count;
	return 1;
truncated:
	return fail(r, NK_EFORMAT,
		    "%s: truncated record at byte offset %llu: count %u ids, "
		    "%zu bytes left", r->name, (unsigned long long)off,
		    (unsigned)count, done + (size_t)(r->end - r->p));
}

int nk_tokreader_next(nk_tokreader *r, uint32_t **ids, size_t *n)
{
	if (r->err) {
		nk_error(r->err, "%s", r->msg);
		return -r->err;
	}
	return r->binary ? bin_next(r, ids, n) : text_next(r, ids, n);
}

/* ---- a whole stream into one array -------------------------------------- */

static int read_all(nk_tokreader *r, uint32_t max_id, int flags,
		    uint32_t **ids, size_t *n)
{
	size_t cap = *n, eos = (flags & NK_TOK_READ_EOS) != 0;
	uint32_t *seq;
	size_t len;
	int rc;
	nk_tokreader_set_max_id(r, max_id);
	while ((rc = nk_tokreader_next(r, &seq, &len)) == 1) {
		size_t need;
		if (nk_size_add(&need, *n, len) || nk_size_add(&need, need, eos)) {
			rc = -NK_ERANGE;
			break;
		}
		if (need > cap) {
			size_t c2 = cap > 4096 ? cap : 4096;
			int over = 0;
			while (c2 < need && !over)
				over = nk_size_mul(&c2, c2, 2);
			uint32_t *p = over ? NULL :
				      nk_reallocarray(*ids, c2, sizeof *p);
			if (!p) {
				rc = over ? -NK_ERANGE : -NK_ENOMEM;
				break;
			}
			*ids = p;
			cap = c2;
		}
		if (len)
			memcpy(*ids + *n, seq, len * sizeof *seq);
		*n += len;
		if (eos)
			(*ids)[(*n)++] = NK_TOK_EOS;
	}
	if (rc < 0) {
		/* Closing must not replace the failure's message. */
		char msg[sizeof r->msg];
		snprintf(msg, sizeof msg, "%s", nk_last_error());
		nk_tokreader_close(r);
		return nk_error(-rc, "%s", msg);
	}
	char name[256];
	snprintf(name, sizeof name, "%s", r->name);
	errno = 0;
	if (nk_tokreader_close(r))
		return nk_error(NK_EIO, "%s: %s", name,
				strerror(errno ? errno : EIO));
	return NK_OK;
}

int nk_tok_read_all(const char *path, uint32_t max_id, int flags,
		    uint32_t **ids, size_t *n)
{
	nk_tokreader *r = nk_tokreader_open(path);
	if (!r)
		return NK_EIO;
	return read_all(r, max_id, flags, ids, n);
}

int nk_tok_read_all_mem(const void *data, size_t size, const char *name,
			uint32_t max_id, int flags, uint32_t **ids, size_t *n)
{
	nk_tokreader *r = nk_tokreader_open_mem(data, size, name);
	if (!r)
		return NK_ENOMEM;
	return read_all(r, max_id, flags, ids, n);
}

/* ---- writer ------------------------------------------------------------- */

/* A chunk of the binary parts of a sequence being put in parts. */
struct seq_chunk {
	unsigned char *p;
	size_t len, cap;
	uint32_t crc;       /* of p[0..len) */
};

struct nk_tokwriter {
	FILE *fp;
	int binary;
	int err;
	uint32_t crc;
	uint64_t nrec;
	size_t len;
	char msg[256];
	/* the sequence being put in parts (nk_tokwriter_put_part) */
	uint64_t seq_nids;
	int seq_text_ids;           /* text: ids written, a space goes next */
	/* binary: the parts so far, copied into chunks of huge pages that
	 * are kept from sequence to sequence (a fresh buffer for each part
	 * cost a page fault every 4 KB: -z -b was 40% slower than -z); each
	 * chunk twice the one before, never moved (no copy, no peak of two) */
	struct seq_chunk *chunk;
	size_t nchunk, chunk_used, chunk_cap;
	/* binary into a regular file: the parts go straight out after a
	 * count of 0, which the end of the sequence writes over (seekable) */
	int seekable;
	int streaming;              /* the sequence being put goes straight out */
	off_t seq_at;               /* where its count is */
	uint32_t seq_crc;           /* of its ids so far */
	uint64_t seq_len;           /* their bytes */
	unsigned char buf[CHUNK];
};

static int wfail(nk_tokwriter *w)
{
	if (!w->err) {
		snprintf(w->msg, sizeof w->msg, "writing token stream: %s",
			 strerror(errno ? errno : EIO));
		w->err = NK_EIO;
	}
	return nk_error(w->err, "%s", w->msg);
}

static int wflush(nk_tokwriter *w)
{
	if (w->err)
		return nk_error(w->err, "%s", w->msg);
	if (w->binary)
		w->crc = (uint32_t)crc32(w->crc, w->buf, (uInt)w->len);
	errno = 0;
	if (w->len && fwrite(w->buf, 1, w->len, w->fp) != w->len)
		return wfail(w);
	w->len = 0;
	return 0;
}

nk_tokwriter *nk_tokwriter_open(FILE *fp, int binary)
{
	nk_tokwriter *w = nk_malloc(sizeof *w);
	if (!w)
		return NULL;
	w->fp = fp;
	w->binary = binary != 0;
	w->err = 0;
	w->crc = (uint32_t)crc32(0, Z_NULL, 0);
	w->nrec = 0;
	w->len = 0;
	w->msg[0] = '\0';
	w->seq_nids = 0;
	w->seq_text_ids = 0;
	w->chunk = NULL;
	w->nchunk = w->chunk_used = w->chunk_cap = 0;
	/* A sequence put in parts would otherwise be held whole until its
	 * count is known: tokenize -z -b held the whole input's ids (a peak
	 * of 63 MB for 27 MB of text, 36 MB now; the time is the same).  Not
	 * for a file opened to append, where every write goes to the end. */
	struct stat st;
	int fd = fileno(fp), fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	w->seekable = w->binary && fl >= 0 && !(fl & O_APPEND) &&
		      fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		      ftello(fp) >= 0;
	w->streaming = 0;
	if (w->binary) {
		unsigned char *h = w->buf;
		memcpy(h, NK_TOK_MAGIC, 4);
		nk_store_u16le(h + 4, NK_TOK_VERSION);
		nk_store_u16le(h + 6, 4);
		nk_store_u32le(h + 8, 0);
		nk_store_u32le(h + 12, 0);
		w->len = NK_TOK_HEADER_SIZE;
	}
	return w;
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

/* Writes v in decimal ending just before `end`; returns the first byte. */
static inline __attribute__((always_inline)) unsigned char *
fmt_u32(unsigned char *end, uint32_t v)
{
	while (v >= 100) {
		unsigned d = (v % 100) * 2;
		v /= 100;
		*--end = (unsigned char)digit_pairs[d + 1];
		*--end = (unsigned char)digit_pairs[d];
	}
	if (v >= 10) {
		*--end = (unsigned char)digit_pairs[v * 2 + 1];
		*--end = (unsigned char)digit_pairs[v * 2];
	} else {
		*--end = (unsigned char)('0' + v);
	}
	return end;
}

static inline unsigned decimal_digits(uint32_t v)
{
	if (v < 100000) {
		if (v < 100)
			return v < 10 ? 1 : 2;
		if (v < 1000)
			return 3;
		return v < 10000 ? 4 : 5;
	}
	if (v < 10000000)
		return v < 1000000 ? 6 : 7;
	if (v < 1000000000)
		return v < 100000000 ? 8 : 9;
	return 10;
}

/* The four decimal digits of each i < 10^4 as bytes 0-9, the most
 * significant first in memory (little-endian): 40 KB, built by the
 * preprocessor. */
#define BCD0(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
			  (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define BCD1(a, b, c) BCD0(a, b, c, 0), BCD0(a, b, c, 1), BCD0(a, b, c, 2), \
	BCD0(a, b, c, 3), BCD0(a, b, c, 4), BCD0(a, b, c, 5), \
	BCD0(a, b, c, 6), BCD0(a, b, c, 7), BCD0(a, b, c, 8), BCD0(a, b, c, 9)
#define BCD2(a, b) BCD1(a, b, 0), BCD1(a, b, 1), BCD1(a, b, 2), BCD1(a, b, 3), \
	BCD1(a, b, 4), BCD1(a, b, 5), BCD1(a, b, 6), BCD1(a, b, 7), \
	BCD1(a, b, 8), BCD1(a, b, 9)
#define BCD3(a) BCD2(a, 0), BCD2(a, 1), BCD2(a, 2), BCD2(a, 3), BCD2(a, 4), \
	BCD2(a, 5), BCD2(a, 6), BCD2(a, 7), BCD2(a, 8), BCD2(a, 9)
static const uint32_t bcd4[10000] = {
	BCD3(0), BCD3(1), BCD3(2), BCD3(3), BCD3(4),
	BCD3(5), BCD3(6), BCD3(7), BCD3(8), BCD3(9),
};

/* The eight decimal digits of v < 10^8 the same way. */
static inline uint64_t digits8(uint32_t v)
{
	return bcd4[v / 10000] | (uint64_t)bcd4[v % 10000] << 32;
}

/* Ids under 10^8 (every vocabulary's) are written eight bytes at a time,
 * the leading zeros shifted out: the branches on the digit count were
 * mispredicted on about every other id (the ids of a text have 1 to 6
 * digits in no order), which cost as much as the rest of the line.  An
 * id takes at most 11 bytes of dst, so the 8-byte store stays inside.
 * Larger ids: digits straight into place, right to left, once their
 * count is known. */
size_t nk_tok_format_line(char *dst, const uint32_t *ids, size_t n)
{
	unsigned char *o = (unsigned char *)dst;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = ids[i];
		if (v < 100000000) {
			uint64_t d = digits8(v);
			unsigned lz = d ? (unsigned)__builtin_ctzll(d) >> 3 : 7;
			d = (d + 0x3030303030303030ull) >> (8 * lz);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			memcpy(o, &d, 8);   /* one store (the loop below is 8) */
#else
			nk_store_u64le(o, d);
#endif
			o += 8 - lz;
		} else {
			o += decimal_digits(v);
			fmt_u32(o, v);
		}
		*o++ = ' ';
	}
	if (n)
		o[-1] = '\n';
	else
		*o++ = '\n';
	return (size_t)(o - (unsigned char *)dst);
}

size_t nk_tok_format_records(unsigned char *dst, const uint32_t *ids,
			     const uint32_t *counts, size_t nseq)
{
	unsigned char *o = dst;
	for (size_t l = 0; l < nseq; l++) {
		nk_store_u32le(o, counts[l]);
		o += 4;
		for (uint32_t k = 0; k < counts[l]; k++, o += 4)
			nk_store_u32le(o, *ids++);
	}
	return (size_t)(o - dst);
}

int nk_tok_check(const uint32_t *ids, const uint32_t *counts, size_t nseq,
		 uint32_t max_id)
{
	/* The counts first: they say how many ids there are to look at. */
	size_t n = 0;
	for (size_t l = 0; l < nseq; l++) {
		if (counts[l] > NK_TOK_SEQ_MAX)
			return nk_error(NK_ERANGE, "a line of %u tokens is over "
					"the limit of %u", counts[l],
					NK_TOK_SEQ_MAX);
		n += counts[l];
	}
	for (size_t i = 0; i < n; i++) {
		if (ids[i] > NK_TOK_ID_MAX)
			return nk_error(NK_ERANGE, "token id %u is reserved",
					ids[i]);
		if (max_id && ids[i] >= max_id)
			return nk_error(NK_ERANGE, "token id %u out of range "
					"for vocabulary size %u", ids[i],
					max_id);
	}
	return NK_OK;
}

size_t nk_tok_format_bound(int binary, size_t nids, size_t nseq)
{
	/* Text: each id with its separator takes at most 11 bytes, and each
	 * line its newline; binary: 4 bytes an id and a count.  Saturates,
	 * so that an absurd size fails to allocate rather than wraps. */
	size_t per = binary ? 4 : 11, extra = binary ? 4 * nseq : nseq;
	if (nseq > SIZE_MAX / 8 || nids > (SIZE_MAX - extra - 1) / per)
		return SIZE_MAX;
	return nids * per + extra + 1;
}

/* zlib's CRC-32 over any length (crc32 takes an unsigned int). */
static uint32_t crc_of(const unsigned char *p, size_t len)
{
	uint32_t crc = (uint32_t)crc32(0, Z_NULL, 0);
	for (size_t o = 0; o < len;) {
		size_t k = len - o > (1u << 30) ? 1u << 30 : len - o;
		crc = (uint32_t)crc32(crc, p + o, (uInt)k);
		o += k;
	}
	return crc;
}

size_t nk_tok_format(void *dst, int binary, const uint32_t *ids,
		     const uint32_t *counts, size_t nseq, uint32_t *crc)
{
	size_t len = 0;
	if (binary) {
		len = nk_tok_format_records(dst, ids, counts, nseq);
		*crc = crc_of(dst, len);
		return len;
	}
	for (size_t l = 0; l < nseq; l++) {
		len += nk_tok_format_line((char *)dst + len, ids, counts[l]);
		ids += counts[l];
	}
	*crc = 0;
	return len;
}

size_t nk_tok_format_part(void *dst, int binary, const uint32_t *ids,
			  size_t n, uint32_t *crc)
{
	*crc = 0;
	if (!binary)    /* the line without its newline */
		return n ? nk_tok_format_line(dst, ids, n) - 1 : 0;
	unsigned char *o = dst;
	for (size_t i = 0; i < n; i++)
		nk_store_u32le(o + 4 * i, ids[i]);
	*crc = crc_of(o, 4 * n);
	return 4 * n;
}

int nk_tokwriter_put_raw(nk_tokwriter *w, const void *bytes, size_t len,
			 uint32_t crc, uint64_t nrec)
{
	/* Small pieces join the buffer; large ones go straight out, their
	 * CRC joined to the running one instead of computed again here. */
	if (len <= CHUNK - w->len) {
		if (w->err)
			return nk_error(w->err, "%s", w->msg);
		if (len)
			memcpy(w->buf + w->len, bytes, len);
		w->len += len;
		w->nrec += nrec;
		return 0;
	}
	if (wflush(w))
		return w->err;
	if (w->binary)
		w->crc = (uint32_t)crc32_combine(w->crc, crc, (z_off_t)len);
	errno = 0;
	if (fwrite(bytes, 1, len, w->fp) != len)
		return wfail(w);
	w->nrec += nrec;
	return 0;
}

int nk_tokwriter_put(nk_tokwriter *w, const uint32_t *ids, size_t n)
{
	if (w->err)
		return nk_error(w->err, "%s", w->msg);
	if (n > NK_TOK_SEQ_MAX)
		return nk_error(NK_ERANGE,
				"token sequence of %zu ids is over the limit "
				"of %u", n, NK_TOK_SEQ_MAX);
	for (size_t i = 0; i < n; i++)
		if (ids[i] > NK_TOK_ID_MAX)
			return nk_error(NK_ERANGE,
					"token id 4294967295 is reserved");
	if (w->binary) {
		if (CHUNK - w->len < 4 && wflush(w))
			return w->err;
		nk_store_u32le(w->buf + w->len, (uint32_t)n);
		w->len += 4;
		size_t i = 0;
		while (i < n) {
			size_t room = (CHUNK - w->len) / 4;
			if (room == 0) {
				if (wflush(w))
					return w->err;
				continue;
			}
			if (room > n - i)
				room = n - i;
			unsigned char *o = w->buf + w->len;
			for (size_t k = 0; k < room; k++, o += 4)
				nk_store_u32le(o, ids[i + k]);
			w->len += room * 4;
			i += room;
		}
		w->nrec++;
		return 0;
	}
	/* Text: each id with its separator takes at most 11 bytes. */
	for (size_t i = 0; i < n; i++) {
		if (CHUNK - w->len < 12 && wflush(w))
			return w->err;
		unsigned char *o = w->buf + w->len;
		if (i)
			*o++ = ' ';
		o += decimal_digits(ids[i]);
		fmt_u32(o, ids[i]);
		w->len = (size_t)(o - w->buf);
	}
	if (CHUNK - w->len < 1 && wflush(w))
		return w->err;
	w->buf[w->len++] = '\n';
	return 0;
}

/* The chunk that takes a part of `len` bytes whole: the one in use if
 * the part fits, else the next (made twice the size of the one before,
 * from 2 MB, or the part's size), or NULL when out of memory. */
static struct seq_chunk *seq_chunk_for(nk_tokwriter *w, size_t len)
{
	if (w->chunk_used) {
		struct seq_chunk *c = &w->chunk[w->chunk_used - 1];
		if (len <= c->cap - c->len)
			return c;
	}
	size_t i = w->chunk_used;
	if (i < w->nchunk && w->chunk[i].cap >= len)
		return &w->chunk[w->chunk_used++];       /* kept from before */
	if (i < w->nchunk) {                             /* too small: drop */
		for (size_t k = i; k < w->nchunk; k++)
			free(w->chunk[k].p);
		w->nchunk = i;
	}
	if (w->nchunk == w->chunk_cap &&
	    nk_grow((void **)&w->chunk, &w->chunk_cap, w->nchunk + 1,
		    sizeof *w->chunk))
		return NULL;
	size_t cap = i ? w->chunk[i - 1].cap : (size_t)1 << 21;
	if (i && nk_size_mul(&cap, cap, 2))
		return NULL;
	if (cap < len)
		cap = len;
	unsigned char *p = nk_malloc_huge(cap);
	if (!p)
		return NULL;
	w->chunk[w->nchunk++] = (struct seq_chunk){p, 0, cap, 0};
	return &w->chunk[w->chunk_used++];
}

int nk_tokwriter_put_part(nk_tokwriter *w, const void *bytes, size_t len,
			  uint32_t crc, size_t nids)
{
	if (w->err)
		return nk_error(w->err, "%s", w->msg);
	if (w->binary && (len % 4 || len / 4 != nids))
		return nk_error(NK_EINVAL, "a binary part of %zu bytes for %zu "
				"ids", len, nids);
	if (len && !w->binary) {
		int rc = w->seq_text_ids ? nk_tokwriter_put_raw(w, " ", 1, 0, 0) : 0;
		if (rc || (rc = nk_tokwriter_put_raw(w, bytes, len, 0, 0)))
			return rc;
		w->seq_text_ids = 1;
	} else if (len && (w->streaming || (w->seekable && !w->seq_nids))) {
		if (!w->streaming) {
			/* Where the count goes: after what the buffer holds. */
			static const unsigned char zero[4];
			if (wflush(w))
				return w->err;
			errno = 0;
			if ((w->seq_at = ftello(w->fp)) < 0 ||
			    fwrite(zero, 1, 4, w->fp) != 4)
				return wfail(w);
			w->streaming = 1;
			w->seq_crc = (uint32_t)crc32(0, Z_NULL, 0);
			w->seq_len = 0;
		}
		errno = 0;
		if (fwrite(bytes, 1, len, w->fp) != len)
			return wfail(w);
		w->seq_crc = (uint32_t)crc32_combine(w->seq_crc, crc, (z_off_t)len);
		w->seq_len += len;
	} else if (len) {
		struct seq_chunk *c = seq_chunk_for(w, len);
		if (!c)
			return NK_ENOMEM;
		memcpy(c->p + c->len, bytes, len);
		c->crc = c->len ? (uint32_t)crc32_combine(c->crc, crc, (z_off_t)len)
				: crc;
		c->len += len;
	}
	w->seq_nids += nids;
	return 0;
}

static void free_chunks(nk_tokwriter *w)
{
	for (size_t i = 0; i < w->nchunk; i++)
		free(w->chunk[i].p);
	free(w->chunk);
	w->chunk = NULL;
	w->nchunk = w->chunk_used = w->chunk_cap = 0;
}

int nk_tokwriter_end_seq(nk_tokwriter *w)
{
	uint64_t n = w->seq_nids;
	int rc;
	if (n > NK_TOK_SEQ_MAX) {
		nk_tokwriter_drop_seq(w);
		return nk_error(NK_ERANGE, "%llu tokens are over the limit of %u "
				"for one sequence", (unsigned long long)n,
				NK_TOK_SEQ_MAX);
	}
	if (!w->binary) {
		rc = nk_tokwriter_put_raw(w, "\n", 1, 0, 1);
	} else if (w->streaming) {
		/* The count over its place, then on at the end. */
		unsigned char head[4];
		nk_store_u32le(head, (uint32_t)n);
		errno = 0;
		rc = 0;
		if (w->err)
			rc = nk_error(w->err, "%s", w->msg);
		else if (fseeko(w->fp, w->seq_at, SEEK_SET) != 0 ||
			 fwrite(head, 1, 4, w->fp) != 4 ||
			 fseeko(w->fp, 0, SEEK_END) != 0)
			rc = wfail(w);
		if (!rc) {
			w->crc = (uint32_t)crc32_combine(
				(uint32_t)crc32(w->crc, head, 4), w->seq_crc,
				(z_off_t)w->seq_len);
			w->nrec++;
			w->streaming = 0;
		}
	} else {
		unsigned char head[4];
		nk_store_u32le(head, (uint32_t)n);
		rc = nk_tokwriter_put_raw(w, head, 4,
					  (uint32_t)crc32(0, head, 4), 1);
		for (size_t i = 0; i < w->chunk_used && !rc; i++)
			rc = nk_tokwriter_put_raw(w, w->chunk[i].p, w->chunk[i].len,
						  w->chunk[i].crc, 0);
	}
	nk_tokwriter_drop_seq(w);
	return rc;
}

void nk_tokwriter_drop_seq(nk_tokwriter *w)
{
	if (w->streaming) {
		/* What went out of it is cut off again. */
		errno = 0;
		if (!w->err && (fflush(w->fp) != 0 ||
				ftruncate(fileno(w->fp), w->seq_at) != 0 ||
				fseeko(w->fp, w->seq_at, SEEK_SET) != 0))
			wfail(w);
		w->streaming = 0;
	}
	for (size_t i = 0; i < w->chunk_used; i++)
		w->chunk[i].len = 0;
	w->chunk_used = 0;
	w->seq_nids = 0;
	w->seq_text_ids = 0;
}

int nk_tokwriter_flush(nk_tokwriter *w)
{
	if (wflush(w))
		return w->err;
	errno = 0;
	if (fflush(w->fp) != 0)
		return wfail(w);
	return 0;
}

int nk_tokwriter_close(nk_tokwriter *w)
{
	if (!w)
		return 0;
	nk_tokwriter_drop_seq(w);
	free_chunks(w);
	int rc = wflush(w);
	if (!rc && w->binary) {
		unsigned char *e = w->buf;
		nk_store_u32le(e, NK_TOK_END_MARK);
		nk_store_u64le(e + 4, w->nrec);
		nk_store_u32le(e + 12, w->crc);
		errno = 0;
		if (fwrite(e, 1, NK_TOK_END_SIZE, w->fp) != NK_TOK_END_SIZE)
			rc = wfail(w);
	}
	if (!rc) {
		errno = 0;
		if (fflush(w->fp) != 0 || ferror(w->fp))
			rc = wfail(w);
	}
	free(w);
	return rc;
}

void nk_tokwriter_abort(nk_tokwriter *w)
{
	if (!w)
		return;
	nk_tokwriter_drop_seq(w);
	free_chunks(w);
	free(w);
}
