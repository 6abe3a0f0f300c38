/* det_arch.c - the cfg text of `detect train`'s detectors (det_arch.h).
 * Layers are written one by one with their absolute index counted, so
 * that routes and shortcuts can name them as darknet reads positive
 * indices: absolute. */
#include "models/det_arch.h"
#include "core/base.h"
#include "formats/wfile.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
	FILE *fp;
	int n;          /* layers written */
} writer;

static int conv(writer *w, int filters, int size, int bn, const char *act)
{
	fprintf(w->fp, "\n[convolutional]\n%sfilters=%d\nsize=%d\nstride=1\n"
		"pad=1\nactivation=%s\n", bn ? "batch_normalize=1\n" : "",
		filters, size, act);
	return w->n++;
}

static int layer(writer *w, const char *text)
{
	fprintf(w->fp, "\n%s", text);
	return w->n++;
}

nk_det_arch nk_det_arch_default(void)
{
	return (nk_det_arch){NK_HEAD_GRID, 0, 0, 416, 416, 20, 16, 2, 128, 0};
}

int nk_det_arch_levels(const nk_det_arch *a)
{
	if (a->head != NK_HEAD_GRID || !a->fpn)
		return 1;
	return a->levels ? a->levels : NK_DET_FPN_LEVELS;
}

int nk_det_arch_stride(int head)
{
	return head == NK_HEAD_CENTERNET ? 4 : 16;
}

/* The width of the path at stride s: narrower as the maps grow, so that
 * every level costs about the same. */
static int path_width(const nk_det_arch *a, int s)
{
	int f = a->base * s / 2;
	return f < 32 ? 32 : f > a->neck ? a->neck : f;
}

/* A [grid] level off the map `from` at stride s, for objects of
 * max(w, h) in [lo, hi) pixels (hi 0: no bound); then, unless it is the
 * last layer, a [route] back to `from` for the path to go on.  Returns
 * the path's layer. */
static int grid_head(writer *w, const nk_det_arch *a, int from, int s,
		     int lo, int hi)
{
	fprintf(w->fp, "\n# level: stride %d, objects of max(w, h) %d px", s,
		lo);
	if (hi)
		fprintf(w->fp, " up to (not incl.) %d px\n", hi);
	else
		fprintf(w->fp, " and up\n");
	conv(w, a->boxes * 5 + a->classes, 1, 0, "linear");
	fprintf(w->fp, "\n[grid]\nclasses=%d\nnum=%d\ncoord_scale=5\n"
		"noobject_scale=.5\nmin_size=%d\n", a->classes, a->boxes, lo);
	if (hi)
		fprintf(w->fp, "max_size=%d\n", hi);
	w->n++;
	if (s == 8)
		return from;
	fprintf(w->fp, "\n[route]\nlayers=%d\n", from);
	return w->n++;
}

int nk_det_arch_cfg(const nk_det_arch *a, char **text)
{
	*text = NULL;
	if (a->width < 32 || a->height < 32 || a->width % 32 ||
	    a->height % 32 || a->width > 4096 || a->height > 4096)
		return nk_error(NK_EINVAL, "network size %dx%d: each side a "
				"multiple of 32 from 32 to 4096", a->width,
				a->height);
	if (a->classes < 1 || a->classes > 4096 || a->base < 1 ||
	    a->base > 256 || a->boxes < 1 || a->boxes > 16 || a->neck < 8 ||
	    a->neck > 4096 || (a->head != NK_HEAD_GRID &&
			       a->head != NK_HEAD_CENTERNET) ||
	    a->levels < 0 || a->levels > 3)
		return nk_error(NK_EINVAL, "detector: classes %d, base %d, boxes "
				"%d, neck %d, head %d, levels %d out of range",
				a->classes, a->base, a->boxes, a->neck, a->head,
				a->levels);
	char *buf = NULL;
	size_t len = 0;
	writer w = {open_memstream(&buf, &len), 0};
	if (!w.fp)
		return NK_ENOMEM;
	fprintf(w.fp, "# nnkit detect train: %s head%s%s, base %d\n"
		"[net]\nwidth=%d\nheight=%d\nchannels=3\n",
		a->head == NK_HEAD_GRID ? "grid" : "centernet",
		a->fpn ? ", fpn" : "", a->spp ? ", spp" : "", a->base,
		a->width, a->height);

	/* Backbone: feat[k] is the map at stride 2^k. */
	int feat[6];
	for (int k = 0; k < 6; k++) {
		feat[k] = conv(&w, a->base << k, 3, 1, "leaky");
		if (k < 5)
			layer(&w, "[maxpool]\nsize=2\nstride=2\n");
	}
	int top = feat[5];
	if (a->spp) {
		/* yolov3-spp: three poolings of C5 at stride 1, concatenated
		 * with it, largest window first. */
		int p5, p9, p13;
		p5 = layer(&w, "[maxpool]\nstride=1\nsize=5\n");
		fprintf(w.fp, "\n[route]\nlayers=%d\n", top), w.n++;
		p9 = layer(&w, "[maxpool]\nstride=1\nsize=9\n");
		fprintf(w.fp, "\n[route]\nlayers=%d\n", top), w.n++;
		p13 = layer(&w, "[maxpool]\nstride=1\nsize=13\n");
		fprintf(w.fp, "\n[route]\nlayers=%d,%d,%d,%d\n", p13, p9, p5,
			top), w.n++;
	}
	top = conv(&w, path_width(a, 32), 1, 1, "leaky");

	/* Down to the head's stride, one level at a time; with several
	 * grid levels a head off each, the coarsest first (lo..16 or 32). */
	int nl = nk_det_arch_levels(a);
	int hs = nl > 1 ? 8 : nk_det_arch_stride(a->head);
	int coarse = nl == 3 ? 32 : 16;
	if (nl == 3)
		top = grid_head(&w, a, top, 32, 4 * 16, 0);
	for (int s = 16, k = 4; s >= hs; s /= 2, k--) {
		int f = path_width(a, s);
		/* FPN adds a lateral 1x1 of the backbone's map to the
		 * upsampled path, which must then be as wide: narrowed
		 * before upsampling, where it is cheaper. */
		if (a->fpn && path_width(a, 2 * s) != f)
			conv(&w, f, 1, 1, "leaky");
		int up = layer(&w, "[upsample]\nstride=2\n");
		if (a->fpn) {
			fprintf(w.fp, "\n[route]\nlayers=%d\n", feat[k]), w.n++;
			conv(&w, f, 1, 1, "leaky");
			fprintf(w.fp, "\n[shortcut]\nfrom=%d\nactivation=linear\n",
				up), w.n++;
		}
		top = conv(&w, f, 3, 1, "leaky");
		if (nl > 1 && s > hs)
			top = grid_head(&w, a, top, s, 4 * (s / 2),
					s == coarse ? 0 : 4 * s);
	}

	if (nl > 1) {
		grid_head(&w, a, top, hs, 0, 4 * hs);
	} else {
		int ch = a->head == NK_HEAD_GRID ? a->boxes * 5 + a->classes
						 : a->classes + 4;
		conv(&w, ch, 1, 0, "linear");
		if (a->head == NK_HEAD_GRID)
			fprintf(w.fp, "\n[grid]\nclasses=%d\nnum=%d\n"
				"coord_scale=5\nnoobject_scale=.5\n",
				a->classes, a->boxes);
		else
			fprintf(w.fp, "\n[centernet]\nclasses=%d\n",
				a->classes);
	}
	if (fclose(w.fp)) {
		free(buf);
		return NK_ENOMEM;
	}
	*text = buf;
	return NK_OK;
}

/* The fields in a fixed order: a new field goes at the end, and a file
 * with fewer is refused rather than guessed. */
#define ARCH_FIELDS 10

int nk_det_arch_save(const nk_det_arch *a, nk_wfile *w)
{
	int64_t v[ARCH_FIELDS] = {a->head, a->fpn, a->spp, a->width, a->height,
				  a->classes, a->base, a->boxes, a->neck,
				  a->levels};
	return nk_wfile_set_ints(w, "det_arch", v, ARCH_FIELDS);
}

int nk_det_arch_load(nk_det_arch *a, const nk_wfile *f)
{
	const int64_t *v;
	size_t n;
	if (!nk_wfile_meta(f, "det_arch"))
		return NK_ENOTFOUND;
	if (nk_wfile_get_ints(f, "det_arch", &v, &n))
		return NK_EFORMAT;
	if (n != ARCH_FIELDS)
		return nk_error(NK_EFORMAT, "%s: det_arch has %zu values, not %d",
				nk_wfile_name(f), n, ARCH_FIELDS);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0 || v[i] > 65536)
			return nk_error(NK_EFORMAT, "%s: det_arch value %zu out "
					"of range", nk_wfile_name(f), i);
	*a = (nk_det_arch){(int)v[0], (int)v[1], (int)v[2], (int)v[3],
			   (int)v[4], (int)v[5], (int)v[6], (int)v[7],
			   (int)v[8], (int)v[9]};
	return NK_OK;
}
