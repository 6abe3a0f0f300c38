/* tokenize - byte-level BPE: train, encode, decode, count (tiktoken-exact).
 *
 *   tokenize encode [-e NAME | -v FILE.tiktoken] [-zb] [-j N] [FILE...]
 *   tokenize decode [-e NAME | -v FILE.tiktoken] [-z] [FILE...]
 *   tokenize count  [-e NAME | -v FILE.tiktoken] [-lz] [FILE...]
 *   tokenize train  -n SIZE -o OUT.tiktoken [-p PATTERN] [-S TOKEN] [FILE...]
 *
 * Everything about tokens lives in lib/bpe.c and lib/pretok.c; this file
 * reads inputs, cuts them into lines or thread slices, and writes.
 */
#include "cli.h"

#include "bpe.h"
#include "pretok.h"
#include "tokstream.h"

#include <getopt.h>
#include <omp.h>

#ifndef NK_TIKTOKEN_DIR
#define NK_TIKTOKEN_DIR "/usr/local/share/nnkit/tiktoken"
#endif

#define BLOCK (1u << 20) /* bytes of input per slice */
/* Slices per thread and round: more slices than threads, handed out as
 * threads come free, so a dense slice does not leave the others idle. */
#define SLICES_PER_THREAD 2

static void usage(FILE *fp)
{
	fprintf(fp,
"usage: tokenize encode [-bfz] [-j N] [VOCAB] [-s MODE] [FILE...]\n"
"       tokenize decode [-z] [VOCAB] [FILE...]\n"
"       tokenize count [-lz] [-j N] [VOCAB] [-s MODE] [FILE...]\n"
"       tokenize train -n SIZE -o OUT.tiktoken [-z] [-p PATTERN] [-S TOKEN]...\n"
"                      [-m MINFREQ] [FILE...]\n"
"VOCAB is one of:\n"
"  -e, --encoding NAME     r50k_base, cl100k_base (default) or o200k_base,\n"
"                          from --vocab-dir, $NNKIT_TIKTOKEN_DIR or\n"
"                          " NK_TIKTOKEN_DIR "\n"
"  -v, --vocab FILE        a .tiktoken rank file (FILE's .json beside it)\n"
"      --meta FILE.json    its pattern and special tokens, given explicitly\n"
"      --gpt2 ENC,BPE      GPT-2's encoder.json and vocab.bpe\n"
"options:\n"
"  -d, --vocab-dir DIR     where -e looks for NAME.tiktoken and NAME.json\n"
"  -p, --pattern NAME      split pattern: r50k (gpt2), cl100k, o200k, none\n"
"  -s, --special MODE      special token text: text (default), allow, fail\n"
"  -z, --whole             the whole input is one text (newlines are tokens)\n"
"  -b, --binary            binary token stream (nnkit-tokens(5))\n"
"  -f, --force             write binary to a terminal anyway\n"
"  -l, --lines             count: one count per input line\n"
"  -j, --threads N         encode with N threads (same output)\n"
"  -n, --vocab-size N      train: tokens in the vocabulary (256 bytes + merges)\n"
"  -m, --min-freq N        train: stop when no pair occurs N times (default 2)\n"
"  -S, --special-token T   train: add special token T after the merges\n"
"  -o, --output FILE       train: rank file to write (and FILE's .json)\n"
"  -q, --quiet             no progress line\n"
"      --progress, --no-progress\n"
"  -h, --help, --version\n");
}

struct opts {
	const char *encoding, *vocab, *meta, *gpt2, *dir, *out;
	int pattern, special, whole, binary, force, lines, threads, progress;
	long long vocab_size, min_freq;
	const char *spec[64];
	int n_spec;
};

static int parse_special(const char *s)
{
	if (!strcmp(s, "text")) return NK_SPECIAL_TEXT;
	if (!strcmp(s, "allow")) return NK_SPECIAL_ALLOW;
	if (!strcmp(s, "fail")) return NK_SPECIAL_FAIL;
	nk_usage_error(usage, "--special: '%s' is not text, allow or fail", s);
}

static nk_bpe *load_vocab(const struct opts *o)
{
	nk_bpe *b = NULL;
	int rc;
	if (o->gpt2) {
		char *enc = nk_strdup(o->gpt2), *comma;
		if (!enc)
			nk_die_lib();
		if (!(comma = strchr(enc, ',')))
			nk_usage_error(usage, "--gpt2: want ENCODER.json,VOCAB.bpe");
		*comma = 0;
		rc = nk_bpe_open_gpt2(&b, enc, comma + 1);
		free(enc);
	} else if (o->vocab) {
		rc = nk_bpe_open(&b, o->vocab, o->meta);
	} else {
		const char *name = o->encoding ? o->encoding : "cl100k_base";
		const char *dir = o->dir ? o->dir : getenv("NNKIT_TIKTOKEN_DIR");
		if (!dir || !*dir)
			dir = NK_TIKTOKEN_DIR;
		if (strchr(name, '/') || nk_pretok_from_name(name) < 0 ||
		    !strchr(name, '_'))
			nk_usage_error(usage, "--encoding: unknown encoding '%s' "
				       "(r50k_base, cl100k_base, o200k_base)", name);
		char path[4096], meta[4096];
		snprintf(path, sizeof path, "%s/%s.tiktoken", dir, name);
		snprintf(meta, sizeof meta, "%s/%s.json", dir, name);
		if (access(path, R_OK) != 0)
			nk_errx(1, "%s: %s (download the encoding's .tiktoken and "
				".json files there, or point --vocab-dir or "
				"NNKIT_TIKTOKEN_DIR at them; see tokenize(1))",
				path, strerror(errno));
		rc = nk_bpe_open(&b, path, access(meta, R_OK) == 0 ? meta : NULL);
		if (!rc && access(meta, R_OK) != 0)
			nk_bpe_set_pretok(b, nk_pretok_from_name(name));
	}
	if (rc)
		nk_die_lib();
	if (o->pattern >= 0)
		nk_bpe_set_pretok(b, o->pattern);
	return b;
}

/* ---- encode and count ---- */

/* One thread's share of a round: lines [a, b) of the input, their ids
 * and, per line, how many. */
struct slice {
	const unsigned char *a, *b;
	nk_bpe_ids ids, counts;
	char *text;       /* the slice's lines as text ids, when that is the output */
	size_t text_len, text_cap;
	int rc;
	size_t fail_at;   /* offset in the input of a special token (fail) */
	char msg[512];
};

/* A place to cut a whole text between threads: a line start that is a
 * letter after '\n' is a piece boundary under all three patterns. */
static const unsigned char *safe_cut(const unsigned char *p,
				     const unsigned char *end)
{
	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || nl + 1 >= end)
			return end;
		unsigned char c = nl[1];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return nl + 1;
		p = nl + 1;
	}
	return end;
}

static const unsigned char *line_cut(const unsigned char *p,
				     const unsigned char *end)
{
	if (p >= end)
		return end;
	const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl + 1 : end;
}

static void encode_slice(nk_bpe_enc *e, struct slice *s, int whole,
			 int special)
{
	s->ids.n = s->counts.n = 0;
	s->rc = 0;
	const unsigned char *p = s->a;
	while (p < s->b || (whole && p == s->a)) {
		const unsigned char *eol = whole ? s->b :
			memchr(p, '\n', (size_t)(s->b - p));
		if (!eol)
			eol = s->b;
		size_t before = s->ids.n;
		int rc = nk_bpe_encode(e, p, (size_t)(eol - p), special, &s->ids);
		if (!rc)
			rc = nk_bpe_ids_push(&s->counts,
					     (uint32_t)(s->ids.n - before));
		if (rc) {
			s->rc = rc;
			s->fail_at = (size_t)(p - s->a) + nk_bpe_enc_fail_offset(e);
			snprintf(s->msg, sizeof s->msg, "%s", nk_last_error());
			return;
		}
		p = eol + (eol < s->b);
		if (whole)
			break;
	}
}

/* Text output is formatted by the thread that encoded the slice, so with
 * -j N the decimal formatting (a quarter of the work) scales too and only
 * the final fwrite is serial.  The buffer is kept from round to round. */
static int format_slice_text(struct slice *s)
{
	size_t need = s->ids.n * 11 + s->counts.n;
	if (need > s->text_cap) {
		char *p = nk_realloc(s->text, need);
		if (!p)
			return NK_ENOMEM;
		s->text = p;
		s->text_cap = need;
	}
	size_t off = 0, len = 0;
	for (size_t l = 0; l < s->counts.n; l++) {
		for (size_t k = 0; k < s->counts.v[l]; k++)
			if (s->ids.v[off + k] > NK_TOK_ID_MAX)
				return nk_error(NK_ERANGE, "token id %u is reserved",
						s->ids.v[off + k]);
		len += nk_tok_format_line(s->text + len, s->ids.v + off,
					  s->counts.v[l]);
		off += s->counts.v[l];
	}
	s->text_len = len;
	return NK_OK;
}

struct run {
	const struct opts *o;
	const nk_bpe *b;
	nk_bpe_enc **enc;
	struct slice *sl;
	int nt, nslices;
	int count_mode;   /* 0 encode, 1 count per file, 2 count per line */
	nk_tokwriter *w;
	nk_bpe_ids whole_ids;
	uint64_t total;
};

static void append_ids(nk_bpe_ids *to, const uint32_t *v, size_t n)
{
	if (n == 0) /* v may be NULL then, and memcpy must not see it */
		return;
	if (to->cap - to->n < n) {
		size_t cap = to->cap ? to->cap : 4096;
		while (cap - to->n < n)
			cap *= 2;
		uint32_t *p = nk_reallocarray(to->v, cap, sizeof *p);
		if (!p)
			nk_die_lib();
		to->v = p;
		to->cap = cap;
	}
	memcpy(to->v + to->n, v, n * sizeof *v);
	to->n += n;
}

/* "FILE:LINE:COL" of offset `at` in the input. */
static void where(const nk_input *in, size_t at, char *buf, size_t cap)
{
	size_t line = 1, col = 1;
	for (size_t i = 0; i < at && i < in->size; i++) {
		if (in->data[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(buf, cap, "%s:%zu:%zu", in->name, line, col);
}

/* Encodes one input; returns 0, or 1 after reporting an input error. */
static int encode_input(struct run *R, const nk_input *in)
{
	const struct opts *o = R->o;
	const unsigned char *p = in->data, *end = in->data + in->size;
	int whole = o->whole;
	uint64_t file_total = 0;
	/* A special token could span a cut: no cutting when they count. */
	int can_cut = !(o->special != NK_SPECIAL_TEXT &&
			nk_bpe_n_special(R->b) > 0);
	if (whole)
		R->whole_ids.n = 0;
	do {
		/* Cut this round into slices of about BLOCK bytes. */
		int k = 0;
		for (; k < R->nslices && (p < end || (k == 0 && p == in->data)); k++) {
			const unsigned char *b = (size_t)(end - p) > BLOCK ?
						 p + BLOCK : end;
			b = b == end ? end : whole ? (can_cut ? safe_cut(b, end) : end)
						    : line_cut(b, end);
			R->sl[k].a = p;
			R->sl[k].b = b;
			p = b;
		}
		int ns = k;
		int text_out = R->count_mode == 0 && !whole && !o->binary;
		int format_failed = 0;
		#pragma omp parallel for num_threads(R->nt) schedule(dynamic, 1) if (ns > 1) reduction(|:format_failed)
		for (int i = 0; i < ns; i++) {
			encode_slice(R->enc[omp_get_thread_num()], &R->sl[i],
				     whole, o->special);
			if (text_out)
				format_failed |= format_slice_text(&R->sl[i]) != 0;
		}
		if (format_failed)
			nk_errx(1, "out of memory formatting ids");
		for (int i = 0; i < ns; i++) {
			struct slice *s = &R->sl[i];
			size_t off = 0;
			if (text_out && s->text_len) {
				/* Through the writer's stream, after its buffer. */
				if (nk_tokwriter_flush(R->w) ||
				    fwrite(s->text, 1, s->text_len, stdout) != s->text_len)
					nk_errx(1, "write error on standard output");
				file_total += s->ids.n;
			}
			for (size_t l = 0; l < s->counts.n && !text_out; l++) {
				uint32_t c = s->counts.v[l];
				file_total += c;
				if (whole) {
					append_ids(&R->whole_ids, s->ids.v + off, c);
				} else if (R->count_mode == 2) {
					printf("%u\n", c);
				} else if (R->count_mode == 0 &&
					   nk_tokwriter_put(R->w, s->ids.v + off, c)) {
					nk_die_lib();
				}
				off += c;
			}
			/* The lines before a failure are written first. */
			if (s->rc) {
				char at[512];
				where(in, (size_t)(s->a - in->data) + s->fail_at,
				      at, sizeof at);
				nk_warnx("%s: %s", at, s->msg);
				return 1;
			}
		}
	} while (p < end);
	if (whole && R->count_mode == 0 &&
	    nk_tokwriter_put(R->w, R->whole_ids.v, R->whole_ids.n))
		nk_die_lib();
	if (whole && R->count_mode == 2)
		printf("%zu\n", R->whole_ids.n);
	if (R->count_mode == 1)
		printf("%llu %s\n", (unsigned long long)file_total, in->name);
	R->total += file_total;
	return 0;
}

static int cmd_encode(struct opts *o, int count_mode, int nfiles,
		      char **files)
{
	nk_bpe *b = load_vocab(o);
	struct run R = {0};
	R.o = o;
	R.b = b;
	R.nt = o->threads;
	R.count_mode = count_mode;
	R.enc = nk_calloc((size_t)R.nt, sizeof *R.enc);
	R.nslices = R.nt == 1 ? 1 : R.nt * SLICES_PER_THREAD;
	R.sl = nk_calloc((size_t)R.nslices, sizeof *R.sl);
	if (!R.enc || !R.sl)
		nk_die_lib();
	for (int i = 0; i < R.nt; i++)
		if (!(R.enc[i] = nk_bpe_enc_new(b)))
			nk_die_lib();
	if (count_mode == 0) {
		if (o->binary)
			nk_refuse_binary_tty(o->force);
		if (!(R.w = nk_tokwriter_open(stdout, o->binary)))
			nk_die_lib();
	}
	char *dash[] = {"-"};
	if (nfiles == 0) {
		nfiles = 1;
		files = dash;
	}
	int status = 0;
	for (int f = 0; f < nfiles; f++) {
		nk_input in = {0};
		if (nk_input_load(&in, files[f], 0)) {
			nk_warn_lib();
			status = 1;
			continue;
		}
		status |= encode_input(&R, &in);
		nk_input_free(&in);
	}
	if (count_mode == 1 && nfiles > 1)
		printf("%llu total\n", (unsigned long long)R.total);
	if (R.w && nk_tokwriter_close(R.w))
		nk_die_lib();
	for (int i = 0; i < R.nt; i++)
		nk_bpe_enc_free(R.enc[i]);
	for (int i = 0; i < R.nslices; i++) {
		nk_bpe_ids_free(&R.sl[i].ids);
		nk_bpe_ids_free(&R.sl[i].counts);
		free(R.sl[i].text);
	}
	nk_bpe_ids_free(&R.whole_ids);
	free(R.enc);
	free(R.sl);
	nk_bpe_free(b);
	nk_close_stdout();
	return status;
}

/* ---- decode ---- */

static int cmd_decode(struct opts *o, int nfiles, char **files)
{
	nk_bpe *b = load_vocab(o);
	char *dash[] = {"-"};
	int status = 0;
	if (nfiles == 0) {
		nfiles = 1;
		files = dash;
	}
	for (int f = 0; f < nfiles; f++) {
		nk_tokreader *r = nk_tokreader_open(files[f]);
		if (!r) {
			nk_warn_lib();
			status = 1;
			continue;
		}
		nk_tokreader_set_max_id(r, nk_bpe_n_vocab(b));
		uint32_t *ids;
		size_t n;
		int rc;
		while ((rc = nk_tokreader_next(r, &ids, &n)) > 0) {
			for (size_t i = 0; i < n; i++) {
				size_t len;
				const unsigned char *t = nk_bpe_token(b, ids[i], &len);
				if (!t) {
					nk_warnx("%s: sequence %llu, id %zu: unknown "
						 "id %u (no token has it)",
						 nk_tokreader_name(r),
						 (unsigned long long)nk_tokreader_seqno(r),
						 i + 1, ids[i]);
					rc = -1;
					break;
				}
				fwrite(t, 1, len, stdout);
			}
			if (rc < 0)
				break;
			if (!o->whole)
				putchar('\n');
		}
		if (rc < 0) {
			if (rc != -1)
				nk_warn_lib();
			status = 1;
		}
		nk_tokreader_close(r);
	}
	nk_bpe_free(b);
	nk_close_stdout();
	return status;
}

/* ---- train ---- */

static void train_progress(void *ctx, uint32_t done, uint32_t total)
{
	struct nk_progress *p = ctx;
	(void)total;
	nk_progress_update(p, done);
}

static int cmd_train(struct opts *o, int nfiles, char **files)
{
	if (!o->out)
		nk_usage_error(usage, "train: -o OUT.tiktoken is required");
	if (o->vocab_size < 256)
		nk_usage_error(usage, "train: -n SIZE (at least 256) is required");
	int kind = o->pattern >= 0 ? o->pattern : NK_PRETOK_O200K;
	nk_bpe_trainer *t = nk_bpe_trainer_new(kind);
	if (!t)
		nk_die_lib();
	char *dash[] = {"-"};
	int status = 0;
	if (nfiles == 0) {
		nfiles = 1;
		files = dash;
	}
	for (int f = 0; f < nfiles; f++) {
		nk_input in = {0};
		if (nk_input_load(&in, files[f], 0)) {
			nk_warn_lib();
			status = 1;
			continue;
		}
		const unsigned char *p = in.data, *end = in.data + in.size;
		while (p < end) {
			const unsigned char *eol = o->whole ? end :
				memchr(p, '\n', (size_t)(end - p));
			if (!eol)
				eol = end;
			if (nk_bpe_trainer_add(t, p, (size_t)(eol - p)))
				nk_die_lib();
			p = eol + (eol < end);
		}
		nk_input_free(&in);
	}
	struct nk_progress prog;
	nk_progress_init(&prog, o->progress, (double)o->vocab_size - 256,
			 "merges");
	nk_bpe *b = NULL;
	if (nk_bpe_trainer_run(t, (uint32_t)o->vocab_size, (uint64_t)o->min_freq,
			       train_progress, &prog, &b))
		nk_die_lib();
	nk_progress_done(&prog);
	nk_bpe_trainer_free(t);
	uint32_t next = nk_bpe_n_ranks(b);
	for (int i = 0; i < o->n_spec; i++)
		if (nk_bpe_add_special(b, o->spec[i], strlen(o->spec[i]), next++))
			nk_die_lib();
	if (nk_bpe_finish(b, o->out))
		nk_die_lib();
	/* OUT.tiktoken and OUT.json, each written atomically. */
	size_t n = strlen(o->out);
	char *meta = nk_malloc(n + 6);
	if (!meta)
		nk_die_lib();
	memcpy(meta, o->out, n + 1);
	if (n > 9 && !strcmp(o->out + n - 9, ".tiktoken"))
		meta[n - 9] = 0;
	strcat(meta, ".json");
	nk_output out, mo;
	if (nk_output_open(&out, o->out) || nk_bpe_write_ranks(b, out.fp) ||
	    nk_output_commit(&out))
		nk_die_lib();
	if (nk_output_open(&mo, meta) || nk_bpe_write_meta(b, mo.fp) ||
	    nk_output_commit(&mo))
		nk_die_lib();
	if (o->progress != 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %u tokens (%u merges) to %s and %s\n",
			nk_prog, nk_bpe_n_vocab(b), nk_bpe_n_ranks(b) - 256,
			o->out, meta);
	free(meta);
	nk_bpe_free(b);
	return status;
}

int main(int argc, char **argv)
{
	nk_cli_init(argv[0]);
	enum { OPT_META = 0x2000, OPT_GPT2 };
	static const struct option longopts[] = {
		{"encoding", required_argument, NULL, 'e'},
		{"vocab", required_argument, NULL, 'v'},
		{"meta", required_argument, NULL, OPT_META},
		{"gpt2", required_argument, NULL, OPT_GPT2},
		{"vocab-dir", required_argument, NULL, 'd'},
		{"pattern", required_argument, NULL, 'p'},
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
		{"progress", no_argument, NULL, NK_OPT_PROGRESS},
		{"no-progress", no_argument, NULL, NK_OPT_NO_PROGRESS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, NK_OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {0};
	o.pattern = -1;
	o.threads = 1;
	o.progress = -1;
	o.min_freq = 2;
	int c;
	while ((c = getopt_long(argc, argv, "e:v:d:p:s:zbflj:n:m:S:o:qh",
				longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.encoding = optarg; break;
		case 'v': o.vocab = optarg; break;
		case OPT_META: o.meta = optarg; break;
		case OPT_GPT2: o.gpt2 = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'p':
			if ((o.pattern = nk_pretok_from_name(optarg)) < 0)
				nk_usage_error(usage, "--pattern: unknown pattern "
					       "'%s' (r50k, cl100k, o200k, none)",
					       optarg);
			break;
		case 's': o.special = parse_special(optarg); break;
		case 'z': o.whole = 1; break;
		case 'b': o.binary = 1; break;
		case 'f': o.force = 1; break;
		case 'l': o.lines = 1; break;
		case 'j':
			o.threads = (int)nk_parse_int_opt(usage, "-j", optarg, 1, 256);
			break;
		case 'n':
			o.vocab_size = nk_parse_int_opt(usage, "-n", optarg, 256,
							1 << 24);
			break;
		case 'm':
			o.min_freq = nk_parse_int_opt(usage, "-m", optarg, 1,
						      (long long)1 << 40);
			break;
		case 'S':
			if (o.n_spec == 64)
				nk_usage_error(usage, "-S: at most 64 special tokens");
			if (!*optarg)
				nk_usage_error(usage, "-S: empty special token");
			o.spec[o.n_spec++] = optarg;
			break;
		case 'o': o.out = optarg; break;
		case 'q': o.progress = 0; break;
		case NK_OPT_PROGRESS: o.progress = 1; break;
		case NK_OPT_NO_PROGRESS: o.progress = 0; break;
		case 'h': nk_exit_help(usage);
		case NK_OPT_VERSION: nk_exit_version();
		default: nk_usage_error(usage, NULL);
		}
	}
	if (optind >= argc)
		nk_usage_error(usage, "no mode given (encode, decode, count, train)");
	const char *mode = argv[optind++];
	int n = argc - optind;
	char **files = argv + optind;
	if ((o.vocab != NULL) + (o.encoding != NULL) + (o.gpt2 != NULL) > 1)
		nk_usage_error(usage, "give one of -e, -v and --gpt2");
	if (!strcmp(mode, "encode"))
		return cmd_encode(&o, 0, n, files);
	if (!strcmp(mode, "count"))
		return cmd_encode(&o, o.lines ? 2 : 1, n, files);
	if (!strcmp(mode, "decode"))
		return cmd_decode(&o, n, files);
	if (!strcmp(mode, "train"))
		return cmd_train(&o, n, files);
	nk_usage_error(usage, "unknown mode '%s' (encode, decode, count, train)",
		       mode);
}
