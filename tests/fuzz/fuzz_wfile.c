/* fuzz_wfile.c - nk_wfile_read_mem on arbitrary bytes.
 *
 * Each input is parsed twice: as it is, and with the CRC checks off
 * (NK_WFILE_NO_CRC), since random mutations almost never keep a CRC valid
 * and would otherwise stop at the first check.  Whatever parses must have
 * in-bounds tensors (every byte is read here, for ASan), and must survive
 * a write and a second read unchanged: the writer's output for a file it
 * read is that file again (with fresh CRCs), byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "formats/wfile.h"

static unsigned touch(const nk_wfile *r)
{
	unsigned sum = 0;
	for (size_t i = 0; i < nk_wfile_n_tensors(r); i++) {
		const nk_wtensor *t = nk_wfile_tensor_at(r, i);
		for (size_t k = 0; k < t->nbytes; k++)
			sum += ((const unsigned char *)t->data)[k];
		if (nk_wfile_tensor(r, t->name) != t)
			abort();
	}
	for (size_t i = 0; i < nk_wfile_n_meta(r); i++) {
		const nk_wmeta *m = nk_wfile_meta_at(r, i);
		if (nk_wfile_meta(r, m->key) != m)
			abort();
		if (m->type == NK_WMETA_STR)
			sum += (unsigned)strlen(m->v.s);
		else if (m->type == NK_WMETA_INTS || m->type == NK_WMETA_FLOATS)
			for (size_t k = 0; k < m->count; k++)
				sum += (unsigned)m->v.ints[k];
	}
	return sum;
}

/* Writes `r` to memory; the bytes must equal `data` but for the CRCs. */
static void rewrite(nk_wfile *r, const uint8_t *data, size_t size,
		    int zlib)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);
	if (!fp)
		return;
	int rc = nk_wfile_write_fp(r, fp, "mem", zlib ? NK_WFILE_COMPRESS : 0);
	fclose(fp);
	if (rc == NK_OK) {
		nk_wfile *again = nk_wfile_read_mem(buf, n, "mem");
		if (!again)
			abort(); /* we cannot read what we wrote */
		touch(again);
		nk_wfile_free(again);
		/* Uncompressed, the layout is canonical: same bytes apart from
		 * the two CRCs (which NO_CRC let through unchecked). */
		if (!zlib && (n != size || memcmp(buf, data, 44) ||
			      memcmp(buf + 48, data + 48, n - 52)))
			abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nk_wfile *r = nk_wfile_read_mem(data, size, "fuzz");
	if (r) {
		touch(r);
		nk_wfile_free(r);
	}
	r = nk_wfile_read_mem_flags(data, size, "fuzz", NK_WFILE_NO_CRC);
	if (r) {
		touch(r);
		rewrite(r, data, size, size >= 12 && (data[8] & 1));
		nk_wfile_free(r);
	}
	return 0;
}
