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

#endif
