/* merge_pairs.c - the pair-merge engine of the vocabulary trainers; the
 * design is in merge_pairs.h. */
#include "text/merge_pairs.h"

#include "core/base.h"

#include <stdlib.h>
#include <string.h>

int nk_mp_pieces_init(struct nk_mp_pieces *P)
{
	memset(P, 0, sizeof *P);
	if (nk_idtab_init(&P->index, 1 << 15) ||
	    nk_grow((void **)&P->piece, &P->pcap, 1 << 15, sizeof *P->piece) ||
	    nk_grow((void **)&P->arena, &P->acap, 1 << 20, 1)) {
		nk_mp_pieces_free(P);
		return NK_ENOMEM;
	}
	return 0;
}

void nk_mp_pieces_free(struct nk_mp_pieces *P)
{
	nk_idtab_free(&P->index);
	free(P->piece);
	free(P->arena);
}

int nk_mp_pieces_add(struct nk_mp_pieces *P, const unsigned char *s,
		     size_t n)
{
	uint64_t h = nk_fnv1a(s, n);
	nk_idprobe p = nk_idtab_probe(&P->index, h);
	for (uint32_t id; (id = nk_idtab_next(&P->index, &p)) != NK_IDTAB_END;) {
		struct nk_mp_piece *q = &P->piece[id];
		if (q->len == n && !memcmp(P->arena + q->off, s, n)) {
			q->count++;
			return 0;
		}
	}
	if (P->aused + n > UINT32_MAX)
		return nk_error(NK_ERANGE, "training text too large");
	int rc;
	if (nk_grow((void **)&P->arena, &P->acap, P->aused + n, 1) ||
	    nk_grow((void **)&P->piece, &P->pcap, P->pused + 1,
		    sizeof *P->piece))
		return NK_ENOMEM;
	if ((rc = nk_idtab_put(&P->index, h, (uint32_t)P->pused)))
		return rc;
	memcpy(P->arena + P->aused, s, n);
	P->piece[P->pused++] =
		(struct nk_mp_piece){1, (uint32_t)P->aused, (uint32_t)n};
	P->aused += n;
	return 0;
}

int nk_mp_init(struct nk_mp *M, size_t max_words, nk_mp_tie_fn tie,
	       const void *tie_ctx)
{
	memset(M, 0, sizeof *M);
	M->tie = tie;
	M->tie_ctx = tie_ctx;
	M->words = nk_calloc(max_words + 1, sizeof *M->words);
	M->pmask = 4095;
	M->pslot = nk_calloc(M->pmask + 1, sizeof *M->pslot);
	M->pidx = nk_calloc(M->pmask + 1, sizeof *M->pidx);
	if (!M->words || !M->pslot || !M->pidx)
		return NK_ENOMEM;
	return 0;
}

void nk_mp_free(struct nk_mp *M)
{
	for (size_t i = 0; i < M->n_words; i++)
		free(M->words[i].sym);
	free(M->words);
	for (size_t k = 0; k < M->n_pairs; k++)
		free(M->pairs[k].occ);
	free(M->pairs);
	free(M->pslot);
	free(M->pidx);
	free(M->heap);
	free(M->touched);
}

/* The id of pair (a, b), made when new; UINT32_MAX when out of memory. */
static uint32_t pair_get(struct nk_mp *M, uint32_t a, uint32_t b)
{
	uint64_t key = ((uint64_t)a << 32 | b) + 1;
	uint64_t h = key * 0x9E3779B97F4A7C15ull;
	size_t i = (h >> 20) & M->pmask;
	for (; M->pslot[i]; i = (i + 1) & M->pmask)
		if (M->pslot[i] == key)
			return M->pidx[i];
	if (nk_grow((void **)&M->pairs, &M->cap_pairs, M->n_pairs + 1,
		    sizeof *M->pairs))
		return UINT32_MAX;
	if ((M->n_pairs + 1) * 2 > M->pmask + 1) {
		size_t ns = (M->pmask + 1) * 2;
		uint64_t *sl = nk_calloc(ns, sizeof *sl);
		uint32_t *ix = nk_calloc(ns, sizeof *ix);
		if (!sl || !ix) {
			free(sl);
			free(ix);
			return UINT32_MAX;
		}
		for (size_t k = 0; k <= M->pmask; k++) {
			if (!M->pslot[k])
				continue;
			size_t j = ((M->pslot[k] * 0x9E3779B97F4A7C15ull) >> 20) &
				   (ns - 1);
			while (sl[j])
				j = (j + 1) & (ns - 1);
			sl[j] = M->pslot[k];
			ix[j] = M->pidx[k];
		}
		free(M->pslot);
		free(M->pidx);
		M->pslot = sl;
		M->pidx = ix;
		M->pmask = ns - 1;
		for (i = (h >> 20) & M->pmask; M->pslot[i]; i = (i + 1) & M->pmask)
			;
	}
	uint32_t id = (uint32_t)M->n_pairs++;
	M->pairs[id] = (struct nk_mp_pair){a, b, 0, NULL, 0, 0, 0};
	M->pslot[i] = key;
	M->pidx[i] = id;
	return id;
}

/* Orders heap entries: 1 when x should be merged before y. */
static int before(const struct nk_mp *M, const struct nk_mp_hent *x,
		  const struct nk_mp_hent *y)
{
	if (x->count != y->count)
		return x->count > y->count;
	return M->tie(M->tie_ctx, &M->pairs[x->pair], &M->pairs[y->pair]);
}

static int heap_push(struct nk_mp *M, uint32_t pair)
{
	if (nk_grow((void **)&M->heap, &M->hcap, M->hn + 1, sizeof *M->heap))
		return NK_ENOMEM;
	struct nk_mp_hent v = {M->pairs[pair].count, pair};
	size_t i = M->hn++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(M, &v, &M->heap[p]))
			break;
		M->heap[i] = M->heap[p];
		i = p;
	}
	M->heap[i] = v;
	return 0;
}

static struct nk_mp_hent heap_pop(struct nk_mp *M)
{
	struct nk_mp_hent top = M->heap[0], v = M->heap[--M->hn];
	size_t i = 0, m = M->hn;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && before(M, &M->heap[c + 1], &M->heap[c]))
			c++;
		if (!before(M, &M->heap[c], &v))
			break;
		M->heap[i] = M->heap[c];
		i = c;
	}
	if (m)
		M->heap[i] = v;
	return top;
}

/* Adds delta to pair (a, b), noting word w when it grows. */
static int pair_add(struct nk_mp *M, uint32_t a, uint32_t b, int64_t delta,
		    uint32_t w)
{
	uint32_t id = pair_get(M, a, b);
	if (id == UINT32_MAX)
		return NK_ENOMEM;
	struct nk_mp_pair *p = &M->pairs[id];
	p->count += delta;
	if (delta > 0 && (p->n_occ == 0 || p->occ[p->n_occ - 1] != w)) {
		if (p->n_occ == p->cap_occ) {
			/* 32-bit counts keep struct nk_mp_pair small; n_occ
			 * is at most the number of words, so cap fits. */
			size_t cap = p->cap_occ;
			if (nk_grow((void **)&p->occ, &cap, (size_t)p->n_occ + 1,
				    sizeof *p->occ))
				return NK_ENOMEM;
			p->cap_occ = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
		}
		p->occ[p->n_occ++] = w;
	}
	if (p->stamp != M->stamp) {
		p->stamp = M->stamp;
		if (nk_grow((void **)&M->touched, &M->cap_touched,
			    M->n_touched + 1, sizeof *M->touched))
			return NK_ENOMEM;
		M->touched[M->n_touched++] = id;
	}
	return 0;
}

int nk_mp_count(struct nk_mp *M)
{
	int rc;
	M->stamp = 1;
	for (size_t i = 0; i < M->n_words; i++) {
		struct nk_mp_word *w = &M->words[i];
		w->stamp = 0;
		for (uint32_t k = 0; k + 1 < w->n; k++)
			if ((rc = pair_add(M, w->sym[k], w->sym[k + 1],
					   (int64_t)w->count, (uint32_t)i)))
				return rc;
	}
	for (size_t k = 0; k < M->n_pairs; k++)
		if ((rc = heap_push(M, (uint32_t)k)))
			return rc;
	return 0;
}

int nk_mp_next(struct nk_mp *M, uint64_t min_freq, uint32_t *pair)
{
	while (M->hn) {
		struct nk_mp_hent top = heap_pop(M);
		const struct nk_mp_pair *p = &M->pairs[top.pair];
		if (top.count != p->count || p->count <= 0)
			continue;
		if ((uint64_t)p->count < min_freq)
			return 0;
		*pair = top.pair;
		return 1;
	}
	return 0;
}

int nk_mp_apply(struct nk_mp *M, uint32_t pid, uint32_t c)
{
	uint32_t a = M->pairs[pid].a, b = M->pairs[pid].b;
	M->stamp++;
	M->n_touched = 0;
	/* The list may grow while we walk it (a pair can neighbour itself),
	 * so take it away first. */
	uint32_t *occ = M->pairs[pid].occ, n_occ = M->pairs[pid].n_occ;
	M->pairs[pid].occ = NULL;
	M->pairs[pid].n_occ = M->pairs[pid].cap_occ = 0;
	int rc = 0;
	for (uint32_t k = 0; k < n_occ && !rc; k++) {
		struct nk_mp_word *w = &M->words[occ[k]];
		if (w->stamp == M->stamp)
			continue;
		w->stamp = M->stamp;
		int64_t cnt = (int64_t)w->count;
		uint32_t o = 0;
		for (uint32_t i = 0; i < w->n && !rc; i++) {
			if (i + 1 < w->n && w->sym[i] == a && w->sym[i + 1] == b) {
				rc = pair_add(M, a, b, -cnt, occ[k]);
				if (!rc && o > 0)
					rc = pair_add(M, w->sym[o - 1], a, -cnt, occ[k]);
				if (!rc && o > 0)
					rc = pair_add(M, w->sym[o - 1], c, cnt, occ[k]);
				if (!rc && i + 2 < w->n)
					rc = pair_add(M, b, w->sym[i + 2], -cnt, occ[k]);
				if (!rc && i + 2 < w->n)
					rc = pair_add(M, c, w->sym[i + 2], cnt, occ[k]);
				w->sym[o++] = c;
				i++;
			} else {
				w->sym[o++] = w->sym[i];
			}
		}
		w->n = o;
	}
	free(occ);
	for (size_t k = 0; k < M->n_touched && !rc; k++)
		if (M->pairs[M->touched[k]].count > 0)
			rc = heap_push(M, M->touched[k]);
	/* The pair is gone from every word; stale heap entries skip it. */
	M->pairs[pid].count = 0;
	return rc;
}
