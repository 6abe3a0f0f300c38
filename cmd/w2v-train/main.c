/* w2v-train - learn word vectors (word2vec: skip-gram/CBOW, NS/HS).
 *
 *	w2v-train [-bcfHIqv] [-o OUT] [-S STATE.nkw] [-r STATE.nkw] [options]
 *	          [file ...]
 *
 * Reads whitespace-separated text (or token ids with -I), builds the
 * vocabulary, trains, and writes the vectors in word2vec's text or binary
 * format; -S also keeps the full training state for a later --resume.
 * Querying and evaluation are w2v-query(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "formats/tokstream.h"
#include "text/vocab.h"
#include "models/w2v.h"

enum {
	OPT_SEED = 0x2000, OPT_MIN_ALPHA, OPT_CLASSIC, OPT_SAVE_VOCAB,
	OPT_READ_VOCAB,
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [options] [file ...]\n"
		"Learns word vectors from whitespace-separated text (one sentence\n"
		"per line; gzip is read as is) and writes them in word2vec format.\n"
		"output:\n"
		"  -o, --output FILE       vectors to FILE (default: standard output,\n"
		"                          unless -S is given); FILE.nkw: as -S\n"
		"  -b, --binary            word2vec binary format (default: text)\n"
		"  -S, --save FILE.nkw     also the full training state (weight file)\n"
		"  -r, --resume FILE.nkw   continue training a saved state on the input\n"
		"      --save-vocab FILE   write 'word count' lines after counting\n"
		"      --read-vocab FILE   take the vocabulary from FILE, not the input\n"
		"model:\n"
		"  -d, --dim N             vector size (100)\n"
		"  -w, --window N          context words on each side, at most (5)\n"
		"  -n, --negative N        negative samples, 0 for none (5)\n"
		"  -H, --hs                hierarchical softmax as well\n"
		"  -c, --cbow              CBOW instead of skip-gram\n"
		"  -m, --min-count N       drop words seen fewer times (5)\n"
		"  -s, --sample T          subsampling threshold, 0 for none (1e-3)\n"
		"  -V, --max-vocab N       prune rare words while counting above N\n"
		"training:\n"
		"  -e, --epochs N          passes over the input (5)\n"
		"  -a, --alpha A           starting learning rate (0.025; CBOW 0.05)\n"
		"      --min-alpha A       final learning rate (alpha * 1e-4)\n"
		"  -j, --threads N         threads (all CPUs); -j 1 with a seed is\n"
		"                          deterministic\n"
		"      --seed N            random seed (1)\n"
		"      --classic           skip-gram NS one pair at a time, not in\n"
		"                          pWord2Vec mini-batches\n"
		"input:\n"
		"  -I, --ids               input is token ids from tokenize encode\n"
		"                          (binary streams are recognised without -I)\n"
		"  -W, --id-words FILE     words for ids: line K is id K ('WORD' or\n"
		"                          'WORD ID')\n"
		"other:\n"
		"  -f, --force             write binary to a terminal anyway\n"
		"  -q, --quiet             no progress line\n"
		"  -v, --verbose           a summary line (words/s per thread) at the end\n"
		"      --progress, --no-progress\n"
		"  -h, --help, --version\n",
		cli_prog);
}

struct progress {
	struct cli_progress bar;
	int epochs;
	uint64_t total;
};

static void on_progress(void *ctx, const nk_w2v_progress *p)
{
	struct progress *pr = ctx;
	if (!pr->bar.enabled)
		return;
	double now = cli_now();
	if (now - pr->bar.last_draw < 0.2 && p->done < 1)
		return;
	pr->bar.last_draw = now;
	double el = now - pr->bar.start;
	double rate = el > 0 ? (double)p->words / el / p->threads : 0;
	double eta = p->done > 0 ? el / p->done - el : 0;
	char left[32];
	fprintf(stderr,
		"\r%s: %5.1f%%  epoch %d/%d  lr %.6f  %.1fk words/s/thread  "
		"ETA %s ",
		cli_prog, 100 * p->done, p->epoch, pr->epochs, p->alpha,
		rate / 1e3, cli_eta(left, sizeof left, eta));
	fflush(stderr);
}

/* File scope, so that an early exit leaves them reachable (LeakSanitizer). */
static nk_input *in;
static char *ok;

static int is_nkw(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && strcmp(path + n - 4, ".nkw") == 0;
}

static int load_file(nk_input *in, const char *path)
{
	if (nk_input_load(in, path, 0)) {
		cli_warn_lib();
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "binary", no_argument, NULL, 'b' },
		{ "save", required_argument, NULL, 'S' },
		{ "resume", required_argument, NULL, 'r' },
		{ "save-vocab", required_argument, NULL, OPT_SAVE_VOCAB },
		{ "read-vocab", required_argument, NULL, OPT_READ_VOCAB },
		{ "dim", required_argument, NULL, 'd' },
		{ "window", required_argument, NULL, 'w' },
		{ "negative", required_argument, NULL, 'n' },
		{ "hs", no_argument, NULL, 'H' },
		{ "cbow", no_argument, NULL, 'c' },
		{ "min-count", required_argument, NULL, 'm' },
		{ "sample", required_argument, NULL, 's' },
		{ "max-vocab", required_argument, NULL, 'V' },
		{ "epochs", required_argument, NULL, 'e' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "min-alpha", required_argument, NULL, OPT_MIN_ALPHA },
		{ "threads", required_argument, NULL, 'j' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "classic", no_argument, NULL, OPT_CLASSIC },
		{ "ids", no_argument, NULL, 'I' },
		{ "id-words", required_argument, NULL, 'W' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "progress", no_argument, NULL, CLI_OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, CLI_OPT_NO_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	nk_w2v_opts o;
	nk_w2v_opts_default(&o);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o.threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
	const char *out_path = NULL, *save_path = NULL, *resume_path = NULL;
	const char *save_vocab = NULL, *read_vocab = NULL, *id_words = NULL;
	int binary = 0, force = 0, ids_in = 0, progress = -1, verbose = 0;
	int alpha_set = 0, min_alpha_set = 0;
	const char *shape_opt = NULL; /* an option --resume cannot take */
	uint64_t max_vocab = 0;
	int ch;

	cli_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "o:bS:r:d:w:n:Hcm:s:V:e:a:j:IW:fqvh",
				 longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': out_path = optarg; break;
		case 'b': binary = 1; break;
		case 'S': save_path = optarg; break;
		case 'r': resume_path = optarg; break;
		case OPT_SAVE_VOCAB: save_vocab = optarg; break;
		case OPT_READ_VOCAB: read_vocab = optarg; shape_opt = "--read-vocab"; break;
		case 'd':
			o.dim = (int)cli_parse_int_opt(usage, "-d", optarg, 1, NK_W2V_DIM_MAX);
			shape_opt = "-d";
			break;
		case 'w':
			o.window = (int)cli_parse_int_opt(usage, "-w", optarg, 1, 1000);
			shape_opt = "-w";
			break;
		case 'n':
			o.negative = (int)cli_parse_int_opt(usage, "-n", optarg, 0, 1000);
			shape_opt = "-n";
			break;
		case 'H': o.hs = 1; shape_opt = "-H"; break;
		case 'c': o.cbow = 1; shape_opt = "-c"; break;
		case 'm':
			o.min_count = (uint64_t)cli_parse_int_opt(usage, "-m", optarg, 1, INT64_MAX);
			shape_opt = "-m";
			break;
		case 's':
			o.sample = cli_parse_float_opt(usage, "-s", optarg, 0, 1);
			shape_opt = "-s";
			break;
		case 'V':
			max_vocab = (uint64_t)cli_parse_int_opt(usage, "-V", optarg, 2, INT32_MAX - 2);
			shape_opt = "-V";
			break;
		case 'e': o.epochs = (int)cli_parse_int_opt(usage, "-e", optarg, 0, 1000000); break;
		case 'a':
			o.alpha = cli_parse_float_opt(usage, "-a", optarg, 0, 10);
			alpha_set = 1;
			break;
		case OPT_MIN_ALPHA:
			o.min_alpha = cli_parse_float_opt(usage, "--min-alpha", optarg, 0, 10);
			min_alpha_set = 1;
			break;
		case 'j': o.threads = (int)cli_parse_int_opt(usage, "-j", optarg, 1, 1024); break;
		case OPT_SEED: o.seed = (uint64_t)cli_parse_int_opt(usage, "--seed", optarg, 0, INT64_MAX); break;
		case OPT_CLASSIC: o.batched = 0; break;
		case 'I': ids_in = 1; break;
		case 'W': id_words = optarg; ids_in = 1; break;
		case 'f': force = 1; break;
		case 'q': progress = 0; break;
		case 'v': verbose = 1; break;
		case CLI_OPT_PROGRESS: progress = 1; break;
		case CLI_OPT_NO_PROGRESS: progress = 0; break;
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
	if (!o.negative && !o.hs)
		cli_usage_error(usage, "-n 0 needs -H: no output layer to train");
	if (resume_path && shape_opt)
		cli_usage_error(usage, "%s: --resume takes the vocabulary and the "
			       "model's shape from the saved state", shape_opt);
	if (o.cbow && !alpha_set)
		o.alpha = 0.05;
	int to_stdout = !out_path && !save_path;
	if (to_stdout && binary)
		cli_refuse_binary_tty(force);

	static char *const stdin_only[] = { "-", NULL };
	char *const *files = argc ? argv : stdin_only;
	int nfiles = argc ? argc : 1, bad = 0;

	/* Inputs are kept whole (mapped when they are plain files): the
	 * vocabulary is counted on a first pass, ids made on a second. */
	in = nk_calloc((size_t)nfiles, sizeof *in);
	ok = nk_calloc((size_t)nfiles, 1);
	uint32_t *ids = NULL;
	size_t nids = 0;
	char **names = NULL;
	size_t nnames = 0;
	if (!in || !ok)
		cli_die_lib();
	if (id_words) {
		nk_input wf;
		if (nk_input_load(&wf, id_words, 0) ||
		    nk_w2v_names_load(&names, &nnames, wf.data, wf.size, wf.name))
			cli_die_lib();
		nk_input_free(&wf);
	}
	int streams = 0, loaded = 0;
	for (int i = 0; i < nfiles; i++) {
		if (ids_in) {
			ok[i] = nk_w2v_ids_read(&ids, &nids, files[i]) == 0;
			if (!ok[i])
				cli_warn_lib();
		} else {
			ok[i] = load_file(&in[i], files[i]) == 0;
			loaded += ok[i];
			streams += ok[i] && in[i].size >= 4 &&
				   memcmp(in[i].data, NK_TOK_MAGIC, 4) == 0;
		}
		bad |= !ok[i];
	}
	/* A binary token stream (tokenize encode -b) is known by its magic. */
	if (streams && streams != loaded)
		cli_errx(1, "binary token streams and text mixed in the input");
	if (streams) {
		ids_in = 1;
		for (int i = 0; i < nfiles; i++) {
			if (ok[i] && nk_w2v_ids_read_mem(&ids, &nids, in[i].data,
							 in[i].size, in[i].name)) {
				cli_warn_lib();
				bad = 1;
			}
			if (ok[i])
				nk_input_free(&in[i]);
		}
	}

	nk_w2v m;
	double t0 = cli_now();
	if (resume_path) {
		if (nk_w2v_load(&m, resume_path))
			cli_die_lib();
		m.o.epochs = o.epochs;
		m.o.threads = o.threads;
		m.o.batched = o.batched;
		if (alpha_set)
			m.o.alpha = o.alpha;
		if (min_alpha_set)
			m.o.min_alpha = o.min_alpha;
		else if (alpha_set)
			m.o.min_alpha = o.alpha * 1e-4;
	} else {
		nk_vocab v;
		if (nk_vocab_init(&v, max_vocab))
			cli_die_lib();
		if (read_vocab) {
			nk_input vf;
			if (nk_input_load(&vf, read_vocab, 0) ||
			    nk_vocab_load_mem(&v, vf.data, vf.size, vf.name))
				cli_die_lib();
			nk_input_free(&vf);
		} else if (ids_in) {
			if (nk_w2v_count_ids(&v, ids, nids, names, nnames))
				cli_die_lib();
		} else {
			for (int i = 0; i < nfiles; i++)
				if (ok[i] && nk_w2v_count_text(&v, in[i].data,
							       in[i].size,
							       in[i].name)) {
					cli_warn_lib();
					ok[i] = 0;
					bad = 1;
				}
		}
		if (v.total == 0)
			cli_errx(1, "%s: no words in the input", read_vocab ? read_vocab
				: nfiles == 1 ? (strcmp(files[0], "-") ? files[0] : "(stdin)")
				: "the input");
		if (save_vocab) {
			/* Counted, before min-count: the corpus's vocabulary. */
			nk_output out;
			if (nk_output_open(&out, save_vocab))
				cli_die_lib();
			/* Sorted first (min-count 1 keeps every word). */
			if (nk_vocab_finish(&v, 1) || nk_vocab_save(&v, out.fp) ||
			    nk_output_commit(&out)) {
				nk_output_abort(&out);
				cli_die_lib();
			}
		}
		if (nk_vocab_finish(&v, o.min_count))
			cli_die_lib();
		if (v.n == 0)
			cli_errx(1, "no word occurs %llu times or more (-m %llu)",
				(unsigned long long)o.min_count,
				(unsigned long long)o.min_count);
		if (nk_w2v_init(&m, &o, &v))
			cli_die_lib();
		nk_vocab_free(&v);
	}

	nk_w2v_corpus c = { 0 };
	if (ids_in) {
		if (nk_w2v_encode_ids(&c, &m.vocab, ids, nids, names, nnames))
			cli_die_lib();
		free(ids);
	} else {
		for (int i = 0; i < nfiles; i++) {
			if (ok[i] && nk_w2v_encode_text(&c, &m.vocab, in[i].data,
							in[i].size, in[i].name)) {
				cli_warn_lib();
				bad = 1;
			}
			if (ok[i])
				nk_input_free(&in[i]);
		}
	}
	nk_w2v_names_free(names, nnames);
	free(in);
	free(ok);
	if (c.words == 0)
		cli_errx(1, "no word of the vocabulary in the input");

	struct progress pr = { .epochs = m.o.epochs };
	cli_progress_init(&pr.bar, progress, 0, "words");
	double t1 = cli_now();
	uint64_t words0 = m.words_done;
	if (nk_w2v_train(&m, &c, on_progress, &pr))
		cli_die_lib();
	cli_progress_done(&pr.bar);
	double t2 = cli_now();
	nk_w2v_corpus_free(&c);

	if (out_path && is_nkw(out_path)) {
		if (nk_w2v_save(&m, out_path))
			cli_die_lib();
	} else if (out_path || to_stdout) {
		nk_output out;
		if (nk_output_open(&out, out_path ? out_path : "-"))
			cli_die_lib();
		if (nk_w2v_write_vectors(&m, out.fp, binary) ||
		    nk_output_commit(&out)) {
			nk_output_abort(&out);
			cli_die_lib();
		}
	}
	if (save_path && nk_w2v_save(&m, save_path))
		cli_die_lib();
	if (verbose) {
		double tw = t2 - t1;
		cli_warnx("%u words, dim %d, %lld epochs done; trained in %.2f s "
			 "(%.2f s in all): %.0f words/s/thread, %d threads",
			 m.V, m.D, (long long)m.epochs_done, tw, cli_now() - t0,
			 tw > 0 ? (double)(m.words_done - words0) / tw / m.o.threads : 0,
			 m.o.threads);
	}
	nk_w2v_free(&m);
	cli_close_stdout();
	return bad;
}
