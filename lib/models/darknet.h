/* darknet.h - a darknet network (cfg + weights) for inference: built
 * with darknet's defaults and shape rules (pjreddie/darknet as of
 * 2018-09, Debian's 0.0~git20180914), loaded from and saved to .weights,
 * run forward on a batch, its detection heads decoded as `darknet
 * detector test` decodes them.
 *
 *	nk_darknet net;
 *	if (nk_darknet_load(&net, "yolov3.cfg", "yolov3.weights"))
 *		... nk_last_error() ...
 *	// in (B, net.c, net.h, net.w), letterboxed, RGB, pixels / 255
 *	nk_darknet_forward(&net, in, B);
 *	nk_detection *dets; int n;
 *	nk_darknet_boxes(&net, b, im_w, im_h, .5f, .5f, 1, &dets, &n);
 *	nk_nms_per_class(dets, n, .45f);
 *	... dets[i].box relative to the image, prob[k] ...
 *	nk_darknet_free_boxes(dets, n);
 *	nk_darknet_free(&net);
 *
 * Layers: convolutional (groups, batch_normalize), maxpool, avgpool
 * (global), route, shortcut, upsample, reorg, connected, dropout,
 * softmax, cost (identity at inference), yolo, region, detection, and
 * two heads of nnkit's own that darknet does not have: [grid] (YOLOv1's
 * loss on a convolutional map, models/det_grid.h) and [centernet]
 * (models/det_centernet.h), trained by `detect train`.  Other
 * darknet sections (local, crop, rnn, gru, lstm, ...) are refused with
 * FILE:LINE; unknown sections are errors.
 */
#ifndef NK_MODELS_DARKNET_H
#define NK_MODELS_DARKNET_H

#include <stddef.h>

#include "formats/darknet_cfg.h"
#include "formats/darknet_weights.h"
#include "formats/wfile.h"
#include "nn/activation.h"
#include "nn/conv_infer.h"
#include "vision/boxes.h"
#include "vision/image.h"

typedef enum {
	NK_DN_CONV,
	NK_DN_MAXPOOL,
	NK_DN_AVGPOOL,
	NK_DN_ROUTE,
	NK_DN_SHORTCUT,
	NK_DN_UPSAMPLE,
	NK_DN_REORG,
	NK_DN_CONNECTED,
	NK_DN_DROPOUT,
	NK_DN_SOFTMAX,
	NK_DN_COST,
	NK_DN_YOLO,
	NK_DN_REGION,
	NK_DN_DETECTION,
	NK_DN_GRID,      /* nnkit's: YOLOv1's grid on a feature map */
	NK_DN_CENTERNET, /* nnkit's: CenterNet's heatmap, size, offset */
	NK_DN_TYPE_COUNT
} nk_dn_type;

/* "convolutional", "maxpool", ... (darknet's section names). */
const char *nk_dn_type_name(nk_dn_type t);

typedef struct {
	nk_dn_type type;
	int line;                /* the section's line in the cfg */
	int c, h, w;             /* input of one image (0s: not an image) */
	int out_c, out_h, out_w; /* output of one image */
	size_t inputs, outputs;  /* floats per image */

	/* convolutional, connected, maxpool */
	int filters, size, stride, pad, groups, bn;
	nk_act act;
	/* route (indices resolved to absolute), shortcut (from) */
	int *layers, nlayers, from;
	float alpha, beta;       /* shortcut: out = alpha*out + beta*from */
	float scale;             /* upsample */
	float temperature;       /* softmax (groups above) */
	/* heads: yolo (mask, total anchors), region, detection */
	int classes, num, total, coords, side, softmax, background, sqrt,
	    rescore;
	int *mask;               /* yolo: num anchor indices */
	float coord_scale, noobject_scale; /* grid: YOLOv1's lambdas */
	float min_size, max_size; /* grid: the objects this level learns
				   * (models/det_grid.h), 0 0: all */
	float *anchors;          /* 2 * (yolo: total; region: num) */
	int dontload, dontsave;

	/* parameters, darknet's file order, pointing into net->params:
	 * bias (filters), then with bn scales, rolling mean and variance,
	 * then weights (filters, c/groups, size, size); connected: bias
	 * (outputs), weights (outputs, inputs), then the bn vectors. */
	float *bias, *bn_scale, *bn_mean, *bn_var, *weight;
	size_t nweight, nparams;
	float *fw, *fb;          /* connected: batch norm folded in */
	nk_conv_plan *plan;      /* convolutional: folded weights, prepared
				  * for inference (nn/conv_infer.h) */

	float *out;              /* (B, outputs) after nk_darknet_forward */
	size_t gstride;          /* 0, or the floats between image groups'
				  * own copies of a reused buffer (image b
				  * of group g from b0 at out + g * gstride
				  * + (b - b0) * outputs) */
} nk_dn_layer;

typedef struct {
	nk_dncfg cfg;
	int n;                   /* layers, [net] not counted */
	nk_dn_layer *l;
	int c, h, w;             /* input of one image */
	size_t inputs;
	float *params;           /* nparams floats, file order */
	size_t nparams;
	nk_dnw_header hdr;       /* of the weights loaded (0.2.0 when none) */
	int folded;              /* fw/fb and the plans are current */
	int keep_outputs;        /* set to keep every layer's output readable
				  * after a forward (tests, inspection); by
				  * default a layer's buffer is reused once no
				  * later layer reads it, heads excepted */
	int planned_keep;        /* keep_outputs when the buffers were laid out */
	int params_dropped;      /* nk_darknet_drop_params was called */
	int B;                   /* images the activations hold */
	int groups;              /* of images run each on one thread */
	float *act;              /* every layer's output, one block */
	float *work;             /* convolution scratch, nwork a group */
	size_t nwork;
} nk_darknet;

/* Builds from a parsed cfg (taken over: freed with the network, also on
 * failure).  Parameters are darknet's initial inference values: biases 0,
 * scales 1, means 0, variances 1, weights 0.  Impossible shapes are
 * NK_EFORMAT naming FILE:LINE and the layer. */
int nk_darknet_build(nk_darknet *net, nk_dncfg *cfg);
/* The same without allocating parameters (net->params stays NULL, the
 * layers' parameter pointers too): shapes and counts only, for printing
 * a network or checking a cfg. */
int nk_darknet_build_shapes(nk_darknet *net, nk_dncfg *cfg);
/* nk_dncfg_load + nk_darknet_build. */
int nk_darknet_load_cfg(nk_darknet *net, const char *cfg_path);
/* Both files; weights may be NULL (initial values). */
int nk_darknet_load(nk_darknet *net, const char *cfg_path,
		    const char *weights_path);
void nk_darknet_free(nk_darknet *net);

/* Floats the layers read from a .weights (dontload layers excluded). */
size_t nk_darknet_file_floats(const nk_darknet *net);

/* Loads parameters from a .weights; a float count that differs from what
 * the cfg needs is NK_EFORMAT naming the layer where the file ends, or
 * the surplus ("x.weights: 1000 floats left after the last layer (12):
 * the cfg needs 5000, the file has 6000").  Layers marked dontload keep
 * their values.  The header is kept for saving. */
int nk_darknet_load_weights(nk_darknet *net, const char *path);
int nk_darknet_set_weights(nk_darknet *net, const nk_dnw *d,
			   const char *name);
/* Writes a .weights that darknet reads (byte-identical to the loaded one
 * when nothing changed); dontsave layers are left out. */
int nk_darknet_save_weights(const nk_darknet *net, const char *path);

/* Runs B images; in (B, c, h, w).  Outputs stay readable until the next
 * forward or free.  Folds batch norm into the weights on the first call
 * after a load. */
int nk_darknet_forward(nk_darknet *net, const float *in, int B);
/* Layer i's output, (B, out_c, out_h, out_w) = (B, outputs); for yolo and
 * region the activated values darknet's forward leaves there.  Unless
 * net->keep_outputs was set before the forward, only the heads' outputs
 * (yolo, region, detection, and the last layer) are kept: the others
 * share buffers and NULL is returned for them. */
const float *nk_darknet_output(const nk_darknet *net, int i);

/* For a program that only runs the network: prepares inference (batch
 * norm folded, convolution plans built) and frees the parameters in file
 * order, which the plans no longer need -- about the size of the weights
 * file.  Saving, reloading weights and nk_darknet_to_wfile fail after. */
int nk_darknet_drop_params(nk_darknet *net);

/* nk_darknet_load then nk_darknet_drop_params, without ever holding the
 * parameters and the plans whole at once: the weights file is mapped,
 * each layer is folded and planned straight from it, and its pages are
 * let go as soon as it is.  The peak is then the plans and the
 * activations, not the plans and a copy of the file.  (Files with
 * transposed connected layers, dontload layers, or that cannot be mapped
 * -- stdin, gzip -- go the ordinary way.)  Same errors as
 * nk_darknet_load. */
int nk_darknet_load_infer(nk_darknet *net, const char *cfg_path,
			  const char *weights_path);

/* out (3, net->h, net->w): the image fitted to the network's input as
 * darknet fits it: stretched for a yolov1 [detection] head, letterboxed
 * otherwise (vision/letterbox.h). */
int nk_darknet_input(const nk_darknet *net, float *out, const nk_image *im);

/* The classes of the last layer (what detections carry). */
int nk_darknet_classes(const nk_darknet *net);

/* Decodes image b of the last forward as darknet's get_network_boxes(net,
 * im_w, im_h, thresh, hier, 0, relative, &n): every yolo layer's boxes
 * with objectness > thresh, every region and detection cell.  yolo and
 * region boxes are undone from the letterbox into im_w x im_h and are
 * fractions of it when relative, else pixels; detection (yolov1) boxes
 * are always in pixels of im_w x im_h, as darknet has them.  *dets is
 * freed with nk_darknet_free_boxes. */
int nk_darknet_boxes(const nk_darknet *net, int b, int im_w, int im_h,
		     float thresh, float hier, int relative,
		     nk_detection **dets, int *n);
void nk_darknet_free_boxes(nk_detection *dets, int n);

/* The project's weight file: the cfg text under "darknet_cfg", the
 * weights header, and each layer's tensors as "L3.conv.weight",
 * "L3.conv.bias", "L3.bn.scale", "L3.bn.mean", "L3.bn.var",
 * "L7.fc.weight", "L7.fc.bias" ... (schema NK_DARKNET_SCHEMA). */
#define NK_DARKNET_SCHEMA 1
int nk_darknet_to_wfile(const nk_darknet *net, nk_wfile *w);
int nk_darknet_save_nkw(const nk_darknet *net, const char *path);
/* Builds the network from the file's cfg and loads its tensors. */
int nk_darknet_from_wfile(nk_darknet *net, const nk_wfile *f);
int nk_darknet_load_nkw(nk_darknet *net, const char *path);

#endif
