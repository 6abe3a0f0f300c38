/* darknet_build.h - private to darknet_build.c and darknet_layers.c:
 * the state of a build and the one-layer builders. */
#ifndef NK_MODELS_DARKNET_BUILD_H
#define NK_MODELS_DARKNET_BUILD_H

#include "models/darknet.h"

typedef struct bctx {
	nk_darknet *net;
	nk_dncfg *c;
	int s;      /* section */
	int i;      /* layer */
	int rc;     /* first error */
} bctx;

/* Getters that keep the first error in b->rc (so that a run of them
 * is checked once); nk_dnb_fail records a message naming FILE:LINE (of
 * `key`, or of the section) and the layer, and returns NK_EFORMAT. */
int nk_dnb_geti(bctx *b, const char *key, int def);
float nk_dnb_getf(bctx *b, const char *key, float def);
int nk_dnb_fail(bctx *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fills l's parameters, output shape and counts from section b->s, its
 * input (l->c, h, w, inputs) already set. */
int nk_dnb_layer(bctx *b, nk_dn_layer *l, int type);

/* Points every layer's parameters into `base`, darknet's file order
 * (the layout of net->params), without touching the values. */
void nk_dn_point_params(nk_darknet *net, float *base);
/* NK_EFORMAT naming the layer where a file of `have` floats ends, or the
 * surplus, when it does not hold what the network needs. */
int nk_dn_check_count(const nk_darknet *net, size_t have, const char *name);

/* The heads' activations (softmax, detection, yolo, region) in place over
 * out (B, l->outputs), as darknet's forward leaves them; other layers are
 * left alone (darknet_forward.c; the training forward uses it too). */
void nk_dn_head_forward(const nk_dn_layer *l, float *out, int B);
/* A [yolo] head's activations from its input in (B, l->inputs) into out
 * (in may be out), threads sharing the rows (darknet_head_act.c). */
void nk_dn_yolo_forward(const nk_dn_layer *l, float *out, const float *in,
			int B);

#endif
