/* mlm_instances_write.c - writing instance streams (nnkit-mlm(5)).
 *
 * Each instance is formatted whole into a buffer of the writer's and
 * handed to stdio in one fwrite; the binary form's CRC runs over exactly
 * the bytes written, header included, as the reader computes it.
 */
#include "formats/mlm_instances.h"

#include "core/base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct nk_mlm_writer {
	FILE *fp;
	int binary, err;
	uint32_t crc;
	uint64_t count;
	unsigned char *buf;
	size_t cap;
	char msg[160];
};

static int wfail(nk_mlm_writer *w)
{
	if (!w->err) {
		snprintf(w->msg, sizeof w->msg, "writing instance stream: %s",
			 strerror(errno ? errno : EIO));
		w->err = NK_EIO;
	}
	return nk_error(w->err, "%s", w->msg);
}

static int emit(nk_mlm_writer *w, const void *p, size_t len)
{
	if (w->err)
		return nk_error(w->err, "%s", w->msg);
	if (w->binary)
		w->crc = (uint32_t)crc32(w->crc, p, (uInt)len);
	errno = 0;
	if (len && fwrite(p, 1, len, w->fp) != len)
		return wfail(w);
	return 0;
}

nk_mlm_writer *nk_mlm_writer_open(FILE *fp, int binary)
{
	nk_mlm_writer *w = nk_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->fp = fp;
	w->binary = binary != 0;
	w->crc = (uint32_t)crc32(0, Z_NULL, 0);
	if (w->binary) {
		unsigned char h[NK_MLM_HEADER_SIZE] = {0};
		memcpy(h, NK_MLM_MAGIC, 4);
		nk_store_u16le(h + 4, NK_MLM_VERSION);
		emit(w, h, sizeof h);   /* a failure stays sticky */
	}
	return w;
}

/* v in decimal at o; returns the byte after it. */
static unsigned char *put_u32(unsigned char *o, uint32_t v)
{
	unsigned char tmp[10];
	int k = 0;
	do
		tmp[k++] = (unsigned char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (k)
		*o++ = tmp[--k];
	return o;
}

static unsigned char *put_list(unsigned char *o, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ' ';
		o = put_u32(o, v[i]);
	}
	return o;
}

int nk_mlm_writer_put(nk_mlm_writer *w, const nk_mlm_instance *in)
{
	if (w->err)
		return nk_error(w->err, "%s", w->msg);
	int rc = nk_mlm_instance_check(in, 0);
	if (rc)
		return rc;
	uint32_t na = 0;
	while (na < in->n && (!in->types || in->types[na] == 0))
		na++;
	/* text: at most 11 bytes a number with its separator */
	size_t need = 16 + 4 * ((size_t)in->n + 2 * in->nmask);
	size_t tneed = 32 + 11 * ((size_t)in->n + 2 * in->nmask);
	if (tneed > need)
		need = tneed;
	if (nk_grow((void **)&w->buf, &w->cap, need, 1))
		return NK_ENOMEM;
	unsigned char *o = w->buf;
	if (w->binary) {
		nk_store_u32le(o, in->n);
		nk_store_u32le(o + 4, na);
		nk_store_u32le(o + 8, in->nmask);
		nk_store_u32le(o + 12, in->is_random_next ?
			       NK_MLM_FLAG_RANDOM_NEXT : 0);
		o += 16;
		for (uint32_t i = 0; i < in->n; i++, o += 4)
			nk_store_u32le(o, in->ids[i]);
		for (uint32_t k = 0; k < in->nmask; k++, o += 4)
			nk_store_u32le(o, in->mpos[k]);
		for (uint32_t k = 0; k < in->nmask; k++, o += 4)
			nk_store_u32le(o, in->mlabel[k]);
	} else {
		*o++ = in->is_random_next ? '1' : '0';
		*o++ = '\t';
		o = put_u32(o, na);
		*o++ = '\t';
		o = put_list(o, in->ids, in->n);
		*o++ = '\t';
		o = put_list(o, in->mpos, in->nmask);
		*o++ = '\t';
		o = put_list(o, in->mlabel, in->nmask);
		*o++ = '\n';
	}
	if ((rc = emit(w, w->buf, (size_t)(o - w->buf))) != 0)
		return rc;
	w->count++;
	return 0;
}

int nk_mlm_writer_close(nk_mlm_writer *w)
{
	if (!w)
		return 0;
	int rc = w->err ? nk_error(w->err, "%s", w->msg) : 0;
	if (!rc && w->binary) {
		unsigned char e[NK_MLM_END_SIZE];
		nk_store_u32le(e, NK_MLM_END_MARK);
		nk_store_u64le(e + 4, w->count);
		nk_store_u32le(e + 12, w->crc);
		rc = emit(w, e, sizeof e);
	}
	if (!rc) {
		errno = 0;
		if (fflush(w->fp) != 0 || ferror(w->fp))
			rc = wfail(w);
	}
	free(w->buf);
	free(w);
	return rc;
}

void nk_mlm_writer_abort(nk_mlm_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}
