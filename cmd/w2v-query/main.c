/* w2v-query - nearest neighbours, analogies and evaluation of word vectors.
 *
 *	w2v-query near [-k N] [-n CUTOFF] VECTORS [word ...]
 *	w2v-query analogy [-k N] [-n CUTOFF] [-m add|mul] VECTORS [a b c]
 *	w2v-query eval [-n CUTOFF] [-j N] VECTORS QUESTIONS ...
 *	w2v-query similarity [-n CUTOFF] VECTORS PAIRS ...
 *
 * VECTORS is word2vec text or binary (w2v-train's output, gensim's,
 * fastText's .vec) or a w2v-train state (.nkw).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "models/w2v.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s near [-k N] [-n CUTOFF] VECTORS [word ...]\n"
		"       %s analogy [-k N] [-n CUTOFF] [-m add|mul] VECTORS [a b c]\n"
		"       %s eval [-n CUTOFF] [-j N] VECTORS QUESTIONS ...\n"
		"       %s similarity [-n CUTOFF] VECTORS PAIRS ...\n"
		"VECTORS: word2vec text or binary, or a w2v-train state (.nkw).\n"
		"near and analogy read queries from standard input, one per line,\n"
		"when none are given.\n"
		"  -k, --top N         answers per query (10; analogy 1)\n"
		"  -n, --cutoff N      only the N most frequent words (0: all;\n"
		"                      eval and similarity 30000)\n"
		"  -m, --method M      analogy: add (3CosAdd, default) or mul (3CosMul)\n"
		"  -j, --threads N     eval: threads (all CPUs)\n"
		"  -h, --help, --version\n",
		cli_prog, cli_prog, cli_prog, cli_prog);
}

static nk_w2v_vecs vecs;
static uint32_t cutoff;
static int topk = -1, method = NK_W2V_COSADD, bad;

static int64_t find(const char *word, const char *where)
{
	/* Exact bytes, as gensim's most_similar: eval and similarity
	 * alone fold case. */
	int64_t id = nk_w2v_vecs_find(&vecs, word, 0);
	if (id < 0 || (cutoff && id >= cutoff)) {
		cli_warnx("%s%s'%s' is not among the %s words", where ? where : "",
			 where ? ": " : "", word, cutoff ? "cut-off" : "known");
		bad = 1;
		return -1;
	}
	return id;
}

static void near(const char *word, const char *where)
{
	int64_t id = find(word, where);
	if (id < 0)
		return;
	nk_w2v_hit *h = nk_calloc((size_t)topk, sizeof *h);
	if (!h)
		cli_die_lib();
	uint32_t skip = (uint32_t)id;
	int n = nk_w2v_nearest(&vecs, vecs.vec + (size_t)id * vecs.D, cutoff,
			       &skip, 1, h, topk);
	for (int i = 0; i < n; i++)
		printf("%s %s %.4f\n", word, vecs.words[h[i].id], h[i].score);
	free(h);
}

static void analogy(char **w, const char *where)
{
	int64_t id[3];
	for (int i = 0; i < 3; i++)
		if ((id[i] = find(w[i], where)) < 0)
			return;
	nk_w2v_hit *h = nk_calloc((size_t)topk, sizeof *h);
	if (!h)
		cli_die_lib();
	int n = nk_w2v_analogy(&vecs, (uint32_t)id[0], (uint32_t)id[1],
			       (uint32_t)id[2], method, cutoff, h, topk);
	for (int i = 0; i < n; i++)
		printf("%s %s %s %s %.4f\n", w[0], w[1], w[2],
		       vecs.words[h[i].id], h[i].score);
	free(h);
}

/* Queries from standard input: `nwords` words per line. */
static void from_stdin(int nwords)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long long lineno = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		char *w[4], *save = NULL, where[64];
		int n = 0;
		lineno++;
		for (char *t = strtok_r(line, " \t\r\n", &save); t;
		     t = strtok_r(NULL, " \t\r\n", &save))
			if (n < 4)
				w[n++] = t;
			else
				n = 5;
		snprintf(where, sizeof where, "(stdin):%llu", lineno);
		if (n == 0)
			continue;
		if (n != nwords) {
			cli_warnx("%s: expected %d word%s, found %s", where, nwords,
				 nwords > 1 ? "s" : "", n > 4 ? "more" : n == 1 ? "1"
				 : n == 2 ? "2" : n == 3 ? "3" : "4");
			bad = 1;
			continue;
		}
		if (nwords == 1)
			near(w[0], where);
		else
			analogy(w, where);
		fflush(stdout);
	}
	free(line);
}

static void pct(uint64_t c, uint64_t n)
{
	if (n)
		printf("\t%.2f", 100.0 * (double)c / (double)n);
	else
		printf("\t-");
}

static int eval_file(const char *path, int threads)
{
	nk_input in;
	nk_w2v_eval e;
	if (nk_input_load(&in, path, 0)) {
		cli_warn_lib();
		return 1;
	}
	int rc = nk_w2v_eval_analogies(&e, &vecs, in.data, in.size, in.name,
				       cutoff, 3, threads);
	nk_input_free(&in);
	if (rc) {
		cli_warn_lib();
		return 1;
	}
	nk_w2v_section sum[3];
	nk_w2v_eval_totals(sum, &e);
	printf("# %s\tcut-off %u\nsection\tseen\ttotal\t3cosadd\t3cosmul\n", path,
	       cutoff ? cutoff : vecs.n);
	for (size_t i = 0; i < e.nsec + 3; i++) {
		const nk_w2v_section *s = i < e.nsec ? &e.sec[i] : &sum[i - e.nsec];
		printf("%s\t%llu\t%llu", s->name, (unsigned long long)s->seen,
		       (unsigned long long)s->total);
		pct(s->correct[0], s->seen);
		pct(s->correct[1], s->seen);
		putchar('\n');
	}
	nk_w2v_eval_free(&e);
	return 0;
}

static int similarity_file(const char *path)
{
	nk_input in;
	nk_w2v_simres r;
	if (nk_input_load(&in, path, 0)) {
		cli_warn_lib();
		return 1;
	}
	int rc = nk_w2v_eval_similarity(&r, &vecs, in.data, in.size, in.name,
					cutoff);
	nk_input_free(&in);
	if (rc) {
		cli_warn_lib();
		return 1;
	}
	printf("%s\tspearman %.4f\tpearson %.4f\tpairs %llu\toov %llu\n", path,
	       r.spearman, r.pearson, (unsigned long long)r.pairs,
	       (unsigned long long)r.oov);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 'k' },
		{ "cutoff", required_argument, NULL, 'n' },
		{ "method", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	long long cut = -1;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu, ch;

	cli_init(argv[0]);
	/* The subcommand comes first; options may follow it. */
	const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
	if (cmd) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((ch = getopt_long(argc, argv, "k:n:m:j:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k': topk = (int)cli_parse_int_opt(usage, "-k", optarg, 1, 100000); break;
		case 'n': cut = cli_parse_int_opt(usage, "-n", optarg, 0, UINT32_MAX); break;
		case 'j': threads = (int)cli_parse_int_opt(usage, "-j", optarg, 1, 1024); break;
		case 'm':
			if (strcmp(optarg, "add") == 0)
				method = NK_W2V_COSADD;
			else if (strcmp(optarg, "mul") == 0)
				method = NK_W2V_COSMUL;
			else
				cli_usage_error(usage, "-m: '%s' is not add or mul", optarg);
			break;
		case 'h':
			cli_exit_help(usage);
		case CLI_OPT_VERSION:
			cli_exit_version();
		default:
			cli_usage_error(usage, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (!cmd)
		cli_usage_error(usage, "a command is needed: near, analogy, eval "
			       "or similarity");
	int is_near = !strcmp(cmd, "near"), is_an = !strcmp(cmd, "analogy");
	int is_eval = !strcmp(cmd, "eval"), is_sim = !strcmp(cmd, "similarity");
	if (!is_near && !is_an && !is_eval && !is_sim)
		cli_usage_error(usage, "'%s' is not near, analogy, eval or similarity",
			       cmd);
	if (argc < 1)
		cli_usage_error(usage, "%s: no VECTORS file", cmd);
	if ((is_eval || is_sim) && argc < 2)
		cli_usage_error(usage, "%s: no %s file", cmd,
			       is_eval ? "QUESTIONS" : "PAIRS");
	if (is_an && argc != 1 && argc != 4)
		cli_usage_error(usage, "analogy: give three words a b c (a:b::c:?)");
	cutoff = cut >= 0 ? (uint32_t)cut : (is_eval || is_sim) ? 30000 : 0;
	if (topk < 0)
		topk = is_an ? 1 : 10;

	if (nk_w2v_vecs_load(&vecs, argv[0]))
		cli_die_lib();
	if (is_near) {
		if (argc == 1)
			from_stdin(1);
		for (int i = 1; i < argc; i++)
			near(argv[i], NULL);
	} else if (is_an) {
		if (argc == 1)
			from_stdin(3);
		else
			analogy(argv + 1, NULL);
	} else {
		for (int i = 1; i < argc; i++)
			bad |= is_eval ? eval_file(argv[i], threads)
				       : similarity_file(argv[i]);
	}
	nk_w2v_vecs_free(&vecs);
	cli_close_stdout();
	return bad;
}
