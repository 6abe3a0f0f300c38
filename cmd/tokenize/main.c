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

#include "text/bpe.h"
#include "core/ordered.h"
#include "text/pretok.h"
#include "text/textblocks.h"
#include "formats/tokstream.h"

#include <getopt.h>
#include <zlib.h>

#ifndef NK_TIKTOKEN_DIR
#define NK_TIKTOKEN_DIR "/usr/local/share/nnkit/tiktoken"
#endif

#define BLOCK (1u << 19) /* bytes of input per job */
/* Jobs in flight beyond one per thread: one done and waiting to be
 * written while the thread takes the next, and one spare, so a thread
 * seldom waits for a free slot; few, since each slot's buffers are a few
 * MB to fault in (the more slots, the more page faults, not speed). */
#define SPARE_SLOTS 2

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
"  -o, --output FILE       train: rank file to write (and FILE's .json)\n"
"  -q, --quiet             no progress line\n"
"      --progress, --no-progress\n"
"  -h, --help, --version\n");
}

struct opts {
	const char *encoding, *vocab, *meta, *gpt2, *dir, *out, *regex;
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
	cli_usage_error(usage, "--special: '%s' is not text, allow or fail", s);
}

static nk_bpe *load_vocab(const struct opts *o)
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
	} else if (o->vocab) {
		rc = nk_bpe_open(&b, o->vocab, o->meta);
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
		rc = nk_bpe_open(&b, path, access(meta, R_OK) == 0 ? meta : NULL);
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

/* ---- encode and count ----
 *
 * The input is cut into blocks (lib/textblocks.c) that lib/ordered.c
 * hands to the threads; each thread encodes its block and formats the
 * output bytes (text lines, binary records with their CRC, or counts),
 * and the blocks are written in input order as soon as each is ready.
 * Only the write is serial, and it overlaps the other threads' encoding.
 */

enum out_form {
	OUT_TEXT,        /* encode: a line of ids per line */
	OUT_BINARY,      /* encode -b: a record per line */
	OUT_WHOLE_TEXT,  /* encode -z: one line of ids for the input */
	OUT_WHOLE_BINARY,/* encode -zb: one record for the input */
	OUT_LINE_COUNTS, /* count -l: a count per line */
	OUT_TOTAL,       /* count, count -z, count -lz: totals only */
};

/* One job: a block of whole lines (or with -z, a block cut at a piece
 * boundary), its ids, per line how many, and its formatted output. */
struct slice {
	nk_textblock blk;
	nk_bpe_ids ids, counts;
	unsigned char *out;
	size_t out_len, out_cap;
	uint32_t crc;       /* binary output: CRC-32 of out */
	int rc;
	size_t fail_at;     /* offset in the block of the failure */
	uint64_t newlines;  /* in the block: numbers the lines of later ones */
	char msg[512];
};

/* The bytes of a -z binary record, kept until the input ends: its
 * length comes first and is known only then. */
struct part {
	unsigned char *bytes;
	size_t len;
	uint32_t crc;
};

struct run {
	const struct opts *o;
	const nk_bpe *b;
	nk_bpe_enc **enc;
	struct slice *sl;
	int nt, nslots;
	int count_mode;     /* 0 encode, 1 count per file, 2 count per line */
	int form;
	nk_tokwriter *w;
	/* the input being encoded */
	nk_textblocks *tb;
	uint64_t line_base; /* lines before the block being emitted */
	uint64_t file_total, total;
	int whole_started;  /* -z text: an id was written */
	struct part *parts;
	size_t nparts, parts_cap;
};

/* Scratch buffers grow by powers of two and are never copied: their old
 * contents are dead, and realloc's copy would fault in fresh pages for
 * nothing on every block a little larger than the last.  *buf holds
 * *cap elements of `size` bytes. */
static int grow_scratch(void **buf, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 1u << 14;
	while (n < need)
		if (nk_size_mul(&n, n, 2))
			return NK_ENOMEM;
	free(*buf);
	*cap = 0;
	if (!(*buf = nk_reallocarray(NULL, n, size)))
		return NK_ENOMEM;
	*cap = n;
	return 0;
}

static int ensure_out(struct slice *s, size_t need)
{
	void *p = s->out;
	int rc = grow_scratch(&p, &s->out_cap, need, 1);
	s->out = p;
	return rc;
}

/* Room for `need` ids in an empty list. */
static int reserve_ids(nk_bpe_ids *ids, size_t need)
{
	void *p = ids->v;
	int rc = grow_scratch(&p, &ids->cap, need, sizeof *ids->v);
	ids->v = p;
	return rc;
}

static int check_ids(const struct slice *s)
{
	for (size_t i = 0; i < s->ids.n; i++)
		if (s->ids.v[i] > NK_TOK_ID_MAX)
			return nk_error(NK_ERANGE, "token id %u is reserved",
					s->ids.v[i]);
	for (size_t l = 0; l < s->counts.n; l++)
		if (s->counts.v[l] > NK_TOK_SEQ_MAX)
			return nk_error(NK_ERANGE, "a line of %u tokens is over "
					"the limit of %u", s->counts.v[l],
					NK_TOK_SEQ_MAX);
	return 0;
}

/* Formats what the block's lines come to, in the run's output form. */
static int format_slice(struct slice *s, int form)
{
	size_t n = s->ids.n, nl = s->counts.n, len = 0;
	if (form == OUT_TOTAL)
		return 0;
	if (form != OUT_LINE_COUNTS) {
		int rc = check_ids(s);
		if (rc)
			return rc;
	}
	switch (form) {
	case OUT_TEXT:
	case OUT_WHOLE_TEXT:
		/* Each id with its separator takes at most 11 bytes. */
		if (ensure_out(s, n * 11 + nl + 1))
			return NK_ENOMEM;
		for (size_t l = 0, off = 0; l < nl; l++) {
			len += nk_tok_format_line((char *)s->out + len,
						  s->ids.v + off, s->counts.v[l]);
			off += s->counts.v[l];
		}
		if (form == OUT_WHOLE_TEXT && len) /* no newline until the end */
			len--;
		break;
	case OUT_BINARY:
	case OUT_WHOLE_BINARY:
		if (ensure_out(s, (n + nl) * 4 + 1))
			return NK_ENOMEM;
		if (form == OUT_BINARY) {
			len = nk_tok_format_records(s->out, s->ids.v,
						    s->counts.v, nl);
		} else {
			for (size_t i = 0; i < n; i++)
				nk_store_u32le(s->out + 4 * i, s->ids.v[i]);
			len = 4 * n;
		}
		s->crc = (uint32_t)crc32(0, Z_NULL, 0);
		for (size_t o = 0; o < len;) {
			size_t k = len - o > (1u << 30) ? 1u << 30 : len - o;
			s->crc = (uint32_t)crc32(s->crc, s->out + o, (uInt)k);
			o += k;
		}
		break;
	case OUT_LINE_COUNTS:
		if (ensure_out(s, nl * 11 + 1))
			return NK_ENOMEM;
		for (size_t l = 0; l < nl; l++)
			len += (size_t)sprintf((char *)s->out + len, "%u\n",
					       s->counts.v[l]);
		break;
	}
	s->out_len = len;
	return 0;
}

static int take_block(void *ctx, size_t job, int slot)
{
	(void)job;
	struct run *R = ctx;
	return nk_textblocks_next(R->tb, &R->sl[slot].blk);
}

static uint64_t count_newlines(const unsigned char *p, size_t n)
{
	uint64_t k = 0;
	for (const unsigned char *e = p + n;
	     (p = memchr(p, '\n', (size_t)(e - p))); p++)
		k++;
	return k;
}

/* Encodes the block line by line (or whole), then formats the lines that
 * encoded; a failure is kept for emit, which writes what came before. */
static void work_block(void *ctx, int slot, int tid)
{
	struct run *R = ctx;
	struct slice *s = &R->sl[slot];
	nk_bpe_enc *e = R->enc[tid];
	int whole = R->o->whole, special = R->o->special;
	const unsigned char *p = s->blk.data, *end = p + s->blk.size;
	s->ids.n = s->counts.n = s->out_len = 0;
	s->rc = 0;
	/* A block has at most one id and one line per byte: reserved up
	 * front, the arrays never grow by copying (pages are touched only
	 * as far as they are used). */
	if (reserve_ids(&s->ids, s->blk.size + 1) ||
	    reserve_ids(&s->counts, s->blk.size + 1)) {
		s->rc = NK_ENOMEM;
		s->fail_at = 0;
		snprintf(s->msg, sizeof s->msg, "%s", nk_last_error());
		return;
	}
	while (p < end) {
		const unsigned char *eol = whole ? end :
			memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		size_t before = s->ids.n;
		int rc = nk_bpe_encode(e, p, (size_t)(eol - p), special, &s->ids);
		if (!rc)
			rc = nk_bpe_ids_push(&s->counts,
					     (uint32_t)(s->ids.n - before));
		if (rc) {
			s->ids.n = before;
			s->rc = rc;
			s->fail_at = (size_t)(p - s->blk.data) +
				     (rc == NK_EFORMAT ? nk_bpe_enc_fail_offset(e) : 0);
			snprintf(s->msg, sizeof s->msg, "%s", nk_last_error());
			break;
		}
		p = eol + (eol < end);
	}
	/* Counted here, in parallel, for the line numbers in messages: a
	 * line-mode block ends just after a newline, but for the input's
	 * last line. */
	s->newlines = whole ? count_newlines(s->blk.data, s->blk.size) :
		      s->counts.n - (s->counts.n && end[-1] != '\n');
	int rc = format_slice(s, R->form);
	if (rc && !s->rc) {
		s->rc = rc;
		s->fail_at = 0;
		snprintf(s->msg, sizeof s->msg, "%s", nk_last_error());
	}
}

static int keep_part(struct run *R, struct slice *s)
{
	if (R->nparts == R->parts_cap) {
		size_t cap = R->parts_cap ? 2 * R->parts_cap : 64;
		struct part *p = nk_reallocarray(R->parts, cap, sizeof *p);
		if (!p)
			return NK_ENOMEM;
		R->parts = p;
		R->parts_cap = cap;
	}
	/* The slot's buffer moves to the list; the slot grows a new one. */
	R->parts[R->nparts++] = (struct part){s->out, s->out_len, s->crc};
	s->out = NULL;
	s->out_cap = 0;
	return 0;
}

static int emit_block(void *ctx, size_t job, int slot)
{
	(void)job;
	struct run *R = ctx;
	struct slice *s = &R->sl[slot];
	const unsigned char *out = s->out;
	size_t len = s->out_len;
	int rc = 0;
	switch (R->form) {
	case OUT_TEXT:
	case OUT_BINARY:
		rc = nk_tokwriter_put_raw(R->w, out, len, s->crc, s->counts.n);
		break;
	case OUT_WHOLE_TEXT:
		if (len && R->whole_started)
			rc = nk_tokwriter_put_raw(R->w, " ", 1, 0, 0);
		if (len && !rc) {
			rc = nk_tokwriter_put_raw(R->w, out, len, 0, 0);
			R->whole_started = 1;
		}
		break;
	case OUT_WHOLE_BINARY:
		rc = len ? keep_part(R, s) : 0;
		break;
	case OUT_LINE_COUNTS:
		if (len && fwrite(out, 1, len, stdout) != len)
			cli_errx(1, "write error on standard output");
		break;
	}
	if (rc)
		cli_die_lib();
	R->file_total += s->ids.n;
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

/* Writes what -z keeps to the end: the whole input's record. */
static void finish_whole(struct run *R)
{
	uint64_t n = R->file_total;
	int rc = 0;
	if (R->count_mode == 0 && n > NK_TOK_SEQ_MAX)
		cli_errx(1, "%s: %llu tokens are over the limit of %u for one "
			"sequence (encode without -z)", nk_textblocks_name(R->tb),
			(unsigned long long)n, NK_TOK_SEQ_MAX);
	if (R->form == OUT_WHOLE_TEXT) {
		rc = nk_tokwriter_put_raw(R->w, "\n", 1, 0, 1);
	} else if (R->form == OUT_WHOLE_BINARY) {
		unsigned char head[4];
		nk_store_u32le(head, (uint32_t)n);
		rc = nk_tokwriter_put_raw(R->w, head, 4,
					  (uint32_t)crc32(0, head, 4), 1);
		for (size_t i = 0; i < R->nparts && !rc; i++)
			rc = nk_tokwriter_put_raw(R->w, R->parts[i].bytes,
						  R->parts[i].len,
						  R->parts[i].crc, 0);
	} else if (R->count_mode == 2) {
		printf("%llu\n", (unsigned long long)n);
	}
	if (rc)
		cli_die_lib();
}

/* Encodes one input; returns 0, or 1 after reporting an input error. */
static int encode_input(struct run *R, const char *path)
{
	const struct opts *o = R->o;
	/* A whole text is cut only where a piece ends under every built-in
	 * pattern; not at all without a pattern (the text is one piece) or
	 * with a pattern of the user's (nothing is known of it), nor when
	 * special tokens are looked for, since one could span the cut. */
	int cut = !o->whole ? NK_CUT_LINE :
		  nk_bpe_pretok(R->b) == NK_PRETOK_NONE ||
		  nk_bpe_pretok(R->b) == NK_PRETOK_REGEX ||
		  (o->special != NK_SPECIAL_TEXT && nk_bpe_n_special(R->b) > 0) ?
		  NK_CUT_NONE : NK_CUT_PIECE;
	if (!(R->tb = nk_textblocks_open(path, BLOCK, cut))) {
		cli_warn_lib();
		return 1;
	}
	R->line_base = R->file_total = 0;
	R->whole_started = 0;
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
	for (size_t i = 0; i < R->nparts; i++)
		free(R->parts[i].bytes);
	R->nparts = 0;
	if (!status && R->count_mode == 1)
		printf("%llu %s\n", (unsigned long long)R->file_total,
		       nk_textblocks_name(R->tb));
	R->total += R->file_total;
	nk_textblocks_close(R->tb);
	R->tb = NULL;
	return status;
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
	R.form = count_mode == 2 && !o->whole ? OUT_LINE_COUNTS :
		 count_mode ? OUT_TOTAL :
		 o->whole ? (o->binary ? OUT_WHOLE_BINARY : OUT_WHOLE_TEXT) :
		 o->binary ? OUT_BINARY : OUT_TEXT;
	R.nslots = R.nt == 1 ? 1 : R.nt + SPARE_SLOTS;
	R.enc = nk_calloc((size_t)R.nt, sizeof *R.enc);
	R.sl = nk_calloc((size_t)R.nslots, sizeof *R.sl);
	if (!R.enc || !R.sl)
		cli_die_lib();
	/* Threads share the pieces they merge, so none merges a piece that
	 * another already has. */
	nk_bpe_shared *shared = NULL;
	if (R.nt > 1 && !(shared = nk_bpe_shared_new()))
		cli_die_lib();
	for (int i = 0; i < R.nt; i++) {
		if (!(R.enc[i] = nk_bpe_enc_new(b)))
			cli_die_lib();
		nk_bpe_enc_share(R.enc[i], shared);
	}
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
	for (int i = 0; i < R.nt; i++)
		nk_bpe_enc_free(R.enc[i]);
	nk_bpe_shared_free(shared);
	for (int i = 0; i < R.nslots; i++) {
		nk_bpe_ids_free(&R.sl[i].ids);
		nk_bpe_ids_free(&R.sl[i].counts);
		free(R.sl[i].out);
		free(R.sl[i].blk.buf);
	}
	free(R.parts);
	free(R.enc);
	free(R.sl);
	nk_bpe_free(b);
	cli_close_stdout();
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
			cli_warn_lib();
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
					cli_warnx("%s: sequence %llu, id %zu: unknown "
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
				cli_warn_lib();
			status = 1;
		}
		nk_tokreader_close(r);
	}
	nk_bpe_free(b);
	cli_close_stdout();
	return status;
}

/* ---- train ---- */

static void train_progress(void *ctx, uint32_t done, uint32_t total)
{
	struct cli_progress *p = ctx;
	(void)total;
	cli_progress_update(p, done);
}

static int cmd_train(struct opts *o, int nfiles, char **files)
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

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	enum { OPT_META = 0x2000, OPT_GPT2, OPT_REGEX };
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
				cli_usage_error(usage, "--pattern: unknown pattern "
					       "'%s' (r50k, cl100k, o200k, none)",
					       optarg);
			break;
		case OPT_REGEX: o.regex = optarg; break;
		case 's': o.special = parse_special(optarg); break;
		case 'z': o.whole = 1; break;
		case 'b': o.binary = 1; break;
		case 'f': o.force = 1; break;
		case 'l': o.lines = 1; break;
		case 'j':
			o.threads = (int)cli_parse_int_opt(usage, "-j", optarg, 1, 256);
			break;
		case 'n':
			o.vocab_size = cli_parse_int_opt(usage, "-n", optarg, 256,
							1 << 24);
			break;
		case 'm':
			o.min_freq = cli_parse_int_opt(usage, "-m", optarg, 1,
						      (long long)1 << 40);
			break;
		case 'S':
			if (o.n_spec == 64)
				cli_usage_error(usage, "-S: at most 64 special tokens");
			if (!*optarg)
				cli_usage_error(usage, "-S: empty special token");
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
	}
	if (optind >= argc)
		cli_usage_error(usage, "no mode given (encode, decode, count, train)");
	const char *mode = argv[optind++];
	int n = argc - optind;
	char **files = argv + optind;
	if ((o.vocab != NULL) + (o.encoding != NULL) + (o.gpt2 != NULL) > 1)
		cli_usage_error(usage, "give one of -e, -v and --gpt2");
	if (o.regex && o.pattern >= 0)
		cli_usage_error(usage, "give one of -p and --regex");
	if (o.regex && !*o.regex)
		cli_usage_error(usage, "--regex: empty pattern (-p none splits nothing)");
	if (!strcmp(mode, "encode"))
		return cmd_encode(&o, 0, n, files);
	if (!strcmp(mode, "count"))
		return cmd_encode(&o, o.lines ? 2 : 1, n, files);
	if (!strcmp(mode, "decode"))
		return cmd_decode(&o, n, files);
	if (!strcmp(mode, "train"))
		return cmd_train(&o, n, files);
	cli_usage_error(usage, "unknown mode '%s' (encode, decode, count, train)",
		       mode);
}
