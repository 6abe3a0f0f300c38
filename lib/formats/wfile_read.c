/* wfile_read.c - reading a weight file and checking every byte of it
 * (see wfile.c for the layout): the fixed header's CRC before its sizes
 * are believed, every size against the bytes present and the caps before
 * anything is allocated, the one layout the writer makes. */
#include "formats/wfile.h"
#include "formats/wfile_impl.h"
#include "core/base.h"
#include "core/io.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A bounds-checked cursor over the header's variable part. */
typedef struct cursor {
	const unsigned char *base, *p, *end;
	const char *file;
} cursor;

static int need(cursor *c, size_t n, const char *what)
{
	if ((size_t)(c->end - c->p) < n)
		return nk_error(NK_EFORMAT, "%s: header offset %zu: %s runs "
				"past the end of the header", c->file,
				(size_t)(c->p - c->base), what);
	return NK_OK;
}

/* Reads a name: u8 length (1..255), then that many bytes, no control
 * byte (NUL included). */
static int get_name(cursor *c, const char *what, char **out)
{
	if (need(c, 1, what))
		return NK_EFORMAT;
	size_t n = *c->p;
	if (n == 0)
		return nk_error(NK_EFORMAT, "%s: header offset %zu: empty %s",
				c->file, (size_t)(c->p - c->base), what);
	c->p++;
	if (need(c, n, what))
		return NK_EFORMAT;
	int ctl = nk_wf_control_byte(c->p, n);
	if (ctl >= 0)
		return nk_error(NK_EFORMAT, "%s: header offset %zu: %s holds "
				"control byte 0x%02x", c->file,
				(size_t)(c->p - c->base), what, ctl);
	char *s = nk_malloc(n + 1);
	if (!s)
		return NK_ENOMEM;
	memcpy(s, c->p, n);
	s[n] = '\0';
	c->p += n;
	*out = s;
	return NK_OK;
}

static int parse_meta(nk_wfile *w, cursor *c, size_t i)
{
	nk_wmeta *m = &w->meta[i];
	size_t at = (size_t)(c->p - c->base);
	char *key;
	if (get_name(c, "metadata key", &key))
		return NK_EFORMAT;
	m->key = key;
	m->type = -1;
	w->n_meta = i + 1; /* owned from here on: freed with the file */
	if (nk_wf_index_find(&w->meta_ix, w->meta, sizeof *w->meta, key) != SIZE_MAX)
		return nk_error(NK_EFORMAT, "%s: header offset %zu: metadata "
				"key '%s' appears twice", c->file, at, key);
	if (nk_wf_index_put(&w->meta_ix, w->meta, sizeof *w->meta, i))
		return NK_ENOMEM;
	if (need(c, 1, "metadata type"))
		return NK_EFORMAT;
	int type = *c->p++;
	if (!nk_wfile_meta_type_name(type))
		return nk_error(NK_EFORMAT, "%s: metadata '%s': unknown type "
				"%d", c->file, key, type);
	if (type == NK_WMETA_INT || type == NK_WMETA_FLOAT) {
		if (need(c, 8, "metadata value"))
			return NK_EFORMAT;
		uint64_t bits = nk_load_u64le(c->p);
		c->p += 8;
		m->type = type;
		m->count = 1;
		if (type == NK_WMETA_INT)
			m->v.i = (int64_t)bits;
		else
			memcpy(&m->v.f, &bits, 8);
		return NK_OK;
	}
	if (need(c, 4, "metadata length"))
		return NK_EFORMAT;
	size_t n = nk_load_u32le(c->p), bytes = n;
	c->p += 4;
	if (type != NK_WMETA_STR && nk_size_mul(&bytes, n, 8))
		return NK_EFORMAT;
	if (need(c, bytes, "metadata value"))
		return NK_EFORMAT;
	if (type == NK_WMETA_STR) {
		if (memchr(c->p, 0, n))
			return nk_error(NK_EFORMAT, "%s: metadata '%s': string "
					"holds a NUL byte", c->file, key);
		char *s = nk_malloc(n + 1);
		if (!s)
			return NK_ENOMEM;
		memcpy(s, c->p, n);
		s[n] = '\0';
		m->v.s = s;
	} else {
		uint64_t *a = nk_malloc(bytes);
		if (!a)
			return NK_ENOMEM;
		for (size_t j = 0; j < n; j++)
			a[j] = nk_load_u64le(c->p + 8 * j);
		if (type == NK_WMETA_INTS)
			m->v.ints = (const int64_t *)a;
		else
			m->v.floats = (const double *)a;
	}
	m->type = type;
	m->count = n;
	c->p += bytes;
	return NK_OK;
}

/* Reads tensor i's entry; `end` is where the previous tensor's bytes end
 * in the raw data, and becomes where this one's end. */
static int parse_tensor(nk_wfile *w, cursor *c, size_t i, uint64_t raw_size,
			uint64_t *end)
{
	nk_wtensor *t = &w->tensors[i];
	size_t at = (size_t)(c->p - c->base);
	char *name;
	if (get_name(c, "tensor name", &name))
		return NK_EFORMAT;
	t->name = name;
	w->n_tensors = i + 1;
	if (nk_wf_index_find(&w->tensor_ix, w->tensors, sizeof *w->tensors, name) !=
	    SIZE_MAX)
		return nk_error(NK_EFORMAT, "%s: header offset %zu: tensor "
				"'%s' appears twice", c->file, at, name);
	if (nk_wf_index_put(&w->tensor_ix, w->tensors, sizeof *w->tensors, i))
		return NK_ENOMEM;
	if (need(c, 2, "tensor dtype and rank"))
		return NK_EFORMAT;
	t->dtype = c->p[0];
	t->ndim = c->p[1];
	c->p += 2;
	if (!nk_wfile_dtype_name(t->dtype))
		return nk_error(NK_EFORMAT, "%s: tensor '%s': unknown dtype %d",
				c->file, name, t->dtype);
	if (t->ndim > NK_WFILE_MAX_DIMS)
		return nk_error(NK_EFORMAT, "%s: tensor '%s': %d dimensions "
				"(at most %d)", c->file, name, t->ndim,
				NK_WFILE_MAX_DIMS);
	if (need(c, 8 * (size_t)t->ndim + 8, "tensor shape"))
		return NK_EFORMAT;
	uint64_t ne[NK_WFILE_MAX_DIMS];
	for (int d = 0; d < t->ndim; d++, c->p += 8)
		ne[d] = nk_load_u64le(c->p);
	uint64_t offset = nk_load_u64le(c->p);
	c->p += 8;
	if (nk_wf_shape_bytes(t->dtype, t->ndim, ne, &t->nelem, &t->nbytes))
		return nk_error(NK_EFORMAT, "%s: tensor '%s': shape too large "
				"(2^63 bytes or more)", c->file, name);
	for (int d = 0; d < t->ndim; d++)
		t->ne[d] = (int64_t)ne[d];
	uint64_t want = nk_wf_align_up(*end);
	if (offset != want)
		return nk_error(NK_EFORMAT, "%s: tensor '%s': data offset %llu, "
				"expected %llu", c->file, name,
				(unsigned long long)offset,
				(unsigned long long)want);
	if (t->nbytes > raw_size - offset)
		return nk_error(NK_EFORMAT, "%s: tensor '%s': %zu bytes at "
				"offset %llu run past the %llu bytes of data",
				c->file, name, t->nbytes,
				(unsigned long long)offset,
				(unsigned long long)raw_size);
	*end = offset + t->nbytes;
	return NK_OK;
}

/* Inflates exactly `size` stored bytes into exactly `raw_size` bytes. */
static int inflate_data(const char *file, const unsigned char *src,
			size_t size, unsigned char *dst, size_t raw_size)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return nk_error(NK_ENOMEM, "%s: cannot start zlib", file);
	/* zlib takes at most 4 GiB at a time: feed both sides in chunks. */
	size_t in_left = size, out_left = raw_size;
	z.next_in = (unsigned char *)src;
	z.next_out = dst;
	int zr;
	do {
		if (z.avail_in == 0 && in_left) {
			z.avail_in = in_left > (1u << 30) ? (1u << 30)
							  : (uInt)in_left;
			in_left -= z.avail_in;
		}
		if (z.avail_out == 0 && out_left) {
			z.avail_out = out_left > (1u << 30) ? (1u << 30)
							    : (uInt)out_left;
			out_left -= z.avail_out;
		}
		zr = inflate(&z, Z_NO_FLUSH);
	} while (zr == Z_OK);
	int starved = z.avail_in == 0 && !in_left;
	size_t got = (size_t)z.total_out, used = (size_t)z.total_in;
	const char *msg = z.msg;
	int rc = NK_OK;
	/* Stuck: out of input (the stream is cut short), or else out of
	 * room (it holds more than the header says). */
	if (zr == Z_BUF_ERROR && starved)
		rc = nk_error(NK_EFORMAT, "%s: compressed data end early", file);
	else if (zr == Z_BUF_ERROR)
		rc = nk_error(NK_EFORMAT, "%s: compressed data inflate to more "
			      "than the %zu bytes the header says", file,
			      raw_size);
	else if (zr == Z_NEED_DICT)
		rc = nk_error(NK_EFORMAT, "%s: compressed data are damaged "
			      "(stream needs a preset dictionary)", file);
	else if (zr != Z_STREAM_END)
		rc = nk_error(NK_EFORMAT, "%s: compressed data are damaged (%s)",
			      file, msg ? msg : "zlib error");
	else if (got != raw_size)
		rc = nk_error(NK_EFORMAT, "%s: compressed data inflate to %zu "
			      "bytes, header says %zu", file, got, raw_size);
	else if (used != size)
		rc = nk_error(NK_EFORMAT, "%s: %zu bytes after the end of the "
			      "compressed data", file, size - used);
	inflateEnd(&z);
	return rc;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int parse(nk_wfile *w, const unsigned char *buf, size_t size,
		 unsigned flags)
{
	const char *f = w->name;
	if (size >= 4 && memcmp(buf, nk_wf_magic, 4) != 0)
		return nk_error(NK_EFORMAT, "%s: not an nnkit weight file "
				"(a model file begins with \"NKWF\")", f);
	if (size < FIXED_SIZE)
		return nk_error(NK_EFORMAT, "%s: truncated: %zu bytes, the "
				"fixed header alone is %d", f, size, FIXED_SIZE);
	uint32_t version = nk_load_u32le(buf + 4);
	if (version > NK_WFILE_VERSION)
		return nk_error(NK_EVERSION, "%s: written by a newer nnkit "
				"(format version %u, this reads up to %d); "
				"upgrade nnkit", f, version, NK_WFILE_VERSION);
	if (version == 0)
		return nk_error(NK_EFORMAT, "%s: format version 0 does not "
				"exist (file damaged)", f);
	if (!(flags & NK_WFILE_NO_CRC) &&
	    nk_load_u32le(buf + HCRC_OFFSET) != crc32(0, buf, HCRC_OFFSET))
		return nk_error(NK_ECHECKSUM, "%s: header CRC mismatch (file "
				"damaged)", f);
	uint32_t fflags = nk_load_u32le(buf + 8);
	size_t header_size = nk_load_u32le(buf + 12);
	uint64_t data_size = nk_load_u64le(buf + 16);
	uint64_t raw_size = nk_load_u64le(buf + 24);
	size_t n_meta = nk_load_u32le(buf + 32);
	size_t n_tensors = nk_load_u32le(buf + 36);
	if (fflags & ~KNOWN_FLAGS)
		return nk_error(NK_EFORMAT, "%s: unknown flags 0x%x", f,
				fflags & ~KNOWN_FLAGS);
	if (nk_load_u32le(buf + 40) != 0)
		return nk_error(NK_EFORMAT, "%s: reserved header field is not "
				"zero", f);
	if (header_size < FIXED_SIZE || header_size % NK_WFILE_ALIGN ||
	    header_size > HEADER_MAX)
		return nk_error(NK_EFORMAT, "%s: header size %zu is not a "
				"multiple of %d in [64, %zu]", f, header_size,
				NK_WFILE_ALIGN, HEADER_MAX);
	if (size < header_size)
		return nk_error(NK_EFORMAT, "%s: truncated: header says it is "
				"%zu bytes, file has %zu", f, header_size, size);
	size_t avail = size - header_size;
	if (data_size > avail)
		return nk_error(NK_EFORMAT, "%s: truncated: header says %llu "
				"bytes of data, file has %zu", f,
				(unsigned long long)data_size, avail);
	if (avail - data_size < TRAILER_SIZE)
		return nk_error(NK_EFORMAT, "%s: truncated: the CRC after the "
				"data is cut short", f);
	if (avail - data_size > TRAILER_SIZE)
		return nk_error(NK_EFORMAT, "%s: %zu bytes of junk after the "
				"CRC (file damaged)", f,
				(size_t)(avail - data_size - TRAILER_SIZE));
	size_t stored = (size_t)data_size;
	const unsigned char *data = buf + header_size;
	if (!(flags & NK_WFILE_NO_CRC)) {
		uLong crc = crc32(0, NULL, 0);
		size_t n = header_size + stored;
		for (size_t at = 0; at < n;) {
			size_t take = n - at > (1u << 30) ? (1u << 30) : n - at;
			crc = crc32(crc, buf + at, (uInt)take);
			at += take;
		}
		if (nk_load_u32le(data + stored) != (uint32_t)crc)
			return nk_error(NK_ECHECKSUM, "%s: CRC mismatch (file "
					"damaged)", f);
	}
	int zlib = fflags & FLAG_ZLIB;
	if (!zlib && raw_size != data_size)
		return nk_error(NK_EFORMAT, "%s: uncompressed, yet %llu bytes "
				"stored and %llu raw", f,
				(unsigned long long)data_size,
				(unsigned long long)raw_size);
	if (zlib && (raw_size / ZLIB_MAX_RATIO > data_size ||
		     raw_size > SIZE_MAX / 2))
		return nk_error(NK_EFORMAT, "%s: %llu compressed bytes cannot "
				"hold %llu bytes of data", f,
				(unsigned long long)data_size,
				(unsigned long long)raw_size);
	/* Counts against the bytes present before allocating for them. */
	size_t var = header_size - FIXED_SIZE;
	if (n_meta > MAX_META || n_tensors > MAX_TENSORS ||
	    n_meta * MIN_META_ENTRY + n_tensors * MIN_TENSOR_ENTRY > var)
		return nk_error(NK_EFORMAT, "%s: %zu metadata entries and %zu "
				"tensors cannot fit in a %zu-byte header", f,
				n_meta, n_tensors, header_size);
	if (n_meta) {
		w->meta = nk_calloc(n_meta, sizeof *w->meta);
		if (!w->meta || nk_idtab_init(&w->meta_ix, n_meta))
			return NK_ENOMEM;
		w->cap_meta = n_meta;
	}
	if (n_tensors) {
		w->tensors = nk_calloc(n_tensors, sizeof *w->tensors);
		if (!w->tensors || nk_idtab_init(&w->tensor_ix, n_tensors))
			return NK_ENOMEM;
		w->cap_tensors = n_tensors;
	}
	cursor c = {buf, buf + FIXED_SIZE, buf + header_size, f};
	for (size_t i = 0; i < n_meta; i++)
		if (parse_meta(w, &c, i))
			return NK_EFORMAT;
	uint64_t end = 0;
	for (size_t i = 0; i < n_tensors; i++)
		if (parse_tensor(w, &c, i, raw_size, &end))
			return NK_EFORMAT;
	size_t pad = (size_t)(c.end - c.p);
	if (pad >= NK_WFILE_ALIGN || !all_zero(c.p, pad))
		return nk_error(NK_EFORMAT, "%s: header offset %zu: %zu bytes "
				"after the last entry, expected zero padding "
				"to a multiple of 64", f, (size_t)(c.p - buf),
				pad);
	if (nk_wf_align_up(end) != raw_size)
		return nk_error(NK_EFORMAT, "%s: tensors end at byte %llu of "
				"the data, header says %llu", f,
				(unsigned long long)end,
				(unsigned long long)raw_size);
	/* The raw data, 64-byte aligned: in place when it already is. */
	size_t raw = (size_t)raw_size;
	const unsigned char *base = data;
	if (zlib || ((uintptr_t)data % NK_WFILE_ALIGN)) {
		unsigned char *copy = nk_malloc_aligned(raw);
		if (!copy)
			return nk_error_prefix(NK_ENOMEM, f);
		w->owned = copy;
		if (zlib) {
			if (inflate_data(f, data, stored, copy, raw))
				return NK_EFORMAT;
		} else if (raw) {
			memcpy(copy, data, raw);
		}
		base = copy;
	}
	/* The layout is checked canonical: offsets follow from the sizes. */
	size_t off = 0;
	for (size_t i = 0; i < n_tensors; i++) {
		nk_wtensor *t = &w->tensors[i];
		t->data = base + off;
		off += t->nbytes;
		size_t pad = nk_wf_align_up(off) - off;
		if (!all_zero(base + off, pad))
			return nk_error(NK_EFORMAT, "%s: padding after tensor "
					"'%s' is not zero", f, t->name);
		off += pad;
	}
	return NK_OK;
}

static nk_wfile *read_common(nk_wfile *w, const unsigned char *buf,
			     size_t size, unsigned flags)
{
	if (parse(w, buf, size, flags)) {
		nk_wfile_free(w);
		return NULL;
	}
	return w;
}

nk_wfile *nk_wfile_read_mem_flags(const void *buf, size_t size,
				  const char *name, unsigned flags)
{
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NULL;
	w->name = nk_strdup(name ? name : "(memory)");
	if (!w->name) {
		free(w);
		return NULL;
	}
	return read_common(w, size ? buf : (const unsigned char *)"", size,
			   flags);
}

nk_wfile *nk_wfile_read_mem(const void *buf, size_t size, const char *name)
{
	return nk_wfile_read_mem_flags(buf, size, name, 0);
}

nk_wfile *nk_wfile_read(const char *path)
{
	return nk_wfile_read_max(path, 0);
}

nk_wfile *nk_wfile_read_max(const char *path, size_t max_bytes)
{
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NULL;
	if (nk_input_load(&w->in, path, max_bytes)) {
		free(w);
		return NULL;
	}
	w->name = nk_strdup(w->in.name);
	if (!w->name) {
		nk_wfile_free(w);
		return NULL;
	}
	return read_common(w, w->in.data, w->in.size, 0);
}
