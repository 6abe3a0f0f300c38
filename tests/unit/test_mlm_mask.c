/* test_mlm_mask.c - BERT training instances and their stream format.
 *
 * The masking statistics are checked over more than a million tokens
 * against what create_pretraining_data.py's rule implies, with bounds of
 * five binomial standard deviations (a false alarm about once in 1.7
 * million runs per check); the uniformity of the random tokens and of the
 * chosen positions with chi-square bounds of df + 5 sqrt(2 df).  The
 * structure checks (types, [SEP] places, where B comes from, whole words)
 * hold for every instance.  Python's round() is the reference for the
 * number of predictions: its values at the ties are written out below.
 */
#include "check.h"

#include "core/base.h"
#include "core/rng.h"
#include "formats/mlm_instances.h"
#include "text/mlm_mask.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { PAD = 0, UNK = 1, CLS = 2, SEP = 3, MASK = 4, FIRST = 5 };

static void config(nk_mlm_config *cfg, uint32_t V)
{
	nk_mlm_config_default(cfg);
	cfg->V = V;
	cfg->pad = PAD;
	cfg->unk = UNK;
	cfg->cls = CLS;
	cfg->sep = SEP;
	cfg->mask = MASK;
	cfg->dupe_factor = 1;
}

static int within(double k, double n, double p)
{
	double sd = sqrt(n * p * (1 - p));
	return fabs(k - n * p) <= 5 * sd + 1e-9;
}

static double chi2_bound(double df)
{
	return df + 5 * sqrt(2 * df);
}

/* min(max_pred, max(1, round_half_even(n * 15 / 100))) in integers. */
static uint32_t rule(uint32_t n, uint32_t max_pred)
{
	uint32_t q = n * 15 / 100, r = n * 15 % 100;
	if (r > 50 || (r == 50 && (q & 1)))
		q++;
	if (q < 1)
		q = 1;
	return q < max_pred ? q : max_pred;
}

static int special(uint32_t id)
{
	return id < FIRST;
}

/* The instance's original ids (labels put back) into orig. */
static void original(const nk_mlm_instance *in, uint32_t *orig)
{
	memcpy(orig, in->ids, in->n * sizeof *orig);
	for (uint32_t k = 0; k < in->nmask; k++)
		orig[in->mpos[k]] = in->mlabel[k];
}

TEST(num_to_predict_rule)
{
	nk_mlm_config cfg;
	config(&cfg, 100);
	cfg.max_pred = 1000;
	/* round(n * 0.15) in Python 3 at the ties n = 10, 30, ... */
	static const uint32_t py[][2] = {
		{10, 2}, {30, 4}, {50, 8}, {70, 10}, {90, 14}, {110, 16},
		{130, 20}, {150, 22}, {170, 26}, {190, 28}, {390, 58},
	};
	for (size_t i = 0; i < sizeof py / sizeof py[0]; i++)
		CHECK(nk_mlm_num_to_predict(&cfg, py[i][0]) == py[i][1]);
	for (uint32_t n = 1; n <= 6000; n++)
		CHECK_MSG(nk_mlm_num_to_predict(&cfg, n) == rule(n, 1000),
			  "n %u: %u, expected %u", n,
			  nk_mlm_num_to_predict(&cfg, n), rule(n, 1000));
	cfg.max_pred = 20;
	CHECK(nk_mlm_num_to_predict(&cfg, 1) == 1);
	CHECK(nk_mlm_num_to_predict(&cfg, 128) == 19);
	CHECK(nk_mlm_num_to_predict(&cfg, 512) == 20);
}

/* Random documents of random sentences, ids in [FIRST, V), 2% [UNK]. */
static void random_corpus(nk_mlm_corpus *c, uint32_t V, int ndoc, int nsent,
			  int lo, int hi, uint64_t seed)
{
	nk_rng rng;
	uint32_t s[256];
	nk_rng_seed(&rng, seed, 7);
	for (int d = 0; d < ndoc; d++) {
		for (int j = 0; j < nsent; j++) {
			int n = lo + (int)nk_rng_below(&rng, hi - lo + 1);
			for (int i = 0; i < n; i++)
				s[i] = nk_rng_double(&rng) < 0.02 ? UNK :
				       FIRST + (uint32_t)nk_rng_below(&rng,
							V - FIRST);
			nk_mlm_corpus_add(c, s, n);
		}
		nk_mlm_corpus_add(c, NULL, 0);
	}
}

TEST(mask_statistics)
{
	enum { V = 1000, T = 128 };
	nk_mlm_corpus c = {0};
	random_corpus(&c, V, 3000, 20, 5, 40, 1);
	nk_mlm_config cfg;
	config(&cfg, V);
	cfg.T = T;
	nk_mlm_set set = {0};
	nk_mlm_stats st;
	CHECK(nk_mlm_build(&cfg, &c, &set, &st) == 0);
	static double hist[V], labels_r[V], pos[T];
	static uint32_t orig[T];
	memset(hist, 0, sizeof hist);
	memset(labels_r, 0, sizeof labels_r);
	memset(pos, 0, sizeof pos);
	double tokens = 0, chosen = 0, cm = 0, ck = 0, cr = 0, full = 0;
	int bad_count = 0, bad_special = 0, bad_order = 0;
	for (size_t i = 0; i < set.n; i++) {
		const nk_mlm_instance *in = &set.inst[i];
		original(in, orig);
		tokens += in->n;
		chosen += in->nmask;
		bad_count += in->nmask != rule(in->n, 20);
		CHECK(in->n <= T && orig[0] == CLS && orig[in->n - 1] == SEP);
		for (uint32_t k = 0; k < in->nmask; k++) {
			uint32_t p = in->mpos[k], l = in->mlabel[k];
			uint32_t now = in->ids[p];
			bad_special += special(l);
			bad_order += k && p <= in->mpos[k - 1];
			if (in->n == T)
				pos[p]++;
			if (now == MASK) {
				cm++;
			} else if (now == l) {
				ck++;
			} else {
				cr++;
				hist[now]++;
				labels_r[l]++;
			}
		}
		full += in->n == T;
	}
	printf("# mask_statistics: %zu instances, %.0f tokens, %.0f chosen "
	       "(%.4f), [MASK] %.4f, kept %.4f, random %.4f\n", set.n, tokens,
	       chosen, chosen / tokens, cm / chosen, ck / chosen, cr / chosen);
	CHECK(tokens >= 1e6);
	CHECK(bad_count == 0);
	CHECK(bad_special == 0);
	CHECK(bad_order == 0);
	CHECK(st.instances == set.n && st.masked == chosen &&
	      st.tokens == tokens);
	/* chosen fraction: round(0.15 n) per instance, capped at 20 */
	CHECK(fabs(chosen / tokens - 0.15) < 0.01);
	/* 80/10/10; a random draw may hit the label or [MASK] (1/V each) */
	CHECK_MSG(within(cm, chosen, 0.8 + 0.1 / V), "[MASK] %.0f of %.0f", cm,
		  chosen);
	CHECK_MSG(within(ck, chosen, 0.1 + 0.1 / V), "kept %.0f of %.0f", ck,
		  chosen);
	CHECK_MSG(within(cr, chosen, 0.1 * (V - 2) / V), "random %.0f of %.0f",
		  cr, chosen);
	/* random ids uniform over [0, V) less the label and [MASK] */
	double x2 = 0;
	for (int b = 0; b < V; b++) {
		if (b == MASK)
			continue;
		double e = (cr - labels_r[b]) / (V - 2);
		x2 += (hist[b] - e) * (hist[b] - e) / e;
	}
	printf("# random ids: chi2 %.1f over %d bins (bound %.1f)\n", x2,
	       V - 1, chi2_bound(V - 2));
	CHECK(x2 < chi2_bound(V - 2));
	CHECK(hist[PAD] > 0 && hist[CLS] > 0 && hist[SEP] > 0 &&
	      hist[UNK] > 0);
	/* chosen positions uniform over 1 .. T-2 in full-length instances */
	double per = 0;
	for (int p = 1; p < T - 1; p++)
		per += pos[p];
	CHECK(pos[0] == 0 && pos[T - 1] == 0);
	per /= T - 2;
	x2 = 0;
	for (int p = 1; p < T - 1; p++)
		x2 += (pos[p] - per) * (pos[p] - per) / per;
	printf("# positions: chi2 %.1f over %d bins (bound %.1f), %.0f "
	       "full-length instances\n", x2, T - 2, chi2_bound(T - 3), full);
	CHECK(x2 < chi2_bound(T - 3));
	nk_mlm_set_free(&set);
	nk_mlm_corpus_free(&c);
}

/* Documents of one-token sentences whose id says where they stand:
 * document d, sentence j is FIRST + 64 d + j.  Gathering stops exactly at
 * the target, so the first instance of a document shows its target. */
TEST(pairs_structure)
{
	enum { NDOC = 20000, NS = 60, T = 32 };
	const uint32_t V = FIRST + 64 * NDOC;
	nk_mlm_corpus c = {0};
	for (uint32_t d = 0; d < NDOC; d++) {
		for (uint32_t j = 0; j < NS; j++) {
			uint32_t id = FIRST + 64 * d + j;
			nk_mlm_corpus_add(&c, &id, 1);
		}
		nk_mlm_corpus_add(&c, NULL, 0);
	}
	nk_mlm_config cfg;
	config(&cfg, V);
	cfg.T = T;
	cfg.pairs = 1;
	nk_mlm_set set = {0};
	nk_mlm_stats st;
	CHECK(nk_mlm_build(&cfg, &c, &set, &st) == 0);
	uint32_t orig[T];
	double firsts = 0, short_first = 0, free_pairs = 0, free_random = 0;
	double tokens = 0, tlen[T] = {0};
	int bad = 0;
	for (size_t i = 0; i < set.n; i++) {
		const nk_mlm_instance *in = &set.inst[i];
		original(in, orig);
		tokens += in->n;
		uint32_t n = in->n, na = 0;
		while (na < n && in->types[na] == 0)
			na++;
		for (uint32_t k = na; k < n; k++)
			bad += in->types[k] != 1;
		/* [CLS] A [SEP] B [SEP] */
		bad += n > T || na < 3 || na > n - 2 || orig[0] != CLS ||
		       orig[na - 1] != SEP || orig[n - 1] != SEP;
		for (uint32_t k = 1; k < n - 1; k++)
			bad += k != na - 1 && special(orig[k]);
		if (bad)
			break;
		/* A and B each a run of one document */
		uint32_t a0 = orig[1] - FIRST, a1 = orig[na - 2] - FIRST;
		uint32_t b0 = orig[na] - FIRST, b1 = orig[n - 2] - FIRST;
		bad += a1 - a0 != na - 3 || b1 - b0 != n - na - 2 ||
		       a0 / 64 != a1 / 64 || b0 / 64 != b1 / 64;
		if (in->is_random_next)
			bad += b0 / 64 == a0 / 64;
		else
			bad += b0 != a1 + 1;
		/* B is random by force only after a document's last sentence */
		if (a1 % 64 != NS - 1) {
			free_pairs++;
			free_random += in->is_random_next;
		}
		if (a0 % 64 == 0 && !in->is_random_next) {
			firsts++;
			if (n < T) {
				short_first++;
				tlen[n - 3]++;
			}
		}
	}
	CHECK_MSG(bad == 0, "instance breaks the [CLS] A [SEP] B [SEP] layout");
	CHECK(st.trimmed == 0);   /* gathering stops exactly at the target */
	printf("# pairs_structure: %zu instances, %.0f tokens; random next "
	       "%.4f of %.0f free; short %.4f of %.0f first instances\n",
	       set.n, tokens, free_random / free_pairs, free_pairs,
	       short_first / firsts, firsts);
	CHECK(within(free_random, free_pairs, 0.5));
	/* short with 0.1, target uniform in [2, T-3]: T-3 does not show */
	CHECK(within(short_first, firsts, 0.1 * (T - 5.0) / (T - 4.0)));
	CHECK(within(st.short_docs, st.docs, 0.1));
	double x2 = 0, e = short_first / (T - 5);
	for (int t = 2; t < T - 3; t++)
		x2 += (tlen[t] - e) * (tlen[t] - e) / e;
	CHECK_MSG(x2 < chi2_bound(T - 6), "short targets chi2 %.1f", x2);
	nk_mlm_set_free(&set);
	nk_mlm_corpus_free(&c);
}

/* The statistics of Google's algorithm itself: scripts/mlm-google-stats.py
 * runs create_pretraining_data.py's create_instances_from_document (and
 * our one-segment variant of it) with Python's random over this corpus,
 * 400 seeds; its means and standard deviations per build are below.  Our
 * builds, 40 seeds, must agree within 5 standard errors. */
static void lcg_corpus(nk_mlm_corpus *c)
{
	uint64_t x = 12345;
	uint32_t s[200];
#define R() (x = x * 6364136223846793005ull + 1442695040888963407ull, x >> 33)
	for (int d = 0; d < 400; d++) {
		uint64_t ns = 1 + R() % 25;
		for (uint64_t j = 0; j < ns; j++) {
			uint64_t n = 1 + R() % 50;
			if (R() % 10 == 0)
				n = 60 + R() % 100;
			for (uint64_t k = 0; k < n; k++)
				s[k] = (uint32_t)(FIRST + R() % 1000);
			nk_mlm_corpus_add(c, s, n);
		}
		nk_mlm_corpus_add(c, NULL, 0);
	}
#undef R
}

TEST(google_reference)
{
	static const double py[2][5][2] = {
		/* one segment: instances, mean n, n == T, mean na, random */
		{{2296.8875, 27.504656}, {58.288529, 0.508162},
		 {0.794106, 0.017109}, {58.288529, 0.508162}, {0, 0}},
		/* pairs */
		{{3040.1125, 34.953529}, {61.917617, 0.206758},
		 {0.881644, 0.010174}, {30.163801, 0.183076},
		 {0.621988, 0.010374}},
	};
	static const char *name[5] = {"instances", "mean n", "n == T",
				      "mean na", "random next"};
	enum { RUNS = 40, T = 64 };
	nk_mlm_corpus c = {0};
	lcg_corpus(&c);
	CHECK(c.nids == 186811 && c.nsent == 5415);
	for (int pairs = 0; pairs < 2; pairs++) {
		double sum[5] = {0};
		for (int run = 0; run < RUNS; run++) {
			nk_mlm_config cfg;
			config(&cfg, FIRST + 1000);
			cfg.T = T;
			cfg.pairs = pairs;
			cfg.no_mask = 1;
			cfg.seed = 1000 + run;
			nk_mlm_set set = {0};
			CHECK(nk_mlm_build(&cfg, &c, &set, NULL) == 0);
			double v[5] = {(double)set.n, 0, 0, 0, 0};
			for (size_t i = 0; i < set.n; i++) {
				const nk_mlm_instance *in = &set.inst[i];
				uint32_t na = 0;
				while (na < in->n && in->types[na] == 0)
					na++;
				v[1] += in->n;
				v[2] += in->n == T;
				v[3] += na;
				v[4] += in->is_random_next;
			}
			for (int k = 0; k < 5; k++)
				sum[k] += k ? v[k] / set.n : v[k];
			nk_mlm_set_free(&set);
		}
		for (int k = 0; k < 5; k++) {
			double m = sum[k] / RUNS, ref = py[pairs][k][0];
			double se = py[pairs][k][1] * sqrt(1.0 / RUNS + 1.0 / 400);
			printf("# google_reference (%s) %-11s ours %.4f, "
			       "Google's %.4f (se %.4f)\n",
			       pairs ? "pairs" : "one segment", name[k], m, ref,
			       se);
			CHECK_MSG(fabs(m - ref) <= 5 * se + 1e-12,
				  "%s: %.4f, Google's %.4f", name[k], m, ref);
		}
	}
	nk_mlm_corpus_free(&c);
}

/* truncate_seq_pair: documents of one 100-token sentence, id = FIRST +
 * 100 d + k.  A is a whole sentence and B one of another document; the
 * longer loses a token, B on a tie, from the front or the back at random,
 * so 200 tokens end as A 15, B 14 for T = 32; one segment keeps 30. */
TEST(truncation)
{
	enum { NDOC = 2000, L = 100 };
	nk_mlm_corpus c = {0};
	uint32_t s[L];
	for (uint32_t d = 0; d < NDOC; d++) {
		for (uint32_t k = 0; k < L; k++)
			s[k] = FIRST + L * d + k;
		nk_mlm_corpus_add(&c, s, L);
		nk_mlm_corpus_add(&c, NULL, 0);
	}
	for (int pairs = 0; pairs < 2; pairs++) {
		nk_mlm_config cfg;
		config(&cfg, FIRST + L * NDOC);
		cfg.T = 32;
		cfg.pairs = pairs;
		cfg.no_mask = 1;
		nk_mlm_set set = {0};
		nk_mlm_stats st;
		CHECK(nk_mlm_build(&cfg, &c, &set, &st) == 0);
		CHECK(set.n == NDOC);
		double front = 0, trimmed = 0;
		int bad = 0;
		for (size_t i = 0; i < set.n; i++) {
			const nk_mlm_instance *in = &set.inst[i];
			uint32_t la = pairs ? 15 : 30;
			bad += in->nmask != 0 || in->n != (pairs ? 32u : 32u) ||
			       in->ids[la + 1] != SEP;
			/* each segment a run cut from its sentence */
			uint32_t a0 = (in->ids[1] - FIRST) % L;
			bad += in->ids[la] != in->ids[1] + la - 1;
			front += a0;
			trimmed += L - la;
			if (pairs) {
				uint32_t b0 = (in->ids[la + 2] - FIRST) % L;
				bad += in->ids[30] != in->ids[la + 2] + 13 ||
				       !in->is_random_next;
				front += b0;
				trimmed += L - 14;
			}
		}
		printf("# truncation (%s): %.4f of %.0f trimmed tokens from the "
		       "front\n", pairs ? "pairs" : "one segment",
		       front / trimmed, trimmed);
		CHECK(bad == 0);
		CHECK(st.trimmed == trimmed);
		CHECK(within(front, trimmed, 0.5));
		nk_mlm_set_free(&set);
	}
	nk_mlm_corpus_free(&c);
}

/* Word starts and continuations; a word never split by the masks. */
TEST(whole_word)
{
	enum { V = 600, T = 64 };
	static uint8_t cont[V];
	for (int i = FIRST; i < V; i++)
		cont[i] = i % 3 == 0;
	nk_mlm_corpus c = {0};
	random_corpus(&c, V, 1500, 10, 3, 30, 2);
	nk_mlm_config cfg;
	config(&cfg, V);
	cfg.T = T;
	cfg.pairs = 1;
	cfg.whole_word = 1;
	cfg.cont = cont;
	nk_mlm_set set = {0};
	CHECK(nk_mlm_build(&cfg, &c, &set, NULL) == 0);
	uint32_t orig[T];
	uint8_t hit[T];
	double got = 0, want = 0, multi = 0;
	int split = 0, over = 0, bad_special = 0;
	for (size_t i = 0; i < set.n; i++) {
		const nk_mlm_instance *in = &set.inst[i];
		original(in, orig);
		memset(hit, 0, sizeof hit);
		for (uint32_t k = 0; k < in->nmask; k++)
			hit[in->mpos[k]] = 1;
		/* a continuation right after a non-special token is in its
		 * word: both masked or neither */
		for (uint32_t p = 1; p < in->n; p++) {
			if (special(orig[p]) && hit[p])
				bad_special++;
			if (!special(orig[p]) && cont[orig[p]] &&
			    !special(orig[p - 1])) {
				split += hit[p] != hit[p - 1];
				multi += hit[p];
			}
		}
		uint32_t r = rule(in->n, 20);
		over += in->nmask > r;
		got += in->nmask;
		want += r;
	}
	printf("# whole_word: %zu instances, %.0f of %.0f predictions made, "
	       "%.0f continuation tokens masked\n", set.n, got, want, multi);
	CHECK(split == 0);
	CHECK(over == 0);
	CHECK(bad_special == 0);
	CHECK(multi > 1000);
	CHECK(got > 0.97 * want);
	nk_mlm_set_free(&set);
	nk_mlm_corpus_free(&c);
}

static int same_instance(const nk_mlm_instance *a, const nk_mlm_instance *b)
{
	return a->n == b->n && a->nmask == b->nmask &&
	       a->is_random_next == b->is_random_next &&
	       !memcmp(a->ids, b->ids, a->n * sizeof *a->ids) &&
	       !memcmp(a->types, b->types, a->n) &&
	       !memcmp(a->mpos, b->mpos, a->nmask * sizeof *a->mpos) &&
	       !memcmp(a->mlabel, b->mlabel, a->nmask * sizeof *a->mlabel);
}

static int same_set(const nk_mlm_set *a, const nk_mlm_set *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!same_instance(&a->inst[i], &b->inst[i]))
			return 0;
	return 1;
}

TEST(determinism_and_dupes)
{
	enum { V = 500 };
	nk_mlm_corpus c = {0};
	random_corpus(&c, V, 200, 8, 2, 20, 3);
	nk_mlm_config cfg;
	config(&cfg, V);
	cfg.T = 48;
	cfg.pairs = 1;
	nk_mlm_set a = {0}, b = {0}, d = {0};
	CHECK(nk_mlm_build(&cfg, &c, &a, NULL) == 0);
	CHECK(nk_mlm_build(&cfg, &c, &b, NULL) == 0);
	cfg.seed = 99;
	CHECK(nk_mlm_build(&cfg, &c, &d, NULL) == 0);
	CHECK(a.n > 100 && same_set(&a, &b));
	CHECK(!same_set(&a, &d));
	nk_mlm_set_free(&a);
	nk_mlm_set_free(&b);
	nk_mlm_set_free(&d);
	nk_mlm_corpus_free(&c);

	/* Dupes: one-token sentences, no short targets, one segment: the
	 * sequences repeat exactly, each pass with masks of its own. */
	uint32_t id;
	for (int dd = 0; dd < 50; dd++) {
		for (int j = 0; j < 200; j++) {
			id = FIRST + (uint32_t)(dd * 200 + j);
			nk_mlm_corpus_add(&c, &id, 1);
		}
		nk_mlm_corpus_add(&c, NULL, 0);
	}
	config(&cfg, FIRST + 50 * 200);
	cfg.T = 42;
	cfg.pairs = 0;
	cfg.short_seq_prob = 0;
	cfg.dupe_factor = 3;
	CHECK(nk_mlm_build(&cfg, &c, &a, NULL) == 0);
	CHECK(a.n == 3 * 50 * 5);
	/* group by first original token: each sequence thrice */
	int differ = 0, groups = 0;
	for (size_t i = 0; i < a.n; i++) {
		nk_mlm_instance *x = &a.inst[i];
		uint32_t ox[42], oy[42];
		original(x, ox);
		for (size_t j = i + 1; j < a.n; j++) {
			nk_mlm_instance *y = &a.inst[j];
			original(y, oy);
			if (y->n != x->n || memcmp(ox, oy, x->n * 4))
				continue;
			groups++;
			differ += x->nmask != y->nmask ||
				  memcmp(x->mpos, y->mpos, x->nmask * 4);
		}
	}
	printf("# dupes: %d pairs of copies, %d with different positions\n",
	       groups, differ);
	CHECK(groups == 250 * 3);
	CHECK(differ >= 0.9 * groups);

	/* dynamic masking: unmask restores, a new mask differs */
	nk_rng rng;
	nk_rng_seed(&rng, 5, 0);
	nk_mlm_instance *x = &a.inst[0];
	uint32_t o0[42], o1[42], p0[20];
	original(x, o0);
	uint32_t nm0 = x->nmask;
	memcpy(p0, x->mpos, nm0 * 4);
	nk_mlm_unmask(x);
	CHECK(x->nmask == 0 && !memcmp(x->ids, o0, x->n * 4));
	int changed = 0;
	for (int t = 0; t < 5; t++) {
		CHECK(nk_mlm_mask(&cfg, &rng, x) == 0);
		CHECK(x->nmask == rule(x->n, 20));
		original(x, o1);
		CHECK(!memcmp(o1, o0, x->n * 4));
		changed += x->nmask != nm0 || memcmp(x->mpos, p0, nm0 * 4);
		nk_mlm_unmask(x);
	}
	CHECK(changed >= 4);
	x->ids[3] = cfg.V;  /* out of range: refused */
	CHECK(nk_mlm_mask(&cfg, &rng, x) == NK_ERANGE);
	nk_mlm_set_free(&a);
	nk_mlm_corpus_free(&c);

	config(&cfg, V);
	cfg.T = 4;
	cfg.pairs = 1;
	CHECK(nk_mlm_config_check(&cfg) == NK_EINVAL);
	config(&cfg, V);
	cfg.mask = NK_MLM_NONE;
	CHECK(nk_mlm_config_check(&cfg) == NK_EINVAL);
	config(&cfg, V);
	cfg.whole_word = 1;
	CHECK(nk_mlm_config_check(&cfg) == NK_EINVAL);
}

/* ---- the stream --------------------------------------------------------- */

static void build_small(nk_mlm_set *s, int pairs)
{
	nk_mlm_corpus c = {0};
	random_corpus(&c, 300, 30, 6, 2, 15, 4);
	nk_mlm_config cfg;
	config(&cfg, 300);
	cfg.T = 40;
	cfg.pairs = pairs;
	nk_mlm_build(&cfg, &c, s, NULL);
	nk_mlm_corpus_free(&c);
}

static char *write_mem(const nk_mlm_set *s, int binary, size_t *size)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, size);
	nk_mlm_writer *w = nk_mlm_writer_open(fp, binary);
	for (size_t i = 0; i < s->n; i++)
		if (nk_mlm_writer_put(w, &s->inst[i]))
			abort();
	if (nk_mlm_writer_close(w))
		abort();
	fclose(fp);
	return buf;
}

/* Reads all of a stream; the result code of the last call. */
static int read_mem(const void *data, size_t size, uint32_t V, uint32_t T,
		    nk_mlm_set *s)
{
	nk_mlm_reader *r = nk_mlm_reader_open_mem(data, size, "t");
	nk_mlm_reader_set_limits(r, V, T);
	nk_mlm_instance in;
	int rc;
	while ((rc = nk_mlm_reader_next(r, &in)) == 1)
		nk_mlm_set_add(s, &in, 0);
	nk_mlm_reader_close(r);
	return rc;
}

TEST(stream_roundtrip)
{
	nk_mlm_set s = {0};
	build_small(&s, 1);
	CHECK(s.n > 50);
	for (int binary = 0; binary < 2; binary++) {
		size_t size;
		char *buf = write_mem(&s, binary, &size);
		nk_mlm_set back = {0};
		CHECK(read_mem(buf, size, 300, 40, &back) == 0);
		CHECK(same_set(&s, &back));
		nk_mlm_set_free(&back);
		/* through a file, gzip-compressed */
		char path[] = "/tmp/test_mlm_XXXXXX";
		int fd = mkstemp(path);
		CHECK(fd >= 0);
		close(fd);
		gzFile gz = gzopen(path, "wb");
		gzwrite(gz, buf, (unsigned)size);
		gzclose(gz);
		CHECK(nk_mlm_read_all(path, 300, 40, 20, &back) == 0);
		CHECK(same_set(&s, &back));
		CHECK(back.n && back.inst[0].mpos + 20 <= back.inst[0].mlabel);
		nk_mlm_set_free(&back);
		unlink(path);
		if (!binary) {
			/* a text line as the man page shows it */
			const nk_mlm_instance *in = &s.inst[0];
			uint32_t na = 0;
			while (in->types[na] == 0)
				na++;
			char head[32];
			snprintf(head, sizeof head, "%d\t%u\t%u ",
				 in->is_random_next, na, CLS);
			CHECK(!strncmp(buf, head, strlen(head)));
		} else {
			CHECK(!memcmp(buf, "NKMI\1\0", 6));
			/* concatenated binary streams read as one */
			char *two = malloc(2 * size);
			memcpy(two, buf, size);
			memcpy(two + size, buf, size);
			CHECK(read_mem(two, 2 * size, 0, 0, &back) == 0);
			CHECK(back.n == 2 * s.n);
			nk_mlm_set_free(&back);
			free(two);
		}
		free(buf);
	}
	/* one segment, and an unmasked instance */
	nk_mlm_set one = {0};
	build_small(&one, 0);
	nk_mlm_unmask(&one.inst[0]);
	size_t size;
	char *buf = write_mem(&one, 0, &size);
	nk_mlm_set back = {0};
	CHECK(read_mem(buf, size, 300, 40, &back) == 0 && same_set(&one, &back));
	CHECK(back.inst[0].nmask == 0 && back.inst[1].nmask > 0);
	nk_mlm_set_free(&back);
	free(buf);
	/* the writer refuses what the format cannot say */
	nk_mlm_instance *in = &one.inst[1];
	FILE *fp = fopen("/dev/null", "w");
	nk_mlm_writer *w = nk_mlm_writer_open(fp, 1);
	uint32_t keep = in->mpos[0];
	in->mpos[0] = in->n;
	CHECK(nk_mlm_writer_put(w, in) == NK_ERANGE);
	in->mpos[0] = keep;
	in->types[0] = 1;
	CHECK(nk_mlm_writer_put(w, in) == NK_EINVAL);
	in->types[0] = 0;
	CHECK(nk_mlm_writer_put(w, in) == 0);
	CHECK(nk_mlm_writer_close(w) == 0);
	fclose(fp);
	nk_mlm_set_free(&one);
	nk_mlm_set_free(&s);
}

/* The example of nnkit-mlm(5), its bytes and CRC made by Python's zlib. */
TEST(stream_bytes)
{
	static const unsigned char want[80] = {
		0x4e, 0x4b, 0x4d, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		6, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0,
		9, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 1, 0, 0,
		0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0,
		0x21, 0x1a, 0x3f, 0x21,
	};
	uint32_t ids[6] = {2, 7, 4, 3, 9, 3}, pos = 2, label = 258;
	uint8_t types[6] = {0, 0, 0, 0, 1, 1};
	nk_mlm_instance in = {6, ids, types, 1, &pos, &label, 0};
	nk_mlm_set s = {&in, 1, 1};
	size_t size;
	char *buf = write_mem(&s, 1, &size);
	CHECK(size == 80 && !memcmp(buf, want, 80));
	free(buf);
	buf = write_mem(&s, 0, &size);
	const char *line = "0\t4\t2 7 4 3 9 3\t2\t258\n";
	CHECK(size == strlen(line) && !memcmp(buf, line, size));
	free(buf);
	nk_mlm_set back = {0};
	CHECK(read_mem(want, 80, 259, 6, &back) == 0);
	CHECK(back.n == 1 && same_instance(&back.inst[0], &in));
	nk_mlm_set_free(&back);
	CHECK(read_mem(want, 80, 258, 6, &back) == -NK_ERANGE);
	CHECK(strstr(nk_last_error(), "t: record at byte offset 16: label 1 "
		     "(id 258) out of range") != NULL);
	nk_mlm_set_free(&back);
	CHECK(read_mem(want, 80, 259, 5, &back) == -NK_ERANGE);
	CHECK(strstr(nk_last_error(), "6 tokens (allowed: 1 to 5)") != NULL);
	nk_mlm_set_free(&back);
}

TEST(truncated_binary)
{
	nk_mlm_set s = {0};
	build_small(&s, 1);
	size_t size;
	char *buf = write_mem(&s, 1, &size);
	int undetected = 0, named = 0;
	for (size_t cut = 1; cut < size; cut++) {
		nk_mlm_set back = {0};
		int rc = read_mem(buf, cut, 0, 0, &back);
		undetected += rc >= 0;
		if (cut > 20 && strstr(nk_last_error(), "truncated"))
			named++;
		nk_mlm_set_free(&back);
	}
	CHECK_MSG(undetected == 0, "%d cuts read as whole streams", undetected);
	CHECK(named == (int)(size - 21));
	/* a flipped bit in an id: the checksum */
	buf[40] ^= 4;
	nk_mlm_set back = {0};
	CHECK(read_mem(buf, size, 0, 0, &back) == -NK_ECHECKSUM);
	CHECK(strstr(nk_last_error(), "checksum mismatch") != NULL);
	nk_mlm_set_free(&back);
	buf[40] ^= 4;
	buf[4] = 2;  /* a newer version */
	CHECK(read_mem(buf, size, 0, 0, &back) == -NK_EVERSION);
	nk_mlm_set_free(&back);
	free(buf);
	nk_mlm_set_free(&s);
}

TEST(bad_text)
{
	static const struct {
		const char *text;
		uint32_t V, T;
		int rc;
		const char *msg;
	} rows[] = {
		{"0\t3\t2 5 3\t1\t5\n", 100, 0, 0, NULL},
		{"0\t3\t2 5 3\t1\t5\r\n1\t3\t2 5 3 9 3\t\t", 100, 0, 0, NULL},
		{"0\t3\t2 5 3\t1\t5\n0\t3\t2 5 3\t7\t5\n", 100, 0, -NK_ERANGE,
		 "t:2: masked position 1 is 7, beyond the instance's 3 tokens"},
		{"0\t3\t2 5 3\t\t\n\n", 100, 0, -NK_EFORMAT,
		 "t:2:1: expected the random-next flag"},
		{"0\t3\t2 500 3\t\t\n", 100, 0, -NK_ERANGE,
		 "t:1: token 2 (id 500) out of range for vocabulary size 100"},
		{"0\t3\t2 5 3\t1\t100\n", 100, 0, -NK_ERANGE,
		 "t:1: label 1 (id 100) out of range for vocabulary size 100"},
		{"2\t3\t2 5 3\t\t\n", 100, 0, -NK_EFORMAT,
		 "t:1:1: random-next flag is not 0 or 1"},
		{"0 3\t2 5 3\t\t\n", 100, 0, -NK_EFORMAT,
		 "t:1:2: expected a tab after field 1, found ' '"},
		{"0\t3\t2  5 3\t\t\n", 100, 0, -NK_EFORMAT,
		 "t:1:7: expected a decimal number, found ' '"},
		{"0\t9\t2 5 3\t\t\n", 100, 0, -NK_EFORMAT,
		 "t:1:3: 9 type-0 tokens (field 2) of 3"},
		{"0\t3\t2 5 3\t1 2\t5\n", 100, 0, -NK_EFORMAT,
		 "t:1:15: 1 labels for 2 masked positions"},
		{"0\t3\t2 5 3\t2 1\t5 6\n", 100, 0, -NK_EFORMAT,
		 "t:1: masked positions not ascending (1 after 2)"},
		{"0\t3\t2 5 3\t\t\n", 100, 2, -NK_ERANGE,
		 "t:1:9: more than 2 tokens in field 3"},
		{"0\t3\t\t\t\n", 100, 0, -NK_EFORMAT,
		 "t:1:5: expected token ids in field 3"},
		{"0\t3\t2 5 3\t\t\tx\n", 100, 0, -NK_EFORMAT,
		 "t:1:12: expected the end of the line after field 5, found a tab"},
		{"0\t3\t2 5 3\t\t99999999999\n", 100, 0, -NK_ERANGE,
		 "t:1:12: number does not fit 32 bits"},
		{"0\t3\t2 -5 3\t\t\n", 100, 0, -NK_EFORMAT,
		 "t:1:7: expected a decimal number, found '-'"},
		{"NKMX", 0, 0, -NK_EFORMAT, "t:1:1: expected the random-next"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		nk_mlm_set s = {0};
		int rc = read_mem(rows[i].text, strlen(rows[i].text), rows[i].V,
				  rows[i].T, &s);
		CHECK_MSG(rc == rows[i].rc, "row %zu: rc %d, expected %d (%s)",
			  i, rc, rows[i].rc, nk_last_error());
		if (rows[i].msg)
			CHECK_MSG(strstr(nk_last_error(), rows[i].msg) != NULL,
				  "row %zu: '%s', expected '%s'", i,
				  nk_last_error(), rows[i].msg);
		nk_mlm_set_free(&s);
	}
	/* a token stream read as a corpus: blank lines end documents */
	char path[] = "/tmp/test_mlm_XXXXXX";
	int fd = mkstemp(path);
	const char *tok = "5 6 7\n8 9\n\n\n10 11\n";
	CHECK(write(fd, tok, strlen(tok)) == (ssize_t)strlen(tok));
	close(fd);
	nk_mlm_corpus c = {0};
	CHECK(nk_mlm_corpus_read(&c, path, 100) == 0);
	CHECK(c.ndoc == 2 && c.nsent == 3 && c.nids == 7);
	CHECK(c.doc[1] == 2 && c.sent[2] == 5);
	nk_mlm_corpus_free(&c);
	CHECK(nk_mlm_corpus_read(&c, path, 10) == NK_ERANGE);
	CHECK(strstr(nk_last_error(), ":5:") != NULL);
	nk_mlm_corpus_free(&c);
	unlink(path);
}

int main(void)
{
	RUN(num_to_predict_rule);
	RUN(mask_statistics);
	RUN(pairs_structure);
	RUN(truncation);
	RUN(google_reference);
	RUN(whole_word);
	RUN(determinism_and_dupes);
	RUN(stream_roundtrip);
	RUN(stream_bytes);
	RUN(truncated_binary);
	RUN(bad_text);
	return nk_test_exit();
}
