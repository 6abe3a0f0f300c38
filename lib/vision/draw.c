/* draw.c - rectangles, labels and text on 8-bit images, clipped to the
 * image.  The geometry follows darknet's draw_detections (src/image.c)
 * where darknet has one: box edges, outline thickness, class colours,
 * label placement; its labels are PNG letters it loads from data/labels,
 * ours are the 5x7 font in font.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/base.h"
#include "vision/draw.h"

static int check(const nk_image *im)
{
	if (!im || !im->data || (im->c != 3 && im->c != 4) || im->w < 1 ||
	    im->h < 1)
		return nk_error(NK_EINVAL, "draw: need an RGB or RGBA image, not %d channels",
				im ? im->c : 0);
	return NK_OK;
}

/* Pixels [x0, x1] of row y, already clipped. */
static void span(nk_image *im, int y, int x0, int x1, nk_rgb col)
{
	unsigned char *p = im->data + ((size_t)y * im->w + x0) * im->c;
	for (int x = x0; x <= x1; x++, p += im->c) {
		p[0] = col.r;
		p[1] = col.g;
		p[2] = col.b;
		if (im->c == 4)
			p[3] = 255;
	}
}

/* Clips [x0, x1] to the image's columns and draws it. */
static void hspan(nk_image *im, int y, int x0, int x1, nk_rgb col)
{
	if (y < 0 || y >= im->h)
		return;
	if (x0 < 0)
		x0 = 0;
	if (x1 > im->w - 1)
		x1 = im->w - 1;
	if (x0 <= x1)
		span(im, y, x0, x1, col);
}

static void order(int *a, int *b)
{
	if (*a > *b) {
		int t = *a;
		*a = *b;
		*b = t;
	}
}

/* darknet's get_color: channel c of the blend at x / max along the six
 * colours. */
static float get_color(int c, int x, int max)
{
	static const float colors[6][3] = { { 1, 0, 1 }, { 0, 0, 1 },
					    { 0, 1, 1 }, { 0, 1, 0 },
					    { 1, 1, 0 }, { 1, 0, 0 } };
	float ratio = ((float)x / max) * 5;
	int i = (int)floorf(ratio);
	int j = (int)ceilf(ratio);
	ratio -= i;
	return (1 - ratio) * colors[i][c] + ratio * colors[j][c];
}

nk_rgb nk_class_color(int cls, int classes)
{
	nk_rgb col = { 255, 0, 255 };
	if (classes < 1 || cls < 0)
		return col;
	/* in 64 bits: darknet's int product overflows past 17394 classes */
	int off = (int)((int64_t)cls * 123457 % classes);
	col.r = (unsigned char)(255 * get_color(2, off, classes));
	col.g = (unsigned char)(255 * get_color(1, off, classes));
	col.b = (unsigned char)(255 * get_color(0, off, classes));
	return col;
}

int nk_draw_rect(nk_image *im, int x1, int y1, int x2, int y2, int t,
		 nk_rgb col)
{
	int rc = check(im);
	if (rc || t < 1)
		return rc;
	order(&x1, &x2);
	order(&y1, &y2);
	int ya = y1 < 0 ? 0 : y1, yb = y2 > im->h - 1 ? im->h - 1 : y2;
	for (int y = ya; y <= yb; y++) {
		/* int64: t may be huge (fill) and y2 - y near INT_MAX */
		if ((int64_t)y - y1 < t || (int64_t)y2 - y < t) {
			hspan(im, y, x1, x2, col);
		} else {
			int64_t l1 = (int64_t)x1 + t - 1, r0 = (int64_t)x2 - t + 1;
			if (l1 >= r0 - 1) { /* the strips meet */
				hspan(im, y, x1, x2, col);
			} else {
				hspan(im, y, x1, (int)l1, col);
				hspan(im, y, (int)r0, x2, col);
			}
		}
	}
	return NK_OK;
}

int nk_draw_fill(nk_image *im, int x1, int y1, int x2, int y2, nk_rgb col)
{
	int rc = check(im);
	if (rc)
		return rc;
	order(&x1, &x2);
	order(&y1, &y2);
	for (int y = y1 < 0 ? 0 : y1; y <= y2 && y < im->h; y++)
		hspan(im, y, x1, x2, col);
	return NK_OK;
}

void nk_text_size(int *w, int *h, const char *text, int scale)
{
	size_t n = text ? strlen(text) : 0;
	if (scale < 1)
		scale = 1;
	*w = n ? (int)n * (NK_FONT_W + 1) * scale - scale : 0;
	*h = NK_FONT_H * scale;
}

int nk_draw_text(nk_image *im, int x, int y, const char *text, int scale,
		 nk_rgb col)
{
	int rc = check(im);
	if (rc || !text)
		return rc;
	if (scale < 1)
		scale = 1;
	for (const unsigned char *s = (const unsigned char *)text; *s;
	     s++, x += (NK_FONT_W + 1) * scale) {
		if (x >= im->w)
			break;
		if (x + NK_FONT_W * scale <= 0)
			continue;
		const char *g = nk_font_glyph(*s);
		if (!g)
			g = nk_font_glyph('?');
		for (int r = 0; r < NK_FONT_H; r++)
			for (int c = 0; c < NK_FONT_W; c++) {
				if (g[r * NK_FONT_W + c] != '#')
					continue;
				for (int dy = 0; dy < scale; dy++)
					hspan(im, y + r * scale + dy,
					      x + c * scale,
					      x + c * scale + scale - 1, col);
			}
	}
	return NK_OK;
}

int nk_draw_box_label(nk_image *im, int left, int top, int right, int bot,
		      int t, const char *text, int scale, nk_rgb col)
{
	int rc = nk_draw_rect(im, left, top, right, bot, t, col);
	if (rc || !text || !*text)
		return rc;
	order(&left, &right);
	order(&top, &bot);
	if (scale < 1)
		scale = 1;
	if (t < 1)
		t = 1;
	int tw, th;
	nk_text_size(&tw, &th, text, scale);
	int lw = tw + 2 * scale, lh = th + 2 * scale;
	/* darknet's draw_label: r = top + width, moved up by the label's
	 * height when that stays inside the image */
	int y = top + t;
	if (y - lh >= 0)
		y -= lh;
	nk_draw_fill(im, left, y, left + lw - 1, y + lh - 1, col);
	/* ITU-R 601 luma: black text unless the colour is dark */
	int luma = (299 * col.r + 587 * col.g + 114 * col.b) / 1000;
	nk_rgb ink = luma >= 128 ? (nk_rgb){ 0, 0, 0 } : (nk_rgb){ 255, 255, 255 };
	return nk_draw_text(im, left + scale, y + scale, text, scale, ink);
}

int nk_draw_detection(nk_image *im, nk_box b, const char *text, nk_rgb col)
{
	int rc = check(im);
	if (rc)
		return rc;
	/* darknet computes the edges in double (b.w/2.) and truncates;
	 * clamped in double first so that a wild box cannot overflow int */
	double l = (b.x - b.w / 2.) * im->w, r = (b.x + b.w / 2.) * im->w;
	double tp = (b.y - b.h / 2.) * im->h, bt = (b.y + b.h / 2.) * im->h;
	int left = l < 0 ? 0 : l > im->w - 1 ? im->w - 1 : (int)l;
	int right = r < 0 ? 0 : r > im->w - 1 ? im->w - 1 : (int)r;
	int top = tp < 0 ? 0 : tp > im->h - 1 ? im->h - 1 : (int)tp;
	int bot = bt < 0 ? 0 : bt > im->h - 1 ? im->h - 1 : (int)bt;
	int width = (int)(im->h * .006);
	if (width < 1)
		width = 1;
	return nk_draw_box_label(im, left, top, right, bot, width, text,
				 1 + im->h / 400, col);
}

int nk_draw_detections(nk_image *im, const nk_detection *d, int n,
		       int classes, const char *const *names)
{
	for (int i = 0; i < n; i++) {
		char label[256] = "", num[16];
		int best = -1;
		size_t len = 0;
		for (int c = 0; c < d[i].classes; c++) {
			if (!(d[i].prob[c] > 0))
				continue;
			if (best < 0 || d[i].prob[c] > d[i].prob[best])
				best = c;
			snprintf(num, sizeof num, "%d", c);
			len += (size_t)snprintf(label + len,
				len < sizeof label ? sizeof label - len : 0,
				"%s%s", len ? ", " : "", names ? names[c] : num);
			if (len >= sizeof label)
				len = sizeof label - 1;
		}
		if (best < 0)
			continue;
		nk_box b = d[i].box;
		b.x /= (float)im->w;
		b.w /= (float)im->w;
		b.y /= (float)im->h;
		b.h /= (float)im->h;
		int rc = nk_draw_detection(im, b, label,
					   nk_class_color(best, classes));
		if (rc)
			return rc;
	}
	return NK_OK;
}

int nk_image_to_rgb(nk_image *out, const nk_image *im)
{
	if (nk_image_alloc(out, im->w, im->h, 3))
		return NK_ENOMEM;
	size_t px = (size_t)im->w * im->h;
	for (size_t i = 0; i < px; i++)
		for (int c = 0; c < 3; c++)
			out->data[i * 3 + c] =
				im->data[i * im->c + (im->c >= 3 ? c : 0)];
	return NK_OK;
}
