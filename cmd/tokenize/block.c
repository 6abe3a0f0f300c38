/* block.c - what a thread does with a block of tokenize's input: encode
 * it line by line (or whole, with -z) and format its output. */
#include "cli.h"
#include "encode.h"

#ifdef __AVX512BW__
#include <immintrin.h>
#endif

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

/* Room for `need` ids in an empty list. */
static int reserve_ids(nk_bpe_ids *ids, size_t need)
{
	void *p = ids->v;
	int rc = grow_scratch(&p, &ids->cap, need, sizeof *ids->v);
	ids->v = p;
	return rc;
}

/* Formats what the block's lines come to, in the run's output form: a
 * token stream's lines or records (a part of one, with -z), or counts. */
static int format_slice(struct slice *s, const struct scratch *t, int form)
{
	size_t n = t->ids.n, nl = t->counts.n;
	int binary = form == OUT_BINARY || form == OUT_WHOLE_BINARY, rc;
	switch (form) {
	case OUT_TOTAL:
		return 0;
	case OUT_LINE_COUNTS:
		if (grow_scratch(&s->out, &s->out_cap, nl * 11 + 1, 1))
			return NK_ENOMEM;
		s->out_len = 0;
		for (size_t l = 0; l < nl; l++)
			s->out_len += (size_t)sprintf((char *)s->out + s->out_len,
						      "%u\n", t->counts.v[l]);
		return 0;
	}
	if ((rc = nk_tok_check(t->ids.v, t->counts.v, nl, 0)))
		return rc;
	if (grow_scratch(&s->out, &s->out_cap,
			 nk_tok_format_bound(binary, n, nl), 1))
		return NK_ENOMEM;
	if (form == OUT_WHOLE_TEXT || form == OUT_WHOLE_BINARY)
		s->out_len = nk_tok_format_part(s->out, binary, t->ids.v, n,
						&s->crc);
	else
		s->out_len = nk_tok_format(s->out, binary, t->ids.v,
					   t->counts.v, nl, &s->crc);
	return 0;
}

int take_block(void *ctx, size_t job, int slot)
{
	(void)job;
	struct run *R = ctx;
	return nk_textblocks_next(R->tb, &R->sl[slot].blk);
}

/* 64 bytes a compare where the machine has AVX-512: memchr once a line
 * paid a call for every short line (1.7% of -z's profile on the bench's
 * documentation). */
uint64_t count_newlines(const unsigned char *p, size_t n)
{
	uint64_t k = 0;
	size_t i = 0;
#ifdef __AVX512BW__
	const __m512i nl = _mm512_set1_epi8('\n');
	for (; i + 64 <= n; i += 64)
		k += (uint64_t)__builtin_popcountll(_mm512_cmpeq_epi8_mask(
			_mm512_loadu_si512(p + i), nl));
#endif
	for (; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* Encodes the block line by line (or whole), then formats the lines that
 * encoded; a failure is kept for emit, which writes what came before. */
void work_block(void *ctx, int slot, int tid)
{
	struct run *R = ctx;
	struct slice *s = &R->sl[slot];
	nk_bpe_enc *e = R->enc[tid];
	struct scratch *t = &R->scr[tid];
	int whole = R->o->whole, special = R->o->special;
	const unsigned char *p = s->blk.data, *end = p + s->blk.size;
	t->ids.n = t->counts.n = s->out_len = 0;
	s->rc = 0;
	/* A block has at most one id and one line per byte: reserved up
	 * front, the arrays never grow by copying (pages are touched only
	 * as far as they are used). */
	if (reserve_ids(&t->ids, s->blk.size + 1) ||
	    reserve_ids(&t->counts, s->blk.size + 1)) {
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
		size_t before = t->ids.n;
		int rc = nk_bpe_encode(e, p, (size_t)(eol - p), special, &t->ids);
		if (!rc)
			rc = nk_bpe_ids_push(&t->counts,
					     (uint32_t)(t->ids.n - before));
		if (rc) {
			t->ids.n = before;
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
		      t->counts.n - (t->counts.n && end[-1] != '\n');
	s->n_ids = t->ids.n;
	s->n_lines = t->counts.n;
	int rc = format_slice(s, t, R->form);
	if (rc && !s->rc) {
		s->rc = rc;
		s->fail_at = 0;
		snprintf(s->msg, sizeof s->msg, "%s", nk_last_error());
	}
}
