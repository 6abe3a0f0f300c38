/* textblocks.c - a text input cut into blocks at safe places.
 *
 * Mapped: a block is [pos, pos + block) moved forward to the next cut
 * point.  Streamed: bytes are read into the block's buffer until it holds
 * `block` bytes (or the input pauses), then the block ends at the last
 * cut point in it and the rest is carried into the next one.  A block
 * with no cut point grows until one comes or the input ends.
 */
#include "text/textblocks.h"

#include "core/base.h"
#include "core/io.h"

#include <stdlib.h>
#include <string.h>

struct nk_textblocks {
	size_t block;
	int cut;
	uint64_t offset;
	nk_input in;         /* mapped: the whole file */
	int mapped;
	size_t pos;
	nk_reader *r;        /* streamed */
	unsigned char *carry;
	size_t carry_len, carry_cap;
	int eof;
	const char *name;
};

static int is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* q follows a '\n' in s[0, n): may a whole text be cut there (rule cut,
 * NK_CUT_PIECE or NK_CUT_NEWLINE)? */
static int piece_cut(const unsigned char *s, size_t q, size_t n, int cut)
{
	if (q >= n)
		return 0;
	if (cut == NK_CUT_PIECE)
		return q >= 2 && is_letter(s[q]) && s[q - 2] > ' ' &&
		       s[q - 2] < 0x7f;
	size_t j = q;
	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	/* o200k's punctuation pieces run on over newlines and slashes */
	return j < n && s[j] > ' ' && s[j] < 0x7f && (j > q || s[j] != '/');
}

/* The first cut point at or after p (at most end). */
static size_t cut_forward(const unsigned char *s, size_t p, size_t end,
			  int cut)
{
	if (cut == NK_CUT_NONE)
		return end;
	while (p < end) {
		const unsigned char *nl = memchr(s + p, '\n', end - p);
		if (!nl)
			return end;
		size_t q = (size_t)(nl - s) + 1;
		if (cut == NK_CUT_LINE || q == end || piece_cut(s, q, end, cut))
			return q;
		p = q;
	}
	return end;
}

/* The last cut point in s[0, n) after which a byte remains, or that is
 * n itself for NK_CUT_LINE; 0 when there is none. */
static size_t cut_backward(const unsigned char *s, size_t n, int cut)
{
	if (cut == NK_CUT_NONE)
		return 0;
	size_t e = n;
	while (e > 0) {
		const unsigned char *nl = memrchr(s, '\n', e);
		if (!nl)
			return 0;
		size_t q = (size_t)(nl - s) + 1;
		if (cut == NK_CUT_LINE)
			return q;
		if (piece_cut(s, q, n, cut))
			return q;
		e = q - 1;
	}
	return 0;
}

nk_textblocks *nk_textblocks_open(const char *path, size_t block, int cut)
{
	nk_textblocks *t = nk_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->block = block ? block : 1;
	t->cut = cut;
	if (nk_input_mappable(path)) {
		if (nk_input_load(&t->in, path, 0)) {
			free(t);
			return NULL;
		}
		t->mapped = 1;
		t->name = t->in.name;
		return t;
	}
	if (!(t->r = nk_reader_open(path))) {
		free(t);
		return NULL;
	}
	t->name = nk_reader_name(t->r);
	return t;
}

const char *nk_textblocks_name(const nk_textblocks *t)
{
	return t->name;
}

static int grow(unsigned char **buf, size_t *cap, size_t want)
{
	/* Blocks are large: start at 4096 rather than nk_grow's 8. */
	return nk_grow((void **)buf, cap, *cap || want > 4096 ? want : 4096, 1);
}

static int next_streamed(nk_textblocks *t, nk_textblock *b)
{
	size_t len = t->carry_len, cut = 0;
	int paused = 0;
	if (grow(&b->buf, &b->cap, len > t->block ? len : t->block))
		return -NK_ENOMEM;
	if (len)
		memcpy(b->buf, t->carry, len);
	t->carry_len = 0;
	for (;;) {
		if (t->eof) {
			cut = len;
			break;
		}
		int full = len >= t->block;
		paused = !full && len > 0 && !nk_reader_pending(t->r);
		if ((full || paused) && (cut = cut_backward(b->buf, len, t->cut)))
			break;
		/* Read at least half a block at a time. */
		if (b->cap - len < t->block / 2 + 1 &&
		    grow(&b->buf, &b->cap, len + t->block / 2 + 1))
			return -NK_ENOMEM;
		ssize_t got = nk_reader_read(t->r, b->buf + len, b->cap - len);
		if (got < 0)
			return -NK_EIO;
		if (got == 0)
			t->eof = 1;
		len += (size_t)got;
	}
	if (cut == 0)
		return 0;
	if (cut < len) {
		if (grow(&t->carry, &t->carry_cap, len - cut))
			return -NK_ENOMEM;
		memcpy(t->carry, b->buf + cut, len - cut);
		t->carry_len = len - cut;
	}
	b->data = b->buf;
	b->size = cut;
	b->flush = paused;
	return 1;
}

int nk_textblocks_next(nk_textblocks *t, nk_textblock *b)
{
	b->offset = t->offset;
	b->flush = 0;
	int rc;
	if (t->mapped) {
		size_t n = t->in.size;
		if (t->pos >= n)
			return 0;
		/* Guided: toward the end a block is at most an eighth of what
		 * is left (not under 16 KB), so the last blocks finish close
		 * together and no thread idles long while another ends. */
		size_t left = n - t->pos, want = t->block;
		if (left / 8 < want)
			want = left / 8 > (16u << 10) ? left / 8 : 16u << 10;
		size_t end = left > want ? t->pos + want : n;
		end = cut_forward(t->in.data, end, n, t->cut);
		b->data = t->in.data + t->pos;
		b->size = end - t->pos;
		t->pos = end;
		rc = 1;
	} else if ((rc = next_streamed(t, b)) <= 0) {
		return rc;
	}
	t->offset += b->size;
	return rc;
}

void nk_textblocks_close(nk_textblocks *t)
{
	if (!t)
		return;
	if (t->mapped)
		nk_input_free(&t->in);
	else
		nk_reader_close(t->r);
	free(t->carry);
	free(t);
}
