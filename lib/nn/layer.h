/* layer.h - what every layer of lib/nn/ promises: a layer is a pair of plain
 * functions over float buffers, one header each (embedding.h, linear.h,
 * rnn.h, lstm.h, gru.h, layernorm.h, softmax.h, dropout.h); optimizers
 * (optim.h), schedules (lr.h), parameters (params.h) and the training loop
 * (train.h) sit beside them.
 *
 * Conventions (llm.c):
 *   - outputs first, then inputs, then sizes;
 *   - backward ADDS into every gradient it is given (so a parameter used
 *     twice, or a segment recomputed for checkpointing, accumulates);
 *     a NULL gradient pointer means "not needed" and is skipped;
 *   - shapes in the comments, outermost first; letters mean the same
 *     everywhere: B batch, T time, C channels/features, V vocabulary,
 *     H hidden, I input size, N rows (B*T usually), K kernel;
 *   - all matrix products go through nk_sgemm (gemm.h);
 *   - weights are laid out as PyTorch lays them out (nn.Linear weight is
 *     (out, in); LSTM gates i,f,g,o; GRU gates r,z,n with two bias vectors),
 *     so a model can be checked against torch layer by layer;
 *   - results are bit-identical for a given seed and thread count.
 * Layers to come (conv2d, pooling, attention) follow the same mould.
 */
#ifndef NK_NN_LAYER_H
#define NK_NN_LAYER_H

#include <stddef.h>
#include <stdint.h>

#endif
