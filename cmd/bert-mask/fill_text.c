/* fill_text.c - the text of fill's inputs and answers: WordPiece text,
 * ids with the special tokens' names, or text through the rank file a
 * model of BPE ids was trained on (fill --tiktoken). */
#include "cli.h"
#include "bert-mask.h"

#include "text/bpe.h"
#include "text/utf8.h"
#include "text/wordpiece.h"

#include <ctype.h>

static const char *const special_names[5] = {"[PAD]", "[UNK]", "[CLS]",
					     "[SEP]", "[MASK]"};

/* ---- the rank file behind a model of BPE ids (fill --tiktoken) ------- */

void bm_tok_use_ranks(struct bm_tok *k, const char *path, const char *model)
{
	if (k->wp)
		cli_errx(1, "%s: --tiktoken is for a model of token ids; this "
			 "one has a WordPiece vocabulary", model);
	if (nk_bpe_open(&k->bpe, path, NULL))
		cli_die_lib();
	uint32_t n = nk_bpe_n_ranks(k->bpe);
	if ((long long)n != k->t.base_vocab)
		cli_errx(1, "%s: %u tokens, but %s was trained on ids below %lld",
			 path, n, model, (long long)k->t.base_vocab);
	/* The word starts the model kept come from the rank file it was
	 * trained with: another file of the same size shows here. */
	for (uint32_t r = 0; k->t.cont && r < n; r++) {
		size_t len;
		const unsigned char *t = nk_bpe_token(k->bpe, r, &len);
		if (k->t.cont[r] != (len && t[0] != ' '))
			cli_errx(1, "%s: token %u does not match %s's word "
				 "boundaries: not the rank file it was trained "
				 "with", path, r, model);
	}
	if (!(k->enc = nk_bpe_enc_new(k->bpe)))
		cli_die_lib();
}

/* ---- fill's text ------------------------------------------------------ */

static int push_id(uint32_t **out, size_t *len, size_t *cap, uint32_t id)
{
	if (*len + 2 > *cap) {
		uint32_t *grown = realloc(*out, 2 * *cap * sizeof **out);
		if (!grown)
			return nk_error(NK_ENOMEM, "out of memory");
		*out = grown;
		*cap *= 2;
	}
	(*out)[(*len)++] = id;
	return NK_OK;
}

/* The special token whose name comes first in s, or -1. */
static int next_special(const char *s, const char **at)
{
	int which = -1;
	*at = NULL;
	for (int i = 0; i < 5; i++) {
		const char *p = strstr(s, special_names[i]);
		if (p && (!*at || p < *at))
			*at = p, which = i;
	}
	return which;
}

/* Text through the rank file's encoder, the special tokens' names
 * between the pieces.  A space before [MASK] belongs to the mask, as
 * RoBERTa's <mask> (lstrip): "the [MASK] of" asks for the token " word"
 * that the text "the word of" has. */
static int bpe_line(const struct bm_tok *k, const char *s, uint32_t **out,
		    size_t *len, size_t *cap)
{
	nk_bpe_ids ids = {0};
	int rc = NK_OK;
	while (*s && !rc) {
		const char *at;
		int sp = next_special(s, &at);
		size_t piece = at ? (size_t)(at - s) : strlen(s);
		if (sp == 4 && piece && s[piece - 1] == ' ')
			piece--;
		ids.n = 0;
		if ((rc = nk_bpe_encode(k->enc, (const unsigned char *)s, piece,
					NK_SPECIAL_TEXT, &ids)))
			break;
		for (size_t i = 0; i < ids.n && !rc; i++)
			rc = push_id(out, len, cap, ids.v[i]);
		if (!at)
			break;
		if (!rc)
			rc = push_id(out, len, cap,
				     (uint32_t)k->t.base_vocab + (uint32_t)sp);
		s = at + strlen(special_names[sp]);
	}
	nk_bpe_ids_free(&ids);
	return rc;
}

/* Ids and the special tokens' names, separated by spaces. */
static int ids_line(const struct bm_tok *k, const char *s, uint32_t **out,
		    size_t *len, size_t *cap)
{
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			return NK_OK;
		size_t w = strcspn(s, " \t\r\n\v\f");
		long long id = -1;
		for (int i = 0; i < 5; i++)
			if (w == strlen(special_names[i]) &&
			    memcmp(s, special_names[i], w) == 0)
				id = k->t.base_vocab + i;
		if (id < 0) {
			char *end;
			id = strtoll(s, &end, 10);
			if (end != s + w || !isdigit((unsigned char)*s) ||
			    id >= k->t.base_vocab)
				return nk_error(NK_EFORMAT, "'%.*s' is not an id "
						"below %lld or a special token",
						(int)w, s,
						(long long)k->t.base_vocab);
		}
		if (push_id(out, len, cap, (uint32_t)id))
			return NK_ENOMEM;
		s += w;
	}
}

uint32_t *bm_encode_line(const struct bm_tok *k, const char *text, int *n)
{
	size_t cap = 64, len = 1;
	uint32_t *out = nk_calloc(cap, sizeof *out);
	if (!out)
		return NULL;
	out[0] = k->t.cls;
	int rc;
	if (k->wp) {
		nk_wp_ids ids = {0};
		rc = nk_wp_encode(k->wp, (const unsigned char *)text,
				  strlen(text), &ids);
		for (size_t i = 0; !rc && i < ids.n; i++)
			rc = push_id(&out, &len, &cap, ids.id[i]);
		nk_wp_ids_free(&ids);
	} else if (k->bpe) {
		rc = bpe_line(k, text, &out, &len, &cap);
	} else {
		rc = ids_line(k, text, &out, &len, &cap);
	}
	if (!rc)
		rc = push_id(&out, &len, &cap, k->t.sep);
	if (rc) {
		free(out);
		return NULL;
	}
	*n = (int)len;
	return out;
}

/* The bytes of BPE tokens as text: ill-formed UTF-8 (half a character
 * in a token) replaced by U+FFFD, as tiktoken's decode does. */
static char *bpe_text(const struct bm_tok *k, const uint32_t *ids, int n)
{
	size_t cap = 1, len = 0;
	for (int i = 0; i < n; i++) {
		size_t l = 8;
		if (ids[i] < (uint32_t)k->t.base_vocab)
			nk_bpe_token(k->bpe, ids[i], &l);
		cap += l;
	}
	unsigned char *raw = nk_malloc(cap);
	if (!raw)
		cli_die_lib();
	for (int i = 0; i < n; i++) {
		size_t l;
		const unsigned char *t;
		if (ids[i] < (uint32_t)k->t.base_vocab) {
			t = nk_bpe_token(k->bpe, ids[i], &l);
		} else {
			t = (const unsigned char *)
				special_names[ids[i] - (uint32_t)k->t.base_vocab];
			l = strlen((const char *)t);
		}
		memcpy(raw + len, t, l);
		len += l;
	}
	char *s = nk_utf8_repair(raw, len, NULL);
	free(raw);
	if (!s)
		cli_die_lib();
	return s;
}

char *bm_token_str(const struct bm_tok *k, uint32_t id)
{
	char *s;
	if (k->wp)
		s = strdup(nk_wp_token(k->wp, id, NULL));
	else if (k->bpe)
		return bpe_text(k, &id, 1);
	else if (id >= (uint32_t)k->t.base_vocab)
		s = strdup(special_names[id - (uint32_t)k->t.base_vocab]);
	else if ((s = malloc(16)))
		snprintf(s, 16, "%u", id);
	if (!s)
		cli_errx(1, "out of memory");
	return s;
}

char *bm_decode(const struct bm_tok *k, const uint32_t *ids, int n)
{
	if (k->wp) {
		char *text;
		size_t len;
		if (nk_wp_decode(k->wp, ids, (size_t)n, 0, &text, &len))
			cli_die_lib();
		return text;
	}
	if (k->bpe)
		return bpe_text(k, ids, n);
	size_t cap = (size_t)n * 12 + 1, len = 0;
	char *s = nk_calloc(cap, 1);
	if (!s)
		cli_die_lib();
	for (int i = 0; i < n; i++) {
		char *t = bm_token_str(k, ids[i]);
		len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? " " : "",
					t);
		free(t);
	}
	return s;
}
