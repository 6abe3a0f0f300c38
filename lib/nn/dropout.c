/* dropout.c - inverted dropout: kept elements are scaled by 1/(1-p) in
 * training, so inference uses the layer's input unchanged. */
#include "nn/dropout.h"

#include <string.h>

/* The mask is cut into a fixed number of chunks, each drawn from its own
 * stream seeded by one draw of the caller's generator: threads can share
 * the chunks out, and the mask depends on the seed only, never on the
 * thread count.  Each call advances `rng` by exactly one draw. */
enum { CHUNKS = 64 };

/* out (n) = in * mask, mask[i] = 1/(1-p) with probability 1-p, else 0.
 * p <= 0 copies (mask all 1, no draw); p >= 1 zeroes.  out may be in. */
void nk_dropout_forward(float *out, float *mask, const float *in, float p,
			size_t n, nk_rng *rng)
{
	if (p <= 0.0f) {
		for (size_t i = 0; i < n; i++)
			mask[i] = 1.0f;
		if (out != in)
			memmove(out, in, n * sizeof *out);
		return;
	}
	float keep = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
	uint64_t seed = nk_rng_u64(rng);
#pragma omp parallel for schedule(static) if (n >= 65536)
	for (int k = 0; k < CHUNKS; k++) {
		size_t i0 = n / CHUNKS * k, i1 = k == CHUNKS - 1 ? n : i0 + n / CHUNKS;
		nk_rng r;
		nk_rng_seed(&r, seed, (uint64_t)k);
		for (size_t i = i0; i < i1; i++) {
			mask[i] = nk_rng_float(&r) >= p ? keep : 0.0f;
			out[i] = in[i] * mask[i];
		}
	}
}

/* din (n) += dout * mask. */
void nk_dropout_backward(float *din, const float *dout, const float *mask,
			 size_t n)
{
	ptrdiff_t m = (ptrdiff_t)n;
#pragma omp parallel for simd schedule(static) if (m >= 65536)
	for (ptrdiff_t i = 0; i < m; i++)
		din[i] += dout[i] * mask[i];
}
