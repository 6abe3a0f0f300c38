/* vmath.h - vector exp, sigmoid and tanh that the layers share. */
#ifndef NK_NN_VMATH_H
#define NK_NN_VMATH_H

#include <stdint.h>

/* ---- elementwise math the layers share --------------------------------
 * exp, sigmoid and tanh on GCC vectors of NK_VW floats (libm's scalar calls
 * would dominate an LSTM step): Cody-Waite reduction and Cephes' degree-5
 * polynomial, about 2 ulp for exp; tanh within 1e-7 absolute.  Layers
 * walk a row NK_VW floats at a time, the tail through nk_vload_n and
 * nk_vstore_n, so every element goes through the same instructions; the
 * scalar forms are lane 0 of the vector ones. */
#if defined(__AVX512F__)
#define NK_VW 16
#elif defined(__AVX__)
#define NK_VW 8
#else
#define NK_VW 4
#endif
typedef float nk_vf __attribute__((vector_size(NK_VW * 4), aligned(4)));
typedef int32_t nk_vi __attribute__((vector_size(NK_VW * 4), aligned(4)));

/* x in every lane (x - 0 keeps the sign of -0; 0 + x would not). */
static inline nk_vf nk_vsplat(float x)
{
	return x - (nk_vf){0};
}
/* m ? a : b, lane by lane; m from a vector comparison (0 or -1). */
static inline nk_vf nk_vsel(nk_vi m, nk_vf a, nk_vf b)
{
	return (nk_vf)((m & (nk_vi)a) | (~m & (nk_vi)b));
}
static inline nk_vf nk_vload(const float *p)
{
	nk_vf v;
	__builtin_memcpy(&v, p, sizeof v);
	return v;
}
static inline void nk_vstore(float *p, nk_vf v)
{
	__builtin_memcpy(p, &v, sizeof v);
}
/* The first n lanes (n <= NK_VW; less at a row's tail, the rest zero). */
static inline nk_vf nk_vload_n(const float *p, int n)
{
	if (n == NK_VW)
		return nk_vload(p);
	nk_vf v = {0};
	__builtin_memcpy(&v, p, (size_t)n * sizeof(float));
	return v;
}
static inline void nk_vstore_n(float *p, nk_vf v, int n)
{
	if (n == NK_VW)
		nk_vstore(p, v);
	else
		__builtin_memcpy(p, &v, (size_t)n * sizeof(float));
}
static inline nk_vf nk_vexpf(nk_vf x)
{
	x = nk_vsel(x < -87.0f, nk_vsplat(-87.0f), x);
	x = nk_vsel(x > 88.0f, nk_vsplat(88.0f), x);
	nk_vf z = x * 1.44269504089f;
	nk_vf half = nk_vsel(z < 0.0f, nk_vsplat(-0.5f), nk_vsplat(0.5f));
	nk_vi ki = __builtin_convertvector(z + half, nk_vi); /* round */
	nk_vf k = __builtin_convertvector(ki, nk_vf);
	nk_vf r = x - k * 0.693359375f;
	r = r - k * -2.12194440e-4f;
	nk_vf p = nk_vsplat(1.9875691500e-4f);
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	return p * (nk_vf)((ki + 127) << 23);
}
static inline nk_vf nk_vsigmoidf(nk_vf x)
{
	return 1.0f / (1.0f + nk_vexpf(-x));
}
static inline nk_vf nk_vtanhf(nk_vf x)
{
	nk_vi signbit = (nk_vi){0} + INT32_MIN;
	nk_vi sign = (nk_vi)x & signbit;
	nk_vf e = nk_vexpf((nk_vf)((nk_vi)x | signbit) * 2.0f); /* -2|x| */
	nk_vf t = (1.0f - e) / (1.0f + e);
	return (nk_vf)((nk_vi)t | sign);
}
static inline float nk_expf(float x)
{
	return nk_vexpf(nk_vsplat(x))[0];
}
static inline float nk_sigmoidf(float x)
{
	return nk_vsigmoidf(nk_vsplat(x))[0];
}
static inline float nk_tanhf(float x)
{
	return nk_vtanhf(nk_vsplat(x))[0];
}

#endif
