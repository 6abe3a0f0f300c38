/* bert-mask - BERT's masked-language model: vocabulary, masking, training
 * and fill-in of [MASK].
 *
 *   bert-mask vocab [-n SIZE] [-o VOCAB.txt] [FILE...]
 *   bert-mask mask  (--vocab VOCAB.txt | --ids N) [-o OUT] [FILE...]
 *   bert-mask train -o MODEL (--vocab VOCAB.txt | --ids N) [FILE...]
 *   bert-mask fill  -m MODEL [-k K] [--json] [TEXT...]
 *   bert-mask eval  -m MODEL [FILE...]
 *
 * The model is lib/models/bert.c, its file bert_file.c, its training
 * task bert_task.c and the loop lib/nn/train.c; WordPiece is
 * lib/text/wordpiece.c and the masking lib/text/mlm_mask.c.  This file
 * parses the options.
 */
#include "cli.h"
#include "cli_dist.h"
#include "bert-mask.h"

#include "nn/lr.h"

#include <getopt.h>
#include <omp.h>

void usage(FILE *fp)
{
	fprintf(fp,
"usage: bert-mask vocab [-n SIZE] [-o VOCAB.txt] [--cased] [FILE...]\n"
"       bert-mask mask (--vocab VOCAB.txt | --ids N) [-o OUT] [FILE...]\n"
"       bert-mask train -o MODEL (--vocab VOCAB.txt | --ids N) [FILE...]\n"
"       bert-mask fill -m MODEL [-k K] [--json] [--tiktoken FILE] [TEXT...]\n"
"       bert-mask eval -m MODEL [FILE...]\n"
"tokens (vocab, mask, train):\n"
"      --vocab FILE        WordPiece vocab.txt: inputs are text\n"
"      --cased             keep case and accents (default: BERT uncased)\n"
"      --ids N             inputs are token ids below N (tokenize encode);\n"
"                          [PAD] [UNK] [CLS] [SEP] [MASK] are N..N+4\n"
"      --tiktoken FILE     inputs are ids of this BPE rank file (--ids N\n"
"                          for its N ranks, and its words for -w); fill:\n"
"                          text in and out through the model's rank file\n"
"  -n, --size N            vocab: tokens in the vocabulary (8000)\n"
"      --min-frequency N   vocab: pairs seen fewer times are not merged (2)\n"
"masking (mask, train, eval):\n"
"  -T, --seq-len N         longest sequence, [CLS] and [SEP] included (128)\n"
"  -p, --mask-prob P       share of tokens to predict (0.15)\n"
"      --max-pred N        most predictions per sequence (20)\n"
"  -w, --whole-word        mask whole words\n"
"      --pairs             two segments per sequence (A [SEP] B [SEP])\n"
"      --short-prob P      share of shorter sequences (0.1)\n"
"      --dupe N            mask: copies with different masks (1)\n"
"      --text              mask: write the text form\n"
"model (train):\n"
"  -l, --layers N          encoder layers (2)\n"
"  -H, --hidden N          hidden size (128)\n"
"  -A, --heads N           attention heads (2)\n"
"      --ff N              feed-forward size (4 x hidden)\n"
"      --dropout P         dropout (0.1)\n"
"      --gelu erf|tanh     GELU's exact form (default) or Google's tanh\n"
"      --alibi             attention prefers near tokens (ALiBi's penalty)\n"
"training (train):\n"
"  -o, --output MODEL      model and training state, rewritten at checkpoints\n"
"      --resume            continue the run saved in MODEL exactly\n"
"  -b, --batch N           sequences per step (32)\n"
"      --steps N           training steps in all (1000)\n"
"  -r, --lr RATE           AdamW's peak rate (1e-3)\n"
"      --weight-decay W    decoupled, not on biases and norms (0.01)\n"
"      --clip NORM         clip the gradient's global norm (1; 0: off)\n"
"      --schedule S        linear (default), cosine, constant or step\n"
"      --warmup N          linear warmup steps (a tenth of --steps)\n"
"      --min-lr RATE       final rate (0)\n"
"  -c, --checkpoint        recompute each layer in backward (less memory)\n"
"      --val-fraction F    last part of the sequences held out (0.05)\n"
"      --eval-every N      validation every N steps (100)\n"
"      --save-every N      save MODEL every N steps (as --eval-every)\n"
"      --log FILE          CSV: step,train_loss,val_loss,time,mlm_acc,val_acc\n"
"      --log-every N       log rows every N steps (10)\n"
"fill, eval:\n"
"  -m, --model MODEL       the model\n"
"  -k, --top-k K           fill: candidates per [MASK] (5)\n"
"      --json              fill: the fill-mask pipeline's JSON\n"
"  -b, --batch N           eval: sequences per batch (32)\n"
"common:\n"
"  -s, --seed N            random seed (1)\n"
"  -j, --threads N         OpenMP threads\n"
"  -f, --force             mask: binary output to a terminal\n"
"  -q, --quiet             no progress line or reports\n"
"  -v, --verbose           also report sizes and timing\n"
"      --progress, --no-progress\n"
"  -h, --help, --version\n");
}

static const struct option longopts[] = {
	{"vocab", required_argument, 0, O_VOCAB},
	{"cased", no_argument, 0, O_CASED},
	{"ids", required_argument, 0, O_IDS},
	{"tiktoken", required_argument, 0, O_TIKTOKEN},
	{"size", required_argument, 0, 'n'},
	{"min-frequency", required_argument, 0, O_MINFREQ},
	{"seq-len", required_argument, 0, 'T'},
	{"mask-prob", required_argument, 0, 'p'},
	{"max-pred", required_argument, 0, O_MAXPRED},
	{"whole-word", no_argument, 0, 'w'},
	{"pairs", no_argument, 0, O_PAIRS},
	{"short-prob", required_argument, 0, O_SHORT},
	{"dupe", required_argument, 0, O_DUPE},
	{"text", no_argument, 0, O_TEXT},
	{"layers", required_argument, 0, 'l'},
	{"hidden", required_argument, 0, 'H'},
	{"heads", required_argument, 0, 'A'},
	{"ff", required_argument, 0, O_FF},
	{"dropout", required_argument, 0, O_DROPOUT},
	{"gelu", required_argument, 0, O_GELU},
	{"alibi", no_argument, 0, O_ALIBI},
	{"output", required_argument, 0, 'o'},
	CLI_TRAIN_ROW_RESUME,
	{"batch", required_argument, 0, 'b'},
	CLI_TRAIN_ROW_STEPS,
	CLI_TRAIN_ROWS_OPTIM,
	{"checkpoint", no_argument, 0, 'c'},
	CLI_TRAIN_ROWS_EVAL,
	{"model", required_argument, 0, 'm'},
	{"top-k", required_argument, 0, 'k'},
	{"json", no_argument, 0, O_JSON},
	{"seed", required_argument, 0, 's'},
	{"threads", required_argument, 0, 'j'},
	{"force", no_argument, 0, 'f'},
	{"quiet", no_argument, 0, 'q'},
	{"verbose", no_argument, 0, 'v'},
	{"progress", no_argument, 0, CLI_OPT_PROGRESS},
	{"no-progress", no_argument, 0, CLI_OPT_NO_PROGRESS},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0}};

/* Which subcommands take an option, by the option's code: a user who
 * gives `fill --steps 5` is told, not silently ignored. */
static const char *option_owner(int c)
{
	switch (c) {
	case 'n': case O_MINFREQ:
		return "vocab";
	case O_DUPE: case O_TEXT: case 'f':
		return "mask";
	case 'o':
		return "vocab mask train";
	case 'l': case 'H': case 'A': case O_FF: case O_DROPOUT: case O_GELU:
	case O_ALIBI:
	case CLI_OPT_RESUME: case CLI_OPT_STEPS: case 'r': case CLI_OPT_WD:
	case CLI_OPT_CLIP: case CLI_OPT_SCHED: case CLI_OPT_WARMUP:
	case CLI_OPT_MINLR: case 'c': case CLI_OPT_VALFRAC: case CLI_OPT_EVAL:
	case CLI_OPT_SAVE: case CLI_OPT_LOG: case CLI_OPT_LOGEVERY:
		return "train";
	case 'k': case O_JSON:
		return "fill";
	case 'm':
		return "fill eval";
	case O_VOCAB: case O_CASED:
		return "vocab mask train";
	case O_IDS:
		return "mask train";
	case O_TIKTOKEN:
		return "mask train fill";
	case 'T': case 'p': case O_MAXPRED: case 'w': case O_PAIRS:
	case O_SHORT:
		return "mask train eval";
	case 'b':
		return "train eval";
	default:
		return NULL;   /* common */
	}
}

static int owned_by(const char *owners, const char *cmd)
{
	size_t n = strlen(cmd);
	for (const char *s = owners; (s = strstr(s, cmd)); s += n)
		if ((s == owners || s[-1] == ' ') && (s[n] == ' ' || !s[n]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	/* getopt's own messages name argv[0]: the name, not the path. */
	argv[0] = (char *)cli_prog;
	struct opts o = {
		.L = 2, .H = 128, .A = 2, .FF = 0, .T = 128, .B = 32,
		.topk = 5, .dupe = 1, .max_pred = 20, .min_freq = 2,
		.size = 8000, .gelu = NK_GELU_ERF, .mask_prob = 0.15f,
		.short_prob = 0.1f, .dropout = 0.1f, .progress = -1, .seed = 1,
		.t = {.tc = {.steps = 1000, .lr = 1e-3f, .weight_decay = 0.01f,
			     .clip = 1, .schedule = NK_LR_LINEAR, .warmup = -1,
			     .step_size = 1000, .eval_every = 100,
			     .log_every = 10},
		      .val_frac = 0.05f,
		      .schedules = "linear, cosine, constant or step"}};
	/* Options seen, by code, to check them against the subcommand. */
	static unsigned char seen[O_END];
	o.seen = seen;
	int c;
	while ((c = getopt_long(argc, argv,
				"n:T:p:wl:H:A:o:b:r:cm:k:s:j:fqvh", longopts,
				NULL)) != -1) {
		if (c >= 0 && c < (int)sizeof seen)
			seen[c] = 1;
		switch (c) {
		case O_VOCAB: o.vocab = optarg; break;
		case O_CASED: o.cased = 1; break;
		case O_IDS: o.ids = cli_parse_int_opt(usage, "--ids", optarg, 1, (1 << 24) - 8); break;
		case O_TIKTOKEN: o.tiktoken = optarg; break;
		case 'n': o.size = (int)cli_parse_int_opt(usage, "--size", optarg, 6, 1 << 20); break;
		case O_MINFREQ: o.min_freq = (int)cli_parse_int_opt(usage, "--min-frequency", optarg, 1, INT32_MAX); break;
		case 'T': o.T = (int)cli_parse_int_opt(usage, "--seq-len", optarg, 4, 1 << 16); break;
		case 'p': o.mask_prob = (float)cli_parse_float_opt(usage, "--mask-prob", optarg, 0.001, 1); break;
		case O_MAXPRED: o.max_pred = (int)cli_parse_int_opt(usage, "--max-pred", optarg, 1, 1 << 16); break;
		case 'w': o.whole_word = 1; break;
		case O_PAIRS: o.pairs = 1; break;
		case O_SHORT: o.short_prob = (float)cli_parse_float_opt(usage, "--short-prob", optarg, 0, 1); break;
		case O_DUPE: o.dupe = (int)cli_parse_int_opt(usage, "--dupe", optarg, 1, 1000); break;
		case O_TEXT: o.text_out = 1; break;
		case 'l': o.L = (int)cli_parse_int_opt(usage, "--layers", optarg, 1, NK_BERT_MAX_LAYERS); break;
		case 'H': o.H = (int)cli_parse_int_opt(usage, "--hidden", optarg, 1, 65536); break;
		case 'A': o.A = (int)cli_parse_int_opt(usage, "--heads", optarg, 1, 1024); break;
		case O_FF: o.FF = (int)cli_parse_int_opt(usage, "--ff", optarg, 1, 1 << 20); break;
		case O_DROPOUT: o.dropout = (float)cli_parse_float_opt(usage, "--dropout", optarg, 0, 0.99); break;
		case O_GELU:
			if ((o.gelu = nk_gelu_from_name(optarg)) < 0)
				cli_usage_error(usage, "--gelu: '%s' is not erf or "
						"tanh", optarg);
			break;
		case O_ALIBI: o.alibi = 1; break;
		case 'o': o.out = optarg; break;
		case 'b': o.B = (int)cli_parse_int_opt(usage, "--batch", optarg, 1, 100000); break;
		case 'c': o.checkpoint = 1; break;
		case 'm': o.model = optarg; break;
		case 'k': o.topk = (int)cli_parse_int_opt(usage, "--top-k", optarg, 1, 1 << 20); break;
		case O_JSON: o.json = 1; break;
		case 's': o.seed = (uint64_t)cli_parse_int_opt(usage, "--seed", optarg, 0, INT64_MAX); break;
		case 'j': o.threads = (int)cli_parse_int_opt(usage, "--threads", optarg, 1, 1024); break;
		case 'f': o.force = 1; break;
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
		cli_usage_error(usage, "a command is required: vocab, mask, "
				"train, fill or eval");
	const char *cmd = argv[optind++];
	static const char *const cmds[] = {"vocab", "mask", "train", "fill",
					   "eval"};
	int (*const run[])(struct opts *, int, char **) = {
		cmd_vocab, cmd_mask, cmd_train, cmd_fill, cmd_eval};
	int which = -1;
	for (int i = 0; i < 5; i++)
		if (strcmp(cmd, cmds[i]) == 0)
			which = i;
	if (which < 0)
		cli_usage_error(usage, "unknown command '%s' (vocab, mask, "
				"train, fill, eval)", cmd);
	for (const struct option *lo = longopts; lo->name; lo++) {
		const char *owners = option_owner(lo->val);
		if (lo->val < (int)sizeof seen && seen[lo->val] && owners &&
		    !owned_by(owners, cmd))
			cli_usage_error(usage, "%s: --%s is for %s", cmd,
					lo->name, owners);
	}
	if (!!o.vocab + !!o.ids + !!o.tiktoken > 1)
		cli_usage_error(usage, "%s: --vocab, --ids and --tiktoken exclude "
				"each other", cmd);
	/* Token ids have no case, and plain ids no words: --tiktoken's
	 * rank file gives them (and a model its own, for eval). */
	if (o.cased && (o.ids || o.tiktoken))
		cli_usage_error(usage, "%s: --cased is for --vocab (text); "
				"token ids have no case", cmd);
	if (o.whole_word && o.ids)
		cli_usage_error(usage, "%s: -w needs word boundaries, which "
				"--ids lacks (--tiktoken or --vocab has them)",
				cmd);
	if (o.H % o.A)
		cli_usage_error(usage, "--heads %d does not divide --hidden %d",
				o.A, o.H);
	if (!o.FF)
		o.FF = 4 * o.H;
	/* [CLS] A [SEP] B [SEP] holds a token of each segment from 5 on
	 * (a shorter one looped forever cutting sentences to 0 tokens). */
	if (o.pairs && o.T < 5)
		cli_usage_error(usage, "--seq-len %d is too short for --pairs "
				"(5 or more)", o.T);
	/* Google's 20 predictions fit its 128 positions; shorter sequences
	 * get as many as they have tokens unless told. */
	if (!seen[O_MAXPRED] && o.max_pred > o.T)
		o.max_pred = o.T;
	if (o.max_pred > o.T)
		cli_usage_error(usage, "--max-pred %d is more than --seq-len %d",
				o.max_pred, o.T);
	cli_train_finish(&o.t, usage);
	nk_train_config *tc = &o.t.tc;
	if (tc->warmup < 0)
		tc->warmup = tc->steps / 10 < 1000 ? tc->steps / 10 : 1000;
	if (o.threads)
		omp_set_num_threads(o.threads);
	/* train runs data-parallel under mpirun; the others are one process
	 * each (many may run at once under xargs -P: they share no
	 * temporary names). */
	if (run[which] == cmd_train)
		cli_dist_init(&argc, &argv);
	return run[which](&o, argc - optind, argv + optind);
}
