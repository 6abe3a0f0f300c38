/* tokens.c - bert-mask's tokenizer of a run: WordPiece, plain ids, or the
 * ids of a BPE rank file with its word starts (fill_text.c turns fill's
 * text into ids and back). */
#include "cli.h"
#include "bert-mask.h"

#include "core/io.h"
#include "formats/tiktoken.h"
#include "text/bpe.h"
#include "text/wordpiece.h"


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
	/* Every word would be [UNK], and [UNK] is never masked: nothing to
	 * learn, and a model that fill and eval would refuse. */
	if (k->V <= NK_WP_NSPECIAL)
		cli_errx(1, "%s: no tokens besides [PAD] [UNK] [CLS] [SEP] "
			 "[MASK]", o->vocab);
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
