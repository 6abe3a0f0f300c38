/* test_det_eval.c - the COCO and VOC metrics on hand-worked cases.
 *
 * pycocotools and py-faster-rcnn are not installable here, so each case
 * below works their rules out by hand in its comment (P precision, r
 * recall, "env" the monotone envelope).  COCO's AP is the mean over 101
 * recall points r = 0, .01, ..., 1 of the envelope at the first
 * prediction whose recall reaches r (0 when none does).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/base.h"
#include "vision/det_eval.h"

/* A set with `ni` images (ids given) and `nc` classes (ids given). */
static void set_init(nk_detset *s, int ni, const int64_t *img_ids, int nc,
		     const int64_t *cls_ids)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < ni; i++) {
		char name[32];
		snprintf(name, sizeof name, "im%lld", (long long)img_ids[i]);
		nk_detset_add_image(s, name, name, img_ids[i], 640, 480, NULL);
	}
	s->nclasses = nc;
	s->names = calloc((size_t)nc, sizeof *s->names);
	s->class_ids = calloc((size_t)nc, sizeof *s->class_ids);
	for (int c = 0; c < nc; c++) {
		char name[32];
		snprintf(name, sizeof name, "c%d", c);
		s->names[c] = strdup(name);
		s->class_ids[c] = cls_ids[c];
	}
}

/* Adds a box; area < 0 means w * h.  Ids count from 1 as COCO's do. */
static void add(nk_detset *s, int image, int cls, float x, float y, float w,
		float h, float score, float area, int crowd, int difficult)
{
	nk_det_object o = {
		.image = image, .cls = cls, .x = x, .y = y, .w = w, .h = h,
		.score = score, .area = area < 0 ? w * h : area,
		.id = (int64_t)s->nobjects + 1, .crowd = (unsigned char)crowd,
		.difficult = (unsigned char)difficult,
	};
	nk_detset_add_object(s, &o);
}

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

#define CHECK_STATS(e, want)                                                  \
	for (int i_ = 0; i_ < 12; i_++)                                       \
	CHECK_MSG(near((e).stats[i_], (want)[i_]), "stats[%d] = %.9f, want "   \
		  "%.9f", i_, (e).stats[i_], (want)[i_])

/* Ties in score and the maxDets cut.  One class; images 1, 2, 3.
 *   image 1: gt g1 (0,0,10,10); d1 on it, score .9
 *   image 2: gt g2 (0,0,10,10); d2 elsewhere .9 (tie with d1); d3 on g2 .8
 *   image 3: no gt; d5 .85
 * COCOeval concatenates the images' predictions in image order and sorts
 * them stably: d1, d2 (the tie keeps image order), d5, d3.
 *   TP 1 1 1 2, FP 0 1 2 2, r .5 .5 .5 1, P 1 .5 .33 .5, env 1 .5 .5 .5
 *   points 0...50 (51 of them; 50 * .01 is .5 exactly) -> 1,
 *   points .51...1 (50) -> .5: AP = (51 + 25) / 101 = .752475...
 * (d2 before d1 would give env .5 everywhere: AP .5.)  Every IoU is 1, so
 * AP .5 and .75 are the same; both gt are small (area 100): medium and
 * large have no gt, -1.  AR maxDets 1 keeps d1, d2, d5: recall .5. */
TEST(coco_ties_maxdets)
{
	nk_detset gt, dt;
	int64_t im[] = { 1, 2, 3 }, cl[] = { 1 };
	set_init(&gt, 3, im, 1, cl);
	set_init(&dt, 0, im, 0, cl);
	add(&gt, 0, 0, 0, 0, 10, 10, 1, -1, 0, 0);
	add(&gt, 1, 0, 0, 0, 10, 10, 1, -1, 0, 0);
	add(&dt, 0, 0, 0, 0, 10, 10, .9f, -1, 0, 0);
	add(&dt, 1, 0, 50, 50, 10, 10, .9f, -1, 0, 0);
	add(&dt, 1, 0, 0, 0, 10, 10, .8f, -1, 0, 0);
	add(&dt, 2, 0, 0, 0, 10, 10, .85f, -1, 0, 0);
	nk_coco_eval e;
	CHECK(nk_coco_evaluate(&e, &gt, &dt) == 0);
	double ap = 76.0 / 101;
	double want[12] = { ap, ap, ap, ap, -1, -1, .5, 1, 1, 1, -1, -1 };
	CHECK_STATS(e, want);
	CHECK(near(e.class_ap[0], ap) && near(e.class_ap50[0], ap));
	nk_coco_eval_free(&e);
	nk_detset_free(&gt);
	nk_detset_free(&dt);
}

/* A crowd region.  One image: gt g (0,0,10,10) and crowd c (20,0,20,20).
 *   d2 (20,0,10,10) .95 and d3 (30,10,10,10) .92 lie inside c: IoU with a
 *     crowd region is intersection / prediction area = 1, and a crowd
 *     region matches any number: both ignored (with IoU as a union they
 *     would be .25: two false positives ahead of the TP, AP 1/3)
 *   d1 (0,0,10,10) .9 -> g: TP
 *   d4 far away .6: FP
 * Counted: TP 1 then FP 1: r 1 1, P 1 .5: AP 1, AR 1 -- but AR with
 * maxDets 1 keeps only d2, ignored: 0.  c (area 400) is ignored in every
 * range; g (area 100) is small. */
TEST(coco_crowd)
{
	nk_detset gt, dt;
	int64_t im[] = { 7 }, cl[] = { 1 };
	set_init(&gt, 1, im, 1, cl);
	set_init(&dt, 0, im, 0, cl);
	add(&gt, 0, 0, 0, 0, 10, 10, 1, -1, 0, 0);
	add(&gt, 0, 0, 20, 0, 20, 20, 1, -1, 1, 0);
	add(&dt, 0, 0, 0, 0, 10, 10, .9f, -1, 0, 0);
	add(&dt, 0, 0, 20, 0, 10, 10, .95f, -1, 0, 0);
	add(&dt, 0, 0, 30, 10, 10, 10, .92f, -1, 0, 0);
	add(&dt, 0, 0, 100, 100, 10, 10, .6f, -1, 0, 0);
	nk_coco_eval e;
	CHECK(nk_coco_evaluate(&e, &gt, &dt) == 0);
	double want[12] = { 1, 1, 1, 1, -1, -1, 0, 1, 1, 1, -1, -1 };
	CHECK_STATS(e, want);
	nk_coco_eval_free(&e);
	nk_detset_free(&gt);
	nk_detset_free(&dt);
}

/* Area ranges.  One image:
 *   gt g (0,0,32,32), area 1024: both small and medium (bounds inclusive)
 *   gt h (100,0,20,20) with COCO area 5000 (the segment's, not w*h = 400):
 *     medium only
 *   e (200,200,100,100) .95, area 10000 (large), matches nothing
 *   d (0,0,32,32) .9 -> g
 * all:    FP e then TP d: r 0 .5, P 0 .5, env .5 .5: 51 points * .5 / 101
 * small:  h ignored; e unmatched outside the range, ignored: AP 1, AR 1
 * medium: g and h count, e ignored: d gives r .5 at P 1: AP 51/101, AR .5
 * large:  both gt ignored: -1.
 * AR maxDets 1 keeps only e: 0; 10 and 100: .5. */
static void area_case(nk_detset *gt, nk_detset *dt, int img, int cls)
{
	add(gt, img, cls, 0, 0, 32, 32, 1, 1024, 0, 0);
	add(gt, img, cls, 100, 0, 20, 20, 1, 5000, 0, 0);
	add(dt, img, cls, 200, 200, 100, 100, .95f, -1, 0, 0);
	add(dt, img, cls, 0, 0, 32, 32, .9f, -1, 0, 0);
}

TEST(coco_area_ranges)
{
	nk_detset gt, dt;
	int64_t im[] = { 2 }, cl[] = { 1 };
	set_init(&gt, 1, im, 1, cl);
	set_init(&dt, 0, im, 0, cl);
	area_case(&gt, &dt, 0, 0);
	nk_coco_eval e;
	CHECK(nk_coco_evaluate(&e, &gt, &dt) == 0);
	double all = 25.5 / 101, med = 51.0 / 101;
	double want[12] = { all, all, all, 1, med, -1, 0, .5, .5, 1, .5, -1 };
	CHECK_STATS(e, want);
	nk_coco_eval_free(&e);
	nk_detset_free(&gt);
	nk_detset_free(&dt);
}

/* Several classes: the area case as class 0 (id 7), the crowd-free part
 * of coco_crowd as class 1 (id 3: COCOeval orders classes by id, which
 * must not mix up the per-class numbers), and class 2 (id 5) with gt but
 * no prediction (AP 0, recall 0), class 3 (id 9) with predictions and no
 * gt (undefined: left out of every mean).  AP = (25.5/101 + 1 + 0) / 3. */
TEST(coco_classes)
{
	nk_detset gt, dt;
	int64_t im[] = { 5, 2 }, cl[] = { 7, 3, 5, 9 };
	set_init(&gt, 2, im, 4, cl);
	set_init(&dt, 0, im, 0, cl);
	area_case(&gt, &dt, 1, 0);
	add(&gt, 0, 1, 0, 0, 10, 10, 1, -1, 0, 0);
	add(&dt, 0, 1, 0, 0, 10, 10, .9f, -1, 0, 0);
	add(&dt, 0, 1, 100, 100, 10, 10, .6f, -1, 0, 0);
	add(&gt, 0, 2, 300, 300, 50, 50, 1, -1, 0, 0);
	add(&dt, 1, 3, 300, 300, 50, 50, .5f, -1, 0, 0);
	nk_coco_eval e;
	CHECK(nk_coco_evaluate(&e, &gt, &dt) == 0);
	CHECK(near(e.stats[0], (25.5 / 101 + 1) / 3));
	CHECK(near(e.class_ap[0], 25.5 / 101));
	CHECK(near(e.class_ap[1], 1));
	CHECK(near(e.class_ap[2], 0));
	CHECK(near(e.class_ap[3], -1));
	/* AR 100: class 0 .5, class 1 1, class 2 0 */
	CHECK(near(e.stats[8], 1.5 / 3));
	nk_coco_eval_free(&e);
	nk_detset_free(&gt);
	nk_detset_free(&dt);
}

/* The IoU threshold edge: IoU exactly .5 matches at .50 (COCOeval tests
 * iou < t to skip) and at no higher threshold; exactly .75 (a 4x4 box in
 * a 4x3 one: 12/16) matches up to .75 -- linspace's 6th value is .75
 * exactly.  Two images, one gt each (small):
 *   image 1: gt (0,0,10,10), d (0,0,10,5) .9: IoU .5
 *   image 2: gt (0,0,4,4), d (0,0,4,3) .8: IoU .75
 * t = .50: both TP: AP 1.  t = .55..75 (5 thresholds): d1 FP, d2 TP:
 * r 0 .5, P 0 .5: env .5 .5 -> 51*.5/101.  t = .8..95: none: 0.
 * AP = (1 + 5 * 25.5/101) / 10; AP .75 = 25.5/101. */
TEST(coco_iou_edges)
{
	nk_detset gt, dt;
	int64_t im[] = { 1, 2 }, cl[] = { 1 };
	set_init(&gt, 2, im, 1, cl);
	set_init(&dt, 0, im, 0, cl);
	add(&gt, 0, 0, 0, 0, 10, 10, 1, -1, 0, 0);
	add(&gt, 1, 0, 0, 0, 4, 4, 1, -1, 0, 0);
	add(&dt, 0, 0, 0, 0, 10, 5, .9f, -1, 0, 0);
	add(&dt, 1, 0, 0, 0, 4, 3, .8f, -1, 0, 0);
	nk_coco_eval e;
	CHECK(nk_coco_evaluate(&e, &gt, &dt) == 0);
	double p = 25.5 / 101;
	CHECK_MSG(near(e.stats[0], (1 + 5 * p) / 10), "%.9f", e.stats[0]);
	CHECK(near(e.stats[1], 1));
	CHECK_MSG(near(e.stats[2], p), "%.9f", e.stats[2]);
	/* recall: 1 at .5, .5 at the next five, 0 after: 3.5 / 10 */
	CHECK_MSG(near(e.stats[8], .35), "%.9f", e.stats[8]);
	nk_coco_eval_free(&e);
	nk_detset_free(&gt);
	nk_detset_free(&dt);
}

TEST(coco_summary_format)
{
	char buf[100];
	nk_coco_summary_line(buf, sizeof buf, 0, 0.123456);
	CHECK(strcmp(buf, " Average Precision  (AP) @[ IoU=0.50:0.95 | "
			  "area=   all | maxDets=100 ] = 0.123") == 0);
	nk_coco_summary_line(buf, sizeof buf, 2, -1);
	CHECK(strcmp(buf, " Average Precision  (AP) @[ IoU=0.75      | "
			  "area=   all | maxDets=100 ] = -1.000") == 0);
	nk_coco_summary_line(buf, sizeof buf, 6, 0.5);
	CHECK(strcmp(buf, " Average Recall     (AR) @[ IoU=0.50:0.95 | "
			  "area=   all | maxDets=  1 ] = 0.500") == 0);
	nk_coco_summary_line(buf, sizeof buf, 10, 1);
	CHECK(strcmp(buf, " Average Recall     (AR) @[ IoU=0.50:0.95 | "
			  "area=medium | maxDets=100 ] = 1.000") == 0);
}

/* VOC (voc_eval).  Corners are x, x + w; IoU counts +1 pixel.
 * class 0, images 0 and 1:
 *   image 0: gt A (0,0,10,10), gt B (20,0,10,10) difficult
 *   image 1: gt C (0,0,10,10)
 *   p1 .9 on A: TP; p2 .8 on B: difficult, neither TP nor FP;
 *   p3 .7 on image 1 far away: FP; p4 .6 on A again: FP (taken);
 *   p5 .5 on C: TP.  npos 2 (B is difficult).
 *   TP 1 1 1 1 2, FP 0 0 1 2 2: r .5 .5 .5 .5 1, P 1 1 .5 .33 .5
 *   all points: env 1 1 1 .5 .5 .5 0 over mrec 0 .5 .5 .5 .5 1 1:
 *     .5 * 1 + .5 * .5 = .75
 *   11 points: t = 0 ... .5 (six) best P 1, t = .6 ... 1 (five) .5:
 *     8.5 / 11
 * class 1: gt (0,0,9,9) is 10x10 pixels; p (0,0,9,4) 10x5: IoU exactly
 *   .5, not > .5: FP; AP 0
 * class 2: gt, no prediction: AP 0
 * class 3: a prediction, no gt: -1, left out of the mean. */
TEST(voc_ap)
{
	nk_detset gt, dt;
	int64_t im[] = { 1, 2 }, cl[] = { 1, 2, 3, 4 };
	set_init(&gt, 2, im, 4, cl);
	set_init(&dt, 0, im, 0, cl);
	add(&gt, 0, 0, 0, 0, 10, 10, 1, -1, 0, 0);
	add(&gt, 0, 0, 20, 0, 10, 10, 1, -1, 0, 1);
	add(&gt, 1, 0, 0, 0, 10, 10, 1, -1, 0, 0);
	add(&dt, 1, 0, 50, 50, 10, 10, .7f, -1, 0, 0);
	add(&dt, 0, 0, 0, 0, 10, 10, .9f, -1, 0, 0);
	add(&dt, 0, 0, 0, 0, 10, 10, .6f, -1, 0, 0);
	add(&dt, 1, 0, 0, 0, 10, 10, .5f, -1, 0, 0);
	add(&dt, 0, 0, 20, 0, 10, 10, .8f, -1, 0, 0);
	add(&gt, 0, 1, 0, 0, 9, 9, 1, -1, 0, 0);
	add(&dt, 0, 1, 0, 0, 9, 4, .9f, -1, 0, 0);
	add(&gt, 1, 2, 0, 0, 9, 9, 1, -1, 0, 0);
	add(&dt, 1, 3, 0, 0, 9, 9, .9f, -1, 0, 0);
	double ap[4], map;
	CHECK(nk_voc_evaluate(ap, &map, &gt, &dt, .5, 0) == 0);
	CHECK_MSG(near(ap[0], .75), "%.9f", ap[0]);
	CHECK(near(ap[1], 0) && near(ap[2], 0) && near(ap[3], -1));
	CHECK(near(map, .25));
	CHECK(nk_voc_evaluate(ap, &map, &gt, &dt, .5, 1) == 0);
	CHECK_MSG(near(ap[0], 8.5 / 11), "%.9f", ap[0]);
	CHECK(near(map, 8.5 / 33));
	/* a lower threshold takes the class-1 box */
	CHECK(nk_voc_evaluate(ap, &map, &gt, &dt, .49, 0) == 0);
	CHECK(near(ap[1], 1));
	nk_detset_free(&gt);
	nk_detset_free(&dt);
}

TEST(bad_indices)
{
	nk_detset gt, dt;
	int64_t im[] = { 1 }, cl[] = { 1 };
	set_init(&gt, 1, im, 1, cl);
	set_init(&dt, 0, im, 0, cl);
	add(&dt, 3, 0, 0, 0, 1, 1, .5f, -1, 0, 0);
	nk_coco_eval e;
	double ap[1], map;
	CHECK(nk_coco_evaluate(&e, &gt, &dt) == NK_EINVAL);
	CHECK(nk_voc_evaluate(ap, &map, &gt, &dt, .5, 0) == NK_EINVAL);
	nk_detset_free(&gt);
	nk_detset_free(&dt);
}

int main(void)
{
	RUN(coco_ties_maxdets);
	RUN(coco_crowd);
	RUN(coco_area_ranges);
	RUN(coco_classes);
	RUN(coco_iou_edges);
	RUN(coco_summary_format);
	RUN(voc_ap);
	RUN(bad_indices);
	return nk_test_exit();
}
