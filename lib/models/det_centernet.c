/* det_centernet.c - the CenterNet head's targets, loss and decoding (see
 * det_centernet.h).  The target drawing follows CenterNet's numpy code
 * expression by expression (src/lib/utils/image.py gaussian_radius,
 * gaussian2D, draw_umich_gaussian; datasets/sample/ctdet.py), so that
 * the radii -- truncated to integers -- come out the same; the loss
 * follows models/losses.py _neg_loss and RegL1Loss.  Arithmetic is in
 * double, targets are float as CenterNet's arrays are float32.
 */
#include "models/det_centernet.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"

#define CLAMP_LO 1e-4
#define CLAMP_HI (1 - 1e-4)

static int check_shape(const nk_centernet_shape *s)
{
	if (!s || s->classes <= 0 || s->classes > 1 << 16 || s->stride <= 0 ||
	    s->in_w <= 0 || s->in_h <= 0 || s->in_w > 1 << 16 ||
	    s->in_h > 1 << 16 || s->in_w % s->stride || s->in_h % s->stride)
		return nk_error(NK_EINVAL, "centernet head: bad shape (input "
				"must be a multiple of the stride)");
	return 0;
}

int nk_centernet_channels(const nk_centernet_shape *s)
{
	return s->classes + 4;
}

static double sigm(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* CenterNet's gaussian_radius((height, width), min_overlap = 0.7), with
 * its three quadratics as it writes them (the third is not the paper's,
 * but it is what the published models were trained with). */
static double gaussian_radius(double height, double width)
{
	const double mo = 0.7;
	double a1 = 1, b1 = height + width;
	double c1 = width * height * (1 - mo) / (1 + mo);
	double r1 = (b1 - sqrt(b1 * b1 - 4 * a1 * c1)) / (2 * a1);
	double a2 = 4, b2 = 2 * (height + width);
	double c2 = (1 - mo) * width * height;
	double r2 = (b2 - sqrt(b2 * b2 - 4 * a2 * c2)) / (2 * a2);
	double a3 = 4 * mo, b3 = -2 * mo * (height + width);
	double c3 = (mo - 1) * width * height;
	double r3 = (b3 + sqrt(b3 * b3 - 4 * a3 * c3)) / (2 * a3);
	return fmin(r1, fmin(r2, r3));
}

/* One object in output-map pixels, as ctdet.py prepares it. */
typedef struct {
	int cls, radius;
	int x, y;          /* ct_int */
	float w, h;        /* size target */
	float ox, oy;      /* offset target ct - ct_int */
} obj;

/* Returns 0 for a box left empty by the clipping (CenterNet skips it). */
static int prepare(obj *o, const nk_det_target *t, const nk_centernet_shape *s)
{
	float ow = (float)(s->in_w / s->stride), oh = (float)(s->in_h / s->stride);
	float st = (float)s->stride;
	float x1 = (t->cx - t->w * 0.5f) / st, x2 = (t->cx + t->w * 0.5f) / st;
	float y1 = (t->cy - t->h * 0.5f) / st, y2 = (t->cy + t->h * 0.5f) / st;
	/* np.clip(bbox[[0, 2]], 0, output_w - 1) */
	x1 = fminf(fmaxf(x1, 0), ow - 1);
	x2 = fminf(fmaxf(x2, 0), ow - 1);
	y1 = fminf(fmaxf(y1, 0), oh - 1);
	y2 = fminf(fmaxf(y2, 0), oh - 1);
	float h = y2 - y1, w = x2 - x1;
	if (!(h > 0 && w > 0))
		return 0;
	double r = gaussian_radius(ceil(h), ceil(w));
	o->radius = r > 0 ? (int)r : 0;
	float cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
	o->x = (int)cx;
	o->y = (int)cy;
	o->cls = t->cls;
	o->w = w;
	o->h = h;
	o->ox = cx - (float)o->x;
	o->oy = cy - (float)o->y;
	return 1;
}

/* draw_umich_gaussian into one class plane (oh, ow): max-merge. */
static void splat(float *hm, int ow, int oh, const obj *o)
{
	int r = o->radius;
	double d = 2 * r + 1, sigma = d / 6;
	int left = o->x < r ? o->x : r, right = ow - o->x < r + 1 ? ow - o->x : r + 1;
	int top = o->y < r ? o->y : r, bottom = oh - o->y < r + 1 ? oh - o->y : r + 1;
	for (int dy = -top; dy < bottom; dy++)
		for (int dx = -left; dx < right; dx++) {
			double xx = dx, yy = dy;
			double g = exp(-(xx * xx + yy * yy) / (2 * sigma * sigma));
			if (g < DBL_EPSILON) /* gaussian2D's cut, max = 1 */
				g = 0;
			float *p = &hm[(size_t)(o->y + dy) * ow + o->x + dx];
			float gf = (float)g;
			if (gf > *p)
				*p = gf;
		}
}

/* Prepares image b's objects into objs (appended at *nobj) and draws its
 * heatmap into hm (C, oh, ow), zeroed first. */
static int draw(float *hm, obj *objs, int *nobj, const nk_centernet_shape *s,
		const nk_det_target *gt, int ngt)
{
	int ow = s->in_w / s->stride, oh = s->in_h / s->stride;
	memset(hm, 0, (size_t)s->classes * ow * oh * sizeof *hm);
	for (int i = 0; i < ngt; i++) {
		if (gt[i].cls < 0 || gt[i].cls >= s->classes)
			return nk_error(NK_EINVAL, "centernet: object %d: class "
					"%d of %d", i, gt[i].cls, s->classes);
		obj o;
		if (!prepare(&o, &gt[i], s))
			continue;
		splat(hm + (size_t)o.cls * ow * oh, ow, oh, &o);
		if (objs)
			objs[(*nobj)++] = o;
	}
	return 0;
}

int nk_centernet_heatmap(float *hm, const nk_centernet_shape *s,
			 const nk_det_target *gt, int ngt)
{
	int rc = check_shape(s);
	if (rc)
		return rc;
	if (ngt < 0 || (ngt > 0 && !gt))
		return nk_error(NK_EINVAL, "centernet: %d objects", ngt);
	return draw(hm, NULL, NULL, s, gt, ngt);
}

/* |p - t| * scale, adding sign(p - t) * scale * into *d (torch's sign:
 * 0 at 0). */
static double l1(float *d, double p, double t, double scale)
{
	double e = p - t;
	if (d)
		*d += (float)(scale * ((e > 0) - (e < 0)));
	return fabs(e) * scale;
}

double nk_centernet_loss(float *dout, const float *out, int B,
			 const nk_centernet_shape *s,
			 const nk_det_target *const *gt, const int *ngt,
			 nk_centernet_loss_parts *parts)
{
	nk_centernet_loss_parts p = {0};
	if (parts)
		*parts = p;
	if (check_shape(s))
		return NAN;
	if (!out || B <= 0 || !gt || !ngt) {
		nk_error(NK_EINVAL, "centernet loss: no output or targets");
		return NAN;
	}
	int C = s->classes, ow = s->in_w / s->stride, oh = s->in_h / s->stride;
	size_t plane = (size_t)ow * oh, hmsz = (size_t)C * plane;
	size_t CH = (size_t)C + 4, total = 0;
	for (int b = 0; b < B; b++) {
		if (ngt[b] < 0 || (ngt[b] > 0 && !gt[b])) {
			nk_error(NK_EINVAL, "centernet loss: image %d: %d "
				 "objects", b, ngt[b]);
			return NAN;
		}
		total += (size_t)ngt[b];
	}
	/* The normaliser is the batch's num_pos: every heatmap first. */
	float *hm = nk_reallocarray(NULL, (size_t)B, hmsz * sizeof *hm);
	obj *objs = nk_calloc(total ? total : 1, sizeof *objs);
	int *img = nk_calloc(total ? total : 1, sizeof *img);
	if (!hm || !objs || !img)
		goto fail;
	int n = 0;
	for (int b = 0; b < B; b++) {
		int before = n;
		if (draw(hm + (size_t)b * hmsz, objs, &n, s, gt[b], ngt[b]))
			goto fail;
		for (int i = before; i < n; i++)
			img[i] = b;
	}
	for (size_t i = 0; i < (size_t)B * hmsz; i++)
		p.num_pos += hm[i] == 1.0f;
	double norm = p.num_pos > 0 ? p.num_pos : 1;
	/* Focal loss (_neg_loss). */
	for (int b = 0; b < B; b++)
		for (size_t i = 0; i < hmsz; i++) {
			double x = out[(size_t)b * CH * plane + i];
			double g = hm[(size_t)b * hmsz + i];
			double sg = sigm(x);
			int clamped = sg < CLAMP_LO || sg > CLAMP_HI;
			double pr = clamped ? (sg < CLAMP_LO ? CLAMP_LO : CLAMP_HI) : sg;
			double l, dl;
			if (g == 1) {
				l = -(1 - pr) * (1 - pr) * log(pr);
				dl = 2 * (1 - pr) * log(pr) - (1 - pr) * (1 - pr) / pr;
			} else {
				double w4 = (1 - g) * (1 - g) * (1 - g) * (1 - g);
				l = -w4 * pr * pr * log(1 - pr);
				dl = -w4 * (2 * pr * log(1 - pr) -
					    pr * pr / (1 - pr));
			}
			p.hm += l / norm;
			if (dout && !clamped)
				dout[(size_t)b * CH * plane + i] +=
					(float)(dl * sg * (1 - sg) / norm);
		}
	/* Size and offset L1 at the centre pixels (RegL1Loss). */
	p.objects = n;
	double den = 2.0 * n + 1e-4;
	for (int i = 0; i < n; i++) {
		const obj *o = &objs[i];
		size_t at = (size_t)img[i] * CH * plane + (size_t)o->y * ow + o->x;
		const float *q = out + at;
		float *d = dout ? dout + at : NULL;
		double tg[4] = {o->w, o->h, o->ox, o->oy};
		for (int k = 0; k < 4; k++) {
			double wgt = k < 2 ? NK_CENTERNET_WH_WEIGHT :
					     NK_CENTERNET_OFF_WEIGHT;
			double v = l1(d ? d + (size_t)(C + k) * plane : NULL,
				      q[(size_t)(C + k) * plane], tg[k], wgt / den);
			if (k < 2)
				p.wh += v;
			else
				p.off += v;
		}
	}
	free(hm);
	free(objs);
	free(img);
	if (parts)
		*parts = p;
	return p.hm + p.wh + p.off;
fail:
	free(hm);
	free(objs);
	free(img);
	return NAN;
}

typedef struct {
	float score;
	int cls, pix;
} peak;

/* Best first; ties by class, then pixel. */
static int peak_cmp(const void *a, const void *b)
{
	const peak *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return (x->pix > y->pix) - (x->pix < y->pix);
}

int nk_centernet_decode(const float *out, const nk_centernet_shape *s,
			int K, float thresh, nk_detection **dets, int *n)
{
	*dets = NULL;
	*n = 0;
	int rc = check_shape(s);
	if (rc)
		return rc;
	if (K <= 0)
		return nk_error(NK_EINVAL, "centernet decode: K = %d", K);
	int C = s->classes, ow = s->in_w / s->stride, oh = s->in_h / s->stride;
	size_t plane = (size_t)ow * oh;
	float *heat = nk_reallocarray(NULL, (size_t)C * plane, sizeof *heat);
	if (!heat)
		return NK_ENOMEM;
	for (size_t i = 0; i < (size_t)C * plane; i++)
		heat[i] = (float)sigm(out[i]);
	peak *pk = NULL;
	size_t npk = 0, cap = 0;
	for (int c = 0; c < C; c++)
		for (int y = 0; y < oh; y++)
			for (int x = 0; x < ow; x++) {
				const float *h = heat + (size_t)c * plane;
				float v = h[(size_t)y * ow + x], mx = v;
				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++) {
						int yy = y + dy, xx = x + dx;
						if (yy >= 0 && yy < oh && xx >= 0 &&
						    xx < ow)
							mx = fmaxf(mx, h[(size_t)yy * ow + xx]);
					}
				if (v != mx || !(v > thresh))
					continue;
				if (nk_grow((void **)&pk, &cap, npk + 1, sizeof *pk)) {
					free(pk);
					free(heat);
					return NK_ENOMEM;
				}
				pk[npk++] = (peak){v, c, y * ow + x};
			}
	free(heat);
	if (npk)
		qsort(pk, npk, sizeof *pk, peak_cmp);
	int nd = npk < (size_t)K ? (int)npk : K;
	nk_detection *dd = NULL;
	if (nd) {
		dd = nk_calloc(1, (size_t)nd * (sizeof *dd + (size_t)C * sizeof(float)));
		if (!dd) {
			free(pk);
			return NK_ENOMEM;
		}
	}
	float *pr = (float *)(dd + nd);
	for (int i = 0; i < nd; i++) {
		nk_detection *e = &dd[i];
		int x = pk[i].pix % ow, y = pk[i].pix / ow;
		const float *q = out + (size_t)C * plane + pk[i].pix;
		e->box.x = (x + q[2 * plane]) / ow;
		e->box.y = (y + q[3 * plane]) / oh;
		/* The size is a plain regression: a poor peak may predict a
		 * negative one, which would be an inverted box. */
		e->box.w = (q[0] > 0 ? q[0] : 0) / ow;
		e->box.h = (q[plane] > 0 ? q[plane] : 0) / oh;
		e->objectness = pk[i].score;
		e->classes = C;
		e->prob = pr + (size_t)i * C;
		e->prob[pk[i].cls] = pk[i].score;
	}
	free(pk);
	*dets = dd;
	*n = nd;
	return 0;
}
