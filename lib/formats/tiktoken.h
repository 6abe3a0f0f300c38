/* tiktoken.h - base64 and tiktoken's rank file (.tiktoken).
 *
 * A rank file has one token a line: its bytes in base64, a space, its
 * rank in decimal; ranks run 0..n-1 without gaps, in any line order.
 * The parser only reads the format: what the tokens mean (a rank table,
 * merges) is text/bpe's business.
 */
#ifndef NK_TIKTOKEN_H
#define NK_TIKTOKEN_H

#include <stddef.h>
#include <stdint.h>

#define NK_TIKTOKEN_TOKEN_MAX 65535u /* longest token accepted from a file */

/* One more than each base64 digit's value, NK_B64_PAD + 1 for '=', 0 for
 * any other byte: less one (as unsigned), >= 64 means "not a digit". */
#define NK_B64_PAD 64
extern const unsigned char nk_b64_digit1[256];
/* Base64 (standard alphabet, '=' padding): decode returns the length or
 * -1 when src is not canonical base64; dst needs n / 4 * 3 bytes. */
long nk_b64_decode(unsigned char *dst, const char *src, size_t n);
/* Encodes into dst (4 * ((n + 2) / 3) bytes, no NUL); returns the length. */
size_t nk_b64_encode(char *dst, const unsigned char *src, size_t n);

/* A parsed rank file: token r is tok[r] (len[r] bytes, inside `bytes`),
 * read from line line[r]. */
typedef struct nk_tiktoken {
	const unsigned char **tok;
	uint32_t *len;
	uint32_t *line;
	unsigned char *bytes;
	uint32_t n;
} nk_tiktoken;

/* Parses data[0..n); errors (NK_EFORMAT, NK_ERANGE, NK_ENOMEM) name
 * `name`, the line and, where it helps, the column. */
int nk_tiktoken_parse(nk_tiktoken *t, const unsigned char *data, size_t n,
		      const char *name);
void nk_tiktoken_free(nk_tiktoken *t);

#endif
