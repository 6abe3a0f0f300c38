/* mlm_instances_text.c - the text form of instance streams: one instance
 * per line, five tab-separated fields (nnkit-mlm(5)):
 *
 *   RANDOM_NEXT \t NA \t IDS \t POSITIONS \t LABELS
 *
 * Every complaint names FILE:LINE:COLUMN, the column of the byte where
 * the line stopped making sense.
 */
#include "formats/mlm_instances_impl.h"

#include "core/base.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct cursor {
	nk_mlm_reader *r;
	const unsigned char *s;     /* the line */
	size_t len, i;
	unsigned long long line;
} cursor;

static int bad(cursor *c, int code, const char *what)
{
	return nk_mlmr_fail(c->r, code,
		"%s:%llu:%zu: %s", c->r->name, c->line, c->i + 1, what);
}

/* "expected X, found 'c'" at the cursor. */
static int expected(cursor *c, const char *x)
{
	char what[200], found[32];
	if (c->i >= c->len)
		snprintf(found, sizeof found, "the end of the line");
	else if (c->s[c->i] >= 0x20 && c->s[c->i] < 0x7f)
		snprintf(found, sizeof found, "'%c'", c->s[c->i]);
	else if (c->s[c->i] == '\t')
		snprintf(found, sizeof found, "a tab");
	else
		snprintf(found, sizeof found, "byte 0x%02x", c->s[c->i]);
	snprintf(what, sizeof what, "expected %s, found %s", x, found);
	return bad(c, NK_EFORMAT, what);
}

static int number(cursor *c, uint32_t *v, const char *x)
{
	if (c->i >= c->len || (unsigned)(c->s[c->i] - '0') >= 10)
		return expected(c, x);
	uint64_t acc = 0;
	size_t start = c->i;
	while (c->i < c->len && (unsigned)(c->s[c->i] - '0') < 10) {
		acc = acc * 10 + (unsigned)(c->s[c->i] - '0');
		if (acc > 0xFFFFFFFFu) {
			c->i = start;
			return bad(c, NK_ERANGE, "number does not fit 32 bits");
		}
		c->i++;
	}
	*v = (uint32_t)acc;
	return 0;
}

/* A tab, ending the field called `field`. */
static int tab(cursor *c, const char *field)
{
	char x[96];
	if (c->i < c->len && c->s[c->i] == '\t') {
		c->i++;
		return 0;
	}
	snprintf(x, sizeof x, "a tab after %s", field);
	return expected(c, x);
}

/* A list of at most `cap` numbers with single spaces, into r->arr from
 * *at on; it ends at a tab or the end of the line. */
static int list(cursor *c, size_t *at, uint32_t *count, uint32_t cap,
		const char *what)
{
	nk_mlm_reader *r = c->r;
	*count = 0;
	if (c->i >= c->len || c->s[c->i] == '\t')
		return 0;
	for (;;) {
		if (*count == cap) {
			char msg[160];
			snprintf(msg, sizeof msg, "more than %u %s", cap, what);
			return bad(c, NK_ERANGE, msg);
		}
		if (*at + 1 >= r->arr_cap && nk_mlmr_room(r, *at + 1, 0))
			return -r->err;
		if (number(c, &r->arr[*at], "a decimal number"))
			return -r->err;
		(*at)++;
		(*count)++;
		if (c->i >= c->len || c->s[c->i] == '\t')
			return 0;
		if (c->s[c->i] != ' ')
			return expected(c, "a space, a tab or the end of the "
					"line");
		c->i++;
	}
}

static int parse(cursor *c, nk_mlm_instance *in)
{
	nk_mlm_reader *r = c->r;
	uint32_t rnext, na, n, nm, nl, tmax = nk_mlmr_tmax(r);
	size_t at = 0;
	if (number(c, &rnext, "the random-next flag (0 or 1) in field 1"))
		return -r->err;
	if (rnext > 1) {
		c->i = 0;
		return bad(c, NK_EFORMAT, "random-next flag is not 0 or 1");
	}
	if (tab(c, "field 1"))
		return -r->err;
	size_t col_na = c->i;
	if (number(c, &na, "the number of type-0 tokens in field 2") ||
	    tab(c, "field 2"))
		return -r->err;
	size_t col_ids = c->i;
	if (list(c, &at, &n, tmax, "tokens in field 3"))
		return -r->err;
	if (n == 0) {
		c->i = col_ids;
		return expected(c, "token ids in field 3");
	}
	if (na > n) {
		char what[120];
		snprintf(what, sizeof what, "%u type-0 tokens (field 2) of %u",
			 na, n);
		c->i = col_na;
		return bad(c, NK_EFORMAT, what);
	}
	if (tab(c, "field 3 (the token ids)") ||
	    list(c, &at, &nm, n, "masked positions in field 4") ||
	    tab(c, "field 4 (the masked positions)"))
		return -r->err;
	size_t col_labels = c->i;
	if (list(c, &at, &nl, n, "labels in field 5"))
		return -r->err;
	if (c->i < c->len)
		return expected(c, "the end of the line after field 5");
	if (nl != nm) {
		char what[120];
		c->i = col_labels;
		snprintf(what, sizeof what, "%u labels for %u masked positions",
			 nl, nm);
		return bad(c, NK_EFORMAT, what);
	}
	if (nk_mlmr_room(r, n, nm))
		return -r->err;
	char where[320];
	snprintf(where, sizeof where, "%s:%llu:", r->name, c->line);
	return nk_mlmr_finish(r, in, n, na, nm, (int)rnext, where);
}

int nk_mlmr_text_next(nk_mlm_reader *r, nk_mlm_instance *in)
{
	size_t scan = 0, len;     /* bytes after p searched for '\n' */
	int had_nl = 0;
	for (;;) {
		size_t have = r->end - r->p;
		const unsigned char *nl = have > scan ?
			memchr(r->buf + r->p + scan, '\n', have - scan) : NULL;
		if (nl) {
			len = (size_t)(nl - (r->buf + r->p));
			had_nl = 1;
			break;
		}
		if (r->eof) {
			if (have == 0)
				return 0;
			len = have;
			break;
		}
		if (have > LINE_MAX_BYTES)
			return nk_mlmr_fail(r, NK_ERANGE,
				"%s:%llu: line longer than %zu bytes", r->name,
				(unsigned long long)r->count + 1,
				(size_t)LINE_MAX_BYTES);
		scan = have;
		if (nk_mlmr_fill(r, have + 1) < 0)
			return nk_mlmr_fail_lower(r, NK_EIO);
	}
	cursor c = {r, r->buf + r->p, len, 0, (unsigned long long)r->count + 1};
	if (len && c.s[len - 1] == '\r')
		c.len--;
	int rc = parse(&c, in);
	if (rc < 0)
		return rc;
	r->p += len + had_nl;
	return rc;
}

/* 1 when [p, e) is a list of decimal numbers with single spaces
 * between them (empty allowed). */
static int number_list(const unsigned char *p, const unsigned char *e)
{
	while (p < e) {
		if (!isdigit(*p))
			return 0;
		while (p < e && isdigit(*p))
			p++;
		if (p < e && (*p != ' ' || ++p == e))
			return 0;
	}
	return 1;
}

/* 1 when [p, e) is a whole line of nnkit-mlm(5)'s text form: five
 * tab-separated fields, 0 or 1, a count, one or more ids, and the
 * positions and labels (either may be empty). */
static int whole_line(const unsigned char *p, const unsigned char *e)
{
	if (e > p && e[-1] == '\r')
		e--;
	const unsigned char *f[6];
	int n = 0;
	f[n++] = p;
	for (const unsigned char *q = p; q < e; q++)
		if (*q == '\t') {
			if (n == 5)
				return 0;
			f[n++] = q + 1;
		}
	if (n != 5)
		return 0;
	f[5] = e + 1;
	for (int i = 0; i < 5; i++) {
		size_t len = (size_t)(f[i + 1] - 1 - f[i]);
		if ((i == 0 && (len != 1 || (*f[i] != '0' && *f[i] != '1'))) ||
		    (i <= 2 && !len) || !number_list(f[i], f[i] + len))
			return 0;
	}
	return 1;
}

/* An instance stream when the data begin with the binary form's magic
 * or their first line that is not blank is a whole instance line: text
 * or ids that merely start with a digit and hold a tab are not, and an
 * instance stream after a blank line still is (its reader then names
 * the blank line). */
int nk_mlm_is_instances(const unsigned char *data, size_t size)
{
	if (size >= 4 && memcmp(data, NK_MLM_MAGIC, 4) == 0)
		return 1;
	const unsigned char *p = data, *end = data + size;
	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *e = nl ? nl : end, *q = p;
		while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q < e)
			return whole_line(p, e);
		p = nl ? nl + 1 : end;
	}
	return 0;
}
