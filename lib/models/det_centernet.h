/* det_centernet.h - the CenterNet head (Zhou et al., "Objects as Points",
 * xingyizhou/CenterNet ctdet): targets, loss and decoding over the head's
 * raw output, with no network code.
 *
 * Output layout (B, C + 4, H/stride, W/stride), channel-major: C heatmap
 * logits, then w, h (box size in output-map pixels), then the offset x, y
 * of the centre inside its pixel.
 *
 * Targets (CenterNet's ctdet dataset): the box, in output pixels
 * (input pixels / stride), is clipped to [0, ow-1] x [0, oh-1]; a box
 * left empty is skipped.  Its centre ct, truncated to ct_int, gets a
 * Gaussian splat of radius gaussian_radius((ceil h, ceil w), 0.7)
 * (truncated, at least 0) and sigma (2 radius + 1) / 6 in its class's
 * heatmap, overlapping splats merged by maximum (draw_umich_gaussian);
 * at ct_int the size target is (w, h) and the offset target ct - ct_int.
 *
 * Loss (the batch's, as CenterNet computes it; no division by B):
 *   hm   focal loss, alpha 2, beta 4, on p = clamp(sigmoid(x), 1e-4,
 *        1 - 1e-4) (zero gradient where clamped, as torch.clamp):
 *        -(sum over gt == 1 of (1-p)^2 log p
 *          + sum over gt < 1 of (1-gt)^4 p^2 log(1-p)) / num_pos,
 *        num_pos the number of heatmap pixels equal to 1 (one per object
 *        unless two centres share a pixel); with none, just the negative
 *        sum;
 *   wh   0.1 * sum over objects |pred - (w, h)| / (2 N + 1e-4),
 *   off  1.0 * sum over objects |pred - (ct - ct_int)| / (2 N + 1e-4),
 *        predictions read at ct_int, N the objects in the batch; the 2 is
 *        RegL1Loss's mask expanded over the two coordinates.
 *
 * Initialise the heatmap convolution's bias to NK_CENTERNET_HM_BIAS
 * (CenterNet's -2.19 = -log((1 - 0.1) / 0.1), a prior of 0.1), so the
 * first steps are not swamped by the negative term.
 */
#ifndef NK_MODELS_DET_CENTERNET_H
#define NK_MODELS_DET_CENTERNET_H

#include "models/det_target.h"
#include "vision/boxes.h"

#define NK_CENTERNET_HM_BIAS (-2.19f)
#define NK_CENTERNET_WH_WEIGHT 0.1
#define NK_CENTERNET_OFF_WEIGHT 1.0
#define NK_CENTERNET_TOPK 100

typedef struct nk_centernet_shape {
	int classes;      /* C */
	int in_w, in_h;   /* network input, pixels (the GT's unit) */
	int stride;       /* 4 usually; in_w and in_h must be multiples */
} nk_centernet_shape;

/* Each part as it enters the loss (weights applied): hm + wh + off is
 * the loss. */
typedef struct nk_centernet_loss_parts {
	double hm, wh, off;
	int num_pos;      /* heatmap pixels equal to 1, whole batch */
	int objects;      /* objects regressed, whole batch */
} nk_centernet_loss_parts;

/* Channels of the head's output: C + 4. */
int nk_centernet_channels(const nk_centernet_shape *s);

/* One image's heatmap target hm (C, in_h/stride, in_w/stride), written
 * whole (zeros, then the splats).  For the training log and the tests;
 * the loss draws its own.  Returns 0 or an NK_E* code. */
int nk_centernet_heatmap(float *hm, const nk_centernet_shape *s,
			 const nk_det_target *gt, int ngt);

/* out (B, C+4, oh, ow) raw; gt[b] the ngt[b] objects of image b
 * (network-input pixels).  Adds dLoss/dout to dout when it is not NULL;
 * parts may be NULL.  Returns the loss, or NaN with the error recorded
 * (NK_EINVAL: bad shape or class; NK_ENOMEM). */
double nk_centernet_loss(float *dout, const float *out, int B,
			 const nk_centernet_shape *s,
			 const nk_det_target *const *gt, const int *ngt,
			 nk_centernet_loss_parts *parts);

/* Decodes one image's output (C+4, oh, ow) as ctdet_decode: sigmoid,
 * peaks kept where a pixel equals its 3x3 max-pool, the top K peaks by
 * score (ties by class, then pixel order) with score > thresh (0 keeps
 * all K).  Each detection: box centre (x + off x, y + off y) and size
 * (w, h) as fractions of the network input, objectness = score,
 * prob[class] = score and the other classes 0.  Best first.  The
 * probabilities share the detections' block: free(*dets).  *n may be
 * below K.  Returns 0 or an NK_E* code. */
int nk_centernet_decode(const float *out, const nk_centernet_shape *s,
			int K, float thresh, nk_detection **dets, int *n);

#endif
