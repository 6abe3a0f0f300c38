/* darknet_weights.c - reading and writing darknet's .weights files. */
#include "formats/darknet_weights.h"
#include "core/base.h"
#include "core/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nk_dnw_seen64(const nk_dnw_header *h)
{
	/* darknet's test, in 64 bits so that a hostile major cannot overflow. */
	return (int64_t)h->major * 10 + h->minor >= 2 && h->major < 1000 &&
	       h->minor < 1000;
}

int nk_dnw_transposed(const nk_dnw_header *h)
{
	return h->major > 1000 || h->minor > 1000;
}

void nk_dnw_free(nk_dnw *d)
{
	free(d->w);
	memset(d, 0, sizeof *d);
}

int nk_dnw_read_mem(nk_dnw *d, const void *buf, size_t size, const char *name)
{
	const unsigned char *p = buf;
	memset(d, 0, sizeof *d);
	if (size < 16)
		return nk_error(NK_EFORMAT, "%s: %zu bytes, shorter than a "
				"darknet weights header", name, size);
	d->h.major = (int32_t)nk_load_u32le(p);
	d->h.minor = (int32_t)nk_load_u32le(p + 4);
	d->h.revision = (int32_t)nk_load_u32le(p + 8);
	size_t off = 16;
	if (nk_dnw_seen64(&d->h)) {
		if (size < 20)
			return nk_error(NK_EFORMAT, "%s: %zu bytes, shorter "
					"than a version %d.%d header (20)",
					name, size, d->h.major, d->h.minor);
		d->h.seen = nk_load_u64le(p + 12);
		off = 20;
	} else {
		d->h.seen = nk_load_u32le(p + 12);
	}
	if ((size - off) % 4)
		return nk_error(NK_EFORMAT, "%s: %zu bytes after the header, "
				"not a whole number of floats", name,
				size - off);
	d->n = (size - off) / 4;
	if (!(d->w = nk_malloc(d->n ? d->n * 4 : 1)))
		return NK_ENOMEM;
	/* Copied, not mapped: 16 or 20 bytes in, the floats are aligned,
	 * but the file is little-endian whatever the host is. */
	for (size_t i = 0; i < d->n; i++) {
		uint32_t u = nk_load_u32le(p + off + 4 * i);
		memcpy(&d->w[i], &u, 4);
	}
	return NK_OK;
}

int nk_dnw_read_max(nk_dnw *d, const char *path, size_t max_bytes)
{
	nk_input in;
	memset(d, 0, sizeof *d);
	if (!max_bytes || max_bytes > NK_DNW_MAX_BYTES)
		max_bytes = NK_DNW_MAX_BYTES;
	int rc = nk_input_load(&in, path, max_bytes);
	if (rc)
		return rc;
	rc = nk_dnw_read_mem(d, in.data, in.size, in.name);
	nk_input_free(&in);
	return rc;
}

int nk_dnw_read(nk_dnw *d, const char *path)
{
	return nk_dnw_read_max(d, path, NK_DNW_MAX_BYTES);
}

int nk_dnw_write(const char *path, const nk_dnw_header *h, const float *w,
		 size_t n)
{
	nk_output out;
	unsigned char hdr[20], buf[4096];
	int rc = nk_output_open(&out, path);
	if (rc)
		return rc;
	nk_store_u32le(hdr, (uint32_t)h->major);
	nk_store_u32le(hdr + 4, (uint32_t)h->minor);
	nk_store_u32le(hdr + 8, (uint32_t)h->revision);
	size_t hn = 16;
	if (nk_dnw_seen64(h)) {
		nk_store_u64le(hdr + 12, h->seen);
		hn = 20;
	} else {
		nk_store_u32le(hdr + 12, (uint32_t)h->seen);
	}
	int ok = fwrite(hdr, 1, hn, out.fp) == hn;
	for (size_t i = 0; ok && i < n;) {
		size_t k = 0;
		for (; k < sizeof buf / 4 && i < n; k++, i++) {
			uint32_t u;
			memcpy(&u, &w[i], 4);
			nk_store_u32le(buf + 4 * k, u);
		}
		ok = fwrite(buf, 4, k, out.fp) == k;
	}
	if (!ok) {
		nk_output_abort(&out);
		return nk_error(NK_EIO, "%s: write failed", path);
	}
	return nk_output_commit(&out);
}
