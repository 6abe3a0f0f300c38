/* mask.c - bert-mask mask: training instances as Google's
 * create_pretraining_data.py makes them, as an instance stream. */
#include "cli.h"
#include "bert-mask.h"

#include "core/io.h"
#include "formats/mlm_instances.h"

/* A write that failed: the writer knows what, the caller where. */
static _Noreturn void write_failed(nk_mlm_writer *w, nk_output *out,
				   const char *shown)
{
	cli_warnx("%s: %s", shown, nk_last_error());
	nk_mlm_writer_abort(w);
	nk_output_abort(out);
	exit(1);
}

int cmd_mask(struct opts *o, int argc, char **argv)
{
	if (!o->vocab && !o->ids && !o->tiktoken)
		cli_usage_error(usage, "mask: --vocab VOCAB.txt, --ids N or "
				"--tiktoken FILE says what the input is");
	const char *path = o->out ? o->out : "-";
	const char *shown = strcmp(path, "-") ? path : "(stdout)";
	if (!o->text_out && strcmp(path, "-") == 0 && !o->force &&
	    nk_is_terminal(stdout))
		cli_errx(1, "refusing to write binary data to a terminal "
			 "(redirect stdout, use --text, or force it with -f)");
	struct bm_tok *k = bm_tok_from_opts(o);
	struct bm_seqs q;
	bm_read_seqs(&q, k, o, BM_MASK_TEXT, argc, argv);
	nk_output out;
	if (nk_output_open(&out, path))
		cli_die_lib();
	nk_mlm_writer *w = nk_mlm_writer_open(out.fp, !o->text_out);
	if (!w)
		cli_die_lib();
	const nk_bert_seqs *s = &q.s;
	uint32_t *mpos = NULL;
	size_t mtok = 0;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t n = (uint32_t)(s->off[i + 1] - s->off[i]);
		uint32_t nm = (uint32_t)(s->moff[i + 1] - s->moff[i]);
		uint32_t *grown = realloc(mpos, (nm + 1) * sizeof *mpos);
		if (!grown)
			cli_errx(1, "out of memory");
		mpos = grown;
		for (uint32_t j = 0; j < nm; j++)
			mpos[j] = (uint32_t)s->mpos[s->moff[i] + j];
		nk_mlm_instance in = {n, (uint32_t *)s->ids + s->off[i],
				      (uint8_t *)s->types + s->off[i], nm, mpos,
				      (uint32_t *)s->mlabel + s->moff[i],
				      q.random_next[i]};
		if (nk_mlm_writer_put(w, &in))
			write_failed(w, &out, shown);
		mtok += nm;
	}
	free(mpos);
	/* The writer's message says what failed; the file is ours to name
	 * (nk_output_commit's names it already). */
	if (nk_mlm_writer_close(w)) {
		cli_warnx("%s: %s", shown, nk_last_error());
		nk_output_abort(&out);
		exit(1);
	}
	if (nk_output_commit(&out))
		cli_die_lib();
	if (o->verbose)
		cli_warnx("%zu instances, %zu tokens, %zu masked", s->n,
			  s->off[s->n], mtok);
	bm_seqs_free(&q);
	bm_tok_free(k);
	return 0;
}
