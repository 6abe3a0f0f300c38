/* test_utf8.c - well-formedness and repair against Python's
 * bytes.decode("utf-8", "replace") (its answers pinned below) and every
 * code point's encoding. */
#include <string.h>

#include "check.h"
#include "text/utf8.h"

/* The answers of Python 3.11's b.decode("utf-8", "replace").encode(). */
static const struct { const char *in, *out; } python_cases[] = {
	{"abc", "abc"},
	{"\xe0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},          /* overlong lead */
	{"\xf0\x90\x80", "\xef\xbf\xbd"},                   /* cut 4-byte */
	{"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
	{"\xc3\xa9", "\xc3\xa9"},
	{"\xff", "\xef\xbf\xbd"},
	{"\xc3", "\xef\xbf\xbd"},
	{"\xf4\x90\x80\x80",                                /* > U+10FFFF */
	 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	{"\xe2\x82\xacx", "\xe2\x82\xacx"},
	{"a\xf0\x9f\x98\x80" "b\xf0\x9f", "a\xf0\x9f\x98\x80" "b\xef\xbf\xbd"},
};

TEST(utf8_repair_as_python)
{
	for (size_t i = 0; i < sizeof python_cases / sizeof *python_cases; i++) {
		const char *in = python_cases[i].in;
		size_t len;
		char *out = nk_utf8_repair((const unsigned char *)in, strlen(in),
					   &len);
		CHECK_MSG(out && len == strlen(python_cases[i].out) &&
			  memcmp(out, python_cases[i].out, len) == 0,
			  "case %zu", i);
		free(out);
	}
}

static size_t encode(unsigned long cp, unsigned char *b)
{
	if (cp < 0x80)
		return b[0] = (unsigned char)cp, 1;
	if (cp < 0x800)
		return b[0] = 0xC0 | cp >> 6, b[1] = 0x80 | (cp & 63), 2;
	if (cp < 0x10000)
		return b[0] = 0xE0 | cp >> 12, b[1] = 0x80 | (cp >> 6 & 63),
		       b[2] = 0x80 | (cp & 63), 3;
	return b[0] = 0xF0 | cp >> 18, b[1] = 0x80 | (cp >> 12 & 63),
	       b[2] = 0x80 | (cp >> 6 & 63), b[3] = 0x80 | (cp & 63), 4;
}

TEST(utf8_every_code_point)
{
	/* Each scalar value's encoding is one well-formed sequence; a
	 * surrogate's is ill-formed; so is any encoding cut short. */
	int wrong = 0;
	for (unsigned long cp = 0; cp <= 0x10FFFF; cp++) {
		unsigned char b[4];
		size_t n = encode(cp, b), bad = 0;
		size_t k = nk_utf8_seq(b, n, &bad);
		int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
		if (surrogate ? k != 0 || bad != 1 : k != n)
			wrong++;
		if (n > 1 && !surrogate &&
		    (nk_utf8_seq(b, n - 1, &bad) != 0 || bad != n - 1))
			wrong++;
	}
	CHECK_MSG(wrong == 0, "%d code points misjudged", wrong);
}

TEST(utf8_repair_is_well_formed)
{
	/* Every string of up to three bytes from a set that covers each
	 * class of lead and continuation byte comes out well-formed. */
	static const unsigned char bytes[] = {0x00, 0x41, 0x7F, 0x80, 0x8F,
		0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF,
		0xF0, 0xF4, 0xF5, 0xFF};
	size_t nb = sizeof bytes, bad_out = 0;
	for (size_t a = 0; a < nb; a++)
		for (size_t b = 0; b < nb; b++)
			for (size_t c = 0; c < nb; c++) {
				unsigned char s[3] = {bytes[a], bytes[b], bytes[c]};
				size_t len, bad;
				char *r = nk_utf8_repair(s, 3, &len);
				for (size_t i = 0, k; r && i < len; i += k)
					if (!(k = nk_utf8_seq((unsigned char *)r + i,
							      len - i, &bad))) {
						bad_out++;
						break;
					}
				free(r);
			}
	CHECK_MSG(bad_out == 0, "%zu repaired strings ill-formed", bad_out);
}

int main(void)
{
	RUN(utf8_repair_as_python);
	RUN(utf8_every_code_point);
	RUN(utf8_repair_is_well_formed);
	return nk_test_exit();
}
