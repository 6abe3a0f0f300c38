/* fuzz_utf8.c - the UTF-8 repair on arbitrary bytes.
 *
 * Invariants, any violation aborts:
 *   - the repaired text is well-formed UTF-8 and its length is reported;
 *   - well-formed input comes back unchanged;
 *   - repair is idempotent, and each U+FFFD stands for 1-3 input bytes
 *     (the output is at most three times the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/utf8.h"

static int well_formed(const unsigned char *s, size_t n)
{
	for (size_t i = 0, k, bad; i < n; i += k)
		if (!(k = nk_utf8_seq(s + i, n - i, &bad)))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, len2;
	char *r = nk_utf8_repair(data, size, &len);
	if (!r)
		return 0;
	if (!well_formed((unsigned char *)r, len) || len > 3 * size)
		abort();
	if (well_formed(data, size) && (len != size || memcmp(r, data, size)))
		abort();
	char *r2 = nk_utf8_repair((unsigned char *)r, len, &len2);
	if (r2 && (len2 != len || memcmp(r, r2, len)))
		abort();
	free(r2);
	free(r);
	return 0;
}
