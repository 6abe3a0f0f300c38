/* test_optim.c - Adam/AdamW and SGD against steps computed by hand,
 * gradient clipping against a direct norm, learning-rate schedules at
 * chosen steps. */
#include <math.h>
#include <omp.h>

#include "check.h"
#include "core/base.h"
#include "nn/optim.h"
#include "nn/lr.h"

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol * (1 + fabs(b));
}

TEST(adam_matches_hand_computed_steps)
{
	/* Two parameters, three steps, the update rule written out in double. */
	float p[2] = {1.0f, -0.5f};
	const float g[3][2] = {{0.1f, -2.0f}, {0.3f, 0.5f}, {-0.2f, 1.0f}};
	double q[2] = {1.0, -0.5}, m[2] = {0}, v[2] = {0};
	const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
	nk_adam a;
	CHECK(nk_adam_init(&a, 2, (float)lr, (float)b1, (float)b2, (float)eps, 0) == 0);
	for (int t = 1; t <= 3; t++) {
		nk_adam_step(&a, p, g[t - 1], (float)lr);
		for (int i = 0; i < 2; i++) {
			m[i] = b1 * m[i] + (1 - b1) * g[t - 1][i];
			v[i] = b2 * v[i] + (1 - b2) * g[t - 1][i] * g[t - 1][i];
			double mh = m[i] / (1 - pow(b1, t)), vh = v[i] / (1 - pow(b2, t));
			q[i] -= lr * mh / (sqrt(vh) + eps);
			CHECK_MSG(near(p[i], q[i], 1e-6), "step %d p[%d] = %.9g, want %.9g",
				  t, i, p[i], q[i]);
		}
	}
	CHECK(a.t == 3);
	/* The first step moves each parameter by lr against its gradient's
	 * sign (m/sqrt(v) = sign(g) after bias correction). */
	float r[2] = {0, 0};
	const float gr[2] = {5.0f, -1e-3f};
	nk_adam b;
	nk_adam_init(&b, 2, 0.1f, 0.9f, 0.999f, 1e-12f, 0);
	nk_adam_step(&b, r, gr, 0.1f);
	CHECK(near(r[0], -0.1, 1e-5) && near(r[1], 0.1, 1e-5));
	nk_adam_free(&a);
	nk_adam_free(&b);
}

TEST(adamw_decoupled_weight_decay)
{
	/* A zero gradient: AdamW still shrinks p by (1 - lr wd) per step;
	 * m and v stay 0 so nothing else moves. */
	float p[3] = {2.0f, -1.0f, 0.0f};
	const float g[3] = {0, 0, 0};
	nk_adam a;
	nk_adam_init(&a, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f);
	nk_adam_step(&a, p, g, 0.1f);
	nk_adam_step(&a, p, g, 0.05f); /* the lr argument is this step's */
	CHECK(near(p[0], 2.0 * 0.95 * 0.975, 1e-6));
	CHECK(near(p[1], -1.0 * 0.95 * 0.975, 1e-6));
	CHECK(p[2] == 0.0f);
	/* ndecay: only the first entries decay (biases and scales after). */
	float d[3] = {2.0f, 2.0f, 2.0f};
	nk_adam c;
	nk_adam_init(&c, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f);
	c.ndecay = 1;
	nk_adam_step(&c, d, g, 0.1f);
	CHECK(near(d[0], 2.0 * 0.95, 1e-6));
	CHECK(d[1] == 2.0f && d[2] == 2.0f);
	nk_adam_free(&c);
	/* With a gradient: decay first, then the Adam step. */
	float q = 1.0f;
	const float gq = 0.5f;
	nk_adam b;
	nk_adam_init(&b, 1, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f);
	nk_adam_step(&b, &q, &gq, 0.01f);
	CHECK_MSG(near(q, 1.0 * (1 - 0.01 * 0.1) - 0.01, 1e-6), "q = %.9g", q);
	nk_adam_free(&a);
	nk_adam_free(&b);
	/* Nonsense hyperparameters are refused. */
	CHECK(nk_adam_init(&a, 1, 0.1f, 1.0f, 0.999f, 1e-8f, 0) == NK_EINVAL);
	CHECK(nk_adam_init(&a, 1, NAN, 0.9f, 0.999f, 1e-8f, 0) == NK_EINVAL);
}

TEST(sgd_momentum)
{
	float p[2] = {1.0f, 1.0f};
	const float g[2] = {0.5f, -1.0f};
	nk_sgd s;
	CHECK(nk_sgd_init(&s, 2, 0.1f, 0.9f, 0.0f) == 0);
	nk_sgd_step(&s, p, g, 0.1f); /* v = g */
	nk_sgd_step(&s, p, g, 0.1f); /* v = 0.9 g + g */
	CHECK(near(p[0], 1 - 0.1 * 0.5 - 0.1 * 1.9 * 0.5, 1e-6));
	CHECK(near(p[1], 1 + 0.1 + 0.1 * 1.9, 1e-6));
	nk_sgd_free(&s);
	/* Plain SGD with weight decay: p -= lr (g + wd p). */
	float q = 2.0f;
	const float gq = 1.0f;
	CHECK(nk_sgd_init(&s, 1, 0.5f, 0.0f, 0.1f) == 0);
	CHECK(s.velocity == NULL);
	nk_sgd_step(&s, &q, &gq, 0.5f);
	CHECK(near(q, 2 - 0.5 * (1 + 0.2), 1e-6));
	nk_sgd_free(&s);
}

TEST(clip_grad_norm)
{
	enum { N = 100003 };
	float *g = malloc(N * sizeof *g), *g2 = malloc(N * sizeof *g2);
	double want = 0;
	for (int i = 0; i < N; i++) {
		g[i] = (float)sin(i * 0.37) * 0.01f;
		want += (double)g[i] * g[i];
	}
	want = sqrt(want);
	memcpy(g2, g, N * sizeof *g);
	/* Below the limit: untouched. */
	double n = nk_clip_grad_norm(g, N, want * 2);
	CHECK(near(n, want, 1e-12));
	CHECK(memcmp(g, g2, N * sizeof *g) == 0);
	/* Above it: scaled to max_norm (torch's 1e-6 in the divisor). */
	n = nk_clip_grad_norm(g, N, want / 4);
	CHECK(near(n, want, 1e-12));
	double after = 0;
	for (int i = 0; i < N; i++)
		after += (double)g[i] * g[i];
	CHECK_MSG(near(sqrt(after), want / 4 * want / (want + 1e-6), 1e-6),
		  "norm after clipping %.9g, want %.9g", sqrt(after), want / 4);
	/* The same norm, bit for bit, on 1 and 2 threads. */
	omp_set_num_threads(1);
	double n1 = nk_clip_grad_norm(g2, N, 1e9);
	omp_set_num_threads(2);
	double n2 = nk_clip_grad_norm(g2, N, 1e9);
	CHECK(memcmp(&n1, &n2, sizeof n1) == 0);
	/* Tiny arrays and zero gradients. */
	float z[3] = {0, 0, 0}, one[1] = {3.0f};
	CHECK(nk_clip_grad_norm(z, 3, 1.0) == 0.0 && z[0] == 0.0f);
	CHECK(nk_clip_grad_norm(one, 1, 1.0) == 3.0 && near(one[0], 1.0, 1e-6));
	free(g), free(g2);
}

TEST(lr_schedules)
{
	nk_lr_schedule c = {.kind = NK_LR_CONSTANT, .base_lr = 0.1f};
	CHECK(nk_lr_at(&c, 0) == 0.1f && nk_lr_at(&c, 1000000) == 0.1f);
	c.warmup = 4;
	CHECK(near(nk_lr_at(&c, 0), 0.025, 1e-7) && near(nk_lr_at(&c, 1), 0.05, 1e-7));
	CHECK(near(nk_lr_at(&c, 3), 0.1, 1e-7) && nk_lr_at(&c, 4) == 0.1f);

	nk_lr_schedule s = {.kind = NK_LR_STEP, .base_lr = 1.0f, .step_size = 10,
			    .gamma = 0.5f};
	CHECK(nk_lr_at(&s, 0) == 1.0f && nk_lr_at(&s, 9) == 1.0f);
	CHECK(nk_lr_at(&s, 10) == 0.5f && nk_lr_at(&s, 19) == 0.5f);
	CHECK(nk_lr_at(&s, 35) == 0.125f);
	s.warmup = 5; /* decays count from the end of warmup */
	CHECK(near(nk_lr_at(&s, 0), 0.2, 1e-7) && nk_lr_at(&s, 14) == 1.0f &&
	      nk_lr_at(&s, 15) == 0.5f);

	nk_lr_schedule k = {.kind = NK_LR_COSINE, .base_lr = 1.0f, .warmup = 10,
			    .total_steps = 110, .min_lr = 0.1f};
	CHECK(near(nk_lr_at(&k, 4), 0.5, 1e-7));
	CHECK(near(nk_lr_at(&k, 10), 1.0, 1e-7));
	CHECK(near(nk_lr_at(&k, 60), 0.55, 1e-6));             /* half way */
	CHECK(near(nk_lr_at(&k, 35), 0.1 + 0.9 * (1 + cos(M_PI / 4)) / 2, 1e-6));
	CHECK(near(nk_lr_at(&k, 110), 0.1, 1e-7) && near(nk_lr_at(&k, 5000), 0.1, 1e-7));
	/* Monotone after warmup. */
	for (int64_t t = 11; t < 120; t++)
		CHECK(nk_lr_at(&k, t) <= nk_lr_at(&k, t - 1));

	/* Linear decay: HuggingFace's get_linear_schedule_with_warmup(opt,
	 * 10, 110) gives 1.0 * (110 - s) / 100 after warmup. */
	nk_lr_schedule l = {.kind = NK_LR_LINEAR, .base_lr = 1.0f, .warmup = 10,
			    .total_steps = 110};
	CHECK(near(nk_lr_at(&l, 10), 1.0, 1e-7) && near(nk_lr_at(&l, 60), 0.5, 1e-7));
	CHECK(near(nk_lr_at(&l, 85), 0.25, 1e-7) && nk_lr_at(&l, 110) == 0.0f);
	l.min_lr = 0.2f;
	CHECK(near(nk_lr_at(&l, 60), 0.6, 1e-7) && near(nk_lr_at(&l, 500), 0.2, 1e-7));
	CHECK(nk_lr_kind_from_name("linear") == NK_LR_LINEAR &&
	      strcmp(nk_lr_kind_name(NK_LR_LINEAR), "linear") == 0);
}

int main(void)
{
	RUN(adam_matches_hand_computed_steps);
	RUN(adamw_decoupled_weight_decay);
	RUN(sgd_momentum);
	RUN(clip_grad_norm);
	RUN(lr_schedules);
	return nk_test_exit();
}
