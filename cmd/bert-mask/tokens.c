/* tokens.c - bert-mask's tokenizer of a run (WordPiece, plain ids, or the
 * ids of a BPE rank file with its word starts), and the text of fill's
 * inputs and answers (through the rank file itself when fill is given
 * it). */
#include "cli.h"
#include "bert-mask.h"

#include "core/io.h"
#include "formats/tiktoken.h"
#include "text/bpe.h"
#include "text/utf8.h"
#include "text/wordpiece.h"

#include <ctype.h>

static const char *const special_names[5] = {"[PAD]", "[UNK]", "[CLS]",
					     "[SEP]", "[MASK]"};

/* Fills the special ids, cont and the joined vocabulary of a WordPiece
 * tokenizer; every special token must be there. */
static void wordpiece_setup(struct bm_tok *k, int lower)
{
	if (nk_wp_require(k->wp, (1u << NK_WP_NSPECIAL) - 1))
		cli_die_lib();
	int32_t sp[NK_WP_NSPECIAL];
	nk_wp_specials(k->wp, sp);
	k->t.kind = NK_BERT_WORDPIECE;
	k->t.lower_case = lower;
	k->t.pad = (uint32_t)sp[NK_WP_PAD], k->t.unk = (uint32_t)sp[NK_WP_UNK];
	k->t.cls = (uint32_t)sp[NK_WP_CLS], k->t.sep = (uint32_t)sp[NK_WP_SEP];
	k->t.mask = (uint32_t)sp[NK_WP_MASK];
	k->V = (int)nk_wp_size(k->wp);
	size_t len = 0;
	for (int i = 0; i < k->V; i++) {
		size_t n;
		nk_wp_token(k->wp, (uint32_t)i, &n);
		len += n + 1;
	}
	if (!(k->cont = nk_calloc((size_t)k->V, 1)) ||
	    !(k->vocab = nk_calloc(len + 1, 1)))
		cli_die_lib();
	char *p = k->vocab;
	for (int i = 0; i < k->V; i++) {
		size_t n;
		const char *s = nk_wp_token(k->wp, (uint32_t)i, &n);
		k->cont[i] = n > 2 && s[0] == '#' && s[1] == '#';
		memcpy(p, s, n);
		p += n;
		*p++ = '\n';
	}
	p[-1] = 0;
	k->t.vocab = k->vocab;
	k->t.vocab_len = len - 1;
}

static void ids_setup(struct bm_tok *k, long long base)
{
	k->t.kind = NK_BERT_IDS;
	k->t.base_vocab = base;
	k->t.pad = (uint32_t)base, k->t.unk = (uint32_t)base + 1;
	k->t.cls = (uint32_t)base + 2, k->t.sep = (uint32_t)base + 3;
	k->t.mask = (uint32_t)base + 4;
	k->V = (int)base + 5;
	if (!(k->cont = nk_calloc((size_t)k->V, 1)))
		cli_die_lib();
}

/* Ids of a byte-level BPE rank file: a token that does not start with a
 * space continues the word before it (GPT-2's words carry their leading
 * space). */
static void tiktoken_setup(struct bm_tok *k, const char *path)
{
	nk_input in;
	nk_tiktoken t;
	if (nk_input_load(&in, path, 0) ||
	    nk_tiktoken_parse(&t, in.data, in.size, in.name))
		cli_die_lib();
	ids_setup(k, t.n);
	for (uint32_t r = 0; r < t.n; r++)
		k->cont[r] = t.len[r] && t.tok[r][0] != ' ';
	k->t.cont = k->cont;
	nk_tiktoken_free(&t);
	nk_input_free(&in);
}

struct bm_tok *bm_tok_from_opts(const struct opts *o)
{
	struct bm_tok *k = nk_calloc(1, sizeof *k);
	if (!k)
		cli_die_lib();
	if (o->tiktoken) {
		tiktoken_setup(k, o->tiktoken);
		return k;
	}
	if (o->ids) {
		ids_setup(k, o->ids);
		return k;
	}
	if (nk_wp_load(&k->wp, o->vocab))
		cli_die_lib();
	nk_wp_set_case(k->wp, !o->cased, -1);
	wordpiece_setup(k, !o->cased);
	return k;
}

struct bm_tok *bm_tok_from_model(const nk_bert_file *bf)
{
	struct bm_tok *k = nk_calloc(1, sizeof *k);
	if (!k)
		cli_die_lib();
	const nk_bert_tokens *t = &bf->tok;
	if (t->kind == NK_BERT_IDS) {
		ids_setup(k, t->base_vocab);
		if (t->cont) {
			memcpy(k->cont, t->cont, (size_t)k->V);
			k->t.cont = k->cont;
		}
	} else {
		if (nk_wp_from_buffer(&k->wp, "the model's vocabulary",
				      (const unsigned char *)t->vocab,
				      t->vocab_len))
			cli_die_lib();
		nk_wp_set_case(k->wp, t->lower_case, -1);
		wordpiece_setup(k, t->lower_case);
	}
	if (k->V != bf->m.cfg.V)
		cli_errx(1, "the model's tokens (%d) do not match its vocabulary "
			 "(%d)", k->V, bf->m.cfg.V);
	return k;
}

void bm_tok_free(struct bm_tok *k)
{
	if (!k)
		return;
	nk_wp_free(k->wp);
	nk_bpe_enc_free(k->enc);
	nk_bpe_free(k->bpe);
	free(k->cont);
	free(k->vocab);
	free(k);
}

const nk_bert_tokens *bm_tok_tokens(const struct bm_tok *k)
{
	return &k->t;
}

int bm_tok_size(const struct bm_tok *k)
{
	return k->V;
}

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
