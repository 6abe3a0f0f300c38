/* vocab.c - bert-mask vocab: learns a WordPiece vocab.txt from text. */
#include "cli.h"
#include "bert-mask.h"

#include "core/io.h"
#include "text/wordpiece.h"

struct progress {
	int on;
	double last;
};

static void on_merge(void *ctx, uint32_t done, uint32_t total)
{
	struct progress *p = ctx;
	if (!p->on || (cli_now() - p->last < 0.1 && done < total))
		return;
	p->last = cli_now();
	fprintf(stderr, "\r%s: %u of %u tokens ", cli_prog, done, total);
	fflush(stderr);
}

int cmd_vocab(struct opts *o, int argc, char **argv)
{
	static char *stdin_only[] = {"-"};
	char **files = argc ? argv : stdin_only;
	int nfiles = argc ? argc : 1;
	nk_wp_trainer *t = nk_wp_trainer_new(!o->cased, -1);
	if (!t)
		cli_die_lib();
	for (int i = 0; i < nfiles; i++) {
		nk_reader *r = nk_reader_open(files[i]);
		if (!r)
			cli_die_lib();
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		int nl;
		while ((len = nk_reader_getline(r, &line, &cap, &nl)) >= 0)
			if (nk_wp_trainer_add(t, (unsigned char *)line,
					      (size_t)len))
				cli_die_lib();
		if (len == -2)
			cli_die_lib();
		free(line);
		nk_reader_close(r);
	}
	if (!nk_wp_trainer_words(t))
		cli_errx(1, "%s: no words to learn from",
			 nfiles == 1 && strcmp(files[0], "-") ? files[0]
							     : "the input");
	struct progress p = {o->progress < 0 ? isatty(STDERR_FILENO) && !o->quiet
					     : o->progress, 0};
	char *vocab;
	size_t len;
	if (nk_wp_trainer_run(t, (uint32_t)o->size, (uint64_t)o->min_freq,
			      on_merge, &p, &vocab, &len))
		cli_die_lib();
	if (p.on)
		fputc('\n', stderr);
	/* The special tokens and every character of the text come first,
	 * whatever -n says: more tokens than asked is worth a word. */
	size_t ntok = 0;
	for (size_t i = 0; i < len; i++)
		ntok += vocab[i] == '\n';
	if (ntok > (size_t)o->size && !o->quiet)
		cli_warnx("-n %d: %zu tokens: the 5 special tokens and the "
			  "text's characters alone are more", o->size, ntok);
	const char *path = o->out ? o->out : "-";
	nk_output out;
	if (nk_output_open(&out, path))
		cli_die_lib();
	fwrite(vocab, 1, len, out.fp);
	if (nk_output_commit(&out))
		cli_die_lib();
	if (o->verbose)
		cli_warnx("%zu distinct words, %zu bytes of vocabulary",
			  nk_wp_trainer_words(t), len);
	free(vocab);
	nk_wp_trainer_free(t);
	return 0;
}
