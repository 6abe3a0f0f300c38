/* spp.h - spatial pyramid pooling (He et al., SPP-net, 2014) as a layer.
 *
 * A (B,C,H,W) feature map of any H and W is max- or average-pooled into
 * n x n bins for each level n (default 4,2,1: 16+4+1 = 21 bins per
 * channel), giving a fixed-length (B,D) output, D = C * sum(n^2).  The
 * output of one batch item is the levels in the order given, each level
 * (C,n,n) row-major: torch.cat([pool(x, n).flatten(1) for n in levels], 1).
 *
 * Bins follow SPP-net: along an axis of length a, window k = ceil(a/n) and
 * stride s = floor(a/n), so bin i covers [i*s, i*s + k).  Edge handling,
 * where the paper's formula leaves gaps or runs short:
 *   - the last bin is extended to end at a, so no input cell is ignored
 *     (with a = 7, n = 4 the paper's bins would skip cells 5 and 6);
 *   - when a < n (s = 0) bin i is the single cell floor(i*a/n), so every
 *     bin is still non-empty and the bins spread over the input.
 * These bins equal PyTorch's adaptive pooling bins [floor(i*a/n),
 * ceil((i+1)*a/n)) whenever n divides a, and in some other cases
 * (a = 5, n = 4); nk_spp_bin gives them for any a and n.
 */
#ifndef NK_SPP_H
#define NK_SPP_H

#include <stddef.h>
#include <stdint.h>

#define NK_SPP_MAX_LEVELS 8
#define NK_SPP_MAX_BINS 64 /* n per level at most */

enum nk_spp_mode { NK_SPP_MAX = 0, NK_SPP_AVG = 1 };

/* Bin i of n along an axis of length a: [*start, *end). */
void nk_spp_bin(int *start, int *end, int i, int a, int n);
/* Output length per batch item, C * sum(levels[l]^2); 0 and a message
 * when the levels are out of range. */
size_t nk_spp_dim(int C, const int *levels, int nlevels);

/* out (B,D); argmax (B,D) int32, the index h*W+w of each bin's maximum in
 * its (H,W) plane (the first one on ties), filled in max mode and may be
 * NULL in average mode; in (B,C,H,W). */
int nk_spp_forward(float *out, int32_t *argmax, const float *in, int B,
		   int C, int H, int W, const int *levels, int nlevels,
		   int mode);
/* Adds into din (B,C,H,W) the gradient for dout (B,D): in max mode all of
 * a bin's gradient goes to its argmax, in average mode it is spread
 * evenly over the bin. */
int nk_spp_backward(float *din, const float *dout, const int32_t *argmax,
		    int B, int C, int H, int W, const int *levels, int nlevels,
		    int mode);

#endif
