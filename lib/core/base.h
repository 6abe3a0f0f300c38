/* base.h - errors, checked allocation and checked size arithmetic.
 *
 * Every nnkit library function reports failure by its return value (an
 * NK_E* code, or NULL) and records a message for the calling thread; it
 * never prints and never exits.  Only the programs in cmd/ talk to the user.
 */
#ifndef NK_BASE_H
#define NK_BASE_H

#include <stddef.h>
#include <stdint.h>

#define NK_VERSION "0.1.0"

/* Error codes.  NK_OK is zero so that `if (nk_foo(...))` reads as "failed". */
enum nk_err {
	NK_OK = 0,
	NK_ENOMEM,   /* allocation failed or a size overflowed */
	NK_EIO,      /* the operating system refused a read, write or open */
	NK_EFORMAT,  /* input bytes are not what the format says */
	NK_EVERSION, /* a file from a newer nnkit */
	NK_ECHECKSUM,/* stored and computed checksums differ */
	NK_ERANGE,   /* a number or size outside what is allowed */
	NK_EINVAL,   /* a caller passed arguments that make no sense */
	NK_ENOTFOUND,/* a named item (tensor, key, word) is absent */
	NK_ERR_COUNT
};

/* Records a printf-style message as the calling thread's last error and
 * returns `code`, so that a failure reads `return nk_error(NK_EFORMAT, ...)`. */
int nk_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefixes the current message with "prefix: " (typically a file name),
 * for layers that learn the context only after a lower layer failed. */
int nk_error_prefix(int code, const char *prefix);
/* The calling thread's last message; "" when none was recorded. */
const char *nk_last_error(void);
/* A short name for an error code ("out of memory", "bad format", ...). */
const char *nk_strerror(int code);
void nk_error_clear(void);

/* Allocation.  These record NK_ENOMEM and return NULL on failure, and treat
 * an overflowing count*size as a failure rather than wrapping. */
void *nk_malloc(size_t size);
void *nk_calloc(size_t count, size_t size);
void *nk_realloc(void *p, size_t size);
void *nk_reallocarray(void *p, size_t count, size_t size);
/* 64-byte aligned (cache line, AVX-512 register); free with nk_free_aligned. */
void *nk_malloc_aligned(size_t size);
/* Uninitialised, in whole 2 MB huge pages where the kernel gives them on
 * request: for large tables and buffers, whose first touch then faults
 * once a 2 MB instead of once a 4 KB page (a fault costs microseconds
 * under a hypervisor).  free() releases it. */
void *nk_malloc_huge(size_t size);
/* Makes *p hold at least `need` elements of `elem` bytes: *cap doubles
 * (from 8 when 0) until it is enough, so n appends cost O(n) copying.
 * On failure (out of memory, or a size that would overflow) *p and *cap
 * are unchanged and NK_ENOMEM is returned and recorded.  Call it as
 * nk_grow((void **)&buf, &cap, n + 1, sizeof *buf). */
int nk_grow(void **p, size_t *cap, size_t need, size_t elem);
void nk_free_aligned(void *p);
char *nk_strdup(const char *s);

/* Checked size arithmetic: return 0 and store the result, or return
 * NK_ERANGE (with a message) when it would overflow.  Use these on every
 * size that comes from input before allocating. */
int nk_size_mul(size_t *out, size_t a, size_t b);
int nk_size_add(size_t *out, size_t a, size_t b);

/* Little-endian load/store, so that file formats do not depend on the host. */
static inline uint16_t nk_load_u16le(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t nk_load_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t nk_load_u64le(const unsigned char *p)
{
	return (uint64_t)nk_load_u32le(p) | (uint64_t)nk_load_u32le(p + 4) << 32;
}
static inline void nk_store_u16le(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}
static inline void nk_store_u32le(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}
static inline void nk_store_u64le(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

#endif
