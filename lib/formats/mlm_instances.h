/* mlm_instances.h - streams of masked-language-model training instances:
 * how `bert-mask mask` hands instances to `bert-mask train`.
 *
 * An instance is a token sequence ([CLS] A [SEP] B [SEP], or [CLS] A [SEP])
 * with its token types, its masked positions and their original ids, and
 * the next-sentence label.  Two forms, documented in nnkit-mlm(5):
 *
 *   text    one instance per line, five tab-separated fields:
 *           RANDOM_NEXT  NA  IDS  POSITIONS  LABELS
 *           ("0\t4\t2 17 1 3 9 3\t2\t88\n": types are 0 for the first NA
 *           tokens, 1 after; lists are decimal ids with single spaces).
 *   binary  a 16-byte header ("NKMI", version 1), one record per instance
 *           (u32le n, na, nmask, flags; n ids, nmask positions, nmask
 *           labels, all u32le), then an end record with the number of
 *           instances and a CRC-32 of everything before it, so a stream
 *           cut short is detected.
 *
 * The reader tells the forms apart by the first bytes (text starts with
 * a digit), reads in chunks so it works on pipes, and (through nk_reader)
 * accepts gzip.  Concatenated binary streams read as one.
 */
#ifndef NK_MLM_INSTANCES_H
#define NK_MLM_INSTANCES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define NK_MLM_T_MAX 65536        /* most tokens in one instance */
#define NK_MLM_MAGIC "NKMI"
#define NK_MLM_VERSION 1
#define NK_MLM_HEADER_SIZE 16
#define NK_MLM_REC_SIZE 16        /* n, na, nmask, flags */
#define NK_MLM_END_MARK 0xFFFFFFFFu
#define NK_MLM_END_SIZE 16        /* mark u32, instances u64, crc u32 */
#define NK_MLM_FLAG_RANDOM_NEXT 1u

/* One instance.  ids are the tokens as the model sees them (masked);
 * mlabel[k] is the original id at position mpos[k] (ascending). */
typedef struct nk_mlm_instance {
	uint32_t n;               /* tokens */
	uint32_t *ids;            /* (n) */
	uint8_t *types;           /* (n) 0 or 1: 0s, then 1s */
	uint32_t nmask;           /* predictions */
	uint32_t *mpos;           /* (nmask) positions, ascending */
	uint32_t *mlabel;         /* (nmask) original ids */
	int is_random_next;       /* B came from another document */
} nk_mlm_instance;

/* Instances in memory, each from nk_mlm_instance_alloc. */
typedef struct nk_mlm_set {
	nk_mlm_instance *inst;
	size_t n, cap;
} nk_mlm_set;

/* Allocates an instance for n tokens and room for max_pred predictions
 * in one block (ids is its start); nmask 0, types all 0. */
int nk_mlm_instance_alloc(nk_mlm_instance *in, uint32_t n, uint32_t max_pred);
void nk_mlm_instance_free(nk_mlm_instance *in);
/* Appends a copy of `in` to the set (room for in->nmask predictions, or
 * max_pred when larger, so the copy can be masked again). */
int nk_mlm_set_add(nk_mlm_set *s, const nk_mlm_instance *in,
		   uint32_t max_pred);
void nk_mlm_set_free(nk_mlm_set *s);

/* Checks an instance as the writer needs it: n in [1, NK_MLM_T_MAX],
 * types 0s then 1s (NULL: all 0), nmask <= n, positions ascending and
 * < n, is_random_next 0 or 1, and when V > 0 every id and label < V.
 * Returns 0 or NK_ERANGE / NK_EINVAL with a message. */
int nk_mlm_instance_check(const nk_mlm_instance *in, uint32_t V);

typedef struct nk_mlm_reader nk_mlm_reader;
typedef struct nk_mlm_writer nk_mlm_writer;

/* A byte source: returns bytes read (at most n), 0 at end, -1 on error
 * (with a message recorded by nk_error). */
typedef ssize_t (*nk_mlm_read_fn)(void *ctx, void *buf, size_t n);

/* Opens a file ("-" is stdin; gzip is decompressed) and detects its form;
 * NULL on failure with the message recorded. */
nk_mlm_reader *nk_mlm_reader_open(const char *path);
/* Reads `size` bytes at `data` (kept until close), as a stream would be. */
nk_mlm_reader *nk_mlm_reader_open_mem(const void *data, size_t size,
				      const char *name);
/* Reads through fn(ctx, ...), which need not return full chunks. */
nk_mlm_reader *nk_mlm_reader_open_fn(nk_mlm_read_fn fn, void *ctx,
				     const char *name);
/* Ids and labels >= V are errors (0: no check); instances longer than
 * T tokens are errors (0: only NK_MLM_T_MAX). */
void nk_mlm_reader_set_limits(nk_mlm_reader *r, uint32_t V, uint32_t T);
/* Reads the next instance: 1 with *in filled (its arrays belong to the
 * reader until the next call), 0 at the end, or a negative NK_E* code
 * with a message naming the file and the line and column (text) or the
 * byte offset (binary).  After an error every call returns it again. */
int nk_mlm_reader_next(nk_mlm_reader *r, nk_mlm_instance *in);
int nk_mlm_reader_is_binary(const nk_mlm_reader *r);
/* Whether data hold an instance stream: the binary form's magic, or a
 * first non-blank line that is a whole line of the text form (five
 * tab-separated fields, numbers where they belong). */
int nk_mlm_is_instances(const unsigned char *data, size_t size);
const char *nk_mlm_reader_name(const nk_mlm_reader *r);
/* Instances read so far (the line number, for text). */
uint64_t nk_mlm_reader_count(const nk_mlm_reader *r);
int nk_mlm_reader_close(nk_mlm_reader *r);

/* Reads a whole stream into the set (appended), each instance with room
 * for max(nmask, max_pred) predictions.  Limits as set_limits. */
int nk_mlm_read_all(const char *path, uint32_t V, uint32_t T,
		    uint32_t max_pred, nk_mlm_set *s);

/* Writes to fp (not closed); a binary writer writes its header at once.
 * NULL only when out of memory. */
nk_mlm_writer *nk_mlm_writer_open(FILE *fp, int binary);
/* Appends one instance (checked by nk_mlm_instance_check, V 0): 0,
 * NK_ERANGE / NK_EINVAL (nothing written), or NK_EIO (sticky). */
int nk_mlm_writer_put(nk_mlm_writer *w, const nk_mlm_instance *in);
/* Writes the end record (binary), flushes, frees: 0 or NK_EIO. */
int nk_mlm_writer_close(nk_mlm_writer *w);
/* Frees without the end record: a binary stream then reads as truncated. */
void nk_mlm_writer_abort(nk_mlm_writer *w);

#endif
