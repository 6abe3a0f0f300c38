/* activation.c - darknet's pointwise activations, forward in place and
 * backward, on the vector math of vmath.h (exp is most of mish's and
 * silu's time, and libm's scalar expf would not vectorize). */
#include "nn/activation.h"
#include "nn/vmath.h"

#include <string.h>

static const char *const act_names[] = {
	[NK_ACT_LINEAR] = "linear",
	[NK_ACT_LEAKY] = "leaky",
	[NK_ACT_RELU] = "relu",
	[NK_ACT_LOGISTIC] = "logistic",
	[NK_ACT_MISH] = "mish",
	[NK_ACT_SILU] = "silu",
};
_Static_assert(sizeof act_names / sizeof act_names[0] == NK_ACT_COUNT,
	       "an activation without its name");

int nk_act_from_name(const char *name)
{
	for (int a = 0; a < NK_ACT_COUNT; a++)
		if (strcmp(name, act_names[a]) == 0)
			return a;
	if (strcmp(name, "swish") == 0)
		return NK_ACT_SILU;
	return -1;
}

const char *nk_act_name(nk_act a)
{
	return (unsigned)a < NK_ACT_COUNT ? act_names[a] : "?";
}

int nk_act_backward_needs_input(nk_act a)
{
	return a == NK_ACT_MISH || a == NK_ACT_SILU;
}

/* tanh(softplus(x)) = ((1 + e)^2 - 1) / ((1 + e)^2 + 1) with e = exp(x),
 * = n / (n + 2) with n = e * (e + 2): no log, and exact in relative terms
 * for very negative x, where softplus(x) ~ e.  Above 20 it is 1 in float
 * (and e^2 would overflow above 44). */
static inline nk_vf tanh_softplus(nk_vf x)
{
	nk_vf e = nk_vexpf(x);
	nk_vf n = e * (e + 2.0f);
	return nk_vsel(x > 20.0f, nk_vsplat(1.0f), n / (n + 2.0f));
}

static inline nk_vf act_v(nk_vf x, nk_act a)
{
	switch (a) {
	case NK_ACT_LEAKY:
		return nk_vsel(x > 0.0f, x, x * 0.1f);
	case NK_ACT_RELU:
		return nk_vsel(x > 0.0f, x, nk_vsplat(0.0f));
	case NK_ACT_LOGISTIC:
		return nk_vsigmoidf(x);
	case NK_ACT_MISH:
		return x * tanh_softplus(x);
	case NK_ACT_SILU:
		return x * nk_vsigmoidf(x);
	default:
		return x;
	}
}

/* f'(.) from y (linear, leaky, relu, logistic) or x (mish, silu). */
static inline nk_vf grad_v(nk_vf v, nk_act a)
{
	switch (a) {
	case NK_ACT_LEAKY:
		return nk_vsel(v > 0.0f, nk_vsplat(1.0f), nk_vsplat(0.1f));
	case NK_ACT_RELU:
		return nk_vsel(v > 0.0f, nk_vsplat(1.0f), nk_vsplat(0.0f));
	case NK_ACT_LOGISTIC:
		return v * (1.0f - v);
	case NK_ACT_MISH: {
		/* d/dx x t(sp(x)) = t + x (1 - t^2) sigmoid(x) */
		nk_vf t = tanh_softplus(v);
		return t + v * (1.0f - t * t) * nk_vsigmoidf(v);
	}
	case NK_ACT_SILU: {
		nk_vf s = nk_vsigmoidf(v);
		return s * (1.0f + v * (1.0f - s));
	}
	default:
		return nk_vsplat(1.0f);
	}
}

/* A switch per vector, not per call: the compiler hoists it out of the
 * loop (unswitching), and the code stays one loop. */
void nk_act_forward(float *x, size_t n, nk_act a)
{
	if (a == NK_ACT_LINEAR)
		return;
#pragma omp parallel for schedule(static) if (n >= (1 << 18))
	for (size_t i = 0; i < n; i += NK_VW) {
		int m = n - i < NK_VW ? (int)(n - i) : NK_VW;
		nk_vstore_n(x + i, act_v(nk_vload_n(x + i, m), a), m);
	}
}

void nk_act_backward(float *dx, const float *dy, const float *xy, size_t n,
		     nk_act a)
{
#pragma omp parallel for schedule(static) if (n >= (1 << 18))
	for (size_t i = 0; i < n; i += NK_VW) {
		int m = n - i < NK_VW ? (int)(n - i) : NK_VW;
		nk_vf d = nk_vload_n(dx + i, m) +
			  grad_v(nk_vload_n(xy + i, m), a) *
				  nk_vload_n(dy + i, m);
		nk_vstore_n(dx + i, d, m);
	}
}
