/* embedding.c - a lookup table: row ids[n] of wte becomes row n of out. */
#include "nn/embedding.h"

#include <string.h>

/* out (N,C) = wte (V,C) [ids (N)].  ids are trusted: callers check them
 * against V where they come from input. */
void nk_embedding_forward(float *out, const uint32_t *ids, const float *wte,
			  int N, int C)
{
	for (int n = 0; n < N; n++)
		memcpy(out + (size_t)n * C, wte + (size_t)ids[n] * C,
		       (size_t)C * sizeof *out);
}

/* dwte[ids[n]] += dout[n].  Rows are visited in order n = 0..N-1, so an id
 * that repeats accumulates in one fixed order (no threads: scattered adds
 * into shared rows would race). */
void nk_embedding_backward(float *dwte, const float *dout,
			   const uint32_t *ids, int N, int C)
{
	if (!dwte)
		return;
	for (int n = 0; n < N; n++) {
		float *d = dwte + (size_t)ids[n] * C;
		const float *g = dout + (size_t)n * C;
		for (int c = 0; c < C; c++)
			d[c] += g[c];
	}
}
