/* vocab.c - word counting with pruning; see vocab.h. */
#include "text/vocab.h"
#include "core/base.h"
#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

/* Indexes words 0..n-1 afresh, after pruning or sorting renumbered them. */
static int reindex(nk_vocab *v)
{
	nk_idtab_clear(&v->index);
	for (uint32_t i = 0; i < v->n; i++) {
		int rc = nk_idtab_put(&v->index, nk_fnv1a_str(v->words[i]), i);
		if (rc)
			return rc;
	}
	return 0;
}

int nk_vocab_init(nk_vocab *v, uint64_t max_size)
{
	memset(v, 0, sizeof *v);
	v->max_size = max_size;
	return nk_idtab_init(&v->index, 1u << 11);
}

void nk_vocab_free(nk_vocab *v)
{
	for (uint32_t i = 0; i < v->n; i++)
		free(v->words[i]);
	free(v->words);
	free(v->counts);
	nk_idtab_free(&v->index);
	memset(v, 0, sizeof *v);
}

/* The id of w (len bytes, hashing to h), or -1. */
static int64_t find(const nk_vocab *v, const char *w, size_t len, uint64_t h)
{
	nk_idprobe p = nk_idtab_probe(&v->index, h);
	for (uint32_t id; (id = nk_idtab_next(&v->index, &p)) != NK_IDTAB_END;) {
		const char *s = v->words[id];
		if (strncmp(s, w, len) == 0 && s[len] == 0)
			return id;
	}
	return -1;
}

int64_t nk_vocab_find(const nk_vocab *v, const char *w, size_t len)
{
	return find(v, w, len, nk_fnv1a(w, len));
}

/* Drops words counted <= threshold, keeping the others' order. */
static int drop_below(nk_vocab *v, uint64_t keep_min)
{
	uint32_t j = 0;
	v->total = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		if (v->counts[i] >= keep_min) {
			v->words[j] = v->words[i];
			v->counts[j] = v->counts[i];
			v->total += v->counts[j++];
		} else {
			free(v->words[i]);
		}
	}
	v->n = j;
	return reindex(v);
}

int nk_vocab_add(nk_vocab *v, const char *w, size_t len, uint64_t count)
{
	if (len == 0 || len > NK_VOCAB_WORD_MAX)
		return nk_error(NK_ERANGE, "word of %zu bytes (limit %d)", len,
				NK_VOCAB_WORD_MAX);
	if (memchr(w, 0, len))
		return nk_error(NK_EFORMAT, "a NUL byte in a word");
	uint64_t h = nk_fnv1a(w, len);
	int64_t id = find(v, w, len, h);
	v->total += count;
	if (id >= 0) {
		v->counts[id] += count;
		return 0;
	}
	if (v->n >= INT32_MAX - 1)
		return nk_error(NK_ERANGE, "more than %d distinct words",
				INT32_MAX - 1);
	if (nk_grow((void **)&v->words, &v->cap_words, (size_t)v->n + 1,
		    sizeof *v->words) ||
	    nk_grow((void **)&v->counts, &v->cap_counts, (size_t)v->n + 1,
		    sizeof *v->counts))
		return NK_ENOMEM;
	char *copy = nk_malloc(len + 1);
	if (!copy)
		return NK_ENOMEM;
	memcpy(copy, w, len);
	copy[len] = 0;
	int rc = nk_idtab_put(&v->index, h, v->n);
	if (rc) {
		free(copy);
		return rc;
	}
	v->words[v->n] = copy;
	v->counts[v->n++] = count;
	if (v->max_size && v->n >= v->max_size) {
		/* Raise the threshold until the table is at most 70% full
		 * of the limit, so pruning is not redone at every word. */
		while (v->n > v->max_size * 7 / 10) {
			v->prune++;
			if (drop_below(v, v->prune + 1))
				return NK_ENOMEM;
		}
	}
	return 0;
}

static int by_count(const void *a, const void *b, void *ctx)
{
	const nk_vocab *v = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	if (v->counts[i] != v->counts[j])
		return v->counts[i] > v->counts[j] ? -1 : 1;
	return strcmp(v->words[i], v->words[j]);
}

int nk_vocab_finish(nk_vocab *v, uint64_t min_count)
{
	uint32_t *order = nk_malloc((size_t)(v->n ? v->n : 1) * sizeof *order);
	char **w = nk_malloc((size_t)(v->n ? v->n : 1) * sizeof *w);
	uint64_t *c = nk_malloc((size_t)(v->n ? v->n : 1) * sizeof *c);
	if (!order || !w || !c) {
		free(order);
		free(w);
		free(c);
		return NK_ENOMEM;
	}
	for (uint32_t i = 0; i < v->n; i++)
		order[i] = i;
	qsort_r(order, v->n, sizeof *order, by_count, v);
	uint32_t j = 0;
	v->total = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		uint32_t k = order[i];
		if (v->counts[k] >= min_count) {
			w[j] = v->words[k];
			c[j] = v->counts[k];
			v->total += c[j++];
		} else {
			free(v->words[k]);
		}
	}
	free(order);
	free(v->words);
	free(v->counts);
	v->words = w;
	v->counts = c;
	v->n = j;
	v->cap_words = v->cap_counts = j;
	/* Sized for the final vocabulary: counting's table may be far larger. */
	nk_idtab_free(&v->index);
	int rc = nk_idtab_init(&v->index, j);
	return rc ? rc : reindex(v);
}

int nk_vocab_save(const nk_vocab *v, FILE *fp)
{
	for (uint32_t i = 0; i < v->n; i++)
		if (fprintf(fp, "%s %llu\n", v->words[i],
			    (unsigned long long)v->counts[i]) < 0)
			return nk_error(NK_EIO, "write error");
	return 0;
}

int nk_vocab_load_mem(nk_vocab *v, const void *data, size_t size,
		      const char *name)
{
	const char *p = data, *end = p + size;
	uint64_t line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		const char *q = p;
		while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q == e) { /* blank line */
			p = e + 1;
			continue;
		}
		const char *w = q;
		while (q < e && *q != ' ' && *q != '\t' && *q != '\r')
			q++;
		size_t len = (size_t)(q - w);
		while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		uint64_t count = 1;
		if (q < e) {
			count = 0;
			const char *d = q;
			while (q < e && *q >= '0' && *q <= '9') {
				if (count > (UINT64_MAX - 9) / 10)
					return nk_error(NK_EFORMAT,
							"%s:%llu: count too large",
							name, (unsigned long long)line);
				count = count * 10 + (uint64_t)(*q++ - '0');
			}
			while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			if (q == d || q != e)
				return nk_error(NK_EFORMAT,
						"%s:%llu: expected 'word count'",
						name, (unsigned long long)line);
		}
		if (len > NK_VOCAB_WORD_MAX)
			return nk_error(NK_ERANGE,
					"%s:%llu: word of %zu bytes (limit %d)",
					name, (unsigned long long)line, len,
					NK_VOCAB_WORD_MAX);
		if (memchr(w, 0, len))
			return nk_error(NK_EFORMAT, "%s:%llu: a NUL byte in a word",
					name, (unsigned long long)line);
		if (nk_vocab_find(v, w, len) >= 0)
			return nk_error(NK_EFORMAT, "%s:%llu: word '%.*s' repeated",
					name, (unsigned long long)line, (int)len, w);
		uint64_t max = v->max_size;
		v->max_size = 0; /* a saved vocabulary is taken whole */
		int rc = nk_vocab_add(v, w, len, count);
		v->max_size = max;
		if (rc)
			return nk_error_prefix(rc, name);
		p = e + 1;
	}
	return 0;
}
