/* test_wfile.c - the weight-file container: round trips, the documented
 * byte layout, every truncation and bit flip of small files, crafted
 * structural damage behind valid CRCs, atomic writes that fail midway.
 *
 * With arguments it is the C side of tests/t_python_reader.sh and of the
 * benchmark in the README:
 *	test_wfile --write-sample FILE [--compress]   the sample model
 *	test_wfile --check-sample FILE                 exit 1 unless it reads
 *	test_wfile --validate FILE [--no-crc]          "ok" or the error
 *	test_wfile --bench-write FILE MB [--compress]  MB of f32 tensors
 *	test_wfile --bench-read FILE                   read, sum every tensor
 */
#include "check.h"
#include "formats/wfile.h"
#include "core/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[] = "/tmp/test_wfile.XXXXXX";

static char *tmp_path(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ % 8];
	snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
	return p;
}

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*size = (size_t)n;
	return buf;
}

/* Entries in tmpdir, to prove that no temporary file was left behind. */
static int count_entries(void)
{
	DIR *d = opendir(tmpdir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void clear_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(tmp_path(e->d_name));
	if (d)
		closedir(d);
}

/* Rewrites both CRCs, so that a patched file reaches the checks behind. */
static void fix_crcs(unsigned char *buf, size_t size)
{
	nk_store_u32le(buf + 44, (uint32_t)crc32(0, buf, 44));
	nk_store_u32le(buf + size - 4, (uint32_t)crc32(0, buf, (uInt)size - 4));
}

/* ---- the sample model (also read and written by scripts/nkw.py) --------- */

static float emb[12], lstm[24], scalar[1] = {42.5f};
static int32_t idx[5];
static uint8_t bytes[24];
static double f64[4] = {3.141592653589793, -0.0, 1e300, -1e-300};
static int64_t i64[3] = {INT64_MIN, 0, INT64_MAX};
static const int64_t sizes[5] = {256, 128, -1, INT64_MIN, INT64_MAX};
static const double betas[3] = {0.9, 0.999, -2.5};

static void sample_values(void)
{
	for (int i = 0; i < 12; i++)
		emb[i] = i * 0.5f - 1;
	for (int i = 0; i < 24; i++)
		lstm[i] = (float)((i * 3 % 17) - 8) / 4.0f;
	for (int i = 0; i < 5; i++)
		idx[i] = (i - 2) * 100000;
	for (int i = 0; i < 24; i++)
		bytes[i] = (uint8_t)((i * 37 + 11) & 255);
}

static nk_wfile *make_sample(void)
{
	sample_values();
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NULL;
	int rc = 0;
	rc |= nk_wfile_set_str(w, "program", "test_wfile");
	rc |= nk_wfile_set_str(w, "model", "sample");
	rc |= nk_wfile_set_int(w, "n_layers", 3);
	rc |= nk_wfile_set_int(w, "neg", -5);
	rc |= nk_wfile_set_float(w, "lr", 0.001);
	rc |= nk_wfile_set_float(w, "eps", 1e-300);
	rc |= nk_wfile_set_ints(w, "sizes", sizes, 5);
	rc |= nk_wfile_set_floats(w, "betas", betas, 3);
	rc |= nk_wfile_set_ints(w, "empty", NULL, 0);
	rc |= nk_wfile_set_str(w, "empty_str", "");
	rc |= nk_wfile_set_str(w, "utf8", "h\xc3\xa9llo w\xc3\xb6rld");
	rc |= nk_wfile_add(w, "emb", NK_F32, 2, (int64_t[]){3, 4}, emb);
	rc |= nk_wfile_add(w, "idx", NK_I32, 1, (int64_t[]){5}, idx);
	rc |= nk_wfile_add(w, "bytes", NK_U8, 3, (int64_t[]){2, 3, 4}, bytes);
	rc |= nk_wfile_add(w, "f64", NK_F64, 2, (int64_t[]){2, 2}, f64);
	rc |= nk_wfile_add(w, "i64", NK_I64, 1, (int64_t[]){3}, i64);
	rc |= nk_wfile_add(w, "scalar", NK_F32, 0, NULL, scalar);
	rc |= nk_wfile_add(w, "empty", NK_F32, 2, (int64_t[]){0, 5}, NULL);
	rc |= nk_wfile_add(w, "lstm.0.w", NK_F32, 2, (int64_t[]){8, 3}, lstm);
	if (rc) {
		nk_wfile_free(w);
		return NULL;
	}
	return w;
}

/* NULL when `r` holds exactly the sample, else what differs. */
static const char *check_sample(const nk_wfile *r)
{
	static char why[256];
	const char *s;
	int64_t i;
	double f;
	const int64_t *iv;
	const double *fv;
	size_t n;
	sample_values();
	if (nk_wfile_n_meta(r) != 11 || nk_wfile_n_tensors(r) != 8)
		return "wrong number of metadata keys or tensors";
	static const char *const keys[] = {"program", "model", "n_layers",
		"neg", "lr", "eps", "sizes", "betas", "empty", "empty_str",
		"utf8"};
	for (size_t k = 0; k < 11; k++)
		if (strcmp(nk_wfile_meta_at(r, k)->key, keys[k]))
			return "metadata out of order";
	if (nk_wfile_get_str(r, "program", &s) || strcmp(s, "test_wfile"))
		return "program";
	if (nk_wfile_get_str(r, "model", &s) || strcmp(s, "sample"))
		return "model";
	if (nk_wfile_get_int(r, "n_layers", &i) || i != 3)
		return "n_layers";
	if (nk_wfile_get_int(r, "neg", &i) || i != -5)
		return "neg";
	if (nk_wfile_get_float(r, "lr", &f) || f != 0.001)
		return "lr";
	if (nk_wfile_get_float(r, "eps", &f) || f != 1e-300)
		return "eps";
	if (nk_wfile_get_ints(r, "sizes", &iv, &n) || n != 5 ||
	    memcmp(iv, sizes, sizeof sizes))
		return "sizes";
	if (nk_wfile_get_floats(r, "betas", &fv, &n) || n != 3 ||
	    memcmp(fv, betas, sizeof betas))
		return "betas";
	if (nk_wfile_get_ints(r, "empty", &iv, &n) || n != 0)
		return "empty";
	if (nk_wfile_get_str(r, "empty_str", &s) || strcmp(s, ""))
		return "empty_str";
	if (nk_wfile_get_str(r, "utf8", &s) ||
	    strcmp(s, "h\xc3\xa9llo w\xc3\xb6rld"))
		return "utf8";
	static const struct {
		const char *name;
		int dtype, ndim;
		int64_t ne[3];
		const void *data;
		size_t nbytes;
	} want[] = {
		{"emb", NK_F32, 2, {3, 4}, emb, sizeof emb},
		{"idx", NK_I32, 1, {5}, idx, sizeof idx},
		{"bytes", NK_U8, 3, {2, 3, 4}, bytes, sizeof bytes},
		{"f64", NK_F64, 2, {2, 2}, f64, sizeof f64},
		{"i64", NK_I64, 1, {3}, i64, sizeof i64},
		{"scalar", NK_F32, 0, {0}, scalar, sizeof scalar},
		{"empty", NK_F32, 2, {0, 5}, NULL, 0},
		{"lstm.0.w", NK_F32, 2, {8, 3}, lstm, sizeof lstm},
	};
	for (size_t k = 0; k < 8; k++) {
		const nk_wtensor *t = nk_wfile_tensor_at(r, k);
		const nk_wtensor *u = nk_wfile_expect(r, want[k].name,
						      want[k].dtype, want[k].ndim,
						      want[k].ne);
		snprintf(why, sizeof why, "tensor %s", want[k].name);
		if (!t || t != u || t->nbytes != want[k].nbytes ||
		    (uintptr_t)t->data % 64 ||
		    (want[k].nbytes &&
		     memcmp(t->data, want[k].data, want[k].nbytes)))
			return why;
	}
	return NULL;
}

/* Writes the sample to `path`; returns its bytes (caller frees). */
static unsigned char *sample_file(const char *path, unsigned flags,
				  size_t *size)
{
	nk_wfile *w = make_sample();
	if (!w || nk_wfile_write(w, path, flags)) {
		nk_wfile_free(w);
		return NULL;
	}
	nk_wfile_free(w);
	return slurp(path, size);
}

/* ---- tests ---------------------------------------------------------------- */

TEST(roundtrip)
{
	for (unsigned flags = 0; flags <= NK_WFILE_COMPRESS; flags++) {
		const char *path = tmp_path("rt.nkw");
		nk_wfile *w = make_sample();
		CHECK(w != NULL);
		CHECK(nk_wfile_write(w, path, flags) == 0);
		nk_wfile_free(w);
		nk_wfile *r = nk_wfile_read(path);
		CHECK_MSG(r != NULL, "%s", nk_last_error());
		if (!r)
			return;
		const char *why = check_sample(r);
		CHECK_MSG(why == NULL, "flags %u: %s", flags, why);
		CHECK(strcmp(nk_wfile_name(r), path) == 0);
		nk_wfile_free(r);
	}
}

/* The man page's byte offsets, checked against what the writer makes. */
TEST(documented_layout)
{
	size_t size;
	unsigned char *b = sample_file(tmp_path("lay.nkw"), 0, &size);
	CHECK(b != NULL);
	if (!b)
		return;
	uint32_t hsize = nk_load_u32le(b + 12);
	uint64_t dsize = nk_load_u64le(b + 16);
	CHECK(memcmp(b, "NKWF", 4) == 0);
	CHECK(nk_load_u32le(b + 4) == 1);
	CHECK(nk_load_u32le(b + 8) == 0);
	CHECK(hsize % 64 == 0 && hsize >= 64);
	CHECK(nk_load_u64le(b + 24) == dsize);
	CHECK(nk_load_u32le(b + 32) == 11);
	CHECK(nk_load_u32le(b + 36) == 8);
	CHECK(nk_load_u32le(b + 40) == 0);
	CHECK(nk_load_u32le(b + 44) == crc32(0, b, 44));
	CHECK(size == hsize + dsize + 4);
	CHECK(nk_load_u32le(b + size - 4) == crc32(0, b, (uInt)size - 4));
	/* First metadata entry: key_len, key, type, u32 len, bytes. */
	CHECK(b[48] == 7 && memcmp(b + 49, "program", 7) == 0);
	CHECK(b[56] == NK_WMETA_STR && nk_load_u32le(b + 57) == 10);
	CHECK(memcmp(b + 61, "test_wfile", 10) == 0);
	/* The first tensor's bytes start the data; the second is at 64. */
	CHECK(memcmp(b + hsize, emb, sizeof emb) == 0);
	CHECK(memcmp(b + hsize + 64, idx, sizeof idx) == 0);
	free(b);

	/* Compressed: flag bit 0, raw size > stored size for this data. */
	b = sample_file(tmp_path("layz.nkw"), NK_WFILE_COMPRESS, &size);
	CHECK(b != NULL);
	if (!b)
		return;
	CHECK(nk_load_u32le(b + 8) == 1);
	hsize = nk_load_u32le(b + 12);
	dsize = nk_load_u64le(b + 16);
	CHECK(size == hsize + dsize + 4);
	unsigned char raw[64 * 9];
	uLongf rawn = sizeof raw;
	CHECK(uncompress(raw, &rawn, b + hsize, (uLong)dsize) == Z_OK);
	CHECK(rawn == nk_load_u64le(b + 24));
	CHECK(memcmp(raw, emb, sizeof emb) == 0);
	free(b);
}

/* One form per content: same bytes every time, and after a read-write. */
TEST(canonical)
{
	for (unsigned flags = 0; flags <= NK_WFILE_COMPRESS; flags++) {
		size_t n1, n2, n3;
		unsigned char *a = sample_file(tmp_path("c1.nkw"), flags, &n1);
		unsigned char *b = sample_file(tmp_path("c2.nkw"), flags, &n2);
		nk_wfile *r = nk_wfile_read(tmp_path("c1.nkw"));
		CHECK(r && nk_wfile_write(r, tmp_path("c3.nkw"), flags) == 0);
		nk_wfile_free(r);
		unsigned char *c = slurp(tmp_path("c3.nkw"), &n3);
		CHECK(a && b && c);
		CHECK(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
		CHECK(a && c && n1 == n3 && memcmp(a, c, n1) == 0);
		free(a);
		free(b);
		free(c);
	}
}

/* Touches every byte of every tensor, so ASan sees a bad extent. */
static unsigned touch(const nk_wfile *r)
{
	unsigned sum = 0;
	for (size_t i = 0; i < nk_wfile_n_tensors(r); i++) {
		const nk_wtensor *t = nk_wfile_tensor_at(r, i);
		for (size_t k = 0; k < t->nbytes; k++)
			sum += ((const unsigned char *)t->data)[k];
	}
	for (size_t i = 0; i < nk_wfile_n_meta(r); i++) {
		const nk_wmeta *m = nk_wfile_meta_at(r, i);
		if (m->type == NK_WMETA_STR)
			sum += (unsigned)strlen(m->v.s);
		else if (m->type == NK_WMETA_INTS)
			for (size_t k = 0; k < m->count; k++)
				sum += (unsigned)m->v.ints[k];
	}
	return sum;
}

/* Reads `n` bytes from an exact-size copy (ASan catches overreads). */
static nk_wfile *read_copy(const unsigned char *src, size_t n,
			   unsigned flags)
{
	unsigned char *copy = malloc(n ? n : 1);
	memcpy(copy, src, n);
	nk_wfile *r = nk_wfile_read_mem_flags(copy, n, "dam.nkw", flags);
	if (r)
		touch(r);
	nk_wfile_free(r);
	free(copy);
	return r;
}

TEST(truncate_every_offset)
{
	for (unsigned flags = 0; flags <= NK_WFILE_COMPRESS; flags++) {
		size_t size;
		unsigned char *b = sample_file(tmp_path("t.nkw"), flags, &size);
		CHECK(b && size > 600);
		if (!b)
			return;
		for (size_t k = 0; k < size; k++) {
			for (unsigned nocrc = 0; nocrc < 2; nocrc++) {
				nk_error_clear();
				nk_wfile *r = read_copy(
					b, k, nocrc ? NK_WFILE_NO_CRC : 0);
				const char *e = nk_last_error();
				CHECK_MSG(!r && strstr(e, "dam.nkw") &&
						  strstr(e, "truncated"),
					  "cut at %zu of %zu (compress %u): "
					  "'%s'", k, size, flags, e);
			}
		}
		CHECK(read_copy(b, size, 0) != NULL);
		free(b);
	}
}

TEST(flip_every_bit)
{
	for (unsigned flags = 0; flags <= NK_WFILE_COMPRESS; flags++) {
		size_t size;
		unsigned char *b = sample_file(tmp_path("f.nkw"), flags, &size);
		CHECK(b != NULL);
		if (!b)
			return;
		for (size_t k = 0; k < size; k++) {
			static const unsigned char masks[] = {
				1, 2, 4, 8, 16, 32, 64, 128, 0xFF};
			for (size_t m = 0; m < sizeof masks; m++) {
				b[k] ^= masks[m];
				nk_error_clear();
				nk_wfile *r = read_copy(b, size, 0);
				const char *e = nk_last_error();
				CHECK_MSG(!r && strstr(e, "dam.nkw: "),
					  "byte %zu ^ 0x%02x (compress %u) "
					  "passed: '%s'", k, masks[m], flags,
					  e);
				/* Behind the CRC: may pass, must not crash. */
				read_copy(b, size, NK_WFILE_NO_CRC);
				b[k] ^= masks[m];
			}
		}
		free(b);
	}
}

/* A fresh copy of the sample, patched by `fn`, its CRCs fixed, must fail
 * with a message holding `want`. */
static void expect_damage(unsigned flags, void (*fn)(unsigned char *, size_t),
			  int code, const char *want, int line)
{
	size_t size;
	unsigned char *b = sample_file(tmp_path("d.nkw"), flags, &size);
	CHECK(b != NULL);
	if (!b)
		return;
	fn(b, size);
	fix_crcs(b, size);
	nk_error_clear();
	unsigned char *copy = malloc(size);
	memcpy(copy, b, size);
	nk_wfile *r = nk_wfile_read_mem(copy, size, "dam.nkw");
	const char *e = nk_last_error();
	CHECK_MSG(!r && strstr(e, "dam.nkw: ") && strstr(e, want),
		  "line %d: want '%s', got '%s'", line, want, e);
	(void)code;
	nk_wfile_free(r);
	free(copy);
	free(b);
}

/* Offsets into the sample's header: the first tensor entry ("emb"). */
static size_t emb_entry(const unsigned char *b)
{
	for (size_t k = 48; k < 1024; k++)
		if (b[k] == 3 && memcmp(b + k + 1, "emb", 3) == 0 &&
		    b[k + 4] == NK_F32)
			return k;
	return 0;
}

static void p_version2(unsigned char *b, size_t n) { (void)n; b[4] = 2; }
static void p_version0(unsigned char *b, size_t n) { (void)n; b[4] = 0; }
static void p_flags(unsigned char *b, size_t n) { (void)n; b[8] |= 2; }
static void p_reserved(unsigned char *b, size_t n) { (void)n; b[41] = 1; }
static void p_hsize_odd(unsigned char *b, size_t n) { (void)n; b[12] += 1; }
static void p_hsize_huge(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u32le(b + 12, 0xFFFFFFC0u);
}
static void p_hsize_small(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u32le(b + 12, 64);
}
static void p_dsize_huge(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u64le(b + 16, UINT64_MAX - 2);
}
static void p_raw_differs(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u64le(b + 24, nk_load_u64le(b + 24) + 64);
}
static void p_raw_huge(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u64le(b + 24, (uint64_t)1 << 40);
}
static void p_nmeta_huge(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u32le(b + 32, 0xFFFFFFFFu);
}
static void p_ntensors_huge(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u32le(b + 36, 0x00FFFFFFu);
}
static void p_ntensors_more(unsigned char *b, size_t n)
{
	(void)n;
	b[36] += 1;
}
static void p_key_empty(unsigned char *b, size_t n) { (void)n; b[48] = 0; }
static void p_key_nul(unsigned char *b, size_t n) { (void)n; b[50] = 0; }
static void p_key_esc(unsigned char *b, size_t n) { (void)n; b[49] = 27; }
static void p_meta_type(unsigned char *b, size_t n) { (void)n; b[56] = 9; }
static void p_str_long(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u32le(b + 57, 0x7FFFFFFF);
}
static void p_str_nul(unsigned char *b, size_t n) { (void)n; b[63] = 0; }
static void p_key_dup(unsigned char *b, size_t n)
{
	(void)n; /* "model" (after program's 23 bytes) becomes "sizes" */
	memcpy(b + 48 + 23 + 1, "sizes", 5);
}
static void p_dtype(unsigned char *b, size_t n)
{
	(void)n;
	b[emb_entry(b) + 4] = 6;
}
static void p_ndim(unsigned char *b, size_t n)
{
	(void)n;
	b[emb_entry(b) + 5] = 9;
}
static void p_dim_huge(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u64le(b + emb_entry(b) + 6, (uint64_t)1 << 63);
}
static void p_dim_overflow(unsigned char *b, size_t n)
{
	(void)n;
	size_t e = emb_entry(b);
	nk_store_u64le(b + e + 6, (uint64_t)1 << 32);
	nk_store_u64le(b + e + 14, (uint64_t)1 << 32);
}
static void p_dim_past(unsigned char *b, size_t n)
{
	(void)n; /* emb (3,4) -> (3,400): 4800 bytes, more than there is */
	nk_store_u64le(b + emb_entry(b) + 14, 400);
}
static void p_dim_grow(unsigned char *b, size_t n)
{
	(void)n; /* (3,4) -> (3,6): 72 bytes, so idx should be at 128 */
	nk_store_u64le(b + emb_entry(b) + 14, 6);
}
static void p_offset(unsigned char *b, size_t n)
{
	(void)n;
	nk_store_u64le(b + emb_entry(b) + 22, 64);
}
static void p_tname_nul(unsigned char *b, size_t n)
{
	(void)n;
	b[emb_entry(b) + 2] = 0;
}
static void p_tname_dup(unsigned char *b, size_t n)
{
	(void)n; /* "emb" becomes "idx", the next tensor's name */
	memcpy(b + emb_entry(b) + 1, "idx", 3);
}
static void p_hpad(unsigned char *b, size_t n)
{
	(void)n;
	b[nk_load_u32le(b + 12) - 1] = 1;
}
static void p_dpad(unsigned char *b, size_t n)
{
	(void)n; /* emb is 48 bytes; 16 bytes of padding follow */
	b[nk_load_u32le(b + 12) + 50] = 1;
}

TEST(damage_behind_valid_crc)
{
#define DAMAGE(flags, fn, want) expect_damage(flags, fn, 0, want, __LINE__)
	DAMAGE(0, p_version2, "written by a newer nnkit (format version 2, "
			      "this reads up to 1); upgrade nnkit");
	DAMAGE(0, p_version0, "format version 0");
	DAMAGE(0, p_flags, "unknown flags 0x2");
	DAMAGE(0, p_reserved, "reserved");
	DAMAGE(0, p_hsize_odd, "header size");
	DAMAGE(0, p_hsize_huge, "header size");
	DAMAGE(0, p_hsize_small, "bytes of junk after the CRC");
	DAMAGE(0, p_dsize_huge, "truncated: header says");
	DAMAGE(0, p_raw_differs, "uncompressed, yet");
	DAMAGE(NK_WFILE_COMPRESS, p_raw_huge, "cannot hold");
	DAMAGE(NK_WFILE_COMPRESS, p_raw_differs, "tensors end at");
	DAMAGE(0, p_nmeta_huge, "cannot fit");
	DAMAGE(0, p_ntensors_huge, "cannot fit");
	DAMAGE(0, p_ntensors_more, "tensor name");
	DAMAGE(0, p_key_empty, "empty metadata key");
	DAMAGE(0, p_key_nul, "metadata key holds control byte 0x00");
	DAMAGE(0, p_key_esc, "metadata key holds control byte 0x1b");
	DAMAGE(0, p_meta_type, "unknown type 9");
	DAMAGE(0, p_str_long, "runs past the end of the header");
	DAMAGE(0, p_str_nul, "string holds a NUL");
	DAMAGE(0, p_key_dup, "appears twice");
	DAMAGE(0, p_dtype, "unknown dtype 6");
	DAMAGE(0, p_ndim, "9 dimensions");
	DAMAGE(0, p_dim_huge, "shape too large");
	DAMAGE(0, p_dim_overflow, "shape too large");
	DAMAGE(0, p_dim_past, "tensor 'emb': 4800 bytes at offset 0 run past "
			      "the 512 bytes of data");
	DAMAGE(0, p_dim_grow, "tensor 'idx': data offset 64, expected 128");
	DAMAGE(0, p_offset, "data offset 64, expected 0");
	DAMAGE(0, p_tname_nul, "tensor name holds control byte 0x00");
	DAMAGE(0, p_tname_dup, "tensor 'idx' appears twice");
	DAMAGE(0, p_hpad, "zero padding");
	DAMAGE(0, p_dpad, "padding after tensor 'emb' is not zero");
#undef DAMAGE
}

/* A compressed sample whose zlib stream is replaced by `stream`. */
static void expect_stream(const unsigned char *stream, size_t slen,
			  const char *want)
{
	size_t size;
	unsigned char *b = sample_file(tmp_path("z.nkw"), NK_WFILE_COMPRESS,
				       &size);
	CHECK(b != NULL);
	if (!b)
		return;
	size_t h = nk_load_u32le(b + 12), n = h + slen + 4;
	unsigned char *f = malloc(n);
	memcpy(f, b, h);
	memcpy(f + h, stream, slen);
	nk_store_u64le(f + 16, slen);
	fix_crcs(f, n);
	nk_error_clear();
	nk_wfile *r = nk_wfile_read_mem(f, n, "dam.nkw");
	CHECK_MSG(!r && strstr(nk_last_error(), want),
		  "want '%s', got '%s'", want, nk_last_error());
	nk_wfile_free(r);
	free(f);
	free(b);
}

TEST(damaged_zlib_stream)
{
	size_t size;
	unsigned char *b = sample_file(tmp_path("z.nkw"), NK_WFILE_COMPRESS,
				       &size);
	CHECK(b != NULL);
	if (!b)
		return;
	size_t raw = nk_load_u64le(b + 24);
	free(b);
	unsigned char *zeros = calloc(1, 2 * raw + 8);
	unsigned char stream[4096];
	uLongf n = sizeof stream;
	/* Inflates to more than the header says. */
	CHECK(compress(stream, &n, zeros, 2 * raw) == Z_OK);
	expect_stream(stream, n, "inflate to more than");
	/* To less. */
	n = sizeof stream;
	CHECK(raw == 512);
	CHECK(compress(stream, &n, zeros, raw - 64) == Z_OK);
	expect_stream(stream, n, "inflate to 448 bytes, header says 512");
	/* Right size (all zeros: a valid file), cut short, bytes after. */
	n = sizeof stream;
	CHECK(compress(stream, &n, zeros, raw) == Z_OK);
	expect_stream(stream, n - 3, "end early");
	expect_stream(stream, n / 2, "end early");
	stream[n] = 0;
	expect_stream(stream, n + 1, "1 bytes after the end");
	/* Not zlib at all. */
	expect_stream(zeros, 32, "compressed data are damaged");
	free(zeros);
}

TEST(bad_files)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *want;
	} cases[] = {
		{"", 0, "dam.nkw: truncated: 0 bytes"},
		{"NK", 2, "dam.nkw: truncated: 2 bytes"},
		{"GGUF\3\0\0\0", 8, "dam.nkw: not an nnkit weight file"},
		{"\x1f\x8b\x08\0", 4, "not an nnkit weight file"},
		{"NKWF\1\0\0\0", 8, "truncated"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		nk_error_clear();
		CHECK(read_copy((const unsigned char *)cases[i].bytes,
				cases[i].n, 0) == NULL);
		CHECK_MSG(strstr(nk_last_error(), cases[i].want),
			  "case %zu: '%s'", i, nk_last_error());
	}
	/* Junk after the CRC. */
	size_t size;
	unsigned char *b = sample_file(tmp_path("j.nkw"), 0, &size);
	CHECK(b != NULL);
	if (!b)
		return;
	unsigned char *j = calloc(1, size + 3);
	memcpy(j, b, size);
	nk_error_clear();
	CHECK(read_copy(j, size + 3, 0) == NULL);
	CHECK_MSG(strstr(nk_last_error(), "3 bytes of junk after the CRC"),
		  "'%s'", nk_last_error());
	/* The classic message for a cut file. */
	nk_error_clear();
	CHECK(read_copy(b, nk_load_u32le(b + 12) + 100, 0) == NULL);
	char want[128];
	snprintf(want, sizeof want, "dam.nkw: truncated: header says %llu "
		 "bytes of data, file has 100",
		 (unsigned long long)nk_load_u64le(b + 16));
	CHECK_MSG(strcmp(nk_last_error(), want) == 0, "'%s'",
		  nk_last_error());
	/* Missing files and directories name the path. */
	CHECK(nk_wfile_read(tmp_path("missing.nkw")) == NULL);
	CHECK(strstr(nk_last_error(), "missing.nkw"));
	CHECK(nk_wfile_read(tmpdir) == NULL);
	CHECK(strstr(nk_last_error(), "directory"));
	free(j);
	free(b);
}

TEST(lookups_and_messages)
{
	nk_wfile *w = make_sample();
	CHECK(w && nk_wfile_write(w, tmp_path("m.nkw"), 0) == 0);
	nk_wfile_free(w);
	nk_wfile *r = nk_wfile_read(tmp_path("m.nkw"));
	CHECK(r != NULL);
	if (!r)
		return;
	char want[512];
	const char *s;
	int64_t i;
	double f;
	CHECK(nk_wfile_get_int(r, "nope", &i) == NK_ENOTFOUND);
	snprintf(want, sizeof want, "%s: no metadata 'nope'", tmp_path("m.nkw"));
	CHECK_MSG(strcmp(nk_last_error(), want) == 0, "'%s'", nk_last_error());
	CHECK(nk_wfile_get_float(r, "program", &f) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "metadata 'program' is str, expected "
				      "float"));
	CHECK(nk_wfile_get_str(r, "lr", &s) == NK_EFORMAT);
	CHECK(nk_wfile_get_float(r, "n_layers", &f) == 0 && f == 3.0);
	CHECK(nk_wfile_get_int(r, "lr", &i) == NK_EFORMAT);
	CHECK(nk_wfile_meta(r, "nope") == NULL);
	CHECK(nk_wfile_meta(r, "lr") && nk_wfile_meta(r, "lr")->type ==
						 NK_WMETA_FLOAT);

	CHECK(nk_wfile_tensor(r, "nope") == NULL);
	CHECK(strstr(nk_last_error(), "m.nkw: no tensor 'nope'"));
	CHECK(nk_wfile_expect(r, "lstm.0.w", NK_F32, 2, (int64_t[]){8, 4}) ==
	      NULL);
	snprintf(want, sizeof want, "%s: tensor 'lstm.0.w' has shape (8,3), "
		 "expected (8,4)", tmp_path("m.nkw"));
	CHECK_MSG(strcmp(nk_last_error(), want) == 0, "'%s'", nk_last_error());
	CHECK(nk_wfile_expect(r, "lstm.0.w", NK_F32, 1, (int64_t[]){24}) ==
	      NULL);
	CHECK(strstr(nk_last_error(), "has shape (8,3), expected (24)"));
	CHECK(nk_wfile_expect(r, "lstm.0.w", NK_F32, 3, (int64_t[]){-1, 3, 1})
	      == NULL);
	CHECK(strstr(nk_last_error(), "expected (*,3,1)"));
	CHECK(nk_wfile_expect(r, "lstm.0.w", NK_I32, 2, (int64_t[]){8, 3}) ==
	      NULL);
	CHECK(strstr(nk_last_error(), "tensor 'lstm.0.w' is f32, expected "
				      "i32"));
	CHECK(nk_wfile_expect(r, "lstm.0.w", NK_F32, 2, (int64_t[]){-1, 3}));
	CHECK(nk_wfile_expect(r, "scalar", NK_F32, 0, NULL));
	CHECK(nk_wfile_meta_at(r, 11) == NULL && nk_wfile_tensor_at(r, 8) ==
							 NULL);
	CHECK(strcmp(nk_wfile_dtype_name(NK_U8), "u8") == 0);
	CHECK(nk_wfile_dtype_name(NK_DTYPE_COUNT) == NULL);
	CHECK(nk_wfile_dtype_name(-1) == NULL);
	CHECK(strcmp(nk_wfile_meta_type_name(NK_WMETA_FLOATS), "floats") == 0);
	CHECK(nk_wfile_meta_type_name(NK_WMETA_TYPE_COUNT) == NULL);
	nk_wfile_free(r);
}

TEST(writer_rejects)
{
	nk_wfile *w = nk_wfile_create();
	float x[4] = {0};
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK(nk_wfile_add(w, "x", NK_F32, 1, (int64_t[]){4}, x) == 0);
	CHECK(nk_wfile_add(w, "x", NK_F32, 1, (int64_t[]){4}, x) == NK_EINVAL);
	CHECK(strstr(nk_last_error(), "'x' added twice"));
	CHECK(nk_wfile_add(w, "", NK_F32, 1, (int64_t[]){4}, x) == NK_EINVAL);
	CHECK(nk_wfile_add(w, longname, NK_F32, 1, (int64_t[]){4}, x) ==
	      NK_EINVAL);
	CHECK(strstr(nk_last_error(), "299 bytes (at most 255)"));
	longname[255] = 0;
	CHECK(nk_wfile_add(w, longname, NK_F32, 1, (int64_t[]){4}, x) == 0);
	CHECK(nk_wfile_add(w, "a\nb", NK_F32, 1, (int64_t[]){4}, x) ==
	      NK_EINVAL);
	CHECK(strstr(nk_last_error(), "control byte 0x0a"));
	CHECK(nk_wfile_set_int(w, "\x1b[31m", 1) == NK_EINVAL);
	CHECK(nk_wfile_add(w, "y", NK_DTYPE_COUNT, 1, (int64_t[]){4}, x) ==
	      NK_EINVAL);
	CHECK(nk_wfile_add(w, "y", NK_F32, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1,
							 1, 1}, x) == NK_EINVAL);
	CHECK(nk_wfile_add(w, "y", NK_F32, 1, (int64_t[]){-1}, x) ==
	      NK_EINVAL);
	CHECK(nk_wfile_add(w, "y", NK_F32, 1, (int64_t[]){4}, NULL) ==
	      NK_EINVAL);
	CHECK(strstr(nk_last_error(), "NULL data for 16 bytes"));
	CHECK(nk_wfile_add(w, "y", NK_F32, 2,
			   (int64_t[]){INT64_MAX, INT64_MAX}, x) == NK_ERANGE);
	CHECK(nk_wfile_add(w, "y", NK_F64, 1, (int64_t[]){INT64_MAX / 4}, x) ==
	      NK_ERANGE);
	/* Empty, yet too big for numpy: 2^63 bytes if the 0 were a 1. */
	CHECK(nk_wfile_add(w, "y", NK_F32, 2, (int64_t[]){INT64_MAX / 2, 0},
			   NULL) == NK_ERANGE);
	CHECK(nk_wfile_add(w, "y", NK_F32, 2, (int64_t[]){INT64_MAX / 4, 0},
			   NULL) == 0);
	CHECK(nk_wfile_set_int(w, "", 1) != 0);
	CHECK(nk_wfile_set_int(w, longname, 1) == 0);
	CHECK(nk_wfile_set_str(w, "s", NULL) != 0);
	CHECK(nk_wfile_set_ints(w, "a", NULL, 3) != 0);
	CHECK(nk_wfile_write(w, tmp_path("wr.nkw"), 0x80) == NK_EINVAL);
	CHECK(access(tmp_path("wr.nkw"), F_OK) != 0);
	/* Replacing a key keeps its place and changes its type. */
	CHECK(nk_wfile_set_str(w, "k", "old") == 0);
	CHECK(nk_wfile_set_floats(w, "k", (double[]){1.5, 2.5}, 2) == 0);
	CHECK(nk_wfile_n_meta(w) == 2);
	CHECK(nk_wfile_write(w, tmp_path("wr.nkw"), 0) == 0);
	nk_wfile_free(w);
	nk_wfile *r = nk_wfile_read(tmp_path("wr.nkw"));
	const double *v;
	size_t n;
	CHECK(r && nk_wfile_get_floats(r, "k", &v, &n) == 0 && n == 2 &&
	      v[1] == 2.5);
	CHECK(r && nk_wfile_tensor(r, longname) &&
	      nk_wfile_tensor(r, "y")->nelem == 0);
	nk_wfile_free(r);
}

/* Many tensors and keys: the name index grows; the big tensor's random
 * bytes make deflate's output buffer grow. */
TEST(many_and_large)
{
	enum { N = 3000, BIG = 1 << 20 };
	float *big = malloc(BIG * sizeof *big);
	int32_t *small = malloc(N * sizeof *small);
	uint32_t s = 12345;
	for (int i = 0; i < BIG; i++) {
		s = s * 1664525u + 1013904223u;
		big[i] = (float)(s >> 8) / (float)(1 << 24);
	}
	for (int i = 0; i < N; i++)
		small[i] = i;
	nk_wfile *w = nk_wfile_create();
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "t.%d", i);
		CHECK(nk_wfile_add(w, name, NK_I32, 1, (int64_t[]){i % 7},
				   small) == 0);
		snprintf(name, sizeof name, "k.%d", i);
		CHECK(nk_wfile_set_int(w, name, i) == 0);
	}
	CHECK(nk_wfile_add(w, "big", NK_F32, 2, (int64_t[]){1024, 1024},
			   big) == 0);
	for (unsigned flags = 0; flags <= NK_WFILE_COMPRESS; flags++) {
		CHECK(nk_wfile_write(w, tmp_path("big.nkw"), flags) == 0);
		nk_wfile *r = nk_wfile_read(tmp_path("big.nkw"));
		CHECK_MSG(r != NULL, "%s", nk_last_error());
		if (!r)
			break;
		int64_t v = -1;
		CHECK(nk_wfile_get_int(r, "k.2999", &v) == 0 && v == 2999);
		const nk_wtensor *t = nk_wfile_tensor(r, "t.2998");
		CHECK(t && t->ne[0] == 2998 % 7 &&
		      memcmp(t->data, small, t->nbytes) == 0);
		t = nk_wfile_expect(r, "big", NK_F32, 2,
				    (int64_t[]){1024, 1024});
		CHECK(t && memcmp(t->data, big, BIG * sizeof *big) == 0);
		nk_wfile_free(r);
	}
	nk_wfile_free(w);
	free(big);
	free(small);
}

TEST(empty_file)
{
	for (unsigned flags = 0; flags <= NK_WFILE_COMPRESS; flags++) {
		nk_wfile *w = nk_wfile_create();
		CHECK(nk_wfile_write(w, tmp_path("e.nkw"), flags) == 0);
		nk_wfile_free(w);
		size_t size;
		unsigned char *b = slurp(tmp_path("e.nkw"), &size);
		CHECK(b && size == (flags ? 64 + 8 + 4 : 64 + 4));
		nk_wfile *r = nk_wfile_read(tmp_path("e.nkw"));
		CHECK(r && nk_wfile_n_meta(r) == 0 && nk_wfile_n_tensors(r) == 0);
		nk_wfile_free(r);
		free(b);
	}
}

/* A read file is a writer too: add to it and write it elsewhere. */
TEST(read_modify_write)
{
	nk_wfile *w = make_sample();
	CHECK(w && nk_wfile_write(w, tmp_path("a.nkw"), NK_WFILE_COMPRESS) == 0);
	nk_wfile_free(w);
	nk_wfile *r = nk_wfile_read(tmp_path("a.nkw"));
	CHECK(r != NULL);
	if (!r)
		return;
	float extra[3] = {1, 2, 3};
	CHECK(nk_wfile_set_int(r, "epoch", 7) == 0);
	CHECK(nk_wfile_set_str(r, "model", "tuned") == 0);
	CHECK(nk_wfile_add(r, "extra", NK_F32, 1, (int64_t[]){3}, extra) == 0);
	/* Over the file it was read from: the old mapping stays valid. */
	CHECK(nk_wfile_write(r, tmp_path("a.nkw"), 0) == 0);
	nk_wfile_free(r);
	r = nk_wfile_read(tmp_path("a.nkw"));
	const char *s;
	int64_t e;
	CHECK(r && nk_wfile_get_int(r, "epoch", &e) == 0 && e == 7);
	CHECK(r && nk_wfile_get_str(r, "model", &s) == 0 &&
	      strcmp(s, "tuned") == 0);
	CHECK(r && nk_wfile_n_tensors(r) == 9 &&
	      memcmp(nk_wfile_tensor(r, "extra")->data, extra, 12) == 0);
	CHECK(r && memcmp(nk_wfile_tensor(r, "lstm.0.w")->data, lstm,
			  sizeof lstm) == 0);
	nk_wfile_free(r);
}

/* Data come back 64-byte aligned even from a misaligned buffer or a
 * gzip'd file (read into the heap by nk_input_load). */
TEST(alignment)
{
	size_t size;
	unsigned char *b = sample_file(tmp_path("al.nkw"), 0, &size);
	CHECK(b != NULL);
	if (!b)
		return;
	unsigned char *odd = malloc(size + 1);
	memcpy(odd + 1, b, size);
	nk_wfile *r = nk_wfile_read_mem(odd + 1, size, "odd");
	CHECK(r && check_sample(r) == NULL);
	nk_wfile_free(r);
	free(odd);
	gzFile gz = gzopen(tmp_path("al.nkw.gz"), "wb");
	CHECK(gz && gzwrite(gz, b, (unsigned)size) == (int)size);
	CHECK(gz && gzclose(gz) == Z_OK);
	r = nk_wfile_read(tmp_path("al.nkw.gz"));
	CHECK_MSG(r && check_sample(r) == NULL, "%s", nk_last_error());
	nk_wfile_free(r);
	free(b);
}

/* Writes fail cleanly, leaving the previous file and no temporary. */
TEST(atomic_write)
{
	clear_tmpdir();
	nk_wfile *w = make_sample();
	CHECK(nk_wfile_write(w, "/nonexistent-dir/x/model.nkw", 0) == NK_EIO);
	CHECK(strstr(nk_last_error(), "/nonexistent-dir/x/model.nkw"));

	const char *path = tmp_path("keep.nkw");
	CHECK(nk_wfile_write(w, path, 0) == 0);
	size_t n0, n1;
	unsigned char *before = slurp(path, &n0);
	CHECK(count_entries() == 1);

	/* A big model over it, with the file size limit set so that the
	 * write fails midway (EFBIG, as a full disk would give ENOSPC). */
	enum { BIG = 1 << 18 };
	float *big = malloc(BIG * sizeof *big);
	uint32_t s = 7;
	for (int i = 0; i < BIG; i++) /* incompressible, for the zlib case */
		big[i] = (float)(s = s * 1664525u + 1013904223u);
	CHECK(nk_wfile_add(w, "big", NK_F32, 1, (int64_t[]){BIG}, big) == 0);
	for (unsigned flags = 0; flags <= NK_WFILE_COMPRESS; flags++) {
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGXFSZ, SIG_IGN);
			struct rlimit rl = {65536, 65536};
			setrlimit(RLIMIT_FSIZE, &rl);
			int rc = nk_wfile_write(w, path, flags);
			int named = strstr(nk_last_error(), path) != NULL;
			_exit(rc == NK_EIO && named ? 0 : 1);
		}
		int status = -1;
		waitpid(pid, &status, 0);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "write over the size limit did not fail cleanly "
			  "(status %d)", status);
		unsigned char *after = slurp(path, &n1);
		CHECK(before && after && n0 == n1 && memcmp(before, after, n0) ==
								0);
		CHECK_MSG(count_entries() == 1, "%d entries in %s",
			  count_entries(), tmpdir);
		free(after);
	}
	/* To a stream that cannot take it. */
	FILE *full = fopen("/dev/full", "wb");
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		CHECK(nk_wfile_write_fp(w, full, "/dev/full", 0) == NK_EIO);
		CHECK(strstr(nk_last_error(), "/dev/full: write failed"));
		fclose(full);
	}
	nk_wfile_free(w);
	free(big);
	free(before);
}

/* ---- the command-line modes --------------------------------------------- */

static int write_sample(const char *path, unsigned flags)
{
	nk_wfile *w = make_sample();
	if (!w || nk_wfile_write(w, path, flags)) {
		fprintf(stderr, "test_wfile: %s\n", nk_last_error());
		return 1;
	}
	nk_wfile_free(w);
	return 0;
}

static int read_sample(const char *path)
{
	nk_wfile *r = nk_wfile_read(path);
	if (!r) {
		fprintf(stderr, "test_wfile: %s\n", nk_last_error());
		return 1;
	}
	const char *why = check_sample(r);
	if (why)
		fprintf(stderr, "test_wfile: %s: not the sample: %s\n", path,
			why);
	nk_wfile_free(r);
	return why ? 1 : 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* MB megabytes of f32 in 64 tensors; prints the time nk_wfile_write took
 * (fsync included). */
static int bench_write(const char *path, long mb, unsigned flags)
{
	size_t n = (size_t)mb << 20 >> 2, per = n / 64;
	float *x = nk_malloc_aligned(n * sizeof *x);
	if (!x)
		return 1;
	uint32_t s = 1;
	for (size_t i = 0; i < n; i++) {
		/* Like trained weights: near-normal, std 0.02 (the sum of
		 * four uniforms, Irwin-Hall). */
		float u = 0;
		for (int k = 0; k < 4; k++) {
			s = s * 1664525u + 1013904223u;
			u += (float)(s >> 8) / (float)(1 << 24);
		}
		x[i] = (u - 2.0f) * 0.0346f;
	}
	nk_wfile *w = nk_wfile_create();
	nk_wfile_set_str(w, "program", "bench");
	char name[32];
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof name, "layer.%d.w", i);
		nk_wfile_add(w, name, NK_F32, 2, (int64_t[]){(int64_t)per / 256,
							   256}, x + i * per);
	}
	double t0 = now();
	int rc = nk_wfile_write(w, path, flags);
	double t = now() - t0;
	if (rc)
		fprintf(stderr, "test_wfile: %s\n", nk_last_error());
	else
		printf("write %ld MB%s: %.3f s, %.0f MB/s\n", mb,
		       flags ? " zlib" : "", t, mb / t);
	nk_wfile_free(w);
	nk_free_aligned(x);
	return rc != 0;
}

static int bench_read(const char *path)
{
	double t0 = now();
	nk_wfile *r = nk_wfile_read(path);
	double secs = now() - t0;
	if (!r) {
		fprintf(stderr, "test_wfile: %s\n", nk_last_error());
		return 1;
	}
	double sum = 0, mb = 0;
	for (size_t i = 0; i < nk_wfile_n_tensors(r); i++) {
		const nk_wtensor *t = nk_wfile_tensor_at(r, i);
		const float *x = t->data;
		for (size_t k = 0; k < t->nelem; k++)
			sum += x[k];
		mb += t->nbytes / 1048576.0;
	}
	printf("read %.0f MB: %.3f s, %.0f MB/s (%zu tensors, sum %.6g)\n", mb,
	       secs, mb / secs, nk_wfile_n_tensors(r), sum);
	nk_wfile_free(r);
	return 0;
}

/* A stored tensor seen as the one compute view: shape and strides of a
 * contiguous tensor over the file's own bytes. */
TEST(tensor_view)
{
	float v[6] = {1, 2, 3, 4, 5, 6};
	int64_t shape[2] = {2, 3};
	nk_wfile *w = nk_wfile_create();
	CHECK(nk_wfile_add(w, "m", NK_F32, 2, shape, v) == 0);
	FILE *fp = tmpfile();
	CHECK(fp && nk_wfile_write_fp(w, fp, "mem", 0) == 0);
	nk_wfile_free(w);
	long size = ftell(fp);
	rewind(fp);
	char *buf = malloc((size_t)size);
	CHECK(fread(buf, 1, (size_t)size, fp) == (size_t)size);
	fclose(fp);
	nk_wfile *r = nk_wfile_read_mem(buf, (size_t)size, "mem");
	CHECK(r != NULL);
	const nk_wtensor *m = nk_wfile_tensor(r, "m");
	nk_tensor t;
	CHECK(m && nk_wtensor_view(m, &t) == 0);
	CHECK(t.dtype == NK_F32 && t.ndim == 2 && t.ne[0] == 2 &&
	      t.ne[1] == 3 && t.nb[1] == 4 && t.nb[0] == 12);
	CHECK(t.data == m->data);
	int64_t at[2] = {1, 2};
	CHECK(*(const float *)nk_tensor_ptr(&t, at) == 6);
	nk_wfile_free(r);
	free(buf);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--write-sample") == 0)
		return write_sample(argv[2], argc > 3 && strcmp(argv[3],
						"--compress") == 0);
	if (argc == 3 && strcmp(argv[1], "--check-sample") == 0)
		return read_sample(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "--validate") == 0) {
		size_t n;
		unsigned char *b = slurp(argv[2], &n);
		nk_wfile *r = b ? nk_wfile_read_mem_flags(b, n, argv[2],
				  argc > 3 ? NK_WFILE_NO_CRC : 0) : NULL;
		printf("%s\n", r ? "ok" : nk_last_error());
		nk_wfile_free(r);
		free(b);
		return r ? 0 : 1;
	}
	if (argc >= 4 && strcmp(argv[1], "--bench-write") == 0)
		return bench_write(argv[2], atol(argv[3]),
				   argc > 4 && strcmp(argv[4], "--compress") == 0);
	if (argc == 3 && strcmp(argv[1], "--bench-read") == 0)
		return bench_read(argv[2]);
	if (argc > 1) {
		fprintf(stderr, "usage: test_wfile [--write-sample FILE "
			"[--compress] | --check-sample FILE | --validate FILE "
			"[--no-crc] | --bench-write "
			"FILE MB [--compress] | --bench-read FILE]\n");
		return 2;
	}
	if (!mkdtemp(tmpdir)) {
		printf("FAIL test_wfile: cannot make a temporary directory\n");
		return 1;
	}
	RUN(roundtrip);
	RUN(documented_layout);
	RUN(canonical);
	RUN(truncate_every_offset);
	RUN(flip_every_bit);
	RUN(damage_behind_valid_crc);
	RUN(damaged_zlib_stream);
	RUN(bad_files);
	RUN(lookups_and_messages);
	RUN(writer_rejects);
	RUN(many_and_large);
	RUN(empty_file);
	RUN(read_modify_write);
	RUN(alignment);
	RUN(atomic_write);
	RUN(tensor_view);
	clear_tmpdir();
	rmdir(tmpdir);
	return nk_test_exit();
}
