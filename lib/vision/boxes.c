/* boxes.c - box overlap and non-maximum suppression as darknet does them
 * (pjreddie/darknet src/box.c: overlap, box_intersection, box_union,
 * box_iou, nms_comparator, do_nms_sort), so that the detections we keep
 * are darknet's, box for box.
 *
 * darknet sorts with qsort(); glibc's qsort is a merge sort (stable) for
 * arrays that fit in memory, so a stable merge sort with the same
 * comparator gives the same order, ties included.  A stable sort's output
 * is unique for a comparator that is a weak order, which this one is for
 * finite probabilities (a - b < 0 exactly when a < b).
 *
 * Compiled without fused multiply-add: darknet's baseline x86-64 build
 * rounds a.w*a.h + b.w*b.h - i after each operation, and an IoU that
 * lands on the threshold must compare the same way here.
 */
#pragma GCC optimize("fp-contract=off")
#ifdef __clang__
#pragma clang fp contract(off)
#endif

#include <stdlib.h>
#include <string.h>

#include "vision/boxes.h"
#include "core/base.h"

/* Length of the overlap of two intervals given by centre and width;
 * negative when they are apart. */
static float overlap(float x1, float w1, float x2, float w2)
{
	float l1 = x1 - w1 / 2;
	float l2 = x2 - w2 / 2;
	float left = l1 > l2 ? l1 : l2;
	float r1 = x1 + w1 / 2;
	float r2 = x2 + w2 / 2;
	float right = r1 < r2 ? r1 : r2;
	return right - left;
}

static float box_intersection(nk_box a, nk_box b)
{
	float w = overlap(a.x, a.w, b.x, b.w);
	float h = overlap(a.y, a.h, b.y, b.h);
	if (w < 0 || h < 0)
		return 0;
	return w * h;
}

float nk_box_iou(nk_box a, nk_box b)
{
	float i = box_intersection(a, b);
	float u = a.w * a.h + b.w * b.h - i;
	/* darknet 2018 divides regardless and gets NaN for two empty boxes;
	 * NaN > thresh is false, so 0 suppresses exactly as NaN did. */
	if (i == 0 || u == 0)
		return 0;
	return i / u;
}

/* The class-agnostic score: prob[sort_class], where sort_class is the
 * detection's own best class (-1, score 0, when it has no classes). */
static float score(const nk_detection *d)
{
	return d->sort_class >= 0 ? d->prob[d->sort_class] : 0;
}

/* darknet's nms_comparator: descending by b's sort class (all equal in
 * the per-class pass).  Returns > 0 when b must come before a. */
static int before(const nk_detection *a, const nk_detection *b, int agnostic)
{
	float diff;

	if (agnostic)
		diff = score(a) - score(b);
	else if (b->sort_class >= 0)
		diff = a->prob[b->sort_class] - b->prob[b->sort_class];
	else
		diff = a->objectness - b->objectness;
	if (diff < 0)
		return 1;
	if (diff > 0)
		return -1;
	return 0;
}

/* Top-down merge sort; on equal keys the left run goes first (glibc's
 * msort_with_tmp takes b1 when cmp(b1, b2) <= 0). */
static void msort(nk_detection *d, nk_detection *tmp, int n, int agnostic)
{
	if (n < 2)
		return;
	int n1 = n / 2, n2 = n - n1;
	nk_detection *b1 = d, *b2 = d + n1, *o = tmp;
	msort(b1, tmp, n1, agnostic);
	msort(b2, tmp, n2, agnostic);
	while (n1 > 0 && n2 > 0) {
		if (before(b1, b2, agnostic) <= 0) {
			*o++ = *b1++;
			n1--;
		} else {
			*o++ = *b2++;
			n2--;
		}
	}
	if (n1 > 0)
		memcpy(o, b1, (size_t)n1 * sizeof *o);
	memcpy(d, tmp, (size_t)(n - n2) * sizeof *d);
}

/* Stable sort; without memory for the merge buffer, a stable insertion
 * sort gives the same order, only more slowly. */
static void stable_sort(nk_detection *d, nk_detection *tmp, int n, int agnostic)
{
	if (tmp) {
		msort(d, tmp, n, agnostic);
		return;
	}
	for (int i = 1; i < n; i++) {
		nk_detection x = d[i];
		int j = i;
		while (j > 0 && before(&d[j - 1], &x, agnostic) > 0) {
			d[j] = d[j - 1];
			j--;
		}
		d[j] = x;
	}
}

/* darknet moves detections with objectness 0 to the end by swapping
 * each with the last live one (so the live ones' order changes too) and
 * leaves them out.  Returns the number of live detections. */
static int drop_empty(nk_detection *dets, int n)
{
	int k = n - 1;
	for (int i = 0; i <= k; i++) {
		if (dets[i].objectness == 0) {
			nk_detection swap = dets[i];
			dets[i] = dets[k];
			dets[k] = swap;
			k--;
			i--;
		}
	}
	return k + 1;
}

void nk_nms_per_class(nk_detection *dets, int n, float thresh)
{
	if (n <= 0)
		return;
	int total = drop_empty(dets, n);
	if (total == 0)
		return;
	int classes = dets[0].classes;
	nk_detection *tmp = malloc((size_t)total * sizeof *tmp);
	for (int k = 0; k < classes; k++) {
		for (int i = 0; i < total; i++)
			dets[i].sort_class = k;
		stable_sort(dets, tmp, total, 0);
		for (int i = 0; i < total; i++) {
			if (dets[i].prob[k] == 0)
				continue;
			nk_box a = dets[i].box;
			for (int j = i + 1; j < total; j++)
				if (nk_box_iou(a, dets[j].box) > thresh)
					dets[j].prob[k] = 0;
		}
	}
	free(tmp);
}

void nk_nms_agnostic(nk_detection *dets, int n, float thresh)
{
	if (n <= 0)
		return;
	int total = drop_empty(dets, n);
	if (total == 0)
		return;
	for (int i = 0; i < total; i++) {
		nk_detection *d = &dets[i];
		int best = -1;
		for (int k = 0; k < d->classes; k++)
			if (best < 0 || d->prob[k] > d->prob[best])
				best = k;
		d->sort_class = best;
	}
	nk_detection *tmp = malloc((size_t)total * sizeof *tmp);
	stable_sort(dets, tmp, total, 1);
	free(tmp);
	for (int i = 0; i < total; i++) {
		/* A detection already suppressed (or never above threshold in
		 * any class) has score 0 and suppresses nothing. */
		if (dets[i].sort_class < 0 || score(&dets[i]) == 0)
			continue;
		nk_box a = dets[i].box;
		for (int j = i + 1; j < total; j++)
			if (nk_box_iou(a, dets[j].box) > thresh)
				memset(dets[j].prob, 0,
				       (size_t)dets[j].classes * sizeof *dets[j].prob);
	}
}

static int hit_cmp(const void *a, const void *b)
{
	const nk_box_hit *p = a, *q = b;
	if (p->score != q->score)
		return p->score < q->score ? 1 : -1;
	return p->det != q->det ? p->det - q->det : p->cls - q->cls;
}

static float clampf(float v, float lo, float hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int nk_box_hits(const nk_detection *d, int n, int im_w, int im_h,
		int keep_empty, nk_box_hit **hits, int *nhits)
{
	size_t cap = 0, k = 0;
	nk_box_hit *h = NULL;
	*hits = NULL;
	*nhits = 0;
	for (int i = 0; i < n; i++) {
		const nk_box *b = &d[i].box;
		float x1 = clampf(b->x - b->w / 2, 0, (float)im_w);
		float x2 = clampf(b->x + b->w / 2, 0, (float)im_w);
		float y1 = clampf(b->y - b->h / 2, 0, (float)im_h);
		float y2 = clampf(b->y + b->h / 2, 0, (float)im_h);
		/* Nothing left of it inside the image (off the edge, or of
		 * negative size: a regression gone wrong).  darknet reports
		 * such a box, at the edge with no width or height, and its
		 * models' output here is darknet's; elsewhere it is dropped:
		 * it matches no ground truth and only draws a line. */
		if (!(x2 > x1) || !(y2 > y1)) {
			if (!keep_empty)
				continue;
			x2 = x2 < x1 ? x1 : x2;
			y2 = y2 < y1 ? y1 : y2;
		}
		for (int c = 0; c < d[i].classes; c++) {
			if (!(d[i].prob[c] > 0))
				continue;
			if (nk_grow((void **)&h, &cap, k + 1, sizeof *h)) {
				free(h);
				return NK_ENOMEM;
			}
			h[k++] = (nk_box_hit){i, c, d[i].prob[c], x1, y1, x2 - x1,
					      y2 - y1};
		}
	}
	if (k)
		qsort(h, k, sizeof *h, hit_cmp);
	*hits = h;
	*nhits = (int)k;
	return NK_OK;
}
