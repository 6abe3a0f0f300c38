/* charlm_file.h - rnn-train's model file, defined once.
 *
 * One weight file (nnkit-wfile(5)) holds a model and, written by
 * `rnn-train train`, everything a run needs to continue exactly.  Its
 * schema, version NK_CHARLM_SCHEMA (the key "schema"; absent in files
 * written before the key, which are version 1 and read as such):
 *
 *   the network (this file)    program "rnn-train", kind "charlm", cell,
 *                              layers, hidden, embedding, vocab_size,
 *                              dropout; the parameters as tensors named
 *                              in charlm.c (wte, rnn.L.w_ih, ..., out.w)
 *   the vocabulary (this file) level ("byte", "char", "tokens"), vocab
 *                              (the symbols of ids 0..V-1; not for
 *                              tokens), start_id (what sampling starts
 *                              from when given no prime)
 *   the task (charlm_task.c)   batch, bptt, checkpoint, val_fraction;
 *                              stream_pos, epoch, data_len, data_hash;
 *                              tensors train.h and, for an LSTM, train.c
 *   the loop (nn/train.c)      the optimizer and schedule settings, step,
 *                              rng, adam_t, the log's running sums,
 *                              elapsed; tensors train.adam.m, train.adam.v
 *
 * A model file needs only the first two parts; sample and eval read no
 * more.
 */
#ifndef NK_CHARLM_FILE_H
#define NK_CHARLM_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "models/charlm.h"
#include "text/textdata.h"

#define NK_CHARLM_SCHEMA 1

struct nk_wfile;

/* A model as loaded: the network, the vocabulary, the open file (resume
 * reads the training state from it). */
typedef struct nk_charlm_file {
	struct nk_wfile *f;
	nk_charlm m;
	nk_textvocab vocab;
	int level;          /* enum nk_text_level */
	int64_t start_id;
} nk_charlm_file;

/* The network and its vocabulary into w (the schema's first two parts).
 * vocab->sym may be NULL for tokens. */
int nk_charlm_file_add(struct nk_wfile *w, const nk_charlm *m,
		       const nk_textvocab *vocab, int level, int64_t start_id);
/* Reads path: refuses a file of another program or schema, then reads and
 * checks the network, the vocabulary and start_id. */
int nk_charlm_file_load(nk_charlm_file *lm, const char *path);
void nk_charlm_file_free(nk_charlm_file *lm);

/* The network alone, into or from a weight file (fuzzed on its own). */
int nk_charlm_to_wfile(const nk_charlm *m, struct nk_wfile *w);
int nk_charlm_from_wfile(nk_charlm *m, const struct nk_wfile *f);

/* Reads a whole input ("-": stdin) as ids of the model's vocabulary: text
 * through the vocabulary, or token ids below vocab_size.  A symbol the
 * model does not know is an error naming FILE:LINE:COL. */
int nk_charlm_file_read_ids(const nk_charlm_file *lm, const char *path,
			    uint32_t **ids, size_t *n);
/* The same for a prime given on the command line (named "--prime"):
 * text, or token ids separated by spaces for a token model. */
int nk_charlm_file_prime_ids(const nk_charlm_file *lm, const char *prime,
			     uint32_t **ids, size_t *n);

#endif
