/* encode.h - the encode and count pipeline, shared by encode.c (the run:
 * inputs, writing in order) and block.c (what a thread does with a block).
 *
 * The input is cut into blocks (lib/text/textblocks.c) that
 * lib/core/ordered.c hands to the threads; each thread encodes its block
 * and formats the output bytes (text lines, binary records with their
 * CRC, or counts: lib/formats/tokstream.c knows the forms), and the
 * blocks are written in input order as soon as each is ready.  Only the
 * write is serial, and it overlaps the other threads' encoding.
 */
#ifndef TOKENIZE_ENCODE_H
#define TOKENIZE_ENCODE_H

#include "tokenize.h"

#include "formats/tokstream.h"
#include "text/bpe.h"
#include "text/textblocks.h"

enum out_form {
	OUT_TEXT,        /* encode: a line of ids per line */
	OUT_BINARY,      /* encode -b: a record per line */
	OUT_WHOLE_TEXT,  /* encode -z: one line of ids for the input */
	OUT_WHOLE_BINARY,/* encode -zb: one record for the input */
	OUT_LINE_COUNTS, /* count -l: a count per line */
	OUT_TOTAL,       /* count, count -z, count -lz: totals only */
};

/* One job: a block of whole lines (or with -z, a block cut at a piece
 * boundary), how many ids and lines it came to, and its formatted
 * output. */
struct slice {
	nk_textblock blk;
	size_t n_ids, n_lines;
	void *out;
	size_t out_len, out_cap;
	uint32_t crc;       /* binary output: CRC-32 of out */
	int rc;
	size_t fail_at;     /* offset in the block of the failure */
	uint64_t newlines;  /* in the block: numbers the lines of later ones */
	char msg[512];
};

/* A thread's scratch: a block's ids and per line how many, until they
 * are formatted into the block's slot.  Per thread, not per slot: with
 * -j 2 there are four slots, and each megabyte of fresh memory costs
 * page faults (a few ms a MB under this hypervisor). */
struct scratch {
	_Alignas(64) nk_bpe_ids ids, counts;
};

struct run {
	const struct opts *o;
	const nk_bpe *b;
	nk_bpe_enc **enc;
	struct scratch *scr; /* by thread */
	struct slice *sl;
	int nt, nslots;
	int count_mode;     /* 0 encode, 1 count per file, 2 count per line */
	int form;
	nk_tokwriter *w;
	/* the input being encoded */
	nk_textblocks *tb;
	uint64_t line_base; /* lines before the block being emitted */
	uint64_t file_total, total;
};

/* block.c: nk_ordered_fns' take and work for a run. */
int take_block(void *ctx, size_t job, int slot);
void work_block(void *ctx, int slot, int tid);
uint64_t count_newlines(const unsigned char *p, size_t n);

#endif
