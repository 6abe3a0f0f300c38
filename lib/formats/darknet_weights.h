/* darknet_weights.h - darknet's .weights files.
 *
 * Layout (little-endian, as darknet writes it on x86): int32 major,
 * minor, revision; then `seen` (images trained on) as an int64 when
 * major*10 + minor >= 2 and both are < 1000, else as an int32 (darknet's
 * load_weights_upto); then raw float32 parameters, layer after layer, in
 * the order the cfg gives them (the network decides how many each
 * takes).  major or minor > 1000 means the connected layers' matrices
 * are stored transposed.  There is no magic and no checksum: only the
 * network's parameter count can tell a wrong file.
 */
#ifndef NK_FORMATS_DARKNET_WEIGHTS_H
#define NK_FORMATS_DARKNET_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#define NK_DNW_MAX_BYTES ((size_t)4 << 30) /* a larger file is refused */

typedef struct {
	int32_t major, minor, revision;
	uint64_t seen;
} nk_dnw_header;

/* 1 when `seen` is stored as 8 bytes; the header is then 20 bytes, else 16. */
int nk_dnw_seen64(const nk_dnw_header *h);
/* 1 when connected weights are stored transposed (major or minor > 1000). */
int nk_dnw_transposed(const nk_dnw_header *h);

typedef struct {
	nk_dnw_header h;
	float *w;  /* n floats, host order, allocated */
	size_t n;
} nk_dnw;

/* NK_EFORMAT naming the file when it is shorter than its header or its
 * float section is not a whole number of floats. */
int nk_dnw_read(nk_dnw *d, const char *path);
/* The same, reading no more than max_bytes (at most NK_DNW_MAX_BYTES):
 * NK_ERANGE naming the file past it. */
int nk_dnw_read_max(nk_dnw *d, const char *path, size_t max_bytes);
int nk_dnw_read_mem(nk_dnw *d, const void *buf, size_t size,
		    const char *name);
void nk_dnw_free(nk_dnw *d);

/* Writes the header and n floats atomically (temporary file, fsync,
 * rename); "-" is stdout. */
int nk_dnw_write(const char *path, const nk_dnw_header *h, const float *w,
		 size_t n);

#endif
