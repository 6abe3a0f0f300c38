/* bpe_encode.c - tiktoken-exact encoding with a vocabulary of bpe.c.
 *
 * Encoding a piece first looks the whole piece up (most English words
 * are one token), then the encoder's caches of recent pieces, and only
 * then merges.  Merging follows tiktoken's byte_pair_merge: lowest rank
 * first, leftmost on ties.  Short pieces use its simple array scan; long
 * ones a binary heap keyed by (rank, position) over a linked list, with
 * stale entries skipped by a rank check, so a megabyte with no split
 * point stays O(n log n).
 */
#include "text/bpe_impl.h"
#include "core/base.h"
#include "text/pretok.h"

#include <stdlib.h>
#include <string.h>

struct cache_slot {
	uint64_t hash;
	uint32_t key_off, key_len; /* in arena; key_len 0: empty */
	uint32_t ids_off, ids_n;   /* in ids arena */
};

/* The front cache: the ids of recent pieces of 3 to 8 bytes, keyed by
 * their bytes as one integer, in a direct-mapped table small enough to
 * stay in a core's cache.  Most pieces are that short, and most of them
 * recur (words, keywords, punctuation runs): one compare here replaces
 * hashing and probing the rank table, which is larger than the cache. */
#define FRONT_BITS 12
#define FRONT_PIECE 8
#define FRONT_IDS 5
struct front_slot {
	uint64_t head;      /* the piece's bytes, zero-padded */
	uint8_t len, k;     /* its length (0: empty) and its ids' count */
	uint32_t ids[FRONT_IDS];
};

struct nk_bpe_enc {
	_Alignas(64) const nk_bpe *b;
	struct front_slot *front;
	nk_pretok_matcher *m;    /* the vocabulary's pattern is a regex */
	struct cache_slot *cache;
	size_t cache_used;
	unsigned char *karena;
	size_t kused, kcap;
	uint32_t *iarena;
	size_t iused, icap;
	/* merge scratch */
	uint32_t *start, *rank, *next, *prev;
	uint64_t *heap;
	size_t scratch;
	size_t fail_off;
	size_t *spos, spos_cap; /* next occurrence of each special token */
};

/* The encoder's tables (piece cache, front cache, their two arenas) in
 * one block of a little under 2 MB: one huge page where the kernel gives
 * it, instead of ~480 faults.  Zeroed here, before any thread reads it: a
 * calloc'd page read first maps the shared zero page, and the first write
 * then faults again to copy it and flushes the TLB of every core the
 * process runs on (with -j 2, faults were 12% of the CPU samples, against
 * 7% with one thread, a quarter of them these copies). */
#define ENC_CACHE_BYTES (CACHE_SLOTS * sizeof(struct cache_slot))
#define ENC_FRONT_BYTES (((size_t)1 << FRONT_BITS) * sizeof(struct front_slot))
#define ENC_KARENA (CACHE_SLOTS * 16)
#define ENC_IARENA (CACHE_SLOTS * 4)

nk_bpe_enc *nk_bpe_enc_new(const nk_bpe *b)
{
	nk_bpe_enc *e = nk_malloc_aligned(sizeof *e);
	if (!e)
		return NULL;
	memset(e, 0, sizeof *e);
	e->b = b;
	size_t zero = ENC_CACHE_BYTES + ENC_FRONT_BYTES;
	unsigned char *t = nk_malloc_huge(zero + ENC_KARENA +
					  ENC_IARENA * sizeof(uint32_t));
	if (!t) {
		nk_free_aligned(e);
		return NULL;
	}
	memset(t, 0, zero);
	e->cache = (struct cache_slot *)t;
	e->front = (struct front_slot *)(t + ENC_CACHE_BYTES);
	e->iarena = (uint32_t *)(t + zero);
	e->icap = ENC_IARENA;
	e->karena = t + zero + ENC_IARENA * sizeof(uint32_t);
	e->kcap = ENC_KARENA;
	if (b->re && !(e->m = nk_pretok_matcher_new(b->re))) {
		nk_bpe_enc_free(e);
		return NULL;
	}
	return e;
}

void nk_bpe_enc_free(nk_bpe_enc *e)
{
	if (!e)
		return;
	nk_pretok_matcher_free(e->m);
	free(e->cache); /* the block of all four tables */
	free(e->start);
	free(e->rank);
	free(e->next);
	free(e->prev);
	free(e->heap);
	free(e->spos);
	nk_free_aligned(e);
}

size_t nk_bpe_enc_fail_offset(const nk_bpe_enc *e) { return e->fail_off; }

static int scratch_reserve(nk_bpe_enc *e, size_t n)
{
	if (n <= e->scratch)
		return 0;
	/* Five arrays, one capacity: each grows from the same old size to
	 * the same new one (the heap holds two entries per part). */
	uint32_t **arr[] = {&e->start, &e->rank, &e->next, &e->prev};
	size_t cap = e->scratch;
	for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++) {
		cap = e->scratch;
		if (nk_grow((void **)arr[i], &cap, n, sizeof(uint32_t)))
			return NK_ENOMEM;
	}
	size_t hcap = e->scratch * 2;
	if (nk_grow((void **)&e->heap, &hcap, cap * 2, sizeof *e->heap))
		return NK_ENOMEM;
	e->scratch = cap;
	return 0;
}

/* tiktoken's byte_pair_merge for short pieces: parts indexed by their
 * start byte and linked by next/prev, each with the rank of it merged
 * with its right neighbour (cur; RANK_NONE once the part is dead or
 * last) and its own rank (pr: a merge's rank is its new part's, so the
 * ids come out without looking the parts up again).  Each round scans
 * every start for the lowest (rank, position), dead ones included: for
 * a few dozen bytes a scan without branches to mispredict and without
 * moving the arrays (three memmoves a merge before) beats keeping only
 * the live parts. */
static int merge_short(nk_bpe_enc *e, const unsigned char *s, size_t n,
		       nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	uint32_t *cur = e->rank, *pr = e->start, *next = e->next,
		 *prev = e->prev;
	for (size_t i = 0; i + 1 < n; i++)
		cur[i] = pair_rank(b, s + i);
	cur[n - 1] = RANK_NONE;
	for (size_t i = 0; i < n; i++) {
		pr[i] = b->byte_rank[s[i]];
		next[i] = (uint32_t)(i + 1);
		prev[i] = (uint32_t)(i - 1);
	}
	for (;;) {
		uint64_t best = (uint64_t)cur[0] << 32;
		for (size_t i = 1; i + 1 < n; i++) {
			uint64_t key = (uint64_t)cur[i] << 32 | i;
			best = key < best ? key : best;
		}
		uint32_t r = (uint32_t)(best >> 32), i = (uint32_t)best;
		if (r == RANK_NONE)
			break;
		uint32_t j = next[i], k = next[j];
		pr[i] = r;
		next[i] = k;
		cur[j] = RANK_NONE;
		if (k < n) {
			prev[k] = i;
			cur[i] = lookup(b, s + i, next[k] - i);
		} else {
			cur[i] = RANK_NONE;
		}
		if (i > 0) {
			uint32_t p = prev[i];
			cur[p] = lookup(b, s + p, k - p);
		}
	}
	if (nk_bpe_ids_reserve(out, n))
		return NK_ENOMEM;
	for (uint32_t i = 0; i < n; i = next[i])
		out->v[out->n++] = pr[i];
	return 0;
}

/* Heap of (rank << 32 | position): the lowest rank, then the leftmost. */
static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h[p] <= v)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
	uint64_t top = h[0], v = h[--*n];
	size_t i = 0, m = *n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (m)
		h[i] = v;
	return top;
}

/* The same merges for long pieces in O(n log n).  Parts are linked by
 * next/prev (indexed by their start byte) and cur[i] is the rank of part
 * i merged with its right neighbour.  A heap entry (rank, i) is stale
 * when part i is dead or cur[i] differs: parts only grow, and a longer
 * byte string is a different token, so a stale entry never looks current. */
static int merge_long(nk_bpe_enc *e, const unsigned char *s, size_t n,
		      nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	uint32_t *next = e->next, *prev = e->prev, *cur = e->rank;
	uint64_t *h = e->heap;
	size_t hn = 0;
	for (size_t i = 0; i < n; i++) {
		next[i] = (uint32_t)(i + 1);
		prev[i] = (uint32_t)(i - 1);
		cur[i] = RANK_NONE;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		uint32_t r = pair_rank(b, s + i);
		cur[i] = r;
		if (r != RANK_NONE)
			heap_push(h, &hn, (uint64_t)r << 32 | i);
	}
	/* Each merge pops one entry and pushes at most two, so the heap
	 * stays under 2n entries; it is compacted if it would overflow. */
	while (hn) {
		uint64_t top = heap_pop(h, &hn);
		uint32_t i = (uint32_t)top, r = (uint32_t)(top >> 32);
		if (cur[i] != r || next[i] >= n)
			continue;
		uint32_t j = next[i], k = next[j];
		next[i] = k;
		if (k < n)
			prev[k] = i;
		cur[j] = RANK_NONE; /* dead: j never heads a part again */
		next[j] = (uint32_t)n;
		if (hn + 2 > 2 * e->scratch) {
			size_t w = 0;
			for (size_t q = 0; q < hn; q++) {
				uint32_t a = (uint32_t)h[q];
				if (cur[a] == (uint32_t)(h[q] >> 32) && next[a] < n)
					h[w++] = h[q];
			}
			hn = 0;
			for (size_t q = 0; q < w; q++)
				heap_push(h, &hn, h[q]);
		}
		cur[i] = k < n ? lookup(b, s + i, next[k] - i) : RANK_NONE;
		if (cur[i] != RANK_NONE)
			heap_push(h, &hn, (uint64_t)cur[i] << 32 | i);
		if (i > 0) {
			uint32_t p = prev[i];
			cur[p] = lookup(b, s + p, k - p);
			if (cur[p] != RANK_NONE)
				heap_push(h, &hn, (uint64_t)cur[p] << 32 | p);
		}
	}
	if (nk_bpe_ids_reserve(out, n))
		return NK_ENOMEM;
	for (uint32_t i = 0; i < n; i = next[i])
		out->v[out->n++] = lookup(b, s + i, next[i] - i);
	return 0;
}

static void cache_clear(nk_bpe_enc *e)
{
	memset(e->cache, 0, CACHE_SLOTS * sizeof *e->cache);
	e->cache_used = e->kused = e->iused = 0;
}

/* A piece through the rank table, the caches and the merge loop. */
static int encode_piece_table(nk_bpe_enc *e, const unsigned char *s,
			      size_t n, nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	if (n == 0)
		return 0;
	if (n == 1)
		return nk_bpe_ids_push(out, b->byte_rank[s[0]]);
	if (n == 2) {
		/* A token, or two bytes: nothing to merge or cache. */
		uint32_t r = pair_rank(b, s);
		if (r != RANK_NONE)
			return nk_bpe_ids_push(out, r);
		if (nk_bpe_ids_reserve(out, 2))
			return NK_ENOMEM;
		out->v[out->n++] = b->byte_rank[s[0]];
		out->v[out->n++] = b->byte_rank[s[1]];
		return 0;
	}
	/* One hash for the rank table and both caches. */
	uint64_t hash = hash_bytes(s, n);
	uint32_t r = lookup_h(b, s, n, hash);
	if (r != RANK_NONE)
		return nk_bpe_ids_push(out, r);
	hash |= 1;
	size_t slot = 0;
	if (n <= CACHE_PIECE) {
		for (slot = hash & (CACHE_SLOTS - 1);;
		     slot = (slot + 1) & (CACHE_SLOTS - 1)) {
			struct cache_slot *c = &e->cache[slot];
			if (!c->key_len)
				break;
			if (c->hash == hash && c->key_len == n &&
			    memcmp(e->karena + c->key_off, s, n) == 0) {
				if (nk_bpe_ids_reserve(out, c->ids_n))
					return NK_ENOMEM;
				memcpy(out->v + out->n, e->iarena + c->ids_off,
				       c->ids_n * sizeof(uint32_t));
				out->n += c->ids_n;
				return 0;
			}
		}
	}
	size_t before = out->n;
	if (scratch_reserve(e, n + 1))
		return NK_ENOMEM;
	int rc = n <= SHORT_PIECE ? merge_short(e, s, n, out)
				  : merge_long(e, s, n, out);
	if (rc || n > CACHE_PIECE)
		return rc;
	size_t k = out->n - before;
	if (e->cache_used >= CACHE_SLOTS / 2 || e->kused + n > e->kcap ||
	    e->iused + k > e->icap) {
		cache_clear(e);
		for (slot = hash & (CACHE_SLOTS - 1); e->cache[slot].key_len;
		     slot = (slot + 1) & (CACHE_SLOTS - 1))
			;
	}
	struct cache_slot *c = &e->cache[slot];
	memcpy(e->karena + e->kused, s, n);
	memcpy(e->iarena + e->iused, out->v + before, k * sizeof(uint32_t));
	*c = (struct cache_slot){hash, (uint32_t)e->kused, (uint32_t)n,
				 (uint32_t)e->iused, (uint32_t)k};
	e->kused += n;
	e->iused += k;
	e->cache_used++;
	return 0;
}

/* A piece of 3 to FRONT_PIECE bytes through the front cache; out has
 * room for FRONT_IDS more ids (a hit copies them all, whatever its
 * count). */
static inline int encode_front(nk_bpe_enc *e, const unsigned char *s,
			       size_t n, uint64_t head, nk_bpe_ids *out)
{
	struct front_slot *f = &e->front[((head ^ n) * 0x9E3779B97F4A7C15ull) >>
					 (64 - FRONT_BITS)];
	if (f->head == head && f->len == n) {
		memcpy(out->v + out->n, f->ids, sizeof f->ids);
		out->n += f->k;
		return 0;
	}
	size_t before = out->n;
	int rc = encode_piece_table(e, s, n, out);
	size_t k = out->n - before;
	if (!rc && k <= FRONT_IDS) {
		f->head = head;
		f->len = (uint8_t)n;
		f->k = (uint8_t)k;
		memcpy(f->ids, out->v + before, k * sizeof *f->ids);
	}
	return rc;
}

int nk_bpe_encode_piece(nk_bpe_enc *e, const unsigned char *s, size_t n,
			nk_bpe_ids *out)
{
	if (n < 3 || n > FRONT_PIECE)
		return encode_piece_table(e, s, n, out);
	if (nk_bpe_ids_reserve(out, FRONT_IDS))
		return NK_ENOMEM;
	return encode_front(e, s, n, head_bytes(s, n), out);
}

/* head_bytes of the k <= 8 bytes at p when `avail` bytes can be read
 * there: one load and a mask where eight can (most pieces), without
 * head_bytes' branches on k, which mispredict as piece lengths vary. */
static inline uint64_t head_avail(const unsigned char *p, size_t k,
				  size_t avail)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (avail >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		return w & (~0ull >> (64 - 8 * k));
	}
#else
	(void)avail;
#endif
	return head_bytes(p, k);
}

#define SPLIT_BATCH 64 /* pieces cut ahead of encoding */

/* Pieces cut SPLIT_BATCH at a time; the ids of the one- and two-byte
 * pieces (a third of C) straight from the byte and pair tables, the rest
 * through the front cache or the rank table.  A batch's pieces have at
 * most as many ids as bytes, so room is made once per batch. */
static int encode_split(nk_bpe_enc *e, int kind, const unsigned char *s,
			size_t n, nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	size_t end[SPLIT_BATCH];
	while (n) {
		size_t m = nk_pretok_split(kind, s, n, end, SPLIT_BATCH);
		if (nk_bpe_ids_reserve(out, end[m - 1] + FRONT_IDS))
			return NK_ENOMEM;
		size_t q = 0;
		for (size_t i = 0; i < m; i++) {
			const unsigned char *p = s + q;
			size_t k = end[i] - q;
			q = end[i];
			if (k == 1) {
				out->v[out->n++] = b->byte_rank[p[0]];
			} else if (k == 2) {
				uint32_t r = pair_rank(b, p);
				if (r != RANK_NONE) {
					out->v[out->n++] = r;
				} else {
					out->v[out->n++] = b->byte_rank[p[0]];
					out->v[out->n++] = b->byte_rank[p[1]];
				}
			} else {
				int rc = k <= FRONT_PIECE ?
					 encode_front(e, p, k, head_avail(p, k,
						      n - (size_t)(p - s)), out) :
					 encode_piece_table(e, p, k, out);
				if (rc)
					return rc;
			}
		}
		s += q;
		n -= q;
	}
	return 0;
}

static int encode_ordinary(nk_bpe_enc *e, const unsigned char *s, size_t n,
			   nk_bpe_ids *out)
{
	if (e->m) {
		for (size_t pos = 0; pos < n;) {
			long k = nk_pretok_re_next(e->m, s, n, pos);
			if (k < 0)
				return (int)-k;
			int rc = nk_bpe_encode_piece(e, s + pos, (size_t)k, out);
			if (rc)
				return rc;
			pos += (size_t)k;
		}
		return 0;
	}
	return encode_split(e, e->b->pretok, s, n, out);
}

/* Offset of the next occurrence of special i at or after `from` (n if
 * none). */
static size_t special_pos(const struct special *sp, const unsigned char *s,
			  size_t n, size_t from)
{
	const unsigned char *q = memmem(s + from, n - from, sp->text, sp->len);
	return q ? (size_t)(q - s) : n;
}

/* Special tokens are found by keeping each one's next occurrence and
 * searching again only for those the last match overtook, so the text is
 * scanned once per special token, not once per match. */
int nk_bpe_encode(nk_bpe_enc *e, const unsigned char *text, size_t n,
		  int special, nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	size_t ns = b->n_spec;
	if (special == NK_SPECIAL_TEXT || ns == 0)
		return encode_ordinary(e, text, n, out);
	if (e->spos_cap < ns) {
		size_t *p = nk_reallocarray(e->spos, ns, sizeof *p);
		if (!p)
			return NK_ENOMEM;
		e->spos = p;
		e->spos_cap = ns;
	}
	size_t *pos = e->spos, done = 0;
	for (size_t i = 0; i < ns; i++)
		pos[i] = special_pos(&b->spec[i], text, n, 0);
	for (;;) {
		size_t best = 0;
		for (size_t i = 1; i < ns; i++)
			if (pos[i] < pos[best] || (pos[i] == pos[best] &&
			    b->spec[i].len > b->spec[best].len))
				best = i;
		size_t at = pos[best];
		if (at >= n)
			break;
		const struct special *sp = &b->spec[best];
		if (special == NK_SPECIAL_FAIL) {
			e->fail_off = at;
			return nk_error(NK_EFORMAT, "special token '%s' in the "
					"text (allow it, or encode it as text)",
					sp->text);
		}
		int rc = encode_ordinary(e, text + done, at - done, out);
		if (rc || (rc = nk_bpe_ids_push(out, sp->id)))
			return rc;
		done = at + sp->len;
		for (size_t i = 0; i < ns; i++)
			if (pos[i] < done)
				pos[i] = special_pos(&b->spec[i], text, n, done);
	}
	return encode_ordinary(e, text + done, n - done, out);
}

int nk_bpe_count(nk_bpe_enc *e, const unsigned char *text, size_t n,
		 int special, size_t *count)
{
	nk_bpe_ids ids = {0};
	int rc = nk_bpe_encode(e, text, n, special, &ids);
	*count = ids.n;
	nk_bpe_ids_free(&ids);
	return rc;
}
