/* rng.h - a seedable random generator with independent streams.
 *
 * xoshiro256** (Blackman & Vigna) seeded through splitmix64 from a seed and
 * a stream number.  Threads each take their own stream (stream = thread
 * index), so results depend on the seed and the thread count, never on how
 * the scheduler interleaves threads.
 */
#ifndef NK_RNG_H
#define NK_RNG_H

#include <stdint.h>

typedef struct nk_rng {
	uint64_t s[4];
} nk_rng;

void nk_rng_seed(nk_rng *r, uint64_t seed, uint64_t stream);
uint64_t nk_rng_u64(nk_rng *r);
uint32_t nk_rng_u32(nk_rng *r);
/* Uniform in [0, n) without modulo bias (Lemire's method); n > 0. */
uint64_t nk_rng_below(nk_rng *r, uint64_t n);
/* Uniform float in [0, 1), 24 random bits. */
float nk_rng_float(nk_rng *r);
/* Uniform double in [0, 1), 53 random bits. */
double nk_rng_double(nk_rng *r);
/* Standard normal (Box-Muller; one value per call, deterministic). */
double nk_rng_normal(nk_rng *r);
/* Fisher-Yates shuffle of n 32-bit values. */
void nk_rng_shuffle_u32(nk_rng *r, uint32_t *a, uint64_t n);
/* splitmix64's mixer: a good 64-bit hash for seeding and hash tables. */
static inline uint64_t nk_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
