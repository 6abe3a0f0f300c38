/* test_bpe.c - BPE encode/decode against tiktoken's TestPlans, the rank
 * file parser on bad input, the O(n log n) merge against a naive one,
 * round trips on random bytes, and the worst cases' running time.
 *
 * A group that needs a rank file of ../shared/data/tiktoken runs only
 * when it is there (run_enc) and says SKIP otherwise, never PASS; the
 * naive-merge check also runs on a vocabulary trained here, so that the
 * encoder's tie rule is checked without the shared data. */
#include "check.h"

#include "core/base.h"
#include "text/bpe.h"
#include "text/pretok.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define DATA "../shared/data/tiktoken"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* The encoding the running group is about (run_enc). */
static const char *cur_enc = "cl100k_base";

/* Opens an encoding that run_enc found: failing to is the group's FAIL. */
static nk_bpe *open_enc(const char *name)
{
	char rp[256];
	snprintf(rp, sizeof rp, DATA "/%s.tiktoken", name);
	nk_bpe *b = NULL;
	int rc = nk_bpe_open(&b, rp, NULL);
	CHECK_MSG(rc == 0, "open %s: %s", rp, nk_last_error());
	return rc ? NULL : b;
}

/* Runs group fn about encoding enc, named "group" or "group-enc"; SKIP
 * when the encoding's rank file is absent. */
static void run_enc(void (*fn)(void), const char *group, const char *enc,
		    int suffix)
{
	static char name[128], path[256];
	if (suffix)
		snprintf(name, sizeof name, "%s-%s", group, enc);
	else
		snprintf(name, sizeof name, "%s", group);
	snprintf(path, sizeof path, DATA "/%s.tiktoken", enc);
	if (access(path, R_OK) != 0) {
		nk_test_skip(name, "../shared/data/tiktoken is absent");
		return;
	}
	cur_enc = enc;
	nk_test_begin(name);
	fn();
	nk_test_end();
}
#define RUN_ENC(fn, enc) run_enc(fn, #fn, enc, 0)

/* Decodes ids into buf; returns length or -1 on an unknown id. */
static long decode(const nk_bpe *b, const uint32_t *ids, size_t n,
		   unsigned char *buf, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const unsigned char *t = nk_bpe_token(b, ids[i], &len);
		if (!t || o + len > cap)
			return -1;
		memcpy(buf + o, t, len);
		o += len;
	}
	return (long)o;
}

static void testplans(const char *enc)
{
	char gname[64];
	snprintf(gname, sizeof gname, "testplans-%s", enc);
	char rp[256];
	snprintf(rp, sizeof rp, DATA "/%s.tiktoken", enc);
	FILE *fp = fopen(DATA "/TestPlans.txt", "r");
	if (!fp || access(rp, R_OK) != 0) {
		nk_test_skip(gname, "../shared/data/tiktoken is absent");
		if (fp)
			fclose(fp);
		return;
	}
	nk_test_begin(gname);
	nk_bpe *b = open_enc(enc);
	if (!b) {
		nk_test_end();
		fclose(fp);
		return;
	}
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	char *line = NULL, *sample = NULL;
	size_t cap = 0;
	ssize_t len;
	int cur = 0, cases = 0;
	nk_bpe_ids ids = {0};
	static unsigned char back[1 << 16];
	while ((len = getline(&line, &cap, fp)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (!strncmp(line, "EncodingName: ", 14)) {
			cur = strcmp(line + 14, enc) == 0;
		} else if (cur && !strncmp(line, "Sample: ", 8)) {
			free(sample);
			sample = strdup(line + 8);
		} else if (cur && !strncmp(line, "Encoded: [", 10)) {
			ids.n = 0;
			CHECK(nk_bpe_encode(e, (unsigned char *)sample,
					    strlen(sample), NK_SPECIAL_TEXT,
					    &ids) == 0);
			char *p = line + 10;
			size_t k = 0;
			int ok = 1;
			while (*p && *p != ']') {
				unsigned long v = strtoul(p, &p, 10);
				if (k >= ids.n || ids.v[k] != v)
					ok = 0;
				k++;
				while (*p == ',' || *p == ' ')
					p++;
			}
			ok = ok && k == ids.n;
			CHECK_MSG(ok, "%s: '%s' encodes differently", enc, sample);
			long n = decode(b, ids.v, ids.n, back, sizeof back);
			CHECK_MSG(n == (long)strlen(sample) &&
				  !memcmp(back, sample, (size_t)n),
				  "%s: '%s' does not decode back", enc, sample);
			cases++;
		}
	}
	CHECK_MSG(cases > 50, "only %d cases for %s", cases, enc);
	printf("# %s: %d TestPlans cases\n", enc, cases);
	nk_test_end();
	free(line);
	free(sample);
	nk_bpe_ids_free(&ids);
	nk_bpe_enc_free(e);
	nk_bpe_free(b);
	fclose(fp);
}

TEST(base64)
{
	unsigned char out[16];
	char enc[32];
	for (size_t n = 0; n < 10; n++) {
		unsigned char in[10];
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)rnd();
		size_t k = nk_b64_encode(enc, in, n);
		CHECK(k == 4 * ((n + 2) / 3));
		CHECK(nk_b64_decode(out, enc, k) == (long)n);
		CHECK(memcmp(out, in, n) == 0);
	}
	CHECK(nk_b64_decode(out, "IQ==", 4) == 1 && out[0] == '!');
	CHECK(nk_b64_decode(out, "IR==", 4) == -1);  /* non-canonical */
	CHECK(nk_b64_decode(out, "I===", 4) == -1);
	CHECK(nk_b64_decode(out, "IQ=", 3) == -1);
	CHECK(nk_b64_decode(out, "I*==", 4) == -1);
	CHECK(nk_b64_decode(out, "=QQQ", 4) == -1);
}

/* A rank file with the 256 bytes and `extra` lines appended. */
static int load_text(const char *extra, const char *want_err)
{
	char *buf = malloc(1 << 16);
	size_t o = 0;
	for (int c = 0; c < 256; c++) {
		unsigned char byte = (unsigned char)c;
		char e[8];
		size_t k = nk_b64_encode(e, &byte, 1);
		memcpy(buf + o, e, k);
		o += k;
		o += (size_t)sprintf(buf + o, " %d\n", c);
	}
	o += (size_t)sprintf(buf + o, "%s", extra);
	nk_bpe *b = nk_bpe_new();
	int rc = nk_bpe_load_ranks(b, (unsigned char *)buf, o, "v.tiktoken");
	if (!rc)
		rc = nk_bpe_finish(b, "v.tiktoken");
	int ok = want_err ? rc != 0 && strstr(nk_last_error(), want_err) != NULL
			  : rc == 0;
	if (!ok)
		printf("# load '%s': rc %d, '%s'\n", extra, rc, nk_last_error());
	nk_bpe_free(b);
	free(buf);
	return ok;
}

TEST(rank_file_errors)
{
	CHECK(load_text("", NULL));
	CHECK(load_text("YWI= 256\n", NULL));                   /* "ab" */
	CHECK(load_text("YWI= 256", NULL));                     /* no final \n */
	CHECK(load_text("YWJj 256", NULL));             /* whole quad, no \n */
	CHECK(load_text("YWJj 256\nYWJjZA== 257\n", NULL));
	CHECK(load_text("YWJ= 256\n", "v.tiktoken:257:1: bad base64"));
	CHECK(load_text("YQ= 256\n", "v.tiktoken:257:1: bad base64"));
	CHECK(load_text("YWI= 256 \n", "v.tiktoken:257:9: bad rank"));
	CHECK(load_text("YWI= 256\nYWI= 257", "line 257)"));
	CHECK(load_text("YW*= 256\n", "v.tiktoken:257:1: bad base64"));
	CHECK(load_text("YWI= 255\n", "v.tiktoken:257: duplicate rank 255"));
	CHECK(load_text("YWI= 256\nYWI= 257\n", "duplicate token"));
	CHECK(load_text("YWI= 258\n", "rank 258 out of range"));
	CHECK(load_text("YWI= 256\nYWM= 258\n", "out of range"));
	CHECK(load_text("YWI=256\n", "expected 'BASE64 RANK'"));
	CHECK(load_text("YWI= 25x\n", "v.tiktoken:257:8: bad rank"));
	CHECK(load_text("YWI= 0256\n", "bad rank"));
	CHECK(load_text("\n", "v.tiktoken:257: empty line"));
	/* A missing byte: rank 10 holds "ab" instead of "\n". */
	nk_bpe *b = nk_bpe_new();
	const char *t = "YQ== 0\nYWI= 1\n";
	CHECK(nk_bpe_load_ranks(b, (const unsigned char *)t, strlen(t), "x") == 0);
	CHECK(nk_bpe_finish(b, "x") == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "no token for the byte 0x00") != NULL);
	nk_bpe_free(b);
}

/* The rank table a file gives through nk_bpe_load_ranks (its one-pass
 * reader, for ranks in line order) equals the one built from
 * nk_tiktoken_parse's tokens: the same bytes for every rank, and every
 * token found at its rank. */
static void same_table(const unsigned char *data, size_t n, const char *what)
{
	nk_bpe *a = nk_bpe_new(), *g = NULL;
	nk_tiktoken t;
	int ra = nk_bpe_load_ranks(a, data, n, what);
	CHECK_MSG(ra == 0, "%s: %s", what, nk_last_error());
	int rt = nk_tiktoken_parse(&t, data, n, what);
	CHECK_MSG(rt == 0, "%s: %s", what, nk_last_error());
	if (!ra && !rt) {
		CHECK(nk_bpe_build(&g, t.tok, t.len, t.n, NK_PRETOK_NONE) == 0);
		CHECK(nk_bpe_n_ranks(a) == t.n && nk_bpe_n_ranks(g) == t.n);
		size_t bad = 0;
		for (uint32_t r = 0; g && r < t.n; r++) {
			size_t la, lg;
			const unsigned char *pa = nk_bpe_token(a, r, &la);
			const unsigned char *pg = nk_bpe_token(g, r, &lg);
			uint32_t q = UINT32_MAX;
			if (!pa || !pg || la != lg || la != t.len[r] ||
			    memcmp(pa, t.tok[r], la) || memcmp(pg, t.tok[r], lg) ||
			    nk_bpe_rank(a, t.tok[r], t.len[r], &q) || q != r)
				bad++;
		}
		CHECK_MSG(bad == 0, "%s: %zu of %u ranks differ", what, bad, t.n);
		nk_tiktoken_free(&t);
	}
	nk_bpe_free(a);
	nk_bpe_free(g);
}

TEST(rank_file_one_pass)
{
	/* Random distinct tokens of 1-40 bytes (every padding case), in
	 * rank order, with and without a final newline, then shuffled
	 * (which the general path reads). */
	enum { N = 3000 };
	char *buf = malloc((size_t)N * 80);
	unsigned char tok[40];
	size_t o = 0;
	for (uint32_t r = 0; r < N; r++) {
		size_t len = r < 256 ? 1 : 2 + rnd() % 39;
		for (size_t i = 0; i < len; i++)
			tok[i] = (unsigned char)rnd();
		if (r < 256)
			tok[0] = (unsigned char)r;
		else
			memcpy(tok, &r, 2); /* distinct by their first bytes */
		o += nk_b64_encode(buf + o, tok, len);
		o += (size_t)sprintf(buf + o, " %u\n", r);
	}
	same_table((unsigned char *)buf, o, "random");
	same_table((unsigned char *)buf, o - 1, "random, no final newline");
	/* The first two lines swapped: ranks out of line order. */
	char *sw = malloc(o + 1);
	const char *l2 = strchr(buf, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
	size_t k = 0;
	memcpy(sw + k, l2, (size_t)(l3 - l2));
	k += (size_t)(l3 - l2);
	memcpy(sw + k, buf, (size_t)(l2 - buf));
	k += (size_t)(l2 - buf);
	memcpy(sw + k, l3, o - (size_t)(l3 - buf));
	same_table((unsigned char *)sw, o, "swapped");
	free(sw);
	free(buf);
	/* The published encodings, where present. */
	const char *enc[] = {"r50k_base", "cl100k_base", "o200k_base"};
	for (size_t i = 0; i < 3; i++) {
		char path[256];
		snprintf(path, sizeof path, DATA "/%s.tiktoken", enc[i]);
		FILE *fp = fopen(path, "rb");
		if (!fp)
			continue;
		fseek(fp, 0, SEEK_END);
		long sz = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		unsigned char *d = malloc((size_t)sz);
		CHECK(fread(d, 1, (size_t)sz, fp) == (size_t)sz);
		fclose(fp);
		same_table(d, (size_t)sz, enc[i]);
		free(d);
	}
}

TEST(meta_errors)
{
	nk_bpe *b = nk_bpe_new();
	const char *ok = "{\"pat_str\": \"\", \"special_tokens\": {\"<|x|>\": 7},"
			 " \"other\": [1, {\"a\": null}]}";
	CHECK(nk_bpe_load_meta(b, (const unsigned char *)ok, strlen(ok), "m") == 0);
	CHECK(nk_bpe_n_special(b) == 1);
	const char *bad[][2] = {
		{"{\"pat_str\": \"(\\\\w+\"}", "m:1:12: pat_str: pattern does not "
		 "compile: missing closing parenthesis at offset 4"},
		{"{\"pat_str\": \"a\\u0000b\"}", "m:1:12: pat_str: a NUL character in the pattern"},
		{"{\"pat_str\": \"\"", "m:1:15: expected '}'"},
		{"{\"special_tokens\": {\"a\": -1}}", "non-negative integer"},
		{"{}", "no pat_str"},
		{"{\"pat_str\": \"\\ud800\"}", "lone surrogate"},
		{"{\"pat_str\": \"\"} x", "text after"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		nk_bpe *c = nk_bpe_new();
		int rc = nk_bpe_load_meta(c, (const unsigned char *)bad[i][0],
					  strlen(bad[i][0]), "m");
		CHECK_MSG(rc != 0 && strstr(nk_last_error(), bad[i][1]),
			  "'%s' gave '%s'", bad[i][0], nk_last_error());
		nk_bpe_free(c);
	}
	nk_bpe_free(b);
}

/* tiktoken's algorithm, naively: merge the lowest-ranked leftmost pair. */
static size_t naive(const nk_bpe *b, const unsigned char *s, size_t n,
		    uint32_t *out, size_t *st)
{
	size_t m = n;
	for (size_t i = 0; i <= n; i++)
		st[i] = i;
	for (;;) {
		uint32_t best = UINT32_MAX, r;
		size_t bi = 0;
		for (size_t i = 0; i + 1 < m; i++)
			if (!nk_bpe_rank(b, s + st[i], st[i + 2] - st[i], &r) &&
			    r < best) {
				best = r;
				bi = i;
			}
		if (best == UINT32_MAX)
			break;
		memmove(st + bi + 1, st + bi + 2, (m - bi - 1) * sizeof *st);
		m--;
	}
	for (size_t i = 0; i < m; i++)
		nk_bpe_rank(b, s + st[i], st[i + 1] - st[i], &out[i]);
	return m;
}

static void match_naive(const nk_bpe *b)
{
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	static unsigned char s[3000];
	static uint32_t want[3000];
	static size_t st[3001];
	nk_bpe_ids ids = {0};
	const char *alpha[] = {"ab", "abcdefghij", "aaaaaaab", " \n0", "e\xc3\xa9"};
	for (int t = 0; t < 60; t++) {
		size_t n = 1 + rnd() % (t < 30 ? 200 : 3000);
		const char *a = alpha[t % 5];
		size_t al = strlen(a);
		for (size_t i = 0; i < n; i++)
			s[i] = t % 7 == 6 ? (unsigned char)rnd()
					  : (unsigned char)a[rnd() % al];
		ids.n = 0;
		CHECK(nk_bpe_encode_piece(e, s, n, &ids) == 0);
		size_t m = naive(b, s, n, want, st);
		CHECK_MSG(m == ids.n && !memcmp(want, ids.v, m * 4),
			  "piece %d of %zu bytes: %zu ids, naive %zu", t, n,
			  ids.n, m);
	}
	nk_bpe_ids_free(&ids);
	nk_bpe_enc_free(e);
}

TEST(long_pieces_match_naive)
{
	nk_bpe *b = open_enc(cur_enc);
	if (b)
		match_naive(b);
	nk_bpe_free(b);
}

/* The same on a vocabulary trained here from runs of the test's
 * alphabets: many tokens such as "aa", "aaa" and "abab" whose pairs
 * repeat within a piece, where only the leftmost-first rule gives
 * tiktoken's ids. */
TEST(long_pieces_match_naive_trained)
{
	const char *alpha[] = {"ab", "abcdefghij", "aaaaaaab", " \n0", "e\xc3\xa9"};
	static unsigned char s[400];
	nk_bpe_trainer *t = nk_bpe_trainer_new(NK_PRETOK_NONE);
	CHECK(t != NULL);
	for (int line = 0; t && line < 2000; line++) {
		const char *a = alpha[line % 5];
		size_t n = 1 + rnd() % sizeof s, al = strlen(a);
		for (size_t i = 0; i < n; i++)
			s[i] = (unsigned char)a[rnd() % al];
		CHECK(nk_bpe_trainer_add(t, s, n) == 0);
	}
	nk_bpe *b = NULL;
	CHECK(t && nk_bpe_trainer_run(t, 256 + 1500, 2, NULL, NULL, &b) == 0);
	CHECK(b && nk_bpe_finish(b, "trained") == 0);
	CHECK(b && nk_bpe_n_ranks(b) > 1000);
	if (b) {
		nk_bpe_set_pretok(b, NK_PRETOK_NONE);
		match_naive(b);
	}
	nk_bpe_free(b);
	nk_bpe_trainer_free(t);
}

/* Every rank is found at its own bytes through the slot table (whose
 * slots hold a token's first 8 bytes, its length up to 255 and hash
 * bits), and strings that differ from a token in one byte (inside the
 * first 8, or past them) are either no token or the token they spell. */
TEST(rank_table_every_token)
{
	nk_bpe *b = open_enc(cur_enc);
	if (!b)
		return;
	unsigned char buf[512];
	int bad = 0;
	for (uint32_t r = 0; r < nk_bpe_n_ranks(b) && bad < 3; r++) {
		size_t n, n2;
		const unsigned char *t = nk_bpe_token(b, r, &n);
		uint32_t got = UINT32_MAX;
		if (!t || n > sizeof buf || nk_bpe_rank(b, t, n, &got) || got != r) {
			CHECK_MSG(0, "rank %u: found as %u", r, got);
			bad++;
			continue;
		}
		memcpy(buf, t, n);
		size_t at = n > 9 ? 9 + r % (n - 9) : n - 1;
		buf[at] ^= 1 + (unsigned char)(r % 255);
		if (!nk_bpe_rank(b, buf, n, &got)) {
			const unsigned char *t2 = nk_bpe_token(b, got, &n2);
			if (got == r || n2 != n || memcmp(t2, buf, n)) {
				CHECK_MSG(0, "rank %u with byte %zu changed: %u", r, at, got);
				bad++;
			}
		}
	}
	nk_bpe_free(b);
}

/* A vocabulary built to collide in the slots' check: tokens with the
 * same first 8 bytes and length that differ after them, and tokens
 * over 255 bytes (whose length the check word caps) with the same
 * first 8 bytes. */
TEST(rank_table_long_tokens)
{
	enum { NT = 256 + 6 };
	static unsigned char pool[NT][400];
	const unsigned char *tok[NT];
	uint32_t len[NT];
	for (int i = 0; i < 256; i++) {
		pool[i][0] = (unsigned char)i;
		tok[i] = pool[i];
		len[i] = 1;
	}
	static const uint32_t lens[6] = {12, 12, 300, 301, 556, 9};
	for (int i = 0; i < 6; i++) {
		unsigned char *p = pool[256 + i];
		memset(p, 'x', sizeof pool[0]);
		p[lens[i] - 1] = (unsigned char)('a' + i); /* differ at the end */
		tok[256 + i] = p;
		len[256 + i] = lens[i] > sizeof pool[0] ? sizeof pool[0] : lens[i];
	}
	nk_bpe *b = NULL;
	CHECK(nk_bpe_build(&b, tok, len, NT, NK_PRETOK_NONE) == 0);
	if (!b)
		return;
	uint32_t got;
	for (int i = 0; i < NT; i++)
		CHECK_MSG(!nk_bpe_rank(b, tok[i], len[i], &got) && got == (uint32_t)i,
			  "token %d of %u bytes: %u", i, len[i], got);
	unsigned char x[400];
	memset(x, 'x', sizeof x);
	x[11] = 'c'; /* 12 bytes like two tokens, the last one neither's */
	CHECK(nk_bpe_rank(b, x, 12, &got) == NK_ENOTFOUND);
	memset(x, 'x', sizeof x);
	x[299] = 'd'; /* token 259's bytes at 300: no token */
	CHECK(nk_bpe_rank(b, x, 300, &got) == NK_ENOTFOUND);
	CHECK(nk_bpe_rank(b, x, 8, &got) == NK_ENOTFOUND);
	nk_bpe_free(b);
}

/* nk_bpe_encode cuts pieces in batches and writes the ids of one- and
 * two-byte pieces and of front-cache hits itself: on code-like text
 * whose pieces recur (so the caches answer), its ids must be each
 * piece's ids by the naive merge, which uses no cache and no table but
 * nk_bpe_rank. */
TEST(encode_fast_paths_match_naive)
{
	nk_bpe *b = open_enc(cur_enc);
	if (!b)
		return;
	static const char *const part[] = {
		"(", ")", ";", " ", "  ", "\t", "\n", "\n\n", " {", "}", "->",
		"x", "i", " i", "_t", "__", " *", "/*", "*/", "0", "12", "123",
		"4567", " int", " struct", " foo_bar", "BAZ_QUUX", "_attribute",
		" const", "::", " 0x7f", "#define", " identifierlonger", "'s",
		"\xc3\xa9t\xc3\xa9", " \xe4\xb8\xad", "\xff", "\xc3", " ========",
		"-----------------------------------------------------------",
	};
	size_t np = sizeof part / sizeof *part, cap = 1 << 16, n = 0;
	unsigned char *text = malloc(cap);
	uint32_t *want = malloc(cap * sizeof *want);
	size_t *st = malloc((cap + 1) * sizeof *st);
	CHECK(text && want && st);
	while (text && n + 64 < cap) {
		const char *p = part[rnd() % np];
		memcpy(text + n, p, strlen(p));
		n += strlen(p);
	}
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	nk_bpe_ids ids = {0};
	int kind = nk_bpe_pretok(b);
	for (int pass = 0; e && text && pass < 2; pass++) {
		ids.n = 0;
		CHECK(nk_bpe_encode(e, text, n, NK_SPECIAL_TEXT, &ids) == 0);
		size_t m = 0, at = 0, pieces = 0;
		while (at < n) {
			size_t k = nk_pretok_next(kind, text + at, n - at);
			m += naive(b, text + at, k, want + m, st);
			at += k;
			pieces++;
		}
		size_t i = 0;
		while (i < m && i < ids.n && ids.v[i] == want[i])
			i++;
		CHECK_MSG(m == ids.n && i == m, "pass %d, %zu pieces: %zu ids, "
			  "naive %zu, first difference at id %zu", pass, pieces,
			  ids.n, m, i);
	}
	nk_bpe_ids_free(&ids);
	nk_bpe_enc_free(e);
	free(text);
	free(want);
	free(st);
	nk_bpe_free(b);
}

TEST(round_trip_random_bytes)
{
	static unsigned char s[5000], back[5000];
	nk_bpe *b = open_enc(cur_enc);
	if (!b)
		return;  /* a FAIL: run_enc found the file */
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	nk_bpe_ids ids = {0};
	for (int t = 0; t < 200; t++) {
		size_t n = rnd() % sizeof s;
		int mode = t % 4;
		for (size_t i = 0; i < n; i++) {
			uint32_t r = rnd();
			s[i] = mode == 0 ? (unsigned char)r :
			       mode == 1 ? " \n\t\r'aZ0\xc3\xa9\xe4\xb8\x80"[r % 14]
					 : (unsigned char)(r % 2 ? 0x80 + r % 64
								 : 32 + r % 90);
		}
		ids.n = 0;
		CHECK(nk_bpe_encode(e, s, n, NK_SPECIAL_TEXT, &ids) == 0);
		long m = decode(b, ids.v, ids.n, back, sizeof back);
		CHECK_MSG(m == (long)n && !memcmp(back, s, n),
			  "%s: round trip of %zu bytes", cur_enc, n);
	}
	nk_bpe_ids_free(&ids);
	nk_bpe_enc_free(e);
	nk_bpe_free(b);
}

TEST(special_tokens)
{
	nk_bpe *b = open_enc("cl100k_base");
	if (!b)
		return;  /* a FAIL: run_enc found the file */
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	nk_bpe_ids ids = {0};
	const char *t = "a<|endoftext|>b<|fim_prefix|>";
	CHECK(nk_bpe_encode(e, (const unsigned char *)t, strlen(t),
			    NK_SPECIAL_ALLOW, &ids) == 0);
	CHECK(ids.n == 4 && ids.v[1] == 100257 && ids.v[3] == 100258);
	ids.n = 0;
	CHECK(nk_bpe_encode(e, (const unsigned char *)t, strlen(t),
			    NK_SPECIAL_TEXT, &ids) == 0);
	CHECK(ids.n > 4);
	for (size_t i = 0; i < ids.n; i++)
		CHECK(ids.v[i] < 100256);
	ids.n = 0;
	CHECK(nk_bpe_encode(e, (const unsigned char *)t, strlen(t),
			    NK_SPECIAL_FAIL, &ids) == NK_EFORMAT);
	CHECK(nk_bpe_enc_fail_offset(e) == 1);
	size_t len;
	CHECK(nk_bpe_token(b, 100257, &len) && len == 13);
	CHECK(nk_bpe_token(b, 100261, &len) == NULL);  /* a gap */
	CHECK(nk_bpe_token(b, nk_bpe_n_vocab(b), &len) == NULL);
	nk_bpe_ids_free(&ids);
	nk_bpe_enc_free(e);
	nk_bpe_free(b);
}

/* Thread CPU seconds to encode s as one piece (one letter, or random
 * letters: no pattern splits them). */
static double cpu_encode(nk_bpe_enc *e, const unsigned char *s, size_t n,
			 size_t *tokens)
{
	nk_bpe_ids ids = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	CHECK(nk_bpe_encode(e, s, n, NK_SPECIAL_TEXT, &ids) == 0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	*tokens = ids.n;
	nk_bpe_ids_free(&ids);
	return (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

/* 1 MiB of one letter and of random letters, each one piece, must not
 * take quadratic time.  Checked as growth, not as a time limit (this
 * machine is shared and its speed varies several-fold): eight times the
 * text may cost at most 32 times the CPU time (linear: 8, n log n about
 * 10; quadratic: 64), best of three, plus 20 ms of clock noise. */
TEST(worst_case_linear)
{
	nk_bpe *b = open_enc("cl100k_base");
	if (!b)
		return;  /* a FAIL: run_enc found the file */
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	size_t n = 1 << 20, tokens;
	unsigned char *s = malloc(n);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < n; i++)
			s[i] = k ? (unsigned char)('a' + rnd() % 26) : 'a';
		double small = 1e9, big = 1e9;
		for (int r = 0; r < 3; r++) {
			double t = cpu_encode(e, s, n / 8, &tokens);
			small = t < small ? t : small;
			t = cpu_encode(e, s, n, &tokens);
			big = t < big ? t : big;
		}
		printf("# %s: 1 MiB in %.3f s CPU, 128 KiB in %.3f s, %zu tokens\n",
		       k ? "random letters" : "one letter", big, small, tokens);
		CHECK_MSG(big < 32 * small + 0.02, "%s: 1 MiB takes %.3f s, "
			  "128 KiB %.3f s: %.1fx for 8x the text",
			  k ? "random letters" : "one letter", big, small,
			  big / small);
	}
	free(s);
	nk_bpe_enc_free(e);
	nk_bpe_free(b);
}

/* Encoders on several threads over one vocabulary get exactly the ids
 * of a lone encoder: the vocabulary is only read once loaded (tsan
 * checks that too). */
struct thread_job {
	const nk_bpe *b;
	const unsigned char *text;
	size_t n;
	nk_bpe_ids ids;
	int rc;
};

static void *thread_worker(void *arg)
{
	struct thread_job *j = arg;
	nk_bpe_enc *e = nk_bpe_enc_new(j->b);
	if (!e) {
		j->rc = NK_ENOMEM;
		return NULL;
	}
	j->rc = nk_bpe_encode(e, j->text, j->n, NK_SPECIAL_TEXT, &j->ids);
	nk_bpe_enc_free(e);
	return NULL;
}

TEST(threads_same_ids)
{
	nk_bpe *b = open_enc("cl100k_base");
	if (!b)
		return;  /* a FAIL: run_enc found the file */
	/* Words made of random syllables: many multi-token pieces, so the
	 * merge loops and the caches all run. */
	static const char *syl[] = {"qu", "zx", "ara", "ton", "bel", "vik",
				    "ous", "ing", "pr", "emb", "ly", "sch"};
	size_t n = 1 << 20;
	unsigned char *text = malloc(n);
	size_t o = 0;
	while (o + 32 < n) {
		text[o++] = ' ';
		int k = 2 + (int)(rnd() % 4);
		for (int i = 0; i < k; i++) {
			const char *s = syl[rnd() % 12];
			memcpy(text + o, s, strlen(s));
			o += strlen(s);
		}
	}
	n = o;
	nk_bpe_enc *lone = nk_bpe_enc_new(b);
	nk_bpe_ids want = {0};
	CHECK(nk_bpe_encode(lone, text, n, NK_SPECIAL_TEXT, &want) == 0);
	nk_bpe_enc_free(lone);
	for (int round = 0; round < 3; round++) {
		enum { NT = 4 };
		struct thread_job job[NT];
		pthread_t th[NT];
		for (int t = 0; t < NT; t++) {
			job[t] = (struct thread_job){b, text, n, {0}, 0};
			CHECK(pthread_create(&th[t], NULL, thread_worker, &job[t]) == 0);
		}
		for (int t = 0; t < NT; t++) {
			pthread_join(th[t], NULL);
			CHECK(job[t].rc == 0);
			CHECK_MSG(job[t].ids.n == want.n &&
				  !memcmp(job[t].ids.v, want.v, 4 * want.n),
				  "round %d, thread %d: ids differ", round, t);
			nk_bpe_ids_free(&job[t].ids);
		}
	}
	nk_bpe_ids_free(&want);
	free(text);
	nk_bpe_free(b);
}

int main(void)
{
	testplans("r50k_base");
	testplans("cl100k_base");
	testplans("o200k_base");
	RUN(base64);
	RUN(rank_file_errors);
	RUN(rank_file_one_pass);
	RUN(meta_errors);
	RUN_ENC(long_pieces_match_naive, "cl100k_base");
	run_enc(rank_table_every_token, "rank_table_every_token", "cl100k_base", 1);
	run_enc(rank_table_every_token, "rank_table_every_token", "o200k_base", 1);
	RUN(rank_table_long_tokens);
	run_enc(encode_fast_paths_match_naive, "encode_fast_paths_match_naive", "r50k_base", 1);
	run_enc(encode_fast_paths_match_naive, "encode_fast_paths_match_naive", "cl100k_base", 1);
	run_enc(encode_fast_paths_match_naive, "encode_fast_paths_match_naive", "o200k_base", 1);
	RUN(long_pieces_match_naive_trained);
	run_enc(round_trip_random_bytes, "round_trip_random_bytes", "r50k_base", 1);
	run_enc(round_trip_random_bytes, "round_trip_random_bytes", "cl100k_base", 1);
	run_enc(round_trip_random_bytes, "round_trip_random_bytes", "o200k_base", 1);
	RUN_ENC(special_tokens, "cl100k_base");
	RUN_ENC(worst_case_linear, "cl100k_base");
	RUN_ENC(threads_same_ids, "cl100k_base");
	return nk_test_exit();
}
