/* wfile_impl.h - what wfile.c, wfile_read.c and wfile_write.c share and
 * callers must not see: the container's constants, struct nk_wfile and
 * the helpers both directions use. */
#ifndef NK_WFILE_IMPL_H
#define NK_WFILE_IMPL_H

#include "formats/wfile.h"
#include "core/hash.h"
#include "core/io.h"

#include <stddef.h>
#include <stdint.h>

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

extern const char nk_wf_magic[4]; /* NK_WFILE_MAGIC */

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

static inline size_t nk_wf_align_up(size_t n)
{
	return (n + (NK_WFILE_ALIGN - 1)) & ~(size_t)(NK_WFILE_ALIGN - 1);
}

/* Position of `name` among entries (nk_wmeta or nk_wtensor, whose first
 * member is the name), or SIZE_MAX; and entry i into the index. */
size_t nk_wf_index_find(const nk_idtab *ix, const void *base, size_t stride,
			const char *name);
int nk_wf_index_put(nk_idtab *ix, const void *base, size_t stride, size_t i);
/* The first control byte of s[0..n) (NUL included), or -1. */
int nk_wf_control_byte(const unsigned char *s, size_t n);
/* Elements and bytes of a shape, or NK_ERANGE (no message). */
int nk_wf_shape_bytes(int dtype, int ndim, const uint64_t *ne, size_t *nelem,
		      size_t *nbytes);

#endif
