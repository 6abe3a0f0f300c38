/* test_boxes.c - IoU and darknet's NMS on hand-worked cases (ties, zero
 * objectness, an IoU exactly at the threshold), and on random sets
 * against a reference written another way: the stable order as a total
 * order (score, then position) handed to qsort.  Darknet's own
 * do_nms_sort is compared in tests/t_letterbox_darknet.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vision/boxes.h"

static nk_box B(float x, float y, float w, float h)
{
	nk_box b = { x, y, w, h };
	return b;
}

/* IoU from corners in double: the definition, not darknet's code. */
static double ref_iou(nk_box a, nk_box b)
{
	double ax0 = a.x - a.w / 2.0, ax1 = a.x + a.w / 2.0;
	double ay0 = a.y - a.h / 2.0, ay1 = a.y + a.h / 2.0;
	double bx0 = b.x - b.w / 2.0, bx1 = b.x + b.w / 2.0;
	double by0 = b.y - b.h / 2.0, by1 = b.y + b.h / 2.0;
	double iw = fmin(ax1, bx1) - fmax(ax0, bx0);
	double ih = fmin(ay1, by1) - fmax(ay0, by0);
	if (iw <= 0 || ih <= 0)
		return 0;
	double i = iw * ih;
	return i / ((double)a.w * a.h + (double)b.w * b.h - i);
}

static unsigned rnd_state = 7;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 16;
}
static float frand(void)
{
	return (float)(rnd() % 10000) / 10000.0f;
}

TEST(iou_hand_cases)
{
	/* x overlap [0,1] of widths 2: I = 1*2, U = 4 + 4 - 2. */
	CHECK(fabsf(nk_box_iou(B(0, 0, 2, 2), B(1, 0, 2, 2)) - 1.0f / 3) < 1e-7f);
	/* Contained: 4 / 16. */
	CHECK(nk_box_iou(B(0, 0, 4, 4), B(0, 0, 2, 2)) == 0.25f);
	CHECK(nk_box_iou(B(0, 0, 4, 4), B(0, 0, 4, 4)) == 1.0f);
	/* Apart, touching, and both empty (darknet would give NaN). */
	CHECK(nk_box_iou(B(0, 0, 1, 1), B(5, 5, 1, 1)) == 0);
	CHECK(nk_box_iou(B(0, 0, 2, 2), B(2, 0, 2, 2)) == 0);
	CHECK(nk_box_iou(B(0, 0, 0, 0), B(0, 0, 0, 0)) == 0);
	CHECK(nk_box_iou(B(0, 0, 0, 2), B(0, 0, 2, 2)) == 0);
	/* Overlap along x only: the y intervals are apart. */
	CHECK(nk_box_iou(B(0, 0, 2, 2), B(1, 3, 2, 2)) == 0);
	/* Symmetric. */
	CHECK(nk_box_iou(B(.3f, .4f, .2f, .5f), B(.35f, .5f, .3f, .2f)) ==
	      nk_box_iou(B(.35f, .5f, .3f, .2f), B(.3f, .4f, .2f, .5f)));
	for (int t = 0; t < 2000; t++) {
		nk_box a = B(frand(), frand(), frand() * .5f, frand() * .5f);
		nk_box b = B(frand(), frand(), frand() * .5f, frand() * .5f);
		double r = ref_iou(a, b);
		float g = nk_box_iou(a, b);
		/* float corners cancel: absolute error ~ ulp(1) */
		CHECK_MSG(fabs(g - r) <= 1e-6 + 1e-5 * r,
			  "iou %.9g vs %.9g", g, r);
	}
}

/* A detection set with its own storage. */
#define MAXD 256
#define MAXC 4
static float probs[MAXD][MAXC];
static nk_detection dets[MAXD];

static void set(int i, nk_box b, float obj, int classes, const float *p)
{
	dets[i].box = b;
	dets[i].objectness = obj;
	dets[i].prob = probs[i];
	dets[i].classes = classes;
	dets[i].sort_class = 0;
	memcpy(probs[i], p, (size_t)classes * sizeof(float));
}

TEST(nms_ties_keep_the_first)
{
	/* Seven overlapping boxes, class 0 probabilities with ties: the
	 * stable sort puts 0.9(d2) first, then the 0.5s in input order
	 * d0, d3, d5, then the 0.3s.  Only d2 survives; and among the
	 * equal 0.5s it is d0 that leads, which an unstable sort could
	 * change.  To see the tie order, d2 sits apart from the rest. */
	float p5[] = { .5f }, p9[] = { .9f }, p3[] = { .3f };
	set(0, B(0, 0, 2, 2), 1, 1, p5);
	set(1, B(.1f, 0, 2, 2), 1, 1, p3);
	set(2, B(10, 10, 2, 2), 1, 1, p9);
	set(3, B(.1f, .1f, 2, 2), 1, 1, p5);
	set(4, B(0, .1f, 2, 2), 1, 1, p3);
	set(5, B(.05f, .05f, 2, 2), 1, 1, p5);
	set(6, B(.02f, 0, 2, 2), 1, 1, p3);
	float *p0 = dets[0].prob, *p2 = dets[2].prob, *p3p = dets[3].prob,
	      *p5p = dets[5].prob;
	nk_nms_per_class(dets, 7, .45f);
	CHECK(dets[0].prob == p2 && dets[0].prob[0] == .9f);
	CHECK(dets[1].prob == p0 && dets[1].prob[0] == .5f);
	CHECK(dets[2].prob == p3p && dets[2].prob[0] == 0);
	CHECK(dets[3].prob == p5p && dets[3].prob[0] == 0);
	for (int i = 4; i < 7; i++)
		CHECK(dets[i].prob[0] == 0);
}

TEST(nms_zero_objectness_moved_and_ignored)
{
	/* d0 has objectness 0 and the highest probability: darknet swaps
	 * it with the last live one and leaves it out, so it suppresses
	 * nothing and keeps its probability; [Z,A,B,C] becomes [C,A,B,Z]
	 * before the sort. */
	float pz[] = { .99f }, pa[] = { .6f }, pb[] = { .6f }, pc[] = { .6f };
	set(0, B(0, 0, 1, 1), 0, 1, pz);
	set(1, B(0, 0, 1, 1), 1, 1, pa);
	set(2, B(5, 5, 1, 1), 1, 1, pb);
	set(3, B(9, 9, 1, 1), 1, 1, pc);
	float *z = dets[0].prob, *a = dets[1].prob, *b = dets[2].prob,
	      *c = dets[3].prob;
	nk_nms_per_class(dets, 4, .45f);
	CHECK(dets[3].prob == z && z[0] == .99f);
	CHECK(dets[0].prob == c && dets[1].prob == a && dets[2].prob == b);
	CHECK(a[0] == .6f && b[0] == .6f && c[0] == .6f);
	/* All empty: nothing moves except by the swaps, nothing zeroed. */
	set(0, B(0, 0, 1, 1), 0, 1, pa);
	set(1, B(0, 0, 1, 1), 0, 1, pb);
	nk_nms_per_class(dets, 2, .45f);
	CHECK(probs[0][0] == .6f && probs[1][0] == .6f);
	nk_nms_per_class(dets, 0, .45f);
}

TEST(nms_threshold_edge)
{
	/* x intervals [-1.5,1.5] and [-0.5,2.5]: I = 2, U = 3 + 3 - 2,
	 * IoU exactly 0.5.  Equal to the threshold is not suppressed
	 * (darknet tests IoU > thresh); just below it is. */
	float hi[] = { .8f }, lo[] = { .7f };
	CHECK(nk_box_iou(B(0, 0, 3, 1), B(1, 0, 3, 1)) == 0.5f);
	set(0, B(0, 0, 3, 1), 1, 1, hi);
	set(1, B(1, 0, 3, 1), 1, 1, lo);
	nk_nms_per_class(dets, 2, .5f);
	CHECK(dets[0].prob[0] == .8f && dets[1].prob[0] == .7f);
	set(0, B(0, 0, 3, 1), 1, 1, hi);
	set(1, B(1, 0, 3, 1), 1, 1, lo);
	nk_nms_per_class(dets, 2, nextafterf(.5f, 0));
	CHECK(dets[0].prob[0] == .8f && dets[1].prob[0] == 0);
}

TEST(nms_per_class_vs_agnostic)
{
	/* A is a confident class 0, B a confident class 1, same place.
	 * Per class each keeps its own class; class-agnostic, B (best 0.8)
	 * loses everything to A (best 0.9). */
	float pa[] = { .9f, .2f }, pb[] = { .1f, .8f };
	set(0, B(0, 0, 1, 1), 1, 2, pa);
	set(1, B(.05f, 0, 1, 1), 1, 2, pb);
	nk_nms_per_class(dets, 2, .45f);
	float *a = probs[0], *b = probs[1];
	CHECK(a[0] == .9f && a[1] == 0);
	CHECK(b[0] == 0 && b[1] == .8f);
	set(0, B(0, 0, 1, 1), 1, 2, pa);
	set(1, B(.05f, 0, 1, 1), 1, 2, pb);
	nk_nms_agnostic(dets, 2, .45f);
	CHECK(dets[0].prob == a && dets[1].prob == b);
	CHECK(a[0] == .9f && a[1] == .2f);
	CHECK(b[0] == 0 && b[1] == 0);
	/* Apart, nothing is touched. */
	set(0, B(0, 0, 1, 1), 1, 2, pa);
	set(1, B(3, 0, 1, 1), 1, 2, pb);
	nk_nms_agnostic(dets, 2, .45f);
	CHECK(probs[0][0] == .9f && probs[1][1] == .8f);
	/* A suppressed detection suppresses nothing: A > B > C in a row,
	 * A overlaps B, B overlaps C, A does not overlap C. */
	float p1[] = { .9f, 0 }, p2[] = { 0, .8f }, p3[] = { .7f, 0 };
	set(0, B(0, 0, 1, 1), 1, 2, p1);
	set(1, B(.3f, 0, 1, 1), 1, 2, p2);
	set(2, B(.6f, 0, 1, 1), 1, 2, p3);
	nk_nms_agnostic(dets, 3, .3f);
	CHECK(probs[0][0] == .9f && probs[1][1] == 0 && probs[2][0] == .7f);
}

/* The reference: the same steps, the stable order spelled as a total
 * order (key descending, then position) so that any sort gives it. */
static int ref_key_class;
static int ref_cmp(const void *pa, const void *pb)
{
	const nk_detection *a = pa, *b = pb;
	float ka = a->prob[ref_key_class], kb = b->prob[ref_key_class];
	if (ka != kb)
		return ka > kb ? -1 : 1;
	/* positions were stashed in sort_class before the sort */
	return a->sort_class - b->sort_class;
}

static void ref_nms(nk_detection *d, int n, int classes, float thresh)
{
	/* objectness 0 to the end, as darknet's swap loop leaves them */
	int k = n - 1;
	for (int i = 0; i <= k; i++)
		if (d[i].objectness == 0) {
			nk_detection t = d[i];
			d[i] = d[k];
			d[k--] = t;
			i--;
		}
	int total = k + 1;
	for (int c = 0; c < classes; c++) {
		for (int i = 0; i < total; i++)
			d[i].sort_class = i;
		ref_key_class = c;
		qsort(d, (size_t)total, sizeof *d, ref_cmp);
		for (int i = 0; i < total; i++) {
			if (d[i].prob[c] == 0)
				continue;
			for (int j = i + 1; j < total; j++)
				if (ref_iou(d[i].box, d[j].box) > thresh)
					d[j].prob[c] = 0;
		}
	}
}

TEST(nms_random_vs_reference)
{
	static float rp[MAXD][MAXC];
	static nk_detection rd[MAXD];
	for (int round = 0; round < 40; round++) {
		int n = 1 + (int)(rnd() % MAXD), classes = 1 + (int)(rnd() % MAXC);
		for (int i = 0; i < n; i++) {
			float p[MAXC];
			/* few distinct values: many ties */
			for (int c = 0; c < classes; c++)
				p[c] = rnd() % 3 ? (float)(1 + rnd() % 4) / 8 : 0;
			/* boxes on a coarse grid: IoUs far from the threshold
			 * in float, so the double reference agrees */
			set(i, B((float)(rnd() % 8) / 8, (float)(rnd() % 8) / 8,
				(float)(1 + rnd() % 4) / 8, (float)(1 + rnd() % 4) / 8),
			    rnd() % 5 ? .5f : 0, classes, p);
			memcpy(rp[i], p, sizeof p);
			rd[i] = dets[i];
			rd[i].prob = rp[i];
		}
		nk_nms_per_class(dets, n, .45f);
		ref_nms(rd, n, classes, .45f);
		for (int i = 0; i < n; i++) {
			CHECK_MSG(dets[i].prob - probs[0] == rd[i].prob - rp[0],
				  "round %d: position %d holds detection %d, "
				  "reference %d", round, i,
				  (int)(dets[i].prob - probs[0]),
				  (int)(rd[i].prob - rp[0]));
			CHECK(memcmp(dets[i].prob, rd[i].prob,
				     (size_t)classes * sizeof(float)) == 0);
		}
	}
}

TEST(box_hits_clip_and_order)
{
	/* Four detections, two classes: clipped to the 100x50 image, best
	 * score first; a box of negative size (a regression gone wrong)
	 * and one wholly right of the image (0 wide once clipped) are
	 * dropped, or kept at the edge with no size, as darknet does. */
	float p[4][2] = {{0.3f, 0.9f}, {0.5f, 0}, {0.2f, 0}, {0.95f, 0}};
	nk_detection d[4] = {
		{{90, 10, 40, 10}, 1, p[0], 2, 0},
		{{50, 25, 10, 20}, 1, p[1], 2, 0},
		{{20, 48, 10, -8}, 1, p[2], 2, 0},
		{{130, 25, 20, 20}, 1, p[3], 2, 0},
	};
	nk_box_hit *h;
	int n;
	CHECK(nk_box_hits(d, 4, 100, 50, 1, &h, &n) == 0 && n == 5);
	free(h); /* darknet's way: the two of no size kept at the edge */
	CHECK(nk_box_hits(d, 4, 100, 50, 0, &h, &n) == 0 && n == 3);
	CHECK(h[0].det == 0 && h[0].cls == 1 && h[0].score == 0.9f);
	CHECK(h[0].x == 70 && h[0].y == 5 && h[0].w == 30 && h[0].h == 10);
	CHECK(h[1].det == 1 && h[1].x == 45 && h[1].y == 15 && h[1].w == 10 &&
	      h[1].h == 20);
	CHECK(h[2].det == 0 && h[2].cls == 0);
	for (int i = 0; i < n; i++)
		CHECK(h[i].w > 0 && h[i].h > 0);
	free(h);
}

int main(void)
{
	RUN(iou_hand_cases);
	RUN(nms_ties_keep_the_first);
	RUN(nms_zero_objectness_moved_and_ignored);
	RUN(nms_threshold_edge);
	RUN(nms_per_class_vs_agnostic);
	RUN(nms_random_vs_reference);
	RUN(box_hits_clip_and_order);
	return nk_test_exit();
}
