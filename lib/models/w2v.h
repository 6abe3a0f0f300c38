/* w2v.h - word2vec: training word embeddings, and querying them.
 *
 * Training (w2v.c) follows the original word2vec tool: skip-gram or CBOW,
 * negative sampling (unigram^0.75, drawn here from an alias table) and/or
 * hierarchical softmax (Huffman tree), frequent-word subsampling (keep
 * probability sqrt(t/f) + t/f), a dynamic window, a learning rate falling
 * linearly over all epochs, and lock-free (Hogwild) threads.  Beside the
 * classic loop there is the mini-batched form of Intel's pWord2Vec for
 * skip-gram with negative sampling: the contexts of one centre word share
 * one set of negative samples, so the updates become three small matrix
 * products (two of them through nk_sgemm).
 *
 * The corpus is held as one array of 32-bit word ids with NK_W2V_EOS
 * between sentences (4 bytes per kept word).  Sentences are lines; one
 * longer than NK_W2V_SENTENCE_MAX words is cut into pieces.
 *
 * With one thread and a seed the result is the same bytes on every run.
 *
 * Querying (w2v_eval.c): nearest neighbours by cosine, analogies under
 * 3CosAdd and 3CosMul, accuracy on a questions-words file with a
 * frequency cut-off, and Spearman correlation on word-similarity pairs.
 */
#ifndef NK_W2V_H
#define NK_W2V_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hash.h"
#include "core/rng.h"
#include "text/vocab.h"

#define NK_W2V_EOS 0xFFFFFFFFu
#define NK_W2V_SENTENCE_MAX 10000
#define NK_W2V_DIM_MAX 10000

typedef struct nk_w2v_opts {
	int dim;            /* vector size D (100) */
	int window;         /* max context on each side (5) */
	int negative;       /* negative samples, 0 = none (5) */
	int hs;             /* hierarchical softmax (0) */
	int cbow;           /* CBOW instead of skip-gram (0) */
	int epochs;         /* passes over the corpus (5) */
	int threads;        /* (1) */
	int batched;        /* pWord2Vec path for skip-gram + NS (1) */
	uint64_t min_count; /* (5) */
	double alpha;       /* starting learning rate (0.025; CBOW 0.05) */
	double min_alpha;   /* final learning rate (alpha * 1e-4) */
	double sample;      /* subsampling threshold t, 0 = off (1e-3) */
	uint64_t seed;      /* (1) */
} nk_w2v_opts;

void nk_w2v_opts_default(nk_w2v_opts *o);

/* The corpus as word ids, NK_W2V_EOS between sentences. */
typedef struct nk_w2v_corpus {
	uint32_t *ids;
	size_t n, cap;
	uint64_t words; /* ids other than EOS */
	uint32_t sent_len; /* words in the sentence being appended */
} nk_w2v_corpus;

void nk_w2v_corpus_free(nk_w2v_corpus *c);

/* Counts the words of whitespace-separated text into `v`.  A word longer
 * than NK_VOCAB_WORD_MAX bytes is an error naming NAME:LINE:COL. */
int nk_w2v_count_text(nk_vocab *v, const void *text, size_t size,
		      const char *name);
/* Appends the text's words that are in `v` to the corpus; lines are
 * sentences. */
int nk_w2v_encode_text(nk_w2v_corpus *c, const nk_vocab *v, const void *text,
		       size_t size, const char *name);

/* Token ids (from `tokenize encode`): the stream read whole and appended
 * to *ids, each sequence followed by NK_W2V_EOS (nk_tok_read_all).  A word for an id is names[id] when
 * id < nnames, else its decimal form. */
int nk_w2v_ids_read(uint32_t **ids, size_t *n, const char *path);
/* The same over bytes in memory (kept until it returns). */
int nk_w2v_ids_read_mem(uint32_t **ids, size_t *n, const void *data,
			size_t size, const char *name);
int nk_w2v_count_ids(nk_vocab *v, const uint32_t *ids, size_t n,
		     char *const *names, size_t nnames);
int nk_w2v_encode_ids(nk_w2v_corpus *c, const nk_vocab *v, const uint32_t *ids,
		      size_t n, char *const *names, size_t nnames);
/* Reads an id-to-word list: line K (from 0) is "WORD" or "WORD ID". */
int nk_w2v_names_load(char ***names, size_t *nnames, const void *data,
		      size_t size, const char *name);
void nk_w2v_names_free(char **names, size_t nnames);

typedef struct nk_w2v {
	nk_w2v_opts o;
	nk_vocab vocab;
	uint32_t V;
	int D;
	float *win;  /* (V,D) the word vectors */
	float *wout; /* (V,D) negative-sampling output weights, or NULL */
	float *whs;  /* (V,D) Huffman inner nodes (V-1 used), or NULL */
	/* Huffman codes: word w's code bits and inner nodes are
	 * codes/points[code_off[w] .. code_off[w+1]). */
	uint64_t *code_off;
	uint8_t *codes;
	uint32_t *points;
	/* negative sampling: alias table over count^0.75 */
	uint32_t *alias, *alias_prob;
	/* subsampling: keep a word when rand32 < keep[w] */
	uint32_t *keep;
	float *sigm;        /* sigmoid table over [-6, 6] */
	uint64_t words_done; /* words trained over every run, for the record */
	int64_t epochs_done;
	double alpha_now;
	nk_rng rng;          /* master generator: seeds the threads */
} nk_w2v;

/* Takes the vocabulary (moved in: `*vocab` is emptied), builds the
 * tables and initialises the weights from o->seed. */
int nk_w2v_init(nk_w2v *m, const nk_w2v_opts *o, nk_vocab *vocab);
void nk_w2v_free(nk_w2v *m);

typedef struct nk_w2v_progress {
	double done;       /* fraction of this run, 0..1 */
	double alpha;      /* current learning rate */
	uint64_t words;    /* words processed (before subsampling) */
	int epoch;         /* 1-based, as seen by thread 0 */
	int threads;
} nk_w2v_progress;
typedef void (*nk_w2v_progress_fn)(void *ctx, const nk_w2v_progress *p);

/* Trains o.epochs passes over `c`.  The callback (may be NULL) is called
 * from one thread now and then. */
int nk_w2v_train(nk_w2v *m, const nk_w2v_corpus *c, nk_w2v_progress_fn fn,
		 void *ctx);

/* Part of a run: `passes` passes over c->ids[lo..hi) (lo and hi at
 * sentence starts), the learning rate falling with base + the words done
 * here over total, the words of the whole run; progress reports count
 * epochs from epoch0.  m's counters (words_done, epochs_done, alpha_now)
 * are left alone: the caller of the spans keeps them.  nk_w2v_train is
 * one span over everything; nk_w2v_train_dist many. */
typedef struct nk_w2v_span {
	size_t lo, hi;
	int passes, epoch0;
	uint64_t base, total;
	uint64_t done;      /* out: words processed here */
	double alpha;       /* out: the rate reached */
} nk_w2v_span;
int nk_w2v_train_span(nk_w2v *m, const nk_w2v_corpus *c, nk_w2v_span *sp,
		      nk_w2v_progress_fn fn, void *ctx);

/* Data-parallel training (w2v_dist.c), pWord2Vec's scheme over MPI
 * (core/dist.h): every rank holds the whole corpus and the same initial
 * model; the corpus is cut by position (at sentence starts) into pieces of
 * about sync_words words per rank, and in round k rank r trains piece
 * kN + r, the ranks moving through the corpus side by side.  After every
 * round the models are merged: the model of the previous merge plus the
 * sum of every rank's change since, in rank order (nk_dist_sum), so that
 * every rank holds the same bytes; the rows of the NK_W2V_SYNC_ROWS most
 * frequent words every round, 2^z times as many at round number 2^z x odd,
 * all of them at the end of every epoch.  The learning rate falls with each
 * rank's progress through its pieces.  A collective: every rank calls it;
 * on one rank it is nk_w2v_train.  m's counters afterwards count every
 * rank's words.  Each rank draws its own random numbers (the master
 * generator mixed with the rank), so the result depends on the number of
 * ranks. */
#define NK_W2V_SYNC_WORDS 10000
#define NK_W2V_SYNC_ROWS 1024
int nk_w2v_train_dist(nk_w2v *m, const nk_w2v_corpus *c, uint64_t sync_words,
		      nk_w2v_progress_fn fn, void *ctx);

/* word2vec formats: "V D\n" then per word "word v1 .. vD\n" (text, %.6g)
 * or "word " and D little-endian float32 then "\n" (binary).  A failed
 * write is "NAME: write failed: REASON". */
int nk_w2v_write_vectors(const nk_w2v *m, FILE *fp, int binary,
			 const char *name);
/* The full training state as a weight file (nnkit-wfile(5)):
 *	metadata  program "w2v-train", schema NK_W2V_SCHEMA, kind "word2vec",
 *	          dim, window, negative, hs, cbow, min_count, sample, alpha,
 *	          min_alpha, alpha_now, epochs_done, words_done, vocab_total,
 *	          rng (4 ints)
 *	tensors   vectors (V,D) f32; out.ns (V,D) with negative sampling;
 *	          out.hs (V,D) with hierarchical softmax; vocab.counts (V) i64;
 *	          vocab.words, the words each ended by '\n', u8
 * A state saved before the schema key existed reads as schema 1. */
#define NK_W2V_SCHEMA 1 /* written, and the newest read */
int nk_w2v_save(const nk_w2v *m, const char *path);
/* Reads a state written by nk_w2v_save. */
int nk_w2v_load(nk_w2v *m, const char *path);
/* What a resumed state takes from new options `o`: epochs, threads and
 * the batched path always; with NK_W2V_SET_ALPHA the starting rate, the
 * final one then following as alpha * 1e-4 unless NK_W2V_SET_MIN_ALPHA
 * gives it too.  The shape and the vocabulary stay the state's. */
#define NK_W2V_SET_ALPHA 0x1u
#define NK_W2V_SET_MIN_ALPHA 0x2u
void nk_w2v_resume_opts(nk_w2v *m, const nk_w2v_opts *o, unsigned set);

/* Whether an input is a binary token stream (tokenize encode -b, known by
 * its magic) rather than text. */
int nk_w2v_is_token_stream(const void *data, size_t size);

/* ---- querying (w2v_eval.c) ------------------------------------------- */

#define NK_W2V_FILE_MAX_WORDS (1u << 28)

/* Vectors loaded for querying, unit length, in file order. */
typedef struct nk_w2v_vecs {
	uint32_t n;
	int D;
	char **words;
	float *vec;    /* (n,D) normalised */
	nk_idtab folded; /* upper-cased ASCII -> id, first occurrence wins */
	nk_idtab exact;  /* exact bytes -> id (a word occurs once) */
} nk_w2v_vecs;

/* Parses word2vec text or binary vectors, told apart by the shape of the
 * first record: text when it is a line of a word and D printable fields
 * (whatever their values), else binary.  The last text line may lack its
 * newline.  Errors name NAME and a line (text: the word and the field of
 * a bad value) or a byte offset (binary); a word given twice is an
 * error. */
int nk_w2v_vecs_parse(nk_w2v_vecs *w, const void *data, size_t size,
		      const char *name);
/* From a file: word2vec text/binary, or a w2v-train state (.nkw). */
int nk_w2v_vecs_load(nk_w2v_vecs *w, const char *path);
void nk_w2v_vecs_free(nk_w2v_vecs *w);
/* Index of a word (exact bytes; with fold, ASCII case ignored), or -1. */
int64_t nk_w2v_vecs_find(const nk_w2v_vecs *w, const char *word, int fold);

typedef struct nk_w2v_hit {
	uint32_t id;
	float score;
} nk_w2v_hit;

/* The k best words (among the first `limit`, 0 = all) for the query
 * vector q (unit length), skipping the ids in skip[0..nskip).  Returns
 * the number found (<= k), best first. */
int nk_w2v_nearest(const nk_w2v_vecs *w, const float *q, uint32_t limit,
		   const uint32_t *skip, int nskip, nk_w2v_hit *out, int k);

enum { NK_W2V_COSADD = 0, NK_W2V_COSMUL = 1 };
/* a:b::c:? under 3CosAdd (b - a + c) or 3CosMul (Levy & Goldberg). */
int nk_w2v_analogy(const nk_w2v_vecs *w, uint32_t a, uint32_t b, uint32_t c,
		   int method, uint32_t limit, nk_w2v_hit *out, int k);

/* Accuracy on a questions-words file (": section" lines, then "a b c d"
 * lines), as gensim's evaluate_word_analogies: words are matched with
 * ASCII case ignored among the first `cutoff` words; a question with a
 * word outside them is counted as unseen. */
typedef struct nk_w2v_section {
	char name[64];
	uint64_t correct[2]; /* [NK_W2V_COSADD], [NK_W2V_COSMUL] */
	uint64_t seen, total;
	int syntactic;       /* the name starts with "gram" */
} nk_w2v_section;

typedef struct nk_w2v_eval {
	nk_w2v_section *sec;
	size_t nsec;
} nk_w2v_eval;

/* methods: bit 0 3CosAdd, bit 1 3CosMul. */
int nk_w2v_eval_analogies(nk_w2v_eval *e, const nk_w2v_vecs *w,
			  const void *data, size_t size, const char *name,
			  uint32_t cutoff, unsigned methods, int threads);
void nk_w2v_eval_free(nk_w2v_eval *e);
/* The sections summed: sum[0] "semantic" (names not starting with
 * "gram"), sum[1] "syntactic", sum[2] "total". */
void nk_w2v_eval_totals(nk_w2v_section sum[3], const nk_w2v_eval *e);

/* Parses only (for the fuzzer and for early errors): the number of
 * question lines, or a negative NK_E* code. */
int64_t nk_w2v_questions_check(const void *data, size_t size, const char *name);

/* Spearman's rho (average ranks for ties) between the file's scores and
 * the cosines, over pairs whose words are both known (ASCII case
 * ignored).  Lines: "word1 word2 score" (tabs or spaces); '#' starts a
 * comment line.  The cutoff limits the words as above.  Fewer than two
 * known pairs, or scores or cosines all equal, is an error (NK_EINVAL):
 * there is no correlation to report. */
typedef struct nk_w2v_simres {
	double spearman, pearson;
	uint64_t pairs, oov;
} nk_w2v_simres;
int nk_w2v_eval_similarity(nk_w2v_simres *r, const nk_w2v_vecs *w,
			   const void *data, size_t size, const char *name,
			   uint32_t cutoff);

#endif
