/* det_grid.c - the YOLOv1-style grid head's loss and decoding (see
 * det_grid.h for the layout and the rules).
 *
 * Choices, and why:
 *   - w, h: sqrt(w) = sigmoid(tw), not YOLOv1's linear sqrt.  A linear
 *     output is unbounded and its square is even, so a random start can
 *     predict boxes many times the image and tw and -tw mean the same
 *     box; the logistic keeps every box inside [0, 1] of the input and
 *     is monotonic.  The loss still compares square roots, so a small
 *     box's error weighs more than a large one's, as YOLOv1 wants.
 *   - classes: softmax and cross-entropy instead of YOLOv1's squared
 *     error on probabilities: its gradient does not vanish when a wrong
 *     class saturates, and softmax's outputs are the probabilities the
 *     decoder multiplies by the objectness anyway.
 *   - objectness target: IoU (rescore) or 1, by nk_grid_shape.rescore;
 *     the IoU is a constant in the gradient, as darknet's delta
 *     (iou - output) treats it.
 * All arithmetic is in double; the caller's buffers are float.
 */
#include "models/det_grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"

static double sigm(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* Boxes as centre and size, in fractions of the input. */
static double iou(double ax, double ay, double aw, double ah, double bx,
		  double by, double bw, double bh)
{
	double l = fmax(ax - aw / 2, bx - bw / 2);
	double r = fmin(ax + aw / 2, bx + bw / 2);
	double t = fmax(ay - ah / 2, by - bh / 2);
	double btm = fmin(ay + ah / 2, by + bh / 2);
	if (r <= l || btm <= t)
		return 0;
	double i = (r - l) * (btm - t);
	double u = aw * ah + bw * bh - i;
	return u > 0 ? i / u : 0;
}

static int check_shape(const nk_grid_shape *s)
{
	if (!s || s->sh <= 0 || s->sw <= 0 || s->nb <= 0 || s->classes <= 0 ||
	    s->in_w <= 0 || s->in_h <= 0 || s->sh > 4096 || s->sw > 4096 ||
	    s->nb > 1024 || s->classes > 1 << 20 || !(s->min_size >= 0) ||
	    !(s->max_size == 0 || s->max_size > s->min_size))
		return nk_error(NK_EINVAL, "grid head: bad shape");
	return 0;
}

int nk_grid_channels(const nk_grid_shape *s)
{
	return s->nb * 5 + s->classes;
}

/* A GT object placed on the grid: its cell, its offset in the cell and
 * its size in fractions of the input.  Returns 0 for an empty box. */
typedef struct {
	int cell;
	double gx, gy, gw, gh; /* gx, gy in the cell; gw, gh of the input */
	double fx, fy;         /* centre, fraction of the input */
} placed;

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* The size is taken as the loss sees it, clipped to the input. */
int nk_grid_owns(const nk_grid_shape *s, const nk_det_target *t)
{
	double w = clamp01((double)t->w / s->in_w) * s->in_w;
	double h = clamp01((double)t->h / s->in_h) * s->in_h;
	double m = w > h ? w : h;
	return m >= s->min_size && (s->max_size <= 0 || m < s->max_size);
}

static int place(placed *p, const nk_det_target *t, const nk_grid_shape *s)
{
	p->gw = clamp01((double)t->w / s->in_w);
	p->gh = clamp01((double)t->h / s->in_h);
	if (!(p->gw > 0 && p->gh > 0))
		return 0;
	p->fx = clamp01((double)t->cx / s->in_w);
	p->fy = clamp01((double)t->cy / s->in_h);
	int col = (int)(p->fx * s->sw), row = (int)(p->fy * s->sh);
	if (col >= s->sw)
		col = s->sw - 1;
	if (row >= s->sh)
		row = s->sh - 1;
	p->gx = p->fx * s->sw - col;
	p->gy = p->fy * s->sh - row;
	p->cell = row * s->sw + col;
	return 1;
}

/* The decoded box j of a cell (fractions of the input). */
static void pred_box(const float *o, size_t plane, int cell, int j,
		     const nk_grid_shape *s, double b[4])
{
	int row = cell / s->sw, col = cell % s->sw;
	b[0] = (col + sigm(o[(size_t)(j * 5 + 0) * plane + cell])) / s->sw;
	b[1] = (row + sigm(o[(size_t)(j * 5 + 1) * plane + cell])) / s->sh;
	double sw = sigm(o[(size_t)(j * 5 + 2) * plane + cell]);
	double sh = sigm(o[(size_t)(j * 5 + 3) * plane + cell]);
	b[2] = sw * sw;
	b[3] = sh * sh;
}

/* darknet's forward_detection_layer: the highest IoU wins; while every
 * IoU seen is 0, the smallest RMSE.  Boxes already taken are skipped.
 * Returns -1 when every box is taken. */
static int best_box(const float *o, size_t plane, const placed *p,
		    const nk_grid_shape *s, const int *who, double *best_iou)
{
	int best = -1;
	double bi = 0, brmse = INFINITY;
	for (int j = 0; j < s->nb; j++) {
		if (who[(size_t)p->cell * s->nb + j] >= 0)
			continue;
		double b[4];
		pred_box(o, plane, p->cell, j, s, b);
		double v = iou(b[0], b[1], b[2], b[3], p->fx, p->fy, p->gw,
			       p->gh);
		double rmse = sqrt((b[0] - p->fx) * (b[0] - p->fx) +
				   (b[1] - p->fy) * (b[1] - p->fy) +
				   (b[2] - p->gw) * (b[2] - p->gw) +
				   (b[3] - p->gh) * (b[3] - p->gh));
		if (bi > 0 || v > 0) {
			if (v > bi) {
				bi = v;
				best = j;
			}
		} else if (rmse < brmse) {
			brmse = rmse;
			best = j;
		}
	}
	*best_iou = bi;
	return best;
}

/* Squared error (a - t)^2 * lambda through a = sigmoid(x): adds its
 * gradient scaled by g into *d and returns the term. */
static double sq_term(float *d, double x, double t, double lambda, double g)
{
	double a = sigm(x);
	if (d)
		*d += (float)(g * lambda * 2 * (a - t) * a * (1 - a));
	return lambda * (a - t) * (a - t);
}

double nk_grid_loss(float *dout, const float *out, int B,
		    const nk_grid_shape *s, const nk_det_target *const *gt,
		    const int *ngt, nk_grid_loss_parts *parts)
{
	nk_grid_loss_parts p = {0};
	if (parts)
		*parts = p;
	if (check_shape(s))
		return NAN;
	if (!out || B <= 0 || !gt || !ngt) {
		nk_error(NK_EINVAL, "grid loss: no output or targets");
		return NAN;
	}
	size_t plane = (size_t)s->sh * s->sw;
	size_t CH = (size_t)nk_grid_channels(s);
	int *who = nk_malloc(plane * s->nb * sizeof *who);
	if (!who)
		return NAN;
	placed *pl = NULL;
	double g = 1.0 / B; /* the loss is the batch's mean per image */
	for (int b = 0; b < B; b++) {
		const float *o = out + (size_t)b * CH * plane;
		float *d = dout ? dout + (size_t)b * CH * plane : NULL;
		int n = ngt[b];
		if (n < 0 || (n > 0 && !gt[b])) {
			nk_error(NK_EINVAL, "grid loss: image %d: %d objects",
				 b, n);
			goto fail;
		}
		free(pl);
		pl = nk_calloc(n ? (size_t)n : 1, sizeof *pl);
		if (!pl)
			goto fail;
		for (size_t i = 0; i < plane * s->nb; i++)
			who[i] = -1;
		/* Match the objects to boxes, in the order given. */
		for (int i = 0; i < n; i++) {
			const nk_det_target *t = &gt[b][i];
			if (t->cls < 0 || t->cls >= s->classes) {
				nk_error(NK_EINVAL,
					 "grid loss: image %d object %d: class "
					 "%d of %d", b, i, t->cls, s->classes);
				goto fail;
			}
			if (!place(&pl[i], t, s))
				continue;
			if (!nk_grid_owns(s, t)) {
				p.other++;
				continue;
			}
			double bi;
			int j = best_box(o, plane, &pl[i], s, who, &bi);
			if (j < 0) {
				p.dropped++;
				continue;
			}
			who[(size_t)pl[i].cell * s->nb + j] = i;
			p.objects++;
		}
		/* Box terms: every box is either responsible or not. */
		for (size_t cell = 0; cell < plane; cell++)
			for (int j = 0; j < s->nb; j++) {
				int i = who[cell * s->nb + j];
				size_t at[5];
				for (int f = 0; f < 5; f++)
					at[f] = (size_t)(j * 5 + f) * plane + cell;
				if (i < 0) {
					p.noobj += sq_term(d ? d + at[4] : NULL,
							   o[at[4]], 0,
							   NK_GRID_LAMBDA_NOOBJ, g);
					continue;
				}
				const placed *q = &pl[i];
				double tg[4] = {q->gx, q->gy, sqrt(q->gw),
						sqrt(q->gh)};
				for (int f = 0; f < 4; f++)
					p.coord += sq_term(d ? d + at[f] : NULL,
							   o[at[f]], tg[f],
							   NK_GRID_LAMBDA_COORD, g);
				double target = 1;
				if (s->rescore) {
					double pb[4];
					pred_box(o, plane, (int)cell, j, s, pb);
					target = iou(pb[0], pb[1], pb[2], pb[3],
						     q->fx, q->fy, q->gw, q->gh);
				}
				p.obj += sq_term(d ? d + at[4] : NULL, o[at[4]],
						 target, 1, g);
			}
		/* Class terms: one cross-entropy per matched object. */
		for (size_t k = 0; k < plane * s->nb; k++) {
			int i = who[k];
			if (i < 0)
				continue;
			size_t cell = k / s->nb;
			const float *lg = o + (size_t)s->nb * 5 * plane + cell;
			double mx = -INFINITY, sum = 0;
			for (int c = 0; c < s->classes; c++)
				mx = fmax(mx, lg[(size_t)c * plane]);
			for (int c = 0; c < s->classes; c++)
				sum += exp(lg[(size_t)c * plane] - mx);
			int cls = gt[b][i].cls;
			p.cls += mx + log(sum) - lg[(size_t)cls * plane];
			if (!d)
				continue;
			float *dl = d + (size_t)s->nb * 5 * plane + cell;
			for (int c = 0; c < s->classes; c++) {
				double pr = exp(lg[(size_t)c * plane] - mx) / sum;
				dl[(size_t)c * plane] +=
					(float)(g * (pr - (c == cls)));
			}
		}
	}
	free(pl);
	free(who);
	p.coord *= g;
	p.obj *= g;
	p.noobj *= g;
	p.cls *= g;
	if (parts)
		*parts = p;
	return p.coord + p.obj + p.noobj + p.cls;
fail:
	free(pl);
	free(who);
	return NAN;
}

int nk_grid_decode(const float *out, const nk_grid_shape *s, float thresh,
		   nk_detection **dets, int *n)
{
	*dets = NULL;
	*n = 0;
	int rc = check_shape(s);
	if (rc)
		return rc;
	size_t plane = (size_t)s->sh * s->sw;
	size_t nd = plane * s->nb, bytes, probs;
	if ((rc = nk_size_mul(&probs, nd, s->classes * sizeof(float))) ||
	    (rc = nk_size_mul(&bytes, nd, sizeof(nk_detection))) ||
	    (rc = nk_size_add(&bytes, bytes, probs)))
		return rc;
	nk_detection *dd = nk_malloc(bytes);
	if (!dd)
		return NK_ENOMEM;
	float *pr = (float *)(dd + nd);
	const float *lg = out + (size_t)s->nb * 5 * plane;
	for (size_t cell = 0; cell < plane; cell++) {
		double mx = -INFINITY, sum = 0;
		for (int c = 0; c < s->classes; c++)
			mx = fmax(mx, lg[(size_t)c * plane + cell]);
		for (int c = 0; c < s->classes; c++)
			sum += exp(lg[(size_t)c * plane + cell] - mx);
		for (int j = 0; j < s->nb; j++) {
			nk_detection *e = &dd[cell * s->nb + j];
			double b[4];
			pred_box(out, plane, (int)cell, j, s, b);
			e->box = (nk_box){(float)b[0], (float)b[1], (float)b[2],
					  (float)b[3]};
			e->objectness =
				(float)sigm(out[(size_t)(j * 5 + 4) * plane + cell]);
			e->classes = s->classes;
			e->sort_class = 0;
			e->prob = pr + (cell * s->nb + j) * s->classes;
			for (int c = 0; c < s->classes; c++) {
				float v = (float)(e->objectness *
					exp(lg[(size_t)c * plane + cell] - mx) / sum);
				e->prob[c] = v > thresh ? v : 0;
			}
		}
	}
	*dets = dd;
	*n = (int)nd;
	return 0;
}
