/* wordpiece_train.c - learning a WordPiece vocab.txt as HuggingFace
 * tokenizers' WordPieceTrainer does: BPE merges over the words of BERT's
 * basic tokenization, continuation pieces prefixed "##".  The rules and
 * the ids are in wordpiece.h.
 *
 * The pair counting and merging are merge_pairs.c's, which bpe_train.c
 * shares; the tie rule, what a merged token is and the alphabet are here.
 */
#include "text/wordpiece.h"

#include "core/base.h"
#include "core/hash.h"
#include "text/merge_pairs.h"
#include "text/wordpiece_impl.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct nk_wp_trainer {
	int lower, strip;
	struct nk_wp_words words;   /* scratch for one nk_wp_trainer_add */
	struct nk_mp_pieces P;      /* the words, counted */
};

nk_wp_trainer *nk_wp_trainer_new(int lower, int strip_accents)
{
	nk_wp_trainer *t = nk_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->lower = !!lower;
	t->strip = strip_accents < 0 ? !!lower : !!strip_accents;
	if (nk_mp_pieces_init(&t->P)) {
		free(t);
		return NULL;
	}
	return t;
}

void nk_wp_trainer_free(nk_wp_trainer *t)
{
	if (!t)
		return;
	nk_wp_words_free(&t->words);
	nk_mp_pieces_free(&t->P);
	free(t);
}

size_t nk_wp_trainer_words(const nk_wp_trainer *t) { return t->P.pused; }

int nk_wp_trainer_add(nk_wp_trainer *t, const unsigned char *text, size_t n)
{
	struct nk_wp_words *w = &t->words;
	w->n = w->n_buf = 0;
	int rc = nk_wp_basic(w, text, n, t->lower, t->strip);
	for (size_t k = 0; k < w->n && !rc; k++)
		rc = nk_mp_pieces_add(&t->P, w->buf + w->off[k], w->len[k]);
	return rc;
}

/* ---- the merge loop ---- */

struct run {
	/* tokens: text in an arena, by id; indexed by FNV-1a */
	char *tok;
	size_t n_tokb, cap_tokb;
	uint32_t *toff, *tlen;
	uint32_t n_tok;
	size_t cap_toff, cap_tlen;
	nk_idtab tindex;
};

static int32_t token_find(const struct run *R, const char *s, size_t n)
{
	nk_idprobe p = nk_idtab_probe(&R->tindex, nk_fnv1a(s, n));
	for (uint32_t id; (id = nk_idtab_next(&R->tindex, &p)) != NK_IDTAB_END;)
		if (R->tlen[id] == n && !memcmp(R->tok + R->toff[id], s, n))
			return (int32_t)id;
	return -1;
}

/* Adds a token (the caller knows it is new); its id in *id. */
static int token_add(struct run *R, const char *s, size_t n, uint32_t *id)
{
	int rc;
	if (R->n_tokb + n > UINT32_MAX)
		return nk_error(NK_ERANGE, "vocab too large");
	if (nk_grow((void **)&R->tok, &R->cap_tokb, R->n_tokb + n, 1) ||
	    nk_grow((void **)&R->toff, &R->cap_toff, (size_t)R->n_tok + 1,
		    sizeof *R->toff) ||
	    nk_grow((void **)&R->tlen, &R->cap_tlen, (size_t)R->n_tok + 1,
		    sizeof *R->tlen))
		return NK_ENOMEM;
	if ((rc = nk_idtab_put(&R->tindex, nk_fnv1a(s, n), R->n_tok)))
		return rc;
	memmove(R->tok + R->n_tokb, s, n);
	R->toff[R->n_tok] = (uint32_t)R->n_tokb;
	R->tlen[R->n_tok] = (uint32_t)n;
	R->n_tokb += n;
	*id = R->n_tok++;
	return 0;
}

/* Equal counts: the smaller (left id, right id) first, as HF's Merge
 * ordering. */
static int tie(const void *ctx, const struct nk_mp_pair *p,
	       const struct nk_mp_pair *q)
{
	(void)ctx;
	if (p->a != q->a)
		return p->a < q->a;
	return p->b < q->b;
}

/* The token a merge of a and b makes: a, then b without its "##". */
static int token_for(struct run *R, uint32_t a, uint32_t b, uint32_t *out,
		     int *is_new, char **scratch, size_t *cap)
{
	size_t la = R->tlen[a], lb = R->tlen[b], skip = 0;
	const char *tb = R->tok + R->toff[b];
	if (lb >= 2 && tb[0] == '#' && tb[1] == '#')
		skip = 2;
	if (nk_grow((void **)scratch, cap, la + lb, 1))
		return NK_ENOMEM;
	memcpy(*scratch, R->tok + R->toff[a], la);
	memcpy(*scratch + la, R->tok + R->toff[b] + skip, lb - skip);
	int32_t k = token_find(R, *scratch, la + lb - skip);
	*is_new = k < 0;
	if (k >= 0) {
		*out = (uint32_t)k;
		return 0;
	}
	return token_add(R, *scratch, la + lb - skip, out);
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

/* Sorts v and drops repeats; returns the new length. */
static size_t sort_unique(uint32_t *v, size_t n)
{
	size_t o = 0;
	if (n < 2)
		return n;
	qsort(v, n, sizeof *v, cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (!o || v[o - 1] != v[i])
			v[o++] = v[i];
	return o;
}

struct alphabet {
	uint32_t *head, *cont; /* code points, ascending */
	size_t n_head, n_cont;
	uint32_t head_id, cont_id; /* id of head[0], cont[0] */
};

/* The id of code point c as a word's first character or as "##c". */
static uint32_t char_id(const struct alphabet *A, uint32_t c, int inner)
{
	const uint32_t *v = inner ? A->cont : A->head;
	size_t lo = 0, hi = inner ? A->n_cont : A->n_head;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (inner ? A->cont_id : A->head_id) + (uint32_t)lo;
}

/* Specials, the alphabet by code point, "##c" by code point. */
static int initial_tokens(struct run *R, const nk_wp_trainer *t,
			  struct alphabet *A)
{
	int rc;
	uint32_t id;
	for (int k = 0; k < NK_WP_NSPECIAL; k++) {
		const char *s = nk_wp_special_name(k);
		if ((rc = token_add(R, s, strlen(s), &id)))
			return rc;
	}
	size_t cap_h = 0, cap_c = 0;
	for (size_t i = 0; i < t->P.pused; i++) {
		const unsigned char *s = t->P.arena + t->P.piece[i].off;
		size_t n = t->P.piece[i].len;
		if (nk_grow((void **)&A->head, &cap_h, A->n_head + n, sizeof *A->head) ||
		    nk_grow((void **)&A->cont, &cap_c, A->n_cont + n, sizeof *A->cont))
			return NK_ENOMEM;
		for (size_t j = 0; j < n;) {
			uint32_t c = 0;
			size_t k = nk_wp_utf8(s + j, n - j, &c);
			A->head[A->n_head++] = c;
			if (j)
				A->cont[A->n_cont++] = c;
			j += k ? k : 1;
		}
		/* keep the lists short on a large corpus */
		if (A->n_head > 4 * 65536 + cap_h / 2)
			A->n_head = sort_unique(A->head, A->n_head);
		if (A->n_cont > 4 * 65536 + cap_c / 2)
			A->n_cont = sort_unique(A->cont, A->n_cont);
	}
	A->n_head = sort_unique(A->head, A->n_head);
	A->n_cont = sort_unique(A->cont, A->n_cont);
	char buf[6];
	for (int pass = 0; pass < 2; pass++) {
		const uint32_t *v = pass ? A->cont : A->head;
		size_t nv = pass ? A->n_cont : A->n_head;
		if (pass)
			A->cont_id = R->n_tok;
		else
			A->head_id = R->n_tok;
		buf[0] = buf[1] = '#';
		for (size_t i = 0; i < nv; i++) {
			/* words are valid UTF-8, so v[i] is a scalar value */
			size_t k = (size_t)(pass ? 2 : 0);
			k += (size_t)utf8proc_encode_char((utf8proc_int32_t)v[i],
							  (utf8proc_uint8_t *)buf + k);
			if ((rc = token_add(R, buf, k, &id)))
				return rc;
		}
	}
	return 0;
}

static void run_free(struct run *R)
{
	free(R->tok);
	free(R->toff);
	free(R->tlen);
	nk_idtab_free(&R->tindex);
}

int nk_wp_trainer_run(nk_wp_trainer *t, uint32_t size, uint64_t min_freq,
		      nk_wp_progress_fn fn, void *ctx, char **vocab,
		      size_t *len)
{
	struct run R = {0};
	struct nk_mp M;
	struct alphabet A = {0};
	char *scratch = NULL;
	size_t scap = 0;
	int rc = NK_ENOMEM;
	*vocab = NULL;
	if (nk_mp_init(&M, t->P.pused, tie, NULL) ||
	    nk_idtab_init(&R.tindex, size > 64 ? size : 64))
		goto out;
	if ((rc = initial_tokens(&R, t, &A)))
		goto out;
	uint32_t base = R.n_tok;
	for (size_t i = 0; i < t->P.pused; i++) {
		const struct nk_mp_piece *q = &t->P.piece[i];
		const unsigned char *s = t->P.arena + q->off;
		struct nk_mp_word *w = &M.words[M.n_words++];
		w->count = q->count;
		rc = NK_ENOMEM;
		if (!(w->sym = nk_malloc((size_t)q->len * sizeof *w->sym)))
			goto out;
		for (size_t j = 0; j < q->len;) {
			uint32_t c = 0;
			size_t k = nk_wp_utf8(s + j, q->len - j, &c);
			w->sym[w->n++] = char_id(&A, c, j > 0);
			j += k ? k : 1;
		}
	}
	if ((rc = nk_mp_count(&M)))
		goto out;
	uint32_t want = size > base ? size - base : 0, pid;
	while (R.n_tok < size && nk_mp_next(&M, min_freq, &pid)) {
		uint32_t c;
		int is_new;
		if ((rc = token_for(&R, M.pairs[pid].a, M.pairs[pid].b, &c,
				    &is_new, &scratch, &scap)) ||
		    (rc = nk_mp_apply(&M, pid, c)))
			goto out;
		if (is_new && fn && ((R.n_tok - base) & 255) == 0)
			fn(ctx, R.n_tok - base, want);
	}
	if (fn)
		fn(ctx, R.n_tok - base, want);
	rc = NK_ENOMEM;
	size_t total = R.n_tokb + R.n_tok + 1;
	char *v = nk_malloc(total);
	if (!v)
		goto out;
	size_t o = 0;
	for (uint32_t k = 0; k < R.n_tok; k++) {
		memcpy(v + o, R.tok + R.toff[k], R.tlen[k]);
		o += R.tlen[k];
		v[o++] = '\n';
	}
	v[o] = 0;
	*vocab = v;
	if (len)
		*len = o;
	rc = 0;
out:
	nk_mp_free(&M);
	run_free(&R);
	free(A.head);
	free(A.cont);
	free(scratch);
	return rc;
}
