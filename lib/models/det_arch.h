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
 * Grid with fpn predicts on `levels` levels of the top-down path: 1, the
 * stride-16 map only; 2, strides 8 and 16; 3, strides 8, 16 and 32 --
 * each a 1x1 convolution and a [grid] off the path's map at that stride,
 * coarsest first (the path goes on through a [route] after each), the
 * finest last.  Each level learns the objects whose max(w, h) in input
 * pixels lies in its [min_size, max_size): the boundary between strides
 * s and 2s is 4s pixels (32 between 8 and 16, 64 between 16 and 32),
 * the finest open below, the coarsest above -- YOLOv3's anchors at 416
 * split about there (10-33 px at stride 8, 30-62 at 16, 81-373 at 32),
 * and an object is then 2 to 8 cells wide on its level.  CenterNet
 * stays on one stride-4 level: its heatmap peaks need no size split.
 * At 416x416 with 3 classes: 1.8-2.1 M parameters, 2.4-3.2 GFLOP per
 * image forward.
 */
#ifndef NK_MODELS_DET_ARCH_H
#define NK_MODELS_DET_ARCH_H

struct nk_wfile;

enum nk_det_head { NK_HEAD_GRID, NK_HEAD_CENTERNET };

typedef struct nk_det_arch {
	int head;       /* enum nk_det_head */
	int fpn, spp;   /* the options above */
	int width, height; /* network input, multiples of 32 */
	int classes;
	int base;       /* filters at stride 1 (16); doubled per stride */
	int boxes;      /* grid: boxes per cell (2) */
	int neck;       /* filters of the path to the head (128) */
	int levels;     /* grid with fpn: prediction levels, 1-3; 0: the
			 * default (NK_DET_FPN_LEVELS) */
} nk_det_arch;

#define NK_DET_FPN_LEVELS 3

/* The defaults: grid head, no fpn or spp, 416x416, 16 base filters. */
nk_det_arch nk_det_arch_default(void);

/* The cfg text (NUL-terminated, free()) for a; NK_EINVAL with a message
 * when a size or count is out of range. */
int nk_det_arch_cfg(const nk_det_arch *a, char **text);

/* The stride of the head's map for a head kind (the single-level grid's). */
int nk_det_arch_stride(int head);

/* The prediction levels a cfg of a has: 1, or 2-3 for grid with fpn. */
int nk_det_arch_levels(const nk_det_arch *a);

/* The options a network was built from, in a checkpoint (the ints key
 * det_arch): a resume can then tell whether options given again agree
 * with the run's.  load: NK_ENOTFOUND, no message, when the file has none
 * (a network from a user's cfg), NK_EFORMAT naming the file when the key
 * is malformed. */
int nk_det_arch_save(const nk_det_arch *a, struct nk_wfile *w);
int nk_det_arch_load(nk_det_arch *a, const struct nk_wfile *f);

#endif
