/* tokstream.h - token-id streams: how tokenize hands ids to the trainers.
 *
 * A token stream is a sequence of sequences of token ids (one sequence per
 * input line), in one of two forms, both documented in nnkit-tokens(5):
 *
 *   text    one line per sequence, decimal ids separated by spaces:
 *           "17 4 9001\n"; an empty line is an empty sequence.
 *   binary  a 16-byte header ("NKTS", version 1, id width 4), then one
 *           record per sequence (u32le count, count u32le ids), then an
 *           end record carrying the number of sequences and a CRC-32 of
 *           everything before it, so a stream cut short is detected.
 *
 * The reader tells the forms apart by the first four bytes (a text stream
 * can never start with 'N'), reads in chunks so it works on pipes, and
 * (through nk_reader) accepts gzip input.  Several binary streams
 * concatenated (`cat a.tok b.tok`) read as one.
 *
 * Ids are uint32 values 0 .. NK_TOK_ID_MAX; 0xFFFFFFFF is reserved.
 */
#ifndef NK_TOKSTREAM_H
#define NK_TOKSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define NK_TOK_ID_MAX 0xFFFFFFFEu      /* largest id; 0xFFFFFFFF reserved */
#define NK_TOK_SEQ_MAX (1u << 28)      /* most ids in one sequence */
#define NK_TOK_MAGIC "NKTS"
#define NK_TOK_VERSION 1
#define NK_TOK_HEADER_SIZE 16
#define NK_TOK_END_MARK 0xFFFFFFFFu    /* record count that ends a stream */
#define NK_TOK_END_SIZE 16             /* mark u32, sequences u64, crc u32 */

typedef struct nk_tokreader nk_tokreader;
typedef struct nk_tokwriter nk_tokwriter;

/* A byte source: returns bytes read (at most n), 0 at end, -1 on error
 * (with a message recorded by nk_error). */
typedef ssize_t (*nk_tokread_fn)(void *ctx, void *buf, size_t n);

/* Opens a file ("-" is stdin; gzip is decompressed) and detects its form.
 * NULL on failure, with the message recorded (it names the file). */
nk_tokreader *nk_tokreader_open(const char *path);
/* Parses `size` bytes at `data` in place (kept, not copied, until close);
 * `name` is used in messages. */
nk_tokreader *nk_tokreader_open_mem(const void *data, size_t size,
				    const char *name);
/* Reads through `fn(ctx, ...)`, which need not return full chunks. */
nk_tokreader *nk_tokreader_open_fn(nk_tokread_fn fn, void *ctx,
				   const char *name);

/* Ids >= v are an error naming FILE:LINE:COL (text) or the byte offset
 * (binary).  0 (the default) checks only against NK_TOK_ID_MAX. */
void nk_tokreader_set_max_id(nk_tokreader *r, uint32_t v);

/* Reads the next sequence: returns 1 with *ids, *n set (the buffer belongs
 * to the reader and stays valid until the next call), 0 at the end of the
 * stream, or a negative NK_E* code (-NK_EFORMAT, -NK_ERANGE, -NK_EIO,
 * -NK_ECHECKSUM, -NK_EVERSION, -NK_ENOMEM) with the message recorded.
 * After an error every further call returns the same code. */
int nk_tokreader_next(nk_tokreader *r, uint32_t **ids, size_t *n);

/* Reads a whole stream ("-" is stdin; gzip is decompressed) and appends
 * every id to the growing array *ids, which holds *n ids (NULL and 0 to
 * start one; the array is the caller's to free).  Ids >= max_id are an
 * error as with nk_tokreader_set_max_id (0: only NK_TOK_ID_MAX).  With
 * NK_TOK_READ_EOS in flags, NK_TOK_EOS follows every sequence, so that
 * the sequences can be told apart (a corpus of sentences); without, the
 * ids of all sequences simply follow each other (a text for a language
 * model, a --prime).  Returns 0 or an NK_E* code with the message
 * recorded; after a failure *ids and *n hold the sequences read before
 * it (still the caller's to free). */
#define NK_TOK_EOS 0xFFFFFFFFu  /* the reserved id, as an end-of-sequence mark */
#define NK_TOK_READ_EOS 1
int nk_tok_read_all(const char *path, uint32_t max_id, int flags,
		    uint32_t **ids, size_t *n);
/* The same over `size` bytes at `data`; `name` is used in messages. */
int nk_tok_read_all_mem(const void *data, size_t size, const char *name,
			uint32_t max_id, int flags, uint32_t **ids, size_t *n);

/* 1 for a binary stream, 0 for text. */
int nk_tokreader_is_binary(const nk_tokreader *r);
/* The name used in messages ("(stdin)" for "-"). */
const char *nk_tokreader_name(const nk_tokreader *r);
/* 1-based number of the sequence last returned (the line, for text). */
uint64_t nk_tokreader_seqno(const nk_tokreader *r);
/* Closes the source; returns 0, or NK_EIO when closing it failed. */
int nk_tokreader_close(nk_tokreader *r);

/* Writes a stream to `fp`, which stays the caller's (not closed).  A
 * binary writer emits its header at once. NULL only when out of memory. */
nk_tokwriter *nk_tokwriter_open(FILE *fp, int binary);
/* Formats one sequence as a line of the text form (ids, single spaces,
 * '\n') into dst, which holds at least 11 * n + 1 bytes; returns the bytes
 * written.  For producers that format in parallel and write in order.
 * Ids are not checked: 0xFFFFFFFF is written like any other. */
size_t nk_tok_format_line(char *dst, const uint32_t *ids, size_t n);
/* Formats sequences as binary records (u32le count, then the ids as
 * u32le) into dst, which holds 4 * (nseq + the sum of counts) bytes;
 * returns the bytes written.  Ids are not checked. */
size_t nk_tok_format_records(unsigned char *dst, const uint32_t *ids,
			     const uint32_t *counts, size_t nseq);

/* ---- formatting in parallel ----
 * A producer that encodes on several threads (tokenize -j) formats each
 * slice of sequences into a buffer of its own with the functions below,
 * and hands the buffers to the writer in order with nk_tokwriter_put_raw
 * (whole sequences) or nk_tokwriter_put_part (one long sequence in
 * parts).  The bytes and their CRC are made here, so the writer need not
 * look at them again. */

/* Checks sequences before they are formatted: `nseq` sequences of
 * counts[i] ids each, from `ids`.  Returns 0, or NK_ERANGE for a sequence
 * of more than NK_TOK_SEQ_MAX ids, an id of 0xFFFFFFFF (reserved) or, when
 * max_id is not 0, an id >= max_id. */
int nk_tok_check(const uint32_t *ids, const uint32_t *counts, size_t nseq,
		 uint32_t max_id);
/* The most bytes nk_tok_format writes for `nseq` sequences of `nids` ids
 * in all, and nk_tok_format_part for `nids` ids (nseq 0 or more). */
size_t nk_tok_format_bound(int binary, size_t nids, size_t nseq);
/* Formats `nseq` sequences (counts[i] ids each, from `ids`) as text lines
 * or as binary records into dst (nk_tok_format_bound bytes); returns the
 * bytes written and sets *crc to their zlib CRC-32 (0 for text, which has
 * none).  Ids are not checked: see nk_tok_check. */
size_t nk_tok_format(void *dst, int binary, const uint32_t *ids,
		     const uint32_t *counts, size_t nseq, uint32_t *crc);
/* Formats `n` ids as one part of a longer sequence: text, the ids with
 * single spaces between them and no newline; binary, the ids as u32le
 * with no count.  Returns the bytes written, *crc as nk_tok_format. */
size_t nk_tok_format_part(void *dst, int binary, const uint32_t *ids,
			  size_t n, uint32_t *crc);
/* Appends one part of a sequence too long to format at once (tokenize -z:
 * a whole input, encoded block by block), formatted by nk_tok_format_part
 * from `nids` ids, with its CRC.  Text parts are written at once, joined
 * by single spaces.  A binary record's count comes first, so binary parts
 * are copied into the writer's buffer until nk_tokwriter_end_seq, except
 * into a regular file not opened to append, where they are written at
 * once after a count of 0 that nk_tokwriter_end_seq writes over (and
 * nk_tokwriter_drop_seq cuts off again); the caller's buffer stays the
 * caller's.  An empty part (len 0) is left alone.
 * Returns 0, NK_EINVAL for a binary part that is not 4 * nids bytes, or
 * NK_EIO as nk_tokwriter_put. */
int nk_tokwriter_put_part(nk_tokwriter *w, const void *bytes, size_t len,
			  uint32_t crc, size_t nids);
/* Ends the sequence put in parts (an empty one when none was put): text,
 * the newline; binary, the record's count, then the parts, their
 * CRCs combined (crc32_combine) rather than computed again.  Returns 0,
 * NK_ERANGE when the sequence holds more than NK_TOK_SEQ_MAX ids (nothing
 * more is written and the sequence is dropped), or NK_EIO. */
int nk_tokwriter_end_seq(nk_tokwriter *w);
/* Drops an unfinished sequence (its producer failed): binary parts kept
 * are freed; text parts already written stay, without a newline.
 * nk_tokwriter_close and nk_tokwriter_abort drop one likewise. */
void nk_tokwriter_drop_seq(nk_tokwriter *w);

/* Appends bytes already in the stream's form, formatted by the caller
 * (in parallel, say) with nk_tok_format (or nk_tok_format_line,
 * nk_tok_format_records):
 * `nrec` whole sequences, or a share of one (a record's count and its
 * ids may come in separate calls), and for a binary stream `crc`, the
 * zlib CRC-32 of the bytes.  The caller has checked the ids. */
int nk_tokwriter_put_raw(nk_tokwriter *w, const void *bytes, size_t len,
			 uint32_t crc, uint64_t nrec);
/* Appends one sequence.  Returns 0, NK_ERANGE for an id of 0xFFFFFFFF or
 * more than NK_TOK_SEQ_MAX ids (nothing written), or NK_EIO when writing
 * failed (EPIPE, ENOSPC ...); after NK_EIO every call fails the same way. */
int nk_tokwriter_put(nk_tokwriter *w, const uint32_t *ids, size_t n);
/* Pushes buffered bytes to fp and fflush()es it (for interactive pipes). */
int nk_tokwriter_flush(nk_tokwriter *w);
/* Writes the end record (binary), flushes, frees.  Returns 0 or NK_EIO;
 * the writer is freed either way. */
int nk_tokwriter_close(nk_tokwriter *w);
/* Frees without writing the end record: a binary stream then reads as
 * truncated, which is right for a producer that failed half way. */
void nk_tokwriter_abort(nk_tokwriter *w);

#endif
