/* darknet_pyramid.h - a test-time image pyramid: one image run through
 * the same network at several resolutions and the boxes of all of them
 * pooled, so that objects too small for the network's own size are seen
 * larger at the finer levels.
 *
 * Level k is the image scaled by factor^k (k = 0, 1, ...: full
 * resolution first), letterboxed into the network resized to that size
 * rounded up to a multiple of 32, while the scaled image's longer side
 * is at least min_side.  A fully convolutional network runs at any size
 * with the same weights; one with a [connected] layer cannot.  Networks
 * are built once per input size and kept.  The caller suppresses the
 * pooled boxes (NMS) as it would one level's.
 */
#ifndef NK_MODELS_DARKNET_PYRAMID_H
#define NK_MODELS_DARKNET_PYRAMID_H

#include "models/darknet.h"

/* A copy of src (its cfg and parameters) built for a w x h input;
 * NK_EINVAL when its parameters depend on the size (connected layers). */
int nk_darknet_sized(nk_darknet *dst, const nk_darknet *src, int w, int h);

typedef struct nk_dn_level {
	int w, h;
	nk_darknet net;
	float *in;
} nk_dn_level;

typedef struct nk_dn_pyramid {
	const nk_darknet *base;  /* with its parameters; not owned */
	float factor;            /* 0 < factor < 1 */
	int min_side;
	nk_dn_level *lv;         /* the sizes met so far */
	int nlv;
	double forward_s;        /* seconds in forward passes, all levels */
	int levels;              /* levels run for the last image */
} nk_dn_pyramid;

int nk_dn_pyramid_init(nk_dn_pyramid *p, const nk_darknet *base,
		       float factor, int min_side);
void nk_dn_pyramid_free(nk_dn_pyramid *p);

/* Levels (sizes) at most per image: each one's network stays built for
 * later images of its size, so a factor near 1 must not build hundreds. */
#define NK_DN_PYRAMID_MAX_LEVELS 32

/* Every level's detections of im with a score above thresh, boxes in
 * pixels of im (as nk_darknet_boxes with relative 0), in one block that
 * nk_darknet_free_boxes frees.  The levels stop at min_side or after
 * NK_DN_PYRAMID_MAX_LEVELS, whichever comes first. */
int nk_dn_pyramid_detect(nk_dn_pyramid *p, const nk_image *im, float thresh,
			 nk_detection **dets, int *n);

#endif
