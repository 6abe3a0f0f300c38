/* fuzz_yolo_labels.c - the YOLO label parser (vision/yolo_labels.c).
 *
 * Every input is parsed as one image's label file.  Invariants (a
 * violation aborts):
 *   - a failure leaves a message naming the file ("f.txt:");
 *   - a success adds objects of that image only, each with a class in
 *     range, a positive finite width and height, and area w * h;
 *   - every warning names the file.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "vision/yolo_labels.h"

#define REQUIRE(c)                                                            \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_yolo_labels: %s:%d: %s\n",      \
				__FILE__, __LINE__, #c);                      \
			abort();                                              \
		}                                                             \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nk_detset s;
	memset(&s, 0, sizeof s);
	static const char *names[] = {"a", "b", "c"};
	int at;
	REQUIRE(nk_detset_add_image(&s, "f.png", "f", 1, 64, 48, &at) == 0);
	s.names = calloc(3, sizeof *s.names);
	REQUIRE(s.names);
	for (int k = 0; k < 3; k++)
		REQUIRE((s.names[k] = strdup(names[k])));
	s.nclasses = 3;
	if (nk_yolo_parse_labels(&s, (const char *)data, size, "f.txt", at, 64,
				 48)) {
		REQUIRE(strncmp(nk_last_error(), "f.txt", 5) == 0);
	} else {
		for (size_t i = 0; i < s.nobjects; i++) {
			const nk_det_object *o = &s.objects[i];
			REQUIRE(o->image == at && o->cls >= 0 && o->cls < 3);
			REQUIRE(o->w > 0 && o->h > 0 && isfinite(o->w) &&
				isfinite(o->h) && isfinite(o->x) && isfinite(o->y));
			REQUIRE(o->area == o->w * o->h);
		}
	}
	for (int i = 0; i < s.nwarnings; i++)
		REQUIRE(strncmp(s.warnings[i].msg, "f.txt:", 6) == 0);
	nk_detset_free(&s);
	return 0;
}
