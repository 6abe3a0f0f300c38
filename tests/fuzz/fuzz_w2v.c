/* fuzz_w2v.c - the word-vector, analogy, similarity and vocabulary parsers.
 *
 * Every input is parsed as a word2vec vectors file (text or binary); when
 * that succeeds, the same bytes' second half is also run as a questions
 * file and a similarity file against the vectors, and as a vocabulary.
 * Invariants (a violation aborts):
 *   - parsed vectors are unit length or zero, and every word is found
 *     by its own bytes at an index whose word is equal;
 *   - the question counter and the full evaluation agree on success;
 *   - seen <= total and correct <= seen in every section;
 *   - Spearman's rho is NaN or within [-1, 1].
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "text/vocab.h"
#include "models/w2v.h"

#define REQUIRE(c)                                                            \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_w2v: %s:%d: %s\n", __FILE__,     \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

static const char fallback[] = "4 2\nman 1 0\nking 1 1\nwoman 0 1\nqueen 0 2\n";

static void run_text_parsers(const nk_w2v_vecs *w, const uint8_t *d, size_t n)
{
	nk_w2v_eval e;
	int64_t nq = nk_w2v_questions_check(d, n, "q");
	int rc = nk_w2v_eval_analogies(&e, w, d, n, "q", 3, 3, 1);
	REQUIRE((nq >= 0) == (rc == 0));
	if (rc == 0) {
		uint64_t total = 0;
		for (size_t i = 0; i < e.nsec; i++) {
			const nk_w2v_section *s = &e.sec[i];
			REQUIRE(s->seen <= s->total);
			REQUIRE(s->correct[0] <= s->seen && s->correct[1] <= s->seen);
			total += s->total;
		}
		REQUIRE(total == (uint64_t)nq);
		nk_w2v_eval_free(&e);
	}
	nk_w2v_simres r;
	if (nk_w2v_eval_similarity(&r, w, d, n, "s", 0) == 0)
		REQUIRE(isnan(r.spearman) ||
			(r.spearman >= -1 - 1e-9 && r.spearman <= 1 + 1e-9));
	nk_vocab v;
	REQUIRE(nk_vocab_init(&v, 0) == 0);
	if (nk_vocab_load_mem(&v, d, n, "v") == 0)
		for (uint32_t i = 0; i < v.n; i++)
			REQUIRE(nk_vocab_find(&v, v.words[i], strlen(v.words[i])) ==
				(int64_t)i);
	nk_vocab_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nk_w2v_vecs w;
	if (nk_w2v_vecs_parse(&w, data, size, "fuzz") == 0) {
		for (uint32_t i = 0; i < w.n; i++) {
			double s = 0;
			for (int j = 0; j < w.D; j++)
				s += (double)w.vec[(size_t)i * w.D + j] *
				     w.vec[(size_t)i * w.D + j];
			REQUIRE(s == 0 || fabs(s - 1) < 1e-3);
			int64_t k = nk_w2v_vecs_find(&w, w.words[i], 0);
			REQUIRE(k >= 0 && k <= (int64_t)i &&
				strcmp(w.words[k], w.words[i]) == 0);
		}
		run_text_parsers(&w, data + size / 2, size - size / 2);
		nk_w2v_vecs_free(&w);
	}
	/* The text parsers on the whole input, against fixed vectors. */
	REQUIRE(nk_w2v_vecs_parse(&w, fallback, sizeof fallback - 1, "f") == 0);
	run_text_parsers(&w, data, size);
	nk_w2v_vecs_free(&w);
	return 0;
}
