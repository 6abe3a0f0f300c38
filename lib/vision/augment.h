/* augment.h - one training sample for a detector: an image and its boxes
 * turned into the network's (3,H,W) input with seeded random geometry
 * and colour, the boxes following the pixels.
 *
 * Geometry.  The image is scaled to nw x nh and placed at (dx, dy) on a
 * W x H canvas of 0.5 (darknet's letterbox grey); what falls outside the
 * canvas is cropped.
 *   LETTERBOX: nw x nh is darknet's letterbox size (nk_letterbox_size)
 *     times the scale jitter, the aspect ratio times the aspect jitter;
 *     the image may come out smaller (grey borders) or larger (cropped).
 *   CROP: the image is first scaled to cover the canvas (the larger of
 *     W / iw, H / ih), then jittered, never below covering it.
 * The offset is the centre, (W - nw) / 2 truncated as darknet does, moved
 * towards a uniform draw over all placements by `translate` (0 centred,
 * 1 anywhere from flush left to flush right).  Then the canvas is
 * mirrored (flip_h, flip_v), as darknet flips the whole sized image.
 *
 * Pixels are resampled in one pass from the 8-bit source with darknet's
 * resize_image arithmetic (letterbox.h), so that with no jitter at all
 * (nk_augment_val) the output is nk_letterbox_input's to the bit: what
 * `detect run` feeds the network is what training fed it.
 *
 * Boxes map by the ratio nw / iw (as darknet's fill_truth_detection and
 * its letterbox decoder do), then are clipped to the canvas.  THE DROP
 * RULE: an object is first clipped to its image (annotations that run
 * past the border); it is dropped when nothing is left, or when, clipped
 * to the canvas, its visible width or height is under 2 network pixels
 * or its visible area is under 20% of its area before clipping to the
 * canvas (mostly cropped away: the pixels no longer show the object).
 *
 * Colour: darknet's random_distort_image on the image region only (the
 * grey border stays 0.5, as at inference): RGB to HSV (rgb_to_hsv), hue
 * plus U(-hue, hue) wrapped into [0,1), saturation and value times a
 * factor in [1/s, s] (rand_scale: U(1, s), inverted half of the time),
 * back to RGB, clamped to [0,1].
 *
 * Same image, config and seed: the same bits, on any thread.
 */
#ifndef NK_VISION_AUGMENT_H
#define NK_VISION_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/detset.h"
#include "vision/image.h"

enum nk_aug_mode {
	NK_AUG_LETTERBOX = 0,
	NK_AUG_CROP,
};

typedef struct nk_augment_config {
	int mode;                   /* enum nk_aug_mode */
	float flip_h, flip_v;       /* probabilities, 0..1 */
	float scale_min, scale_max; /* size factor U(min, max); 1, 1 none */
	float aspect;               /* aspect ratio times [1/a, a]; <= 1 none */
	float translate;            /* 0 centred .. 1 anywhere */
	float hue;                  /* hue + U(-hue, hue), turns; 0 none */
	float saturation, exposure; /* factors in [1/s, s]; <= 1 none */
} nk_augment_config;

/* No jitter at all: darknet's letterbox, what inference sees. */
nk_augment_config nk_augment_val(void);
/* A training default after darknet's yolov3.cfg (hue .1, saturation and
 * exposure 1.5, flips left-right half the time) with scale .75..1.25,
 * aspect 1.2 and any placement. */
nk_augment_config nk_augment_train(void);

typedef struct nk_aug_box {
	int cls;
	int obj;                /* index into the objs passed in */
	float cx, cy, w, h;     /* network pixels: centre and size */
} nk_aug_box;

/* out (3,H,W): RGB planes, pixels / 255; boxes_out has room for nobjs
 * boxes and *nout is how many survived (the drop rule above).  A gray
 * image gives three equal planes; alpha is dropped.  NK_EINVAL for bad
 * sizes or a config out of range, NK_ENOMEM. */
int nk_augment(float *out, nk_aug_box *boxes_out, int *nout,
	       const nk_image *im, const nk_det_object *objs, int nobjs,
	       int W, int H, const nk_augment_config *cfg, uint64_t seed);

/* darknet's distort_image over (3,n) float RGB planes in place: to HSV,
 * hue + dhue wrapped, saturation * dsat, value * dval, back, clamped to
 * [0,1].  dhue 0, dsat 1, dval 1 is the identity within float rounding. */
void nk_hsv_distort(float *rgb, size_t n, float dhue, float dsat, float dval);
/* The conversions alone, in place over (3,n) planes: H in [0,1) turns
 * (darknet's; OpenCV's float H is 360 times this), S, V in [0,1]. */
void nk_rgb_to_hsv(float *planes, size_t n);
void nk_hsv_to_rgb(float *planes, size_t n);

#endif
