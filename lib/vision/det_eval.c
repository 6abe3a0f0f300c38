/* det_eval.c - COCO and VOC detection metrics; see det_eval.h.
 *
 * The COCO part follows pycocotools' cocoeval.py function by function
 * (evaluateImg, accumulate, summarize) so that a reader can hold the two
 * side by side; the names in comments are COCOeval's.
 */
#include "vision/det_eval.h"
#include "vision/det_eval_impl.h"
#include "core/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T = NK_COCO_T, R = NK_COCO_R, A = NK_COCO_A, M = NK_COCO_M };
#define MAXDET 100

static const int max_dets[M] = { 1, 10, 100 };
static const double area_rng[A][2] = {
	{ 0, 1e5 * 1e5 }, { 0, 32 * 32 }, { 32 * 32, 96 * 96 },
	{ 96 * 96, 1e5 * 1e5 },
};
static const char *const area_lbl[A] = { "all", "small", "medium", "large" };

/* numpy.linspace(start, stop, num): start + i * ((stop - start) / (num -
 * 1)), the last one exactly stop.  The IoU thresholds compare against
 * IoUs with <, so their last bits matter. */
static double linspace(double start, double stop, int num, int i)
{
	if (i == num - 1)
		return stop;
	double step = (stop - start) / (num - 1);
	return i * step + start;
}

/* ---- ordering (shared with voc_eval.c) ------------------------------------ */

int nk_det_key_cmp(const void *a, const void *b)
{
	const struct nk_det_key *x = a, *y = b;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2)
		return x->k2 < y->k2 ? -1 : 1;
	if (x->k3 != y->k3)
		return x->k3 < y->k3 ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int nk_det_group(struct nk_det_groups *g, const nk_detset *s,
		 const int *crank, const int *irank, int K, int I)
{
	size_t n = s->nobjects;
	g->idx = nk_reallocarray(NULL, n ? n : 1, sizeof *g->idx);
	g->start = nk_calloc((size_t)K * I + 1, sizeof *g->start);
	if (!g->idx || !g->start)
		return NK_ENOMEM;
	for (size_t j = 0; j < n; j++) {
		const nk_det_object *o = &s->objects[j];
		g->start[(size_t)crank[o->cls] * I + irank[o->image] + 1]++;
	}
	for (size_t c = 0; c < (size_t)K * I; c++)
		g->start[c + 1] += g->start[c];
	size_t *fill = nk_reallocarray(NULL, (size_t)K * I + 1, sizeof *fill);
	if (!fill)
		return NK_ENOMEM;
	memcpy(fill, g->start, ((size_t)K * I + 1) * sizeof *fill);
	for (size_t j = 0; j < n; j++) {
		const nk_det_object *o = &s->objects[j];
		g->idx[fill[(size_t)crank[o->cls] * I + irank[o->image]]++] = j;
	}
	free(fill);
	return 0;
}

int nk_det_check_indices(const nk_detset *gt, const nk_detset *s,
			 const char *what)
{
	for (size_t j = 0; j < s->nobjects; j++) {
		const nk_det_object *o = &s->objects[j];
		if (o->image < 0 || o->image >= gt->nimages || o->cls < 0 ||
		    o->cls >= gt->nclasses)
			return nk_error(NK_EINVAL, "%s object %zu: image %d or "
					"class %d outside the ground truth",
					what, j, o->image, o->cls);
	}
	return 0;
}

/* rank[i]: the position of item i when sorted by ids (stable). */
static int ranks(int *rank, const int64_t *ids, int n, size_t stride)
{
	struct nk_det_key *k = nk_reallocarray(NULL, n ? (size_t)n : 1,
					sizeof *k);
	if (!k)
		return NK_ENOMEM;
	for (int i = 0; i < n; i++) {
		k[i].k1 = (double)*(const int64_t *)((const char *)ids + i * stride);
		k[i].k2 = k[i].k3 = 0;
		k[i].pos = (size_t)i;
	}
	qsort(k, (size_t)n, sizeof *k, nk_det_key_cmp);
	for (int i = 0; i < n; i++)
		rank[k[i].pos] = i;
	free(k);
	return 0;
}

/* ---- evaluateImg ------------------------------------------------------- */

/* maskUtils.iou for boxes, in double as its C code: a crowd region's
 * union is the prediction's own area. */
static double bb_iou(const nk_det_object *d, const nk_det_object *g)
{
	double dx = d->x, dy = d->y, dw = d->w, dh = d->h;
	double gx = g->x, gy = g->y, gw = g->w, gh = g->h;
	double w = fmin(dx + dw, gx + gw) - fmax(dx, gx);
	if (w <= 0)
		return 0;
	double h = fmin(dy + dh, gy + gh) - fmax(dy, gy);
	if (h <= 0)
		return 0;
	double i = w * h, da = dw * dh, ga = gw * gh;
	return i / (g->crowd ? da : da + ga - i);
}

/* One image and class in one area range: what evaluateImg returns. */
struct img_eval {
	int nd;                  /* predictions kept (<= 100) */
	size_t *d;               /* their indices, in score order */
	int64_t *dtm;            /* [T][nd]: matched ground truth id, 0 none */
	unsigned char *dtig;     /* [T][nd] */
	int npig;                /* ground truth not ignored */
	int present;             /* 0: COCOeval's None */
};

static int evaluate_img(struct img_eval *r, const nk_detset *gt,
			const nk_detset *dt, const size_t *g0, int ng,
			const size_t *d0, int nd0, int a, const double *thr)
{
	memset(r, 0, sizeof *r);
	if (ng == 0 && nd0 == 0)
		return 0;
	r->present = 1;
	int rc = NK_ENOMEM;
	/* dt sorted by score, highest first (stable), cut to maxDets[-1] */
	struct nk_det_key *k = nk_reallocarray(NULL, (size_t)(nd0 + ng + 1), sizeof *k);
	int *gind = nk_reallocarray(NULL, (size_t)ng + 1, sizeof *gind);
	unsigned char *gig = nk_malloc((size_t)ng + 1);
	int64_t *gtm = nk_calloc((size_t)T * ng + 1, sizeof *gtm);
	if (!k || !gind || !gig || !gtm)
		goto out;
	for (int j = 0; j < nd0; j++)
		k[j] = (struct nk_det_key){ -dt->objects[d0[j]].score, 0, 0, (size_t)j };
	qsort(k, (size_t)nd0, sizeof *k, nk_det_key_cmp);
	int nd = nd0 < MAXDET ? nd0 : MAXDET;
	r->nd = nd;
	r->d = nk_reallocarray(NULL, (size_t)nd + 1, sizeof *r->d);
	r->dtm = nk_calloc((size_t)T * nd + 1, sizeof *r->dtm);
	r->dtig = nk_calloc((size_t)T * nd + 1, 1);
	if (!r->d || !r->dtm || !r->dtig)
		goto out;
	for (int j = 0; j < nd; j++)
		r->d[j] = d0[k[j].pos];
	/* gt: _ignore (crowd, or area outside the range), ignored last */
	for (int j = 0; j < ng; j++) {
		const nk_det_object *o = &gt->objects[g0[j]];
		double ar = o->area;
		int ig = o->crowd || ar < area_rng[a][0] || ar > area_rng[a][1];
		k[j] = (struct nk_det_key){ ig, 0, 0, (size_t)j };
	}
	qsort(k, (size_t)ng, sizeof *k, nk_det_key_cmp);
	for (int j = 0; j < ng; j++) {
		gind[j] = (int)k[j].pos;
		gig[j] = (unsigned char)k[j].k1;
		r->npig += !gig[j];
	}
	for (int t = 0; t < T; t++) {
		for (int di = 0; di < nd; di++) {
			const nk_det_object *d = &dt->objects[r->d[di]];
			double iou = fmin(thr[t], 1 - 1e-10);
			int m = -1;
			for (int gi = 0; gi < ng; gi++) {
				const nk_det_object *g = &gt->objects[g0[gind[gi]]];
				/* taken, and not a crowd: next */
				if (gtm[t * ng + gi] && !g->crowd)
					continue;
				/* matched a real one and only ignored ones are left */
				if (m > -1 && !gig[m] && gig[gi])
					break;
				double o = bb_iou(d, g);
				if (o < iou)
					continue;
				iou = o;
				m = gi;
			}
			if (m == -1)
				continue;
			r->dtig[t * nd + di] = gig[m];
			r->dtm[t * nd + di] = gt->objects[g0[gind[m]]].id;
			/* COCOeval stores the prediction's id, 1-based */
			gtm[t * ng + m] = 1;
		}
	}
	/* unmatched predictions outside the area range are ignored */
	for (int di = 0; di < nd; di++) {
		const nk_det_object *d = &dt->objects[r->d[di]];
		double ar = (double)d->w * d->h;
		if (ar < area_rng[a][0] || ar > area_rng[a][1])
			for (int t = 0; t < T; t++)
				if (r->dtm[t * nd + di] == 0)
					r->dtig[t * nd + di] = 1;
	}
	rc = 0;
out:
	free(k);
	free(gind);
	free(gig);
	free(gtm);
	return rc;
}

static void img_eval_free(struct img_eval *r)
{
	free(r->d);
	free(r->dtm);
	free(r->dtig);
}

/* ---- accumulate -------------------------------------------------------- */

/* One (class, area, maxDets) cell of precision and recall from the
 * images' results E[0..I). */
static int accumulate(nk_coco_eval *e, const struct img_eval *E, int I,
		      const nk_detset *dt, int k, int a, int m,
		      const double *rec_thr)
{
	int K = e->nclasses, maxdet = max_dets[m];
	size_t n = 0;
	int any = 0, npig = 0;
	for (int i = 0; i < I; i++) {
		if (!E[i].present)
			continue;
		any = 1;
		n += (size_t)(E[i].nd < maxdet ? E[i].nd : maxdet);
		npig += E[i].npig;
	}
	if (!any || npig == 0)
		return 0;
	struct nk_det_key *key = nk_reallocarray(NULL, n + 1, sizeof *key);
	/* (image, position) of each concatenated prediction */
	int *src_i = nk_reallocarray(NULL, n + 1, sizeof *src_i);
	int *src_j = nk_reallocarray(NULL, n + 1, sizeof *src_j);
	double *pr = nk_reallocarray(NULL, n + 1, sizeof *pr);
	double *rc = nk_reallocarray(NULL, n + 1, sizeof *rc);
	int err = NK_ENOMEM;
	if (!key || !src_i || !src_j || !pr || !rc)
		goto out;
	size_t c = 0;
	for (int i = 0; i < I; i++) {
		if (!E[i].present)
			continue;
		int nd = E[i].nd < maxdet ? E[i].nd : maxdet;
		for (int j = 0; j < nd; j++, c++) {
			key[c] = (struct nk_det_key){
				-dt->objects[E[i].d[j]].score, 0, 0, c };
			src_i[c] = i;
			src_j[c] = j;
		}
	}
	qsort(key, n, sizeof *key, nk_det_key_cmp);
	for (int t = 0; t < T; t++) {
		double tp = 0, fp = 0;
		for (size_t q = 0; q < n; q++) {
			const struct img_eval *r = &E[src_i[key[q].pos]];
			int j = src_j[key[q].pos];
			int matched = r->dtm[t * r->nd + j] != 0;
			int ig = r->dtig[t * r->nd + j];
			tp += matched && !ig;
			fp += !matched && !ig;
			rc[q] = tp / npig;
			/* np.spacing(1) */
			pr[q] = tp / (fp + tp + 2.220446049250313e-16);
		}
		size_t ri = (((size_t)t * K + k) * A + a) * M + m;
		e->recall[ri] = n ? rc[n - 1] : 0;
		for (size_t q = n; q-- > 1;)
			if (pr[q] > pr[q - 1])
				pr[q - 1] = pr[q];
		/* np.searchsorted(rc, recThrs, side='left'): the first index
		 * whose recall is >= the point; beyond the end the rest stay 0 */
		size_t pi = 0;
		for (int r = 0; r < R; r++) {
			while (pi < n && rc[pi] < rec_thr[r])
				pi++;
			size_t pidx = ((((size_t)t * R + r) * K + k) * A + a) * M + m;
			e->precision[pidx] = pi < n ? pr[pi] : 0;
		}
	}
	err = 0;
out:
	free(key);
	free(src_i);
	free(src_j);
	free(pr);
	free(rc);
	return err;
}

/* ---- summarize --------------------------------------------------------- */

/* The mean of the defined (> -1) entries of precision (ap) or recall over
 * t (all when t < 0) and classes k (all when k < 0); -1 when none. */
static double summarize(const nk_coco_eval *e, int ap, int t, int k, int a,
			int m)
{
	int K = e->nclasses;
	double sum = 0;
	size_t cnt = 0;
	for (int ti = 0; ti < T; ti++) {
		if (t >= 0 && ti != t)
			continue;
		for (int ki = 0; ki < K; ki++) {
			if (k >= 0 && ki != k)
				continue;
			if (!ap) {
				double v = e->recall[(((size_t)ti * K + ki) * A + a) * M + m];
				if (v > -1) {
					sum += v;
					cnt++;
				}
				continue;
			}
			for (int r = 0; r < R; r++) {
				double v = e->precision[((((size_t)ti * R + r) * K + ki) * A + a) * M + m];
				if (v > -1) {
					sum += v;
					cnt++;
				}
			}
		}
	}
	return cnt ? sum / (double)cnt : -1;
}

/* _summarizeDets: (ap, t, area, maxDets index) of each stat; t = -1 all,
 * 0 is .50 and 5 is .75 */
static const int stat_def[12][4] = {
	{ 1, -1, 0, 2 }, { 1, 0, 0, 2 }, { 1, 5, 0, 2 }, { 1, -1, 1, 2 },
	{ 1, -1, 2, 2 }, { 1, -1, 3, 2 }, { 0, -1, 0, 0 }, { 0, -1, 0, 1 },
	{ 0, -1, 0, 2 }, { 0, -1, 1, 2 }, { 0, -1, 2, 2 }, { 0, -1, 3, 2 },
};

void nk_coco_summary_line(char *buf, size_t size, int i, double v)
{
	if (i < 0 || i >= 12) {
		snprintf(buf, size, "?");
		return;
	}
	const int *d = stat_def[i];
	snprintf(buf, size, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f",
		 d[0] ? "Average Precision" : "Average Recall",
		 d[0] ? "(AP)" : "(AR)",
		 d[1] < 0 ? "0.50:0.95" : d[1] == 0 ? "0.50" : "0.75",
		 area_lbl[d[2]], max_dets[d[3]], v);
}

/* ---- COCOeval ---------------------------------------------------------- */

void nk_coco_eval_free(nk_coco_eval *e)
{
	free(e->class_ap);
	free(e->class_ap50);
	free(e->precision);
	free(e->recall);
	memset(e, 0, sizeof *e);
}

int nk_coco_evaluate(nk_coco_eval *e, const nk_detset *gt, const nk_detset *dt)
{
	memset(e, 0, sizeof *e);
	int rc;
	if ((rc = nk_det_check_indices(gt, gt, "ground truth")) ||
	    (rc = nk_det_check_indices(gt, dt, "prediction")))
		return rc;
	int K = gt->nclasses, I = gt->nimages;
	e->nclasses = K;
	size_t np = (size_t)T * R * K * A * M, nr = (size_t)T * K * A * M;
	e->precision = nk_reallocarray(NULL, np + 1, sizeof *e->precision);
	e->recall = nk_reallocarray(NULL, nr + 1, sizeof *e->recall);
	e->class_ap = nk_reallocarray(NULL, (size_t)K + 1, sizeof *e->class_ap);
	e->class_ap50 = nk_reallocarray(NULL, (size_t)K + 1, sizeof *e->class_ap50);
	int *crank = nk_reallocarray(NULL, (size_t)K + 1, sizeof *crank);
	int *irank = nk_reallocarray(NULL, (size_t)I + 1, sizeof *irank);
	int *cls_of = nk_reallocarray(NULL, (size_t)K + 1, sizeof *cls_of);
	struct img_eval *E = nk_calloc((size_t)I + 1, sizeof *E);
	struct nk_det_groups gg = { 0 }, dg = { 0 };
	rc = NK_ENOMEM;
	if (!e->precision || !e->recall || !e->class_ap || !e->class_ap50 ||
	    !crank || !irank || !cls_of || !E)
		goto out;
	for (size_t q = 0; q < np; q++)
		e->precision[q] = -1;
	for (size_t q = 0; q < nr; q++)
		e->recall[q] = -1;
	/* p.catIds and p.imgIds are sorted: classes by category id, images
	 * by image id */
	if (gt->class_ids) {
		if ((rc = ranks(crank, gt->class_ids, K, sizeof *gt->class_ids)))
			goto out;
	} else {
		for (int c = 0; c < K; c++)
			crank[c] = c;
	}
	for (int c = 0; c < K; c++)
		cls_of[crank[c]] = c;
	if (I && (rc = ranks(irank, &gt->images[0].id, I, sizeof *gt->images)))
		goto out;
	if ((rc = nk_det_group(&gg, gt, crank, irank, K, I)) ||
	    (rc = nk_det_group(&dg, dt, crank, irank, K, I)))
		goto out;
	double thr[T], rec_thr[R];
	for (int t = 0; t < T; t++)
		thr[t] = linspace(.5, 0.95, T, t);
	for (int r = 0; r < R; r++)
		rec_thr[r] = linspace(.0, 1.00, R, r);
	for (int kr = 0; kr < K; kr++) {
		for (int a = 0; a < A; a++) {
			for (int i = 0; i < I; i++) {
				size_t c = (size_t)kr * I + i;
				rc = evaluate_img(&E[i], gt, dt,
						  gg.idx + gg.start[c],
						  (int)(gg.start[c + 1] - gg.start[c]),
						  dg.idx + dg.start[c],
						  (int)(dg.start[c + 1] - dg.start[c]),
						  a, thr);
				if (rc)
					goto out;
			}
			for (int m = 0; m < M && !rc; m++)
				rc = accumulate(e, E, I, dt, cls_of[kr], a, m,
						rec_thr);
			for (int i = 0; i < I; i++)
				img_eval_free(&E[i]);
			memset(E, 0, (size_t)I * sizeof *E);
			if (rc)
				goto out;
		}
	}
	for (int s = 0; s < 12; s++) {
		const int *d = stat_def[s];
		e->stats[s] = summarize(e, d[0], d[1], -1, d[2], d[3]);
	}
	for (int c = 0; c < K; c++) {
		e->class_ap[c] = summarize(e, 1, -1, c, 0, 2);
		e->class_ap50[c] = summarize(e, 1, 0, c, 0, 2);
	}
	rc = 0;
out:
	if (E)
		for (int i = 0; i < I; i++)
			img_eval_free(&E[i]);
	free(E);
	free(crank);
	free(irank);
	free(cls_of);
	free(gg.idx);
	free(gg.start);
	free(dg.idx);
	free(dg.start);
	if (rc)
		nk_coco_eval_free(e);
	return rc;
}
