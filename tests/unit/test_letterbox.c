/* test_letterbox.c - darknet's resize_image and letterbox_image against
 * a transcription of darknet's own code (get_pixel / set_pixel /
 * add_pixel over a CHW image, src/image.c of 2018), plus hand-worked
 * sizes, offsets and values.  The comparison with libdarknet.so itself
 * is tests/t_letterbox_darknet.sh. */
#pragma GCC optimize("fp-contract=off") /* as darknet's baseline build */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/base.h"
#include "vision/letterbox.h"

/* darknet's image and the three pixel helpers, transcribed */
typedef struct {
	int w, h, c;
	float *data;
} dimage;
static dimage make(int w, int h, int c)
{
	dimage m = { w, h, c, calloc((size_t)w * h * c, sizeof(float)) };
	return m;
}
static float get_pixel(dimage m, int x, int y, int c)
{
	return m.data[c * m.h * m.w + y * m.w + x];
}
static void set_pixel(dimage m, int x, int y, int c, float v)
{
	if (x < 0 || y < 0 || c < 0 || x >= m.w || y >= m.h || c >= m.c)
		return;
	m.data[c * m.h * m.w + y * m.w + x] = v;
}
static void add_pixel(dimage m, int x, int y, int c, float v)
{
	m.data[c * m.h * m.w + y * m.w + x] += v;
}
static dimage resize_image(dimage im, int w, int h)
{
	dimage resized = make(w, h, im.c);
	dimage part = make(w, im.h, im.c);
	int r, c, k;
	float w_scale = (float)(im.w - 1) / (w - 1);
	float h_scale = (float)(im.h - 1) / (h - 1);
	for (k = 0; k < im.c; ++k)
		for (r = 0; r < im.h; ++r)
			for (c = 0; c < w; ++c) {
				float val = 0;
				if (c == w - 1 || im.w == 1) {
					val = get_pixel(im, im.w - 1, r, k);
				} else {
					float sx = c * w_scale;
					int ix = (int)sx;
					float dx = sx - ix;
					val = (1 - dx) * get_pixel(im, ix, r, k) +
					      dx * get_pixel(im, ix + 1, r, k);
				}
				set_pixel(part, c, r, k, val);
			}
	for (k = 0; k < im.c; ++k)
		for (r = 0; r < h; ++r) {
			float sy = r * h_scale;
			int iy = (int)sy;
			float dy = sy - iy;
			for (c = 0; c < w; ++c)
				set_pixel(resized, c, r, k, (1 - dy) * get_pixel(part, c, iy, k));
			if (r == h - 1 || im.h == 1)
				continue;
			for (c = 0; c < w; ++c)
				add_pixel(resized, c, r, k, dy * get_pixel(part, c, iy + 1, k));
		}
	free(part.data);
	return resized;
}

static unsigned rnd_state = 3;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 16;
}

TEST(resize_hand_case)
{
	/* 2x2 to 3x3: scale 0.5, the middle column and row halfway. */
	float in[4] = { 0, 1, 2, 3 }, out[9];
	static const float want[9] = { 0, .5f, 1, 1, 1.5f, 2, 2, 2.5f, 3 };
	CHECK(nk_darknet_resize(out, in, 1, 2, 2, 3, 3) == NK_OK);
	CHECK(memcmp(out, want, sizeof want) == 0);
	/* One output column: darknet takes the last input column. */
	float col[2];
	CHECK(nk_darknet_resize(col, in, 1, 2, 2, 1, 2) == NK_OK);
	CHECK(col[0] == 1 && col[1] == 3);
	/* One output row: row 0 (darknet's own division by zero). */
	CHECK(nk_darknet_resize(col, in, 1, 2, 2, 2, 1) == NK_OK);
	CHECK(col[0] == 0 && col[1] == 1);
	CHECK(nk_darknet_resize(col, in, 1, 0, 2, 2, 1) == NK_EINVAL);
	CHECK(nk_darknet_resize(col, in, 1, 2, 2, 2, 0) == NK_EINVAL);
}

TEST(resize_vs_transcription)
{
	for (int t = 0; t < 60; t++) {
		int iw = 1 + rnd() % 70, ih = 1 + rnd() % 50, C = 1 + rnd() % 3;
		int w = 1 + rnd() % 90, h = 2 + rnd() % 60;
		dimage im = make(iw, ih, C);
		for (int i = 0; i < iw * ih * C; i++)
			im.data[i] = (float)(rnd() % 256) / 255.f;
		dimage ref = resize_image(im, w, h);
		float *out = malloc(sizeof(float) * w * h * C);
		CHECK(nk_darknet_resize(out, im.data, C, iw, ih, w, h) == NK_OK);
		CHECK_MSG(memcmp(out, ref.data, sizeof(float) * w * h * C) == 0,
			  "%dx%d -> %dx%d differs", iw, ih, w, h);
		free(out);
		free(im.data);
		free(ref.data);
	}
}

TEST(letterbox_geometry)
{
	int nw, nh;
	nk_letterbox_size(&nw, &nh, 768, 576, 416, 416);
	CHECK(nw == 416 && nh == 312); /* 576 * 416 / 768 */
	nk_letterbox_size(&nw, &nh, 500, 375, 608, 608);
	CHECK(nw == 608 && nh == 456);
	nk_letterbox_size(&nw, &nh, 375, 500, 416, 416);
	CHECK(nw == 312 && nh == 416);
	nk_letterbox_size(&nw, &nh, 100, 100, 416, 416);
	CHECK(nw == 416 && nh == 416);
	nk_letterbox_size(&nw, &nh, 640, 427, 416, 416); /* truncates */
	CHECK(nw == 416 && nh == 277);

	/* A white 768x576 image: rows 52..363 of the 416x416 canvas are 1,
	 * the bands above and below 0.5. */
	nk_image im;
	CHECK(nk_image_alloc(&im, 768, 576, 3) == NK_OK);
	memset(im.data, 255, nk_image_bytes(&im));
	float *out = malloc(sizeof(float) * 3 * 416 * 416);
	CHECK(nk_letterbox_input(out, &im, 416, 416) == NK_OK);
	int bad = 0;
	for (int k = 0; k < 3; k++)
		for (int y = 0; y < 416; y++)
			for (int x = 0; x < 416; x++) {
				float v = out[(k * 416 + y) * 416 + x];
				bad += v != (y >= 52 && y < 364 ? 1.f : .5f);
			}
	CHECK_MSG(bad == 0, "%d pixels wrong", bad);
	nk_image_free(&im);

	/* A 1000x1 sliver truncates to 0 rows in darknet (which then reads
	 * past its buffer): here it keeps one row, centred at (416 - 1) / 2;
	 * its transpose one column. */
	nk_letterbox_size(&nw, &nh, 1000, 1, 416, 416);
	CHECK(nw == 416 && nh == 1);
	nk_letterbox_size(&nw, &nh, 2, 3000, 32, 32);
	CHECK(nw == 1 && nh == 32);
	CHECK(nk_image_alloc(&im, 1000, 1, 3) == NK_OK);
	memset(im.data, 255, nk_image_bytes(&im));
	CHECK(nk_letterbox_input(out, &im, 416, 416) == NK_OK);
	bad = 0;
	for (int k = 0; k < 3; k++)
		for (int y = 0; y < 416; y++)
			for (int x = 0; x < 416; x++) {
				float v = out[(k * 416 + y) * 416 + x];
				bad += v != (y == 207 ? 1.f : .5f);
			}
	CHECK_MSG(bad == 0, "sliver: %d pixels wrong", bad);
	nk_image_free(&im);
	free(out);
}

TEST(letterbox_vs_transcription)
{
	/* letterbox_image: fill 0.5, embed at ((w-nw)/2, (h-nh)/2). */
	for (int t = 0; t < 20; t++) {
		int iw = 2 + rnd() % 120, ih = 2 + rnd() % 120;
		int w = 8 + rnd() % 100, h = 8 + rnd() % 100;
		nk_image im;
		CHECK(nk_image_alloc(&im, iw, ih, 3) == NK_OK);
		for (size_t i = 0; i < nk_image_bytes(&im); i++)
			im.data[i] = rnd();
		dimage d = make(iw, ih, 3);
		for (int k = 0; k < 3; k++)
			for (int i = 0; i < iw * ih; i++)
				d.data[k * iw * ih + i] = (float)im.data[i * 3 + k] / 255.;
		int nw = iw, nh = ih;
		if ((float)w / iw < (float)h / ih) {
			nw = w;
			nh = ih * w / iw;
		} else {
			nh = h;
			nw = iw * h / ih;
		}
		if (nh < 2 || nw < 1) {
			free(d.data);
			nk_image_free(&im);
			continue;
		}
		dimage r = resize_image(d, nw, nh);
		dimage box = make(w, h, 3);
		for (int i = 0; i < w * h * 3; i++)
			box.data[i] = .5;
		for (int k = 0; k < 3; k++)
			for (int y = 0; y < nh; y++)
				for (int x = 0; x < nw; x++)
					set_pixel(box, (w - nw) / 2 + x, (h - nh) / 2 + y, k,
						  get_pixel(r, x, y, k));
		float *out = malloc(sizeof(float) * 3 * w * h);
		CHECK(nk_letterbox_input(out, &im, w, h) == NK_OK);
		CHECK_MSG(memcmp(out, box.data, sizeof(float) * 3 * w * h) == 0,
			  "%dx%d in %dx%d differs", iw, ih, w, h);
		/* and the plain resize is resize_image of the whole image */
		dimage s = resize_image(d, w, h);
		CHECK(nk_resize_input(out, &im, w, h) == NK_OK);
		CHECK(memcmp(out, s.data, sizeof(float) * 3 * w * h) == 0);
		free(out);
		free(s.data);
		free(r.data);
		free(box.data);
		free(d.data);
		nk_image_free(&im);
	}
}

TEST(planes_channels)
{
	/* RGB order, v / 255.; gray to three planes; alpha dropped. */
	nk_image im;
	float p[3 * 2];
	CHECK(nk_image_alloc(&im, 2, 1, 4) == NK_OK);
	unsigned char px[8] = { 255, 51, 0, 7, 1, 2, 3, 200 };
	memcpy(im.data, px, 8);
	CHECK(nk_image_planes(p, &im) == NK_OK);
	CHECK(p[0] == 1 && p[1] == (float)(1 / 255.));
	CHECK(p[2] == .2f && p[3] == (float)(2 / 255.));
	CHECK(p[4] == 0 && p[5] == (float)(3 / 255.));
	nk_image_free(&im);
	CHECK(nk_image_alloc(&im, 2, 1, 2) == NK_OK);
	im.data[0] = 102;
	im.data[1] = 9;
	im.data[2] = 255;
	im.data[3] = 9;
	CHECK(nk_image_planes(p, &im) == NK_OK);
	CHECK(p[0] == .4f && p[2] == .4f && p[4] == .4f);
	CHECK(p[1] == 1 && p[3] == 1 && p[5] == 1);
	nk_image_free(&im);
	/* all 256 values are darknet's (float)(v / 255.), to the bit */
	CHECK(nk_image_alloc(&im, 256, 1, 1) == NK_OK);
	for (int v = 0; v < 256; v++)
		im.data[v] = (unsigned char)v;
	float *q = malloc(sizeof(float) * 3 * 256);
	CHECK(nk_image_planes(q, &im) == NK_OK);
	for (int v = 0; v < 256; v++)
		CHECK(q[v] == (float)(v / 255.) && fabsf(q[v] - v / 255.f) < 1e-7f);
	free(q);
	nk_image_free(&im);
}

int main(void)
{
	RUN(resize_hand_case);
	RUN(resize_vs_transcription);
	RUN(letterbox_geometry);
	RUN(letterbox_vs_transcription);
	RUN(planes_channels);
	return nk_test_exit();
}
