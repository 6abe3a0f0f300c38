/* test_pyramid.c - pyrDown/pyrUp against a plain reference written from
 * the definition, Laplacian round trips, area resize, SPP forward and
 * backward (finite differences), the pyramid weight-file schema (round
 * trip, versions refused with a message).  The byte-for-byte comparison with
 * OpenCV itself is tests/t_pyramid_opencv.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "check.h"
#include "vision/pyramid.h"
#include "vision/pyramid_file.h"
#include "vision/spp.h"

static unsigned rnd_state = 1;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 16;
}

static int refl(int p, int n)
{
	if (n == 1)
		return 0;
	while (p < 0 || p >= n)
		p = p < 0 ? -p : 2 * (n - 1) - p;
	return p;
}

/* The definition: 5x5 binomial, BORDER_REFLECT_101, (sum + 128) >> 8. */
static void ref_down(unsigned char *d, const unsigned char *s, int w, int h, int c)
{
	static const int k[5] = { 1, 4, 6, 4, 1 };
	int dw = (w + 1) / 2, dh = (h + 1) / 2;
	for (int y = 0; y < dh; y++)
		for (int x = 0; x < dw; x++)
			for (int ch = 0; ch < c; ch++) {
				int sum = 0;
				for (int i = 0; i < 5; i++)
					for (int j = 0; j < 5; j++)
						sum += k[i] * k[j] *
						       s[(refl(2 * y + i - 2, h) * w +
							  refl(2 * x + j - 2, w)) * c + ch];
				d[(y * dw + x) * c + ch] = (unsigned char)((sum + 128) >> 8);
			}
}

/* pyrUp by definition: insert zeros into a 2w x 2h grid, reflect-101 in
 * that grid, convolve with the kernel (its taps on a zero-filled grid sum
 * to 64), (sum + 32) >> 6; then OpenCV's
 * rules for odd output sizes. */
static void ref_up(unsigned char *d, int dw, int dh, const unsigned char *s,
		   int w, int h, int c)
{
	static const int k[5] = { 1, 4, 6, 4, 1 };
	int W = 2 * w, H = 2 * h;
	for (int y = 0; y < dh; y++)
		for (int x = 0; x < dw; x++)
			for (int ch = 0; ch < c; ch++) {
				int yy = y < H ? y : H - 2, xx = x < W ? x : W - 1;
				if (y >= H && H == 2)
					yy = 0;
				int sum = 0;
				for (int i = 0; i < 5; i++)
					for (int j = 0; j < 5; j++) {
						int py = refl(yy + i - 2, H), px = refl(xx + j - 2, W);
						if (py % 2 || px % 2)
							continue;
						sum += k[i] * k[j] * s[((py / 2) * w + px / 2) * c + ch];
					}
				d[(y * dw + x) * c + ch] = (unsigned char)((sum + 32) >> 6);
			}
}

TEST(pyr_down_matches_definition)
{
	int bad = 0, cases = 0;
	for (int c = 1; c <= 4; c++)
		for (int h = 1; h <= 23; h += (h < 8 ? 1 : 5))
			for (int w = 1; w <= 70; w += (w < 9 ? 1 : 7)) {
				size_t n = (size_t)w * h * c;
				unsigned char *s = malloc(n), *a = malloc(n), *b = malloc(n);
				for (size_t i = 0; i < n; i++)
					s[i] = (unsigned char)rnd();
				ref_down(a, s, w, h, c);
				CHECK(nk_pyr_down(b, s, w, h, c) == 0);
				size_t dn = (size_t)((w + 1) / 2) * ((h + 1) / 2) * c;
				if (memcmp(a, b, dn) != 0) {
					if (!bad)
						CHECK_MSG(0, "%dx%dx%d differs", w, h, c);
					bad++;
				}
				cases++;
				free(s);
				free(a);
				free(b);
			}
	CHECK(cases > 300);
}

TEST(pyr_down_known_values)
{
	unsigned char s[2] = { 0, 255 }, d[1];
	/* Row [0 255], reflect-101: 1*0 + 4*255 + 6*0 + 4*255 + 1*0 = 2040
	 * horizontally, 16x that vertically: (32640 + 128) >> 8 = 128. */
	CHECK(nk_pyr_down(d, s, 2, 1, 1) == 0);
	CHECK(d[0] == 128);
	unsigned char one[3] = { 7, 200, 255 }, o[3];
	CHECK(nk_pyr_down(o, one, 1, 1, 3) == 0);
	CHECK(memcmp(o, one, 3) == 0);
	/* A constant image stays constant, at every size. */
	unsigned char *flat = malloc(31 * 29 * 3), *out = malloc(16 * 15 * 3);
	memset(flat, 173, 31 * 29 * 3);
	CHECK(nk_pyr_down(out, flat, 31, 29, 3) == 0);
	int same = 1;
	for (int i = 0; i < 16 * 15 * 3; i++)
		same &= out[i] == 173;
	CHECK(same);
	free(flat);
	free(out);
	CHECK(nk_pyr_down(d, s, 0, 1, 1) == NK_EINVAL);
}

TEST(pyr_up_matches_definition)
{
	int bad = 0;
	for (int c = 1; c <= 4; c++)
		for (int h = 1; h <= 9; h++)
			for (int w = 1; w <= 12; w++)
				for (int oy = -1; oy <= 1; oy++)
					for (int ox = -1; ox <= 1; ox++) {
						int dw = 2 * w + ox, dh = 2 * h + oy;
						if ((ox && !(dw % 2)) || (oy && !(dh % 2)))
							continue;
						if (w == 1 && ox > 0)
							continue;
						size_t n = (size_t)w * h * c, dn = (size_t)dw * dh * c;
						unsigned char *s = malloc(n), *a = malloc(dn), *b = malloc(dn);
						for (size_t i = 0; i < n; i++)
							s[i] = (unsigned char)rnd();
						ref_up(a, dw, dh, s, w, h, c);
						CHECK(nk_pyr_up(b, dw, dh, s, w, h, c) == 0);
						if (memcmp(a, b, dn) != 0 && !bad++)
							CHECK_MSG(0, "%dx%dx%d -> %dx%d differs", w, h, c, dw, dh);
						free(s);
						free(a);
						free(b);
					}
	unsigned char s[4] = { 1, 2, 3, 4 }, d[64];
	CHECK(nk_pyr_up(d, 6, 4, s, 2, 2, 1) == NK_EINVAL);
	CHECK(nk_pyr_up(d, 5, 4, s, 2, 2, 1) == 0);
	CHECK(nk_pyr_up(d, 4, 6, s, 2, 2, 1) == NK_EINVAL);
}

TEST(levels_and_gaussian)
{
	CHECK(nk_pyr_max_levels(1, 1) == 1);
	CHECK(nk_pyr_max_levels(2, 1) == 2);
	CHECK(nk_pyr_max_levels(17, 13) == 6); /* 17 9 5 3 2 1 */
	CHECK(nk_pyr_max_levels(3840, 2160) == 13);
	nk_image img, lv[4];
	CHECK(nk_image_alloc(&img, 17, 13, 3) == 0);
	for (size_t i = 0; i < nk_image_bytes(&img); i++)
		img.data[i] = (unsigned char)rnd();
	CHECK(nk_pyr_gaussian(lv, 4, &img) == 0);
	CHECK(lv[0].w == 17 && lv[1].w == 9 && lv[2].w == 5 && lv[3].w == 3);
	CHECK(lv[0].h == 13 && lv[1].h == 7 && lv[2].h == 4 && lv[3].h == 2);
	CHECK(memcmp(lv[0].data, img.data, nk_image_bytes(&img)) == 0);
	unsigned char ref[9 * 7 * 3];
	ref_down(ref, img.data, 17, 13, 3);
	CHECK(memcmp(ref, lv[1].data, sizeof ref) == 0);
	for (int i = 0; i < 4; i++)
		nk_image_free(&lv[i]);
	CHECK(nk_pyr_gaussian(lv, 0, &img) == NK_ERANGE);
	nk_image_free(&img);
}

TEST(laplacian_round_trip_is_lossless)
{
	static const int sizes[][3] = { { 1, 1, 1 }, { 2, 3, 3 }, { 17, 13, 3 },
					{ 64, 48, 1 }, { 101, 67, 4 }, { 5, 1, 2 } };
	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		nk_image img, back;
		CHECK(nk_image_alloc(&img, sizes[s][0], sizes[s][1], sizes[s][2]) == 0);
		for (size_t i = 0; i < nk_image_bytes(&img); i++)
			img.data[i] = (unsigned char)rnd();
		int max = nk_pyr_max_levels(img.w, img.h);
		for (int n = 1; n <= max; n++) {
			nk_laplacian lp;
			CHECK(nk_laplacian_build(&lp, &img, n) == 0);
			CHECK(lp.n == n && lp.w[0] == img.w && lp.h[n - 1] >= 1);
			CHECK(nk_laplacian_reconstruct(&back, &lp) == 0);
			CHECK_MSG(back.data && memcmp(back.data, img.data, nk_image_bytes(&img)) == 0,
				  "%dx%dx%d with %d levels not restored", img.w, img.h, img.c, n);
			nk_image_free(&back);
			nk_laplacian_free(&lp);
		}
		nk_image_free(&img);
	}
}

TEST(laplacian_rejects_bad_bands)
{
	nk_image img, out;
	CHECK(nk_image_alloc(&img, 9, 7, 1) == 0);
	memset(img.data, 250, 63);
	nk_laplacian lp;
	CHECK(nk_laplacian_build(&lp, &img, 3) == 0);
	/* Band 0 of a flat image is 0; +100 pushes it past 255. */
	CHECK(lp.band[0][5] == 0);
	lp.band[0][5] = 100;
	CHECK(nk_laplacian_reconstruct(&out, &lp) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "leaves 0..255") != NULL);
	lp.band[0][5] = 0;
	lp.w[1] = 4; /* should be 5 */
	CHECK(nk_laplacian_reconstruct(&out, &lp) == NK_EFORMAT);
	lp.w[1] = 5;
	CHECK(nk_laplacian_reconstruct(&out, &lp) == 0);
	nk_image_free(&out);
	/* The view: offset by 128, top level as is. */
	nk_image v;
	lp.band[0][0] = -200;
	lp.band[0][1] = 3;
	CHECK(nk_laplacian_view(&v, &lp, 0) == 0);
	CHECK(v.data[0] == 0 && v.data[1] == 131 && v.data[2] == 128);
	nk_image_free(&v);
	CHECK(nk_laplacian_view(&v, &lp, 2) == 0);
	CHECK(v.data[0] == 250);
	nk_image_free(&v);
	nk_laplacian_free(&lp);
	nk_image_free(&img);
}

TEST(area_resize)
{
	/* Factor 2 exactly: the mean of each 2x2 block, rounded to nearest even
	 * on .5 as lrintf does. */
	unsigned char s[16] = { 0, 2, 10, 20, 4, 6, 30, 40, 1, 1, 255, 255, 1, 2, 255, 254 };
	unsigned char d[4];
	CHECK(nk_resize_area(d, 2, 2, s, 4, 4, 1) == 0);
	CHECK(d[0] == 3 && d[1] == 25 && d[2] == 1 && d[3] == 255);
	/* A constant image stays constant at any factor. */
	unsigned char flat[37 * 23 * 3], out[26 * 16 * 3];
	memset(flat, 99, sizeof flat);
	CHECK(nk_resize_area(out, 26, 16, flat, 37, 23, 3) == 0);
	int same = 1;
	for (size_t i = 0; i < sizeof out; i++)
		same &= out[i] == 99;
	CHECK(same);
	/* Same size is a copy. */
	CHECK(nk_resize_area(d, 4, 1, s, 4, 1, 1) == 0);
	CHECK(memcmp(d, s, 4) == 0);
	CHECK(nk_resize_area(d, 5, 1, s, 4, 1, 1) == NK_EINVAL);
	int ws[64], hs[64];
	int n = nk_pyr_scale_sizes(ws, hs, 64, 640, 480, 0.709, 12);
	CHECK(ws[0] == 640 && hs[0] == 480 && ws[1] == 454 && hs[1] == 340);
	CHECK(n == 11 && hs[n - 1] >= 12 && lround(480 * pow(0.709, n)) < 12);
	CHECK(nk_pyr_scale_sizes(ws, hs, 3, 640, 480, 0.709, 12) == 3);
	CHECK(nk_pyr_scale_sizes(ws, hs, 64, 10, 10, 0.5, 12) == 1);
}

/* OpenCV 4.6's INTER_AREA rounding, values from cv2.resize: at 2x2 with
 * 1, 3 or 4 channels (sum + 2) >> 2, half up; with 2 channels, or at
 * other integer factors, cvRound(sum * (1.f / area)), half to even. */
TEST(area_resize_opencv_rounding)
{
	uint8_t d[8];
	static const uint8_t g[12] = { 0, 0, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0 };
	CHECK(nk_resize_area(d, 3, 1, g, 6, 2, 1) == 0);
	CHECK(d[0] == 1 && d[1] == 1 && d[2] == 2);
	/* gray+alpha 4x2 -> 2x1: sums 2, 6 | 10, 0 */
	static const uint8_t ga[16] = { 0, 1, 1, 2, 2, 0, 3, 0,
					0, 1, 1, 2, 2, 0, 3, 0 };
	CHECK(nk_resize_area(d, 2, 1, ga, 4, 2, 2) == 0);
	CHECK(d[0] == 0 && d[1] == 2 && d[2] == 2 && d[3] == 0);
	/* 4x4 -> 1x1: sum 8 gives 0 (0.5), sum 24 gives 2 (1.5) */
	uint8_t q[16] = { 0 };
	memset(q, 1, 8);
	CHECK(nk_resize_area(d, 1, 1, q, 4, 4, 1) == 0 && d[0] == 0);
	memset(q, 3, 8);
	CHECK(nk_resize_area(d, 1, 1, q, 4, 4, 1) == 0 && d[0] == 2);
}

TEST(spp_bins)
{
	int a, b;
	/* n divides a: window = stride = a/n. */
	nk_spp_bin(&a, &b, 1, 8, 4);
	CHECK(a == 2 && b == 4);
	/* a = 5, n = 4: window 2, stride 1. */
	nk_spp_bin(&a, &b, 3, 5, 4);
	CHECK(a == 3 && b == 5);
	/* a = 7, n = 4: the last bin is extended from [3,5) to [3,7). */
	nk_spp_bin(&a, &b, 2, 7, 4);
	CHECK(a == 2 && b == 4);
	nk_spp_bin(&a, &b, 3, 7, 4);
	CHECK(a == 3 && b == 7);
	/* a < n: one cell each, spread out. */
	int starts[4];
	for (int i = 0; i < 4; i++) {
		nk_spp_bin(&starts[i], &b, i, 2, 4);
		CHECK(b == starts[i] + 1);
	}
	CHECK(starts[0] == 0 && starts[1] == 0 && starts[2] == 1 && starts[3] == 1);
	CHECK(nk_spp_dim(3, (int[]){ 4, 2, 1 }, 3) == 63);
	CHECK(nk_spp_dim(3, (int[]){ 0 }, 1) == 0);
	CHECK(nk_spp_dim(3, (int[]){ 4 }, 0) == 0);
}

TEST(spp_forward_values)
{
	/* (1,1,4,4) = 0..15: level 2 maxima are 5 7 13 15, level 1 is 15. */
	float in[16], out[5];
	int32_t am[5];
	for (int i = 0; i < 16; i++)
		in[i] = (float)i;
	CHECK(nk_spp_forward(out, am, in, 1, 1, 4, 4, (int[]){ 2, 1 }, 2, NK_SPP_MAX) == 0);
	CHECK(out[0] == 5 && out[1] == 7 && out[2] == 13 && out[3] == 15 && out[4] == 15);
	CHECK(am[0] == 5 && am[3] == 15 && am[4] == 15);
	CHECK(nk_spp_forward(out, NULL, in, 1, 1, 4, 4, (int[]){ 2, 1 }, 2, NK_SPP_AVG) == 0);
	CHECK(out[0] == 2.5f && out[3] == 12.5f && out[4] == 7.5f);
	CHECK(nk_spp_forward(out, NULL, in, 1, 1, 4, 4, (int[]){ 2 }, 1, NK_SPP_MAX) == NK_EINVAL);
}

/* Loss = sum(out * r) for fixed random r; its gradient through backward
 * must equal central differences. */
static void spp_gradcheck(int mode, int B, int C, int H, int W)
{
	const int levels[3] = { 4, 2, 1 };
	size_t D = nk_spp_dim(C, levels, 3), N = (size_t)B * C * H * W;
	float *x = malloc(N * sizeof *x), *din = calloc(N, sizeof *din);
	float *out = malloc((size_t)B * D * sizeof *out), *r = malloc((size_t)B * D * sizeof *r);
	int32_t *am = malloc((size_t)B * D * sizeof *am);
	/* Distinct values, far apart, so that a small step never changes
	 * which cell is the maximum. */
	for (size_t i = 0; i < N; i++)
		x[i] = (float)i * 0.37f;
	for (size_t i = N; i > 1; i--) {
		size_t j = rnd() % i;
		float t = x[i - 1];
		x[i - 1] = x[j];
		x[j] = t;
	}
	for (size_t i = 0; i < (size_t)B * D; i++)
		r[i] = (float)(rnd() % 1000) / 500.0f - 1.0f;
	CHECK(nk_spp_forward(out, am, x, B, C, H, W, levels, 3, mode) == 0);
	CHECK(nk_spp_backward(din, r, am, B, C, H, W, levels, 3, mode) == 0);
	double worst = 0;
	const float eps = 0.01f;
	for (size_t i = 0; i < N; i++) {
		double lp = 0, lm = 0;
		float keep = x[i];
		x[i] = keep + eps;
		nk_spp_forward(out, am, x, B, C, H, W, levels, 3, mode);
		for (size_t k = 0; k < (size_t)B * D; k++)
			lp += (double)out[k] * r[k];
		x[i] = keep - eps;
		nk_spp_forward(out, am, x, B, C, H, W, levels, 3, mode);
		for (size_t k = 0; k < (size_t)B * D; k++)
			lm += (double)out[k] * r[k];
		x[i] = keep;
		double num = (lp - lm) / (2 * eps), err = fabs(num - din[i]);
		worst = err > worst ? err : worst;
	}
	CHECK_MSG(worst < 2e-3, "mode %d %dx%dx%dx%d: gradient off by %g", mode, B,
		  C, H, W, worst);
	/* Backward adds: a second call doubles the gradient. */
	float *again = malloc(N * sizeof *again);
	memcpy(again, din, N * sizeof *din);
	CHECK(nk_spp_forward(out, am, x, B, C, H, W, levels, 3, mode) == 0);
	CHECK(nk_spp_backward(again, r, am, B, C, H, W, levels, 3, mode) == 0);
	int doubled = 1;
	for (size_t i = 0; i < N; i++)
		doubled &= fabsf(again[i] - 2 * din[i]) <= 1e-5f * (1 + fabsf(din[i]));
	CHECK(doubled);
	free(again);
	free(x);
	free(din);
	free(out);
	free(r);
	free(am);
}

TEST(spp_backward_finite_differences)
{
	spp_gradcheck(NK_SPP_MAX, 2, 3, 9, 7);
	spp_gradcheck(NK_SPP_AVG, 2, 3, 9, 7);
	spp_gradcheck(NK_SPP_MAX, 1, 2, 3, 2); /* smaller than the 4x4 level */
	spp_gradcheck(NK_SPP_AVG, 1, 2, 16, 16);
}

/* A weight file written to memory and read back (*buf freed by the
 * caller after the file). */
static nk_wfile *through_memory(nk_wfile *w, char **buf)
{
	size_t n = 0;
	FILE *fp = open_memstream(buf, &n);
	if (!fp || nk_wfile_write_fp(w, fp, "mem", 0) || fclose(fp))
		return NULL;
	return nk_wfile_read_mem(*buf, n, "bands.nkw");
}

static void random_image(nk_image *img, int w, int h, int c)
{
	CHECK(nk_image_alloc(img, w, h, c) == 0);
	for (size_t i = 0; i < nk_image_bytes(img); i++)
		img->data[i] = (unsigned char)rnd();
}

TEST(pyramid_file_round_trip)
{
	nk_image img, views[4], out;
	nk_laplacian lp, back;
	random_image(&img, 13, 9, 3);
	CHECK(nk_laplacian_build(&lp, &img, 4) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(nk_laplacian_view(&views[i], &lp, i) == 0);
	nk_wfile *w = NULL;
	char *buf = NULL;
	CHECK(nk_pyr_file_levels(&w, "laplacian", "in.png", views, 4, &lp) == 0);
	nk_wfile *r = through_memory(w, &buf);
	CHECK(r != NULL);
	int64_t v = 0;
	const char *s;
	CHECK(nk_wfile_get_int(r, NK_WFILE_SCHEMA_KEY, &v) == 0 &&
	      v == NK_PYR_SCHEMA);
	CHECK(nk_wfile_get_str(r, "source", &s) == 0 && !strcmp(s, "in.png"));
	CHECK(nk_pyr_file_read_laplacian(&back, r, "bands.nkw") == 0);
	CHECK(back.n == 4 && back.c == 3 && back.w[3] == lp.w[3]);
	CHECK(memcmp(back.band[0], lp.band[0], 13 * 9 * 3 * 2) == 0);
	nk_laplacian_free(&back);
	CHECK(nk_pyr_file_reconstruct(&out, r, "bands.nkw") == 0);
	CHECK(out.w == 13 && out.h == 9 && !memcmp(out.data, img.data, 13 * 9 * 3));
	nk_image_free(&out);
	nk_wfile_free(r);
	free(buf);
	/* A gauss file is not bands. */
	nk_wfile_free(w);
	CHECK(nk_pyr_file_levels(&w, "gauss", "in.png", views, 4, NULL) == 0);
	r = through_memory(w, &buf);
	CHECK(nk_pyr_file_reconstruct(&out, r, "g.nkw") == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "g.nkw: holds a 'gauss' pyramid") != NULL);
	nk_wfile_free(r);
	nk_wfile_free(w);
	free(buf);
	for (int i = 0; i < 4; i++)
		nk_image_free(&views[i]);
	nk_laplacian_free(&lp);
	nk_image_free(&img);
}

/* Bands written with the schema key at `version`, or without it (-1), as
 * files before the key existed were; reconstructs them. */
static int reconstruct_at(int64_t version, nk_image *out)
{
	nk_image img, views[2];
	nk_laplacian lp;
	random_image(&img, 6, 5, 1);
	CHECK(nk_laplacian_build(&lp, &img, 2) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(nk_laplacian_view(&views[i], &lp, i) == 0);
	nk_wfile *w = NULL;
	char *buf = NULL;
	CHECK(nk_pyr_file_levels(&w, "laplacian", "x.png", views, 2, &lp) == 0);
	nk_wfile *r = through_memory(w, &buf);
	nk_wfile_free(w);
	CHECK(r != NULL);
	/* An old writer's file: the same keys less the schema. */
	nk_wfile *old = nk_wfile_create();
	for (size_t i = 0; i < nk_wfile_n_meta(r); i++) {
		const nk_wmeta *m = nk_wfile_meta_at(r, i);
		if (strcmp(m->key, NK_WFILE_SCHEMA_KEY) == 0) {
			if (version >= 0)
				nk_wfile_set_int(old, m->key, version);
		} else if (m->type == NK_WMETA_STR) {
			nk_wfile_set_str(old, m->key, m->v.s);
		} else {
			nk_wfile_set_int(old, m->key, m->v.i);
		}
	}
	for (size_t i = 0; i < nk_wfile_n_tensors(r); i++) {
		const nk_wtensor *t = nk_wfile_tensor_at(r, i);
		nk_wfile_add(old, t->name, t->dtype, t->ndim, t->ne, t->data);
	}
	char *buf2 = NULL;
	nk_wfile *r2 = through_memory(old, &buf2);
	CHECK(r2 != NULL);
	CHECK(version >= 0 || !nk_wfile_meta(r2, NK_WFILE_SCHEMA_KEY));
	int rc = r2 ? nk_pyr_file_reconstruct(out, r2, "bands.nkw") : -1;
	if (!rc)
		CHECK(!memcmp(out->data, img.data, 30));
	nk_wfile_free(r2);
	nk_wfile_free(old);
	nk_wfile_free(r);
	free(buf2);
	free(buf);
	for (int i = 0; i < 2; i++)
		nk_image_free(&views[i]);
	nk_laplacian_free(&lp);
	nk_image_free(&img);
	return rc;
}

TEST(pyramid_file_versions)
{
	nk_image out;
	CHECK(reconstruct_at(-1, &out) == 0); /* no key: schema 1 */
	nk_image_free(&out);
	CHECK(reconstruct_at(1, &out) == 0);
	nk_image_free(&out);
	CHECK(reconstruct_at(3, &out) == NK_EVERSION);
	CHECK_MSG(strcmp(nk_last_error(), "bands.nkw: pyramid schema 3 is newer "
			 "than this nnkit reads (1); upgrade nnkit") == 0,
		  "%s\n", nk_last_error());
	CHECK(reconstruct_at(0, &out) == NK_EVERSION);
	CHECK(strstr(nk_last_error(), "pyramid schema 0 is older than this "
		     "nnkit reads (1)") != NULL);
}

TEST(spp_file_and_input)
{
	int levels[2] = { 2, 1 };
	nk_wfile *w = nk_spp_file_create(NK_SPP_AVG, levels, 2);
	CHECK(w != NULL);
	float *out = malloc(2 * 5 * sizeof *out);
	for (int i = 0; i < 10; i++)
		out[i] = (float)i;
	CHECK(nk_spp_file_add(w, out, 2, 5) == 0);
	char *buf = NULL;
	nk_wfile *r = through_memory(w, &buf);
	nk_spp_file_free(w);
	CHECK(r != NULL);
	const char *s;
	const int64_t *bins;
	size_t nb;
	int64_t v;
	CHECK(nk_wfile_get_str(r, "kind", &s) == 0 && !strcmp(s, "spp"));
	CHECK(nk_wfile_get_str(r, "pool", &s) == 0 && !strcmp(s, "avg"));
	CHECK(nk_wfile_get_ints(r, "bins", &bins, &nb) == 0 && nb == 2 &&
	      bins[0] == 2 && bins[1] == 1);
	CHECK(nk_wfile_get_int(r, NK_WFILE_SCHEMA_KEY, &v) == 0 &&
	      v == NK_PYR_SCHEMA);
	CHECK(nk_wfile_expect(r, "spp.0", NK_F32, 2, (int64_t[]){ 2, 5 }));
	nk_wfile_free(r);
	free(buf);
	CHECK(nk_spp_file_create(NK_SPP_MAX, levels, 0) == NULL);
	/* An image is a (1,C,H,W) map of its bytes; a weight file's f32
	 * (C,H,W) tensor is taken as it is. */
	nk_image img;
	random_image(&img, 3, 2, 2);
	size_t n = 0;
	buf = NULL;
	FILE *fp = open_memstream(&buf, &n);
	CHECK(nk_image_write_fp(&img, fp, "m", NK_IMG_PNG, 95) == 0);
	fclose(fp);
	float *x;
	int d[4];
	nk_image_limits lim = nk_image_default_limits();
	CHECK(nk_spp_input_decode(&x, d, buf, n, "a.png", NULL, &lim) == 0);
	CHECK(d[0] == 1 && d[1] == 2 && d[2] == 2 && d[3] == 3);
	CHECK(x[0] == img.data[0] && x[1] == img.data[2] && x[6] == img.data[1]);
	free(buf);
	w = nk_wfile_create();
	CHECK(nk_wfile_add(w, "fm", NK_F32, 3, (int64_t[]){ 2, 2, 3 }, x) == 0);
	buf = NULL;
	fp = open_memstream(&buf, &n);
	CHECK(nk_wfile_write_fp(w, fp, "m", 0) == 0);
	fclose(fp);
	nk_wfile_free(w);
	float *y;
	CHECK(nk_spp_input_decode(&y, d, buf, n, "f.nkw", "fm", &lim) == 0);
	CHECK(d[0] == 1 && d[1] == 2 && d[2] == 2 && d[3] == 3);
	CHECK(memcmp(x, y, 12 * sizeof *x) == 0);
	free(y);
	CHECK(nk_spp_input_decode(&y, d, buf, n, "f.nkw", "no", &lim) ==
	      NK_ENOTFOUND);
	free(x);
	free(buf);
	nk_image_free(&img);
}

int main(void)
{
	RUN(pyr_down_matches_definition);
	RUN(pyr_down_known_values);
	RUN(pyr_up_matches_definition);
	RUN(levels_and_gaussian);
	RUN(laplacian_round_trip_is_lossless);
	RUN(laplacian_rejects_bad_bands);
	RUN(area_resize);
	RUN(area_resize_opencv_rounding);
	RUN(spp_bins);
	RUN(spp_forward_values);
	RUN(spp_backward_finite_differences);
	RUN(pyramid_file_round_trip);
	RUN(pyramid_file_versions);
	RUN(spp_file_and_input);
	return nk_test_exit();
}
