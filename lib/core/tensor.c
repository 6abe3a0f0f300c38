/* tensor.c - shapes, strides, views and elementwise/reduction ops. */
#include "core/tensor.h"
#include "core/base.h"
#include "core/gemm.h"

#include <math.h>
#include <string.h>

static const char *const dtype_names[] = {
	[NK_F32] = "f32", [NK_I32] = "i32", [NK_U8] = "u8",
	[NK_F64] = "f64", [NK_I64] = "i64", [NK_I16] = "i16",
};
static const size_t dtype_sizes[] = {
	[NK_F32] = 4, [NK_I32] = 4, [NK_U8] = 1, [NK_F64] = 8, [NK_I64] = 8,
	[NK_I16] = 2,
};
_Static_assert(sizeof dtype_names / sizeof dtype_names[0] == NK_DTYPE_COUNT,
	       "every dtype needs a name");
_Static_assert(sizeof dtype_sizes / sizeof dtype_sizes[0] == NK_DTYPE_COUNT,
	       "every dtype needs a size");

const char *nk_dtype_name(int dtype)
{
	return dtype >= 0 && dtype < NK_DTYPE_COUNT ? dtype_names[dtype] : NULL;
}

size_t nk_dtype_size(int dtype)
{
	return dtype >= 0 && dtype < NK_DTYPE_COUNT ? dtype_sizes[dtype] : 0;
}

/* Fills ne/nb for a contiguous layout, checking that the byte count fits. */
static int set_shape(nk_tensor *t, int dtype, int ndim, const int64_t *shape,
		     size_t *nbytes)
{
	if (!nk_dtype_name(dtype))
		return nk_error(NK_EINVAL, "unknown dtype %d", dtype);
	if (ndim < 0 || ndim > NK_MAX_DIMS)
		return nk_error(NK_EINVAL, "%d dimensions (at most %d)", ndim,
				NK_MAX_DIMS);
	memset(t, 0, sizeof *t);
	t->dtype = dtype;
	t->ndim = ndim;
	size_t bytes = dtype_sizes[dtype];
	for (int d = ndim - 1; d >= 0; d--) {
		if (shape[d] < 0)
			return nk_error(NK_EINVAL, "negative dimension %lld",
					(long long)shape[d]);
		t->ne[d] = shape[d];
		t->nb[d] = (int64_t)bytes;
		if (nk_size_mul(&bytes, bytes, (size_t)shape[d]))
			return NK_ERANGE;
	}
	if (bytes > (size_t)INT64_MAX)
		return nk_error(NK_ERANGE, "tensor of %zu bytes", bytes);
	*nbytes = bytes;
	return NK_OK;
}

int nk_tensor_alloc(nk_tensor *t, int dtype, int ndim, const int64_t *shape)
{
	size_t nbytes;
	int rc = set_shape(t, dtype, ndim, shape, &nbytes);
	if (rc)
		return rc;
	t->owned = nk_malloc_aligned(nbytes);
	if (!t->owned)
		return NK_ENOMEM;
	memset(t->owned, 0, nbytes);
	t->data = t->owned;
	return NK_OK;
}

int nk_tensor_wrap(nk_tensor *t, void *data, int dtype, int ndim,
		   const int64_t *shape)
{
	size_t nbytes;
	int rc = set_shape(t, dtype, ndim, shape, &nbytes);
	t->data = data;
	return rc;
}

void nk_tensor_free(nk_tensor *t)
{
	nk_free_aligned(t->owned);
	memset(t, 0, sizeof *t);
}

int64_t nk_tensor_numel(const nk_tensor *t)
{
	int64_t n = 1;
	for (int d = 0; d < t->ndim; d++)
		n *= t->ne[d];
	return n;
}

size_t nk_tensor_nbytes(const nk_tensor *t)
{
	return (size_t)nk_tensor_numel(t) * dtype_sizes[t->dtype];
}

int nk_tensor_is_contiguous(const nk_tensor *t)
{
	int64_t expect = (int64_t)dtype_sizes[t->dtype];
	for (int d = t->ndim - 1; d >= 0; d--) {
		if (t->ne[d] != 1 && t->nb[d] != expect)
			return 0;
		expect *= t->ne[d];
	}
	return 1;
}

void *nk_tensor_ptr(const nk_tensor *t, const int64_t *idx)
{
	char *p = t->data;
	for (int d = 0; d < t->ndim; d++)
		p += idx[d] * t->nb[d];
	return p;
}

int nk_tensor_slice(nk_tensor *view, const nk_tensor *t, int dim,
		    int64_t start, int64_t len)
{
	if (dim < 0 || dim >= t->ndim)
		return nk_error(NK_EINVAL, "slice: no dimension %d", dim);
	if (start < 0 || len < 0 || start > t->ne[dim] - len)
		return nk_error(NK_ERANGE, "slice [%lld, %lld) of dimension "
				"%d with %lld elements", (long long)start,
				(long long)(start + len), dim,
				(long long)t->ne[dim]);
	nk_tensor v = *t;
	v.owned = NULL;
	v.data = (char *)t->data + start * t->nb[dim];
	v.ne[dim] = len;
	*view = v;
	return NK_OK;
}

int nk_tensor_transpose(nk_tensor *view, const nk_tensor *t, int d0, int d1)
{
	if (d0 < 0 || d1 < 0 || d0 >= t->ndim || d1 >= t->ndim)
		return nk_error(NK_EINVAL, "transpose: dimensions %d, %d of a "
				"%d-d tensor", d0, d1, t->ndim);
	nk_tensor v = *t;
	v.owned = NULL;
	v.ne[d0] = t->ne[d1];
	v.ne[d1] = t->ne[d0];
	v.nb[d0] = t->nb[d1];
	v.nb[d1] = t->nb[d0];
	*view = v;
	return NK_OK;
}

int nk_tensor_reshape(nk_tensor *view, const nk_tensor *t, int ndim,
		      const int64_t *shape)
{
	if (!nk_tensor_is_contiguous(t))
		return nk_error(NK_EINVAL, "reshape of a non-contiguous view "
				"(copy it first)");
	nk_tensor v;
	size_t nbytes;
	int rc = set_shape(&v, t->dtype, ndim, shape, &nbytes);
	if (rc)
		return rc;
	if (nbytes != nk_tensor_nbytes(t))
		return nk_error(NK_EINVAL, "reshape: %lld elements into %zu",
				(long long)nk_tensor_numel(t),
				nbytes / dtype_sizes[t->dtype]);
	v.data = t->data;
	*view = v;
	return NK_OK;
}

int nk_tensor_same_shape(const nk_tensor *a, const nk_tensor *b)
{
	if (a->ndim != b->ndim)
		return 0;
	for (int d = 0; d < a->ndim; d++)
		if (a->ne[d] != b->ne[d])
			return 0;
	return 1;
}

/* Walks every element of up to three same-shaped tensors in row-major
 * order, calling `fn` on runs along the last axis so that the inner loop
 * is a plain strided loop. */
typedef void (*run_fn)(char *o, const char *a, const char *b, int64_t n,
		       int64_t so, int64_t sa, int64_t sb, const void *arg);

static void for_each_run(const nk_tensor *o, const nk_tensor *a,
			 const nk_tensor *b, run_fn fn, const void *arg)
{
	int nd = o->ndim;
	if (nd == 0) {
		fn(o->data, a ? a->data : NULL, b ? b->data : NULL, 1, 0, 0, 0,
		   arg);
		return;
	}
	if (nk_tensor_numel(o) == 0)
		return;
	int64_t idx[NK_MAX_DIMS] = {0};
	int last = nd - 1;
	for (;;) {
		char *po = o->data;
		const char *pa = a ? a->data : NULL, *pb = b ? b->data : NULL;
		for (int d = 0; d < last; d++) {
			po += idx[d] * o->nb[d];
			if (a)
				pa += idx[d] * a->nb[d];
			if (b)
				pb += idx[d] * b->nb[d];
		}
		fn(po, pa, pb, o->ne[last], o->nb[last], a ? a->nb[last] : 0,
		   b ? b->nb[last] : 0, arg);
		int d = last - 1;
		while (d >= 0 && ++idx[d] == o->ne[d])
			idx[d--] = 0;
		if (d < 0)
			return;
	}
}

#define F(p, i, s) (*(float *)((p) + (i) * (s)))
#define CF(p, i, s) (*(const float *)((p) + (i) * (s)))

static void run_add(char *o, const char *a, const char *b, int64_t n,
		    int64_t so, int64_t sa, int64_t sb, const void *arg)
{
	(void)arg;
	for (int64_t i = 0; i < n; i++)
		F(o, i, so) = CF(a, i, sa) + CF(b, i, sb);
}
static void run_sub(char *o, const char *a, const char *b, int64_t n,
		    int64_t so, int64_t sa, int64_t sb, const void *arg)
{
	(void)arg;
	for (int64_t i = 0; i < n; i++)
		F(o, i, so) = CF(a, i, sa) - CF(b, i, sb);
}
static void run_mul(char *o, const char *a, const char *b, int64_t n,
		    int64_t so, int64_t sa, int64_t sb, const void *arg)
{
	(void)arg;
	for (int64_t i = 0; i < n; i++)
		F(o, i, so) = CF(a, i, sa) * CF(b, i, sb);
}
static void run_scale(char *o, const char *a, const char *b, int64_t n,
		      int64_t so, int64_t sa, int64_t sb, const void *arg)
{
	(void)b, (void)sb;
	float alpha = *(const float *)arg;
	for (int64_t i = 0; i < n; i++)
		F(o, i, so) = alpha * CF(a, i, sa);
}
static void run_axpy(char *o, const char *a, const char *b, int64_t n,
		     int64_t so, int64_t sa, int64_t sb, const void *arg)
{
	(void)b, (void)sb;
	float alpha = *(const float *)arg;
	for (int64_t i = 0; i < n; i++)
		F(o, i, so) += alpha * CF(a, i, sa);
}
static void run_fill(char *o, const char *a, const char *b, int64_t n,
		     int64_t so, int64_t sa, int64_t sb, const void *arg)
{
	(void)a, (void)b, (void)sa, (void)sb;
	float v = *(const float *)arg;
	for (int64_t i = 0; i < n; i++)
		F(o, i, so) = v;
}

static int check_f32(const char *op, const nk_tensor *out, const nk_tensor *a,
		     const nk_tensor *b)
{
	const nk_tensor *ts[3] = {out, a, b};
	for (int i = 0; i < 3; i++) {
		if (!ts[i])
			continue;
		if (ts[i]->dtype != NK_F32)
			return nk_error(NK_EINVAL, "%s: %s tensor, want f32", op,
					nk_dtype_name(ts[i]->dtype));
		if (!nk_tensor_same_shape(out, ts[i]))
			return nk_error(NK_EINVAL, "%s: shapes differ", op);
	}
	return NK_OK;
}

static int binary_op(const char *name, nk_tensor *out, const nk_tensor *a,
		     const nk_tensor *b, run_fn fn, const void *arg)
{
	int rc = check_f32(name, out, a, b);
	if (rc)
		return rc;
	for_each_run(out, a, b, fn, arg);
	return NK_OK;
}

int nk_tensor_add(nk_tensor *out, const nk_tensor *a, const nk_tensor *b)
{
	if (nk_tensor_is_contiguous(out) && nk_tensor_is_contiguous(a) &&
	    nk_tensor_is_contiguous(b) && !check_f32("add", out, a, b)) {
		nk_vec_add(out->data, a->data, b->data, nk_tensor_numel(out));
		return NK_OK;
	}
	return binary_op("add", out, a, b, run_add, NULL);
}

int nk_tensor_sub(nk_tensor *out, const nk_tensor *a, const nk_tensor *b)
{
	return binary_op("sub", out, a, b, run_sub, NULL);
}

int nk_tensor_mul(nk_tensor *out, const nk_tensor *a, const nk_tensor *b)
{
	return binary_op("mul", out, a, b, run_mul, NULL);
}

int nk_tensor_scale(nk_tensor *out, const nk_tensor *a, float alpha)
{
	return binary_op("scale", out, a, NULL, run_scale, &alpha);
}

int nk_tensor_axpy(nk_tensor *out, float alpha, const nk_tensor *a)
{
	return binary_op("axpy", out, a, NULL, run_axpy, &alpha);
}

int nk_tensor_fill(nk_tensor *t, float value)
{
	return binary_op("fill", t, NULL, NULL, run_fill, &value);
}

/* Random fills go in row-major order so a given seed gives the same values
 * whatever the strides. */
static int fill_random(nk_tensor *t, nk_rng *rng, float p, float q, int normal)
{
	int rc = check_f32("fill", t, NULL, NULL);
	if (rc)
		return rc;
	int64_t n = nk_tensor_numel(t), idx[NK_MAX_DIMS] = {0};
	for (int64_t i = 0; i < n; i++) {
		float *x = nk_tensor_ptr(t, idx);
		*x = normal ? p + q * (float)nk_rng_normal(rng)
			    : p + (q - p) * nk_rng_float(rng);
		for (int d = t->ndim - 1; d >= 0 && ++idx[d] == t->ne[d]; d--)
			idx[d] = 0;
	}
	return NK_OK;
}

int nk_tensor_fill_uniform(nk_tensor *t, nk_rng *rng, float lo, float hi)
{
	return fill_random(t, rng, lo, hi, 0);
}

int nk_tensor_fill_normal(nk_tensor *t, nk_rng *rng, float mean, float std)
{
	return fill_random(t, rng, mean, std, 1);
}

int nk_tensor_copy(nk_tensor *dst, const nk_tensor *src)
{
	if (dst->dtype != src->dtype || !nk_tensor_same_shape(dst, src))
		return nk_error(NK_EINVAL, "copy: dtype or shape differs");
	size_t es = dtype_sizes[src->dtype];
	if (nk_tensor_is_contiguous(dst) && nk_tensor_is_contiguous(src)) {
		memmove(dst->data, src->data, nk_tensor_nbytes(src));
		return NK_OK;
	}
	int64_t n = nk_tensor_numel(src), idx[NK_MAX_DIMS] = {0};
	for (int64_t i = 0; i < n; i++) {
		memcpy(nk_tensor_ptr(dst, idx), nk_tensor_ptr(src, idx), es);
		for (int d = src->ndim - 1; d >= 0 && ++idx[d] == src->ne[d]; d--)
			idx[d] = 0;
	}
	return NK_OK;
}

/* Shape of `in` with `axis` removed; checks the output matches it. */
static int check_reduced(const char *op, const nk_tensor *out,
			 const nk_tensor *in, int axis, int out_dtype)
{
	if (in->dtype != NK_F32)
		return nk_error(NK_EINVAL, "%s: %s input, want f32", op,
				nk_dtype_name(in->dtype));
	if (axis < 0 || axis >= in->ndim)
		return nk_error(NK_EINVAL, "%s: no axis %d in a %d-d tensor",
				op, axis, in->ndim);
	if (out->dtype != out_dtype || out->ndim != in->ndim - 1)
		return nk_error(NK_EINVAL, "%s: output dtype or rank", op);
	for (int d = 0, k = 0; d < in->ndim; d++)
		if (d != axis && out->ne[k++] != in->ne[d])
			return nk_error(NK_EINVAL, "%s: output shape", op);
	if (in->ne[axis] == 0)
		return nk_error(NK_EINVAL, "%s: empty axis %d", op, axis);
	return NK_OK;
}

/* Calls fn(out element, input base, stride along axis, length) for each
 * output element. */
static void for_each_lane(nk_tensor *out, const nk_tensor *in, int axis,
			  void (*fn)(void *, const char *, int64_t, int64_t,
				     int),
			  int op)
{
	int64_t n = nk_tensor_numel(out), idx[NK_MAX_DIMS] = {0};
	for (int64_t i = 0; i < n; i++) {
		const char *base = in->data;
		for (int d = 0, k = 0; d < in->ndim; d++)
			if (d != axis)
				base += idx[k++] * in->nb[d];
		fn(nk_tensor_ptr(out, idx), base, in->nb[axis], in->ne[axis],
		   op);
		for (int d = out->ndim - 1; d >= 0 && ++idx[d] == out->ne[d]; d--)
			idx[d] = 0;
	}
}

static void lane_reduce(void *o, const char *p, int64_t stride, int64_t n,
			int op)
{
	if (op == NK_REDUCE_MAX) {
		float m = CF(p, 0, stride);
		for (int64_t i = 1; i < n; i++)
			m = fmaxf(m, CF(p, i, stride));
		*(float *)o = m;
		return;
	}
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += CF(p, i, stride);
	*(float *)o = (float)(op == NK_REDUCE_MEAN ? s / (double)n : s);
}

static void lane_argmax(void *o, const char *p, int64_t stride, int64_t n,
			int op)
{
	(void)op;
	int64_t best = 0;
	for (int64_t i = 1; i < n; i++)
		if (CF(p, i, stride) > CF(p, best, stride))
			best = i;
	*(int32_t *)o = (int32_t)best;
}

int nk_tensor_reduce(nk_tensor *out, const nk_tensor *in, int axis, int op)
{
	if (op < NK_REDUCE_SUM || op > NK_REDUCE_MAX)
		return nk_error(NK_EINVAL, "reduce: unknown op %d", op);
	int rc = check_reduced("reduce", out, in, axis, NK_F32);
	if (rc)
		return rc;
	for_each_lane(out, in, axis, lane_reduce, op);
	return NK_OK;
}

int nk_tensor_argmax(nk_tensor *out, const nk_tensor *in, int axis)
{
	int rc = check_reduced("argmax", out, in, axis, NK_I32);
	if (rc)
		return rc;
	for_each_lane(out, in, axis, lane_argmax, 0);
	return NK_OK;
}

/* A 2-d f32 view that GEMM can read directly: unit stride along one axis. */
static int gemm_operand(const nk_tensor *t, int *trans, int *ld)
{
	if (t->dtype != NK_F32 || t->ndim != 2)
		return 0;
	if (t->nb[1] == 4 && t->nb[0] % 4 == 0 && t->nb[0] / 4 >= t->ne[1]) {
		*trans = 0;
		*ld = (int)(t->nb[0] / 4);
		return 1;
	}
	if (t->nb[0] == 4 && t->nb[1] % 4 == 0 && t->nb[1] / 4 >= t->ne[0]) {
		*trans = 1;
		*ld = (int)(t->nb[1] / 4);
		return 1;
	}
	return 0;
}

int nk_tensor_matmul(nk_tensor *c, const nk_tensor *a, const nk_tensor *b)
{
	int ta, tb, tc, lda, ldb, ldc;
	if (!gemm_operand(a, &ta, &lda) || !gemm_operand(b, &tb, &ldb) ||
	    !gemm_operand(c, &tc, &ldc) || tc)
		return nk_error(NK_EINVAL, "matmul: operands must be 2-d f32 "
				"with a unit-stride axis (C row-major)");
	if (a->ne[1] != b->ne[0] || c->ne[0] != a->ne[0] || c->ne[1] != b->ne[1])
		return nk_error(NK_EINVAL, "matmul: (%lld,%lld) @ (%lld,%lld) "
				"into (%lld,%lld)", (long long)a->ne[0],
				(long long)a->ne[1], (long long)b->ne[0],
				(long long)b->ne[1], (long long)c->ne[0],
				(long long)c->ne[1]);
	nk_sgemm(ta, tb, (int)c->ne[0], (int)c->ne[1], (int)a->ne[1], 1.0f,
		 a->data, lda, b->data, ldb, 0.0f, c->data, ldc);
	return NK_OK;
}

void nk_vec_add(float *out, const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] + b[i];
}

void nk_vec_mul(float *out, const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] * b[i];
}

void nk_vec_scale(float *out, const float *a, float alpha, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = alpha * a[i];
}

void nk_vec_axpy(float *y, float alpha, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += alpha * x[i];
}

float nk_vec_dot(const float *a, const float *b, size_t n)
{
	/* Eight partial sums let the compiler vectorize without -ffast-math,
	 * and the order is fixed, so results repeat run to run. */
	float s[8] = {0};
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++)
			s[k] += a[i + k] * b[i + k];
	float tail = 0;
	for (; i < n; i++)
		tail += a[i] * b[i];
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) +
	       tail;
}

double nk_vec_sum(const float *a, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i];
	return s;
}

float nk_vec_max(const float *a, size_t n)
{
	float m = -INFINITY;
	for (size_t i = 0; i < n; i++)
		m = fmaxf(m, a[i]);
	return m;
}

size_t nk_vec_argmax(const float *a, size_t n)
{
	size_t best = 0;
	for (size_t i = 1; i < n; i++)
		if (a[i] > a[best])
			best = i;
	return best;
}
