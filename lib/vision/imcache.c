/* imcache.c - decode a detection set's images once, in parallel
 * (imcache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/base.h"
#include "vision/imcache.h"
#include "vision/pyramid.h"

void nk_imcache_free(nk_imcache *cache)
{
	if (!cache)
		return;
	if (cache->images)
		for (int i = 0; i < cache->n; i++)
			nk_image_free(&cache->images[i]);
	free(cache->images);
	free(cache->sx);
	free(cache->sy);
	free(cache->objects);
	free(cache->first);
	memset(cache, 0, sizeof *cache);
}

static char *image_path(const nk_detset *set, const char *file)
{
	const char *root = set->root;
	if (!root || !*root || file[0] == '/')
		return nk_strdup(file);
	size_t a = strlen(root), b = strlen(file), n;
	if (nk_size_add(&n, a, b + 2))
		return NULL;
	char *p = nk_malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", root, root[a - 1] == '/' ? "" : "/",
			 file);
	return p;
}

/* The longer side at most max_side, the aspect kept (rounded, >= 1). */
static void fit(int *dw, int *dh, int w, int h, int max_side)
{
	*dw = w;
	*dh = h;
	if (max_side <= 0 || (w <= max_side && h <= max_side))
		return;
	if (w >= h) {
		*dw = max_side;
		*dh = (int)(((int64_t)h * max_side + w / 2) / w);
	} else {
		*dh = max_side;
		*dw = (int)(((int64_t)w * max_side + h / 2) / h);
	}
	if (*dw < 1)
		*dw = 1;
	if (*dh < 1)
		*dh = 1;
}

/* One image: decoded, made RGB, downscaled.  The message stays in this
 * thread's error slot; the caller copies it out. */
static int load_one(nk_image *out, float *sx, float *sy, const char *path,
		    int max_side)
{
	nk_image im;
	int rc = nk_image_load(&im, path, NULL);
	if (rc)
		return nk_error_prefix(rc, "imcache");
	nk_image rgb = im;
	if (im.c != 3) {
		rc = nk_image_alloc(&rgb, im.w, im.h, 3);
		if (rc) {
			nk_image_free(&im);
			return rc;
		}
		size_t np = (size_t)im.w * im.h;
		for (size_t i = 0; i < np; i++) {
			const unsigned char *p = im.data + i * im.c;
			unsigned char *q = rgb.data + i * 3;
			q[0] = p[0];
			q[1] = im.c >= 3 ? p[1] : p[0];
			q[2] = im.c >= 3 ? p[2] : p[0];
		}
		nk_image_free(&im);
	}
	int dw, dh;
	fit(&dw, &dh, rgb.w, rgb.h, max_side);
	*sx = (float)dw / rgb.w;
	*sy = (float)dh / rgb.h;
	if (dw == rgb.w && dh == rgb.h) {
		*out = rgb;
		return NK_OK;
	}
	rc = nk_image_alloc(out, dw, dh, 3);
	if (!rc)
		rc = nk_resize_area(out->data, dw, dh, rgb.data, rgb.w, rgb.h, 3);
	nk_image_free(&rgb);
	if (rc)
		nk_image_free(out);
	return rc;
}

int nk_imcache_load(nk_imcache *cache, const nk_detset *set, int max_side,
		    int threads)
{
	memset(cache, 0, sizeof *cache);
	if (!set || set->nimages < 0 || (set->nimages && !set->images) ||
	    (set->nobjects && !set->objects) || max_side < 0 || threads < 0)
		return nk_error(NK_EINVAL, "imcache: bad arguments");
	int n = set->nimages;
	for (size_t i = 0; i < set->nobjects; i++) {
		int im = set->objects[i].image;
		if (im < 0 || im >= n ||
		    (i && im < set->objects[i - 1].image))
			return nk_error(NK_EINVAL, "imcache: object %zu: image "
					"%d out of order or range", i, im);
	}
	cache->n = n;
	cache->images = nk_calloc((size_t)n + 1, sizeof *cache->images);
	cache->sx = nk_calloc((size_t)n + 1, sizeof *cache->sx);
	cache->sy = nk_calloc((size_t)n + 1, sizeof *cache->sy);
	cache->first = nk_calloc((size_t)n + 1, sizeof *cache->first);
	cache->objects = nk_calloc(set->nobjects + 1, sizeof *cache->objects);
	int *rcs = nk_calloc((size_t)n + 1, sizeof *rcs);
	char **msgs = nk_calloc((size_t)n + 1, sizeof *msgs);
	if (!cache->images || !cache->sx || !cache->sy || !cache->first ||
	    !cache->objects || !rcs || !msgs) {
		free(rcs);
		free(msgs);
		nk_imcache_free(cache);
		return NK_ENOMEM;
	}

	int nt = threads;
#ifdef _OPENMP
	if (nt == 0)
		nt = omp_get_max_threads();
#endif
	if (nt < 1)
		nt = 1;
	/* Images differ in size and codec cost: dynamic scheduling. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
	for (int i = 0; i < n; i++) {
		char *path = image_path(set, set->images[i].file ?
					set->images[i].file : "");
		int rc = path ? load_one(&cache->images[i], &cache->sx[i],
					 &cache->sy[i], path, max_side) :
				NK_ENOMEM;
		if (rc) {
			rcs[i] = rc;
			msgs[i] = nk_strdup(nk_last_error());
		}
		free(path);
	}

	int rc = NK_OK;
	for (int i = 0; i < n; i++)
		if (rcs[i] && !rc)
			rc = nk_error(rcs[i], "%s", msgs[i] ? msgs[i] :
				      "imcache: out of memory");
	for (int i = 0; i < n; i++)
		free(msgs[i]);
	free(msgs);
	free(rcs);
	if (rc) {
		nk_imcache_free(cache);
		return rc;
	}

	size_t bytes = 0;
	cache->first_mismatch = -1;
	for (int i = 0; i < n; i++) {
		bytes += nk_image_bytes(&cache->images[i]);
		const nk_det_image *di = &set->images[i];
		int fw = (int)(cache->images[i].w / cache->sx[i] + .5f);
		int fh = (int)(cache->images[i].h / cache->sy[i] + .5f);
		if ((di->width && di->width != fw) ||
		    (di->height && di->height != fh)) {
			if (!cache->mismatched++)
				cache->first_mismatch = i;
		}
	}
	size_t j = 0;
	for (int i = 0; i < n; i++) {
		cache->first[i] = j;
		while (j < set->nobjects && set->objects[j].image == i) {
			nk_det_object o = set->objects[j];
			o.x *= cache->sx[i];
			o.w *= cache->sx[i];
			o.y *= cache->sy[i];
			o.h *= cache->sy[i];
			if (o.area > 0)
				o.area *= cache->sx[i] * cache->sy[i];
			cache->objects[j++] = o;
		}
	}
	cache->first[n] = j;
	cache->nobjects = set->nobjects;
	cache->bytes = bytes + set->nobjects * sizeof *cache->objects +
		       (size_t)n * (sizeof(nk_image) + 2 * sizeof(float) +
				    sizeof(size_t));
	return NK_OK;
}
