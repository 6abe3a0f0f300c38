/* lstm.h - the LSTM layer (see recurrent.h for the contract). */
#ifndef NK_NN_LSTM_H
#define NK_NN_LSTM_H

#include <stddef.h>
#include <stdint.h>

#include "nn/recurrent.h"

size_t nk_lstm_cache_floats(int T, int B, int H);
/* c_last (B,H) receives the final cell state (to carry across batches). */
void nk_lstm_forward(float *h, float *c_last, float *cache, const float *x,
		     const float *h0, const float *c0, const float *w_ih,
		     const float *w_hh, const float *b_ih, const float *b_hh,
		     int T, int B, int I, int H);
void nk_lstm_backward(float *dx, float *dh0, float *dc0, float *dw_ih,
		      float *dw_hh, float *db_ih, float *db_hh,
		      const float *dh, const float *dh_last,
		      const float *dc_last, float *cache, const float *x,
		      const float *h0, const float *c0, const float *h,
		      const float *w_ih, const float *w_hh, int T, int B,
		      int I, int H);

#endif
