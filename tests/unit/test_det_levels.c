/* test_det_levels.c - the grid head on several FPN levels: which level an
 * object belongs to (max(w, h) in [min_size, max_size)), that the other
 * levels see no object there, the cfg det_arch writes (levels, strides,
 * ranges), nk_darknet_boxes pooling every level, and a tiny two-level
 * detector learning drawn squares of two sizes through nk_det_task.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/base.h"
#include "core/rng.h"
#include "formats/darknet_cfg.h"
#include "models/darknet.h"
#include "models/det_arch.h"
#include "models/det_grid.h"
#include "models/det_task.h"
#include "nn/optim.h"
#include "vision/boxes.h"

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol * (1 + fabs(b));
}

/* Two levels of a 64 x 64 input: stride 8 (8 x 8) for max(w, h) below
 * 32, stride 16 (4 x 4) for 32 and up. */
static const nk_grid_shape fine = {8, 8, 2, 3, 64, 64, 1, 0, 32};
static const nk_grid_shape coarse = {4, 4, 2, 3, 64, 64, 1, 32, 0};

TEST(level_by_size)
{
	nk_det_target t[] = {
		{0, 20, 20, 10, 31.9f},  /* fine: its height decides */
		{1, 40, 40, 32, 8},      /* coarse: 32 is the boundary */
		{2, 30, 30, 60, 50},     /* coarse */
		{0, 60, 10, 100, 4},     /* clipped to 64 wide: coarse */
	};
	int want[] = {1, 0, 0, 0};
	for (int i = 0; i < 4; i++) {
		CHECK_MSG(nk_grid_owns(&fine, &t[i]) == want[i], "object %d", i);
		CHECK_MSG(nk_grid_owns(&coarse, &t[i]) == !want[i], "object %d",
			  i);
	}
	/* No range: every size, the single-level head as it was. */
	nk_grid_shape all = {8, 8, 2, 3, 64, 64, 1, 0, 0};
	for (int i = 0; i < 4; i++)
		CHECK(nk_grid_owns(&all, &t[i]));
	/* A bad range is a bad shape. */
	nk_grid_shape bad = {8, 8, 2, 3, 64, 64, 1, 32, 16};
	float out[13 * 64] = {0};
	int n = 1;
	const nk_det_target *g[1] = {t};
	nk_error_clear();
	CHECK(isnan(nk_grid_loss(NULL, out, 1, &bad, g, &n, NULL)));
	CHECK(nk_last_error()[0]);
}

/* On each level, the loss and gradient with the range equal those
 * without it on the level's own objects alone (so the others are plain
 * empty cells: no-object terms only), over random outputs. */
TEST(other_levels_no_object)
{
	nk_rng r;
	nk_rng_seed(&r, 7, 0);
	nk_det_target t[] = {
		{0, 12, 12, 14, 10},   /* fine, cell (1, 1) */
		{1, 44, 20, 40, 36},   /* coarse, cell (1, 2); fine (2, 5) */
		{2, 50, 52, 12, 16},   /* fine, cell (6, 6) */
		{1, 20, 44, 34, 30},   /* coarse, cell (2, 1); fine (5, 2) */
	};
	const nk_grid_shape *lv[2] = {&fine, &coarse};
	for (int k = 0; k < 2; k++) {
		const nk_grid_shape *s = lv[k];
		size_t N = (size_t)13 * s->sh * s->sw;
		float *out = malloc(2 * N * sizeof *out);
		float *d1 = calloc(2 * N, sizeof *d1), *d2 = calloc(2 * N,
								    sizeof *d2);
		for (size_t i = 0; i < 2 * N; i++)
			out[i] = (float)(2 * nk_rng_double(&r) - 1);
		/* Image 0 all four objects, image 1 the last two. */
		const nk_det_target *g[2] = {t, t + 2};
		int n[2] = {4, 2};
		nk_det_target own[6];
		int no[2] = {0, 0};
		for (int b = 0, at = 0; b < 2; b++)
			for (int i = 0; i < n[b]; i++)
				if (nk_grid_owns(s, &g[b][i])) {
					own[at++] = g[b][i];
					no[b]++;
				}
		const nk_det_target *go[2] = {own, own + no[0]};
		nk_grid_shape all = *s;
		all.min_size = all.max_size = 0;
		nk_grid_loss_parts p1, p2;
		double l1 = nk_grid_loss(d1, out, 2, s, g, n, &p1);
		double l2 = nk_grid_loss(d2, out, 2, &all, go, no, &p2);
		CHECK_MSG(no[0] == 2 && no[1] == 1, "level %d: %d, %d", k,
			  no[0], no[1]);
		CHECK_MSG(l1 == l2 && p1.objects == 3 && p1.other == 3 &&
			  p2.other == 0, "level %d: %g %g, %d %d", k, l1, l2,
			  p1.objects, p1.other);
		CHECK(memcmp(d1, d2, 2 * N * sizeof *d1) == 0);
		/* The other level's object's cell: objectness pushed down
		 * (d = 0.5 * 2 * a * a * (1 - a) / B > 0 for both boxes), its
		 * coordinates and classes untouched. */
		const nk_det_target *o = &t[k == 0 ? 1 : 0];
		int cell = (int)(o->cy / 64 * s->sh) * s->sw +
			   (int)(o->cx / 64 * s->sw);
		size_t plane = (size_t)s->sh * s->sw;
		for (int j = 0; j < 2; j++) {
			double a = 1 / (1 + exp(-out[(j * 5 + 4) * plane + cell]));
			CHECK_MSG(near(d1[(j * 5 + 4) * plane + cell],
				       0.5 * a * a * (1 - a), 1e-5),
				  "level %d box %d", k, j);
			for (int f = 0; f < 4; f++)
				CHECK(d1[(j * 5 + f) * plane + cell] == 0);
		}
		for (int c = 0; c < 3; c++)
			CHECK(d1[(10 + c) * plane + cell] == 0);
		free(out), free(d1), free(d2);
	}
}

static int build(nk_darknet *net, const nk_det_arch *a)
{
	char *text;
	nk_dncfg c;
	int rc = nk_det_arch_cfg(a, &text);
	if (rc)
		return rc;
	rc = nk_dncfg_parse(&c, text, strlen(text), "arch.cfg");
	free(text);
	return rc ? rc : nk_darknet_build(net, &c);
}

/* The grid layers: stride, min and max size, in layer order. */
static int grids(const nk_darknet *net, int *st, float *lo, float *hi)
{
	int n = 0;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		if (l->type != NK_DN_GRID)
			continue;
		st[n] = net->w / l->w;
		lo[n] = l->min_size;
		hi[n++] = l->max_size;
	}
	return n;
}

TEST(arch_levels)
{
	nk_det_arch a = nk_det_arch_default();
	a.width = a.height = 96;
	a.classes = 2;
	a.base = 4;
	struct {
		int fpn, levels, n, st[3];
		float lo[3], hi[3];
	} want[] = {
		{0, 0, 1, {16}, {0}, {0}},
		{1, 1, 1, {16}, {0}, {0}},
		{1, 2, 2, {16, 8}, {32, 0}, {0, 32}},
		{1, 3, 3, {32, 16, 8}, {64, 32, 0}, {0, 64, 32}},
		{1, 0, NK_DET_FPN_LEVELS, {32, 16, 8}, {64, 32, 0}, {0, 64, 32}},
	};
	for (int k = 0; k < 5; k++) {
		a.fpn = want[k].fpn;
		a.levels = want[k].levels;
		nk_darknet net;
		int st[8], n = -1;
		float lo[8], hi[8];
		int rc = build(&net, &a);
		CHECK_MSG(rc == 0, "case %d: %s", k, nk_last_error());
		if (rc)
			continue;
		n = grids(&net, st, lo, hi);
		CHECK_MSG(n == want[k].n && net.l[net.n - 1].type == NK_DN_GRID,
			  "case %d: %d levels", k, n);
		for (int i = 0; i < n && n == want[k].n; i++)
			CHECK_MSG(st[i] == want[k].st[i] && lo[i] == want[k].lo[i] &&
				  hi[i] == want[k].hi[i], "case %d level %d: "
				  "stride %d [%g, %g)", k, i, st[i], lo[i], hi[i]);
		nk_darknet_free(&net);
	}
	a.levels = 4;
	char *text;
	CHECK(nk_det_arch_cfg(&a, &text) == NK_EINVAL);
	/* A cfg with max_size <= min_size is refused, naming the line. */
	const char *cfg = "[net]\nwidth=32\nheight=32\nchannels=3\n"
			  "[convolutional]\nfilters=11\nsize=1\nstride=32\n"
			  "activation=linear\n[grid]\nclasses=1\nnum=2\n"
			  "min_size=20\nmax_size=10\n";
	nk_dncfg c;
	nk_darknet net;
	CHECK(nk_dncfg_parse(&c, cfg, strlen(cfg), "bad.cfg") == 0);
	CHECK(nk_darknet_build(&net, &c) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "bad.cfg:") != NULL);
}

/* nk_darknet_boxes on a three-level net: every level's cells, in layer
 * order, each as nk_grid_decode gives it (the letterbox of a square
 * image is the identity). */
TEST(boxes_every_level)
{
	nk_det_arch a = nk_det_arch_default();
	a.width = a.height = 64;
	a.classes = 2;
	a.base = 4;
	a.fpn = 1;
	a.levels = 3;
	nk_darknet net;
	if (build(&net, &a)) {
		CHECK_MSG(0, "%s", nk_last_error());
		return;
	}
	nk_rng r;
	nk_rng_seed(&r, 3, 0);
	float *in = calloc(3 * 64 * 64, sizeof *in);
	CHECK(nk_darknet_forward(&net, in, 1) == 0);
	int total = 0;
	for (int i = 0; i < net.n; i++)
		if (net.l[i].type == NK_DN_GRID) {
			for (size_t k = 0; k < net.l[i].outputs; k++)
				net.l[i].out[k] = (float)(4 * nk_rng_double(&r) - 2);
			total += net.l[i].w * net.l[i].h * 2;
		}
	nk_detection *d;
	int n;
	CHECK(nk_darknet_boxes(&net, 0, 64, 64, .2f, .5f, 1, &d, &n) == 0);
	CHECK_MSG(n == total && total == (4 + 16 + 64) * 2, "%d of %d", n,
		  total);
	int at = 0;
	for (int i = 0; i < net.n && n == total; i++) {
		const nk_dn_layer *l = &net.l[i];
		if (l->type != NK_DN_GRID)
			continue;
		nk_grid_shape s = {l->h, l->w, 2, 2, 64, 64, 1, 0, 0};
		nk_detection *e;
		int m;
		CHECK(nk_grid_decode(l->out, &s, .2f, &e, &m) == 0);
		for (int j = 0; j < m; j++, at++)
			CHECK_MSG(fabsf(d[at].box.x - e[j].box.x) < 1e-6f &&
				  fabsf(d[at].box.w - e[j].box.w) < 1e-6f &&
				  d[at].objectness == e[j].objectness &&
				  d[at].classes == 2 &&
				  d[at].prob[1] == e[j].prob[1], "box %d", at);
		free(e);
	}
	nk_darknet_free_boxes(d, n);
	free(in);
	nk_darknet_free(&net);
}

/* Drawn squares: four 64 x 64 grey images with red and blue squares of
 * 10-14 px (stride 8's) and 36-40 px (stride 16's). */
static const struct {
	int im, cls, x, y, s;
} sq[] = {
	{0, 0, 6, 8, 12}, {0, 1, 22, 24, 38}, {1, 1, 44, 6, 14},
	{1, 0, 4, 20, 40}, {2, 0, 20, 22, 36}, {2, 1, 48, 50, 10},
	{3, 1, 8, 44, 12}, {3, 0, 30, 6, 13}, {3, 1, 44, 30, 11},
};
#define NSQ (int)(sizeof sq / sizeof sq[0])

static void draw(nk_imcache *c, nk_det_object *obj, size_t *first,
		 nk_image *im, float *sx)
{
	for (int i = 0; i < 4; i++) {
		im[i] = (nk_image){64, 64, 3, malloc(64 * 64 * 3)};
		memset(im[i].data, 128, 64 * 64 * 3);
		sx[i] = 1;
	}
	for (int k = 0; k < NSQ; k++) {
		unsigned char *p = im[sq[k].im].data;
		for (int y = sq[k].y; y < sq[k].y + sq[k].s; y++)
			for (int x = sq[k].x; x < sq[k].x + sq[k].s; x++) {
				unsigned char *q = p + (y * 64 + x) * 3;
				q[0] = sq[k].cls ? 40 : 220;
				q[1] = 50;
				q[2] = sq[k].cls ? 220 : 40;
			}
		obj[k] = (nk_det_object){sq[k].im, sq[k].cls, sq[k].x, sq[k].y,
					 sq[k].s, sq[k].s, 1, 0, k, 0, 0};
	}
	for (int i = 0, k = 0; i <= 4; i++) {
		while (k < NSQ && sq[k].im < i)
			k++;
		first[i] = (size_t)k;
	}
	*c = (nk_imcache){4, im, sx, sx, obj, NSQ, first, 0, 0, -1};
}

TEST(two_levels_learn)
{
	nk_image im[4];
	float sx[4];
	nk_det_object obj[NSQ];
	size_t first[5];
	nk_imcache c;
	draw(&c, obj, first, im, sx);
	nk_det_arch a = nk_det_arch_default();
	a.width = a.height = 64;
	a.classes = 2;
	a.base = 4;
	a.neck = 32;
	a.fpn = 1;
	a.levels = 2;
	nk_darknet net;
	nk_det_task t;
	nk_adam opt;
	if (build(&net, &a)) {
		CHECK_MSG(0, "%s", nk_last_error());
		return;
	}
	nk_det_task_config cfg = nk_det_task_default();
	cfg.batch = 4;
	cfg.aug = nk_augment_val();
	CHECK(nk_det_task_init(&t, &net, &c, NULL, NULL, &cfg) == 0);
	CHECK(t.nheads == 2);
	nk_det_task_randomize(&t, 5);
	nk_train_task task = nk_det_task_bind(&t);
	CHECK(nk_adam_init(&opt, task.numel, .01f, .9f, .999f, 1e-8f, 0) == 0);
	double first_loss = 0, loss = 0;
	for (int s = 0; s < 200; s++) {
		if (task.step(task.ctx, (uint64_t)s, &loss)) {
			CHECK_MSG(0, "step %d: %s", s, nk_last_error());
			break;
		}
		if (s == 0)
			first_loss = loss;
		nk_clip_grad_norm(task.grads, task.numel, 10);
		nk_adam_step(&opt, task.params, task.grads, .01f);
	}
	CHECK_MSG(loss < first_loss / 10, "loss %g to %g", first_loss, loss);
	/* Every square found by the pooled levels after one NMS, and by
	 * the level its size says. */
	nk_dn_train_push(&t.tr);
	float *in = malloc(4 * net.inputs * sizeof *in);
	for (int i = 0; i < 4; i++)
		nk_darknet_input(&net, in + i * net.inputs, &im[i]);
	CHECK(nk_darknet_forward(&net, in, 4) == 0);
	int found = 0;
	for (int i = 0; i < 4; i++) {
		nk_detection *d;
		nk_box_hit *h;
		int n, nh;
		CHECK(nk_darknet_boxes(&net, i, 64, 64, .3f, .5f, 0, &d, &n) == 0);
		nk_nms_per_class(d, n, .45f);
		CHECK(nk_box_hits(d, n, 64, 64, 0, &h, &nh) == 0);
		for (int k = 0; k < NSQ; k++) {
			if (sq[k].im != i)
				continue;
			double best = 0;
			for (int j = 0; j < nh; j++) {
				if (h[j].cls != sq[k].cls)
					continue;
				double iw = fmin(sq[k].x + sq[k].s, h[j].x + h[j].w) -
					    fmax(sq[k].x, h[j].x);
				double ih = fmin(sq[k].y + sq[k].s, h[j].y + h[j].h) -
					    fmax(sq[k].y, h[j].y);
				if (iw <= 0 || ih <= 0)
					continue;
				double u = sq[k].s * sq[k].s + h[j].w * h[j].h -
					   iw * ih;
				best = fmax(best, iw * ih / u);
			}
			found += best > .5;
		}
		free(h);
		nk_darknet_free_boxes(d, n);
	}
	CHECK_MSG(found == NSQ, "found %d of %d squares (loss %g to %g)",
		  found, NSQ, first_loss, loss);
	free(in);
	nk_adam_free(&opt);
	nk_det_task_free(&t);
	nk_darknet_free(&net);
	for (int i = 0; i < 4; i++)
		free(im[i].data);
}

int main(void)
{
	RUN(level_by_size);
	RUN(other_levels_no_object);
	RUN(arch_levels);
	RUN(boxes_every_level);
	RUN(two_levels_learn);
	return nk_test_exit();
}
