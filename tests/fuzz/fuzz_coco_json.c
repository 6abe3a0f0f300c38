/* fuzz_coco_json.c - COCO ground truth and results (formats/coco.c) and
 * the evaluation over what they read (vision/det_eval.c).
 *
 * Every input is parsed as ground truth; when that succeeds, the same
 * bytes' annotations are made results of it and both metrics run.  Every
 * input is also parsed as results against a fixed ground truth.
 * Invariants (a violation aborts):
 *   - a failure leaves a message that names the file;
 *   - objects index images and classes in range; classes ascend by id;
 *   - COCO's stats and VOC's APs are -1 or within [0, 1] (NaN allowed
 *     only where voc_eval itself gives NaN: not here, checked below).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "formats/coco.h"
#include "vision/det_eval.h"

#define REQUIRE(c)                                                            \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_coco_json: %s:%d: %s\n",         \
				__FILE__, __LINE__, #c);                      \
			abort();                                              \
		}                                                             \
	} while (0)

static const char fixed_gt[] =
	"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}, {\"id\": 2,"
	" \"file_name\": \"b.jpg\"}], \"annotations\": [{\"id\": 1,"
	" \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10]}],"
	" \"categories\": [{\"id\": 1, \"name\": \"x\"}, {\"id\": 2,"
	" \"name\": \"y\"}]}";

static void check_set(const nk_detset *gt, const nk_detset *s)
{
	for (size_t i = 0; i < s->nobjects; i++) {
		REQUIRE(s->objects[i].image >= 0 &&
			s->objects[i].image < gt->nimages);
		REQUIRE(s->objects[i].cls >= 0 &&
			s->objects[i].cls < gt->nclasses);
	}
}

static void evaluate(const nk_detset *gt, const nk_detset *pred)
{
	nk_coco_eval e;
	if (nk_coco_evaluate(&e, gt, pred) == 0) {
		for (int i = 0; i < 12; i++)
			REQUIRE(e.stats[i] == -1 ||
				(e.stats[i] >= 0 && e.stats[i] <= 1 + 1e-9));
		nk_coco_eval_free(&e);
	}
	double *ap = calloc((size_t)gt->nclasses + 1, sizeof *ap), map;
	if (ap && nk_voc_evaluate(ap, &map, gt, pred, .5, 0) == 0)
		for (int k = 0; k < gt->nclasses; k++)
			REQUIRE(ap[k] == -1 || isnan(ap[k]) ||
				(ap[k] >= 0 && ap[k] <= 1 + 1e-9));
	free(ap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nk_detset gt, pred;
	if (nk_coco_parse(&gt, (const char *)data, size, "g.json") == 0) {
		check_set(&gt, &gt);
		for (int k = 1; k < gt.nclasses; k++)
			REQUIRE(gt.class_ids[k - 1] < gt.class_ids[k]);
		/* the ground truth as its own predictions, scored by id */
		pred = gt;
		pred.objects = malloc((gt.nobjects + 1) * sizeof *pred.objects);
		if (pred.objects) {
			if (gt.nobjects)
				memcpy(pred.objects, gt.objects,
				       gt.nobjects * sizeof *pred.objects);
			for (size_t i = 0; i < gt.nobjects; i++)
				pred.objects[i].score = (float)(i % 7) / 7;
			evaluate(&gt, &pred);
			free(pred.objects);
		}
		nk_detset_free(&gt);
	} else {
		REQUIRE(strncmp(nk_last_error(), "g.json", 6) == 0);
	}
	if (nk_coco_parse(&gt, fixed_gt, sizeof fixed_gt - 1, "gt.json"))
		abort();
	if (nk_coco_results_parse(&pred, &gt, (const char *)data, size,
				  "r.json") == 0) {
		check_set(&gt, &pred);
		REQUIRE(pred.nimages == 0);
		evaluate(&gt, &pred);
		nk_detset_free(&pred);
	} else {
		REQUIRE(strncmp(nk_last_error(), "r.json", 6) == 0);
	}
	nk_detset_free(&gt);
	return 0;
}
