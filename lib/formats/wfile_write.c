/* wfile_write.c - writing a weight file (see wfile.c for the layout and
 * nnkit-wfile(5) for every byte): the header built in memory, the data
 * raw or deflated, a CRC over all, through a temporary file renamed into
 * place (nk_output). */
#include "formats/wfile.h"
#include "formats/wfile_impl.h"
#include "core/base.h"
#include "core/io.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

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
	size_t size = nk_wf_align_up(n);
	unsigned char *h = nk_calloc(1, size), *p = h;
	if (!h)
		return NK_ENOMEM;
	memcpy(p, nk_wf_magic, 4);
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
		offsets[i] = nk_wf_align_up(end);
		if (nk_size_add(&end, (size_t)offsets[i], w->tensors[i].nbytes) ||
		    end > SIZE_MAX - NK_WFILE_ALIGN) {
			free(offsets);
			return nk_error_prefix(NK_ERANGE, name);
		}
	}
	uint64_t raw_size = nk_wf_align_up(end), data_size = raw_size;
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
