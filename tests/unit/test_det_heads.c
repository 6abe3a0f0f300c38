/* test_det_heads.c - the grid and CenterNet heads (models/det_grid.h,
 * models/det_centernet.h): hand-worked cases (which cell and box is
 * responsible, each part of the loss, the Gaussian's radius and values),
 * both losses' gradients against central differences at two steps, and
 * planted boxes decoded back.
 *
 *   test_det_heads              runs the checks
 *   test_det_heads torch FILE   writes random outputs and targets with
 *                               this library's targets, losses and
 *                               gradients for tests/t_det_heads_torch.sh
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "formats/wfile.h"
#include "models/det_centernet.h"
#include "models/det_grid.h"

static double logit(double p)
{
	return log(p / (1 - p));
}

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol * (1 + fabs(b));
}

/* One object (class 1) at (40, 20), 16 x 32 pixels of a 64 x 64 input,
 * S = 2: cell row 0, column 1 (offset 0.25, 0.625), size 0.25 x 0.5. */
static const nk_grid_shape g_shape = {2, 2, 2, 3, 64, 64, 0, 0, 0};
static const nk_det_target g_obj = {1, 40, 20, 16, 32};

static float *grid_planted(int box, float conf)
{
	static float out[(2 * 5 + 3) * 4];
	memset(out, 0, sizeof out);
	int cell = 1;
	out[(box * 5 + 0) * 4 + cell] = (float)logit(0.25);
	out[(box * 5 + 1) * 4 + cell] = (float)logit(0.625);
	out[(box * 5 + 2) * 4 + cell] = (float)logit(0.5);
	out[(box * 5 + 3) * 4 + cell] = (float)logit(sqrt(0.5));
	out[(box * 5 + 4) * 4 + cell] = (float)logit(conf);
	return out;
}

TEST(grid_one_object)
{
	for (int box = 0; box < 2; box++) {
		float *out = grid_planted(box, 0.8f);
		float d[13 * 4] = {0};
		const nk_det_target *gt[1] = {&g_obj};
		int n = 1;
		nk_grid_loss_parts p;
		double l = nk_grid_loss(d, out, 1, &g_shape, gt, &n, &p);
		/* The planted box predicts the GT exactly: no coordinate
		 * error; obj (0.8 - 1)^2; seven other boxes at sigmoid(0)
		 * = 0.5 give 0.5 * 0.25 each; the classes log 3. */
		CHECK_MSG(near(p.coord, 0, 1e-6), "coord %g", p.coord);
		CHECK_MSG(near(p.obj, 0.04, 1e-6), "obj %g", p.obj);
		CHECK_MSG(near(p.noobj, 0.875, 1e-6), "noobj %g", p.noobj);
		CHECK_MSG(near(p.cls, log(3.0), 1e-6), "cls %g", p.cls);
		CHECK(near(l, 0.04 + 0.875 + log(3.0), 1e-6));
		CHECK(p.objects == 1 && p.dropped == 0);
		/* The other box of the cell is a no-object box: gradient
		 * 0.5 * 2 * 0.5 * 0.25; the planted box's conf gets
		 * 2 (0.8 - 1) 0.8 0.2; class gradient softmax - onehot. */
		int other = 1 - box;
		CHECK(near(d[(other * 5 + 4) * 4 + 1], 0.125, 1e-6));
		CHECK(near(d[(box * 5 + 4) * 4 + 1], 2 * -0.2 * 0.8 * 0.2, 1e-5));
		CHECK(near(d[(box * 5 + 0) * 4 + 1], 0, 1e-6));
		CHECK(d[(other * 5 + 0) * 4 + 1] == 0);
		CHECK(near(d[(10 + 1) * 4 + 1], 1.0 / 3 - 1, 1e-6));
		CHECK(near(d[(10 + 0) * 4 + 1], 1.0 / 3, 1e-6));
		CHECK(d[(10 + 0) * 4 + 0] == 0);
		/* Rescore: the target is the IoU, 1 here. */
		nk_grid_shape r = g_shape;
		r.rescore = 1;
		nk_grid_loss(NULL, out, 1, &r, gt, &n, &p);
		CHECK(near(p.obj, 0.04, 1e-5));
		/* Two identical images: the same loss per image. */
		float two[2 * 13 * 4];
		memcpy(two, out, sizeof(float) * 52);
		memcpy(two + 52, out, sizeof(float) * 52);
		const nk_det_target *gt2[2] = {&g_obj, &g_obj};
		int n2[2] = {1, 1};
		CHECK(near(nk_grid_loss(NULL, two, 2, &g_shape, gt2, n2, NULL), l,
			   1e-9));
	}
	/* Three objects in one cell of two boxes: one is dropped. */
	nk_det_target three[3] = {g_obj, g_obj, g_obj};
	three[1].cls = 0;
	const nk_det_target *gt[1] = {three};
	int n = 3;
	nk_grid_loss_parts p;
	nk_grid_loss(NULL, grid_planted(0, .5f), 1, &g_shape, gt, &n, &p);
	CHECK(p.objects == 2 && p.dropped == 1);
	/* Class 0 and class 1 each add a cross-entropy: 2 log 3. */
	CHECK(near(p.cls, 2 * log(3.0), 1e-6));
	three[0].cls = 7;
	CHECK(isnan(nk_grid_loss(NULL, grid_planted(0, .5f), 1, &g_shape, gt,
				 &n, &p)));
}

TEST(grid_decode)
{
	float *out = grid_planted(1, 0.9f);
	out[(10 + 2) * 4 + 1] = 3; /* class 2 logits 3, 0, 0 */
	nk_detection *d;
	int n;
	CHECK(nk_grid_decode(out, &g_shape, 0.2f, &d, &n) == 0);
	CHECK(n == 8);
	nk_detection *e = &d[1 * 2 + 1]; /* cell 1, box 1 */
	CHECK(near(e->box.x, 40 / 64.0, 1e-6) && near(e->box.y, 20 / 64.0, 1e-6));
	CHECK(near(e->box.w, 0.25, 1e-6) && near(e->box.h, 0.5, 1e-6));
	CHECK(near(e->objectness, 0.9, 1e-6));
	double p2 = exp(3) / (exp(3) + 2);
	CHECK(near(e->prob[2], 0.9 * p2, 1e-6) && e->prob[0] == 0);
	/* Others: objectness 0.5, class probs 1/3 * 0.5 < 0.2 zeroed. */
	CHECK(d[0].prob[0] == 0 && near(d[0].objectness, 0.5, 1e-6));
	CHECK(near(d[0].box.x, 0.25, 1e-6) && near(d[0].box.w, 0.25, 1e-6));
	free(d);
}

/* A 32 x 32 box (output pixels) has radius 2: r2 = (128 - sqrt(128^2 -
 * 16 * 0.3 * 1024)) / 8 = 2.61 is the smallest of the three; 8 x 8 has
 * 0.65, radius 0. */
TEST(centernet_heatmap)
{
	nk_centernet_shape s = {2, 256, 192, 4};
	int ow = 64, oh = 48;
	float *hm = malloc(sizeof(float) * 2 * ow * oh);
	nk_det_target t[2] = {{1, 4 * 20.5f, 4 * 20.25f, 128, 128},
			      {0, 4 * 5.5f, 4 * 7.5f, 32, 32}};
	CHECK(nk_centernet_heatmap(hm, &s, t, 2) == 0);
	const float *h1 = hm + ow * oh;
	double sig = 5.0 / 6;
	CHECK(h1[20 * ow + 20] == 1);
	CHECK(near(h1[20 * ow + 21], exp(-1 / (2 * sig * sig)), 1e-6));
	CHECK(near(h1[22 * ow + 22], exp(-8 / (2 * sig * sig)), 1e-6));
	CHECK(h1[20 * ow + 23] == 0 && h1[23 * ow + 20] == 0);
	CHECK(hm[7 * ow + 5] == 1 && hm[7 * ow + 6] == 0 && hm[8 * ow + 5] == 0);
	double sum = 0;
	for (int i = 0; i < 2 * ow * oh; i++)
		sum += hm[i];
	double want = 1;
	for (int y = -2; y <= 2; y++)
		for (int x = -2; x <= 2; x++)
			want += exp(-(x * x + y * y) / (2 * sig * sig));
	CHECK_MSG(near(sum, want, 1e-6), "sum %g want %g", sum, want);

	/* Loss with every logit 0 (sigmoid 0.5): the hand sum. */
	size_t CH = 6, plane = (size_t)ow * oh;
	float *out = calloc(CH * plane, sizeof(float));
	const nk_det_target *gt[1] = {t};
	int n = 2;
	nk_centernet_loss_parts p;
	double l = nk_centernet_loss(NULL, out, 1, &s, gt, &n, &p);
	double hl = 0;
	for (size_t i = 0; i < 2 * plane; i++)
		hl += hm[i] == 1 ? 0.25 * log(2) :
		      pow(1 - hm[i], 4) * 0.25 * log(2);
	CHECK(p.num_pos == 2 && p.objects == 2);
	CHECK_MSG(near(p.hm, hl / 2, 1e-9), "hm %g want %g", p.hm, hl / 2);
	/* Sizes 32 + 32 + 8 + 8, offsets 0.5 + 0.25 + 0.5 + 0.5. */
	CHECK(near(p.wh, 0.1 * 80 / (4 + 1e-4), 1e-9));
	CHECK(near(p.off, 1.75 / (4 + 1e-4), 1e-6));
	CHECK(near(l, p.hm + p.wh + p.off, 1e-12));
	free(out);
	free(hm);
}

TEST(centernet_decode)
{
	nk_centernet_shape s = {3, 64, 32, 4};
	int ow = 16, oh = 8, C = 3;
	size_t plane = (size_t)ow * oh;
	float *out = malloc(sizeof(float) * (C + 4) * plane);
	for (size_t i = 0; i < C * plane; i++)
		out[i] = -6;
	for (size_t i = C * plane; i < (C + 4) * plane; i++)
		out[i] = 0;
	/* Peaks: class 2 at (3, 5) score 0.9 with a lower neighbour;
	 * class 0 at (12, 1) score 0.7. */
	out[2 * plane + 5 * ow + 3] = (float)logit(0.9);
	out[2 * plane + 5 * ow + 4] = (float)logit(0.8);
	out[0 * plane + 1 * ow + 12] = (float)logit(0.7);
	float *wh = out + C * plane;
	wh[5 * ow + 3] = 6, wh[plane + 5 * ow + 3] = 2;
	wh[2 * plane + 5 * ow + 3] = 0.25f, wh[3 * plane + 5 * ow + 3] = 0.5f;
	wh[1 * ow + 12] = 4, wh[plane + 1 * ow + 12] = -3; /* a negative h */
	nk_detection *d;
	int n;
	CHECK(nk_centernet_decode(out, &s, 100, 0.1f, &d, &n) == 0);
	CHECK_MSG(n == 2, "n %d", n);
	if (n == 2) {
		CHECK(near(d[0].objectness, 0.9, 1e-6) && near(d[0].prob[2], 0.9, 1e-6));
		CHECK(d[0].prob[0] == 0 && d[0].prob[1] == 0);
		CHECK(near(d[0].box.x, 3.25 / 16, 1e-6) && near(d[0].box.y, 5.5 / 8, 1e-6));
		CHECK(near(d[0].box.w, 6.0 / 16, 1e-6) && near(d[0].box.h, 2.0 / 8, 1e-6));
		CHECK(near(d[1].prob[0], 0.7, 1e-6) && near(d[1].box.x, 12.0 / 16, 1e-6));
		/* a negative size regressed is no size, not an inverted box */
		CHECK(near(d[1].box.w, 0.25, 1e-6) && d[1].box.h == 0);
	}
	free(d);
	/* thresh 0 keeps every peak, K cuts them. */
	CHECK(nk_centernet_decode(out, &s, 5, 0, &d, &n) == 0 && n == 5);
	CHECK(near(d[0].objectness, 0.9, 1e-6));
	free(d);
	free(out);
}

/* ---- gradients against central differences ---------------------------- */

typedef double (*lossfn)(float *d, const float *out, const void *ctx);

/* The targets the loss functions below are called with. */
static const nk_det_target *const *fd_gt;
static const int *fd_n;
static int fd_B;

static double grid_fn(float *d, const float *out, const void *ctx)
{
	const nk_grid_shape *s = ctx;
	return nk_grid_loss(d, out, fd_B, s, fd_gt, fd_n, NULL);
}

static double cn_fn(float *d, const float *out, const void *ctx)
{
	const nk_centernet_shape *s = ctx;
	return nk_centernet_loss(d, out, fd_B, s, fd_gt, fd_n, NULL);
}

/* Every element's analytic gradient against (L(x+h) - L(x-h)) / 2h at
 * h = 1e-2 and 1e-3, using the steps float actually took. */
static void fd_check(lossfn f, const void *ctx, float *out, size_t N)
{
	float *d = calloc(N, sizeof *d);
	f(d, out, ctx);
	double worst = 0;
	size_t at = 0;
	for (size_t i = 0; i < N; i++) {
		float x = out[i];
		for (int k = 0; k < 2; k++) {
			float h = k ? 1e-3f : 1e-2f;
			out[i] = x + h;
			double lp = f(NULL, out, ctx);
			float xp = out[i];
			out[i] = x - h;
			double lm = f(NULL, out, ctx);
			float xm = out[i];
			out[i] = x;
			double fd = (lp - lm) / ((double)xp - xm);
			double e = fabs(fd - d[i]) / (1e-3 + fabs(d[i]));
			if (fabs(fd - d[i]) > 1e-5 && e > worst)
				worst = e, at = i;
		}
	}
	CHECK_MSG(worst < 2e-3, "element %zu: analytic %g, relative error %g",
		  at, d[at], worst);
	free(d);
}

static void rand_targets(nk_rng *r, nk_det_target *t, int n, int classes,
			 float W, float H)
{
	for (int i = 0; i < n; i++) {
		t[i].cls = (int)nk_rng_below(r, classes);
		t[i].cx = nk_rng_float(r) * W;
		t[i].cy = nk_rng_float(r) * H;
		t[i].w = (0.05f + 0.5f * nk_rng_float(r)) * W;
		t[i].h = (0.05f + 0.5f * nk_rng_float(r)) * H;
	}
}

TEST(grid_gradient)
{
	nk_rng r;
	nk_rng_seed(&r, 13, 1);
	nk_grid_shape s = {3, 4, 2, 3, 128, 96, 0, 0, 0};
	int B = 2;
	size_t N = (size_t)B * nk_grid_channels(&s) * 12;
	float *out = malloc(N * sizeof *out);
	for (size_t i = 0; i < N; i++)
		out[i] = (float)nk_rng_normal(&r);
	nk_det_target t[2][4];
	rand_targets(&r, t[0], 4, 3, 128, 96);
	rand_targets(&r, t[1], 3, 3, 128, 96);
	t[1][1] = t[1][0]; /* two objects in one cell */
	t[1][1].w *= 0.5f;
	const nk_det_target *gt[2] = {t[0], t[1]};
	int n[2] = {4, 3};
	fd_gt = gt, fd_n = n, fd_B = B;
	fd_check(grid_fn, &s, out, N);
	free(out);
}

TEST(centernet_gradient)
{
	nk_rng r;
	nk_rng_seed(&r, 13, 2);
	nk_centernet_shape s = {2, 40, 32, 4};
	int B = 2;
	size_t N = (size_t)B * 6 * 80;
	float *out = malloc(N * sizeof *out);
	for (size_t i = 0; i < N; i++)
		out[i] = (float)(2 * nk_rng_normal(&r));
	nk_det_target t[2][3];
	rand_targets(&r, t[0], 3, 2, 40, 32);
	rand_targets(&r, t[1], 2, 2, 40, 32);
	const nk_det_target *gt[2] = {t[0], t[1]};
	int n[2] = {3, 2};
	fd_gt = gt, fd_n = n, fd_B = B;
	fd_check(cn_fn, &s, out, N);
	free(out);
}

/* ---- data for the PyTorch comparison (tests/t_det_heads_torch.sh) ----- */

/* nk_wfile_add borrows its data until the file is written. */
static void *keep[16];
static int nkeep;

static void *kept(void *p)
{
	return keep[nkeep++] = p;
}

static void add_gt(nk_wfile *w, const char *name, nk_det_target *const *t,
		   const int *n, int B)
{
	int N = 0;
	for (int b = 0; b < B; b++)
		N += n[b];
	float *g = kept(calloc((size_t)(N ? N : 1) * 6, sizeof *g));
	int k = 0;
	for (int b = 0; b < B; b++)
		for (int i = 0; i < n[b]; i++, k++) {
			float v[6] = {b, t[b][i].cls, t[b][i].cx, t[b][i].cy,
				      t[b][i].w, t[b][i].h};
			memcpy(g + 6 * k, v, sizeof v);
		}
	nk_wfile_add(w, name, NK_F32, 2, (int64_t[]){N, 6}, g);
}

static int torch_dump(const char *path)
{
	nk_rng r;
	nk_rng_seed(&r, 2026, 13);
	nk_wfile *w = nk_wfile_create();
	nk_wfile_set_str(w, "program", "test_det_heads");

	/* Grid: image 0 five random objects; image 1 two in one cell and
	 * two centres on the border; image 2 none. */
	nk_grid_shape gs = {4, 5, 2, 3, 160, 128, 0, 0, 0};
	int B = 3, CH = nk_grid_channels(&gs);
	size_t N = (size_t)B * CH * 20;
	float *out = kept(malloc(N * sizeof *out));
	for (size_t i = 0; i < N; i++)
		out[i] = (float)(1.5 * nk_rng_normal(&r));
	nk_det_target t0[5], t1[4];
	rand_targets(&r, t0, 5, 3, 160, 128);
	rand_targets(&r, t1, 4, 3, 160, 128);
	t1[1] = t1[0];
	t1[1].cx += 3, t1[1].w *= 0.6f, t1[1].cls = (t1[0].cls + 1) % 3;
	t1[2].cx = 0, t1[3].cx = 160, t1[3].cy = 128;
	nk_det_target *gt[3] = {t0, t1, NULL};
	int n[3] = {5, 4, 0};
	nk_wfile_set_ints(w, "grid.shape", (int64_t[]){gs.sh, gs.sw, gs.nb,
			  gs.classes, gs.in_w, gs.in_h}, 6);
	nk_wfile_add(w, "grid.out", NK_F32, 4, (int64_t[]){B, CH, 4, 5}, out);
	add_gt(w, "grid.gt", gt, n, B);
	for (int rs = 0; rs < 2; rs++) {
		char key[32];
		gs.rescore = rs;
		float *d = kept(calloc(N, sizeof *d));
		nk_grid_loss_parts p;
		double l = nk_grid_loss(d, out, B, &gs,
					(const nk_det_target *const *)gt, n, &p);
		snprintf(key, sizeof key, "grid.d%d", rs);
		nk_wfile_add(w, key, NK_F32, 4, (int64_t[]){B, CH, 4, 5}, d);
		snprintf(key, sizeof key, "grid.loss%d", rs);
		nk_wfile_set_floats(w, key, (double[]){l, p.coord, p.obj,
				    p.noobj, p.cls}, 5);
	}

	/* CenterNet: image 0 six random objects, two of one class
	 * overlapping, two of one class centred in one pixel; image 1 boxes
	 * across the border, a tiny one (radius 0), one wholly outside, two
	 * large ones of one class overlapping; image 2 none.
	 * A few logits far enough out to be clamped. */
	nk_centernet_shape cs = {3, 256, 192, 4};
	int ow = 64, oh = 48, CC = nk_centernet_channels(&cs);
	N = (size_t)B * CC * ow * oh;
	out = kept(malloc(N * sizeof *out));
	float *d = kept(calloc(N, sizeof *d));
	for (size_t i = 0; i < N; i++)
		out[i] = (float)(2 * nk_rng_normal(&r) - 1);
	for (int i = 0; i < 40; i++)
		out[nk_rng_below(&r, N)] = nk_rng_below(&r, 2) ? 12.f : -12.f;
	nk_det_target c0[6], c1[6];
	rand_targets(&r, c0, 6, 3, 256, 192);
	c0[1] = c0[0];
	c0[1].cx += 10, c0[1].cy -= 8;
	c0[3] = c0[2]; /* one class, one centre pixel, two sizes */
	c0[3].w *= 0.7f;
	c1[0] = (nk_det_target){0, -10, 100, 60, 40};
	c1[1] = (nk_det_target){1, 240, 188, 80, 60};
	c1[2] = (nk_det_target){2, 120.6f, 61.4f, 4, 4};
	c1[3] = (nk_det_target){2, -100, 80, 20, 20};
	c1[4] = (nk_det_target){0, 128, 96, 200, 160};
	c1[5] = (nk_det_target){0, 150, 110, 180, 150};
	nk_det_target *cg[3] = {c0, c1, NULL};
	int cn[3] = {6, 6, 0};
	nk_wfile_set_ints(w, "cn.shape", (int64_t[]){cs.classes, cs.in_w,
			  cs.in_h, cs.stride}, 4);
	nk_wfile_add(w, "cn.out", NK_F32, 4, (int64_t[]){B, CC, oh, ow}, out);
	add_gt(w, "cn.gt", cg, cn, B);
	float *hm = kept(calloc((size_t)B * 3 * ow * oh, sizeof *hm));
	for (int b = 0; b < B; b++)
		nk_centernet_heatmap(hm + (size_t)b * 3 * ow * oh, &cs, cg[b],
				     cn[b]);
	nk_wfile_add(w, "cn.hm", NK_F32, 4, (int64_t[]){B, 3, oh, ow}, hm);
	nk_centernet_loss_parts p;
	double l = nk_centernet_loss(d, out, B, &cs,
				     (const nk_det_target *const *)cg, cn, &p);
	nk_wfile_add(w, "cn.d", NK_F32, 4, (int64_t[]){B, CC, oh, ow}, d);
	nk_wfile_set_floats(w, "cn.loss", (double[]){l, p.hm, p.wh, p.off}, 4);
	nk_wfile_set_ints(w, "cn.counts", (int64_t[]){p.num_pos, p.objects}, 2);
	int rc = nk_wfile_write(w, path, 0);
	nk_wfile_free(w);
	while (nkeep)
		free(keep[--nkeep]);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "torch") == 0)
		return torch_dump(argv[2]);
	RUN(grid_one_object);
	RUN(grid_decode);
	RUN(centernet_heatmap);
	RUN(centernet_decode);
	RUN(grid_gradient);
	RUN(centernet_gradient);
	return nk_test_exit();
}
