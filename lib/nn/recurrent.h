/* recurrent.h - what the recurrent layers (rnn.h, lstm.h, gru.h) share. */
#ifndef NK_NN_RECURRENT_H
#define NK_NN_RECURRENT_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"

/* ---- recurrent layers over a sequence, time-major ---------------------
 * x (T,B,I) inputs; h0 (B,H) initial state (c0 too for the LSTM); the
 * outputs h (T,B,H) are the hidden states of every step.  `cache` holds
 * what backward needs (gate activations...), *_cache_floats() floats.
 * Backward takes dh (T,B,H), the loss gradient for every output, plus
 * dh_last/dc_last, the gradient flowing into the final state from what
 * came after (the next segment when checkpointing; NULL for none), and
 * produces dx (T,B,I), dh0/dc0 (B,H) and the weight gradients.
 * Weights: w_ih (G*H, I), w_hh (G*H, H), b_ih (G*H), b_hh (G*H) with
 * G = 1 (tanh RNN), 4 (LSTM: i,f,g,o), 3 (GRU: r,z,n), as in torch.nn.
 *
 * The cache's tail is also the layers' workspace (packed weights, the gate
 * gradients of all T steps), which is why backward takes it non-const:
 * backward writes only there and leaves what forward saved intact, so it
 * may run twice on one forward.  Any of dx, dh0, dc0 and the weight
 * gradients may be NULL.
 * Gradient checkpointing: weight and bias gradients are accumulated one
 * time step at a time from the last step to the first, and dx/dh0/dc0
 * row by row, so running backward segment by segment (the last segment
 * first, each one's dh0/dc0 passed as the previous one's dh_last/dc_last,
 * all into the same gradient buffers) gives bits identical to one call
 * over the whole sequence; forward over segments, each starting from the
 * previous one's final state, gives bits identical to one forward. */
/* What the three share: the weight and bias gradients from the gate
 * gradients of all T steps, dg_ih for w_ih/b_ih and dg_hh for w_hh/b_hh
 * (the same array but in the GRU), each (T,B,GH):
 *   dw_ih (GH,I) += sum_t dg_ih_t^T x_t,  dw_hh (GH,H) += sum_t dg_hh_t^T h_{t-1},
 *   db_ih += sum_t,b dg_ih,  db_hh += sum_t,b dg_hh,
 * one step at a time from t = T-1 down to 0 (h_{-1} = h0, NULL for
 * zeros).  Threads own rows of the gradients, in one parallel region. */
void nk_recurrent_weight_grads(float *dw_ih, float *dw_hh, float *db_ih,
			       float *db_hh, const float *dg_ih,
			       const float *dg_hh, const float *x,
			       const float *h0, const float *h, int T, int B,
			       int I, int H, int GH);

#endif
