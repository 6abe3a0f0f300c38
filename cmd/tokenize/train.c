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

int cmd_train(const struct opts *o, int nfiles, char **files)
{
	if (!o->out)
		cli_usage_error(usage, "train: -o OUT.tiktoken is required");
	if (o->vocab_size < 256)
		cli_usage_error(usage, "train: -n SIZE (at least 256) is required");
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
	int status = 0;
	if (nfiles == 0) {
		nfiles = 1;
		files = dash;
	}
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
	/* OUT.tiktoken and OUT.json, each written atomically. */
	size_t n = strlen(o->out);
	char *meta = nk_malloc(n + 6);
	if (!meta)
		cli_die_lib();
	memcpy(meta, o->out, n + 1);
	if (n > 9 && !strcmp(o->out + n - 9, ".tiktoken"))
		meta[n - 9] = 0;
	strcat(meta, ".json");
	nk_output out, mo;
	if (nk_output_open(&out, o->out) || nk_bpe_write_ranks(b, out.fp) ||
	    nk_output_commit(&out))
		cli_die_lib();
	if (nk_output_open(&mo, meta) || nk_bpe_write_meta(b, mo.fp) ||
	    nk_output_commit(&mo))
		cli_die_lib();
	if (o->progress != 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %u tokens (%u merges) to %s and %s\n",
			cli_prog, nk_bpe_n_vocab(b), nk_bpe_n_ranks(b) - 256,
			o->out, meta);
	free(meta);
	nk_bpe_free(b);
	return status;
}
