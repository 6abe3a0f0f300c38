/* augment.c - seeded geometry and colour jitter for detector training
 * (augment.h), resampling in one pass from the 8-bit image.
 *
 * The resampling is darknet's resize_image restricted to the pixels that
 * land on the canvas: each needed source row is interpolated along x
 * once (kept while the next output row still needs it), then pairs of
 * such rows along y, with darknet's operation order and no fused
 * multiply-add (see letterbox.c), so that the unjittered sample equals
 * nk_letterbox_input bit for bit.
 */
#pragma GCC optimize("fp-contract=off")
#ifdef __clang__
#pragma clang fp contract(off)
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/rng.h"
#include "vision/augment.h"
#include "vision/letterbox.h"

nk_augment_config nk_augment_val(void)
{
	nk_augment_config c = {
		.mode = NK_AUG_LETTERBOX,
		.scale_min = 1, .scale_max = 1, .aspect = 1,
		.saturation = 1, .exposure = 1,
	};
	return c;
}

nk_augment_config nk_augment_train(void)
{
	nk_augment_config c = {
		.mode = NK_AUG_LETTERBOX,
		.flip_h = .5f,
		.scale_min = .75f, .scale_max = 1.25f, .aspect = 1.2f,
		.translate = 1,
		.hue = .1f, .saturation = 1.5f, .exposure = 1.5f,
	};
	return c;
}

/* ---- HSV, darknet's src/image.c rgb_to_hsv / hsv_to_rgb ----
 *
 * darknet's branches written as selects of the same expressions, so that
 * the loops vectorize (the divisions of the branches not taken may see
 * 0/0; their results are never selected) and every value is rounded as
 * darknet rounds it. */

static inline void to_hsv(float *h, float *s, float *v, float r, float g,
			  float b)
{
	float max = r > g ? (r > b ? r : b) : (g > b ? g : b);
	float min = r < g ? (r < b ? r : b) : (g < b ? g : b);
	float delta = max - min;
	/* delta 0 (a grey) is 0/0 in darknet, a NaN that hsv_to_rgb never
	 * reads because s is 0; 0 here keeps the planes clean. */
	float hr = (g - b) / delta, hg = 2 + (b - r) / delta,
	      hb = 4 + (r - g) / delta;
	float hh = r == max ? hr : g == max ? hg : hb;
	hh = hh < 0 ? hh + 6 : hh;
	hh = (float)(hh / 6.);
	int grey = max == 0 || delta == 0;
	*v = max;
	*s = max == 0 ? 0 : delta / max;
	*h = grey ? 0 : hh;
}

static inline void to_rgb(float *r, float *g, float *b, float h, float s,
			  float v)
{
	h = 6 * h;
	int index = (int)h;
	index -= (float)index > h; /* floor, in a form that vectorizes */
	/* h = 1 exactly (a hue shift that lands on the wrap) is h = 0:
	 * darknet falls into its last case there and makes red magenta. */
	h = index >= 6 ? h - 6 : h;
	index = index >= 6 ? index - 6 : index;
	float f = h - index;
	float p = v * (1 - s);
	float q = v * (1 - s * f);
	float t = v * (1 - s * (1 - f));
	/* index:  0 1 2 3 4 5
	 *      r: v q p p t v
	 *      g: t v v q p p
	 *      b: p p t v v q */
	float rr = index == 1 ? q : index == 2 || index == 3 ? p :
		   index == 4 ? t : v;
	float gg = index == 0 ? t : index == 1 || index == 2 ? v :
		   index == 3 ? q : p;
	float bb = index == 0 || index == 1 ? p : index == 2 ? t :
		   index == 3 || index == 4 ? v : q;
	int grey = s == 0;
	*r = grey ? v : rr;
	*g = grey ? v : gg;
	*b = grey ? v : bb;
}

void nk_rgb_to_hsv(float *planes, size_t n)
{
	float *R = planes, *G = planes + n, *B = planes + 2 * n;
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		to_hsv(&R[i], &G[i], &B[i], R[i], G[i], B[i]);
}

void nk_hsv_to_rgb(float *planes, size_t n)
{
	float *H = planes, *S = planes + n, *V = planes + 2 * n;
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		to_rgb(&H[i], &S[i], &V[i], H[i], S[i], V[i]);
}

static inline float clamp01(float x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* distort_image: scale_image_channel on S and V, then the hue shift
 * wrapped once each way, then constrain_image. */
static void hsv_distort3(float *R, float *G, float *B, size_t n, float dhue,
			 float dsat, float dval)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float h, s, v;
		to_hsv(&h, &s, &v, R[i], G[i], B[i]);
		s = s * dsat;
		v = v * dval;
		h = h + dhue;
		h = h > 1 ? h - 1 : h;
		h = h < 0 ? h + 1 : h;
		float r, g, b;
		to_rgb(&r, &g, &b, h, s, v);
		R[i] = clamp01(r);
		G[i] = clamp01(g);
		B[i] = clamp01(b);
	}
}

void nk_hsv_distort(float *rgb, size_t n, float dhue, float dsat, float dval)
{
	hsv_distort3(rgb, rgb + n, rgb + 2 * n, n, dhue, dsat, dval);
}

/* ---- the random draws ---- */

typedef struct draws {
	int nw, nh, dx, dy;
	int flip_h, flip_v;
	float dhue, dsat, dval;
} draws;

static float uniform(nk_rng *r, float lo, float hi)
{
	return lo + nk_rng_float(r) * (hi - lo);
}

/* darknet's rand_scale: U(1, s), inverted half of the time. */
static float rand_scale(nk_rng *r, float s)
{
	float u = uniform(r, 1, s);
	return (nk_rng_u64(r) & 1) ? u : 1 / u;
}

/* The centre (C's truncating division, as letterbox_image), moved
 * towards a uniform placement by t. */
static int place(nk_rng *r, int canvas, int n, float t)
{
	int centre = (canvas - n) / 2;
	int lo = canvas - n < 0 ? canvas - n : 0;
	int hi = canvas - n > 0 ? canvas - n : 0;
	double u = nk_rng_double(r);
	if (t == 0)
		return centre;
	double anywhere = lo + u * (hi - lo);
	return (int)lround(centre + t * (anywhere - centre));
}

static int side(double v)
{
	long s = lround(v);
	return s < 1 ? 1 : s > NK_IMAGE_MAX_SIDE ? NK_IMAGE_MAX_SIDE : (int)s;
}

/* Every value is drawn whatever the config, in one order, so that a
 * seed means the same thing when one kind of jitter is switched off. */
static void draw(draws *d, const nk_augment_config *cfg, int iw, int ih,
		 int W, int H, uint64_t seed)
{
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	float scale = uniform(&r, cfg->scale_min, cfg->scale_max);
	float ar = cfg->aspect > 1 ? rand_scale(&r, cfg->aspect) :
		   (rand_scale(&r, 1), 1);
	double ax = sqrt(ar), ay = 1 / ax;
	if (cfg->mode == NK_AUG_CROP) {
		double f = (double)W / iw > (double)H / ih ? (double)W / iw :
							     (double)H / ih;
		d->nw = side(iw * f * scale * ax);
		d->nh = side(ih * f * scale * ay);
		if (d->nw < W)
			d->nw = W;
		if (d->nh < H)
			d->nh = H;
	} else {
		int lw, lh;
		nk_letterbox_size(&lw, &lh, iw, ih, W, H);
		/* exactly lw, lh when unjittered: x * 1 * 1 rounds to x */
		d->nw = side(lw * (double)scale * ax);
		d->nh = side(lh * (double)scale * ay);
	}
	d->dx = place(&r, W, d->nw, cfg->translate);
	d->dy = place(&r, H, d->nh, cfg->translate);
	d->flip_h = nk_rng_float(&r) < cfg->flip_h;
	d->flip_v = nk_rng_float(&r) < cfg->flip_v;
	/* darknet's order: hue, saturation, exposure */
	d->dhue = cfg->hue * (2 * nk_rng_float(&r) - 1);
	float s = rand_scale(&r, cfg->saturation > 1 ? cfg->saturation : 1);
	float e = rand_scale(&r, cfg->exposure > 1 ? cfg->exposure : 1);
	d->dsat = cfg->saturation > 1 ? s : 1;
	d->dval = cfg->exposure > 1 ? e : 1;
}

static int check_config(const nk_augment_config *c)
{
	if (c->mode != NK_AUG_LETTERBOX && c->mode != NK_AUG_CROP)
		return nk_error(NK_EINVAL, "augment: mode %d", c->mode);
	if (!(c->flip_h >= 0 && c->flip_h <= 1 && c->flip_v >= 0 &&
	      c->flip_v <= 1))
		return nk_error(NK_EINVAL, "augment: flip probabilities "
				"%g, %g outside 0..1", c->flip_h, c->flip_v);
	if (!(c->scale_min > 0 && c->scale_max >= c->scale_min &&
	      c->scale_max <= 16))
		return nk_error(NK_EINVAL, "augment: scale %g..%g",
				c->scale_min, c->scale_max);
	if (!(c->aspect >= 0 && c->aspect <= 16 && c->translate >= 0 &&
	      c->translate <= 1 && c->hue >= 0 && c->hue <= 1 &&
	      c->saturation >= 0 && c->saturation <= 16 &&
	      c->exposure >= 0 && c->exposure <= 16))
		return nk_error(NK_EINVAL, "augment: aspect %g, translate %g, "
				"hue %g, saturation %g or exposure %g out of "
				"range", c->aspect, c->translate, c->hue,
				c->saturation, c->exposure);
	return NK_OK;
}

/* ---- boxes ---- */

static int map_boxes(nk_aug_box *bo, const nk_det_object *objs, int nobjs,
		     int iw, int ih, int W, int H, const draws *d)
{
	float sx = (float)d->nw / iw, sy = (float)d->nh / ih;
	int n = 0;
	for (int i = 0; i < nobjs; i++) {
		const nk_det_object *o = &objs[i];
		float x0 = fmaxf(o->x, 0), y0 = fmaxf(o->y, 0);
		float x1 = fminf(o->x + o->w, iw), y1 = fminf(o->y + o->h, ih);
		if (!(x1 > x0 && y1 > y0))
			continue; /* also NaN */
		x0 = x0 * sx + d->dx;
		x1 = x1 * sx + d->dx;
		y0 = y0 * sy + d->dy;
		y1 = y1 * sy + d->dy;
		float full = (x1 - x0) * (y1 - y0);
		x0 = fmaxf(x0, 0);
		y0 = fmaxf(y0, 0);
		x1 = fminf(x1, W);
		y1 = fminf(y1, H);
		float vw = x1 - x0, vh = y1 - y0;
		if (vw < 2 || vh < 2 || vw * vh < .2f * full)
			continue;
		float cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
		if (d->flip_h)
			cx = W - cx;
		if (d->flip_v)
			cy = H - cy;
		bo[n++] = (nk_aug_box){ .cls = o->cls, .obj = i, .cx = cx,
					.cy = cy, .w = vw, .h = vh };
	}
	return n;
}

/* ---- pixels ---- */

/* Source row `sr` interpolated along x for the output columns x0..x1-1
 * of the nw-wide scaled image: resize_image's first pass. */
static void hrow(float *o, const unsigned char *row, const int *off,
		 const int *ia, const int *ib, const float *wa,
		 const float *wb, int n, const float *lut)
{
	for (int k = 0; k < 3; k++) {
		const unsigned char *p = row + off[k];
		float *ok = o + (size_t)k * n;
		for (int x = 0; x < n; x++)
			ok[x] = wa[x] * lut[p[ia[x]]] + wb[x] * lut[p[ib[x]]];
	}
}

int nk_augment(float *out, nk_aug_box *boxes_out, int *nout,
	       const nk_image *im, const nk_det_object *objs, int nobjs,
	       int W, int H, const nk_augment_config *cfg, uint64_t seed)
{
	if (nout)
		*nout = 0;
	if (!out || !im || !im->data || im->c < 1 || im->c > 4 ||
	    im->w < 1 || im->h < 1 || !cfg || nobjs < 0 ||
	    (nobjs && (!objs || !boxes_out || !nout)))
		return nk_error(NK_EINVAL, "augment: bad arguments");
	if (W < 1 || H < 1 || W > 8192 || H > 8192)
		return nk_error(NK_EINVAL, "augment: network size %dx%d", W, H);
	int rc = check_config(cfg);
	if (rc)
		return rc;
	int iw = im->w, ih = im->h, c = im->c;
	draws d;
	draw(&d, cfg, iw, ih, W, H, seed);
	if (nobjs)
		*nout = map_boxes(boxes_out, objs, nobjs, iw, ih, W, H, &d);

	/* the part of the scaled image on the canvas */
	int x0 = d.dx < 0 ? -d.dx : 0, y0 = d.dy < 0 ? -d.dy : 0;
	int x1 = d.nw < W - d.dx ? d.nw : W - d.dx;
	int y1 = d.nh < H - d.dy ? d.nh : H - d.dy;
	int n = x1 - x0;
	size_t plane = (size_t)W * H;
	for (size_t i = 0; i < 3 * plane; i++)
		out[i] = .5f;
	if (n <= 0 || y1 <= y0)
		return NK_OK; /* jittered entirely off the canvas */

	/* column tables, row buffers: 4 ints/floats per column, 3 planes
	 * for each of the 2 source rows and the output row */
	size_t bytes = (size_t)n * (2 * sizeof(int) + 2 * sizeof(float) +
				    9 * sizeof(float));
	char *mem = nk_malloc(bytes);
	if (!mem)
		return NK_ENOMEM;
	int *ia = (int *)mem, *ib = ia + n;
	float *wa = (float *)(ib + n), *wb = wa + n;
	float *ra = wb + n, *rb = ra + 3 * (size_t)n, *ro = rb + 3 * (size_t)n;

	float w_scale = d.nw > 1 ? (float)(iw - 1) / (d.nw - 1) : 0;
	float h_scale = d.nh > 1 ? (float)(ih - 1) / (d.nh - 1) : 0;
	for (int x = x0; x < x1; x++) {
		int j = x - x0;
		if (x == d.nw - 1 || iw == 1) {
			/* val = row[iw - 1]: 1 * a + 0 * a is a exactly */
			ia[j] = ib[j] = (iw - 1) * c;
			wa[j] = 1;
			wb[j] = 0;
		} else {
			float sx = x * w_scale;
			int ix = (int)sx;
			float dx = sx - ix;
			ia[j] = ix * c;
			ib[j] = (ix + 1) * c;
			wa[j] = 1 - dx;
			wb[j] = dx;
		}
	}
	float lut[256];
	for (int v = 0; v < 256; v++)
		lut[v] = (float)(v / 255.);
	int off[3] = { 0, c >= 3 ? 1 : 0, c >= 3 ? 2 : 0 };
	size_t stride = (size_t)iw * c;
	int have_a = -1, have_b = -1; /* source rows held in ra, rb */
	int colour = !(d.dhue == 0 && d.dsat == 1 && d.dval == 1);

	for (int y = y0; y < y1; y++) {
		float sy = y * h_scale;
		int iy = (int)sy;
		float dy = sy - iy;
		int last = y == d.nh - 1 || ih == 1;
		if (have_a != iy) {
			if (have_b == iy) {
				float *t = ra;
				ra = rb;
				rb = t;
				have_a = iy;
				have_b = -1;
			} else {
				hrow(ra, im->data + (size_t)iy * stride, off,
				     ia, ib, wa, wb, n, lut);
				have_a = iy;
			}
		}
		if (!last && have_b != iy + 1) {
			hrow(rb, im->data + (size_t)(iy + 1) * stride, off,
			     ia, ib, wa, wb, n, lut);
			have_b = iy + 1;
		}
		/* second pass: (1 - dy) * a stored, then + dy * b */
		for (size_t i = 0; i < 3 * (size_t)n; i++)
			ro[i] = (1 - dy) * ra[i];
		if (!last)
			for (size_t i = 0; i < 3 * (size_t)n; i++)
				ro[i] += dy * rb[i];
		if (colour)
			hsv_distort3(ro, ro + n, ro + 2 * n, n, d.dhue, d.dsat,
				     d.dval);
		int oy = y + d.dy;
		if (d.flip_v)
			oy = H - 1 - oy;
		for (int k = 0; k < 3; k++) {
			float *o = out + k * plane + (size_t)oy * W;
			const float *s = ro + (size_t)k * n;
			int ox = x0 + d.dx;
			if (d.flip_h)
				for (int j = 0; j < n; j++)
					o[W - 1 - (ox + j)] = s[j];
			else
				memcpy(o + ox, s, (size_t)n * sizeof *s);
		}
	}
	free(mem);
	return NK_OK;
}
