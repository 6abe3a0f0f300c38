/* darknet_build.c - a network from a cfg: darknet's defaults (parser.c),
 * its shape rules (the make_*_layer functions) and the parameter layout
 * of its .weights files. */
#include "models/darknet.h"
#include "core/base.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	"convolutional", "maxpool", "avgpool", "route", "shortcut",
	"upsample", "reorg", "connected", "dropout", "softmax", "cost",
	"yolo", "region", "detection",
};
_Static_assert(sizeof type_names / sizeof *type_names == NK_DN_TYPE_COUNT,
	       "a layer type without its name");

const char *nk_dn_type_name(nk_dn_type t)
{
	return (unsigned)t < NK_DN_TYPE_COUNT ? type_names[t] : "?";
}

/* darknet's spellings, the short ones included. */
static int type_from_section(const char *s)
{
	static const struct { const char *name; int type; } tab[] = {
		{"convolutional", NK_DN_CONV}, {"conv", NK_DN_CONV},
		{"maxpool", NK_DN_MAXPOOL}, {"max", NK_DN_MAXPOOL},
		{"avgpool", NK_DN_AVGPOOL}, {"avg", NK_DN_AVGPOOL},
		{"route", NK_DN_ROUTE}, {"shortcut", NK_DN_SHORTCUT},
		{"upsample", NK_DN_UPSAMPLE}, {"reorg", NK_DN_REORG},
		{"connected", NK_DN_CONNECTED}, {"conn", NK_DN_CONNECTED},
		{"dropout", NK_DN_DROPOUT}, {"softmax", NK_DN_SOFTMAX},
		{"soft", NK_DN_SOFTMAX}, {"cost", NK_DN_COST},
		{"yolo", NK_DN_YOLO}, {"region", NK_DN_REGION},
		{"detection", NK_DN_DETECTION},
	};
	for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
		if (strcmp(s, tab[i].name) == 0)
			return tab[i].type;
	return -1;
}

/* Sections darknet 2018 knows that this network does not run. */
static int darknet_knows(const char *s)
{
	static const char *const known[] = {
		"net", "network", "local", "deconv", "deconvolutional",
		"activation", "logistic", "l2norm", "crnn", "gru", "lstm",
		"rnn", "crop", "iseg", "lrn", "normalization", "batchnorm",
	};
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strcmp(s, known[i]) == 0)
			return 1;
	return 0;
}

/* Keys darknet reads for training only: known, so not "unused". */
static void mark(nk_dncfg *c, int s, const char *const *keys)
{
	for (; *keys; keys++)
		nk_dncfg_find(c, s, *keys);
}

static const char *const net_keys[] = {
	"batch", "subdivisions", "momentum", "decay", "time_steps",
	"notruth", "random", "adam", "B1", "B2", "eps", "max_crop",
	"min_crop", "max_ratio", "min_ratio", "center", "clip", "angle",
	"aspect", "saturation", "exposure", "hue", "learning_rate", "policy",
	"burn_in", "power", "step", "scale", "steps", "scales", "gamma",
	"max_batches", NULL,
};
static const char *const layer_keys[] = {
	"truth", "onlyforward", "stopbackward", "learning_rate", "smooth",
	NULL,
};
static const char *const head_keys[] = {
	"max", "jitter", "ignore_thresh", "truth_thresh", "random", "log",
	"thresh", "classfix", "absolute", "coord_scale", "object_scale",
	"noobject_scale", "mask_scale", "class_scale", "bias_match",
	"forced", "reorg", "rescore", NULL,
};

typedef struct {
	nk_darknet *net;
	nk_dncfg *c;
	int s;      /* section */
	int i;      /* layer */
	int rc;     /* first error */
} bctx;

static int geti(bctx *b, const char *key, int def)
{
	int v = def;
	if (!b->rc)
		b->rc = nk_dncfg_int(b->c, b->s, key, def, &v);
	return v;
}

static float getf(bctx *b, const char *key, float def)
{
	float v = def;
	if (!b->rc)
		b->rc = nk_dncfg_float(b->c, b->s, key, def, &v);
	return v;
}

__attribute__((format(printf, 3, 4)))
static int fail(bctx *b, const char *key, const char *fmt, ...)
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
		return fail(b, NULL, "the layer before does not output an "
			    "image (c x h x w)");
	return NK_OK;
}

static int activation(bctx *b, nk_dn_layer *l, const char *def)
{
	const char *a = nk_dncfg_str(b->c, b->s, "activation", def);
	int act = nk_act_from_name(a);
	if (act < 0)
		return fail(b, "activation", "activation '%s' is not one this "
			    "network runs", a);
	l->act = (nk_act)act;
	return NK_OK;
}

/* A product of sizes from a cfg, kept under 2^31 as darknet's ints are. */
static int size_ok(bctx *b, const char *what, double v)
{
	if (v < 1 || v > 2147483647.0)
		return fail(b, NULL, "%s would be %.0f", what, v);
	return NK_OK;
}

static int build_conv(bctx *b, nk_dn_layer *l)
{
	l->filters = geti(b, "filters", 1);
	l->size = geti(b, "size", 1);
	l->stride = geti(b, "stride", 1);
	int pad = geti(b, "pad", 0);
	l->pad = geti(b, "padding", 0);
	l->groups = geti(b, "groups", 1);
	l->bn = geti(b, "batch_normalize", 0);
	int odd = geti(b, "binary", 0) | geti(b, "xnor", 0) |
		  geti(b, "flipped", 0);
	getf(b, "dot", 0);
	if (b->rc || activation(b, l, "logistic") || need_image(b, l))
		return b->rc;
	if (odd)
		return fail(b, NULL, "binary, xnor and flipped convolutions "
			    "are not supported");
	if (pad)
		l->pad = l->size / 2;
	if (l->filters < 1 || l->size < 1 || l->stride < 1 || l->pad < 0 ||
	    l->groups < 1)
		return fail(b, NULL, "filters %d, size %d, stride %d, padding "
			    "%d, groups %d: each must be >= 1 (padding >= 0)",
			    l->filters, l->size, l->stride, l->pad, l->groups);
	if (l->c % l->groups || l->filters % l->groups)
		return fail(b, "groups", "groups=%d does not divide the %d "
			    "input channels and %d filters", l->groups, l->c,
			    l->filters);
	double oh = ((double)l->h + 2.0 * l->pad - l->size) / l->stride + 1;
	double ow = ((double)l->w + 2.0 * l->pad - l->size) / l->stride + 1;
	if (l->h + 2.0 * l->pad < l->size || l->w + 2.0 * l->pad < l->size)
		return fail(b, "size", "a %dx%d kernel over a %dx%d input "
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
	l->stride = geti(b, "stride", 1);
	l->size = geti(b, "size", l->stride);
	l->pad = geti(b, "padding", l->size - 1);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (l->size < 1 || l->stride < 1 || l->pad < 0)
		return fail(b, NULL, "size %d, stride %d, padding %d: size and "
			    "stride must be >= 1, padding >= 0", l->size,
			    l->stride, l->pad);
	if (l->h + l->pad < l->size || l->w + l->pad < l->size)
		return fail(b, "size", "a %dx%d window over a %dx%d input "
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
		return fail(b, NULL, "a route needs layers=");
	l->outputs = 0;
	for (int k = 0; k < l->nlayers; k++) {
		int j = l->layers[k] < 0 ? b->i + l->layers[k] : l->layers[k];
		if (j < 0 || j >= b->i)
			return fail(b, "layers", "layers item %d (%d) names "
				    "layer %d, not one of 0..%d before it",
				    k + 1, l->layers[k], j, b->i - 1);
		l->layers[k] = j;
		const nk_dn_layer *f = &b->net->l[j];
		if (k == 0) {
			l->out_c = f->out_c;
			l->out_h = f->out_h;
			l->out_w = f->out_w;
		} else if (f->out_h != l->out_h || f->out_w != l->out_w) {
			return fail(b, "layers", "layer %d's output is %dx%d, "
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
		return fail(b, NULL, "a shortcut needs from=");
	int from = geti(b, "from", 0);
	l->alpha = getf(b, "alpha", 1);
	l->beta = getf(b, "beta", 1);
	if (b->rc || activation(b, l, "linear") || need_image(b, l))
		return b->rc;
	int j = from < 0 ? b->i + from : from;
	if (j < 0 || j >= b->i)
		return fail(b, "from", "from=%d names layer %d, not one of "
			    "0..%d before it", from, j, b->i - 1);
	l->from = j;
	const nk_dn_layer *f = &b->net->l[j];
	/* darknet's shortcut_cpu steps over the larger of the two by the
	 * ratio of their sizes, and asserts the ratios agree. */
	int w1 = f->out_w, h1 = f->out_h, w2 = l->w, h2 = l->h;
	if (w1 < 1 || h1 < 1 || f->out_c < 1 || w1 / w2 != h1 / h2 ||
	    w2 / w1 != h2 / h1)
		return fail(b, "from", "layer %d's output %dx%dx%d cannot be "
			    "added to %dx%dx%d", j, w1, h1, f->out_c, w2, h2,
			    l->c);
	l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
	return NK_OK;
}

static int build_upsample(bctx *b, nk_dn_layer *l)
{
	l->stride = geti(b, "stride", 2);
	l->scale = getf(b, "scale", 1);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (l->stride < 1)
		return fail(b, "stride", "stride=%d: only upsampling (>= 1) "
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
	l->stride = geti(b, "stride", 1);
	int odd = geti(b, "reverse", 0) | geti(b, "flatten", 0) |
		  geti(b, "extra", 0);
	if (b->rc || need_image(b, l))
		return b->rc;
	if (odd)
		return fail(b, NULL, "reverse, flatten and extra reorgs are "
			    "not supported");
	/* darknet reads the input as (C/s^2, H*s, W*s): all must divide. */
	if (l->stride < 1 || l->h % l->stride || l->w % l->stride ||
	    l->c % (l->stride * l->stride))
		return fail(b, "stride", "stride=%d does not divide the %dx%d "
			    "input, or its square the %d channels", l->stride,
			    l->w, l->h, l->c);
	l->out_c = l->c * l->stride * l->stride;
	l->out_h = l->h / l->stride;
	l->out_w = l->w / l->stride;
	return NK_OK;
}

static int build_connected(bctx *b, nk_dn_layer *l)
{
	l->filters = geti(b, "output", 1);
	l->bn = geti(b, "batch_normalize", 0);
	if (b->rc || activation(b, l, "logistic"))
		return b->rc;
	if (l->filters < 1 || l->inputs < 1)
		return fail(b, "output", "output=%d over %zu inputs",
			    l->filters, l->inputs);
	l->out_c = l->filters, l->out_h = l->out_w = 1;
	l->nweight = (size_t)l->filters * l->inputs;
	l->nparams = (size_t)l->filters * (l->bn ? 4 : 1) + l->nweight;
	return size_ok(b, "the weight count", (double)l->nweight);
}

static int build_softmax(bctx *b, nk_dn_layer *l)
{
	l->groups = geti(b, "groups", 1);
	l->temperature = getf(b, "temperature", 1);
	getf(b, "spatial", 0);
	geti(b, "noloss", 0);
	if (b->rc)
		return b->rc;
	if (nk_dncfg_find(b->c, b->s, "tree"))
		return fail(b, "tree", "hierarchical softmax (tree=) is not "
			    "supported");
	if (l->groups < 1 || l->inputs % (size_t)l->groups)
		return fail(b, "groups", "groups=%d does not divide the %zu "
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
		return fail(b, "anchors", "%d anchor values for %d anchors "
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
		return fail(b, NULL, "the layer before gives %dx%dx%d, this "
			    "head needs %d channels (filters= of the "
			    "convolution before it)", l->w, l->h, l->c,
			    per_cell);
	l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
	return NK_OK;
}

static int build_yolo(bctx *b, nk_dn_layer *l)
{
	l->classes = geti(b, "classes", 20);
	l->total = geti(b, "num", 1);
	if (b->rc)
		return b->rc;
	if (nk_dncfg_find(b->c, b->s, "map"))
		return fail(b, "map", "map= is not supported");
	if (l->classes < 1 || l->total < 1 || l->total > 4096 ||
	    l->classes > 1 << 20)
		return fail(b, NULL, "classes=%d, num=%d", l->classes,
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
			return fail(b, "mask", "mask item %d is %d, not an "
				    "anchor index 0..%d", k + 1, l->mask[k],
				    l->total - 1);
	if (anchors(b, l, l->total))
		return b->rc;
	return head_input(b, l, l->num * (l->classes + 5));
}

static int build_region(bctx *b, nk_dn_layer *l)
{
	l->coords = geti(b, "coords", 4);
	l->classes = geti(b, "classes", 20);
	l->num = geti(b, "num", 1);
	l->sqrt = geti(b, "sqrt", 0);
	l->softmax = geti(b, "softmax", 0);
	l->background = geti(b, "background", 0);
	if (b->rc)
		return b->rc;
	if (nk_dncfg_find(b->c, b->s, "tree") || nk_dncfg_find(b->c, b->s,
								"map"))
		return fail(b, NULL, "tree= and map= are not supported");
	if (l->coords < 4 || l->coords > 64 || l->classes < 1 ||
	    l->classes > 1 << 20 || l->num < 1 || l->num > 4096)
		return fail(b, NULL, "coords=%d, classes=%d, num=%d", l->coords,
			    l->classes, l->num);
	if (anchors(b, l, l->num))
		return b->rc;
	return head_input(b, l, l->num * (l->classes + l->coords + 1));
}

static int build_detection(bctx *b, nk_dn_layer *l)
{
	l->coords = geti(b, "coords", 1);
	l->classes = geti(b, "classes", 1);
	l->rescore = geti(b, "rescore", 0);
	l->num = geti(b, "num", 1);
	l->side = geti(b, "side", 7);
	l->softmax = geti(b, "softmax", 0);
	l->sqrt = geti(b, "sqrt", 0);
	if (b->rc)
		return b->rc;
	if (l->coords != 4 || l->classes < 1 || l->classes > 1 << 20 ||
	    l->num < 1 || l->num > 4096 || l->side < 1 || l->side > 4096)
		return fail(b, NULL, "coords=%d (must be 4), classes=%d, "
			    "num=%d, side=%d", l->coords, l->classes, l->num,
			    l->side);
	size_t need = (size_t)l->side * l->side *
		      ((size_t)(1 + l->coords) * l->num + l->classes);
	if (need != l->inputs)
		return fail(b, NULL, "side %d, num %d, classes %d need %zu "
			    "inputs, the layer before gives %zu", l->side,
			    l->num, l->classes, need, l->inputs);
	l->outputs = l->inputs;
	l->out_w = l->out_h = l->side; /* darknet's l.w, l.h */
	l->out_c = 0;
	return NK_OK;
}

static int build_layer(bctx *b, nk_dn_layer *l, int type)
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
		getf(b, "probability", .5f);
		l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
		l->outputs = l->inputs;
		return b->rc;
	case NK_DN_SOFTMAX: return build_softmax(b, l);
	case NK_DN_COST:
		nk_dncfg_str(b->c, b->s, "type", "sse");
		getf(b, "scale", 1), getf(b, "ratio", 0);
		getf(b, "noobj", 1), getf(b, "thresh", 0);
		l->outputs = l->inputs;
		return b->rc;
	case NK_DN_YOLO: return build_yolo(b, l);
	case NK_DN_REGION: return build_region(b, l);
	case NK_DN_DETECTION: return build_detection(b, l);
	}
	return fail(b, NULL, "internal: layer type %d", type);
}

static int build_net(bctx *b)
{
	nk_darknet *net = b->net;
	nk_dncfg *c = b->c;
	if (strcmp(c->sec[0].type, "net") && strcmp(c->sec[0].type, "network"))
		return fail(b, NULL, "the first section must be [net]");
	net->h = geti(b, "height", 0);
	net->w = geti(b, "width", 0);
	net->c = geti(b, "channels", 0);
	int inputs = geti(b, "inputs", net->h * net->w * net->c);
	mark(c, 0, net_keys);
	if (b->rc)
		return b->rc;
	if (net->h < 1 || net->w < 1 || net->c < 1 || net->h > 65536 ||
	    net->w > 65536 || net->c > 65536 ||
	    inputs != net->h * net->w * net->c)
		return fail(b, NULL, "height=%d, width=%d, channels=%d (inputs"
			    "=%d): an image input is needed", net->h, net->w,
			    net->c, inputs);
	net->inputs = (size_t)net->h * net->w * net->c;
	net->n = c->nsec - 1;
	if (net->n < 1)
		return fail(b, NULL, "no layers after [net]");
	if (!(net->l = nk_calloc((size_t)net->n, sizeof *net->l)))
		return b->rc = NK_ENOMEM;
	int c0 = net->c, h0 = net->h, w0 = net->w;
	size_t in0 = net->inputs;
	for (b->i = 0; b->i < net->n; b->i++) {
		nk_dn_layer *l = &net->l[b->i];
		b->s = b->i + 1;
		const char *ts = c->sec[b->s].type;
		int type = type_from_section(ts);
		l->line = c->sec[b->s].line;
		if (type < 0)
			return fail(b, NULL, darknet_knows(ts) ?
				    "darknet's [%s] is not supported here" :
				    "unknown section [%s]", ts);
		l->type = (nk_dn_type)type;
		l->c = c0, l->h = h0, l->w = w0, l->inputs = in0;
		l->dontload = geti(b, "dontload", 0);
		l->dontsave = geti(b, "dontsave", 0);
		if (geti(b, "numload", 0) || geti(b, "dontloadscales", 0))
			return fail(b, NULL, "numload and dontloadscales are "
				    "not supported");
		mark(c, b->s, layer_keys);
		if (type >= NK_DN_YOLO)
			mark(c, b->s, head_keys);
		if (b->rc || build_layer(b, l, type))
			return b->rc;
		if (l->out_c || l->out_h || l->out_w)
			l->outputs = (size_t)l->out_c * l->out_h * l->out_w;
		if (type == NK_DN_DETECTION)
			l->outputs = l->inputs;
		if (l->outputs < 1 || l->outputs > (size_t)1 << 31)
			return fail(b, NULL, "%zu outputs", l->outputs);
		c0 = l->out_c, h0 = l->out_h, w0 = l->out_w;
		if (type == NK_DN_DETECTION)
			c0 = h0 = w0 = 0;
		in0 = l->outputs;
		net->nparams += l->nparams;
	}
	return NK_OK;
}

/* darknet's initial values at inference: scales 1, variances 1. */
static void init_params(nk_darknet *net)
{
	float *p = net->params;
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		if (!l->nparams)
			continue;
		int F = l->filters;
		l->bias = p;
		if (l->type == NK_DN_CONV) {
			float *q = p + F;
			if (l->bn)
				l->bn_scale = q, l->bn_mean = q + F,
				l->bn_var = q + 2 * F, q += 3 * F;
			l->weight = q;
		} else {
			l->weight = p + F;
			if (l->bn)
				l->bn_scale = l->weight + l->nweight,
				l->bn_mean = l->bn_scale + F,
				l->bn_var = l->bn_mean + F;
		}
		for (int k = 0; l->bn && k < F; k++)
			l->bn_scale[k] = l->bn_var[k] = 1;
		p += l->nparams;
	}
	net->hdr = (nk_dnw_header){0, 2, 0, 0};
	net->folded = 0;
}

int nk_darknet_build_shapes(nk_darknet *net, nk_dncfg *cfg)
{
	memset(net, 0, sizeof *net);
	net->cfg = *cfg;
	memset(cfg, 0, sizeof *cfg);
	bctx b = {net, &net->cfg, 0, -1, 0};
	int rc = build_net(&b);
	if (!rc && net->nparams > NK_DNW_MAX_BYTES / 4)
		rc = nk_error(NK_ERANGE, "%s: %zu parameters, more than a "
			      "weights file holds (%zu)", net->cfg.name,
			      net->nparams, NK_DNW_MAX_BYTES / 4);
	if (rc)
		nk_darknet_free(net);
	return rc;
}

int nk_darknet_build(nk_darknet *net, nk_dncfg *cfg)
{
	int rc = nk_darknet_build_shapes(net, cfg);
	if (rc)
		return rc;
	if (!(net->params = nk_calloc(net->nparams ? net->nparams : 1,
				      sizeof *net->params))) {
		nk_darknet_free(net);
		return NK_ENOMEM;
	}
	init_params(net);
	return NK_OK;
}

int nk_darknet_load_cfg(nk_darknet *net, const char *cfg_path)
{
	nk_dncfg c;
	memset(net, 0, sizeof *net);
	int rc = nk_dncfg_load(&c, cfg_path);
	return rc ? rc : nk_darknet_build(net, &c);
}

int nk_darknet_load(nk_darknet *net, const char *cfg_path,
		    const char *weights_path)
{
	int rc = nk_darknet_load_cfg(net, cfg_path);
	if (!rc && weights_path && (rc = nk_darknet_load_weights(net,
							       weights_path)))
		nk_darknet_free(net);
	return rc;
}

void nk_darknet_free(nk_darknet *net)
{
	for (int i = 0; net->l && i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		free(l->layers);
		free(l->mask);
		free(l->anchors);
		free(l->fw);
		free(l->fb);
	}
	free(net->l);
	free(net->params);
	free(net->act);
	nk_free_aligned(net->work);
	nk_dncfg_free(&net->cfg);
	memset(net, 0, sizeof *net);
}

int nk_darknet_classes(const nk_darknet *net)
{
	return net->n ? net->l[net->n - 1].classes : 0;
}
