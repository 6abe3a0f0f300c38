/* gru.h - the GRU layer (see recurrent.h for the contract). */
#ifndef NK_NN_GRU_H
#define NK_NN_GRU_H

#include <stddef.h>
#include <stdint.h>

#include "nn/recurrent.h"

size_t nk_gru_cache_floats(int T, int B, int H);
void nk_gru_forward(float *h, float *cache, const float *x, const float *h0,
		    const float *w_ih, const float *w_hh, const float *b_ih,
		    const float *b_hh, int T, int B, int I, int H);
void nk_gru_backward(float *dx, float *dh0, float *dw_ih, float *dw_hh,
		     float *db_ih, float *db_hh, const float *dh,
		     const float *dh_last, float *cache, const float *x,
		     const float *h0, const float *h, const float *w_ih,
		     const float *w_hh, int T, int B, int I, int H);

#endif
