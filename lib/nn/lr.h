/* lr.h - learning-rate schedules. */
#ifndef NK_NN_LR_H
#define NK_NN_LR_H

#include <stddef.h>
#include <stdint.h>

/* ---- learning-rate schedules ------------------------------------------ */
enum nk_lr_kind { NK_LR_CONSTANT, NK_LR_STEP, NK_LR_COSINE, NK_LR_LINEAR };
typedef struct nk_lr_schedule {
	int kind;
	float base_lr;
	int64_t warmup;      /* linear warmup steps (all kinds) */
	int64_t step_size;   /* NK_LR_STEP: multiply by gamma every step_size */
	float gamma;
	int64_t total_steps; /* COSINE, LINEAR: decay to min_lr at total_steps */
	float min_lr;
} nk_lr_schedule;
float nk_lr_at(const nk_lr_schedule *s, int64_t step);
/* "constant", "step", "cosine", "linear"; -1 / NULL for unknown. */
int nk_lr_kind_from_name(const char *name);
const char *nk_lr_kind_name(int kind);

#endif
