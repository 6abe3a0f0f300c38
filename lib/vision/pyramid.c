/* pyramid.c - pyrDown / pyrUp bit-exact with OpenCV, Laplacian pyramids,
 * scale pyramids (the area resize is in resize_area.c).
 *
 * pyrDown runs vertically first: for each output row the five source rows
 * 2y-2..2y+2 (reflected) are combined with [1 4 6 4 1] into one row of
 * 16-bit sums (at most 16 * 255 = 4080), contiguous over the whole width,
 * then filtered horizontally with the same taps (at most 65280, + 128
 * still fits 16 bits) and shifted down.  Both passes are straight loops
 * over 16-bit lanes written with GCC/Clang vector extensions, so they
 * become AVX2 (or SSE2, or NEON) code at -O2 without intrinsics.  The
 * horizontal pass computes every column and the even ones are kept
 * afterwards: twice the arithmetic, but all of it in wide vectors, where
 * decimating first would need per-channel strided gathers.  Integer sums
 * are exact, so the order of the passes does not change a single bit.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "vision/pyramid.h"

typedef uint16_t u16v __attribute__((vector_size(32)));
typedef uint8_t u8v __attribute__((vector_size(16)));
typedef uint8_t u8v32 __attribute__((vector_size(32)));
typedef uint32_t u32v8 __attribute__((vector_size(32)));
typedef uint16_t u16v8 __attribute__((vector_size(16)));
typedef uint64_t u64v4 __attribute__((vector_size(32)));
typedef uint32_t u32v4 __attribute__((vector_size(16)));
#define VL 16 /* lanes in a u16v */

/* OpenCV's borderInterpolate for BORDER_REFLECT_101. */
static int reflect101(int p, int len)
{
	if (len == 1)
		return 0;
	while ((unsigned)p >= (unsigned)len) {
		if (p < 0)
			p = -p;
		else
			p = 2 * (len - 1) - p;
	}
	return p;
}


/* Vectors travel through pointers, not by value: passing a 32-byte vector
 * by value depends on whether AVX is enabled (-Wpsabi). */
static inline void load16(u16v *r, const uint16_t *p)
{
	memcpy(r, p, sizeof *r);
}

/* Zero-extends 16 bytes with an interleave against zero, which compilers
 * turn into one unpack or zero-extend instruction (GCC 12 splits a
 * widening __builtin_convertvector into halves). */
static inline void load8(u16v *r, const uint8_t *p)
{
	u8v v, z = { 0 };
	memcpy(&v, p, sizeof v);
	u8v32 w = __builtin_shufflevector(v, z, 0, 16, 1, 16, 2, 16, 3, 16, 4,
					  16, 5, 16, 6, 16, 7, 16, 8, 16, 9, 16,
					  10, 16, 11, 16, 12, 16, 13, 16, 14, 16,
					  15, 16);
	memcpy(r, &w, sizeof *r);
}

/* v[i] = r0 + 4 r1 + 6 r2 + 4 r3 + r4, i < n. */
static void vert5(uint16_t *restrict v, const uint8_t *r0, const uint8_t *r1,
		  const uint8_t *r2, const uint8_t *r3, const uint8_t *r4,
		  size_t n)
{
	size_t i = 0;
	for (; i + VL <= n; i += VL) {
		u16v a, b, m, d, e;
		load8(&a, r0 + i);
		load8(&b, r1 + i);
		load8(&m, r2 + i);
		load8(&d, r3 + i);
		load8(&e, r4 + i);
		u16v s = a + e + ((b + d) << 2) + (m << 2) + (m << 1);
		memcpy(v + i, &s, sizeof s);
	}
	for (; i < n; i++)
		v[i] = (uint16_t)(r0[i] + r4[i] + 4 * (r1[i] + r3[i]) +
				  6 * r2[i]);
}

/* hb[i] = (v[i-2c] + 4 v[i-c] + 6 v[i] + 4 v[i+c] + v[i+2c] + 128) >> 8
 * for i < n; v is readable from -2c to n+2c. */
static void horiz5(uint8_t *restrict hb, const uint16_t *v, int c, size_t n)
{
	size_t i = 0;
	const size_t c1 = (size_t)c, c2 = 2 * (size_t)c;
	for (; i + VL <= n; i += VL) {
		u16v a, b, m, d, e;
		load16(&a, v + i - c2); /* (v + i) - c2: stays in the buffer */
		load16(&b, v + i - c1);
		load16(&m, v + i);
		load16(&d, v + i + c1);
		load16(&e, v + i + c2);
		u16v s = a + e + ((b + d) << 2) + (m << 2) + (m << 1) + 128;
		u8v o = __builtin_convertvector(s >> 8, u8v);
		memcpy(hb + i, &o, sizeof o);
	}
	for (; i < n; i++) {
		const uint16_t *p = v + i;
		const ptrdiff_t o1 = c, o2 = 2 * (ptrdiff_t)c;
		unsigned s = p[-o2] + p[o2] + 4u * (p[-o1] + p[o1]) + 6u * p[0] +
			     128u;
		hb[i] = (uint8_t)(s >> 8);
	}
}

/* out pixel x = hb pixel 2x, for x < dw. */
static void decimate(uint8_t *restrict out, const uint8_t *hb, int c, int dw)
{
	int x = 0;
	switch (c) {
	case 1:
		/* Little-endian: the low byte of each 16-bit pair is the even
		 * pixel, so a truncating narrow keeps exactly those. */
		for (; x + 16 <= dw; x += 16) {
			u16v p;
			memcpy(&p, hb + 2 * x, sizeof p);
			u8v o = __builtin_convertvector(p, u8v);
			memcpy(out + x, &o, sizeof o);
		}
		break;
	case 2:
		for (; x + 8 <= dw; x += 8) {
			u32v8 p;
			memcpy(&p, hb + 4 * x, sizeof p);
			u16v8 o = __builtin_convertvector(p, u16v8);
			memcpy(out + 2 * x, &o, sizeof o);
		}
		break;
	case 3:
		/* Five pixels per step: 15 of 32 bytes picked by one shuffle
		 * (vpermb / pshufb), stored as 16 bytes whose last one the
		 * next step overwrites; the tail is copied exactly. */
		for (; 3 * x + 16 <= 3 * dw; x += 5) {
			u8v32 p;
			memcpy(&p, hb + 6 * x, sizeof p);
			u8v o = __builtin_shufflevector(p, p, 0, 1, 2, 6, 7, 8,
							12, 13, 14, 18, 19, 20,
							24, 25, 26, 27);
			memcpy(out + 3 * x, &o, sizeof o);
		}
		break;
	case 4:
		for (; x + 4 <= dw; x += 4) {
			u64v4 p;
			memcpy(&p, hb + 8 * x, sizeof p);
			u32v4 o = __builtin_convertvector(p, u32v4);
			memcpy(out + 4 * x, &o, sizeof o);
		}
		break;
	}
	for (; x < dw; x++)
		memcpy(out + (size_t)x * c, hb + (size_t)2 * x * c, (size_t)c);
}

int nk_pyr_down(unsigned char *dst, const unsigned char *src, int w, int h,
		int c)
{
	if (w < 1 || h < 1 || c < 1 || c > 4)
		return nk_error(NK_EINVAL, "pyrDown: bad size %dx%dx%d", w, h, c);
	const int dw = nk_pyr_down_size(w), dh = nk_pyr_down_size(h);
	const size_t rowb = (size_t)w * c, pad = 2 * (size_t)c;
	/* v: 2 pixels of reflected border on each side; hb: full-width
	 * filtered row, with slack for the 4-byte moves of decimate(). */
	uint16_t *vbuf = nk_malloc((rowb + 2 * pad) * sizeof *vbuf);
	uint8_t *hb = nk_calloc(rowb + 64, 1);
	if (!vbuf || !hb) {
		free(vbuf);
		free(hb);
		return NK_ENOMEM;
	}
	uint16_t *v = vbuf + pad;
	int lx[2], rx[2];
	for (int k = 0; k < 2; k++) {
		lx[k] = reflect101(-2 + k, w);   /* pixels -2, -1 */
		rx[k] = reflect101(w + k, w);    /* pixels w, w+1 */
	}
	for (int y = 0; y < dh; y++) {
		const uint8_t *r[5];
		for (int k = 0; k < 5; k++)
			r[k] = src + (size_t)reflect101(2 * y - 2 + k, h) * rowb;
		vert5(v, r[0], r[1], r[2], r[3], r[4], rowb);
		for (int k = 0; k < 2; k++) {
			memcpy(v - pad + (size_t)k * c, v + (size_t)lx[k] * c,
			       (size_t)c * sizeof *v);
			memcpy(v + rowb + (size_t)k * c, v + (size_t)rx[k] * c,
			       (size_t)c * sizeof *v);
		}
		/* Only even pixels are kept: filter up to the last one. */
		size_t n = (size_t)(2 * (dw - 1) + 1) * c;
		horiz5(hb, v, c, n);
		decimate(dst + (size_t)y * dw * c, hb, c, dw);
	}
	free(vbuf);
	free(hb);
	return NK_OK;
}

/* One source row upsampled horizontally, before the vertical taps:
 * even column 2x = s[x-1] + 6 s[x] + s[x+1], odd 2x+1 = 4 (s[x] + s[x+1]),
 * reflected in the doubled grid; dw columns. */
static void up_row(int32_t *row, const uint8_t *s, int w, int c, int dw)
{
	for (int k = 0; k < c; k++) {
		if (w == 1) {
			for (int x = 0; x < dw; x++)
				row[x * c + k] = 8 * s[k];
			continue;
		}
		row[k] = 6 * s[k] + 2 * s[c + k];
		row[c + k] = 4 * (s[k] + s[c + k]);
		for (int x = 1; x < w - 1; x++) {
			const uint8_t *p = s + x * c + k;
			row[2 * x * c + k] = p[-c] + 6 * p[0] + p[c];
			row[(2 * x + 1) * c + k] = 4 * (p[0] + p[c]);
		}
		const uint8_t *p = s + (w - 1) * c + k;
		row[2 * (w - 1) * c + k] = p[-c] + 7 * p[0];
		if (2 * w - 1 < dw)
			row[(2 * w - 1) * c + k] = 8 * p[0];
		if (dw > 2 * w)
			row[(dw - 1) * c + k] = 8 * p[0];
	}
}

int nk_pyr_up(unsigned char *dst, int dw, int dh, const unsigned char *src,
	      int w, int h, int c)
{
	if (w < 1 || h < 1 || c < 1 || c > 4 || dw < 1 || dh < 1 ||
	    abs(dw - 2 * w) != dw % 2 || abs(dh - 2 * h) != dh % 2)
		return nk_error(NK_EINVAL, "pyrUp: cannot go from %dx%d to "
				"%dx%d", w, h, dw, dh);
	const size_t n = (size_t)dw * c;
	/* Reserve 2w+1 columns: up_row writes column 2w-1 only when it
	 * exists, but the row stride stays simple. */
	int32_t *buf = nk_malloc(3 * n * sizeof *buf);
	if (!buf)
		return NK_ENOMEM;
	int32_t *rows[3] = { buf, buf + n, buf + 2 * n };
	int have[3] = { -2, -2, -2 }; /* which source row each slot holds */
	for (int y = 0; y < h; y++) {
		int need[3] = { y - 1 < 0 ? (h > 1 ? 1 : 0) : y - 1, y,
				y + 1 >= h ? h - 1 : y + 1 };
		int32_t *r[3];
		for (int k = 0; k < 3; k++) {
			int slot = -1;
			for (int j = 0; j < 3; j++)
				if (have[j] == need[k])
					slot = j;
			if (slot < 0) {
				/* Evict a slot that no later k needs. */
				for (int j = 0; j < 3 && slot < 0; j++) {
					int used = 0;
					for (int q = 0; q < 3; q++)
						used |= have[j] == need[q];
					if (!used)
						slot = j;
				}
				up_row(rows[slot],
				       src + (size_t)need[k] * w * c, w, c, dw);
				have[slot] = need[k];
			}
			r[k] = rows[slot];
		}
		uint8_t *d0 = dst + (size_t)(2 * y) * n;
		for (size_t i = 0; i < n; i++)
			d0[i] = (uint8_t)((r[0][i] + 6 * r[1][i] + r[2][i] + 32) >> 6);
		if (2 * y + 1 < dh) {
			uint8_t *d1 = d0 + n;
			for (size_t i = 0; i < n; i++)
				d1[i] = (uint8_t)((4 * (r[1][i] + r[2][i]) + 32) >> 6);
		}
	}
	if (dh > 2 * h)
		memcpy(dst + (size_t)(2 * h) * n, dst + (size_t)(2 * h - 2) * n, n);
	free(buf);
	return NK_OK;
}

int nk_pyr_max_levels(int w, int h)
{
	int m = w > h ? w : h, n = 1;
	while (m > 1) {
		m = (m + 1) / 2;
		n++;
	}
	return n;
}

int nk_pyr_gaussian(nk_image *lv, int n, const nk_image *src)
{
	if (n < 1 || n > NK_PYR_MAX_LEVELS)
		return nk_error(NK_ERANGE, "%d pyramid levels, not in [1, %d]", n,
				NK_PYR_MAX_LEVELS);
	memset(lv, 0, (size_t)n * sizeof *lv);
	int rc = nk_image_alloc(&lv[0], src->w, src->h, src->c);
	if (rc)
		return rc;
	memcpy(lv[0].data, src->data, nk_image_bytes(src));
	for (int i = 1; i < n; i++) {
		const nk_image *p = &lv[i - 1];
		rc = nk_image_alloc(&lv[i], nk_pyr_down_size(p->w),
				    nk_pyr_down_size(p->h), p->c);
		if (!rc)
			rc = nk_pyr_down(lv[i].data, p->data, p->w, p->h, p->c);
		if (rc) {
			for (int j = 0; j <= i; j++)
				nk_image_free(&lv[j]);
			return rc;
		}
	}
	return NK_OK;
}

void nk_laplacian_free(nk_laplacian *lp)
{
	for (int i = 0; i < NK_PYR_MAX_LEVELS; i++)
		free(lp->band[i]);
	memset(lp, 0, sizeof *lp);
}

int nk_laplacian_build(nk_laplacian *lp, const nk_image *src, int n)
{
	memset(lp, 0, sizeof *lp);
	nk_image g[NK_PYR_MAX_LEVELS];
	int rc = nk_pyr_gaussian(g, n, src);
	if (rc)
		return rc;
	lp->n = n;
	lp->c = src->c;
	unsigned char *up = nk_malloc(nk_image_bytes(&g[0]));
	if (!up)
		rc = NK_ENOMEM;
	for (int i = 0; i < n && !rc; i++) {
		size_t m = nk_image_bytes(&g[i]);
		lp->w[i] = g[i].w;
		lp->h[i] = g[i].h;
		lp->band[i] = nk_malloc(m * sizeof(int16_t));
		if (!lp->band[i]) {
			rc = NK_ENOMEM;
			break;
		}
		if (i == n - 1) {
			for (size_t k = 0; k < m; k++)
				lp->band[i][k] = g[i].data[k];
			break;
		}
		rc = nk_pyr_up(up, g[i].w, g[i].h, g[i + 1].data, g[i + 1].w,
			       g[i + 1].h, g[i].c);
		for (size_t k = 0; k < m && !rc; k++)
			lp->band[i][k] = (int16_t)(g[i].data[k] - up[k]);
	}
	free(up);
	for (int i = 0; i < n; i++)
		nk_image_free(&g[i]);
	if (rc)
		nk_laplacian_free(lp);
	return rc;
}

int nk_laplacian_reconstruct(nk_image *out, const nk_laplacian *lp)
{
	memset(out, 0, sizeof *out);
	int n = lp->n;
	if (n < 1 || n > NK_PYR_MAX_LEVELS || lp->c < 1 || lp->c > 4)
		return nk_error(NK_EFORMAT, "Laplacian pyramid: %d levels of %d "
				"channels", n, lp->c);
	for (int i = 0; i < n; i++) {
		if (lp->w[i] < 1 || lp->h[i] < 1 ||
		    lp->w[i] > NK_IMAGE_MAX_SIDE || lp->h[i] > NK_IMAGE_MAX_SIDE ||
		    !lp->band[i])
			return nk_error(NK_EFORMAT, "Laplacian level %d: bad size "
					"%dx%d", i, lp->w[i], lp->h[i]);
		if (i > 0 && (lp->w[i] != nk_pyr_down_size(lp->w[i - 1]) ||
			      lp->h[i] != nk_pyr_down_size(lp->h[i - 1])))
			return nk_error(NK_EFORMAT, "Laplacian level %d is %dx%d, "
					"expected %dx%d (half of level %d)", i,
					lp->w[i], lp->h[i],
					nk_pyr_down_size(lp->w[i - 1]),
					nk_pyr_down_size(lp->h[i - 1]), i - 1);
	}
	nk_image cur, next;
	int rc = nk_image_alloc(&cur, lp->w[n - 1], lp->h[n - 1], lp->c);
	if (rc)
		return rc;
	for (int i = n - 1; i >= 0; i--) {
		if (i < n - 1) {
			rc = nk_image_alloc(&next, lp->w[i], lp->h[i], lp->c);
			if (!rc)
				rc = nk_pyr_up(next.data, next.w, next.h, cur.data,
					       cur.w, cur.h, cur.c);
			nk_image_free(&cur);
			if (rc) {
				nk_image_free(&next);
				return rc;
			}
			cur = next;
		}
		size_t m = nk_image_bytes(&cur);
		const int16_t *b = lp->band[i];
		for (size_t k = 0; k < m; k++) {
			int v = (i < n - 1 ? cur.data[k] : 0) + b[k];
			if (v < 0 || v > 255) {
				nk_image_free(&cur);
				return nk_error(NK_EFORMAT, "Laplacian level %d: "
						"value %d at element %zu leaves "
						"0..255", i, v, k);
			}
			cur.data[k] = (uint8_t)v;
		}
	}
	*out = cur;
	return NK_OK;
}

int nk_laplacian_view(nk_image *out, const nk_laplacian *lp, int level)
{
	if (level < 0 || level >= lp->n)
		return nk_error(NK_EINVAL, "no Laplacian level %d", level);
	int rc = nk_image_alloc(out, lp->w[level], lp->h[level], lp->c);
	if (rc)
		return rc;
	size_t m = nk_image_bytes(out);
	int off = level == lp->n - 1 ? 0 : 128;
	for (size_t k = 0; k < m; k++) {
		int v = lp->band[level][k] + off;
		out->data[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
	return NK_OK;
}

int nk_pyr_scale_sizes(int *ws, int *hs, int max, int w, int h,
		       double factor, int min_side)
{
	int n = 0;
	double s = 1.0;
	while (n < max) {
		int lw = n ? (int)lround(w * s) : w, lh = n ? (int)lround(h * s) : h;
		if (n && (lw < min_side || lh < min_side || lw < 1 || lh < 1))
			break;
		ws[n] = lw;
		hs[n] = lh;
		n++;
		s *= factor;
	}
	return n;
}

int nk_pyr_scale(nk_image *lv, int n, const int *ws, const int *hs,
		 const nk_image *src)
{
	int rc = NK_OK, made = 0;
	for (; made < n && !rc; made++) {
		rc = nk_image_alloc(&lv[made], ws[made], hs[made], src->c);
		if (!rc)
			rc = nk_resize_area(lv[made].data, ws[made], hs[made],
					    src->data, src->w, src->h, src->c);
	}
	if (rc)
		for (int i = 0; i < made; i++)
			nk_image_free(&lv[i]);
	return rc;
}

int nk_pyr_mosaic(nk_image *m, const nk_image *lv, int n)
{
	int w = 0;
	for (int i = 0; i < n; i++) {
		if (w > NK_IMAGE_MAX_SIDE - lv[i].w)
			return nk_error(NK_ERANGE, "mosaic wider than %d pixels",
					NK_IMAGE_MAX_SIDE);
		w += lv[i].w;
	}
	int rc = nk_image_alloc(m, w, lv[0].h, lv[0].c);
	if (rc)
		return rc;
	int x0 = 0;
	for (int i = 0; i < n; i++) {
		size_t rowb = (size_t)lv[i].w * lv[i].c;
		for (int y = 0; y < lv[i].h && y < m->h; y++)
			memcpy(m->data + ((size_t)y * m->w + x0) * m->c,
			       lv[i].data + (size_t)y * rowb, rowb);
		x0 += lv[i].w;
	}
	return NK_OK;
}
