/* test_charlm.c - the language model and its data pipeline. */
#include "check.h"

#include "core/base.h"
#include "models/charlm.h"
#include "models/charlm_file.h"
#include "nn/optim.h"
#include "text/textdata.h"
#include "formats/wfile.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

/* ---- textdata ---- */

TEST(text_char_round_trip)
{
	/* ASCII, 2/3/4-byte UTF-8, and invalid bytes (escaped, kept). */
	const unsigned char in[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82\xff\xc3z";
	size_t len = sizeof in - 1, n;
	uint32_t *s;
	CHECK(nk_text_decode(&s, &n, in, len, NK_LEVEL_CHAR) == 0);
	CHECK(n == 7);
	CHECK(s[0] == 'a' && s[1] == 0xE9 && s[2] == 0x20AC && s[3] == 0x1F642);
	CHECK(s[4] == 0xDCFF && s[5] == 0xDCC3 && s[6] == 'z');
	unsigned char out[64], b[4];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int m = nk_text_encode_sym(b, s[i], NK_LEVEL_CHAR);
		memcpy(out + k, b, (size_t)m);
		k += (size_t)m;
	}
	CHECK(k == len && memcmp(out, in, len) == 0);
	free(s);
	CHECK(nk_text_decode(&s, &n, in, len, NK_LEVEL_BYTE) == 0);
	CHECK(n == len && s[1] == 0xC3);
	free(s);
}

TEST(text_vocab)
{
	const unsigned char in[] = "hello\nworld";
	uint32_t *s;
	size_t n;
	nk_textvocab v;
	CHECK(nk_text_decode(&s, &n, in, sizeof in - 1, NK_LEVEL_BYTE) == 0);
	CHECK(nk_textvocab_build(&v, NK_LEVEL_BYTE, s, n) == 0);
	CHECK(v.V == 8); /* \n d e h l o r w */
	CHECK(v.sym[0] == '\n' && v.sym[7] == 'w');
	CHECK(nk_textvocab_id(&v, 'h') == 3 && nk_textvocab_id(&v, 'z') == -1);
	CHECK(nk_textvocab_encode(&v, s, n, "x") == 0);
	CHECK(s[0] == 3 && s[5] == 0);
	free(s);
	/* A symbol outside the vocabulary: named with line and column. */
	const unsigned char bad[] = "he\nlzo";
	CHECK(nk_text_decode(&s, &n, bad, sizeof bad - 1, NK_LEVEL_BYTE) == 0);
	CHECK(nk_textvocab_encode(&v, s, n, "in.txt") == NK_ERANGE);
	CHECK_MSG(strstr(nk_last_error(), "in.txt:2:2: character 'z'"),
		  "message: %s", nk_last_error());
	free(s);
	nk_textvocab_free(&v);
	/* Stored symbols must be ascending. */
	int64_t syms[] = {10, 97, 96};
	CHECK(nk_textvocab_from_syms(&v, NK_LEVEL_CHAR, syms, 3) == NK_EFORMAT);
	CHECK(nk_textvocab_from_syms(&v, NK_LEVEL_CHAR, syms, 2) == 0);
	CHECK(v.V == 2);
	nk_textvocab_free(&v);
}

TEST(text_streams)
{
	uint32_t data[23];
	for (int i = 0; i < 23; i++)
		data[i] = (uint32_t)i;
	nk_streams s;
	uint32_t x[6], y[6];
	/* 2 streams of 11; T = 3: batches at 0 and 3 and 6, then wrap. */
	CHECK(nk_streams_init(&s, data, 23, 2, 3) == 0);
	CHECK(s.len == 11);
	CHECK(nk_streams_next(&s, x, y) == 0);
	CHECK(x[0] == 0 && x[1] == 11 && x[2] == 1 && x[3] == 12);
	CHECK(y[0] == 1 && y[1] == 12 && y[4] == 3 && y[5] == 14);
	CHECK(nk_streams_next(&s, x, y) == 0 && x[0] == 3 && x[1] == 14);
	CHECK(nk_streams_next(&s, x, y) == 0 && x[0] == 6 && y[5] == 20);
	CHECK(nk_streams_next(&s, x, y) == 1 && x[0] == 0 && s.epoch == 1);
	/* Too short for one window of T+1 per stream. */
	CHECK(nk_streams_init(&s, data, 7, 2, 3) == NK_ERANGE);
	CHECK(nk_streams_init(&s, data, 8, 2, 3) == 0);
}

/* ---- the model ---- */

static void make_model(nk_charlm *m, int cell, float dropout, uint64_t seed)
{
	nk_charlm_config cfg = {cell, 2, 7, 5, 11, dropout};
	nk_rng g;
	CHECK(nk_charlm_init(m, &cfg) == 0);
	nk_rng_seed(&g, seed, 0);
	nk_charlm_randomize(m, &g);
}

static void make_batch(uint32_t *x, uint32_t *y, int n, int V, uint64_t seed)
{
	nk_rng g;
	nk_rng_seed(&g, seed, 3);
	for (int i = 0; i < n; i++) {
		x[i] = (uint32_t)nk_rng_below(&g, (uint64_t)V);
		y[i] = (uint32_t)nk_rng_below(&g, (uint64_t)V);
	}
}

/* Gradient checkpointing changes memory, never bits: with dropout, several
 * segment lengths give the plain run's loss, gradients and carried state
 * exactly, over two consecutive steps. */
static void check_segments(int cell, int L, int H, int C, int V, int B,
			   int T, const int *Ks, int nK)
{
	nk_charlm_config cfg = {cell, L, H, C, V, 0.3f};
	nk_charlm m;
	nk_rng g;
	CHECK(nk_charlm_init(&m, &cfg) == 0);
	nk_rng_seed(&g, 5, 0);
	nk_charlm_randomize(&m, &g);
	size_t n = (size_t)T * B, np = m.p.numel;
	uint32_t *x = malloc(2 * n * sizeof *x), *y = malloc(2 * n * sizeof *y);
	make_batch(x, y, (int)(2 * n), V, 1);
	float *g0 = malloc(np * sizeof *g0);
	size_t hbytes = (size_t)L * B * H * sizeof(float);
	float *h0 = malloc(hbytes);
	double l0[2];
	nk_charlm_run *r = nk_charlm_run_new(&m, B, T, 0, 1);
	CHECK(r != NULL);
	for (int s = 0; s < 2; s++)
		l0[s] = nk_charlm_train_step(&m, r, x + s * n, y + s * n, 99 + s);
	memcpy(g0, m.p.grads, np * sizeof *g0);
	memcpy(h0, nk_charlm_run_h(r), hbytes);
	CHECK(isfinite(l0[0]) && l0[0] > 1.0);
	for (int k = 0; k < nK; k++) {
		nk_charlm_run *rk = nk_charlm_run_new(&m, B, T, Ks[k], 1);
		CHECK(rk != NULL);
		CHECK(nk_charlm_run_bytes(rk) < nk_charlm_run_bytes(r));
		double l[2];
		for (int s = 0; s < 2; s++)
			l[s] = nk_charlm_train_step(&m, rk, x + s * n, y + s * n,
						    99 + s);
		CHECK_MSG(l[0] == l0[0] && l[1] == l0[1],
			  "cell %d K %d: loss %.17g vs %.17g", cell, Ks[k], l[1],
			  l0[1]);
		CHECK_MSG(memcmp(m.p.grads, g0, np * sizeof *g0) == 0,
			  "cell %d K %d: gradients differ", cell, Ks[k]);
		CHECK(memcmp(nk_charlm_run_h(rk), h0, hbytes) == 0);
		nk_charlm_run_free(rk);
	}
	/* And the gradient is not trivially zero. */
	double norm = 0;
	for (size_t i = 0; i < np; i++)
		norm += (double)g0[i] * g0[i];
	CHECK(norm > 1e-6);
	free(g0);
	free(h0);
	free(x);
	free(y);
	nk_charlm_run_free(r);
	nk_charlm_free(&m);
}

TEST(checkpoint_bit_identical)
{
	int Ks[] = {1, 4, 5, 12};
	for (int cell = 0; cell < NK_CELL_COUNT; cell++)
		check_segments(cell, 2, 7, 5, 11, 3, 13, Ks, 4);
}

/* Sizes where the products go through the packed, threaded GEMM. */
TEST(checkpoint_bit_identical_large)
{
	int Ks[] = {7, 13, 20};
	for (int cell = 0; cell < NK_CELL_COUNT; cell++)
		check_segments(cell, 2, 64, 40, 50, 24, 40, Ks, 3);
}

/* Backward against central differences of the loss, in double-checked
 * float32: the whole model's wiring (embedding, layers, dropout, head). */
TEST(model_gradient_finite_differences)
{
	enum { B = 2, T = 5 };
	uint32_t x[T * B], y[T * B];
	make_batch(x, y, T * B, 11, 7);
	for (int cell = 0; cell < NK_CELL_COUNT; cell++) {
		nk_charlm m;
		make_model(&m, cell, 0.25f, 11);
		nk_charlm_run *r = nk_charlm_run_new(&m, B, T, 2, 1);
		nk_charlm_train_step(&m, r, x, y, 42);
		size_t np = m.p.numel;
		float *g = malloc(np * sizeof *g);
		memcpy(g, m.p.grads, np * sizeof *g);
		nk_rng pick;
		nk_rng_seed(&pick, 3, (uint64_t)cell);
		int tested = 0, bad = 0;
		for (int trial = 0; trial < 400 && tested < 30; trial++) {
			size_t i = (size_t)nk_rng_below(&pick, np);
			if (fabsf(g[i]) < 1e-3f)
				continue; /* padding or a tiny gradient */
			float keep = m.p.data[i], eps = 1e-2f;
			m.p.data[i] = keep + eps;
			nk_charlm_run_reset(r);
			double lp = nk_charlm_train_step(&m, r, x, y, 42);
			m.p.data[i] = keep - eps;
			nk_charlm_run_reset(r);
			double lm = nk_charlm_train_step(&m, r, x, y, 42);
			m.p.data[i] = keep;
			double num = (lp - lm) / (2.0 * eps);
			double err = fabs(num - g[i]) / fmax(1e-3, fabs(num) + fabs(g[i]));
			if (err > 0.05) {
				if (!bad)
					CHECK_MSG(0, "cell %d param %zu: numeric %g "
						  "analytic %g", cell, i, num, g[i]);
				bad++;
			}
			tested++;
		}
		CHECK(tested >= 20);
		free(g);
		nk_charlm_run_free(r);
		nk_charlm_free(&m);
	}
}

/* Carrying the state: one forward over 12 steps gives the losses of
 * three forwards of 4 from the carried state; a reset starts over. */
TEST(forward_carries_state)
{
	enum { B = 2, T = 12 };
	uint32_t x[T * B], y[T * B];
	make_batch(x, y, T * B, 11, 9);
	nk_charlm m;
	make_model(&m, NK_CELL_LSTM, 0, 1);
	nk_charlm_run *a = nk_charlm_run_new(&m, B, T, 0, 0);
	nk_charlm_run *b = nk_charlm_run_new(&m, B, 4, 0, 0);
	double la = nk_charlm_forward(&m, a, x, y, T), lb = 0;
	for (int t = 0; t < T; t += 4)
		lb += nk_charlm_forward(&m, b, x + t * B, y + t * B, 4);
	CHECK_MSG(fabs(la - lb) <= 1e-12 * fabs(la), "%.17g vs %.17g", la, lb);
	double again = nk_charlm_forward(&m, b, x, y, 4);
	nk_charlm_run_reset(b);
	double fresh = nk_charlm_forward(&m, b, x, y, 4);
	nk_charlm_run_reset(a);
	double first = nk_charlm_forward(&m, a, x, y, 4);
	CHECK(fresh == first && again != fresh);
	nk_charlm_run_free(a);
	nk_charlm_run_free(b);
	nk_charlm_free(&m);
}

/* Evaluation runs each chunk of T steps in short segments (its workspace
 * does not grow with T): the loss is the one of a single T-step forward
 * per chunk, bit for bit. */
TEST(evaluate_segmented_bit_identical)
{
	enum { B = 8, T = 600, CHUNKS = 2 };
	size_t n = (size_t)B * T * CHUNKS + 1;
	uint32_t *ids = malloc(n * sizeof *ids);
	uint32_t *x = malloc((size_t)T * B * sizeof *x);
	uint32_t *y = malloc((size_t)T * B * sizeof *y);
	CHECK(ids && x && y);
	for (size_t i = 0; i < n; i++)
		ids[i] = (uint32_t)((i * 7 + i / 13) % 9);
	for (int cell = 0; cell < NK_CELL_COUNT; cell++) {
		nk_charlm m;
		make_model(&m, cell, 0, 1);
		double loss;
		size_t count;
		CHECK(nk_charlm_evaluate(&m, ids, n, B, T, &loss, &count) == 0);
		/* The reference: one segment of T steps per chunk. */
		nk_charlm_run *r = nk_charlm_run_new(&m, B, T, 0, 0);
		CHECK(r != NULL);
		size_t len = (n - 1) / B;
		double sum = 0;
		for (size_t pos = 0; pos < len; pos += T) {
			for (int b = 0; b < B; b++)
				for (int t = 0; t < T; t++) {
					x[t * B + b] = ids[b * len + pos + t];
					y[t * B + b] = ids[b * len + pos + t + 1];
				}
			sum += nk_charlm_forward(&m, r, x, y, T);
		}
		CHECK(count == len * B);
		CHECK_MSG(loss == sum / (double)count, "cell %d: %.17g vs %.17g",
			  cell, loss, sum / (double)count);
		nk_charlm_run_free(r);
		nk_charlm_free(&m);
	}
	free(ids);
	free(x);
	free(y);
}

/* Adam on a repeating batch: the loss falls, and the same seed gives the
 * same curve bit for bit. */
TEST(training_learns_and_is_deterministic)
{
	enum { B = 4, T = 8, STEPS = 60 };
	uint32_t x[T * B], y[T * B];
	for (int i = 0; i < T * B; i++) { /* a cycle: y follows x */
		x[i] = (uint32_t)(i % 5);
		y[i] = (uint32_t)((i % 5 + 1) % 5);
	}
	double curve[2][STEPS];
	for (int run = 0; run < 2; run++) {
		nk_charlm m;
		make_model(&m, NK_CELL_GRU, 0.1f, 3);
		nk_adam a;
		CHECK(nk_adam_init(&a, m.p.numel, 1e-2f, 0.9f, 0.999f, 1e-8f, 0) == 0);
		nk_charlm_run *r = nk_charlm_run_new(&m, B, T, 3, 1);
		for (int s = 0; s < STEPS; s++) {
			nk_charlm_run_reset(r);
			curve[run][s] = nk_charlm_train_step(&m, r, x, y, (uint64_t)s);
			nk_clip_grad_norm(m.p.grads, m.p.numel, 5);
			nk_adam_step(&a, m.p.data, m.p.grads, 1e-2f);
		}
		nk_charlm_run_free(r);
		nk_adam_free(&a);
		nk_charlm_free(&m);
	}
	CHECK(memcmp(curve[0], curve[1], sizeof curve[0]) == 0);
	CHECK_MSG(curve[0][STEPS - 1] < 0.5 * curve[0][0], "loss %g -> %g",
		  curve[0][0], curve[0][STEPS - 1]);
}

TEST(save_load)
{
	nk_charlm m, back;
	make_model(&m, NK_CELL_GRU, 0.5f, 4);
	char path[] = "/tmp/test_charlm_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	nk_wfile *w = nk_wfile_create();
	CHECK(nk_charlm_to_wfile(&m, w) == 0);
	CHECK(nk_wfile_write(w, path, 0) == 0);
	nk_wfile_free(w);
	nk_wfile *f = nk_wfile_read(path);
	CHECK(f != NULL);
	CHECK(nk_charlm_from_wfile(&back, f) == 0);
	CHECK(back.cfg.cell == NK_CELL_GRU && back.cfg.L == 2 &&
	      back.cfg.H == 7 && back.cfg.V == 11 && back.cfg.dropout == 0.5f);
	CHECK(back.p.numel == m.p.numel &&
	      memcmp(back.p.data, m.p.data, m.p.numel * sizeof(float)) == 0);
	nk_charlm_free(&back);
	nk_wfile_free(f);
	/* Another program's file is refused by name. */
	w = nk_wfile_create();
	CHECK(nk_charlm_to_wfile(&m, w) == 0);
	nk_wfile_set_str(w, "program", "w2v-train");
	CHECK(nk_wfile_write(w, path, 0) == 0);
	nk_wfile_free(w);
	f = nk_wfile_read(path);
	CHECK(nk_charlm_from_wfile(&back, f) == NK_EFORMAT);
	CHECK_MSG(strstr(nk_last_error(), "written by w2v-train"), "%s",
		  nk_last_error());
	nk_wfile_free(f);
	unlink(path);
	nk_charlm_free(&m);
}

TEST(pick)
{
	float logits[5] = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f}, work[10];
	/* top-k 1 is the argmax whatever u is. */
	CHECK(nk_charlm_pick(logits, 5, 1, 1, 0.0, work) == 1);
	CHECK(nk_charlm_pick(logits, 5, 1, 1, 0.999, work) == 1);
	/* top-k 2 never leaves {1, 3}. */
	for (double u = 0; u < 1; u += 0.01) {
		uint32_t k = nk_charlm_pick(logits, 5, 1, 2, u, work);
		CHECK(k == 1 || k == 3);
	}
	/* Low temperature concentrates, high spreads. */
	int hits_low = 0, hits_high = 0;
	for (double u = 0.005; u < 1; u += 0.01) {
		hits_low += nk_charlm_pick(logits, 5, 0.05f, 0, u, work) == 1;
		hits_high += nk_charlm_pick(logits, 5, 50, 0, u, work) == 1;
	}
	CHECK(hits_low > 85 && hits_high < 30);
}

int main(void)
{
	RUN(text_char_round_trip);
	RUN(text_vocab);
	RUN(text_streams);
	RUN(checkpoint_bit_identical);
	RUN(checkpoint_bit_identical_large);
	RUN(model_gradient_finite_differences);
	RUN(forward_carries_state);
	RUN(evaluate_segmented_bit_identical);
	RUN(training_learns_and_is_deterministic);
	RUN(save_load);
	RUN(pick);
	return nk_test_exit();
}
