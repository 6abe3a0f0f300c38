/* det_target.h - one ground-truth object as the detection heads take it.
 *
 * The training task turns each image's nk_det_object boxes (pixels of the
 * original image, top-left corner) into these after letterboxing or
 * resizing: centre and size in pixels of the NETWORK INPUT (in_w x in_h),
 * so a head never needs to know the original image.  Both heads
 * (det_grid.h, det_centernet.h) read the same array.
 */
#ifndef NK_MODELS_DET_TARGET_H
#define NK_MODELS_DET_TARGET_H

typedef struct nk_det_target {
	int cls;            /* class index, 0 .. classes-1 */
	float cx, cy, w, h; /* centre and size, network-input pixels */
} nk_det_target;

#endif
