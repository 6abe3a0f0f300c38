/* letterbox.h - an image as a darknet network's input: float RGB planes
 * in [0,1], resized the way darknet 2018 (pjreddie, git 61c9d02e, as
 * Debian ships it) resizes, so that the same photograph gives the same
 * input tensor to the last bit.
 *
 * Pixels become v / 255. (computed in double, stored as float), as
 * darknet's load_image does.  Gray (and gray+alpha) images become three
 * equal planes and an alpha channel is dropped, as loading with three
 * channels does.
 *
 * YOLOv2/v3 letterbox: keep the aspect ratio, resize with darknet's
 * resize_image, centre on a canvas of 0.5.  YOLOv1 stretches with
 * resize_image alone.  Mapping boxes back from the network's frame to
 * the image is the decoder's business; nk_letterbox_size gives it the
 * same new_w, new_h.
 */
#ifndef NK_VISION_LETTERBOX_H
#define NK_VISION_LETTERBOX_H

#include "vision/image.h"

/* The size an im_w x im_h image is scaled to inside a w x h letterbox:
 * the side that limits keeps the network's size, the other is
 * truncated, (im_h * w) / im_w in integers as darknet computes it,
 * but never below 1 (darknet's 0 would read outside its buffer). */
void nk_letterbox_size(int *new_w, int *new_h, int im_w, int im_h, int w,
		       int h);

/* darknet's resize_image: bilinear in two passes (along x into a
 * (C, ih, w) buffer, then along y), the scale (in - 1) / (out - 1), the
 * last column and row copied from the input's last.  out (C,h,w),
 * in (C,ih,iw).  A 1-row output takes row 0 (darknet divides by zero
 * there).  Allocates a scratch buffer: NK_ENOMEM, or NK_EINVAL for
 * sizes below 1. */
int nk_darknet_resize(float *out, const float *in, int C, int iw, int ih,
		      int w, int h);

/* The image as (3, im->h, im->w) float planes, R, G, B, v / 255. */
int nk_image_planes(float *out, const nk_image *im);

/* out (3,h,w): the image letterboxed into w x h (darknet's
 * letterbox_image). */
int nk_letterbox_input(float *out, const nk_image *im, int w, int h);
/* out (3,h,w): the image stretched to w x h (resize_image). */
int nk_resize_input(float *out, const nk_image *im, int w, int h);

#endif
