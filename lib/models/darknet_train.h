/* darknet_train.h - training a darknet network: a forward that keeps what
 * backward needs (batch statistics, max-pool winners, dropout masks), a
 * backward into one block of parameter gradients, and the trainable
 * parameters in one block an optimizer steps (lib/nn/optim.h).
 *
 *	nk_dn_train t;
 *	nk_dn_train_init(&t, &net, 8);          // net from nk_darknet_load
 *	for (each batch) {
 *		nk_dn_train_forward(&t, in, B, step_seed);
 *		... loss from nk_dn_train_out(&t, head) ...
 *		float *d = nk_dn_train_dout(&t, head);  // zeroed, marked
 *		... d = dloss/d(head's output) ...
 *		nk_dn_train_backward(&t, in, B);         // t.grads += ...
 *		nk_adam_step(&wd, t.params, t.grads, lr);  // decayed
 *		nk_adam_step(&nowd, t.params + t.ndecay, t.grads + t.ndecay, lr);
 *		memset(t.grads, 0, t.n * sizeof *t.grads);
 *	}
 *	nk_dn_train_push(&t);    // into net->params: save, or infer
 *	nk_dn_train_free(&t);
 *
 * Layers: convolutional (batch_normalize, groups, every activation of
 * nn/activation.h), connected, maxpool (darknet's size 2 stride 1
 * included), avgpool (global), route, shortcut (alpha, beta, darknet's
 * steps between sizes), upsample (scale), reorg, dropout.  softmax, cost,
 * yolo, region and detection layers are heads: their forward is the
 * inference one (activated values for the caller's loss) and their
 * backward passes the gradient the caller wrote into their dout through
 * unchanged, as darknet's do: the caller writes the gradient with
 * respect to the head's INPUT (darknet's l.delta).
 *
 * (wd: nk_adam_init(&wd, t.ndecay, ..., weight_decay); nowd over the
 * t.n - t.ndecay biases and scales with weight_decay 0.)
 *
 * Memory: every layer's output is kept for backward but a convolution's
 * with batch norm (or mish, silu) read only by layers whose backward
 * ignores it (max-pool, avgpool, route, shortcut, upsample, heads):
 * backward recomputes it from the product, which it keeps anyway; the
 * gradients of all but heads share buffers.  yolov3-tiny at 416x416,
 * batch 8: 515 MiB (its outputs alone are 250 MiB).
 *
 * Batch norm in training is PyTorch's: batch mean and biased variance,
 * y = scale * (x - mean) / sqrt(var + eps) + bias, eps 1e-5; the running
 * statistics (net's bn_mean, bn_var) move by `momentum` (0.1, PyTorch's;
 * darknet's is .01) toward the batch's mean and unbiased variance.
 * With sync set (data parallelism, models/det_task.c) the statistics
 * and backward's two sums are every rank's together: one sum over the
 * ranks per batch-norm layer forward and one backward.
 * Inference (nk_darknet_forward, nk_dn_train_eval) divides by
 * sqrt(var) + 1e-6 as darknet's CPU code does: the two differ by about
 * eps / (2 var) relative.
 */
#ifndef NK_MODELS_DARKNET_TRAIN_H
#define NK_MODELS_DARKNET_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "models/darknet.h"

/* Per layer, private to darknet_train*.c. */
typedef struct {
	float *out, *dout;       /* (B, outputs) */
	float *pre;              /* conv/connected: the product before batch
				  * norm, or before an activation whose
				  * derivative needs its input (mish, silu);
				  * shortcut likewise */
	float *mean, *invstd;    /* batch norm: the batch's, for backward */
	int32_t *argmax;         /* maxpool */
	float *mask;             /* dropout */
	float prob;              /* dropout */
	float *w, *b, *s;        /* in params: weight, bias, bn scale */
	float *gw, *gb, *gs;     /* the same in grads */
	int given;               /* dout handed out since the forward */
	int last;                /* the last layer reading out; -1 none */
	int keep;                /* out outlives the forward (else its
				  * buffer is reused once read, and
				  * backward recomputes it from pre) */
	int own;                 /* dout is the layer's alone: the caller
				  * may give it (else it is shared with
				  * douts not live at the same time) */
} nk_dn_tlayer;

typedef struct {
	nk_darknet *net;         /* not owned */
	int B;                   /* the most images a batch may have */
	/* Trainable parameters, [every conv/connected weight] (ndecay
	 * floats: weight decay applies) then [biases and bn scales]. */
	float *params, *grads;
	size_t n, ndecay;
	float momentum, eps;     /* batch norm, see above; settable */
	int sync;                /* batch norm over the ranks of an MPI job:
				  * this forward's B images are the rank's
				  * share, the statistics the whole batch's
				  * (nn/batchnorm.h's _sync); every rank
				  * must run forward and backward together */
	double *bnwork;          /* their sums, 3 * (most filters) + 1 */
	size_t act_bytes;        /* what the activations and their
				  * gradients hold for B images */

	nk_dn_tlayer *tl;        /* per layer: buffers, parameter pointers */
	void *block;             /* activations, one allocation */
	float *work;             /* convolution scratch */
	float *s1, *s2;          /* backward scratch, the largest output */
	int fwdB;                /* images of the last forward; 0 none */
	int train;               /* the last forward was a training one */
} nk_dn_train;

/* Allocates for batches of up to B images and pulls the parameters from
 * net->params.  The net must hold its parameters (not from
 * nk_darknet_load_infer or after nk_darknet_drop_params). */
int nk_dn_train_init(nk_dn_train *t, nk_darknet *net, int B);
void nk_dn_train_free(nk_dn_train *t);

/* darknet's initialisation for training from scratch: each weight normal
 * with deviation sqrt(2 / fan_in) (fan_in = c/groups * size * size, or
 * the inputs of a connected layer), biases 0, bn scales 1; the running
 * statistics reset to mean 0, variance 1.  The same bits for a seed. */
void nk_dn_train_randomize(nk_dn_train *t, uint64_t seed);

/* Training forward of B <= t->B images, in (B, c, h, w): batch norm on
 * the batch's statistics (running ones updated), dropout drawn from
 * `seed` (the same seed, the same masks).  Every dout mark is cleared. */
int nk_dn_train_forward(nk_dn_train *t, const float *in, int B,
			uint64_t seed);
/* Inference forward through the same buffers (running statistics, no
 * dropout): what nk_darknet_forward gives after nk_dn_train_push.
 * Backward after it is refused. */
int nk_dn_train_eval(nk_dn_train *t, const float *in, int B);

/* Layer i's output after a forward, (B, outputs); NULL for a convolution
 * with batch norm or mish/silu whose readers' backward needs no input
 * (a max-pool, say): its buffer is reused within the forward and
 * backward recomputes it.  Heads and layers no other reads are kept. */
float *nk_dn_train_out(nk_dn_train *t, int i);
/* Layer i's output gradient, (B, outputs): zeroed and marked as given on
 * the first call after a forward, for the caller to fill.  Only heads
 * (softmax, cost, yolo, region, detection) and layers no other reads
 * have a gradient of their own; NULL for the rest, whose gradient
 * buffers are shared.  Several layers may be given. */
float *nk_dn_train_dout(nk_dn_train *t, int i);

/* grads += d(loss)/d(params) for the last training forward of B images
 * (in: what that forward was given), from the douts the caller gave (the others start at zero). */
int nk_dn_train_backward(nk_dn_train *t, const float *in, int B);

/* params -> net->params (file order; the running statistics are already
 * there), and the net is marked to re-fold its inference weights. */
void nk_dn_train_push(nk_dn_train *t);
/* net->params -> params (after loading weights, say). */
void nk_dn_train_pull(nk_dn_train *t);

#endif
