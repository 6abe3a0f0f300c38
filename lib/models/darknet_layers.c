/* darknet_layers.c - one layer from its cfg section: darknet 2018's
 * defaults (parser.c's parse_*) and shape rules (make_*_layer), with an
 * error naming FILE:LINE and the layer for every shape darknet would
 * build wrongly or crash on. */
#include "models/darknet_build.h"
#include "core/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int nk_dnb_geti(bctx *b, const char *key, int def)
{
	int v = def;
	if (!b->rc)
		b->rc = nk_dncfg_int(b->c, b->s, key, def, &v);
	return v;
}

float nk_dnb_getf(bctx *b, const char *key, float def)
{
	float v = def;
	if (!b->rc)
		b->rc = nk_dncfg_float(b->c, b->s, key, def, &v);
	return v;
}

int nk_dnb_fail(bctx *b, const char *key, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return b->rc = nk_dncfg_error(b->c, b->s, key, NK_EFORMAT, "%s", msg);
}

static int need_image(bctx *b, const nk_dn_layer *l)
{
	if (l->c < 1 || l->h < 1 || l->w < 1)
		return nk_dnb_fail(b, NULL, "the layer before does not output an "
			    "image (c x h x w)");
	return NK_OK;
}

static int activation(bctx *b, nk_dn_layer *l, const char *def)
{
	const char *a = nk_dncfg_str(b->c, b->s, "activation", def);
	int act = nk_act_from_name(a);
	if (act < 0)
		return nk_dnb_fail(b, "activation", "activation '%s' is not one this "
			    "network runs", a);
	l->act = (nk_act)act;
	return NK_OK;
}

/* A product of sizes from a cfg, kept under 2^31 as darknet's ints are. */
static int size_ok(bctx *b, const char *what, double v)
{
	if (v < 1 || v > 2147483647.0)
		return nk_dnb_fail(b, NULL, "%s would be %.0f", what, v);
	return NK_OK;
}

static int build_conv(bctx *b, nk_dn_layer *l)
{
	l->filters = nk_dnb_geti(b, "filters", 1);
	l->size = nk_dnb_geti(b, "size", 1);
	l->stride = nk_dnb_geti(b, "stride", 1);
	int pad = nk_dnb_geti(b, "pad", 0);
	l->pad = nk_dnb_geti(b, "padding", 0);
	l->groups = nk_dnb_geti(b, "groups", 1);
	l->bn = nk_dnb_geti(b, "batch_normalize", 0);
	int odd = nk_dnb_geti(b, "binary", 0) | nk_dnb_geti(b, "xnor", 0) |
		  nk_dnb_geti(b, "flipped", 0);
	nk_dnb_getf(b, "dot", 0);
	/* darknet spaces the kernel's taps by it; ignoring it would run a
	 * different network without a word. */
	int dilation = nk_dnb_geti(b, "dilation", 1);
	if (b->rc || activation(b, l, "logistic") || need_image(b, l))
		return b->rc;
	if (dilation != 1)
		return nk_dnb_fail(b, "dilation", "dilation=%d: dilation is not "
				   "supported (only 1)", dilation);
	if (odd)
		return nk_dnb_fail(b, NULL, "binary, xnor and flipped convolutions "
			    "are not supported");
	if (pad)
		l->pad = l->size / 2;
	if (l->filters < 1 || l->size < 1 || l->stride < 1 || l->pad < 0 ||
	    l->groups < 1)
		return nk_dnb_fail(b, NULL, "filters %d, size %d, stride %d, padding "
			    "%d, groups %d: each must be >= 1 (padding >= 0)",
			    l->filters, l->size, l->stride, l->pad, l->groups);
	if (l->c % l->groups || l->filters % l->groups)
		return nk_dnb_fail(b, "groups", "groups=%d does not divide the %d "
			    "input channels and %d filters", l->groups, l->c,
			    l->filters);
	double oh = ((double)l->h + 2.0 * l->pad - l->size) / l->stride + 1;
	double ow = ((double)l->w + 2.0 * l->pad - l->size) / l->stride + 1;
	if (l->h + 2.0 * l->pad < l->size || l->w + 2.0 * l->pad < l->size)
		return nk_dnb_fail(b, "size", "a %dx%d kernel over a %dx%d input "
			    "padded by %d", l->size, l->size, l->w, l->h,
			    l->pad);
	l->out_c = l->filters;
	l->out_h = (int)oh;
	l->out_w = (int)ow;
	l->nweight = (size_t)(l->c / l->groups) * l->filters * l->size *
		     l->size;
	l->nparams = (size_t)l->filters * (l->bn ? 4 : 1) + l->nweight;
	return size_ok(b, "the weight count", (double)l->nweight);
}

static int build_maxpool(bctx *b, nk_dn_layer *l)
{
	l->stride = nk_dnb_geti(b, "stride", 1);
	l->size = nk_dnb_geti(b, "size", l->stride);
	l->pad = nk_dnb_geti(b, "padding", l->size - 1);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (l->size < 1 || l->stride < 1 || l->pad < 0)
		return nk_dnb_fail(b, NULL, "size %d, stride %d, padding %d: size and "
			    "stride must be >= 1, padding >= 0", l->size,
			    l->stride, l->pad);
	if (l->h + l->pad < l->size || l->w + l->pad < l->size)
		return nk_dnb_fail(b, "size", "a %dx%d window over a %dx%d input "
			    "padded by %d", l->size, l->size, l->w, l->h,
			    l->pad);
	l->out_c = l->c;
	l->out_h = (l->h + l->pad - l->size) / l->stride + 1;
	l->out_w = (l->w + l->pad - l->size) / l->stride + 1;
	return NK_OK;
}

static int build_route(bctx *b, nk_dn_layer *l)
{
	if ((b->rc = nk_dncfg_ints(b->c, b->s, "layers", &l->layers,
				   &l->nlayers)))
		return b->rc;
	if (l->nlayers == 0)
		return nk_dnb_fail(b, NULL, "a route needs layers=");
	l->outputs = 0;
	for (int k = 0; k < l->nlayers; k++) {
		int j = l->layers[k] < 0 ? b->i + l->layers[k] : l->layers[k];
		if (j < 0 || j >= b->i)
			return nk_dnb_fail(b, "layers", "layers item %d (%d) names "
				    "layer %d, not one of 0..%d before it",
				    k + 1, l->layers[k], j, b->i - 1);
		l->layers[k] = j;
		const nk_dn_layer *f = &b->net->l[j];
		if (k == 0) {
			l->out_c = f->out_c;
			l->out_h = f->out_h;
			l->out_w = f->out_w;
		} else if (f->out_h != l->out_h || f->out_w != l->out_w) {
			return nk_dnb_fail(b, "layers", "layer %d's output is %dx%d, "
				    "layer %d's %dx%d: a route concatenates "
				    "channels of equal sizes", l->layers[0],
				    l->out_w, l->out_h, j, f->out_w, f->out_h);
		} else {
			l->out_c += f->out_c;
		}
		l->outputs += f->outputs;
	}
	return NK_OK;
}

static int build_shortcut(bctx *b, nk_dn_layer *l)
{
	nk_dncfg_kv *kv = nk_dncfg_find(b->c, b->s, "from");
	if (!kv)
		return nk_dnb_fail(b, NULL, "a shortcut needs from=");
	int from = nk_dnb_geti(b, "from", 0);
	l->alpha = nk_dnb_getf(b, "alpha", 1);
	l->beta = nk_dnb_getf(b, "beta", 1);
	if (b->rc || activation(b, l, "linear") || need_image(b, l))
		return b->rc;
	int j = from < 0 ? b->i + from : from;
	if (j < 0 || j >= b->i)
		return nk_dnb_fail(b, "from", "from=%d names layer %d, not one of "
			    "0..%d before it", from, j, b->i - 1);
	l->from = j;
	const nk_dn_layer *f = &b->net->l[j];
	/* darknet's shortcut_cpu steps over the larger of the two by the
	 * ratio of their sizes, and asserts the ratios agree. */
	int w1 = f->out_w, h1 = f->out_h, w2 = l->w, h2 = l->h;
	if (w1 < 1 || h1 < 1 || f->out_c < 1 || w1 / w2 != h1 / h2 ||
	    w2 / w1 != h2 / h1)
		return nk_dnb_fail(b, "from", "layer %d's output %dx%dx%d cannot be "
			    "added to %dx%dx%d", j, w1, h1, f->out_c, w2, h2,
			    l->c);
	l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
	return NK_OK;
}

static int build_upsample(bctx *b, nk_dn_layer *l)
{
	l->stride = nk_dnb_geti(b, "stride", 2);
	l->scale = nk_dnb_getf(b, "scale", 1);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (l->stride < 1)
		return nk_dnb_fail(b, "stride", "stride=%d: only upsampling (>= 1) "
			    "is supported", l->stride);
	l->out_c = l->c;
	if (size_ok(b, "the output height", (double)l->h * l->stride) ||
	    size_ok(b, "the output width", (double)l->w * l->stride))
		return b->rc;
	l->out_h = l->h * l->stride;
	l->out_w = l->w * l->stride;
	return NK_OK;
}

static int build_reorg(bctx *b, nk_dn_layer *l)
{
	l->stride = nk_dnb_geti(b, "stride", 1);
	int odd = nk_dnb_geti(b, "reverse", 0) | nk_dnb_geti(b, "flatten", 0) |
		  nk_dnb_geti(b, "extra", 0);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (odd)
		return nk_dnb_fail(b, NULL, "reverse, flatten and extra reorgs are "
			    "not supported");
	/* darknet reads the input as (C/s^2, H*s, W*s): all must divide. */
	if (l->stride < 1 || l->h % l->stride || l->w % l->stride ||
	    l->c % (l->stride * l->stride))
		return nk_dnb_fail(b, "stride", "stride=%d does not divide the %dx%d "
			    "input, or its square the %d channels", l->stride,
			    l->w, l->h, l->c);
	l->out_c = l->c * l->stride * l->stride;
	l->out_h = l->h / l->stride;
	l->out_w = l->w / l->stride;
	return NK_OK;
}

static int build_connected(bctx *b, nk_dn_layer *l)
{
	l->filters = nk_dnb_geti(b, "output", 1);
	l->bn = nk_dnb_geti(b, "batch_normalize", 0);
	if (b->rc || activation(b, l, "logistic"))
		return b->rc;
	if (l->filters < 1 || l->inputs < 1)
		return nk_dnb_fail(b, "output", "output=%d over %zu inputs",
			    l->filters, l->inputs);
	l->out_c = l->filters, l->out_h = l->out_w = 1;
	l->nweight = (size_t)l->filters * l->inputs;
	l->nparams = (size_t)l->filters * (l->bn ? 4 : 1) + l->nweight;
	return size_ok(b, "the weight count", (double)l->nweight);
}

static int build_softmax(bctx *b, nk_dn_layer *l)
{
	l->groups = nk_dnb_geti(b, "groups", 1);
	l->temperature = nk_dnb_getf(b, "temperature", 1);
	nk_dnb_getf(b, "spatial", 0);
	nk_dnb_geti(b, "noloss", 0);
	if (b->rc)
		return b->rc;
	if (nk_dncfg_find(b->c, b->s, "tree"))
		return nk_dnb_fail(b, "tree", "hierarchical softmax (tree=) is not "
			    "supported");
	if (l->groups < 1 || l->inputs % (size_t)l->groups)
		return nk_dnb_fail(b, "groups", "groups=%d does not divide the %zu "
			    "inputs", l->groups, l->inputs);
	l->outputs = l->inputs; /* darknet leaves it without an image shape */
	return NK_OK;
}

/* Anchors for yolo (2 * total) and region (2 * num); darknet fills the
 * rest with .5. */
static int anchors(bctx *b, nk_dn_layer *l, int count)
{
	float *a;
	int n;
	if ((b->rc = nk_dncfg_floats(b->c, b->s, "anchors", &a, &n)))
		return b->rc;
	if (n > 2 * count) {
		free(a);
		return nk_dnb_fail(b, "anchors", "%d anchor values for %d anchors "
			    "(at most %d)", n, count, 2 * count);
	}
	if (!(l->anchors = nk_malloc(2 * (size_t)count * sizeof *a))) {
		free(a);
		return b->rc = NK_ENOMEM;
	}
	for (int k = 0; k < 2 * count; k++)
		l->anchors[k] = k < n ? a[k] : .5f;
	free(a);
	return NK_OK;
}

static int head_input(bctx *b, nk_dn_layer *l, int per_cell)
{
	if (need_image(b, l))
		return b->rc;
	if ((size_t)l->h * l->w * per_cell != l->inputs)
		return nk_dnb_fail(b, NULL, "the layer before gives %dx%dx%d, this "
			    "head needs %d channels (filters= of the "
			    "convolution before it)", l->w, l->h, l->c,
			    per_cell);
	l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
	return NK_OK;
}

static int build_yolo(bctx *b, nk_dn_layer *l)
{
	l->classes = nk_dnb_geti(b, "classes", 20);
	l->total = nk_dnb_geti(b, "num", 1);
	if (b->rc)
		return b->rc;
	if (nk_dncfg_find(b->c, b->s, "map"))
		return nk_dnb_fail(b, "map", "map= is not supported");
	if (l->classes < 1 || l->total < 1 || l->total > 4096 ||
	    l->classes > 1 << 20)
		return nk_dnb_fail(b, NULL, "classes=%d, num=%d", l->classes,
			    l->total);
	if ((b->rc = nk_dncfg_ints(b->c, b->s, "mask", &l->mask, &l->num)))
		return b->rc;
	if (!l->mask) {
		l->num = l->total;
		if (!(l->mask = nk_malloc((size_t)l->num * sizeof *l->mask)))
			return b->rc = NK_ENOMEM;
		for (int k = 0; k < l->num; k++)
			l->mask[k] = k;
	}
	for (int k = 0; k < l->num; k++)
		if (l->mask[k] < 0 || l->mask[k] >= l->total)
			return nk_dnb_fail(b, "mask", "mask item %d is %d, not an "
				    "anchor index 0..%d", k + 1, l->mask[k],
				    l->total - 1);
	if (anchors(b, l, l->total))
		return b->rc;
	return head_input(b, l, l->num * (l->classes + 5));
}

static int build_region(bctx *b, nk_dn_layer *l)
{
	l->coords = nk_dnb_geti(b, "coords", 4);
	l->classes = nk_dnb_geti(b, "classes", 20);
	l->num = nk_dnb_geti(b, "num", 1);
	l->sqrt = nk_dnb_geti(b, "sqrt", 0);
	l->softmax = nk_dnb_geti(b, "softmax", 0);
	l->background = nk_dnb_geti(b, "background", 0);
	if (b->rc)
		return b->rc;
	if (nk_dncfg_find(b->c, b->s, "tree") || nk_dncfg_find(b->c, b->s,
								"map"))
		return nk_dnb_fail(b, NULL, "tree= and map= are not supported");
	if (l->coords < 4 || l->coords > 64 || l->classes < 1 ||
	    l->classes > 1 << 20 || l->num < 1 || l->num > 4096)
		return nk_dnb_fail(b, NULL, "coords=%d, classes=%d, num=%d", l->coords,
			    l->classes, l->num);
	if (anchors(b, l, l->num))
		return b->rc;
	return head_input(b, l, l->num * (l->classes + l->coords + 1));
}

static int build_detection(bctx *b, nk_dn_layer *l)
{
	l->coords = nk_dnb_geti(b, "coords", 1);
	l->classes = nk_dnb_geti(b, "classes", 1);
	l->rescore = nk_dnb_geti(b, "rescore", 0);
	l->num = nk_dnb_geti(b, "num", 1);
	l->side = nk_dnb_geti(b, "side", 7);
	l->softmax = nk_dnb_geti(b, "softmax", 0);
	l->sqrt = nk_dnb_geti(b, "sqrt", 0);
	if (b->rc)
		return b->rc;
	if (l->coords != 4 || l->classes < 1 || l->classes > 1 << 20 ||
	    l->num < 1 || l->num > 4096 || l->side < 1 || l->side > 4096)
		return nk_dnb_fail(b, NULL, "coords=%d (must be 4), classes=%d, "
			    "num=%d, side=%d", l->coords, l->classes, l->num,
			    l->side);
	size_t need = (size_t)l->side * l->side *
		      ((size_t)(1 + l->coords) * l->num + l->classes);
	if (need != l->inputs)
		return nk_dnb_fail(b, NULL, "side %d, num %d, classes %d need %zu "
			    "inputs, the layer before gives %zu", l->side,
			    l->num, l->classes, need, l->inputs);
	l->outputs = l->inputs;
	l->out_w = l->out_h = l->side; /* darknet's l.w, l.h */
	l->out_c = 0;
	return NK_OK;
}

/* [grid]: YOLOv1's head on a convolutional map -- per cell num boxes of
 * (x, y, w, h, confidence), then classes scores, channel-major
 * (models/det_grid.h); any map size.  min_size, max_size: the range of
 * object sizes this head learns, for several [grid] levels (FPN). */
static int build_grid(bctx *b, nk_dn_layer *l)
{
	l->classes = nk_dnb_geti(b, "classes", 20);
	l->num = nk_dnb_geti(b, "num", 2);
	l->coord_scale = nk_dnb_getf(b, "coord_scale", 5);
	l->noobject_scale = nk_dnb_getf(b, "noobject_scale", .5f);
	l->min_size = nk_dnb_getf(b, "min_size", 0);
	l->max_size = nk_dnb_getf(b, "max_size", 0);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (!(l->min_size >= 0 && l->min_size <= 1e6f) ||
	    !(l->max_size == 0 || (l->max_size > l->min_size &&
				   l->max_size <= 1e6f)))
		return nk_dnb_fail(b, NULL, "min_size=%g, max_size=%g: want 0 <= "
			    "min_size < max_size, or max_size=0 (no bound)",
			    l->min_size, l->max_size);
	if (l->classes < 1 || l->classes > 1 << 20 || l->num < 1 ||
	    l->num > 4096)
		return nk_dnb_fail(b, NULL, "classes=%d, num=%d", l->classes,
			    l->num);
	if (!(l->coord_scale >= 0) || !(l->noobject_scale >= 0))
		return nk_dnb_fail(b, NULL, "coord_scale and noobject_scale must "
			    "be >= 0");
	return head_input(b, l, l->num * 5 + l->classes);
}

/* [centernet]: classes heatmap channels, then w, h and the centre's x, y
 * offset (models/det_centernet.h); the map's stride is the network's
 * width over the map's. */
static int build_centernet(bctx *b, nk_dn_layer *l)
{
	l->classes = nk_dnb_geti(b, "classes", 20);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (l->classes < 1 || l->classes > 1 << 20)
		return nk_dnb_fail(b, NULL, "classes=%d", l->classes);
	if (b->net->w % l->w || b->net->h % l->h ||
	    b->net->w / l->w != b->net->h / l->h)
		return nk_dnb_fail(b, NULL, "the %dx%d map is not the %dx%d input "
			    "over one stride", l->w, l->h, b->net->w,
			    b->net->h);
	return head_input(b, l, l->classes + 4);
}

int nk_dnb_layer(bctx *b, nk_dn_layer *l, int type)
{
	switch (type) {
	case NK_DN_CONV: return build_conv(b, l);
	case NK_DN_MAXPOOL: return build_maxpool(b, l);
	case NK_DN_AVGPOOL:
		if (need_image(b, l))
			return b->rc;
		l->out_c = l->c, l->out_h = l->out_w = 1;
		return NK_OK;
	case NK_DN_ROUTE: return build_route(b, l);
	case NK_DN_SHORTCUT: return build_shortcut(b, l);
	case NK_DN_UPSAMPLE: return build_upsample(b, l);
	case NK_DN_REORG: return build_reorg(b, l);
	case NK_DN_CONNECTED: return build_connected(b, l);
	case NK_DN_DROPOUT:
		nk_dnb_getf(b, "probability", .5f);
		l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
		l->outputs = l->inputs;
		return b->rc;
	case NK_DN_SOFTMAX: return build_softmax(b, l);
	case NK_DN_COST:
		nk_dncfg_str(b->c, b->s, "type", "sse");
		nk_dnb_getf(b, "scale", 1), nk_dnb_getf(b, "ratio", 0);
		nk_dnb_getf(b, "noobj", 1), nk_dnb_getf(b, "thresh", 0);
		l->outputs = l->inputs;
		return b->rc;
	case NK_DN_YOLO: return build_yolo(b, l);
	case NK_DN_REGION: return build_region(b, l);
	case NK_DN_DETECTION: return build_detection(b, l);
	case NK_DN_GRID: return build_grid(b, l);
	case NK_DN_CENTERNET: return build_centernet(b, l);
	}
	return nk_dnb_fail(b, NULL, "internal: layer type %d", type);
}

