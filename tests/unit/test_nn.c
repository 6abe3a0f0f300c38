/* test_nn.c - the layers of nn.h: every backward against central finite
 * differences, backward adding (twice gives double), recurrent layers run
 * segment by segment giving the same bits as one call (what gradient
 * checkpointing relies on), dropout's mask, softmax-xent against a direct
 * computation, and a tiny LSTM language model whose loss curve is
 * bit-identical run to run and thread count to thread count.
 *
 *   test_nn                 the unit tests
 *   test_nn torch FILE      writes inputs, weights and this library's
 *                           outputs and gradients to FILE (.nkw) for
 *                           tests/t_nn_torch.sh to check against PyTorch
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>

#include "check.h"
#include "core/base.h"
#include "core/gemm.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/lstm.h"
#include "nn/optim.h"
#include "nn/rnn.h"
#include "nn/softmax.h"
#include "nn/params.h"
#include "core/rng.h"
#include "formats/wfile.h"

static nk_rng rng;

static float *rnd(size_t n, float scale)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (nk_rng_float(&rng) * 2 - 1) * scale;
	return p;
}

static float *zeros(size_t n)
{
	return calloc(n ? n : 1, sizeof(float));
}

static double dot(const float *a, const float *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* Central differences of loss() in each element of x, against the
 * analytic gradient g.  The loss is a double sum of float outputs; eps
 * 1e-2 keeps float rounding well below the tolerance. */
typedef double (*loss_fn)(void *ctx);
static int fd_check(const char *what, loss_fn loss, void *ctx, float *x,
		    const float *g, size_t n)
{
	const float eps = 1e-2f;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		float keep = x[i];
		x[i] = keep + eps;
		double lp = loss(ctx);
		x[i] = keep - eps;
		double lm = loss(ctx);
		x[i] = keep;
		double num = (lp - lm) / (2.0 * eps);
		double err = fabs(num - g[i]);
		if (err > 1e-3 + 1e-2 * fabs(num)) {
			if (!bad)
				printf("    %s[%zu]: analytic %.6g, numeric %.6g\n", what,
				       i, g[i], num);
			bad = 1;
		}
	}
	CHECK_MSG(!bad, "%s: gradient differs from finite differences", what);
	return !bad;
}

/* 2 * a against b, where b is a second backward added onto a. */
static int doubled(const float *once, const float *twice, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fabsf(2 * once[i] - twice[i]) > 1e-5f * (1 + fabsf(twice[i])))
			return 0;
	return 1;
}

/* ---- embedding -------------------------------------------------------- */

TEST(embedding_forward_backward)
{
	enum { V = 7, C = 5, N = 6 };
	uint32_t ids[N] = {3, 0, 3, 6, 1, 3};
	float *wte = rnd(V * C, 1), *out = zeros(N * C), *dout = rnd(N * C, 1);
	float *dw = zeros(V * C);
	nk_embedding_forward(out, ids, wte, N, C);
	for (int n = 0; n < N; n++)
		CHECK(memcmp(out + n * C, wte + ids[n] * C, C * sizeof(float)) == 0);
	nk_embedding_backward(dw, dout, ids, N, C);
	/* Row 3 gets three rows of dout, in order; row 2 none. */
	for (int c = 0; c < C; c++) {
		CHECK(dw[3 * C + c] == (dout[0 * C + c] + dout[2 * C + c]) + dout[5 * C + c]);
		CHECK(dw[2 * C + c] == 0.0f);
		CHECK(dw[6 * C + c] == dout[3 * C + c]);
	}
	nk_embedding_backward(dw, dout, ids, N, C);
	CHECK(dw[6 * C] == 2 * dout[3 * C]);
	free(wte), free(out), free(dout), free(dw);
}

/* ---- linear ----------------------------------------------------------- */

typedef struct lin_ctx {
	int N, IC, OC;
	float *in, *w, *b, *out, *R;
} lin_ctx;

static double lin_loss(void *p)
{
	lin_ctx *c = p;
	nk_linear_forward(c->out, c->in, c->w, c->b, c->N, c->IC, c->OC);
	return dot(c->out, c->R, (size_t)c->N * c->OC);
}

TEST(linear_gradients)
{
	static const int shapes[][3] = {{1, 1, 1}, {3, 5, 4}, {7, 13, 33}, {40, 9, 17}};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		lin_ctx c = {.N = shapes[s][0], .IC = shapes[s][1], .OC = shapes[s][2]};
		int N = c.N, IC = c.IC, OC = c.OC;
		c.in = rnd(N * IC, 1), c.w = rnd(OC * IC, 0.5f), c.b = rnd(OC, 0.5f);
		c.out = zeros(N * OC), c.R = rnd(N * OC, 1);
		float *din = zeros(N * IC), *dw = zeros(OC * IC), *db = zeros(OC);
		lin_loss(&c);
		/* Forward against the definition. */
		for (int n = 0; n < N; n++)
			for (int o = 0; o < OC; o++) {
				double r = c.b[o];
				for (int i = 0; i < IC; i++)
					r += (double)c.in[n * IC + i] * c.w[o * IC + i];
				CHECK(fabs(c.out[n * OC + o] - r) < 1e-5 * (1 + IC));
			}
		nk_linear_backward(din, dw, db, c.R, c.in, c.w, N, IC, OC);
		fd_check("linear din", lin_loss, &c, c.in, din, N * IC);
		fd_check("linear dw", lin_loss, &c, c.w, dw, OC * IC);
		fd_check("linear db", lin_loss, &c, c.b, db, OC);
		float *din2 = malloc(N * IC * 4), *dw2 = malloc(OC * IC * 4), *db2 = malloc(OC * 4);
		memcpy(din2, din, N * IC * 4), memcpy(dw2, dw, OC * IC * 4), memcpy(db2, db, OC * 4);
		nk_linear_backward(din2, dw2, db2, c.R, c.in, c.w, N, IC, OC);
		CHECK(doubled(din, din2, N * IC) && doubled(dw, dw2, OC * IC) &&
		      doubled(db, db2, OC));
		/* NULL gradients are skipped; a NULL bias means none. */
		nk_linear_backward(NULL, NULL, db2, c.R, c.in, c.w, N, IC, OC);
		nk_linear_forward(c.out, c.in, c.w, NULL, N, IC, OC);
		float *ref = zeros(N * OC);
		nk_sgemm_reference(0, 1, N, OC, IC, 1, c.in, IC, c.w, IC, 0, ref, OC);
		for (int k = 0; k < N * OC; k++)
			CHECK(fabsf(c.out[k] - ref[k]) < 1e-5f * (1 + IC));
		free(c.in), free(c.w), free(c.b), free(c.out), free(c.R), free(din);
		free(dw), free(db), free(din2), free(dw2), free(db2), free(ref);
	}
}

/* ---- softmax and cross-entropy ---------------------------------------- */

typedef struct xent_ctx {
	int N, V;
	float *logits, *probs;
	uint32_t *tg;
} xent_ctx;

static double xent_loss(void *p)
{
	xent_ctx *c = p;
	return nk_softmax_xent_forward(c->probs, c->logits, c->tg, c->N, c->V);
}

TEST(softmax_xent)
{
	static const int shapes[][2] = {{1, 1}, {1, 2}, {5, 7}, {33, 65}, {300, 200}};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		xent_ctx c = {.N = shapes[s][0], .V = shapes[s][1]};
		int N = c.N, V = c.V;
		c.logits = rnd(N * V, 4), c.probs = zeros(N * V);
		c.tg = malloc(N * sizeof *c.tg);
		for (int n = 0; n < N; n++)
			c.tg[n] = (uint32_t)nk_rng_below(&rng, V);
		double loss = xent_loss(&c), want = 0;
		for (int n = 0; n < N; n++) {
			double z = 0, mx = -INFINITY;
			for (int v = 0; v < V; v++)
				mx = fmax(mx, c.logits[n * V + v]);
			for (int v = 0; v < V; v++)
				z += exp(c.logits[n * V + v] - mx);
			for (int v = 0; v < V; v++)
				CHECK(fabs(c.probs[n * V + v] - exp(c.logits[n * V + v] - mx) / z) < 1e-6);
			want += log(z) + mx - c.logits[n * V + c.tg[n]];
		}
		want /= N;
		CHECK_MSG(fabs(loss - want) < 1e-6 * (1 + want), "loss %.9g, want %.9g", loss, want);
		float *d = zeros(N * V);
		nk_softmax_xent_backward(d, c.probs, c.tg, N, V, 1.0f / N);
		if (N * V < 5000)
			fd_check("xent dlogits", xent_loss, &c, c.logits, d, N * V);
		free(c.logits), free(c.probs), free(c.tg), free(d);
	}
	/* Logits far apart: the loss stays finite and exact. */
	float lg[3] = {0, 200, -200}, pr[3];
	uint32_t t = 2;
	double l = nk_softmax_xent_forward(pr, lg, &t, 1, 3);
	CHECK_MSG(fabs(l - 400) < 1e-3, "loss %g", l);
	CHECK(pr[1] == 1.0f && pr[2] == 0.0f);
}

TEST(softmax_temperature)
{
	float x[5] = {1, 2, 3, -1, 0.5f}, p[5];
	for (float temp = 0.25f; temp <= 4; temp *= 2) {
		nk_softmax(p, x, 5, temp);
		double z = 0, sum = 0;
		for (int v = 0; v < 5; v++)
			z += exp((x[v] - 3) / temp);
		for (int v = 0; v < 5; v++) {
			CHECK(fabs(p[v] - exp((x[v] - 3) / temp) / z) < 1e-6);
			sum += p[v];
		}
		CHECK(fabs(sum - 1) < 1e-6);
	}
}

/* ---- layer norm ------------------------------------------------------- */

typedef struct ln_ctx {
	int N, C;
	float *in, *w, *b, *out, *mean, *rstd, *R;
} ln_ctx;

static double ln_loss(void *p)
{
	ln_ctx *c = p;
	nk_layernorm_forward(c->out, c->mean, c->rstd, c->in, c->w, c->b, c->N,
			     c->C, 1e-5f);
	return dot(c->out, c->R, (size_t)c->N * c->C);
}

TEST(layernorm_gradients)
{
	static const int shapes[][2] = {{1, 2}, {3, 7}, {4, 64}};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		ln_ctx c = {.N = shapes[s][0], .C = shapes[s][1]};
		int N = c.N, C = c.C;
		c.in = rnd(N * C, 2), c.w = rnd(C, 1), c.b = rnd(C, 1);
		c.out = zeros(N * C), c.mean = zeros(N), c.rstd = zeros(N);
		c.R = rnd(N * C, 1);
		ln_loss(&c);
		for (int n = 0; n < N; n++) {
			double m = 0, v = 0;
			for (int k = 0; k < C; k++)
				m += c.in[n * C + k];
			m /= C;
			for (int k = 0; k < C; k++)
				v += (c.in[n * C + k] - m) * (c.in[n * C + k] - m);
			v /= C;
			for (int k = 0; k < C; k++) {
				double y = (c.in[n * C + k] - m) / sqrt(v + 1e-5) * c.w[k] + c.b[k];
				CHECK(fabs(c.out[n * C + k] - y) < 1e-5);
			}
		}
		float *din = zeros(N * C), *dw = zeros(C), *db = zeros(C);
		nk_layernorm_backward(din, dw, db, c.R, c.in, c.w, c.mean, c.rstd, N, C);
		fd_check("layernorm din", ln_loss, &c, c.in, din, N * C);
		fd_check("layernorm dw", ln_loss, &c, c.w, dw, C);
		fd_check("layernorm db", ln_loss, &c, c.b, db, C);
		float *din2 = malloc(N * C * 4), *dw2 = malloc(C * 4);
		memcpy(din2, din, N * C * 4), memcpy(dw2, dw, C * 4);
		nk_layernorm_backward(din2, dw2, NULL, c.R, c.in, c.w, c.mean, c.rstd, N, C);
		CHECK(doubled(din, din2, N * C) && doubled(dw, dw2, C));
		free(c.in), free(c.w), free(c.b), free(c.out), free(c.mean);
		free(c.rstd), free(c.R), free(din), free(dw), free(db), free(din2), free(dw2);
	}
}

/* ---- dropout ---------------------------------------------------------- */

TEST(dropout_mask)
{
	enum { N = 200000 };
	float *in = rnd(N, 1), *out = zeros(N), *mask = zeros(N), *din = zeros(N);
	nk_rng r;
	nk_rng_seed(&r, 9, 0);
	nk_dropout_forward(out, mask, in, 0.0f, N, &r);
	CHECK(memcmp(out, in, N * sizeof(float)) == 0);
	for (int i = 0; i < N; i++)
		CHECK(mask[i] == 1.0f);
	static const float ps[] = {0.1f, 0.5f, 0.9f};
	for (int k = 0; k < 3; k++) {
		float p = ps[k];
		nk_dropout_forward(out, mask, in, p, N, &r);
		int dropped = 0, wrong = 0;
		for (int i = 0; i < N; i++) {
			if (mask[i] == 0.0f)
				dropped++;
			else if (mask[i] != 1.0f / (1.0f - p))
				wrong++;
			if (out[i] != in[i] * mask[i])
				wrong++;
		}
		/* Binomial(N, p): 5 standard deviations. */
		double sd = sqrt(N * p * (1 - p));
		CHECK_MSG(fabs(dropped - N * p) < 5 * sd, "p=%g: %d of %d dropped", p,
			  dropped, N);
		CHECK(wrong == 0);
	}
	memset(din, 0, N * sizeof(float));
	nk_dropout_backward(din, in, mask, N);
	nk_dropout_backward(din, in, mask, N);
	for (int i = 0; i < N; i++)
		CHECK(din[i] == 2 * (in[i] * mask[i]));
	/* Same seed, same mask. */
	float *m2 = zeros(N);
	nk_rng_seed(&r, 4, 0);
	nk_dropout_forward(out, mask, in, 0.3f, N, &r);
	nk_rng_seed(&r, 4, 0);
	nk_dropout_forward(out, m2, in, 0.3f, N, &r);
	CHECK(memcmp(mask, m2, N * sizeof(float)) == 0);
	/* ... on any number of threads, and each call takes one draw. */
	nk_rng_seed(&r, 4, 0);
	omp_set_num_threads(1);
	nk_dropout_forward(out, m2, in, 0.3f, N, &r);
	CHECK(memcmp(mask, m2, N * sizeof(float)) == 0);
	omp_set_num_threads(2);
	nk_rng_seed(&r, 4, 0);
	nk_rng_u64(&r);
	nk_dropout_forward(out, mask, in, 0.3f, N, &r);
	CHECK(memcmp(mask, m2, N * sizeof(float)) != 0);
	nk_rng_seed(&r, 4, 0);
	nk_dropout_forward(out, mask, in, 0.3f, N, &r);
	CHECK(memcmp(mask, m2, N * sizeof(float)) == 0);
	/* Tiny arrays: fewer elements than chunks. */
	float t_in[3] = {1, 2, 3}, t_out[3], t_mask[3];
	nk_dropout_forward(t_out, t_mask, t_in, 0.5f, 3, &r);
	for (int i = 0; i < 3; i++)
		CHECK((t_mask[i] == 0.0f || t_mask[i] == 2.0f) && t_out[i] == t_in[i] * t_mask[i]);
	free(in), free(out), free(mask), free(din), free(m2);
}

/* ---- recurrent layers ------------------------------------------------- */

enum { RNN, LSTM, GRU };
static const char *cell_name[] = {"rnn", "lstm", "gru"};

typedef struct rec {
	int kind, T, B, I, H, G;
	float *x, *h0, *c0, *w_ih, *w_hh, *b_ih, *b_hh;
	float *R, *Rl, *Rc; /* loss = h.R + h_last.Rl + c_last.Rc */
	float *h, *c_last, *cache;
} rec;

static size_t cache_floats(int kind, int T, int B, int H)
{
	return kind == LSTM ? nk_lstm_cache_floats(T, B, H)
	       : kind == GRU ? nk_gru_cache_floats(T, B, H)
			     : nk_rnn_cache_floats(T, B, H);
}

static void rec_init(rec *p, int kind, int T, int B, int I, int H)
{
	memset(p, 0, sizeof *p);
	p->kind = kind, p->T = T, p->B = B, p->I = I, p->H = H;
	p->G = kind == LSTM ? 4 : kind == GRU ? 3 : 1;
	int G = p->G;
	float k = 1.0f / sqrtf((float)H);
	p->x = rnd((size_t)T * B * I, 1), p->h0 = rnd(B * H, 0.5f);
	p->c0 = rnd(B * H, 0.5f);
	p->w_ih = rnd(G * H * I, 2 * k), p->w_hh = rnd(G * H * H, 2 * k);
	p->b_ih = rnd(G * H, k), p->b_hh = rnd(G * H, k);
	p->R = rnd((size_t)T * B * H, 1), p->Rl = rnd(B * H, 1);
	p->Rc = rnd(B * H, 1);
	p->h = zeros((size_t)T * B * H), p->c_last = zeros(B * H);
	p->cache = zeros(cache_floats(kind, T, B, H));
}

static void rec_free(rec *p)
{
	free(p->x), free(p->h0), free(p->c0), free(p->w_ih), free(p->w_hh);
	free(p->b_ih), free(p->b_hh), free(p->R), free(p->Rl), free(p->Rc);
	free(p->h), free(p->c_last), free(p->cache);
}

static void rec_forward(rec *p)
{
	if (p->kind == LSTM)
		nk_lstm_forward(p->h, p->c_last, p->cache, p->x, p->h0, p->c0,
				p->w_ih, p->w_hh, p->b_ih, p->b_hh, p->T, p->B,
				p->I, p->H);
	else if (p->kind == GRU)
		nk_gru_forward(p->h, p->cache, p->x, p->h0, p->w_ih, p->w_hh,
			       p->b_ih, p->b_hh, p->T, p->B, p->I, p->H);
	else
		nk_rnn_forward(p->h, p->cache, p->x, p->h0, p->w_ih, p->w_hh,
			       p->b_ih, p->b_hh, p->T, p->B, p->I, p->H);
}

static double rec_loss(void *ctx)
{
	rec *p = ctx;
	rec_forward(p);
	size_t bh = (size_t)p->B * p->H;
	double l = dot(p->h, p->R, p->T * bh) +
		   dot(p->h + (p->T - 1) * bh, p->Rl, bh);
	if (p->kind == LSTM)
		l += dot(p->c_last, p->Rc, bh);
	return l;
}

typedef struct rgrad {
	float *dx, *dh0, *dc0, *dw_ih, *dw_hh, *db_ih, *db_hh;
} rgrad;

static void rgrad_alloc(rgrad *g, const rec *p)
{
	int G = p->G, H = p->H;
	g->dx = zeros((size_t)p->T * p->B * p->I), g->dh0 = zeros(p->B * H);
	g->dc0 = zeros(p->B * H), g->dw_ih = zeros(G * H * p->I);
	g->dw_hh = zeros(G * H * H), g->db_ih = zeros(G * H);
	g->db_hh = zeros(G * H);
}

static void rgrad_free(rgrad *g)
{
	free(g->dx), free(g->dh0), free(g->dc0), free(g->dw_ih);
	free(g->dw_hh), free(g->db_ih), free(g->db_hh);
}

/* Backward over steps [t0, t0+T) of p's sequence (a segment), whose
 * forward must have just run on the segment with the given state. */
static void rec_backward(rec *p, rgrad *g, const float *dh, const float *dh_last,
			 const float *dc_last, float *cache, const float *x,
			 const float *h0, const float *c0, const float *h,
			 float *dx, float *dh0, float *dc0, int T)
{
	if (p->kind == LSTM)
		nk_lstm_backward(dx, dh0, dc0, g->dw_ih, g->dw_hh, g->db_ih,
				 g->db_hh, dh, dh_last, dc_last, cache, x, h0, c0,
				 h, p->w_ih, p->w_hh, T, p->B, p->I, p->H);
	else if (p->kind == GRU)
		nk_gru_backward(dx, dh0, g->dw_ih, g->dw_hh, g->db_ih, g->db_hh,
				dh, dh_last, cache, x, h0, h, p->w_ih, p->w_hh, T,
				p->B, p->I, p->H);
	else
		nk_rnn_backward(dx, dh0, g->dw_ih, g->dw_hh, g->db_ih, g->db_hh,
				dh, dh_last, cache, x, h0, h, p->w_ih, p->w_hh, T,
				p->B, p->I, p->H);
}

static void rec_grads(rec *p, rgrad *g)
{
	rec_forward(p);
	rec_backward(p, g, p->R, p->Rl, p->kind == LSTM ? p->Rc : NULL,
		     p->cache, p->x, p->h0, p->c0, p->h, g->dx, g->dh0, g->dc0,
		     p->T);
}

static void rec_gradcheck(int kind, int T, int B, int I, int H)
{
	rec p;
	rgrad g, g2;
	rec_init(&p, kind, T, B, I, H);
	rgrad_alloc(&g, &p);
	rec_grads(&p, &g);
	int G = p.G;
	size_t tbi = (size_t)T * B * I, bh = (size_t)B * H;
	int ok = fd_check("dx", rec_loss, &p, p.x, g.dx, tbi) &&
		 fd_check("dh0", rec_loss, &p, p.h0, g.dh0, bh) &&
		 (kind != LSTM || fd_check("dc0", rec_loss, &p, p.c0, g.dc0, bh)) &&
		 fd_check("dw_ih", rec_loss, &p, p.w_ih, g.dw_ih, G * H * I) &&
		 fd_check("dw_hh", rec_loss, &p, p.w_hh, g.dw_hh, G * H * H) &&
		 fd_check("db_ih", rec_loss, &p, p.b_ih, g.db_ih, G * H) &&
		 fd_check("db_hh", rec_loss, &p, p.b_hh, g.db_hh, G * H);
	if (!ok)
		printf("    %s T=%d B=%d I=%d H=%d\n", cell_name[kind], T, B, I, H);
	/* Backward adds: a second call on the same cache doubles everything. */
	rgrad_alloc(&g2, &p);
	rec_grads(&p, &g2);
	rec_backward(&p, &g2, p.R, p.Rl, kind == LSTM ? p.Rc : NULL, p.cache,
		     p.x, p.h0, p.c0, p.h, g2.dx, g2.dh0, g2.dc0, T);
	CHECK_MSG(doubled(g.dx, g2.dx, tbi) && doubled(g.dh0, g2.dh0, bh) &&
		  doubled(g.dw_ih, g2.dw_ih, G * H * I) &&
		  doubled(g.dw_hh, g2.dw_hh, G * H * H) &&
		  doubled(g.db_ih, g2.db_ih, G * H) && doubled(g.db_hh, g2.db_hh, G * H) &&
		  (kind != LSTM || doubled(g.dc0, g2.dc0, bh)),
		  "%s: a second backward does not add the same again", cell_name[kind]);
	rgrad_free(&g2);
	rgrad_free(&g);
	rec_free(&p);
}

TEST(lstm_gradients)
{
	rec_gradcheck(LSTM, 1, 1, 1, 1);
	rec_gradcheck(LSTM, 3, 2, 3, 5);
	rec_gradcheck(LSTM, 4, 3, 2, 17); /* H not a multiple of the vector width */
}

TEST(gru_gradients)
{
	rec_gradcheck(GRU, 1, 1, 1, 1);
	rec_gradcheck(GRU, 3, 2, 3, 5);
	rec_gradcheck(GRU, 4, 3, 2, 17);
}

TEST(rnn_gradients)
{
	rec_gradcheck(RNN, 1, 1, 1, 1);
	rec_gradcheck(RNN, 3, 2, 3, 5);
	rec_gradcheck(RNN, 5, 3, 2, 17);
}

/* Zero initial states may be given as NULL: the same as zeros. */
TEST(recurrent_null_initial_state)
{
	for (int kind = 0; kind < 3; kind++) {
		rec p;
		rec_init(&p, kind, 3, 2, 4, 6);
		memset(p.h0, 0, 12 * sizeof(float));
		memset(p.c0, 0, 12 * sizeof(float));
		rec_forward(&p);
		float *h = malloc(36 * sizeof(float));
		memcpy(h, p.h, 36 * sizeof(float));
		float *h0 = p.h0, *c0 = p.c0;
		p.h0 = p.c0 = NULL;
		rec_forward(&p);
		for (int i = 0; i < 36; i++)
			CHECK_MSG(fabsf(h[i] - p.h[i]) < 1e-6f, "%s", cell_name[kind]);
		p.h0 = h0, p.c0 = c0;
		free(h);
		rec_free(&p);
	}
}

/* Gradient checkpointing's contract: forward and backward run segment by
 * segment (the last segment's backward first) give the same bits as one
 * call over the whole sequence. */
static void segments_same_bits(int kind, int T, int B, int I, int H, int T1)
{
	rec p;
	rgrad full, seg;
	rec_init(&p, kind, T, B, I, H);
	rgrad_alloc(&full, &p);
	rgrad_alloc(&seg, &p);
	rec_grads(&p, &full);
	size_t bh = (size_t)B * H, T2 = T - T1;
	float *hs = zeros(T * bh), *cmid = zeros(bh), *clast = zeros(bh);
	float *c1 = zeros(cache_floats(kind, T1, B, H));
	float *c2 = zeros(cache_floats(kind, T2, B, H));
	float *dhmid = zeros(bh), *dcmid = zeros(bh);
	const float *x2 = p.x + (size_t)T1 * B * I;
	float *hmid = hs + (T1 - 1) * bh;
#define FWD(cache, x, h0, c0, h, cl, t)                                        \
	(kind == LSTM ? nk_lstm_forward(h, cl, cache, x, h0, c0, p.w_ih, p.w_hh, \
					p.b_ih, p.b_hh, t, B, I, H)            \
	 : kind == GRU ? nk_gru_forward(h, cache, x, h0, p.w_ih, p.w_hh,        \
					p.b_ih, p.b_hh, t, B, I, H)            \
		       : nk_rnn_forward(h, cache, x, h0, p.w_ih, p.w_hh,         \
					p.b_ih, p.b_hh, t, B, I, H))
	FWD(c1, p.x, p.h0, p.c0, hs, cmid, T1);
	FWD(c2, x2, hmid, cmid, hs + T1 * bh, clast, (int)T2);
	CHECK_MSG(memcmp(hs, p.h, T * bh * sizeof(float)) == 0,
		  "%s: segmented forward differs", cell_name[kind]);
	if (kind == LSTM)
		CHECK(memcmp(clast, p.c_last, bh * sizeof(float)) == 0);
	/* Backward: last segment first (its cache is still there), then the
	 * first segment recomputed. */
	rec_backward(&p, &seg, p.R + T1 * bh, p.Rl, kind == LSTM ? p.Rc : NULL,
		     c2, x2, hmid, cmid, hs + T1 * bh, seg.dx + (size_t)T1 * B * I,
		     dhmid, dcmid, (int)T2);
	FWD(c1, p.x, p.h0, p.c0, hs, cmid, T1);
	rec_backward(&p, &seg, p.R, dhmid, kind == LSTM ? dcmid : NULL, c1, p.x,
		     p.h0, p.c0, hs, seg.dx, seg.dh0, seg.dc0, T1);
#undef FWD
	int G = p.G;
	CHECK_MSG(memcmp(full.dx, seg.dx, (size_t)T * B * I * 4) == 0 &&
		  memcmp(full.dh0, seg.dh0, bh * 4) == 0 &&
		  memcmp(full.dc0, seg.dc0, bh * 4) == 0 &&
		  memcmp(full.dw_ih, seg.dw_ih, (size_t)G * H * I * 4) == 0 &&
		  memcmp(full.dw_hh, seg.dw_hh, (size_t)G * H * H * 4) == 0 &&
		  memcmp(full.db_ih, seg.db_ih, (size_t)G * H * 4) == 0 &&
		  memcmp(full.db_hh, seg.db_hh, (size_t)G * H * 4) == 0,
		  "%s T=%d split at %d: segmented gradients differ", cell_name[kind],
		  T, T1);
	free(hs), free(cmid), free(clast), free(c1), free(c2), free(dhmid), free(dcmid);
	rgrad_free(&full), rgrad_free(&seg);
	rec_free(&p);
}

TEST(recurrent_segments_same_bits)
{
	for (int kind = 0; kind < 3; kind++) {
		segments_same_bits(kind, 7, 3, 5, 9, 3);
		segments_same_bits(kind, 6, 50, 64, 128, 2); /* threaded sizes */
	}
}

/* Layers give the same bits on 1 and 2 threads (threads split rows and
 * tiles, never a sum). */
TEST(recurrent_same_bits_any_thread_count)
{
	for (int kind = 0; kind < 3; kind++) {
		rec p;
		rgrad g1, g2;
		rec_init(&p, kind, 6, 50, 64, 128);
		rgrad_alloc(&g1, &p);
		rgrad_alloc(&g2, &p);
		omp_set_num_threads(1);
		rec_grads(&p, &g1);
		float *h1 = malloc(6 * 50 * 128 * 4);
		memcpy(h1, p.h, 6 * 50 * 128 * 4);
		omp_set_num_threads(2);
		rec_grads(&p, &g2);
		CHECK_MSG(memcmp(h1, p.h, 6 * 50 * 128 * 4) == 0 &&
			  memcmp(g1.dx, g2.dx, 6 * 50 * 64 * 4) == 0 &&
			  memcmp(g1.dw_hh, g2.dw_hh, (size_t)p.G * 128 * 128 * 4) == 0 &&
			  memcmp(g1.dw_ih, g2.dw_ih, (size_t)p.G * 128 * 64 * 4) == 0,
			  "%s: 1 and 2 threads differ", cell_name[kind]);
		free(h1);
		rgrad_free(&g1), rgrad_free(&g2);
		rec_free(&p);
	}
}

/* ---- a tiny LSTM language model -------------------------------------- */

/* Trains embedding -> LSTM -> linear -> softmax-xent on a fixed string
 * for `steps` Adam steps with clipping; writes the loss of every step. */
static void train_tiny_lm(double *losses, int steps, uint64_t seed)
{
	static const char text[] =
		"the quick brown fox jumps over the lazy dog; "
		"pack my box with five dozen liquor jugs. "
		"how vexingly quick daft zebras jump! ";
	enum { V = 128, C = 32, H = 128, B = 32, T = 8 };
	int len = (int)sizeof text - 1;
	nk_param_spec specs[] = {
		{"wte", 2, {V, C}},         {"w_ih", 2, {4 * H, C}},
		{"w_hh", 2, {4 * H, H}},    {"b_ih", 1, {4 * H}},
		{"b_hh", 1, {4 * H}},       {"w_out", 2, {V, H}},
		{"b_out", 1, {V}},
	};
	nk_params P;
	if (nk_params_init(&P, specs, 7)) {
		CHECK(!"params");
		return;
	}
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	for (size_t i = 0; i < P.numel; i++)
		P.data[i] = (nk_rng_float(&r) * 2 - 1) * 0.0625f;
	float *wte = nk_params_value(&P, "wte"), *w_ih = nk_params_value(&P, "w_ih");
	float *w_hh = nk_params_value(&P, "w_hh"), *b_ih = nk_params_value(&P, "b_ih");
	float *b_hh = nk_params_value(&P, "b_hh"), *w_out = nk_params_value(&P, "w_out");
	float *b_out = nk_params_value(&P, "b_out");
	float *dwte = nk_params_grad(&P, "wte"), *dw_ih = nk_params_grad(&P, "w_ih");
	float *dw_hh = nk_params_grad(&P, "w_hh"), *db_ih = nk_params_grad(&P, "b_ih");
	float *db_hh = nk_params_grad(&P, "b_hh"), *dw_out = nk_params_grad(&P, "w_out");
	float *db_out = nk_params_grad(&P, "b_out");
	nk_adam adam;
	nk_adam_init(&adam, P.numel, 2e-3f, 0.9f, 0.999f, 1e-8f, 0.0f);
	uint32_t in[T * B], tg[T * B];
	float *emb = zeros(T * B * C), *h = zeros(T * B * H), *cl = zeros(B * H);
	float *h0 = zeros(B * H), *c0 = zeros(B * H);
	float *cache = zeros(nk_lstm_cache_floats(T, B, H));
	float *logits = zeros(T * B * V), *probs = zeros(T * B * V);
	float *dlog = zeros(T * B * V), *dh = zeros(T * B * H), *demb = zeros(T * B * C);
	float *mask = zeros(T * B * H), *hd = zeros(T * B * H), *dhd = zeros(T * B * H);
	for (int s = 0; s < steps; s++) {
		/* Batch b reads the text from offset (b * 7 + s * T) mod len,
		 * time-major. */
		for (int t = 0; t < T; t++)
			for (int b = 0; b < B; b++) {
				int o = (b * 7 + s * T + t) % len;
				in[t * B + b] = (uint8_t)text[o];
				tg[t * B + b] = (uint8_t)text[(o + 1) % len];
			}
		nk_params_zero_grad(&P);
		nk_embedding_forward(emb, in, wte, T * B, C);
		nk_lstm_forward(h, cl, cache, emb, h0, c0, w_ih, w_hh, b_ih, b_hh,
				T, B, C, H);
		nk_dropout_forward(hd, mask, h, 0.1f, (size_t)T * B * H, &r);
		nk_linear_forward(logits, hd, w_out, b_out, T * B, H, V);
		losses[s] = nk_softmax_xent_forward(probs, logits, tg, T * B, V);
		memset(dlog, 0, T * B * V * sizeof(float));
		nk_softmax_xent_backward(dlog, probs, tg, T * B, V, 1.0f / (T * B));
		memset(dhd, 0, T * B * H * sizeof(float));
		nk_linear_backward(dhd, dw_out, db_out, dlog, hd, w_out, T * B, H, V);
		memset(dh, 0, T * B * H * sizeof(float));
		nk_dropout_backward(dh, dhd, mask, (size_t)T * B * H);
		memset(demb, 0, T * B * C * sizeof(float));
		nk_lstm_backward(demb, NULL, NULL, dw_ih, dw_hh, db_ih, db_hh, dh,
				 NULL, NULL, cache, emb, h0, c0, h, w_ih, w_hh, T,
				 B, C, H);
		nk_embedding_backward(dwte, demb, in, T * B, C);
		nk_clip_grad_norm(P.grads, P.numel, 5.0);
		nk_adam_step(&adam, P.data, P.grads, 2e-3f);
	}
	nk_adam_free(&adam);
	free(emb), free(h), free(cl), free(h0), free(c0), free(cache), free(logits);
	free(probs), free(dlog), free(dh), free(demb), free(mask), free(hd), free(dhd);
	nk_params_free(&P);
}

TEST(lstm_lm_same_loss_curve)
{
	enum { S = 20 };
	double a[S], b[S], c[S], d[S];
	omp_set_num_threads(1);
	train_tiny_lm(a, S, 42);
	train_tiny_lm(b, S, 42);
	omp_set_num_threads(2);
	train_tiny_lm(c, S, 42);
	train_tiny_lm(d, S, 42);
	CHECK_MSG(memcmp(a, b, sizeof a) == 0, "1 thread: two runs differ");
	CHECK_MSG(memcmp(c, d, sizeof c) == 0, "2 threads: two runs differ");
#ifndef NK_USE_OPENBLAS /* OpenBLAS promises no such thing */
	CHECK_MSG(memcmp(a, c, sizeof a) == 0, "1 and 2 threads differ");
#endif
	/* It learns: the loss falls from about ln(128). */
	CHECK_MSG(a[0] > 4.5 && a[S - 1] < a[0] - 1.0, "loss %g -> %g", a[0], a[S - 1]);
	/* Another seed, another curve. */
	train_tiny_lm(b, S, 43);
	CHECK(memcmp(a, b, sizeof a) != 0);
}

/* ---- data for the PyTorch comparison (tests/t_nn_torch.sh) ------------ */

static int torch_dump(const char *path)
{
	nk_wfile *w = nk_wfile_create();
	enum { T = 5, B = 3, I = 7, H = 20, N = 6, C = 9, V = 11 };
	nk_wfile_set_str(w, "program", "test_nn");
	nk_wfile_set_ints(w, "shape", (int64_t[]){T, B, I, H}, 4);
	/* Recurrent layers: inputs, weights, outputs, gradients for loss
	 * sum(h * R). */
	rec recs[3];
	rgrad grads[3];
	for (int kind = 0; kind < 3; kind++) {
		rec *p = &recs[kind];
		rgrad *g = &grads[kind];
		rec_init(p, kind, T, B, I, H);
		memset(p->Rl, 0, B * H * sizeof(float));
		memset(p->Rc, 0, B * H * sizeof(float));
		rgrad_alloc(g, p);
		rec_grads(p, g);
		int G = p->G;
		char name[64];
#define ADD(field, ...)                                                         \
	do {                                                                     \
		snprintf(name, sizeof name, "%s.%s", cell_name[kind], #field);   \
		int64_t shp[] = {__VA_ARGS__};                                   \
		nk_wfile_add(w, name, NK_F32, (int)(sizeof shp / sizeof shp[0]), \
			     shp, field);                                        \
	} while (0)
		float *x = p->x, *h0 = p->h0, *c0 = p->c0, *w_ih = p->w_ih;
		float *w_hh = p->w_hh, *b_ih = p->b_ih, *b_hh = p->b_hh, *R = p->R;
		float *h = p->h, *c_last = p->c_last, *dx = g->dx, *dh0 = g->dh0;
		float *dc0 = g->dc0, *dw_ih = g->dw_ih, *dw_hh = g->dw_hh;
		float *db_ih = g->db_ih, *db_hh = g->db_hh;
		ADD(x, T, B, I); ADD(h0, B, H); ADD(w_ih, G * H, I);
		ADD(w_hh, G * H, H); ADD(b_ih, G * H); ADD(b_hh, G * H);
		ADD(R, T, B, H); ADD(h, T, B, H); ADD(dx, T, B, I);
		ADD(dh0, B, H); ADD(dw_ih, G * H, I); ADD(dw_hh, G * H, H);
		ADD(db_ih, G * H); ADD(db_hh, G * H);
		if (kind == LSTM) {
			ADD(c0, B, H); ADD(c_last, B, H); ADD(dc0, B, H);
		}
		/* Kept until written: the file borrows the data. */
	}
	/* Layer norm, linear, softmax-xent. */
	ln_ctx *ln = calloc(1, sizeof *ln);
	ln->N = N, ln->C = C, ln->in = rnd(N * C, 2), ln->w = rnd(C, 1);
	ln->b = rnd(C, 1), ln->out = zeros(N * C), ln->mean = zeros(N);
	ln->rstd = zeros(N), ln->R = rnd(N * C, 1);
	ln_loss(ln);
	float *ln_din = zeros(N * C), *ln_dw = zeros(C), *ln_db = zeros(C);
	nk_layernorm_backward(ln_din, ln_dw, ln_db, ln->R, ln->in, ln->w, ln->mean,
			      ln->rstd, N, C);
	nk_wfile_add(w, "ln.in", NK_F32, 2, (int64_t[]){N, C}, ln->in);
	nk_wfile_add(w, "ln.w", NK_F32, 1, (int64_t[]){C}, ln->w);
	nk_wfile_add(w, "ln.b", NK_F32, 1, (int64_t[]){C}, ln->b);
	nk_wfile_add(w, "ln.R", NK_F32, 2, (int64_t[]){N, C}, ln->R);
	nk_wfile_add(w, "ln.out", NK_F32, 2, (int64_t[]){N, C}, ln->out);
	nk_wfile_add(w, "ln.din", NK_F32, 2, (int64_t[]){N, C}, ln_din);
	nk_wfile_add(w, "ln.dw", NK_F32, 1, (int64_t[]){C}, ln_dw);
	nk_wfile_add(w, "ln.db", NK_F32, 1, (int64_t[]){C}, ln_db);
	float *logits = rnd(N * V, 3), *probs = zeros(N * V), *dlog = zeros(N * V);
	int32_t *tg = malloc(N * sizeof *tg);
	for (int n = 0; n < N; n++)
		tg[n] = (int32_t)nk_rng_below(&rng, V);
	double loss = nk_softmax_xent_forward(probs, logits, (uint32_t *)tg, N, V);
	nk_softmax_xent_backward(dlog, probs, (uint32_t *)tg, N, V, 1.0f / N);
	nk_wfile_set_float(w, "xent.loss", loss);
	nk_wfile_add(w, "xent.logits", NK_F32, 2, (int64_t[]){N, V}, logits);
	nk_wfile_add(w, "xent.targets", NK_I32, 1, (int64_t[]){N}, tg);
	nk_wfile_add(w, "xent.dlogits", NK_F32, 2, (int64_t[]){N, V}, dlog);
	/* AdamW and SGD: three steps from the same parameters and grads. */
	enum { P = 50 };
	float *p0 = rnd(P, 1), *gr = rnd(3 * P, 1), *pa = malloc(P * 4), *ps = malloc(P * 4);
	memcpy(pa, p0, P * 4), memcpy(ps, p0, P * 4);
	nk_adam adam;
	nk_sgd sgd;
	nk_adam_init(&adam, P, 1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f);
	nk_sgd_init(&sgd, P, 1e-1f, 0.9f, 0.01f);
	for (int s = 0; s < 3; s++) {
		nk_adam_step(&adam, pa, gr + s * P, 1e-2f);
		nk_sgd_step(&sgd, ps, gr + s * P, 1e-1f);
	}
	nk_wfile_add(w, "opt.p0", NK_F32, 1, (int64_t[]){P}, p0);
	nk_wfile_add(w, "opt.grads", NK_F32, 2, (int64_t[]){3, P}, gr);
	nk_wfile_add(w, "opt.adamw", NK_F32, 1, (int64_t[]){P}, pa);
	nk_wfile_add(w, "opt.sgd", NK_F32, 1, (int64_t[]){P}, ps);
	int rc = nk_wfile_write(w, path, 0);
	if (rc)
		fprintf(stderr, "test_nn: %s\n", nk_last_error());
	nk_wfile_free(w);
	for (int kind = 0; kind < 3; kind++)
		rec_free(&recs[kind]), rgrad_free(&grads[kind]);
	free(ln->in), free(ln->w), free(ln->b), free(ln->out), free(ln->mean);
	free(ln->rstd), free(ln->R), free(ln), free(ln_din), free(ln_dw), free(ln_db);
	free(logits), free(probs), free(dlog), free(tg), free(p0), free(gr);
	free(pa), free(ps);
	nk_adam_free(&adam);
	nk_sgd_free(&sgd);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	nk_rng_seed(&rng, 2024, 0);
	if (argc == 3 && strcmp(argv[1], "torch") == 0)
		return torch_dump(argv[2]);
	RUN(embedding_forward_backward);
	RUN(linear_gradients);
	RUN(softmax_xent);
	RUN(softmax_temperature);
	RUN(layernorm_gradients);
	RUN(dropout_mask);
	RUN(lstm_gradients);
	RUN(gru_gradients);
	RUN(rnn_gradients);
	RUN(recurrent_null_initial_state);
#ifdef NK_USE_OPENBLAS
	nk_test_skip("recurrent_segments_same_bits",
		     "built with BLAS=openblas, whose GEMM rows depend on M");
	(void)recurrent_segments_same_bits;
#else
	RUN(recurrent_segments_same_bits);
#endif
#ifdef NK_USE_OPENBLAS
	nk_test_skip("recurrent_same_bits_any_thread_count",
		     "built with BLAS=openblas, whose sums depend on its threads");
	(void)recurrent_same_bits_any_thread_count;
#else
	RUN(recurrent_same_bits_any_thread_count);
#endif
	RUN(lstm_lm_same_loss_curve);
	return nk_test_exit();
}
