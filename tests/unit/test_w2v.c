/* test_w2v.c - vocabulary, training, vector files and evaluation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"
#include "check.h"
#include "core/rng.h"
#include "text/vocab.h"
#include "formats/tokstream.h"
#include "formats/wfile.h"
#include "models/w2v.h"

/* ---- vocabulary ---------------------------------------------------------- */

TEST(vocab_count_sort_mincount)
{
	nk_vocab v;
	CHECK(nk_vocab_init(&v, 0) == 0);
	const char *text = "b a c a b a\nd\n";
	CHECK(nk_w2v_count_text(&v, text, strlen(text), "t") == 0);
	CHECK(v.n == 4 && v.total == 7);
	CHECK(nk_vocab_finish(&v, 2) == 0);
	CHECK(v.n == 2);
	CHECK(strcmp(v.words[0], "a") == 0 && v.counts[0] == 3);
	CHECK(strcmp(v.words[1], "b") == 0 && v.counts[1] == 2);
	CHECK(nk_vocab_find(&v, "b", 1) == 1);
	CHECK(nk_vocab_find(&v, "c", 1) == -1);
	CHECK(v.total == 5);
	nk_vocab_free(&v);
}

TEST(vocab_ties_by_bytes)
{
	nk_vocab v;
	CHECK(nk_vocab_init(&v, 0) == 0);
	const char *text = "zz yy xx zz yy xx";
	CHECK(nk_w2v_count_text(&v, text, strlen(text), "t") == 0);
	CHECK(nk_vocab_finish(&v, 1) == 0);
	CHECK(v.n == 3 && strcmp(v.words[0], "xx") == 0 &&
	      strcmp(v.words[2], "zz") == 0);
	nk_vocab_free(&v);
}

TEST(vocab_pruning_bounds_size)
{
	nk_vocab v;
	CHECK(nk_vocab_init(&v, 100) == 0);
	char w[32];
	/* "common" every other word; 5000 distinct rare words. */
	for (int i = 0; i < 5000; i++) {
		CHECK(nk_vocab_add(&v, "common", 6, 1) == 0);
		int n = snprintf(w, sizeof w, "rare%d", i);
		CHECK(nk_vocab_add(&v, w, (size_t)n, 1) == 0);
		CHECK(v.n <= 100);
	}
	CHECK(v.prune >= 1);
	CHECK(nk_vocab_find(&v, "common", 6) >= 0);
	CHECK(nk_vocab_finish(&v, 1) == 0);
	CHECK(strcmp(v.words[0], "common") == 0);
	nk_vocab_free(&v);
}

TEST(vocab_save_load)
{
	nk_vocab v, u;
	CHECK(nk_vocab_init(&v, 0) == 0);
	const char *text = "the cat the dog the end cat";
	CHECK(nk_w2v_count_text(&v, text, strlen(text), "t") == 0);
	CHECK(nk_vocab_finish(&v, 1) == 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	CHECK(nk_vocab_save(&v, fp) == 0);
	fclose(fp);
	CHECK(strncmp(buf, "the 3\ncat 2\n", 12) == 0);
	CHECK(nk_vocab_init(&u, 0) == 0);
	CHECK(nk_vocab_load_mem(&u, buf, len, "v.txt") == 0);
	CHECK(u.n == v.n && u.total == v.total);
	for (uint32_t i = 0; i < u.n && i < v.n; i++)
		CHECK(strcmp(u.words[i], v.words[i]) == 0 &&
		      u.counts[i] == v.counts[i]);
	nk_vocab_free(&u);
	CHECK(nk_vocab_init(&u, 0) == 0);
	const char *badv = "a 1\nb x\n";
	CHECK(nk_vocab_load_mem(&u, badv, strlen(badv), "v.txt") == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "v.txt:2") != NULL);
	nk_vocab_free(&u);
	CHECK(nk_vocab_init(&u, 0) == 0);
	const char *dup = "a 1\na 2\n";
	CHECK(nk_vocab_load_mem(&u, dup, strlen(dup), "v.txt") == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "v.txt:2") != NULL);
	nk_vocab_free(&u);
	nk_vocab_free(&v);
	free(buf);
}

TEST(long_word_is_an_error_with_position)
{
	nk_vocab v;
	CHECK(nk_vocab_init(&v, 0) == 0);
	char text[600];
	memset(text, 'x', sizeof text);
	memcpy(text, "ok\nab ", 6);
	CHECK(nk_w2v_count_text(&v, text, 6 + NK_VOCAB_WORD_MAX, "c.txt") == 0);
	nk_vocab_free(&v);
	CHECK(nk_vocab_init(&v, 0) == 0);
	CHECK(nk_w2v_count_text(&v, text, 6 + NK_VOCAB_WORD_MAX + 1, "c.txt") ==
	      NK_ERANGE);
	CHECK(strstr(nk_last_error(), "c.txt:2:4:") != NULL);
	nk_vocab_free(&v);
}

/* ---- training ------------------------------------------------------------- */

enum { TOPICS = 8, PER = 6 };

/* Sentences drawn from one topic each: words of a topic co-occur and
 * never meet other topics' words, so they must end up neighbours. */
static char *planted_corpus(size_t *len, int sentences)
{
	nk_rng r;
	nk_rng_seed(&r, 42, 0);
	size_t cap = (size_t)sentences * 12 * 8 + 1, n = 0;
	char *s = malloc(cap);
	for (int i = 0; i < sentences; i++) {
		int t = (int)nk_rng_below(&r, TOPICS);
		for (int k = 0; k < 10; k++)
			n += (size_t)sprintf(s + n, "%s%c%d", k ? " " : "",
					     'a' + t, (int)nk_rng_below(&r, PER));
		s[n++] = '\n';
	}
	*len = n;
	return s;
}

static int train_text(nk_w2v *m, const nk_w2v_opts *o, const char *text,
		      size_t len)
{
	nk_vocab v;
	nk_w2v_corpus c = { 0 };
	if (nk_vocab_init(&v, 0) || nk_w2v_count_text(&v, text, len, "p") ||
	    nk_vocab_finish(&v, o->min_count) || nk_w2v_init(m, o, &v))
		return -1;
	nk_vocab_free(&v);
	int rc = nk_w2v_encode_text(&c, &m->vocab, text, len, "p") ||
		 nk_w2v_train(m, &c, NULL, NULL);
	nk_w2v_corpus_free(&c);
	return rc;
}

/* Fraction of top-(PER-1) neighbours that share the word's topic. */
static double topic_purity(const nk_w2v *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	nk_w2v_write_vectors(m, fp, 1, "test");
	fclose(fp);
	nk_w2v_vecs w;
	if (nk_w2v_vecs_parse(&w, buf, len, "mem")) {
		free(buf);
		return -1;
	}
	free(buf);
	int good = 0, all = 0;
	nk_w2v_hit hit[PER];
	for (uint32_t i = 0; i < w.n; i++) {
		int n = nk_w2v_nearest(&w, w.vec + (size_t)i * w.D, 0, &i, 1, hit,
				       PER - 1);
		for (int k = 0; k < n; k++, all++)
			good += w.words[hit[k].id][0] == w.words[i][0];
	}
	nk_w2v_vecs_free(&w);
	return all ? (double)good / all : 0;
}

static void planted(int cbow, int hs, int negative, int batched, int threads)
{
	size_t len;
	char *text = planted_corpus(&len, 3000);
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.dim = 16;
	o.epochs = 5;
	o.min_count = 1;
	o.sample = 0;
	o.cbow = cbow;
	o.hs = hs;
	o.negative = negative;
	o.batched = batched;
	o.threads = threads;
	if (cbow)
		o.alpha = 0.05;
	nk_w2v m;
	CHECK(train_text(&m, &o, text, len) == 0);
	CHECK(m.V == TOPICS * PER);
	double p = topic_purity(&m);
	CHECK_MSG(p >= 0.9, "topic purity %.3f < 0.9", p);
	nk_w2v_free(&m);
	free(text);
}

TEST(planted_skipgram_ns_batched) { planted(0, 0, 5, 1, 1); }
TEST(planted_skipgram_ns_classic) { planted(0, 0, 5, 0, 1); }
TEST(planted_skipgram_hs) { planted(0, 1, 0, 1, 1); }
TEST(planted_cbow_ns) { planted(1, 0, 5, 1, 1); }
TEST(planted_cbow_hs) { planted(1, 1, 0, 1, 1); }
TEST(planted_two_threads) { planted(0, 0, 5, 1, 2); }

TEST(deterministic_one_thread)
{
	size_t len;
	char *text = planted_corpus(&len, 500);
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.dim = 12;
	o.min_count = 1;
	o.sample = 1e-2;
	nk_w2v a, b, c;
	CHECK(train_text(&a, &o, text, len) == 0);
	CHECK(train_text(&b, &o, text, len) == 0);
	o.seed = 2;
	CHECK(train_text(&c, &o, text, len) == 0);
	size_t n = (size_t)a.V * a.D * sizeof(float);
	CHECK(memcmp(a.win, b.win, n) == 0);
	CHECK(memcmp(a.wout, b.wout, n) == 0);
	CHECK(memcmp(a.win, c.win, n) != 0);
	nk_w2v_free(&a);
	nk_w2v_free(&b);
	nk_w2v_free(&c);
	free(text);
}

TEST(huffman_codes_are_a_prefix_code)
{
	const char *text = "a a a a a a a a b b b b c c d e e e f";
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.hs = 1;
	o.negative = 0;
	o.min_count = 1;
	o.dim = 4;
	nk_vocab v;
	nk_w2v m;
	CHECK(nk_vocab_init(&v, 0) == 0);
	CHECK(nk_w2v_count_text(&v, text, strlen(text), "t") == 0);
	CHECK(nk_vocab_finish(&v, 1) == 0);
	CHECK(nk_w2v_init(&m, &o, &v) == 0);
	double kraft = 0;
	for (uint32_t i = 0; i < m.V; i++) {
		uint64_t li = m.code_off[i + 1] - m.code_off[i];
		kraft += ldexp(1, -(int)li);
		for (uint64_t k = m.code_off[i]; k < m.code_off[i + 1]; k++)
			CHECK(m.points[k] < m.V - 1);
		for (uint32_t j = 0; j < m.V; j++) {
			uint64_t lj = m.code_off[j + 1] - m.code_off[j];
			if (i == j || lj < li)
				continue;
			CHECK(memcmp(m.codes + m.code_off[i], m.codes + m.code_off[j],
				     li) != 0);
		}
		if (i)
			CHECK(li >= m.code_off[1] - m.code_off[0]);
	}
	CHECK(fabs(kraft - 1) < 1e-12);
	/* Every code starts at the root. */
	for (uint32_t i = 0; i < m.V; i++)
		CHECK(m.points[m.code_off[i]] == m.V - 2);
	nk_w2v_free(&m);
}

TEST(negative_table_follows_unigram_075)
{
	const char *text = "a a a a a a a a a a a a a a a a b b c";
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.min_count = 1;
	o.dim = 4;
	nk_vocab v;
	nk_w2v m;
	CHECK(nk_vocab_init(&v, 0) == 0);
	CHECK(nk_w2v_count_text(&v, text, strlen(text), "t") == 0);
	CHECK(nk_vocab_finish(&v, 1) == 0);
	CHECK(nk_w2v_init(&m, &o, &v) == 0);
	/* Exact probabilities of the alias table. */
	double p[3] = { 0 }, z = pow(16, .75) + pow(2, .75) + 1;
	for (uint32_t i = 0; i < m.V; i++) {
		double keep = m.alias_prob[i] / 4294967296.0;
		p[i] += keep / m.V;
		p[m.alias[i]] += (1 - keep) / m.V;
	}
	CHECK(fabs(p[0] - pow(16, .75) / z) < 1e-6);
	CHECK(fabs(p[1] - pow(2, .75) / z) < 1e-6);
	CHECK(fabs(p[2] - 1 / z) < 1e-6);
	nk_w2v_free(&m);
}

/* Subsampling keeps word w with probability sqrt(t/f) + t/f (capped at
 * 1), f = count(w) / total: word2vec.c's (sqrt(cn / (t * train_words)) +
 * 1) * (t * train_words) / cn, and gensim's, with the total over the words
 * that survive min-count.  Checked on the table itself, so that another
 * formula (t/f alone, 1 - sqrt(t/f) of the paper) fails here. */
TEST(subsampling_keeps_sqrt_t_over_f_plus_t_over_f)
{
	static const int count[] = { 1000, 100, 10, 1 };
	char *text = malloc(4 * 1111 + 1), *q = text;
	for (int w = 0; w < 4; w++)
		for (int i = 0; i < count[w]; i++) {
			*q++ = (char)('a' + w);
			*q++ = ' ';
		}
	*q = 0;
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.min_count = 2; /* "d" goes: the total is 1110 */
	o.dim = 4;
	o.sample = 0.01;
	nk_vocab v;
	nk_w2v m;
	CHECK(nk_vocab_init(&v, 0) == 0);
	CHECK(nk_w2v_count_text(&v, text, strlen(text), "t") == 0);
	CHECK(nk_vocab_finish(&v, o.min_count) == 0);
	CHECK(nk_w2v_init(&m, &o, &v) == 0);
	CHECK(m.V == 3 && m.vocab.total == 1110);
	for (uint32_t i = 0; i < m.V; i++) {
		double f = (double)count[i] / 1110, r = o.sample / f;
		double want = sqrt(r) + r, got = m.keep[i] / 4294967296.0;
		if (want >= 1)
			CHECK(m.keep[i] == UINT32_MAX);
		else
			CHECK(fabs(got - want) < 1e-9);
	}
	/* a: sqrt(.0111) + .0111 = 0.116457; b: 0.33317 + 0.111 = 0.44417 */
	CHECK(fabs(m.keep[0] / 4294967296.0 - 0.116457) < 1e-5);
	CHECK(fabs(m.keep[1] / 4294967296.0 - 0.444167) < 1e-5);
	CHECK(m.keep[2] == UINT32_MAX);
	nk_w2v_free(&m);
	/* sample 0: every word kept. */
	o.sample = 0;
	CHECK(nk_vocab_init(&v, 0) == 0);
	CHECK(nk_w2v_count_text(&v, text, strlen(text), "t") == 0);
	CHECK(nk_vocab_finish(&v, o.min_count) == 0);
	CHECK(nk_w2v_init(&m, &o, &v) == 0);
	for (uint32_t i = 0; i < m.V; i++)
		CHECK(m.keep[i] == UINT32_MAX);
	nk_w2v_free(&m);
	free(text);
}

TEST(save_resume)
{
	size_t len;
	char *text = planted_corpus(&len, 300);
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.dim = 8;
	o.min_count = 1;
	o.epochs = 1;
	nk_w2v a, b;
	CHECK(train_text(&a, &o, text, len) == 0);
	char path[] = "/tmp/test_w2v_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK(nk_w2v_save(&a, path) == 0);
	CHECK(nk_w2v_load(&b, path) == 0);
	CHECK(b.V == a.V && b.D == a.D && b.epochs_done == 1);
	CHECK(b.words_done == a.words_done && b.words_done > 0);
	CHECK(memcmp(a.win, b.win, (size_t)a.V * a.D * 4) == 0);
	CHECK(memcmp(a.wout, b.wout, (size_t)a.V * a.D * 4) == 0);
	CHECK(memcmp(&a.rng, &b.rng, sizeof a.rng) == 0);
	for (uint32_t i = 0; i < a.V; i++)
		CHECK(strcmp(a.vocab.words[i], b.vocab.words[i]) == 0 &&
		      a.vocab.counts[i] == b.vocab.counts[i]);
	/* Training on: the state moves, the counters add up. */
	nk_w2v_corpus c = { 0 };
	CHECK(nk_w2v_encode_text(&c, &b.vocab, text, len, "p") == 0);
	uint64_t before = b.words_done;
	b.o.epochs = 1;
	CHECK(nk_w2v_train(&b, &c, NULL, NULL) == 0);
	CHECK(b.epochs_done == 2 && b.words_done == before + c.words);
	CHECK(memcmp(a.win, b.win, (size_t)a.V * a.D * 4) != 0);
	nk_w2v_corpus_free(&c);
	/* A damaged file is refused. */
	FILE *fp = fopen(path, "r+b");
	fseek(fp, 200, SEEK_SET);
	fputc(0x55, fp);
	fclose(fp);
	nk_w2v d;
	CHECK(nk_w2v_load(&d, path) != 0);
	unlink(path);
	nk_w2v_free(&a);
	nk_w2v_free(&b);
	free(text);
}

TEST(ids_input)
{
	uint32_t ids[] = { 7, 3, 7, NK_W2V_EOS, 3, 9, NK_W2V_EOS };
	char *names_buf = "zero\none\ntwo\nthree\n";
	char **names;
	size_t nn;
	CHECK(nk_w2v_names_load(&names, &nn, names_buf, strlen(names_buf), "n") == 0);
	CHECK(nn == 4 && strcmp(names[3], "three") == 0);
	nk_vocab v;
	CHECK(nk_vocab_init(&v, 0) == 0);
	CHECK(nk_w2v_count_ids(&v, ids, 7, names, nn) == 0);
	CHECK(nk_vocab_finish(&v, 2) == 0);
	CHECK(v.n == 2 && strcmp(v.words[0], "7") == 0 &&
	      strcmp(v.words[1], "three") == 0);
	nk_w2v_corpus c = { 0 };
	CHECK(nk_w2v_encode_ids(&c, &v, ids, 7, names, nn) == 0);
	uint32_t want[] = { 0, 1, 0, NK_W2V_EOS, 1, NK_W2V_EOS };
	CHECK(c.n == 6 && c.words == 4 && memcmp(c.ids, want, sizeof want) == 0);
	nk_w2v_corpus_free(&c);
	nk_vocab_free(&v);
	nk_w2v_names_free(names, nn);
	const char *bad = "a 1\nb x\n";
	CHECK(nk_w2v_names_load(&names, &nn, bad, strlen(bad), "n.txt") == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "n.txt:2") != NULL);
}

TEST(long_sentences_are_cut)
{
	size_t n = NK_W2V_SENTENCE_MAX * 2 + 5;
	char *text = malloc(n * 2);
	for (size_t i = 0; i < n; i++) {
		text[2 * i] = 'w';
		text[2 * i + 1] = ' ';
	}
	nk_vocab v;
	nk_w2v_corpus c = { 0 };
	CHECK(nk_vocab_init(&v, 0) == 0);
	CHECK(nk_w2v_count_text(&v, text, n * 2, "t") == 0);
	CHECK(nk_vocab_finish(&v, 1) == 0);
	CHECK(nk_w2v_encode_text(&c, &v, text, n * 2, "t") == 0);
	CHECK(c.words == n && c.n == n + 3);
	CHECK(c.ids[NK_W2V_SENTENCE_MAX] == NK_W2V_EOS);
	nk_w2v_corpus_free(&c);
	nk_vocab_free(&v);
	free(text);
}

/* ---- vector files ----------------------------------------------------------- */

static nk_w2v *small_model(void)
{
	static nk_w2v m;
	size_t len;
	char *text = planted_corpus(&len, 200);
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.dim = 7;
	o.min_count = 1;
	o.epochs = 1;
	if (train_text(&m, &o, text, len))
		m.V = 0;
	free(text);
	return &m;
}

static char *write_mem(const nk_w2v *m, int binary, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	nk_w2v_write_vectors(m, fp, binary, "test");
	fclose(fp);
	return buf;
}

TEST(vectors_round_trip)
{
	nk_w2v *m = small_model();
	CHECK(m->V > 0);
	for (int binary = 0; binary < 2; binary++) {
		size_t len;
		char *buf = write_mem(m, binary, &len);
		nk_w2v_vecs w;
		CHECK(nk_w2v_vecs_parse(&w, buf, len, "v") == 0);
		CHECK(w.n == m->V && w.D == m->D);
		for (uint32_t i = 0; i < w.n && i < m->V; i++) {
			CHECK(strcmp(w.words[i], m->vocab.words[i]) == 0);
			double s = 0;
			for (int j = 0; j < m->D; j++)
				s += (double)m->win[i * m->D + j] * m->win[i * m->D + j];
			s = sqrt(s);
			for (int j = 0; j < m->D; j++)
				CHECK(fabs(w.vec[i * w.D + j] - m->win[i * m->D + j] / s) <
				      (binary ? 1e-6 : 1e-5));
		}
		/* Truncation anywhere is an error, never a crash; in text,
		 * except inside the last line's values (a missing final
		 * newline is accepted, as gensim does). */
		size_t last = len - 1;
		while (!binary && last > 0 && buf[last - 1] != '\n')
			last--;
		while (!binary && last < len && buf[last] != ' ')
			last++;
		for (size_t cut = 0; cut < len - 1; cut += 1 + cut / 8) {
			nk_w2v_vecs t;
			int rc = nk_w2v_vecs_parse(&t, buf, cut, "v");
			if (binary || cut <= last)
				CHECK(rc != 0);
			if (rc == 0)
				nk_w2v_vecs_free(&t);
		}
		if (!binary) {
			nk_w2v_vecs t;
			CHECK(nk_w2v_vecs_parse(&t, buf, len - 1, "v") == 0);
			CHECK(t.n == m->V);
			nk_w2v_vecs_free(&t);
		}
		nk_w2v_vecs_free(&w);
		free(buf);
	}
	nk_w2v_free(m);
}

static int parse_errn(const char *s, size_t len, const char *want)
{
	nk_w2v_vecs w;
	int rc = nk_w2v_vecs_parse(&w, s, len, "f.vec");
	if (rc == 0) {
		nk_w2v_vecs_free(&w);
		return 0;
	}
	return strstr(nk_last_error(), want) != NULL;
}
#define parse_err(s, want) parse_errn(s, strlen(s), want)

TEST(vectors_errors)
{
	CHECK(parse_err("", "f.vec:1: expected a header"));
	CHECK(parse_err("2 x\n", "f.vec:1: expected a header"));
	CHECK(parse_err("0 3\n", "no vectors"));
	CHECK(parse_err("2 1\na 1", "f.vec:3: truncated: 1 of 2"));
	CHECK(parse_err("2 2\na 1 2\nb 3\n", "f.vec:3: word 'b': 1 values, expected 2"));
	CHECK(parse_err("2 2\na 1 2\nb 3 4 5\n", "f.vec:3: word 'b': 3 values, expected 2"));
	CHECK(parse_err("2 2\na 1 2\nb 3 x\n",
			"f.vec:3: word 'b', field 2: 'x' is not a finite float"));
	CHECK(parse_err("3 1\na 1\nb 3\n", "truncated"));
	CHECK(parse_err("999999 300\na 1\n", "truncated"));
	/* A bad first value keeps the file text: the line, not a byte. */
	CHECK(parse_err("2 2\na nan 1\nb 1 0\n",
			"f.vec:2: word 'a', field 1: 'nan' is not a finite float"));
	CHECK(parse_err("2 2\na 1 1e39\nb 1 0\n",
			"f.vec:2: word 'a', field 2: '1e39' is not a finite float"));
	CHECK(parse_err("2 2\na -inf 1\nb 1 0\n", "f.vec:2: word 'a', field 1"));
	/* A word given twice is refused. */
	CHECK(parse_err("3 1\na 1\nb 2\na 3\n",
			"f.vec:4: word 'a' again (first on line 2)"));
	static const char dup[] = "2 1\na \x00\x00\x80\x3f\na \x00\x00\x80\x3f\n";
	CHECK(parse_errn(dup, sizeof dup - 1,
			 "f.vec: byte 11: word 'a' again (first as vector 1 of 2)"));
	/* Case variants are distinct words. */
	CHECK(!parse_err("2 1\na 1\nA 2\n", ""));
}

/* The last line without its newline is read (word2vec.c and gensim
 * read it); binary is told from text by shape, not values. */
TEST(vectors_last_line_and_format)
{
	nk_w2v_vecs w;
	const char *s = "2 2\na 1 2\nb 3 4";
	CHECK(nk_w2v_vecs_parse(&w, s, strlen(s), "f") == 0);
	CHECK(w.n == 2 && nk_w2v_vecs_find(&w, "b", 0) == 1);
	CHECK(fabs(w.vec[2] - 0.6) < 1e-6 && fabs(w.vec[3] - 0.8) < 1e-6);
	nk_w2v_vecs_free(&w);
	/* binary 1.0f 2.0f: bytes 00 00 80 3f 00 00 00 40 */
	static const char b[] = "1 2\nab \x00\x00\x80\x3f\x00\x00\x00\x40\n";
	CHECK(nk_w2v_vecs_parse(&w, b, sizeof b - 1, "f") == 0);
	CHECK(w.n == 1 && fabs(w.vec[1] / w.vec[0] - 2) < 1e-6);
	nk_w2v_vecs_free(&w);
}

/* ---- evaluation ------------------------------------------------------------- */

/* 2-D vectors where b - a + c lands exactly on d. */
static const char *toy =
	"6 3\n"
	"man 1 0 0\n"
	"king 1 1 0\n"
	"woman 0 0 1\n"
	"queen 0 1 1\n"
	"apple 1 -1 -1\n"
	"Queen 0 1 1.1\n";

TEST(analogy_and_neighbours)
{
	nk_w2v_vecs w;
	CHECK(nk_w2v_vecs_parse(&w, toy, strlen(toy), "toy") == 0);
	CHECK(nk_w2v_vecs_find(&w, "KING", 1) == 1);
	CHECK(nk_w2v_vecs_find(&w, "KING", 0) == -1);
	CHECK(nk_w2v_vecs_find(&w, "QUEEN", 1) == 3); /* first wins */
	nk_w2v_hit h[2];
	for (int m = 0; m < 2; m++) {
		CHECK(nk_w2v_analogy(&w, 0, 1, 2, m, 0, h, 2) == 2);
		CHECK(h[0].id == 3 || h[0].id == 5);
	}
	CHECK(nk_w2v_analogy(&w, 0, 1, 2, NK_W2V_COSADD, 4, h, 2) == 1);
	CHECK(h[0].id == 3);
	uint32_t skip = 3;
	CHECK(nk_w2v_nearest(&w, w.vec + 3 * w.D, 0, &skip, 1, h, 1) == 1);
	CHECK(h[0].id == 5 && h[0].score > 0.99f);

	const char *q = ": family\n"
			"man king woman queen\n"
			"man king woman apple\n"
			"man king woman unknown\n"
			": gram-x\n"
			"Man King Woman Queen\n"
			"\n";
	nk_w2v_eval e;
	CHECK(nk_w2v_eval_analogies(&e, &w, q, strlen(q), "q", 0, 3, 1) == 0);
	CHECK(e.nsec == 2);
	CHECK(e.sec[0].total == 3 && e.sec[0].seen == 2);
	CHECK(e.sec[0].correct[0] == 1 && e.sec[0].correct[1] == 1);
	CHECK(!e.sec[0].syntactic && e.sec[1].syntactic);
	CHECK(e.sec[1].seen == 1 && e.sec[1].correct[0] == 1);
	nk_w2v_section sum[3];
	nk_w2v_eval_totals(sum, &e);
	CHECK(!strcmp(sum[0].name, "semantic") && sum[0].seen == 2 &&
	      sum[0].total == 3 && sum[0].correct[0] == 1);
	CHECK(!strcmp(sum[1].name, "syntactic") && sum[1].seen == 1 &&
	      sum[1].correct[1] == 1);
	CHECK(!strcmp(sum[2].name, "total") && sum[2].seen == 3 &&
	      sum[2].total == 4 && sum[2].correct[0] == 2);
	nk_w2v_eval_free(&e);
	/* A cut-off of 3 leaves "queen" out: unseen. */
	CHECK(nk_w2v_eval_analogies(&e, &w, q, strlen(q), "q", 3, 3, 1) == 0);
	CHECK(e.sec[0].seen == 0 && e.sec[0].total == 3);
	nk_w2v_eval_free(&e);
	nk_w2v_vecs_free(&w);
}

TEST(question_file_errors)
{
	CHECK(nk_w2v_questions_check(": s\na b c d\n", 12, "q") == 1);
	CHECK(nk_w2v_questions_check(": s\na b c\n", 10, "q.txt") == -NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "q.txt:2: 3 fields, expected 4") != NULL);
	CHECK(nk_w2v_questions_check(": s\na b c d e\n", 14, "q.txt") == -NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "q.txt:2: more than 4") != NULL);
	CHECK(nk_w2v_questions_check("a b c d\n", 8, "q.txt") == -NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "q.txt:1: a question before") != NULL);
	CHECK(nk_w2v_questions_check(":\n", 2, "q.txt") == -NK_EFORMAT);
}

TEST(spearman)
{
	nk_w2v_vecs w;
	CHECK(nk_w2v_vecs_parse(&w, toy, strlen(toy), "toy") == 0);
	/* cos(man,king)=.707 cos(man,woman)=0 cos(king,queen)=.5
	 * cos(man,apple)=.577: ranks 4 1 2 3 */
	const char *s = "# comment\n"
			"man\tking\t9\n"
			"man woman 1\n"
			"king queen 5\n"
			"man apple 7\n"
			"man zzz 3\n";
	nk_w2v_simres r;
	CHECK(nk_w2v_eval_similarity(&r, &w, s, strlen(s), "s", 0) == 0);
	CHECK(r.pairs == 4 && r.oov == 1);
	CHECK(fabs(r.spearman - 1) < 1e-12);
	const char *rev = "man king 1\nman woman 9\nking queen 7\nman apple 5\n";
	CHECK(nk_w2v_eval_similarity(&r, &w, rev, strlen(rev), "s", 0) == 0);
	CHECK(fabs(r.spearman + 1) < 1e-12);
	/* ties average their ranks: gold 1 1 2 2 vs ranks 4 1 2 3 */
	const char *tie = "man king 1\nman woman 1\nking queen 2\nman apple 2\n";
	CHECK(nk_w2v_eval_similarity(&r, &w, tie, strlen(tie), "s", 0) == 0);
	/* x = 1.5 1.5 3.5 3.5, y = 4 1 2 3: rho = 0 */
	CHECK(fabs(r.spearman) < 1e-12);
	const char *bad = "man king 1\nman woman\n";
	CHECK(nk_w2v_eval_similarity(&r, &w, bad, strlen(bad), "p.txt", 0) ==
	      NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "p.txt:2: 2 fields, expected 3") != NULL);
	const char *bad2 = "man king x\n";
	CHECK(nk_w2v_eval_similarity(&r, &w, bad2, strlen(bad2), "p.txt", 0) ==
	      NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "p.txt:1: 'x' is not a number") != NULL);
	/* No correlation from fewer than two known pairs, or from equal
	 * scores: an error, never a nan. */
	const char *one = "man king 1\nman zzz 2\n";
	CHECK(nk_w2v_eval_similarity(&r, &w, one, strlen(one), "p.txt", 0) ==
	      NK_EINVAL);
	CHECK(strstr(nk_last_error(), "p.txt: 1 pair with both words known (1 not)") != NULL);
	CHECK(nk_w2v_eval_similarity(&r, &w, "", 0, "p.txt", 0) == NK_EINVAL);
	const char *flat = "man king 3\nman woman 3\nking queen 3\n";
	CHECK(nk_w2v_eval_similarity(&r, &w, flat, strlen(flat), "p.txt", 0) ==
	      NK_EINVAL);
	CHECK(strstr(nk_last_error(), "all equal") != NULL);
	nk_w2v_vecs_free(&w);
}

/* The state at `path` written again to `out` with schema `version`, or
 * without the key (-1) as states were saved before it existed. */
static int rewrite_schema(const char *path, const char *out, int64_t version)
{
	nk_wfile *r = nk_wfile_read(path), *w = nk_wfile_create();
	if (!r || !w)
		return -1;
	for (size_t i = 0; i < nk_wfile_n_meta(r); i++) {
		const nk_wmeta *m = nk_wfile_meta_at(r, i);
		if (!strcmp(m->key, NK_WFILE_SCHEMA_KEY)) {
			if (version >= 0)
				nk_wfile_set_int(w, m->key, version);
		} else if (m->type == NK_WMETA_STR) {
			nk_wfile_set_str(w, m->key, m->v.s);
		} else if (m->type == NK_WMETA_INT) {
			nk_wfile_set_int(w, m->key, m->v.i);
		} else if (m->type == NK_WMETA_FLOAT) {
			nk_wfile_set_float(w, m->key, m->v.f);
		} else if (m->type == NK_WMETA_INTS) {
			nk_wfile_set_ints(w, m->key, m->v.ints, m->count);
		}
	}
	for (size_t i = 0; i < nk_wfile_n_tensors(r); i++) {
		const nk_wtensor *t = nk_wfile_tensor_at(r, i);
		nk_wfile_add(w, t->name, t->dtype, t->ndim, t->ne, t->data);
	}
	int rc = nk_wfile_write(w, out, 0);
	nk_wfile_free(w);
	nk_wfile_free(r);
	return rc;
}

TEST(state_schema)
{
	size_t len;
	char *text = planted_corpus(&len, 50);
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.dim = 4;
	o.min_count = 1;
	o.epochs = 1;
	nk_w2v a, b;
	CHECK(train_text(&a, &o, text, len) == 0);
	char path[] = "/tmp/test_w2v_XXXXXX", old[] = "/tmp/test_w2v_XXXXXX";
	int fd = mkstemp(path), fd2 = mkstemp(old);
	CHECK(fd >= 0 && fd2 >= 0);
	close(fd);
	close(fd2);
	CHECK(nk_w2v_save(&a, path) == 0);
	nk_wfile *r = nk_wfile_read(path);
	int64_t v = 0;
	CHECK(r && nk_wfile_get_int(r, NK_WFILE_SCHEMA_KEY, &v) == 0 &&
	      v == NK_W2V_SCHEMA);
	nk_wfile_free(r);
	/* A state from before the key loads as schema 1. */
	CHECK(rewrite_schema(path, old, -1) == 0);
	r = nk_wfile_read(old);
	CHECK(r && !nk_wfile_meta(r, NK_WFILE_SCHEMA_KEY));
	nk_wfile_free(r);
	CHECK(nk_w2v_load(&b, old) == 0);
	CHECK(b.V == a.V && memcmp(a.win, b.win, (size_t)a.V * a.D * 4) == 0);
	nk_w2v_free(&b);
	/* A newer one is refused with what to do; so is a nonsense 0. */
	CHECK(rewrite_schema(path, old, 2) == 0);
	CHECK(nk_w2v_load(&b, old) == NK_EVERSION);
	char want[256];
	snprintf(want, sizeof want, "%s: word2vec schema 2 is newer than this "
		 "nnkit reads (1); upgrade nnkit", old);
	CHECK_MSG(strcmp(nk_last_error(), want) == 0, "%s\n", nk_last_error());
	CHECK(rewrite_schema(path, old, 0) == 0);
	CHECK(nk_w2v_load(&b, old) == NK_EVERSION);
	CHECK(strstr(nk_last_error(), "word2vec schema 0 is older") != NULL);
	unlink(path);
	unlink(old);
	nk_w2v_free(&a);
	free(text);
}

TEST(resume_opts_and_inputs)
{
	nk_w2v m;
	memset(&m, 0, sizeof m);
	nk_w2v_opts_default(&m.o);
	m.o.alpha = 0.025;
	m.o.min_alpha = 0.001;
	m.o.dim = 7;
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	o.epochs = 9;
	o.threads = 3;
	o.batched = 0;
	o.alpha = 0.5;
	o.min_alpha = 0.2;
	o.dim = 100;
	nk_w2v_resume_opts(&m, &o, 0);
	CHECK(m.o.epochs == 9 && m.o.threads == 3 && !m.o.batched);
	CHECK(m.o.alpha == 0.025 && m.o.min_alpha == 0.001 && m.o.dim == 7);
	nk_w2v_resume_opts(&m, &o, NK_W2V_SET_ALPHA);
	CHECK(m.o.alpha == 0.5 && fabs(m.o.min_alpha - 0.5e-4) < 1e-12);
	nk_w2v_resume_opts(&m, &o, NK_W2V_SET_ALPHA | NK_W2V_SET_MIN_ALPHA);
	CHECK(m.o.min_alpha == 0.2);
	CHECK(nk_w2v_is_token_stream(NK_TOK_MAGIC "rest", 8));
	CHECK(!nk_w2v_is_token_stream("NKT", 3));
	CHECK(!nk_w2v_is_token_stream("the cat sat", 11));
}

int main(void)
{
	RUN(vocab_count_sort_mincount);
	RUN(vocab_ties_by_bytes);
	RUN(vocab_pruning_bounds_size);
	RUN(vocab_save_load);
	RUN(long_word_is_an_error_with_position);
	RUN(planted_skipgram_ns_batched);
	RUN(planted_skipgram_ns_classic);
	RUN(planted_skipgram_hs);
	RUN(planted_cbow_ns);
	RUN(planted_cbow_hs);
	RUN(planted_two_threads);
	RUN(deterministic_one_thread);
	RUN(huffman_codes_are_a_prefix_code);
	RUN(negative_table_follows_unigram_075);
	RUN(subsampling_keeps_sqrt_t_over_f_plus_t_over_f);
	RUN(save_resume);
	RUN(ids_input);
	RUN(long_sentences_are_cut);
	RUN(vectors_round_trip);
	RUN(vectors_errors);
	RUN(vectors_last_line_and_format);
	RUN(analogy_and_neighbours);
	RUN(question_file_errors);
	RUN(spearman);
	RUN(state_schema);
	RUN(resume_opts_and_inputs);
	return nk_test_exit();
}
