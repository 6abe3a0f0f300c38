/* conv_infer.h - 2-D convolution for inference: weights prepared once,
 * bias and activation fused into the pass that writes the output.
 *
 * A plan holds the weights in the form its algorithm wants:
 *   - 3x3, stride 1, groups 1, up to 4 input channels (an image): a
 *     direct convolution, 8 channels by 48 pixels in registers
 *     (conv_direct.c);
 *   - 3x3, stride 1, groups 1: Winograd F(2x2, 3x3) (winograd.c): the
 *     weights transformed to 4x4 tiles and packed for the tile products,
 *     2.25x fewer multiplies than a direct convolution;
 *   - 1x1, stride 1, pad 0, groups 1: one matrix product (OC x C) @
 *     (C x HW) with the weights packed at plan time, bias and activation
 *     applied as each tile of the output is written;
 *   - anything else: im2col (none for 1x1 stride 1 pad 0) and nk_sgemm,
 *     groups one after the other.
 * Shapes as in conv.h: in (B, C, H, W), out (B, OC, OH, OW), w (OC,
 * C/groups, K, K), bias (OC) or NULL, batch norm already folded into w and
 * bias by the caller.  out = act(conv(in, w) + bias).
 *
 * Results are bit-identical for any number of OpenMP threads: every output
 * element is computed by the same operations in the same order whoever
 * computes it.  They differ from a direct convolution summed in double by
 * rounding: on inputs in [-10, 10] and outputs of the same scale, at most
 * 2.3e-5 for F2, 3e-5 for the 1x1 path at C = 1024, 1.5e-5 for the GEMM
 * path; F(4x4, 3x3) does 4x fewer multiplies but is 2.5e-4 off, over the
 * 1e-4 budget, so only chosen on request (NK_CONV_WINO4).  Measured by
 * tests/unit/test_conv_infer.c.
 *
 * Threads share a layer out in units (blocks of output channels of a
 * block of tiles, pixel panels, output rows) that each work in their own
 * slot of `work` and do not wait for one another before the layer ends;
 * each thread takes a run of neighbouring units, the same run every
 * call, and helps the others at the end (core/spans.h), so that no two
 * cores write the edges of neighbouring rows at once.  On a machine
 * shared with other work libgomp's spinning waits cost a time slice when
 * a thread is preempted; OMP_WAIT_POLICY=passive avoids that.
 *
 * yolov3-tiny's 13 convolutions at 416x416 (`test_conv_infer bench`,
 * scripts/bench-conv beside OpenCV 4.6's whole forward), on this project's
 * 2-core AVX-512 machine: 23-25 ms on one thread, 15-16 on two
 * (2026-12-06; README, detect, says where the second thread's time goes).
 * A convolution followed by a 2x2 stride-2 max pool can run as one pass
 * (nk_conv_plan_run_pool) that writes only the pooled map: the first
 * layers of a detector, whose full-size outputs are the largest tensors
 * of the forward, then neither write nor re-read them.
 */
#ifndef NK_NN_CONV_INFER_H
#define NK_NN_CONV_INFER_H

#include <stddef.h>

#include "nn/activation.h"
#include "nn/conv.h"

typedef struct nk_conv_plan nk_conv_plan;

/* The algorithms a plan may choose; NK_CONV_AUTO lets it choose by shape. */
enum {
	NK_CONV_AUTO,
	NK_CONV_GEMM,     /* im2col + nk_sgemm, any shape */
	NK_CONV_WINO2,    /* Winograd F(2x2,3x3): K 3, stride 1, groups 1 */
	NK_CONV_WINO4,    /* Winograd F(4x4,3x3): the same shapes */
	NK_CONV_1X1,      /* 1x1, stride 1, pad 0, groups 1: one product */
	NK_CONV_DIRECT3,  /* 3x3, stride 1, groups 1, computed directly */
	NK_CONV_ALGO_COUNT
};

/* NULL (and a recorded error) when the shape is impossible or memory runs
 * out.  w and bias are copied: the caller may free them. */
nk_conv_plan *nk_conv_plan_new(const nk_conv2d_shape *s, const float *w,
			       const float *bias, nk_act act);
/* The same with the algorithm forced (NK_EINVAL when it cannot do the
 * shape); for tests and benchmarks. */
nk_conv_plan *nk_conv_plan_new_algo(const nk_conv2d_shape *s, const float *w,
				    const float *bias, nk_act act, int algo);
int nk_conv_plan_algo(const nk_conv_plan *p);
/* Scratch floats nk_conv_plan_run needs for a batch of B.  A plan made
 * with N OpenMP threads available may hold a block per thread in it and
 * runs on at most N threads. */
size_t nk_conv_plan_work_floats(const nk_conv_plan *p, int B);
/* out (B, OC, OH, OW) = act(conv(in (B, C, H, W)) + bias). */
void nk_conv_plan_run(const nk_conv_plan *p, float *out, const float *in,
		      int B, float *work);
/* The convolution and a 2x2 stride-2 max pool after it in one pass:
 * out (B, OC, OH/2, OW/2) = maxpool(act(conv(in) + bias)), the pool's
 * windows at (2y, 2x), so that the full-size map is never written (the
 * first layers of yolov3-tiny: 11 MB written and read again).  The
 * maxima are taken in the order nk_maxpool_forward takes them (each
 * column's two rows, then the two columns; the later wins only when
 * greater), so the result is the same bits as the two layers run one
 * after the other.  Only for plans that say so (Winograd F2 and the
 * direct path) and even OH and OW; nk_conv_plan_run_pool returns NK_EINVAL
 * otherwise and writes nothing. */
int nk_conv_plan_pools(const nk_conv_plan *p);
int nk_conv_plan_run_pool(const nk_conv_plan *p, float *out, const float *in,
			  int B, float *work);
void nk_conv_plan_free(nk_conv_plan *p);

#endif
