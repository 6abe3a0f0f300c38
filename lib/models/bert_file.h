/* bert_file.h - bert-mask's model file, defined once.
 *
 * One weight file (nnkit-wfile(5)) holds a model and, written by
 * `bert-mask train`, everything a run needs to continue exactly.  Its
 * schema, version NK_BERT_SCHEMA:
 *
 *   the network (this file)    program "bert-mask", kind "bert", layers,
 *                              hidden, heads, ff, vocab_size, positions,
 *                              types, dropout, gelu ("erf" or "tanh"),
 *                              ln_eps, attention_bias ("none" or
 *                              "alibi"; schema 2: a schema-1 file has
 *                              none); the parameters as tensors named by
 *                              nk_bert_tensor (wte, layer.0.qkv_w, ...)
 *   the tokens (this file)     tokenizer: "wordpiece" (vocab: the
 *                              vocab.txt lines joined by newlines;
 *                              lower_case) or "ids" (token ids from
 *                              `tokenize encode`, base_vocab of them,
 *                              the special tokens after them; the U8
 *                              tensor tokens.cont when the ids' words
 *                              are known);
 *                              pad_id, unk_id, cls_id, sep_id, mask_id
 *   the task (bert_task.c)     its settings and its place in the data
 *   the loop (nn/train.c)      the optimizer, the schedule, the step
 *
 * A model file needs only the first two parts; fill and eval read no more.
 */
#ifndef NK_BERT_FILE_H
#define NK_BERT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "models/bert.h"

#define NK_BERT_SCHEMA 2

struct nk_wfile;

enum nk_bert_tokenizer { NK_BERT_WORDPIECE, NK_BERT_IDS };

/* How text becomes the model's ids, and its special tokens. */
typedef struct nk_bert_tokens {
	int kind;              /* enum nk_bert_tokenizer */
	const char *vocab;     /* wordpiece: vocab.txt's lines, '\n'-joined */
	size_t vocab_len;
	int lower_case;        /* wordpiece: BERT's do_lower_case */
	int64_t base_vocab;    /* ids: ids below this come from the data */
	const uint8_t *cont;   /* ids: (V) 1 where a token continues a word
				* (a byte-level BPE token without a leading
				* space), for whole-word masking; NULL: none */
	uint32_t pad, unk, cls, sep, mask;
} nk_bert_tokens;

/* A model as loaded: the network, its tokens, the open file (resume reads
 * the training state from it; tokens.vocab points into it). */
typedef struct nk_bert_file {
	struct nk_wfile *f;
	nk_bert m;
	nk_bert_tokens tok;
} nk_bert_file;

/* The network and its tokens into w (the schema's first two parts). */
int nk_bert_file_add(struct nk_wfile *w, const nk_bert *m,
		     const nk_bert_tokens *tok);
/* Reads path: refuses a file of another program or schema, checks the
 * sizes against the tensors the file holds before allocating, then reads
 * the network and the tokens. */
int nk_bert_file_load(nk_bert_file *bf, const char *path);
/* The same over a weight file already read (taken over by bf). */
int nk_bert_file_from_wfile(nk_bert_file *bf, struct nk_wfile *f);
void nk_bert_file_free(nk_bert_file *bf);

/* "erf", "tanh"; -1 / NULL for unknown. */
int nk_gelu_from_name(const char *name);
const char *nk_gelu_name(int kind);

#endif
