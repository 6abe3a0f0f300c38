/* alloc.c - allocation that records failures and refuses to wrap sizes. */
#include "core/base.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int nk_size_mul(size_t *out, size_t a, size_t b)
{
	if (__builtin_mul_overflow(a, b, out))
		return nk_error(NK_ERANGE, "size %zu x %zu overflows", a, b);
	return NK_OK;
}

int nk_size_add(size_t *out, size_t a, size_t b)
{
	if (__builtin_add_overflow(a, b, out))
		return nk_error(NK_ERANGE, "size %zu + %zu overflows", a, b);
	return NK_OK;
}

void *nk_malloc(size_t size)
{
	/* malloc(0) may return NULL legitimately; ask for one byte so that
	 * NULL always means failure to our callers. */
	void *p = malloc(size ? size : 1);
	if (!p)
		nk_error(NK_ENOMEM, "out of memory allocating %zu bytes", size);
	return p;
}

void *nk_calloc(size_t count, size_t size)
{
	size_t total;
	if (nk_size_mul(&total, count, size))
		return NULL;
	void *p = calloc(total ? count : 1, total ? size : 1);
	if (!p)
		nk_error(NK_ENOMEM, "out of memory allocating %zu bytes", total);
	return p;
}

void *nk_realloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		nk_error(NK_ENOMEM, "out of memory allocating %zu bytes", size);
	return q;
}

void *nk_reallocarray(void *p, size_t count, size_t size)
{
	size_t total;
	if (nk_size_mul(&total, count, size))
		return NULL;
	return nk_realloc(p, total);
}

int nk_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return NK_OK;
	size_t n = *cap ? *cap : 8, bytes;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	if (__builtin_mul_overflow(n, elem, &bytes))
		return nk_error(NK_ENOMEM, "growing to %zu x %zu bytes overflows",
				n, elem);
	void *q = nk_realloc(*p, bytes);
	if (!q)
		return NK_ENOMEM;
	*p = q;
	*cap = n;
	return NK_OK;
}

void *nk_malloc_aligned(size_t size)
{
	size_t rounded;
	/* aligned_alloc wants a multiple of the alignment. */
	if (nk_size_add(&rounded, size ? size : 1, 63))
		return NULL;
	rounded &= ~(size_t)63;
	void *p = aligned_alloc(64, rounded);
	if (!p)
		nk_error(NK_ENOMEM, "out of memory allocating %zu bytes", size);
	return p;
}

#define HUGE_PAGE (2u << 20)

void *nk_malloc_huge(size_t size)
{
	void *p = NULL;
	size_t whole = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (whole < size || posix_memalign(&p, HUGE_PAGE,
					   whole = whole ? whole : HUGE_PAGE)) {
		nk_error(NK_ENOMEM, "out of memory allocating %zu bytes", size);
		return NULL;
	}
#ifdef MADV_HUGEPAGE
	madvise(p, whole, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
	return p;
}

void nk_free_aligned(void *p)
{
	free(p);
}

char *nk_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = nk_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}
