/* bpe_compiled.c - the compiled vocabulary (nnkit-bpe(5)): the encoder's
 * tables written as they lie in memory (bpe_compiled_write.c), mapped
 * back, checked and used in place (here).
 *
 * Layout (all integers little-endian; man/nnkit-bpe.5 has it byte by
 * byte): a 512-byte header, then nine sections, each starting on a
 * 64-byte boundary and padded with zeros to the next:
 *
 *	0 pool       the tokens' bytes, by rank
 *	1 off        n_ranks + 1 u32 offsets into the pool
 *	2 slots      the rank table, slot_count 16-byte struct rank_slot
 *	3 pair1      65536 u32: rank + 1 of each byte pair, 0 none
 *	4 byte_rank  256 u32: rank of each byte
 *	5 pattern    the split pattern (pat_str), no NUL
 *	6 specials   n_spec (id u32, length u32)
 *	7 spec_text  the special tokens' texts, in the same order
 *	8 filter     filter_words u64: the tokens' filter (bpe_impl.h)
 *
 * The slots and the filter hold hash_bytes() of each token (bpe_impl.h):
 * a build whose hash, slot check, slot layout or filter bits differ
 * would look tokens up in the wrong places, so the header carries a
 * fingerprint of those functions, computed on probe strings, and a file
 * made by another build is refused with a message to compile it again.
 *
 * Nothing in a file is trusted, but reading all of it is what a fast
 * start cannot afford: the first touch of each 4 KB page of a mapping
 * costs one to two microseconds on this machine (its hypervisor keeps
 * shadow page tables), and cl100k's file has 1,376 pages, most of them
 * the rank table, of which a run on a short text visits few.  So
 * opening checks the header (CRC-32, the counts, every section's place
 * and size) and reads in full only what is indexed by: the offsets
 * (increasing from 0 to the pool's end, so every token lies in the
 * pool; 100 pages for cl100k), the byte table, the pattern and the
 * special tokens, each against its checksum.  The pool, the rank table,
 * the pair table and the filter are used unread (a lookup indexes the
 * filter by a hash masked to its size; damage there only hides tokens).
 * What they hold is only ever compared or handed out as an id, except a
 * slot's rank, which token_equal (bpe_impl.h) checks against n_ranks
 * before it reads the offsets by it; a lookup ends at an empty slot, and
 * the header names one, which is checked.  A damaged or crafted table can thus give
 * wrong ids, never a read out of bounds or a lookup that does not end.
 * Opening with `full` also sums those four against their checksums,
 * checks every slot and pair, and that the filter passes every token;
 * `tokenize compile` does so when it reads a compiled file, and so do
 * the tests and the fuzz target.
 *
 * The checksum of a section is a sum and a sum of sums of its 64-bit
 * words in eight lanes (one pass at memory speed, a 64-byte vector a
 * step), folded by FNV-1a: it catches truncation, a changed byte or a
 * moved block, not an adversary.
 */
#include "text/bpe_compiled.h"
#include "text/bpe_compiled_impl.h"
#include "core/base.h"
#include "core/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char *const sect_name[N_SECT] = {
	"pool", "offsets", "rank table", "pair table", "byte table",
	"pattern", "special tokens", "special token texts", "filter",
};

/* ---- the checksum and the build's table layout ---- */

uint64_t nk_bpe_compiled_sum_final(const struct sum *s)
{
	uint64_t w[17];
	for (int k = 0; k < 8; k++) {
		w[k] = s->s1[k];
		w[8 + k] = s->s2[k];
	}
	w[16] = s->blocks;
	return nk_fnv1a(w, sizeof w);
}

/* ---- the build's table layout ---- */

/* What the slots and the filter depend on, computed by this build's own
 * functions: the slot's size and field offsets, and hash_bytes,
 * slot_check, head_bytes and the filter's word and bits on strings of
 * every length up to 40. */
uint64_t nk_bpe_layout_fingerprint(void)
{
	static const unsigned char probe[] =
		"The rank table \xe2\x80\x94 compiled\x00\xff for nnkit, v1 \t\n";
	uint64_t w[6 + 5 * 41];
	size_t k = 0;
	w[k++] = sizeof(struct rank_slot);
	w[k++] = offsetof(struct rank_slot, head);
	w[k++] = offsetof(struct rank_slot, check);
	w[k++] = offsetof(struct rank_slot, rank1);
	w[k++] = RANK_NONE;
	w[k++] = 1; /* rank1 holds rank + 1 */
	for (size_t n = 0; n <= 40; n++) {
		uint64_t h = hash_bytes(probe, n);
		w[k++] = h;
		w[k++] = slot_check(h, n);
		w[k++] = head_bytes(probe, n);
		w[k++] = filter_word(h, SIZE_MAX);
		w[k++] = filter_bits(h);
	}
	return nk_fnv1a(w, sizeof w);
}

/* ---- reading ---- */

int nk_bpe_is_compiled(const unsigned char *p, size_t n)
{
	return n >= 4 && memcmp(p, NK_BPE_COMPILED_MAGIC, 4) == 0;
}

int nk_bpe_path_is_compiled(const char *path)
{
	unsigned char m[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t got = pread(fd, m, 4, 0);
	close(fd);
	return got == 4 && nk_bpe_is_compiled(m, 4);
}

/* The checks of what is indexed by, run on a chunk of a section right
 * after its checksum has read it, while it is in the cache: each
 * returns nonzero when an element in the chunk is bad, and the caller
 * then finds which for the message. */

/* Offsets increase strictly (no empty token); with off[0] == 0 and
 * off[n_ranks] == the pool's size, every token lies in the pool. */
static uint32_t offsets_bad(const uint32_t *off, size_t i, size_t end)
{
	uint32_t bad = 0;
	for (; i < end; i++)
		bad |= off[i + 1] <= off[i];
	return bad;
}

/* Every slot's rank + 1 at most n_ranks.  Four slots a 64-byte vector:
 * rank1 is the high half of every odd 64-bit word. */
static uint64_t slots_bad(const unsigned char *p, size_t n, uint32_t n_ranks)
{
	const v8u64 odd = {0, ~0ull, 0, ~0ull, 0, ~0ull, 0, ~0ull};
	const v8u64 lim = {0, n_ranks, 0, n_ranks, 0, n_ranks, 0, n_ranks};
	v8u64 bad = {0};
	for (size_t i = 0; i < n; i += ALIGN) {
		v8u64 w;
		memcpy(&w, p + i, sizeof w);
		bad |= (v8u64)(((w >> 32) & odd) > lim);
	}
	uint64_t any = 0;
	for (int k = 0; k < 8; k++)
		any |= bad[k];
	return any;
}

/* Values that are rank + 1 (plus1: 0 none) or ranks (RANK_NONE none). */
static uint32_t ranks_bad(const uint32_t *v, size_t n, uint32_t n_ranks,
			  int plus1)
{
	uint32_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad |= plus1 ? v[i] > n_ranks : v[i] >= n_ranks && v[i] != RANK_NONE;
	return bad;
}

#define CHUNK (16u << 10)

/* Sums section k (its padded bytes) and checks its elements a chunk at
 * a time: 0, or 1 when an element is bad, or 2 on a checksum mismatch. */
static int check_section(const unsigned char *p, size_t len, int k,
			 uint32_t nr, uint64_t want)
{
	struct sum sum = {0};
	size_t whole = pad64(len);
	for (size_t c = 0; c < whole; c += CHUNK) {
		size_t m = whole - c < CHUNK ? whole - c : CHUNK;
		sum_blocks(&sum, p + c, m);
		size_t hi = c + m < len ? c + m : len;
		uint64_t bad = 0;
		if (k == S_OFF)   /* pairs (i, i + 1) */
			bad = offsets_bad((const uint32_t *)p, c / 4,
					  hi / 4 - (hi == len));
		else if (k == S_SLOTS)
			bad = slots_bad(p + c, m, nr);
		else if (k == S_PAIR1 || k == S_BYTE)
			bad = ranks_bad((const uint32_t *)(p + c), (hi - c) / 4,
					nr, k == S_PAIR1);
		if (bad)
			return 1;
	}
	return nk_bpe_compiled_sum_final(&sum) != want ? 2 : 0;
}

/* The message for a bad element of section k. */
static int element_error(const unsigned char *p, int k, uint32_t nr,
			 const char *name)
{
	const uint32_t *v = (const uint32_t *)p;
	uint32_t i = 0;
	if (k == S_OFF) {
		while (v[i + 1] > v[i])
			i++;
		return nk_error(NK_EFORMAT, "%s: token %u's offsets run backwards "
				"or it is empty (%u to %u)", name, i, v[i],
				v[i + 1]);
	}
	if (k == S_SLOTS) {
		const struct rank_slot *sl = (const void *)p;
		while (sl[i].rank1 <= nr)
			i++;
		return nk_error(NK_EFORMAT, "%s: rank table slot %u holds rank "
				"%u of %u", name, i, sl[i].rank1 - 1, nr);
	}
	int plus1 = k == S_PAIR1;
	while (!ranks_bad(v + i, 1, nr, plus1))
		i++;
	return nk_error(NK_EFORMAT, "%s: the %s's entry %u is rank %u of %u",
			name, sect_name[k], i, v[i] - plus1, nr);
}

static int load_checked(nk_bpe *b, const unsigned char *data, size_t n,
			const char *name, int full)
{
	if (n < HEADER_SIZE)
		return nk_error(NK_EFORMAT, "%s: %zu bytes, shorter than the "
				"%d-byte header (truncated?)", name, n, HEADER_SIZE);
	if (!nk_bpe_is_compiled(data, n))
		return nk_error(NK_EFORMAT, "%s: not a compiled vocabulary (no "
				"'%s' magic)", name, NK_BPE_COMPILED_MAGIC);
	if ((uintptr_t)data % 8)
		return nk_error(NK_EINVAL, "%s: data not 8-byte aligned", name);
	unsigned version = nk_load_u16le(data + 4);
	if (version != NK_BPE_COMPILED_VERSION)
		return nk_error(NK_EVERSION, "%s: compiled vocabulary version %u; "
				"this tokenize reads version %d: compile it "
				"again from its .tiktoken", name, version,
				NK_BPE_COMPILED_VERSION);
	unsigned char h[HEADER_SIZE];
	memcpy(h, data, HEADER_SIZE);
	uint32_t crc = nk_load_u32le(h + 12);
	memset(h + 12, 0, 4);
	if (crc32(0, h, HEADER_SIZE) != crc)
		return nk_error(NK_ECHECKSUM, "%s: header CRC mismatch (the file "
				"is damaged)", name);
	uint64_t size = nk_load_u64le(h + 16);
	if (size != n)
		return nk_error(NK_EFORMAT, "%s: %zu bytes where the header says "
				"%llu (%s)", name, n, (unsigned long long)size,
				size > n ? "truncated" : "extra bytes at the end");
	int rest = 0;   /* the header's unused bytes are zeros */
	for (size_t i = 64 + 24 * N_SECT; i < HEADER_SIZE; i++)
		rest |= h[i];
	if (nk_load_u16le(h + 6) != HEADER_SIZE || nk_load_u32le(h + 8) ||
	    nk_load_u64le(h + 56) || rest)
		return nk_error(NK_EFORMAT, "%s: unknown header size or flags",
				name);
	if (nk_load_u64le(h + 24) != nk_bpe_layout_fingerprint())
		return nk_error(NK_EVERSION, "%s: compiled by a build of nnkit "
				"whose rank table differs from this one's: "
				"compile it again", name);
	uint32_t nr = nk_load_u32le(h + 32);
	uint32_t n_spec = nk_load_u32le(h + 40);
	uint32_t slots = nk_load_u32le(h + 44);
	uint32_t empty = nk_load_u32le(h + 48);
	uint32_t fwords = nk_load_u32le(h + 52);
	if (nr == 0 || nr >= UINT32_MAX / 2)
		return nk_error(NK_EFORMAT, "%s: %u ranks", name, nr);
	if (slots < 16 || slots > MAX_SLOTS || (slots & (slots - 1)) ||
	    slots <= nr)
		return nk_error(NK_EFORMAT, "%s: a rank table of %u slots for %u "
				"ranks (a power of two above the ranks)", name,
				slots, nr);
	if (empty >= slots)
		return nk_error(NK_EFORMAT, "%s: empty slot %u of %u", name,
				empty, slots);
	if (fwords == 0 || (fwords & (fwords - 1)) || fwords > MAX_SLOTS)
		return nk_error(NK_EFORMAT, "%s: a filter of %u words (a power "
				"of two)", name, fwords);
	if (n_spec > MAX_SPEC)
		return nk_error(NK_EFORMAT, "%s: %u special tokens (at most %u)",
				name, n_spec, MAX_SPEC);
	/* Sections: each where the one before ends (padded), sized as
	 * the counts say, the last ending the file. */
	const size_t want[N_SECT] = {
		SIZE_MAX, ((size_t)nr + 1) * 4, (size_t)slots * 16, 65536 * 4,
		256 * 4, SIZE_MAX, (size_t)n_spec * 8, SIZE_MAX,
		(size_t)fwords * 8,
	};
	size_t at[N_SECT], len[N_SECT], next = HEADER_SIZE;
	for (int k = 0; k < N_SECT; k++) {
		uint64_t o = nk_load_u64le(h + 64 + 24 * k);
		uint64_t l = nk_load_u64le(h + 64 + 24 * k + 8);
		if (o != next || l > n - o)
			return nk_error(NK_EFORMAT, "%s: the %s section (offset "
					"%llu, %llu bytes) is not where the one "
					"before ends or runs past the end", name,
					sect_name[k], (unsigned long long)o,
					(unsigned long long)l);
		if (want[k] != SIZE_MAX && l != want[k])
			return nk_error(NK_EFORMAT, "%s: the %s section has %llu "
					"bytes where the counts give %zu", name,
					sect_name[k], (unsigned long long)l,
					want[k]);
		at[k] = (size_t)o;
		len[k] = (size_t)l;
		next = (size_t)o + pad64((size_t)l);
		if (next > n)
			return nk_error(NK_EFORMAT, "%s: the %s section's padding "
					"runs past the end", name, sect_name[k]);
	}
	if (next != n)
		return nk_error(NK_EFORMAT, "%s: %zu bytes after the last section",
				name, n - next);
	const uint32_t *off = (const uint32_t *)(data + at[S_OFF]);
	if (len[S_POOL] > UINT32_MAX || off[0] != 0 || off[nr] != len[S_POOL])
		return nk_error(NK_EFORMAT, "%s: the offsets do not span the pool "
				"(%u to %u, pool of %zu bytes)", name, off[0],
				off[nr], len[S_POOL]);
	const struct rank_slot *sl = (const struct rank_slot *)(data + at[S_SLOTS]);
	if (sl[empty].rank1)
		return nk_error(NK_EFORMAT, "%s: slot %u, named as empty, is not "
				"(a lookup might not end)", name, empty);
	for (int k = 0; k < N_SECT; k++) {
		if (!full && (k == S_POOL || k == S_SLOTS || k == S_PAIR1 ||
			      k == S_FILTER))
			continue;
		int rc = check_section(data + at[k], len[k], k, nr,
				       nk_load_u64le(h + 64 + 24 * k + 16));
		if (rc == 1)
			return element_error(data + at[k], k, nr, name);
		if (rc == 2)
			return nk_error(NK_ECHECKSUM, "%s: checksum mismatch in "
					"the %s (the file is damaged)", name,
					sect_name[k]);
	}
	/* The tables are the encoder's from here: borrowed, not copied
	 * (not const in the struct, but never written). */
	b->pool = (unsigned char *)(data + at[S_POOL]);
	b->off = (uint32_t *)off;
	b->slots = (struct rank_slot *)sl;
	b->mask = slots - 1;
	b->pair1 = (uint32_t *)(data + at[S_PAIR1]);
	b->filter = (uint64_t *)(data + at[S_FILTER]);
	b->fmask = fwords - 1;
	b->n_ranks = nr;
	memcpy(b->byte_rank, data + at[S_BYTE], sizeof b->byte_rank);
	b->explicit_n_vocab = nk_load_u32le(h + 36);
	/* Tokens spread over the ranks must be found where the table
	 * says (four touch a few pages; `full` looks up 64). */
	uint32_t samples = full ? 64 : 4;
	for (uint32_t k = 0; k < samples; k++) {
		uint32_t r = (uint32_t)((uint64_t)(nr - 1) * k / (samples - 1));
		if (lookup(b, b->pool + off[r], off[r + 1] - off[r]) != r)
			return nk_error(NK_EFORMAT, "%s: the rank table does not "
					"find token %u", name, r);
	}
	/* With `full`, every token must pass the filter, or its lookups
	 * would say it is no token. */
	for (uint32_t r = 0; full && r < nr; r++) {
		uint64_t hr = hash_bytes(b->pool + off[r], off[r + 1] - off[r]);
		uint64_t m = filter_bits(hr);
		if ((b->filter[filter_word(hr, b->fmask)] & m) != m)
			return nk_error(NK_EFORMAT, "%s: the filter hides token %u",
					name, r);
	}
	const unsigned char *spec = data + at[S_SPEC];
	const unsigned char *text = data + at[S_SPEC_TEXT];
	size_t to = 0;
	int rc;
	for (uint32_t i = 0; i < n_spec; i++) {
		uint32_t id = nk_load_u32le(spec + 8 * i);
		uint32_t tl = nk_load_u32le(spec + 8 * i + 4);
		if (tl > len[S_SPEC_TEXT] - to)
			return nk_error(NK_EFORMAT, "%s: special token %u runs past "
					"its texts", name, i);
		if ((rc = nk_bpe_add_special(b, (const char *)text + to, tl, id)))
			return nk_error_prefix(rc, name);
		to += tl;
	}
	if (to != len[S_SPEC_TEXT])
		return nk_error(NK_EFORMAT, "%s: %zu bytes of special token text "
				"left over", name, len[S_SPEC_TEXT] - to);
	size_t pl = len[S_PATTERN];
	if (pl > MAX_PATTERN || memchr(data + at[S_PATTERN], 0, pl))
		return nk_error(NK_EFORMAT, "%s: a pattern of %zu bytes, with a "
				"NUL or too long", name, pl);
	char *pat = nk_malloc(pl + 1);
	if (!pat)
		return NK_ENOMEM;
	memcpy(pat, data + at[S_PATTERN], pl);
	pat[pl] = 0;
	rc = nk_bpe_set_pattern(b, pat);
	free(pat);
	if (rc)
		return nk_error_prefix(rc, name);
	return nk_bpe_finish(b, name);
}

int nk_bpe_load_compiled(nk_bpe **out, const unsigned char *data, size_t n,
			 const char *name, int full)
{
	nk_bpe *b = nk_bpe_new();
	if (!b)
		return NK_ENOMEM;
	/* Borrowed: map_len 0 leaves the caller's memory alone. */
	b->map = (void *)data;
	b->map_len = 0;
	int rc = load_checked(b, data, n, name, full);
	if (rc) {
		nk_bpe_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int nk_bpe_open_compiled(nk_bpe **out, const char *path, int full)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nk_error(NK_EIO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return nk_error(NK_EIO, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return nk_error(NK_EIO, "%s: not a regular file (a compiled "
				"vocabulary is mapped)", path);
	}
	size_t n = (size_t)st.st_size;
	if (n < HEADER_SIZE) {
		close(fd);
		return nk_error(NK_EFORMAT, "%s: %zu bytes, shorter than the "
				"%d-byte header (truncated?)", path, n, HEADER_SIZE);
	}
	/* Pages come in as they are first read: an encoder on a short text
	 * visits few of the rank table's. */
	void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED)
		return nk_error(NK_EIO, "%s: mmap: %s", path, strerror(e));
	nk_bpe *b = nk_bpe_new();
	if (!b) {
		munmap(m, n);
		return NK_ENOMEM;
	}
	b->map = m;
	b->map_len = n;
	int rc = load_checked(b, m, n, path, full);
	if (rc) {
		nk_bpe_free(b);
		return rc;
	}
	*out = b;
	return 0;
}
