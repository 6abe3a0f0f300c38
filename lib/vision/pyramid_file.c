/* pyramid_file.c - pyramid levels, Laplacian bands and SPP features as
 * nnkit weight files (the schema is in pyramid_file.h). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "vision/pyramid_file.h"
#include "vision/spp.h"

static int set_header(nk_wfile *w, const char *kind)
{
	int rc = nk_wfile_set_str(w, "program", "pyramid");
	if (!rc)
		rc = nk_wfile_set_int(w, NK_WFILE_SCHEMA_KEY, NK_PYR_SCHEMA);
	if (!rc)
		rc = nk_wfile_set_str(w, "kind", kind);
	return rc;
}

int nk_pyr_file_levels(nk_wfile **out, const char *kind, const char *source,
		       const nk_image *views, int n, const nk_laplacian *lp)
{
	nk_wfile *w = nk_wfile_create();
	int rc = w ? set_header(w, kind) : NK_ENOMEM;
	if (!rc)
		rc = nk_wfile_set_str(w, "source", source);
	if (!rc)
		rc = nk_wfile_set_int(w, "levels", n);
	if (!rc)
		rc = nk_wfile_set_int(w, "channels", views[0].c);
	for (int i = 0; i < n && !rc; i++) {
		char name[32];
		snprintf(name, sizeof name, "level.%d", i);
		int64_t shape[3] = { views[i].h, views[i].w, views[i].c };
		if (lp)
			rc = nk_wfile_add(w, name, NK_I16, 3, shape, lp->band[i]);
		else
			rc = nk_wfile_add(w, name, NK_U8, 3, shape, views[i].data);
	}
	if (rc) {
		nk_wfile_free(w);
		w = NULL;
	}
	*out = w;
	return rc;
}

/* Band i of a levels file into lp, its shape and values checked. */
static int read_band(nk_laplacian *lp, const nk_wfile *r, const char *file,
		     int i)
{
	char name[32];
	snprintf(name, sizeof name, "level.%d", i);
	const nk_wtensor *t = nk_wfile_expect(r, name, NK_I16, 3,
					      (int64_t[]){ -1, -1, -1 });
	if (!t)
		return NK_EFORMAT;
	if (t->ne[0] < 1 || t->ne[0] > NK_IMAGE_MAX_SIDE || t->ne[1] < 1 ||
	    t->ne[1] > NK_IMAGE_MAX_SIDE || t->ne[2] < 1 || t->ne[2] > 4 ||
	    (i > 0 && t->ne[2] != lp->c))
		return nk_error(NK_EFORMAT, "%s: tensor '%s' has a bad shape",
				file, name);
	lp->h[i] = (int)t->ne[0];
	lp->w[i] = (int)t->ne[1];
	lp->c = (int)t->ne[2];
	lp->band[i] = nk_malloc(t->nelem * sizeof(int16_t) + 1);
	if (!lp->band[i])
		return NK_ENOMEM;
	const int16_t *v = t->data;
	for (size_t k = 0; k < t->nelem; k++) {
		if (v[k] < -255 || v[k] > 255)
			return nk_error(NK_EFORMAT, "%s: tensor '%s' value %d "
					"outside -255..255", file, name, v[k]);
		lp->band[i][k] = v[k];
	}
	return NK_OK;
}

int nk_pyr_file_read_laplacian(nk_laplacian *lp, const nk_wfile *r,
			       const char *name)
{
	memset(lp, 0, sizeof *lp);
	int64_t n = 0;
	const char *kind = NULL;
	/* The kind first: another program's file has its own schemas. */
	int rc = nk_wfile_get_str(r, "kind", &kind);
	if (!rc && strcmp(kind, "laplacian") != 0)
		rc = nk_error(NK_EFORMAT, "%s: holds a '%s' pyramid, not "
			      "laplacian bands", name, kind);
	if (!rc)
		rc = nk_wfile_check_schema(r, "pyramid", 1, NK_PYR_SCHEMA, NULL);
	if (!rc)
		rc = nk_wfile_get_int(r, "levels", &n);
	if (!rc && (n < 1 || n > NK_PYR_MAX_LEVELS))
		rc = nk_error(NK_EFORMAT, "%s: %" PRId64 " levels", name, n);
	for (int i = 0; i < n && !rc; i++)
		rc = read_band(lp, r, name, i);
	lp->n = (int)n;
	if (rc)
		nk_laplacian_free(lp);
	return rc;
}

int nk_pyr_file_reconstruct(nk_image *out, const nk_wfile *r,
			    const char *name)
{
	nk_laplacian lp;
	int rc = nk_pyr_file_read_laplacian(&lp, r, name);
	if (rc)
		return rc;
	rc = nk_laplacian_reconstruct(out, &lp);
	if (rc)
		nk_error_prefix(rc, name);
	nk_laplacian_free(&lp);
	return rc;
}

/* ---- spp ----------------------------------------------------------------- */

nk_wfile *nk_spp_file_create(int mode, const int *levels, int nlevels)
{
	int64_t bins[NK_SPP_MAX_LEVELS];
	if (nlevels < 1 || nlevels > NK_SPP_MAX_LEVELS) {
		nk_error(NK_ERANGE, "%d spp levels", nlevels);
		return NULL;
	}
	for (int i = 0; i < nlevels; i++)
		bins[i] = levels[i];
	nk_wfile *w = nk_wfile_create();
	if (!w || set_header(w, "spp") ||
	    nk_wfile_set_str(w, "pool", mode == NK_SPP_AVG ? "avg" : "max") ||
	    nk_wfile_set_ints(w, "bins", bins, (size_t)nlevels)) {
		nk_wfile_free(w);
		return NULL;
	}
	return w;
}

int nk_spp_file_add(nk_wfile *w, float *out, int B, size_t D)
{
	char name[32];
	snprintf(name, sizeof name, "spp.%zu", nk_wfile_n_tensors(w));
	return nk_wfile_add(w, name, NK_F32, 2, (int64_t[]){ B, (int64_t)D },
			    out);
}

void nk_spp_file_free(nk_wfile *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < nk_wfile_n_tensors(w); i++)
		free((void *)nk_wfile_tensor_at(w, i)->data);
	nk_wfile_free(w);
}

/* A weight file's feature map: f32 (C,H,W) or (B,C,H,W). */
static int decode_wfile(float **x, int dims[4], const void *data,
			size_t size, const char *name, const char *tname)
{
	nk_wfile *r = nk_wfile_read_mem(data, size, name);
	const nk_wtensor *t = NULL;
	int rc = NK_OK;
	if (!r)
		rc = NK_EFORMAT;
	else if (tname)
		t = nk_wfile_tensor(r, tname);
	else if (nk_wfile_n_tensors(r) > 0)
		t = nk_wfile_tensor_at(r, 0);
	else
		rc = nk_error(NK_EFORMAT, "%s: no tensors", name);
	if (!rc && !t)
		rc = NK_ENOTFOUND;
	if (!rc && (t->dtype != NK_F32 || t->ndim < 3 || t->ndim > 4))
		rc = nk_error(NK_EFORMAT, "%s: tensor '%s' must be f32 "
			      "(C,H,W) or (B,C,H,W)", name, t->name);
	if (!rc) {
		const int64_t *ne = t->ne;
		int off = t->ndim - 3;
		int64_t b = off ? ne[0] : 1;
		if (b < 1 || ne[off] < 1 || ne[off + 1] < 1 ||
		    ne[off + 2] < 1 || b > INT_MAX || ne[off] > INT_MAX ||
		    ne[off + 1] > INT_MAX || ne[off + 2] > INT_MAX) {
			rc = nk_error(NK_EFORMAT, "%s: tensor '%s' is empty",
				      name, t->name);
		} else {
			dims[0] = (int)b;
			dims[1] = (int)ne[off];
			dims[2] = (int)ne[off + 1];
			dims[3] = (int)ne[off + 2];
			*x = nk_malloc(t->nbytes);
			if (!*x)
				rc = NK_ENOMEM;
			else
				memcpy(*x, t->data, t->nbytes);
		}
	}
	nk_wfile_free(r);
	return rc;
}

int nk_spp_input_decode(float **x, int dims[4], const void *data,
			size_t size, const char *name, const char *tname,
			const nk_image_limits *lim)
{
	*x = NULL;
	if (size >= 4 && memcmp(data, NK_WFILE_MAGIC, 4) == 0)
		return decode_wfile(x, dims, data, size, name, tname);
	nk_image img;
	int rc = nk_image_decode(&img, data, size, name, lim);
	if (rc)
		return rc;
	int C = img.c, H = img.h, W = img.w;
	float *f = nk_calloc(nk_image_bytes(&img), sizeof *f);
	if (!f) {
		nk_image_free(&img);
		return NK_ENOMEM;
	}
	/* (H,W,C) bytes to a (1,C,H,W) float map. */
	for (size_t p = 0; p < (size_t)H * W; p++)
		for (int k = 0; k < C; k++)
			f[(size_t)k * H * W + p] = img.data[p * C + k];
	nk_image_free(&img);
	dims[0] = 1;
	dims[1] = C;
	dims[2] = H;
	dims[3] = W;
	*x = f;
	return NK_OK;
}
