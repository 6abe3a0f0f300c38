/* attention.h - the core of multi-head self-attention, forward and
 * backward, over Q, K and V already projected (nn.MultiheadAttention
 * between its in_proj and its out_proj).
 *
 * qkv (B,T,3H) is the fused projection's output: per position the H
 * query features, then the H key features, then the H value features;
 * head a owns features a*D .. a*D+D-1 of each, D = H/A.  Per row b only
 * the first lengths[b] positions are keys (a key padding mask: the rest
 * get -inf before the softmax).  Padded query positions (t >= lengths[b])
 * are not computed: their output rows and probability rows are zero and
 * they get no gradient.  Nothing valid depends on them, so a model gives
 * the same loss and gradients as torch, which computes them anyway.
 *
 *   P = softmax(Q K^T / sqrt(D) + mask [- m_a |i - j|])   att (B,A,T,T)
 *   out = dropout(P) V                                     out (B,T,H)
 *
 * With alibi set, head a's score of query i for key j is lowered by
 * m_a |i - j|: ALiBi's distance penalty (Press et al. 2022) made
 * symmetric for an encoder.  It hands every head a preference for nearby
 * tokens from the first step; with learned positions alone a small BERT
 * spends thousands of steps on a plateau predicting frequent words before
 * its attention finds the neighbours.  The penalty is a constant, so
 * backward is the same with or without it.
 *
 * Attention-probability dropout draws its mask from `seed` alone
 * (dropmask.h's hash of the element's index in att), so backward, or a checkpointed recompute, sees
 * the same mask from the same seed without storing it.
 */
#ifndef NK_NN_ATTENTION_H
#define NK_NN_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "nn/layer.h"

/* The slope m_a of head a of A.  From 8 heads up, ALiBi's own: the
 * geometric sequence 2^(-8k/n), k = 1..n, for n = A a power of two;
 * otherwise the n = 2^floor(log2 A) slopes, then every other slope of
 * 2n's sequence (the paper's get_slopes()).  Below 8 heads the paper's
 * rule would leave no head local (2 heads: 1/16 and 1/256, which
 * learned far slower: loss 6.11 at step 1,000 against 5.68 with 1/2 and
 * 1/16), so the sequence keeps its ratio
 * 2^(-8/A) but starts at 1/2, the paper's steepest slope at 8 heads:
 * 2 heads get 1/2 and 1/32. */
float nk_alibi_slope(int a, int A);

/* out (B,T,H), att (B,A,T,T) the probabilities before dropout (rows of
 * padded queries and columns of padded keys zero); qkv (B,T,3H);
 * lengths (B), each 1..T; alibi 0 or 1 (above); dropout p in [0,1).
 * scratch: B*A*T*T floats when p > 0 (the dropped probabilities), else
 * may be NULL. */
void nk_attention_forward(float *out, float *att, float *scratch,
			  const float *qkv, const int *lengths, int B, int T,
			  int H, int A, int alibi, float p, uint64_t seed);
/* dqkv (B,T,3H) += the gradient through the attention; dout (B,T,H);
 * att as forward left it; the same p and seed; scratch: B*A*T*T floats
 * (p or not). */
void nk_attention_backward(float *dqkv, float *scratch, const float *dout,
			   const float *qkv, const float *att,
			   const int *lengths, int B, int T, int H, int A,
			   float p, uint64_t seed);

#endif
