/* charlm_sample.c - generating text from a language model, one symbol at
 * a time (charlm.h). */
#include "models/charlm.h"
#include "core/base.h"
#include "core/rng.h"

#include <stdlib.h>

enum { FEED_CHUNK = 64 }; /* a prime runs through the model 64 steps at once */

struct nk_charlm_sampler {
	const nk_charlm *m;
	nk_charlm_run *run;
	nk_rng rng;
	float temperature;
	int top_k;
	float *work;        /* (2V) for nk_charlm_pick */
	uint32_t pending;   /* the last draw, not yet fed */
	int has_pending;
};

nk_charlm_sampler *nk_charlm_sampler_new(const nk_charlm *m, uint64_t seed,
					 float temperature, int top_k)
{
	nk_charlm_sampler *s = nk_calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->m = m;
	s->temperature = temperature;
	s->top_k = top_k > m->cfg.V ? m->cfg.V : top_k;
	nk_rng_seed(&s->rng, seed, 0);
	if (!(s->run = nk_charlm_run_new(m, 1, FEED_CHUNK, 0, 0)) ||
	    !(s->work = nk_calloc((size_t)m->cfg.V * 2, sizeof(float)))) {
		nk_charlm_sampler_free(s);
		return NULL;
	}
	return s;
}

void nk_charlm_sampler_free(nk_charlm_sampler *s)
{
	if (!s)
		return;
	nk_charlm_run_free(s->run);
	free(s->work);
	free(s);
}

void nk_charlm_sampler_feed(nk_charlm_sampler *s, const uint32_t *ids,
			    size_t n)
{
	for (size_t i = 0; i < n; i += FEED_CHUNK) {
		int k = n - i < FEED_CHUNK ? (int)(n - i) : FEED_CHUNK;
		nk_charlm_forward(s->m, s->run, ids + i, NULL, k);
	}
	s->has_pending = 0;
}

uint32_t nk_charlm_sampler_next(nk_charlm_sampler *s)
{
	/* Feeding the previous draw here, not right after drawing it, spares
	 * the last symbol of a run a forward step nobody reads. */
	if (s->has_pending)
		nk_charlm_forward(s->m, s->run, &s->pending, NULL, 1);
	s->pending = nk_charlm_pick(nk_charlm_run_logits(s->run), s->m->cfg.V,
				    s->temperature, s->top_k,
				    nk_rng_double(&s->rng), s->work);
	s->has_pending = 1;
	return s->pending;
}
