/* w2v_eval.c - loading word vectors; neighbours, analogies, similarity.
 *
 * Accuracy on analogies follows gensim's evaluate_word_analogies so that
 * the two agree on the same vectors: words are matched with ASCII case
 * ignored among the first `cutoff` words (first occurrence wins), a
 * question with any word outside them is unseen, and the answer is the
 * best word other than the three given.  Questions are scored in blocks:
 * the distinct words of a block times the cut-off vocabulary is one
 * nk_sgemm, from which 3CosAdd and 3CosMul both follow.
 */
#include "models/w2v.h"
#include "core/base.h"
#include "core/gemm.h"
#include "core/hash.h"
#include "core/io.h"
#include "formats/wfile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nk_w2v_vecs_free(nk_w2v_vecs *w)
{
	for (uint32_t i = 0; w->words && i < w->n; i++)
		free(w->words[i]);
	free(w->words);
	nk_free_aligned(w->vec);
	nk_idtab_free(&w->folded);
	nk_idtab_free(&w->exact);
	memset(w, 0, sizeof *w);
}

static inline unsigned char up(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

static uint64_t hash_word(const char *s, size_t len, int fold)
{
	uint64_t h = NK_FNV1A_INIT;
	for (size_t i = 0; i < len; i++)
		h = nk_fnv1a_step(h, fold ? up((unsigned char)s[i])
					  : (unsigned char)s[i]);
	return h;
}

static int word_eq(const char *a, const char *b, size_t len, int fold)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (!x || (fold ? up(x) != up(y) : x != y))
			return 0;
	}
	return a[len] == 0;
}

static int64_t lookup(const nk_w2v_vecs *w, const char *s, size_t len,
		      int fold)
{
	const nk_idtab *t = fold ? &w->folded : &w->exact;
	nk_idprobe p = nk_idtab_probe(t, hash_word(s, len, fold));
	for (uint32_t id; (id = nk_idtab_next(t, &p)) != NK_IDTAB_END;)
		if (word_eq(w->words[id], s, len, fold))
			return id;
	return -1;
}

int64_t nk_w2v_vecs_find(const nk_w2v_vecs *w, const char *word, int fold)
{
	return lookup(w, word, strlen(word), fold);
}

static int index_init(nk_w2v_vecs *w)
{
	int rc;
	if ((rc = nk_idtab_init(&w->folded, w->n)) ||
	    (rc = nk_idtab_init(&w->exact, w->n)))
		return rc;
	return 0;
}

/* Indexes word i.  The folded table keeps the first of several case
 * variants (as gensim's evaluate_word_analogies does); an exact duplicate
 * is refused: which of its vectors is meant cannot be known, and gensim
 * keeps the first with a warning where a query would silently return a
 * word as its own neighbour.  Returns 0, NK_ENOMEM, or -1 with *first
 * set to the earlier occurrence. */
static int index_word(nk_w2v_vecs *w, uint32_t i, uint32_t *first)
{
	size_t len = strlen(w->words[i]);
	for (int fold = 0; fold < 2; fold++) {
		int64_t id = lookup(w, w->words[i], len, fold);
		if (id >= 0) {
			if (!fold) {
				*first = (uint32_t)id;
				return -1;
			}
			continue;
		}
		if (nk_idtab_put(fold ? &w->folded : &w->exact,
				 hash_word(w->words[i], len, fold), i))
			return NK_ENOMEM;
	}
	return 0;
}

static int index_words(nk_w2v_vecs *w, const char *name)
{
	int rc = index_init(w);
	for (uint32_t i = 0; i < w->n && !rc; i++) {
		uint32_t first;
		rc = index_word(w, i, &first);
		if (rc < 0)
			rc = nk_error(NK_EFORMAT,
				      "%s: word %u '%s' repeats word %u",
				      name, i + 1, w->words[i], first + 1);
	}
	return rc;
}

static void normalise(nk_w2v_vecs *w)
{
	for (uint32_t i = 0; i < w->n; i++) {
		float *v = w->vec + (size_t)i * w->D;
		double s = 0;
		for (int j = 0; j < w->D; j++)
			s += (double)v[j] * v[j];
		/* In double: 1/norm of a denormal or huge vector is not a
		 * float. */
		if (s > 0) {
			double norm = sqrt(s);
			for (int j = 0; j < w->D; j++)
				v[j] = (float)(v[j] / norm);
		}
	}
}

/* ---- parsing ------------------------------------------------------------ */

static const unsigned char *skip_sp(const unsigned char *p,
				    const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static int parse_u64(const unsigned char **pp, const unsigned char *end,
		     uint64_t max, uint64_t *v)
{
	const unsigned char *p = *pp;
	*v = 0;
	if (p == end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		*v = *v * 10 + (uint64_t)(*p++ - '0');
		if (*v > max)
			return -1;
	}
	*pp = p;
	return 0;
}

/* Reads "word" (up to a blank) at *pp into a new string. */
static char *take_word(const unsigned char **pp, const unsigned char *end,
		       int *err)
{
	const unsigned char *p = *pp, *s = p;
	while (p < end && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	size_t len = (size_t)(p - s);
	*err = len == 0 ? 1 : len > NK_VOCAB_WORD_MAX ? 2
	       : memchr(s, 0, len) ? 4 : 0;
	if (*err)
		return NULL;
	char *w = nk_malloc(len + 1);
	if (w) {
		memcpy(w, s, len);
		w[len] = 0;
	} else {
		*err = 3;
	}
	*pp = p;
	return w;
}

/* The blank-separated fields of [p, e): their number; *printable is 0
 * when one holds a byte outside printable ASCII (as binary floats do). */
static int count_fields(const unsigned char *p, const unsigned char *e,
			int *printable)
{
	int n = 0;
	*printable = 1;
	for (;;) {
		p = skip_sp(p, e);
		if (p == e)
			return n;
		n++;
		for (; p < e && *p != ' ' && *p != '\t' && *p != '\r'; p++)
			if (*p < 0x21 || *p > 0x7e)
				*printable = 0;
	}
}

/* Parses the D numbers of text line LINE (after word W) from [p, e). */
static int parse_floats(const unsigned char *p, const unsigned char *e,
			float *v, uint64_t D, const char *name, uint64_t line,
			const char *word)
{
	char buf[64];
	uint64_t n = 0;
	for (;;) {
		p = skip_sp(p, e);
		if (p == e)
			break;
		const unsigned char *s = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		size_t len = (size_t)(p - s);
		if (++n > D)
			continue;
		char *stop = buf;
		float f = 0;
		if (len < sizeof buf) {
			memcpy(buf, s, len);
			buf[len] = 0;
			f = strtof(buf, &stop);
		}
		if (len >= sizeof buf || *stop || !isfinite(f))
			return nk_error(NK_EFORMAT,
					"%s:%llu: word '%s', field %llu: '%.*s%s' is "
					"not a finite float",
					name, (unsigned long long)line, word,
					(unsigned long long)n,
					len > 40 ? 40 : (int)len, (const char *)s,
					len > 40 ? "..." : "");
		v[n - 1] = f;
	}
	if (n != D)
		return nk_error(NK_EFORMAT,
				"%s:%llu: word '%s': %llu values, expected %llu",
				name, (unsigned long long)line, word,
				(unsigned long long)n, (unsigned long long)D);
	return 0;
}

int nk_w2v_vecs_parse(nk_w2v_vecs *w, const void *data, size_t size,
		      const char *name)
{
	const unsigned char *p = data, *end = p + size;
	memset(w, 0, sizeof *w);
	uint64_t V, D;
	p = skip_sp(p, end);
	if (parse_u64(&p, end, NK_W2V_FILE_MAX_WORDS, &V) ||
	    (p = skip_sp(p, end), parse_u64(&p, end, NK_W2V_DIM_MAX, &D)) ||
	    (p = skip_sp(p, end), p == end || *p != '\n'))
		return nk_error(NK_EFORMAT,
				"%s:1: expected a header 'WORDS DIMENSIONS' "
				"(word2vec text or binary vectors)", name);
	p++;
	if (V == 0 || D == 0)
		return nk_error(NK_EFORMAT, "%s:1: no vectors (header '%llu %llu')",
				name, (unsigned long long)V, (unsigned long long)D);
	/* Every vector takes at least 2*D bytes (text, the last newline
	 * aside) or 4*D (binary): check before allocating. */
	if ((uint64_t)(end - p + 1) / (2 * D) < V)
		return nk_error(NK_EFORMAT,
				"%s: truncated: the header promises %llu vectors "
				"of %llu, the file is %zu bytes",
				name, (unsigned long long)V, (unsigned long long)D,
				size);
	w->n = (uint32_t)V;
	w->D = (int)D;
	w->words = nk_calloc(V, sizeof *w->words);
	w->vec = nk_malloc_aligned(V * D * sizeof(float));
	if (!w->words || !w->vec || index_init(w)) {
		nk_w2v_vecs_free(w);
		return NK_ENOMEM;
	}
	/* Text when the first record is a line of the word and D printable
	 * fields, whatever they say ("nan" is then reported as a bad value,
	 * by line); binary floats are 4*D raw bytes. */
	int text = 0;
	{
		const unsigned char *q = p, *nl;
		while (q < end && *q == '\n')
			q++;
		nl = q < end ? memchr(q, '\n', (size_t)(end - q)) : NULL;
		if (!nl)
			nl = end;
		const unsigned char *s = q;
		while (s < nl && *s != ' ' && *s != '\t')
			s++;
		int printable;
		if (s > q && count_fields(s, nl, &printable) == (int)D &&
		    printable)
			text = 1;
	}
	uint64_t line = 1;
	int rc = 0;
	for (uint64_t i = 0; i < V && !rc; i++) {
		size_t off = 0;
		if (text) {
			line++;
			if (p >= end) {
				rc = nk_error(NK_EFORMAT,
					      "%s:%llu: truncated: %llu of %llu vectors",
					      name, (unsigned long long)line,
					      (unsigned long long)i,
					      (unsigned long long)V);
				break;
			}
			/* The last line may lack its newline. */
			const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
			const unsigned char *e = nl ? nl : end;
			int err;
			p = skip_sp(p, e);
			w->words[i] = take_word(&p, e, &err);
			if (err) {
				rc = err == 3 ? NK_ENOMEM
				     : nk_error(NK_EFORMAT, "%s:%llu: %s", name,
						(unsigned long long)line,
						err == 1 ? "no word"
						: err == 4 ? "a NUL byte in a word"
							   : "word longer than 255 bytes");
				break;
			}
			rc = parse_floats(p, e, w->vec + i * D, D, name, line,
					  w->words[i]);
			p = nl ? nl + 1 : end;
		} else {
			while (p < end && (*p == '\n' || *p == '\r'))
				p++;
			off = (size_t)(p - (const unsigned char *)data);
			int err;
			w->words[i] = take_word(&p, end, &err);
			if (err || p >= end || *p != ' ') {
				rc = err == 3 ? NK_ENOMEM
				     : nk_error(NK_EFORMAT,
						"%s: byte %zu: %s (vector %llu of %llu)",
						name, off,
						err == 2 ? "word longer than 255 bytes"
						: err == 4 ? "a NUL byte in a word"
						: p >= end ? "truncated"
							   : "expected 'word ' before the floats",
						(unsigned long long)i + 1,
						(unsigned long long)V);
				break;
			}
			p++;
			if ((size_t)(end - p) < 4 * D) {
				rc = nk_error(NK_EFORMAT,
					      "%s: byte %zu: truncated (vector %llu of %llu)",
					      name, off, (unsigned long long)i + 1,
					      (unsigned long long)V);
				break;
			}
			float *v = w->vec + i * D;
			for (uint64_t j = 0; j < D; j++, p += 4) {
				uint32_t u = nk_load_u32le(p);
				memcpy(&v[j], &u, 4);
				if (!isfinite(v[j])) {
					rc = nk_error(NK_EFORMAT,
						      "%s: byte %zu: word '%s', field %llu: "
						      "not a finite float",
						      name, (size_t)(p - (const unsigned char *)data),
						      w->words[i], (unsigned long long)j + 1);
					break;
				}
			}
		}
		uint32_t first;
		int r;
		if (!rc && (r = index_word(w, (uint32_t)i, &first))) {
			if (r > 0)
				rc = r;
			else if (text)
				rc = nk_error(NK_EFORMAT,
					      "%s:%llu: word '%s' again (first on line %u)",
					      name, (unsigned long long)line,
					      w->words[i], first + 2);
			else
				rc = nk_error(NK_EFORMAT,
					      "%s: byte %zu: word '%s' again (first as "
					      "vector %u of %llu)",
					      name, off, w->words[i], first + 1,
					      (unsigned long long)V);
		}
	}
	if (rc) {
		nk_w2v_vecs_free(w);
		return rc;
	}
	normalise(w);
	return 0;
}

int nk_w2v_vecs_load(nk_w2v_vecs *w, const char *path)
{
	nk_input in;
	memset(w, 0, sizeof *w);
	if (nk_input_load(&in, path, 0))
		return NK_EIO;
	int rc;
	if (in.size >= 4 && memcmp(in.data, NK_WFILE_MAGIC, 4) == 0) {
		nk_input_free(&in);
		nk_w2v m;
		if ((rc = nk_w2v_load(&m, path)))
			return rc;
		w->n = m.V;
		w->D = m.D;
		w->vec = m.win;
		m.win = NULL;
		w->words = m.vocab.words;
		m.vocab.words = NULL;
		m.vocab.n = 0;
		nk_w2v_free(&m);
		if ((rc = index_words(w, path))) {
			nk_w2v_vecs_free(w);
			return rc;
		}
		normalise(w);
		return 0;
	}
	rc = nk_w2v_vecs_parse(w, in.data, in.size, in.name);
	nk_input_free(&in);
	return rc;
}

/* ---- queries ------------------------------------------------------------ */

static inline float dotf(const float *a, const float *b, int D)
{
	float s = 0;
#pragma omp simd reduction(+ : s)
	for (int i = 0; i < D; i++)
		s += a[i] * b[i];
	return s;
}

/* Keeps out[0..*n) sorted, best first, at most k. */
static void offer(nk_w2v_hit *out, int *n, int k, uint32_t id, float score)
{
	if (*n == k && score <= out[k - 1].score)
		return;
	int i = *n < k ? (*n)++ : k - 1;
	while (i > 0 && out[i - 1].score < score) {
		out[i] = out[i - 1];
		i--;
	}
	out[i].id = id;
	out[i].score = score;
}

int nk_w2v_nearest(const nk_w2v_vecs *w, const float *q, uint32_t limit,
		   const uint32_t *skip, int nskip, nk_w2v_hit *out, int k)
{
	uint32_t n = limit && limit < w->n ? limit : w->n;
	int found = 0;
	if (k <= 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		int s = 0;
		for (int j = 0; j < nskip; j++)
			s |= skip[j] == i;
		if (!s)
			offer(out, &found, k, i,
			      dotf(q, w->vec + (size_t)i * w->D, w->D));
	}
	return found;
}

#define COSMUL_EPS 1e-6f

static inline float cosmul(float sa, float sb, float sc)
{
	return (1 + sb) * 0.5f * ((1 + sc) * 0.5f) / ((1 + sa) * 0.5f + COSMUL_EPS);
}

int nk_w2v_analogy(const nk_w2v_vecs *w, uint32_t a, uint32_t b, uint32_t c,
		   int method, uint32_t limit, nk_w2v_hit *out, int k)
{
	int D = w->D, found = 0;
	uint32_t n = limit && limit < w->n ? limit : w->n;
	const float *va = w->vec + (size_t)a * D, *vb = w->vec + (size_t)b * D,
		    *vc = w->vec + (size_t)c * D;
	if (k <= 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (i == a || i == b || i == c)
			continue;
		const float *x = w->vec + (size_t)i * D;
		float sa = dotf(x, va, D), sb = dotf(x, vb, D),
		      sc = dotf(x, vc, D);
		offer(out, &found, k, i,
		      method == NK_W2V_COSMUL ? cosmul(sa, sb, sc) : sb - sa + sc);
	}
	return found;
}

/* ---- analogy files ------------------------------------------------------ */

void nk_w2v_eval_free(nk_w2v_eval *e)
{
	free(e->sec);
	memset(e, 0, sizeof *e);
}

/* Splits [p, e) into at most `max` blank-separated fields; returns the
 * count (max + 1 when there are more). */
static int split(const char *p, const char *e, const char **f, size_t *len,
		 int max)
{
	int n = 0;
	for (;;) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == e)
			return n;
		const char *s = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (n == max)
			return max + 1;
		f[n] = s;
		len[n++] = (size_t)(p - s);
	}
}

struct question {
	uint32_t id[4];
	uint32_t sec;
};

typedef int (*question_fn)(void *ctx, const char **f, const size_t *len,
			   uint64_t line);
typedef int (*section_fn)(void *ctx, const char *name, size_t len);

static int scan_questions(const void *data, size_t size, const char *name,
			  section_fn sfn, question_fn qfn, void *ctx)
{
	const char *p = data, *end = p + size;
	uint64_t line = 0;
	int have_section = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		const char *f[5];
		size_t len[5];
		if (*p == ':') {
			const char *s = p + 1;
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			const char *t = e;
			while (t > s && (t[-1] == ' ' || t[-1] == '\r' || t[-1] == '\t'))
				t--;
			if (t == s)
				return nk_error(NK_EFORMAT, "%s:%llu: a section with no name",
						name, (unsigned long long)line);
			have_section = 1;
			if (sfn && sfn(ctx, s, (size_t)(t - s)))
				return NK_ENOMEM;
		} else {
			int n = split(p, e, f, len, 4);
			if (n != 0 && n != 4)
				return nk_error(NK_EFORMAT,
						"%s:%llu: %s fields, expected 4 "
						"(a b c d) or ': section'",
						name, (unsigned long long)line,
						n > 4 ? "more than 4" : n == 1 ? "1" : n == 2 ? "2" : "3");
			if (n == 4) {
				if (!have_section)
					return nk_error(NK_EFORMAT,
							"%s:%llu: a question before the "
							"first ': section' line",
							name, (unsigned long long)line);
				int rc = qfn ? qfn(ctx, f, len, line) : 0;
				if (rc)
					return rc;
			}
		}
		p = e + 1;
	}
	return 0;
}

static int count_q(void *ctx, const char **f, const size_t *len, uint64_t line)
{
	(void)f, (void)len, (void)line;
	++*(int64_t *)ctx;
	return 0;
}

int64_t nk_w2v_questions_check(const void *data, size_t size, const char *name)
{
	int64_t n = 0;
	int rc = scan_questions(data, size, name, NULL, count_q, &n);
	return rc ? -rc : n;
}

struct eval_ctx {
	nk_w2v_eval *e;
	const nk_w2v_vecs *w;
	uint32_t cutoff;
	struct question *q;
	size_t nq, cap;
};

static int add_section(void *ctx, const char *s, size_t len)
{
	struct eval_ctx *x = ctx;
	nk_w2v_section *ns = nk_reallocarray(x->e->sec, x->e->nsec + 1,
					     sizeof *ns);
	if (!ns)
		return NK_ENOMEM;
	x->e->sec = ns;
	nk_w2v_section *sec = &ns[x->e->nsec++];
	memset(sec, 0, sizeof *sec);
	if (len >= sizeof sec->name)
		len = sizeof sec->name - 1;
	memcpy(sec->name, s, len);
	sec->syntactic = strncmp(sec->name, "gram", 4) == 0;
	return 0;
}

static int add_question(void *ctx, const char **f, const size_t *len,
			uint64_t line)
{
	struct eval_ctx *x = ctx;
	(void)line;
	nk_w2v_section *sec = &x->e->sec[x->e->nsec - 1];
	sec->total++;
	struct question q = { .sec = (uint32_t)(x->e->nsec - 1) };
	for (int i = 0; i < 4; i++) {
		int64_t id = lookup(x->w, f[i], len[i], 1);
		if (id < 0 || (uint64_t)id >= x->cutoff)
			return 0;
		q.id[i] = (uint32_t)id;
	}
	sec->seen++;
	if (nk_grow((void **)&x->q, &x->cap, x->nq + 1, sizeof *x->q))
		return NK_ENOMEM;
	x->q[x->nq++] = q;
	return 0;
}

enum { QBLOCK = 128 };

int nk_w2v_eval_analogies(nk_w2v_eval *e, const nk_w2v_vecs *w,
			  const void *data, size_t size, const char *name,
			  uint32_t cutoff, unsigned methods, int threads)
{
	memset(e, 0, sizeof *e);
	uint32_t L = cutoff && cutoff < w->n ? cutoff : w->n;
	struct eval_ctx x = { .e = e, .w = w, .cutoff = L };
	int rc = scan_questions(data, size, name, add_section, add_question, &x);
	int D = w->D;
	/* canon[i]: the index a word's upper-cased form maps to, so that
	 * case variants of a question's words are excluded too (gensim). */
	int32_t *canon = nk_malloc((size_t)L * sizeof *canon);
	uint32_t *uniq = nk_malloc(3 * QBLOCK * sizeof *uniq);
	float *U = nk_malloc_aligned((size_t)3 * QBLOCK * D * sizeof(float));
	float *S = nk_malloc_aligned((size_t)3 * QBLOCK * L * sizeof(float));
	if (!rc && (!canon || !uniq || !U || !S))
		rc = NK_ENOMEM;
	for (uint32_t i = 0; !rc && i < L; i++)
		canon[i] = (int32_t)lookup(w, w->words[i], strlen(w->words[i]), 1);
	for (size_t q0 = 0; !rc && q0 < x.nq; q0 += QBLOCK) {
		size_t nb = x.nq - q0 < QBLOCK ? x.nq - q0 : QBLOCK;
		int nu = 0;
		uint16_t row[QBLOCK][3];
		for (size_t i = 0; i < nb; i++)
			for (int j = 0; j < 3; j++) {
				uint32_t id = x.q[q0 + i].id[j];
				int k = 0;
				while (k < nu && uniq[k] != id)
					k++;
				if (k == nu) {
					uniq[nu++] = id;
					memcpy(U + (size_t)k * D,
					       w->vec + (size_t)id * D,
					       D * sizeof(float));
				}
				row[i][j] = (uint16_t)k;
			}
		/* S = U @ vec[0:L]^T: every cosine the block needs. */
		nk_sgemm(0, 1, nu, (int)L, D, 1.0f, U, D, w->vec, D, 0.0f, S,
			 (int)L);
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads > 0 ? threads : 1)
		for (size_t i = 0; i < nb; i++) {
			const struct question *q = &x.q[q0 + i];
			const float *sa = S + (size_t)row[i][0] * L,
				    *sb = S + (size_t)row[i][1] * L,
				    *sc = S + (size_t)row[i][2] * L;
			float best[2] = { -INFINITY, -INFINITY };
			uint32_t arg[2] = { UINT32_MAX, UINT32_MAX };
			for (uint32_t t = 0; t < L; t++) {
				int32_t c = canon[t];
				if (c == (int32_t)q->id[0] || c == (int32_t)q->id[1] ||
				    c == (int32_t)q->id[2])
					continue;
				float add = sb[t] - sa[t] + sc[t];
				float mul = cosmul(sa[t], sb[t], sc[t]);
				if (add > best[0]) {
					best[0] = add;
					arg[0] = t;
				}
				if (mul > best[1]) {
					best[1] = mul;
					arg[1] = t;
				}
			}
			for (int m = 0; m < 2; m++)
				if ((methods >> m & 1) && arg[m] != UINT32_MAX &&
				    canon[arg[m]] == (int32_t)q->id[3]) {
#pragma omp atomic
					e->sec[q->sec].correct[m]++;
				}
		}
	}
	free(canon);
	free(uniq);
	nk_free_aligned(U);
	nk_free_aligned(S);
	free(x.q);
	if (rc)
		nk_w2v_eval_free(e);
	return rc;
}

/* ---- similarity --------------------------------------------------------- */

static int cmp_idx(const void *a, const void *b, void *ctx)
{
	const double *v = ctx;
	double x = v[*(const uint32_t *)a], y = v[*(const uint32_t *)b];
	return x < y ? -1 : x > y;
}

/* Ranks with ties averaged (1-based). */
static int ranks(double *r, const double *v, size_t n)
{
	uint32_t *o = nk_malloc((n ? n : 1) * sizeof *o);
	if (!o)
		return NK_ENOMEM;
	for (size_t i = 0; i < n; i++)
		o[i] = (uint32_t)i;
	qsort_r(o, n, sizeof *o, cmp_idx, (void *)v);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[o[j + 1]] == v[o[i]])
			j++;
		for (size_t k = i; k <= j; k++)
			r[o[k]] = (double)(i + j) / 2 + 1;
		i = j + 1;
	}
	free(o);
	return 0;
}

static double pearson(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

int nk_w2v_eval_similarity(nk_w2v_simres *r, const nk_w2v_vecs *w,
			   const void *data, size_t size, const char *name,
			   uint32_t cutoff)
{
	const char *p = data, *end = p + size;
	uint64_t line = 0;
	uint32_t L = cutoff && cutoff < w->n ? cutoff : w->n;
	double *gold = NULL, *cos = NULL;
	size_t n = 0, cap = 0, cap_cos = 0;
	int rc = 0;
	memset(r, 0, sizeof *r);
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *f[4];
		size_t len[4];
		line++;
		int nf = *p == '#' ? 0 : split(p, e, f, len, 3);
		p = e + 1;
		if (nf == 0)
			continue;
		if (nf != 3) {
			rc = nk_error(NK_EFORMAT,
				      "%s:%llu: %s fields, expected 3 (word word score)",
				      name, (unsigned long long)line,
				      nf > 3 ? "more than 3" : nf == 1 ? "1" : "2");
			break;
		}
		char buf[64], *stop;
		if (len[2] >= sizeof buf) {
			rc = nk_error(NK_EFORMAT, "%s:%llu: bad score", name,
				      (unsigned long long)line);
			break;
		}
		memcpy(buf, f[2], len[2]);
		buf[len[2]] = 0;
		double score = strtod(buf, &stop);
		if (*stop || !isfinite(score)) {
			rc = nk_error(NK_EFORMAT, "%s:%llu: '%s' is not a number",
				      name, (unsigned long long)line, buf);
			break;
		}
		int64_t a = lookup(w, f[0], len[0], 1), b = lookup(w, f[1], len[1], 1);
		if (a < 0 || b < 0 || (uint64_t)a >= L || (uint64_t)b >= L) {
			r->oov++;
			continue;
		}
		if (nk_grow((void **)&gold, &cap, n + 1, sizeof *gold) ||
		    nk_grow((void **)&cos, &cap_cos, n + 1, sizeof *cos)) {
			rc = NK_ENOMEM;
			break;
		}
		gold[n] = score;
		cos[n++] = dotf(w->vec + (size_t)a * w->D,
				w->vec + (size_t)b * w->D, w->D);
	}
	if (!rc) {
		r->pairs = n;
		r->spearman = r->pearson = NAN;
		if (n < 2)
			rc = nk_error(NK_EINVAL,
				      "%s: %zu pair%s with both words known (%llu "
				      "not), a correlation needs 2 or more",
				      name, n, n == 1 ? "" : "s",
				      (unsigned long long)r->oov);
		else {
			double *rg = nk_malloc(n * sizeof *rg),
			       *rc2 = nk_malloc(n * sizeof *rc2);
			if (rg && rc2 && !ranks(rg, gold, n) && !ranks(rc2, cos, n)) {
				r->spearman = pearson(rg, rc2, n);
				r->pearson = pearson(gold, cos, n);
			} else {
				rc = NK_ENOMEM;
			}
			free(rg);
			free(rc2);
			if (!rc && isnan(r->spearman))
				rc = nk_error(NK_EINVAL,
					      "%s: no correlation: the %zu scores, or "
					      "their cosines, are all equal", name, n);
		}
	}
	free(gold);
	free(cos);
	return rc;
}

void nk_w2v_eval_totals(nk_w2v_section sum[3], const nk_w2v_eval *e)
{
	memset(sum, 0, 3 * sizeof *sum);
	strcpy(sum[0].name, "semantic");
	strcpy(sum[1].name, "syntactic");
	strcpy(sum[2].name, "total");
	for (size_t i = 0; i < e->nsec; i++) {
		const nk_w2v_section *s = &e->sec[i];
		for (int k = 0; k < 2; k++) {
			nk_w2v_section *t = &sum[k ? 2 : s->syntactic];
			t->seen += s->seen;
			t->total += s->total;
			t->correct[0] += s->correct[0];
			t->correct[1] += s->correct[1];
		}
	}
	sum[1].syntactic = 1;
}
