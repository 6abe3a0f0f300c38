/* bpe_cache.c - the piece cache encoders share across threads, and the
 * memory that it and each encoder's own caches live in.
 *
 * Each encoder keeps a private cache of recent pieces (bpe_encode.c);
 * with -j they also share this one, so a piece merged by one thread is
 * not merged again by the others.
 */
#include "text/bpe_impl.h"
#include "core/base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The shared cache: insert-only, lock-free.  A slot's tag is 0 while
 * empty, TAG_BUSY while its inserter writes it, then the piece's hash
 * with bit 1 set and bit 0 clear; the entry and the arena bytes are
 * written before the tag is published (release), and read only after it
 * is seen (acquire).  A reader that meets TAG_BUSY just misses. */
#define TAG_BUSY 1u

struct shared_entry {
	uint32_t key_off, key_len, ids_off, ids_n;
};

struct nk_bpe_shared {
	_Atomic uint64_t *tag;
	struct shared_entry *ent;
	unsigned char *karena;
	uint32_t *iarena;
	size_t kcap, icap;
	atomic_size_t kused, iused, used;
};

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

/* The tables in one block, the tags and entries zeroed before any thread
 * reads them (see nk_bpe_enc_new: a page read before it is written costs
 * a second fault and a TLB flush on every core). */
#define SH_TAG_BYTES (SHARED_SLOTS * sizeof(uint64_t))
#define SH_ENT_BYTES (SHARED_SLOTS * sizeof(struct shared_entry))
#define SH_KCAP (SHARED_SLOTS * 12)
#define SH_ICAP (SHARED_SLOTS * 3)

nk_bpe_shared *nk_bpe_shared_new(void)
{
	nk_bpe_shared *sh = nk_calloc(1, sizeof *sh);
	if (!sh)
		return NULL;
	size_t zero = SH_TAG_BYTES + SH_ENT_BYTES;
	unsigned char *t = nk_bpe_table_alloc(zero + SH_ICAP * sizeof(uint32_t) +
					      SH_KCAP);
	if (!t) {
		free(sh);
		return NULL;
	}
	memset(t, 0, zero);
	sh->tag = (_Atomic uint64_t *)t;
	sh->ent = (struct shared_entry *)(t + SH_TAG_BYTES);
	sh->iarena = (uint32_t *)(t + zero);
	sh->icap = SH_ICAP;
	sh->karena = t + zero + SH_ICAP * sizeof(uint32_t);
	sh->kcap = SH_KCAP;
	for (size_t i = 0; i < SHARED_SLOTS; i++)
		atomic_init(&sh->tag[i], 0);
	atomic_init(&sh->kused, 0);
	atomic_init(&sh->iused, 0);
	atomic_init(&sh->used, 0);
	return sh;
}

void nk_bpe_shared_free(nk_bpe_shared *sh)
{
	if (!sh)
		return;
	free((void *)sh->tag); /* the block of all four tables */
	free(sh);
}

static uint64_t shared_tag(uint64_t hash)
{
	return (hash & ~(uint64_t)3) | 2;
}

/* Appends the cached ids of s[0..n); 1 when found, 0 when not, -1 when
 * out of memory. */
int nk_bpe_shared_get(nk_bpe_shared *sh, uint64_t hash,
		      const unsigned char *s, size_t n, nk_bpe_ids *out)
{
	uint64_t want = shared_tag(hash);
	size_t i = hash & (SHARED_SLOTS - 1);
	for (int k = 0; k < SHARED_PROBES; k++, i = (i + 1) & (SHARED_SLOTS - 1)) {
		uint64_t t = atomic_load_explicit(&sh->tag[i], memory_order_acquire);
		if (t == 0)
			return 0;
		if (t != want)
			continue;
		const struct shared_entry *en = &sh->ent[i];
		if (en->key_len != n || memcmp(sh->karena + en->key_off, s, n))
			continue;
		if (nk_bpe_ids_reserve(out, en->ids_n))
			return -1;
		memcpy(out->v + out->n, sh->iarena + en->ids_off,
		       en->ids_n * sizeof(uint32_t));
		out->n += en->ids_n;
		return 1;
	}
	return 0;
}

/* Offers a merged piece to the other threads; silently does nothing when
 * the cache is full or another thread got there first. */
void nk_bpe_shared_put(nk_bpe_shared *sh, uint64_t hash,
		       const unsigned char *s, size_t n, const uint32_t *ids,
		       size_t k)
{
	if (atomic_load_explicit(&sh->used, memory_order_relaxed) >=
	    SHARED_SLOTS / 2)
		return;
	size_t ko = atomic_fetch_add_explicit(&sh->kused, n, memory_order_relaxed);
	size_t io = atomic_fetch_add_explicit(&sh->iused, k, memory_order_relaxed);
	if (ko + n > sh->kcap || io + k > sh->icap)
		return;
	memcpy(sh->karena + ko, s, n);
	memcpy(sh->iarena + io, ids, k * sizeof *ids);
	uint64_t want = shared_tag(hash);
	size_t i = hash & (SHARED_SLOTS - 1);
	for (int p = 0; p < SHARED_PROBES; p++, i = (i + 1) & (SHARED_SLOTS - 1)) {
		uint64_t t = atomic_load_explicit(&sh->tag[i], memory_order_acquire);
		if (t == 0) {
			if (atomic_compare_exchange_strong_explicit(&sh->tag[i],
			    &t, TAG_BUSY, memory_order_acquire,
			    memory_order_acquire)) {
				sh->ent[i] = (struct shared_entry){
					(uint32_t)ko, (uint32_t)n, (uint32_t)io,
					(uint32_t)k};
				atomic_store_explicit(&sh->tag[i], want,
						      memory_order_release);
				atomic_fetch_add_explicit(&sh->used, 1,
							  memory_order_relaxed);
				return;
			}
			/* t now holds what another thread put there. */
		}
		if (t == want && sh->ent[i].key_len == n &&
		    !memcmp(sh->karena + sh->ent[i].key_off, s, n))
			return;
	}
}
