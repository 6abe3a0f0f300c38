/* params.c - one block of parameters, one of gradients, named views. */
#include "nn/params.h"
#include "core/base.h"
#include "formats/wfile.h"

#include <stdlib.h>
#include <string.h>

enum { ALIGN_FLOATS = 16 }; /* 64 bytes */

int nk_params_init(nk_params *p, const nk_param_spec *specs, int count)
{
	memset(p, 0, sizeof *p);
	if (count < 0)
		return nk_error(NK_EINVAL, "negative parameter count");
	size_t total = 0;
	size_t *offsets = nk_calloc((size_t)count + 1, sizeof *offsets);
	if (!offsets)
		return NK_ENOMEM;
	for (int i = 0; i < count; i++) {
		size_t n = 1;
		if (specs[i].ndim < 0 || specs[i].ndim > 4) {
			free(offsets);
			return nk_error(NK_EINVAL, "parameter '%s': %d dimensions",
					specs[i].name, specs[i].ndim);
		}
		for (int d = 0; d < specs[i].ndim; d++)
			if (specs[i].shape[d] < 0 ||
			    nk_size_mul(&n, n, (size_t)specs[i].shape[d])) {
				free(offsets);
				return nk_error(NK_ERANGE, "parameter '%s': bad "
						"shape", specs[i].name);
			}
		offsets[i] = total;
		size_t padded = (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
		if (nk_size_add(&total, total, padded)) {
			free(offsets);
			return NK_ERANGE;
		}
	}
	size_t bytes;
	if (nk_size_mul(&bytes, total, sizeof(float))) {
		free(offsets);
		return NK_ERANGE;
	}
	p->count = count;
	p->numel = total;
	p->data = nk_malloc_aligned(bytes);
	p->grads = nk_malloc_aligned(bytes);
	p->names = nk_calloc((size_t)count, sizeof *p->names);
	p->value = nk_calloc((size_t)count, sizeof *p->value);
	p->grad = nk_calloc((size_t)count, sizeof *p->grad);
	if (!p->data || !p->grads || !p->names || !p->value || !p->grad) {
		free(offsets);
		nk_params_free(p);
		return NK_ENOMEM;
	}
	memset(p->data, 0, bytes);
	memset(p->grads, 0, bytes);
	for (int i = 0; i < count; i++) {
		if (!(p->names[i] = nk_strdup(specs[i].name))) {
			free(offsets);
			nk_params_free(p);
			return NK_ENOMEM;
		}
		nk_tensor_wrap(&p->value[i], p->data + offsets[i], NK_F32,
			       specs[i].ndim, specs[i].shape);
		nk_tensor_wrap(&p->grad[i], p->grads + offsets[i], NK_F32,
			       specs[i].ndim, specs[i].shape);
	}
	free(offsets);
	return NK_OK;
}

void nk_params_free(nk_params *p)
{
	if (p->names)
		for (int i = 0; i < p->count; i++)
			free(p->names[i]);
	free(p->names);
	free(p->value);
	free(p->grad);
	nk_free_aligned(p->data);
	nk_free_aligned(p->grads);
	memset(p, 0, sizeof *p);
}

int nk_params_find(const nk_params *p, const char *name)
{
	for (int i = 0; i < p->count; i++)
		if (strcmp(p->names[i], name) == 0)
			return i;
	nk_error(NK_ENOTFOUND, "no parameter named '%s'", name);
	return -1;
}

float *nk_params_value(const nk_params *p, const char *name)
{
	int i = nk_params_find(p, name);
	return i < 0 ? NULL : p->value[i].data;
}

float *nk_params_grad(const nk_params *p, const char *name)
{
	int i = nk_params_find(p, name);
	return i < 0 ? NULL : p->grad[i].data;
}

void nk_params_zero_grad(nk_params *p)
{
	memset(p->grads, 0, p->numel * sizeof(float));
}

int nk_params_add_to_wfile(const nk_params *p, nk_wfile *w)
{
	for (int i = 0; i < p->count; i++) {
		const nk_tensor *t = &p->value[i];
		int rc = nk_wfile_add(w, p->names[i], NK_F32, t->ndim, t->ne,
				      t->data);
		if (rc)
			return rc;
	}
	return NK_OK;
}

int nk_params_load_wfile(nk_params *p, const nk_wfile *f)
{
	for (int i = 0; i < p->count; i++) {
		const nk_tensor *t = &p->value[i];
		const nk_wtensor *wt = nk_wfile_expect(f, p->names[i], NK_F32,
						       t->ndim, t->ne);
		if (!wt)
			return NK_EFORMAT;
		memcpy(t->data, wt->data, wt->nbytes);
	}
	return NK_OK;
}
