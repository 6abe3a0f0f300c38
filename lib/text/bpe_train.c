/* bpe_train.c - learning a byte-level BPE vocabulary.
 *
 * The text is pre-tokenized and identical pieces are counted once, so a
 * corpus becomes a few hundred thousand (piece, count) words.  Every word
 * is a sequence of token ids, initially its bytes.  Pair counts are kept
 * in a hash table, each pair with the list of words it occurs in, and a
 * max-heap picks the next merge.  A merge rewrites only the words on the
 * chosen pair's list and adjusts the counts of the pairs around each
 * rewritten occurrence; the corpus is never recounted.  Heap entries
 * carry the count they were pushed with and are skipped when it is no
 * longer current (every changed pair gets a fresh entry).
 *
 * Deterministic ties: the higher count wins; among equal counts, the pair
 * whose left token's bytes are lexicographically smaller, then the right
 * token's bytes.  A merge whose bytes already form a token reuses it.
 */
#include "text/bpe.h"

#include "core/base.h"
#include "core/hash.h"
#include "text/pretok.h"

#include <stdlib.h>
#include <string.h>

struct word {
	uint32_t *sym;
	uint32_t n;
	uint64_t count;
	uint32_t stamp;
};

struct pair {
	uint32_t a, b;
	int64_t count;
	uint32_t *occ; /* words that contain (or contained) the pair */
	uint32_t n_occ, cap_occ;
	uint32_t stamp;
};

struct nk_bpe_trainer {
	int kind;
	nk_pretok_re *re;          /* kind NK_PRETOK_REGEX */
	nk_pretok_matcher *m;
	/* piece counting: distinct pieces in first-seen order, their bytes
	 * in one arena, indexed by FNV-1a of the bytes */
	struct piece { uint64_t count; uint32_t off, len; } *piece;
	size_t pused, pcap;
	nk_idtab index;
	unsigned char *arena;
	size_t aused, acap;
};

nk_bpe_trainer *nk_bpe_trainer_new(int kind)
{
	nk_bpe_trainer *t = nk_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->kind = kind;
	if (nk_idtab_init(&t->index, 1 << 15) ||
	    nk_grow((void **)&t->piece, &t->pcap, 1 << 15, sizeof *t->piece) ||
	    nk_grow((void **)&t->arena, &t->acap, 1 << 20, 1)) {
		nk_bpe_trainer_free(t);
		return NULL;
	}
	return t;
}

void nk_bpe_trainer_free(nk_bpe_trainer *t)
{
	if (!t)
		return;
	nk_idtab_free(&t->index);
	free(t->piece);
	free(t->arena);
	nk_pretok_matcher_free(t->m);
	nk_pretok_re_free(t->re);
	free(t);
}

int nk_bpe_trainer_set_regex(nk_bpe_trainer *t, const char *pat)
{
	nk_pretok_re *re = nk_pretok_re_new(pat);
	nk_pretok_matcher *m = re ? nk_pretok_matcher_new(re) : NULL;
	if (!m) {
		nk_pretok_re_free(re);
		return nk_last_error()[0] ? NK_EFORMAT : NK_ENOMEM;
	}
	nk_pretok_matcher_free(t->m);
	nk_pretok_re_free(t->re);
	t->re = re;
	t->m = m;
	t->kind = NK_PRETOK_REGEX;
	return 0;
}

size_t nk_bpe_trainer_pieces(const nk_bpe_trainer *t) { return t->pused; }

static int piece_add(nk_bpe_trainer *t, const unsigned char *s, size_t n)
{
	uint64_t h = nk_fnv1a(s, n);
	nk_idprobe p = nk_idtab_probe(&t->index, h);
	for (uint32_t id; (id = nk_idtab_next(&t->index, &p)) != NK_IDTAB_END;) {
		struct piece *q = &t->piece[id];
		if (q->len == n && !memcmp(t->arena + q->off, s, n)) {
			q->count++;
			return 0;
		}
	}
	if (n > UINT32_MAX / 2 || t->aused + n > UINT32_MAX)
		return nk_error(NK_ERANGE, "training text too large");
	int rc;
	if (nk_grow((void **)&t->arena, &t->acap, t->aused + n, 1) ||
	    nk_grow((void **)&t->piece, &t->pcap, t->pused + 1,
		    sizeof *t->piece))
		return NK_ENOMEM;
	if ((rc = nk_idtab_put(&t->index, h, (uint32_t)t->pused)))
		return rc;
	memcpy(t->arena + t->aused, s, n);
	t->piece[t->pused++] = (struct piece){1, (uint32_t)t->aused, (uint32_t)n};
	t->aused += n;
	return 0;
}

int nk_bpe_trainer_add(nk_bpe_trainer *t, const unsigned char *text,
		       size_t n)
{
	if (t->m) {
		for (size_t pos = 0; pos < n;) {
			long k = nk_pretok_re_next(t->m, text, n, pos);
			int rc = k < 0 ? (int)-k : piece_add(t, text + pos, (size_t)k);
			if (rc)
				return rc;
			pos += (size_t)k;
		}
		return 0;
	}
	while (n) {
		size_t k = nk_pretok_next(t->kind, text, n);
		int rc = piece_add(t, text, k);
		if (rc)
			return rc;
		text += k;
		n -= k;
	}
	return 0;
}

/* ---- the merge loop ---- */

struct trainer_run {
	struct word *words;
	size_t n_words;
	struct pair *pairs;
	size_t n_pairs, cap_pairs;
	uint64_t *pslot; /* (a << 32 | b) + 1 keyed; value index in pidx */
	uint32_t *pidx;
	size_t pmask;
	unsigned char **tok;
	uint32_t *tlen;
	uint32_t n_tok;
	size_t cap_tok, cap_tlen;
	struct hent { int64_t count; uint32_t pair; } *heap;
	size_t hn, hcap;
	uint32_t *touched;
	size_t n_touched, cap_touched;
	uint32_t stamp;
};

static uint32_t pair_get(struct trainer_run *R, uint32_t a, uint32_t b,
			 int create)
{
	uint64_t key = ((uint64_t)a << 32 | b) + 1;
	uint64_t h = key * 0x9E3779B97F4A7C15ull;
	size_t i = (h >> 20) & R->pmask;
	for (; R->pslot[i]; i = (i + 1) & R->pmask)
		if (R->pslot[i] == key)
			return R->pidx[i];
	if (!create)
		return UINT32_MAX;
	if (nk_grow((void **)&R->pairs, &R->cap_pairs, R->n_pairs + 1,
		    sizeof *R->pairs))
		return UINT32_MAX - 1;
	if ((R->n_pairs + 1) * 2 > R->pmask + 1) {
		size_t ns = (R->pmask + 1) * 2;
		uint64_t *sl = nk_calloc(ns, sizeof *sl);
		uint32_t *ix = nk_calloc(ns, sizeof *ix);
		if (!sl || !ix) {
			free(sl);
			free(ix);
			return UINT32_MAX - 1;
		}
		for (size_t k = 0; k <= R->pmask; k++) {
			if (!R->pslot[k])
				continue;
			size_t j = ((R->pslot[k] * 0x9E3779B97F4A7C15ull) >> 20) &
				   (ns - 1);
			while (sl[j])
				j = (j + 1) & (ns - 1);
			sl[j] = R->pslot[k];
			ix[j] = R->pidx[k];
		}
		free(R->pslot);
		free(R->pidx);
		R->pslot = sl;
		R->pidx = ix;
		R->pmask = ns - 1;
		for (i = (h >> 20) & R->pmask; R->pslot[i];
		     i = (i + 1) & R->pmask)
			;
	}
	uint32_t id = (uint32_t)R->n_pairs++;
	R->pairs[id] = (struct pair){a, b, 0, NULL, 0, 0, 0};
	R->pslot[i] = key;
	R->pidx[i] = id;
	return id;
}

/* Orders heap entries: 1 when x should be merged before y. */
static int before(const struct trainer_run *R, const struct hent *x,
		  const struct hent *y)
{
	if (x->count != y->count)
		return x->count > y->count;
	const struct pair *p = &R->pairs[x->pair], *q = &R->pairs[y->pair];
	for (int side = 0; side < 2; side++) {
		uint32_t s = side ? p->b : p->a, t = side ? q->b : q->a;
		if (s == t)
			continue;
		uint32_t ls = R->tlen[s], lt = R->tlen[t];
		int c = memcmp(R->tok[s], R->tok[t], ls < lt ? ls : lt);
		if (c)
			return c < 0;
		return ls < lt;
	}
	return x->pair < y->pair;
}

static int heap_push(struct trainer_run *R, uint32_t pair)
{
	if (nk_grow((void **)&R->heap, &R->hcap, R->hn + 1, sizeof *R->heap))
		return NK_ENOMEM;
	struct hent v = {R->pairs[pair].count, pair};
	size_t i = R->hn++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(R, &v, &R->heap[p]))
			break;
		R->heap[i] = R->heap[p];
		i = p;
	}
	R->heap[i] = v;
	return 0;
}

static struct hent heap_pop(struct trainer_run *R)
{
	struct hent top = R->heap[0], v = R->heap[--R->hn];
	size_t i = 0, m = R->hn;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && before(R, &R->heap[c + 1], &R->heap[c]))
			c++;
		if (!before(R, &R->heap[c], &v))
			break;
		R->heap[i] = R->heap[c];
		i = c;
	}
	if (m)
		R->heap[i] = v;
	return top;
}

/* Adds delta to pair (a, b), noting word w when it grows. */
static int pair_add(struct trainer_run *R, uint32_t a, uint32_t b,
		    int64_t delta, uint32_t w)
{
	uint32_t id = pair_get(R, a, b, 1);
	if (id >= UINT32_MAX - 1)
		return NK_ENOMEM;
	struct pair *p = &R->pairs[id];
	p->count += delta;
	if (delta > 0 && (p->n_occ == 0 || p->occ[p->n_occ - 1] != w)) {
		if (p->n_occ == p->cap_occ) {
			/* 32-bit counts keep struct pair small; n_occ is at
			 * most the number of words, so cap fits. */
			size_t cap = p->cap_occ;
			if (nk_grow((void **)&p->occ, &cap, (size_t)p->n_occ + 1,
				    sizeof *p->occ))
				return NK_ENOMEM;
			p->cap_occ = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
		}
		p->occ[p->n_occ++] = w;
	}
	if (p->stamp != R->stamp) {
		p->stamp = R->stamp;
		if (nk_grow((void **)&R->touched, &R->cap_touched,
			    R->n_touched + 1, sizeof *R->touched))
			return NK_ENOMEM;
		R->touched[R->n_touched++] = id;
	}
	return 0;
}

/* Finds the token with these bytes among those made so far, or adds it. */
static int token_for(struct trainer_run *R, uint32_t a, uint32_t b,
		     uint32_t *out, int *is_new)
{
	uint32_t la = R->tlen[a], lb = R->tlen[b];
	unsigned char *t = nk_malloc((size_t)la + lb);
	if (!t)
		return NK_ENOMEM;
	memcpy(t, R->tok[a], la);
	memcpy(t + la, R->tok[b], lb);
	/* Tokens are few (the vocabulary size), so a linear check over
	 * those of the same length is cheap next to the merge itself. */
	for (uint32_t k = 256; k < R->n_tok; k++)
		if (R->tlen[k] == la + lb && !memcmp(R->tok[k], t, la + lb)) {
			free(t);
			*out = k;
			*is_new = 0;
			return 0;
		}
	if (nk_grow((void **)&R->tok, &R->cap_tok, (size_t)R->n_tok + 1,
		    sizeof *R->tok) ||
	    nk_grow((void **)&R->tlen, &R->cap_tlen, (size_t)R->n_tok + 1,
		    sizeof *R->tlen)) {
		free(t);
		return NK_ENOMEM;
	}
	R->tok[R->n_tok] = t;
	R->tlen[R->n_tok] = la + lb;
	*out = R->n_tok++;
	*is_new = 1;
	return 0;
}

static int apply_merge(struct trainer_run *R, uint32_t pid, uint32_t c)
{
	uint32_t a = R->pairs[pid].a, b = R->pairs[pid].b;
	R->stamp++;
	R->n_touched = 0;
	/* The list may grow while we walk it (a pair can neighbour itself),
	 * so take it away first. */
	uint32_t *occ = R->pairs[pid].occ, n_occ = R->pairs[pid].n_occ;
	R->pairs[pid].occ = NULL;
	R->pairs[pid].n_occ = R->pairs[pid].cap_occ = 0;
	int rc = 0;
	for (uint32_t k = 0; k < n_occ && !rc; k++) {
		struct word *w = &R->words[occ[k]];
		if (w->stamp == R->stamp)
			continue;
		w->stamp = R->stamp;
		int64_t cnt = (int64_t)w->count;
		uint32_t o = 0;
		for (uint32_t i = 0; i < w->n && !rc; i++) {
			if (i + 1 < w->n && w->sym[i] == a && w->sym[i + 1] == b) {
				rc = pair_add(R, a, b, -cnt, occ[k]);
				if (!rc && o > 0)
					rc = pair_add(R, w->sym[o - 1], a, -cnt, occ[k]);
				if (!rc && o > 0)
					rc = pair_add(R, w->sym[o - 1], c, cnt, occ[k]);
				if (!rc && i + 2 < w->n)
					rc = pair_add(R, b, w->sym[i + 2], -cnt, occ[k]);
				if (!rc && i + 2 < w->n)
					rc = pair_add(R, c, w->sym[i + 2], cnt, occ[k]);
				w->sym[o++] = c;
				i++;
			} else {
				w->sym[o++] = w->sym[i];
			}
		}
		w->n = o;
	}
	free(occ);
	for (size_t k = 0; k < R->n_touched && !rc; k++)
		if (R->pairs[R->touched[k]].count > 0)
			rc = heap_push(R, R->touched[k]);
	return rc;
}

int nk_bpe_trainer_run(nk_bpe_trainer *t, uint32_t vocab_size,
		       uint64_t min_freq, nk_bpe_progress_fn fn, void *ctx,
		       nk_bpe **out)
{
	struct trainer_run R = {0};
	int rc = NK_ENOMEM;
	R.words = nk_calloc(t->pused + 1, sizeof *R.words);
	nk_grow((void **)&R.pairs, &R.cap_pairs, 1024, sizeof *R.pairs);
	R.pmask = 2047;
	R.pslot = nk_calloc(R.pmask + 1, sizeof *R.pslot);
	R.pidx = nk_calloc(R.pmask + 1, sizeof *R.pidx);
	R.cap_tok = R.cap_tlen = 512;
	R.tok = nk_calloc(R.cap_tok, sizeof *R.tok);
	R.tlen = nk_calloc(R.cap_tlen, sizeof *R.tlen);
	if (!R.words || !R.pairs || !R.pslot || !R.pidx || !R.tok || !R.tlen)
		goto out;
	for (int c = 0; c < 256; c++) {
		if (!(R.tok[c] = nk_malloc(1)))
			goto out;
		R.tok[c][0] = (unsigned char)c;
		R.tlen[c] = 1;
	}
	R.n_tok = 256;
	/* Words in first-seen (arena) order, so nothing depends on hashing. */
	for (size_t i = 0; i < t->pused; i++) {
		const struct piece *q = &t->piece[i];
		struct word *w = &R.words[R.n_words++];
		w->n = q->len;
		w->count = q->count;
		if (!(w->sym = nk_malloc((size_t)w->n * sizeof *w->sym)))
			goto out;
		for (uint32_t k = 0; k < w->n; k++)
			w->sym[k] = t->arena[q->off + k];
	}
	R.stamp = 1;
	for (size_t i = 0; i < R.n_words; i++) {
		struct word *w = &R.words[i];
		w->stamp = 0;
		for (uint32_t k = 0; k + 1 < w->n; k++)
			if ((rc = pair_add(&R, w->sym[k], w->sym[k + 1],
					   (int64_t)w->count, (uint32_t)i)))
				goto out;
	}
	for (size_t k = 0; k < R.n_pairs; k++)
		if ((rc = heap_push(&R, (uint32_t)k)))
			goto out;
	uint32_t done = 0, want = vocab_size > 256 ? vocab_size - 256 : 0;
	while (R.n_tok < vocab_size && R.hn) {
		struct hent top = heap_pop(&R);
		struct pair *p = &R.pairs[top.pair];
		if (top.count != p->count || p->count <= 0)
			continue;
		if ((uint64_t)p->count < min_freq)
			break;
		uint32_t c;
		int is_new;
		if ((rc = token_for(&R, p->a, p->b, &c, &is_new)) ||
		    (rc = apply_merge(&R, top.pair, c)))
			goto out;
		R.pairs[top.pair].count = 0;
		if (is_new && fn && (++done & 63) == 0)
			fn(ctx, done, want);
	}
	if (fn)
		fn(ctx, R.n_tok - 256, want);
	rc = nk_bpe_build(out, (const unsigned char *const *)R.tok, R.tlen,
			  R.n_tok, t->re ? NK_PRETOK_NONE : t->kind);
	if (!rc && t->re &&
	    (rc = nk_bpe_set_regex(*out, nk_pretok_re_pattern(t->re)))) {
		nk_bpe_free(*out);
		*out = NULL;
	}
out:
	for (size_t i = 0; i < R.n_words; i++)
		free(R.words[i].sym);
	free(R.words);
	for (size_t k = 0; k < R.n_pairs; k++)
		free(R.pairs[k].occ);
	free(R.pairs);
	free(R.pslot);
	free(R.pidx);
	for (uint32_t k = 0; k < R.n_tok; k++)
		free(R.tok[k]);
	free(R.tok);
	free(R.tlen);
	free(R.heap);
	free(R.touched);
	return rc;
}
