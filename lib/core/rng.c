/* rng.c - xoshiro256** with splitmix64 seeding. */
#include "core/rng.h"

#include <math.h>

void nk_rng_seed(nk_rng *r, uint64_t seed, uint64_t stream)
{
	/* Streams are seeded from distinct splitmix64 sequences; the state
	 * can never be all zero because splitmix64 is a bijection walked
	 * over four consecutive counters. */
	uint64_t x = nk_mix64(seed) ^ nk_mix64(stream + 0x9e3779b97f4a7c15ULL);
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		r->s[i] = nk_mix64(x);
	}
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t nk_rng_u64(nk_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint32_t nk_rng_u32(nk_rng *r)
{
	return (uint32_t)(nk_rng_u64(r) >> 32);
}

uint64_t nk_rng_below(nk_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)nk_rng_u64(r) * n;
	uint64_t low = (uint64_t)m;
	if (low < n) {
		uint64_t threshold = -n % n;
		while (low < threshold) {
			m = (unsigned __int128)nk_rng_u64(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

float nk_rng_float(nk_rng *r)
{
	return (float)(nk_rng_u64(r) >> 40) * 0x1.0p-24f;
}

double nk_rng_double(nk_rng *r)
{
	return (double)(nk_rng_u64(r) >> 11) * 0x1.0p-53;
}

double nk_rng_normal(nk_rng *r)
{
	/* 1 - u keeps the log's argument in (0, 1]. */
	double u1 = 1.0 - nk_rng_double(r), u2 = nk_rng_double(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void nk_rng_shuffle_u32(nk_rng *r, uint32_t *a, uint64_t n)
{
	for (uint64_t i = n; i > 1; i--) {
		uint64_t j = nk_rng_below(r, i);
		uint32_t tmp = a[i - 1];
		a[i - 1] = a[j];
		a[j] = tmp;
	}
}
