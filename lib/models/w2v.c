/* w2v.c - word2vec training; see w2v.h. */
#include "models/w2v.h"
#include "core/base.h"
#include "core/gemm.h"
#include "core/io.h"
#include "formats/tokstream.h"
#include "formats/wfile.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SIG_N = 1000 };
#define SIG_MAX 6.0f

void nk_w2v_opts_default(nk_w2v_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dim = 100;
	o->window = 5;
	o->negative = 5;
	o->epochs = 5;
	o->threads = 1;
	o->batched = 1;
	o->min_count = 5;
	o->alpha = 0.025;
	o->min_alpha = -1; /* alpha * 1e-4 */
	o->sample = 1e-3;
	o->seed = 1;
}

/* ---- corpus ------------------------------------------------------------ */

void nk_w2v_corpus_free(nk_w2v_corpus *c)
{
	free(c->ids);
	memset(c, 0, sizeof *c);
}

static int corpus_push(nk_w2v_corpus *c, uint32_t id)
{
	if (c->n == c->cap &&
	    nk_grow((void **)&c->ids, &c->cap, c->cap ? c->n + 1 : 1 << 16,
		    sizeof *c->ids))
		return NK_ENOMEM;
	c->ids[c->n++] = id;
	return 0;
}

static int corpus_word(nk_w2v_corpus *c, uint32_t id)
{
	if (c->sent_len == NK_W2V_SENTENCE_MAX) {
		if (corpus_push(c, NK_W2V_EOS))
			return NK_ENOMEM;
		c->sent_len = 0;
	}
	c->sent_len++;
	c->words++;
	return corpus_push(c, id);
}

static int corpus_eos(nk_w2v_corpus *c)
{
	if (c->sent_len == 0)
		return 0;
	c->sent_len = 0;
	return corpus_push(c, NK_W2V_EOS);
}

static inline int is_blank(unsigned char ch)
{
	/* NUL too: a word never holds one (it ends C strings). */
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f' || ch == 0;
}

/* Calls fn(ctx, word, len) per word and fn(ctx, NULL, 0) per line end. */
static int scan_text(const unsigned char *p, size_t size, const char *name,
		     int (*fn)(void *, const char *, size_t), void *ctx)
{
	const unsigned char *end = p + size, *line_start = p;
	uint64_t line = 1;
	while (p < end) {
		unsigned char ch = *p;
		if (ch == '\n') {
			int rc = fn(ctx, NULL, 0);
			if (rc)
				return rc;
			p++;
			line++;
			line_start = p;
			continue;
		}
		if (is_blank(ch)) {
			p++;
			continue;
		}
		const unsigned char *w = p;
		while (p < end && !is_blank(*p) && *p != '\n')
			p++;
		size_t len = (size_t)(p - w);
		if (len > NK_VOCAB_WORD_MAX)
			return nk_error(NK_ERANGE,
					"%s:%llu:%llu: word of %zu bytes (limit %d)",
					name, (unsigned long long)line,
					(unsigned long long)(w - line_start + 1),
					len, NK_VOCAB_WORD_MAX);
		int rc = fn(ctx, (const char *)w, len);
		if (rc)
			return nk_error_prefix(rc, name);
	}
	return fn(ctx, NULL, 0);
}

static int count_fn(void *ctx, const char *w, size_t len)
{
	return w ? nk_vocab_add(ctx, w, len, 1) : 0;
}

int nk_w2v_count_text(nk_vocab *v, const void *text, size_t size,
		      const char *name)
{
	return scan_text(text, size, name, count_fn, v);
}

struct encode_ctx {
	nk_w2v_corpus *c;
	const nk_vocab *v;
};

static int encode_fn(void *ctx, const char *w, size_t len)
{
	struct encode_ctx *e = ctx;
	if (!w)
		return corpus_eos(e->c);
	int64_t id = nk_vocab_find(e->v, w, len);
	return id < 0 ? 0 : corpus_word(e->c, (uint32_t)id);
}

int nk_w2v_encode_text(nk_w2v_corpus *c, const nk_vocab *v, const void *text,
		       size_t size, const char *name)
{
	struct encode_ctx e = { c, v };
	return scan_text(text, size, name, encode_fn, &e);
}

/* ---- token-id input ---------------------------------------------------- */

/* The end-of-sentence mark is the token streams' reserved id, which no
 * stream holds. */
_Static_assert(NK_W2V_EOS == NK_TOK_EOS, "NK_W2V_EOS is NK_TOK_EOS");

int nk_w2v_ids_read(uint32_t **ids, size_t *n, const char *path)
{
	return nk_tok_read_all(path, 0, NK_TOK_READ_EOS, ids, n);
}

int nk_w2v_ids_read_mem(uint32_t **ids, size_t *n, const void *data,
			size_t size, const char *name)
{
	return nk_tok_read_all_mem(data, size, name, 0, NK_TOK_READ_EOS, ids,
				   n);
}

static const char *id_word(uint32_t id, char *const *names, size_t nnames,
			   char buf[16])
{
	if (id < nnames && names[id])
		return names[id];
	snprintf(buf, 16, "%u", id);
	return buf;
}

int nk_w2v_count_ids(nk_vocab *v, const uint32_t *ids, size_t n,
		     char *const *names, size_t nnames)
{
	char buf[16];
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == NK_W2V_EOS)
			continue;
		const char *w = id_word(ids[i], names, nnames, buf);
		int rc = nk_vocab_add(v, w, strlen(w), 1);
		if (rc)
			return rc;
	}
	return 0;
}

int nk_w2v_encode_ids(nk_w2v_corpus *c, const nk_vocab *v, const uint32_t *ids,
		      size_t n, char *const *names, size_t nnames)
{
	char buf[16];
	for (size_t i = 0; i < n; i++) {
		int rc;
		if (ids[i] == NK_W2V_EOS) {
			rc = corpus_eos(c);
		} else {
			const char *w = id_word(ids[i], names, nnames, buf);
			int64_t id = nk_vocab_find(v, w, strlen(w));
			rc = id < 0 ? 0 : corpus_word(c, (uint32_t)id);
		}
		if (rc)
			return rc;
	}
	return corpus_eos(c);
}

void nk_w2v_names_free(char **names, size_t nnames)
{
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
}

int nk_w2v_names_load(char ***out, size_t *nout, const void *data,
		      size_t size, const char *name)
{
	const char *p = data, *end = p + size;
	char **names = NULL;
	size_t n = 0, cap = 0;
	uint64_t line = 0;
	int rc = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *q = p;
		line++;
		while (q < e && is_blank((unsigned char)*q))
			q++;
		const char *w = q;
		while (q < e && !is_blank((unsigned char)*q))
			q++;
		size_t len = (size_t)(q - w);
		while (q < e && is_blank((unsigned char)*q))
			q++;
		uint64_t id = line - 1;
		if (q < e) {
			char *stop;
			unsigned long long v = strtoull(q, &stop, 10);
			const char *s = stop;
			while (s < e && is_blank((unsigned char)*s))
				s++;
			if (stop == q || s != e || v >= NK_TOK_ID_MAX ||
			    *q == '-') {
				rc = nk_error(NK_EFORMAT,
					      "%s:%llu: expected 'WORD' or 'WORD ID'",
					      name, (unsigned long long)line);
				break;
			}
			id = v;
		}
		if (len == 0 || len > NK_VOCAB_WORD_MAX) {
			rc = nk_error(NK_EFORMAT, "%s:%llu: %s", name,
				      (unsigned long long)line,
				      len ? "word too long" : "no word");
			break;
		}
		if (id >= (1u << 26)) {
			rc = nk_error(NK_ERANGE, "%s:%llu: id %llu too large",
				      name, (unsigned long long)line,
				      (unsigned long long)id);
			break;
		}
		if (id >= cap) {
			size_t old = cap;
			if (nk_grow((void **)&names, &cap, (size_t)id + 1,
				    sizeof *names)) {
				rc = NK_ENOMEM;
				break;
			}
			memset(names + old, 0, (cap - old) * sizeof *names);
		}
		free(names[id]);
		names[id] = nk_malloc(len + 1);
		if (!names[id]) {
			rc = NK_ENOMEM;
			break;
		}
		memcpy(names[id], w, len);
		names[id][len] = 0;
		if (id + 1 > n)
			n = id + 1;
		p = e + 1;
	}
	if (rc) {
		nk_w2v_names_free(names, cap);
		return rc;
	}
	*out = names;
	*nout = n;
	return 0;
}

/* ---- model ------------------------------------------------------------- */

void nk_w2v_free(nk_w2v *m)
{
	nk_vocab_free(&m->vocab);
	nk_free_aligned(m->win);
	nk_free_aligned(m->wout);
	nk_free_aligned(m->whs);
	free(m->code_off);
	free(m->codes);
	free(m->points);
	free(m->alias);
	free(m->alias_prob);
	free(m->keep);
	free(m->sigm);
	memset(m, 0, sizeof *m);
}

/* Vose's alias method over count^0.75: one draw is one 64-bit number. */
static int build_alias(nk_w2v *m)
{
	uint32_t V = m->V;
	double *p = nk_malloc(V * sizeof *p);
	uint32_t *small = nk_malloc(V * sizeof *small);
	uint32_t *large = nk_malloc(V * sizeof *large);
	m->alias = nk_malloc(V * sizeof *m->alias);
	m->alias_prob = nk_malloc(V * sizeof *m->alias_prob);
	int rc = NK_ENOMEM;
	if (!p || !small || !large || !m->alias || !m->alias_prob)
		goto out;
	double sum = 0;
	for (uint32_t i = 0; i < V; i++)
		sum += pow((double)m->vocab.counts[i], 0.75);
	uint32_t ns = 0, nl = 0;
	for (uint32_t i = 0; i < V; i++) {
		p[i] = pow((double)m->vocab.counts[i], 0.75) / sum * V;
		m->alias[i] = i;
		if (p[i] < 1)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns && nl) {
		uint32_t s = small[--ns], l = large[nl - 1];
		m->alias[s] = l;
		m->alias_prob[s] = (uint32_t)(p[s] * 4294967296.0 >= 4294967295.0
						      ? 4294967295u
						      : p[s] * 4294967296.0);
		p[l] -= 1 - p[s];
		if (p[l] < 1) {
			nl--;
			small[ns++] = l;
		}
	}
	while (nl)
		m->alias_prob[large[--nl]] = 4294967295u;
	while (ns)
		m->alias_prob[small[--ns]] = 4294967295u;
	rc = 0;
out:
	free(p);
	free(small);
	free(large);
	return rc;
}

static inline uint32_t draw_negative(const nk_w2v *m, nk_rng *r)
{
	uint64_t u = nk_rng_u64(r);
	uint32_t i = (uint32_t)(((u >> 32) * (uint64_t)m->V) >> 32);
	return (uint32_t)u < m->alias_prob[i] ? i : m->alias[i];
}

/* word2vec's CreateBinaryTree over counts sorted in decreasing order. */
static int build_huffman(nk_w2v *m)
{
	uint32_t V = m->V;
	size_t n2 = (size_t)V * 2 + 1;
	uint64_t *count = nk_malloc(n2 * sizeof *count);
	uint32_t *parent = nk_malloc(n2 * sizeof *parent);
	uint8_t *binary = nk_calloc(n2, 1);
	uint32_t *depth = nk_calloc(V, sizeof *depth);
	m->code_off = nk_calloc((size_t)V + 1, sizeof *m->code_off);
	int rc = NK_ENOMEM;
	if (!count || !parent || !binary || !depth || !m->code_off)
		goto out;
	for (uint32_t i = 0; i < V; i++)
		count[i] = m->vocab.counts[i];
	for (size_t i = V; i < n2; i++)
		count[i] = UINT64_MAX;
	int64_t pos1 = (int64_t)V - 1, pos2 = V;
	for (uint32_t a = 0; a + 1 < V; a++) {
		int64_t mins[2];
		for (int k = 0; k < 2; k++) {
			if (pos1 >= 0 && count[pos1] < count[pos2])
				mins[k] = pos1--;
			else
				mins[k] = pos2++;
		}
		count[V + a] = count[mins[0]] + count[mins[1]];
		parent[mins[0]] = V + a;
		parent[mins[1]] = V + a;
		binary[mins[1]] = 1;
	}
	uint64_t total = 0;
	for (uint32_t w = 0; w < V; w++) {
		uint32_t d = 0;
		for (size_t b = w; b != (size_t)V * 2 - 2 && V > 1; b = parent[b])
			d++;
		depth[w] = d;
		m->code_off[w] = total;
		total += d;
	}
	m->code_off[V] = total;
	m->codes = nk_malloc(total ? total : 1);
	m->points = nk_malloc((total ? total : 1) * sizeof *m->points);
	if (!m->codes || !m->points)
		goto out;
	for (uint32_t w = 0; w < V; w++) {
		/* Walk up; store root-first, as word2vec does. */
		uint64_t o = m->code_off[w];
		uint32_t d = depth[w], i = 0;
		for (size_t b = w; i < d; b = parent[b], i++) {
			m->codes[o + d - 1 - i] = binary[b];
			m->points[o + d - 1 - i] = parent[b] - V;
		}
	}
	rc = 0;
out:
	free(count);
	free(parent);
	free(binary);
	free(depth);
	return rc;
}

static int build_tables(nk_w2v *m)
{
	uint32_t V = m->V;
	/* One entry past SIG_N: for f just under SIG_MAX the float index
	 * (f + SIG_MAX) * SIG_N / (2 SIG_MAX) can round up to SIG_N itself
	 * (word2vec.c allocates the same spare entry). */
	m->sigm = nk_malloc((SIG_N + 1) * sizeof *m->sigm);
	m->keep = nk_malloc(V * sizeof *m->keep);
	if (!m->sigm || !m->keep)
		return NK_ENOMEM;
	for (int i = 0; i <= SIG_N; i++) {
		double x = ((double)i / SIG_N * 2 - 1) * SIG_MAX;
		m->sigm[i] = (float)(1 / (1 + exp(-x)));
	}
	double t = m->o.sample * (double)m->vocab.total;
	for (uint32_t i = 0; i < V; i++) {
		double c = (double)m->vocab.counts[i];
		double keep = t > 0 ? (sqrt(c / t) + 1) * t / c : 1;
		m->keep[i] = keep >= 1 ? UINT32_MAX : (uint32_t)(keep * 4294967296.0);
	}
	if (m->o.negative > 0 && build_alias(m))
		return NK_ENOMEM;
	if (m->o.hs && build_huffman(m))
		return NK_ENOMEM;
	return 0;
}

static int check_opts(const nk_w2v_opts *o)
{
	if (o->dim < 1 || o->dim > NK_W2V_DIM_MAX)
		return nk_error(NK_EINVAL, "vector size %d not in 1..%d", o->dim,
				NK_W2V_DIM_MAX);
	if (o->window < 1 || o->window > 1000 || o->negative < 0 ||
	    o->negative > 1000 || o->epochs < 0 || o->threads < 1 ||
	    o->threads > 1024)
		return nk_error(NK_EINVAL, "bad training options");
	if (!o->hs && !o->negative)
		return nk_error(NK_EINVAL,
				"neither negative sampling nor hierarchical softmax");
	return 0;
}

static int alloc_weights(nk_w2v *m)
{
	size_t n;
	if (nk_size_mul(&n, (size_t)m->V * sizeof(float), (size_t)m->D))
		return NK_ENOMEM;
	m->win = nk_malloc_aligned(n);
	if (!m->win)
		return NK_ENOMEM;
	if (m->o.negative) {
		if (!(m->wout = nk_malloc_aligned(n)))
			return NK_ENOMEM;
		memset(m->wout, 0, n);
	}
	if (m->o.hs) {
		if (!(m->whs = nk_malloc_aligned(n)))
			return NK_ENOMEM;
		memset(m->whs, 0, n);
	}
	return 0;
}

int nk_w2v_init(nk_w2v *m, const nk_w2v_opts *o, nk_vocab *vocab)
{
	memset(m, 0, sizeof *m);
	if (check_opts(o))
		return NK_EINVAL;
	if (vocab->n == 0)
		return nk_error(NK_EINVAL, "empty vocabulary");
	m->o = *o;
	if (m->o.min_alpha < 0)
		m->o.min_alpha = m->o.alpha * 1e-4;
	m->vocab = *vocab;
	memset(vocab, 0, sizeof *vocab);
	m->V = m->vocab.n;
	m->D = o->dim;
	m->alpha_now = m->o.alpha;
	nk_rng_seed(&m->rng, o->seed, 0);
	int rc = alloc_weights(m);
	if (!rc)
		rc = build_tables(m);
	if (rc) {
		nk_w2v_free(m);
		return rc;
	}
	/* Uniform in [-1/D, 1/D), as gensim (prep_vectors) and fastText
	 * draw it; word2vec.c's [-0.5/D, 0.5/D) lost half a point of analogy
	 * accuracy against gensim (mean of 3 seeds on two corpora, README). */
	size_t n = (size_t)m->V * m->D;
	for (size_t i = 0; i < n; i++)
		m->win[i] = (nk_rng_float(&m->rng) * 2 - 1) / (float)m->D;
	return 0;
}

/* ---- training ---------------------------------------------------------- */

struct shared {
	nk_w2v *m;
	const nk_w2v_corpus *c;
	uint64_t total;         /* words to process in this run */
	uint64_t base;          /* words of the run done before this span */
	int passes, epoch0;
	uint64_t done;          /* atomically updated */
	nk_w2v_progress_fn fn;
	void *ctx;
	int threads;
};

struct worker {
	struct shared *s;
	int t;
	size_t lo, hi;   /* slice of the corpus */
	nk_rng rng;
	float *buf;      /* scratch */
	uint32_t *sen;
	int err;
};

static inline float sigmoid_g(const float *sigm, float f, float label,
			      float alpha)
{
	if (f >= SIG_MAX)
		return (label - 1) * alpha;
	if (f <= -SIG_MAX)
		return label * alpha;
	return (label - sigm[(int)((f + SIG_MAX) * (SIG_N / SIG_MAX / 2))]) *
	       alpha;
}

/* Eight lanes and two accumulators, reduced in one fixed order: GCC's
 * `omp simd reduction` spills the lanes and adds them one by one, which
 * cost a third of the training time. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));

static inline float dot(const float *a, const float *b, int D)
{
	v8f s0 = { 0 }, s1 = { 0 };
	int i = 0;
	for (; i + 16 <= D; i += 16) {
		v8f x0, y0, x1, y1;
		memcpy(&x0, a + i, 32);
		memcpy(&y0, b + i, 32);
		memcpy(&x1, a + i + 8, 32);
		memcpy(&y1, b + i + 8, 32);
		s0 += x0 * y0;
		s1 += x1 * y1;
	}
	for (; i + 8 <= D; i += 8) {
		v8f x0, y0;
		memcpy(&x0, a + i, 32);
		memcpy(&y0, b + i, 32);
		s0 += x0 * y0;
	}
	s0 += s1;
	float s = ((s0[0] + s0[4]) + (s0[1] + s0[5])) +
		  ((s0[2] + s0[6]) + (s0[3] + s0[7]));
	for (; i < D; i++)
		s += a[i] * b[i];
	return s;
}

static inline void axpy(float *y, float a, const float *x, int D)
{
#pragma omp simd
	for (int i = 0; i < D; i++)
		y[i] += a * x[i];
}

/* The output side for input vector l1 (neu1e accumulates its gradient):
 * hierarchical softmax over the word's code, then negative sampling. */
static void train_pair(const nk_w2v *m, nk_rng *r, uint32_t word,
		       const float *l1, float *neu1e, float alpha)
{
	int D = m->D;
	if (m->o.hs) {
		for (uint64_t k = m->code_off[word]; k < m->code_off[word + 1];
		     k++) {
			float *l2 = m->whs + (size_t)m->points[k] * D;
			float f = dot(l1, l2, D);
			if (f <= -SIG_MAX || f >= SIG_MAX)
				continue;
			float g = sigmoid_g(m->sigm, f, 1.0f - m->codes[k], alpha);
			axpy(neu1e, g, l2, D);
			axpy(l2, g, l1, D);
		}
	}
	for (int d = 0; d <= m->o.negative && m->o.negative; d++) {
		uint32_t target = word;
		float label = 1;
		if (d) {
			target = draw_negative(m, r);
			if (target == word)
				continue;
			label = 0;
		}
		float *l2 = m->wout + (size_t)target * D;
		float g = sigmoid_g(m->sigm, dot(l1, l2, D), label, alpha);
		axpy(neu1e, g, l2, D);
		axpy(l2, g, l1, D);
	}
}

#ifndef NK_W2V_SGEMM
/* dst[i] += sum over k of G[i*gi + k*gk] * src[k], for rows of D floats:
 * one of the two products of train_batched, with its result added
 * straight into the weights.  Sixteen columns at a time stay in
 * registers across k, so each weight row is read and written once.
 * nk_sgemm computes the same products (build with -DNK_W2V_SGEMM to use
 * it), but these are 100 x 6 x 10 matrices gathered from scattered rows:
 * the copies in and out and its unpacked path made the whole training
 * 2.2x slower. */
static void acc_rows(float *const *dst, int M, const float *const *src, int K,
		     const float *G, int gi, int gk, int D)
{
	for (int i = 0; i < M; i++) {
		float *d = dst[i];
		const float *g = G + (size_t)i * gi;
		int j = 0;
		for (; j + 16 <= D; j += 16) {
			v8f a0 = { 0 }, a1 = { 0 };
			for (int k = 0; k < K; k++) {
				float c = g[(size_t)k * gk];
				v8f cv = { c, c, c, c, c, c, c, c }, x0, x1;
				memcpy(&x0, src[k] + j, 32);
				memcpy(&x1, src[k] + j + 8, 32);
				a0 += cv * x0;
				a1 += cv * x1;
			}
			v8f y0, y1;
			memcpy(&y0, d + j, 32);
			memcpy(&y1, d + j + 8, 32);
			y0 += a0;
			y1 += a1;
			memcpy(d + j, &y0, 32);
			memcpy(d + j + 8, &y1, 32);
		}
		for (; j < D; j++) {
			float a = 0;
			for (int k = 0; k < K; k++)
				a += g[(size_t)k * gk] * src[k][j];
			d[j] += a;
		}
	}
}
#endif

/* pWord2Vec: the nc context rows share the word and its negatives.  All
 * gradients come from the weights as they were before this step:
 * G = sigmoid'(in . out) from the rows, then the output rows are updated
 * from the (untouched) input rows, then the input rows from a copy of
 * the output rows taken before. */
static void train_batched(const nk_w2v *m, nk_rng *r, uint32_t word,
			  const uint32_t *ctx, int nc, float *buf, float alpha)
{
	int D = m->D, N = m->o.negative + 1;
	uint32_t out[1024 + 1];
	float label[1024 + 1];
	float *outM = buf;                        /* (N, D) copy */
	float *G = outM + (size_t)N * D;          /* (nc, N) */
	int n = 0;
	out[n] = word;
	label[n++] = 1;
	for (int d = 1; d < N; d++) {
		uint32_t t = draw_negative(m, r);
		if (t == word)
			continue;
		out[n] = t;
		label[n++] = 0;
	}
	for (int k = 0; k < n; k++)
		memcpy(outM + (size_t)k * D, m->wout + (size_t)out[k] * D,
		       D * sizeof(float));
	for (int i = 0; i < nc; i++)
		for (int k = 0; k < n; k++)
			G[i * n + k] = sigmoid_g(m->sigm,
						 dot(m->win + (size_t)ctx[i] * D,
						     outM + (size_t)k * D, D),
						 label[k], alpha);
#ifdef NK_W2V_SGEMM
	/* dIn = G @ outM, dOut = G^T @ inM, through nk_sgemm. */
	float *inM = G + (size_t)nc * N;          /* (nc, D) */
	float *dIn = inM + (size_t)nc * D;        /* (nc, D) */
	float *dOut = dIn + (size_t)nc * D;       /* (N, D) */
	for (int i = 0; i < nc; i++)
		memcpy(inM + (size_t)i * D, m->win + (size_t)ctx[i] * D,
		       D * sizeof(float));
	nk_sgemm(0, 0, nc, D, n, 1.0f, G, n, outM, D, 0.0f, dIn, D);
	nk_sgemm(1, 0, n, D, nc, 1.0f, G, n, inM, D, 0.0f, dOut, D);
	for (int i = 0; i < nc; i++)
		axpy(m->win + (size_t)ctx[i] * D, 1.0f, dIn + (size_t)i * D, D);
	for (int k = 0; k < n; k++)
		axpy(m->wout + (size_t)out[k] * D, 1.0f, dOut + (size_t)k * D,
		     D);
#else
	float *inr[2 * 1000], *outr[1024 + 1];
	const float *outc[1024 + 1];
	for (int i = 0; i < nc; i++)
		inr[i] = m->win + (size_t)ctx[i] * D;
	for (int k = 0; k < n; k++) {
		outr[k] = m->wout + (size_t)out[k] * D;
		outc[k] = outM + (size_t)k * D;
	}
	/* wout[out[k]] += sum_i G[i,k] win[ctx[i]], then
	 * win[ctx[i]] += sum_k G[i,k] outM[k]. */
	acc_rows(outr, n, (const float *const *)inr, nc, G, 1, n, D);
	acc_rows(inr, nc, outc, n, G, n, 1, D);
#endif
}

static double cur_alpha(const struct shared *s, uint64_t done)
{
	const nk_w2v *m = s->m;
	done += s->base;
	double f = s->total ? (double)done / (double)s->total : 1;
	if (f > 1)
		f = 1;
	double a = m->o.alpha - (m->o.alpha - m->o.min_alpha) * f;
	return a < m->o.min_alpha ? m->o.min_alpha : a;
}

static void train_sentence(struct worker *w, const uint32_t *sen, int len,
			   float alpha)
{
	const nk_w2v *m = w->s->m;
	int D = m->D, win = m->o.window;
	float *neu1 = w->buf, *neu1e = neu1 + D;
	uint32_t ctx[2 * 1000];
	for (int pos = 0; pos < len; pos++) {
		uint32_t word = sen[pos];
		int b = (int)nk_rng_below(&w->rng, (uint64_t)win);
		int lo = pos - win + b, hi = pos + win - b;
		if (lo < 0)
			lo = 0;
		if (hi > len - 1)
			hi = len - 1;
		int nc = 0;
		for (int c = lo; c <= hi; c++)
			if (c != pos)
				ctx[nc++] = sen[c];
		if (!nc)
			continue;
		if (m->o.cbow) {
			memset(neu1, 0, D * sizeof(float));
			memset(neu1e, 0, D * sizeof(float));
			for (int i = 0; i < nc; i++)
				axpy(neu1, 1.0f, m->win + (size_t)ctx[i] * D, D);
			for (int i = 0; i < D; i++)
				neu1[i] /= (float)nc;
			train_pair(m, &w->rng, word, neu1, neu1e, alpha);
			for (int i = 0; i < nc; i++)
				axpy(m->win + (size_t)ctx[i] * D, 1.0f, neu1e, D);
		} else if (m->o.batched && m->o.negative && !m->o.hs) {
			train_batched(m, &w->rng, word, ctx, nc, w->buf + 2 * D,
				      alpha);
		} else {
			for (int i = 0; i < nc; i++) {
				float *l1 = m->win + (size_t)ctx[i] * D;
				memset(neu1e, 0, D * sizeof(float));
				train_pair(m, &w->rng, word, l1, neu1e, alpha);
				axpy(l1, 1.0f, neu1e, D);
			}
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *s = w->s;
	const nk_w2v *m = s->m;
	const uint32_t *ids = s->c->ids;
	uint64_t local = 0;
	for (int ep = 0; ep < s->passes; ep++) {
		size_t i = w->lo;
		while (i < w->hi) {
			int len = 0;
			uint64_t seen = 0;
			while (i < w->hi && ids[i] != NK_W2V_EOS) {
				uint32_t id = ids[i++];
				seen++;
				if (m->keep[id] == UINT32_MAX ||
				    nk_rng_u32(&w->rng) < m->keep[id])
					w->sen[len++] = id;
			}
			i++; /* the EOS */
			local += seen;
			uint64_t done = __atomic_load_n(&s->done, __ATOMIC_RELAXED);
			if (local >= 10000) {
				done = __atomic_add_fetch(&s->done, local,
							  __ATOMIC_RELAXED);
				local = 0;
				if (w->t == 0 && s->fn) {
					nk_w2v_progress p = {
						.done = (double)(s->base + done) / (double)(s->total ? s->total : 1),
						.alpha = cur_alpha(s, done),
						.words = s->base + done,
						.epoch = s->epoch0 + ep + 1,
						.threads = s->threads,
					};
					s->fn(s->ctx, &p);
				}
			}
			if (len)
				train_sentence(w, w->sen, len,
					       (float)cur_alpha(s, done));
		}
	}
	__atomic_add_fetch(&s->done, local, __ATOMIC_RELAXED);
	return NULL;
}

int nk_w2v_train_span(nk_w2v *m, const nk_w2v_corpus *c, nk_w2v_span *sp,
		      nk_w2v_progress_fn fn, void *ctx)
{
	if (check_opts(&m->o))
		return NK_EINVAL;
	if (sp->lo > sp->hi || sp->hi > c->n || sp->passes < 0)
		return nk_error(NK_EINVAL, "word2vec: span out of range");
	int T = m->o.threads;
	struct shared s = {
		.m = m, .c = c, .fn = fn, .ctx = ctx, .threads = T,
		.total = sp->total, .base = sp->base, .passes = sp->passes,
		.epoch0 = sp->epoch0,
	};
	struct worker *w = nk_calloc((size_t)T, sizeof *w);
	pthread_t *tid = nk_calloc((size_t)T, sizeof *tid);
	int D = m->D, N = m->o.negative + 1, W = 2 * m->o.window, rc = 0;
	size_t scratch = (size_t)2 * D + (size_t)W * D * 2 + (size_t)N * D * 2 +
			 (size_t)W * N + 64;
	if (!w || !tid) {
		rc = NK_ENOMEM;
		goto out;
	}
	for (int t = 0; t < T; t++) {
		w[t].s = &s;
		w[t].t = t;
		/* Split at sentence ends where one is near. */
		size_t n = sp->hi - sp->lo;
		w[t].lo = sp->lo + n * (size_t)t / (size_t)T;
		w[t].hi = sp->lo + n * (size_t)(t + 1) / (size_t)T;
		nk_rng_seed(&w[t].rng, nk_rng_u64(&m->rng), (uint64_t)t);
		w[t].buf = nk_malloc_aligned(scratch * sizeof(float));
		w[t].sen = nk_malloc(NK_W2V_SENTENCE_MAX * sizeof *w[t].sen);
		if (!w[t].buf || !w[t].sen) {
			rc = NK_ENOMEM;
			goto out;
		}
	}
	int started = 0;
	for (int t = 1; t < T; t++) {
		if (pthread_create(&tid[t], NULL, worker_main, &w[t]) != 0) {
			rc = nk_error(NK_ENOMEM, "cannot start thread %d", t);
			break;
		}
		started = t;
	}
	if (!rc)
		worker_main(&w[0]);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	if (!rc) {
		sp->done = s.done;
		sp->alpha = cur_alpha(&s, s.done);
	}
out:
	for (int t = 0; w && t < T; t++) {
		nk_free_aligned(w[t].buf);
		free(w[t].sen);
	}
	free(w);
	free(tid);
	return rc;
}

int nk_w2v_train(nk_w2v *m, const nk_w2v_corpus *c, nk_w2v_progress_fn fn,
		 void *ctx)
{
	nk_w2v_span sp = {
		.lo = 0, .hi = c->n, .passes = m->o.epochs,
		.total = c->words * (uint64_t)m->o.epochs,
	};
	int rc = nk_w2v_train_span(m, c, &sp, fn, ctx);
	if (rc)
		return rc;
	m->words_done += sp.done;
	m->epochs_done += m->o.epochs;
	m->alpha_now = sp.alpha;
	if (fn) {
		nk_w2v_progress p = { 1.0, m->alpha_now, sp.done, m->o.epochs,
				      m->o.threads };
		fn(ctx, &p);
	}
	return NK_OK;
}

/* ---- output ------------------------------------------------------------ */

int nk_w2v_write_vectors(const nk_w2v *m, FILE *fp, int binary,
			 const char *name)
{
	int D = m->D;
	errno = 0;
	fprintf(fp, "%u %d\n", m->V, D);
	for (uint32_t i = 0; i < m->V; i++) {
		const float *v = m->win + (size_t)i * D;
		fputs(m->vocab.words[i], fp);
		if (binary) {
			unsigned char b[4 * 256];
			putc(' ', fp);
			for (int j = 0; j < D; j += 256) {
				int n = D - j < 256 ? D - j : 256;
				for (int k = 0; k < n; k++) {
					uint32_t u;
					memcpy(&u, &v[j + k], 4);
					nk_store_u32le(b + 4 * k, u);
				}
				fwrite(b, 4, (size_t)n, fp);
			}
		} else {
			for (int j = 0; j < D; j++)
				fprintf(fp, " %.6g", v[j]);
		}
		putc('\n', fp);
	}
	if (fflush(fp) != 0 || ferror(fp))
		return nk_error(NK_EIO, "%s: write failed: %s", name,
				strerror(errno ? errno : EIO));
	return 0;
}

int nk_w2v_save(const nk_w2v *m, const char *path)
{
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NK_ENOMEM;
	size_t nbytes = 0;
	for (uint32_t i = 0; i < m->V; i++)
		nbytes += strlen(m->vocab.words[i]) + 1;
	char *words = nk_malloc(nbytes ? nbytes : 1);
	int64_t *counts = nk_malloc(m->V * sizeof *counts);
	int rc = NK_ENOMEM;
	if (!words || !counts)
		goto out;
	char *p = words;
	for (uint32_t i = 0; i < m->V; i++) {
		size_t l = strlen(m->vocab.words[i]);
		memcpy(p, m->vocab.words[i], l);
		p[l] = '\n';
		p += l + 1;
		counts[i] = (int64_t)m->vocab.counts[i];
	}
	int64_t rng[4];
	memcpy(rng, m->rng.s, sizeof rng);
	int64_t VD[2] = { m->V, m->D };
	const nk_w2v_opts *o = &m->o;
	rc = nk_wfile_set_str(w, "program", "w2v-train") ||
	     nk_wfile_set_int(w, NK_WFILE_SCHEMA_KEY, NK_W2V_SCHEMA) ||
	     nk_wfile_set_str(w, "kind", "word2vec") ||
	     nk_wfile_set_int(w, "dim", m->D) ||
	     nk_wfile_set_int(w, "window", o->window) ||
	     nk_wfile_set_int(w, "negative", o->negative) ||
	     nk_wfile_set_int(w, "hs", o->hs) ||
	     nk_wfile_set_int(w, "cbow", o->cbow) ||
	     nk_wfile_set_int(w, "min_count", (int64_t)o->min_count) ||
	     nk_wfile_set_float(w, "sample", o->sample) ||
	     nk_wfile_set_float(w, "alpha", o->alpha) ||
	     nk_wfile_set_float(w, "min_alpha", o->min_alpha) ||
	     nk_wfile_set_float(w, "alpha_now", m->alpha_now) ||
	     nk_wfile_set_int(w, "epochs_done", m->epochs_done) ||
	     nk_wfile_set_int(w, "words_done", (int64_t)m->words_done) ||
	     nk_wfile_set_int(w, "vocab_total", (int64_t)m->vocab.total) ||
	     nk_wfile_set_ints(w, "rng", rng, 4) ||
	     nk_wfile_add(w, "vectors", NK_F32, 2, VD, m->win) ||
	     (m->wout && nk_wfile_add(w, "out.ns", NK_F32, 2, VD, m->wout)) ||
	     (m->whs && nk_wfile_add(w, "out.hs", NK_F32, 2, VD, m->whs)) ||
	     nk_wfile_add(w, "vocab.counts", NK_I64, 1, (int64_t[]){ m->V },
			  counts) ||
	     nk_wfile_add(w, "vocab.words", NK_U8, 1,
			  (int64_t[]){ (int64_t)nbytes }, words);
	if (!rc)
		rc = nk_wfile_write(w, path, 0);
	else
		rc = NK_ENOMEM;
out:
	nk_wfile_free(w);
	free(words);
	free(counts);
	return rc;
}

static int get_i(const nk_wfile *f, const char *k, int64_t lo, int64_t hi,
		 int64_t *v)
{
	if (nk_wfile_get_int(f, k, v))
		return NK_EFORMAT;
	if (*v < lo || *v > hi)
		return nk_error(NK_EFORMAT, "%s: metadata '%s' = %lld out of range",
				nk_wfile_name(f), k, (long long)*v);
	return 0;
}

/* Reads the vocabulary (words and counts) of a saved state. */
static int load_vocab(nk_vocab *v, const nk_wfile *f, int64_t *V)
{
	const nk_wtensor *tw = nk_wfile_expect(f, "vocab.words", NK_U8, 1,
					       (int64_t[]){ -1 });
	const nk_wtensor *tc = nk_wfile_expect(f, "vocab.counts", NK_I64, 1,
					       (int64_t[]){ -1 });
	if (!tw || !tc)
		return NK_EFORMAT;
	*V = tc->ne[0];
	if (*V < 1 || *V > INT32_MAX - 1)
		return nk_error(NK_EFORMAT, "%s: bad vocabulary size",
				nk_wfile_name(f));
	if (nk_vocab_init(v, 0))
		return NK_ENOMEM;
	const char *p = tw->data, *end = p + tw->nbytes;
	const int64_t *cnt = tc->data;
	for (int64_t i = 0; i < *V; i++) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		if (!nl || nl == p || cnt[i] < 0 ||
		    nk_vocab_find(v, p, (size_t)(nl - p)) >= 0)
			return nk_error(NK_EFORMAT, "%s: vocabulary damaged",
					nk_wfile_name(f));
		if (nk_vocab_add(v, p, (size_t)(nl - p), (uint64_t)cnt[i]))
			return nk_error_prefix(NK_EFORMAT, nk_wfile_name(f));
		p = nl + 1;
	}
	return 0;
}

int nk_w2v_load(nk_w2v *m, const char *path)
{
	memset(m, 0, sizeof *m);
	nk_wfile *f = nk_wfile_read(path);
	if (!f)
		return NK_EIO;
	const char *s;
	int rc = NK_EFORMAT;
	int64_t D, win, neg, hs, cbow, ep, wd, mc, V;
	double sample, alpha, min_alpha, alpha_now;
	const int64_t *rng;
	size_t nrng;
	nk_w2v_opts *o = &m->o;
	if (nk_wfile_get_str(f, "kind", &s))
		goto out;
	if (strcmp(s, "word2vec") != 0) {
		nk_error(NK_EFORMAT, "%s: a '%s' model, not word2vec", path, s);
		goto out;
	}
	if (nk_wfile_check_schema(f, "word2vec", 1, NK_W2V_SCHEMA, NULL)) {
		rc = NK_EVERSION;
		goto out;
	}
	if (get_i(f, "dim", 1, NK_W2V_DIM_MAX, &D) ||
	    get_i(f, "window", 1, 1000, &win) ||
	    get_i(f, "negative", 0, 1000, &neg) || get_i(f, "hs", 0, 1, &hs) ||
	    get_i(f, "cbow", 0, 1, &cbow) ||
	    get_i(f, "epochs_done", 0, INT64_MAX, &ep) ||
	    get_i(f, "words_done", 0, INT64_MAX, &wd) ||
	    get_i(f, "min_count", 0, INT64_MAX, &mc) ||
	    nk_wfile_get_float(f, "sample", &sample) ||
	    nk_wfile_get_float(f, "alpha", &alpha) ||
	    nk_wfile_get_float(f, "min_alpha", &min_alpha) ||
	    nk_wfile_get_float(f, "alpha_now", &alpha_now) ||
	    nk_wfile_get_ints(f, "rng", &rng, &nrng))
		goto out;
	if (nrng != 4 || (!neg && !hs)) {
		nk_error(NK_EFORMAT, "%s: bad training state", path);
		goto out;
	}
	if (load_vocab(&m->vocab, f, &V))
		goto out;
	nk_w2v_opts_default(o);
	o->dim = (int)D;
	o->window = (int)win;
	o->negative = (int)neg;
	o->hs = (int)hs;
	o->cbow = (int)cbow;
	o->min_count = (uint64_t)mc;
	o->sample = sample;
	o->alpha = alpha;
	o->min_alpha = min_alpha;
	m->alpha_now = alpha_now;
	m->epochs_done = ep;
	m->words_done = (uint64_t)wd;
	memcpy(m->rng.s, rng, sizeof m->rng.s);
	m->V = (uint32_t)V;
	m->D = (int)D;
	int64_t VD[2] = { V, D };
	const nk_wtensor *tv = nk_wfile_expect(f, "vectors", NK_F32, 2, VD);
	const nk_wtensor *tn = neg ? nk_wfile_expect(f, "out.ns", NK_F32, 2, VD)
				   : NULL;
	const nk_wtensor *th = hs ? nk_wfile_expect(f, "out.hs", NK_F32, 2, VD)
				  : NULL;
	if (!tv || (neg && !tn) || (hs && !th))
		goto out;
	if ((rc = alloc_weights(m)) || (rc = build_tables(m)))
		goto out;
	memcpy(m->win, tv->data, tv->nbytes);
	if (tn)
		memcpy(m->wout, tn->data, tn->nbytes);
	if (th)
		memcpy(m->whs, th->data, th->nbytes);
	rc = 0;
out:
	nk_wfile_free(f);
	if (rc) {
		nk_w2v_free(m);
		return rc;
	}
	return 0;
}

void nk_w2v_resume_opts(nk_w2v *m, const nk_w2v_opts *o, unsigned set)
{
	m->o.epochs = o->epochs;
	m->o.threads = o->threads;
	m->o.batched = o->batched;
	if (set & NK_W2V_SET_ALPHA)
		m->o.alpha = o->alpha;
	if (set & NK_W2V_SET_MIN_ALPHA)
		m->o.min_alpha = o->min_alpha;
	else if (set & NK_W2V_SET_ALPHA)
		m->o.min_alpha = o->alpha * 1e-4;
}

int nk_w2v_is_token_stream(const void *data, size_t size)
{
	return size >= 4 && memcmp(data, NK_TOK_MAGIC, 4) == 0;
}
