/* io.h - reading inputs (files, stdin, gzip) and writing outputs atomically.
 *
 * Every path may be "-" for stdin or stdout.  Inputs that start with the
 * gzip magic are decompressed transparently.  Outputs other than stdout go
 * to a temporary file in the destination's directory and are renamed into
 * place only on nk_output_commit(), so a failed run never leaves a partial
 * file where the previous one stood.
 */
#ifndef NK_IO_H
#define NK_IO_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* A whole input in memory.  A regular uncompressed file is mmap'd (so a
 * multi-GB input is never copied); stdin, pipes and gzip files are read
 * into one growing buffer. */
typedef struct nk_input {
	const unsigned char *data;
	size_t size;
	const char *name;   /* as given, "-" shown as "(stdin)" */
	void *owned;        /* heap buffer, or NULL */
	void *map;          /* mmap'd region, or NULL */
	size_t map_size;
} nk_input;

/* Caps the bytes nk_input_load() accepts after decompression (0: no cap),
 * so that a gzip bomb fails cleanly instead of exhausting memory. */
int nk_input_load(nk_input *in, const char *path, size_t max_bytes);
/* 1 when nk_input_load would map `path` rather than copy it: a regular,
 * uncompressed file.  Callers choose between loading and streaming by it. */
int nk_input_mappable(const char *path);
void nk_input_free(nk_input *in);
/* Tells the system that bytes [off, off + len) of a mapped input will not
 * be read again, so that the pages wholly inside drop out of the
 * process's memory (they are read back from the file if touched).  A
 * copied input is left alone. */
void nk_input_release(const nk_input *in, size_t off, size_t len);

/* A streaming reader: file or stdin, gzip or plain, read in chunks. */
typedef struct nk_reader nk_reader;
nk_reader *nk_reader_open(const char *path);
/* Returns bytes read, 0 at end of input, -1 on error (message recorded). */
ssize_t nk_reader_read(nk_reader *r, void *buf, size_t n);
/* Reads one line (without its '\n') into *line, growing *cap as needed;
 * returns the line length, -1 at end of input, -2 on error.  A final line
 * without '\n' is still returned.  *had_newline tells whether it ended in one. */
ssize_t nk_reader_getline(nk_reader *r, char **line, size_t *cap,
			  int *had_newline);
/* 1 when a read would return at once (bytes buffered, or the file
 * readable or at its end), 0 when it would wait for a writer. */
int nk_reader_pending(nk_reader *r);
const char *nk_reader_name(const nk_reader *r);
/* 1 when the underlying stream is gzip-compressed. */
int nk_reader_is_gzip(const nk_reader *r);
int nk_reader_close(nk_reader *r);

/* An output written atomically. */
typedef struct nk_output {
	FILE *fp;
	char *path;     /* final name, NULL for stdout */
	char *tmp_path; /* temporary name in the same directory */
} nk_output;

int nk_output_open(nk_output *out, const char *path);
/* Flushes, fsyncs and renames into place.  On failure the temporary file
 * is removed and the destination is left as it was. */
int nk_output_commit(nk_output *out);
/* Removes the temporary file (safe to call after a failed commit). */
void nk_output_abort(nk_output *out);

/* 1 when writing `out` would overwrite `in` (or two outputs would be
 * one file): both name one regular file (device and inode), or, where
 * either does not exist yet, they name one entry of one directory.  "-"
 * (stdin, stdout) and devices are never the same file: /dev/null twice
 * is fine. */
int nk_same_file(const char *a, const char *b);

/* 1 when `fp` is a terminal: binary output there is refused unless forced. */
int nk_is_terminal(FILE *fp);

#endif
