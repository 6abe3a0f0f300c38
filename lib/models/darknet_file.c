/* darknet_file.c - a network's parameters in and out of files: darknet's
 * .weights, and the project's weight file with the cfg inside (its
 * schema, NK_DARKNET_SCHEMA, is defined here alone). */
#include "models/darknet.h"
#include "models/darknet_build.h"
#include "core/base.h"
#include "core/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t nk_darknet_file_floats(const nk_darknet *net)
{
	size_t n = 0;
	for (int i = 0; i < net->n; i++)
		if (!net->l[i].dontload)
			n += net->l[i].nparams;
	return n;
}

/* A connected layer's matrix between (outputs, inputs), ours and
 * darknet's usual order, and (inputs, outputs), the order of files whose
 * major or minor is > 1000. */
static void transpose(float *dst, const float *src, size_t rows, size_t cols)
{
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			dst[c * rows + r] = src[r * cols + c];
}

int nk_dn_check_count(const nk_darknet *net, size_t have, const char *name)
{
	size_t need = nk_darknet_file_floats(net), at = 0;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		if (l->dontload || !l->nparams)
			continue;
		if (at + l->nparams > have)
			return nk_error(NK_EFORMAT, "%s: the file ends in layer "
					"%d [%s] (line %d), which needs floats "
					"%zu..%zu: the cfg needs %zu floats, "
					"the file has %zu", name, i,
					nk_dn_type_name(l->type), l->line, at,
					at + l->nparams - 1, need, have);
		at += l->nparams;
	}
	if (have != need)
		return nk_error(NK_EFORMAT, "%s: %zu floats left after the last "
				"layer with weights: the cfg needs %zu, the "
				"file has %zu", name, have - need, need, have);
	return NK_OK;
}

int nk_darknet_set_weights(nk_darknet *net, const nk_dnw *d, const char *name)
{
	if (net->params_dropped)
		return nk_error(NK_EINVAL, "%s: the network's parameters were "
				"dropped: load it again", name);
	int rc = nk_dn_check_count(net, d->n, name);
	if (rc)
		return rc;
	size_t at = 0;
	int tr = nk_dnw_transposed(&d->h);
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		if (l->dontload || !l->nparams)
			continue;
		memcpy(l->bias, d->w + at, l->nparams * sizeof(float));
		if (tr && l->type == NK_DN_CONNECTED)
			transpose(l->weight, d->w + at + l->filters,
				  l->inputs, (size_t)l->filters);
		at += l->nparams;
	}
	net->hdr = d->h;
	net->folded = 0;
	return NK_OK;
}

int nk_darknet_load_weights(nk_darknet *net, const char *path)
{
	nk_dnw d;
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	/* A stream (a pipe, /dev/zero) is read no further than the file
	 * the cfg asks for: the longest header and its floats.  A regular
	 * file's size is known first, and a wrong one gets the layer-by-
	 * layer message. */
	size_t floats = nk_darknet_file_floats(net), max = NK_DNW_MAX_BYTES;
	if (!nk_input_mappable(path) && floats < (max - 20) / 4)
		max = 20 + 4 * floats;
	int rc = nk_dnw_read_max(&d, path, max);
	if (rc == NK_ERANGE && max < NK_DNW_MAX_BYTES)
		rc = nk_error(NK_ERANGE, "%s: more than the limit of %zu bytes "
			      "(the header and the %zu floats the cfg needs)",
			      name, max, floats);
	if (!rc)
		rc = nk_darknet_set_weights(net, &d, name);
	nk_dnw_free(&d);
	return rc;
}

int nk_darknet_save_weights(const nk_darknet *net, const char *path)
{
	if (net->params_dropped)
		return nk_error(NK_EINVAL, "darknet: the parameters were dropped "
				"after loading: nothing to save");
	size_t n = 0;
	for (int i = 0; i < net->n; i++)
		if (!net->l[i].dontsave)
			n += net->l[i].nparams;
	float *w = nk_malloc(n ? n * sizeof *w : 1);
	if (!w)
		return NK_ENOMEM;
	size_t at = 0;
	int tr = nk_dnw_transposed(&net->hdr);
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		if (l->dontsave || !l->nparams)
			continue;
		memcpy(w + at, l->bias, l->nparams * sizeof *w);
		if (tr && l->type == NK_DN_CONNECTED)
			transpose(w + at + l->filters, l->weight,
				  (size_t)l->filters, l->inputs);
		at += l->nparams;
	}
	int rc = nk_dnw_write(path, &net->hdr, w, n);
	free(w);
	return rc;
}

/* ---- the project's weight file ----------------------------------------- */

#define CFG_KEY "darknet_cfg"

typedef struct {
	const char *suffix;
	size_t off;   /* offsetof the pointer in nk_dn_layer */
	int is_weight;
} tensor_slot;

static const tensor_slot slots[] = {
	{"bias", offsetof(nk_dn_layer, bias), 0},
	{"weight", offsetof(nk_dn_layer, weight), 1},
};
static const tensor_slot bn_slots[] = {
	{"bn.scale", offsetof(nk_dn_layer, bn_scale), 0},
	{"bn.mean", offsetof(nk_dn_layer, bn_mean), 0},
	{"bn.var", offsetof(nk_dn_layer, bn_var), 0},
};

/* Shape of a layer's tensor: conv weight (F, C/groups, K, K), connected
 * weight (F, inputs), every vector (F). */
static int tensor_shape(const nk_dn_layer *l, int is_weight, int64_t *shape)
{
	shape[0] = l->filters;
	if (!is_weight)
		return 1;
	if (l->type == NK_DN_CONNECTED) {
		shape[1] = (int64_t)l->inputs;
		return 2;
	}
	shape[1] = l->c / l->groups;
	shape[2] = shape[3] = l->size;
	return 4;
}

static float **slot_ptr(nk_dn_layer *l, const tensor_slot *s)
{
	return (float **)((char *)l + s->off);
}

/* Visits each stored tensor of each layer: name, shape, data pointer. */
typedef int (*tensor_fn)(void *ctx, const char *name, int ndim,
			 const int64_t *shape, float *data, size_t n);

static int each_tensor(nk_darknet *net, tensor_fn fn, void *ctx)
{
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		if (!l->nparams)
			continue;
		const char *kind = l->type == NK_DN_CONV ? "conv" : "fc";
		for (int k = 0; k < 2 + (l->bn ? 3 : 0); k++) {
			const tensor_slot *s = k < 2 ? &slots[k] : &bn_slots[k - 2];
			char name[64];
			int64_t shape[4];
			int nd = tensor_shape(l, s->is_weight, shape);
			if (k < 2)
				snprintf(name, sizeof name, "L%d.%s.%s", i, kind,
					 s->suffix);
			else
				snprintf(name, sizeof name, "L%d.%s", i,
					 s->suffix);
			int rc = fn(ctx, name, nd, shape, *slot_ptr(l, s),
				    s->is_weight ? l->nweight
						 : (size_t)l->filters);
			if (rc)
				return rc;
		}
	}
	return NK_OK;
}

static int add_tensor(void *ctx, const char *name, int ndim,
		      const int64_t *shape, float *data, size_t n)
{
	(void)n;
	return nk_wfile_add(ctx, name, NK_F32, ndim, shape, data);
}

int nk_darknet_to_wfile(const nk_darknet *net, nk_wfile *w)
{
	if (net->params_dropped)
		return nk_error(NK_EINVAL, "darknet: the parameters were dropped "
				"after loading: nothing to save");
	int rc;
	int64_t ver[3] = {net->hdr.major, net->hdr.minor, net->hdr.revision};
	if ((rc = nk_wfile_set_str(w, "program", "detect")) ||
	    (rc = nk_wfile_set_int(w, NK_WFILE_SCHEMA_KEY, NK_DARKNET_SCHEMA)) ||
	    (rc = nk_wfile_set_str(w, "kind", "darknet")) ||
	    (rc = nk_wfile_set_str(w, CFG_KEY, net->cfg.text)) ||
	    (rc = nk_wfile_set_str(w, "darknet_cfg_name", net->cfg.name)) ||
	    (rc = nk_wfile_set_ints(w, "darknet_version", ver, 3)) ||
	    (rc = nk_wfile_set_int(w, "darknet_seen", (int64_t)net->hdr.seen)))
		return rc;
	return each_tensor((nk_darknet *)net, add_tensor, w);
}

int nk_darknet_save_nkw(const nk_darknet *net, const char *path)
{
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NK_ENOMEM;
	int rc = nk_darknet_to_wfile(net, w);
	if (!rc)
		rc = nk_wfile_write(w, path, 0);
	nk_wfile_free(w);
	return rc;
}

static int get_tensor(void *ctx, const char *name, int ndim,
		      const int64_t *shape, float *data, size_t n)
{
	const nk_wtensor *t = nk_wfile_expect(ctx, name, NK_F32, ndim, shape);
	if (!t)
		return NK_EFORMAT;
	memcpy(data, t->data, n * sizeof *data);
	return NK_OK;
}

int nk_darknet_from_wfile(nk_darknet *net, const nk_wfile *f)
{
	const char *name = nk_wfile_name(f), *kind, *text, *cname;
	memset(net, 0, sizeof *net);
	if (nk_wfile_get_str(f, "kind", &kind))
		return NK_EFORMAT;
	if (strcmp(kind, "darknet"))
		return nk_error(NK_EFORMAT, "%s: a '%s' model, not a darknet "
				"network", name, kind);
	if (nk_wfile_check_schema(f, "darknet", 1, NK_DARKNET_SCHEMA, NULL))
		return NK_EVERSION;
	const int64_t *ver;
	size_t nver;
	int64_t seen;
	if (nk_wfile_get_str(f, CFG_KEY, &text) ||
	    nk_wfile_get_ints(f, "darknet_version", &ver, &nver) ||
	    nk_wfile_get_int(f, "darknet_seen", &seen))
		return NK_EFORMAT;
	if (nver != 3)
		return nk_error(NK_EFORMAT, "%s: darknet_version has %zu "
				"numbers, not 3", name, nver);
	if (nk_wfile_get_str(f, "darknet_cfg_name", &cname))
		cname = name;
	/* Messages about the cfg name the file it came from, inside this one. */
	char label[512];
	snprintf(label, sizeof label, "%s(%s)", name, cname);
	nk_dncfg c;
	int rc = nk_dncfg_parse(&c, text, strlen(text), label);
	if (!rc)
		rc = nk_darknet_build(net, &c);
	if (rc)
		return rc;
	char *keep = nk_strdup(cname);
	if (!keep || (rc = each_tensor(net, get_tensor, (void *)f))) {
		free(keep);
		nk_darknet_free(net);
		return rc ? rc : NK_ENOMEM;
	}
	free(net->cfg.name); /* saved again, it keeps the cfg's own name */
	net->cfg.name = keep;
	net->hdr = (nk_dnw_header){(int32_t)ver[0], (int32_t)ver[1],
				   (int32_t)ver[2], (uint64_t)seen};
	return NK_OK;
}

int nk_darknet_load_nkw(nk_darknet *net, const char *path)
{
	memset(net, 0, sizeof *net);
	/* The largest a darknet model can be: its weights, its cfg, and
	 * room for the file's own header and tensor table. */
	nk_wfile *f = nk_wfile_read_max(path, NK_DNW_MAX_BYTES +
					NK_DNCFG_MAX_BYTES + ((size_t)16 << 20));
	if (!f)
		return NK_EFORMAT;
	int rc = nk_darknet_from_wfile(net, f);
	nk_wfile_free(f);
	return rc;
}
