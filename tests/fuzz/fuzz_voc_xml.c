/* fuzz_voc_xml.c - the VOC annotation reader (formats/voc.c).
 *
 * Every input is parsed as one annotation, with and without a names list.
 * Invariants (a violation aborts):
 *   - a failure leaves a message that names the file ("f.xml:");
 *   - a success adds one image; every object has a class in range, a
 *     positive width and height, and area w * h;
 *   - every warning names the file and a line within the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "formats/voc.h"

#define REQUIRE(c)                                                            \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_voc_xml: %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

static void one(const uint8_t *data, size_t size, const char *const *names,
		int nnames, int lines)
{
	nk_detset s;
	memset(&s, 0, sizeof s);
	if (nk_voc_parse(&s, (const char *)data, size, "f.xml", "f", names,
			 nnames)) {
		REQUIRE(strncmp(nk_last_error(), "f.xml", 5) == 0);
		nk_detset_free(&s);
		return;
	}
	REQUIRE(s.nimages == 1);
	int K = names ? nnames : s.nclasses;
	for (size_t i = 0; i < s.nobjects; i++) {
		const nk_det_object *o = &s.objects[i];
		REQUIRE(o->image == 0 && o->cls >= 0 && o->cls < K);
		REQUIRE(o->w > 0 && o->h > 0);
	}
	for (int i = 0; i < s.nwarnings; i++) {
		const char *m = s.warnings[i].msg;
		REQUIRE(strncmp(m, "f.xml:", 6) == 0);
		int line = atoi(m + 6);
		REQUIRE(line >= 1 && line <= lines);
	}
	nk_detset_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "RBC", "WBC", "Platelets" };
	int lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	one(data, size, NULL, 0, lines);
	one(data, size, names, 3, lines);
	return 0;
}
