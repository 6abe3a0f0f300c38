/* params.h - a model's parameters: one allocation for the values, one for
 * the gradients, and named views into both (llm.c's ParameterTensors).
 *
 * A model declares its tensors once as a table of names and shapes; the
 * optimizer then sees two flat float arrays of `numel` elements, and the
 * layers see named pointers.  Each tensor starts on a 64-byte boundary so
 * vector loads never straddle a cache line at a tensor's start.
 */
#ifndef NK_PARAMS_H
#define NK_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

typedef struct nk_param_spec {
	const char *name;
	int ndim;
	int64_t shape[4];
} nk_param_spec;

typedef struct nk_params {
	int count;
	char **names;
	nk_tensor *value;  /* views into `data` */
	nk_tensor *grad;   /* views into `grads`, same layout */
	float *data;       /* one allocation: every parameter */
	float *grads;      /* one allocation: every gradient */
	size_t numel;      /* floats in data (padding included) */
} nk_params;

int nk_params_init(nk_params *p, const nk_param_spec *specs, int count);
void nk_params_free(nk_params *p);
/* Index of a parameter by name, or -1 (with NK_ENOTFOUND recorded). */
int nk_params_find(const nk_params *p, const char *name);
/* Shorthands for layer code: the value and gradient buffers by name. */
float *nk_params_value(const nk_params *p, const char *name);
float *nk_params_grad(const nk_params *p, const char *name);
void nk_params_zero_grad(nk_params *p);

/* Saving and loading go through the weight-file container: every
 * parameter becomes a tensor of its name (gradients are not saved).
 * Loading checks each tensor's dtype and shape against the model's
 * declaration, so a file for another configuration is refused with a
 * message naming the file and the tensor. */
struct nk_wfile;
int nk_params_add_to_wfile(const nk_params *p, struct nk_wfile *w);
int nk_params_load_wfile(nk_params *p, const struct nk_wfile *f);

#endif
