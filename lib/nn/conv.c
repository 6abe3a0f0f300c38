/* conv.c - 2-D convolution as im2col + GEMM (darknet's and Caffe's way).
 *
 * Per image, im2col lays the input out as col (C*K*K, OH*OW): row
 * (c, ki, kj) holds, for every output pixel, the input pixel that kernel
 * tap meets (zero in the padding).  The convolution of group g is then one
 * product, out_g (OC/G, OH*OW) = w_g (OC/G, C/G*K*K) @ col_g, and since
 * the channels of a group are consecutive, col_g is a block of consecutive
 * rows of col: one im2col per image serves every group.  A 1x1 stride-1
 * unpadded convolution needs no col: the input already is it.
 *
 * Backward reuses the same buffer twice per image: first im2col for
 * dw_g += dout_g @ col_g^T, then dcol_g = w_g^T @ dout_g, which col2im
 * adds back onto the input pixels the taps came from.
 */
#include "nn/conv.h"
#include "core/base.h"
#include "core/gemm.h"

#include <string.h>

#include <omp.h>

/* Rows of col worth sharing between threads (one row is OH*OW floats). */
#define PAR_MIN_FLOATS (1 << 16)

int nk_conv2d_check(const nk_conv2d_shape *s)
{
	if (s->C < 1 || s->H < 1 || s->W < 1 || s->OC < 1 || s->K < 1 ||
	    s->stride < 1 || s->pad < 0 || s->groups < 1)
		return nk_error(NK_EINVAL,
				"conv2d: sizes must be positive (C %d, H %d, "
				"W %d, OC %d, K %d, stride %d, pad %d, "
				"groups %d)", s->C, s->H, s->W, s->OC, s->K,
				s->stride, s->pad, s->groups);
	if (s->C % s->groups || s->OC % s->groups)
		return nk_error(NK_EINVAL,
				"conv2d: %d groups do not divide C %d and "
				"OC %d", s->groups, s->C, s->OC);
	if (s->H + 2 * s->pad < s->K || s->W + 2 * s->pad < s->K)
		return nk_error(NK_EINVAL,
				"conv2d: a %dx%d kernel does not fit a %dx%d "
				"input padded by %d", s->K, s->K, s->H, s->W,
				s->pad);
	return NK_OK;
}

static int is_pointwise(const nk_conv2d_shape *s)
{
	return s->K == 1 && s->stride == 1 && s->pad == 0;
}

size_t nk_conv2d_work_floats(const nk_conv2d_shape *s)
{
	if (is_pointwise(s))
		return 0;
	return (size_t)s->C * s->K * s->K * nk_conv2d_out_h(s) *
	       nk_conv2d_out_w(s);
}

/* The output columns [*lo, *hi) whose tap kj lands inside a row of width
 * W; the others read padding. */
static void valid_cols(int kj, int W, int OW, int stride, int pad, int *lo,
		       int *hi)
{
	int off = kj - pad; /* ix = ox * stride + off */
	int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
	int b = W - off <= 0 ? 0 : (W - off - 1) / stride + 1;
	if (b > OW)
		b = OW;
	if (a > b)
		a = b;
	*lo = a, *hi = b;
}

/* col (C*K*K, (y1-y0)*OW) from in (C, H, W): the columns of output rows
 * y0 <= oy < y1. */
static void im2col(float *col, const float *in, const nk_conv2d_shape *s,
		   int OW, int y0, int y1)
{
	int K = s->K, KK = K * K, H = s->H, W = s->W, st = s->stride;
	int pad = s->pad, rows = s->C * KK;
	size_t P = (size_t)(y1 - y0) * OW;
#pragma omp parallel for schedule(static) if ((size_t)rows * P >= PAR_MIN_FLOATS)
	for (int r = 0; r < rows; r++) {
		int c = r / KK, ki = r % KK / K, kj = r % K;
		const float *src = in + (size_t)c * H * W;
		float *dst = col + (size_t)r * P;
		int lo, hi;
		valid_cols(kj, W, OW, st, pad, &lo, &hi);
		for (int oy = y0; oy < y1; oy++, dst += OW) {
			int iy = oy * st - pad + ki;
			if (iy < 0 || iy >= H || lo == hi) {
				memset(dst, 0, (size_t)OW * sizeof *dst);
				continue;
			}
			/* Tap ox reads row[ox * st + off], inside the row
			 * for lo <= ox < hi. */
			const float *row = src + (size_t)iy * W;
			int off = kj - pad;
			for (int ox = 0; ox < lo; ox++)
				dst[ox] = 0;
			if (st == 1) {
				memcpy(dst + lo, row + lo + off,
				       (size_t)(hi - lo) * sizeof *dst);
			} else {
				for (int ox = lo; ox < hi; ox++)
					dst[ox] = row[ox * st + off];
			}
			for (int ox = hi; ox < OW; ox++)
				dst[ox] = 0;
		}
	}
}

/* din (C, H, W) += col2im(col).  Threads split the channels: each writes
 * only its own planes, and each pixel sums its taps in one fixed order
 * (ki, kj, then output rows), so the bits do not depend on threads. */
static void col2im_add(float *din, const float *col, const nk_conv2d_shape *s,
		       int OH, int OW)
{
	int K = s->K, KK = K * K, H = s->H, W = s->W, st = s->stride;
	int pad = s->pad;
	size_t P = (size_t)OH * OW;
#pragma omp parallel for schedule(static) if ((size_t)s->C * KK * P >= PAR_MIN_FLOATS)
	for (int c = 0; c < s->C; c++) {
		float *dst = din + (size_t)c * H * W;
		for (int k = 0; k < KK; k++) {
			int ki = k / K, kj = k % K;
			const float *src = col + ((size_t)c * KK + k) * P;
			int lo, hi;
			valid_cols(kj, W, OW, st, pad, &lo, &hi);
			for (int oy = 0; oy < OH; oy++) {
				int iy = oy * st - pad + ki;
				if (iy < 0 || iy >= H)
					continue;
				float *row = dst + (size_t)iy * W;
				const float *g = src + (size_t)oy * OW;
				int off = kj - pad;
				/* Stride 1 written apart: a contiguous add,
				 * vectorised (omp simd: -O2 vectorises no
				 * loop of unknown count by itself). */
				if (st == 1) {
					float *r1 = row + off;
#pragma omp simd
					for (int ox = lo; ox < hi; ox++)
						r1[ox] += g[ox];
				} else {
					for (int ox = lo; ox < hi; ox++)
						row[ox * st + off] += g[ox];
				}
			}
		}
	}
}

/* Output rows y0 <= oy < y1 of one image: o (OC, OH*OW) from x (C, H, W),
 * through col, (C*K*K, (y1-y0)*OW) floats of work. */
static void forward_rows(float *o, const float *x, const float *w,
			 const float *bias, const nk_conv2d_shape *s, int OW,
			 int P, int y0, int y1, float *col)
{
	int G = s->groups, OCg = s->OC / G, Kg = s->C / G * s->K * s->K;
	int n = (y1 - y0) * OW, ldb = n;
	if (is_pointwise(s)) {
		col = (float *)x + (size_t)y0 * OW;
		ldb = P;
	} else {
		im2col(col, x, s, OW, y0, y1);
	}
	o += (size_t)y0 * OW;
	/* The bias goes in first and the product is added to it, as in
	 * linear.c: one rounding order whatever the sizes. */
	if (bias)
		for (int oc = 0; oc < s->OC; oc++)
			for (int p = 0; p < n; p++)
				o[(size_t)oc * P + p] = bias[oc];
	for (int g = 0; g < G; g++)
		nk_sgemm(0, 0, OCg, n, Kg, 1.0f, w + (size_t)g * OCg * Kg, Kg,
			 col + (size_t)g * Kg * ldb, ldb, bias ? 1.0f : 0.0f,
			 o + (size_t)g * OCg * P, P);
}

/* Large images go to the threads as bands of output rows, one band each:
 * im2col and a one-thread GEMM per band, a single fork and join.  Leaving
 * the threads to nk_sgemm instead costs two barriers per 2048 columns of
 * the product (its column blocks), 170 of them for a 416x416 output: a
 * small price on an idle machine, but a thread that loses its core stalls
 * every barrier.  A band is at least this many output pixels wide. */
#define BAND_MIN_PIXELS 1024
#define CHUNK_FLOATS (256 * 1024)
#define MIN_CHUNK_PIXELS 1024

void nk_conv2d_forward(float *out, const float *in, const float *w,
		       const float *bias, int B, const nk_conv2d_shape *s,
		       float *work)
{
	int OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s), P = OH * OW;
	size_t in_img = (size_t)s->C * s->H * s->W, out_img = (size_t)s->OC * P;
	size_t ckk = (size_t)s->C * s->K * s->K;
	int nth = omp_in_parallel() ? 1 : omp_get_max_threads();
	int bands = P / BAND_MIN_PIXELS < nth ? P / BAND_MIN_PIXELS : nth;
	if (bands > OH)
		bands = OH;
	/* Within a band, rows go a chunk at a time, so that the chunk's col
	 * is still in cache when the product packs it (a 416x416 input's col
	 * is 18 MB, written and read back through memory otherwise); a chunk
	 * keeps at least MIN_CHUNK_PIXELS columns for the product. */
	int chunk = (int)(CHUNK_FLOATS / (ckk * OW));
	if (chunk * OW < MIN_CHUNK_PIXELS)
		chunk = (MIN_CHUNK_PIXELS + OW - 1) / OW;
	for (int b = 0; b < B; b++) {
		float *o = out + b * out_img;
		const float *x = in + b * in_img;
		if (bands < 2) {
			forward_rows(o, x, w, bias, s, OW, P, 0, OH, work);
			continue;
		}
		/* Band t: rows [OH*t/bands, OH*(t+1)/bands), its col at
		 * work + ckk * (first row * OW): the bands tile work. */
#pragma omp parallel for schedule(static) num_threads(bands)
		for (int t = 0; t < bands; t++) {
			int y0 = OH * t / bands, y1 = OH * (t + 1) / bands;
			for (int y = y0; y < y1; y += chunk)
				forward_rows(o, x, w, bias, s, OW, P, y,
					     y + chunk < y1 ? y + chunk : y1,
					     work + ckk * y0 * OW);
		}
	}
}

void nk_conv2d_backward(float *din, float *dw, float *dbias, const float *dout,
			const float *in, const float *w, int B,
			const nk_conv2d_shape *s, float *work)
{
	int OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s), G = s->groups;
	int P = OH * OW, Cg = s->C / G, OCg = s->OC / G;
	int Kg = Cg * s->K * s->K;
	int pw = is_pointwise(s);
	size_t in_img = (size_t)s->C * s->H * s->W, out_img = (size_t)s->OC * P;
	for (int b = 0; b < B; b++) {
		const float *dy = dout + b * out_img, *x = in + b * in_img;
		if (dbias) {
			/* Each channel summed left to right: fixed bits. */
			for (int oc = 0; oc < s->OC; oc++) {
				const float *g = dy + (size_t)oc * P;
				float sum = 0;
				for (int p = 0; p < P; p++)
					sum += g[p];
				dbias[oc] += sum;
			}
		}
		if (dw) {
			const float *col = x;
			if (!pw) {
				im2col(work, x, s, OW, 0, OH);
				col = work;
			}
			for (int g = 0; g < G; g++)
				nk_sgemm(0, 1, OCg, Kg, P, 1.0f,
					 dy + (size_t)g * OCg * P, P,
					 col + (size_t)g * Kg * P, P, 1.0f,
					 dw + (size_t)g * OCg * Kg, Kg);
		}
		if (din) {
			float *dx = din + b * in_img;
			/* Pointwise: dcol is din itself, the product adds in. */
			float *dcol = pw ? dx : work;
			for (int g = 0; g < G; g++)
				nk_sgemm(1, 0, Kg, P, OCg, 1.0f,
					 w + (size_t)g * OCg * Kg, Kg,
					 dy + (size_t)g * OCg * P, P,
					 pw ? 1.0f : 0.0f,
					 dcol + (size_t)g * Kg * P, P);
			if (!pw)
				col2im_add(dx, dcol, s, OH, OW);
		}
	}
}
