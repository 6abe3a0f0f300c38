/* train.c - tokenize train: byte-level BPE merges learnt from text,
 * written as OUT.tiktoken and OUT.json. */
#include "cli.h"
#include "tokenize.h"

#include "text/pretok.h"

static void train_progress(void *ctx, uint32_t done, uint32_t total)
{
	struct cli_progress *p = ctx;
	(void)total;
	cli_progress_update(p, done);
}

/* The side file (pattern, special tokens) to write beside the ranks:
 * --meta FILE, else OUT.json (OUT less a .tiktoken suffix), else with
 * -o - none.  Returns NULL for none, or a string to free. */
static char *meta_path(const struct opts *o)
{
	if (o->meta)
		return nk_strdup(o->meta);
	size_t n = strlen(o->out);
	char *meta = nk_malloc(n + 6);
	if (!meta)
		return NULL;
	memcpy(meta, o->out, n + 1);
	if (n > 9 && !strcmp(o->out + n - 9, ".tiktoken"))
		meta[n - 9] = 0;
	strcat(meta, ".json");
	return meta;
}

/* Adds every input to the trainer; returns 0, or 1 when any could not
 * be read (each reported). */
static int add_inputs(const struct opts *o, nk_bpe_trainer *t, int nfiles,
		      char **files)
{
	int status = 0;
	for (int f = 0; f < nfiles; f++) {
		nk_input in = {0};
		if (nk_input_load(&in, files[f], 0)) {
			cli_warn_lib();
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
				cli_die_lib();
			p = eol + (eol < end);
		}
		nk_input_free(&in);
	}
	return status;
}

int cmd_train(const struct opts *o, int nfiles, char **files)
{
	if (!o->out)
		cli_usage_error(usage, "train: -o OUT.tiktoken is required");
	if (o->vocab_size < 256)
		cli_usage_error(usage, "train: -n SIZE (at least 256) is required");
	int to_stdout = !strcmp(o->out, "-");
	/* With -o - only the ranks are written, to standard output: what
	 * belongs in the side file then needs --meta, or it would be lost. */
	if (to_stdout && !o->meta && (o->n_spec || o->pattern >= 0 || o->regex))
		cli_usage_error(usage, "train: -o - writes only the ranks; give "
			       "--meta FILE.json for the %s",
			       o->n_spec ? "special tokens (-S)" : "split pattern");
	if (o->meta && !strcmp(o->meta, o->out))
		cli_usage_error(usage, "train: -o and --meta both name '%s'",
			       o->out);
	int kind = o->pattern >= 0 ? o->pattern : NK_PRETOK_O200K;
	if (o->regex && nk_pretok_from_pattern(o->regex) >= 0)
		kind = nk_pretok_from_pattern(o->regex); /* the built-in matcher */
	nk_bpe_trainer *t = nk_bpe_trainer_new(kind);
	if (!t)
		cli_die_lib();
	if (o->regex && nk_pretok_from_pattern(o->regex) < 0 &&
	    nk_bpe_trainer_set_regex(t, o->regex))
		cli_errx(1, "--regex: %s", nk_last_error());
	char *dash[] = {"-"};
	if (nfiles == 0) {
		nfiles = 1;
		files = dash;
	}
	/* A vocabulary learnt from part of the input, or from none, is not
	 * the one asked for: nothing is written, existing files stay. */
	if (add_inputs(o, t, nfiles, files))
		cli_errx(1, "train: an input could not be read; %s%s",
			to_stdout ? "nothing written" : o->out,
			to_stdout ? "" : " not written");
	if (nk_bpe_trainer_pieces(t) == 0)
		cli_errx(1, "train: no text in the input%s; %s%s",
			nfiles > 1 ? "s" : "", to_stdout ? "nothing written" : o->out,
			to_stdout ? "" : " not written");
	struct cli_progress prog;
	cli_progress_init(&prog, o->progress, (double)o->vocab_size - 256,
			 "merges");
	nk_bpe *b = NULL;
	if (nk_bpe_trainer_run(t, (uint32_t)o->vocab_size, (uint64_t)o->min_freq,
			       train_progress, &prog, &b))
		cli_die_lib();
	cli_progress_done(&prog);
	nk_bpe_trainer_free(t);
	uint32_t next = nk_bpe_n_ranks(b);
	for (int i = 0; i < o->n_spec; i++)
		if (nk_bpe_add_special(b, o->spec[i], strlen(o->spec[i]), next++))
			cli_die_lib();
	if (nk_bpe_finish(b, o->out))
		cli_die_lib();
	char *meta = to_stdout && !o->meta ? NULL : meta_path(o);
	if (!meta && !(to_stdout && !o->meta))
		cli_die_lib();
	/* Both files are written in full before either replaces anything. */
	nk_output out, mo = {0};
	if (nk_output_open(&out, o->out) || nk_bpe_write_ranks(b, out.fp) ||
	    (meta && (nk_output_open(&mo, meta) ||
		      nk_bpe_write_meta(b, mo.fp))) ||
	    nk_output_commit(&out) || (meta && nk_output_commit(&mo))) {
		cli_warn_lib();
		nk_output_abort(&out);
		nk_output_abort(&mo);
		exit(1);
	}
	if (o->progress != 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %u tokens (%u merges) to %s%s%s\n",
			cli_prog, nk_bpe_n_vocab(b), nk_bpe_n_ranks(b) - 256,
			to_stdout ? "standard output" : o->out,
			meta ? " and " : "", meta ? meta : "");
	free(meta);
	nk_bpe_free(b);
	if (to_stdout)
		cli_close_stdout();
	return 0;
}
