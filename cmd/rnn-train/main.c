/* rnn-train - recurrent language models over characters or token ids.
 *
 *   rnn-train train  -o MODEL [options] [FILE]
 *   rnn-train sample [-n N] [-p PRIME] [-t TEMP] [-k K] [-s SEED] MODEL
 *   rnn-train eval   MODEL [FILE...]
 *
 * The model is lib/models/charlm.c, its file lib/models/charlm_file.c, its
 * training task lib/models/charlm_task.c and the loop lib/nn/train.c.  This
 * file parses the options; train.c, sample.c and eval.c run the three
 * subcommands.
 */
#include "cli.h"
#include "cli_dist.h"
#include "rnn-train.h"

#include "models/charlm.h"
#include "nn/train.h"
#include "text/textdata.h"

#include <getopt.h>
#include <omp.h>

void usage(FILE *fp)
{
	fprintf(fp,
"usage: rnn-train train -o MODEL [options] [FILE]\n"
"       rnn-train sample [-n N] [-p PRIME] [-t TEMP] [-k K] [-s SEED] MODEL\n"
"       rnn-train eval [-b B] [-T T] MODEL [FILE...]\n"
"train (FILE is text, or token ids with --level tokens; '-' or none: stdin):\n"
"  -o, --output MODEL      model and training state, rewritten at checkpoints\n"
"      --resume            continue the run saved in MODEL exactly\n"
"  -L, --level LEVEL       byte (default), char (UTF-8) or tokens\n"
"  -m, --model CELL        rnn, lstm (default) or gru\n"
"  -l, --layers N          recurrent layers (2)\n"
"  -H, --hidden N          hidden units per layer (128)\n"
"  -E, --embedding N       embedding size (128)\n"
"  -d, --dropout P         dropout between layers (0)\n"
"  -b, --batch N           parallel streams per batch (50)\n"
"  -T, --bptt N            time steps per batch (50)\n"
"  -n, --steps N           training steps in all (1000)\n"
"  -r, --lr RATE           Adam learning rate (2e-3)\n"
"      --weight-decay W    AdamW decoupled weight decay (0)\n"
"      --clip NORM         clip the gradient's global norm (5; 0: off)\n"
"      --schedule S        constant (default), cosine, linear or step\n"
"      --warmup N          linear warmup steps (0)\n"
"      --min-lr RATE       cosine, linear: final rate (0); step: halve every\n"
"      --step-size N       N steps (1000)\n"
"  -c, --checkpoint K      gradient checkpointing every K steps, or auto\n"
"      --val-fraction F    last part of the data held out (0.1)\n"
"      --eval-every N      validation loss every N steps (100)\n"
"      --save-every N      save MODEL every N steps (as --eval-every)\n"
"      --log FILE          CSV: step,train_loss,val_loss,time\n"
"      --log-every N       log rows every N steps (10)\n"
"      --vocab-size N      tokens: the vocabulary (default: largest id + 1)\n"
"sample:\n"
"  -n, --length N          symbols to generate (500)\n"
"  -p, --prime TEXT        text (token models: ids) to start from\n"
"  -t, --temperature T     softmax temperature, 0 < T <= 100 (1)\n"
"  -k, --top-k K           sample among the K most likely (0: all)\n"
"common:\n"
"  -s, --seed N            random seed (1)\n"
"  -j, --threads N         OpenMP threads\n"
"  -q, --quiet             no progress line or reports\n"
"  -v, --verbose           also report memory and timing\n"
"      --progress, --no-progress\n"
"  -h, --help, --version\n");
}

enum { O_VOCAB = 0x2000 };

static const struct option longopts[] = {
	{"output", required_argument, 0, 'o'},
	CLI_TRAIN_ROW_RESUME,
	{"level", required_argument, 0, 'L'},
	{"model", required_argument, 0, 'm'},
	{"layers", required_argument, 0, 'l'},
	{"hidden", required_argument, 0, 'H'},
	{"embedding", required_argument, 0, 'E'},
	{"dropout", required_argument, 0, 'd'},
	{"batch", required_argument, 0, 'b'},
	{"bptt", required_argument, 0, 'T'},
	{"steps", required_argument, 0, 'n'},
	{"length", required_argument, 0, 'n'},
	CLI_TRAIN_ROWS_OPTIM,
	CLI_TRAIN_ROW_STEP_SIZE,
	{"checkpoint", required_argument, 0, 'c'},
	CLI_TRAIN_ROWS_EVAL,
	{"vocab-size", required_argument, 0, O_VOCAB},
	{"prime", required_argument, 0, 'p'},
	{"temperature", required_argument, 0, 't'},
	{"top-k", required_argument, 0, 'k'},
	{"seed", required_argument, 0, 's'},
	{"threads", required_argument, 0, 'j'},
	{"quiet", no_argument, 0, 'q'},
	{"verbose", no_argument, 0, 'v'},
	{"progress", no_argument, 0, CLI_OPT_PROGRESS},
	{"no-progress", no_argument, 0, CLI_OPT_NO_PROGRESS},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0}};

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	struct opts o = {
		.t = {.tc = {.steps = 1000, .lr = 2e-3f, .clip = 5,
			     .schedule = NK_LR_CONSTANT, .step_size = 1000,
			     .eval_every = 100, .save_every = 0,
			     .log_every = 10},
		      .val_frac = 0.1f,
		      .schedules = "constant, cosine, linear or step"},
		.level = NK_LEVEL_BYTE, .cell = NK_CELL_LSTM, .L = 2, .H = 128,
		.C = 128, .B = 0, .T = 0, .K = 0, .progress = -1, .seed = 1};
	int c;
	while ((c = getopt_long(argc, argv, "o:L:m:l:H:E:d:b:T:n:r:c:p:t:k:s:j:qvh",
				longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'L':
			if ((o.level = nk_text_level_from_name(optarg)) < 0)
				cli_usage_error(usage, "--level: '%s' is not byte, "
					       "char or tokens", optarg);
			break;
		case 'm':
			if ((o.cell = nk_cell_from_name(optarg)) < 0)
				cli_usage_error(usage, "--model: '%s' is not rnn, "
					       "lstm or gru", optarg);
			break;
		case 'l': o.L = (int)cli_parse_int_opt(usage, "--layers", optarg, 1, NK_CHARLM_MAX_LAYERS); break;
		case 'H': o.H = (int)cli_parse_int_opt(usage, "--hidden", optarg, 1, 65536); break;
		case 'E': o.C = (int)cli_parse_int_opt(usage, "--embedding", optarg, 1, 65536); break;
		case 'd': o.dropout = (float)cli_parse_float_opt(usage, "--dropout", optarg, 0, 0.99); break;
		case 'b': o.B = (int)cli_parse_int_opt(usage, "--batch", optarg, 1, 100000); break;
		case 'T': o.T = (int)cli_parse_int_opt(usage, "--bptt", optarg, 1, 100000); break;
		case 'n': o.length = optarg; break;
		case 'c':
			o.K = strcmp(optarg, "auto") == 0
				      ? -1
				      : (int)cli_parse_int_opt(usage, "--checkpoint", optarg, 0, 100000);
			break;
		case O_VOCAB: o.vocab_size = cli_parse_int_opt(usage, "--vocab-size", optarg, 1, 1 << 24); break;
		case 'p': o.prime = optarg; break;
		case 't': o.temp = optarg; break;
		case 'k': o.topk = optarg; break;
		case 's': o.seed = (uint64_t)cli_parse_int_opt(usage, "--seed", optarg, 0, INT64_MAX); break;
		case 'j': o.threads = (int)cli_parse_int_opt(usage, "--threads", optarg, 1, 1024); break;
		case 'q': o.quiet = 1; break;
		case 'v': o.verbose = 1; break;
		case CLI_OPT_PROGRESS: o.progress = 1; break;
		case CLI_OPT_NO_PROGRESS: o.progress = 0; break;
		case 'h': cli_exit_help(usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default:
			if (!cli_train_opt(&o.t, c, optarg, usage))
				cli_usage_error(usage, NULL);
		}
	}
	if (optind >= argc)
		cli_usage_error(usage, "a command is required: train, sample or "
			       "eval");
	const char *cmd = argv[optind++];
	if (o.threads)
		omp_set_num_threads(o.threads);
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "train") == 0) {
		o.t.steps = o.length;
		cli_train_finish(&o.t, usage);
		if (!o.B)
			o.B = 50;
		if (!o.T)
			o.T = 50;
		if (o.K > o.T)
			o.K = o.T;
		if (o.vocab_size && o.level != NK_LEVEL_TOKENS && !o.t.resume)
			cli_usage_error(usage, "train: --vocab-size is for "
				       "--level tokens");
		if (o.prime || o.temp || o.topk)
			cli_usage_error(usage, "train: --prime, --temperature "
				       "and --top-k are for sample");
		/* Under mpirun the ranks train one model together
		 * (data parallelism: see rnn-train(1), MPI). */
		cli_dist_init(&argc, &argv);
		return cli_dist_end(cmd_train(&o, argc, argv));
	}
	if (strcmp(cmd, "sample") == 0)
		return cmd_sample(&o, argc, argv);
	if (strcmp(cmd, "eval") == 0)
		return cmd_eval(&o, argc, argv);
	cli_usage_error(usage, "unknown command '%s' (train, sample, eval)", cmd);
}
