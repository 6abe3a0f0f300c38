/* test_rng.c - the generator repeats for a seed and is statistically sane. */
#include <math.h>

#include "check.h"
#include "core/rng.h"

TEST(rng_same_seed_same_stream)
{
	nk_rng a, b, c, d;
	nk_rng_seed(&a, 1234, 0);
	nk_rng_seed(&b, 1234, 0);
	nk_rng_seed(&c, 1234, 1);
	nk_rng_seed(&d, 1235, 0);
	int same_c = 0, same_d = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = nk_rng_u64(&a);
		CHECK(x == nk_rng_u64(&b));
		same_c += x == nk_rng_u64(&c);
		same_d += x == nk_rng_u64(&d);
	}
	CHECK(same_c == 0 && same_d == 0);
}

TEST(rng_known_answer)
{
	/* Pins the sequence: models trained with a seed must come out the same
	 * after any refactoring of the generator. */
	nk_rng r;
	nk_rng_seed(&r, 0, 0);
	uint64_t first = nk_rng_u64(&r);
	nk_rng_seed(&r, 0, 0);
	CHECK(first == nk_rng_u64(&r));
	CHECK_MSG(first == 0xfb5405f7bd79c540ULL, "first value %#llx",
		  (unsigned long long)first);
}

TEST(rng_below_is_uniform)
{
	nk_rng r;
	nk_rng_seed(&r, 7, 0);
	enum { K = 10, N = 100000 };
	int count[K] = {0};
	for (int i = 0; i < N; i++) {
		uint64_t x = nk_rng_below(&r, K);
		CHECK(x < K);
		count[x]++;
	}
	double chi2 = 0, e = (double)N / K;
	for (int k = 0; k < K; k++)
		chi2 += (count[k] - e) * (count[k] - e) / e;
	CHECK_MSG(chi2 < 27.9, "chi2 %.1f over 9 dof (p = 0.001 cut)", chi2);
	CHECK(nk_rng_below(&r, 1) == 0);
	uint64_t big = UINT64_MAX - 5;
	CHECK(nk_rng_below(&r, big) < big);
}

TEST(rng_float_and_normal)
{
	nk_rng r;
	nk_rng_seed(&r, 9, 3);
	double s = 0, s2 = 0;
	enum { N = 200000 };
	for (int i = 0; i < N; i++) {
		float f = nk_rng_float(&r);
		CHECK(f >= 0.0f && f < 1.0f);
		double z = nk_rng_normal(&r);
		CHECK(isfinite(z));
		s += z, s2 += z * z;
	}
	double mean = s / N, var = s2 / N - mean * mean;
	CHECK_MSG(fabs(mean) < 0.01 && fabs(var - 1) < 0.02, "mean %g var %g",
		  mean, var);
}

TEST(rng_shuffle_is_permutation)
{
	nk_rng r;
	nk_rng_seed(&r, 5, 0);
	uint32_t a[100], seen[100] = {0};
	for (int i = 0; i < 100; i++)
		a[i] = (uint32_t)i;
	nk_rng_shuffle_u32(&r, a, 100);
	int moved = 0;
	for (int i = 0; i < 100; i++) {
		CHECK(a[i] < 100);
		seen[a[i]]++;
		moved += a[i] != (uint32_t)i;
	}
	for (int i = 0; i < 100; i++)
		CHECK(seen[i] == 1);
	CHECK(moved > 50);
}

int main(void)
{
	RUN(rng_same_seed_same_stream);
	RUN(rng_known_answer);
	RUN(rng_below_is_uniform);
	RUN(rng_float_and_normal);
	RUN(rng_shuffle_is_permutation);
	return nk_test_exit();
}
