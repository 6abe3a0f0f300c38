/* det_arch.h - the detectors `detect train` builds, written as darknet
 * cfg text so that one network code (models/darknet*.c) runs, trains,
 * saves and prints them, and a user can read or edit the cfg.
 *
 * The backbone is darknet's tiny style: a 3x3 convolution with batch norm
 * and leaky ReLU at every stride, 2x2 max pooling between, from `base`
 * filters at stride 1 doubling up to stride 32 (C1..C5).  Then:
 *   - spp: yolov3-spp's block on C5 (max pooling 5, 9, 13 at stride 1,
 *     concatenated with C5, a 1x1 convolution);
 *   - a 1x1 convolution, then the path down to the head's stride:
 *     upsample x2 and a 3x3 convolution per level, narrower as the maps
 *     grow (base * stride / 2 filters, 32 to neck); with fpn a lateral
 *     1x1 convolution of the backbone's map at that stride is added to
 *     the upsampled path first (FPN's top-down path); without it the path
 *     sees only C5 (CenterNet's plain upsampling);
 *   - a 1x1 convolution to the head's channels and the head: [grid] at
 *     stride 16 (YOLOv1's boxes and classes per cell) or [centernet] at
 *     stride 4 (heatmap, size, offset).
 * At 416x416 with 3 classes: 1.8-2.1 M parameters, 2.4-3.2 GFLOP per
 * image forward.
 */
#ifndef NK_MODELS_DET_ARCH_H
#define NK_MODELS_DET_ARCH_H

enum nk_det_head { NK_HEAD_GRID, NK_HEAD_CENTERNET };

typedef struct nk_det_arch {
	int head;       /* enum nk_det_head */
	int fpn, spp;   /* the options above */
	int width, height; /* network input, multiples of 32 */
	int classes;
	int base;       /* filters at stride 1 (16); doubled per stride */
	int boxes;      /* grid: boxes per cell (2) */
	int neck;       /* filters of the path to the head (128) */
} nk_det_arch;

/* The defaults: grid head, no fpn or spp, 416x416, 16 base filters. */
nk_det_arch nk_det_arch_default(void);

/* The cfg text (NUL-terminated, free()) for a; NK_EINVAL with a message
 * when a size or count is out of range. */
int nk_det_arch_cfg(const nk_det_arch *a, char **text);

/* The stride of the head's map for a head kind. */
int nk_det_arch_stride(int head);

#endif
