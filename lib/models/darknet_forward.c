/* darknet_forward.c - running a darknet network forward at inference:
 * batch norm folded into the weights, the layers of lib/nn/ for the
 * arithmetic, darknet's own rules for what is particular to it (the
 * shortcut between sizes; the heads' activations are in
 * darknet_head_act.c). */
#include "models/darknet.h"
#include "core/base.h"
#include "nn/conv.h"
#include "nn/conv_infer.h"
#include "core/io.h"
#include "models/darknet_build.h"
#include "nn/linear.h"
#include "nn/pool.h"

#include <stdint.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>

/* darknet's CPU normalize_cpu divides by sqrt(var) + .000001, not by
 * sqrt(var + eps) as cuDNN and OpenCV (eps 1e-6) do; darknet's CPU build
 * is the reference here.  y = scale * (x - mean) / d + bias becomes
 * x * (scale / d) + (bias - mean * scale / d). */
static int fold_into(const nk_dn_layer *l, float *fw, float *fb)
{
	size_t F = (size_t)l->filters, per = l->nweight / F;
	for (size_t f = 0; f < F; f++) {
		float k = 1, b = l->bias[f];
		if (l->bn) {
			k = l->bn_scale[f] / (sqrtf(l->bn_var[f]) + .000001f);
			b = l->bias[f] - l->bn_mean[f] * k;
		}
		for (size_t j = 0; j < per; j++)
			fw[f * per + j] = l->weight[f * per + j] * k;
		fb[f] = b;
	}
	return NK_OK;
}

static nk_conv2d_shape conv_shape(const nk_dn_layer *l)
{
	return (nk_conv2d_shape){l->c, l->h, l->w, l->filters, l->size,
				 l->stride, l->pad, l->groups};
}

/* A connected layer keeps its folded weights; a convolution keeps only
 * its plan, which copies them into the form its algorithm wants
 * (Winograd tiles, packed panels), so the folded copy is let go.  Planned
 * from a mapped file (in, the layer's floats at byte off), the layer's
 * pages are let go as soon as the folded copy is made, before the plan is:
 * yolov3-tiny's 512->1024 layer would otherwise hold its 19 MB three
 * times at once (mapped, folded, and as 34 MB of Winograd tiles), and
 * that moment was the process's peak. */
static int fold(nk_dn_layer *l, const nk_input *in, size_t off)
{
	free(l->fw);
	free(l->fb);
	nk_conv_plan_free(l->plan);
	l->fw = l->fb = NULL;
	l->plan = NULL;
	float *fw = nk_malloc(l->nweight * sizeof *fw);
	float *fb = nk_malloc((size_t)l->filters * sizeof *fb);
	if (!fw || !fb) {
		free(fw);
		free(fb);
		return NK_ENOMEM;
	}
	fold_into(l, fw, fb);
	if (in)
		nk_input_release(in, off, l->nparams * sizeof(float));
	if (l->type != NK_DN_CONV) {
		l->fw = fw;
		l->fb = fb;
		return NK_OK;
	}
	nk_conv2d_shape s = conv_shape(l);
	l->plan = nk_conv_plan_new(&s, fw, fb, l->act);
	free(fw);
	free(fb);
	return l->plan ? NK_OK : NK_ENOMEM;
}

static int fold_all(nk_darknet *net)
{
	if (net->folded)
		return NK_OK;
	if (net->params_dropped)
		return nk_error(NK_EINVAL, "darknet: the parameters were dropped");
	for (int i = 0; i < net->n; i++)
		if (net->l[i].nparams && fold(&net->l[i], NULL, 0))
			return NK_ENOMEM;
	net->folded = 1;
	net->B = 0; /* the plans' scratch sizes may differ */
	return NK_OK;
}

/* Whether layer i's output must outlive the forward: the heads' (decoded
 * afterwards) and the last layer's. */
static int kept(const nk_darknet *net, int i)
{
	nk_dn_type t = net->l[i].type;
	return net->keep_outputs || i == net->n - 1 || t == NK_DN_YOLO ||
	       t == NK_DN_REGION || t == NK_DN_DETECTION ||
	       t == NK_DN_GRID || t == NK_DN_CENTERNET;
}

/* Whether convolution i runs fused with the max pool after it (one pass
 * that writes only the pooled map, nk_conv_plan_run_pool): a 2x2 stride-2
 * pool with nothing before the first row and column (darknet's default
 * padding 1 is all after), on an even map, and no other reader of the
 * convolution's output.  yolov3-tiny's first four convolutions: 11, 5.5,
 * 2.8 and 1.4 MB never written. */
static int fuses_pool(const nk_darknet *net, int i)
{
	const nk_dn_layer *l = &net->l[i], *p = &net->l[i + 1];
	if (i + 1 >= net->n || l->type != NK_DN_CONV || !l->plan ||
	    p->type != NK_DN_MAXPOOL || kept(net, i) ||
	    !nk_conv_plan_pools(l->plan) || p->size != 2 || p->stride != 2 ||
	    p->pad / 2 != 0 || 2 * p->out_h != l->out_h ||
	    2 * p->out_w != l->out_w)
		return 0;
	for (int j = i + 2; j < net->n; j++) {
		const nk_dn_layer *r = &net->l[j];
		if (r->type == NK_DN_SHORTCUT && r->from == i)
			return 0;
		for (int k = 0; r->type == NK_DN_ROUTE && k < r->nlayers; k++)
			if (r->layers[k] == i)
				return 0;
	}
	return 1;
}

/* Lays the layers' outputs out in one block.  Each layer reads the one
 * before it, a route its layers, a shortcut its `from`; once the last
 * reader of an output has run, its buffer goes back to a pool and the
 * next layer that needs one takes the smallest free buffer that fits (or
 * the largest, grown).  A layer's buffer is never one of its inputs':
 * those are released only after it is assigned.  For yolov3-tiny this
 * holds 3 buffers' worth instead of 24 layers'.  With skip_kept, the
 * kept outputs are left out (off SIZE_MAX - 1): image groups each have
 * their own copy of this block, and the kept outputs one for all. */
/* n floats rounded up to whole cache lines: every buffer then starts on
 * a line (the activations are allocated aligned), so that two threads
 * writing the ends of two neighbouring maps never share one. */
static size_t line_floats(size_t n)
{
	return n + (16 - n % 16) % 16;
}

static int layout(nk_darknet *net, int B, int skip_kept, size_t *off,
		  size_t *total)
{
	int n = net->n, *last = nk_calloc((size_t)n, sizeof *last),
	    *buf = nk_calloc((size_t)n, sizeof *buf), nbuf = 0;
	size_t *cap = nk_calloc((size_t)n, sizeof *cap);
	char *busy = nk_calloc((size_t)n, 1);
	if (!last || !buf || !cap || !busy) {
		free(last);
		free(buf);
		free(cap);
		free(busy);
		return NK_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		const nk_dn_layer *l = &net->l[i];
		last[i] = kept(net, i) ? n : i;
		if (i > 0 && last[i - 1] < i)
			last[i - 1] = i;
		if (l->type == NK_DN_ROUTE)
			for (int k = 0; k < l->nlayers; k++)
				if (last[l->layers[k]] < i)
					last[l->layers[k]] = i;
		if (l->type == NK_DN_SHORTCUT && last[l->from] < i)
			last[l->from] = i;
	}
	/* A fused convolution runs as its pool does: its input is read
	 * while the pool's output is written, so the two must not share. */
	for (int i = 1; i + 1 < n; i++)
		if (fuses_pool(net, i) && last[i - 1] == i)
			last[i - 1] = i + 1;
	for (int i = 0; i < n; i++) {
		size_t need = net->l[i].outputs * (size_t)B;
		int pick = -1;
		if (fuses_pool(net, i)) {
			buf[i] = -1; /* never written */
			continue;
		}
		if (skip_kept && kept(net, i)) {
			buf[i] = -2;
			continue;
		}
		for (int k = 0; k < nbuf; k++) {
			if (busy[k])
				continue;
			if (pick < 0 ||
			    (cap[k] >= need && (cap[pick] < need || cap[k] < cap[pick])) ||
			    (cap[pick] < need && cap[k] > cap[pick]))
				pick = k;
		}
		if (pick < 0)
			pick = nbuf++;
		if (cap[pick] < need)
			cap[pick] = need;
		busy[pick] = 1;
		buf[i] = pick;
		/* Outputs whose last reader is layer i are free from now on. */
		for (int j = 0; j <= i; j++)
			if (last[j] == i && (j != i || last[i] == i) && buf[j] >= 0)
				busy[buf[j]] = 0;
	}
	size_t *start = nk_calloc((size_t)nbuf + 1, sizeof *start);
	if (!start) {
		free(last);
		free(buf);
		free(cap);
		free(busy);
		return NK_ENOMEM;
	}
	int rc = NK_OK;
	for (int k = 0; k < nbuf && !rc; k++)
		rc = nk_size_add(&start[k + 1], start[k], line_floats(cap[k]));
	for (int i = 0; i < n && !rc; i++)
		off[i] = buf[i] == -1 ? SIZE_MAX :
			 buf[i] == -2 ? SIZE_MAX - 1 : start[buf[i]];
	*total = start[nbuf];
	free(start);
	free(last);
	free(buf);
	free(cap);
	free(busy);
	return rc;
}

/* Several images run in groups, each group through the whole network on
 * one thread: a thread then reads only the maps it wrote, where sharing
 * every layer among the threads passes each map from core to core (two
 * threads took 1.1-1.3x one thread's CPU time on a layer).  An image's
 * numbers are the same in any group. */
static int image_groups(int B)
{
	int nt = 1;
#ifdef _OPENMP
	if (!omp_in_parallel())
		nt = omp_get_max_threads();
#endif
	return B < nt ? B : nt;
}

static int prepare(nk_darknet *net, int B)
{
	int rc = fold_all(net);
	if (rc)
		return rc;
	int G = image_groups(B), Bg = (B + G - 1) / G;
	if (B == net->B && G == net->groups &&
	    net->planned_keep == net->keep_outputs)
		return NK_OK;
	size_t total = 0, work = 1;
	size_t *off = nk_calloc((size_t)net->n, sizeof *off);
	if (!off)
		return NK_ENOMEM;
	for (int i = 0; i < net->n; i++) {
		size_t n;
		if (nk_size_mul(&n, net->l[i].outputs, (size_t)B)) {
			free(off);
			return NK_ENOMEM;
		}
		if (net->l[i].plan) {
			size_t wf = nk_conv_plan_work_floats(net->l[i].plan,
							     G > 1 ? Bg : B);
			if (wf > work)
				work = wf;
		}
	}
	if ((rc = layout(net, G > 1 ? Bg : B, G > 1, off, &total))) {
		free(off);
		return rc;
	}
	/* Groups: G copies of the reused buffers, then the kept outputs. */
	size_t gstride = total;
	if (G > 1) {
		if (nk_size_mul(&total, total, (size_t)G)) {
			free(off);
			return NK_ENOMEM;
		}
		for (int i = 0; i < net->n && !rc; i++)
			if (off[i] == SIZE_MAX - 1) {
				off[i] = total;
				rc = nk_size_add(&total, total, line_floats(
						 net->l[i].outputs * (size_t)B));
			}
		if (rc) {
			free(off);
			return NK_ENOMEM;
		}
	}
	nk_free_aligned(net->act);
	nk_free_aligned(net->work);
	net->B = 0;
	net->act = nk_malloc_aligned((total ? total : 1) * sizeof *net->act);
	size_t all = 0;
	work = line_floats(work); /* each group's scratch on its own lines */
	if (nk_size_mul(&all, work, (size_t)G)) {
		free(off);
		return NK_ENOMEM;
	}
	net->work = nk_malloc_aligned(all * sizeof *net->work);
	if (!net->act || !net->work) {
		free(off);
		return NK_ENOMEM;
	}
	net->nwork = work;
	for (int i = 0; i < net->n; i++) {
		net->l[i].out = off[i] == SIZE_MAX ? NULL : net->act + off[i];
		net->l[i].gstride = G > 1 && !kept(net, i) ? gstride : 0;
	}
	free(off);
	net->B = B;
	net->groups = G;
	net->planned_keep = net->keep_outputs;
	return NK_OK;
}

/* Folds and plans each layer straight from the mapped file (its floats
 * start hsize bytes in), letting the layer's pages go once folded. */
static int plan_from_file(nk_darknet *net, const nk_input *in, size_t hsize)
{
	size_t at = 0;
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		if (!l->nparams)
			continue;
		int rc = fold(l, in, hsize + at * sizeof(float));
		if (rc)
			return rc;
		at += l->nparams;
	}
	return NK_OK;
}

int nk_darknet_load_infer(nk_darknet *net, const char *cfg_path,
			  const char *weights_path)
{
	nk_dncfg c;
	memset(net, 0, sizeof *net);
	int rc = nk_dncfg_load(&c, cfg_path);
	if (rc || (rc = nk_darknet_build_shapes(net, &c)))
		return rc;
	const char *name = strcmp(weights_path, "-") ? weights_path : "(stdin)";
	int plain = __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ ||
		    !nk_input_mappable(weights_path);
	for (int i = 0; i < net->n && !plain; i++)
		plain = net->l[i].dontload;
	nk_input in = {0};
	size_t hsize = 0;
	nk_dnw_header h = {0};
	if (!plain && !(rc = nk_input_load(&in, weights_path, NK_DNW_MAX_BYTES))) {
		if (in.size >= 12) {
			h.major = (int32_t)nk_load_u32le(in.data);
			h.minor = (int32_t)nk_load_u32le(in.data + 4);
			h.revision = (int32_t)nk_load_u32le(in.data + 8);
		}
		hsize = nk_dnw_seen64(&h) ? 20 : 16;
		/* Short, ragged or transposed files: the reader's messages. */
		plain = in.size < hsize || (in.size - hsize) % 4 ||
			nk_dnw_transposed(&h);
		if (!plain) {
			h.seen = hsize == 20 ? nk_load_u64le(in.data + 12)
					     : nk_load_u32le(in.data + 12);
			rc = nk_dn_check_count(net, (in.size - hsize) / 4, name);
		}
	}
	if (!rc && !plain) {
		/* Read only: fold and the plans copy out of the mapping. */
		nk_dn_point_params(net, (float *)(uintptr_t)(in.data + hsize));
		net->hdr = h;
		rc = plan_from_file(net, &in, hsize);
		for (int i = 0; i < net->n; i++) {
			nk_dn_layer *l = &net->l[i];
			l->bias = l->bn_scale = l->bn_mean = l->bn_var =
				l->weight = NULL;
		}
		net->folded = !rc;
		net->params_dropped = 1;
	}
	nk_input_free(&in);
	if (!rc && plain) {
		nk_darknet_free(net);
		rc = nk_darknet_load(net, cfg_path, weights_path);
		if (!rc && (rc = nk_darknet_drop_params(net)))
			nk_darknet_free(net);
		return rc;
	}
	if (rc)
		nk_darknet_free(net);
	return rc;
}

int nk_darknet_drop_params(nk_darknet *net)
{
	int rc = fold_all(net);
	if (rc)
		return rc;
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		l->bias = l->bn_scale = l->bn_mean = l->bn_var = l->weight = NULL;
	}
	free(net->params);
	net->params = NULL;
	net->params_dropped = 1;
	return NK_OK;
}

/* darknet's shortcut_cpu: out = s1*out + s2*add over the overlap, the
 * larger side stepped by the ratio of the sizes. */
static void shortcut(float *out, const float *add, int B, int w1, int h1,
		     int c1, int w2, int h2, int c2, float s1, float s2)
{
	int stride = w1 / w2, sample = w2 / w1;
	if (stride < 1)
		stride = 1;
	if (sample < 1)
		sample = 1;
	int minw = w1 < w2 ? w1 : w2, minh = h1 < h2 ? h1 : h2,
	    minc = c1 < c2 ? c1 : c2;
	for (int b = 0; b < B; b++)
		for (int k = 0; k < minc; k++)
			for (int j = 0; j < minh; j++)
				for (int i = 0; i < minw; i++) {
					size_t o = (size_t)i * sample + (size_t)w2 *
						   (j * sample + (size_t)h2 *
						    (k + (size_t)c2 * b));
					size_t a = (size_t)i * stride + (size_t)w1 *
						   (j * stride + (size_t)h1 *
						    (k + (size_t)c1 * b));
					out[o] = s1 * out[o] + s2 * add[a];
				}
}

/* Image b's output of layer l, in group g whose first image is b0. */
static float *image_out(const nk_dn_layer *l, int g, int b0, int b)
{
	if (l->gstride)
		return l->out + g * l->gstride + (size_t)(b - b0) * l->outputs;
	return l->out + (size_t)b * l->outputs;
}

/* Layer i on images [b0, b0 + B) of group g: in is image b0's input. */
static void forward_layer(nk_darknet *net, int i, const float *in, int g,
			  int b0, int B, float *work)
{
	nk_dn_layer *l = &net->l[i];
	size_t nin = l->inputs * (size_t)B, nout = l->outputs * (size_t)B;
	float *out = image_out(l, g, b0, b0);
	switch (l->type) {
	case NK_DN_CONV: {
		nk_conv_plan_run(l->plan, out, in, B, work);
		break;
	}
	case NK_DN_CONNECTED:
		nk_linear_forward(out, in, l->fw, l->fb, B, (int)l->inputs,
				  l->filters);
		nk_act_forward(out, nout, l->act);
		break;
	case NK_DN_MAXPOOL: {
		/* darknet pads padding/2 before, the rest after. */
		nk_pool_shape s = {l->c, l->h, l->w, l->out_h, l->out_w,
				   l->size, l->stride, l->pad / 2};
		nk_maxpool_forward(out, NULL, in, B, &s);
		break;
	}
	case NK_DN_AVGPOOL:
		nk_global_avgpool_forward(out, in, B, l->c, l->h * l->w);
		break;
	case NK_DN_ROUTE: {
		size_t off = 0;
		for (int k = 0; k < l->nlayers; k++) {
			const nk_dn_layer *f = &net->l[l->layers[k]];
			for (int b = b0; b < b0 + B; b++)
				memcpy(image_out(l, g, b0, b) + off,
				       image_out(f, g, b0, b),
				       f->outputs * sizeof(float));
			off += f->outputs;
		}
		break;
	}
	case NK_DN_SHORTCUT: {
		const nk_dn_layer *f = &net->l[l->from];
		memcpy(out, in, nout * sizeof(float));
		shortcut(out, image_out(f, g, b0, b0), B, f->out_w,
			 f->out_h, f->out_c, l->out_w, l->out_h, l->out_c,
			 l->alpha, l->beta);
		nk_act_forward(out, nout, l->act);
		break;
	}
	case NK_DN_UPSAMPLE:
		nk_upsample_forward(out, in, B, l->c, l->h, l->w, l->stride);
		if (l->scale != 1)
			for (size_t k = 0; k < nout; k++)
				out[k] *= l->scale;
		break;
	case NK_DN_REORG:
		nk_reorg_forward(out, in, B, l->c, l->h, l->w, l->stride);
		break;
	case NK_DN_YOLO:
		nk_dn_yolo_forward(l, out, in, B);
		break;
	case NK_DN_SOFTMAX:
	case NK_DN_DETECTION: /* yolov1: each cell's classes, the first
			       * side*side*classes values */
	case NK_DN_REGION:
		memcpy(out, in, nout * sizeof(float));
		nk_dn_head_forward(l, out, B);
		break;
	case NK_DN_GRID:       /* raw: the decoders activate what they read */
	case NK_DN_CENTERNET:
	case NK_DN_DROPOUT:
	case NK_DN_COST:
	case NK_DN_TYPE_COUNT:
		memcpy(out, in, nin * sizeof(float));
		break;
	}
}

/* Every layer on images [b0, b0 + B) of in, group g. */
static void forward_images(nk_darknet *net, const float *in, int g, int b0,
			   int B, float *work)
{
	in += (size_t)b0 * net->inputs;
	for (int i = 0; i < net->n; i++) {
		nk_dn_layer *l = &net->l[i];
		if (fuses_pool(net, i)) {
			nk_dn_layer *p = &net->l[++i];
			float *out = image_out(p, g, b0, b0);
			nk_conv_plan_run_pool(l->plan, out, in, B, work);
			in = out;
			continue;
		}
		forward_layer(net, i, in, g, b0, B, work);
		in = image_out(l, g, b0, b0);
	}
}

int nk_darknet_forward(nk_darknet *net, const float *in, int B)
{
	if (B < 1)
		return nk_error(NK_EINVAL, "darknet forward: batch %d", B);
	int rc = prepare(net, B);
	if (rc)
		return rc;
	int G = net->groups;
	if (G <= 1) {
		forward_images(net, in, 0, 0, B, net->work);
		return NK_OK;
	}
	/* Image groups as even as they come; the layers inside run on
	 * their group's thread alone (nested regions are inactive). */
#pragma omp parallel for schedule(static, 1) num_threads(G)
	for (int g = 0; g < G; g++) {
		int b0 = B / G * g + (g < B % G ? g : B % G);
		int nb = B / G + (g < B % G);
		forward_images(net, in, g, b0, nb,
			       net->work + (size_t)g * net->nwork);
	}
	return NK_OK;
}

const float *nk_darknet_output(const nk_darknet *net, int i)
{
	if (i < 0 || i >= net->n || !net->B ||
	    !(net->planned_keep || kept(net, i)))
		return NULL;
	return net->l[i].out;
}
