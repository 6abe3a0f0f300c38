/* tensor.h - N-d tensors with shape and byte strides, and the float ops
 * that layers are built from.
 *
 * Shapes are listed outermost first, as numpy and PyTorch list them: a
 * (B,T,C) tensor has ne = {B, T, C} and, when contiguous, nb = {T*C*4, C*4, 4}.
 * Strides are in bytes (ggml's nb[]) so that a view may transpose or slice
 * without copying.  Layers themselves work on plain float buffers
 * (llm.c style); tensors carry those buffers between files, models and ops.
 */
#ifndef NK_TENSOR_H
#define NK_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

enum nk_dtype {
	NK_F32 = 0,
	NK_I32 = 1,
	NK_U8 = 2,
	NK_F64 = 3,
	NK_I64 = 4,
	NK_I16 = 5, /* signed bands of Laplacian pyramids */
	NK_DTYPE_COUNT
};

#define NK_MAX_DIMS 8

/* The name of a dtype ("f32", ...), or NULL for an unknown code. */
const char *nk_dtype_name(int dtype);
/* Bytes per element; 0 for an unknown code. */
size_t nk_dtype_size(int dtype);

typedef struct nk_tensor {
	int dtype;
	int ndim;
	int64_t ne[NK_MAX_DIMS]; /* elements per dimension, outermost first */
	int64_t nb[NK_MAX_DIMS]; /* byte stride per dimension */
	void *data;
	void *owned;             /* the allocation when this tensor owns it */
} nk_tensor;

/* A new contiguous, zero-filled, 64-byte-aligned tensor. */
int nk_tensor_alloc(nk_tensor *t, int dtype, int ndim, const int64_t *shape);
/* A contiguous tensor over memory the caller owns. */
int nk_tensor_wrap(nk_tensor *t, void *data, int dtype, int ndim,
		   const int64_t *shape);
void nk_tensor_free(nk_tensor *t);

int64_t nk_tensor_numel(const nk_tensor *t);
size_t nk_tensor_nbytes(const nk_tensor *t);
int nk_tensor_is_contiguous(const nk_tensor *t);
/* Byte address of the element at idx[0..ndim-1]. */
void *nk_tensor_ptr(const nk_tensor *t, const int64_t *idx);

/* Views share data with their source and never own it. */
int nk_tensor_slice(nk_tensor *view, const nk_tensor *t, int dim,
		    int64_t start, int64_t len);
int nk_tensor_transpose(nk_tensor *view, const nk_tensor *t, int d0, int d1);
/* Reshape requires a contiguous source (as torch.view does). */
int nk_tensor_reshape(nk_tensor *view, const nk_tensor *t, int ndim,
		      const int64_t *shape);
/* Copies any-strided src into dst of the same shape and dtype. */
int nk_tensor_copy(nk_tensor *dst, const nk_tensor *src);
int nk_tensor_same_shape(const nk_tensor *a, const nk_tensor *b);

/* Elementwise f32 ops over tensors of one shape (any strides):
 * out = a + b, a - b, a * b, alpha * a, out += alpha * a, fill. */
int nk_tensor_add(nk_tensor *out, const nk_tensor *a, const nk_tensor *b);
int nk_tensor_sub(nk_tensor *out, const nk_tensor *a, const nk_tensor *b);
int nk_tensor_mul(nk_tensor *out, const nk_tensor *a, const nk_tensor *b);
int nk_tensor_scale(nk_tensor *out, const nk_tensor *a, float alpha);
int nk_tensor_axpy(nk_tensor *out, float alpha, const nk_tensor *a);
int nk_tensor_fill(nk_tensor *t, float value);
int nk_tensor_fill_uniform(nk_tensor *t, nk_rng *rng, float lo, float hi);
int nk_tensor_fill_normal(nk_tensor *t, nk_rng *rng, float mean, float std);

/* Reductions over one axis of an f32 tensor: out has that axis removed. */
enum nk_reduce_op { NK_REDUCE_SUM, NK_REDUCE_MEAN, NK_REDUCE_MAX };
int nk_tensor_reduce(nk_tensor *out, const nk_tensor *in, int axis, int op);
/* out (int32, axis removed) = index of the first maximum along the axis. */
int nk_tensor_argmax(nk_tensor *out, const nk_tensor *in, int axis);
/* C = A @ B over the last two axes of 2-d f32 tensors (views may be
 * transposed: the strides pick the GEMM transpose case). */
int nk_tensor_matmul(nk_tensor *c, const nk_tensor *a, const nk_tensor *b);

/* Plain float-buffer kernels, the layer code's vocabulary. */
void nk_vec_add(float *out, const float *a, const float *b, size_t n);
void nk_vec_mul(float *out, const float *a, const float *b, size_t n);
void nk_vec_scale(float *out, const float *a, float alpha, size_t n);
void nk_vec_axpy(float *y, float alpha, const float *x, size_t n);
float nk_vec_dot(const float *a, const float *b, size_t n);
/* Sums in double: a float accumulator loses digits over long vectors. */
double nk_vec_sum(const float *a, size_t n);
float nk_vec_max(const float *a, size_t n);
size_t nk_vec_argmax(const float *a, size_t n);

#endif
