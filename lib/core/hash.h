/* hash.h - FNV-1a, and one open-addressing index from keys to ids.
 *
 * FNV-1a is the one string hash in nnkit: it is cheap on short keys,
 * needs no seed, and some of its values are kept in files (the training
 * data hash in a checkpoint), so its constants are spelled here once.
 *
 * nk_idtab maps keys the caller keeps (words in an array, names in
 * entries, pieces in an arena) to dense uint32 ids.  A slot holds the
 * high 32 bits of the key's hash (FNV-1a's best-mixed bits) and id + 1;
 * the slot index comes from the same bits, so the table grows without
 * asking the caller for its keys again.  A lookup walks the candidates
 * whose stored bits match and the caller compares its own key, so there
 * is no callback in the loop and any equality (exact, case-folded) fits:
 *
 *     nk_idprobe p = nk_idtab_probe(&t, h);
 *     for (uint32_t id; (id = nk_idtab_next(&t, &p)) != NK_IDTAB_END;)
 *             if (same_key(id)) return id;
 *     return -1;
 */
#ifndef NK_HASH_H
#define NK_HASH_H

#include <stddef.h>
#include <stdint.h>

#define NK_FNV1A_INIT 0xcbf29ce484222325ULL
#define NK_FNV1A_PRIME 0x100000001b3ULL

/* One FNV-1a step: callers that transform bytes on the way (case
 * folding) hash with this. */
static inline uint64_t nk_fnv1a_step(uint64_t h, uint64_t x)
{
	return (h ^ x) * NK_FNV1A_PRIME;
}

uint64_t nk_fnv1a(const void *p, size_t n);
uint64_t nk_fnv1a_str(const char *s);
/* One step per id, not per byte: the checkpoint's data hash is defined
 * this way and must not change. */
uint64_t nk_fnv1a_u32(const uint32_t *v, size_t n);

/* The first of s[0..n) equal to an earlier one, in order: *again its
 * index and *first the earlier's; both n when all differ.  A list that
 * names a thing twice (a split's image, a class) is a mistake to report,
 * not to count twice. */
int nk_first_repeat(const char *const *s, size_t n, size_t *first,
		    size_t *again);

#define NK_IDTAB_END UINT32_MAX

typedef struct nk_idtab {
	uint64_t *slot; /* hash >> 32 << 32 | (id + 1); 0 empty */
	size_t mask;    /* slots - 1, slots a power of two */
	size_t n;       /* ids held */
} nk_idtab;

typedef struct nk_idprobe {
	size_t i;
	uint32_t tag;
} nk_idprobe;

/* Room for `expect` ids before the first growth. */
int nk_idtab_init(nk_idtab *t, size_t expect);
void nk_idtab_free(nk_idtab *t);
/* Forgets every id, keeping the slots (to re-insert after renumbering). */
void nk_idtab_clear(nk_idtab *t);
/* Adds id under hash; the caller has checked that its key is absent.
 * Grows past 70% load; NK_ENOMEM, or NK_ERANGE past 2^31 ids. */
int nk_idtab_put(nk_idtab *t, uint64_t hash, uint32_t id);

static inline nk_idprobe nk_idtab_probe(const nk_idtab *t, uint64_t hash)
{
	uint32_t tag = (uint32_t)(hash >> 32);
	return (nk_idprobe){tag & t->mask, tag};
}

/* The next id stored under the probe's hash bits, or NK_IDTAB_END. */
static inline uint32_t nk_idtab_next(const nk_idtab *t, nk_idprobe *p)
{
	if (!t->slot)
		return NK_IDTAB_END; /* never initialised, or freed */
	for (;;) {
		uint64_t e = t->slot[p->i];
		if (!e)
			return NK_IDTAB_END;
		p->i = (p->i + 1) & t->mask;
		if ((uint32_t)(e >> 32) == p->tag)
			return (uint32_t)e - 1;
	}
}

#endif
