/* wordpiece.c - a BERT vocab.txt, and encoding and decoding with it.
 *
 * The tokens live in one arena, NUL-terminated, indexed by FNV-1a of
 * their bytes.  A continuation "##xyz" is looked up without building
 * the string: its hash is the hash of "##" carried on over "xyz".  The
 * longest-match search starts at most max_head (max_cont) bytes from
 * the piece's start, the longest token of its kind, so a long word costs
 * a few lookups per piece, not one per character of the rest of it.
 */
#include "text/wordpiece.h"

#include "core/base.h"
#include "core/hash.h"
#include "core/io.h"
#include "text/wordpiece_impl.h"

#include <stdlib.h>
#include <string.h>

struct nk_wordpiece {
	char *name;          /* the file, for messages */
	char *arena;         /* tokens, each followed by a NUL */
	uint32_t *off, *len;
	uint32_t n;
	nk_idtab index;
	int32_t special[NK_WP_NSPECIAL];
	size_t max_head;     /* longest token without "##", bytes */
	size_t max_cont;     /* longest "##" token, bytes after the "##" */
	int lower, strip;
};

static const char *const special_name[NK_WP_NSPECIAL] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
};

const char *nk_wp_special_name(int k)
{
	return k >= 0 && k < NK_WP_NSPECIAL ? special_name[k] : NULL;
}

static int32_t lookup(const nk_wordpiece *wp, int cont,
		      const unsigned char *s, size_t n)
{
	uint64_t h = NK_FNV1A_INIT;
	if (cont)
		h = nk_fnv1a_step(nk_fnv1a_step(h, '#'), '#');
	for (size_t i = 0; i < n; i++)
		h = nk_fnv1a_step(h, s[i]);
	size_t want = n + (cont ? 2 : 0);
	nk_idprobe p = nk_idtab_probe(&wp->index, h);
	for (uint32_t id; (id = nk_idtab_next(&wp->index, &p)) != NK_IDTAB_END;) {
		const char *t = wp->arena + wp->off[id];
		if (wp->len[id] == want &&
		    (!cont || (t[0] == '#' && t[1] == '#')) &&
		    !memcmp(t + (cont ? 2 : 0), s, n))
			return (int32_t)id;
	}
	return -1;
}

int32_t nk_wp_id(const nk_wordpiece *wp, const char *tok, size_t len)
{
	return lookup(wp, 0, (const unsigned char *)tok, len);
}

uint32_t nk_wp_size(const nk_wordpiece *wp) { return wp->n; }

const char *nk_wp_token(const nk_wordpiece *wp, uint32_t id, size_t *len)
{
	if (id >= wp->n)
		return NULL;
	if (len)
		*len = wp->len[id];
	return wp->arena + wp->off[id];
}

void nk_wp_set_case(nk_wordpiece *wp, int lower, int strip_accents)
{
	wp->lower = !!lower;
	wp->strip = strip_accents < 0 ? !!lower : !!strip_accents;
}

unsigned nk_wp_specials(const nk_wordpiece *wp, int32_t ids[NK_WP_NSPECIAL])
{
	unsigned missing = 0;
	for (int k = 0; k < NK_WP_NSPECIAL; k++) {
		if (ids)
			ids[k] = wp->special[k];
		if (wp->special[k] < 0)
			missing |= 1u << k;
	}
	return missing;
}

int nk_wp_require(const nk_wordpiece *wp, unsigned need)
{
	unsigned missing = nk_wp_specials(wp, NULL) & need;
	for (int k = 0; k < NK_WP_NSPECIAL; k++)
		if (missing & 1u << k)
			return nk_error(NK_ENOTFOUND, "%s: no %s token", wp->name,
					special_name[k]);
	return 0;
}

void nk_wp_free(nk_wordpiece *wp)
{
	if (!wp)
		return;
	nk_idtab_free(&wp->index);
	free(wp->name);
	free(wp->arena);
	free(wp->off);
	free(wp->len);
	free(wp);
}

/* Checks one line and adds it as token wp->n. */
static int add_line(nk_wordpiece *wp, const unsigned char *s, size_t n,
		    size_t line, size_t *arena_used)
{
	const char *f = wp->name;
	if (n == 0)
		return nk_error(NK_EFORMAT, "%s:%zu: empty line", f, line);
	/* An editor's BOM would make the first token (BERT's [PAD]) a
	 * token nobody types, and the error "no [PAD]" a puzzle. */
	if (line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		return nk_error(NK_EFORMAT, "%s:1: starts with a UTF-8 "
				"byte-order mark; remove it", f);
	if (n > NK_WP_MAX_TOKEN_BYTES)
		return nk_error(NK_EFORMAT, "%s:%zu: token of %zu bytes (at most %d)",
				f, line, n, NK_WP_MAX_TOKEN_BYTES);
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t k = nk_wp_utf8(s + i, n - i, &c);
		if (!k)
			return nk_error(NK_EFORMAT, "%s:%zu: invalid UTF-8 at byte %zu",
					f, line, i + 1);
		if (c == 0)
			return nk_error(NK_EFORMAT, "%s:%zu: NUL byte", f, line);
		i += k;
	}
	int32_t dup = lookup(wp, 0, s, n);
	if (dup >= 0)
		return nk_error(NK_EFORMAT,
				"%s:%zu: duplicate token '%.*s' (first on line %d)",
				f, line, (int)(n > 60 ? 60 : n), (const char *)s,
				dup + 1);
	if (wp->n >= INT32_MAX / 2)
		return nk_error(NK_ERANGE, "%s:%zu: too many tokens", f, line);
	uint32_t id = wp->n++;
	wp->off[id] = (uint32_t)*arena_used;
	wp->len[id] = (uint32_t)n;
	memcpy(wp->arena + *arena_used, s, n);
	wp->arena[*arena_used + n] = 0;
	*arena_used += n + 1;
	int rc = nk_idtab_put(&wp->index, nk_fnv1a(s, n), id);
	if (rc)
		return rc;
	if (n >= 2 && s[0] == '#' && s[1] == '#') {
		if (n - 2 > wp->max_cont)
			wp->max_cont = n - 2;
	}
	/* "##x" is also a head token "##x" (a word never holds '#', which
	 * is punctuation, but nk_wp_id may ask). */
	if (n > wp->max_head)
		wp->max_head = n;
	for (int k = 0; k < NK_WP_NSPECIAL; k++)
		if (n == strlen(special_name[k]) && !memcmp(s, special_name[k], n))
			wp->special[k] = (int32_t)id;
	return 0;
}

int nk_wp_from_buffer(nk_wordpiece **out, const char *name,
		      const unsigned char *buf, size_t n)
{
	*out = NULL;
	if (n >= UINT32_MAX - 1)
		return nk_error(NK_ERANGE, "%s: vocab of %zu bytes is too large",
				name, n);
	size_t lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	lines++;
	nk_wordpiece *wp = nk_calloc(1, sizeof *wp);
	if (!wp)
		return NK_ENOMEM;
	int rc = NK_ENOMEM;
	wp->name = nk_strdup(name);
	wp->arena = nk_malloc(n + 1);
	wp->off = nk_calloc(lines, sizeof *wp->off);
	wp->len = nk_calloc(lines, sizeof *wp->len);
	if (!wp->name || !wp->arena || !wp->off || !wp->len ||
	    nk_idtab_init(&wp->index, lines))
		goto fail;
	for (int k = 0; k < NK_WP_NSPECIAL; k++)
		wp->special[k] = -1;
	nk_wp_set_case(wp, 1, -1);
	size_t used = 0, line = 0;
	for (size_t i = 0; i < n;) {
		const unsigned char *nl = memchr(buf + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - buf) : n, k = e - i;
		line++;
		if (k && buf[e - 1] == '\r')
			k--;
		if ((rc = add_line(wp, buf + i, k, line, &used)))
			goto fail;
		i = e + 1;
	}
	if (wp->n == 0) {
		rc = nk_error(NK_EFORMAT, "%s: no tokens", name);
		goto fail;
	}
	*out = wp;
	return 0;
fail:
	nk_wp_free(wp);
	return rc;
}

int nk_wp_load(nk_wordpiece **out, const char *path)
{
	nk_input in;
	*out = NULL;
	/* A vocab is a few hundred kB; 1 GB means something else. */
	int rc = nk_input_load(&in, path, (size_t)1 << 30);
	if (rc)
		return rc;
	rc = nk_wp_from_buffer(out, in.name, in.data, in.size);
	nk_input_free(&in);
	return rc;
}

/* ---- encoding ---- */

void nk_wp_ids_free(nk_wp_ids *ids)
{
	if (ids->work)
		nk_wp_words_free(ids->work);
	free(ids->work);
	free(ids->id);
	free(ids->cont);
	memset(ids, 0, sizeof *ids);
}

static int push(nk_wp_ids *o, uint32_t id, int cont)
{
	if (o->n == o->cap) {
		size_t cap = o->cap;
		if (nk_grow((void **)&o->id, &cap, o->n + 1, sizeof *o->id))
			return NK_ENOMEM;
		unsigned char *c = nk_realloc(o->cont, cap);
		if (!c)
			return NK_ENOMEM;
		o->cont = c;
		o->cap = cap;
	}
	o->id[o->n] = id;
	o->cont[o->n++] = (unsigned char)cont;
	return 0;
}

static int push_unk(const nk_wordpiece *wp, nk_wp_ids *o)
{
	if (wp->special[NK_WP_UNK] < 0)
		return nk_error(NK_ENOTFOUND,
				"%s: no [UNK] token for a word the vocab cannot cover",
				wp->name);
	return push(o, (uint32_t)wp->special[NK_WP_UNK], 0);
}

/* Greedy longest-match-first over one word (valid UTF-8). */
static int word_pieces(const nk_wordpiece *wp, const unsigned char *s,
		       size_t L, nk_wp_ids *o)
{
	size_t chars = 0;
	for (size_t i = 0; i < L; i++)
		chars += (s[i] & 0xC0) != 0x80;
	if (chars > NK_WP_MAX_WORD_CHARS)
		return push_unk(wp, o);
	size_t mark = o->n;
	for (size_t start = 0; start < L;) {
		size_t maxb = start ? wp->max_cont : wp->max_head;
		size_t end = L - start > maxb ? start + maxb : L;
		while (end > start && end < L && (s[end] & 0xC0) == 0x80)
			end--;
		int32_t id = -1;
		while (end > start) {
			if ((id = lookup(wp, start > 0, s + start, end - start)) >= 0)
				break;
			do
				end--;
			while (end > start && (s[end] & 0xC0) == 0x80);
		}
		if (id < 0) {
			o->n = mark;
			return push_unk(wp, o);
		}
		int rc = push(o, (uint32_t)id, start > 0);
		if (rc)
			return rc;
		start = end;
	}
	return 0;
}

static int encode_section(const nk_wordpiece *wp, const unsigned char *s,
			  size_t n, nk_wp_ids *o)
{
	struct nk_wp_words *w = o->work;
	w->n = w->n_buf = 0;
	int rc = nk_wp_basic(w, s, n, wp->lower, wp->strip);
	for (size_t k = 0; k < w->n && !rc; k++)
		rc = word_pieces(wp, w->buf + w->off[k], w->len[k], o);
	return rc;
}

int nk_wp_encode(const nk_wordpiece *wp, const unsigned char *text,
		 size_t n, nk_wp_ids *out)
{
	if (!out->work && !(out->work = nk_calloc(1, sizeof *out->work)))
		return NK_ENOMEM;
	size_t from = 0;
	int rc = 0;
	/* Special tokens are cut out of the raw text first (HF's added
	 * tokens, normalized: false). */
	for (size_t i = 0; i < n && !rc; i++) {
		if (text[i] != '[')
			continue;
		for (int k = 0; k < NK_WP_NSPECIAL; k++) {
			int32_t id = wp->special[k];
			size_t len = strlen(special_name[k]);
			if (id < 0 || n - i < len || memcmp(text + i, special_name[k], len))
				continue;
			if (!(rc = encode_section(wp, text + from, i - from, out)))
				rc = push(out, (uint32_t)id, 0);
			from = i + len;
			i = from - 1;
			break;
		}
	}
	if (!rc)
		rc = encode_section(wp, text + from, n - from, out);
	return rc;
}

/* ---- decoding ---- */

/* Replaces every `pat` by `rep` (not longer), left to right, in place. */
static size_t replace_all(char *s, size_t n, const char *pat, const char *rep)
{
	size_t lp = strlen(pat), lr = strlen(rep), o = 0;
	for (size_t i = 0; i < n;) {
		if (n - i >= lp && !memcmp(s + i, pat, lp)) {
			memcpy(s + o, rep, lr);
			o += lr;
			i += lp;
		} else {
			s[o++] = s[i++];
		}
	}
	return o;
}

int nk_wp_decode(const nk_wordpiece *wp, const uint32_t *ids, size_t n,
		 int skip_special, char **text, size_t *len)
{
	size_t total = 1, first = 1;
	*text = NULL;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= wp->n)
			return nk_error(NK_ERANGE, "%s: id %u beyond the vocab of %u tokens",
					wp->name, ids[i], wp->n);
		total += wp->len[ids[i]] + 1;
	}
	char *s = nk_malloc(total);
	if (!s)
		return NK_ENOMEM;
	size_t o = 0;
	/* tokenizers' WordPiece decoder: a "##" piece after the first
	 * joins the one before, any other piece gets a space. */
	for (size_t i = 0; i < n; i++) {
		uint32_t id = ids[i];
		int special = 0;
		for (int k = 0; k < NK_WP_NSPECIAL; k++)
			special |= wp->special[k] == (int32_t)id;
		if (skip_special && special)
			continue;
		const char *t = wp->arena + wp->off[id];
		size_t l = wp->len[id];
		if (!first) {
			if (l >= 2 && t[0] == '#' && t[1] == '#') {
				t += 2;
				l -= 2;
			} else {
				s[o++] = ' ';
			}
		}
		first = 0;
		memcpy(s + o, t, l);
		o += l;
	}
	/* clean_up_tokenization, in its order */
	static const char *const rule[][2] = {
		{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","},
		{" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},
		{" 've", "'ve"}, {" 're", "'re"},
	};
	for (size_t r = 0; r < sizeof rule / sizeof *rule; r++)
		o = replace_all(s, o, rule[r][0], rule[r][1]);
	s[o] = 0;
	*text = s;
	if (len)
		*len = o;
	return 0;
}
