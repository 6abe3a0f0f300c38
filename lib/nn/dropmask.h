/* dropmask.h - dropout masks from a counter-based hash: element i of a
 * mask keyed by a 64-bit key is a pure function of (key, i).
 *
 * A layer can so apply dropout in the same pass as its bias or residual
 * add, and its backward (or a checkpointed recompute) rebuilds the mask
 * instead of storing it.  The hash is murmur3's 32-bit finalizer applied
 * twice around the index's high word; 24 bits of it are compared with
 * p * 2^24 (keep when not below), so P(keep) = 1 - p to 2^-24.
 * NK_VW elements at a time, the same bits on any thread.
 */
#ifndef NK_NN_DROPMASK_H
#define NK_NN_DROPMASK_H

#include <stddef.h>
#include <stdint.h>

#include "nn/vmath.h"

typedef uint32_t nk_vu __attribute__((vector_size(NK_VW * 4), aligned(4)));

typedef struct nk_dropmask {
	uint32_t k0, k1;  /* the key */
	uint32_t thr;     /* p * 2^24 */
	float keep;       /* 1 / (1 - p) */
} nk_dropmask;

static inline nk_dropmask nk_dropmask_make(uint64_t key, float p)
{
	nk_dropmask d;
	d.k0 = (uint32_t)key;
	d.k1 = (uint32_t)(key >> 32);
	d.thr = (uint32_t)(p * 16777216.0f);
	d.keep = 1.0f / (1.0f - p);
	return d;
}

static inline nk_vu nk_fmix32v(nk_vu h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The mask of elements i0 .. i0 + NK_VW - 1: keep or 0 in each lane. */
static inline nk_vf nk_dropmask_v(const nk_dropmask *d, uint64_t i0)
{
	nk_vu lane;
	for (int k = 0; k < NK_VW; k++)
		lane[k] = (uint32_t)k;
	uint32_t lo0 = (uint32_t)i0, hi0 = (uint32_t)(i0 >> 32);
	nk_vu lo = lane + lo0;
	nk_vu hi = (nk_vu)((nk_vu){0} + hi0) - (nk_vu)(lo < lo0); /* carry */
	nk_vu h = nk_fmix32v(lo + d->k0);
	h = nk_fmix32v(h ^ (hi * 0x9e3779b9u + d->k1));
	return nk_vsel((nk_vi)((h >> 8) >= d->thr), nk_vsplat(d->keep),
		       nk_vsplat(0.0f));
}

/* out[i] = in[i] * mask(i0 + i) for i < n; out may be in. */
static inline void nk_dropmask_apply(float *out, const float *in, size_t n,
				     const nk_dropmask *d, uint64_t i0)
{
	for (size_t i = 0; i < n; i += NK_VW) {
		int w = n - i < NK_VW ? (int)(n - i) : NK_VW;
		nk_vstore_n(out + i, nk_vload_n(in + i, w) *
					     nk_dropmask_v(d, i0 + i), w);
	}
}

#endif
