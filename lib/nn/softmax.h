/* softmax.h - softmax and the softmax + cross-entropy loss. */
#ifndef NK_NN_SOFTMAX_H
#define NK_NN_SOFTMAX_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"

/* ---- softmax + cross-entropy: logits (N,V), targets (N) --------------
 * Returns the mean loss in nats over the N rows; probs (N,V) is saved.
 * Backward writes (adds) dlogits = scale * (probs - onehot(target)),
 * scale usually 1/N. */
double nk_softmax_xent_forward(float *probs, const float *logits,
			       const uint32_t *targets, int N, int V);
void nk_softmax_xent_backward(float *dlogits, const float *probs,
			      const uint32_t *targets, int N, int V,
			      float scale);
/* Softmax of one row with a temperature (sampling). */
void nk_softmax(float *out, const float *logits, int V, float temperature);

#endif
