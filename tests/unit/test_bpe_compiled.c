/* test_bpe_compiled.c - compiled vocabularies (nnkit-bpe(5)): the same
 * tokens, ids and encodings as the vocabulary they were compiled from,
 * and every damage refused with the file's name, never a crash.
 *
 * The reference is the vocabulary itself as the .tiktoken path (or
 * nk_bpe_build) makes it: a compiled copy must agree with it on every
 * token's bytes, every rank lookup and the ids of the texts below.  The
 * published encodings come from ../shared/data/tiktoken; a missing one
 * is a SKIP.  Damage is done at the byte offsets nnkit-bpe(5) documents
 * (a 512-byte header, its section table at 64 + 24k: offset, size,
 * checksum), with nk_bpe_compiled_seal where the structural checks, not
 * the checksums, are to answer.
 */
#include "check.h"

#include "core/base.h"
#include "core/rng.h"
#include "text/bpe.h"
#include "text/bpe_compiled.h"
#include "text/bpe_impl.h"   /* the filter's bits, to clear one */
#include "text/pretok.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA "../shared/data/tiktoken"

enum { S_POOL, S_OFF, S_SLOTS, S_PAIR1, S_BYTE, S_PATTERN, S_SPEC, S_TEXT,
       S_FILTER };

struct blob {
	unsigned char *p;
	size_t n;
};

/* b compiled into a 64-byte aligned buffer. */
static struct blob compile(const nk_bpe *b)
{
	struct blob r = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp || nk_bpe_write_compiled(b, fp) || fclose(fp))
		return r;
	r.p = aligned_alloc(64, (len + 63) & ~(size_t)63);
	memcpy(r.p, buf, len);
	r.n = len;
	free(buf);
	return r;
}

static uint64_t sect_off(const struct blob *f, int k)
{
	return nk_load_u64le(f->p + 64 + 24 * k);
}

static uint64_t sect_len(const struct blob *f, int k)
{
	return nk_load_u64le(f->p + 64 + 24 * k + 8);
}

/* Loads a copy of p[0..n) (the copy exact-size, so a read past it is
 * ASan's to catch): the error code, 0 on success (then *out, which
 * borrows the copy: free it with drop). */
static unsigned char *copies[64];
static int n_copies;

static int load_copy(const unsigned char *p, size_t n, int full, nk_bpe **out)
{
	unsigned char *c = aligned_alloc(64, (n + 63) & ~(size_t)63);
	memcpy(c, p, n);
	nk_bpe *b = NULL;
	int rc = nk_bpe_load_compiled(&b, c, n, "v.nkv", full);
	if (rc == 0 && out && n_copies < 64) {
		*out = b;
		copies[n_copies++] = c;
		return 0;
	}
	nk_bpe_free(b);
	free(c);
	return rc ? rc : NK_ENOMEM;
}

static void drop(nk_bpe *b)
{
	nk_bpe_free(b);
	if (n_copies)
		free(copies[--n_copies]);
}

/* The two vocabularies agree: counts, pattern, every id's bytes, the
 * rank of every ordinary token, and the ids of text. */
static void check_same(const nk_bpe *a, const nk_bpe *b,
		       const unsigned char *text, size_t n)
{
	CHECK(nk_bpe_n_ranks(a) == nk_bpe_n_ranks(b));
	CHECK(nk_bpe_n_vocab(a) == nk_bpe_n_vocab(b));
	CHECK(nk_bpe_n_special(a) == nk_bpe_n_special(b));
	CHECK(nk_bpe_pretok(a) == nk_bpe_pretok(b));
	CHECK(strcmp(nk_bpe_pattern(a), nk_bpe_pattern(b)) == 0);
	uint32_t bad = 0;
	for (uint32_t id = 0; id < nk_bpe_n_vocab(a) + 2; id++) {
		size_t la = 0, lb = 0;
		const unsigned char *ta = nk_bpe_token(a, id, &la);
		const unsigned char *tb = nk_bpe_token(b, id, &lb);
		if (!ta != !tb || (ta && (la != lb || memcmp(ta, tb, la))))
			bad++;
		uint32_t r = 0;
		if (ta && id < nk_bpe_n_ranks(a) &&
		    (nk_bpe_rank(b, ta, la, &r) || r != id))
			bad++;
	}
	CHECK_MSG(bad == 0, "%u ids differ", bad);
	for (int mode = NK_SPECIAL_TEXT; mode <= NK_SPECIAL_ALLOW; mode++) {
		nk_bpe_enc *ea = nk_bpe_enc_new(a), *eb = nk_bpe_enc_new(b);
		nk_bpe_ids ia = {0}, ib = {0};
		CHECK(ea && eb);
		CHECK(nk_bpe_encode(ea, text, n, mode, &ia) == 0);
		CHECK(nk_bpe_encode(eb, text, n, mode, &ib) == 0);
		CHECK_MSG(ia.n == ib.n && ia.n > 0 &&
			  !memcmp(ia.v, ib.v, ia.n * sizeof *ia.v),
			  "mode %d: %zu ids against %zu", mode, ia.n, ib.n);
		nk_bpe_ids_free(&ia);
		nk_bpe_ids_free(&ib);
		nk_bpe_enc_free(ea);
		nk_bpe_enc_free(eb);
	}
}

/* Text that exercises the pre-tokenizers and the merges: words, numbers,
 * runs of spaces, newlines, punctuation, accented and CJK letters,
 * emoji, invalid UTF-8 and the special tokens' text. */
static unsigned char *crafted_text(size_t n, uint64_t seed)
{
	static const char *const parts[] = {
		"the", " the", "The", "ing", " and", "12", "123456", " 3.14",
		"  ", "    ", "\n", "\n\n", "\t", "'s", "'LL", "!?", "...",
		"caf\xc3\xa9", " \xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x98\x80",
		"\xff", "\xc3", "<|endoftext|>", "<|fim_prefix|>", "int x;",
		"----------", "aaaaaaaaaaaaaaaaaaaaaaaa", "Hello, world!",
	};
	unsigned char *t = malloc(n + 32);
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	size_t o = 0;
	while (o < n) {
		const char *p = parts[nk_rng_u32(&r) % (sizeof parts / sizeof *parts)];
		size_t l = strlen(p);
		memcpy(t + o, p, l);
		o += l;
	}
	return t;
}

/* A vocabulary of the 256 bytes and random merges, with special tokens
 * (one leaving a gap of ids) and cl100k's pattern. */
static nk_bpe *small_vocab(uint64_t seed, uint32_t extra)
{
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	uint32_t count = 256 + extra;
	const unsigned char **tok = calloc(count, sizeof *tok);
	uint32_t *len = calloc(count, sizeof *len);
	unsigned char *bytes = malloc((size_t)count * 40);
	for (uint32_t i = 0; i < count; i++) {
		unsigned char *p = bytes + (size_t)i * 40;
		if (i < 256) {
			p[0] = (unsigned char)i;
			len[i] = 1;
		} else {
			/* lengths 2..30 over a small alphabet, so that many
			 * are merges text really produces; the rank in the
			 * bytes makes them distinct */
			uint32_t l = 2 + nk_rng_u32(&r) % 29;
			for (uint32_t k = 0; k < l; k++)
				p[k] = "aet hns\n"[nk_rng_u32(&r) % 8];
			memcpy(p + l, &i, 4);
			len[i] = i < 300 ? 2 : l + 4;
			if (i < 300) {  /* pairs, for the pair table */
				p[0] = "aet hns\n"[i % 8];
				p[1] = "aet hns\n"[(i / 8) % 8];
			}
		}
		tok[i] = p;
	}
	/* Pairs repeat: keep the first of each. */
	uint32_t n = 0;
	for (uint32_t i = 0; i < count; i++) {
		int dup = 0;
		for (uint32_t j = 256; j < n && i < 300 && !dup; j++)
			dup = len[j] == len[i] && !memcmp(tok[j], tok[i], len[i]);
		if (!dup) {
			tok[n] = tok[i];
			len[n++] = len[i];
		}
	}
	nk_bpe *b = NULL;
	if (nk_bpe_build(&b, tok, len, n, NK_PRETOK_CL100K) ||
	    nk_bpe_add_special(b, "<|endoftext|>", 13, n) ||
	    nk_bpe_add_special(b, "<|fim_prefix|>", 14, n + 5) ||
	    nk_bpe_finish(b, "small")) {
		nk_bpe_free(b);
		b = NULL;
	}
	free(tok);
	free(len);
	/* bytes stay: nk_bpe_build copied them, but keep it simple */
	free(bytes);
	return b;
}

TEST(same_as_source)
{
	unsigned char *text = crafted_text(20000, 7);
	for (uint64_t seed = 1; seed <= 4; seed++) {
		nk_bpe *a = small_vocab(seed, 500 * (uint32_t)seed);
		CHECK(a != NULL);
		if (!a)
			return;
		struct blob f = compile(a);
		CHECK(f.p != NULL);
		for (int full = 0; full <= 1; full++) {
			nk_bpe *b = NULL;
			int rc = load_copy(f.p, f.n, full, &b);
			CHECK_MSG(rc == 0, "%s", nk_last_error());
			if (rc == 0) {
				check_same(a, b, text, 20000);
				drop(b);
			}
		}
		/* Compiling the compiled copy gives the same bytes. */
		nk_bpe *b = NULL;
		if (load_copy(f.p, f.n, 1, &b) == 0) {
			struct blob g = compile(b);
			CHECK(g.n == f.n && !memcmp(g.p, f.p, f.n));
			free(g.p);
			drop(b);
		}
		free(f.p);
		nk_bpe_free(a);
	}
	free(text);
}

/* Every published encoding present: its compiled copy encodes the
 * first 512 KB of sotu.txt and crafted text to the same ids. */
static void published(const char *name)
{
	char path[256], gname[64];
	snprintf(path, sizeof path, DATA "/%s.tiktoken", name);
	snprintf(gname, sizeof gname, "published_%s", name);
	if (access(path, R_OK) != 0) {
		nk_test_skip(gname, "no rank file in ../shared/data/tiktoken");
		return;
	}
	nk_test_begin(gname);
	nk_bpe *a = NULL;
	CHECK_MSG(nk_bpe_open(&a, path, NULL) == 0, "%s", nk_last_error());
	if (!a)
		return;
	struct blob f = compile(a);
	nk_bpe *b = NULL;
	CHECK_MSG(load_copy(f.p, f.n, 0, &b) == 0, "%s", nk_last_error());
	size_t n = 512 << 10;
	unsigned char *text = crafted_text(n, 11);
	FILE *fp = fopen("../shared/data/sotu.txt", "rb");
	if (fp) {
		n = fread(text, 1, n, fp);
		fclose(fp);
	}
	if (b) {
		check_same(a, b, text, n);
		unsigned char *t2 = crafted_text(100000, 13);
		check_same(a, b, t2, 100000);
		free(t2);
		drop(b);
	}
	free(text);
	free(f.p);
	nk_bpe_free(a);
	nk_test_end();
}

/* Whether loading f (after fn altered a copy, and resealed when
 * `seal`) fails with `code` (0: loads) and a message naming the file. */
static int loads_as(const struct blob *f, size_t n, int full, int code)
{
	nk_bpe *b = NULL;
	nk_error_clear();
	int rc = load_copy(f->p, n, full, &b);
	if (rc == 0) {
		/* Whatever the tables say, encoding must not crash. */
		unsigned char *t = crafted_text(4000, 3);
		nk_bpe_enc *e = nk_bpe_enc_new(b);
		nk_bpe_ids ids = {0};
		if (e)
			nk_bpe_encode(e, t, 4000, NK_SPECIAL_ALLOW, &ids);
		nk_bpe_ids_free(&ids);
		nk_bpe_enc_free(e);
		free(t);
		drop(b);
	}
	/* A checksum that a changed element would fail may be beaten to
	 * it by the element's own check: either names the damage. */
	int ok = rc == code || (code == NK_ECHECKSUM && rc == NK_EFORMAT);
	if (!ok)
		printf("# got %d (%s), wanted %d\n", rc, nk_last_error(), code);
	return ok && (code == 0 || !strncmp(nk_last_error(), "v.nkv: ", 7));
}

TEST(truncated)
{
	nk_bpe *a = small_vocab(5, 300);
	struct blob f = compile(a);
	size_t cut[] = {0, 3, 4, 100, 255, 256, 257, 1000, f.n / 2,
			f.n - 64, f.n - 1};
	for (size_t i = 0; i < sizeof cut / sizeof *cut; i++)
		CHECK_MSG(loads_as(&f, cut[i], 0, NK_EFORMAT), "cut at %zu",
			  cut[i]);
	free(f.p);
	nk_bpe_free(a);
}

TEST(damaged)
{
	nk_bpe *a = small_vocab(6, 300);
	struct blob f = compile(a);
	struct blob g = {aligned_alloc(64, f.n), f.n};
	/* Any header byte changed: the CRC, or the magic first. */
	for (size_t i = 0; i < 256; i++) {
		memcpy(g.p, f.p, f.n);
		g.p[i] ^= 0x5a;
		int want = i == 4 || i == 5 ? NK_EVERSION :
			   i >= 12 && i < 16 ? NK_ECHECKSUM :
			   i < 4 ? NK_EFORMAT : NK_ECHECKSUM;
		CHECK_MSG(loads_as(&g, g.n, 0, want), "header byte %zu", i);
	}
	/* A byte in each section: the small ones are summed at every
	 * load, the pool, rank table and pair table only with full. */
	for (int k = 0; k < 8; k++) {
		if (!sect_len(&f, k))
			continue;
		memcpy(g.p, f.p, f.n);
		g.p[sect_off(&f, k) + sect_len(&f, k) / 2] ^= 1;
		int lazy = k == S_POOL || k == S_SLOTS || k == S_PAIR1;
		/* a changed pool byte may also fail the sample lookups */
		if (k != S_POOL)
			CHECK_MSG(loads_as(&g, g.n, 0, lazy ? 0 : NK_ECHECKSUM),
				  "section %d, lazy", k);
		CHECK_MSG(loads_as(&g, g.n, 1, NK_ECHECKSUM), "section %d, full", k);
	}
	free(g.p);
	free(f.p);
	nk_bpe_free(a);
}

/* Sealed damage: the checksums agree, the structure does not. */
TEST(crafted)
{
	nk_bpe *a = small_vocab(8, 300);
	struct blob f = compile(a);
	struct blob g = {aligned_alloc(64, f.n), f.n};
	uint32_t nr = nk_bpe_n_ranks(a);
	uint32_t slots = (uint32_t)(sect_len(&f, S_SLOTS) / 16);
	uint32_t empty = nk_load_u32le(f.p + 48);
#define ALTER(code_lazy, code_full, stmt)                                     \
	do {                                                                  \
		memcpy(g.p, f.p, f.n);                                        \
		stmt;                                                         \
		nk_bpe_compiled_seal(g.p, g.n);                               \
		CHECK_MSG(loads_as(&g, g.n, 0, code_lazy), "lazy: %s", #stmt); \
		CHECK_MSG(loads_as(&g, g.n, 1, code_full), "full: %s", #stmt); \
	} while (0)
	ALTER(0, 0, (void)0);
	/* slot ranks out of range: used unread (token_equal checks), or
	 * refused by the full check */
	/* (all but the slots of the four ranks that loading looks up:
	 * 0, a third, two thirds and the last) */
	ALTER(0, NK_EFORMAT, ({
		for (uint32_t s = 0; s < slots; s++) {
			unsigned char *e = g.p + sect_off(&f, S_SLOTS) + 16 * s + 12;
			uint32_t r1 = nk_load_u32le(e);
			if (r1 > 1 && r1 != (nr - 1) / 3 + 1 &&
			    r1 != 2 * (nr - 1) / 3 + 1 && r1 != nr)
				nk_store_u32le(e, r1 + nr + 1000000u * (s & 7) +
					       (s & 1 ? 0xF0000000u : 0));
		}
	}));
	/* the named empty slot is not: every lookup might go round */
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + sect_off(&f, S_SLOTS)
						    + 16 * empty + 12, 1));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 48, slots));
	/* every slot full, and the header naming one of them */
	ALTER(NK_EFORMAT, NK_EFORMAT, ({
		for (uint32_t s = 0; s < slots; s++)
			nk_store_u32le(g.p + sect_off(&f, S_SLOTS) + 16 * s + 12, 1);
	}));
	/* offsets: backwards, past the pool, not from 0 */
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + sect_off(&f, S_OFF)
						    + 4 * 100, 1));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + sect_off(&f, S_OFF)
						    + 4 * nr, 0xFFFFFF));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + sect_off(&f, S_OFF), 1));
	/* the byte table out of range, the pair table (checked with full) */
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + sect_off(&f, S_BYTE)
						    + 4 * 65, nr));
	ALTER(0, NK_EFORMAT, nk_store_u32le(g.p + sect_off(&f, S_PAIR1) + 4 * 777,
					    nr + 1));
	/* counts that do not fit the sections */
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 32, nr + 1));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 32, 0));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 44, slots * 2));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 40, 3));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u64le(g.p + 64 + 24 * S_OFF,
						    sect_off(&f, S_OFF) + 64));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u64le(g.p + 64 + 24 * S_TEXT + 8,
						    1u << 30));
	/* a special token with an ordinary token's id, a pattern with a
	 * NUL, one PCRE2 cannot compile */
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + sect_off(&f, S_SPEC), 5));
	ALTER(NK_EFORMAT, NK_EFORMAT, g.p[sect_off(&f, S_PATTERN) + 3] = 0);
	ALTER(NK_EFORMAT, NK_EFORMAT, g.p[sect_off(&f, S_PATTERN) +
					  sect_len(&f, S_PATTERN) - 1] = '(');
	/* another build's table layout, another version */
	ALTER(NK_EVERSION, NK_EVERSION, g.p[24] ^= 1);
	ALTER(NK_EVERSION, NK_EVERSION, g.p[4] = 1);
	ALTER(NK_EVERSION, NK_EVERSION, g.p[4] = 3);
	/* the filter: a size that is no power of two or does not fit its
	 * section, a header byte past the section table; a filter that
	 * hides one token is found with full (lazily, it only makes that
	 * token's lookups miss), and one that hides every token fails the
	 * lookups loading makes */
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 52, 3));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 52, 0));
	ALTER(NK_EFORMAT, NK_EFORMAT, nk_store_u32le(g.p + 52,
		(uint32_t)(sect_len(&f, S_FILTER) / 8 * 2)));
	ALTER(NK_EFORMAT, NK_EFORMAT, g.p[500] = 1);
	ALTER(0, NK_EFORMAT, ({
		/* one of rank 1's two bits (loading looks rank 1 up only
		 * with full) */
		uint32_t o0 = nk_load_u32le(g.p + sect_off(&f, S_OFF) + 4);
		uint32_t o1 = nk_load_u32le(g.p + sect_off(&f, S_OFF) + 8);
		uint64_t h = hash_bytes(g.p + sect_off(&f, S_POOL) + o0, o1 - o0);
		size_t words = sect_len(&f, S_FILTER) / 8;
		unsigned char *w = g.p + sect_off(&f, S_FILTER) +
				   8 * filter_word(h, words - 1);
		nk_store_u64le(w, nk_load_u64le(w) & ~filter_bits(h));
	}));
	ALTER(NK_EFORMAT, NK_EFORMAT, memset(g.p + sect_off(&f, S_FILTER), 0,
					     sect_len(&f, S_FILTER)));
	/* a slot that no longer finds its token */
	ALTER(NK_EFORMAT, NK_EFORMAT, ({
		for (uint32_t s = 0; s < slots; s++) {
			unsigned char *e = g.p + sect_off(&f, S_SLOTS) + 16 * s;
			if (nk_load_u32le(e + 12) == 1)   /* rank 0 */
				e[0] ^= 1;
		}
	}));
#undef ALTER
	free(g.p);
	free(f.p);
	nk_bpe_free(a);
}

TEST(files)
{
	char dir[] = "/tmp/test_bpe_compiled.XXXXXX", path[128];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/v.nkv", dir);
	nk_bpe *a = small_vocab(9, 400), *b = NULL;
	FILE *fp = fopen(path, "wb");
	CHECK(fp && nk_bpe_write_compiled(a, fp) == 0 && fclose(fp) == 0);
	CHECK(nk_bpe_path_is_compiled(path));
	CHECK_MSG(nk_bpe_open_compiled(&b, path, 0) == 0, "%s", nk_last_error());
	if (b) {
		unsigned char *t = crafted_text(5000, 1);
		check_same(a, b, t, 5000);
		free(t);
		nk_bpe_free(b);
	}
	CHECK(truncate(path, 1000) == 0);
	CHECK(nk_bpe_open_compiled(&b, path, 0) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), path) && strstr(nk_last_error(), "truncated"));
	CHECK(nk_bpe_open_compiled(&b, dir, 0) == NK_EIO);
	CHECK(strstr(nk_last_error(), dir) != NULL);
	unlink(path);
	CHECK(!nk_bpe_path_is_compiled(path));
	CHECK(nk_bpe_open_compiled(&b, path, 0) == NK_EIO);
	CHECK(strstr(nk_last_error(), path) != NULL);
	rmdir(dir);
	nk_bpe_free(a);
}

int main(void)
{
	RUN(same_as_source);
	published("r50k_base"); /* p50k_base: not in the shared data */
	published("cl100k_base");
	published("o200k_base");
	RUN(truncated);
	RUN(damaged);
	RUN(crafted);
	RUN(files);
	return nk_test_exit();
}
