/* tokenize - byte-level BPE: train, encode, decode, count (tiktoken-exact).
 *
 *   tokenize encode [-e NAME | -v FILE.tiktoken] [-zb] [-j N] [FILE...]
 *   tokenize decode [-e NAME | -v FILE.tiktoken] [-z] [FILE...]
 *   tokenize count  [-e NAME | -v FILE.tiktoken] [-lz] [FILE...]
 *   tokenize train  -n SIZE -o OUT.tiktoken [--meta FILE] [-p PATTERN]
 *                   [-S TOKEN] [FILE...]
 *   tokenize compile [-e NAME | -v FILE.tiktoken] [-p PATTERN] -o OUT.nkv
 *
 * An option that the mode does not take is a usage error (applies[]).
 *
 * Everything about tokens lives in lib/text (bpe*.c, pretok.c) and the
 * token-stream format in lib/formats/tokstream.c.  This file parses the
 * options, loads the vocabulary they name and calls the subcommand:
 * encode.c (encode and count), decode.c, train.c, compile.c.
 */
#include "cli.h"
#include "tokenize.h"

#include "text/bpe_compiled.h"
#include "text/pretok.h"

#include <getopt.h>

void usage(FILE *fp)
{
	fprintf(fp,
"usage: tokenize encode [-bfz] [-j N] [VOCAB] [-s MODE] [FILE...]\n"
"       tokenize decode [-z] [VOCAB] [FILE...]\n"
"       tokenize count [-lz] [-j N] [VOCAB] [-s MODE] [FILE...]\n"
"       tokenize train -n SIZE -o OUT.tiktoken [--meta FILE] [-qz] [-p PATTERN]\n"
"                      [-S TOKEN]... [-m MINFREQ] [FILE...]\n"
"       tokenize compile [VOCAB] [-p PATTERN] -o OUT.nkv\n"
"VOCAB is one of:\n"
"  -e, --encoding NAME     r50k_base, cl100k_base (default) or o200k_base,\n"
"                          from --vocab-dir, $NNKIT_TIKTOKEN_DIR or\n"
"                          " NK_TIKTOKEN_DIR "\n"
"  -v, --vocab FILE        a .tiktoken rank file (FILE's .json beside it),\n"
"                          or a compiled vocabulary (tokenize compile)\n"
"      --meta FILE.json    its pattern and special tokens, given explicitly;\n"
"                          train: the side file to write\n"
"      --gpt2 ENC,BPE      GPT-2's encoder.json and vocab.bpe\n"
"options:\n"
"  -d, --vocab-dir DIR     where -e looks for NAME.tiktoken and NAME.json\n"
"  -p, --pattern NAME      split pattern: r50k (gpt2), cl100k, o200k, none\n"
"      --regex RE          split pattern of your own, tiktoken's pat_str syntax\n"
"  -s, --special MODE      special token text: text (default), allow, fail\n"
"  -z, --whole             the whole input is one text (newlines are tokens)\n"
"  -b, --binary            binary token stream (nnkit-tokens(5))\n"
"  -f, --force             write binary to a terminal anyway\n"
"  -l, --lines             count: one count per input line\n"
"  -j, --threads N         encode with N threads (same output)\n"
"  -n, --vocab-size N      train: tokens in the vocabulary (256 bytes + merges)\n"
"  -m, --min-freq N        train: stop when no pair occurs N times (default 2)\n"
"  -S, --special-token T   train: add special token T after the merges\n"
"  -o, --output FILE       train: rank file to write (and FILE's .json, or\n"
"                          --meta); - writes the ranks alone to stdout;\n"
"                          compile: the compiled vocabulary to write\n"
"  -q, --quiet             train: no progress line\n"
"      --progress, --no-progress\n"
"  -h, --help, --version\n");
}

static int parse_special(const char *s)
{
	if (!strcmp(s, "text")) return NK_SPECIAL_TEXT;
	if (!strcmp(s, "allow")) return NK_SPECIAL_ALLOW;
	if (!strcmp(s, "fail")) return NK_SPECIAL_FAIL;
	cli_usage_error(usage, "--special: '%s' is not text, allow or fail", s);
}

nk_bpe *load_vocab(const struct opts *o)
{
	nk_bpe *b = NULL;
	int rc;
	if (o->gpt2) {
		char *enc = nk_strdup(o->gpt2), *comma;
		if (!enc)
			cli_die_lib();
		if (!(comma = strchr(enc, ',')))
			cli_usage_error(usage, "--gpt2: want ENCODER.json,VOCAB.bpe");
		*comma = 0;
		rc = nk_bpe_open_gpt2(&b, enc, comma + 1);
		free(enc);
	} else if (o->vocab && nk_bpe_path_is_compiled(o->vocab)) {
		/* Recognised by its magic: the pattern and special tokens
		 * are in the file, and the tables are used as mapped. */
		if (o->meta)
			cli_usage_error(usage, "--meta: %s is a compiled vocabulary, "
				       "which holds its pattern and special "
				       "tokens", o->vocab);
		/* compile (the one mode with -o that loads a vocabulary)
		 * checks all of it rather than copy damage along. */
		rc = nk_bpe_open_compiled(&b, o->vocab, o->out != NULL);
	} else if (o->vocab) {
		rc = o->out ? nk_bpe_open(&b, o->vocab, o->meta) :
			      open_cached(&b, o->vocab, o->meta);
	} else {
		const char *name = o->encoding ? o->encoding : "cl100k_base";
		const char *dir = o->dir ? o->dir : getenv("NNKIT_TIKTOKEN_DIR");
		if (!dir || !*dir)
			dir = NK_TIKTOKEN_DIR;
		if (strchr(name, '/') || nk_pretok_from_name(name) < 0 ||
		    !strchr(name, '_'))
			cli_usage_error(usage, "--encoding: unknown encoding '%s' "
				       "(r50k_base, cl100k_base, o200k_base)", name);
		char path[4096], meta[4096];
		snprintf(path, sizeof path, "%s/%s.tiktoken", dir, name);
		snprintf(meta, sizeof meta, "%s/%s.json", dir, name);
		if (access(path, R_OK) != 0)
			cli_errx(1, "%s: %s (download the encoding's .tiktoken and "
				".json files there, or point --vocab-dir or "
				"NNKIT_TIKTOKEN_DIR at them; see tokenize(1))",
				path, strerror(errno));
		const char *m = access(meta, R_OK) == 0 ? meta : NULL;
		rc = o->out ? nk_bpe_open(&b, path, m) : open_cached(&b, path, m);
		if (!rc && access(meta, R_OK) != 0)
			nk_bpe_set_pretok(b, nk_pretok_from_name(name));
	}
	if (rc)
		cli_die_lib();
	if (o->pattern >= 0)
		nk_bpe_set_pretok(b, o->pattern);
	if (o->regex && nk_bpe_set_pattern(b, o->regex))
		cli_errx(1, "--regex: %s", nk_last_error());
	return b;
}

/* Long options without a letter. */
enum { OPT_META = 0x2000, OPT_GPT2, OPT_REGEX };

/* The modes each option applies to: any other mode refuses it, rather
 * than ignore what the user asked for. */
enum { M_ENCODE = 1, M_DECODE = 2, M_COUNT = 4, M_TRAIN = 8, M_COMPILE = 16 };
#define N_MODES 5
#define M_VOCAB (M_ENCODE | M_DECODE | M_COUNT | M_COMPILE)
static const struct { int code; const char *name; int modes; } applies[] = {
	{'e', "-e (--encoding)", M_VOCAB},
	{'v', "-v (--vocab)", M_VOCAB},
	{OPT_META, "--meta", M_VOCAB | M_TRAIN},
	{OPT_GPT2, "--gpt2", M_VOCAB},
	{'d', "-d (--vocab-dir)", M_VOCAB},
	{'p', "-p (--pattern)", M_ENCODE | M_COUNT | M_TRAIN | M_COMPILE},
	{OPT_REGEX, "--regex", M_ENCODE | M_COUNT | M_TRAIN | M_COMPILE},
	{'s', "-s (--special)", M_ENCODE | M_COUNT},
	{'z', "-z (--whole)", M_ENCODE | M_DECODE | M_COUNT | M_TRAIN},
	{'b', "-b (--binary)", M_ENCODE},
	{'f', "-f (--force)", M_ENCODE | M_COMPILE},
	{'l', "-l (--lines)", M_COUNT},
	{'j', "-j (--threads)", M_ENCODE | M_COUNT},
	{'n', "-n (--vocab-size)", M_TRAIN},
	{'m', "-m (--min-freq)", M_TRAIN},
	{'S', "-S (--special-token)", M_TRAIN},
	{'o', "-o (--output)", M_TRAIN | M_COMPILE},
	{'q', "-q (--quiet)", M_TRAIN},
	{CLI_OPT_PROGRESS, "--progress", M_TRAIN},
	{CLI_OPT_NO_PROGRESS, "--no-progress", M_TRAIN},
};
#define N_APPLIES (sizeof applies / sizeof applies[0])
static const char *mode_names[N_MODES] = {"encode", "decode", "count",
					   "train", "compile"};

/* A usage error for the first option given that `mode` does not take. */
static void check_applies(const unsigned char *seen, int mode)
{
	for (size_t i = 0; i < N_APPLIES; i++) {
		if (!seen[i] || (applies[i].modes & mode))
			continue;
		char only[64] = "";
		int k = 0, n = 0;
		for (int m = 0; m < N_MODES; m++)
			n += (applies[i].modes >> m) & 1;
		for (int m = 0; m < N_MODES; m++)
			if ((applies[i].modes >> m) & 1)
				snprintf(only + strlen(only), sizeof only - strlen(only),
					 "%s%s", k++ == 0 ? "" : k == n ? " and " : ", ",
					 mode_names[m]);
		int me = 0;
		while ((1 << me) != mode)
			me++;
		cli_usage_error(usage, "%s does not apply to %s (only to %s)",
			       applies[i].name, mode_names[me], only);
	}
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	static const struct option longopts[] = {
		{"encoding", required_argument, NULL, 'e'},
		{"vocab", required_argument, NULL, 'v'},
		{"meta", required_argument, NULL, OPT_META},
		{"gpt2", required_argument, NULL, OPT_GPT2},
		{"vocab-dir", required_argument, NULL, 'd'},
		{"pattern", required_argument, NULL, 'p'},
		{"regex", required_argument, NULL, OPT_REGEX},
		{"special", required_argument, NULL, 's'},
		{"whole", no_argument, NULL, 'z'},
		{"binary", no_argument, NULL, 'b'},
		{"force", no_argument, NULL, 'f'},
		{"lines", no_argument, NULL, 'l'},
		{"threads", required_argument, NULL, 'j'},
		{"vocab-size", required_argument, NULL, 'n'},
		{"min-freq", required_argument, NULL, 'm'},
		{"special-token", required_argument, NULL, 'S'},
		{"output", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},
		{"progress", no_argument, NULL, CLI_OPT_PROGRESS},
		{"no-progress", no_argument, NULL, CLI_OPT_NO_PROGRESS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, CLI_OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {0};
	o.pattern = -1;
	o.threads = 1;
	o.progress = -1;
	o.min_freq = 2;
	/* Values are checked once the mode is known: an option the mode
	 * does not take is reported as that, whatever its value. */
	const char *pattern = NULL, *special = NULL, *threads = NULL;
	const char *vocab_size = NULL, *min_freq = NULL;
	unsigned char seen[N_APPLIES] = {0};
	int c;
	while ((c = getopt_long(argc, argv, "e:v:d:p:s:zbflj:n:m:S:o:qh",
				longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.encoding = optarg; break;
		case 'v': o.vocab = optarg; break;
		case OPT_META: o.meta = optarg; break;
		case OPT_GPT2: o.gpt2 = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'p': pattern = optarg; break;
		case OPT_REGEX: o.regex = optarg; break;
		case 's': special = optarg; break;
		case 'z': o.whole = 1; break;
		case 'b': o.binary = 1; break;
		case 'f': o.force = 1; break;
		case 'l': o.lines = 1; break;
		case 'j': threads = optarg; break;
		case 'n': vocab_size = optarg; break;
		case 'm': min_freq = optarg; break;
		case 'S':
			if (o.n_spec == 64)
				cli_usage_error(usage, "-S: at most 64 special tokens");
			o.spec[o.n_spec++] = optarg;
			break;
		case 'o': o.out = optarg; break;
		case 'q': o.progress = 0; break;
		case CLI_OPT_PROGRESS: o.progress = 1; break;
		case CLI_OPT_NO_PROGRESS: o.progress = 0; break;
		case 'h': cli_exit_help(usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default: cli_usage_error(usage, NULL);
		}
		for (size_t i = 0; i < N_APPLIES; i++)
			if (applies[i].code == c)
				seen[i] = 1;
	}
	if (optind >= argc)
		cli_usage_error(usage, "no mode given (encode, decode, count, train, "
			       "compile)");
	const char *mode = argv[optind++];
	int n = argc - optind, m = 0;
	char **files = argv + optind;
	for (int k = 0; k < N_MODES; k++)
		if (!strcmp(mode, mode_names[k]))
			m = 1 << k;
	if (!m)
		cli_usage_error(usage, "unknown mode '%s' (encode, decode, count, "
			       "train, compile)", mode);
	check_applies(seen, m);
	if (pattern && (o.pattern = nk_pretok_from_name(pattern)) < 0)
		cli_usage_error(usage, "--pattern: unknown pattern '%s' (r50k, "
			       "cl100k, o200k, none)", pattern);
	if (special)
		o.special = parse_special(special);
	if (threads)
		o.threads = (int)cli_parse_int_opt(usage, "-j", threads, 1, 256);
	if (vocab_size)
		o.vocab_size = cli_parse_int_opt(usage, "-n", vocab_size, 256,
						1 << 24);
	if (min_freq)
		o.min_freq = cli_parse_int_opt(usage, "-m", min_freq, 1,
					      (long long)1 << 40);
	for (int i = 0; i < o.n_spec; i++)
		if (!*o.spec[i])
			cli_usage_error(usage, "-S: empty special token");
	if ((o.vocab != NULL) + (o.encoding != NULL) + (o.gpt2 != NULL) > 1)
		cli_usage_error(usage, "give one of -e, -v and --gpt2");
	if (o.regex && o.pattern >= 0)
		cli_usage_error(usage, "give one of -p and --regex");
	if (o.regex && !*o.regex)
		cli_usage_error(usage, "--regex: empty pattern (-p none splits nothing)");
	switch (m) {
	case M_ENCODE: return cmd_encode(&o, 0, n, files);
	case M_COUNT: return cmd_encode(&o, o.lines ? 2 : 1, n, files);
	case M_DECODE: return cmd_decode(&o, n, files);
	case M_COMPILE: return cmd_compile(&o, n, files);
	default: return cmd_train(&o, n, files);
	}
}
