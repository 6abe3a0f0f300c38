/* det_grid.h - the YOLOv1-style grid head: targets, loss and decoding
 * over the head's raw output, with no network code.
 *
 * Output layout (B, NB*5 + C, S_h, S_w), channel-major: box j of a cell
 * has channels j*5 + 0..4 = tx, ty, tw, th, tc; then C class logits.
 * What the raw numbers mean (the activations live here, not in the net):
 *   x = (col + sigmoid(tx)) / S_w      centre, fraction of the input
 *   y = (row + sigmoid(ty)) / S_h
 *   w = sigmoid(tw)^2, h = sigmoid(th)^2   so sqrt(w) = sigmoid(tw)
 *   objectness = sigmoid(tc), classes = softmax(logits)
 *
 * Loss per image (YOLOv1's sum of squares, lambda_coord 5, lambda_noobj
 * 0.5), summed over the batch and divided by B:
 *   coord  5 * [(sx - gx)^2 + (sy - gy)^2 + (sw - sqrt gw)^2
 *              + (sh - sqrt gh)^2]      the responsible box only
 *   obj    (sigmoid(tc) - target)^2     the responsible box only; target
 *                                       IoU(pred, GT) with rescore (held
 *                                       constant in the gradient, as
 *                                       darknet's detection layer), else 1
 *   noobj  0.5 * sigmoid(tc)^2          every other box of every cell
 *   cls    -log softmax(logits)[cls]    once per matched object, in its
 *                                       cell
 * (gx, gy the centre's offset in its cell, gw, gh fractions of the input.)
 *
 * Responsibility: the cell holding the centre; of its NB boxes the one
 * whose decoded box has the highest IoU with the GT (darknet's
 * detection layer: when every IoU is 0, the smallest RMSE of x, y, w, h;
 * ties go to the lower index).  Two objects whose centres share a cell
 * (YOLOv1 keeps one): objects are matched in the order given, each to
 * the best box not yet taken; both add a class term to the cell; an
 * object finding every box taken is dropped and counted in
 * parts->dropped.  With NB = 1 this is YOLOv1's "one wins" (the first).
 *
 * Levels (FPN): a detector may have a grid head at each of several
 * strides; each object belongs to exactly one of them, by its size:
 * max(w, h) in network-input pixels in [min_size, max_size) (max_size 0:
 * no upper bound; both 0, the default, take every object).  On the other
 * levels it is no object: their boxes there get the noobj term, as any
 * empty cell's (FCOS's negatives), so that a level does not fire on
 * sizes it is not trained to localise and leave the one NMS duplicates.
 */
#ifndef NK_MODELS_DET_GRID_H
#define NK_MODELS_DET_GRID_H

#include "models/det_target.h"
#include "vision/boxes.h"

#define NK_GRID_LAMBDA_COORD 5.0
#define NK_GRID_LAMBDA_NOOBJ 0.5

typedef struct nk_grid_shape {
	int sh, sw;       /* grid rows, columns */
	int nb;           /* boxes per cell */
	int classes;      /* C */
	int in_w, in_h;   /* network input, pixels (the GT's unit) */
	int rescore;      /* 1: objectness target IoU (darknet's yolov1.cfg),
			   * 0: target 1 */
	float min_size, max_size; /* this level's objects, see above */
} nk_grid_shape;

/* 1 when the object t (network-input pixels) is this level's. */
int nk_grid_owns(const nk_grid_shape *s, const nk_det_target *t);

/* Each part as it enters the loss (lambdas applied), per image (sum / B):
 * coord + obj + noobj + cls is the loss. */
typedef struct nk_grid_loss_parts {
	double coord, obj, noobj, cls;
	int objects;      /* GT objects matched to a box, whole batch */
	int dropped;      /* GT objects whose cell had no free box */
	int other;        /* GT objects of another level (size range) */
} nk_grid_loss_parts;

/* Channels of the head's output: NB*5 + C. */
int nk_grid_channels(const nk_grid_shape *s);

/* out (B, NB*5+C, S_h, S_w) raw; gt[b] the ngt[b] objects of image b
 * (network-input pixels; a centre outside the input is clamped into its
 * border cell, sizes to [0, 1] of the input; empty boxes are skipped).
 * Adds dLoss/dout to dout when it is not NULL; parts may be NULL.
 * Returns the loss (sum / B), or NaN with the error recorded (NK_EINVAL:
 * a bad shape or class index). */
double nk_grid_loss(float *dout, const float *out, int B,
		    const nk_grid_shape *s, const nk_det_target *const *gt,
		    const int *ngt, nk_grid_loss_parts *parts);

/* Decodes one image's output (NB*5+C, S_h, S_w) into S_h*S_w*NB
 * detections, in the order row, column, box: boxes as fractions of the
 * network input (centre, size), objectness sigmoid(tc), prob[k] =
 * objectness * softmax[k], set to 0 below thresh (darknet's convention;
 * nk_nms_per_class and nk_box_hits take them as they are).  The
 * probabilities share the detections' block: free(*dets).  Returns 0 or
 * an NK_E* code. */
int nk_grid_decode(const float *out, const nk_grid_shape *s, float thresh,
		   nk_detection **dets, int *n);

#endif
