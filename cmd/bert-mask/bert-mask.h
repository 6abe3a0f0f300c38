/* bert-mask.h - what the files of bert-mask share: the options, the five
 * subcommands (vocab.c, mask.c, train.c, fill.c, eval.c), the run's
 * tokenizer (tokens.c) and the glue between text and the model's
 * sequences (data.c, fill_text.c); main.c parses. */
#ifndef BERT_MASK_H
#define BERT_MASK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_train.h"
#include "core/io.h"
#include "models/bert_file.h"
#include "models/bert_task.h"

/* Long options without a letter, above cli.h's and cli_train.h's. */
enum { O_VOCAB = 0x2000, O_CASED, O_IDS, O_MINFREQ, O_MAXPRED, O_PAIRS,
       O_SHORT, O_DUPE, O_TEXT, O_FF, O_DROPOUT, O_GELU, O_JSON, O_TIKTOKEN,
       O_ALIBI, O_END };

struct opts {
	struct cli_train_opts t;    /* train's loop options */
	const unsigned char *seen;  /* [code]: the option was given */
	const char *out, *model, *vocab, *tiktoken;
	long long ids;              /* --ids N: token ids below N */
	int cased, pairs, whole_word, text_out, json, checkpoint, alibi;
	int L, H, A, FF, T, B, topk, dupe, max_pred, min_freq, size, gelu;
	float mask_prob, short_prob, dropout;
	int threads, quiet, verbose, progress, force;
	uint64_t seed;
};

void usage(FILE *fp);
/* A given option that the input or the run makes meaningless is a usage
 * error, never ignored: 1 when option `code` was on the command line. */
static inline int bm_seen(const struct opts *o, int code)
{
	return o->seen && code >= 0 && code < O_END && o->seen[code];
}
int cmd_vocab(struct opts *o, int argc, char **argv);
int cmd_mask(struct opts *o, int argc, char **argv);
int cmd_train(struct opts *o, int argc, char **argv);
int cmd_fill(struct opts *o, int argc, char **argv);
int cmd_eval(struct opts *o, int argc, char **argv);

/* ---- resume.c: train --resume's options against the saved run ------ */

/* Exits 2 naming the option when one given on the command line sets a
 * setting of the run in bf (tc, kc: the saved loop and task settings) to
 * another value; the same value passes. */
void bm_resume_check(const struct opts *o, const nk_bert_file *bf,
		     const nk_train_config *tc, const nk_bert_task_config *kc);

/* ---- tokens.c: a run's tokenizer (from --vocab / --ids / --tiktoken, or
 * a model's) ------------------------------------------------------------ */
struct nk_wordpiece;
struct nk_bpe;
struct nk_bpe_enc;
struct bm_tok {
	nk_bert_tokens t;
	struct nk_wordpiece *wp;    /* WordPiece, or NULL for ids */
	struct nk_bpe *bpe;         /* ids' rank file (fill --tiktoken) */
	struct nk_bpe_enc *enc;
	uint8_t *cont;       /* (V) the token continues a word */
	int V;
	char *vocab;         /* the tokens '\n'-joined, for the model file */
};
struct bm_tok *bm_tok_from_opts(const struct opts *o);
struct bm_tok *bm_tok_from_model(const nk_bert_file *bf);
void bm_tok_free(struct bm_tok *k);
const nk_bert_tokens *bm_tok_tokens(const struct bm_tok *k);
int bm_tok_size(const struct bm_tok *k);   /* V, special tokens included */

/* ---- data.c: inputs into sequences, and the dynamic masker ---------- */

/* Sequences as the model reads them, with their storage. */
struct bm_seqs {
	nk_bert_seqs s;
	size_t *off, *moff;
	uint32_t *ids, *mlabel;
	uint8_t *types;
	int32_t *mpos;
	uint8_t *random_next;  /* (n) pairs: B came from another document */
	int instances;         /* read from instance streams */
};
/* What bm_read_seqs masks now (o's rule, o->seed): nothing (train masks
 * as it goes), text and ids (mask: instances pass through as they are),
 * or every sequence without masks (eval). */
enum { BM_MASK_NONE, BM_MASK_TEXT, BM_MASK_ALL };
/* Reads the inputs (text through the tokenizer, token ids, or an
 * instance stream from `mask`) into sequences of at most o->T tokens,
 * masked as `masked` says.  Exits with a message naming the file and
 * line on bad input. */
void bm_read_seqs(struct bm_seqs *q, const struct bm_tok *k,
		  const struct opts *o, int masked, int argc, char **argv);
void bm_seqs_free(struct bm_seqs *q);
/* The dynamic masker of o's rule over k's vocabulary. */
nk_bert_masker bm_masker(const struct bm_tok *k, const struct opts *o);

/* ---- fill_text.c: the text of fill's inputs and answers ------------- */

/* fill --tiktoken: a model of ids reads and writes text through the rank
 * file it was trained on (its size and word starts checked against the
 * model's; exits naming the file when they differ). */
void bm_tok_use_ranks(struct bm_tok *k, const char *path, const char *model);
/* Text to ids for fill: [CLS] text [SEP], "[MASK]" kept as the mask id;
 * NULL with a message for text the tokenizer refuses. */
uint32_t *bm_encode_line(const struct bm_tok *k, const char *text, int *n);
/* A token's text (fill's token_str) and a sequence's text (its
 * "sequence"), into a malloc'd string. */
char *bm_token_str(const struct bm_tok *k, uint32_t id);
char *bm_decode(const struct bm_tok *k, const uint32_t *ids, int n);

#endif
