/* darknet_build.c - a network from a cfg: the [net] section, the layers
 * in order (each built by darknet_layers.c), the keys darknet reads only
 * for training, and the parameter layout of its .weights files. */
#include "models/darknet_build.h"
#include "core/base.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	"convolutional", "maxpool", "avgpool", "route", "shortcut",
	"upsample", "reorg", "connected", "dropout", "softmax", "cost",
	"yolo", "region", "detection", "grid", "centernet",
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
		{"detection", NK_DN_DETECTION}, {"grid", NK_DN_GRID},
		{"centernet", NK_DN_CENTERNET},
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

static int build_net(bctx *b)
{
	nk_darknet *net = b->net;
	nk_dncfg *c = b->c;
	if (strcmp(c->sec[0].type, "net") && strcmp(c->sec[0].type, "network"))
		return nk_dnb_fail(b, NULL, "the first section must be [net]");
	net->h = nk_dnb_geti(b, "height", 0);
	net->w = nk_dnb_geti(b, "width", 0);
	net->c = nk_dnb_geti(b, "channels", 0);
	if (b->rc)
		return b->rc;
	/* Each size on its own line, checked before their product (an int,
	 * as darknet's) can overflow into a plausible number. */
	static const char *const dim_key[3] = {"height", "width", "channels"};
	const int dim[3] = {net->h, net->w, net->c};
	for (int k = 0; k < 3; k++)
		if (dim[k] > 65536)
			return nk_dnb_fail(b, dim_key[k], "%s=%d: more than the "
					   "limit of 65536", dim_key[k],
					   dim[k]);
	double in_d = (double)net->h * net->w * net->c;
	if (in_d > INT_MAX)
		return nk_dnb_fail(b, NULL, "height=%d x width=%d x channels=%d "
				   "is %.0f inputs, more than the limit of "
				   "%d", net->h, net->w, net->c, in_d, INT_MAX);
	int inputs = nk_dnb_geti(b, "inputs", net->h * net->w * net->c);
	mark(c, 0, net_keys);
	if (b->rc)
		return b->rc;
	if (net->h < 1 || net->w < 1 || net->c < 1 ||
	    inputs != net->h * net->w * net->c)
		return nk_dnb_fail(b, NULL, "height=%d, width=%d, channels=%d (inputs"
			    "=%d): an image input is needed", net->h, net->w,
			    net->c, inputs);
	net->inputs = (size_t)net->h * net->w * net->c;
	net->n = c->nsec - 1;
	if (net->n < 1)
		return nk_dnb_fail(b, NULL, "no layers after [net]");
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
			return nk_dnb_fail(b, NULL, darknet_knows(ts) ?
				    "darknet's [%s] is not supported here" :
				    "unknown section [%s]", ts);
		l->type = (nk_dn_type)type;
		l->c = c0, l->h = h0, l->w = w0, l->inputs = in0;
		l->dontload = nk_dnb_geti(b, "dontload", 0);
		l->dontsave = nk_dnb_geti(b, "dontsave", 0);
		if (nk_dnb_geti(b, "numload", 0) || nk_dnb_geti(b, "dontloadscales", 0))
			return nk_dnb_fail(b, NULL, "numload and dontloadscales are "
				    "not supported");
		mark(c, b->s, layer_keys);
		if (type >= NK_DN_YOLO)
			mark(c, b->s, head_keys);
		if (b->rc || nk_dnb_layer(b, l, type))
			return b->rc;
		if (l->out_c || l->out_h || l->out_w)
			l->outputs = (size_t)l->out_c * l->out_h * l->out_w;
		if (type == NK_DN_DETECTION)
			l->outputs = l->inputs;
		if (l->outputs < 1 || l->outputs > (size_t)1 << 31)
			return nk_dnb_fail(b, NULL, "%zu outputs", l->outputs);
		c0 = l->out_c, h0 = l->out_h, w0 = l->out_w;
		if (type == NK_DN_DETECTION)
			c0 = h0 = w0 = 0;
		in0 = l->outputs;
		net->nparams += l->nparams;
	}
	return NK_OK;
}

void nk_dn_point_params(nk_darknet *net, float *base)
{
	float *p = base;
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
		p += l->nparams;
	}
}

/* darknet's initial values at inference: scales 1, variances 1. */
static void init_params(nk_darknet *net)
{
	nk_dn_point_params(net, net->params);
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		for (int k = 0; l->bn && k < l->filters; k++)
			l->bn_scale[k] = l->bn_var[k] = 1;
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
		nk_conv_plan_free(l->plan);
	}
	free(net->l);
	free(net->params);
	nk_free_aligned(net->act);
	nk_free_aligned(net->work);
	nk_dncfg_free(&net->cfg);
	memset(net, 0, sizeof *net);
}

int nk_darknet_classes(const nk_darknet *net)
{
	return net->n ? net->l[net->n - 1].classes : 0;
}
