/* det_task.h - training a detector (a darknet network ending in a [grid]
 * or [centernet] head) on a detection set, behind the library's one
 * training loop (nn/train.h).
 *
 *	nk_det_task t;
 *	nk_det_task_init(&t, &net, &train_cache, &val_cache, &val_set, &cfg);
 *	nk_train_task k = nk_det_task_bind(&t);
 *	nk_trainer_init(&tr, &tcfg, &k, "model.nkw"); nk_trainer_run(...);
 *
 * A step takes the next `batch` images of the epoch's order (a
 * permutation of the training images drawn from the seed and the epoch's
 * number), makes each a sample with seeded augmentation
 * (vision/augment.h; the seeds come from the loop's step seed, so a
 * resumed run draws the same samples), runs the training forward, the
 * head's loss (models/det_grid.h or det_centernet.h) and backward.
 *
 * Validation runs the INFERENCE path on the parameters as they stand
 * (batch norm folded, the plans `detect run` uses) on the validation
 * images letterboxed: the head's loss on them, and their detections
 * (score above eval_thresh, per-class NMS) scored by VOC's mAP at IoU
 * 0.5 against the validation set (vision/det_eval.h).  The CSV log gets
 * the head's loss parts since the previous row and the last mAP.
 *
 * Data parallelism (mpirun; nn/train.h): every rank draws the same
 * global batch and keeps its share, images nk_dist_share(batch) of it,
 * augmented with the seeds of their places in the global batch (not of
 * the rank), so that N ranks see the images one process sees.  Batch
 * norm's statistics are the global batch's (nn/batchnorm.h's _sync, one
 * sum over the ranks per layer forward and one backward), and the
 * losses are normalised as one process normalises them: grid's per
 * image of the global batch, CenterNet's heatmap by the global batch's
 * peaks and its size and offset terms by its objects (one sum of a few
 * doubles per step).  A rank's gradient is then N times its part of the
 * global one, which the loop's equal-weight mean over the ranks turns
 * into the sum; every rank reports the global loss.  The batch must be
 * at least the number of ranks, and a net with dropout is refused on
 * several ranks (its masks are drawn over the whole batch at once).
 * Validation and mAP run on rank 0 over the whole validation set.
 *
 * A checkpoint is the model's weight file (models/darknet.h's nkw, so
 * `detect run -m` reads it) plus the epoch, the position in it and the
 * loss parts not yet logged, and the task's settings: det_batch,
 * det_seed, det_aug_mode, det_aug (flip_h, flip_v, scale_min, scale_max,
 * aspect, translate, hue, saturation, exposure), det_eval (eval_thresh,
 * nms), det_max_side, det_classes (the class names, one a line) and
 * det_arch (nk_det_arch_save, when the net was built from options).
 */
#ifndef NK_MODELS_DET_TASK_H
#define NK_MODELS_DET_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "formats/detset.h"
#include "formats/wfile.h"
#include "models/darknet.h"
#include "models/darknet_train.h"
#include "models/det_target.h"
#include "nn/train.h"
#include "vision/augment.h"
#include "vision/imcache.h"

/* The most [grid] heads (levels) a detector may have. */
#define NK_DET_MAX_LEVELS 8

typedef struct nk_det_task_config {
	int batch;              /* images per step */
	nk_augment_config aug;  /* training samples' jitter */
	float eval_thresh;      /* validation detections' lowest score */
	float nms;              /* their per-class NMS IoU */
	uint64_t seed;          /* the epochs' orders */
	/* Recorded in every checkpoint, not used by the step, so that a
	 * resume continues the run as it was started (or is refused):
	 * max_side, the caches' downscaling (nk_imcache_load), 0 none;
	 * names, the training set's classes, one per class of the head
	 * (NULL: none recorded); arch, the options the net was built from
	 * (NULL: a user's cfg).  The pointers are the caller's and must
	 * outlive the task. */
	int max_side;
	const char *const *names;
	const struct nk_det_arch *arch;
} nk_det_task_config;

/* batch 8, nk_augment_train(), eval_thresh .005, nms .45, seed 1,
 * max_side 0, no names, no arch. */
nk_det_task_config nk_det_task_default(void);

/* The settings a checkpoint's run was started with: batch, augmentation,
 * evaluation, seed and max_side (names and arch NULL: see below and
 * nk_det_arch_load), for a resume to take instead of the command line's.
 * NK_EFORMAT naming the file when one is missing (a checkpoint of an
 * older detect, which recorded fewer) or out of range. */
int nk_det_task_config_load(nk_det_task_config *cfg, const nk_wfile *f);

/* Whether names[0..n) are the classes the checkpoint's run trained on,
 * in order; NK_EFORMAT "CKPT: cannot resume: ..." naming both the
 * checkpoint's and data's (the data set's name, for the message) where
 * they differ. */
int nk_det_task_check_classes(const nk_wfile *f, const char *const *names,
			      int n, const char *data);

typedef struct nk_det_task {
	nk_darknet *net;                   /* not owned */
	nk_dn_train tr;
	const nk_imcache *train, *val;     /* not owned; val may be NULL */
	const nk_detset *valset;           /* val's ground truth */
	nk_det_task_config cfg;
	int head;                          /* the head's layer (the last) */
	int heads[NK_DET_MAX_LEVELS];      /* every head's layer: the [grid]
					    * levels of an FPN, or head */
	int nheads;
	int nparts;                        /* loss parts: grid 4, centernet 3 */
	float *in;                         /* (batch, 3, h, w) */
	nk_aug_box *abox;                  /* batch * maxobj */
	nk_det_target *tg;                 /* batch * maxobj */
	const nk_det_target **gt;          /* batch */
	int *ngt;                          /* batch */
	size_t maxobj;
	uint32_t *order;                   /* the epoch's permutation */
	int64_t epoch;
	int64_t pos;                       /* images of this epoch done */
	double part_sum[4];                /* loss parts since the last row */
	int64_t part_steps;
	double val_map;                    /* the last validation's mAP@0.5 */
	double *val_ap;                    /* ... per class of the val set */
	int evaluated;
	int rank, nranks;                  /* of the job (core/dist.h) */
} nk_det_task;

/* The net must end in a [grid] or [centernet] layer and hold its
 * parameters; a net ending in [grid] may have more [grid] layers before
 * (FPN levels, each with its own size range): their losses are summed.
 * parameters.  Caches and the set are the caller's and must outlive the
 * task.  Under mpirun every rank calls it alike (see above).
 * Errors: NK_EINVAL naming what does not fit (classes of the set
 * and the head, an empty training set), NK_ENOMEM. */
int nk_det_task_init(nk_det_task *t, nk_darknet *net,
		     const nk_imcache *train, const nk_imcache *val,
		     const nk_detset *valset, const nk_det_task_config *cfg);
void nk_det_task_free(nk_det_task *t);

/* darknet's initialisation for training from scratch, and the
 * centernet heatmap's prior (bias NK_CENTERNET_HM_BIAS). */
void nk_det_task_randomize(nk_det_task *t, uint64_t seed);

nk_train_task nk_det_task_bind(nk_det_task *t);

/* Validation alone: mean loss over the validation images and their VOC
 * mAP@0.5 (per class into ap[classes] when not NULL).  The parameters
 * are pushed into the net first. */
int nk_det_task_validate(nk_det_task *t, double *loss, double *map,
			 double *ap);

#endif
