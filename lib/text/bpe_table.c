/* bpe_table.c - the memory that a vocabulary's tables and each encoder's
 * caches live in.
 */
#include "text/bpe_impl.h"
#include "core/base.h"

#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)

/* A table of `bytes`, uninitialised, in whole 2 MB huge pages where the
 * kernel gives them on request (one fault instead of 512, each costly
 * under a hypervisor); free() releases it. */
void *nk_bpe_table_alloc(size_t bytes)
{
	void *p = NULL;
	size_t whole = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (whole < bytes || posix_memalign(&p, HUGE_PAGE, whole)) {
		nk_error(NK_ENOMEM, "out of memory (%zu bytes)", bytes);
		return NULL;
	}
#ifdef MADV_HUGEPAGE
	madvise(p, whole, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
	return p;
}
