/* wfile.c - the weight-file container: see wfile.h and nnkit-wfile(5).
 *
 * Layout (all integers little-endian; every byte is described in the man
 * page):
 *
 *	0   fixed header, 48 bytes (magic, version, flags, sizes, counts, CRC)
 *	48  metadata entries, then tensor entries, then zero padding up to
 *	    header_size (a multiple of 64)
 *	H   data: data_size bytes as stored (zlib stream when compressed);
 *	    raw, each tensor at a 64-aligned offset, zero padding between
 *	H+D u32 CRC32 of bytes 0 .. H+D-1
 *
 * The reader trusts nothing: the fixed header has its own CRC so that its
 * sizes can be believed; every size is checked against the bytes present
 * and against caps before anything is allocated; the layout must be the
 * one the writer makes (so a file has exactly one valid form).
 */
#include "formats/wfile.h"
#include "core/base.h"
#include "core/hash.h"
#include "core/io.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FIXED_SIZE 48  /* bytes of the fixed header */
#define HCRC_OFFSET 44 /* where the fixed header's own CRC sits */
#define TRAILER_SIZE 4
#define FLAG_ZLIB 0x1u
#define KNOWN_FLAGS FLAG_ZLIB
#define HEADER_MAX ((size_t)1 << 28)  /* 256 MiB of metadata and table */
#define MAX_META ((size_t)1 << 16)
#define MAX_TENSORS ((size_t)1 << 24)
#define MIN_META_ENTRY 7    /* key_len, 1-byte key, type, empty string */
#define MIN_TENSOR_ENTRY 12 /* name_len, 1-byte name, dtype, ndim, offset */
#define ZLIB_MAX_RATIO 1032 /* deflate never expands data more than this */

static const char magic[4] = {'N', 'K', 'W', 'F'}; /* NK_WFILE_MAGIC */

/* The file's dtype codes are enum nk_dtype's values, frozen: renumbering
 * the enum would make old files read as the wrong type. */
_Static_assert(NK_F32 == 0 && NK_I32 == 1 && NK_U8 == 2 && NK_F64 == 3 &&
		       NK_I64 == 4 && NK_I16 == 5,
	       "dtype codes are part of the file format");
_Static_assert(NK_WFILE_MAX_DIMS == NK_MAX_DIMS, "one dimension limit");
/* Names and sizes come from tensor.c's table, guarded there by a
 * _Static_assert on NK_DTYPE_COUNT: one table for memory and file. */

static const char *const meta_type_names[] = {
	[NK_WMETA_INT] = "int",   [NK_WMETA_FLOAT] = "float",
	[NK_WMETA_STR] = "str",   [NK_WMETA_INTS] = "ints",
	[NK_WMETA_FLOATS] = "floats",
};
_Static_assert(sizeof meta_type_names / sizeof meta_type_names[0] ==
		       NK_WMETA_TYPE_COUNT,
	       "every metadata type needs a name");

struct nk_wfile {
	char *name;
	nk_wmeta *meta;
	size_t n_meta, cap_meta;
	nk_wtensor *tensors;
	size_t n_tensors, cap_tensors;
	nk_idtab meta_ix, tensor_ix; /* name -> position */
	nk_input in;   /* the file read, when there is one */
	void *owned;   /* aligned data: decompressed, or copied to align */
};

const char *nk_wfile_dtype_name(int dtype)
{
	return nk_dtype_name(dtype);
}

const char *nk_wfile_meta_type_name(int type)
{
	return type >= 0 && type < NK_WMETA_TYPE_COUNT ? meta_type_names[type]
						       : NULL;
}

static const char *wname(const nk_wfile *w)
{
	return w->name ? w->name : "(unsaved weights)";
}

static size_t align_up(size_t n)
{
	return (n + (NK_WFILE_ALIGN - 1)) & ~(size_t)(NK_WFILE_ALIGN - 1);
}

/* ---- name index --------------------------------------------------------- */

/* Entries are nk_wmeta or nk_wtensor, whose first member is the name. */
static const char *name_at(const void *base, size_t stride, size_t i)
{
	return *(const char *const *)((const char *)base + i * stride);
}

/* Position of `name`, or SIZE_MAX. */
static size_t index_find(const nk_idtab *ix, const void *base,
			 size_t stride, const char *name)
{
	nk_idprobe p = nk_idtab_probe(ix, nk_fnv1a_str(name));
	for (uint32_t i; (i = nk_idtab_next(ix, &p)) != NK_IDTAB_END;)
		if (strcmp(name_at(base, stride, i), name) == 0)
			return i;
	return SIZE_MAX;
}

static int index_put(nk_idtab *ix, const void *base, size_t stride,
		     size_t i)
{
	return nk_idtab_put(ix, nk_fnv1a_str(name_at(base, stride, i)),
			    (uint32_t)i);
}

/* ---- building ------------------------------------------------------------ */

nk_wfile *nk_wfile_create(void)
{
	return nk_calloc(1, sizeof(nk_wfile));
}

static void meta_clear_value(nk_wmeta *m)
{
	if (m->type == NK_WMETA_STR)
		free((void *)m->v.s);
	else if (m->type == NK_WMETA_INTS)
		free((void *)m->v.ints);
	else if (m->type == NK_WMETA_FLOATS)
		free((void *)m->v.floats);
	m->v.s = NULL;
}

/* The first control byte (below 0x20, or 0x7f) in a name, or -1: names
 * stay on one line in listings and cannot smuggle terminal escapes into
 * messages. */
static int control_byte(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return s[i];
	return -1;
}

/* Checks a key or tensor name: 1..255 bytes, no control characters. */
static int check_name(const char *what, const char *name)
{
	if (!name || !name[0])
		return nk_error(NK_EINVAL, "%s name is empty", what);
	size_t n = strlen(name);
	if (n > NK_WFILE_NAME_MAX)
		return nk_error(NK_EINVAL, "%s name '%.40s...' is %zu bytes "
				"(at most %d)", what, name, n,
				NK_WFILE_NAME_MAX);
	int c = control_byte((const unsigned char *)name, n);
	if (c >= 0)
		return nk_error(NK_EINVAL, "%s name holds control byte 0x%02x",
				what, c);
	return NK_OK;
}

/* The entry for `key`, created empty (type -1) when absent. */
static nk_wmeta *meta_slot(nk_wfile *w, const char *key)
{
	if (check_name("metadata key", key))
		return NULL;
	size_t i = index_find(&w->meta_ix, w->meta, sizeof *w->meta, key);
	if (i != SIZE_MAX) {
		meta_clear_value(&w->meta[i]);
		return &w->meta[i];
	}
	if (w->n_meta >= MAX_META) {
		nk_error(NK_ERANGE, "more than %zu metadata keys", MAX_META);
		return NULL;
	}
	if (nk_grow((void **)&w->meta, &w->cap_meta, w->n_meta + 1,
		    sizeof *w->meta))
		return NULL;
	char *k = nk_strdup(key);
	if (!k)
		return NULL;
	nk_wmeta *m = &w->meta[w->n_meta];
	memset(m, 0, sizeof *m);
	m->key = k;
	m->type = -1;
	if (index_put(&w->meta_ix, w->meta, sizeof *w->meta, w->n_meta)) {
		free(k);
		return NULL;
	}
	w->n_meta++;
	return m;
}

int nk_wfile_set_str(nk_wfile *w, const char *key, const char *s)
{
	if (!s)
		return nk_error(NK_EINVAL, "metadata '%s': NULL string",
				key ? key : "");
	size_t n = strlen(s);
	if (n > HEADER_MAX)
		return nk_error(NK_ERANGE, "metadata '%s': string of %zu bytes "
				"is too long", key ? key : "", n);
	char *copy = nk_strdup(s);
	if (!copy)
		return NK_ENOMEM;
	nk_wmeta *m = meta_slot(w, key);
	if (!m) {
		free(copy);
		return NK_EINVAL;
	}
	m->type = NK_WMETA_STR;
	m->count = n;
	m->v.s = copy;
	return NK_OK;
}

int nk_wfile_set_int(nk_wfile *w, const char *key, int64_t v)
{
	nk_wmeta *m = meta_slot(w, key);
	if (!m)
		return NK_EINVAL;
	m->type = NK_WMETA_INT;
	m->count = 1;
	m->v.i = v;
	return NK_OK;
}

int nk_wfile_set_float(nk_wfile *w, const char *key, double v)
{
	nk_wmeta *m = meta_slot(w, key);
	if (!m)
		return NK_EINVAL;
	m->type = NK_WMETA_FLOAT;
	m->count = 1;
	m->v.f = v;
	return NK_OK;
}

static int set_array(nk_wfile *w, const char *key, int type, const void *v,
		     size_t n)
{
	if (n > HEADER_MAX / 8)
		return nk_error(NK_ERANGE, "metadata '%s': array of %zu "
				"values is too long", key ? key : "", n);
	if (n && !v)
		return nk_error(NK_EINVAL, "metadata '%s': NULL array",
				key ? key : "");
	void *copy = nk_malloc(n * 8);
	if (!copy)
		return NK_ENOMEM;
	if (n)
		memcpy(copy, v, n * 8);
	nk_wmeta *m = meta_slot(w, key);
	if (!m) {
		free(copy);
		return NK_EINVAL;
	}
	m->type = type;
	m->count = n;
	if (type == NK_WMETA_INTS)
		m->v.ints = copy;
	else
		m->v.floats = copy;
	return NK_OK;
}

int nk_wfile_set_ints(nk_wfile *w, const char *key, const int64_t *v,
		      size_t n)
{
	return set_array(w, key, NK_WMETA_INTS, v, n);
}

int nk_wfile_set_floats(nk_wfile *w, const char *key, const double *v,
			size_t n)
{
	return set_array(w, key, NK_WMETA_FLOATS, v, n);
}

/* Elements and bytes of a shape, or NK_ERANGE (no message: the callers
 * say whose shape).  numpy's rule, so that nkw.py can make every array
 * this accepts: the product of the non-zero dimensions times the element
 * size is below 2^63; a zero dimension makes the tensor empty. */
static int shape_bytes(int dtype, int ndim, const uint64_t *ne,
		       size_t *nelem, size_t *nbytes)
{
	uint64_t b = nk_dtype_size(dtype);
	int empty = 0;
	for (int d = 0; d < ndim; d++) {
		if (ne[d] == 0)
			empty = 1;
		else if (__builtin_mul_overflow(b, ne[d], &b))
			return NK_ERANGE;
	}
	if (b > (uint64_t)INT64_MAX || b > SIZE_MAX)
		return NK_ERANGE;
	*nelem = empty ? 0 : (size_t)(b / nk_dtype_size(dtype));
	*nbytes = empty ? 0 : (size_t)b;
	return NK_OK;
}

int nk_wfile_add(nk_wfile *w, const char *name, int dtype, int ndim,
		 const int64_t *shape, const void *data)
{
	if (check_name("tensor", name))
		return NK_EINVAL;
	if (!nk_wfile_dtype_name(dtype))
		return nk_error(NK_EINVAL, "tensor '%s': unknown dtype %d",
				name, dtype);
	if (ndim < 0 || ndim > NK_WFILE_MAX_DIMS)
		return nk_error(NK_EINVAL, "tensor '%s': %d dimensions "
				"(at most %d)", name, ndim, NK_WFILE_MAX_DIMS);
	if (ndim && !shape)
		return nk_error(NK_EINVAL, "tensor '%s': NULL shape", name);
	uint64_t ne[NK_WFILE_MAX_DIMS];
	for (int d = 0; d < ndim; d++) {
		if (shape[d] < 0)
			return nk_error(NK_EINVAL, "tensor '%s': dimension %d "
					"is %lld", name, d,
					(long long)shape[d]);
		ne[d] = (uint64_t)shape[d];
	}
	size_t nelem, nbytes;
	if (shape_bytes(dtype, ndim, ne, &nelem, &nbytes))
		return nk_error(NK_ERANGE, "tensor '%s': shape too large "
				"(2^63 bytes or more)", name);
	if (nbytes && !data)
		return nk_error(NK_EINVAL, "tensor '%s': NULL data for %zu "
				"bytes", name, nbytes);
	if (index_find(&w->tensor_ix, w->tensors, sizeof *w->tensors, name) !=
	    SIZE_MAX)
		return nk_error(NK_EINVAL, "tensor '%s' added twice", name);
	if (w->n_tensors >= MAX_TENSORS)
		return nk_error(NK_ERANGE, "more than %zu tensors", MAX_TENSORS);
	if (nk_grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors + 1,
		    sizeof *w->tensors))
		return NK_ENOMEM;
	char *copy = nk_strdup(name);
	if (!copy)
		return NK_ENOMEM;
	nk_wtensor *t = &w->tensors[w->n_tensors];
	memset(t, 0, sizeof *t);
	t->name = copy;
	t->dtype = dtype;
	t->ndim = ndim;
	for (int d = 0; d < ndim; d++)
		t->ne[d] = shape[d];
	t->nelem = nelem;
	t->nbytes = nbytes;
	t->data = data;
	int rc = index_put(&w->tensor_ix, w->tensors, sizeof *w->tensors,
			   w->n_tensors);
	if (rc) {
		free(copy);
		return rc;
	}
	w->n_tensors++;
	return NK_OK;
}

/* ---- writing ------------------------------------------------------------- */

static size_t meta_entry_size(const nk_wmeta *m)
{
	size_t n = 2 + strlen(m->key);
	switch (m->type) {
	case NK_WMETA_INT:
	case NK_WMETA_FLOAT:
		return n + 8;
	case NK_WMETA_STR:
		return n + 4 + m->count;
	default:
		return n + 4 + 8 * m->count;
	}
}

static size_t tensor_entry_size(const nk_wtensor *t)
{
	return 3 + strlen(t->name) + 8 * (size_t)t->ndim + 8;
}

/* Encodes the header (with its padding) into a new buffer. */
static int build_header(const nk_wfile *w, const char *name, unsigned flags,
			uint64_t data_size,
			uint64_t raw_size, const uint64_t *offsets,
			unsigned char **out, size_t *out_size)
{
	size_t n = FIXED_SIZE;
	for (size_t i = 0; i < w->n_meta; i++)
		n += meta_entry_size(&w->meta[i]);
	for (size_t i = 0; i < w->n_tensors; i++)
		n += tensor_entry_size(&w->tensors[i]);
	if (n > HEADER_MAX)
		return nk_error(NK_ERANGE, "%s: header of %zu bytes is larger "
				"than the format allows (%zu)", name, n,
				HEADER_MAX);
	size_t size = align_up(n);
	unsigned char *h = nk_calloc(1, size), *p = h;
	if (!h)
		return NK_ENOMEM;
	memcpy(p, magic, 4);
	nk_store_u32le(p + 4, NK_WFILE_VERSION);
	nk_store_u32le(p + 8, (flags & NK_WFILE_COMPRESS) ? FLAG_ZLIB : 0);
	nk_store_u32le(p + 12, (uint32_t)size);
	nk_store_u64le(p + 16, data_size);
	nk_store_u64le(p + 24, raw_size);
	nk_store_u32le(p + 32, (uint32_t)w->n_meta);
	nk_store_u32le(p + 36, (uint32_t)w->n_tensors);
	nk_store_u32le(p + 40, 0);
	nk_store_u32le(p + HCRC_OFFSET, (uint32_t)crc32(0, h, HCRC_OFFSET));
	p += FIXED_SIZE;
	for (size_t i = 0; i < w->n_meta; i++) {
		const nk_wmeta *m = &w->meta[i];
		size_t k = strlen(m->key);
		*p++ = (unsigned char)k;
		memcpy(p, m->key, k);
		p += k;
		*p++ = (unsigned char)m->type;
		switch (m->type) {
		case NK_WMETA_INT:
			nk_store_u64le(p, (uint64_t)m->v.i);
			p += 8;
			break;
		case NK_WMETA_FLOAT: {
			uint64_t bits;
			memcpy(&bits, &m->v.f, 8);
			nk_store_u64le(p, bits);
			p += 8;
			break;
		}
		case NK_WMETA_STR:
			nk_store_u32le(p, (uint32_t)m->count);
			memcpy(p + 4, m->v.s, m->count);
			p += 4 + m->count;
			break;
		default:
			nk_store_u32le(p, (uint32_t)m->count);
			p += 4;
			for (size_t j = 0; j < m->count; j++, p += 8) {
				uint64_t bits;
				if (m->type == NK_WMETA_INTS)
					bits = (uint64_t)m->v.ints[j];
				else
					memcpy(&bits, &m->v.floats[j], 8);
				nk_store_u64le(p, bits);
			}
		}
	}
	for (size_t i = 0; i < w->n_tensors; i++) {
		const nk_wtensor *t = &w->tensors[i];
		size_t k = strlen(t->name);
		*p++ = (unsigned char)k;
		memcpy(p, t->name, k);
		p += k;
		*p++ = (unsigned char)t->dtype;
		*p++ = (unsigned char)t->ndim;
		for (int d = 0; d < t->ndim; d++, p += 8)
			nk_store_u64le(p, (uint64_t)t->ne[d]);
		nk_store_u64le(p, offsets[i]);
		p += 8;
	}
	*out = h;
	*out_size = size;
	return NK_OK;
}

static const unsigned char zeros[NK_WFILE_ALIGN];

/* Bytes to the next tensor (or the end) after tensor i. */
static size_t pad_after(const nk_wfile *w, const uint64_t *offsets,
			size_t i, uint64_t raw_size)
{
	uint64_t next = i + 1 < w->n_tensors ? offsets[i + 1] : raw_size;
	return (size_t)(next - offsets[i] - w->tensors[i].nbytes);
}

/* Deflates the raw data section (tensors and padding) into memory. */
static int deflate_data(const nk_wfile *w, const char *name,
			const uint64_t *offsets,
			uint64_t raw_size, unsigned char **out,
			size_t *out_size)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	/* Level 1: trained float weights barely compress at any level (about
	 * 7%), and higher levels cost 2-5x the time for a percent or two. */
	if (deflateInit(&z, Z_BEST_SPEED) != Z_OK)
		return nk_error(NK_ENOMEM, "%s: cannot start zlib", name);
	/* deflateBound is barely above the raw size for data that do not
	 * compress (weights); for data that do, the untouched pages of the
	 * large allocation are never committed. */
	size_t cap = (size_t)deflateBound(&z, (uLong)raw_size), n = 0;
	unsigned char *buf = nk_malloc(cap);
	int rc = buf ? NK_OK : NK_ENOMEM;
	/* Each piece in turn: tensor i's bytes, then its padding; the last
	 * call with Z_FINISH. */
	for (size_t i = 0; rc == NK_OK && i <= 2 * w->n_tensors; i++) {
		const unsigned char *src;
		size_t len;
		int last = i == 2 * w->n_tensors;
		if (last) {
			src = zeros, len = 0;
		} else if (i % 2 == 0) {
			src = w->tensors[i / 2].data;
			len = w->tensors[i / 2].nbytes;
		} else {
			src = zeros;
			len = pad_after(w, offsets, i / 2, raw_size);
		}
		if (!len && !last)
			continue;
		do {
			size_t take = len > (1u << 30) ? (1u << 30) : len;
			z.next_in = (unsigned char *)src;
			z.avail_in = (uInt)take;
			int zr;
			do {
				if (n == cap &&
				    nk_grow((void **)&buf, &cap, n + 1, 1)) {
					rc = NK_ENOMEM;
					break;
				}
				size_t room = cap - n > (1u << 30) ? (1u << 30)
								   : cap - n;
				z.next_out = buf + n;
				z.avail_out = (uInt)room;
				zr = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
				n += room - z.avail_out;
				if (zr == Z_STREAM_ERROR) {
					rc = nk_error(NK_EIO, "%s: zlib failed",
						      name);
					break;
				}
			} while (z.avail_out == 0 || (last && zr != Z_STREAM_END));
			src += take;
			len -= take;
		} while (rc == NK_OK && len > 0);
	}
	deflateEnd(&z);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_size = n;
	return NK_OK;
}

typedef struct sink {
	FILE *fp;
	const char *name;
	uLong crc;
} sink;

static int put(sink *s, const void *p, size_t n)
{
	for (const unsigned char *b = p; n > 0;) {
		size_t take = n > (1u << 30) ? (1u << 30) : n;
		s->crc = crc32(s->crc, b, (uInt)take);
		if (fwrite(b, 1, take, s->fp) != take)
			return nk_error(NK_EIO, "%s: write failed: %s", s->name,
					strerror(errno));
		b += take;
		n -= take;
	}
	return NK_OK;
}

int nk_wfile_write_fp(nk_wfile *w, FILE *fp, const char *name,
		      unsigned flags)
{
	if (flags & ~NK_WFILE_COMPRESS)
		return nk_error(NK_EINVAL, "%s: unknown write flags 0x%x", name,
				flags);
	/* Offsets of the raw data: each tensor at the next multiple of 64. */
	uint64_t *offsets = nk_calloc(w->n_tensors ? w->n_tensors : 1, 8);
	if (!offsets)
		return NK_ENOMEM;
	size_t end = 0;
	for (size_t i = 0; i < w->n_tensors; i++) {
		offsets[i] = align_up(end);
		if (nk_size_add(&end, (size_t)offsets[i], w->tensors[i].nbytes) ||
		    end > SIZE_MAX - NK_WFILE_ALIGN) {
			free(offsets);
			return nk_error_prefix(NK_ERANGE, name);
		}
	}
	uint64_t raw_size = align_up(end), data_size = raw_size;
	unsigned char *zdata = NULL, *header = NULL;
	size_t zsize = 0, hsize = 0;
	int rc = NK_OK;
	if (flags & NK_WFILE_COMPRESS) {
		rc = deflate_data(w, name, offsets, raw_size, &zdata, &zsize);
		data_size = zsize;
	}
	if (!rc)
		rc = build_header(w, name, flags, data_size, raw_size, offsets,
				  &header, &hsize);
	sink s = {fp, name, crc32(0, NULL, 0)};
	if (!rc)
		rc = put(&s, header, hsize);
	if (!rc && zdata)
		rc = put(&s, zdata, zsize);
	for (size_t i = 0; !rc && !zdata && i < w->n_tensors; i++) {
		rc = put(&s, w->tensors[i].data, w->tensors[i].nbytes);
		if (!rc)
			rc = put(&s, zeros, pad_after(w, offsets, i, raw_size));
	}
	if (!rc) {
		unsigned char trailer[TRAILER_SIZE];
		nk_store_u32le(trailer, (uint32_t)s.crc);
		rc = put(&s, trailer, sizeof trailer);
	}
	free(header);
	free(zdata);
	free(offsets);
	return rc;
}

int nk_wfile_write(nk_wfile *w, const char *path, unsigned flags)
{
	nk_output out;
	int rc = nk_output_open(&out, path);
	if (rc)
		return rc;
	const char *name = strcmp(path, "-") == 0 ? "(stdout)" : path;
	rc = nk_wfile_write_fp(w, out.fp, name, flags);
	if (rc) {
		nk_output_abort(&out);
		return rc;
	}
	return nk_output_commit(&out);
}

/* ---- reading -------------------------------------------------------------- */

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
	int ctl = control_byte(c->p, n);
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
	if (index_find(&w->meta_ix, w->meta, sizeof *w->meta, key) != SIZE_MAX)
		return nk_error(NK_EFORMAT, "%s: header offset %zu: metadata "
				"key '%s' appears twice", c->file, at, key);
	if (index_put(&w->meta_ix, w->meta, sizeof *w->meta, i))
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
	if (index_find(&w->tensor_ix, w->tensors, sizeof *w->tensors, name) !=
	    SIZE_MAX)
		return nk_error(NK_EFORMAT, "%s: header offset %zu: tensor "
				"'%s' appears twice", c->file, at, name);
	if (index_put(&w->tensor_ix, w->tensors, sizeof *w->tensors, i))
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
	if (shape_bytes(t->dtype, t->ndim, ne, &t->nelem, &t->nbytes))
		return nk_error(NK_EFORMAT, "%s: tensor '%s': shape too large "
				"(2^63 bytes or more)", c->file, name);
	for (int d = 0; d < t->ndim; d++)
		t->ne[d] = (int64_t)ne[d];
	uint64_t want = align_up(*end);
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
	if (size >= 4 && memcmp(buf, magic, 4) != 0)
		return nk_error(NK_EFORMAT, "%s: not an nnkit weight file (no "
				"NKWF magic)", f);
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
	if (align_up(end) != raw_size)
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
		size_t pad = align_up(off) - off;
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
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NULL;
	if (nk_input_load(&w->in, path, 0)) {
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

const char *nk_wfile_name(const nk_wfile *w)
{
	return wname(w);
}

/* ---- lookups ---------------------------------------------------------------- */

const nk_wmeta *nk_wfile_meta(const nk_wfile *w, const char *key)
{
	size_t i = index_find(&w->meta_ix, w->meta, sizeof *w->meta, key);
	return i == SIZE_MAX ? NULL : &w->meta[i];
}

static const nk_wmeta *get_typed(const nk_wfile *w, const char *key,
				 int type, int *rc)
{
	const nk_wmeta *m = nk_wfile_meta(w, key);
	if (!m) {
		*rc = nk_error(NK_ENOTFOUND, "%s: no metadata '%s'", wname(w),
			       key);
		return NULL;
	}
	if (m->type != type &&
	    !(type == NK_WMETA_FLOAT && m->type == NK_WMETA_INT)) {
		*rc = nk_error(NK_EFORMAT, "%s: metadata '%s' is %s, expected "
			       "%s", wname(w), key, meta_type_names[m->type],
			       meta_type_names[type]);
		return NULL;
	}
	*rc = NK_OK;
	return m;
}

int nk_wfile_get_str(const nk_wfile *w, const char *key, const char **s)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_STR, &rc);
	if (m)
		*s = m->v.s;
	return rc;
}

int nk_wfile_get_int(const nk_wfile *w, const char *key, int64_t *v)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_INT, &rc);
	if (m)
		*v = m->v.i;
	return rc;
}

int nk_wfile_check_schema(const nk_wfile *w, const char *what,
			  int64_t oldest, int64_t newest, int64_t *version)
{
	int64_t v = 1;
	if (nk_wfile_meta(w, NK_WFILE_SCHEMA_KEY) &&
	    nk_wfile_get_int(w, NK_WFILE_SCHEMA_KEY, &v))
		return NK_EFORMAT;
	if (version)
		*version = v;
	if (v > newest)
		return nk_error(NK_EVERSION, "%s: %s schema %lld is newer than "
				"this nnkit reads (%lld); upgrade nnkit",
				wname(w), what, (long long)v, (long long)newest);
	if (v < oldest)
		return nk_error(NK_EVERSION, "%s: %s schema %lld is older than "
				"this nnkit reads (%lld); make the file again "
				"from its source", wname(w), what, (long long)v,
				(long long)oldest);
	return NK_OK;
}

int nk_wfile_get_float(const nk_wfile *w, const char *key, double *v)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_FLOAT, &rc);
	if (m)
		*v = m->type == NK_WMETA_INT ? (double)m->v.i : m->v.f;
	return rc;
}

int nk_wfile_get_ints(const nk_wfile *w, const char *key, const int64_t **v,
		      size_t *n)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_INTS, &rc);
	if (m) {
		*v = m->v.ints;
		*n = m->count;
	}
	return rc;
}

int nk_wfile_get_floats(const nk_wfile *w, const char *key, const double **v,
			size_t *n)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_FLOATS, &rc);
	if (m) {
		*v = m->v.floats;
		*n = m->count;
	}
	return rc;
}

const nk_wtensor *nk_wfile_tensor(const nk_wfile *w, const char *name)
{
	size_t i = index_find(&w->tensor_ix, w->tensors, sizeof *w->tensors,
			      name);
	if (i == SIZE_MAX) {
		nk_error(NK_ENOTFOUND, "%s: no tensor '%s'", wname(w), name);
		return NULL;
	}
	return &w->tensors[i];
}

/* "(256,128)"; -1 prints as "*". */
static void format_shape(char *buf, size_t cap, int ndim, const int64_t *ne)
{
	size_t n = (size_t)snprintf(buf, cap, "(");
	for (int d = 0; d < ndim && n < cap; d++) {
		if (ne[d] < 0)
			n += (size_t)snprintf(buf + n, cap - n, "%s*",
					      d ? "," : "");
		else
			n += (size_t)snprintf(buf + n, cap - n, "%s%lld",
					      d ? "," : "", (long long)ne[d]);
	}
	if (n < cap)
		snprintf(buf + n, cap - n, ")");
}

const nk_wtensor *nk_wfile_expect(const nk_wfile *w, const char *name,
				  int dtype, int ndim, const int64_t *shape)
{
	const nk_wtensor *t = nk_wfile_tensor(w, name);
	if (!t)
		return NULL;
	if (t->dtype != dtype) {
		const char *want = nk_wfile_dtype_name(dtype);
		nk_error(NK_EFORMAT, "%s: tensor '%s' is %s, expected %s",
			 wname(w), name, nk_dtype_name(t->dtype),
			 want ? want : "an unknown dtype");
		return NULL;
	}
	int ok = t->ndim == ndim;
	for (int d = 0; ok && d < ndim; d++)
		ok = shape[d] < 0 || shape[d] == t->ne[d];
	if (!ok) {
		char have[8 * 24], want[8 * 24];
		format_shape(have, sizeof have, t->ndim, t->ne);
		format_shape(want, sizeof want,
			     ndim < 0 ? 0
				      : ndim > NK_WFILE_MAX_DIMS ? NK_WFILE_MAX_DIMS
								 : ndim,
			     shape);
		nk_error(NK_EFORMAT, "%s: tensor '%s' has shape %s, expected %s",
			 wname(w), name, have, want);
		return NULL;
	}
	return t;
}

size_t nk_wfile_n_meta(const nk_wfile *w)
{
	return w->n_meta;
}

const nk_wmeta *nk_wfile_meta_at(const nk_wfile *w, size_t i)
{
	return i < w->n_meta ? &w->meta[i] : NULL;
}

size_t nk_wfile_n_tensors(const nk_wfile *w)
{
	return w->n_tensors;
}

const nk_wtensor *nk_wfile_tensor_at(const nk_wfile *w, size_t i)
{
	return i < w->n_tensors ? &w->tensors[i] : NULL;
}

void nk_wfile_free(nk_wfile *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_meta; i++) {
		meta_clear_value(&w->meta[i]);
		free((void *)w->meta[i].key);
	}
	for (size_t i = 0; i < w->n_tensors; i++)
		free((void *)w->tensors[i].name);
	free(w->meta);
	free(w->tensors);
	nk_idtab_free(&w->meta_ix);
	nk_idtab_free(&w->tensor_ix);
	nk_input_free(&w->in);
	nk_free_aligned(w->owned);
	free(w->name);
	free(w);
}

int nk_wtensor_view(const nk_wtensor *w, nk_tensor *t)
{
	_Static_assert(NK_WFILE_MAX_DIMS <= NK_MAX_DIMS,
		       "a stored tensor fits the compute view");
	return nk_tensor_wrap(t, (void *)w->data, w->dtype, w->ndim, w->ne);
}
