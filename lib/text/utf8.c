/* utf8.c - the well-formedness of UTF-8 (Unicode's table 3-7) and its
 * repair with U+FFFD. */
#include "core/base.h"
#include "text/utf8.h"

#include <string.h>

size_t nk_utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c == 0xE0)
		need = 2, lo = 0xA0;            /* no overlong forms */
	else if (c == 0xED)
		need = 2, hi = 0x9F;            /* no surrogates */
	else if (c >= 0xE1 && c <= 0xEF)
		need = 2;
	else if (c == 0xF0)
		need = 3, lo = 0x90;
	else if (c == 0xF4)
		need = 3, hi = 0x8F;            /* nothing above U+10FFFF */
	else if (c >= 0xF1 && c <= 0xF3)
		need = 3;
	else {
		*bad = 1;                       /* 80-C1, F5-FF: never lead */
		return 0;
	}
	/* Only the second byte has a narrowed range; the bytes that fit
	 * before the first misfit form the maximal subpart. */
	for (size_t i = 1; i <= need; i++, lo = 0x80, hi = 0xBF)
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
	return need + 1;
}

char *nk_utf8_repair(const unsigned char *s, size_t n, size_t *len)
{
	/* A replaced byte grows to at most three. */
	char *out = nk_malloc(3 * n + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t bad, k = nk_utf8_seq(s + i, n - i, &bad);
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i += bad;
		}
	}
	out[o] = 0;
	if (len)
		*len = o;
	return out;
}
