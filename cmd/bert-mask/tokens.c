/* tokens.c - bert-mask's tokenizer of a run (WordPiece, plain ids, or the
 * ids of a BPE rank file with its word starts), and the text of fill's
 * inputs and answers. */
#include "cli.h"
#include "bert-mask.h"

#include "core/io.h"
#include "formats/tiktoken.h"
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

/* ---- fill's text ------------------------------------------------------ */

uint32_t *bm_encode_line(const struct bm_tok *k, const char *text, int *n)
{
	size_t cap = 64, len = 1;
	uint32_t *out = nk_calloc(cap, sizeof *out);
	if (!out)
		return NULL;
	out[0] = k->t.cls;
	if (k->wp) {
		nk_wp_ids ids = {0};
		if (nk_wp_encode(k->wp, (const unsigned char *)text,
				 strlen(text), &ids)) {
			free(out);
			nk_wp_ids_free(&ids);
			return NULL;
		}
		uint32_t *grown = realloc(out, (ids.n + 2) * sizeof *out);
		if (!grown) {
			free(out);
			nk_wp_ids_free(&ids);
			nk_error(NK_ENOMEM, "out of memory");
			return NULL;
		}
		out = grown;
		memcpy(out + 1, ids.id, ids.n * sizeof *out);
		len += ids.n;
		nk_wp_ids_free(&ids);
	} else {
		/* Ids and the special tokens' names, separated by spaces. */
		const char *s = text;
		for (;;) {
			while (isspace((unsigned char)*s))
				s++;
			if (!*s)
				break;
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
				    id >= k->t.base_vocab) {
					nk_error(NK_EFORMAT, "'%.*s' is not an id "
						 "below %lld or a special token",
						 (int)w, s,
						 (long long)k->t.base_vocab);
					free(out);
					return NULL;
				}
			}
			if (len + 2 > cap) {
				uint32_t *grown = realloc(out, 2 * cap * sizeof *out);
				if (!grown) {
					free(out);
					nk_error(NK_ENOMEM, "out of memory");
					return NULL;
				}
				out = grown;
				cap *= 2;
			}
			out[len++] = (uint32_t)id;
			s += w;
		}
	}
	out[len++] = k->t.sep;
	*n = (int)len;
	return out;
}

char *bm_token_str(const struct bm_tok *k, uint32_t id)
{
	char *s;
	if (k->wp)
		s = strdup(nk_wp_token(k->wp, id, NULL));
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
