/* voc_eval.c - Pascal VOC's AP as py-faster-rcnn's voc_eval computes it
 * (det_eval.h). */
#include "vision/det_eval.h"
#include "vision/det_eval_impl.h"
#include "core/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- voc_eval ---------------------------------------------------------- */

/* voc_ap: the area under the monotone precision envelope, or the mean of
 * the best precision at recall >= 0, .1, ..., 1 (np.arange(0., 1.1, .1):
 * i * .1).  np.max propagates NaN (0 / 0 precision where the first
 * predictions all hit difficult objects), and so does this. */
static double voc_ap(const double *rec, const double *prec, size_t n,
		     int use07)
{
	if (use07) {
		double ap = 0;
		for (int i = 0; i < 11; i++) {
			double t = i * 0.1, p = 0;
			int any = 0;
			for (size_t q = 0; q < n; q++) {
				if (!(rec[q] >= t))
					continue;
				if (isnan(prec[q]) || (any && isnan(p)))
					p = NAN;
				else if (!any || prec[q] > p)
					p = prec[q];
				any = 1;
			}
			ap += p / 11.;
		}
		return ap;
	}
	/* mrec = [0, rec, 1], mpre = [0, prec, 0] */
	double *mpre = nk_reallocarray(NULL, n + 2, sizeof *mpre);
	if (!mpre)
		return NAN;
	mpre[0] = 0;
	mpre[n + 1] = 0;
	memcpy(mpre + 1, prec, n * sizeof *prec);
	for (size_t i = n + 1; i > 0; i--)
		mpre[i - 1] = isnan(mpre[i]) || isnan(mpre[i - 1]) ? NAN :
			      fmax(mpre[i - 1], mpre[i]);
	double ap = 0, prev = 0;
	for (size_t i = 1; i <= n + 1; i++) {
		double r = i <= n ? rec[i - 1] : 1;
		if (r != prev)
			ap += (r - prev) * mpre[i];
		prev = r;
	}
	free(mpre);
	return ap;
}

int nk_voc_evaluate(double *ap, double *map, const nk_detset *gt,
		    const nk_detset *dt, double thresh, int use07)
{
	int rc;
	if ((rc = nk_det_check_indices(gt, gt, "ground truth")) ||
	    (rc = nk_det_check_indices(gt, dt, "prediction")))
		return rc;
	int K = gt->nclasses, I = gt->nimages;
	int *irank = nk_reallocarray(NULL, (size_t)I + 1, sizeof *irank);
	int *crank = nk_reallocarray(NULL, (size_t)K + 1, sizeof *crank);
	unsigned char *used = nk_calloc(gt->nobjects + 1, 1);
	struct nk_det_key *key = nk_reallocarray(NULL, dt->nobjects + 1,
						 sizeof *key);
	double *tp = nk_reallocarray(NULL, dt->nobjects + 1, sizeof *tp);
	double *prec = nk_reallocarray(NULL, dt->nobjects + 1, sizeof *prec);
	struct nk_det_groups gg = { 0 };
	rc = NK_ENOMEM;
	if (!irank || !crank || !used || !key || !tp || !prec)
		goto out;
	/* the grouping only needs some order of images and classes */
	for (int i = 0; i < I; i++)
		irank[i] = i;
	for (int c = 0; c < K; c++)
		crank[c] = c;
	if ((rc = nk_det_group(&gg, gt, crank, irank, K, I)))
		goto out;
	double sum = 0;
	int cnt = 0;
	for (int c = 0; c < K; c++) {
		size_t npos = 0, nd = 0;
		for (size_t j = gg.start[(size_t)c * I];
		     j < gg.start[(size_t)(c + 1) * I]; j++)
			npos += !gt->objects[gg.idx[j]].difficult;
		for (size_t j = 0; j < dt->nobjects; j++)
			if (dt->objects[j].cls == c)
				key[nd++] = (struct nk_det_key){ -dt->objects[j].score,
							  0, 0, j };
		qsort(key, nd, sizeof *key, nk_det_key_cmp);
		double ntp = 0, nfp = 0;
		for (size_t q = 0; q < nd; q++) {
			const nk_det_object *d = &dt->objects[key[q].pos];
			double bx1 = d->x, by1 = d->y;
			double bx2 = bx1 + d->w, by2 = by1 + d->h;
			double ovmax = -INFINITY;
			size_t jmax = 0;
			size_t c0 = (size_t)c * I + (size_t)d->image;
			for (size_t j = gg.start[c0]; j < gg.start[c0 + 1]; j++) {
				const nk_det_object *g = &gt->objects[gg.idx[j]];
				double gx1 = g->x, gy1 = g->y;
				double gx2 = gx1 + g->w, gy2 = gy1 + g->h;
				double iw = fmax(fmin(gx2, bx2) - fmax(gx1, bx1) + 1., 0.);
				double ih = fmax(fmin(gy2, by2) - fmax(gy1, by1) + 1., 0.);
				double inters = iw * ih;
				double uni = (bx2 - bx1 + 1.) * (by2 - by1 + 1.) +
					     (gx2 - gx1 + 1.) * (gy2 - gy1 + 1.) -
					     inters;
				double ov = inters / uni;
				/* np.argmax: the first of the largest */
				if (ov > ovmax) {
					ovmax = ov;
					jmax = gg.idx[j];
				}
			}
			if (ovmax > thresh) {
				if (!gt->objects[jmax].difficult) {
					if (!used[jmax]) {
						ntp++;
						used[jmax] = 1;
					} else {
						nfp++;
					}
				}
			} else {
				nfp++;
			}
			tp[q] = ntp / (double)npos;
			prec[q] = ntp / (ntp + nfp);
		}
		if (npos == 0) {
			ap[c] = -1;
			continue;
		}
		ap[c] = voc_ap(tp, prec, nd, use07);
		sum += ap[c];
		cnt++;
	}
	*map = cnt ? sum / cnt : -1;
	rc = 0;
out:
	free(irank);
	free(crank);
	free(used);
	free(key);
	free(tp);
	free(prec);
	free(gg.idx);
	free(gg.start);
	return rc;
}
