/* test_textblocks.c - blocks put back together are the input; every cut
 * is where the rule allows; a whole text encoded block by block gives
 * the same ids as encoded at once (all three tiktoken patterns); a pipe
 * hands over a line before its writer is done. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base.h"
#include "text/bpe.h"
#include "check.h"
#include "text/textblocks.h"

#define DATA "../shared/data/tiktoken"

static char dir[] = "/tmp/nk-textblocks-XXXXXX";
static char path[300];

/* Text that tempts every wrong cut: blank lines before letters (r50k's
 * \s+(?!\S) look-ahead), spaces and CR before newlines, digits and
 * apostrophes around newlines, non-ASCII letters and marks, Unicode and
 * control whitespace, slashes after newlines (o200k's punctuation runs
 * on over them), indented and punctuated lines. */
static size_t make_text(unsigned char *buf, size_t cap, uint64_t seed)
{
	static const char *bits[] = {
		"word", "Word", " the", "\n", "\n\n", "\n\n\n", " \n", "  \n",
		"\r\n", ".", "'s", "'T", "12", "345", "\xc3\xa9t\xc3\xa9",
		"\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x98\x80", "\xcc\x81",
		"\t", "x", "A", "?!", " ", "   ", "\xc2\xa0", "\n'", "\n1",
		"/", "\n/", ".\n/", "-", "\n-", "\n  *", "\xe2\x80\xa8", "\x0b",
		"\x0c", "\xe3\x80\x80", "\n\t.",
	};
	size_t n = 0, nb = sizeof bits / sizeof *bits;
	while (n + 8 < cap) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		const char *b = bits[(seed >> 33) % nb];
		size_t k = strlen(b);
		memcpy(buf + n, b, k);
		n += k;
	}
	return n;
}

static void write_file(const unsigned char *d, size_t n)
{
	FILE *fp = fopen(path, "wb");
	fwrite(d, 1, n, fp);
	fclose(fp);
}

/* NK_CUT_NEWLINE's rule, written out again: '\n', then spaces and tabs
 * and a visible ASCII character, not a '/' straight after the newline. */
static int newline_cut(const unsigned char *s, size_t at, size_t n)
{
	if (at < 1 || s[at - 1] != '\n')
		return 0;
	size_t j = at;
	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	return j < n && s[j] >= 0x21 && s[j] <= 0x7e && (j > at || s[j] != '/');
}

/* Reads every block of path; checks the cuts; returns the count. */
static size_t read_blocks(const char *p, size_t block, int cut,
			  const unsigned char *want, size_t n, int *ok)
{
	nk_textblocks *t = nk_textblocks_open(p, block, cut);
	nk_textblock b = {0};
	size_t at = 0, count = 0;
	int rc;
	*ok = t != NULL;
	while (t && (rc = nk_textblocks_next(t, &b)) == 1) {
		count++;
		if (b.size == 0 || b.offset != at || at + b.size > n ||
		    memcmp(b.data, want + at, b.size) != 0)
			*ok = 0;
		at += b.size;
		if (at < n && cut == NK_CUT_LINE && want[at - 1] != '\n')
			*ok = 0;
		if (at < n && cut == NK_CUT_PIECE &&
		    !(at >= 2 && want[at - 1] == '\n' && want[at - 2] > ' ' &&
		      want[at - 2] < 0x7f &&
		      ((want[at] | 32) >= 'a' && (want[at] | 32) <= 'z')))
			*ok = 0;
		if (at < n && cut == NK_CUT_NEWLINE && !newline_cut(want, at, n))
			*ok = 0;
		if (at < n && cut == NK_CUT_NONE)
			*ok = 0;
	}
	if (t && (rc != 0 || at != n))
		*ok = 0;
	nk_textblocks_close(t);
	free(b.buf);
	return count;
}

TEST(textblocks_mapped_and_streamed)
{
	static unsigned char text[200000];
	size_t n = make_text(text, sizeof text, 7);
	write_file(text, n);
	char cmd[640], gz[320];
	snprintf(cmd, sizeof cmd, "gzip -c <%s >%s.gz", path, path);
	CHECK(system(cmd) == 0);
	snprintf(gz, sizeof gz, "%s.gz", path);
	size_t blocks[] = {1, 2, 7, 100, 4096, 65536, 1 << 20};
	for (int c = NK_CUT_LINE; c <= NK_CUT_NONE; c++)
		for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++) {
			int ok1, ok2;
			size_t k1 = read_blocks(path, blocks[i], c, text, n, &ok1);
			size_t k2 = read_blocks(gz, blocks[i], c, text, n, &ok2);
			CHECK_MSG(ok1 && ok2, "cut %d, block %zu: mapped %d "
				  "streamed %d", c, blocks[i], ok1, ok2);
			CHECK(c != NK_CUT_NONE || (k1 == 1 && k2 == 1));
			CHECK(blocks[i] > 100 || c == NK_CUT_NONE || k1 > 100);
		}
	/* Empty input: no blocks at all. */
	write_file(text, 0);
	int ok;
	CHECK(read_blocks(path, 10, NK_CUT_LINE, text, 0, &ok) == 0 && ok);
	CHECK(nk_textblocks_open("/no/such/file", 10, NK_CUT_LINE) == NULL);
	CHECK(strstr(nk_last_error(), "/no/such/file") != NULL);
}

static int encode_all(nk_bpe_enc *e, const unsigned char *s, size_t n,
		      nk_bpe_ids *out)
{
	out->n = 0;
	return nk_bpe_encode(e, s, n, NK_SPECIAL_TEXT, out);
}

/* The promise tokenize -z -j makes: cutting at NK_CUT_PIECE points (and,
 * under cl100k and o200k, at NK_CUT_NEWLINE points) does not change a
 * single id, under each encoding's own pattern.  A group per
 * encoding, SKIP (never PASS) when its rank file is absent. */
static void piece_cuts_keep_ids(const char *name, int cut)
{
	static unsigned char text[120000];
	char rp[256], group[96];
	snprintf(rp, sizeof rp, DATA "/%s.tiktoken", name);
	snprintf(group, sizeof group, "textblocks_%s_cuts_keep_ids-%s",
		 cut == NK_CUT_PIECE ? "piece" : "newline", name);
	if (access(rp, R_OK) != 0) {
		nk_test_skip(group, DATA " is absent");
		return;
	}
	nk_test_begin(group);
	nk_bpe *b = NULL;
	int rc = nk_bpe_open(&b, rp, NULL);
	CHECK_MSG(rc == 0, "%s", nk_last_error());
	if (rc) {
		nk_test_end();
		return;
	}
	nk_bpe_enc *e = nk_bpe_enc_new(b);
	nk_bpe_ids whole = {0}, part = {0}, joined = {0};
	for (uint64_t seed = 1; seed <= 4; seed++) {
		size_t n = make_text(text, sizeof text, seed);
		write_file(text, n);
		CHECK(encode_all(e, text, n, &whole) == 0);
		size_t sizes[] = {1, 13, 200};
		for (int z = 0; z < 3; z++) {
			nk_textblocks *t = nk_textblocks_open(path, sizes[z],
							      cut);
			nk_textblock blk = {0};
			joined.n = 0;
			size_t nblk = 0;
			while (t && nk_textblocks_next(t, &blk) == 1) {
				nblk++;
				CHECK(encode_all(e, blk.data, blk.size, &part) == 0);
				for (size_t i = 0; i < part.n; i++)
					nk_bpe_ids_push(&joined, part.v[i]);
			}
			nk_textblocks_close(t);
			free(blk.buf);
			CHECK(nblk > 50);
			int same = joined.n == whole.n &&
				   !memcmp(joined.v, whole.v, 4 * whole.n);
			CHECK_MSG(same, "%s, seed %llu, block %zu: ids differ",
				  name, (unsigned long long)seed, sizes[z]);
		}
	}
	nk_bpe_ids_free(&whole);
	nk_bpe_ids_free(&part);
	nk_bpe_ids_free(&joined);
	nk_bpe_enc_free(e);
	nk_bpe_free(b);
	nk_test_end();
}

/* A typed line is handed over while the writer still holds the pipe. */
TEST(textblocks_pipe_is_interactive)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	int saved = dup(STDIN_FILENO);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	CHECK(write(fds[1], "first line\nsecond", 17) == 17);
	nk_textblocks *t = nk_textblocks_open("-", 1 << 20, NK_CUT_LINE);
	nk_textblock b = {0};
	alarm(10); /* a hang here is the failure */
	CHECK(t && nk_textblocks_next(t, &b) == 1);
	CHECK(b.size == 11 && !memcmp(b.data, "first line\n", 11) && b.flush);
	CHECK(write(fds[1], " half\n", 6) == 6);
	close(fds[1]);
	CHECK(nk_textblocks_next(t, &b) == 1);
	CHECK(b.size == 12 && !memcmp(b.data, "second half\n", 12));
	CHECK(nk_textblocks_next(t, &b) == 0);
	alarm(0);
	nk_textblocks_close(t);
	free(b.buf);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		puts("FAIL textblocks: cannot make a temporary directory");
		return 1;
	}
	snprintf(path, sizeof path, "%s/text", dir);
	RUN(textblocks_mapped_and_streamed);
	piece_cuts_keep_ids("r50k_base", NK_CUT_PIECE);
	piece_cuts_keep_ids("cl100k_base", NK_CUT_PIECE);
	piece_cuts_keep_ids("o200k_base", NK_CUT_PIECE);
	piece_cuts_keep_ids("cl100k_base", NK_CUT_NEWLINE);
	piece_cuts_keep_ids("o200k_base", NK_CUT_NEWLINE);
	RUN(textblocks_pipe_is_interactive);
	char cmd[340];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) != 0 || nk_test_exit();
}
