/* fill.c - bert-mask fill: the most likely tokens for every [MASK] of a
 * text, each mask predicted independently as HuggingFace's fill-mask
 * pipeline does. */
#include "cli.h"
#include "bert-mask.h"

#include <math.h>

/* JSON string body of s (UTF-8 passes through). */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* A token in a tab-separated line: a BPE token may hold a tab or a
 * newline, written as \t and \n (other controls as \xHH). */
static void line_str(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

struct cand { float p; uint32_t id; };

static int by_prob(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The top k of softmax(logits) (V) into c, best first. */
static void top_k(const float *logits, int V, int k, struct cand *c,
		  struct cand *all)
{
	float mx = logits[0];
	for (int v = 1; v < V; v++)
		if (logits[v] > mx)
			mx = logits[v];
	double sum = 0;
	for (int v = 0; v < V; v++)
		sum += exp((double)(logits[v] - mx));
	for (int v = 0; v < V; v++)
		all[v] = (struct cand){(float)(exp((double)(logits[v] - mx)) / sum),
				       (uint32_t)v};
	qsort(all, (size_t)V, sizeof *all, by_prob);
	memcpy(c, all, (size_t)k * sizeof *c);
}

/* A refused text: reported on stderr naming it (where: "argument 2",
 * "(stdin):7"); with --json its line is `null`, so that line k of the
 * output still answers text k. */
static int refuse(const struct opts *o, const char *where, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
static int refuse(const struct opts *o, const char *where, const char *fmt,
		  ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_warnx("%s: %s", where, msg);
	if (o->json)
		puts("null");
	return 1;
}

/* Answers one text; returns 0, or 1 when the text is refused. */
static int fill_one(const struct opts *o, const nk_bert_file *bf,
		    const struct bm_tok *k, nk_bert_run *run, const char *text,
		    long long lineno, const char *where, struct cand *all)
{
	const nk_bert *m = &bf->m;
	int n;
	uint32_t *ids = bm_encode_line(k, text, &n);
	if (!ids)
		return refuse(o, where, "%s", nk_last_error());
	if (n > m->cfg.P) {
		free(ids);
		return refuse(o, where, "%d tokens, the model reads at most %d",
			      n, m->cfg.P);
	}
	int M = 0;
	int32_t *mpos = nk_calloc((size_t)n, sizeof *mpos);
	if (!mpos)
		cli_die_lib();
	for (int i = 0; i < n; i++)
		if (ids[i] == bf->tok.mask)
			mpos[M++] = i;
	if (!M) {
		free(ids);
		free(mpos);
		return refuse(o, where, "no [MASK] in the text");
	}
	int K = o->topk < m->cfg.V ? o->topk : m->cfg.V;
	nk_bert_batch b = {1, n, ids, NULL, &n, M, mpos, NULL};
	nk_bert_forward(m, run, &b, NULL, NULL);
	const float *logits = nk_bert_run_logits(run);
	struct cand *c = nk_calloc((size_t)K, sizeof *c);
	if (!c)
		cli_die_lib();
	if (o->json && M > 1)
		putchar('[');
	for (int j = 0; j < M; j++) {
		top_k(logits + (size_t)j * m->cfg.V, m->cfg.V, K, c, all);
		if (o->json)
			printf("%s[", j ? "," : "");
		for (int r = 0; r < K; r++) {
			char *tok = bm_token_str(k, c[r].id);
			if (!o->json) {
				printf("%lld\t%d\t%d\t%.6f\t", lineno, j + 1,
				       r + 1, c[r].p);
				line_str(tok);
				putchar('\n');
				free(tok);
				continue;
			}
			/* The pipeline's sequence: this candidate in its
			 * place; with one mask the special tokens dropped,
			 * with several the others still [MASK]. */
			uint32_t keep = ids[mpos[j]];
			ids[mpos[j]] = c[r].id;
			char *seq = M == 1 ? bm_decode(k, ids + 1, n - 2)
					   : bm_decode(k, ids, n);
			ids[mpos[j]] = keep;
			printf("%s{\"score\":%.8g,\"token\":%u,\"token_str\":",
			       r ? "," : "", c[r].p, c[r].id);
			json_str(tok);
			printf(",\"sequence\":");
			json_str(seq);
			putchar('}');
			free(tok);
			free(seq);
		}
		if (o->json)
			putchar(']');
	}
	if (o->json)
		printf(M > 1 ? "]\n" : "\n");
	free(c);
	free(ids);
	free(mpos);
	return 0;
}

int cmd_fill(struct opts *o, int argc, char **argv)
{
	if (!o->model)
		cli_usage_error(usage, "fill: -m MODEL is required");
	nk_bert_file bf;
	if (nk_bert_file_load(&bf, o->model))
		cli_die_lib();
	struct bm_tok *k = bm_tok_from_model(&bf);
	if (o->tiktoken)
		bm_tok_use_ranks(k, o->tiktoken, o->model);
	int P = bf.m.cfg.P;
	nk_bert_run *run = nk_bert_run_new(&bf.m, 1, P, P, 0, 0);
	struct cand *all = nk_calloc((size_t)bf.m.cfg.V, sizeof *all);
	if (!run || !all)
		cli_die_lib();
	int rc = 0;
	char where[64];
	if (argc) {
		for (int i = 0; i < argc; i++) {
			snprintf(where, sizeof where, "argument %d", i + 1);
			rc |= fill_one(o, &bf, k, run, argv[i], i + 1, where,
				       all);
		}
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		long long lineno = 0;
		while ((len = getline(&line, &cap, stdin)) != -1) {
			lineno++;
			snprintf(where, sizeof where, "(stdin):%lld", lineno);
			if (len && line[len - 1] == '\n')
				line[--len] = 0;
			/* A CRLF file's CR is no part of the text. */
			if (len && line[len - 1] == '\r')
				line[--len] = 0;
			/* The text would end at a NUL unseen. */
			const char *z = memchr(line, 0, (size_t)len);
			if (z) {
				rc |= refuse(o, where, "column %td: a NUL byte",
					     z - line + 1);
				continue;
			}
			rc |= fill_one(o, &bf, k, run, line, lineno, where,
				       all);
		}
		if (ferror(stdin))
			cli_errx(1, "(stdin): %s", strerror(errno));
		free(line);
	}
	free(all);
	nk_bert_run_free(run);
	bm_tok_free(k);
	nk_bert_file_free(&bf);
	cli_close_stdout();
	return rc;
}
