/* test_tensor.c - shapes, strides, views, elementwise ops, reductions, params. */
#include <math.h>
#include <unistd.h>

#include "core/base.h"
#include "check.h"
#include "nn/params.h"
#include "core/tensor.h"
#include "formats/wfile.h"

static float at2(const nk_tensor *t, int64_t i, int64_t j)
{
	int64_t idx[2] = {i, j};
	return *(float *)nk_tensor_ptr(t, idx);
}

static void fill_iota(nk_tensor *t)
{
	float *x = t->data;
	for (int64_t i = 0; i < nk_tensor_numel(t); i++)
		x[i] = (float)i;
}

TEST(tensor_alloc_shape_strides)
{
	nk_tensor t;
	int64_t shape[3] = {2, 3, 5};
	CHECK(nk_tensor_alloc(&t, NK_F32, 3, shape) == NK_OK);
	CHECK(nk_tensor_numel(&t) == 30);
	CHECK(nk_tensor_nbytes(&t) == 120);
	CHECK(t.nb[2] == 4 && t.nb[1] == 20 && t.nb[0] == 60);
	CHECK(((uintptr_t)t.data & 63) == 0);
	CHECK(nk_tensor_is_contiguous(&t));
	CHECK(nk_vec_sum(t.data, 30) == 0.0); /* zero-filled */
	nk_tensor_free(&t);
	CHECK(strcmp(nk_dtype_name(NK_I32), "i32") == 0);
	CHECK(nk_dtype_size(NK_U8) == 1 && nk_dtype_size(NK_I64) == 8);
	CHECK(nk_dtype_name(NK_DTYPE_COUNT) == NULL);
}

TEST(tensor_rejects_bad_shapes)
{
	nk_tensor t;
	int64_t neg[2] = {3, -1};
	CHECK(nk_tensor_alloc(&t, NK_F32, 2, neg) == NK_EINVAL);
	int64_t huge[3] = {INT64_MAX / 2, 4, 4};
	CHECK(nk_tensor_alloc(&t, NK_F32, 3, huge) == NK_ERANGE);
	int64_t ok[1] = {4};
	CHECK(nk_tensor_alloc(&t, 99, 1, ok) == NK_EINVAL);
	CHECK(nk_tensor_alloc(&t, NK_F32, NK_MAX_DIMS + 1, ok) == NK_EINVAL);
	CHECK(strstr(nk_last_error(), "dimensions") != NULL);
}

TEST(tensor_views_transpose_slice_reshape)
{
	nk_tensor t, tt, s, r;
	int64_t shape[2] = {3, 4};
	nk_tensor_alloc(&t, NK_F32, 2, shape);
	fill_iota(&t);
	CHECK(nk_tensor_transpose(&tt, &t, 0, 1) == NK_OK);
	CHECK(tt.ne[0] == 4 && tt.ne[1] == 3 && !nk_tensor_is_contiguous(&tt));
	CHECK(at2(&tt, 1, 2) == at2(&t, 2, 1) && at2(&tt, 3, 0) == 3.0f);
	CHECK(nk_tensor_slice(&s, &t, 1, 1, 2) == NK_OK);
	CHECK(s.ne[1] == 2 && at2(&s, 2, 0) == 9.0f && at2(&s, 0, 1) == 2.0f);
	CHECK(nk_tensor_slice(&s, &t, 1, 3, 2) == NK_ERANGE);
	int64_t flat[1] = {12};
	CHECK(nk_tensor_reshape(&r, &t, 1, flat) == NK_OK);
	CHECK(((float *)r.data)[7] == 7.0f);
	int64_t wrong[1] = {11};
	CHECK(nk_tensor_reshape(&r, &t, 1, wrong) == NK_EINVAL);
	CHECK(nk_tensor_reshape(&r, &tt, 1, flat) == NK_EINVAL);
	/* Copying a transposed view materializes it. */
	nk_tensor c;
	int64_t cs[2] = {4, 3};
	nk_tensor_alloc(&c, NK_F32, 2, cs);
	CHECK(nk_tensor_copy(&c, &tt) == NK_OK);
	CHECK(((float *)c.data)[1] == 4.0f && ((float *)c.data)[5] == 9.0f);
	nk_tensor_free(&c);
	nk_tensor_free(&t);
}

TEST(tensor_elementwise_strided)
{
	nk_tensor a, b, out, at;
	int64_t shape[2] = {3, 3};
	nk_tensor_alloc(&a, NK_F32, 2, shape);
	nk_tensor_alloc(&b, NK_F32, 2, shape);
	nk_tensor_alloc(&out, NK_F32, 2, shape);
	fill_iota(&a);
	nk_tensor_fill(&b, 2.0f);
	nk_tensor_transpose(&at, &a, 0, 1);
	CHECK(nk_tensor_add(&out, &at, &b) == NK_OK);
	CHECK(at2(&out, 0, 1) == 5.0f && at2(&out, 2, 0) == 4.0f);
	CHECK(nk_tensor_sub(&out, &a, &b) == NK_OK && at2(&out, 1, 1) == 2.0f);
	CHECK(nk_tensor_mul(&out, &at, &b) == NK_OK && at2(&out, 1, 2) == 14.0f);
	CHECK(nk_tensor_scale(&out, &a, -0.5f) == NK_OK && at2(&out, 2, 2) == -4.0f);
	CHECK(nk_tensor_axpy(&out, 2.0f, &b) == NK_OK && at2(&out, 2, 2) == 0.0f);
	nk_tensor c;
	int64_t other[2] = {3, 2};
	nk_tensor_alloc(&c, NK_F32, 2, other);
	CHECK(nk_tensor_add(&out, &a, &c) == NK_EINVAL);
	nk_tensor_free(&c);
	nk_tensor i32;
	nk_tensor_alloc(&i32, NK_I32, 2, shape);
	CHECK(nk_tensor_add(&out, &a, &i32) == NK_EINVAL);
	nk_tensor_free(&i32);
	nk_tensor_free(&a), nk_tensor_free(&b), nk_tensor_free(&out);
}

TEST(tensor_reductions)
{
	nk_tensor t, s, m, am;
	int64_t shape[2] = {2, 3}, one[1] = {2}, three[1] = {3};
	nk_tensor_alloc(&t, NK_F32, 2, shape);
	float v[6] = {1, 5, 3, -2, -7, 4};
	memcpy(t.data, v, sizeof v);
	nk_tensor_alloc(&s, NK_F32, 1, one);
	nk_tensor_alloc(&m, NK_F32, 1, three);
	nk_tensor_alloc(&am, NK_I32, 1, one);
	CHECK(nk_tensor_reduce(&s, &t, 1, NK_REDUCE_SUM) == NK_OK);
	CHECK(((float *)s.data)[0] == 9 && ((float *)s.data)[1] == -5);
	CHECK(nk_tensor_reduce(&m, &t, 0, NK_REDUCE_MAX) == NK_OK);
	CHECK(((float *)m.data)[0] == 1 && ((float *)m.data)[1] == 5 &&
	      ((float *)m.data)[2] == 4);
	CHECK(nk_tensor_reduce(&m, &t, 0, NK_REDUCE_MEAN) == NK_OK);
	CHECK(((float *)m.data)[1] == -1.0f);
	CHECK(nk_tensor_argmax(&am, &t, 1) == NK_OK);
	CHECK(((int32_t *)am.data)[0] == 1 && ((int32_t *)am.data)[1] == 2);
	CHECK(nk_tensor_reduce(&m, &t, 1, NK_REDUCE_SUM) == NK_EINVAL);
	CHECK(nk_tensor_reduce(&s, &t, 2, NK_REDUCE_SUM) == NK_EINVAL);
	CHECK(nk_vec_argmax(v, 6) == 1 && nk_vec_max(v, 6) == 5.0f);
	float w[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	CHECK(nk_vec_dot(w, w, 9) == 285.0f);
	nk_tensor_free(&t), nk_tensor_free(&s), nk_tensor_free(&m),
		nk_tensor_free(&am);
}

TEST(tensor_matmul_views)
{
	nk_tensor a, b, c, bt;
	int64_t as[2] = {2, 3}, bs[2] = {2, 3}, cs[2] = {2, 2};
	nk_tensor_alloc(&a, NK_F32, 2, as);
	nk_tensor_alloc(&b, NK_F32, 2, bs);
	nk_tensor_alloc(&c, NK_F32, 2, cs);
	fill_iota(&a);
	fill_iota(&b);
	nk_tensor_transpose(&bt, &b, 0, 1); /* (3,2): a @ b^T */
	CHECK(nk_tensor_matmul(&c, &a, &bt) == NK_OK);
	CHECK(at2(&c, 0, 0) == 5 && at2(&c, 0, 1) == 14 && at2(&c, 1, 1) == 50);
	CHECK(nk_tensor_matmul(&c, &a, &b) == NK_EINVAL);
	nk_tensor_free(&a), nk_tensor_free(&b), nk_tensor_free(&c);
}

TEST(tensor_random_fill_is_seeded)
{
	nk_tensor a, b;
	int64_t shape[1] = {1000};
	nk_tensor_alloc(&a, NK_F32, 1, shape);
	nk_tensor_alloc(&b, NK_F32, 1, shape);
	nk_rng r1, r2;
	nk_rng_seed(&r1, 42, 0);
	nk_rng_seed(&r2, 42, 0);
	nk_tensor_fill_normal(&a, &r1, 1.0f, 2.0f);
	nk_tensor_fill_normal(&b, &r2, 1.0f, 2.0f);
	CHECK(memcmp(a.data, b.data, 4000) == 0);
	double mean = nk_vec_sum(a.data, 1000) / 1000;
	CHECK(fabs(mean - 1.0) < 0.25);
	nk_tensor_fill_uniform(&a, &r1, -3.0f, -1.0f);
	CHECK(nk_vec_max(a.data, 1000) < -1.0f);
	nk_tensor_free(&a), nk_tensor_free(&b);
}

TEST(params_one_block_named_views)
{
	nk_params p;
	nk_param_spec specs[] = {
		{"wte", 2, {10, 3}},
		{"lstm.0.w", 2, {4, 5}},
		{"bias", 1, {7}},
	};
	CHECK(nk_params_init(&p, specs, 3) == NK_OK);
	CHECK(p.count == 3);
	float *w = nk_params_value(&p, "lstm.0.w");
	float *g = nk_params_grad(&p, "lstm.0.w");
	CHECK(w && g && ((uintptr_t)w & 63) == 0);
	/* Views live inside the two blocks at the same offsets. */
	CHECK(w - p.data == g - p.grads);
	CHECK(w >= p.data && w + 20 <= p.data + p.numel);
	CHECK(p.value[2].ne[0] == 7 && p.grad[0].ne[1] == 3);
	g[3] = 5.0f;
	nk_params_zero_grad(&p);
	CHECK(g[3] == 0.0f);
	CHECK(nk_params_value(&p, "nope") == NULL);
	CHECK(strstr(nk_last_error(), "nope") != NULL);
	nk_params_free(&p);
	nk_param_spec bad[] = {{"x", 2, {-1, 3}}};
	CHECK(nk_params_init(&p, bad, 1) == NK_ERANGE);
}

TEST(params_save_load_through_wfile)
{
	nk_params a, b, c;
	nk_param_spec specs[] = {{"emb", 2, {5, 3}}, {"b", 1, {4}}};
	nk_param_spec other[] = {{"emb", 2, {5, 4}}, {"b", 1, {4}}};
	CHECK(nk_params_init(&a, specs, 2) == NK_OK);
	CHECK(nk_params_init(&b, specs, 2) == NK_OK);
	CHECK(nk_params_init(&c, other, 2) == NK_OK);
	for (size_t i = 0; i < a.numel; i++)
		a.data[i] = (float)i * 0.5f;
	char path[] = "/tmp/nk-params-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	nk_wfile *w = nk_wfile_create();
	CHECK(w && nk_params_add_to_wfile(&a, w) == NK_OK);
	CHECK(nk_wfile_write(w, path, 0) == NK_OK);
	nk_wfile_free(w);
	nk_wfile *f = nk_wfile_read(path);
	CHECK(f != NULL);
	if (f) {
		CHECK(nk_params_load_wfile(&b, f) == NK_OK);
		CHECK(memcmp(a.value[0].data, b.value[0].data, 15 * 4) == 0);
		CHECK(memcmp(a.value[1].data, b.value[1].data, 4 * 4) == 0);
		/* A model of another shape is refused, naming the tensor. */
		CHECK(nk_params_load_wfile(&c, f) != NK_OK);
		CHECK_MSG(strstr(nk_last_error(), "'emb'") != NULL, "%s",
			  nk_last_error());
		nk_wfile_free(f);
	}
	unlink(path);
	nk_params_free(&a), nk_params_free(&b), nk_params_free(&c);
}

TEST(errors_and_checked_sizes)
{
	size_t out;
	CHECK(nk_size_mul(&out, SIZE_MAX / 2, 3) == NK_ERANGE);
	CHECK(nk_size_add(&out, SIZE_MAX, 1) == NK_ERANGE);
	CHECK(nk_size_mul(&out, 1000, 1000) == NK_OK && out == 1000000);
	CHECK(nk_calloc(SIZE_MAX / 4, 8) == NULL);
	CHECK(strstr(nk_last_error(), "overflows") != NULL);
	CHECK(nk_error(NK_EFORMAT, "f.bin: bad %s", "magic") == NK_EFORMAT);
	nk_error_prefix(NK_EFORMAT, "outer");
	CHECK(strcmp(nk_last_error(), "outer: f.bin: bad magic") == 0);
	CHECK(strcmp(nk_strerror(NK_ECHECKSUM), "checksum mismatch") == 0);
	nk_error_clear();
	CHECK(nk_last_error()[0] == '\0');
	unsigned char b[8];
	nk_store_u64le(b, 0x0102030405060708ULL);
	CHECK(b[0] == 8 && b[7] == 1 && nk_load_u64le(b) == 0x0102030405060708ULL);
	nk_store_u32le(b, 0xdeadbeef);
	CHECK(nk_load_u32le(b) == 0xdeadbeef && nk_load_u16le(b) == 0xbeef);
}

int main(void)
{
	RUN(tensor_alloc_shape_strides);
	RUN(tensor_rejects_bad_shapes);
	RUN(tensor_views_transpose_slice_reshape);
	RUN(tensor_elementwise_strided);
	RUN(tensor_reductions);
	RUN(tensor_matmul_views);
	RUN(tensor_random_fill_is_seeded);
	RUN(params_one_block_named_views);
	RUN(params_save_load_through_wfile);
	RUN(errors_and_checked_sizes);
	return nk_test_exit();
}
