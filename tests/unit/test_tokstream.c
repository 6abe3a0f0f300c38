/* test_tokstream.c - token-id streams: round trips, form detection, every
 * kind of bad input with its position, files, gzip, stdin, chunk
 * boundaries, write errors; and a throughput figure (a comment line). */
#include "check.h"

#include "core/base.h"
#include "formats/tokstream.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A set of sequences, flattened. */
typedef struct seqs {
	uint32_t *ids;
	size_t nids, cap_ids;
	size_t *len;
	size_t nseq, cap_seq;
} seqs;

static void seqs_add(seqs *s, const uint32_t *ids, size_t n)
{
	if (s->nids + n > s->cap_ids) {
		s->cap_ids = (s->nids + n) * 2 + 16;
		s->ids = realloc(s->ids, s->cap_ids * sizeof *s->ids);
	}
	if (s->nseq == s->cap_seq) {
		s->cap_seq = s->cap_seq * 2 + 16;
		s->len = realloc(s->len, s->cap_seq * sizeof *s->len);
	}
	if (n)
		memcpy(s->ids + s->nids, ids, n * sizeof *ids);
	s->nids += n;
	s->len[s->nseq++] = n;
}

static void seqs_free(seqs *s)
{
	free(s->ids);
	free(s->len);
	memset(s, 0, sizeof *s);
}

static int seqs_equal(const seqs *a, const seqs *b)
{
	return a->nseq == b->nseq && a->nids == b->nids &&
	       (a->nseq == 0 ||
		memcmp(a->len, b->len, a->nseq * sizeof *a->len) == 0) &&
	       (a->nids == 0 ||
		memcmp(a->ids, b->ids, a->nids * sizeof *a->ids) == 0);
}

/* Reads a whole stream; returns 0 or the negative error code, with the
 * message copied to msg. */
static int read_all(nk_tokreader *r, seqs *out, char *msg, size_t msgsz)
{
	uint32_t *ids;
	size_t n;
	int rc;
	while ((rc = nk_tokreader_next(r, &ids, &n)) == 1)
		seqs_add(out, ids, n);
	if (msg)
		snprintf(msg, msgsz, "%s", rc < 0 ? nk_last_error() : "");
	return rc;
}

/* Writes `s` with the writer into a memory buffer. */
static char *write_mem(const seqs *s, int binary, size_t *size)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, size);
	nk_tokwriter *w = nk_tokwriter_open(fp, binary);
	size_t at = 0;
	for (size_t i = 0; i < s->nseq; i++) {
		if (nk_tokwriter_put(w, s->ids ? s->ids + at : NULL,
				     s->len[i]) != 0)
			printf("# put failed: %s\n", nk_last_error());
		at += s->len[i];
	}
	if (nk_tokwriter_close(w) != 0)
		printf("# close failed: %s\n", nk_last_error());
	fclose(fp);
	return buf;
}

/* A source that hands out a buffer a few bytes at a time. */
typedef struct dribble {
	const unsigned char *data;
	size_t size, pos, step;
} dribble;

static ssize_t dribble_read(void *ctx, void *buf, size_t n)
{
	dribble *d = ctx;
	size_t k = d->size - d->pos;
	if (k > d->step)
		k = d->step;
	if (k > n)
		k = n;
	memcpy(buf, d->data + d->pos, k);
	d->pos += k;
	return (ssize_t)k;
}

/* Parses `data` from memory and through sources of every step 1..7 and one
 * large one; all must agree on the sequences, the code and the message.
 * Returns the code; the sequences and message of the memory parse. */
static int parse_all_ways(const void *data, size_t size, uint32_t max_id,
			  seqs *out, char *msg, size_t msgsz, int *agree)
{
	nk_tokreader *r = nk_tokreader_open_mem(data, size, "t");
	if (!r) {
		snprintf(msg, msgsz, "%s", nk_last_error());
		*agree = 0;
		return -99;
	}
	nk_tokreader_set_max_id(r, max_id);
	int rc = read_all(r, out, msg, msgsz);
	nk_tokreader_close(r);
	*agree = 1;
	static const size_t steps[] = {1, 2, 3, 4, 5, 7, 65536 + 13};
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		dribble d = {data, size, 0, steps[k]};
		seqs s2 = {0};
		char m2[512];
		nk_tokreader *r2 = nk_tokreader_open_fn(dribble_read, &d, "t");
		nk_tokreader_set_max_id(r2, max_id);
		int rc2 = read_all(r2, &s2, m2, sizeof m2);
		nk_tokreader_close(r2);
		if (rc2 != rc || strcmp(m2, msg) != 0 || !seqs_equal(&s2, out)) {
			printf("# step %zu: rc %d vs %d, '%s' vs '%s'\n",
			       steps[k], rc2, rc, m2, msg);
			*agree = 0;
		}
		seqs_free(&s2);
	}
	return rc;
}

static seqs random_seqs(size_t nseq, size_t maxlen)
{
	seqs s = {0};
	uint32_t *tmp = malloc((maxlen + 1) * sizeof *tmp);
	for (size_t i = 0; i < nseq; i++) {
		size_t n = rnd() % 4 == 0 ? 0 : rnd() % (maxlen + 1);
		for (size_t k = 0; k < n; k++) {
			switch (rnd() % 5) {
			case 0: tmp[k] = NK_TOK_ID_MAX; break;
			case 1: tmp[k] = (uint32_t)(rnd() % 10); break;
			case 2: tmp[k] = (uint32_t)(rnd() % NK_TOK_ID_MAX); break;
			default: tmp[k] = (uint32_t)(rnd() % 50000); break;
			}
		}
		seqs_add(&s, tmp, n);
	}
	free(tmp);
	return s;
}

static char *write_temp(const void *data, size_t size)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/nk_tokstream_XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

/* ---- tests -------------------------------------------------------------- */

TEST(text_writer_exact)
{
	seqs s = {0};
	uint32_t a[] = {1, 2, 30}, b[] = {NK_TOK_ID_MAX, 0, 1000000007};
	seqs_add(&s, a, 3);
	seqs_add(&s, NULL, 0);
	seqs_add(&s, b, 3);
	size_t size;
	char *out = write_mem(&s, 0, &size);
	const char want[] = "1 2 30\n\n4294967294 0 1000000007\n";
	CHECK(size == sizeof want - 1);
	CHECK(memcmp(out, want, sizeof want - 1) == 0);
	free(out);
	seqs_free(&s);
}

/* Every digit count, through nk_tok_format_line and the writer alike;
 * and formatted pieces written raw (with their CRC) make the same
 * stream as the writer's own records. */
TEST(format_and_raw_parts)
{
	uint32_t v[] = {0, 9, 10, 99, 100, 999, 1000, 65535, 100000, 999999,
			1000000, 12345678, 999999999, 1000000000, NK_TOK_ID_MAX};
	const char want[] = "0 9 10 99 100 999 1000 65535 100000 999999 1000000 "
			    "12345678 999999999 1000000000 4294967294\n";
	char line[sizeof want + 16];
	size_t n = nk_tok_format_line(line, v, 15);
	CHECK(n == sizeof want - 1 && memcmp(line, want, n) == 0);
	CHECK(nk_tok_format_line(line, v, 0) == 1 && line[0] == '\n');
	/* Every id under 10^6, then a million spread over the whole range,
	 * one at a time against printf. */
	uint64_t r = 88172645463325252ull;
	int bad = 0;
	for (uint32_t i = 0; i < 2000000 && bad < 3; i++) {
		r = r * 6364136223846793005ull + 1;
		uint32_t id = i < 1000000 ? i : (uint32_t)(r >> 32) >> (r >> 59);
		char want1[16], got1[16];
		int w1 = snprintf(want1, sizeof want1, "%u\n", id);
		size_t g1 = nk_tok_format_line(got1, &id, 1);
		if ((size_t)w1 != g1 || memcmp(want1, got1, g1)) {
			CHECK_MSG(0, "id %u: '%.*s'", id, (int)g1, got1);
			bad++;
		}
	}
	/* 3000 x (15 ids, none, 4 ids): over the writer's 64 KB buffer. */
	enum { R = 3000 };
	seqs s = {0};
	uint32_t *ids = malloc(R * 19 * sizeof *ids), *counts = malloc(R * 3 * 4);
	for (int r = 0; r < R; r++) {
		seqs_add(&s, v, 15);
		seqs_add(&s, NULL, 0);
		seqs_add(&s, v + 3, 4);
		memcpy(ids + 19 * r, v, 15 * sizeof *v);
		memcpy(ids + 19 * r + 15, v + 3, 4 * sizeof *v);
		counts[3 * r] = 15, counts[3 * r + 1] = 0, counts[3 * r + 2] = 4;
	}
	unsigned char *big = malloc(R * 19 * 11 + R * 3 * 4 + 16);
	for (int bin = 0; bin < 2; bin++) {
		size_t size, len = 0;
		char *ref = write_mem(&s, bin, &size);
		if (bin) {
			len = nk_tok_format_records(big, ids, counts, 3 * R);
		} else {
			for (int l = 0, off = 0; l < 3 * R; off += counts[l++])
				len += nk_tok_format_line((char *)big + len, ids + off,
							  counts[l]);
		}
		/* A small piece (into the buffer), then a large one (around
		 * it, its CRC joined to the running one). */
		FILE *fp = tmpfile();
		nk_tokwriter *w = nk_tokwriter_open(fp, bin);
		CHECK(nk_tokwriter_put_raw(w, big, 5, (uint32_t)crc32(0, big, 5), 0) == 0);
		CHECK(nk_tokwriter_put_raw(w, big + 5, len - 5,
					   (uint32_t)crc32(0, big + 5, (uInt)(len - 5)),
					   3 * R) == 0);
		CHECK(nk_tokwriter_close(w) == 0);
		long got = ftell(fp);
		char *buf = malloc((size_t)got + 1);
		rewind(fp);
		CHECK(fread(buf, 1, (size_t)got, fp) == (size_t)got);
		fclose(fp);
		CHECK(len > (1u << 17));
		CHECK_MSG((size_t)got == size && !memcmp(buf, ref, size),
			  "%s: raw parts differ from the writer's records",
			  bin ? "binary" : "text");
		free(buf);
		free(ref);
	}
	free(big);
	free(ids);
	free(counts);
	seqs_free(&s);
}

TEST(binary_writer_layout)
{
	seqs s = {0};
	uint32_t a[] = {7, 0x01020304};
	seqs_add(&s, a, 2);
	seqs_add(&s, NULL, 0);
	size_t size;
	unsigned char *out = (unsigned char *)write_mem(&s, 1, &size);
	CHECK(size == 16 + 12 + 4 + 16);
	if (size != 48) {
		free(out);
		seqs_free(&s);
		return;
	}
	static const unsigned char head[] = {
		'N', 'K', 'T', 'S', 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 7, 0, 0, 0, 4, 3, 2, 1, 0, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 0, 0};
	CHECK(memcmp(out, head, sizeof head) == 0);
	uint32_t crc = (uint32_t)crc32(0, out, 32);
	CHECK(nk_load_u32le(out + 44) == crc);
	free(out);
	seqs_free(&s);
}

TEST(roundtrip_random)
{
	for (int round = 0; round < 20; round++) {
		seqs s = random_seqs(1 + rnd() % 200, round == 7 ? 40000 : 50);
		for (int binary = 0; binary < 2; binary++) {
			size_t size;
			char *buf = write_mem(&s, binary, &size);
			seqs got = {0};
			char msg[512];
			int agree;
			int rc = parse_all_ways(buf, size, 0, &got, msg,
						sizeof msg, &agree);
			CHECK_MSG(rc == 0, "round %d binary %d: %s", round,
				  binary, msg);
			CHECK(agree);
			CHECK(seqs_equal(&s, &got));
			/* and the other form from what was read */
			size_t size2;
			char *buf2 = write_mem(&got, !binary, &size2);
			seqs got2 = {0};
			nk_tokreader *r = nk_tokreader_open_mem(buf2, size2, "x");
			CHECK(nk_tokreader_is_binary(r) == !binary);
			CHECK(read_all(r, &got2, NULL, 0) == 0);
			CHECK(nk_tokreader_seqno(r) == s.nseq);
			nk_tokreader_close(r);
			CHECK(seqs_equal(&s, &got2));
			free(buf);
			free(buf2);
			seqs_free(&got);
			seqs_free(&got2);
		}
		seqs_free(&s);
	}
}

TEST(text_lenient_input)
{
	static const struct {
		const char *in;
		const char *want; /* sequences written back as text */
	} cases[] = {
		{"", ""},
		{"\n", "\n"},
		{"1 2 3", "1 2 3\n"},
		{"  1\t\t2   3 \t\n\n7\n", "1 2 3\n\n7\n"},
		{"1 2\r\n3\r\n", "1 2\n3\n"},
		{"5\r", "5\n"},
		{"   ", "\n"},
		{"007 0 00\n", "7 0 0\n"},
		{"4294967294\n", "4294967294\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		seqs got = {0};
		char msg[512];
		int agree;
		int rc = parse_all_ways(cases[i].in, strlen(cases[i].in), 0,
					&got, msg, sizeof msg, &agree);
		CHECK_MSG(rc == 0, "case %zu: %s", i, msg);
		CHECK_MSG(agree, "case %zu", i);
		size_t size;
		char *out = write_mem(&got, 0, &size);
		CHECK_MSG(size == strlen(cases[i].want) &&
			  memcmp(out, cases[i].want, size) == 0,
			  "case %zu: got '%.*s'", i, (int)size, out);
		free(out);
		seqs_free(&got);
	}
}

TEST(detection)
{
	nk_tokreader *r = nk_tokreader_open_mem("", 0, "e");
	uint32_t *ids;
	size_t n;
	CHECK(r && !nk_tokreader_is_binary(r));
	CHECK(nk_tokreader_next(r, &ids, &n) == 0);
	CHECK(nk_tokreader_next(r, &ids, &n) == 0);
	nk_tokreader_close(r);
	r = nk_tokreader_open_mem("NKTS", 4, "b");
	CHECK(r && nk_tokreader_is_binary(r));
	nk_tokreader_close(r);
	/* a partial magic is text, and bad text */
	r = nk_tokreader_open_mem("NKT", 3, "p");
	CHECK(r && !nk_tokreader_is_binary(r));
	CHECK(nk_tokreader_next(r, &ids, &n) == -NK_EFORMAT);
	CHECK(strcmp(nk_last_error(),
		     "p:1:1: expected a token id, found 'N'") == 0);
	nk_tokreader_close(r);
	CHECK(strcmp(nk_tokreader_name(r = nk_tokreader_open_mem("1", 1,
			"name")), "name") == 0);
	nk_tokreader_close(r);
}

/* One bad input: the code and the exact message, the same whichever way
 * the bytes arrive. */
static void expect_error(const void *in, size_t size, uint32_t max_id,
			 int code, const char *want, size_t nseq_before)
{
	seqs got = {0};
	char msg[512];
	int agree;
	int rc = parse_all_ways(in, size, max_id, &got, msg, sizeof msg,
				&agree);
	CHECK_MSG(rc == -code, "'%s': rc %d, message '%s'", want, rc, msg);
	CHECK_MSG(strcmp(msg, want) == 0, "got '%s', want '%s'", msg, want);
	CHECK_MSG(agree, "'%s': sources disagree", want);
	CHECK_MSG(got.nseq == nseq_before, "'%s': %zu sequences before",
		  want, got.nseq);
	seqs_free(&got);
}

#define TEXT_BAD(in, code, want, before) \
	expect_error(in, sizeof in - 1, 0, code, want, before)

TEST(text_bad_input)
{
	TEXT_BAD("1 2\nx\n", NK_EFORMAT,
		 "t:2:1: expected a token id, found 'x'", 1);
	TEXT_BAD("1 -5\n", NK_EFORMAT,
		 "t:1:3: expected a token id, found '-' (token ids are not "
		 "negative)", 0);
	TEXT_BAD("3\n\n4294967296\n", NK_ERANGE,
		 "t:3:1: token id 4294967296 out of range (the largest is "
		 "4294967294)", 2);
	TEXT_BAD("1 4294967295", NK_ERANGE,
		 "t:1:3: token id 4294967295 out of range (the largest is "
		 "4294967294)", 0);
	TEXT_BAD("99999999999999999999999999999\n", NK_ERANGE,
		 "t:1:1: token id 99999999999999999999... out of range (the "
		 "largest is 4294967294)", 0);
	TEXT_BAD("12a 3\n", NK_EFORMAT,
		 "t:1:3: expected a space or the end of the line after a "
		 "token id, found 'a'", 0);
	TEXT_BAD("1,2\n", NK_EFORMAT,
		 "t:1:2: expected a space or the end of the line after a "
		 "token id, found ','", 0);
	TEXT_BAD("1\r2\n", NK_EFORMAT,
		 "t:1:3: expected a newline after a carriage return, found "
		 "'2'", 0);
	TEXT_BAD("1\n2 +3\n", NK_EFORMAT,
		 "t:2:3: expected a token id, found '+'", 1);
	TEXT_BAD("\x01", NK_EFORMAT,
		 "t:1:1: expected a token id, found '\\x01'", 0);
	TEXT_BAD("7\n\0", NK_EFORMAT,
		 "t:2:1: expected a token id, found '\\x00'", 1);
	TEXT_BAD("1 \xc3\xa9\n", NK_EFORMAT,
		 "t:1:3: expected a token id, found '\\xc3'", 0);
	TEXT_BAD("\v1", NK_EFORMAT,
		 "t:1:1: expected a token id, found '\\x0b'", 0);
	char zeros[80];
	memset(zeros, '0', sizeof zeros);
	zeros[sizeof zeros - 1] = '\n';
	expect_error(zeros, sizeof zeros, 0, NK_ERANGE,
		     "t:1:1: token id 00000000000000000000... too long (more "
		     "than 64 digits)", 0);
	/* 64 digits is still fine */
	seqs got = {0};
	char msg[512];
	int agree;
	CHECK(parse_all_ways(zeros + 15, 65, 0, &got, msg, sizeof msg,
			     &agree) == 0 && agree && got.nids == 1);
	seqs_free(&got);
}

TEST(max_id)
{
	expect_error("1 4 2\n0 5 1\n", 12, 5, NK_ERANGE,
		     "t:2:3: token id 5 out of range for vocabulary size 5",
		     1);
	/* the same ids in binary: record 2 starts at 16+16, id 1 at +8 */
	seqs s = {0};
	uint32_t a[] = {1, 4, 2}, b[] = {0, 5, 1};
	seqs_add(&s, a, 3);
	seqs_add(&s, b, 3);
	size_t size;
	char *buf = write_mem(&s, 1, &size);
	expect_error(buf, size, 5, NK_ERANGE,
		     "t: token id 5 at byte offset 40 out of range for "
		     "vocabulary size 5", 1);
	seqs got = {0};
	char msg[512];
	int agree;
	CHECK(parse_all_ways(buf, size, 6, &got, msg, sizeof msg, &agree) ==
	      0 && agree && seqs_equal(&got, &s));
	free(buf);
	seqs_free(&got);
	seqs_free(&s);
}

/* Builds a binary stream by hand: header, then raw words. */
static size_t bin(unsigned char *out, unsigned version, unsigned width,
		  uint32_t flags, uint32_t reserved)
{
	memcpy(out, "NKTS", 4);
	nk_store_u16le(out + 4, (uint16_t)version);
	nk_store_u16le(out + 6, (uint16_t)width);
	nk_store_u32le(out + 8, flags);
	nk_store_u32le(out + 12, reserved);
	return 16;
}

static size_t bin_end(unsigned char *out, size_t len, uint64_t nrec)
{
	uint32_t crc = (uint32_t)crc32(0, out, (uInt)len);
	nk_store_u32le(out + len, 0xFFFFFFFFu);
	nk_store_u64le(out + len + 4, nrec);
	nk_store_u32le(out + len + 12, crc);
	return len + 16;
}

TEST(binary_bad_input)
{
	unsigned char b[256];
	size_t n;

	n = bin(b, 1, 4, 0, 0);
	expect_error(b, 9, 0, NK_EFORMAT,
		     "t: truncated header at byte offset 0: 9 of 16 bytes", 0);
	n = bin(b, 2, 4, 0, 0);
	expect_error(b, bin_end(b, n, 0), 0, NK_EVERSION,
		     "t: token stream version 2 at byte offset 0; this nnkit "
		     "reads version 1 (a newer nnkit wrote it: upgrade, or "
		     "write text with tokenize)", 0);
	n = bin(b, 1, 2, 0, 0);
	expect_error(b, bin_end(b, n, 0), 0, NK_EFORMAT,
		     "t: header at byte offset 0: id width 2 bytes not "
		     "supported (only 4)", 0);
	n = bin(b, 1, 4, 1, 0);
	expect_error(b, bin_end(b, n, 0), 0, NK_EFORMAT,
		     "t: header at byte offset 0: unknown flags 0x00000001", 0);
	n = bin(b, 1, 4, 0, 0x6b6e756a); /* trailing garbage in the header */
	expect_error(b, bin_end(b, n, 0), 0, NK_EFORMAT,
		     "t: header at byte offset 12: reserved field is "
		     "0x6b6e756a, not 0", 0);

	/* truncated record: count 100, 12 bytes of ids */
	n = bin(b, 1, 4, 0, 0);
	nk_store_u32le(b + n, 100);
	memset(b + n + 4, 0, 12);
	expect_error(b, n + 16, 0, NK_EFORMAT,
		     "t: truncated record at byte offset 16: count 100 ids, "
		     "12 bytes left", 0);
	/* a record after a good one, cut inside its count */
	nk_store_u32le(b + n, 1);
	nk_store_u32le(b + n + 4, 42);
	expect_error(b, n + 8 + 2, 0, NK_EFORMAT,
		     "t: truncated record at byte offset 24: 2 of 4 count "
		     "bytes", 1);
	/* no end record */
	expect_error(b, n + 8, 0, NK_EFORMAT,
		     "t: truncated stream at byte offset 24: no end record "
		     "(the writer stopped before finishing)", 1);
	/* absurd count */
	nk_store_u32le(b + n, NK_TOK_SEQ_MAX + 1);
	expect_error(b, n + 8, 0, NK_EFORMAT,
		     "t: record at byte offset 16: count 268435457 ids is over "
		     "the limit of 268435456", 0);
	nk_store_u32le(b + n, 0xFFFFFFF0u);
	expect_error(b, n + 8, 0, NK_EFORMAT,
		     "t: record at byte offset 16: count 4294967280 ids is "
		     "over the limit of 268435456", 0);
	/* a reserved id inside a record */
	nk_store_u32le(b + n, 2);
	nk_store_u32le(b + n + 4, 3);
	nk_store_u32le(b + n + 8, 0xFFFFFFFFu);
	expect_error(b, bin_end(b, n + 12, 1), 0, NK_ERANGE,
		     "t: reserved token id 4294967295 at byte offset 24", 0);
	/* checksum: flip one id byte, fix nothing else */
	nk_store_u32le(b + n + 8, 9);
	size_t len = bin_end(b, n + 12, 1);
	uint32_t stored = nk_load_u32le(b + len - 4);
	b[n + 4] ^= 1;
	char want[256];
	snprintf(want, sizeof want,
		 "t: checksum mismatch in the end record at byte offset 28: "
		 "stored 0x%08x, computed 0x%08x", (unsigned)stored,
		 (unsigned)crc32(0, b, (uInt)(n + 12)));
	expect_error(b, len, 0, NK_ECHECKSUM, want, 1);
	b[n + 4] ^= 1;
	/* wrong sequence count in the end record */
	len = bin_end(b, n + 12, 2);
	expect_error(b, len, 0, NK_EFORMAT,
		     "t: end record at byte offset 28 counts 2 sequences, the "
		     "stream has 1", 1);
	/* truncated end record */
	len = bin_end(b, n + 12, 1);
	expect_error(b, len - 3, 0, NK_EFORMAT,
		     "t: truncated end record at byte offset 28: 13 of 16 "
		     "bytes", 1);
	/* garbage after the end record */
	memcpy(b + len, "NK", 2);
	expect_error(b, len + 2, 0, NK_EFORMAT,
		     "t: unexpected data at byte offset 44 after the end "
		     "record (expected the end of input or another \"NKTS\" "
		     "header)", 1);
	memcpy(b + len, "1 2\n", 4);
	expect_error(b, len + 4, 0, NK_EFORMAT,
		     "t: unexpected data at byte offset 44 after the end "
		     "record (expected the end of input or another \"NKTS\" "
		     "header)", 1);
	/* a second header cut short */
	memcpy(b + len, "NKTS\1\0", 6);
	expect_error(b, len + 6, 0, NK_EFORMAT,
		     "t: truncated header at byte offset 44: 6 of 16 bytes",
		     1);
}

TEST(sticky_error)
{
	nk_tokreader *r = nk_tokreader_open_mem("1\nz\n3\n", 6, "s");
	uint32_t *ids;
	size_t n;
	CHECK(nk_tokreader_next(r, &ids, &n) == 1 && n == 1 && ids[0] == 1);
	CHECK(nk_tokreader_next(r, &ids, &n) == -NK_EFORMAT);
	nk_error_clear();
	CHECK(nk_tokreader_next(r, &ids, &n) == -NK_EFORMAT);
	CHECK(strcmp(nk_last_error(),
		     "s:2:1: expected a token id, found 'z'") == 0);
	nk_tokreader_close(r);
}

TEST(concatenated_binary)
{
	seqs a = random_seqs(30, 20), b = random_seqs(40, 20), both = {0};
	size_t na, nb;
	char *ba = write_mem(&a, 1, &na), *bb = write_mem(&b, 1, &nb);
	char *cat = malloc(na + nb);
	memcpy(cat, ba, na);
	memcpy(cat + na, bb, nb);
	for (int k = 0; k < 2; k++) {
		const seqs *s = k ? &b : &a;
		size_t at = 0;
		for (size_t i = 0; i < s->nseq; i++) {
			seqs_add(&both, s->ids + at, s->len[i]);
			at += s->len[i];
		}
	}
	seqs got = {0};
	char msg[512];
	int agree;
	CHECK(parse_all_ways(cat, na + nb, 0, &got, msg, sizeof msg,
			     &agree) == 0);
	CHECK(agree);
	CHECK(seqs_equal(&got, &both));
	free(ba);
	free(bb);
	free(cat);
	seqs_free(&a);
	seqs_free(&b);
	seqs_free(&both);
	seqs_free(&got);
}

/* A line far longer than the reader's 64 KiB chunk, read from a file: ids
 * are split across every kind of chunk boundary. */
TEST(file_and_long_lines)
{
	seqs s = {0};
	size_t big = 300000;
	uint32_t *tmp = malloc(big * sizeof *tmp);
	for (size_t i = 0; i < big; i++)
		tmp[i] = (uint32_t)(rnd() % 4000000000u);
	seqs_add(&s, tmp, 3);
	seqs_add(&s, tmp, big);
	seqs_add(&s, NULL, 0);
	seqs_add(&s, tmp + 5, big / 3);
	free(tmp);
	for (int binary = 0; binary < 2; binary++) {
		size_t size;
		char *buf = write_mem(&s, binary, &size);
		char *path = write_temp(buf, size);
		CHECK(path != NULL);
		if (!path) {
			free(buf);
			continue;
		}
		nk_tokreader *r = nk_tokreader_open(path);
		CHECK(r != NULL);
		if (r) {
			CHECK(strcmp(nk_tokreader_name(r), path) == 0);
			CHECK(nk_tokreader_is_binary(r) == binary);
			seqs got = {0};
			char msg[512];
			CHECK_MSG(read_all(r, &got, msg, sizeof msg) == 0,
				  "%s", msg);
			CHECK(seqs_equal(&got, &s));
			CHECK(nk_tokreader_close(r) == 0);
			seqs_free(&got);
		}
		unlink(path);
		free(buf);
	}
	seqs_free(&s);
	CHECK(nk_tokreader_open("/nonexistent/nk.tok") == NULL);
	CHECK(strstr(nk_last_error(), "/nonexistent/nk.tok") != NULL);
}

/* Errors from a file read in chunks point at the same place as from
 * memory: an out-of-range id straddling a chunk boundary. */
TEST(file_error_across_chunks)
{
	size_t size = 70000;
	char *buf = malloc(size);
	for (size_t i = 0; i < size; i += 2)
		memcpy(buf + i, "1 ", 2);
	/* "4294967299" over the 64 KiB boundary, on line 1 */
	memcpy(buf + 65530, "4294967299", 10);
	buf[65540] = ' ';
	char *path = write_temp(buf, size);
	CHECK(path != NULL);
	if (path) {
		nk_tokreader *r = nk_tokreader_open(path);
		seqs got = {0};
		char msg[512], want[512];
		CHECK(read_all(r, &got, msg, sizeof msg) == -NK_ERANGE);
		snprintf(want, sizeof want,
			 "%s:1:65531: token id 4294967299 out of range (the "
			 "largest is 4294967294)", path);
		CHECK_MSG(strcmp(msg, want) == 0, "got '%s'", msg);
		nk_tokreader_close(r);
		seqs_free(&got);
		unlink(path);
	}
	free(buf);
}

TEST(gzip_input)
{
	seqs s = random_seqs(500, 60);
	for (int binary = 0; binary < 2; binary++) {
		size_t size;
		char *buf = write_mem(&s, binary, &size);
		char path[] = "/tmp/nk_tokstream_gz_XXXXXX";
		int fd = mkstemp(path);
		CHECK(fd >= 0);
		if (fd < 0) {
			free(buf);
			continue;
		}
		close(fd);
		gzFile gz = gzopen(path, "wb");
		CHECK(gz && gzwrite(gz, buf, (unsigned)size) == (int)size);
		CHECK(gzclose(gz) == Z_OK);
		nk_tokreader *r = nk_tokreader_open(path);
		CHECK(r != NULL);
		if (r) {
			CHECK(nk_tokreader_is_binary(r) == binary);
			seqs got = {0};
			char msg[512];
			CHECK_MSG(read_all(r, &got, msg, sizeof msg) == 0,
				  "%s", msg);
			CHECK(seqs_equal(&got, &s));
			nk_tokreader_close(r);
			seqs_free(&got);
		}
		/* the same file cut short: the reader reports it, naming it */
		FILE *fp = fopen(path, "r+");
		fseek(fp, 0, SEEK_END);
		long gzsize = ftell(fp);
		fclose(fp);
		CHECK(truncate(path, gzsize / 2) == 0);
		r = nk_tokreader_open(path);
		if (r) {
			seqs got = {0};
			char msg[512];
			CHECK(read_all(r, &got, msg, sizeof msg) < 0);
			CHECK_MSG(strncmp(msg, path, strlen(path)) == 0 &&
				  strstr(msg, "truncated") != NULL, "%s", msg);
			CHECK(got.nseq < s.nseq);
			nk_tokreader_close(r);
			seqs_free(&got);
		} else {
			CHECK_MSG(strstr(nk_last_error(), "truncated") != NULL,
				  "%s", nk_last_error());
		}
		unlink(path);
		free(buf);
	}
	seqs_free(&s);
}

/* A text stream is recognised from its first byte: a reader on a pipe
 * returns the first line before the writer sends more. */
TEST(text_detected_from_one_byte)
{
	dribble d = {(const unsigned char *)"5\n", 2, 0, 1};
	nk_tokreader *r = nk_tokreader_open_fn(dribble_read, &d, "one");
	CHECK(r && !nk_tokreader_is_binary(r));
	CHECK(d.pos == 1); /* open read one byte, not four */
	uint32_t *ids;
	size_t n;
	CHECK(nk_tokreader_next(r, &ids, &n) == 1 && n == 1 && ids[0] == 5);
	CHECK(d.pos == 2);
	nk_tokreader_close(r);
}

TEST(stdin_input)
{
	const char text[] = "5 6\n\n7\n";
	char *path = write_temp(text, sizeof text - 1);
	CHECK(path != NULL);
	if (!path)
		return;
	int saved = dup(STDIN_FILENO);
	int fd = open(path, O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	nk_tokreader *r = nk_tokreader_open("-");
	CHECK(r != NULL);
	if (r) {
		CHECK(strcmp(nk_tokreader_name(r), "(stdin)") == 0);
		seqs got = {0};
		CHECK(read_all(r, &got, NULL, 0) == 0);
		CHECK(got.nseq == 3 && got.nids == 3 && got.len[1] == 0 &&
		      got.ids[2] == 7);
		nk_tokreader_close(r);
		seqs_free(&got);
	}
	dup2(saved, STDIN_FILENO);
	close(saved);
	unlink(path);
}

TEST(writer_errors)
{
	uint32_t bad[] = {1, 0xFFFFFFFFu}, good[] = {1, 2, 3};
	FILE *fp = fopen("/dev/null", "w");
	nk_tokwriter *w = nk_tokwriter_open(fp, 0);
	CHECK(nk_tokwriter_put(w, bad, 2) == NK_ERANGE);
	CHECK(strstr(nk_last_error(), "4294967295 is reserved") != NULL);
	CHECK(nk_tokwriter_put(w, good, 3) == 0);
	CHECK(nk_tokwriter_close(w) == 0);
	fclose(fp);

	/* ENOSPC: /dev/full takes nothing */
	fp = fopen("/dev/full", "w");
	if (!fp) {
		nk_test_skip("writer_errors_enospc", "no /dev/full");
	} else {
		w = nk_tokwriter_open(fp, 1);
		for (int i = 0; i < 10; i++)
			nk_tokwriter_put(w, good, 3);
		CHECK(nk_tokwriter_close(w) == NK_EIO);
		CHECK_MSG(strstr(nk_last_error(), "No space left") != NULL,
			  "%s", nk_last_error());
		fclose(fp);
	}

	/* EPIPE: the reader went away (SIGPIPE ignored, as a program that
	 * wants to report it would) */
	int fds[2];
	CHECK(pipe(fds) == 0);
	close(fds[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	fp = fdopen(fds[1], "w");
	w = nk_tokwriter_open(fp, 0);
	int rc = 0;
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = nk_tokwriter_put(w, good, 3);
	CHECK(rc == NK_EIO);
	CHECK_MSG(strstr(nk_last_error(), "Broken pipe") != NULL, "%s",
		  nk_last_error());
	CHECK(nk_tokwriter_put(w, good, 3) == NK_EIO); /* sticky */
	CHECK(nk_tokwriter_close(w) == NK_EIO);
	fclose(fp);
	signal(SIGPIPE, old);
}

TEST(abort_leaves_truncated_stream)
{
	char *buf = NULL;
	size_t size;
	FILE *fp = open_memstream(&buf, &size);
	nk_tokwriter *w = nk_tokwriter_open(fp, 1);
	uint32_t ids[] = {1, 2};
	nk_tokwriter_put(w, ids, 2);
	nk_tokwriter_flush(w);
	nk_tokwriter_abort(w);
	fclose(fp);
	expect_error(buf, size, 0, NK_EFORMAT,
		     "t: truncated stream at byte offset 28: no end record "
		     "(the writer stopped before finishing)", 1);
	free(buf);
}

/* ---- formatting in parallel, sequences in parts, whole-stream reads ---- */

TEST(check_ids)
{
	uint32_t ids[] = {0, 5, NK_TOK_ID_MAX, 9};
	uint32_t two[] = {2, 2}, big[] = {1, NK_TOK_SEQ_MAX + 1};
	CHECK(nk_tok_check(ids, two, 2, 0) == 0);
	CHECK(nk_tok_check(ids, two, 1, 6) == 0);       /* 0 and 5 < 6 */
	CHECK(nk_tok_check(ids, two, 1, 5) == NK_ERANGE);
	CHECK_MSG(strcmp(nk_last_error(), "token id 5 out of range for "
			 "vocabulary size 5") == 0, "%s", nk_last_error());
	uint32_t bad[] = {1, 0xFFFFFFFFu};
	CHECK(nk_tok_check(bad, two, 1, 0) == NK_ERANGE);
	CHECK_MSG(strcmp(nk_last_error(), "token id 4294967295 is reserved")
		  == 0, "%s", nk_last_error());
	/* a count over the limit is refused before its ids are looked at */
	CHECK(nk_tok_check(ids, big, 2, 0) == NK_ERANGE);
	CHECK_MSG(strcmp(nk_last_error(), "a line of 268435457 tokens is over "
			 "the limit of 268435456") == 0, "%s", nk_last_error());
	CHECK(nk_tok_check(NULL, NULL, 0, 1) == 0);
}

/* nk_tok_format makes the writer's own bytes (text lines; binary records
 * with their CRC), within nk_tok_format_bound. */
TEST(format_slices)
{
	uint32_t ids[] = {1, 2, 30, NK_TOK_ID_MAX, 0, 1000000007, 7};
	uint32_t counts[] = {3, 0, 3, 1};
	seqs s = {0};
	for (size_t l = 0, at = 0; l < 4; at += counts[l++])
		seqs_add(&s, ids + at, counts[l]);
	for (int bin = 0; bin < 2; bin++) {
		size_t size, bound = nk_tok_format_bound(bin, 7, 4);
		char *ref = write_mem(&s, bin, &size);
		unsigned char *buf = malloc(bound);
		uint32_t crc = 12345;
		size_t len = nk_tok_format(buf, bin, ids, counts, 4, &crc);
		size_t body = bin ? size - NK_TOK_HEADER_SIZE - NK_TOK_END_SIZE
				  : size;
		CHECK_MSG(len == body && len <= bound &&
			  !memcmp(buf, ref + (bin ? NK_TOK_HEADER_SIZE : 0), len),
			  "%s: %zu bytes, want %zu", bin ? "binary" : "text",
			  len, body);
		CHECK(crc == (bin ? (uint32_t)crc32(0, buf, (uInt)len) : 0));
		/* bound: 11 a text id plus a newline a line; 4 an id or count */
		CHECK(bound == (bin ? 4 * (7 + 4) + 1 : 7 * 11 + 4 + 1));
		free(buf);
		free(ref);
	}
	CHECK(nk_tok_format_bound(0, SIZE_MAX / 2, 1) == SIZE_MAX);
	seqs_free(&s);
}

TEST(format_part)
{
	uint32_t ids[] = {1, 2, 30, 0x01020304};
	char text[64];
	uint32_t crc = 1;
	size_t len = nk_tok_format_part(text, 0, ids, 4, &crc);
	CHECK(len == 15 && !memcmp(text, "1 2 30 16909060", 15) && crc == 0);
	CHECK(nk_tok_format_part(text, 0, ids, 0, &crc) == 0);
	unsigned char bin[16];
	len = nk_tok_format_part(bin, 1, ids + 2, 2, &crc);
	static const unsigned char want[] = {30, 0, 0, 0, 4, 3, 2, 1};
	CHECK(len == 8 && !memcmp(bin, want, 8));
	CHECK(crc == (uint32_t)crc32(0, want, 8));
	CHECK(nk_tok_format_part(bin, 1, ids, 0, &crc) == 0 &&
	      crc == (uint32_t)crc32(0, Z_NULL, 0));
}

/* A sequence put in parts (an empty part among them) is the same stream as
 * the sequence put whole, in both forms; binary parts are copied. */
TEST(sequence_in_parts)
{
	uint32_t ids[] = {4, 50, 600, 7000, 80000, 9};
	size_t cut[] = {0, 2, 2, 5, 6};       /* parts [0,2) [2,2) [2,5) [5,6) */
	seqs s = {0};
	uint32_t one = 3;
	seqs_add(&s, &one, 1);
	seqs_add(&s, ids, 6);
	seqs_add(&s, NULL, 0);
	for (int bin = 0; bin < 2; bin++) {
		size_t size, got_size;
		char *ref = write_mem(&s, bin, &size), *got = NULL;
		FILE *fp = open_memstream(&got, &got_size);
		nk_tokwriter *w = nk_tokwriter_open(fp, bin);
		CHECK(nk_tokwriter_put(w, &one, 1) == 0);
		for (int p = 0; p < 4; p++) {
			size_t n = cut[p + 1] - cut[p];
			void *buf = malloc(nk_tok_format_bound(bin, n, 0));
			uint32_t crc;
			size_t len = nk_tok_format_part(buf, bin, ids + cut[p], n,
							&crc);
			CHECK(nk_tokwriter_put_part(w, buf, len, crc, n) == 0);
			/* the writer copied it: the caller's to reuse */
			memset(buf, 0xAB, len);
			free(buf);
		}
		CHECK(nk_tokwriter_end_seq(w) == 0);
		CHECK(nk_tokwriter_end_seq(w) == 0);  /* an empty sequence */
		CHECK(nk_tokwriter_close(w) == 0);
		fclose(fp);
		CHECK_MSG(got_size == size && !memcmp(got, ref, size),
			  "%s: parts differ from the whole sequence",
			  bin ? "binary" : "text");
		free(ref);
		free(got);
	}
	seqs_free(&s);
}

/* Binary parts of megabytes, which the writer's buffer grows for (from
 * 2 MB, doubling and copying), twice: the buffer is kept between
 * sequences. */
TEST(sequence_in_big_parts)
{
	enum { PART = 400000, NPART = 5 };  /* 1.6 MB a part, 8 MB in all */
	uint32_t *ids = malloc(sizeof *ids * PART * NPART);
	for (size_t i = 0; i < (size_t)PART * NPART; i++)
		ids[i] = (uint32_t)(i * 2654435761u % 200000);
	seqs s = {0};
	seqs_add(&s, ids, (size_t)PART * NPART);
	seqs_add(&s, ids + 7, (size_t)PART * NPART - 7);
	size_t size, got_size;
	char *ref = write_mem(&s, 1, &size), *got = NULL;
	FILE *fp = open_memstream(&got, &got_size);
	nk_tokwriter *w = nk_tokwriter_open(fp, 1);
	void *buf = malloc(nk_tok_format_bound(1, PART, 0));
	for (int k = 0; k < 2; k++) {
		for (int p = 0; p < NPART; p++) {
			size_t n = PART - (p == 0 ? (size_t)7 * k : 0);
			const uint32_t *at = ids + (size_t)p * PART + (p == 0 ? 7 * k : 0);
			uint32_t crc;
			size_t len = nk_tok_format_part(buf, 1, at, n, &crc);
			CHECK(nk_tokwriter_put_part(w, buf, len, crc, n) == 0);
		}
		CHECK(nk_tokwriter_end_seq(w) == 0);
	}
	CHECK(nk_tokwriter_close(w) == 0);
	fclose(fp);
	CHECK_MSG(got_size == size && !memcmp(got, ref, size),
		  "big binary parts differ from the whole sequences");
	free(buf);
	free(ref);
	free(got);
	free(ids);
	seqs_free(&s);
}

/* Bytes of fp from its start (fp is left at its end). */
static char *read_back(FILE *fp, size_t *size)
{
	fflush(fp);
	fseek(fp, 0, SEEK_END);
	long end = ftell(fp);
	char *buf = malloc(end > 0 ? (size_t)end : 1);
	rewind(fp);
	*size = fread(buf, 1, (size_t)end, fp);
	fseek(fp, 0, SEEK_END);
	return buf;
}

/* A binary sequence put in parts into a regular file goes straight out
 * after a count of 0 that its end writes over: the parts are in the file
 * before the end, and the bytes are those of the buffered way, whole
 * sequences between, a dropped sequence cut off again, over 4 GB of
 * CRC-combined lengths aside.  A file opened to append (every write at
 * the end) takes the buffered way and the same bytes. */
TEST(sequence_in_parts_to_file)
{
	enum { PART = 300000, NPART = 3 };
	uint32_t *ids = malloc(sizeof *ids * PART * NPART);
	for (size_t i = 0; i < (size_t)PART * NPART; i++)
		ids[i] = (uint32_t)(i * 2654435761u % 100000);
	seqs s = {0};
	seqs_add(&s, ids, 5);
	seqs_add(&s, ids, (size_t)PART * NPART);
	seqs_add(&s, ids + 9, 3);
	seqs_add(&s, ids + 1, (size_t)PART * NPART - 1);
	size_t size;
	char *ref = write_mem(&s, 1, &size);
	void *buf = malloc(nk_tok_format_bound(1, PART, 0));
	char path[] = "/tmp/nk-tokstream-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	for (int append = 0; append < 2; append++) {
		FILE *fp = append ? fopen(path, "a+") : tmpfile();
		if (!fp) {
			CHECK_MSG(0, "cannot open a file to write");
			continue;
		}
		nk_tokwriter *w = nk_tokwriter_open(fp, 1);
		uint32_t crc;
		size_t len;
		/* a sequence dropped half way leaves no trace */
		len = nk_tok_format_part(buf, 1, ids, PART, &crc);
		CHECK(nk_tokwriter_put_part(w, buf, len, crc, PART) == 0);
		nk_tokwriter_drop_seq(w);
		CHECK(nk_tokwriter_put(w, ids, 5) == 0);
		for (int p = 0; p < NPART; p++) {
			len = nk_tok_format_part(buf, 1, ids + (size_t)p * PART,
						 PART, &crc);
			CHECK(nk_tokwriter_put_part(w, buf, len, crc, PART) == 0);
		}
		struct stat st;
		fflush(fp);
		CHECK(fstat(fileno(fp), &st) == 0);
		CHECK_MSG((st.st_size >= (off_t)PART * NPART * 4) == !append,
			  "append %d: %lld bytes in the file before the end",
			  append, (long long)st.st_size);
		CHECK(nk_tokwriter_end_seq(w) == 0);
		CHECK(nk_tokwriter_put(w, ids + 9, 3) == 0);
		for (int p = 0; p < NPART; p++) {
			size_t at = (size_t)p * PART + (p == 0), n = PART - (p == 0);
			len = nk_tok_format_part(buf, 1, ids + at, n, &crc);
			CHECK(nk_tokwriter_put_part(w, buf, len, crc, n) == 0);
		}
		CHECK(nk_tokwriter_end_seq(w) == 0);
		/* an unfinished one at the close is dropped too */
		len = nk_tok_format_part(buf, 1, ids, 7, &crc);
		CHECK(nk_tokwriter_put_part(w, buf, len, crc, 7) == 0);
		CHECK(nk_tokwriter_close(w) == 0);
		size_t got_size;
		char *got = read_back(fp, &got_size);
		CHECK_MSG(got_size == size && !memcmp(got, ref, size),
			  "append %d: %zu bytes against %zu of the buffered way",
			  append, got_size, size);
		free(got);
		fclose(fp);
	}
	unlink(path);
	free(buf);
	free(ref);
	free(ids);
	seqs_free(&s);
}

/* Over the sequence limit: NK_ERANGE and nothing more of it written; a
 * dropped binary sequence leaves no trace; a wrong binary part is refused. */
TEST(sequence_in_parts_errors)
{
	char *out = NULL;
	size_t size;
	FILE *fp = open_memstream(&out, &size);
	nk_tokwriter *w = nk_tokwriter_open(fp, 0);
	const char *seven = "7";
	CHECK(nk_tokwriter_put_part(w, seven, 1, 0, NK_TOK_SEQ_MAX) == 0);
	CHECK(nk_tokwriter_put_part(w, seven, 1, 0, 1) == 0);
	CHECK(nk_tokwriter_end_seq(w) == NK_ERANGE);
	CHECK_MSG(strcmp(nk_last_error(), "268435457 tokens are over the "
			 "limit of 268435456 for one sequence") == 0, "%s",
		  nk_last_error());
	CHECK(nk_tokwriter_put_part(w, seven, 1, 0, 1) == 0); /* no space */
	CHECK(nk_tokwriter_end_seq(w) == 0);
	CHECK(nk_tokwriter_close(w) == 0);
	fclose(fp);
	/* the dropped text stays, unended; the next sequence follows it */
	CHECK_MSG(size == 5 && !memcmp(out, "7 77\n", 5), "'%.*s'", (int)size,
		  out);
	free(out);

	out = NULL;
	fp = open_memstream(&out, &size);
	w = nk_tokwriter_open(fp, 1);
	uint32_t ids[] = {1, 2};
	void *buf = malloc(8);
	uint32_t crc;
	size_t len = nk_tok_format_part(buf, 1, ids, 2, &crc);
	CHECK(nk_tokwriter_put_part(w, buf, len, crc, 3) == NK_EINVAL);
	CHECK(nk_tokwriter_put_part(w, buf, len, crc, 2) == 0);
	nk_tokwriter_drop_seq(w);              /* forgets the part */
	CHECK(nk_tokwriter_put(w, ids, 1) == 0);
	CHECK(nk_tokwriter_put_part(w, buf, len, crc, 2) == 0);
	free(buf);
	CHECK(nk_tokwriter_close(w) == 0);     /* drops the unfinished one */
	fclose(fp);
	seqs got = {0};
	int agree;
	char msg[512];
	CHECK(parse_all_ways(out, size, 0, &got, msg, sizeof msg, &agree) == 0);
	CHECK(agree && got.nseq == 1 && got.nids == 1 && got.ids[0] == 1);
	seqs_free(&got);
	free(out);
}

/* The whole stream into one array, from memory and from a file, text and
 * binary, with and without the end marks, appended to what is there. */
TEST(read_all_into_array)
{
	const char text[] = "5 6\n\n7\n";
	uint32_t *ids = NULL;
	size_t n = 0;
	CHECK(nk_tok_read_all_mem(text, sizeof text - 1, "m", 0, 0, &ids, &n)
	      == 0);
	CHECK(n == 3 && ids[0] == 5 && ids[1] == 6 && ids[2] == 7);
	CHECK(nk_tok_read_all_mem(text, sizeof text - 1, "m", 0,
				  NK_TOK_READ_EOS, &ids, &n) == 0);
	uint32_t want[] = {5, 6, 7, 5, 6, NK_TOK_EOS, NK_TOK_EOS, 7,
			   NK_TOK_EOS};
	CHECK(n == 9 && !memcmp(ids, want, sizeof want));
	free(ids);

	/* a binary file of 20000 ids: the array grows past its first size */
	seqs s = random_seqs(400, 100);
	size_t size;
	char *bin = write_mem(&s, 1, &size);
	char *path = write_temp(bin, size);
	CHECK(path != NULL);
	ids = NULL, n = 0;
	if (path) {
		CHECK(nk_tok_read_all(path, 0, 0, &ids, &n) == 0);
		CHECK(n == s.nids && (n == 0 || !memcmp(ids, s.ids, n * 4)));
		unlink(path);
	}
	free(ids);
	free(bin);
	seqs_free(&s);

	/* max_id: the sequences before the failure are kept */
	ids = NULL, n = 0;
	CHECK(nk_tok_read_all_mem("1 2\n3\n9 1\n", 10, "v", 9,
				  NK_TOK_READ_EOS, &ids, &n) == NK_ERANGE);
	CHECK_MSG(strcmp(nk_last_error(), "v:3:1: token id 9 out of range for "
			 "vocabulary size 9") == 0, "%s", nk_last_error());
	uint32_t before[] = {1, 2, NK_TOK_EOS, 3, NK_TOK_EOS};
	CHECK(n == 5 && !memcmp(ids, before, sizeof before));
	free(ids);

	/* a file that is not there: NK_EIO naming it */
	ids = NULL, n = 0;
	CHECK(nk_tok_read_all("/nonexistent/t.tok", 0, 0, &ids, &n) == NK_EIO);
	CHECK(strstr(nk_last_error(), "/nonexistent/t.tok") != NULL);
	CHECK(ids == NULL && n == 0);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Not a check: a figure printed as a comment line. */
static void throughput(void)
{
	size_t nseq = 200000, len = 50; /* 10M ids, about 50 MB of text */
	seqs s = {0};
	uint32_t *tmp = malloc(len * sizeof *tmp);
	for (size_t i = 0; i < nseq; i++) {
		for (size_t k = 0; k < len; k++)
			tmp[k] = (uint32_t)(rnd() % 50000);
		seqs_add(&s, tmp, len);
	}
	free(tmp);
	for (int binary = 0; binary < 2; binary++) {
		size_t size;
		char *buf = write_mem(&s, binary, &size);
		/* the writer timed into /dev/null, not into a growing buffer */
		FILE *fp = fopen("/dev/null", "w");
		double t0 = now();
		nk_tokwriter *w = nk_tokwriter_open(fp, binary);
		for (size_t i = 0; i < nseq; i++)
			nk_tokwriter_put(w, s.ids + i * len, len);
		nk_tokwriter_close(w);
		double write_s = now() - t0;
		fclose(fp);
		t0 = now();
		nk_tokreader *r = nk_tokreader_open_mem(buf, size, "bench");
		uint32_t *ids;
		size_t n, total = 0;
		while (nk_tokreader_next(r, &ids, &n) == 1)
			total += n;
		nk_tokreader_close(r);
		double read_s = now() - t0;
		/* and streamed from a file, through nk_reader's chunks */
		double file_s = -1;
		char *path = write_temp(buf, size);
		if (path) {
			t0 = now();
			r = nk_tokreader_open(path);
			while (r && nk_tokreader_next(r, &ids, &n) == 1)
				;
			nk_tokreader_close(r);
			file_s = now() - t0;
			unlink(path);
		}
		printf("# %s: %.1f MB, %zu ids; write %.0f MB/s, read %.0f "
		       "MB/s (%.0f M ids/s), read from a file %.0f MB/s\n",
		       binary ? "binary" : "text", size / 1e6, total,
		       size / 1e6 / write_s, size / 1e6 / read_s,
		       total / 1e6 / read_s, size / 1e6 / file_s);
		free(buf);
	}
	seqs_free(&s);
}

int main(void)
{
	RUN(text_writer_exact);
	RUN(format_and_raw_parts);
	RUN(binary_writer_layout);
	RUN(roundtrip_random);
	RUN(text_lenient_input);
	RUN(detection);
	RUN(text_bad_input);
	RUN(max_id);
	RUN(binary_bad_input);
	RUN(sticky_error);
	RUN(concatenated_binary);
	RUN(file_and_long_lines);
	RUN(file_error_across_chunks);
	RUN(gzip_input);
	RUN(text_detected_from_one_byte);
	RUN(stdin_input);
	RUN(writer_errors);
	RUN(abort_leaves_truncated_stream);
	RUN(check_ids);
	RUN(format_slices);
	RUN(format_part);
	RUN(sequence_in_parts);
	RUN(sequence_in_big_parts);
	RUN(sequence_in_parts_to_file);
	RUN(sequence_in_parts_errors);
	RUN(read_all_into_array);
	if (!getenv("NK_SANITIZED"))
		throughput();
	return nk_test_exit();
}
