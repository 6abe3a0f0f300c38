/* bpe_train.c - learning a byte-level BPE vocabulary.
 *
 * The text is pre-tokenized and identical pieces are counted once, so a
 * corpus becomes a few hundred thousand (piece, count) words.  Every word
 * is a sequence of token ids, initially its bytes; merge_pairs.c counts
 * the pairs and merges them.
 *
 * Deterministic ties: the higher count wins; among equal counts, the pair
 * whose left token's bytes are lexicographically smaller, then the right
 * token's bytes.  A merge whose bytes already form a token reuses it.
 */
#include "text/bpe.h"

#include "core/base.h"
#include "text/merge_pairs.h"
#include "text/pretok.h"

#include <stdlib.h>
#include <string.h>

struct nk_bpe_trainer {
	int kind;
	nk_pretok_re *re;          /* kind NK_PRETOK_REGEX */
	nk_pretok_matcher *m;
	struct nk_mp_pieces P;     /* the pre-tokenized pieces, counted */
};

nk_bpe_trainer *nk_bpe_trainer_new(int kind)
{
	nk_bpe_trainer *t = nk_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->kind = kind;
	if (nk_mp_pieces_init(&t->P)) {
		free(t);
		return NULL;
	}
	return t;
}

void nk_bpe_trainer_free(nk_bpe_trainer *t)
{
	if (!t)
		return;
	nk_mp_pieces_free(&t->P);
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

size_t nk_bpe_trainer_pieces(const nk_bpe_trainer *t) { return t->P.pused; }

static int piece_add(nk_bpe_trainer *t, const unsigned char *s, size_t n)
{
	/* the BPE trainer's own bound on one piece (the shared counter
	 * bounds only the total) */
	if (n > UINT32_MAX / 2)
		return nk_error(NK_ERANGE, "training text too large");
	return nk_mp_pieces_add(&t->P, s, n);
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

/* ---- the merge loop (merge_pairs.c) ---- */

/* The tokens made so far, their bytes by id. */
struct tokens {
	unsigned char **tok;
	uint32_t *tlen;
	uint32_t n_tok;
	size_t cap_tok, cap_tlen;
};

/* The tie rule among equal counts: the pair whose left token's bytes
 * are lexicographically smaller, then the right token's bytes. */
static int tie(const void *ctx, const struct nk_mp_pair *p,
	       const struct nk_mp_pair *q)
{
	const struct tokens *T = ctx;
	for (int side = 0; side < 2; side++) {
		uint32_t s = side ? p->b : p->a, t = side ? q->b : q->a;
		if (s == t)
			continue;
		uint32_t ls = T->tlen[s], lt = T->tlen[t];
		int c = memcmp(T->tok[s], T->tok[t], ls < lt ? ls : lt);
		if (c)
			return c < 0;
		return ls < lt;
	}
	return p < q;
}

/* Finds the token with these bytes among those made so far, or adds it. */
static int token_for(struct tokens *R, uint32_t a, uint32_t b,
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

int nk_bpe_trainer_run(nk_bpe_trainer *t, uint32_t vocab_size,
		       uint64_t min_freq, nk_bpe_progress_fn fn, void *ctx,
		       nk_bpe **out)
{
	struct tokens R = {0};
	struct nk_mp M;
	int rc = nk_mp_init(&M, t->P.pused, tie, &R);
	R.cap_tok = R.cap_tlen = 512;
	R.tok = nk_calloc(R.cap_tok, sizeof *R.tok);
	R.tlen = nk_calloc(R.cap_tlen, sizeof *R.tlen);
	if (rc || !R.tok || !R.tlen) {
		rc = NK_ENOMEM;
		goto out;
	}
	rc = NK_ENOMEM;
	for (int c = 0; c < 256; c++) {
		if (!(R.tok[c] = nk_malloc(1)))
			goto out;
		R.tok[c][0] = (unsigned char)c;
		R.tlen[c] = 1;
	}
	R.n_tok = 256;
	/* Words in first-seen (arena) order, so nothing depends on hashing. */
	for (size_t i = 0; i < t->P.pused; i++) {
		const struct nk_mp_piece *q = &t->P.piece[i];
		struct nk_mp_word *w = &M.words[M.n_words++];
		w->n = q->len;
		w->count = q->count;
		if (!(w->sym = nk_malloc((size_t)w->n * sizeof *w->sym)))
			goto out;
		for (uint32_t k = 0; k < w->n; k++)
			w->sym[k] = t->P.arena[q->off + k];
	}
	if ((rc = nk_mp_count(&M)))
		goto out;
	uint32_t done = 0, want = vocab_size > 256 ? vocab_size - 256 : 0;
	uint32_t pid;
	while (R.n_tok < vocab_size && nk_mp_next(&M, min_freq, &pid)) {
		uint32_t c;
		int is_new;
		if ((rc = token_for(&R, M.pairs[pid].a, M.pairs[pid].b, &c,
				    &is_new)) ||
		    (rc = nk_mp_apply(&M, pid, c)))
			goto out;
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
	nk_mp_free(&M);
	for (uint32_t k = 0; k < R.n_tok; k++)
		free(R.tok[k]);
	free(R.tok);
	free(R.tlen);
	return rc;
}
