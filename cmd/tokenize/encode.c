/* encode.c - tokenize encode and count: the run over the inputs, each cut
 * into blocks that the threads encode (block.c) and that are written here,
 * in input order (see encode.h). */
#include "cli.h"
#include "encode.h"

#include "core/ordered.h"
#include "text/pretok.h"

/* Bytes of input per job.  Each slot's output buffer is touched once
 * per run and each fresh page costs a fault (microseconds under this
 * hypervisor): with 512 KB blocks, -j 2's four slots took 2.2x the page
 * faults of one thread; at 128 KB a job is still ~1 ms of work beside a
 * few microseconds of hand-over. */
#define BLOCK (1u << 17)
/* Jobs in flight beyond one per thread: one done and waiting to be
 * written while the thread takes the next, and one spare, so a thread
 * seldom waits for a free slot; few, since each slot's output buffer
 * (~200 KB of text for a block) is faulted in once per run (the more
 * slots, the more page faults; six spare measured no faster). */
#define SPARE_SLOTS 2

static int emit_block(void *ctx, size_t job, int slot)
{
	(void)job;
	struct run *R = ctx;
	struct slice *s = &R->sl[slot];
	size_t len = s->out_len;
	int rc = 0;
	switch (R->form) {
	case OUT_TEXT:
	case OUT_BINARY:
		rc = nk_tokwriter_put_raw(R->w, s->out, len, s->crc, s->n_lines);
		break;
	case OUT_WHOLE_TEXT:
	case OUT_WHOLE_BINARY:
		/* A binary part is copied by the writer until the input ends
		 * (the record's length comes first). */
		rc = nk_tokwriter_put_part(R->w, s->out, len, s->crc, s->n_ids);
		break;
	case OUT_LINE_COUNTS:
		if (len && fwrite(s->out, 1, len, stdout) != len)
			cli_errx(1, "write error on standard output");
		break;
	}
	if (rc)
		cli_die_lib();
	R->file_total += s->n_ids;
	if (s->blk.flush && (R->w ? nk_tokwriter_flush(R->w) : fflush(stdout)))
		cli_errx(1, "write error on standard output");
	if (s->rc) {
		/* "FILE:LINE:COL" of the failure; blocks start at a line. */
		const unsigned char *d = s->blk.data, *at = d + s->fail_at;
		const unsigned char *bol = at;
		while (bol > d && bol[-1] != '\n')
			bol--;
		cli_warnx("%s:%llu:%zu: %s", nk_textblocks_name(R->tb),
			 (unsigned long long)(R->line_base + 1 +
					      count_newlines(d, (size_t)(bol - d))),
			 (size_t)(at - bol) + 1, s->msg);
		return 1;
	}
	R->line_base += s->newlines;
	return 0;
}

/* Ends what -z makes of the whole input: its sequence, or its count. */
static void finish_whole(struct run *R)
{
	if (R->w) {
		int rc = nk_tokwriter_end_seq(R->w);
		if (rc == NK_ERANGE)
			cli_errx(1, "%s: %s (encode without -z)",
				nk_textblocks_name(R->tb), nk_last_error());
		if (rc)
			cli_die_lib();
	} else if (R->count_mode == 2) {
		printf("%llu\n", (unsigned long long)R->file_total);
	}
}

/* Encodes one input; returns 0, or 1 after reporting an input error. */
static int encode_input(struct run *R, const char *path)
{
	const struct opts *o = R->o;
	/* A whole text is cut only where a piece ends under its pattern
	 * (textblocks.h); not at all without a pattern (the text is one
	 * piece) or with a pattern of the user's (nothing is known of it),
	 * nor when special tokens are looked for, since one could span the
	 * cut. */
	int kind = nk_bpe_pretok(R->b);
	int cut = !o->whole ? NK_CUT_LINE :
		  kind == NK_PRETOK_NONE || kind == NK_PRETOK_REGEX ||
		  (o->special != NK_SPECIAL_TEXT && nk_bpe_n_special(R->b) > 0) ?
		  NK_CUT_NONE :
		  kind == NK_PRETOK_R50K ? NK_CUT_PIECE : NK_CUT_NEWLINE;
	if (!(R->tb = nk_textblocks_open(path, BLOCK, cut))) {
		cli_warn_lib();
		return 1;
	}
	R->line_base = R->file_total = 0;
	static const nk_ordered_fns fns = {take_block, work_block, emit_block};
	int rc = nk_ordered_run(&fns, R, R->nt, R->nslots);
	int status = 0;
	if (rc < 0) {           /* reading failed: what came before is out */
		cli_warn_lib();
		status = 1;
	} else if (rc > 0) {    /* a line failed to encode, reported */
		status = 1;
	} else if (o->whole) {
		finish_whole(R);
	}
	if (status && o->whole && R->w)  /* what this input made is dropped */
		nk_tokwriter_drop_seq(R->w);
	if (!status && R->count_mode == 1)
		printf("%llu %s\n", (unsigned long long)R->file_total,
		       nk_textblocks_name(R->tb));
	R->total += R->file_total;
	nk_textblocks_close(R->tb);
	R->tb = NULL;
	return status;
}

int cmd_encode(const struct opts *o, int count_mode, int nfiles,
	       char **files)
{
	nk_bpe *b = load_vocab(o);
	struct run R = {0};
	R.o = o;
	R.b = b;
	R.nt = o->threads;
	R.count_mode = count_mode;
	R.form = count_mode == 2 && !o->whole ? OUT_LINE_COUNTS :
		 count_mode ? OUT_TOTAL :
		 o->whole ? (o->binary ? OUT_WHOLE_BINARY : OUT_WHOLE_TEXT) :
		 o->binary ? OUT_BINARY : OUT_TEXT;
	R.nslots = R.nt == 1 ? 1 : R.nt + SPARE_SLOTS;
	R.enc = nk_calloc((size_t)R.nt, sizeof *R.enc);
	R.sl = nk_calloc((size_t)R.nslots, sizeof *R.sl);
	R.scr = nk_malloc_aligned((size_t)R.nt * sizeof *R.scr);
	if (!R.enc || !R.sl || !R.scr)
		cli_die_lib();
	memset(R.scr, 0, (size_t)R.nt * sizeof *R.scr);
	/* Each thread merges and caches pieces on its own: a cache the
	 * threads shared cost more in cache lines passed between the cores
	 * than the merges it saved. */
	for (int i = 0; i < R.nt; i++)
		if (!(R.enc[i] = nk_bpe_enc_new(b)))
			cli_die_lib();
	if (count_mode == 0) {
		if (o->binary)
			cli_refuse_binary_tty(o->force);
		if (!(R.w = nk_tokwriter_open(stdout, o->binary)))
			cli_die_lib();
	}
	char *dash[] = {"-"};
	if (nfiles == 0) {
		nfiles = 1;
		files = dash;
	}
	int status = 0;
	for (int f = 0; f < nfiles; f++)
		status |= encode_input(&R, files[f]);
	if (count_mode == 1 && nfiles > 1)
		printf("%llu total\n", (unsigned long long)R.total);
	if (R.w && nk_tokwriter_close(R.w))
		cli_die_lib();
	for (int i = 0; i < R.nt; i++) {
		nk_bpe_enc_free(R.enc[i]);
		nk_bpe_ids_free(&R.scr[i].ids);
		nk_bpe_ids_free(&R.scr[i].counts);
	}
	for (int i = 0; i < R.nslots; i++) {
		free(R.sl[i].out);
		free(R.sl[i].blk.buf);
	}
	free(R.enc);
	free(R.sl);
	nk_free_aligned(R.scr);
	nk_bpe_free(b);
	cli_close_stdout();
	return status;
}
