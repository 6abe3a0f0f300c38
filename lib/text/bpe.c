/* bpe.c - a vocabulary: building it (rank table in bpe_load.c), special
 * tokens, side files, decoding, writing.  Encoding is bpe_encode.c.
 *
 * The rank table is an open-addressing hash from token bytes to rank
 * (slot: 32 hash bits and rank + 1), with a direct table of the 65536
 * byte pairs beside it.
 */
#include "text/bpe_impl.h"
#include "core/base.h"
#include "core/io.h"
#include "formats/json.h"
#include "formats/tiktoken.h"
#include "text/pretok.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int nk_bpe_rank(const nk_bpe *b, const unsigned char *s, size_t n,
		uint32_t *rank)
{
	uint32_t r = n ? lookup(b, s, n) : RANK_NONE;
	if (r == RANK_NONE)
		return NK_ENOTFOUND;
	*rank = r;
	return 0;
}

/* ---- ids ---- */

int nk_bpe_ids_push(nk_bpe_ids *ids, uint32_t id)
{
	if (ids->n == ids->cap &&
	    nk_grow((void **)&ids->v, &ids->cap, ids->n + 1, sizeof *ids->v))
		return NK_ENOMEM;
	ids->v[ids->n++] = id;
	return 0;
}

void nk_bpe_ids_free(nk_bpe_ids *ids)
{
	free(ids->v);
	ids->v = NULL;
	ids->n = ids->cap = 0;
}

/* ---- building ---- */

nk_bpe *nk_bpe_new(void)
{
	return nk_calloc(1, sizeof(nk_bpe));
}

void nk_bpe_free(nk_bpe *b)
{
	if (!b)
		return;
	nk_bpe_drop_tables(b);
	for (size_t i = 0; i < b->n_spec; i++)
		free(b->spec[i].text);
	free(b->spec);
	free(b->dec_off);
	free(b->dec_len);
	free(b->dec_pool);
	nk_pretok_re_free(b->re);
	free(b);
}

void nk_bpe_set_pretok(nk_bpe *b, int kind)
{
	if (kind == NK_PRETOK_REGEX && !b->re)
		kind = NK_PRETOK_NONE;
	if (kind != NK_PRETOK_REGEX) {
		nk_pretok_re_free(b->re);
		b->re = NULL;
	}
	b->pretok = kind;
}

int nk_bpe_set_regex(nk_bpe *b, const char *pat)
{
	nk_pretok_re *re = nk_pretok_re_new(pat);
	if (!re)
		return nk_last_error()[0] ? NK_EFORMAT : NK_ENOMEM;
	nk_pretok_re_free(b->re);
	b->re = re;
	b->pretok = NK_PRETOK_REGEX;
	return 0;
}

int nk_bpe_set_pattern(nk_bpe *b, const char *pat)
{
	int kind = nk_pretok_from_pattern(pat);
	if (kind < 0)
		return nk_bpe_set_regex(b, pat);
	nk_bpe_set_pretok(b, kind);
	return 0;
}

const char *nk_bpe_pattern(const nk_bpe *b)
{
	return b->re ? nk_pretok_re_pattern(b->re) : nk_pretok_pattern(b->pretok);
}
int nk_bpe_pretok(const nk_bpe *b) { return b->pretok; }
uint32_t nk_bpe_n_vocab(const nk_bpe *b) { return b->n_vocab; }
uint32_t nk_bpe_n_ranks(const nk_bpe *b) { return b->n_ranks; }
size_t nk_bpe_n_special(const nk_bpe *b) { return b->n_spec; }

int nk_bpe_add_special(nk_bpe *b, const char *text, size_t len, uint32_t id)
{
	if (len == 0)
		return nk_error(NK_EINVAL, "empty special token");
	if (id == UINT32_MAX)
		return nk_error(NK_ERANGE, "special token id %u too large", id);
	for (size_t i = 0; i < b->n_spec; i++) {
		if (b->spec[i].len == len && !memcmp(b->spec[i].text, text, len))
			return nk_error(NK_EFORMAT,
					"special token '%.*s' given twice",
					(int)len, text);
		if (b->spec[i].id == id)
			return nk_error(NK_EFORMAT,
					"special tokens '%s' and '%.*s' share id %u",
					b->spec[i].text, (int)len, text, id);
	}
	struct special *s = nk_reallocarray(b->spec, b->n_spec + 1, sizeof *s);
	if (!s)
		return NK_ENOMEM;
	b->spec = s;
	char *t = nk_malloc(len + 1);
	if (!t)
		return NK_ENOMEM;
	memcpy(t, text, len);
	t[len] = 0;
	s[b->n_spec++] = (struct special){t, len, id};
	return 0;
}

int nk_bpe_finish(nk_bpe *b, const char *name)
{
	if (!b->pool)
		return nk_error(NK_EINVAL, "%s: no ranks loaded", name);
	for (int c = 0; c < 256; c++)
		if (b->byte_rank[c] == RANK_NONE)
			return nk_error(NK_EFORMAT,
					"%s: no token for the byte 0x%02x (a "
					"byte-level BPE needs all 256)", name, c);
	uint64_t nv = b->n_ranks;
	size_t spool = 0;
	for (size_t i = 0; i < b->n_spec; i++) {
		struct special *s = &b->spec[i];
		if (s->id < b->n_ranks)
			return nk_error(NK_EFORMAT,
					"%s: special token '%s' has id %u, which "
					"is an ordinary token's rank", name,
					s->text, s->id);
		if ((uint64_t)s->id + 1 > nv)
			nv = (uint64_t)s->id + 1;
		spool += s->len;
	}
	if (nv - b->n_ranks > (1u << 24))
		return nk_error(NK_ERANGE, "%s: special token ids leave a gap "
				"of more than 2^24 ids", name);
	if (b->explicit_n_vocab && b->explicit_n_vocab != nv)
		return nk_error(NK_EFORMAT, "%s: explicit_n_vocab is %u but the "
				"tokens give %llu", name, b->explicit_n_vocab,
				(unsigned long long)nv);
	b->n_vocab = (uint32_t)nv;
	/* Ordinary tokens decode from pool/off; only the ids above the
	 * ranks get a table (a few, but they may leave gaps). */
	size_t ns = (size_t)(nv - b->n_ranks);
	free(b->dec_off);
	free(b->dec_len);
	free(b->dec_pool);
	b->dec_off = nk_malloc((ns ? ns : 1) * sizeof *b->dec_off);
	b->dec_len = nk_malloc((ns ? ns : 1) * sizeof *b->dec_len);
	b->dec_pool = nk_malloc(spool + 1);
	if (!b->dec_off || !b->dec_len || !b->dec_pool)
		return NK_ENOMEM;
	for (size_t i = 0; i < ns; i++)
		b->dec_len[i] = UINT32_MAX;
	size_t o = 0;
	for (size_t i = 0; i < b->n_spec; i++) {
		uint32_t k = b->spec[i].id - b->n_ranks;
		memcpy(b->dec_pool + o, b->spec[i].text, b->spec[i].len);
		b->dec_off[k] = (uint32_t)o;
		b->dec_len[k] = (uint32_t)b->spec[i].len;
		o += b->spec[i].len;
	}
	return 0;
}

const unsigned char *nk_bpe_token(const nk_bpe *b, uint32_t id, size_t *len)
{
	if (id < b->n_ranks) {
		*len = b->off[id + 1] - b->off[id];
		return b->pool + b->off[id];
	}
	if (id >= b->n_vocab || b->dec_len[id - b->n_ranks] == UINT32_MAX)
		return NULL;
	*len = b->dec_len[id - b->n_ranks];
	return b->dec_pool + b->dec_off[id - b->n_ranks];
}

struct meta_ctx {
	nk_bpe *b;
	int seen_pat;
};

static int meta_special(void *ctx, nk_json *j, const char *key,
			size_t klen)
{
	uint32_t id;
	int rc = nk_json_uint(j, &id);
	if (rc)
		return rc;
	if ((rc = nk_bpe_add_special(ctx, key, klen, id)))
		return nk_error_prefix(rc, j->name);
	return 0;
}

static int meta_member(void *vctx, nk_json *j, const char *key,
		       size_t klen)
{
	struct meta_ctx *m = vctx;
	(void)klen;
	if (strcmp(key, "pat_str") == 0) {
		char *pat;
		size_t n;
		const unsigned char *at = j->p;
		int rc = nk_json_string(j, &pat, &n);
		if (rc)
			return rc;
		/* A known pattern gets the built-in matcher, any other
		 * PCRE2; NUL inside would cut the pattern short. */
		rc = strlen(pat) != n ? nk_error(NK_EFORMAT, "a NUL character in the pattern") :
		     nk_bpe_set_pattern(m->b, pat);
		free(pat);
		if (rc) {
			char why[300];
			snprintf(why, sizeof why, "pat_str: %s", nk_last_error());
			j->p = at;
			return nk_json_fail(j, why);
		}
		m->seen_pat = 1;
		return 0;
	}
	if (strcmp(key, "special_tokens") == 0)
		return nk_json_object(j, meta_special, m->b);
	if (strcmp(key, "explicit_n_vocab") == 0)
		return nk_json_uint(j, &m->b->explicit_n_vocab);
	return nk_json_skip(j, 0);
}

int nk_bpe_load_meta(nk_bpe *b, const unsigned char *data, size_t n,
		     const char *name)
{
	nk_json j = {data, data + n, data, name};
	struct meta_ctx m = {b, 0};
	int rc = nk_json_object(&j, meta_member, &m);
	if (rc)
		return rc;
	nk_json_ws(&j);
	if (j.p != j.end)
		return nk_json_fail(&j, "text after the object");
	if (!m.seen_pat)
		return nk_error(NK_EFORMAT, "%s: no pat_str", name);
	return 0;
}

/* ---- opening files ---- */

int nk_bpe_load_file(nk_input *in, const char *path)
{
	return nk_input_load(in, path, (size_t)1 << 31);
}

int nk_bpe_open(nk_bpe **out, const char *rank_path, const char *meta_path)
{
	nk_bpe *b = nk_bpe_new();
	nk_input in = {0};
	char *derived = NULL;
	int rc;
	if (!b)
		return NK_ENOMEM;
	if ((rc = nk_bpe_load_file(&in, rank_path)))
		goto fail;
	rc = nk_bpe_load_ranks(b, in.data, in.size, rank_path);
	nk_input_free(&in);
	if (rc)
		goto fail;
	if (!meta_path) {
		size_t n = strlen(rank_path);
		const char *ext = ".tiktoken";
		size_t el = strlen(ext);
		if (!(derived = nk_malloc(n + 6))) {
			rc = NK_ENOMEM;
			goto fail;
		}
		memcpy(derived, rank_path, n + 1);
		if (n > el && strcmp(rank_path + n - el, ext) == 0)
			derived[n - el] = 0;
		strcat(derived, ".json");
		if (access(derived, F_OK) == 0)
			meta_path = derived;
	}
	if (meta_path) {
		if ((rc = nk_bpe_load_file(&in, meta_path)))
			goto fail;
		rc = nk_bpe_load_meta(b, in.data, in.size, meta_path);
		nk_input_free(&in);
		if (rc)
			goto fail;
	}
	if ((rc = nk_bpe_finish(b, rank_path)))
		goto fail;
	free(derived);
	*out = b;
	return 0;
fail:
	free(derived);
	nk_bpe_free(b);
	return rc;
}

int nk_bpe_build(nk_bpe **out, const unsigned char *const *tok,
		 const uint32_t *len, uint32_t count, int pretok)
{
	nk_bpe *b = nk_bpe_new();
	if (!b)
		return NK_ENOMEM;
	int rc = nk_bpe_build_table(b, tok, len, count, "(trained)", NULL);
	if (rc) {
		nk_bpe_free(b);
		return rc;
	}
	b->pretok = pretok;
	*out = b;
	return 0;
}

/* ---- writing ---- */

int nk_bpe_write_ranks(const nk_bpe *b, FILE *fp)
{
	char buf[4 * ((NK_TIKTOKEN_TOKEN_MAX + 2) / 3) + 1];
	for (uint32_t r = 0; r < b->n_ranks; r++) {
		size_t n = nk_b64_encode(buf, b->pool + b->off[r],
					 b->off[r + 1] - b->off[r]);
		if (fwrite(buf, 1, n, fp) != n || fprintf(fp, " %u\n", r) < 0)
			return nk_error(NK_EIO, "write error: %s", strerror(errno));
	}
	return 0;
}

int nk_bpe_write_meta(const nk_bpe *b, FILE *fp)
{
	const char *pat = nk_bpe_pattern(b);
	fputs("{\n \"pat_str\": ", fp);
	nk_json_put_string(fp, pat, strlen(pat));
	fputs(",\n \"special_tokens\": {", fp);
	for (size_t i = 0; i < b->n_spec; i++) {
		fputs(i ? ",\n  " : "\n  ", fp);
		nk_json_put_string(fp, b->spec[i].text, b->spec[i].len);
		fprintf(fp, ": %u", b->spec[i].id);
	}
	fprintf(fp, "%s},\n \"explicit_n_vocab\": %u\n}\n",
		b->n_spec ? "\n " : "", b->n_vocab);
	if (ferror(fp))
		return nk_error(NK_EIO, "write error: %s", strerror(errno));
	return 0;
}
