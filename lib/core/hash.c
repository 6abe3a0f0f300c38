/* hash.c - FNV-1a and the id table; see hash.h. */
#include "core/hash.h"
#include "core/base.h"

#include <stdlib.h>
#include <string.h>

uint64_t nk_fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = NK_FNV1A_INIT;
	for (size_t i = 0; i < n; i++)
		h = nk_fnv1a_step(h, s[i]);
	return h;
}

uint64_t nk_fnv1a_str(const char *s)
{
	uint64_t h = NK_FNV1A_INIT;
	for (; *s; s++)
		h = nk_fnv1a_step(h, (unsigned char)*s);
	return h;
}

uint64_t nk_fnv1a_u32(const uint32_t *v, size_t n)
{
	uint64_t h = NK_FNV1A_INIT;
	for (size_t i = 0; i < n; i++)
		h = nk_fnv1a_step(h, v[i]);
	return h;
}

/* Slots for n ids at most 70% full: linear probing stays short there,
 * and the stored hash bits keep most key comparisons away. */
static size_t slots_for(size_t n)
{
	size_t s = 16;
	while (s * 7 < n * 10)
		s *= 2;
	return s;
}

static void place(uint64_t *slot, size_t mask, uint64_t e)
{
	size_t i = (uint32_t)(e >> 32) & mask;
	while (slot[i])
		i = (i + 1) & mask;
	slot[i] = e;
}

static int resize(nk_idtab *t, size_t slots)
{
	uint64_t *s = nk_calloc(slots, sizeof *s);
	if (!s)
		return NK_ENOMEM;
	if (t->slot)
		for (size_t i = 0; i <= t->mask; i++)
			if (t->slot[i])
				place(s, slots - 1, t->slot[i]);
	free(t->slot);
	t->slot = s;
	t->mask = slots - 1;
	return NK_OK;
}

int nk_idtab_init(nk_idtab *t, size_t expect)
{
	memset(t, 0, sizeof *t);
	if (expect > (size_t)1 << 31)
		return nk_error(NK_ERANGE, "hash table for %zu ids", expect);
	return resize(t, slots_for(expect));
}

void nk_idtab_free(nk_idtab *t)
{
	free(t->slot);
	memset(t, 0, sizeof *t);
}

void nk_idtab_clear(nk_idtab *t)
{
	if (t->slot)
		memset(t->slot, 0, (t->mask + 1) * sizeof *t->slot);
	t->n = 0;
}

int nk_idtab_put(nk_idtab *t, uint64_t hash, uint32_t id)
{
	/* The slot index comes from 32 hash bits, so 2^32 slots is the
	 * most that helps; 2^31 ids keeps the load under 70% there. */
	if (t->n >= (size_t)1 << 31 || id == NK_IDTAB_END)
		return nk_error(NK_ERANGE, "hash table full (%zu ids)", t->n);
	if ((t->n + 1) * 10 > (t->mask + 1) * 7) {
		int rc = resize(t, (t->mask + 1) * 2);
		if (rc)
			return rc;
	}
	place(t->slot, t->mask, (hash >> 32 << 32) | ((uint64_t)id + 1));
	t->n++;
	return NK_OK;
}

int nk_first_repeat(const char *const *s, size_t n, size_t *first,
		    size_t *again)
{
	*first = *again = n;
	nk_idtab t;
	int rc = nk_idtab_init(&t, n);
	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t h = nk_fnv1a_str(s[i]);
		nk_idprobe p = nk_idtab_probe(&t, h);
		for (uint32_t id; (id = nk_idtab_next(&t, &p)) != NK_IDTAB_END;)
			if (strcmp(s[id], s[i]) == 0) {
				*first = id;
				*again = i;
				nk_idtab_free(&t);
				return NK_OK;
			}
		rc = nk_idtab_put(&t, h, (uint32_t)i);
	}
	nk_idtab_free(&t);
	return rc;
}
