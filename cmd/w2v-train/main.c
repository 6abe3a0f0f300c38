/* w2v-train - learn word vectors (word2vec: skip-gram/CBOW, NS/HS).
 *
 *	w2v-train [-bcfHIqv] [-o OUT] [-S STATE.nkw] [-r STATE.nkw] [options]
 *	          [file ...]
 *
 * Reads whitespace-separated text (or token ids with -I), builds the
 * vocabulary, trains, and writes the vectors in word2vec's text or binary
 * format; -S also keeps the full training state for a later --resume.
 * Querying and evaluation are w2v-query(1).
 *
 * This file: usage and options; train.c the run; progress.c the
 * progress line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_dist.h"
#include "w2v_train_cmd.h"

enum {
	OPT_SEED = 0x2000, OPT_MIN_ALPHA, OPT_CLASSIC, OPT_SAVE_VOCAB,
	OPT_READ_VOCAB, OPT_SYNC_WORDS,
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
		"      --sync-words N      under mpirun: average the ranks' models\n"
		"                          every N words of each rank's share (100000)\n"
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

/* Sets *c from the options; returns the index of the first operand.
 * *shape_opt is the last option given that --resume cannot take. */
static int parse_opts(struct w2v_cmd *c, int argc, char **argv,
		      const char **shape_opt)
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
		{ "sync-words", required_argument, NULL, OPT_SYNC_WORDS },
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
	int ch;
	while ((ch = getopt_long(argc, argv, "o:bS:r:d:w:n:Hcm:s:V:e:a:j:IW:fqvh",
				 longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': c->out_path = optarg; break;
		case 'b': c->binary = 1; break;
		case 'S': c->save_path = optarg; break;
		case 'r': c->resume_path = optarg; break;
		case OPT_SAVE_VOCAB: c->save_vocab = optarg; break;
		case OPT_READ_VOCAB: c->read_vocab = optarg; *shape_opt = "--read-vocab"; break;
		case 'd':
			c->o.dim = (int)cli_parse_int_opt(usage, "-d", optarg, 1, NK_W2V_DIM_MAX);
			*shape_opt = "-d";
			break;
		case 'w':
			c->o.window = (int)cli_parse_int_opt(usage, "-w", optarg, 1, 1000);
			*shape_opt = "-w";
			break;
		case 'n':
			c->o.negative = (int)cli_parse_int_opt(usage, "-n", optarg, 0, 1000);
			*shape_opt = "-n";
			break;
		case 'H': c->o.hs = 1; *shape_opt = "-H"; break;
		case 'c': c->o.cbow = 1; *shape_opt = "-c"; break;
		case 'm':
			c->o.min_count = (uint64_t)cli_parse_int_opt(usage, "-m", optarg, 1, INT64_MAX);
			*shape_opt = "-m";
			break;
		case 's':
			c->o.sample = cli_parse_float_opt(usage, "-s", optarg, 0, 1);
			*shape_opt = "-s";
			break;
		case 'V':
			c->max_vocab = (uint64_t)cli_parse_int_opt(usage, "-V", optarg, 2, INT32_MAX - 2);
			*shape_opt = "-V";
			break;
		case 'e': c->o.epochs = (int)cli_parse_int_opt(usage, "-e", optarg, 0, 1000000); break;
		case 'a':
			c->o.alpha = cli_parse_float_opt(usage, "-a", optarg, 0, 10);
			c->set |= NK_W2V_SET_ALPHA;
			break;
		case OPT_MIN_ALPHA:
			c->o.min_alpha = cli_parse_float_opt(usage, "--min-alpha", optarg, 0, 10);
			c->set |= NK_W2V_SET_MIN_ALPHA;
			break;
		case 'j': c->o.threads = (int)cli_parse_int_opt(usage, "-j", optarg, 1, 1024); break;
		case OPT_SEED: c->o.seed = (uint64_t)cli_parse_int_opt(usage, "--seed", optarg, 0, INT64_MAX); break;
		case OPT_CLASSIC: c->o.batched = 0; break;
		case OPT_SYNC_WORDS:
			c->sync_words = (uint64_t)cli_parse_int_opt(usage, "--sync-words", optarg, 1, INT64_MAX);
			break;
		case 'I': c->ids_in = 1; break;
		case 'W': c->id_words = optarg; c->ids_in = 1; break;
		case 'f': c->force = 1; break;
		case 'q': c->progress = 0; break;
		case 'v': c->verbose = 1; break;
		case CLI_OPT_PROGRESS: c->progress = 1; break;
		case CLI_OPT_NO_PROGRESS: c->progress = 0; break;
		case 'h':
			cli_exit_help(usage);
		case CLI_OPT_VERSION:
			cli_exit_version();
		default:
			cli_usage_error(usage, NULL);
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct w2v_cmd c = { .progress = -1, .sync_words = NK_W2V_SYNC_WORDS };
	nk_w2v_opts_default(&c.o);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	c.o.threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
	const char *shape_opt = NULL;

	cli_init(argv[0]);
	int first = parse_opts(&c, argc, argv, &shape_opt);
	argc -= first;
	argv += first;
	if (!c.o.negative && !c.o.hs)
		cli_usage_error(usage, "-n 0 needs -H: no output layer to train");
	if (c.resume_path && shape_opt)
		cli_usage_error(usage, "%s: --resume takes the vocabulary and the "
			       "model's shape from the saved state", shape_opt);
	if (c.o.cbow && !(c.set & NK_W2V_SET_ALPHA))
		c.o.alpha = 0.05;
	if (!c.out_path && !c.save_path && c.binary)
		cli_refuse_binary_tty(c.force);

	static char *const stdin_only[] = { "-", NULL };
	c.files = argc ? argv : stdin_only;
	c.nfiles = argc ? argc : 1;
	/* Under mpirun the ranks train one model together (see
	 * w2v-train(1), MPI); rank 0 writes it. */
	cli_dist_init(&argc, &argv);
	int bad = w2v_run(&c);
	cli_close_stdout();
	return cli_dist_end(bad);
}
