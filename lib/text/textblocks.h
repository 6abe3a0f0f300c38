/* textblocks.h - a text input cut into blocks at safe places, for workers.
 *
 * Parallel text tools (tokenize -j) hand each thread a block of about
 * `block` bytes that ends where the text may be cut without changing the
 * result: after a newline for line-by-line work, or, for a whole text,
 * after a newline where a piece ends under the split pattern whatever
 * follows (enum nk_cut).  A regular file is mapped
 * and blocks are views into it; stdin, pipes and gzip are streamed into
 * each block's own buffer, so memory stays at a few blocks whatever the
 * input's size.  On a pipe, a block is handed out as soon as it holds a
 * cut point and nothing more can be read at once, so an interactive user
 * sees each line's result as it is typed.
 */
#ifndef NK_TEXTBLOCKS_H
#define NK_TEXTBLOCKS_H

#include <stddef.h>
#include <stdint.h>

enum nk_cut {
	NK_CUT_LINE,        /* just after a '\n' */
	/* Between "x\n" and an ASCII letter, x a visible ASCII character: a
	 * piece boundary under the r50k, cl100k and o200k patterns, and one
	 * that no look-ahead crosses.  (A letter after "\n\n" is not enough:
	 * r50k's \s+(?!\S) splits "\n\nA" as "\n" "\n" "A", but a text
	 * ending in "\n\n" as "\n\n".) */
	NK_CUT_PIECE,
	/* After a '\n' followed by a visible ASCII character other than
	 * '/', or by spaces and tabs and then a visible ASCII character: a
	 * piece boundary under the cl100k and o200k patterns (not r50k's).
	 * Under both, a piece holds a newline only at its end (\s*[\r\n]+
	 * ends a run of whitespace at its last newline, punctuation takes
	 * the newlines after it), save o200k's punctuation, which runs on
	 * over a '/' straight after them; what comes before the newline
	 * does not matter.  Unicode spaces after the newline are not
	 * admitted: a newline could follow them in the same run.  Blank
	 * lines and lines that start with punctuation or indentation are
	 * cut points here, not under NK_CUT_PIECE: documentation can go
	 * hundreds of KB without an NK_CUT_PIECE point, a block then runs
	 * on to the next, and a thread may be left alone with it at the
	 * end. */
	NK_CUT_NEWLINE,
	NK_CUT_NONE,        /* never: the whole input is one block */
};

typedef struct nk_textblocks nk_textblocks;

typedef struct nk_textblock {
	const unsigned char *data; /* the block (a view into the map or buf) */
	size_t size;
	uint64_t offset;           /* of data[0] in the input */
	int flush;                 /* the input has nothing more yet: a
				      filter should flush what it wrote */
	unsigned char *buf;        /* the caller's: streamed bytes land here; */
	size_t cap;                /* zero it first, free(buf) at the end */
} nk_textblock;

/* "-" is stdin.  NULL on failure, with the message recorded. */
nk_textblocks *nk_textblocks_open(const char *path, size_t block, int cut);
/* Fills *b with the next block: returns 1, 0 at the end of the input, or
 * a negative NK_E* code (read error, corrupt gzip) with the message
 * recorded.  Blocks are never empty. */
int nk_textblocks_next(nk_textblocks *t, nk_textblock *b);
/* The name used in messages ("(stdin)" for "-"). */
const char *nk_textblocks_name(const nk_textblocks *t);
void nk_textblocks_close(nk_textblocks *t);

#endif
