/* darknet_heads.c - detections from the yolo, region and detection
 * layers, computed as darknet 2018's get_network_boxes computes them
 * (yolo_layer.c, region_layer.c, detection_layer.c), in the same float
 * and double arithmetic so that the numbers agree to the last bit. */
#include "models/darknet.h"
#include "models/det_centernet.h"
#include "models/det_grid.h"
#include "vision/letterbox.h"
#include "core/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* darknet's entry_index for image 0 of a yolo or region output. */
static size_t entry(const nk_dn_layer *l, int coords, int loc, int n, int e)
{
	size_t hw = (size_t)l->w * l->h;
	return (size_t)n * hw * (coords + 1 + l->classes) + (size_t)e * hw +
	       (size_t)loc;
}

/* correct_yolo_boxes / correct_region_boxes: undo the letterbox. */
static void correct(nk_detection *d, int n, int w, int h, int netw, int neth,
		    int relative)
{
	/* The size nk_letterbox_input scaled the image to (darknet's, and
	 * at least 1 where darknet's truncates to 0). */
	int new_w, new_h;
	nk_letterbox_size(&new_w, &new_h, w, h, netw, neth);
	for (int i = 0; i < n; i++) {
		nk_box b = d[i].box;
		b.x = (b.x - (netw - new_w) / 2. / netw) / ((float)new_w / netw);
		b.y = (b.y - (neth - new_h) / 2. / neth) / ((float)new_h / neth);
		b.w *= (float)netw / new_w;
		b.h *= (float)neth / new_h;
		if (!relative) {
			b.x *= w;
			b.w *= w;
			b.y *= h;
			b.h *= h;
		}
		d[i].box = b;
	}
}

/* get_yolo_box and get_region_box: the same formula. */
static nk_box anchor_box(const float *x, const float *anchors, int a,
			 size_t idx, int col, int row, int lw, int lh, int w,
			 int h, size_t stride)
{
	nk_box b;
	b.x = (col + x[idx]) / lw;
	b.y = (row + x[idx + stride]) / lh;
	b.w = exp(x[idx + 2 * stride]) * anchors[2 * a] / w;
	b.h = exp(x[idx + 3 * stride]) * anchors[2 * a + 1] / h;
	return b;
}

static int yolo_count(const nk_dn_layer *l, const float *p, float thresh)
{
	int count = 0;
	for (int i = 0; i < l->w * l->h; i++)
		for (int n = 0; n < l->num; n++)
			count += p[entry(l, 4, i, n, 4)] > thresh;
	return count;
}

static int yolo(const nk_dn_layer *l, const float *p, int w, int h, int netw,
		int neth, float thresh, int relative, nk_detection *d)
{
	int count = 0;
	size_t hw = (size_t)l->w * l->h;
	for (int i = 0; i < l->w * l->h; i++) {
		int row = i / l->w, col = i % l->w;
		for (int n = 0; n < l->num; n++) {
			float obj = p[entry(l, 4, i, n, 4)];
			if (obj <= thresh)
				continue;
			nk_detection *t = &d[count++];
			t->box = anchor_box(p, l->anchors, l->mask[n],
					    entry(l, 4, i, n, 0), col, row,
					    l->w, l->h, netw, neth, hw);
			t->objectness = obj;
			for (int j = 0; j < l->classes; j++) {
				float prob = obj * p[entry(l, 4, i, n, 5 + j)];
				t->prob[j] = prob > thresh ? prob : 0;
			}
		}
	}
	correct(d, count, w, h, netw, neth, relative);
	return count;
}

static int region(const nk_dn_layer *l, const float *p, int w, int h,
		  int netw, int neth, float thresh, int relative,
		  nk_detection *d)
{
	size_t hw = (size_t)l->w * l->h;
	int C = l->coords;
	for (int i = 0; i < l->w * l->h; i++) {
		int row = i / l->w, col = i % l->w;
		for (int n = 0; n < l->num; n++) {
			nk_detection *t = &d[n * l->w * l->h + i];
			float scale = l->background ? 1 : p[entry(l, C, i, n, C)];
			t->box = anchor_box(p, l->anchors, n,
					    entry(l, C, i, n, 0), col, row,
					    l->w, l->h, l->w, l->h, hw);
			t->objectness = scale > thresh ? scale : 0;
			if (!t->objectness)
				continue;
			for (int j = 0; j < l->classes; j++) {
				float prob = scale * p[entry(l, C, i, n,
							     C + 1 + j)];
				t->prob[j] = prob > thresh ? prob : 0;
			}
		}
	}
	int n = l->w * l->h * l->num;
	correct(d, n, w, h, netw, neth, relative);
	return n;
}

/* get_detection_detections: yolov1's cells, in pixels of w x h (darknet
 * ignores `relative` and the letterbox here). */
static int detection(const nk_dn_layer *l, const float *p, int w, int h,
		     float thresh, nk_detection *d)
{
	int S = l->side;
	for (int i = 0; i < S * S; i++) {
		int row = i / S, col = i % S;
		for (int n = 0; n < l->num; n++) {
			nk_detection *t = &d[i * l->num + n];
			float scale = p[(size_t)S * S * l->classes +
					(size_t)i * l->num + n];
			size_t bi = (size_t)S * S * (l->classes + l->num) +
				    ((size_t)i * l->num + n) * 4;
			nk_box b;
			b.x = (p[bi + 0] + col) / S * w;
			b.y = (p[bi + 1] + row) / S * h;
			b.w = pow(p[bi + 2], l->sqrt ? 2 : 1) * w;
			b.h = pow(p[bi + 3], l->sqrt ? 2 : 1) * h;
			t->box = b;
			t->objectness = scale;
			for (int j = 0; j < l->classes; j++) {
				float prob = scale * p[(size_t)i * l->classes + j];
				t->prob[j] = prob > thresh ? prob : 0;
			}
		}
	}
	return S * S * l->num;
}

void nk_darknet_free_boxes(nk_detection *dets, int n)
{
	(void)n; /* the probabilities share the detections' block */
	free(dets);
}

/* nnkit's heads: their own decoders (fractions of the network input),
 * then the letterbox undone as for yolo. */
static int own_head(const nk_darknet *net, const nk_dn_layer *l,
		    const float *p, int im_w, int im_h, float thresh,
		    int relative, nk_detection **dets, int *n)
{
	int rc;
	if (l->type == NK_DN_GRID) {
		nk_grid_shape s = {l->h, l->w, l->num, l->classes, net->w,
				   net->h, 1, l->min_size, l->max_size};
		rc = nk_grid_decode(p, &s, thresh, dets, n);
	} else {
		nk_centernet_shape s = {l->classes, net->w, net->h,
					net->w / l->w};
		rc = nk_centernet_decode(p, &s, NK_CENTERNET_TOPK, thresh,
					 dets, n);
	}
	if (!rc)
		correct(*dets, *n, im_w, im_h, net->w, net->h, relative);
	return rc;
}

/* A net ending in [grid] or [centernet]: the last head's boxes, and with
 * several [grid] levels (FPN) every level's, in layer order, in one
 * block so that one NMS sees them all.  Every level's boxes are kept,
 * whatever their size: a level's range says what it learns, and NMS
 * settles the rare box a neighbouring level also gives (FCOS). */
static int own_heads(const nk_darknet *net, int b, int im_w, int im_h,
		     float thresh, int relative, nk_detection **dets, int *n)
{
	const nk_dn_layer *last = &net->l[net->n - 1];
	int nh = 0;
	for (int i = 0; i < net->n; i++)
		nh += net->l[i].type == NK_DN_GRID;
	if (last->type != NK_DN_GRID || nh == 1)
		return own_head(net, last, last->out + b * last->outputs, im_w,
				im_h, thresh, relative, dets, n);
	nk_detection **part = nk_calloc((size_t)nh, sizeof *part);
	int *cnt = nk_calloc((size_t)nh, sizeof *cnt);
	int rc = part && cnt ? NK_OK : NK_ENOMEM, k = 0, C = 0;
	size_t total = 0;
	for (int i = 0; !rc && i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		if (l->type != NK_DN_GRID)
			continue;
		rc = own_head(net, l, l->out + b * l->outputs, im_w, im_h,
			      thresh, relative, &part[k], &cnt[k]);
		total += (size_t)cnt[k++];
		C = l->classes > C ? l->classes : C;
	}
	size_t bytes = 0;
	if (!rc && (nk_size_mul(&bytes, total * (size_t)C, sizeof(float)) ||
		    nk_size_add(&bytes, bytes, total * sizeof(nk_detection)) ||
		    total > 1u << 30))
		rc = nk_error(NK_ERANGE, "darknet boxes: %zu boxes", total);
	nk_detection *d = rc || !total ? NULL : nk_calloc(1, bytes);
	if (!rc && total && !d)
		rc = NK_ENOMEM;
	size_t at = 0;
	for (int h = 0; !rc && h < nh; h++)
		for (int j = 0; j < cnt[h]; j++, at++) {
			float *prob = (float *)(d + total) + at * (size_t)C;
			d[at] = part[h][j];
			memcpy(prob, part[h][j].prob,
			       (size_t)part[h][j].classes * sizeof *prob);
			d[at].prob = prob;
			d[at].classes = C;
		}
	for (int h = 0; part && h < nh; h++)
		free(part[h]);
	free(part);
	free(cnt);
	if (rc) {
		free(d);
		return rc;
	}
	*dets = d;
	*n = (int)total;
	return NK_OK;
}

int nk_darknet_boxes(const nk_darknet *net, int b, int im_w, int im_h,
		     float thresh, float hier, int relative,
		     nk_detection **dets, int *n)
{
	(void)hier; /* used by darknet only for softmax trees */
	*dets = NULL;
	*n = 0;
	if (!net->B || b < 0 || b >= net->B || im_w < 1 || im_h < 1)
		return nk_error(NK_EINVAL, "darknet boxes: image %d of %d, "
				"size %dx%d", b, net->B, im_w, im_h);
	const nk_dn_layer *last = &net->l[net->n - 1];
	if (last->type == NK_DN_GRID || last->type == NK_DN_CENTERNET)
		return own_heads(net, b, im_w, im_h, thresh, relative, dets,
				 n);
	size_t total = 0;
	int C = 0;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		const float *p = l->out + b * l->outputs;
		if (l->type == NK_DN_YOLO)
			total += (size_t)yolo_count(l, p, thresh);
		else if (l->type == NK_DN_REGION || l->type == NK_DN_DETECTION)
			total += (size_t)(l->type == NK_DN_REGION ? l->w * l->h
					  : l->side * l->side) * l->num;
		else
			continue;
		if (l->classes > C)
			C = l->classes;
	}
	if (total > 1u << 30)
		return nk_error(NK_ERANGE, "darknet boxes: %zu boxes", total);
	if (!total)
		return NK_OK;
	/* One block, the detections then their probabilities: NMS reorders
	 * the detections, so no one of them can own the probabilities. */
	size_t bytes;
	if (nk_size_mul(&bytes, total * (size_t)C, sizeof(float)) ||
	    nk_size_add(&bytes, bytes, total * sizeof(nk_detection)))
		return NK_ERANGE;
	nk_detection *d = nk_calloc(1, bytes);
	if (!d)
		return NK_ENOMEM;
	float *prob = (float *)(d + total);
	for (size_t k = 0; k < total; k++)
		d[k] = (nk_detection){{0, 0, 0, 0}, 0, prob + k * (size_t)C,
				      C, 0};
	int at = 0;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		const float *p = l->out + b * l->outputs;
		if (l->type == NK_DN_YOLO)
			at += yolo(l, p, im_w, im_h, net->w, net->h, thresh,
				   relative, d + at);
		else if (l->type == NK_DN_REGION)
			at += region(l, p, im_w, im_h, net->w, net->h, thresh,
				     relative, d + at);
		else if (l->type == NK_DN_DETECTION)
			at += detection(l, p, im_w, im_h, thresh, d + at);
	}
	*dets = d;
	*n = at;
	return NK_OK;
}

int nk_darknet_input(const nk_darknet *net, float *out, const nk_image *im)
{
	for (int i = 0; i < net->n; i++)
		if (net->l[i].type == NK_DN_DETECTION)
			return nk_resize_input(out, im, net->w, net->h);
	return nk_letterbox_input(out, im, net->w, net->h);
}
