/* wfile.h - the weight-file container that every nnkit model is stored in.
 *
 * One file holds typed metadata (program, model kind, hyperparameters) and
 * a table of named tensors whose data follow, each at a 64-byte-aligned
 * offset.  Byte order is little-endian; CRC32 guards the header and the
 * whole file; the data may be zlib-compressed.  The layout, byte by byte,
 * is in nnkit-wfile(5); scripts/nkw.py reads and writes it from Python.
 *
 * Writing (data borrowed, not copied, until nk_wfile_write):
 *
 *	nk_wfile *w = nk_wfile_create();
 *	nk_wfile_set_str(w, "program", "rnn-train");
 *	nk_wfile_set_int(w, "hidden", H);
 *	nk_wfile_add(w, "lstm.0.w", NK_F32, 2, (int64_t[]){4 * H, C + H}, w0);
 *	if (nk_wfile_write(w, "model.nkw", 0))
 *		... nk_last_error() says what failed ...
 *	nk_wfile_free(w);
 *
 * Reading (every byte validated before use; tensor data are 64-byte
 * aligned and, for an uncompressed file, point into the mapped file):
 *
 *	nk_wfile *r = nk_wfile_read("model.nkw");
 *	int64_t H;
 *	if (!r || nk_wfile_get_int(r, "hidden", &H))
 *		... error ...
 *	const nk_wtensor *t = nk_wfile_expect(r, "lstm.0.w", NK_F32, 2,
 *					      (int64_t[]){4 * H, -1});
 *	const float *w0 = t ? t->data : NULL;
 *
 * A read file may be changed (metadata set, tensors added) and written
 * again; its tensors stay valid until nk_wfile_free.  Messages name the
 * file: "model.nkw: CRC mismatch (file damaged)".
 */
#ifndef NK_WFILE_H
#define NK_WFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/tensor.h" /* enum nk_dtype: its codes are the file's dtype codes */

#define NK_WFILE_MAGIC "NKWF" /* the first 4 bytes of every weight file */
#define NK_WFILE_VERSION 1    /* the newest format version this reads */
#define NK_WFILE_ALIGN 64     /* header size and tensor offsets */
#define NK_WFILE_MAX_DIMS 8
#define NK_WFILE_NAME_MAX 255 /* bytes in a tensor name or metadata key */

/* nk_wfile_write flags. */
#define NK_WFILE_COMPRESS 0x1u
/* nk_wfile_read_mem_flags flags.  NO_CRC skips both checksum checks so
 * that a fuzzer's mutations reach the structural checks behind them; it is
 * for tests only: every other check still runs. */
#define NK_WFILE_NO_CRC 0x100u

/* Metadata value types (their codes are the file's type bytes). */
enum nk_wmeta_type {
	NK_WMETA_INT = 0,    /* int64 */
	NK_WMETA_FLOAT = 1,  /* float64 */
	NK_WMETA_STR = 2,    /* bytes, no NUL */
	NK_WMETA_INTS = 3,   /* array of int64 */
	NK_WMETA_FLOATS = 4, /* array of float64 */
	NK_WMETA_TYPE_COUNT
};

typedef struct nk_wmeta {
	const char *key;
	int type;     /* enum nk_wmeta_type */
	size_t count; /* array elements; string bytes; 1 for a scalar */
	union {
		int64_t i;
		double f;
		const char *s;
		const int64_t *ints;
		const double *floats;
	} v;
} nk_wmeta;

typedef struct nk_wtensor {
	const char *name;
	int dtype;                     /* enum nk_dtype */
	int ndim;                      /* 0..8; 0 is a scalar */
	int64_t ne[NK_WFILE_MAX_DIMS]; /* shape, outermost first */
	size_t nelem;
	size_t nbytes;
	const void *data;              /* 64-byte aligned once read */
} nk_wtensor;

typedef struct nk_wfile nk_wfile;

/* A stored tensor as the one compute view (core/tensor.h): contiguous,
 * over the file's memory (valid while the file is open; read-only in
 * spirit, as the data are the file's).  nk_wtensor stays a record of what
 * the file says (name, checked sizes); computing goes through nk_tensor. */
int nk_wtensor_view(const nk_wtensor *w, nk_tensor *t);

/* "f32", "i32", ... as the file format names them; NULL if unknown. */
const char *nk_wfile_dtype_name(int dtype);
/* "int", "float", "str", "ints", "floats"; NULL if unknown. */
const char *nk_wfile_meta_type_name(int type);

/* ---- writing ---------------------------------------------------------- */

nk_wfile *nk_wfile_create(void);

/* Setting a key that exists replaces its value.  Values are copied. */
int nk_wfile_set_str(nk_wfile *w, const char *key, const char *s);
int nk_wfile_set_int(nk_wfile *w, const char *key, int64_t v);
int nk_wfile_set_float(nk_wfile *w, const char *key, double v);
int nk_wfile_set_ints(nk_wfile *w, const char *key, const int64_t *v,
		      size_t n);
int nk_wfile_set_floats(nk_wfile *w, const char *key, const double *v,
			size_t n);

/* Appends a tensor.  `data` (nelem * dtype size bytes, contiguous,
 * outermost dimension first) is borrowed until the file is written; it
 * may be NULL only when the tensor has no elements.  Names are unique. */
int nk_wfile_add(nk_wfile *w, const char *name, int dtype, int ndim,
		 const int64_t *shape, const void *data);

/* Writes atomically: a temporary file in the same directory, fsync,
 * rename.  On failure the previous file at `path` is untouched and no
 * temporary is left.  "-" writes to standard output.  flags:
 * NK_WFILE_COMPRESS (zlib; the compressed data are held in memory). */
int nk_wfile_write(nk_wfile *w, const char *path, unsigned flags);
/* Writes to an open stream, with no atomicity; `name` is for messages.
 * The caller flushes and checks the stream. */
int nk_wfile_write_fp(nk_wfile *w, FILE *fp, const char *name,
		      unsigned flags);

/* ---- reading ---------------------------------------------------------- */

/* Reads and validates a whole file ("-" for stdin; a gzip'd file is
 * decompressed transparently).  NULL on failure, with a message. */
nk_wfile *nk_wfile_read(const char *path);
/* The same, refusing a file of more than max_bytes (0: no limit) with a
 * message naming it and the limit: a model's loader knows how large its
 * files can be, and a stream (/dev/zero) must not be read for ever. */
nk_wfile *nk_wfile_read_max(const char *path, size_t max_bytes);
/* The same over bytes in memory, which must outlive the result (tensor
 * data may point into them).  `name` is used in messages. */
nk_wfile *nk_wfile_read_mem(const void *buf, size_t size, const char *name);
nk_wfile *nk_wfile_read_mem_flags(const void *buf, size_t size,
				  const char *name, unsigned flags);

/* The name used in messages: the path it was read from ("(stdin)" for
 * "-"), the name given to read_mem, or "(unsaved weights)". */
const char *nk_wfile_name(const nk_wfile *w);

/* Lookups: NK_ENOTFOUND for a missing key, NK_EFORMAT for the wrong type
 * ("model.nkw: metadata 'lr' is a str, expected float").  get_float also
 * accepts an int value.  Pointers stay valid until the key is set again
 * or the file is freed. */
int nk_wfile_get_str(const nk_wfile *w, const char *key, const char **s);
int nk_wfile_get_int(const nk_wfile *w, const char *key, int64_t *v);
int nk_wfile_get_float(const nk_wfile *w, const char *key, double *v);
int nk_wfile_get_ints(const nk_wfile *w, const char *key,
		      const int64_t **v, size_t *n);
int nk_wfile_get_floats(const nk_wfile *w, const char *key,
			const double **v, size_t *n);
/* NULL when absent (no error recorded): for optional keys. */
const nk_wmeta *nk_wfile_meta(const nk_wfile *w, const char *key);

/* NULL and NK_ENOTFOUND ("model.nkw: no tensor 'x'") when absent. */
const nk_wtensor *nk_wfile_tensor(const nk_wfile *w, const char *name);
/* The tensor if it has this dtype and shape, else NULL with a message
 * ("model.nkw: tensor 'lstm.0.w' has shape (256,128), expected
 * (256,512)").  A shape entry of -1 matches any size; `shape` may be
 * NULL when ndim is 0. */
const nk_wtensor *nk_wfile_expect(const nk_wfile *w, const char *name,
				  int dtype, int ndim, const int64_t *shape);

/* A model's file schema version, the int metadata "schema" that a
 * program writes beside "program" and "kind" (NK_WFILE_SCHEMA_KEY).  A
 * file without the key predates versioned schemas and counts as version
 * 1.  Outside oldest..newest, NK_EVERSION with a message that names WHAT
 * and says what to do: "bands.nkw: pyramid schema 3 is newer than this
 * nnkit reads (1); upgrade nnkit".  *version (may be NULL) gets the
 * version found. */
#define NK_WFILE_SCHEMA_KEY "schema"
int nk_wfile_check_schema(const nk_wfile *w, const char *what,
			  int64_t oldest, int64_t newest, int64_t *version);

/* A model file's writer (wfile_check.c): NK_EFORMAT unless its "program"
 * metadata is PROGRAM, with "NAME: not AN PROGRAM model (no 'program'
 * metadata)" (article "a" or "an") or "NAME: a model written by OTHER, not
 * by PROGRAM". */
int nk_wfile_check_program(const nk_wfile *w, const char *article,
			   const char *program);

/* The elements of w's F32 tensors: the parameters it holds. */
uint64_t nk_wfile_n_floats(const nk_wfile *w);

/* Before allocating for sizes read from w's metadata (a damaged or
 * hostile header must not make a loader allocate gigabytes): NK_EFORMAT,
 * "NAME: the metadata describe WANT parameters, the file holds HAVE", when
 * w holds fewer than want. */
int nk_wfile_check_floats(const nk_wfile *w, uint64_t want);

/* Iteration, in file order. */
size_t nk_wfile_n_meta(const nk_wfile *w);
const nk_wmeta *nk_wfile_meta_at(const nk_wfile *w, size_t i);
size_t nk_wfile_n_tensors(const nk_wfile *w);
const nk_wtensor *nk_wfile_tensor_at(const nk_wfile *w, size_t i);

void nk_wfile_free(nk_wfile *w);

#endif
