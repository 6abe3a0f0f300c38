/* test_augment.c - the training sample (vision/augment.h) and the image
 * cache (vision/imcache.h).
 *
 * References: nk_letterbox_input (itself checked against darknet's code
 * in test_letterbox.c) for the unjittered sample, bit for bit; drawn
 * rectangles for the boxes (the red pixels found in the output must be
 * where the box says, within 1 px); hand-computed boxes for the drop
 * rule; nk_resize_area for the cache.  tests/t_augment_opencv.sh checks
 * the HSV conversion against cv2 through the `hsv` and `distort` modes.
 *
 *   test_augment                     the tests
 *   test_augment bench               ms per 640x480 -> 416x416 sample
 *   test_augment hsv IN OUT          rgb_to_hsv over raw float32 (3,n)
 *   test_augment distort IN OUT dh ds dv
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/base.h"
#include "core/rng.h"
#include "vision/augment.h"
#include "vision/imcache.h"
#include "vision/letterbox.h"
#include "vision/pyramid.h"

static void noise(nk_image *im, uint64_t seed)
{
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	for (size_t i = 0; i < nk_image_bytes(im); i++)
		im->data[i] = (unsigned char)nk_rng_below(&r, 256);
}

/* A dull background (values 40..90, never red) with a pure red
 * rectangle [x, x+w) x [y, y+h). */
static void scene(nk_image *im, int x, int y, int w, int h, uint64_t seed)
{
	noise(im, seed);
	for (size_t i = 0; i < nk_image_bytes(im); i++)
		im->data[i] = (unsigned char)(40 + im->data[i] % 51);
	for (int j = y; j < y + h; j++)
		for (int i = x; i < x + w; i++) {
			unsigned char *p = im->data + ((size_t)j * im->w + i) * 3;
			p[0] = 255;
			p[1] = p[2] = 0;
		}
}

/* The bounding box of the red output pixels (R > .5, G < .5), edges in
 * pixels; 0 when there are none. */
static int red_box(const float *out, int W, int H, float *x0, float *y0,
		   float *x1, float *y1)
{
	size_t plane = (size_t)W * H;
	int lx = W, ly = H, hx = -1, hy = -1;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			size_t i = (size_t)y * W + x;
			if (out[i] > .5f && out[plane + i] < .5f) {
				lx = x < lx ? x : lx;
				hx = x > hx ? x : hx;
				ly = y < ly ? y : ly;
				hy = y > hy ? y : hy;
			}
		}
	if (hx < 0)
		return 0;
	*x0 = lx;
	*y0 = ly;
	*x1 = hx + 1;
	*y1 = hy + 1;
	return 1;
}

TEST(val_is_letterbox)
{
	/* sizes that letterbox wide, tall, square, tiny and larger than
	 * the network; gray, gray+alpha, RGB, RGBA */
	static const int cases[][5] = {
		{ 640, 480, 3, 416, 416 }, { 480, 640, 3, 416, 416 },
		{ 100, 37, 1, 320, 256 },  { 37, 100, 2, 96, 160 },
		{ 1000, 999, 4, 416, 416 }, { 5, 3, 3, 64, 64 },
		{ 416, 416, 3, 416, 416 }, { 640, 480, 3, 608, 352 },
	};
	nk_augment_config val = nk_augment_val();
	for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
		int iw = cases[t][0], ih = cases[t][1], c = cases[t][2];
		int W = cases[t][3], H = cases[t][4];
		nk_image im;
		CHECK(nk_image_alloc(&im, iw, ih, c) == 0);
		noise(&im, 100 + t);
		float *a = malloc((size_t)3 * W * H * sizeof *a);
		float *b = malloc((size_t)3 * W * H * sizeof *b);
		nk_det_object o = { .cls = 2, .x = iw / 4.f, .y = ih / 5.f,
				    .w = iw / 2.f, .h = ih / 3.f };
		nk_aug_box bx;
		int nb = -1;
		CHECK(nk_letterbox_input(a, &im, W, H) == 0);
		for (uint64_t seed = 0; seed < 3; seed++) {
			CHECK(nk_augment(b, &bx, &nb, &im, &o, 1, W, H, &val,
					 seed) == 0);
			CHECK_MSG(memcmp(a, b, (size_t)3 * W * H * sizeof *a)
				  == 0, "%dx%dx%d -> %dx%d differs", iw, ih,
				  c, W, H);
		}
		int nw, nh;
		nk_letterbox_size(&nw, &nh, iw, ih, W, H);
		float s = (float)nw / iw, dx = (W - nw) / 2, dy = (H - nh) / 2;
		if (o.w * s >= 2 && o.h * (float)nh / ih >= 2) {
			CHECK(nb == 1 && bx.cls == 2 && bx.obj == 0);
			CHECK(fabsf(bx.cx - ((o.x + o.w / 2) * s + dx)) < 1e-3f);
			CHECK(fabsf(bx.cy - ((o.y + o.h / 2) * (float)nh / ih +
					     dy)) < 1e-3f);
			CHECK(fabsf(bx.w - o.w * s) < 1e-3f);
		}
		free(a);
		free(b);
		nk_image_free(&im);
	}
}

TEST(flips)
{
	int W = 320, H = 256;
	nk_image im;
	CHECK(nk_image_alloc(&im, 400, 300, 3) == 0);
	scene(&im, 60, 40, 80, 50, 7);
	nk_det_object o = { .cls = 1, .x = 60, .y = 40, .w = 80, .h = 50 };
	size_t plane = (size_t)W * H;
	float *a = malloc(3 * plane * sizeof *a);
	float *b = malloc(3 * plane * sizeof *b);
	nk_aug_box ba, bb;
	int na, nb;
	nk_augment_config cfg = nk_augment_val();
	CHECK(nk_augment(a, &ba, &na, &im, &o, 1, W, H, &cfg, 5) == 0);
	for (int v = 0; v < 2; v++) {
		cfg = nk_augment_val();
		if (v)
			cfg.flip_v = 1;
		else
			cfg.flip_h = 1;
		CHECK(nk_augment(b, &bb, &nb, &im, &o, 1, W, H, &cfg, 5) == 0);
		CHECK(na == 1 && nb == 1);
		/* the pixels are the unflipped ones mirrored, exactly */
		int bad = 0;
		for (int k = 0; k < 3; k++)
			for (int y = 0; y < H; y++)
				for (int x = 0; x < W; x++) {
					int sx = v ? x : W - 1 - x;
					int sy = v ? H - 1 - y : y;
					bad += b[k * plane + (size_t)y * W + x] !=
					       a[k * plane + (size_t)sy * W + sx];
				}
		CHECK_MSG(bad == 0, "%d pixels not mirrored", bad);
		/* and the box is where the red pixels are */
		float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
		CHECK(red_box(b, W, H, &x0, &y0, &x1, &y1));
		CHECK_MSG(fabsf(bb.cx - bb.w / 2 - x0) <= 1 &&
			  fabsf(bb.cx + bb.w / 2 - x1) <= 1 &&
			  fabsf(bb.cy - bb.h / 2 - y0) <= 1 &&
			  fabsf(bb.cy + bb.h / 2 - y1) <= 1,
			  "box %g,%g %gx%g, red %g..%g x %g..%g", bb.cx, bb.cy,
			  bb.w, bb.h, x0, x1, y0, y1);
		CHECK(v ? fabsf(bb.cy - (H - ba.cy)) < 1e-4f &&
			  bb.cx == ba.cx :
			  fabsf(bb.cx - (W - ba.cx)) < 1e-4f && bb.cy == ba.cy);
	}
	free(a);
	free(b);
	nk_image_free(&im);
}

/* Scale, aspect and placement jitter in both modes, with flips: the red
 * rectangle's pixels must be where its box says, within 1 px, every
 * time the box is kept. */
TEST(boxes_follow_pixels)
{
	int W = 288, H = 224;
	nk_image im;
	CHECK(nk_image_alloc(&im, 480, 360, 3) == 0);
	size_t plane = (size_t)W * H;
	float *out = malloc(3 * plane * sizeof *out);
	int kept = 0, dropped = 0, cropped = 0;
	for (int mode = 0; mode < 2; mode++)
		for (uint64_t seed = 0; seed < 60; seed++) {
			nk_rng r;
			nk_rng_seed(&r, seed, 9);
			int w = 20 + (int)nk_rng_below(&r, 150);
			int h = 20 + (int)nk_rng_below(&r, 120);
			int x = (int)nk_rng_below(&r, (uint64_t)(480 - w));
			int y = (int)nk_rng_below(&r, (uint64_t)(360 - h));
			scene(&im, x, y, w, h, seed);
			nk_det_object o = { .cls = 0, .x = x, .y = y, .w = w,
					    .h = h };
			nk_augment_config cfg = nk_augment_train();
			cfg.mode = mode;
			cfg.hue = 0; /* keep red red */
			cfg.saturation = cfg.exposure = 1;
			cfg.flip_v = .5f;
			cfg.scale_min = .5f;
			cfg.scale_max = 1.6f;
			cfg.aspect = 1.5f;
			nk_aug_box b;
			int nb;
			CHECK(nk_augment(out, &b, &nb, &im, &o, 1, W, H, &cfg,
					 seed) == 0);
			float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
			int any = red_box(out, W, H, &x0, &y0, &x1, &y1);
			if (nb == 0) {
				dropped++;
				/* the rectangles are too large to drop for
				 * size: dropped means mostly cropped away */
				CHECK_MSG(!any || x0 == 0 || y0 == 0 ||
					  x1 == W || y1 == H, "mode %d seed "
					  "%d dropped, red %g..%g x %g..%g",
					  mode, (int)seed, x0, x1, y0, y1);
				continue;
			}
			kept++;
			CHECK(any);
			if (x0 == 0 || y0 == 0 || x1 == W || y1 == H)
				cropped++;
			CHECK_MSG(fabsf(b.cx - b.w / 2 - x0) <= 1 &&
				  fabsf(b.cx + b.w / 2 - x1) <= 1 &&
				  fabsf(b.cy - b.h / 2 - y0) <= 1 &&
				  fabsf(b.cy + b.h / 2 - y1) <= 1,
				  "mode %d seed %d: box %g,%g %gx%g, red "
				  "%g..%g x %g..%g", mode, (int)seed, b.cx,
				  b.cy, b.w, b.h, x0, x1, y0, y1);
		}
	/* the draws did exercise cropping and keeping */
	CHECK_MSG(kept > 80 && cropped > 5 && dropped > 0, "kept %d, cropped "
		  "%d, dropped %d", kept, cropped, dropped);
	free(out);
	nk_image_free(&im);
}

/* CROP mode covers the canvas: no grey left. */
TEST(crop_covers)
{
	int W = 200, H = 200;
	nk_image im;
	CHECK(nk_image_alloc(&im, 300, 120, 3) == 0);
	memset(im.data, 200, nk_image_bytes(&im));
	float *out = malloc((size_t)3 * W * H * sizeof *out);
	nk_augment_config cfg = nk_augment_train();
	cfg.mode = NK_AUG_CROP;
	cfg.hue = 0;
	cfg.saturation = cfg.exposure = 1;
	for (uint64_t seed = 0; seed < 20; seed++) {
		CHECK(nk_augment(out, NULL, NULL, &im, NULL, 0, W, H, &cfg,
				 seed) == 0);
		int grey = 0;
		for (size_t i = 0; i < (size_t)3 * W * H; i++)
			grey += out[i] == .5f;
		CHECK_MSG(grey == 0, "seed %d: %d grey", (int)seed, grey);
	}
	free(out);
	nk_image_free(&im);
}

TEST(seeds)
{
	int W = 160, H = 128;
	nk_image im;
	CHECK(nk_image_alloc(&im, 200, 150, 3) == 0);
	noise(&im, 3);
	nk_det_object o[2] = { { .cls = 0, .x = 10, .y = 10, .w = 100, .h = 90 },
			       { .cls = 1, .x = 50, .y = 60, .w = 120, .h = 80 } };
	size_t n = (size_t)3 * W * H;
	float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	nk_aug_box ba[2], bb[2];
	int na, nb;
	nk_augment_config cfg = nk_augment_train();
	int same_differs = 0, diff_same = 0;
	for (uint64_t seed = 0; seed < 10; seed++) {
		CHECK(nk_augment(a, ba, &na, &im, o, 2, W, H, &cfg, seed) == 0);
		CHECK(nk_augment(b, bb, &nb, &im, o, 2, W, H, &cfg, seed) == 0);
		same_differs += memcmp(a, b, n * sizeof *a) != 0 || na != nb ||
				memcmp(ba, bb, (size_t)na * sizeof *ba) != 0;
		CHECK(nk_augment(b, bb, &nb, &im, o, 2, W, H, &cfg,
				 seed + 1000) == 0);
		diff_same += memcmp(a, b, n * sizeof *a) == 0;
	}
	CHECK(same_differs == 0);
	CHECK(diff_same == 0);
	free(a);
	free(b);
	nk_image_free(&im);
}

static float maxdiff(const float *a, const float *b, size_t n)
{
	float m = 0;
	for (size_t i = 0; i < n; i++)
		m = fmaxf(m, fabsf(a[i] - b[i]));
	return m;
}

TEST(hsv)
{
	size_t n = 5000;
	float *a = malloc(3 * n * sizeof *a), *b = malloc(3 * n * sizeof *b);
	nk_rng r;
	nk_rng_seed(&r, 4, 0);
	for (size_t i = 0; i < 3 * n; i++)
		a[i] = nk_rng_float(&r);
	/* greys, black, white, primaries */
	a[0] = a[n] = a[2 * n] = 0;
	a[1] = a[n + 1] = a[2 * n + 1] = 1;
	a[2] = a[n + 2] = a[2 * n + 2] = .3f;
	memcpy(b, a, 3 * n * sizeof *a);
	nk_hsv_distort(b, n, 0, 1, 1);
	float d = maxdiff(a, b, 3 * n);
	CHECK_MSG(d <= 1e-6f, "identity off by %g", d);
	/* a third of a turn: red -> green -> blue -> red */
	float px[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 }; /* R, G, B planes */
	nk_hsv_distort(px, 3, 1.f / 3, 1, 1);
	float want[9] = { 0, 0, 1, 1, 0, 0, 0, 1, 0 };
	CHECK_MSG(maxdiff(px, want, 9) < 1e-6f, "%g %g %g %g %g %g %g %g %g",
		  px[0], px[1], px[2], px[3], px[4], px[5], px[6], px[7], px[8]);
	/* value halves a colour; saturation 0 makes it its value grey;
	 * factors above clamp */
	float c[3] = { .8f, .4f, .2f };
	nk_hsv_distort(c, 1, 0, 1, .5f);
	CHECK(fabsf(c[0] - .4f) < 1e-6f && fabsf(c[1] - .2f) < 1e-6f &&
	      fabsf(c[2] - .1f) < 1e-6f);
	float g[3] = { .8f, .4f, .2f };
	nk_hsv_distort(g, 1, 0, 0, 1);
	CHECK(g[0] == .8f && g[1] == .8f && g[2] == .8f);
	float w[3] = { .8f, .4f, .2f };
	nk_hsv_distort(w, 1, 0, 1, 2);
	CHECK(w[0] == 1 && fabsf(w[1] - .8f) < 1e-6f);
	/* conversions: pure yellow is H 1/6, S 1, V 1 */
	float y[3] = { 1, 1, 0 };
	nk_rgb_to_hsv(y, 1);
	CHECK(fabsf(y[0] - 1.f / 6) < 1e-7f && y[1] == 1 && y[2] == 1);
	nk_hsv_to_rgb(y, 1);
	CHECK(y[0] == 1 && y[1] == 1 && y[2] == 0);
	/* the grey border stays .5 under colour jitter */
	nk_image im;
	CHECK(nk_image_alloc(&im, 100, 50, 3) == 0);
	noise(&im, 8);
	float *out = malloc((size_t)3 * 64 * 64 * sizeof *out);
	nk_augment_config cfg = nk_augment_val();
	cfg.hue = .5f;
	cfg.saturation = cfg.exposure = 2;
	CHECK(nk_augment(out, NULL, NULL, &im, NULL, 0, 64, 64, &cfg, 1) == 0);
	CHECK(out[0] == .5f && out[64 * 64 - 1] == .5f &&
	      out[2 * 64 * 64] == .5f);
	float *ref = malloc((size_t)3 * 64 * 64 * sizeof *ref);
	CHECK(nk_letterbox_input(ref, &im, 64, 64) == 0);
	CHECK(maxdiff(out, ref, (size_t)3 * 64 * 64) > .05f);
	free(ref);
	free(out);
	nk_image_free(&im);
	free(a);
	free(b);
}

/* The drop rule with boxes computed by hand: 640x480 into 416x416. */
TEST(clip_rule)
{
	nk_image im;
	CHECK(nk_image_alloc(&im, 640, 480, 3) == 0);
	noise(&im, 2);
	float *out = malloc((size_t)3 * 416 * 416 * sizeof *out);
	nk_aug_box b[8];
	int nb;
	/* letterbox: scale 416/640 = .65, dy = (416 - 312) / 2 = 52 */
	nk_det_object lo[] = {
		{ .cls = 0, .x = -10, .y = 100, .w = 20, .h = 40 },  /* half out: 10 px left, 6.5 wide */
		{ .cls = 1, .x = 636, .y = 100, .w = 3, .h = 40 },   /* 1.95 px wide: dropped */
		{ .cls = 2, .x = 700, .y = 10, .w = 30, .h = 30 },   /* outside the image */
		{ .cls = 3, .x = 10, .y = 10, .w = 0, .h = 30 },     /* empty */
		{ .cls = 4, .x = 600, .y = 470, .w = 100, .h = 100 },/* corner: 40 x 10 in the image */
	};
	nk_augment_config cfg = nk_augment_val();
	CHECK(nk_augment(out, b, &nb, &im, lo, 5, 416, 416, &cfg, 0) == 0);
	CHECK_MSG(nb == 2, "%d boxes", nb);
	CHECK(b[0].obj == 0 && b[0].cls == 0);
	CHECK(fabsf(b[0].cx - 3.25f) < 1e-4f && fabsf(b[0].w - 6.5f) < 1e-4f);
	CHECK(fabsf(b[0].cy - (52 + 120 * .65f)) < 1e-4f &&
	      fabsf(b[0].h - 26) < 1e-4f);
	CHECK(b[1].obj == 4 && fabsf(b[1].w - 26) < 1e-4f &&
	      fabsf(b[1].h - 6.5f) < 1e-4f &&
	      fabsf(b[1].cx - 620 * .65f) < 1e-4f &&
	      fabsf(b[1].cy - (52 + 475 * .65f)) < 1e-4f);
	/* crop: cover scale 416/480, nw = 555, dx = (416 - 555) / 2 = -69:
	 * x 0..90 -> -69..9, 11.5% visible, dropped by the 20% rule;
	 * x 0..100 -> -69..17.67, 20.4% visible, kept */
	cfg.mode = NK_AUG_CROP;
	float s = 416.f / 480 * 640;
	CHECK(lrintf(s) == 555);
	float f = 555.f / 640;
	nk_det_object co[] = {
		{ .cls = 0, .x = 0, .y = 100, .w = 90, .h = 100 },
		{ .cls = 1, .x = 0, .y = 100, .w = 100, .h = 100 },
	};
	CHECK(nk_augment(out, b, &nb, &im, co, 2, 416, 416, &cfg, 0) == 0);
	CHECK_MSG(nb == 1 && b[0].obj == 1, "%d boxes", nb);
	float x1 = 100 * f - 69;
	CHECK(fabsf(b[0].cx - x1 / 2) < 1e-3f && fabsf(b[0].w - x1) < 1e-3f);
	CHECK(fabsf(b[0].cy - 150 * 416.f / 480) < 1e-3f);
	free(out);
	nk_image_free(&im);
}

TEST(no_objects_and_errors)
{
	nk_image im;
	CHECK(nk_image_alloc(&im, 30, 20, 3) == 0);
	float out[3 * 16 * 16];
	int nb = 7;
	nk_augment_config cfg = nk_augment_train();
	CHECK(nk_augment(out, NULL, &nb, &im, NULL, 0, 16, 16, &cfg, 1) == 0);
	CHECK(nb == 0);
	cfg.flip_h = 2;
	CHECK(nk_augment(out, NULL, &nb, &im, NULL, 0, 16, 16, &cfg, 1) ==
	      NK_EINVAL);
	cfg = nk_augment_train();
	cfg.scale_min = 0;
	CHECK(nk_augment(out, NULL, &nb, &im, NULL, 0, 16, 16, &cfg, 1) ==
	      NK_EINVAL);
	cfg = nk_augment_train();
	CHECK(nk_augment(out, NULL, &nb, &im, NULL, 0, 0, 16, &cfg, 1) ==
	      NK_EINVAL);
	nk_image_free(&im);
}

TEST(imcache)
{
	char dir[] = "/tmp/nk-imcache-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	nk_image src[3];
	int sizes[3][3] = { { 800, 600, 3 }, { 120, 300, 1 }, { 50, 40, 4 } };
	const char *files[3] = { "a.png", "sub/b.png", "c.png" };
	char path[128];
	snprintf(path, sizeof path, "%s/sub", dir);
	CHECK(mkdir(path, 0700) == 0);
	nk_det_image images[4];
	for (int i = 0; i < 3; i++) {
		CHECK(nk_image_alloc(&src[i], sizes[i][0], sizes[i][1],
				     sizes[i][2]) == 0);
		noise(&src[i], 20 + i);
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		CHECK(nk_image_save(&src[i], path, 0) == 0);
		images[i] = (nk_det_image){ .file = (char *)files[i] };
	}
	nk_det_object objs[3] = {
		{ .image = 0, .cls = 0, .x = 100, .y = 60, .w = 200, .h = 120 },
		{ .image = 0, .cls = 1, .x = 0, .y = 0, .w = 8, .h = 8 },
		{ .image = 2, .cls = 1, .x = 4, .y = 4, .w = 10, .h = 10 },
	};
	/* sizes as an annotation gives them: right, wrong, absent */
	images[0].width = 800;
	images[0].height = 600;
	images[1].width = 120;
	images[1].height = 301;
	nk_detset set = { .images = images, .nimages = 3, .objects = objs,
			  .nobjects = 3, .root = dir };
	nk_imcache c1, c2;
	CHECK(nk_imcache_load(&c1, &set, 200, 2) == 0);
	CHECK(nk_imcache_load(&c2, &set, 200, 1) == 0);
	CHECK(c1.n == 3 && c1.nobjects == 3);
	CHECK(c1.mismatched == 1 && c1.first_mismatch == 1);
	CHECK(c1.images[0].w == 200 && c1.images[0].h == 150 &&
	      c1.images[0].c == 3);
	CHECK(c1.images[1].w == 80 && c1.images[1].h == 200);
	CHECK(c1.images[2].w == 50 && c1.images[2].h == 40);
	CHECK(c1.first[0] == 0 && c1.first[1] == 2 && c1.first[2] == 2 &&
	      c1.first[3] == 3);
	CHECK(c1.objects[0].x == 25 && c1.objects[0].w == 50 &&
	      c1.objects[0].y == 15 && c1.objects[0].h == 30);
	CHECK(c1.objects[2].x == 4 && c1.objects[2].image == 2);
	size_t px = 0;
	for (int i = 0; i < 3; i++) {
		CHECK(c1.images[i].w == c2.images[i].w &&
		      memcmp(c1.images[i].data, c2.images[i].data,
			     nk_image_bytes(&c1.images[i])) == 0);
		px += nk_image_bytes(&c1.images[i]);
	}
	CHECK(c1.bytes >= px && c1.bytes < px + 4096);
	/* pixels: the area resize of the file's pixels; gray repeated;
	 * alpha dropped */
	unsigned char *ref = malloc(200 * 150 * 3);
	CHECK(nk_resize_area(ref, 200, 150, src[0].data, 800, 600, 3) == 0);
	CHECK(memcmp(ref, c1.images[0].data, 200 * 150 * 3) == 0);
	CHECK(nk_resize_area(ref, 80, 200, src[1].data, 120, 300, 1) == 0);
	int bad = 0;
	for (int i = 0; i < 80 * 200; i++)
		for (int k = 0; k < 3; k++)
			bad += c1.images[1].data[i * 3 + k] != ref[i];
	CHECK(bad == 0);
	for (int i = 0; i < 50 * 40; i++)
		for (int k = 0; k < 3; k++)
			bad += c1.images[2].data[i * 3 + k] !=
			       src[2].data[i * 4 + k];
	CHECK(bad == 0);
	free(ref);
	nk_imcache_free(&c1);
	nk_imcache_free(&c2);
	/* a missing file fails the load, named */
	images[3] = (nk_det_image){ .file = "missing.jpg" };
	set.nimages = 4;
	CHECK(nk_imcache_load(&c1, &set, 0, 2) != 0);
	CHECK_MSG(strstr(nk_last_error(), "missing.jpg") != NULL, "%s",
		  nk_last_error());
	CHECK(c1.images == NULL);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
		nk_image_free(&src[i]);
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

/* This thread's CPU time: on a shared machine, wall time also counts the
 * other processes' turns. */
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int bench(void)
{
	nk_image im;
	if (nk_image_alloc(&im, 640, 480, 3))
		return 1;
	noise(&im, 1);
	float *out = malloc((size_t)3 * 416 * 416 * sizeof *out);
	nk_det_object o = { .x = 100, .y = 100, .w = 50, .h = 50 };
	nk_aug_box b;
	int nb;
	struct {
		const char *name;
		nk_augment_config cfg;
		int letterbox;
	} runs[4] = {
		{ "nk_letterbox_input", nk_augment_val(), 1 },
		{ "augment val", nk_augment_val(), 0 },
		{ "augment train, no colour", nk_augment_train(), 0 },
		{ "augment train", nk_augment_train(), 0 },
	};
	runs[2].cfg.hue = 0;
	runs[2].cfg.saturation = runs[2].cfg.exposure = 1;
	printf("640x480 -> 416x416, one thread, CPU ms per sample (best of 5 "
	       "runs of 50)\n");
	for (int r = 0; r < 4; r++) {
		double best = 1e9;
		for (int rep = 0; rep < 5; rep++) {
			double t0 = now();
			for (int i = 0; i < 50; i++) {
				if (runs[r].letterbox)
					nk_letterbox_input(out, &im, 416, 416);
				else
					nk_augment(out, &b, &nb, &im, &o, 1, 416,
						   416, &runs[r].cfg, i);
			}
			double t = (now() - t0) / 50 * 1e3;
			best = t < best ? t : best;
		}
		printf("%-28s %.3f\n", runs[r].name, best);
	}
	free(out);
	nk_image_free(&im);
	return 0;
}

/* Raw float32 (3,n) planes in and out, for t_augment_opencv.sh. */
static int hsv_mode(int argc, char **argv)
{
	FILE *f = fopen(argv[2], "rb");
	if (!f)
		return 2;
	fseek(f, 0, SEEK_END);
	long bytes = ftell(f);
	rewind(f);
	size_t n = (size_t)bytes / (3 * sizeof(float));
	float *p = malloc((size_t)bytes + 1);
	if (!p || fread(p, sizeof *p, 3 * n, f) != 3 * n)
		return 2;
	fclose(f);
	if (strcmp(argv[1], "hsv") == 0)
		nk_rgb_to_hsv(p, n);
	else if (argc == 7)
		nk_hsv_distort(p, n, strtof(argv[4], NULL),
			       strtof(argv[5], NULL), strtof(argv[6], NULL));
	else
		return 2;
	f = fopen(argv[3], "wb");
	if (!f || fwrite(p, sizeof *p, 3 * n, f) != 3 * n || fclose(f))
		return 1;
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "bench") == 0)
		return bench();
	if (argc >= 4 && (strcmp(argv[1], "hsv") == 0 ||
			  strcmp(argv[1], "distort") == 0))
		return hsv_mode(argc, argv);
	RUN(val_is_letterbox);
	RUN(flips);
	RUN(boxes_follow_pixels);
	RUN(crop_covers);
	RUN(seeds);
	RUN(hsv);
	RUN(clip_rule);
	RUN(no_objects_and_errors);
	RUN(imcache);
	return nk_test_exit();
}
