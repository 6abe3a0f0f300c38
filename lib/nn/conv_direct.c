/* conv_direct.c - 3x3 stride-1 convolution computed directly, for inputs
 * with few channels (an RGB image: yolov3-tiny's first layer).
 *
 * With C = 3 the Winograd products are 3 deep: their 16 tile positions
 * cost more in stores of M than in multiplies.  Here 8 output channels by
 * 48 pixels of a row stay in registers over all C x 9 taps: each tap is 3
 * vector loads of the (zero-padded) input and 8 weight broadcasts for 24
 * FMAs, and the result goes straight to the output with bias and
 * activation.  A unit of work is an output row: its thread pads the 3
 * input rows into its own slot of work, and no thread waits for another.  The taps are summed in one fixed order (c, ky, kx), so
 * every thread computes an element alike.
 */
#include "nn/conv_infer_impl.h"

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

/* Each thread pads the 3 input rows of an output row into its own slot. */
size_t nk_direct3_work_floats(const nk_conv2d_shape *s, int slots)
{
	return (size_t)slots * s->C * 3 * padded_w(s);
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

void nk_direct3_run(const float *wp, const nk_conv2d_shape *s, float *out,
		    const float *in, int B, const float *bias, nk_act act,
		    float *work, int slots)
{
	int C = s->C, H = s->H, W = s->W, pad = s->pad;
	int OH = nk_conv2d_out_h(s), OW = nk_conv2d_out_w(s);
	int PW = padded_w(s);
	int nocb = (s->OC + 7) / 8, npan = (OW + 47) / 48;
	size_t plane = (size_t)3 * PW;
	int nthr = 1;
#ifdef _OPENMP
	nthr = imin(omp_get_max_threads(), slots);
#endif
#pragma omp parallel num_threads(nthr)
	{
		int t = 0;
#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		float *xp = work + (size_t)t * C * plane;
#pragma omp for schedule(dynamic, 4)
		for (int u = 0; u < B * OH; u++) {
			int b = u / OH, oy = u % OH;
			const float *x = in + (size_t)b * C * H * W;
			float *y = out + (size_t)b * s->OC * OH * OW;
			for (int c = 0; c < C; c++)
				for (int ky = 0; ky < 3; ky++) {
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
					v16 acc[8][3];
					int x0 = 48 * p, n = imin(48, OW - x0);
					row_panel(acc, xp, plane, PW, C, w, x0);
					for (int i = 0; i < 8 && ocb * 8 + i < s->OC; i++) {
						int oc = ocb * 8 + i;
						float *d = y + ((size_t)oc * OH + oy) * OW + x0;
						v16 bo = (v16){0} + (bias ? bias[oc] : 0);
						for (int j = 0; j < 3 && 16 * j < n; j++)
							st_n(d + 16 * j, act_vec(acc[i][j] + bo, act),
							     imin(16, n - 16 * j));
					}
				}
			}
		}
	}
}
