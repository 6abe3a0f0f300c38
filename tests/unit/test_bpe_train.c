/* test_bpe_train.c - BPE training against a reference trainer written
 * here to be obviously correct, not fast: before every merge it recounts
 * every adjacent pair of every piece, picks the best by the documented
 * rule (the higher count, then the lexicographically smaller left
 * token's bytes, then right token's bytes, a proper prefix being
 * smaller) and rewrites every piece left to right.  lib/text/bpe_train.c
 * keeps counts incrementally with a heap; both must give the same ranks,
 * on real text (tinyshakespeare, sotu) and on made-up text full of ties,
 * under each split pattern, a pattern of one's own, and several minimum
 * frequencies.  A hand-worked case pins the tie rule itself. */
#include "check.h"

#include "core/base.h"
#include "text/bpe.h"
#include "text/pretok.h"

#include <stdint.h>
#include <unistd.h>

#define DATA "../shared/data"

/* ---- the reference trainer ---- */

struct ref {
	uint32_t **sym;       /* each piece occurrence, as token ids */
	size_t *len, n;       /* its length; occurrences */
	unsigned char **tok;  /* token bytes by id */
	size_t *tlen, n_tok;
};

static void ref_add_piece(struct ref *R, const unsigned char *s, size_t n)
{
	R->sym = realloc(R->sym, (R->n + 1) * sizeof *R->sym);
	R->len = realloc(R->len, (R->n + 1) * sizeof *R->len);
	R->sym[R->n] = malloc((n ? n : 1) * sizeof **R->sym);
	for (size_t i = 0; i < n; i++)
		R->sym[R->n][i] = s[i];
	R->len[R->n++] = n;
}

/* Pieces of each line, split by `kind`, or by `m` when not NULL. */
static void ref_add_text(struct ref *R, int kind, nk_pretok_matcher *m,
			 const unsigned char *s, size_t n)
{
	for (size_t pos = 0; pos < n;) {
		size_t k = m ? (size_t)nk_pretok_re_next(m, s, n, pos)
			     : nk_pretok_next(kind, s + pos, n - pos);
		if (k == 0)
			k = 1;
		ref_add_piece(R, s + pos, k);
		pos += k;
	}
}

/* 1 when pair (a, b) goes before pair (c, d), at equal counts. */
static int ref_smaller(const struct ref *R, uint32_t a, uint32_t b,
		       uint32_t c, uint32_t d)
{
	uint32_t x[2] = {a, b}, y[2] = {c, d};
	for (int side = 0; side < 2; side++) {
		const unsigned char *p = R->tok[x[side]], *q = R->tok[y[side]];
		size_t lp = R->tlen[x[side]], lq = R->tlen[y[side]];
		for (size_t i = 0; i < lp && i < lq; i++)
			if (p[i] != q[i])
				return p[i] < q[i];
		if (lp != lq)
			return lp < lq;
	}
	return 0;
}

static void ref_train(struct ref *R, size_t vocab_size, uint64_t min_freq)
{
	R->tok = malloc(vocab_size * sizeof *R->tok);
	R->tlen = malloc(vocab_size * sizeof *R->tlen);
	for (int c = 0; c < 256; c++) {
		R->tok[c] = malloc(1);
		R->tok[c][0] = (unsigned char)c;
		R->tlen[c] = 1;
	}
	R->n_tok = 256;
	uint64_t *cnt = calloc(vocab_size * vocab_size, sizeof *cnt);
	while (R->n_tok < vocab_size) {
		size_t V = vocab_size;
		for (size_t w = 0; w < R->n; w++)
			for (size_t i = 0; i + 1 < R->len[w]; i++)
				cnt[R->sym[w][i] * V + R->sym[w][i + 1]]++;
		uint64_t best = 0;
		uint32_t ba = 0, bb = 0;
		for (size_t w = 0; w < R->n; w++)
			for (size_t i = 0; i + 1 < R->len[w]; i++) {
				uint32_t a = R->sym[w][i], b = R->sym[w][i + 1];
				uint64_t k = cnt[a * V + b];
				if (k > best || (k == best && ref_smaller(R, a, b, ba, bb))) {
					best = k;
					ba = a;
					bb = b;
				}
			}
		for (size_t w = 0; w < R->n; w++)
			for (size_t i = 0; i + 1 < R->len[w]; i++)
				cnt[R->sym[w][i] * V + R->sym[w][i + 1]] = 0;
		if (best == 0 || best < min_freq)
			break;
		/* The merged bytes; a token that has them already is reused. */
		size_t l = R->tlen[ba] + R->tlen[bb];
		unsigned char *t = malloc(l);
		memcpy(t, R->tok[ba], R->tlen[ba]);
		memcpy(t + R->tlen[ba], R->tok[bb], R->tlen[bb]);
		uint32_t c = (uint32_t)R->n_tok;
		for (uint32_t k = 0; k < R->n_tok; k++)
			if (R->tlen[k] == l && !memcmp(R->tok[k], t, l))
				c = k;
		if (c == R->n_tok) {
			R->tok[c] = t;
			R->tlen[c] = l;
			R->n_tok++;
		} else {
			free(t);
		}
		for (size_t w = 0; w < R->n; w++) {
			size_t o = 0;
			for (size_t i = 0; i < R->len[w]; i++) {
				if (i + 1 < R->len[w] && R->sym[w][i] == ba &&
				    R->sym[w][i + 1] == bb) {
					R->sym[w][o++] = c;
					i++;
				} else {
					R->sym[w][o++] = R->sym[w][i];
				}
			}
			R->len[w] = o;
		}
	}
	free(cnt);
}

static void ref_free(struct ref *R)
{
	for (size_t w = 0; w < R->n; w++)
		free(R->sym[w]);
	free(R->sym);
	free(R->len);
	for (size_t k = 0; k < R->n_tok; k++)
		free(R->tok[k]);
	free(R->tok);
	free(R->tlen);
	memset(R, 0, sizeof *R);
}

/* ---- the comparison ---- */

/* Trains both ways on text, line by line; checks every rank. `regex`
 * replaces kind when not NULL. */
static void compare(const char *what, const unsigned char *text, size_t n,
		    int kind, const char *regex, uint32_t vocab_size,
		    uint64_t min_freq)
{
	nk_bpe_trainer *t = nk_bpe_trainer_new(kind);
	CHECK(t != NULL);
	if (!t)
		return;
	nk_pretok_re *re = NULL;
	nk_pretok_matcher *m = NULL;
	if (regex) {
		CHECK(nk_bpe_trainer_set_regex(t, regex) == 0);
		re = nk_pretok_re_new(regex);
		m = re ? nk_pretok_matcher_new(re) : NULL;
		CHECK(m != NULL);
	}
	struct ref R = {0};
	for (size_t p = 0; p < n;) {
		const unsigned char *eol = memchr(text + p, '\n', n - p);
		size_t e = eol ? (size_t)(eol - text) : n;
		CHECK(nk_bpe_trainer_add(t, text + p, e - p) == 0);
		ref_add_text(&R, kind, m, text + p, e - p);
		p = e + 1;
	}
	nk_bpe *b = NULL;
	CHECK(nk_bpe_trainer_run(t, vocab_size, min_freq, NULL, NULL, &b) == 0);
	CHECK(!b || nk_bpe_finish(b, "trained") == 0);
	ref_train(&R, vocab_size, min_freq);
	if (b) {
		uint32_t nr = nk_bpe_n_ranks(b), first_bad = UINT32_MAX, bad = 0;
		for (uint32_t r = 0; r < nr && r < R.n_tok; r++) {
			size_t len;
			const unsigned char *tk = nk_bpe_token(b, r, &len);
			if (!tk || len != R.tlen[r] || memcmp(tk, R.tok[r], len)) {
				bad++;
				if (first_bad == UINT32_MAX)
					first_bad = r;
			}
		}
		CHECK_MSG(nr == R.n_tok && bad == 0,
			  "%s, %s, min-freq %llu: %u ranks, reference %zu; %u "
			  "differ, the first at rank %u", what,
			  regex ? "regex" : nk_pretok_name(kind),
			  (unsigned long long)min_freq, nr, R.n_tok, bad, first_bad);
	}
	nk_bpe_free(b);
	nk_bpe_trainer_free(t);
	nk_pretok_matcher_free(m);
	nk_pretok_re_free(re);
	ref_free(&R);
}

/* Made-up words of a few syllables: many pairs with equal counts, so
 * that the tie rule decides most merges; some syllables are prefixes of
 * others (the shorter token sorts first). */
static size_t make_text(unsigned char *buf, size_t cap, uint64_t seed)
{
	static const char *syl[] = {"a", "ab", "abc", "b", "ba", "ca", "ac",
				    "bb", "c", "\xc3\xa9", "\xc3\xa9t", "1",
				    "12", "'s", " ", "  ", "!"};
	size_t n = 0, ns = sizeof syl / sizeof *syl;
	while (n + 16 < cap) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t r = (uint32_t)(seed >> 33);
		if (r % 9 == 0) {
			buf[n++] = '\n';
			continue;
		}
		buf[n++] = ' ';
		for (uint32_t k = 0; k < 1 + r % 4; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			const char *s = syl[(seed >> 33) % ns];
			memcpy(buf + n, s, strlen(s));
			n += strlen(s);
		}
	}
	return n;
}

static const char *regex = "\\p{L}+|\\p{N}|[^\\p{L}\\p{N}]+";

/* Trains on lines split by nothing, every pair kept (min-freq 1), and
 * checks the ranks after the bytes against `want`, NULL-terminated. */
static void by_hand(const char *text, const char *const *want)
{
	nk_bpe_trainer *t = nk_bpe_trainer_new(NK_PRETOK_NONE);
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		CHECK(nk_bpe_trainer_add(t, (const unsigned char *)p,
					 (size_t)(e - p)) == 0);
		p = e + 1;
	}
	uint32_t nw = 0;
	while (want[nw])
		nw++;
	nk_bpe *b = NULL;
	CHECK(nk_bpe_trainer_run(t, 256 + nw, 1, NULL, NULL, &b) == 0);
	CHECK(!b || nk_bpe_finish(b, "trained") == 0);
	CHECK(b && nk_bpe_n_ranks(b) == 256 + nw);
	for (uint32_t i = 0; b && i < nw && i + 256 < nk_bpe_n_ranks(b); i++) {
		size_t len;
		const unsigned char *tk = nk_bpe_token(b, 256 + i, &len);
		CHECK_MSG(tk && len == strlen(want[i]) && !memcmp(tk, want[i], len),
			  "'%s': rank %u is '%.*s', want '%s'", text, 256 + i,
			  (int)len, tk ? (const char *)tk : "", want[i]);
	}
	nk_bpe_free(b);
	nk_bpe_trainer_free(t);
}

/* The rule worked by hand, every count 1:
 *   "xy", "ab": (a,b) before (x,y), a < x.
 *   "abx", "ay": (a,b) before (b,x) (a < b) and (a,y) (same left, b < y);
 *   then (a,y) before (ab,x): "a" is a prefix of "ab", so smaller. */
TEST(train_tie_rule_by_hand)
{
	by_hand("xy\nab\n", (const char *const[]){"ab", "xy", NULL});
	by_hand("abx\nay\n", (const char *const[]){"ab", "ay", "abx", NULL});
	/* Counts first: "zz" twice beats "ab" once. */
	by_hand("ab\nzz\nzz\n", (const char *const[]){"zz", "ab", NULL});
	const char *t = "ab\nab\nabc\nbc\nbc\nzab\nzb\n";
	compare("by hand", (const unsigned char *)t, strlen(t), NK_PRETOK_NONE,
		NULL, 270, 1);
}

TEST(train_matches_reference_made_up)
{
	static unsigned char text[60000];
	int kinds[] = {NK_PRETOK_R50K, NK_PRETOK_CL100K, NK_PRETOK_O200K,
		       NK_PRETOK_NONE};
	for (uint64_t seed = 1; seed <= 3; seed++) {
		size_t n = make_text(text, seed == 3 ? 4000 : sizeof text, seed);
		for (int k = 0; k < 4; k++)
			compare("made-up text", text, n, kinds[k], NULL,
				kinds[k] == NK_PRETOK_NONE ? 400 : 500,
				seed == 2 ? 1 : 2);
		compare("made-up text", text, n, NK_PRETOK_O200K, regex, 500, 3);
	}
}

/* The first `cap` bytes of a shared file, cut at a line; 0 when absent. */
static size_t load(const char *path, unsigned char *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return 0;
	size_t n = fread(buf, 1, cap, fp);
	fclose(fp);
	while (n && buf[n - 1] != '\n')
		n--;
	return n;
}

static unsigned char corpus[120000];
static size_t corpus_n;

static void real_text(const char *file, const int *kinds, int nk)
{
	for (int k = 0; k < nk; k++)
		compare(file, corpus, corpus_n, kinds[k], NULL, 256 + 400, 2);
	compare(file, corpus, corpus_n, NK_PRETOK_CL100K, regex, 256 + 300, 1);
}

TEST(train_matches_reference_tinyshakespeare)
{
	int kinds[] = {NK_PRETOK_R50K, NK_PRETOK_O200K};
	real_text("tinyshakespeare", kinds, 2);
}

TEST(train_matches_reference_sotu)
{
	int kinds[] = {NK_PRETOK_CL100K, NK_PRETOK_NONE};
	real_text("sotu", kinds, 2);
}

/* A group whose input is missing is SKIP, never PASS. */
#define RUN_WITH(name, file)                                                  \
	do {                                                                  \
		if (!(corpus_n = load(DATA "/" file, corpus, sizeof corpus)))  \
			nk_test_skip(#name, DATA "/" file " is absent");      \
		else                                                          \
			RUN(name);                                            \
	} while (0)

int main(void)
{
	RUN(train_tie_rule_by_hand);
	RUN(train_matches_reference_made_up);
	RUN_WITH(train_matches_reference_tinyshakespeare, "tinyshakespeare.txt");
	RUN_WITH(train_matches_reference_sotu, "sotu.txt");
	return nk_test_exit();
}
