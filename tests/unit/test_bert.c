/* test_bert.c - GELU, multi-head attention and the BERT MLM model:
 * every backward against central finite differences, padding that does
 * not leak into valid positions, checkpointing that gives the same bits.
 *
 *   test_bert               the checks
 *   test_bert torch FILE    writes inputs, weights and this library's
 *                           outputs and gradients to FILE, for
 *                           tests/t_bert_torch.sh (scripts/bert_torch.py)
 *   test_bert bench [B T M] times train steps of BERT-Tiny's shape
 */
#include "check.h"
#include "core/base.h"
#include "core/rng.h"
#include "formats/wfile.h"
#include "models/bert.h"
#include "models/bert_impl.h"
#include "nn/attention.h"
#include "nn/dropmask.h"
#include "nn/gelu.h"
#include "nn/linear.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fill(float *x, size_t n, nk_rng *r, float s)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(nk_rng_normal(r) * s);
}

/* ---- GELU ---------------------------------------------------------------- */

static double gelu_ref(double x, int kind)
{
	if (kind == NK_GELU_TANH)
		return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
	return 0.5 * x * (1 + erf(x / sqrt(2)));
}

TEST(gelu)
{
	enum { N = 2001 };
	static float x[N], y[N], d[N], g[N];
	for (int i = 0; i < N; i++)
		x[i] = -8.0f + 16.0f * i / (N - 1);
	double worst_erf = 0;
	for (float v = -5; v < 5; v += 1e-3f)
		worst_erf = fmax(worst_erf, fabs(nk_erff(v) - erf(v)));
	CHECK_MSG(worst_erf < 1e-6, "erf off by %g", worst_erf);
	for (int kind = 0; kind < 2; kind++) {
		nk_gelu_forward(y, x, N, kind);
		for (int i = 0; i < N; i++) {
			double want = gelu_ref(x[i], kind);
			CHECK_MSG(fabs(y[i] - want) < 2e-6 * (1 + fabs(want)),
				  "gelu %d (%g) = %g, want %g", kind, x[i], y[i], want);
			d[i] = 1.0f;
			g[i] = 0.5f;
		}
		nk_gelu_backward(g, d, x, N, kind); /* adds to 0.5 */
		for (int i = 0; i < N; i++) {
			double h = 1e-4;
			double fd = (gelu_ref(x[i] + h, kind) - gelu_ref(x[i] - h, kind)) / (2 * h);
			CHECK_MSG(fabs(g[i] - 0.5 - fd) < 1e-5, "gelu' %d (%g) = %g, "
				  "want %g", kind, x[i], g[i] - 0.5, fd);
		}
		nk_gelu_backward(d, d, x, N, kind); /* in place: set */
		for (int i = 0; i < N; i++)
			CHECK(fabsf(d[i] - (g[i] - 0.5f)) < 1e-6f);
	}
}

/* ---- attention ------------------------------------------------------------- */

/* sum(out * R) for the attention of qkv. */
static double att_loss(const float *qkv, const int *len, const float *R,
		       int B, int T, int H, int A, int alibi, float p,
		       uint64_t seed)
{
	size_t n = (size_t)B * T * H;
	float *out = malloc(n * 4), *att = malloc((size_t)B * A * T * T * 4);
	float *scr = malloc((size_t)B * A * T * T * 4);
	nk_attention_forward(out, att, scr, qkv, len, B, T, H, A, alibi, p,
			     seed);
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)out[i] * R[i];
	free(out), free(att), free(scr);
	return s;
}

TEST(attention_fd)
{
	enum { B = 3, T = 7, H = 8, A = 2 };
	int len[B] = {7, 4, 1};
	nk_rng r;
	nk_rng_seed(&r, 1, 0);
	/* passes: no dropout, dropout, dropout and ALiBi's penalty (a
	 * constant: the same backward must match the differences) */
	for (int pass = 0; pass < 3; pass++) {
		float p = pass ? 0.3f : 0.0f;
		int alibi = pass == 2;
		static float qkv[B * T * 3 * H], R[B * T * H], dqkv[B * T * 3 * H];
		static float out[B * T * H], att[B * A * T * T], scr[B * A * T * T];
		fill(qkv, B * T * 3 * H, &r, 1.0f);
		fill(R, B * T * H, &r, 1.0f);
		nk_attention_forward(out, att, scr, qkv, len, B, T, H, A, alibi,
				     p, 42);
		/* rows of P sum to 1 over the valid keys, 0 elsewhere */
		for (int b = 0; b < B; b++)
			for (int a = 0; a < A; a++)
				for (int i = 0; i < T; i++) {
					const float *P = att + (((size_t)b * A + a) * T + i) * T;
					double s = 0, pad = 0;
					for (int j = 0; j < T; j++)
						*(j < len[b] ? &s : &pad) += P[j];
					CHECK(fabs(s - (i < len[b])) < 1e-5 && pad == 0);
				}
		for (int i = 0; i < B * T * 3 * H; i++)
			dqkv[i] = 0.25f; /* backward adds */
		nk_attention_backward(dqkv, scr, R, qkv, att, len, B, T, H, A, p, 42);
		double worst = 0;
		for (int i = 0; i < B * T * 3 * H; i++) {
			float keep = qkv[i], h = 1e-2f;
			qkv[i] = keep + h;
			double lp = att_loss(qkv, len, R, B, T, H, A, alibi, p, 42);
			qkv[i] = keep - h;
			double lm = att_loss(qkv, len, R, B, T, H, A, alibi, p, 42);
			qkv[i] = keep;
			double fd = (lp - lm) / (2 * h), g = dqkv[i] - 0.25;
			worst = fmax(worst, fabs(fd - g) / (1e-2 + fabs(fd)));
		}
		CHECK_MSG(worst < 2e-3, "p %g alibi %d: worst relative error %g",
			  p, alibi, worst);
	}
}

/* ALiBi's slopes as the paper's get_slopes() from 8 heads: 2^-1 .. 2^-8
 * for 8; for 12, the 8-head sequence then 2^-0.5, 2^-1.5, 2^-2.5 and
 * 2^-3.5 of the 16-head one.  Below 8, from 1/2 in steps of 2^(-8/A). */
TEST(alibi_slopes)
{
	for (int a = 0; a < 8; a++)
		CHECK(nk_alibi_slope(a, 8) == ldexpf(1.0f, -(a + 1)));
	for (int a = 0; a < 12; a++) {
		double want = a < 8 ? ldexp(1.0, -(a + 1))
				    : pow(2.0, -0.5 - (a - 8));
		CHECK_MSG(fabs(nk_alibi_slope(a, 12) - want) < 1e-6 * want,
			  "head %d of 12: %g, want %g", a,
			  nk_alibi_slope(a, 12), want);
	}
	CHECK(nk_alibi_slope(0, 1) == 0.5f);
	CHECK(nk_alibi_slope(0, 2) == 0.5f && nk_alibi_slope(1, 2) == 0.03125f);
	for (int a = 0; a < 4; a++)
		CHECK(nk_alibi_slope(a, 4) == ldexpf(1.0f, -1 - 2 * a));
}

/* The penalty lowers a head's score by slope x distance: with Q = 0 every
 * score is 0, so P's row i is softmax(-m|i - j|) over the valid keys. */
TEST(attention_alibi_probabilities)
{
	enum { B = 1, T = 6, H = 4, A = 2 };
	int len[B] = {5};
	static float qkv[B * T * 3 * H], out[B * T * H], att[B * A * T * T];
	for (int i = 0; i < B * T * 3 * H; i++)
		qkv[i] = (i % (3 * H)) < 2 * H ? 0.0f : (float)(i % 7);
	nk_attention_forward(out, att, NULL, qkv, len, B, T, H, A, 1, 0, 0);
	for (int a = 0; a < A; a++) {
		double m = nk_alibi_slope(a, A);
		for (int i = 0; i < len[0]; i++) {
			double z = 0;
			for (int j = 0; j < len[0]; j++)
				z += exp(-m * abs(i - j));
			for (int j = 0; j < len[0]; j++) {
				double want = exp(-m * abs(i - j)) / z;
				float got = att[((size_t)a * T + i) * T + j];
				CHECK_MSG(fabs(got - want) < 1e-6, "head %d P[%d][%d] "
					  "%g, want %g", a, i, j, got, want);
			}
		}
	}
}

/* Changing the padded positions' Q, K and V changes no valid output. */
TEST(attention_padding)
{
	enum { B = 2, T = 9, H = 12, A = 3 };
	int len[B] = {5, 9};
	nk_rng r;
	nk_rng_seed(&r, 2, 0);
	static float qkv[B * T * 3 * H], o1[B * T * H], o2[B * T * H];
	static float att[B * A * T * T], scr[B * A * T * T];
	fill(qkv, B * T * 3 * H, &r, 1.0f);
	nk_attention_forward(o1, att, scr, qkv, len, B, T, H, A, 0, 0.1f, 7);
	for (int t = len[0]; t < T; t++)
		fill(qkv + (size_t)t * 3 * H, 3 * H, &r, 100.0f);
	nk_attention_forward(o2, att, scr, qkv, len, B, T, H, A, 0, 0.1f, 7);
	CHECK(memcmp(o1, o2, sizeof o1) == 0);
	for (int t = len[0]; t < T; t++)
		for (int c = 0; c < H; c++)
			CHECK(o2[t * H + c] == 0);
}

/* ---- the model -------------------------------------------------------------- */

struct batch {
	uint32_t *ids, *lab;
	uint8_t *types;
	int *len;
	int32_t *mpos;
	nk_bert_batch b;
};

/* Rows of random lengths (the first full), M masked positions spread
 * over the rows' tokens, each position at most once. */
static void make_batch(struct batch *s, nk_rng *r, int B, int T, int M, int V)
{
	s->ids = calloc((size_t)B * T, sizeof *s->ids);
	s->types = calloc((size_t)B * T, 1);
	s->len = calloc(B, sizeof *s->len);
	s->mpos = calloc(M, sizeof *s->mpos);
	s->lab = calloc(M, sizeof *s->lab);
	int valid = 0;
	for (int b = 0; b < B; b++) {
		s->len[b] = b == 0 ? T : 1 + (int)nk_rng_below(r, T);
		valid += s->len[b];
		for (int t = 0; t < T; t++) {
			s->ids[b * T + t] = (uint32_t)nk_rng_below(r, V);
			s->types[b * T + t] = t >= s->len[b] / 2;
		}
	}
	/* every k-th valid position, k chosen so M fit */
	int k = valid / M, n = 0, seen = 0;
	for (int b = 0; b < B && n < M; b++)
		for (int t = 0; t < s->len[b] && n < M; t++, seen++)
			if (seen % k == 0) {
				s->mpos[n] = b * T + t;
				s->lab[n] = (uint32_t)nk_rng_below(r, V);
				n++;
			}
	s->b = (nk_bert_batch){B, T, s->ids, s->types, s->len, n, s->mpos, s->lab};
}

static void free_batch(struct batch *s)
{
	free(s->ids), free(s->types), free(s->len), free(s->mpos), free(s->lab);
}

static nk_bert_config small(float dropout)
{
	return (nk_bert_config){.L = 2, .H = 16, .A = 2, .FF = 24, .V = 37,
				.P = 12, .types = 2, .dropout = dropout,
				.gelu = NK_GELU_ERF, .ln_eps = 1e-12f};
}

/* Randomized, then every parameter nudged so biases and layer norms are
 * not at their (degenerate) initial values. */
static int make_model(nk_bert *m, const nk_bert_config *c, uint64_t seed,
		      float nudge)
{
	if (nk_bert_init(m, c))
		return -1;
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	nk_bert_randomize(m, &r);
	for (size_t i = 0; i < m->p.numel; i++)
		m->p.data[i] += (float)(nk_rng_normal(&r) * nudge);
	return 0;
}

TEST(bert_config)
{
	nk_bert m;
	nk_bert_config c = small(0);
	c.A = 3;
	CHECK(nk_bert_init(&m, &c) == NK_ERANGE);
	CHECK(strstr(nk_last_error(), "heads") != NULL);
	c = small(0), c.dropout = 1;
	CHECK(nk_bert_init(&m, &c) == NK_ERANGE);
	c = small(0), c.L = NK_BERT_MAX_LAYERS + 1;
	CHECK(nk_bert_init(&m, &c) == NK_ERANGE);
	c = small(0);
	CHECK(nk_bert_init(&m, &c) == 0);
	/* names in order, decayed tensors first */
	int nd;
	int64_t sh[2];
	float *d, *g;
	CHECK(strcmp(nk_bert_tensor(&m, 0, &nd, sh, &d, &g), "wte") == 0);
	CHECK(nd == 2 && sh[0] == 37 && sh[1] == 16 && d == m.wte && g == m.dwte);
	int n = nk_bert_n_tensors(&m);
	CHECK(n == 3 + 12 * 2 + 3 + 4);
	CHECK(strcmp(nk_bert_tensor(&m, n - 1, &nd, sh, &d, &g), "mlm_bias") == 0);
	CHECK(nk_bert_tensor(&m, n, NULL, NULL, NULL, NULL) == NULL);
	for (int i = 0; i < n; i++) {
		const char *name = nk_bert_tensor(&m, i, &nd, sh, &d, &g);
		int decayed = (size_t)(d - m.p.data) < m.ndecay;
		CHECK_MSG(decayed == (nd == 2), "%s decayed %d", name, decayed);
	}
	CHECK(m.layer[1].ff2_w == nk_params_value(&m.p, "layer.1.ff2_w"));
	CHECK(m.dlayer[1].ln2_b == nk_params_grad(&m.p, "layer.1.ln2_b"));
	nk_rng r;
	nk_rng_seed(&r, 3, 0);
	nk_bert_randomize(&m, &r);
	CHECK(m.layer[0].ln1_w[3] == 1 && m.mlm_ln_w[0] == 1 && m.ln_emb_b[0] == 0);
	float mx = 0;
	for (size_t i = 0; i < 37 * 16; i++)
		mx = fmaxf(mx, fabsf(m.wte[i]));
	CHECK(mx <= 0.04f && mx > 0.02f);
	/* a bad batch */
	nk_bert_run *run = nk_bert_run_new(&m, 2, 5, 3, 0, 1);
	struct batch s;
	make_batch(&s, &r, 2, 5, 3, 37);
	s.ids[4] = 37;
	CHECK(isnan(nk_bert_train_step(&m, run, &s.b, 1, NULL)));
	CHECK(strstr(nk_last_error(), "token id 37") != NULL);
	CHECK(nk_bert_run_new(&m, 2, 13, 3, 0, 1) == NULL);
	free_batch(&s);
	nk_bert_run_free(run);
	nk_bert_free(&m);
}

TEST(bert_fd)
{
	enum { B = 3, T = 7, M = 6 };
	nk_bert m;
	nk_bert_config c = small(0.2f);
	CHECK(make_model(&m, &c, 5, 0.3f) == 0);
	nk_rng r;
	nk_rng_seed(&r, 6, 0);
	struct batch s;
	make_batch(&s, &r, B, T, M, c.V);
	nk_bert_run *run = nk_bert_run_new(&m, B, T, M, 0, 1);
	nk_bert_train_step(&m, run, &s.b, 99, NULL);
	float *grad = malloc(m.p.numel * 4);
	memcpy(grad, m.p.grads, m.p.numel * 4);
	double worst = 0;
	const char *where = "";
	for (int i = 0; i < m.p.count; i++) {
		int64_t n = nk_tensor_numel(&m.p.value[i]);
		size_t off = (size_t)((float *)m.p.value[i].data - m.p.data);
		for (int k = 0; k < 4; k++) {
			size_t j = off + nk_rng_below(&r, (uint64_t)n);
			if (i == 0 && k == 0) /* a token that occurs */
				j = off + (size_t)s.ids[0] * c.H + 3;
			float keep = m.p.data[j], h = 1e-2f;
			m.p.data[j] = keep + h;
			double lp = nk_bert_train_step(&m, run, &s.b, 99, NULL);
			m.p.data[j] = keep - h;
			double lm = nk_bert_train_step(&m, run, &s.b, 99, NULL);
			m.p.data[j] = keep;
			double fd = (lp - lm) / (2 * h), g = grad[j];
			double e = fabs(fd - g) / (2e-3 + fabs(fd));
			if (e > worst)
				worst = e, where = m.p.names[i];
		}
	}
	CHECK_MSG(worst < 1e-2, "worst relative error %g in %s", worst, where);
	if (getenv("NK_VERBOSE"))
		printf("bert_fd: worst %g in %s\n", worst, where);
	free(grad);
	free_batch(&s);
	nk_bert_run_free(run);
	nk_bert_free(&m);
}

/* Checkpointing gives the same bits; the same seed gives the same bits;
 * a forward without dropout the same loss as a train step. */
TEST(bert_checkpoint)
{
	enum { B = 4, T = 9, M = 7 };
	nk_bert m;
	nk_bert_config c = small(0.15f);
	c.L = 3;
	CHECK(make_model(&m, &c, 7, 0.1f) == 0);
	nk_rng r;
	nk_rng_seed(&r, 8, 0);
	struct batch s;
	make_batch(&s, &r, B, T, M, c.V);
	nk_bert_run *plain = nk_bert_run_new(&m, B, T, M, 0, 1);
	nk_bert_run *ck = nk_bert_run_new(&m, B, T, M, 1, 1);
	CHECK(nk_bert_run_bytes(ck) < nk_bert_run_bytes(plain));
	int c1, c2;
	double l1 = nk_bert_train_step(&m, plain, &s.b, 1234, &c1);
	float *g1 = malloc(m.p.numel * 4);
	memcpy(g1, m.p.grads, m.p.numel * 4);
	double l2 = nk_bert_train_step(&m, ck, &s.b, 1234, &c2);
	CHECK(l1 == l2 && c1 == c2);
	CHECK(memcmp(g1, m.p.grads, m.p.numel * 4) == 0);
	double l3 = nk_bert_train_step(&m, plain, &s.b, 1234, NULL);
	CHECK(l3 == l1 && memcmp(g1, m.p.grads, m.p.numel * 4) == 0);
	nk_bert_train_step(&m, plain, &s.b, 1235, NULL);
	CHECK(memcmp(g1, m.p.grads, m.p.numel * 4) != 0);
	/* without dropout: train step loss = eval loss / M */
	m.cfg.dropout = 0;
	double lt = nk_bert_train_step(&m, plain, &s.b, 1, &c1);
	int t1, t5;
	nk_bert_run *ev = nk_bert_run_new(&m, B, T, M, 0, 0);
	double le = nk_bert_forward(&m, ev, &s.b, &t1, &t5);
	CHECK_MSG(fabs(lt - le / s.b.M) < 1e-6, "%g vs %g", lt, le / s.b.M);
	CHECK(t1 == c1 && t5 >= t1);
	/* top-k counts from the logits themselves */
	const float *lg = nk_bert_run_logits(ev);
	int k1 = 0, k5 = 0;
	for (int i = 0; i < s.b.M; i++) {
		int gt = 0;
		for (int v = 0; v < c.V; v++)
			gt += lg[i * c.V + v] > lg[i * c.V + s.lab[i]];
		k1 += gt < 1, k5 += gt < 5;
	}
	CHECK(k1 == t1 && k5 == t5);
	/* fill-mask: no labels, the same logits */
	size_t nl = (size_t)s.b.M * c.V;
	float *keep = malloc(nl * 4);
	memcpy(keep, lg, nl * 4);
	nk_bert_batch nolab = s.b;
	nolab.mlabel = NULL;
	CHECK(nk_bert_forward(&m, ev, &nolab, &t1, &t5) == 0 && t1 == 0);
	CHECK(memcmp(keep, nk_bert_run_logits(ev), nl * 4) == 0);
	free(keep);
	free(g1);
	free_batch(&s);
	nk_bert_run_free(plain);
	nk_bert_run_free(ck);
	nk_bert_run_free(ev);
	nk_bert_free(&m);
}

/* The tokens behind the padding change no logit. */
TEST(bert_padding)
{
	enum { B = 3, T = 10, M = 8 };
	nk_bert m;
	nk_bert_config c = small(0);
	CHECK(make_model(&m, &c, 9, 0.1f) == 0);
	nk_rng r;
	nk_rng_seed(&r, 10, 0);
	struct batch s;
	make_batch(&s, &r, B, T, M, c.V);
	nk_bert_run *ev = nk_bert_run_new(&m, B, T, M, 0, 0);
	nk_bert_forward(&m, ev, &s.b, NULL, NULL);
	size_t n = (size_t)s.b.M * c.V;
	float *l1 = malloc(n * 4);
	memcpy(l1, nk_bert_run_logits(ev), n * 4);
	int changed = 0;
	for (int b = 0; b < B; b++)
		for (int t = s.len[b]; t < T; t++, changed++)
			s.ids[b * T + t] = (s.ids[b * T + t] + 5) % c.V;
	CHECK(changed > 0);
	nk_bert_forward(&m, ev, &s.b, NULL, NULL);
	CHECK(memcmp(l1, nk_bert_run_logits(ev), n * 4) == 0);
	free(l1);
	free_batch(&s);
	nk_bert_run_free(ev);
	nk_bert_free(&m);
}

/* The same bits on one thread and on three (a bigger batch, so that the
 * GEMMs and the elementwise passes do split). */
TEST(bert_threads)
{
	enum { B = 10, T = 64, M = 200 };
	nk_bert m;
	nk_bert_config c = small(0.1f);
	c.H = 128, c.FF = 256, c.A = 4, c.P = 64, c.V = 1400;
	CHECK(make_model(&m, &c, 13, 0.05f) == 0);
	nk_rng r;
	nk_rng_seed(&r, 14, 0);
	struct batch s;
	make_batch(&s, &r, B, T, M, c.V);
	nk_bert_run *run = nk_bert_run_new(&m, B, T, M, 0, 1);
	int saved = omp_get_max_threads();
	omp_set_num_threads(1);
	double l1 = nk_bert_train_step(&m, run, &s.b, 77, NULL);
	float *g1 = malloc(m.p.numel * 4);
	memcpy(g1, m.p.grads, m.p.numel * 4);
	omp_set_num_threads(3);
	double l3 = nk_bert_train_step(&m, run, &s.b, 77, NULL);
	omp_set_num_threads(saved);
	CHECK(l1 == l3);
	CHECK(memcmp(g1, m.p.grads, m.p.numel * 4) == 0);
	free(g1);
	free_batch(&s);
	nk_bert_run_free(run);
	nk_bert_free(&m);
}

/* Dropout masks keep 1 - p of the elements (binomial bounds), scale
 * them by 1/(1-p), and do not repeat between keys or neighbours. */
TEST(dropmask)
{
	enum { N = 1 << 20 };
	static float x[N], y[N];
	for (int i = 0; i < N; i++)
		x[i] = 1.0f;
	float p = 0.1f;
	nk_dropmask d = nk_dropmask_make(0x1234567890abcdefULL, p);
	nk_dropmask_apply(y, x, N, &d, (1ULL << 32) - 1000); /* over the carry */
	double kept = 0, same = 0;
	for (int i = 0; i < N; i++) {
		CHECK(y[i] == 0 || fabsf(y[i] - 1 / 0.9f) < 1e-6f);
		kept += y[i] != 0;
		same += i && (y[i] != 0) == (y[i - 1] != 0);
	}
	double sd = sqrt(N * p * (1 - p));
	CHECK_MSG(fabs(kept - N * (1 - p)) < 5 * sd, "kept %g of %d", kept, N);
	/* neighbours agree as often as independent draws would */
	double pe = p * p + (1 - p) * (1 - p);
	CHECK(fabs(same - (N - 1) * pe) < 5 * sqrt(N * pe * (1 - pe)));
	nk_dropmask d2 = nk_dropmask_make(0x1234567890abcdeeULL, p);
	nk_dropmask_apply(x, x, N, &d2, (1ULL << 32) - 1000);
	double agree = 0;
	for (int i = 0; i < N; i++)
		agree += (x[i] != 0) == (y[i] != 0);
	CHECK(fabs(agree - N * pe) < 5 * sqrt(N * pe * (1 - pe)));
}

/* ---- data for the PyTorch comparison (tests/t_bert_torch.sh) ------------ */

static int32_t *to_i32(const void *src, size_t n, int u8)
{
	int32_t *d = malloc(n * sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = u8 ? ((const uint8_t *)src)[i] : ((const int32_t *)src)[i];
	return d;
}

#define ADD(name, nd, ...)                                                      \
	nk_wfile_add(w, name, NK_F32, nd, (int64_t[]){__VA_ARGS__}, keep[nkeep - 1])
#define KEEP(p) (keep[nkeep++] = (p))

static int torch_dump(const char *path)
{
	nk_wfile *w = nk_wfile_create();
	void *keep[256];
	int nkeep = 0;
	nk_rng r;
	nk_rng_seed(&r, 2026, 0);

	/* (a) projections + attention against nn.MultiheadAttention */
	{
		enum { B = 3, T = 6, H = 16, A = 4 };
		static int len[B] = {6, 3, 1};
		size_t N = B * T;
		float *x = KEEP(malloc(N * H * 4));
		ADD("mha.x", 3, B, T, H);
		float *qw = KEEP(malloc(3 * H * H * 4));
		ADD("mha.qkv_w", 2, 3 * H, H);
		float *qb = KEEP(malloc(3 * H * 4));
		ADD("mha.qkv_b", 1, 3 * H);
		float *pw = KEEP(malloc(H * H * 4));
		ADD("mha.proj_w", 2, H, H);
		float *pb = KEEP(malloc(H * 4));
		ADD("mha.proj_b", 1, H);
		float *R = KEEP(malloc(N * H * 4));
		ADD("mha.R", 3, B, T, H);
		fill(x, N * H, &r, 1), fill(qw, 3 * H * H, &r, 0.3f);
		fill(qb, 3 * H, &r, 0.1f), fill(pw, H * H, &r, 0.3f);
		fill(pb, H, &r, 0.1f), fill(R, N * H, &r, 1);
		for (int b = 0; b < B; b++)
			for (int t = len[b]; t < T; t++)
				memset(R + ((size_t)b * T + t) * H, 0, H * 4);
		nk_wfile_add(w, "mha.lengths", NK_I32, 1, (int64_t[]){B}, len);
		float *qkv = malloc(N * 3 * H * 4), *ctx = malloc(N * H * 4);
		float *att = malloc((size_t)B * A * T * T * 4);
		float *scr = malloc((size_t)B * A * T * T * 4);
		float *y = KEEP(malloc(N * H * 4));
		ADD("mha.y", 3, B, T, H);
		nk_linear_forward(qkv, x, qw, qb, N, H, 3 * H);
		nk_attention_forward(ctx, att, NULL, qkv, len, B, T, H, A, 0, 0, 0);
		nk_linear_forward(y, ctx, pw, pb, N, H, H);
		float *dctx = calloc(N * H, 4), *dqkv = calloc(N * 3 * H, 4);
		float *dx = KEEP(calloc(N * H, 4));
		ADD("mha.dx", 3, B, T, H);
		float *dqw = KEEP(calloc(3 * H * H, 4));
		ADD("mha.dqkv_w", 2, 3 * H, H);
		float *dqb = KEEP(calloc(3 * H, 4));
		ADD("mha.dqkv_b", 1, 3 * H);
		float *dpw = KEEP(calloc(H * H, 4));
		ADD("mha.dproj_w", 2, H, H);
		float *dpb = KEEP(calloc(H, 4));
		ADD("mha.dproj_b", 1, H);
		nk_linear_backward(dctx, dpw, dpb, R, ctx, pw, N, H, H);
		nk_attention_backward(dqkv, scr, dctx, qkv, att, len, B, T, H, A, 0, 0);
		nk_linear_backward(dx, dqw, dqb, dqkv, x, qw, N, H, 3 * H);
		free(qkv), free(ctx), free(att), free(scr), free(dctx), free(dqkv);
	}

	/* (c) the whole model, and (b) its first layer alone */
	static nk_bert m, mt, ma;
	nk_bert_config c = {.L = 2, .H = 32, .A = 4, .FF = 64, .V = 101,
			    .P = 16, .types = 2, .dropout = 0,
			    .gelu = NK_GELU_ERF, .ln_eps = 1e-12f};
	enum { B = 4, T = 12, M = 10 };
	if (make_model(&m, &c, 11, 0.05f))
		return 1;
	nk_wfile_set_int(w, "L", c.L);
	nk_wfile_set_int(w, "H", c.H);
	nk_wfile_set_int(w, "A", c.A);
	nk_wfile_set_int(w, "FF", c.FF);
	nk_wfile_set_float(w, "ln_eps", c.ln_eps);
	static struct batch s;
	make_batch(&s, &r, B, T, M, c.V);
	nk_wfile_add(w, "batch.ids", NK_I32, 2, (int64_t[]){B, T},
		     KEEP(to_i32(s.ids, B * T, 0)));
	nk_wfile_add(w, "batch.types", NK_I32, 2, (int64_t[]){B, T},
		     KEEP(to_i32(s.types, B * T, 1)));
	nk_wfile_add(w, "batch.lengths", NK_I32, 1, (int64_t[]){B}, s.len);
	nk_wfile_add(w, "batch.mpos", NK_I32, 1, (int64_t[]){s.b.M}, s.mpos);
	nk_wfile_add(w, "batch.mlabel", NK_I32, 1, (int64_t[]){s.b.M},
		     KEEP(to_i32(s.lab, s.b.M, 0)));
	for (int pass = 0; pass < 3; pass++) {
		/* pass 1: the tanh form of GELU, other weights; pass 2: erf
		 * with ALiBi's penalty, other weights again */
		nk_bert *mm = pass == 2 ? &ma : pass ? &mt : &m;
		const char *pre = pass == 2 ? "alibi." : pass ? "tanh." : "";
		char name[300];
		if (pass) {
			c.gelu = pass == 1 ? NK_GELU_TANH : NK_GELU_ERF;
			c.alibi = pass == 2;
			if (make_model(mm, &c, 11 + pass, 0.05f))
				return 1;
		}
		nk_bert_run *ev = nk_bert_run_new(mm, B, T, M, 0, 0);
		nk_bert_run *tr = nk_bert_run_new(mm, B, T, M, 0, 1);
		double lsum = nk_bert_forward(mm, ev, &s.b, NULL, NULL);
		float *lg = KEEP(malloc((size_t)s.b.M * c.V * 4));
		memcpy(lg, nk_bert_run_logits(ev), (size_t)s.b.M * c.V * 4);
		snprintf(name, sizeof name, "%slogits", pre);
		ADD(name, 2, s.b.M, c.V);
		double loss = nk_bert_train_step(mm, tr, &s.b, 1, NULL);
		snprintf(name, sizeof name, "%sloss", pre);
		nk_wfile_set_float(w, name, loss);
		snprintf(name, sizeof name, "%slsum", pre);
		nk_wfile_set_float(w, name, lsum);
		float *grads = KEEP(malloc(mm->p.numel * 4));
		memcpy(grads, mm->p.grads, mm->p.numel * 4);
		for (int i = 0; i < nk_bert_n_tensors(mm); i++) {
			int nd;
			int64_t sh[2];
			float *d, *g;
			const char *tn = nk_bert_tensor(mm, i, &nd, sh, &d, &g);
			snprintf(name, sizeof name, "%smodel.%s", pre, tn);
			nk_wfile_add(w, name, NK_F32, nd, sh, d);
			snprintf(name, sizeof name, "%sgrad.%s", pre, tn);
			nk_wfile_add(w, name, NK_F32, nd, sh,
				     grads + (g - mm->p.grads));
		}
		if (pass == 0) {
			/* (b): layer 0 on a random input, loss sum(y * R) */
			size_t NH = (size_t)B * T * c.H;
			float *x = KEEP(malloc(NH * 4));
			ADD("enc.x", 3, B, T, c.H);
			float *R = KEEP(malloc(NH * 4));
			ADD("enc.R", 3, B, T, c.H);
			fill(x, NH, &r, 1), fill(R, NH, &r, 1);
			for (int b = 0; b < B; b++)
				for (int t = s.len[b]; t < T; t++)
					memset(R + ((size_t)b * T + t) * c.H, 0, c.H * 4);
			memcpy(tr->x[0], x, NH * 4);
			bert_layer_forward(mm, tr, 0, &tr->act[0], &s.b, 0, 0);
			float *y = KEEP(malloc(NH * 4));
			memcpy(y, tr->x[1], NH * 4);
			ADD("enc.y", 3, B, T, c.H);
			float *dx = KEEP(malloc(NH * 4));
			ADD("enc.dx", 3, B, T, c.H);
			memcpy(tr->dy, R, NH * 4);
			nk_params_zero_grad(&mm->p);
			bert_layer_backward(mm, tr, 0, &tr->act[0], &s.b, tr->dy,
					    dx, 0, 0);
			float *lgr = KEEP(malloc(mm->p.numel * 4));
			memcpy(lgr, mm->p.grads, mm->p.numel * 4);
			for (int i = 0; i < nk_bert_n_tensors(mm); i++) {
				int nd;
				int64_t sh[2];
				float *d, *g;
				const char *tn = nk_bert_tensor(mm, i, &nd, sh, &d, &g);
				if (strncmp(tn, "layer.0.", 8))
					continue;
				snprintf(name, sizeof name, "enc.grad.%s", tn + 8);
				nk_wfile_add(w, name, NK_F32, nd, sh,
					     lgr + (g - mm->p.grads));
			}
		}
		nk_bert_run_free(ev);
		nk_bert_run_free(tr);
	}
	int rc = nk_wfile_write(w, path, 0);
	if (rc)
		fprintf(stderr, "test_bert: %s\n", nk_last_error());
	nk_wfile_free(w);
	for (int i = 0; i < nkeep; i++)
		free(keep[i]);
	free_batch(&s);
	nk_bert_free(&m);
	nk_bert_free(&mt);
	return rc ? 1 : 0;
}

/* ---- timing (not a test) ----------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench(int argc, char **argv)
{
	int B = argc > 2 ? atoi(argv[2]) : 32, T = argc > 3 ? atoi(argv[3]) : 128;
	int steps = argc > 4 ? atoi(argv[4]) : 3, ck = argc > 5 ? atoi(argv[5]) : 0;
	int M = B * 20;
	nk_bert_config c = {.L = 2, .H = 128, .A = 2, .FF = 512, .V = 8000,
			    .P = 512, .types = 2, .dropout = 0.1f,
			    .gelu = NK_GELU_ERF, .ln_eps = 1e-12f};
	nk_bert m;
	if (make_model(&m, &c, 1, 0))
		return 1;
	nk_rng r;
	nk_rng_seed(&r, 2, 0);
	struct batch s;
	make_batch(&s, &r, B, T, M, c.V);
	for (int b = 0; b < B; b++)
		s.len[b] = T;
	nk_bert_run *run = nk_bert_run_new(&m, B, T, M, ck, 1);
	nk_bert_train_step(&m, run, &s.b, 0, NULL);
	double t0 = now(), loss = 0;
	for (int i = 0; i < steps; i++)
		loss = nk_bert_train_step(&m, run, &s.b, (uint64_t)i + 1, NULL);
	double dt = (now() - t0) / steps;
	printf("threads %d  B %d T %d M %d ckpt %d: %.1f ms/step, %.0f tokens/s "
	       "(loss %.3f, workspace %.1f MB)\n", omp_get_max_threads(), B, T,
	       s.b.M, ck, dt * 1e3, B * T / dt, loss,
	       nk_bert_run_bytes(run) / 1048576.0);
	free_batch(&s);
	nk_bert_run_free(run);
	nk_bert_free(&m);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "torch") == 0)
		return torch_dump(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "bench") == 0)
		return bench(argc, argv);
	RUN(gelu);
	RUN(attention_fd);
	RUN(alibi_slopes);
	RUN(attention_alibi_probabilities);
	RUN(attention_padding);
	RUN(bert_config);
	RUN(bert_fd);
	RUN(bert_checkpoint);
	RUN(bert_padding);
	RUN(bert_threads);
	RUN(dropmask);
	return nk_test_exit();
}
