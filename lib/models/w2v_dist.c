/* w2v_dist.c - word2vec over the ranks of an MPI job (w2v.h,
 * nk_w2v_train_dist): pWord2Vec's data parallelism, each rank on its
 * share of the corpus, the models merged every so many words. */
#include "models/w2v.h"
#include "core/base.h"
#include "core/dist.h"
#include "core/rng.h"

#include <stdlib.h>
#include <string.h>

/* The first sentence start at or after p in ids[0..n). */
static size_t sentence_start(const nk_w2v_corpus *c, size_t p)
{
	while (p > 0 && p < c->n && c->ids[p - 1] != NK_W2V_EOS)
		p++;
	return p;
}

/* Where piece p of P starts (P: the end). */
static size_t piece_at(const nk_w2v_corpus *c, uint64_t p, uint64_t P)
{
	return sentence_start(c, (size_t)((unsigned __int128)c->n * p / P));
}

static uint64_t count_words(const nk_w2v_corpus *c, size_t lo, size_t hi)
{
	uint64_t k = 0;
	for (size_t i = lo; i < hi; i++)
		k += c->ids[i] != NK_W2V_EOS;
	return k;
}

/* The ranks' models become one: the model of the last synchronisation
 * plus the SUM of every rank's change since (its updates from its share
 * of the words), as if the words had been trained one share after the
 * other, the changes summed in rank order (nk_dist_sum) so that every
 * rank holds the same bytes after.  Averaging the models instead
 * (pWord2Vec's Allreduce and divide by N) would scale every update by
 * 1/N: N ranks would learn like one at a rate N times lower, and lose
 * accuracy at the same number of epochs.  Word2vec's updates are sparse
 * (a rank touches the rows of its words and its negative samples), so
 * the sum is mostly the one rank's change where one rank touched a row:
 * the lock-free (Hogwild) threads' reasoning, across processes. */
struct sync {
	float *w[3];    /* the model's arrays */
	float *at[3];   /* their values at the last synchronisation */
	size_t n;
};

/* Merges the first n values of each array (the rows of the most frequent
 * words: the vocabulary is sorted by count). */
static int merge(struct sync *s, size_t n)
{
	for (int k = 0; k < 3; k++) {
		if (!s->w[k])
			continue;
		float *w = s->w[k], *a = s->at[k];
		for (size_t i = 0; i < n; i++)
			w[i] -= a[i];
		int rc = nk_dist_sum(w, n);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++)
			a[i] = w[i] += a[i];
	}
	return NK_OK;
}

/* pWord2Vec's schedule: the frequent words' rows change on every rank all
 * the time and are merged at every synchronisation, the rarer ones less
 * often: synchronisation s merges the first 2^z * NK_W2V_SYNC_ROWS rows,
 * z the trailing zero bits of s (all rows every so often, and at the end
 * of every epoch). */
static size_t sync_rows(uint64_t s, uint32_t V)
{
	uint64_t rows = NK_W2V_SYNC_ROWS;
	while (s && !(s & 1) && rows < V)
		rows <<= 1, s >>= 1;
	return rows < V ? (size_t)rows : V;
}

int nk_w2v_train_dist(nk_w2v *m, const nk_w2v_corpus *c, uint64_t sync_words,
		      nk_w2v_progress_fn fn, void *ctx)
{
	int N = nk_dist_size(), rank = nk_dist_rank(), rc;
	if (N == 1)
		return nk_w2v_train(m, c, fn, ctx);
	if (sync_words < 1)
		sync_words = 1;
	/* The ranks must hold models of one shape, to merge them, and one
	 * corpus, to cut it the same way (and so meet in every merge). */
	int same = nk_dist_same((int64_t)m->V << 20 ^ m->D ^
				(int64_t)!!m->wout << 62 ^ (int64_t)!!m->whs << 61);
	if (same == 1)
		same = nk_dist_same((int64_t)(c->n ^ c->words << 24) ^
				    m->o.epochs);
	rc = same == 1 ? NK_OK
		       : nk_error(NK_EINVAL, "word2vec: the ranks' models, "
				  "corpora or epochs differ");
	if ((rc = nk_dist_agree(rc)))
		return rc;
	/* Rank 0's initial model everywhere (the same seed made them equal;
	 * this makes sure). */
	size_t n = (size_t)m->V * (size_t)m->D;
	float *w[3] = {m->win, m->wout, m->whs};
	for (int k = 0; k < 3; k++)
		if (w[k] && (rc = nk_dist_agree(nk_dist_bcast(
				     w[k], n * sizeof(float), 0))))
			return rc;
	struct sync sy = {{m->win, m->wout, m->whs}, {NULL, NULL, NULL}, n};
	for (int k = 0; k < 3 && !rc; k++)
		if (w[k] && !(sy.at[k] = nk_malloc(n * sizeof(float))))
			rc = NK_ENOMEM;
		else if (w[k])
			memcpy(sy.at[k], w[k], n * sizeof(float));
	if ((rc = nk_dist_agree(rc)))
		goto out;
	/* The corpus in rounds x N pieces by position, cut at sentence
	 * starts; in round k rank r trains piece k N + r, so the ranks move
	 * through the corpus side by side, as one process would, each
	 * synchronisation covering N x sync_words words. */
	uint64_t rounds = (c->words + (uint64_t)N * sync_words - 1) /
			  ((uint64_t)N * sync_words);
	if (rounds < 1)
		rounds = 1;
	uint64_t P = rounds * (uint64_t)N, mine = 0;
	for (uint64_t k = 0; k < rounds; k++)
		mine += count_words(c, piece_at(c, k * N + rank, P),
				    piece_at(c, k * N + rank + 1, P));
	/* This rank's own random numbers: a share of its own. */
	nk_rng mix;
	nk_rng_seed(&mix, nk_rng_u64(&m->rng), (uint64_t)rank + 1);
	nk_rng saved = m->rng;
	m->rng = mix;
	nk_w2v_span sp = {.total = mine * (uint64_t)m->o.epochs};
	uint64_t done = 0, syncs = 0;
	for (int ep = 0; ep < m->o.epochs && !rc; ep++) {
		for (uint64_t k = 0; k < rounds && !rc; k++) {
			sp.lo = piece_at(c, k * N + rank, P);
			sp.hi = piece_at(c, k * N + rank + 1, P);
			if (sp.lo > sp.hi)
				sp.lo = sp.hi;
			sp.passes = 1;
			sp.epoch0 = ep;
			sp.base = done;
			rc = nk_w2v_train_span(m, c, &sp, fn, ctx);
			done += sp.done;
			size_t rows = k + 1 == rounds ? m->V
					: sync_rows(++syncs, m->V);
			if (!(rc = nk_dist_agree(rc)))
				rc = nk_dist_agree(merge(&sy, rows *
							 (size_t)m->D));
		}
	}
	m->rng = saved;
	if (rc)
		goto out;
	double d = (double)done;
	if ((rc = nk_dist_agree(nk_dist_sum_f64(&d, 1))))
		goto out;
	m->words_done += (uint64_t)d;
	m->epochs_done += m->o.epochs;
	m->alpha_now = sp.alpha;
	if (fn) {
		nk_w2v_progress p = {1.0, m->alpha_now, done, m->o.epochs,
				     m->o.threads};
		fn(ctx, &p);
	}
out:
	for (int k = 0; k < 3; k++)
		free(sy.at[k]);
	return rc;
}
