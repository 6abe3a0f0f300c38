/* bpe.c - rank tables, tiktoken-exact encode, decode, file formats.
 *
 * The rank table is an open-addressing hash from token bytes to rank
 * (slot: 32 hash bits and rank + 1).  Encoding a piece first looks the
 * whole piece up (most English words are one token), then a per-encoder
 * cache of recent pieces, and only then merges.  Merging follows
 * tiktoken's byte_pair_merge: lowest rank first, leftmost on ties.  Short
 * pieces use its simple array scan; long ones a binary heap keyed by
 * (rank, position) over a linked list, with stale entries skipped by a
 * rank check, so a megabyte with no split point stays O(n log n).
 */
#include "text/bpe.h"

#include "core/base.h"
#include "core/io.h"
#include "text/pretok.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RANK_NONE UINT32_MAX
#define TOKEN_MAX 65535u        /* longest token accepted from a file */
#define SHORT_PIECE 96          /* longer pieces use the heap merge */
#define CACHE_PIECE 64          /* longest piece kept in the cache */
#define CACHE_SLOTS (1u << 15)
#define SHARED_SLOTS (1u << 16)  /* the cache threads share */
#define SHARED_PROBES 32         /* a longer probe gives up */

struct special {
	char *text;
	size_t len;
	uint32_t id;
};

struct nk_bpe {
	int pretok;
	nk_pretok_re *re;        /* pretok == NK_PRETOK_REGEX: the pattern */
	uint32_t n_ranks;
	unsigned char *pool;     /* token bytes, by rank */
	uint32_t *off;           /* n_ranks + 1 offsets into pool */
	uint64_t *slots;         /* hash << 32 | (rank + 1); 0 empty */
	size_t mask;
	uint32_t byte_rank[256];
	struct special *spec;
	size_t n_spec;
	uint32_t n_vocab;
	uint32_t explicit_n_vocab; /* from the side file, 0 when absent */
	uint32_t *dec_off;       /* by id: offset into dec_pool, */
	uint32_t *dec_len;       /* and length (UINT32_MAX: no such id) */
	unsigned char *dec_pool; /* special token texts */
};

/* ---- hashing ---- */

/* Every lookup hashes a piece, and most pieces are under 8 bytes: the
 * last 1-8 bytes are read with two overlapping loads (or three bytes),
 * never byte by byte, and never past the end. */
static inline uint64_t hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
	while (n > 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	uint64_t w = 0;
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		w = (uint64_t)a << 32 | b;
	} else if (n) {
		w = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
	}
	h = (h ^ w) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

static inline uint32_t lookup(const nk_bpe *b, const unsigned char *s,
			      size_t n)
{
	uint64_t h = hash_bytes(s, n);
	uint32_t tag = (uint32_t)(h >> 32);
	for (size_t i = h & b->mask;; i = (i + 1) & b->mask) {
		uint64_t e = b->slots[i];
		if (!e)
			return RANK_NONE;
		if ((uint32_t)(e >> 32) != tag)
			continue;
		uint32_t r = (uint32_t)e - 1;
		if (b->off[r + 1] - b->off[r] == n &&
		    memcmp(b->pool + b->off[r], s, n) == 0)
			return r;
	}
}

int nk_bpe_rank(const nk_bpe *b, const unsigned char *s, size_t n,
		uint32_t *rank)
{
	uint32_t r = n ? lookup(b, s, n) : RANK_NONE;
	if (r == RANK_NONE)
		return NK_ENOTFOUND;
	*rank = r;
	return 0;
}

/* ---- ids ---- */

int nk_bpe_ids_push(nk_bpe_ids *ids, uint32_t id)
{
	if (ids->n == ids->cap &&
	    nk_grow((void **)&ids->v, &ids->cap, ids->n + 1, sizeof *ids->v))
		return NK_ENOMEM;
	ids->v[ids->n++] = id;
	return 0;
}

static int ids_reserve(nk_bpe_ids *ids, size_t more)
{
	if (ids->cap - ids->n >= more)
		return 0;
	if (more > SIZE_MAX - ids->n)
		return nk_error(NK_ENOMEM, "%zu more ids overflow", more);
	return nk_grow((void **)&ids->v, &ids->cap, ids->n + more,
		       sizeof *ids->v);
}

void nk_bpe_ids_free(nk_bpe_ids *ids)
{
	free(ids->v);
	ids->v = NULL;
	ids->n = ids->cap = 0;
}

/* ---- base64 ---- */

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* One more than the value of each base64 character; 0 for anything
 * else (so the table's zero default means "invalid"). */
static const unsigned char b64_val1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,
	['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27,
	['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47,
	['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52,
	['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
	['+'] = 63, ['/'] = 64,
};

long nk_b64_decode(unsigned char *dst, const char *src, size_t n)
{
	if (n % 4)
		return -1;
	const unsigned char *s = (const unsigned char *)src;
	long out = 0;
	size_t i = 0;
	/* Whole quads without padding: a table lookup per character. */
	for (; i + 4 < n; i += 4) {
		unsigned a = b64_val1[s[i]], b = b64_val1[s[i + 1]],
			 c = b64_val1[s[i + 2]], d = b64_val1[s[i + 3]];
		if (!a || !b || !c || !d)
			return -1;
		uint32_t w = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
		dst[out++] = (unsigned char)(w >> 16);
		dst[out++] = (unsigned char)(w >> 8);
		dst[out++] = (unsigned char)w;
	}
	/* The last quad, which may end in '=' or '=='. */
	for (; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = s[i + k];
			if (c == '=' && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || !b64_val1[c])
				return -1;
			v[k] = b64_val1[c] - 1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Canonical: the bits under the padding are zero. */
		if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF)))
			return -1;
		dst[out++] = (unsigned char)(w >> 16);
		if (pad < 2)
			dst[out++] = (unsigned char)(w >> 8);
		if (pad < 1)
			dst[out++] = (unsigned char)w;
	}
	return out;
}

size_t nk_b64_encode(char *dst, const unsigned char *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)src[i] << 16;
		if (i + 1 < n) w |= (uint32_t)src[i + 1] << 8;
		if (i + 2 < n) w |= src[i + 2];
		dst[o++] = b64_alpha[w >> 18 & 63];
		dst[o++] = b64_alpha[w >> 12 & 63];
		dst[o++] = i + 1 < n ? b64_alpha[w >> 6 & 63] : '=';
		dst[o++] = i + 2 < n ? b64_alpha[w & 63] : '=';
	}
	return o;
}

/* ---- building ---- */

nk_bpe *nk_bpe_new(void)
{
	return nk_calloc(1, sizeof(nk_bpe));
}

void nk_bpe_free(nk_bpe *b)
{
	if (!b)
		return;
	free(b->pool);
	free(b->off);
	free(b->slots);
	for (size_t i = 0; i < b->n_spec; i++)
		free(b->spec[i].text);
	free(b->spec);
	free(b->dec_off);
	free(b->dec_len);
	free(b->dec_pool);
	nk_pretok_re_free(b->re);
	free(b);
}

void nk_bpe_set_pretok(nk_bpe *b, int kind)
{
	if (kind == NK_PRETOK_REGEX && !b->re)
		kind = NK_PRETOK_NONE;
	if (kind != NK_PRETOK_REGEX) {
		nk_pretok_re_free(b->re);
		b->re = NULL;
	}
	b->pretok = kind;
}

int nk_bpe_set_regex(nk_bpe *b, const char *pat)
{
	nk_pretok_re *re = nk_pretok_re_new(pat);
	if (!re)
		return nk_last_error()[0] ? NK_EFORMAT : NK_ENOMEM;
	nk_pretok_re_free(b->re);
	b->re = re;
	b->pretok = NK_PRETOK_REGEX;
	return 0;
}

int nk_bpe_set_pattern(nk_bpe *b, const char *pat)
{
	int kind = nk_pretok_from_pattern(pat);
	if (kind < 0)
		return nk_bpe_set_regex(b, pat);
	nk_bpe_set_pretok(b, kind);
	return 0;
}

const char *nk_bpe_pattern(const nk_bpe *b)
{
	return b->re ? nk_pretok_re_pattern(b->re) : nk_pretok_pattern(b->pretok);
}
int nk_bpe_pretok(const nk_bpe *b) { return b->pretok; }
uint32_t nk_bpe_n_vocab(const nk_bpe *b) { return b->n_vocab; }
uint32_t nk_bpe_n_ranks(const nk_bpe *b) { return b->n_ranks; }
size_t nk_bpe_n_special(const nk_bpe *b) { return b->n_spec; }

/* Inserts rank r (bytes already in pool); returns the rank already
 * holding the same bytes, or RANK_NONE. */
/* The slot table, zeroed; 2 MB and larger on huge pages where the
 * kernel gives them on request: one fault instead of 512, and lookups
 * that seldom miss the TLB. */
static uint64_t *table_alloc(size_t bytes)
{
	if (bytes < (2u << 20))
		return nk_calloc(1, bytes);
	void *p = NULL;
	if (posix_memalign(&p, 2u << 20, bytes)) {
		nk_error(NK_ENOMEM, "out of memory (%zu bytes)", bytes);
		return NULL;
	}
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
	memset(p, 0, bytes);
	return p;
}

static uint32_t table_insert(nk_bpe *b, uint32_t r, uint64_t h)
{
	const unsigned char *s = b->pool + b->off[r];
	size_t n = b->off[r + 1] - b->off[r];
	uint32_t tag = (uint32_t)(h >> 32);
	for (size_t i = h & b->mask;; i = (i + 1) & b->mask) {
		uint64_t e = b->slots[i];
		if (!e) {
			b->slots[i] = (uint64_t)tag << 32 | (r + 1);
			return RANK_NONE;
		}
		uint32_t q = (uint32_t)e - 1;
		if ((uint32_t)(e >> 32) == tag &&
		    b->off[q + 1] - b->off[q] == n &&
		    memcmp(b->pool + b->off[q], s, n) == 0)
			return q;
	}
}

/* Builds pool/off/slots from `count` tokens given as (bytes, len) by
 * rank; `line` (may be NULL) maps ranks to file lines for messages. */
static int build_table(nk_bpe *b, const unsigned char *const *tok,
		       const uint32_t *len, uint32_t count, const char *name,
		       const uint32_t *line)
{
	size_t total = 0, slots = 16;
	for (uint32_t r = 0; r < count; r++)
		total += len[r];
	if (total > UINT32_MAX)
		return nk_error(NK_ERANGE, "%s: tokens too long in total", name);
	while (slots < (size_t)count * 2)
		slots *= 2;
	b->pool = nk_malloc(total ? total : 1);
	b->off = nk_calloc((size_t)count + 1, sizeof *b->off);
	b->slots = table_alloc(slots * sizeof *b->slots);
	if (!b->pool || !b->off || !b->slots)
		return NK_ENOMEM;
	b->mask = slots - 1;
	b->n_ranks = count;
	uint32_t o = 0;
	for (uint32_t r = 0; r < count; r++) {
		b->off[r] = o;
		o += len[r];
	}
	b->off[count] = o;
	for (uint32_t r = 0; r < count; r++)
		if (len[r])
			memcpy(b->pool + b->off[r], tok[r], len[r]);
	/* Hashes first, then inserts with the slot a few ranks ahead
	 * prefetched: the table is larger than a core's cache, and loading
	 * is otherwise a cache miss per token. */
	uint64_t *hash = nk_malloc(((size_t)count + 1) * sizeof *hash);
	if (!hash)
		return NK_ENOMEM;
	for (uint32_t r = 0; r < count; r++)
		hash[r] = hash_bytes(tok[r], len[r]);
	enum { AHEAD = 16 };
	for (uint32_t r = 0; r < count; r++) {
		if (r + AHEAD < count)
			__builtin_prefetch(&b->slots[hash[r + AHEAD] & b->mask], 1);
		if (len[r] == 0) {
			free(hash);
			return nk_error(NK_EFORMAT, "%s:%u: empty token",
					name, line ? line[r] : r + 1);
		}
		uint32_t q = table_insert(b, r, hash[r]);
		if (q != RANK_NONE) {
			free(hash);
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
	free(hash);
	for (int c = 0; c < 256; c++) {
		unsigned char byte = (unsigned char)c;
		b->byte_rank[c] = lookup(b, &byte, 1);
	}
	return 0;
}

/* What parsing one line of a rank file found. */
enum line_status { LINE_OK, LINE_EMPTY, LINE_NO_SPACE, LINE_BAD_B64,
		   LINE_TOO_LONG, LINE_BAD_RANK };

struct line_parse {
	uint64_t rank;
	uint32_t len;    /* decoded token bytes */
	uint32_t col;    /* LINE_BAD_RANK: 1-based column */
	uint8_t status;
};

/* Parses the line [p, eol): base64 token into dst, space, decimal rank. */
static void parse_rank_line(const unsigned char *p, const unsigned char *eol,
			    unsigned char *dst, struct line_parse *lp)
{
	lp->status = LINE_OK;
	if (eol == p) {
		lp->status = LINE_EMPTY;
		return;
	}
	const unsigned char *sp = memchr(p, ' ', (size_t)(eol - p));
	if (!sp) {
		lp->status = LINE_NO_SPACE;
		return;
	}
	long k = nk_b64_decode(dst, (const char *)p, (size_t)(sp - p));
	if (k <= 0) {
		lp->status = LINE_BAD_B64;
		return;
	}
	if ((unsigned long)k > TOKEN_MAX) {
		lp->status = LINE_TOO_LONG;
		return;
	}
	lp->len = (uint32_t)k;
	uint64_t r = 0;
	const unsigned char *q = sp + 1;
	if (q == eol || (*q == '0' && q + 1 != eol)) {
		lp->status = LINE_BAD_RANK;
		lp->col = (uint32_t)(q - p) + 1;
		return;
	}
	for (; q < eol; q++) {
		if (*q < '0' || *q > '9' || r > UINT32_MAX) {
			lp->status = LINE_BAD_RANK;
			lp->col = (uint32_t)(q - p) + 1;
			return;
		}
		r = r * 10 + (uint64_t)(*q - '0');
	}
	lp->rank = r;
}

int nk_bpe_load_ranks(nk_bpe *b, const unsigned char *data, size_t n,
		      const char *name)
{
	if (b->pool)
		return nk_error(NK_EINVAL, "%s: ranks loaded twice", name);
	/* First pass: count lines, so ranks can be checked against it. */
	size_t lines = 0;
	for (const unsigned char *p = data, *e = data + n;
	     p < e && (p = memchr(p, '\n', (size_t)(e - p))); p++)
		lines++;
	if (n && data[n - 1] != '\n')
		lines++;
	if (lines >= UINT32_MAX / 2)
		return nk_error(NK_ERANGE, "%s: too many lines", name);
	const unsigned char **tok = nk_calloc(lines + 1, sizeof *tok);
	uint32_t *len = nk_calloc(lines + 1, sizeof *len);
	uint32_t *line_of = nk_calloc(lines + 1, sizeof *line_of);
	unsigned char *bytes = nk_malloc(n / 4 * 3 + 1);
	int rc = 0;
	if (!tok || !len || !line_of || !bytes) {
		rc = NK_ENOMEM;
		goto out;
	}
	uint32_t count = 0;
	size_t bo = 0;
	const unsigned char *p = data, *end = data + n;
	for (uint32_t l = 1; p < end; l++) {
		const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		struct line_parse lp;
		parse_rank_line(p, eol, bytes + bo, &lp);
		uint64_t r = lp.rank;
		switch (lp.status) {
		case LINE_EMPTY:
			rc = nk_error(NK_EFORMAT, "%s:%u: empty line", name, l);
			goto out;
		case LINE_NO_SPACE:
			rc = nk_error(NK_EFORMAT, "%s:%u: expected 'BASE64 RANK'",
				      name, l);
			goto out;
		case LINE_BAD_B64:
			rc = nk_error(NK_EFORMAT, "%s:%u:1: bad base64 token",
				      name, l);
			goto out;
		case LINE_TOO_LONG:
			rc = nk_error(NK_EFORMAT, "%s:%u: token longer than %u bytes",
				      name, l, TOKEN_MAX);
			goto out;
		case LINE_BAD_RANK:
			rc = nk_error(NK_EFORMAT, "%s:%u:%u: bad rank", name, l,
				      lp.col);
			goto out;
		}
		if (r >= lines) {
			rc = nk_error(NK_EFORMAT,
				      "%s:%u: rank %llu out of range (%zu tokens "
				      "need ranks 0..%zu without gaps)", name, l,
				      (unsigned long long)r, lines, lines - 1);
			goto out;
		}
		if (line_of[r]) {
			rc = nk_error(NK_EFORMAT,
				      "%s:%u: duplicate rank %llu (first on line %u)",
				      name, l, (unsigned long long)r, line_of[r]);
			goto out;
		}
		tok[r] = bytes + bo;
		len[r] = lp.len;
		line_of[r] = l;
		bo += lp.len;
		count++;
		p = eol < end ? eol + 1 : end;
	}
	/* count distinct ranks all < lines, and count == lines: no gaps. */
	if (count == 0) {
		rc = nk_error(NK_EFORMAT, "%s: no tokens", name);
		goto out;
	}
	rc = build_table(b, tok, len, count, name, line_of);
out:
	free(tok);
	free(len);
	free(line_of);
	free(bytes);
	return rc;
}

int nk_bpe_add_special(nk_bpe *b, const char *text, size_t len, uint32_t id)
{
	if (len == 0)
		return nk_error(NK_EINVAL, "empty special token");
	if (id == UINT32_MAX)
		return nk_error(NK_ERANGE, "special token id %u too large", id);
	for (size_t i = 0; i < b->n_spec; i++) {
		if (b->spec[i].len == len && !memcmp(b->spec[i].text, text, len))
			return nk_error(NK_EFORMAT,
					"special token '%.*s' given twice",
					(int)len, text);
		if (b->spec[i].id == id)
			return nk_error(NK_EFORMAT,
					"special tokens '%s' and '%.*s' share id %u",
					b->spec[i].text, (int)len, text, id);
	}
	struct special *s = nk_reallocarray(b->spec, b->n_spec + 1, sizeof *s);
	if (!s)
		return NK_ENOMEM;
	b->spec = s;
	char *t = nk_malloc(len + 1);
	if (!t)
		return NK_ENOMEM;
	memcpy(t, text, len);
	t[len] = 0;
	s[b->n_spec++] = (struct special){t, len, id};
	return 0;
}

int nk_bpe_finish(nk_bpe *b, const char *name)
{
	if (!b->pool)
		return nk_error(NK_EINVAL, "%s: no ranks loaded", name);
	for (int c = 0; c < 256; c++)
		if (b->byte_rank[c] == RANK_NONE)
			return nk_error(NK_EFORMAT,
					"%s: no token for the byte 0x%02x (a "
					"byte-level BPE needs all 256)", name, c);
	uint64_t nv = b->n_ranks;
	size_t spool = 0;
	for (size_t i = 0; i < b->n_spec; i++) {
		struct special *s = &b->spec[i];
		if (s->id < b->n_ranks)
			return nk_error(NK_EFORMAT,
					"%s: special token '%s' has id %u, which "
					"is an ordinary token's rank", name,
					s->text, s->id);
		if ((uint64_t)s->id + 1 > nv)
			nv = (uint64_t)s->id + 1;
		spool += s->len;
	}
	if (nv - b->n_ranks > (1u << 24))
		return nk_error(NK_ERANGE, "%s: special token ids leave a gap "
				"of more than 2^24 ids", name);
	if (b->explicit_n_vocab && b->explicit_n_vocab != nv)
		return nk_error(NK_EFORMAT, "%s: explicit_n_vocab is %u but the "
				"tokens give %llu", name, b->explicit_n_vocab,
				(unsigned long long)nv);
	b->n_vocab = (uint32_t)nv;
	free(b->dec_off);
	free(b->dec_len);
	free(b->dec_pool);
	b->dec_off = nk_malloc((size_t)nv * sizeof *b->dec_off);
	b->dec_len = nk_malloc((size_t)nv * sizeof *b->dec_len);
	b->dec_pool = nk_malloc(spool + 1);
	if (!b->dec_off || !b->dec_len || !b->dec_pool)
		return NK_ENOMEM;
	for (uint32_t r = 0; r < b->n_ranks; r++) {
		b->dec_off[r] = b->off[r];
		b->dec_len[r] = b->off[r + 1] - b->off[r];
	}
	for (uint64_t r = b->n_ranks; r < nv; r++)
		b->dec_len[r] = UINT32_MAX;
	size_t o = 0;
	for (size_t i = 0; i < b->n_spec; i++) {
		memcpy(b->dec_pool + o, b->spec[i].text, b->spec[i].len);
		b->dec_off[b->spec[i].id] = (uint32_t)o;
		b->dec_len[b->spec[i].id] = (uint32_t)b->spec[i].len;
		o += b->spec[i].len;
	}
	return 0;
}

const unsigned char *nk_bpe_token(const nk_bpe *b, uint32_t id, size_t *len)
{
	if (id >= b->n_vocab || b->dec_len[id] == UINT32_MAX)
		return NULL;
	*len = b->dec_len[id];
	return id < b->n_ranks ? b->pool + b->dec_off[id]
			       : b->dec_pool + b->dec_off[id];
}

/* ---- a small JSON reader (enough for tiktoken side files and GPT-2's
 * encoder.json): objects, arrays, strings, numbers, literals. ---- */

struct json {
	const unsigned char *p, *end, *start;
	const char *name;
};

static int json_fail(struct json *j, const char *what)
{
	size_t line = 1, col = 1;
	for (const unsigned char *q = j->start; q < j->p && q < j->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return nk_error(NK_EFORMAT, "%s:%zu:%zu: %s", j->name, line, col, what);
}

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int json_hex4(struct json *j, uint32_t *v)
{
	if (j->end - j->p < 4)
		return json_fail(j, "bad \\u escape");
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int c = j->p[i], d;
		if (c >= '0' && c <= '9') d = c - '0';
		else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
		else return json_fail(j, "bad \\u escape");
		*v = *v << 4 | (uint32_t)d;
	}
	j->p += 4;
	return 0;
}

/* Reads a string into a malloc'd buffer (*out, *len; NUL-terminated). */
static int json_string(struct json *j, char **out, size_t *len)
{
	json_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return json_fail(j, "expected a string");
	j->p++;
	size_t cap = 16, n = 0;
	char *s = nk_malloc(cap);
	if (!s)
		return NK_ENOMEM;
	for (;;) {
		if (j->p >= j->end) {
			free(s);
			return json_fail(j, "unterminated string");
		}
		if (nk_grow((void **)&s, &cap, n + 5, 1)) {
			free(s);
			return NK_ENOMEM;
		}
		unsigned char c = *j->p++;
		if (c == '"')
			break;
		if (c < 0x20) {
			free(s);
			j->p--;
			return json_fail(j, "control character in string");
		}
		if (c != '\\') {
			s[n++] = (char)c;
			continue;
		}
		if (j->p >= j->end) {
			free(s);
			return json_fail(j, "unterminated string");
		}
		c = *j->p++;
		uint32_t cp;
		switch (c) {
		case '"': case '\\': case '/': s[n++] = (char)c; continue;
		case 'b': s[n++] = '\b'; continue;
		case 'f': s[n++] = '\f'; continue;
		case 'n': s[n++] = '\n'; continue;
		case 'r': s[n++] = '\r'; continue;
		case 't': s[n++] = '\t'; continue;
		case 'u':
			if (json_hex4(j, &cp)) {
				free(s);
				return NK_EFORMAT;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo;
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u') {
					free(s);
					return json_fail(j, "lone surrogate");
				}
				j->p += 2;
				if (json_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
					free(s);
					return json_fail(j, "lone surrogate");
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				free(s);
				return json_fail(j, "lone surrogate");
			}
			if (cp < 0x80) {
				s[n++] = (char)cp;
			} else if (cp < 0x800) {
				s[n++] = (char)(0xC0 | cp >> 6);
				s[n++] = (char)(0x80 | (cp & 63));
			} else if (cp < 0x10000) {
				s[n++] = (char)(0xE0 | cp >> 12);
				s[n++] = (char)(0x80 | (cp >> 6 & 63));
				s[n++] = (char)(0x80 | (cp & 63));
			} else {
				s[n++] = (char)(0xF0 | cp >> 18);
				s[n++] = (char)(0x80 | (cp >> 12 & 63));
				s[n++] = (char)(0x80 | (cp >> 6 & 63));
				s[n++] = (char)(0x80 | (cp & 63));
			}
			continue;
		default:
			free(s);
			j->p--;
			return json_fail(j, "bad escape in string");
		}
	}
	s[n] = 0;
	*out = s;
	*len = n;
	return 0;
}

static int json_uint(struct json *j, uint32_t *v)
{
	json_ws(j);
	uint64_t x = 0;
	const unsigned char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		x = x * 10 + (uint64_t)(*j->p++ - '0');
		if (x >= UINT32_MAX)
			return json_fail(j, "number too large");
	}
	if (j->p == s || (j->p - s > 1 && *s == '0'))
		return json_fail(j, "expected a non-negative integer");
	*v = (uint32_t)x;
	return 0;
}

static int json_skip(struct json *j, int depth);

static int json_expect(struct json *j, char c)
{
	json_ws(j);
	if (j->p >= j->end || *j->p != (unsigned char)c) {
		char what[32];
		snprintf(what, sizeof what, "expected '%c'", c);
		return json_fail(j, what);
	}
	j->p++;
	return 0;
}

/* Iterates an object: calls fn(ctx, j, key, keylen) positioned at each
 * value, which the callback must consume. */
typedef int (*json_member_fn)(void *ctx, struct json *j, const char *key,
			      size_t klen);
static int json_object(struct json *j, json_member_fn fn, void *ctx)
{
	int rc;
	if ((rc = json_expect(j, '{')))
		return rc;
	json_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		char *key;
		size_t klen;
		if ((rc = json_string(j, &key, &klen)))
			return rc;
		rc = json_expect(j, ':');
		if (!rc)
			rc = fn(ctx, j, key, klen);
		free(key);
		if (rc)
			return rc;
		json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return json_expect(j, '}');
	}
}

static int json_skip(struct json *j, int depth)
{
	if (depth > 64)
		return json_fail(j, "nested too deeply");
	json_ws(j);
	if (j->p >= j->end)
		return json_fail(j, "unexpected end");
	unsigned char c = *j->p;
	if (c == '"') {
		char *s;
		size_t n;
		int rc = json_string(j, &s, &n);
		if (!rc)
			free(s);
		return rc;
	}
	if (c == '{' || c == '[') {
		unsigned char close = c == '{' ? '}' : ']';
		j->p++;
		json_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		for (;;) {
			int rc;
			if (c == '{') {
				char *s;
				size_t n;
				if ((rc = json_string(j, &s, &n)))
					return rc;
				free(s);
				if ((rc = json_expect(j, ':')))
					return rc;
			}
			if ((rc = json_skip(j, depth + 1)))
				return rc;
			json_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			return json_expect(j, (char)close);
		}
	}
	const unsigned char *s = j->p;
	while (j->p < j->end && (strchr("+-.eE", *j->p) ||
				 (*j->p >= '0' && *j->p <= '9') ||
				 (*j->p >= 'a' && *j->p <= 'z')))
		j->p++;
	if (j->p == s)
		return json_fail(j, "expected a value");
	return 0;
}

struct meta_ctx {
	nk_bpe *b;
	int seen_pat;
};

static int meta_special(void *ctx, struct json *j, const char *key,
			size_t klen)
{
	uint32_t id;
	int rc = json_uint(j, &id);
	if (rc)
		return rc;
	if ((rc = nk_bpe_add_special(ctx, key, klen, id)))
		return nk_error_prefix(rc, j->name);
	return 0;
}

static int meta_member(void *vctx, struct json *j, const char *key,
		       size_t klen)
{
	struct meta_ctx *m = vctx;
	(void)klen;
	if (strcmp(key, "pat_str") == 0) {
		char *pat;
		size_t n;
		const unsigned char *at = j->p;
		int rc = json_string(j, &pat, &n);
		if (rc)
			return rc;
		/* A known pattern gets the built-in matcher, any other
		 * PCRE2; NUL inside would cut the pattern short. */
		rc = strlen(pat) != n ? nk_error(NK_EFORMAT, "a NUL character in the pattern") :
		     nk_bpe_set_pattern(m->b, pat);
		free(pat);
		if (rc) {
			char why[300];
			snprintf(why, sizeof why, "pat_str: %s", nk_last_error());
			j->p = at;
			return json_fail(j, why);
		}
		m->seen_pat = 1;
		return 0;
	}
	if (strcmp(key, "special_tokens") == 0)
		return json_object(j, meta_special, m->b);
	if (strcmp(key, "explicit_n_vocab") == 0)
		return json_uint(j, &m->b->explicit_n_vocab);
	return json_skip(j, 0);
}

int nk_bpe_load_meta(nk_bpe *b, const unsigned char *data, size_t n,
		     const char *name)
{
	struct json j = {data, data + n, data, name};
	struct meta_ctx m = {b, 0};
	int rc = json_object(&j, meta_member, &m);
	if (rc)
		return rc;
	json_ws(&j);
	if (j.p != j.end)
		return json_fail(&j, "text after the object");
	if (!m.seen_pat)
		return nk_error(NK_EFORMAT, "%s: no pat_str", name);
	return 0;
}

/* ---- opening files ---- */

static int load_file(nk_input *in, const char *path)
{
	return nk_input_load(in, path, (size_t)1 << 31);
}

int nk_bpe_open(nk_bpe **out, const char *rank_path, const char *meta_path)
{
	nk_bpe *b = nk_bpe_new();
	nk_input in = {0};
	char *derived = NULL;
	int rc;
	if (!b)
		return NK_ENOMEM;
	if ((rc = load_file(&in, rank_path)))
		goto fail;
	rc = nk_bpe_load_ranks(b, in.data, in.size, rank_path);
	nk_input_free(&in);
	if (rc)
		goto fail;
	if (!meta_path) {
		size_t n = strlen(rank_path);
		const char *ext = ".tiktoken";
		size_t el = strlen(ext);
		if (!(derived = nk_malloc(n + 6))) {
			rc = NK_ENOMEM;
			goto fail;
		}
		memcpy(derived, rank_path, n + 1);
		if (n > el && strcmp(rank_path + n - el, ext) == 0)
			derived[n - el] = 0;
		strcat(derived, ".json");
		if (access(derived, F_OK) == 0)
			meta_path = derived;
	}
	if (meta_path) {
		if ((rc = load_file(&in, meta_path)))
			goto fail;
		rc = nk_bpe_load_meta(b, in.data, in.size, meta_path);
		nk_input_free(&in);
		if (rc)
			goto fail;
	}
	if ((rc = nk_bpe_finish(b, rank_path)))
		goto fail;
	free(derived);
	*out = b;
	return 0;
fail:
	free(derived);
	nk_bpe_free(b);
	return rc;
}

/* GPT-2's byte-to-unicode alphabet: printable Latin-1 bytes stand for
 * themselves, the others are shifted to U+0100 and up in byte order. */
static void gpt2_alphabet(uint32_t cp_of[256])
{
	uint32_t next = 256;
	for (int c = 0; c < 256; c++) {
		int printable = (c >= '!' && c <= '~') ||
				(c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
		cp_of[c] = printable ? (uint32_t)c : next++;
	}
}

/* Maps a UTF-8 string in the GPT-2 alphabet back to bytes (in place);
 * -1 when a character is outside the alphabet. */
static long gpt2_unmap(unsigned char *s, size_t n, const int16_t *byte_of)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		if (s[i] < 0x80) {
			cp = s[i++];
		} else if ((s[i] & 0xE0) == 0xC0 && i + 1 < n) {
			cp = (s[i] & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu);
			i += 2;
		} else {
			return -1;
		}
		if (cp >= 324 || byte_of[cp] < 0)
			return -1;
		s[o++] = (unsigned char)byte_of[cp];
	}
	return (long)o;
}

struct enc_ctx {
	const int16_t *byte_of;
	unsigned char **tok;
	uint32_t *len;
	uint32_t cap;
	uint32_t max_id;
	int count;
};

static int enc_member(void *vctx, struct json *j, const char *key,
		      size_t klen)
{
	struct enc_ctx *e = vctx;
	uint32_t id;
	const unsigned char *at = j->p;
	int rc = json_uint(j, &id);
	if (rc)
		return rc;
	if (klen == 13 && memcmp(key, "<|endoftext|>", 13) == 0)
		return 0;
	if (id >= e->cap) {
		j->p = at;
		return json_fail(j, "id out of range");
	}
	unsigned char *t = nk_malloc(klen + 1);
	if (!t)
		return NK_ENOMEM;
	memcpy(t, key, klen);
	long n = gpt2_unmap(t, klen, e->byte_of);
	if (n <= 0 || e->tok[id]) {
		free(t);
		j->p = at;
		return json_fail(j, n <= 0 ? "token outside GPT-2's byte alphabet"
					   : "duplicate id");
	}
	e->tok[id] = t;
	e->len[id] = (uint32_t)n;
	e->count++;
	if (id > e->max_id)
		e->max_id = id;
	return 0;
}

int nk_bpe_load_gpt2(nk_bpe **out, const unsigned char *enc_data,
		     size_t enc_n, const char *encoder_json,
		     const unsigned char *bpe_data, size_t bpe_n,
		     const char *vocab_bpe)
{
	uint32_t cp_of[256];
	int16_t byte_of[324];
	gpt2_alphabet(cp_of);
	for (int i = 0; i < 324; i++)
		byte_of[i] = -1;
	for (int c = 0; c < 256; c++)
		byte_of[cp_of[c]] = (int16_t)c;

	nk_bpe *b = NULL;
	/* Ids must be below the number of entries (no gaps), and every
	 * entry has a ':', so that bounds the tables. */
	uint32_t cap = 1;
	for (size_t i = 0; i < enc_n && cap < (1u << 24); i++)
		cap += enc_data[i] == ':';
	struct enc_ctx e = {byte_of, NULL, NULL, cap, 0, 0};
	unsigned char **mt = NULL;
	uint32_t *ml = NULL;
	int rc;
	size_t lines = 1;
	e.tok = nk_calloc(e.cap, sizeof *e.tok);
	e.len = nk_calloc(e.cap, sizeof *e.len);
	if (!e.tok || !e.len) {
		rc = NK_ENOMEM;
		goto out;
	}
	struct json j = {enc_data, enc_data + enc_n, enc_data, encoder_json};
	if ((rc = json_object(&j, enc_member, &e)))
		goto out;
	/* The ranks implied by vocab.bpe: 256 bytes in alphabet order, then
	 * one per merge; encoder.json must agree with them exactly. */
	json_ws(&j);
	if (j.p != j.end) {
		rc = json_fail(&j, "text after the object");
		goto out;
	}
	for (size_t i = 0; i < bpe_n; i++)
		lines += bpe_data[i] == '\n';
	mt = nk_calloc(lines + 256, sizeof *mt);
	ml = nk_calloc(lines + 256, sizeof *ml);
	if (!mt || !ml) {
		rc = NK_ENOMEM;
		goto out;
	}
	/* Ranks 0..255: printable bytes, then the others, each in byte order
	 * (tiktoken's data_gym_to_mergeable_bpe_ranks). */
	uint32_t r = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int c = 0; c < 256; c++) {
			int printable = cp_of[c] == (uint32_t)c;
			if (printable != (pass == 0))
				continue;
			mt[r] = nk_malloc(1);
			if (!mt[r]) {
				rc = NK_ENOMEM;
				goto out;
			}
			mt[r][0] = (unsigned char)c;
			ml[r++] = 1;
		}
	const unsigned char *p = bpe_data, *end = bpe_data + bpe_n;
	for (uint32_t ln = 1; p < end; ln++) {
		const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		size_t n = (size_t)(eol - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (ln == 1 && n >= 8 && memcmp(p, "#version", 8) == 0) {
			p = eol < end ? eol + 1 : end;
			continue;
		}
		if (n == 0) {
			p = eol < end ? eol + 1 : end;
			continue;
		}
		const unsigned char *sp = memchr(p, ' ', n);
		unsigned char *t = nk_malloc(n + 1);
		if (!t) {
			rc = NK_ENOMEM;
			goto out;
		}
		long a = -1, c = -1;
		if (sp && sp > p && sp + 1 < p + n) {
			size_t la = (size_t)(sp - p), lc = n - la - 1;
			memcpy(t, p, la);
			a = gpt2_unmap(t, la, byte_of);
			if (a > 0) {
				memcpy(t + a, sp + 1, lc);
				c = gpt2_unmap(t + a, lc, byte_of);
			}
		}
		if (a <= 0 || c <= 0 || memchr(sp + 1, ' ', (size_t)(p + n - sp - 1))) {
			free(t);
			rc = nk_error(NK_EFORMAT, "%s:%u: expected a merge 'A B' in "
				      "GPT-2's byte alphabet", vocab_bpe, ln);
			goto out;
		}
		mt[r] = t;
		ml[r] = (uint32_t)(a + c);
		if (r >= e.cap || !e.tok[r] || e.len[r] != ml[r] ||
		    memcmp(e.tok[r], t, ml[r]) != 0) {
			rc = nk_error(NK_EFORMAT, "%s:%u: merge gives rank %u, but "
				      "%s disagrees (missing or different token)",
				      vocab_bpe, ln, r, encoder_json);
			goto out;
		}
		r++;
		p = eol < end ? eol + 1 : end;
	}
	for (uint32_t k = 0; k < 256; k++)
		if (!e.tok[k] || e.len[k] != 1 || e.tok[k][0] != mt[k][0]) {
			rc = nk_error(NK_EFORMAT, "%s: id %u is not the byte "
				      "token GPT-2's alphabet puts there",
				      encoder_json, k);
			goto out;
		}
	if ((uint32_t)e.count != r) {
		rc = nk_error(NK_EFORMAT, "%s has %d tokens but %s gives %u "
			      "(256 bytes + merges)", encoder_json, e.count,
			      vocab_bpe, r);
		goto out;
	}
	if (!(b = nk_bpe_new())) {
		rc = NK_ENOMEM;
		goto out;
	}
	if ((rc = build_table(b, (const unsigned char *const *)mt, ml, r,
			      vocab_bpe, NULL)))
		goto out;
	b->pretok = NK_PRETOK_R50K;
	if ((rc = nk_bpe_add_special(b, "<|endoftext|>", 13, r)) ||
	    (rc = nk_bpe_finish(b, encoder_json)))
		goto out;
	*out = b;
	b = NULL;
out:
	nk_bpe_free(b);
	if (e.tok)
		for (uint32_t k = 0; k < e.cap; k++)
			free(e.tok[k]);
	free(e.tok);
	free(e.len);
	if (mt)
		for (size_t k = 0; k < lines + 256; k++)
			free(mt[k]);
	free(mt);
	free(ml);
	return rc;
}

int nk_bpe_open_gpt2(nk_bpe **out, const char *encoder_json,
		     const char *vocab_bpe)
{
	nk_input ej = {0}, vb = {0};
	int rc = load_file(&ej, encoder_json);
	if (!rc)
		rc = load_file(&vb, vocab_bpe);
	if (!rc)
		rc = nk_bpe_load_gpt2(out, ej.data, ej.size, encoder_json,
				      vb.data, vb.size, vocab_bpe);
	nk_input_free(&ej);
	nk_input_free(&vb);
	return rc;
}

int nk_bpe_build(nk_bpe **out, const unsigned char *const *tok,
		 const uint32_t *len, uint32_t count, int pretok)
{
	nk_bpe *b = nk_bpe_new();
	if (!b)
		return NK_ENOMEM;
	int rc = build_table(b, tok, len, count, "(trained)", NULL);
	if (rc) {
		nk_bpe_free(b);
		return rc;
	}
	b->pretok = pretok;
	*out = b;
	return 0;
}

/* ---- writing ---- */

int nk_bpe_write_ranks(const nk_bpe *b, FILE *fp)
{
	char buf[4 * ((TOKEN_MAX + 2) / 3) + 1];
	for (uint32_t r = 0; r < b->n_ranks; r++) {
		size_t n = nk_b64_encode(buf, b->pool + b->off[r],
					 b->off[r + 1] - b->off[r]);
		if (fwrite(buf, 1, n, fp) != n || fprintf(fp, " %u\n", r) < 0)
			return nk_error(NK_EIO, "write error: %s", strerror(errno));
	}
	return 0;
}

static void json_put_string(FILE *fp, const char *s, size_t n)
{
	fputc('"', fp);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\r')
			fputs("\\r", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

int nk_bpe_write_meta(const nk_bpe *b, FILE *fp)
{
	const char *pat = nk_bpe_pattern(b);
	fputs("{\n \"pat_str\": ", fp);
	json_put_string(fp, pat, strlen(pat));
	fputs(",\n \"special_tokens\": {", fp);
	for (size_t i = 0; i < b->n_spec; i++) {
		fputs(i ? ",\n  " : "\n  ", fp);
		json_put_string(fp, b->spec[i].text, b->spec[i].len);
		fprintf(fp, ": %u", b->spec[i].id);
	}
	fprintf(fp, "%s},\n \"explicit_n_vocab\": %u\n}\n",
		b->n_spec ? "\n " : "", b->n_vocab);
	if (ferror(fp))
		return nk_error(NK_EIO, "write error: %s", strerror(errno));
	return 0;
}

/* ---- encoding ---- */

struct cache_slot {
	uint64_t hash;
	uint32_t key_off, key_len; /* in arena; key_len 0: empty */
	uint32_t ids_off, ids_n;   /* in ids arena */
};

/* The shared cache: insert-only, lock-free.  A slot's tag is 0 while
 * empty, TAG_BUSY while its inserter writes it, then the piece's hash
 * with bit 1 set and bit 0 clear; the entry and the arena bytes are
 * written before the tag is published (release), and read only after it
 * is seen (acquire).  A reader that meets TAG_BUSY just misses. */
#define TAG_BUSY 1u

struct shared_entry {
	uint32_t key_off, key_len, ids_off, ids_n;
};

struct nk_bpe_shared {
	_Atomic uint64_t *tag;
	struct shared_entry *ent;
	unsigned char *karena;
	uint32_t *iarena;
	size_t kcap, icap;
	atomic_size_t kused, iused, used;
};

nk_bpe_shared *nk_bpe_shared_new(void)
{
	nk_bpe_shared *sh = nk_calloc(1, sizeof *sh);
	if (!sh)
		return NULL;
	sh->tag = nk_calloc(SHARED_SLOTS, sizeof *sh->tag);
	sh->ent = nk_calloc(SHARED_SLOTS, sizeof *sh->ent);
	sh->kcap = SHARED_SLOTS * 12;
	sh->icap = SHARED_SLOTS * 3;
	sh->karena = nk_malloc(sh->kcap);
	sh->iarena = nk_malloc(sh->icap * sizeof *sh->iarena);
	if (!sh->tag || !sh->ent || !sh->karena || !sh->iarena) {
		nk_bpe_shared_free(sh);
		return NULL;
	}
	for (size_t i = 0; i < SHARED_SLOTS; i++)
		atomic_init(&sh->tag[i], 0);
	atomic_init(&sh->kused, 0);
	atomic_init(&sh->iused, 0);
	atomic_init(&sh->used, 0);
	return sh;
}

void nk_bpe_shared_free(nk_bpe_shared *sh)
{
	if (!sh)
		return;
	free(sh->tag);
	free(sh->ent);
	free(sh->karena);
	free(sh->iarena);
	free(sh);
}

static uint64_t shared_tag(uint64_t hash)
{
	return (hash & ~(uint64_t)3) | 2;
}

/* Appends the cached ids of s[0..n); 1 when found, 0 when not, -1 when
 * out of memory. */
static int shared_get(nk_bpe_shared *sh, uint64_t hash,
		      const unsigned char *s, size_t n, nk_bpe_ids *out)
{
	uint64_t want = shared_tag(hash);
	size_t i = hash & (SHARED_SLOTS - 1);
	for (int k = 0; k < SHARED_PROBES; k++, i = (i + 1) & (SHARED_SLOTS - 1)) {
		uint64_t t = atomic_load_explicit(&sh->tag[i], memory_order_acquire);
		if (t == 0)
			return 0;
		if (t != want)
			continue;
		const struct shared_entry *en = &sh->ent[i];
		if (en->key_len != n || memcmp(sh->karena + en->key_off, s, n))
			continue;
		if (ids_reserve(out, en->ids_n))
			return -1;
		memcpy(out->v + out->n, sh->iarena + en->ids_off,
		       en->ids_n * sizeof(uint32_t));
		out->n += en->ids_n;
		return 1;
	}
	return 0;
}

/* Offers a merged piece to the other threads; silently does nothing when
 * the cache is full or another thread got there first. */
static void shared_put(nk_bpe_shared *sh, uint64_t hash,
		       const unsigned char *s, size_t n, const uint32_t *ids,
		       size_t k)
{
	if (atomic_load_explicit(&sh->used, memory_order_relaxed) >=
	    SHARED_SLOTS / 2)
		return;
	size_t ko = atomic_fetch_add_explicit(&sh->kused, n, memory_order_relaxed);
	size_t io = atomic_fetch_add_explicit(&sh->iused, k, memory_order_relaxed);
	if (ko + n > sh->kcap || io + k > sh->icap)
		return;
	memcpy(sh->karena + ko, s, n);
	memcpy(sh->iarena + io, ids, k * sizeof *ids);
	uint64_t want = shared_tag(hash);
	size_t i = hash & (SHARED_SLOTS - 1);
	for (int p = 0; p < SHARED_PROBES; p++, i = (i + 1) & (SHARED_SLOTS - 1)) {
		uint64_t t = atomic_load_explicit(&sh->tag[i], memory_order_acquire);
		if (t == 0) {
			if (atomic_compare_exchange_strong_explicit(&sh->tag[i],
			    &t, TAG_BUSY, memory_order_acquire,
			    memory_order_acquire)) {
				sh->ent[i] = (struct shared_entry){
					(uint32_t)ko, (uint32_t)n, (uint32_t)io,
					(uint32_t)k};
				atomic_store_explicit(&sh->tag[i], want,
						      memory_order_release);
				atomic_fetch_add_explicit(&sh->used, 1,
							  memory_order_relaxed);
				return;
			}
			/* t now holds what another thread put there. */
		}
		if (t == want && sh->ent[i].key_len == n &&
		    !memcmp(sh->karena + sh->ent[i].key_off, s, n))
			return;
	}
}

struct nk_bpe_enc {
	const nk_bpe *b;
	nk_pretok_matcher *m;    /* the vocabulary's pattern is a regex */
	nk_bpe_shared *shared;
	struct cache_slot *cache;
	size_t cache_used;
	unsigned char *karena;
	size_t kused, kcap;
	uint32_t *iarena;
	size_t iused, icap;
	/* merge scratch */
	uint32_t *start, *rank, *next, *prev;
	uint64_t *heap;
	size_t scratch;
	size_t fail_off;
	size_t *spos, spos_cap; /* next occurrence of each special token */
};

nk_bpe_enc *nk_bpe_enc_new(const nk_bpe *b)
{
	nk_bpe_enc *e = nk_calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->b = b;
	e->cache = nk_calloc(CACHE_SLOTS, sizeof *e->cache);
	e->kcap = CACHE_SLOTS * 16;
	e->karena = nk_malloc(e->kcap);
	e->icap = CACHE_SLOTS * 4;
	e->iarena = nk_malloc(e->icap * sizeof *e->iarena);
	if (b->re && !(e->m = nk_pretok_matcher_new(b->re))) {
		nk_bpe_enc_free(e);
		return NULL;
	}
	if (!e->cache || !e->karena || !e->iarena) {
		nk_bpe_enc_free(e);
		return NULL;
	}
	return e;
}

void nk_bpe_enc_free(nk_bpe_enc *e)
{
	if (!e)
		return;
	nk_pretok_matcher_free(e->m);
	free(e->cache);
	free(e->karena);
	free(e->iarena);
	free(e->start);
	free(e->rank);
	free(e->next);
	free(e->prev);
	free(e->heap);
	free(e->spos);
	free(e);
}

size_t nk_bpe_enc_fail_offset(const nk_bpe_enc *e) { return e->fail_off; }

static int scratch_reserve(nk_bpe_enc *e, size_t n)
{
	if (n <= e->scratch)
		return 0;
	/* Five arrays, one capacity: each grows from the same old size to
	 * the same new one (the heap holds two entries per part). */
	uint32_t **arr[] = {&e->start, &e->rank, &e->next, &e->prev};
	size_t cap = e->scratch;
	for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++) {
		cap = e->scratch;
		if (nk_grow((void **)arr[i], &cap, n, sizeof(uint32_t)))
			return NK_ENOMEM;
	}
	size_t hcap = e->scratch * 2;
	if (nk_grow((void **)&e->heap, &hcap, cap * 2, sizeof *e->heap))
		return NK_ENOMEM;
	e->scratch = cap;
	return 0;
}

/* tiktoken's byte_pair_merge for short pieces: an array of part starts,
 * each with the rank of it merged with its right neighbour. */
static int merge_short(nk_bpe_enc *e, const unsigned char *s, size_t n,
		       nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	uint32_t *st = e->start, *rk = e->rank;
	size_t m = n + 1;
	for (size_t i = 0; i + 1 < n; i++)
		rk[i] = lookup(b, s + i, 2);
	for (size_t i = 0; i < m; i++)
		st[i] = (uint32_t)i;
	rk[n - 1] = rk[n] = RANK_NONE;
	for (;;) {
		uint32_t best = RANK_NONE;
		size_t bi = 0;
		for (size_t i = 0; i + 1 < m; i++)
			if (rk[i] < best) {
				best = rk[i];
				bi = i;
			}
		if (best == RANK_NONE)
			break;
		/* Merge parts bi and bi + 1. */
		if (bi + 3 < m)
			rk[bi] = lookup(b, s + st[bi], st[bi + 3] - st[bi]);
		else
			rk[bi] = RANK_NONE;
		if (bi > 0) {
			rk[bi - 1] = bi + 2 < m ? lookup(b, s + st[bi - 1],
							 st[bi + 2] - st[bi - 1])
						: RANK_NONE;
		}
		memmove(st + bi + 1, st + bi + 2, (m - bi - 2) * sizeof *st);
		memmove(rk + bi + 1, rk + bi + 2, (m - bi - 2) * sizeof *rk);
		m--;
	}
	if (ids_reserve(out, m - 1))
		return NK_ENOMEM;
	for (size_t i = 0; i + 1 < m; i++)
		out->v[out->n++] = lookup(b, s + st[i], st[i + 1] - st[i]);
	return 0;
}

/* Heap of (rank << 32 | position): the lowest rank, then the leftmost. */
static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h[p] <= v)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
	uint64_t top = h[0], v = h[--*n];
	size_t i = 0, m = *n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (m)
		h[i] = v;
	return top;
}

/* The same merges for long pieces in O(n log n).  Parts are linked by
 * next/prev (indexed by their start byte) and cur[i] is the rank of part
 * i merged with its right neighbour.  A heap entry (rank, i) is stale
 * when part i is dead or cur[i] differs: parts only grow, and a longer
 * byte string is a different token, so a stale entry never looks current. */
static int merge_long(nk_bpe_enc *e, const unsigned char *s, size_t n,
		      nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	uint32_t *next = e->next, *prev = e->prev, *cur = e->rank;
	uint64_t *h = e->heap;
	size_t hn = 0;
	for (size_t i = 0; i < n; i++) {
		next[i] = (uint32_t)(i + 1);
		prev[i] = (uint32_t)(i - 1);
		cur[i] = RANK_NONE;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		uint32_t r = lookup(b, s + i, 2);
		cur[i] = r;
		if (r != RANK_NONE)
			heap_push(h, &hn, (uint64_t)r << 32 | i);
	}
	/* Each merge pops one entry and pushes at most two, so the heap
	 * stays under 2n entries; it is compacted if it would overflow. */
	while (hn) {
		uint64_t top = heap_pop(h, &hn);
		uint32_t i = (uint32_t)top, r = (uint32_t)(top >> 32);
		if (cur[i] != r || next[i] >= n)
			continue;
		uint32_t j = next[i], k = next[j];
		next[i] = k;
		if (k < n)
			prev[k] = i;
		cur[j] = RANK_NONE; /* dead: j never heads a part again */
		next[j] = (uint32_t)n;
		if (hn + 2 > 2 * e->scratch) {
			size_t w = 0;
			for (size_t q = 0; q < hn; q++) {
				uint32_t a = (uint32_t)h[q];
				if (cur[a] == (uint32_t)(h[q] >> 32) && next[a] < n)
					h[w++] = h[q];
			}
			hn = 0;
			for (size_t q = 0; q < w; q++)
				heap_push(h, &hn, h[q]);
		}
		cur[i] = k < n ? lookup(b, s + i, next[k] - i) : RANK_NONE;
		if (cur[i] != RANK_NONE)
			heap_push(h, &hn, (uint64_t)cur[i] << 32 | i);
		if (i > 0) {
			uint32_t p = prev[i];
			cur[p] = lookup(b, s + p, k - p);
			if (cur[p] != RANK_NONE)
				heap_push(h, &hn, (uint64_t)cur[p] << 32 | p);
		}
	}
	if (ids_reserve(out, n))
		return NK_ENOMEM;
	for (uint32_t i = 0; i < n; i = next[i])
		out->v[out->n++] = lookup(b, s + i, next[i] - i);
	return 0;
}

void nk_bpe_enc_share(nk_bpe_enc *e, nk_bpe_shared *sh)
{
	e->shared = sh;
}

static void cache_clear(nk_bpe_enc *e)
{
	memset(e->cache, 0, CACHE_SLOTS * sizeof *e->cache);
	e->cache_used = e->kused = e->iused = 0;
}

int nk_bpe_encode_piece(nk_bpe_enc *e, const unsigned char *s, size_t n,
			nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	if (n == 0)
		return 0;
	if (n == 1)
		return nk_bpe_ids_push(out, b->byte_rank[s[0]]);
	uint32_t r = lookup(b, s, n);
	if (r != RANK_NONE)
		return nk_bpe_ids_push(out, r);
	uint64_t hash = 0;
	size_t slot = 0;
	if (n <= CACHE_PIECE) {
		hash = hash_bytes(s, n) | 1;
		for (slot = hash & (CACHE_SLOTS - 1);;
		     slot = (slot + 1) & (CACHE_SLOTS - 1)) {
			struct cache_slot *c = &e->cache[slot];
			if (!c->key_len)
				break;
			if (c->hash == hash && c->key_len == n &&
			    memcmp(e->karena + c->key_off, s, n) == 0) {
				if (ids_reserve(out, c->ids_n))
					return NK_ENOMEM;
				memcpy(out->v + out->n, e->iarena + c->ids_off,
				       c->ids_n * sizeof(uint32_t));
				out->n += c->ids_n;
				return 0;
			}
		}
	}
	size_t before = out->n;
	int found = 0, rc = 0;
	if (e->shared && n <= CACHE_PIECE &&
	    (found = shared_get(e->shared, hash, s, n, out)) < 0)
		return NK_ENOMEM;
	if (!found) {
		if (scratch_reserve(e, n + 1))
			return NK_ENOMEM;
		rc = n <= SHORT_PIECE ? merge_short(e, s, n, out)
				      : merge_long(e, s, n, out);
	}
	if (rc || n > CACHE_PIECE)
		return rc;
	size_t k = out->n - before;
	if (e->shared && !found)
		shared_put(e->shared, hash, s, n, out->v + before, k);
	if (e->cache_used >= CACHE_SLOTS / 2 || e->kused + n > e->kcap ||
	    e->iused + k > e->icap) {
		cache_clear(e);
		for (slot = hash & (CACHE_SLOTS - 1); e->cache[slot].key_len;
		     slot = (slot + 1) & (CACHE_SLOTS - 1))
			;
	}
	struct cache_slot *c = &e->cache[slot];
	memcpy(e->karena + e->kused, s, n);
	memcpy(e->iarena + e->iused, out->v + before, k * sizeof(uint32_t));
	*c = (struct cache_slot){hash, (uint32_t)e->kused, (uint32_t)n,
				 (uint32_t)e->iused, (uint32_t)k};
	e->kused += n;
	e->iused += k;
	e->cache_used++;
	return 0;
}

static int encode_ordinary(nk_bpe_enc *e, const unsigned char *s, size_t n,
			   nk_bpe_ids *out)
{
	if (e->m) {
		for (size_t pos = 0; pos < n;) {
			long k = nk_pretok_re_next(e->m, s, n, pos);
			if (k < 0)
				return (int)-k;
			int rc = nk_bpe_encode_piece(e, s + pos, (size_t)k, out);
			if (rc)
				return rc;
			pos += (size_t)k;
		}
		return 0;
	}
	int kind = e->b->pretok;
	while (n) {
		size_t k = nk_pretok_next(kind, s, n);
		int rc = nk_bpe_encode_piece(e, s, k, out);
		if (rc)
			return rc;
		s += k;
		n -= k;
	}
	return 0;
}

/* Offset of the next occurrence of special i at or after `from` (n if
 * none). */
static size_t special_pos(const struct special *sp, const unsigned char *s,
			  size_t n, size_t from)
{
	const unsigned char *q = memmem(s + from, n - from, sp->text, sp->len);
	return q ? (size_t)(q - s) : n;
}

/* Special tokens are found by keeping each one's next occurrence and
 * searching again only for those the last match overtook, so the text is
 * scanned once per special token, not once per match. */
int nk_bpe_encode(nk_bpe_enc *e, const unsigned char *text, size_t n,
		  int special, nk_bpe_ids *out)
{
	const nk_bpe *b = e->b;
	size_t ns = b->n_spec;
	if (special == NK_SPECIAL_TEXT || ns == 0)
		return encode_ordinary(e, text, n, out);
	if (e->spos_cap < ns) {
		size_t *p = nk_reallocarray(e->spos, ns, sizeof *p);
		if (!p)
			return NK_ENOMEM;
		e->spos = p;
		e->spos_cap = ns;
	}
	size_t *pos = e->spos, done = 0;
	for (size_t i = 0; i < ns; i++)
		pos[i] = special_pos(&b->spec[i], text, n, 0);
	for (;;) {
		size_t best = 0;
		for (size_t i = 1; i < ns; i++)
			if (pos[i] < pos[best] || (pos[i] == pos[best] &&
			    b->spec[i].len > b->spec[best].len))
				best = i;
		size_t at = pos[best];
		if (at >= n)
			break;
		const struct special *sp = &b->spec[best];
		if (special == NK_SPECIAL_FAIL) {
			e->fail_off = at;
			return nk_error(NK_EFORMAT, "special token '%s' in the "
					"text (allow it, or encode it as text)",
					sp->text);
		}
		int rc = encode_ordinary(e, text + done, at - done, out);
		if (rc || (rc = nk_bpe_ids_push(out, sp->id)))
			return rc;
		done = at + sp->len;
		for (size_t i = 0; i < ns; i++)
			if (pos[i] < done)
				pos[i] = special_pos(&b->spec[i], text, n, done);
	}
	return encode_ordinary(e, text + done, n - done, out);
}

int nk_bpe_count(nk_bpe_enc *e, const unsigned char *text, size_t n,
		 int special, size_t *count)
{
	nk_bpe_ids ids = {0};
	int rc = nk_bpe_encode(e, text, n, special, &ids);
	*count = ids.n;
	nk_bpe_ids_free(&ids);
	return rc;
}
