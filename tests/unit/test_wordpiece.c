/* test_wordpiece.c - BERT's WordPiece: vocab files, basic tokenization,
 * pieces, decoding, training; every expectation worked out by hand from
 * HF's rules (tokenization_bert.py, tokenizers' BertNormalizer).
 *
 * With arguments it is the C side of tests/t_wordpiece_hf.sh:
 *   test_wordpiece encode VOCAB LOWER STRIP FILE  ids per line of FILE
 *   test_wordpiece decode VOCAB                   text per line of ids
 *   test_wordpiece train SIZE MINFREQ LOWER FILE OUT
 */
#include "check.h"

#include "core/base.h"
#include "text/wordpiece.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char small_vocab[] =
	"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
	"the\nquick\nbrown\nfox\nun\n##aff\n##able\n,\n.\n!\n?\n'\n"
	"don\nt\na\n##a\nb\n##b\nc\n##c\n\xe4\xb8\xad\n\xe5\x9b\xbd\n"
	"cafe\ncaf\xc3\xa9\nCafe\n[\n]\nmask\ni\n\xce\xbf\xce\xb4\xce\xbf\xcf\x83\n"
	"\xea\xb0\x80\n\xe1\x84\x80\n##\xe1\x85\xa1\n";

static nk_wordpiece *vocab(void)
{
	nk_wordpiece *wp;
	if (nk_wp_from_buffer(&wp, "small", (const unsigned char *)small_vocab,
			      strlen(small_vocab))) {
		printf("small vocab: %s\n", nk_last_error());
		exit(1);
	}
	return wp;
}

/* Encodes and compares with the tokens named by `want` (space-separated),
 * and with the continuation flags of the '##' tokens. */
static int enc_is(const nk_wordpiece *wp, const char *text, const char *want)
{
	nk_wp_ids ids = {0};
	int ok = nk_wp_encode(wp, (const unsigned char *)text, strlen(text), &ids) == 0;
	char buf[4096] = "";
	size_t o = 0;
	for (size_t i = 0; ok && i < ids.n; i++) {
		size_t len;
		const char *t = nk_wp_token(wp, ids.id[i], &len);
		ok = t && o + len + 2 < sizeof buf;
		if (!ok)
			break;
		if (i)
			buf[o++] = ' ';
		memcpy(buf + o, t, len);
		o += len;
		buf[o] = 0;
		if (ids.cont[i] != (len >= 2 && t[0] == '#' && t[1] == '#'))
			ok = 0;
	}
	if (ok && strcmp(buf, want)) {
		printf("  '%s' -> '%s', want '%s'\n", text, buf, want);
		ok = 0;
	}
	nk_wp_ids_free(&ids);
	return ok;
}

TEST(wordpiece_basic)
{
	nk_wordpiece *wp = vocab();
	CHECK(enc_is(wp, "The Quick, brown FOX!", "the quick , brown fox !"));
	CHECK(enc_is(wp, "unaffable", "un ##aff ##able"));
	CHECK(enc_is(wp, "  the\tfox\r\n", "the fox"));
	CHECK(enc_is(wp, "", ""));
	CHECK(enc_is(wp, " \n\t ", ""));
	CHECK(enc_is(wp, "\x01\x02\x7f", ""));
	/* punctuation runs: every character alone */
	CHECK(enc_is(wp, "?!...,'", "? ! . . . , '"));
	CHECK(enc_is(wp, "fox?!the", "fox ? ! the"));
	/* a word that cannot be covered is one [UNK], whatever came first */
	CHECK(enc_is(wp, "unaffablex the", "[UNK] the"));
	CHECK(enc_is(wp, "don't", "don ' t"));
	/* '$' and '`' are symbols (Sc, Sk) but BERT's punctuation */
	CHECK(enc_is(wp, "a$b`c", "a [UNK] b [UNK] c"));
	nk_wp_free(wp);
}

TEST(wordpiece_long_words)
{
	nk_wordpiece *wp = vocab();
	char w[202], want[512];
	memset(w, 'a', 100);
	w[100] = 0;
	size_t o = (size_t)sprintf(want, "a");
	for (int i = 1; i < 100; i++)
		o += (size_t)sprintf(want + o, " ##a");
	CHECK(enc_is(wp, w, want)); /* 100 characters: pieces */
	memset(w, 'a', 101);
	w[101] = 0;
	CHECK(enc_is(wp, w, "[UNK]")); /* 101: [UNK] */
	/* characters, not bytes: 100 two-byte letters still piece out
	 * (to [UNK] here, as no piece covers them, but via the pieces) */
	char cjk[1024] = "";
	for (int i = 0; i < 120; i++)
		strcat(cjk, "\xe4\xb8\xad"); /* 中: each its own word */
	char wantc[1024] = "";
	for (int i = 0; i < 120; i++)
		strcat(wantc, i ? " \xe4\xb8\xad" : "\xe4\xb8\xad");
	CHECK(enc_is(wp, cjk, wantc));
	nk_wp_free(wp);
}

TEST(wordpiece_cjk_accents)
{
	nk_wordpiece *wp = vocab();
	/* 中国abc: spaces around each ideograph, then abc pieces */
	CHECK(enc_is(wp, "\xe4\xb8\xad\xe5\x9b\xbd" "abc", "\xe4\xb8\xad \xe5\x9b\xbd a ##b ##c"));
	/* Hangul is not in _is_chinese_char's ranges; NFD splits 가 into
	 * jamo when stripping accents */
	CHECK(enc_is(wp, "\xea\xb0\x80", "\xe1\x84\x80 ##\xe1\x85\xa1"));
	/* Café, CAFÉ and café with the decomposed accent: cafe */
	CHECK(enc_is(wp, "Caf\xc3\xa9 CAF\xc3\x89 cafe\xcc\x81", "cafe cafe cafe"));
	/* İ lower-cases to i + U+0307, and the dot goes with the accents */
	CHECK(enc_is(wp, "\xc4\xb0", "i"));
	/* no final-sigma rule: ΟΔΟΣ -> οδοσ (HF's Rust and Python) */
	CHECK(enc_is(wp, "\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x83"));
	/* cased: no lower-casing, no stripping unless asked */
	nk_wp_set_case(wp, 0, -1);
	CHECK(enc_is(wp, "caf\xc3\xa9 Cafe", "caf\xc3\xa9 Cafe"));
	CHECK(enc_is(wp, "\xea\xb0\x80", "\xea\xb0\x80"));
	nk_wp_set_case(wp, 0, 1);
	CHECK(enc_is(wp, "caf\xc3\xa9", "cafe"));
	nk_wp_free(wp);
}

TEST(wordpiece_clean)
{
	nk_wordpiece *wp = vocab();
	/* NUL, controls, U+FFFD, ill-formed bytes, U+200B (Cf) and a
	 * private-use character vanish and join what they stood between */
	nk_wp_ids ids = {0};
	static const unsigned char nul[] = "fo\0x";
	CHECK(nk_wp_encode(wp, nul, 4, &ids) == 0 && ids.n == 1 &&
	      ids.id[0] == (uint32_t)nk_wp_id(wp, "fox", 3));
	nk_wp_ids_free(&ids);
	CHECK(enc_is(wp, "f\x1bo\xef\xbf\xbdx", "fox"));
	CHECK(enc_is(wp, "f\xffo\xc0\xafx\xed\xa0\x80", "fox"));
	CHECK(enc_is(wp, "fo\xe2\x80\x8bx", "fox"));
	CHECK(enc_is(wp, "fox\xee\x80\x80 f\xf3\xb0\x80\x80ox", "fox fox"));
	/* an unassigned code point (U+0378, Cn) stays, as in HF's Rust */
	CHECK(enc_is(wp, "fo\xcd\xb8x the", "[UNK] the"));
	/* White_Space: no-break space, ideographic space, line separator */
	CHECK(enc_is(wp, "the\xc2\xa0" "fox\xe3\x80\x80the\xe2\x80\xa8" "fox",
		     "the fox the fox"));
	nk_wp_free(wp);
}

TEST(wordpiece_specials)
{
	nk_wordpiece *wp = vocab();
	CHECK(enc_is(wp, "the [MASK] fox", "the [MASK] fox"));
	CHECK(enc_is(wp, "the[MASK]fox[SEP]", "the [MASK] fox [SEP]"));
	CHECK(enc_is(wp, "[MASK][MASK]", "[MASK] [MASK]"));
	/* exact case only, as HF's added tokens (normalized: false) */
	CHECK(enc_is(wp, "[mask] [Mask]", "[ mask ] [ mask ]"));
	CHECK(enc_is(wp, "[MASK", "[ mask"));
	int32_t ids[NK_WP_NSPECIAL];
	CHECK(nk_wp_specials(wp, ids) == 0);
	CHECK(ids[NK_WP_PAD] == 0 && ids[NK_WP_MASK] == 4);
	CHECK(nk_wp_require(wp, 1u << NK_WP_MASK | 1u << NK_WP_UNK) == 0);

	nk_wordpiece *v2;
	static const char nomask[] = "[UNK]\n[CLS]\nthe\n";
	CHECK(nk_wp_from_buffer(&v2, "v.txt", (const unsigned char *)nomask,
				strlen(nomask)) == 0);
	CHECK(nk_wp_specials(v2, ids) ==
	      (1u << NK_WP_PAD | 1u << NK_WP_SEP | 1u << NK_WP_MASK));
	CHECK(ids[NK_WP_UNK] == 0 && ids[NK_WP_CLS] == 1 && ids[NK_WP_MASK] == -1);
	CHECK(nk_wp_require(v2, 1u << NK_WP_UNK) == 0);
	CHECK(nk_wp_require(v2, 1u << NK_WP_CLS | 1u << NK_WP_MASK) == NK_ENOTFOUND);
	CHECK(strcmp(nk_last_error(), "v.txt: no [MASK] token") == 0);
	/* "[MASK]" is plain text without the token */
	CHECK(enc_is(v2, "[MASK]", "[UNK] [UNK] [UNK]"));
	nk_wp_free(v2);
	static const char nounk[] = "the\n";
	CHECK(nk_wp_from_buffer(&v2, "v.txt", (const unsigned char *)nounk, 4) == 0);
	nk_wp_ids o = {0};
	CHECK(nk_wp_encode(v2, (const unsigned char *)"the", 3, &o) == 0 && o.n == 1);
	CHECK(nk_wp_encode(v2, (const unsigned char *)"fox", 3, &o) == NK_ENOTFOUND);
	nk_wp_ids_free(&o);
	nk_wp_free(v2);
	nk_wp_free(wp);
}

static int dec_is(const nk_wordpiece *wp, const char *toks, int skip,
		  const char *want)
{
	uint32_t ids[64];
	size_t n = 0;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", toks);
	for (char *t = strtok(buf, " "); t && n < 64; t = strtok(NULL, " ")) {
		int32_t id = nk_wp_id(wp, t, strlen(t));
		if (id < 0)
			return 0;
		ids[n++] = (uint32_t)id;
	}
	char *s;
	size_t len;
	if (nk_wp_decode(wp, ids, n, skip, &s, &len))
		return 0;
	int ok = len == strlen(s) && !strcmp(s, want);
	if (!ok)
		printf("  decode '%s' -> '%s', want '%s'\n", toks, s, want);
	free(s);
	return ok;
}

TEST(wordpiece_decode)
{
	nk_wordpiece *wp = vocab();
	CHECK(dec_is(wp, "un ##aff ##able , don ' t .", 0, "unaffable, don't."));
	CHECK(dec_is(wp, "[CLS] the [MASK] fox ? [SEP]", 0, "[CLS] the [MASK] fox? [SEP]"));
	CHECK(dec_is(wp, "[CLS] the [MASK] fox ! [SEP]", 1, "the fox!"));
	CHECK(dec_is(wp, "##able the", 0, "##able the"));
	CHECK(dec_is(wp, "the", 0, "the"));
	uint32_t bad = 1000;
	char *s;
	CHECK(nk_wp_decode(wp, &bad, 1, 0, &s, NULL) == NK_ERANGE);
	CHECK(nk_wp_decode(wp, NULL, 0, 0, &s, NULL) == 0 && !strcmp(s, ""));
	free(s);
	size_t len;
	CHECK(!strcmp(nk_wp_token(wp, 11, &len), "##able") && len == 6);
	CHECK(nk_wp_token(wp, nk_wp_size(wp), NULL) == NULL);
	nk_wp_free(wp);
}

static int load_err(const char *text, size_t n, const char *want)
{
	nk_wordpiece *wp;
	int rc = nk_wp_from_buffer(&wp, "v.txt", (const unsigned char *)text, n);
	if (rc == 0) {
		nk_wp_free(wp);
		printf("  loaded, want '%s'\n", want);
		return 0;
	}
	if (strcmp(nk_last_error(), want)) {
		printf("  '%s', want '%s'\n", nk_last_error(), want);
		return 0;
	}
	return wp == NULL && rc == NK_EFORMAT;
}

TEST(wordpiece_vocab_errors)
{
	CHECK(load_err("a\nb\na\n", 6, "v.txt:3: duplicate token 'a' (first on line 1)"));
	CHECK(load_err("a\n\nb\n", 5, "v.txt:2: empty line"));
	CHECK(load_err("a\r\n\r\n", 5, "v.txt:2: empty line"));
	CHECK(load_err("a\nb\xff\n", 5, "v.txt:2: invalid UTF-8 at byte 2"));
	CHECK(load_err("a\nb\xc3", 4, "v.txt:2: invalid UTF-8 at byte 2"));
	CHECK(load_err("a\n\0\n", 4, "v.txt:2: NUL byte"));
	CHECK(load_err("", 0, "v.txt: no tokens"));
	char big[1100];
	memset(big, 'x', sizeof big);
	big[0] = 'a';
	big[1] = '\n';
	CHECK(load_err(big, sizeof big, "v.txt:2: token of 1098 bytes (at most 1024)"));
	/* CRLF and a missing last newline are fine */
	nk_wordpiece *wp;
	CHECK(nk_wp_from_buffer(&wp, "v", (const unsigned char *)"a\r\nb", 4) == 0);
	CHECK(nk_wp_size(wp) == 2 && nk_wp_id(wp, "b", 1) == 1 && nk_wp_id(wp, "a", 1) == 0);
	nk_wp_free(wp);
	/* from a file: the message names it */
	char path[] = "/tmp/nk_wpXXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, "x\ny\nx\n", 6) == 6);
	close(fd);
	CHECK(nk_wp_load(&wp, path) == NK_EFORMAT);
	char want[64];
	snprintf(want, sizeof want, "%s:3: duplicate token 'x' (first on line 1)", path);
	CHECK(strcmp(nk_last_error(), want) == 0);
	unlink(path);
	CHECK(nk_wp_load(&wp, path) != 0);
}

static const char *train_text =
	"hug hug Hug pug pug bun bun bun bun";

TEST(wordpiece_train)
{
	/* Worked by hand: alphabet b g h n p u (5..10), ##g ##n ##u
	 * (11..13); pairs (##u,##g) 5, (b,##u) 4, (##u,##n) 4, (h,##u) 3,
	 * (p,##u) 2.  Merges: ##ug; then the tie between (b,##u) = (5,13)
	 * and (##u,##n) = (13,12) goes to the smaller left id: bu; then
	 * bun 4, hug 3, pug 2. */
	static const char want[] =
		"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nb\ng\nh\nn\np\nu\n##g\n##n\n##u\n"
		"##ug\nbu\nbun\nhug\npug\n";
	for (uint32_t size = 14; size <= 30; size += 2) {
		nk_wp_trainer *t = nk_wp_trainer_new(1, -1);
		CHECK(t && nk_wp_trainer_add(t, (const unsigned char *)train_text,
					     strlen(train_text)) == 0);
		CHECK(nk_wp_trainer_words(t) == 3);
		char *v;
		size_t len;
		CHECK(nk_wp_trainer_run(t, size, 0, NULL, NULL, &v, &len) == 0);
		/* the first `size` lines of the full vocab (19 tokens) */
		size_t lines = 0, cut = 0;
		while (cut < sizeof want - 1 && lines < size)
			lines += want[cut++] == '\n';
		CHECK_MSG(len == cut && !memcmp(v, want, cut), "size %u: got\n%s", size, v);
		free(v);
		nk_wp_trainer_free(t);
	}
	/* min_freq 3 stops before pug (2) */
	nk_wp_trainer *t = nk_wp_trainer_new(1, -1);
	nk_wp_trainer_add(t, (const unsigned char *)train_text, strlen(train_text));
	char *v;
	size_t len;
	CHECK(nk_wp_trainer_run(t, 100, 3, NULL, NULL, &v, &len) == 0);
	CHECK(len == sizeof want - 1 - 4 && !memcmp(v, want, len));
	/* the vocab loads and encodes its own text without [UNK] */
	nk_wordpiece *wp;
	CHECK(nk_wp_from_buffer(&wp, "trained", (const unsigned char *)v, len) == 0);
	CHECK(enc_is(wp, "Hug pug bung", "hug p ##ug bun ##g"));
	nk_wp_free(wp);
	free(v);
	nk_wp_trainer_free(t);
	/* a merge whose text is a token already reuses it: abc from
	 * a+##bc and from ab+##c */
	t = nk_wp_trainer_new(1, -1);
	nk_wp_trainer_add(t, (const unsigned char *)"abc abc abc bc bc bc bc ab ab", 29);
	CHECK(nk_wp_trainer_run(t, 100, 0, NULL, NULL, &v, &len) == 0);
	size_t n_abc = 0;
	for (char *p = v; (p = strstr(p, "\nabc\n")); p++)
		n_abc++;
	CHECK(n_abc == 1);
	free(v);
	nk_wp_trainer_free(t);
}

/* ---- the driver for t_wordpiece_hf.sh ---- */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);
	for (size_t k; (k = fread(b + len, 1, cap - len, f)) > 0;) {
		len += k;
		if (len == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	*n = len;
	return b;
}

static int drive(int argc, char **argv)
{
	nk_wordpiece *wp = NULL;
	if (!strcmp(argv[1], "encode") && argc == 6) {
		if (nk_wp_load(&wp, argv[2]))
			goto err;
		nk_wp_set_case(wp, atoi(argv[3]), atoi(argv[4]));
		size_t n;
		char *text = slurp(argv[5], &n);
		if (!text)
			return perror(argv[5]), 1;
		nk_wp_ids ids = {0};
		for (size_t i = 0; i < n;) {
			char *nl = memchr(text + i, '\n', n - i);
			size_t e = nl ? (size_t)(nl - text) : n;
			ids.n = 0;
			if (nk_wp_encode(wp, (unsigned char *)text + i, e - i, &ids))
				goto err;
			for (size_t k = 0; k < ids.n; k++)
				printf(k ? " %u" : "%u", ids.id[k]);
			putchar('\n');
			i = e + 1;
		}
		nk_wp_ids_free(&ids);
		free(text);
	} else if (!strcmp(argv[1], "decode") && argc == 3) {
		if (nk_wp_load(&wp, argv[2]))
			goto err;
		char *line = NULL;
		size_t cap = 0, idcap = 0;
		uint32_t *ids = NULL;
		while (getline(&line, &cap, stdin) > 0) {
			size_t n = 0;
			for (char *t = strtok(line, " \n"); t; t = strtok(NULL, " \n")) {
				if (n == idcap)
					ids = realloc(ids, (idcap = idcap * 2 + 64) * sizeof *ids);
				ids[n++] = (uint32_t)strtoul(t, NULL, 10);
			}
			char *s;
			if (nk_wp_decode(wp, ids, n, 0, &s, NULL))
				goto err;
			puts(s);
			free(s);
		}
		free(line);
		free(ids);
	} else if (!strcmp(argv[1], "train") && argc == 7) {
		size_t n;
		char *text = slurp(argv[5], &n), *v;
		if (!text)
			return perror(argv[5]), 1;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		nk_wp_trainer *t = nk_wp_trainer_new(atoi(argv[4]), -1);
		size_t len;
		if (!t || nk_wp_trainer_add(t, (unsigned char *)text, n) ||
		    nk_wp_trainer_run(t, (uint32_t)atol(argv[2]),
				      (uint64_t)atol(argv[3]), NULL, NULL, &v, &len))
			goto err;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		fprintf(stderr, "trained %zu words in %.2f s\n", nk_wp_trainer_words(t),
			(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
		FILE *f = fopen(argv[6], "wb");
		if (!f || fwrite(v, 1, len, f) != len || fclose(f))
			return perror(argv[6]), 1;
		free(v);
		free(text);
		nk_wp_trainer_free(t);
	} else {
		fprintf(stderr, "usage: see the top of test_wordpiece.c\n");
		return 2;
	}
	nk_wp_free(wp);
	return 0;
err:
	fprintf(stderr, "test_wordpiece: %s\n", nk_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return drive(argc, argv);
	RUN(wordpiece_basic);
	RUN(wordpiece_long_words);
	RUN(wordpiece_cjk_accents);
	RUN(wordpiece_clean);
	RUN(wordpiece_specials);
	RUN(wordpiece_decode);
	RUN(wordpiece_vocab_errors);
	RUN(wordpiece_train);
	return nk_test_exit();
}
