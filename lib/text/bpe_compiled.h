/* bpe_compiled.h - a vocabulary's ready tables in one file, mapped and
 * used in place (nnkit-bpe(5)).
 *
 * Loading a .tiktoken rank file decodes 100,000-200,000 base64 lines and
 * hashes every token into the rank table: a fixed 8-10 ms on every run
 * of tokenize, as long as encoding a megabyte.  A compiled vocabulary
 * holds the rank table, the pair and byte tables, the pool and offsets
 * as the encoder reads them, with the pattern and special tokens they
 * were made for; opening one is an mmap and a few checked passes over
 * it, with no per-token work.
 */
#ifndef NK_BPE_COMPILED_H
#define NK_BPE_COMPILED_H

#include "text/bpe.h"

#include <stddef.h>
#include <stdio.h>

#define NK_BPE_COMPILED_MAGIC "NKBV"
#define NK_BPE_COMPILED_VERSION 2

/* 1 when the n bytes at p (the start of a file; 4 are enough) begin
 * with the compiled vocabulary's magic. */
int nk_bpe_is_compiled(const unsigned char *p, size_t n);
/* 1 when the file at path is a compiled vocabulary, 0 when it is not or
 * cannot be read (opening it then says why). */
int nk_bpe_path_is_compiled(const char *path);

/* Writes b (finished) as a compiled vocabulary. */
int nk_bpe_write_compiled(const nk_bpe *b, FILE *fp);

/* Maps the compiled vocabulary at path and checks it; *out uses the
 * mapping in place until nk_bpe_free.  The header and the small tables
 * are checked in full; the pool and the rank table, which make most of
 * the file, are summed and checked slot by slot only when `full` (an
 * encoder is safe on them unchecked: see bpe_compiled.c).  Errors name
 * path and what is wrong: NK_EFORMAT, NK_ECHECKSUM, NK_EVERSION
 * (another format version, or tables laid out by another build: compile
 * again), NK_EIO. */
int nk_bpe_open_compiled(nk_bpe **out, const char *path, int full);
/* The same over data[0..n), which must stay valid and unchanged until
 * nk_bpe_free(*out) (and be 8-byte aligned; a mapping is). */
int nk_bpe_load_compiled(nk_bpe **out, const unsigned char *data, size_t n,
			 const char *name, int full);

/* Recomputes the section checksums and the header CRC of a compiled
 * vocabulary in memory, for tests and fuzzing that alter one and want
 * the structural checks, not the checksums, to answer. */
int nk_bpe_compiled_seal(unsigned char *data, size_t n);

#endif
