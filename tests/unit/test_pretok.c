/* test_pretok.c - the hand-written split patterns on cases worked out by
 * hand from the regexes' semantics, the pattern strings against the
 * reference JSON files (SKIP without ../shared/data), and linear time on
 * adversarial runs. */
#include "check.h"

#include "core/base.h"
#include "text/bpe.h"
#include "text/pretok.h"

#include <time.h>
#include <unistd.h>

/* Splits text and joins the pieces with '|' into out. */
static const char *split(int kind, const char *text)
{
	static char out[1024];
	size_t n = strlen(text), o = 0;
	const unsigned char *s = (const unsigned char *)text;
	while (n) {
		size_t k = nk_pretok_next(kind, s, n);
		if (k == 0 || k > n)
			return "(bad length)";
		if (o)
			out[o++] = '|';
		memcpy(out + o, s, k);
		o += k;
		s += k;
		n -= k;
	}
	out[o] = 0;
	return out;
}

#define SPLIT(kind, text, want)                                               \
	CHECK_MSG(strcmp(split(kind, text), want) == 0, "%s: '%s' -> '%s', want '%s'", \
		  nk_pretok_name(kind), text, split(kind, text), want)

TEST(r50k)
{
	int k = NK_PRETOK_R50K;
	SPLIT(k, "Hello world", "Hello| world");
	SPLIT(k, "  world", " | world");
	SPLIT(k, "a  \n", "a|  \n");
	SPLIT(k, "I'm I'M", "I|'m| I|'|M");
	SPLIT(k, "123456 7", "123456| 7");
	SPLIT(k, "x\t\ty", "x|\t|\t|y");
	SPLIT(k, "a\xff" "b", "a|\xff|b");
	SPLIT(k, "hi!! ?", "hi|!!| ?");
	SPLIT(k, "'ll've", "'ll|'ve");
}

TEST(cl100k)
{
	int k = NK_PRETOK_CL100K;
	SPLIT(k, "123456", "123|456");
	SPLIT(k, "I'M we'Ll", "I|'M| we|'Ll");
	SPLIT(k, "x\t\ty", "x|\t|\ty");
	SPLIT(k, "a\n\nb", "a|\n\n|b");
	SPLIT(k, "a \n b", "a| \n| b");
	SPLIT(k, "!!\n\nx", "!!\n\n|x");
	SPLIT(k, "a\xff" "b", "a|\xff" "b");
	/* Arabic-Indic digits are \p{N}; U+3000 is White_Space. */
	SPLIT(k, "\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6", "\xd9\xa3\xd9\xa4\xd9\xa5|\xd9\xa6");
	SPLIT(k, "a\xe3\x80\x80\xe3\x80\x80" "b", "a|\xe3\x80\x80|\xe3\x80\x80" "b");
	/* U+001C..U+001F are not White_Space (Python would say they are). */
	SPLIT(k, "a\x1c" "b", "a|\x1c" "b");
	SPLIT(k, "   ", "   ");
	SPLIT(k, " \r\n", " \r\n");
	/* (?i) folds 's' and U+017F (long s) together. */
	SPLIT(k, "x'\xc5\xbf", "x|'\xc5\xbf");
}

TEST(o200k)
{
	int k = NK_PRETOK_O200K;
	SPLIT(k, "HelloWorld", "Hello|World");
	SPLIT(k, "HELLOWorld", "HELLOWorld");
	SPLIT(k, "helloWORLD", "hello|WORLD");
	SPLIT(k, "a/b//c\n", "a|/b|//|c|\n");
	SPLIT(k, "don't DON'T x'll", "don't| DON'T| x'll");
	SPLIT(k, "1234", "123|4");
	SPLIT(k, "<</\n>", "<</\n|>");
	/* U+01C5 (Lt) is upper-class only; U+00AA (Lo) is both. */
	SPLIT(k, "\xc7\x85" "A", "\xc7\x85" "A");
	SPLIT(k, "\xc2\xaa" "AB", "\xc2\xaa|AB");
	/* A combining mark after a space: prefix, then mark as lower. */
	SPLIT(k, " \xcc\x81x", " \xcc\x81x");
	SPLIT(k, "a  b", "a| | b");
}

TEST(none)
{
	SPLIT(NK_PRETOK_NONE, "a b\nc", "a b\nc");
}

TEST(names_and_patterns)
{
	CHECK(nk_pretok_from_name("gpt2") == NK_PRETOK_R50K);
	CHECK(nk_pretok_from_name("cl100k_base") == NK_PRETOK_CL100K);
	CHECK(nk_pretok_from_name("o200k") == NK_PRETOK_O200K);
	CHECK(nk_pretok_from_name("none") == NK_PRETOK_NONE);
	CHECK(nk_pretok_from_name("perl") == -1);
	for (int k = 0; k < NK_PRETOK_COUNT; k++)
		CHECK(nk_pretok_from_pattern(nk_pretok_pattern(k)) == k);
	CHECK(nk_pretok_from_pattern("\\w+") == -1);
	/* The newer cl100k spelling with possessive quantifiers. */
	CHECK(nk_pretok_from_pattern(
		      "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|"
		      "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|"
		      "\\s+(?!\\S)|\\s+") == NK_PRETOK_CL100K);
}

/* The reference JSON files' pat_str name our three patterns: a group per
 * file, SKIP (never PASS) when the file is absent. */
static void reference_pattern(const char *name, int kind)
{
	char path[256], group[64];
	snprintf(path, sizeof path, "../shared/data/tiktoken/%s.json", name);
	snprintf(group, sizeof group, "reference_patterns-%s", name);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		nk_test_skip(group, "../shared/data/tiktoken is absent");
		return;
	}
	nk_test_begin(group);
	static unsigned char buf[65536];
	size_t n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	nk_bpe *b = nk_bpe_new();
	CHECK_MSG(nk_bpe_load_meta(b, buf, n, path) == 0, "%s", nk_last_error());
	CHECK(nk_bpe_pretok(b) == kind);
	nk_bpe_free(b);
	nk_test_end();
}

/* Runs that make a backtracking matcher work hard stay linear. */
TEST(linear_time)
{
	const char *units[] = {"A", "\xc2\xaa" "A", "\xc7\x85", " ", "\n ",
			       "1", "!", "\xff", "\xcc\x81"};
	size_t n = 1 << 20;
	unsigned char *s = malloc(n);
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		size_t ul = strlen(units[u]);
		for (size_t i = 0; i < n; i++)
			s[i] = (unsigned char)units[u][i % ul];
		for (int k = 0; k < NK_PRETOK_COUNT; k++) {
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			size_t pieces = 0;
			for (size_t i = 0; i < n; pieces++)
				i += nk_pretok_next(k, s + i, n - i);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			double dt = (double)(t1.tv_sec - t0.tv_sec) +
				    (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
			CHECK_MSG(dt < (getenv("NK_SANITIZED") ? 10.0 : 0.5),
				  "unit %zu, %s: %.2f s for 1 MiB", u,
				  nk_pretok_name(k), dt);
			(void)pieces;
		}
	}
	free(s);
}

/* The hand-written matchers and PCRE2 running tiktoken's own pat_str
 * must cut every valid UTF-8 text in the same places: each checks the
 * other (Unicode categories, \s, look-ahead, case-insensitive
 * contractions, \p{N}{1,3}). */
static const char *palette[] = {
	"a", "Z", "word", "WORD", "Word", "'s", "'S", "'ll", "'Re", "'d", "'",
	"1", "12", "1234567", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n",
	" \n", "\r", ".", ",", "!?", "--", "(", "$", "_", "\xc3\xa9",
	"\xc3\x89", "\xc7\x85" /* Lt */, "\xca\xb0" /* Lm */,
	"\xe4\xb8\xad\xe6\x96\x87" /* Lo */, "\xcc\x81" /* Mn */,
	"\xd9\xa3" /* Nd */, "\xe2\x85\xa2" /* Nl */, "\xc2\xbd" /* No */,
	"\xc2\xa0" /* NBSP */, "\xe2\x80\x83" /* em space */,
	"\xe3\x80\x80" /* ideographic space */, "\xc2\x85" /* NEL */,
	"\xe2\x80\xa8" /* line separator */, "\xe2\x80\x8b" /* ZWSP, Cf */,
	"\xf0\x9f\x98\x80" /* emoji */, "\xe2\x80\x99" /* right quote */,
	"\xd7\x90" /* Hebrew */, "\xe0\xa4\x95\xe0\xa4\xbf" /* Devanagari */,
};

TEST(pcre2_agrees_with_builtin)
{
	static unsigned char text[4096];
	uint64_t seed = 12345;
	size_t np = sizeof palette / sizeof *palette;
	for (int kind = NK_PRETOK_R50K; kind <= NK_PRETOK_O200K; kind++) {
		nk_pretok_re *re = nk_pretok_re_new(nk_pretok_pattern(kind));
		CHECK_MSG(re != NULL, "%s: %s", nk_pretok_name(kind), nk_last_error());
		if (!re)
			continue;
		nk_pretok_matcher *m = nk_pretok_matcher_new(re);
		int shown = 0;
		for (int round = 0; round < 3000; round++) {
			size_t n = 0;
			int parts = 1 + (int)(seed % 24);
			for (int i = 0; i < parts; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				const char *p = palette[(seed >> 33) % np];
				memcpy(text + n, p, strlen(p));
				n += strlen(p);
			}
			for (size_t pos = 0; pos < n;) {
				size_t a = nk_pretok_next(kind, text + pos, n - pos);
				long b = nk_pretok_re_next(m, text, n, pos);
				if ((long)a != b) {
					if (!shown++) {
						char hex[400];
						size_t o = 0;
						for (size_t i = 0; i < n && o + 4 < sizeof hex; i++)
							o += (size_t)snprintf(hex + o, sizeof hex - o,
									      "%02x", text[i]);
						CHECK_MSG(0, "%s: at %zu built-in %zu, pcre2 %ld in %s",
							  nk_pretok_name(kind), pos, a, b, hex);
					}
					break;
				}
				pos += a;
			}
		}
		nk_pretok_matcher_free(m);
		nk_pretok_re_free(re);
	}
}

/* nk_pretok_split cuts the same pieces as nk_pretok_next, in batches of
 * any size, whatever the pattern (invalid UTF-8 included). */
TEST(split_matches_next)
{
	static unsigned char text[4096];
	static size_t end[64];
	uint64_t seed = 777;
	size_t np = sizeof palette / sizeof *palette;
	static const size_t batch[] = {1, 2, 5, 64};
	for (int kind = NK_PRETOK_NONE; kind <= NK_PRETOK_O200K; kind++) {
		int shown = 0;
		for (int round = 0; round < 500 && !shown; round++) {
			size_t n = 0;
			int parts = 1 + (int)(seed % 40);
			for (int i = 0; i < parts; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				const char *p = (seed >> 60) == 0 ? "\xe2\x82" /* cut */ :
						palette[(seed >> 33) % np];
				memcpy(text + n, p, strlen(p));
				n += strlen(p);
			}
			size_t max = batch[round % 4];
			size_t pos = 0;
			while (pos < n && !shown) {
				size_t m = nk_pretok_split(kind, text + pos, n - pos, end, max);
				if (m == 0 || m > max || (m < max && end[m - 1] != n - pos)) {
					CHECK_MSG(0, "%s: %zu pieces of at most %zu",
						  nk_pretok_name(kind), m, max);
					shown++;
					break;
				}
				for (size_t i = 0, q = 0; i < m; i++) {
					size_t k = nk_pretok_next(kind, text + pos + q, n - pos - q);
					if (end[i] != q + k) {
						CHECK_MSG(0, "%s: piece %zu at %zu ends at %zu, "
							  "next says %zu", nk_pretok_name(kind),
							  i, pos + q, end[i], q + k);
						shown++;
						break;
					}
					q = end[i];
				}
				pos += end[m - 1];
			}
		}
	}
	CHECK(nk_pretok_split(NK_PRETOK_CL100K, text, 0, end, 64) == 0);
	CHECK(nk_pretok_split(NK_PRETOK_CL100K, text, 5, end, 0) == 0);
}

/* Letter runs are read eight ASCII bytes at a time: every ASCII
 * character and some non-ASCII letters and marks, at every offset of a
 * run of mixed-case letters, after each kind of piece start, split as
 * PCRE2 splits them (so each byte's test of that word-wide check is
 * seen at each of the eight lanes). */
TEST(pcre2_agrees_on_letter_runs)
{
	static const char *const odd[] = {"\xc3\xa9", "\xc3\x9f", "\xce\xa9",
					  "\xcc\x81", "\xe2\x80\xa8", "\xef\xbc\xa1"};
	static const char *const pre[] = {"", " ", "'", "\n", "(", "1"};
	const char *base = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	for (int kind = NK_PRETOK_R50K; kind <= NK_PRETOK_O200K; kind++) {
		nk_pretok_re *re = nk_pretok_re_new(nk_pretok_pattern(kind));
		CHECK(re != NULL);
		if (!re)
			continue;
		nk_pretok_matcher *m = nk_pretok_matcher_new(re);
		size_t bad = 0;
		for (int c = 1; c < 128 + 6; c++)
			for (size_t at = 0; at < 20; at++)
				for (size_t pi = 0; pi < 6; pi++) {
					unsigned char text[128];
					size_t n = strlen(pre[pi]);
					memcpy(text, pre[pi], n);
					memcpy(text + n, base + (c % 7), at);
					n += at;
					if (c < 128) {
						text[n++] = (unsigned char)c;
					} else {
						size_t l = strlen(odd[c - 128]);
						memcpy(text + n, odd[c - 128], l);
						n += l;
					}
					memcpy(text + n, base + 30 + (c % 5), 12);
					n += 12;
					for (size_t pos = 0; pos < n;) {
						size_t a = nk_pretok_next(kind, text + pos,
									n - pos);
						long b = nk_pretok_re_next(m, text, n, pos);
						if ((long)a != b) {
							if (!bad++)
								CHECK_MSG(0, "%s: char %d at %zu "
									  "after '%s': built-in %zu, "
									  "pcre2 %ld at %zu",
									  nk_pretok_name(kind), c,
									  at, pre[pi], a, b, pos);
							break;
						}
						pos += a;
					}
				}
		nk_pretok_matcher_free(m);
		nk_pretok_re_free(re);
	}
}

/* Gaps and empty matches: text the pattern does not match is a piece of
 * its own; nothing is lost; a pattern that does not compile says where. */
TEST(pcre2_gaps_and_errors)
{
	nk_pretok_re *re = nk_pretok_re_new("\\p{L}+|x*");
	CHECK(re != NULL);
	nk_pretok_matcher *m = nk_pretok_matcher_new(re);
	const unsigned char *t = (const unsigned char *)"ab, cd\xff!";
	size_t n = strlen((const char *)t), pos = 0;
	long want[] = {2, 2, 2, 2};
	for (int i = 0; pos < n; i++) {
		long k = nk_pretok_re_next(m, t, n, pos);
		CHECK_MSG(i < 4 && k == want[i], "piece %d: %ld", i, k);
		if (k <= 0)
			break;
		pos += (size_t)k;
	}
	CHECK(pos == n);
	nk_pretok_matcher_free(m);
	nk_pretok_re_free(re);
	CHECK(nk_pretok_re_new("(\\p{L}") == NULL);
	CHECK(strstr(nk_last_error(), "at offset 6") != NULL);
}

int main(void)
{
	RUN(r50k);
	RUN(cl100k);
	RUN(o200k);
	RUN(none);
	RUN(names_and_patterns);
	reference_pattern("r50k_base", NK_PRETOK_R50K);
	reference_pattern("cl100k_base", NK_PRETOK_CL100K);
	reference_pattern("o200k_base", NK_PRETOK_O200K);
	RUN(linear_time);
	RUN(pcre2_agrees_with_builtin);
	RUN(split_matches_next);
	RUN(pcre2_agrees_on_letter_runs);
	RUN(pcre2_gaps_and_errors);
	return nk_test_exit();
}
