/* conv_direct.c - 3x3 stride-1 convolution computed directly, for inputs
 * with few channels (an RGB image: yolov3-tiny's first layer).
 *
 * With C = 3 the Winograd products are 3 deep: their 16 tile positions
 * cost more in stores of M than in multiplies.  Here 8 output channels by
 * 48 pixels of a row stay in registers over all C x 9 taps: each tap is 3
 * vector loads of the (zero-padded) input and 8 weight broadcasts for 24
 * FMAs, and the result goes straight to the output with bias and
 * activation (or, fused with a 2x2 max pool, the maximum of each
 * window).  A unit of work is an output row, or the two of a pooled
 * row: its thread pads the input rows into its own slot of work, and no
 * thread waits for another; each takes a run of neighbouring rows
 * (core/spans.h).  The taps are summed in one fixed order (c,
 * ky, kx), so every thread computes an element alike.
 */
#include "nn/conv_infer_impl.h"
#include "core/spans.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Padded input rows: pad zeros, the row, zeros, rounded so that a panel
 * of 48 pixels plus the 2 taps to its right is always inside. */
static int padded_w(const nk_conv2d_shape *s)
{
	int OW = nk_conv2d_out_w(s);
	return (OW + 47) / 48 * 48 + 16;
}

/* Each thread pads the 3 input rows of an output row (4 for the two
 * rows of a pooled row) into its own slot. */
size_t nk_direct3_work_floats(const nk_conv2d_shape *s, int slots)
{
	return (size_t)slots * s->C * 4 * padded_w(s);
}

/* w (OC, C, 3, 3) into (OC/8, C * 9, 8), zero past OC. */
void nk_direct3_pack(float *wp, const float *w, const nk_conv2d_shape *s)
{
	int nocb = (s->OC + 7) / 8, CK = s->C * 9;
	memset(wp, 0, (size_t)nocb * CK * 8 * sizeof *wp);
	for (int oc = 0; oc < s->OC; oc++)
		for (int k = 0; k < CK; k++)
			wp[((size_t)(oc / 8) * CK + k) * 8 + oc % 8] =
				w[(size_t)oc * CK + k];
}

/* acc (8 x 48) over the C x 9 taps for columns x0 .. of the output row
 * whose 3 input rows of each channel are at xp (C, 3, PW). */
static void row_panel(v16 acc[8][3], const float *xp, size_t plane, int PW,
		      int C, const float *w, int x0)
{
	const v16 zero = {0};
	_Pragma("GCC unroll 8") for (int i = 0; i < 8; i++)
		acc[i][0] = acc[i][1] = acc[i][2] = zero;
	for (int c = 0; c < C; c++)
		for (int ky = 0; ky < 3; ky++) {
			const float *r = xp + c * plane + (size_t)ky * PW + x0;
			_Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) {
				v16 b0 = ld(r + kx), b1 = ld(r + kx + 16),
				    b2 = ld(r + kx + 32);
				_Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) {
					v16 a = w[i] - zero;
					acc[i][0] += a * b0;
					acc[i][1] += a * b1;
					acc[i][2] += a * b2;
				}
				w += 8;
			}
		}
}

/* Output row oy (panel at x0, n columns) of channels ocb*8 .. into y
 * (OC, OH, OW), with bias and activation. */
static void store_row(float *y, v16 acc[8][3], const nk_conv2d_shape *s,
		      int ocb, int oy, int x0, int n, const float *bias,
		      nk_act act)
{
	int OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s);
	for (int i = 0; i < 8 && ocb * 8 + i < s->OC; i++) {
		int oc = ocb * 8 + i;
		float *d = y + ((size_t)oc * OH + oy) * OW + x0;
		v16 bo = (v16){0} + (bias ? bias[oc] : 0);
		for (int j = 0; j < 3 && 16 * j < n; j++)
			st_n(d + 16 * j, act_vec(acc[i][j] + bo, act),
			     imin(16, n - 16 * j));
	}
}

/* Output rows oy and oy+1 (a0, a1) max-pooled 2x2 into row oy/2 of y
 * (OC, OH/2, OW/2): each column's two rows, then the column pairs, in
 * nk_maxpool_forward's order.  n is even. */
static void store_pooled(float *y, v16 a0[8][3], v16 a1[8][3],
			 const nk_conv2d_shape *s, int ocb, int oy, int x0,
			 int n, const float *bias, nk_act act)
{
	int PH = nk_conv2d_out_h(s) / 2, PW = nk_conv2d_out_w(s) / 2;
	for (int i = 0; i < 8 && ocb * 8 + i < s->OC; i++) {
		int oc = ocb * 8 + i;
		v16 bo = (v16){0} + (bias ? bias[oc] : 0), c[4];
		for (int j = 0; j < 3; j++)
			c[j] = max_later(act_vec(a0[i][j] + bo, act),
					 act_vec(a1[i][j] + bo, act));
		c[3] = c[2];
		float *d = y + ((size_t)oc * PH + oy / 2) * PW + x0 / 2;
		for (int j = 0; j < 2 && 32 * j < n; j++) {
			v16 e = __builtin_shufflevector(c[2 * j], c[2 * j + 1], 0, 2,
				4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
			v16 o = __builtin_shufflevector(c[2 * j], c[2 * j + 1], 1, 3,
				5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
			st_n(d + 16 * j, max_later(e, o), imin(16, (n - 32 * j) / 2));
		}
	}
}

void nk_direct3_run(const float *wp, const nk_conv2d_shape *s, float *out,
		    const float *in, int B, const float *bias, nk_act act,
		    float *work, int slots, int pool)
{
	int C = s->C, H = s->H, W = s->W, pad = s->pad;
	int OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s);
	int PW = padded_w(s);
	int nocb = (s->OC + 7) / 8, npan = (OW + 47) / 48;
	/* a unit: one output row, or the two rows of a pooled one */
	int rows = pool ? 2 : 1, nr = OH / rows;
	size_t plane = (size_t)(rows + 2) * PW;
	int nthr = 1;
#ifdef _OPENMP
	nthr = imin(omp_get_max_threads(), slots);
#endif
	nk_spans sp;
	nk_spans_init(&sp, (long)B * nr, nthr);
#pragma omp parallel num_threads(nthr)
	{
		int t = 0;
#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		float *xp = work + (size_t)t * C * plane;
		for (long v; (v = nk_spans_next(&sp, t)) >= 0;) {
			int u = (int)v, b = u / nr, oy = u % nr * rows;
			const float *x = in + (size_t)b * C * H * W;
			float *y = out + (size_t)b * s->OC * OH * OW / (rows * rows);
			for (int c = 0; c < C; c++)
				for (int ky = 0; ky < rows + 2; ky++) {
					float *d = xp + c * plane + (size_t)ky * PW;
					int iy = oy - pad + ky;
					memset(d, 0, (size_t)PW * sizeof *d);
					if (iy >= 0 && iy < H)
						memcpy(d + pad, x + ((size_t)c * H + iy) * W,
						       (size_t)W * sizeof *d);
				}
			for (int ocb = 0; ocb < nocb; ocb++) {
				const float *w = wp + (size_t)ocb * C * 9 * 8;
				for (int p = 0; p < npan; p++) {
					v16 acc[8][3], acc1[8][3];
					int x0 = 48 * p, n = imin(48, OW - x0);
					row_panel(acc, xp, plane, PW, C, w, x0);
					if (!pool) {
						store_row(y, acc, s, ocb, oy, x0, n, bias, act);
						continue;
					}
					row_panel(acc1, xp + PW, plane, PW, C, w, x0);
					store_pooled(y, acc, acc1, s, ocb, oy, x0, n, bias, act);
				}
			}
		}
	}
}
