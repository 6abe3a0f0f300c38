/* lr.c - learning-rate schedules: constant, step, cosine and linear decay,
 * each after an optional linear warmup.
 *
 * Steps count from 0.  During warmup (step < warmup) the rate climbs
 * linearly: base_lr * (step + 1) / warmup, reaching base_lr at the last
 * warmup step.  After it, with s = step - warmup:
 *   NK_LR_CONSTANT  base_lr
 *   NK_LR_STEP      base_lr * gamma^floor(s / step_size)   (torch StepLR)
 *   NK_LR_COSINE    min_lr + (base_lr - min_lr) (1 + cos(pi s / S)) / 2,
 *                   S = total_steps - warmup; min_lr from s >= S on
 *                   (torch CosineAnnealingLR with T_max = S, eta_min).
 *   NK_LR_LINEAR    min_lr + (base_lr - min_lr) (S - s) / S, S as above;
 *                   min_lr from s >= S on (BERT's and HuggingFace's
 *                   get_linear_schedule_with_warmup, with min_lr 0).
 */
#include "nn/lr.h"

#include <string.h>

#include <math.h>

float nk_lr_at(const nk_lr_schedule *s, int64_t step)
{
	if (step < 0)
		step = 0;
	if (step < s->warmup)
		return (float)((double)s->base_lr * (double)(step + 1) / (double)s->warmup);
	int64_t k = step - (s->warmup > 0 ? s->warmup : 0);
	switch (s->kind) {
	case NK_LR_STEP:
		if (s->step_size <= 0)
			return s->base_lr;
		return (float)(s->base_lr * pow(s->gamma, (double)(k / s->step_size)));
	case NK_LR_COSINE: {
		int64_t S = s->total_steps - (s->warmup > 0 ? s->warmup : 0);
		if (S <= 0 || k >= S)
			return s->min_lr;
		double c = 0.5 * (1.0 + cos(M_PI * (double)k / (double)S));
		return (float)(s->min_lr + (s->base_lr - s->min_lr) * c);
	}
	case NK_LR_LINEAR: {
		int64_t S = s->total_steps - (s->warmup > 0 ? s->warmup : 0);
		if (S <= 0 || k >= S)
			return s->min_lr;
		return (float)(s->min_lr + (double)(s->base_lr - s->min_lr) *
			       (double)(S - k) / (double)S);
	}
	default:
		return s->base_lr;
	}
}

/* The names, in enum nk_lr_kind order, that options and files use. */
static const char *lr_names[] = {"constant", "step", "cosine", "linear"};
_Static_assert(sizeof lr_names / sizeof *lr_names == NK_LR_LINEAR + 1,
	       "a name for every schedule");

int nk_lr_kind_from_name(const char *name)
{
	for (int i = 0; i < (int)(sizeof lr_names / sizeof *lr_names); i++)
		if (strcmp(name, lr_names[i]) == 0)
			return i;
	return -1;
}

const char *nk_lr_kind_name(int kind)
{
	if (kind < 0 || kind >= (int)(sizeof lr_names / sizeof *lr_names))
		return NULL;
	return lr_names[kind];
}
