/* bpe_load.c - the rank table: built from tokens by rank, or straight
 * from a tiktoken rank file.
 *
 * Loading is a fixed cost of every tokenize run, so a well-formed rank
 * file (every line "BASE64 RANK" with the ranks 0, 1, 2, ... in line
 * order, as OpenAI publishes them and as we write them) is read in one
 * pass: each token is decoded straight into the pool at its rank's
 * offset, with no per-line arrays, and then hashed into the table.  Any
 * other file (ranks out of order, a bad line, a duplicate) takes the
 * general path through nk_tiktoken_parse, whose messages name the line;
 * both build the same table.
 */
#include "text/bpe_impl.h"
#include "core/base.h"
#include "formats/tiktoken.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Memory for a table of the vocabulary: from 256 KB up, whole 2 MB huge
 * pages where the kernel gives them (nk_malloc_huge), so one fault
 * maps what would otherwise be 512 (each costs microseconds, more under a
 * hypervisor: they were a third of the load) and lookups seldom miss the
 * TLB.  Zeroed when `zero`. */
static void *table_alloc(size_t bytes, int zero)
{
	if (bytes < (2u << 20) / 8)
		return zero ? nk_calloc(1, bytes) : nk_malloc(bytes);
	void *p = nk_malloc_huge(bytes);
	if (p && zero)
		memset(p, 0, bytes);
	return p;
}

/* Inserts rank r (bytes already in pool); returns the rank already
 * holding the same bytes, or RANK_NONE. */
static uint32_t table_insert(nk_bpe *b, uint32_t r, uint64_t h)
{
	const unsigned char *s = b->pool + b->off[r];
	size_t n = b->off[r + 1] - b->off[r];
	uint64_t head = head_bytes(s, n);
	uint32_t check = slot_check(h, n);
	for (size_t i = h & b->mask;; i = (i + 1) & b->mask) {
		struct rank_slot *e = &b->slots[i];
		if (!e->rank1) {
			*e = (struct rank_slot){head, check, r + 1};
			return RANK_NONE;
		}
		if (e->check == check && e->head == head &&
		    token_equal(b, e->rank1 - 1, s, n))
			return e->rank1 - 1;
	}
}

/* The slot table for pool/off's n_ranks tokens, at most half full.
 * Fails on an empty token or a duplicate, naming the rank's line. */
static int build_slots(nk_bpe *b, const char *name, const uint32_t *line)
{
	uint32_t count = b->n_ranks;
	size_t slots = 16;
	while (slots < (size_t)count * 2)
		slots *= 2;
	if (!(b->slots = table_alloc(slots * sizeof *b->slots, 1)))
		return NK_ENOMEM;
	b->mask = slots - 1;
	/* The filter (bpe_impl.h): a power of two of words, at least ten
	 * bits a token. */
	size_t words = 1;
	while (words * 64 < (size_t)count * 10)
		words *= 2;
	if (!(b->filter = table_alloc(words * sizeof *b->filter, 1)))
		return NK_ENOMEM;
	b->fmask = words - 1;
	/* The table is larger than a core's cache: hashing a few ranks
	 * ahead and prefetching their slots hides the miss each insert
	 * would otherwise wait for. */
	enum { AHEAD = 16 };
	uint64_t ring[AHEAD];
	for (uint32_t r = 0; r < count && r < AHEAD; r++) {
		ring[r] = hash_bytes(b->pool + b->off[r], b->off[r + 1] - b->off[r]);
		__builtin_prefetch(&b->slots[ring[r] & b->mask], 1);
	}
	for (uint32_t r = 0; r < count; r++) {
		uint64_t h = ring[r % AHEAD];
		uint32_t a = r + AHEAD;
		if (a < count) {
			uint64_t ha = hash_bytes(b->pool + b->off[a],
						 b->off[a + 1] - b->off[a]);
			ring[a % AHEAD] = ha;
			__builtin_prefetch(&b->slots[ha & b->mask], 1);
		}
		if (b->off[r + 1] == b->off[r])
			return nk_error(NK_EFORMAT, "%s:%u: empty token",
					name, line ? line[r] : r + 1);
		b->filter[filter_word(h, b->fmask)] |= filter_bits(h);
		uint32_t q = table_insert(b, r, h);
		if (q != RANK_NONE) {
			if (line)
				return nk_error(NK_EFORMAT,
					"%s:%u: duplicate token (rank %u repeats "
					"the bytes of rank %u on line %u)",
					name, line[r], r, q, line[q]);
			return nk_error(NK_EFORMAT,
					"%s: duplicate token (ranks %u and %u)",
					name, q, r);
		}
	}
	for (int c = 0; c < 256; c++) {
		unsigned char byte = (unsigned char)c;
		b->byte_rank[c] = lookup(b, &byte, 1);
	}
	if (!(b->pair1 = table_alloc(65536 * sizeof *b->pair1, 1)))
		return NK_ENOMEM;
	for (uint32_t r = 0; r < count; r++)
		if (b->off[r + 1] - b->off[r] == 2)
			b->pair1[(unsigned)b->pool[b->off[r]] << 8 |
				 b->pool[b->off[r] + 1]] = r + 1;
	return 0;
}

void nk_bpe_drop_tables(nk_bpe *b)
{
	if (b->map) {
		if (b->map_len)
			munmap(b->map, b->map_len);
		b->map = NULL;
		b->map_len = 0;
	} else {
		free(b->pool);
		free(b->off);
		free(b->slots);
		free(b->pair1);
		free(b->filter);
	}
	b->filter = NULL;
	b->fmask = 0;
	b->pool = NULL;
	b->off = NULL;
	b->slots = NULL;
	b->pair1 = NULL;
	b->n_ranks = 0;
}

/* Builds pool/off/slots from `count` tokens given as (bytes, len) by
 * rank; `line` (may be NULL) maps ranks to file lines for messages. */
int nk_bpe_build_table(nk_bpe *b, const unsigned char *const *tok,
		       const uint32_t *len, uint32_t count, const char *name,
		       const uint32_t *line)
{
	size_t total = 0;
	for (uint32_t r = 0; r < count; r++)
		total += len[r];
	if (total > UINT32_MAX)
		return nk_error(NK_ERANGE, "%s: tokens too long in total", name);
	b->pool = nk_malloc(total ? total : 1);
	b->off = nk_calloc((size_t)count + 1, sizeof *b->off);
	if (!b->pool || !b->off)
		return NK_ENOMEM;
	b->n_ranks = count;
	uint32_t o = 0;
	for (uint32_t r = 0; r < count; r++) {
		b->off[r] = o;
		if (len[r])
			memcpy(b->pool + o, tok[r], len[r]);
		o += len[r];
	}
	b->off[count] = o;
	return build_slots(b, name, line);
}

/* The base64 digits (formats/tiktoken.h): less one, PAD for '='. */
enum { PAD = NK_B64_PAD };

/* The one-pass reading of a well-formed rank file into pool and off:
 * 0, NK_ENOMEM, or -1 when the file is not of that simple shape (which
 * the general path then reads, or reports). */
static int read_ordered(nk_bpe *b, const unsigned char *data, size_t n)
{
	/* The shortest line, "AA== 0\n", has 7 bytes (6 without its
	 * newline), and base64 decodes to 3/4 of its length: bounds that
	 * need no counting pass.  Pages are touched only as far as used. */
	size_t cap = n / 6 + 2;
	if (n == 0 || n > UINT32_MAX || cap >= UINT32_MAX / 2)
		return -1;
	b->pool = table_alloc(n / 4 * 3 + 4, 0);
	b->off = table_alloc(cap * sizeof *b->off, 0);
	if (!b->pool || !b->off)
		return NK_ENOMEM;
	const unsigned char *p = data, *end = data + n;
	uint32_t r = 0, o = 0;
	char dec[12] = "0";     /* r in decimal; ranks stay under 2^32 */
	size_t dl = 1;
	while (p < end) {
		/* The token: whole quads, a table lookup per character;
		 * the last quad may end in padding; then the space. */
		uint32_t k = 0;
		unsigned char *dst = b->pool + o;
		for (;;) {
			if (k && p < end && *p == ' ')
				break;
			if (end - p < 6)    /* a quad, a space, a digit */
				return -1;
			unsigned c0 = (unsigned char)(nk_b64_digit1[p[0]] - 1),
				 c1 = (unsigned char)(nk_b64_digit1[p[1]] - 1),
				 c2 = (unsigned char)(nk_b64_digit1[p[2]] - 1),
				 c3 = (unsigned char)(nk_b64_digit1[p[3]] - 1);
			if ((c0 | c1 | c2 | c3) < 64) {
				uint32_t w = c0 << 18 | c1 << 12 | c2 << 6 | c3;
				dst[k] = (unsigned char)(w >> 16);
				dst[k + 1] = (unsigned char)(w >> 8);
				dst[k + 2] = (unsigned char)w;
				k += 3;
				p += 4;
				continue;
			}
			/* "xx==" or "xxx=": canonical when the bits under
			 * the padding are zero. */
			if ((c0 | c1) >= 64 || c3 != PAD || p[4] != ' ')
				return -1;
			if (c2 == PAD && !(c1 & 15)) {
				dst[k++] = (unsigned char)(c0 << 2 | c1 >> 4);
			} else if (c2 < 64 && !(c2 & 3)) {
				dst[k] = (unsigned char)(c0 << 2 | c1 >> 4);
				dst[k + 1] = (unsigned char)(c1 << 4 | c2 >> 2);
				k += 2;
			} else {
				return -1;
			}
			p += 4;
			break;
		}
		if (k > NK_TIKTOKEN_TOKEN_MAX)
			return -1;
		/* The rank: the line's index, in decimal without leading
		 * zeros (so the ranks are 0..lines-1, without gaps or
		 * repeats), compared with a counter kept as its digits. */
		const unsigned char *q = ++p;
		if ((size_t)(end - q) < dl || r + 2 >= cap)
			return -1;
		for (size_t i = 0; i < dl; i++)
			if (q[i] != dec[i])
				return -1;
		q += dl;
		if (q < end && *q != '\n')
			return -1;
		b->off[r++] = o;
		o += k;
		p = q + 1;
		size_t i = dl;
		while (i > 0 && dec[i - 1] == '9')
			dec[--i] = '0';
		if (i > 0) {
			dec[i - 1]++;
		} else {        /* 9...9 + 1: one more digit */
			memmove(dec + 1, dec, dl++);
			dec[0] = '1';
		}
	}
	b->off[r] = o;
	b->n_ranks = r;
	return 0;
}

int nk_bpe_load_ranks(nk_bpe *b, const unsigned char *data, size_t n,
		      const char *name)
{
	if (b->pool)
		return nk_error(NK_EINVAL, "%s: ranks loaded twice", name);
	int rc = read_ordered(b, data, n);
	if (rc == 0 && (rc = build_slots(b, name, NULL)) == 0)
		return 0;
	nk_bpe_drop_tables(b);
	if (rc == NK_ENOMEM)
		return rc;
	/* Not the simple shape, or a duplicate token in it: the general
	 * parse finds and names the line. */
	nk_error_clear();
	nk_tiktoken t;
	if ((rc = nk_tiktoken_parse(&t, data, n, name)))
		return rc;
	rc = nk_bpe_build_table(b, t.tok, t.len, t.n, name, t.line);
	nk_tiktoken_free(&t);
	return rc;
}
