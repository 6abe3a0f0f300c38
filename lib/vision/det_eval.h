/* det_eval.h - detection metrics: COCO's (pycocotools' COCOeval, bbox)
 * and Pascal VOC's (py-faster-rcnn's voc_eval).
 *
 * Both take the ground truth and the predictions as two nk_detsets whose
 * objects share one numbering: a prediction's image and cls index the
 * ground truth's images and names (the prediction readers in formats/
 * map names and stems to those indices).  Predictions' score is used;
 * ground truth's area, crowd and difficult are.
 *
 * COCO, computed as COCOeval does it step by step: images in ascending
 * id, classes in ascending class_ids; per image and class the predictions
 * in score order (a stable sort, numpy's mergesort) cut to 100; IoU
 * thresholds .50:.05:.95 and recall points 0:.01:1 as numpy's linspace
 * makes them; a crowd region's IoU is intersection / prediction area and
 * it may match many; ground truth whose area lies outside a range
 * (bounds inclusive: area 1024 is both small and medium) is ignored, and
 * so are unmatched predictions outside it; the greedy match takes, among
 * the free ground truth, the last one with the highest IoU >= the
 * threshold, preferring unignored; precision made monotone, sampled at
 * the first index whose recall reaches each recall point (0 beyond the
 * last).  A ground-truth annotation with id 0 that is matched counts as
 * unmatched, as in COCOeval (it stores ids and tests them for nonzero).
 *
 * VOC: IoU with +1 pixel (corners x, x + w as VOC's xmin, xmax), a match
 * when the best IoU > thresh, difficult ground truth neither counted nor
 * penalised, a second match of one object a false positive; AP over all
 * points or VOC2007's 11 points.  Ties in score keep the predictions'
 * order (voc_eval's np.argsort is unstable beyond 16 items).
 */
#ifndef NK_VISION_DET_EVAL_H
#define NK_VISION_DET_EVAL_H

#include <stddef.h>

#include "formats/detset.h"

#define NK_COCO_T 10  /* IoU thresholds */
#define NK_COCO_R 101 /* recall points */
#define NK_COCO_A 4   /* area ranges: all, small, medium, large */
#define NK_COCO_M 3   /* maxDets: 1, 10, 100 */

typedef struct nk_coco_eval {
	/* COCOeval.stats: AP .50:.95, AP .50, AP .75, AP small, medium,
	 * large (maxDets 100); AR maxDets 1, 10, 100; AR small, medium,
	 * large.  -1 where nothing defines it. */
	double stats[12];
	int nclasses;           /* as the ground truth's */
	/* per class (the ground truth's index): AP .50:.95 and AP .50
	 * (area all, maxDets 100); -1 for a class without ground truth */
	double *class_ap, *class_ap50;
	/* precision[((((t * R + r) * K + k) * A + a) * M + m)] and
	 * recall[(((t * K + k) * A + a) * M + m)], COCOeval.eval's arrays
	 * (k the ground truth's class index, where COCOeval has the rank of
	 * its category id) */
	double *precision, *recall;
} nk_coco_eval;

int nk_coco_evaluate(nk_coco_eval *e, const nk_detset *gt,
		     const nk_detset *dt);
void nk_coco_eval_free(nk_coco_eval *e);
/* Line i (0..11) of COCOeval.summarize() in its exact format, without
 * the newline: " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all
 * | maxDets=100 ] = 0.123".  Needs 80 bytes. */
void nk_coco_summary_line(char *buf, size_t size, int i, double v);

/* VOC AP per class into ap[gt->nclasses]: -1 for a class without
 * (non-difficult) ground truth (voc_eval divides by zero there).
 * Returns the mean over the other classes in *map (-1 when none). */
int nk_voc_evaluate(double *ap, double *map, const nk_detset *gt,
		    const nk_detset *dt, double thresh, int use07);

#endif
