/* embedding.h - token embedding, forward and backward. */
#ifndef NK_NN_EMBEDDING_H
#define NK_NN_EMBEDDING_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"

/* ---- embedding: out (N,C) = wte[ids[n]] ------------------------------ */
void nk_embedding_forward(float *out, const uint32_t *ids, const float *wte,
			  int N, int C);
void nk_embedding_backward(float *dwte, const float *dout,
			   const uint32_t *ids, int N, int C);

#endif
