/* compile.c - tokenize compile: a vocabulary's ready tables in one file
 * (nnkit-bpe(5)) that later runs map and use in place, with no parsing
 * and no hashing at start.  The library writes the format
 * (lib/text/bpe_compiled.c); this file names the output. */
#include "cli.h"
#include "tokenize.h"

#include "core/io.h"
#include "text/bpe_compiled.h"

int cmd_compile(const struct opts *o, int nfiles, char **files)
{
	(void)files;
	if (nfiles)
		cli_usage_error(usage, "compile: no input files (the vocabulary "
			       "comes from -e, -v or --gpt2)");
	if (!o->out)
		cli_usage_error(usage, "compile: -o OUT.nkv is required");
	if (!strcmp(o->out, "-") && !o->force && nk_is_terminal(stdout))
		cli_errx(1, "compile: stdout is a terminal; not writing a binary "
			 "vocabulary there (-f forces it)");
	nk_bpe *b = load_vocab(o);
	nk_output out;
	if (nk_output_open(&out, o->out) || nk_bpe_write_compiled(b, out.fp) ||
	    nk_output_commit(&out)) {
		cli_warn_lib();
		nk_output_abort(&out);
		nk_bpe_free(b);
		return 1;
	}
	nk_bpe_free(b);
	if (!strcmp(o->out, "-"))
		cli_close_stdout();
	return 0;
}
