/* intlist.c - the streaming integer-list parser (see intlist.h).
 *
 * One pass over each chunk with a byte-class table and a sentinel byte
 * after the data, so the inner loops test only the byte they look at: the
 * end of the chunk is noticed when the sentinel (classed "bad") is reached,
 * which is rare.  Digits accumulate into a uint64_t that is kept below
 * 2^63 + 10 by one comparison per digit, so nothing overflows and no
 * strtoll call is made per number; while the value is below 10^11 the
 * next eight bytes are taken in one step (swar_digits), which on the
 * benchmark's 9- and 10-digit numbers leaves the byte loop a digit or
 * none.  The smallest and largest value are noted as values are stored,
 * for nk_lcs_bounded.  A number cut by the end of a chunk is
 * carried as its partial value (sign, digits so far, where it started),
 * so a token of any length, leading zeros included, needs no buffer.
 */
#include "algo/intlist.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/base.h"

#define DEFAULT_CHUNK (256 * 1024)

/* floor(2^63 / 10): an accumulator above it cannot take another digit
 * without leaving the int64_t range, whatever the sign. */
#define ACC_LIMIT 922337203685477580ULL

enum { C_BAD, C_DIGIT, C_BLANK, C_NL, C_COMMA, C_LBR, C_RBR, C_SIGN };
enum { P_NONE, P_NUM, P_COMMA, P_LBR, P_RBR };

static const unsigned char byte_class[256] = {
	[' '] = C_BLANK, ['\t'] = C_BLANK, ['\r'] = C_BLANK,
	['\v'] = C_BLANK, ['\f'] = C_BLANK, ['\n'] = C_NL,
	[','] = C_COMMA, ['['] = C_LBR, [']'] = C_RBR,
	['-'] = C_SIGN, ['+'] = C_SIGN,
	['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT,
	['4'] = C_DIGIT, ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT,
	['8'] = C_DIGIT, ['9'] = C_DIGIT,
};

int nk_intlist_init(nk_intlist *p, int per_line, nk_intlist_line_fn fn,
		    void *ctx)
{
	memset(p, 0, sizeof *p);
	if (per_line && !fn)
		return nk_error(NK_EINVAL, "intlist: per-line mode needs a callback");
	p->per_line = per_line;
	p->on_line = fn;
	p->ctx = ctx;
	p->lo = INT64_MAX;
	p->hi = INT64_MIN;
	return NK_OK;
}

void nk_intlist_free(nk_intlist *p)
{
	free(p->v);
	free(p->buf);
	p->v = NULL;
	p->buf = NULL;
	p->n = p->cap = p->room = p->buf_cap = 0;
	p->lo = INT64_MAX;
	p->hi = INT64_MIN;
}

static void begin(nk_intlist *p, const char *name)
{
	p->name = name;
	p->base = 0;
	p->line = 1;
	p->line_start = 0;
	p->prev = P_NONE;
	p->in_bracket = 0;
	p->in_num = 0;
	if (p->per_line) {
		p->n = 0;
		p->lo = INT64_MAX;
		p->hi = INT64_MIN;
	}
}

static int fail_at(nk_intlist *p, unsigned long long off, const char *what)
{
	return nk_error(NK_EFORMAT, "%s:%llu:%llu: %s", p->name, p->line,
			off - p->line_start + 1, what);
}

static int fail_byte(nk_intlist *p, unsigned long long off, unsigned c)
{
	if (c > 0x20 && c < 0x7f)
		return nk_error(NK_EFORMAT, "%s:%llu:%llu: unexpected character '%c'",
				p->name, p->line, off - p->line_start + 1, c);
	return nk_error(NK_EFORMAT, "%s:%llu:%llu: unexpected byte 0x%02x",
			p->name, p->line, off - p->line_start + 1, c);
}

static int fail_bracket(nk_intlist *p)
{
	return nk_error(NK_EFORMAT, "%s:%llu:%llu: unterminated '['", p->name,
			p->bracket_line, p->bracket_col);
}

static int grow(nk_intlist *p)
{
	return nk_grow((void **)&p->v, &p->cap, p->cap ? p->cap + 1 : 512,
		       sizeof *p->v);
}

/* Once the array is large its pages are asked for a window at a time
 * (MADV_POPULATE_WRITE) rather than faulted in one by one as the values
 * arrive: on the benchmark's 5 M numbers (a 40 MB array) the 10,000 page
 * faults were a third of the parse, and one call per 256 pages costs a
 * little over half as much.  Only a hint: an older kernel refuses it and the
 * pages come by faults as before. */
#define POPULATE_MIN (4u << 20)
#define POPULATE_WINDOW (1u << 20)

/* 2 MB pages, where the kernel gives them for the asking (transparent huge
 * pages in "madvise" mode, Debian's default), cost a tenth of 4 KB ones to
 * touch: 40 MB of fresh memory took 180-270 ms of CPU in 4 KB pages, 90-100
 * ms populated a window at a time, 9-12 ms in huge pages asked for and
 * populated (2-core EPYC VM, whose page faults are dear).  But only in an
 * array that stays where it is: a realloc that moves one (mremap) splits
 * them, and an array that doubled its way to 40 MB with the hint took
 * 330 ms against 115 without.  So they are asked for only over an array
 * sized once by nk_intlist_reserve. */
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void advise_huge(nk_intlist *p)
{
#ifdef MADV_HUGEPAGE
	uintptr_t a = ((uintptr_t)p->v + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t b = (uintptr_t)(p->v + p->cap) & ~(HUGE_PAGE - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
#endif
}

int nk_intlist_reserve(nk_intlist *p, size_t more)
{
	size_t need;
	if (nk_size_add(&need, p->n, more) || need <= p->cap ||
	    need > SIZE_MAX / sizeof *p->v)
		return NK_OK;
	/* Not past the machine's memory: values that many could not be held
	 * anyway, and a sanitizer's allocator aborts on such a request
	 * rather than refusing it. */
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	if (pages > 0 && page > 0 &&
	    need / (size_t)page > (size_t)pages / sizeof *p->v)
		return NK_OK;
	/* A hint: when the memory is refused, growth goes on as before. */
	int64_t *v = realloc(p->v, need * sizeof *v);
	if (!v)
		return NK_OK;
	p->v = v;
	p->cap = need;
	p->room = p->n; /* the next value calls make_room, which populates */
	if (need * sizeof *v >= POPULATE_MIN)
		advise_huge(p);
	return NK_OK;
}

/* Makes p->v[p->n] writable: grows the array when it is full, then sets
 * p->room, the count the parser may fill before calling again (the
 * capacity, or the end of the window just populated). */
static int make_room(nk_intlist *p)
{
	int rc;
	if (p->n == p->cap && (rc = grow(p)))
		return rc;
	size_t room = p->cap;
#ifdef MADV_POPULATE_WRITE
	if (p->cap * sizeof *p->v >= POPULATE_MIN) {
		size_t win = POPULATE_WINDOW / sizeof *p->v;
		if (p->cap - p->n > win)
			room = p->n + win;
		/* From the start of the page that holds v[n]: madvise wants
		 * a page boundary, and that page is the array's. */
		uintptr_t a = (uintptr_t)(p->v + p->n) & ~(uintptr_t)4095;
		uintptr_t b = (uintptr_t)(p->v + room);
		(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
	}
#endif
	p->room = room;
	return NK_OK;
}

/* Digits eight at a time (SWAR) on a little-endian machine.  The chunk's
 * buffer has SWAR_PAD bytes after its sentinel, zeroed when allocated, so
 * eight bytes may be loaded wherever the parser stands (at most at the
 * sentinel). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#else
#define SWAR 0
#endif
#define SWAR_PAD 7
#define SWAR_ACC_MAX 100000000000ULL

static const uint64_t pow10[9] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

/* Takes the digits among the 8 bytes at s (up to the first non-digit)
 * into *acc and returns how many there were (0-8). */
static inline int swar_digits(const unsigned char *s, uint64_t *acc)
{
	uint64_t x;
	memcpy(&x, s, sizeof x);
	x ^= 0x3030303030303030ULL; /* a digit's byte becomes its value */
	/* A byte is no digit when its high nibble is set now, or becomes set
	 * when 6 is added (values 10-15).  A carry out of a byte can only
	 * come from a non-digit and only spoils the bytes after it. */
	uint64_t bad = (x | (x + 0x0606060606060606ULL)) & 0xF0F0F0F0F0F0F0F0ULL;
	int k = bad ? __builtin_ctzll(bad) >> 3 : 8;
	if (k == 0)
		return 0;
	/* The k digits to the top, the first (most significant) lowest:
	 * leading zeros below, then pairs, quads and the eight combined by
	 * multiplies (the method of simdjson's parse_eight_digits). */
	x <<= 64 - 8 * k;
	x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
	x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
	x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
	*acc = *acc * pow10[k] + x;
	return k;
}

/* acc is at most 2^63 here (checked by the caller). */
static inline int64_t make_value(uint64_t acc, int neg)
{
	if (!neg)
		return (int64_t)acc;
	return acc ? -(int64_t)(acc - 1) - 1 : 0;
}

/* Parses buf[0..len) (buf[len] is writable: the sentinel goes there).
 * The hot state lives in locals and is written back on every exit. */
static int feed(nk_intlist *p, unsigned char *buf, size_t len)
{
	const unsigned char *s = buf, *const end = buf + len;
	unsigned long long base = p->base, tok_off = 0;
	int64_t *v = p->v;
	size_t n = p->n, room = p->room;
	int64_t lo = p->lo, hi = p->hi;
	int prev = p->prev, neg = 0, rc = NK_OK;
	uint64_t acc = 0;
	unsigned c, d;

	buf[len] = 0; /* C_BAD: stops every loop at the end */
	if (p->in_num) {
		acc = p->acc;
		neg = p->neg;
		tok_off = p->tok_off;
		p->in_num = 0;
		if (p->digits)
			goto digits;
		goto sign;
	}
	for (;;) {
		c = *s;
		if ((d = c - '0') < 10) {
			tok_off = base + (unsigned long long)(s - buf);
			neg = 0;
			acc = d;
			s++;
			goto digits;
		}
		/* The commonest separators and sign ahead of the table's
		 * switch, whose indirect jump costs ten instructions a byte
		 * (cachegrind: 10% of the parse on one long line, 13% on one
		 * number per line). */
		if (c == ' ') {
			s++;
			continue;
		}
		if (c == '\n' && !p->per_line) {
			p->line++;
			p->line_start = base + (unsigned long long)(s - buf) + 1;
			s++;
			continue;
		}
		if (c == '-') {
			tok_off = base + (unsigned long long)(s - buf);
			neg = 1;
			acc = 0;
			s++;
			goto sign;
		}
		switch (byte_class[c]) {
		case C_BLANK:
			s++;
			continue;
		case C_COMMA:
			if (prev != P_NUM) {
				rc = fail_at(p, base + (unsigned long long)(s - buf),
					     prev == P_COMMA ? "expected a number, found ','"
							     : "',' without a number before it");
				goto out;
			}
			prev = P_COMMA;
			s++;
			continue;
		case C_NL:
			if (p->per_line) {
				if (prev == P_COMMA) {
					rc = fail_at(p, base + (unsigned long long)(s - buf),
						     "expected a number after ',', found end of line");
					goto out;
				}
				if (p->in_bracket) {
					rc = fail_bracket(p);
					goto out;
				}
				p->v = v, p->n = n;
				p->lo = lo, p->hi = hi;
				if ((rc = p->on_line(p->ctx, v, n, p->line)))
					goto out;
				n = 0;
				lo = INT64_MAX;
				hi = INT64_MIN;
				prev = P_NONE;
			}
			p->line++;
			p->line_start = base + (unsigned long long)(s - buf) + 1;
			s++;
			continue;
		case C_LBR:
			if (p->in_bracket) {
				rc = fail_at(p, base + (unsigned long long)(s - buf),
					     "nested '[' (only one level of brackets)");
				goto out;
			}
			if (prev == P_COMMA) {
				rc = fail_at(p, base + (unsigned long long)(s - buf),
					     "expected a number, found '['");
				goto out;
			}
			p->in_bracket = 1;
			p->bracket_line = p->line;
			p->bracket_col = base + (unsigned long long)(s - buf) -
					 p->line_start + 1;
			prev = P_LBR;
			s++;
			continue;
		case C_RBR:
			if (!p->in_bracket) {
				rc = fail_at(p, base + (unsigned long long)(s - buf),
					     "unmatched ']'");
				goto out;
			}
			if (prev == P_COMMA) {
				rc = fail_at(p, base + (unsigned long long)(s - buf),
					     "expected a number, found ']'");
				goto out;
			}
			p->in_bracket = 0;
			prev = P_RBR;
			s++;
			continue;
		case C_SIGN:
			tok_off = base + (unsigned long long)(s - buf);
			neg = c == '-';
			acc = 0;
			s++;
			goto sign;
		default:
			if (s == end)
				goto out;
			rc = fail_byte(p, base + (unsigned long long)(s - buf), c);
			goto out;
		}
	sign:
		if ((d = *s - '0') >= 10) {
			if (s == end) {
				p->in_num = 1;
				p->digits = 0;
				goto save_num;
			}
			rc = fail_at(p, tok_off, neg ? "expected a digit after '-'"
						     : "expected a digit after '+'");
			goto out;
		}
		acc = d;
		s++;
	digits:
		/* Up to eight digits in one step while the value is far from
		 * the overflow check below (acc < 10^11: acc * 10^8 + 99999999
		 * fits 64 bits); the byte loop takes what is left, with the
		 * exact check.  One step, not a loop: a second would mostly
		 * find no digit (the benchmark's numbers have 9 or 10, the
		 * first taken above), and cost 22% more instructions. */
		if (SWAR && acc < SWAR_ACC_MAX)
			s += swar_digits(s, &acc);
		while ((d = *s - '0') < 10) {
			if (acc > ACC_LIMIT) {
				rc = fail_at(p, tok_off, "integer out of 64-bit range");
				goto out;
			}
			acc = acc * 10 + d;
			s++;
		}
		if (s == end) {
			p->in_num = 1;
			p->digits = 1;
			goto save_num;
		}
		if (acc > (uint64_t)INT64_MAX + (unsigned)neg) {
			rc = fail_at(p, tok_off, "integer out of 64-bit range");
			goto out;
		}
		c = byte_class[*s];
		if (c == C_SIGN || c == C_BAD) {
			rc = fail_byte(p, base + (unsigned long long)(s - buf), *s);
			goto out;
		}
		if (n == room) {
			p->v = v, p->n = n;
			if ((rc = make_room(p)))
				goto out;
			v = p->v, room = p->room;
		}
		int64_t x = make_value(acc, neg);
		v[n++] = x;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
		prev = P_NUM;
	}
save_num:
	p->acc = acc;
	p->neg = neg;
	p->tok_off = tok_off;
out:
	p->v = v, p->n = n;
	p->lo = lo, p->hi = hi;
	p->prev = prev;
	p->base = base + len;
	return rc;
}

/* The end of the input: what was cut, opened or owed must be settled. */
static int finish(nk_intlist *p)
{
	int rc;
	if (p->in_num) {
		p->in_num = 0;
		if (!p->digits)
			return fail_at(p, p->tok_off, p->neg ? "expected a digit after '-'"
							     : "expected a digit after '+'");
		if (p->acc > (uint64_t)INT64_MAX + (unsigned)p->neg)
			return fail_at(p, p->tok_off, "integer out of 64-bit range");
		if (p->n == p->room && (rc = make_room(p)))
			return rc;
		int64_t x = make_value(p->acc, p->neg);
		p->v[p->n++] = x;
		p->lo = x < p->lo ? x : p->lo;
		p->hi = x > p->hi ? x : p->hi;
		p->prev = P_NUM;
	}
	if (p->prev == P_COMMA)
		return fail_at(p, p->base,
			       "expected a number after ',', found end of input");
	if (p->in_bracket)
		return fail_bracket(p);
	if (p->per_line && p->base > p->line_start) {
		rc = p->on_line(p->ctx, p->v, p->n, p->line);
		p->n = 0;
		p->lo = INT64_MAX;
		p->hi = INT64_MIN;
		return rc;
	}
	return NK_OK;
}

static int reserve_buf(nk_intlist *p, size_t chunk)
{
	size_t need;
	if (nk_size_add(&need, chunk, 1 + SWAR_PAD))
		return NK_ENOMEM;
	if (p->buf && p->buf_cap >= need)
		return NK_OK;
	unsigned char *b = nk_calloc(need, 1);
	if (!b)
		return NK_ENOMEM;
	free(p->buf);
	p->buf = b;
	p->buf_cap = need;
	return NK_OK;
}

int nk_intlist_read(nk_intlist *p, nk_reader *r)
{
	size_t chunk = p->chunk ? p->chunk : DEFAULT_CHUNK;
	int rc;
	if ((rc = reserve_buf(p, chunk)))
		return rc;
	begin(p, nk_reader_name(r));
	for (;;) {
		ssize_t got = nk_reader_read(r, p->buf, chunk);
		if (got < 0)
			return NK_EIO;
		if (got == 0)
			break;
		if ((rc = feed(p, p->buf, (size_t)got)))
			return rc;
	}
	return finish(p);
}

int nk_intlist_parse(nk_intlist *p, const char *name, const void *data,
		     size_t size, size_t chunk)
{
	const unsigned char *src = data;
	int rc;
	if (chunk == 0 || chunk > size)
		chunk = size ? size : 1;
	if ((rc = reserve_buf(p, chunk)))
		return rc;
	begin(p, name);
	for (size_t off = 0; off < size; off += chunk) {
		size_t len = size - off < chunk ? size - off : chunk;
		memcpy(p->buf, src + off, len);
		if ((rc = feed(p, p->buf, len)))
			return rc;
	}
	return finish(p);
}
