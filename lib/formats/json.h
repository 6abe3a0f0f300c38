/* json.h - a small JSON reader, enough for tiktoken side files and
 * GPT-2's encoder.json: objects, arrays, strings, numbers, literals.
 *
 * A reader walks the bytes in place; objects are visited through a
 * callback per member, so a caller keeps only what it wants.  Errors are
 * NK_EFORMAT with "name:line:col: what".
 */
#ifndef NK_JSON_H
#define NK_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct nk_json {
	const unsigned char *p, *end, *start;
	const char *name; /* for messages */
} nk_json;

/* Records "name:line:col: what" at the current position; NK_EFORMAT. */
int nk_json_fail(nk_json *j, const char *what);
/* Skips white space. */
void nk_json_ws(nk_json *j);
/* A string, unescaped into a new NUL-terminated buffer (*out, *len). */
int nk_json_string(nk_json *j, char **out, size_t *len);
/* A non-negative integer that fits 32 bits. */
int nk_json_uint(nk_json *j, uint32_t *v);
/* A number (strtod's reading of JSON's number characters). */
int nk_json_number(nk_json *j, double *v);
/* Skips one value of any kind (depth: how deep it already is). */
int nk_json_skip(nk_json *j, int depth);

/* Iterates an object: calls fn(ctx, j, key, keylen) positioned at each
 * value, which the callback must consume. */
typedef int (*nk_json_member_fn)(void *ctx, nk_json *j, const char *key,
				 size_t klen);
int nk_json_object(nk_json *j, nk_json_member_fn fn, void *ctx);

/* Iterates an array: calls fn(ctx, j) positioned at each element, which
 * the callback must consume. */
typedef int (*nk_json_elem_fn)(void *ctx, nk_json *j);
int nk_json_array(nk_json *j, nk_json_elem_fn fn, void *ctx);

/* Writes s[0..n) as a JSON string, quotes included. */
void nk_json_put_string(FILE *fp, const char *s, size_t n);

#endif
