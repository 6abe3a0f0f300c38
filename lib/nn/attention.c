/* attention.c - scaled dot-product self-attention over A heads with a key
 * padding mask and dropout on the probabilities.
 *
 * The dropout mask of P's element (b, a, i, j) is dropmask.h's hash of
 * ((b*A + a)*T + i)*T + j under the key `seed`.
 *
 * Each (row, head) pair is an independent task of four small products
 * (T x T x D); the tasks are shared among threads and each product runs
 * through nk_sgemm on its own thread (the strides of qkv pick a head's
 * columns, no copies).  Every task computes the same bits whoever runs
 * it, so results do not depend on the thread count.
 */
#include "nn/attention.h"
#include "nn/dropmask.h"
#include "nn/vmath.h"
#include "core/gemm.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

/* p[0..n) = softmax(p[0..n)) in place, vectorized; max first so exp never
 * overflows, the sum in float lanes then added in a fixed order. */
static void softmax_inplace(float *x, int n)
{
	nk_vf mv = nk_vsplat(-INFINITY);
	int j = 0;
	for (; j + NK_VW <= n; j += NK_VW) {
		nk_vf v = nk_vload(x + j);
		mv = nk_vsel(v > mv, v, mv);
	}
	float mx = -INFINITY;
	for (int k = 0; k < NK_VW; k++)
		mx = mv[k] > mx ? mv[k] : mx;
	for (; j < n; j++)
		mx = x[j] > mx ? x[j] : mx;
	nk_vf sv = {0};
	for (j = 0; j < n; j += NK_VW) {
		int w = n - j < NK_VW ? n - j : NK_VW;
		nk_vf e = nk_vexpf(nk_vload_n(x + j, w) - mx);
		if (w < NK_VW)
			for (int k = w; k < NK_VW; k++)
				e[k] = 0;
		sv += e;
		nk_vstore_n(x + j, e, w);
	}
	float s = 0;
	for (int k = 0; k < NK_VW; k++)
		s += sv[k];
	float inv = 1.0f / s;
	for (j = 0; j < n; j++)
		x[j] *= inv;
}

float nk_alibi_slope(int a, int A)
{
	if (A < 8)
		return exp2f(-1.0f - 8.0f * (float)a / (float)A);
	int n = 1;
	while (2 * n <= A)
		n *= 2;
	if (a < n)
		return exp2f(-8.0f * (float)(a + 1) / (float)n);
	/* The rest: the odd-numbered of 2n's slopes, 2^(-8(2k+1)/2n). */
	return exp2f(-8.0f * (float)(2 * (a - n) + 1) / (float)(2 * n));
}

/* P[i][j] -= m |i - j| over the n x n valid block (row stride T). */
static void alibi_penalty(float *P, int n, int T, float m)
{
	for (int i = 0; i < n; i++) {
		float *row = P + (size_t)i * T;
		for (int j = 0; j < n; j++)
			row[j] -= m * (float)(i > j ? i - j : j - i);
	}
}

void nk_attention_forward(float *out, float *att, float *scratch,
			  const float *qkv, const int *lengths, int B, int T,
			  int H, int A, int alibi, float p, uint64_t seed)
{
	int D = H / A, ld = 3 * H;
	float scale = 1.0f / sqrtf((float)D);
	nk_dropmask dm = nk_dropmask_make(seed, p);
	size_t TT = (size_t)T * T;
#pragma omp parallel for schedule(dynamic, 1) if ((double)B * T * T * H >= 1 << 20)
	for (int ba = 0; ba < B * A; ba++) {
		int b = ba / A, a = ba % A, n = lengths[b];
		const float *q = qkv + (size_t)b * T * ld + (size_t)a * D;
		const float *k = q + H, *v = q + 2 * H;
		float *P = att + (size_t)ba * TT;
		float *o = out + (size_t)b * T * H + (size_t)a * D;
		/* P is (T,T) with row stride T; only [0,n) x [0,n) is used. */
		nk_sgemm(0, 1, n, n, D, scale, q, ld, k, ld, 0.0f, P, T);
		if (alibi)
			alibi_penalty(P, n, T, nk_alibi_slope(a, A));
		for (int i = 0; i < n; i++) {
			softmax_inplace(P + (size_t)i * T, n);
			memset(P + (size_t)i * T + n, 0,
			       (size_t)(T - n) * sizeof *P);
		}
		if (n < T)
			memset(P + (size_t)n * T, 0,
			       (size_t)(T - n) * T * sizeof *P);
		const float *Pd = P;
		if (p > 0) {
			float *S = scratch + (size_t)ba * TT;
			for (int i = 0; i < n; i++)
				nk_dropmask_apply(S + (size_t)i * T,
						  P + (size_t)i * T, (size_t)n, &dm,
						  ((uint64_t)ba * T + i) * T);
			Pd = S;
		}
		nk_sgemm(0, 0, n, D, n, 1.0f, Pd, T, v, ld, 0.0f, o, H);
		for (int i = n; i < T; i++)
			memset(o + (size_t)i * H, 0, (size_t)D * sizeof *o);
	}
}

/* With Pd = dropout(P):
 *   dV += Pd^T dO;  dPd = dO V^T;  dP = dPd * mask;
 *   dS = P * (dP - rowsum(dP * P)) / sqrt(D);
 *   dQ += dS K;  dK += dS^T Q. */
void nk_attention_backward(float *dqkv, float *scratch, const float *dout,
			   const float *qkv, const float *att,
			   const int *lengths, int B, int T, int H, int A,
			   float p, uint64_t seed)
{
	int D = H / A, ld = 3 * H;
	float scale = 1.0f / sqrtf((float)D);
	nk_dropmask dm = nk_dropmask_make(seed, p);
	size_t TT = (size_t)T * T;
#pragma omp parallel for schedule(dynamic, 1) if ((double)B * T * T * H >= 1 << 20)
	for (int ba = 0; ba < B * A; ba++) {
		int b = ba / A, a = ba % A, n = lengths[b];
		size_t off = (size_t)b * T * ld + (size_t)a * D;
		const float *q = qkv + off, *k = q + H, *v = q + 2 * H;
		float *dq = dqkv + off, *dk = dq + H, *dv = dq + 2 * H;
		const float *P = att + (size_t)ba * TT;
		const float *dO = dout + (size_t)b * T * H + (size_t)a * D;
		float *S = scratch + (size_t)ba * TT;
		if (p > 0) {
			/* Pd into S for dV, then S is reused for dP. */
			for (int i = 0; i < n; i++)
				nk_dropmask_apply(S + (size_t)i * T,
						  P + (size_t)i * T, (size_t)n, &dm,
						  ((uint64_t)ba * T + i) * T);
			nk_sgemm(1, 0, n, D, n, 1.0f, S, T, dO, H, 1.0f, dv, ld);
		} else {
			nk_sgemm(1, 0, n, D, n, 1.0f, P, T, dO, H, 1.0f, dv, ld);
		}
		nk_sgemm(0, 1, n, n, D, 1.0f, dO, H, v, ld, 0.0f, S, T);
		for (int i = 0; i < n; i++) {
			float *s = S + (size_t)i * T;
			const float *pr = P + (size_t)i * T;
			if (p > 0) /* dP = dPd * mask */
				nk_dropmask_apply(s, s, (size_t)n, &dm,
						  ((uint64_t)ba * T + i) * T);
			float dot = 0;
			for (int j = 0; j < n; j++)
				dot += s[j] * pr[j];
			for (int j = 0; j < n; j++)
				s[j] = pr[j] * (s[j] - dot) * scale;
		}
		nk_sgemm(0, 0, n, D, n, 1.0f, S, T, k, ld, 1.0f, dq, ld);
		nk_sgemm(1, 0, n, D, n, 1.0f, S, T, q, ld, 1.0f, dk, ld);
	}
}
