/* intlist.h - a streaming parser for lists of 64-bit integers.
 *
 * Accepts what people paste as "an array of integers":
 *
 *	100 4 200 1 3 2
 *	100,4,200,1,3,2
 *	[100,4,200,1,3,2]
 *
 * Numbers are decimal, with an optional '-' or '+', in the signed 64-bit
 * range; they are separated by blanks (space, tab, CR, VT, FF), newlines
 * and/or commas.  A comma must stand between two numbers ("1,,2", ",1",
 * "1," and "[1,]" are errors).  Brackets are decoration that must balance:
 * one level, no nesting, "[]" is an empty list.  Anything else is an error
 * reported as "NAME:LINE:COL: what", never skipped.
 *
 * Two modes.  Whole: every number of every input goes into one list
 * (p->v, p->n); a bracket may span lines.  Per line: each line is its own
 * list, handed to a callback when its newline (or the end of input) is
 * reached, and a bracket must close on its line.
 *
 * The input is consumed in chunks (a number may straddle two chunks: the
 * parser keeps its partial value, not its bytes), so memory is the values,
 * not the text.
 */
#ifndef NK_INTLIST_H
#define NK_INTLIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/io.h"

/* Called once per line in per-line mode with that line's values (which the
 * callee may reorder or overwrite).  `line` counts from 1.  A non-zero
 * return stops parsing and is returned by the nk_intlist_* call. */
typedef int (*nk_intlist_line_fn)(void *ctx, int64_t *v, size_t n,
				  unsigned long long line);

typedef struct nk_intlist {
	/* The values: all of them in whole mode, the current line's in
	 * per-line mode. */
	int64_t *v;
	size_t n, cap;
	size_t room;         /* n may reach this before the parser makes room
			      * (<= cap; intlist.c) */
	int64_t lo, hi;      /* the smallest and largest of v[0..n), noted as
			      * they are parsed (nk_lcs_bounded skips a pass
			      * over the array with them); INT64_MAX and
			      * INT64_MIN while n is 0 */

	int per_line;
	nk_intlist_line_fn on_line;
	void *ctx;
	size_t chunk;        /* bytes per read; 0: the default (256 KiB) */

	/* Per-input state, reset by each nk_intlist_read/parse. */
	const char *name;
	unsigned char *buf;  /* chunk + 1 byte for the sentinel */
	size_t buf_cap;
	unsigned long long base;       /* input offset of buf[0] */
	unsigned long long line;       /* current line, from 1 */
	unsigned long long line_start; /* input offset of its first byte */
	int prev;                      /* last token kind (intlist.c) */
	int in_bracket;
	unsigned long long bracket_line, bracket_col;
	/* A number cut by the end of a chunk. */
	int in_num, neg, digits;
	uint64_t acc;
	unsigned long long tok_off;
} nk_intlist;

/* per_line: 0 whole, 1 per line (then `fn` is required). */
int nk_intlist_init(nk_intlist *p, int per_line, nk_intlist_line_fn fn,
		    void *ctx);
void nk_intlist_free(nk_intlist *p);

/* Makes room for `more` values past p->n in one allocation, for a caller
 * that knows a bound (a file of S bytes holds at most S/2 + 1 numbers):
 * the array then never moves, and a large one is asked for in 2 MB pages,
 * a tenth of the cost of first touching 4 KB ones (intlist.c).  Only
 * address space is taken until values arrive.  A hint: returns NK_OK even
 * when the memory is refused. */
int nk_intlist_reserve(nk_intlist *p, size_t more);

/* Parses all of `r`, naming errors after nk_reader_name(r).  In whole mode
 * the values are appended to p->v; several inputs form one list. */
int nk_intlist_read(nk_intlist *p, nk_reader *r);

/* The same over a buffer in memory, fed to the parser `chunk` bytes at a
 * time (0: all at once), which tests use to cut numbers at every place. */
int nk_intlist_parse(nk_intlist *p, const char *name, const void *data,
		     size_t size, size_t chunk);

#endif
