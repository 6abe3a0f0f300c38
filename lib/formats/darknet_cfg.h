/* darknet_cfg.h - darknet's network description files (.cfg).
 *
 * A cfg is sections `[type]` holding `key=value` lines; `#` and `;` start
 * comment lines; blank lines and CRLF endings are fine.  As darknet's
 * read_cfg does, every space and tab in a line is removed before it is
 * read ("hue = .1" is "hue=.1").  The first value of a repeated key wins
 * (darknet's option_find); the later ones are reported as unused.
 *
 * Sections are numbered from 0 in file order; darknet numbers layers from
 * the section after [net], so section s is layer s - 1.  Every message
 * names FILE:LINE (the key's line, or the section's when the key is
 * missing) and the layer: "yolov3.cfg:27: layer 3 [convolutional]:
 * 'size' is not an integer: '3x'".
 *
 * Getters mark the key as used, so that after a network is built
 * nk_dncfg_unused lists the keys nobody asked for (darknet prints those
 * as "Unused field"); a caller may show them as warnings.
 */
#ifndef NK_FORMATS_DARKNET_CFG_H
#define NK_FORMATS_DARKNET_CFG_H

#include <stddef.h>

#define NK_DNCFG_MAX_BYTES (64u << 20) /* a cfg larger than this is refused */
#define NK_DNCFG_MAX_LIST 4096         /* entries in one list value */

typedef struct {
	char *key, *val;
	int line;
	int used;
} nk_dncfg_kv;

typedef struct {
	char *type; /* "convolutional", without the brackets */
	int line;
	nk_dncfg_kv *kv;
	int nkv;
	size_t cap;
} nk_dncfg_section;

typedef struct {
	char *name;  /* the file name, for messages */
	char *text;  /* the text as read, NUL-terminated (for nk_darknet_save_nkw) */
	size_t size; /* its length */
	nk_dncfg_section *sec;
	int nsec;
	size_t cap;
} nk_dncfg;

/* Parses `size` bytes (copied).  NK_EFORMAT with FILE:LINE on a line that
 * is neither a section, a comment nor key=value, on a key before the first
 * section, an empty key or section name; unknown section TYPES are the
 * network's business, not the parser's. */
int nk_dncfg_parse(nk_dncfg *c, const char *text, size_t size,
		   const char *name);
/* Reads a file ("-" for stdin, gzip transparently) and parses it. */
int nk_dncfg_load(nk_dncfg *c, const char *path);
void nk_dncfg_free(nk_dncfg *c);

/* The key's entry in section s (marked used), or NULL. */
nk_dncfg_kv *nk_dncfg_find(nk_dncfg *c, int s, const char *key);

/* Getters: the default when the key is absent; NK_EFORMAT naming FILE:LINE
 * and the layer when the value is malformed (trailing bytes, overflow, an
 * empty list item).  Integers are decimal with an optional sign. */
int nk_dncfg_int(nk_dncfg *c, int s, const char *key, int def, int *out);
int nk_dncfg_float(nk_dncfg *c, int s, const char *key, float def,
		   float *out);
/* The value, or `def` when absent (the pointer lives as long as c). */
const char *nk_dncfg_str(nk_dncfg *c, int s, const char *key,
			 const char *def);
/* Comma-separated lists; *out is allocated (free it), NULL with *n = 0
 * when the key is absent.  An empty item ("1,,2", "1,") is an error:
 * darknet would read it as 0, silently. */
int nk_dncfg_ints(nk_dncfg *c, int s, const char *key, int **out, int *n);
int nk_dncfg_floats(nk_dncfg *c, int s, const char *key, float **out,
		    int *n);

/* Records "FILE:LINE: layer L [type]: message" (LINE of `key` when given
 * and present, else of the section) and returns `code`. */
int nk_dncfg_error(const nk_dncfg *c, int s, const char *key, int code,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The keys never read, as "FILE:LINE: layer L [type]: unused key 'k'"
 * lines; *n of them in *lines, each and the array freed by
 * nk_dncfg_lines_free. */
int nk_dncfg_unused(const nk_dncfg *c, char ***lines, size_t *n);
void nk_dncfg_lines_free(char **lines, size_t n);

#endif
