/* charlm.c - embedding -> L recurrent layers -> linear -> softmax-xent,
 * trained by truncated BPTT, optionally with gradient checkpointing. */
#include "models/charlm.h"
#include "core/base.h"
#include "formats/wfile.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/linear.h"
#include "nn/lstm.h"
#include "nn/rnn.h"
#include "nn/softmax.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <string.h>

static const char *cell_names[] = {"rnn", "lstm", "gru"};
_Static_assert(sizeof cell_names / sizeof *cell_names == NK_CELL_COUNT,
	       "a name for every cell");
static const int cell_gates[] = {1, 4, 3};

const char *nk_cell_name(int cell)
{
	return cell >= 0 && cell < NK_CELL_COUNT ? cell_names[cell] : NULL;
}

int nk_cell_gates(int cell)
{
	return cell >= 0 && cell < NK_CELL_COUNT ? cell_gates[cell] : 0;
}

int nk_cell_from_name(const char *name)
{
	for (int i = 0; i < NK_CELL_COUNT; i++)
		if (strcmp(name, cell_names[i]) == 0)
			return i;
	return -1;
}

/* ---- the model ---------------------------------------------------------- */

int nk_charlm_init(nk_charlm *m, const nk_charlm_config *cfg)
{
	memset(m, 0, sizeof *m);
	if (cfg->cell < 0 || cfg->cell >= NK_CELL_COUNT)
		return nk_error(NK_EINVAL, "unknown cell %d", cfg->cell);
	if (cfg->L < 1 || cfg->L > NK_CHARLM_MAX_LAYERS)
		return nk_error(NK_ERANGE, "%d layers: 1 to %d allowed", cfg->L,
				NK_CHARLM_MAX_LAYERS);
	if (cfg->H < 1 || cfg->H > 65536 || cfg->C < 1 || cfg->C > 65536)
		return nk_error(NK_ERANGE, "hidden %d, embedding %d: 1 to "
				"65536 allowed", cfg->H, cfg->C);
	if (cfg->V < 1 || cfg->V > (1 << 24))
		return nk_error(NK_ERANGE, "vocabulary of %d: 1 to 2^24 allowed",
				cfg->V);
	if (!(cfg->dropout >= 0 && cfg->dropout < 1))
		return nk_error(NK_ERANGE, "dropout %g: 0 <= p < 1 allowed",
				cfg->dropout);
	m->cfg = *cfg;
	int L = cfg->L, G = m->G = cell_gates[cfg->cell];
	int64_t H = cfg->H, C = cfg->C, V = cfg->V;
	nk_param_spec spec[3 + 4 * NK_CHARLM_MAX_LAYERS];
	char names[4 * NK_CHARLM_MAX_LAYERS][32];
	int n = 0;
	spec[n++] = (nk_param_spec){"embed.weight", 2, {V, C}};
	for (int l = 0; l < L; l++) {
		static const char *what[] = {"w_ih", "w_hh", "b_ih", "b_hh"};
		for (int k = 0; k < 4; k++) {
			char *nm = names[4 * l + k];
			snprintf(nm, sizeof names[0], "rnn.%d.%s", l, what[k]);
			spec[n] = (nk_param_spec){nm, k < 2 ? 2 : 1,
						  {G * H, k == 0 ? (l ? H : C) : H}};
			n++;
		}
	}
	spec[n++] = (nk_param_spec){"out.weight", 2, {V, H}};
	spec[n++] = (nk_param_spec){"out.bias", 1, {V}};
	int rc = nk_params_init(&m->p, spec, n);
	if (rc)
		return rc;
	nk_tensor *v = m->p.value, *g = m->p.grad;
	m->wte = v[0].data, m->dwte = g[0].data;
	for (int l = 0; l < L; l++) {
		int i = 1 + 4 * l;
		m->w_ih[l] = v[i].data, m->dw_ih[l] = g[i].data;
		m->w_hh[l] = v[i + 1].data, m->dw_hh[l] = g[i + 1].data;
		m->b_ih[l] = v[i + 2].data, m->db_ih[l] = g[i + 2].data;
		m->b_hh[l] = v[i + 3].data, m->db_hh[l] = g[i + 3].data;
	}
	m->w_out = v[n - 2].data, m->dw_out = g[n - 2].data;
	m->b_out = v[n - 1].data, m->db_out = g[n - 1].data;
	return NK_OK;
}

void nk_charlm_randomize(nk_charlm *m, nk_rng *rng)
{
	float kr = 1.0f / sqrtf((float)m->cfg.H);
	for (int i = 0; i < m->p.count; i++) {
		if (i == 0)
			nk_tensor_fill_normal(&m->p.value[i], rng, 0, 1);
		else
			nk_tensor_fill_uniform(&m->p.value[i], rng, -kr, kr);
	}
}

void nk_charlm_free(nk_charlm *m)
{
	nk_params_free(&m->p);
	memset(m, 0, sizeof *m);
}

/* ---- the workspace -------------------------------------------------------- */

/* With several threads a training run splits the batch: each thread runs
 * the whole model over its own streams with its own workspace and its own
 * gradient block, and the blocks are summed in thread order at the end of
 * the step.  One synchronization per step instead of several per time
 * step: the per-step products (B x 4H x H) are too small to share. */
struct charlm_sub {
	nk_charlm_run *r;
	float *grads;      /* a gradient block laid out like m->p.grads */
	uint32_t *x, *y;   /* (T, Bs) this thread's columns of the batch */
	int b0, Bs;        /* its streams: b0 .. b0 + Bs - 1 */
	double loss;
};

struct nk_charlm_run {
	int B, T, K, nseg, train;
	int nsub;                          /* > 1: the batch is split */
	struct charlm_sub *sub;
	int L, H, C, V, cell;
	size_t bytes;
	float *h, *c;                      /* carried state (L,B,H) */
	float *emb;                        /* (K,B,C) */
	float *hs[NK_CHARLM_MAX_LAYERS];   /* (K,B,H) */
	float *cache[NK_CHARLM_MAX_LAYERS];
	float *clast[NK_CHARLM_MAX_LAYERS];/* (B,H) LSTM final cell */
	float *mask[NK_CHARLM_MAX_LAYERS]; /* (K,B,H) dropout, l < L-1 */
	float *drop[NK_CHARLM_MAX_LAYERS];
	float *logits, *probs;             /* (K,B,V) */
	float *bh, *bc;                    /* (nseg,L,B,H) segment starts */
	float *fh, *fc;                    /* (L,B,H) final state */
	float *dlogits;                    /* (B,V) */
	float *da, *db;                    /* (K,B,max(C,H)) */
	float *dnh, *dnc;                  /* (L,B,H) into the next segment */
	float *dh0, *dc0;                  /* (B,H) */
	void **allocs;
	int nallocs;
};

static float *ralloc(nk_charlm_run *r, size_t n)
{
	if (!n)
		n = 1;
	size_t bytes;
	if (nk_size_mul(&bytes, n, sizeof(float)))
		return NULL;
	float *p = nk_malloc_aligned(bytes);
	if (!p)
		return NULL;
	memset(p, 0, bytes);
	r->allocs[r->nallocs++] = p;
	r->bytes += bytes;
	return p;
}

void nk_charlm_run_free(nk_charlm_run *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nsub; i++) {
		nk_charlm_run_free(r->sub[i].r);
		nk_free_aligned(r->sub[i].grads);
		free(r->sub[i].x);
		free(r->sub[i].y);
	}
	free(r->sub);
	for (int i = 0; i < r->nallocs; i++)
		nk_free_aligned(r->allocs[i]);
	free(r->allocs);
	free(r);
}

/* state_only: just the carried state (the threads' runs do the work). */
static nk_charlm_run *run_alloc(const nk_charlm *m, int B, int T, int K,
				int train, int state_only)
{
	const nk_charlm_config *cf = &m->cfg;
	if (B < 1 || T < 1 || K < 0) {
		nk_error(NK_EINVAL, "batch %d, BPTT %d, segment %d", B, T, K);
		return NULL;
	}
	if (K == 0 || K > T)
		K = T;
	int L = cf->L, H = cf->H, C = cf->C, V = cf->V;
	int IH = C > H ? C : H;
	/* The layers index with int: every buffer must stay below 2^31. */
	double biggest = (double)K * B * (V > m->G * H ? V : m->G * H);
	if (biggest * 8 > 2147483647.0 || (double)K * B * IH > 2147483647.0) {
		nk_error(NK_ERANGE, "batch %d x BPTT %d is too large for this "
			 "model (use --checkpoint or a smaller batch)", B, K);
		return NULL;
	}
	nk_charlm_run *r = nk_calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (!(r->allocs = nk_calloc(16 + 6 * NK_CHARLM_MAX_LAYERS,
				    sizeof *r->allocs))) {
		free(r);
		return NULL;
	}
	r->B = B, r->T = T, r->K = K, r->nseg = (T + K - 1) / K;
	r->train = train;
	r->L = L, r->H = H, r->C = C, r->V = V, r->cell = cf->cell;
	size_t BH = (size_t)B * H, KB = (size_t)K * B, LBH = (size_t)L * BH;
	int lstm = cf->cell == NK_CELL_LSTM;
	int ok = (r->h = ralloc(r, LBH)) && (!lstm || (r->c = ralloc(r, LBH)));
	if (state_only)
		return ok ? r : (nk_charlm_run_free(r), NULL);
	ok = ok && (r->emb = ralloc(r, KB * C)) &&
		 (r->logits = ralloc(r, KB * V)) && (r->probs = ralloc(r, KB * V));
	for (int l = 0; ok && l < L; l++) {
		size_t cf_ = cf->cell == NK_CELL_LSTM ? nk_lstm_cache_floats(K, B, H)
			   : cf->cell == NK_CELL_GRU  ? nk_gru_cache_floats(K, B, H)
						      : nk_rnn_cache_floats(K, B, H);
		ok = (r->hs[l] = ralloc(r, KB * H)) &&
		     (r->cache[l] = ralloc(r, cf_)) &&
		     (!lstm || (r->clast[l] = ralloc(r, BH)));
		if (ok && train && l < L - 1 && cf->dropout > 0)
			ok = (r->mask[l] = ralloc(r, KB * H)) &&
			     (r->drop[l] = ralloc(r, KB * H));
	}
	if (ok && train)
		ok = (r->bh = ralloc(r, r->nseg * LBH)) &&
		     (!lstm || (r->bc = ralloc(r, r->nseg * LBH))) &&
		     (r->fh = ralloc(r, LBH)) && (!lstm || (r->fc = ralloc(r, LBH))) &&
		     (r->dlogits = ralloc(r, (size_t)B * V)) &&
		     (r->da = ralloc(r, KB * IH)) && (r->db = ralloc(r, KB * IH)) &&
		     (r->dnh = ralloc(r, LBH)) && (!lstm || (r->dnc = ralloc(r, LBH))) &&
		     (r->dh0 = ralloc(r, BH)) && (!lstm || (r->dc0 = ralloc(r, BH)));
	if (!ok) {
		nk_charlm_run_free(r);
		return NULL;
	}
	return r;
}

nk_charlm_run *nk_charlm_run_new(const nk_charlm *m, int B, int T, int K,
				 int train)
{
	int nt = train ? omp_get_max_threads() : 1;
	if (nt > B)
		nt = B;
	if (nt <= 1)
		return run_alloc(m, B, T, K, train, 0);
	nk_charlm_run *r = run_alloc(m, B, T, K, train, 1);
	if (!r)
		return NULL;
	if (!(r->sub = nk_calloc((size_t)nt, sizeof *r->sub))) {
		nk_charlm_run_free(r);
		return NULL;
	}
	r->nsub = nt;
	for (int i = 0, b0 = 0; i < nt; i++) {
		struct charlm_sub *u = &r->sub[i];
		u->Bs = B / nt + (i < B % nt);
		u->b0 = b0;
		b0 += u->Bs;
		size_t xy = (size_t)T * u->Bs * sizeof(uint32_t);
		if (!(u->r = run_alloc(m, u->Bs, T, K, train, 0)) ||
		    !(u->grads = nk_malloc_aligned(m->p.numel * sizeof(float))) ||
		    !(u->x = nk_malloc(xy)) || !(u->y = nk_malloc(xy))) {
			nk_charlm_run_free(r);
			return NULL;
		}
		r->bytes += u->r->bytes + m->p.numel * sizeof(float) + 2 * xy;
	}
	return r;
}

size_t nk_charlm_run_bytes(const nk_charlm_run *r) { return r->bytes; }
float *nk_charlm_run_h(nk_charlm_run *r) { return r->h; }
float *nk_charlm_run_c(nk_charlm_run *r) { return r->c; }
const float *nk_charlm_run_logits(const nk_charlm_run *r) { return r->logits; }

void nk_charlm_run_reset(nk_charlm_run *r)
{
	size_t LBH = (size_t)r->L * r->B * r->H;
	memset(r->h, 0, LBH * sizeof(float));
	if (r->c)
		memset(r->c, 0, LBH * sizeof(float));
}

/* ---- forward and backward over one segment ---------------------------- */

/* Forward over Ts <= K steps of x (Ts,B) from the state h0, c0 (L,B,H)
 * into the segment buffers; dropout when `train` (masks seeded by seed,
 * layer and global time step t0 + t).  Ends with the logits. */
static void fwd_segment(const nk_charlm *m, nk_charlm_run *r,
			const uint32_t *x, int Ts, const float *h0,
			const float *c0, int train, uint64_t seed, int t0)
{
	int B = r->B, H = r->H, C = r->C, L = r->L;
	size_t BH = (size_t)B * H;
	float p = m->cfg.dropout;
	nk_embedding_forward(r->emb, x, m->wte, Ts * B, C);
	const float *in = r->emb;
	int I = C;
	for (int l = 0; l < L; l++) {
		const float *h0l = h0 + l * BH;
		switch (r->cell) {
		case NK_CELL_LSTM:
			nk_lstm_forward(r->hs[l], r->clast[l], r->cache[l], in,
					h0l, c0 + l * BH, m->w_ih[l], m->w_hh[l],
					m->b_ih[l], m->b_hh[l], Ts, B, I, H);
			break;
		case NK_CELL_GRU:
			nk_gru_forward(r->hs[l], r->cache[l], in, h0l, m->w_ih[l],
				       m->w_hh[l], m->b_ih[l], m->b_hh[l], Ts, B,
				       I, H);
			break;
		default:
			nk_rnn_forward(r->hs[l], r->cache[l], in, h0l, m->w_ih[l],
				       m->w_hh[l], m->b_ih[l], m->b_hh[l], Ts, B,
				       I, H);
		}
		in = r->hs[l];
		if (train && l < L - 1 && p > 0) {
			for (int t = 0; t < Ts; t++) {
				nk_rng g;
				nk_rng_seed(&g, seed,
					    (uint64_t)l << 40 | (uint64_t)(t0 + t));
				nk_dropout_forward(r->drop[l] + t * BH,
						   r->mask[l] + t * BH,
						   r->hs[l] + t * BH, p, BH, &g);
			}
			in = r->drop[l];
		}
		I = H;
	}
	nk_linear_forward(r->logits, r->hs[L - 1], m->w_out, m->b_out, Ts * B,
			  H, r->V);
}

/* Softmax and loss one time step at a time, added to *sum in time order
 * (the same sums in every segmentation). */
static void seg_loss(nk_charlm_run *r, const uint32_t *y, int Ts, double *sum)
{
	size_t BV = (size_t)r->B * r->V;
	for (int t = 0; t < Ts; t++)
		*sum += nk_softmax_xent_forward(r->probs + t * BV,
					       r->logits + t * BV,
					       y + (size_t)t * r->B, r->B,
					       r->V) * r->B;
}

/* The state at the end of the segment just computed into h, c (L,B,H). */
static void seg_final_state(nk_charlm_run *r, int Ts, float *h, float *c)
{
	size_t BH = (size_t)r->B * r->H;
	for (int l = 0; l < r->L; l++) {
		memcpy(h + l * BH, r->hs[l] + (size_t)(Ts - 1) * BH,
		       BH * sizeof(float));
		if (c)
			memcpy(c + l * BH, r->clast[l], BH * sizeof(float));
	}
}

/* Backward over the segment in the buffers (steps t0 .. t0+Ts-1 of the
 * batch), `last` when it is the batch's last segment and `first` when its
 * first. */
static void bwd_segment(nk_charlm *m, nk_charlm_run *r, const uint32_t *x,
			const uint32_t *y, int Ts, const float *h0,
			const float *c0, int first, int last, float scale)
{
	int B = r->B, H = r->H, C = r->C, V = r->V, L = r->L;
	size_t BH = (size_t)B * H, BV = (size_t)B * V;
	int drop = m->cfg.dropout > 0;
	float *dcur = r->da, *dx = r->db;
	/* The output layer, one time step at a time from the last. */
	memset(dcur, 0, (size_t)Ts * BH * sizeof(float));
	for (int t = Ts - 1; t >= 0; t--) {
		memset(r->dlogits, 0, BV * sizeof(float));
		nk_softmax_xent_backward(r->dlogits, r->probs + t * BV,
					 y + (size_t)t * B, B, V, scale);
		nk_linear_backward(dcur + t * BH, m->dw_out, m->db_out,
				   r->dlogits, r->hs[L - 1] + t * BH, m->w_out,
				   B, H, V);
	}
	for (int l = L - 1; l >= 0; l--) {
		int I = l ? H : C;
		const float *in = l == 0 ? r->emb
				  : drop ? r->drop[l - 1] : r->hs[l - 1];
		const float *h0l = h0 + l * BH;
		const float *dhl = last ? NULL : r->dnh + l * BH;
		float *dh0 = first ? NULL : r->dh0;
		memset(dx, 0, (size_t)Ts * B * I * sizeof(float));
		if (dh0)
			memset(dh0, 0, BH * sizeof(float));
		switch (r->cell) {
		case NK_CELL_LSTM: {
			float *dc0 = first ? NULL : r->dc0;
			if (dc0)
				memset(dc0, 0, BH * sizeof(float));
			nk_lstm_backward(dx, dh0, dc0, m->dw_ih[l], m->dw_hh[l],
					 m->db_ih[l], m->db_hh[l], dcur, dhl,
					 last ? NULL : r->dnc + l * BH,
					 r->cache[l], in, h0l, c0 + l * BH,
					 r->hs[l], m->w_ih[l], m->w_hh[l], Ts,
					 B, I, H);
			if (dc0)
				memcpy(r->dnc + l * BH, dc0, BH * sizeof(float));
			break;
		}
		case NK_CELL_GRU:
			nk_gru_backward(dx, dh0, m->dw_ih[l], m->dw_hh[l],
					m->db_ih[l], m->db_hh[l], dcur, dhl,
					r->cache[l], in, h0l, r->hs[l],
					m->w_ih[l], m->w_hh[l], Ts, B, I, H);
			break;
		default:
			nk_rnn_backward(dx, dh0, m->dw_ih[l], m->dw_hh[l],
					m->db_ih[l], m->db_hh[l], dcur, dhl,
					r->cache[l], in, h0l, r->hs[l],
					m->w_ih[l], m->w_hh[l], Ts, B, I, H);
		}
		if (dh0)
			memcpy(r->dnh + l * BH, dh0, BH * sizeof(float));
		if (l == 0)
			break;
		if (drop) { /* dcur is free again: the dropout's input grad */
			memset(dcur, 0, (size_t)Ts * BH * sizeof(float));
			nk_dropout_backward(dcur, dx, r->mask[l - 1],
					    (size_t)Ts * BH);
		} else {
			float *t = dcur;
			dcur = dx, dx = t;
		}
	}
	/* The embedding, one time step at a time from the last. */
	for (int t = Ts - 1; t >= 0; t--)
		nk_embedding_backward(m->dwte, dx + (size_t)t * B * C,
				      x + (size_t)t * B, B, C);
}

/* The model as one thread of a split run sees it: the same weights, its
 * own gradient block (every gradient pointer moved to the same offset). */
static void model_with_grads(nk_charlm *view, const nk_charlm *m, float *g)
{
#define MOVE(ptr) ((ptr) ? g + ((ptr) - m->p.grads) : NULL)
	*view = *m;
	view->p.grads = g;
	view->dwte = MOVE(m->dwte);
	view->dw_out = MOVE(m->dw_out);
	view->db_out = MOVE(m->db_out);
	for (int l = 0; l < m->cfg.L; l++) {
		view->dw_ih[l] = MOVE(m->dw_ih[l]);
		view->dw_hh[l] = MOVE(m->dw_hh[l]);
		view->db_ih[l] = MOVE(m->db_ih[l]);
		view->db_hh[l] = MOVE(m->db_hh[l]);
	}
#undef MOVE
}

static double train_step_one(nk_charlm *m, nk_charlm_run *r,
			     const uint32_t *x, const uint32_t *y,
			     uint64_t dropout_seed, int B_all);

double nk_charlm_train_step(nk_charlm *m, nk_charlm_run *r,
			    const uint32_t *x, const uint32_t *y,
			    uint64_t dropout_seed)
{
	if (r->nsub <= 1)
		return train_step_one(m, r, x, y, dropout_seed, r->B);
	int B = r->B, T = r->T, L = r->L, H = r->H;
	#pragma omp parallel for num_threads(r->nsub) schedule(static, 1)
	for (int i = 0; i < r->nsub; i++) {
		struct charlm_sub *u = &r->sub[i];
		int Bs = u->Bs;
		for (int t = 0; t < T; t++) {
			memcpy(u->x + (size_t)t * Bs, x + (size_t)t * B + u->b0,
			       (size_t)Bs * sizeof *x);
			memcpy(u->y + (size_t)t * Bs, y + (size_t)t * B + u->b0,
			       (size_t)Bs * sizeof *y);
		}
		/* The carried state (L,B,H): this thread's rows of each layer. */
		for (int l = 0; l < L; l++) {
			size_t from = ((size_t)l * B + u->b0) * H,
			       to = (size_t)l * Bs * H, n = (size_t)Bs * H;
			memcpy(u->r->h + to, r->h + from, n * sizeof(float));
			if (r->c)
				memcpy(u->r->c + to, r->c + from, n * sizeof(float));
		}
		nk_charlm view;
		model_with_grads(&view, m, u->grads);
		/* Each thread's dropout masks from its own stream of seeds. */
		u->loss = train_step_one(&view, u->r, u->x, u->y,
					 nk_mix64(dropout_seed + (uint64_t)i), B);
		for (int l = 0; l < L; l++) {
			size_t from = (size_t)l * Bs * H,
			       to = ((size_t)l * B + u->b0) * H, n = (size_t)Bs * H;
			memcpy(r->h + to, u->r->h + from, n * sizeof(float));
			if (r->c)
				memcpy(r->c + to, u->r->c + from, n * sizeof(float));
		}
	}
	/* Sum the blocks in thread order: the same bits on every run. */
	size_t n = m->p.numel;
	memcpy(m->p.grads, r->sub[0].grads, n * sizeof(float));
	double loss = r->sub[0].loss;
	for (int i = 1; i < r->nsub; i++) {
		nk_vec_axpy(m->p.grads, 1.0f, r->sub[i].grads, n);
		loss += r->sub[i].loss;
	}
	return loss;
}

/* One run over its own B streams; gradients scaled by 1/(T*B_all) and the
 * loss returned as this run's share of the mean over B_all streams. */
static double train_step_one(nk_charlm *m, nk_charlm_run *r,
			     const uint32_t *x, const uint32_t *y,
			     uint64_t dropout_seed, int B_all)
{
	int B = r->B, T = r->T, K = r->K, nseg = r->nseg;
	size_t LBH = (size_t)r->L * B * r->H;
	float *bc = r->bc;
	nk_params_zero_grad(&m->p);
	memcpy(r->bh, r->h, LBH * sizeof(float));
	if (bc)
		memcpy(bc, r->c, LBH * sizeof(float));
	double loss = 0;
	for (int s = 0; s < nseg; s++) {
		int t0 = s * K, Ts = T - t0 < K ? T - t0 : K;
		fwd_segment(m, r, x + (size_t)t0 * B, Ts, r->bh + s * LBH,
			    bc ? bc + s * LBH : NULL, 1, dropout_seed, t0);
		seg_loss(r, y + (size_t)t0 * B, Ts, &loss);
		if (s + 1 < nseg)
			seg_final_state(r, Ts, r->bh + (s + 1) * LBH,
					bc ? bc + (s + 1) * LBH : NULL);
		else
			seg_final_state(r, Ts, r->fh, r->fc);
	}
	float scale = 1.0f / ((float)T * B_all);
	for (int s = nseg - 1; s >= 0; s--) {
		int t0 = s * K, Ts = T - t0 < K ? T - t0 : K;
		const float *h0 = r->bh + s * LBH, *c0 = bc ? bc + s * LBH : NULL;
		if (s != nseg - 1) { /* the last segment is still there */
			fwd_segment(m, r, x + (size_t)t0 * B, Ts, h0, c0, 1,
				    dropout_seed, t0);
			double unused = 0;
			seg_loss(r, y + (size_t)t0 * B, Ts, &unused);
		}
		bwd_segment(m, r, x + (size_t)t0 * B, y + (size_t)t0 * B, Ts,
			    h0, c0, s == 0, s == nseg - 1, scale);
	}
	memcpy(r->h, r->fh, LBH * sizeof(float));
	if (r->c)
		memcpy(r->c, r->fc, LBH * sizeof(float));
	return loss / ((double)T * B_all);
}

double nk_charlm_forward(const nk_charlm *m, nk_charlm_run *r,
			 const uint32_t *x, const uint32_t *y, int T)
{
	double sum = 0;
	for (int t0 = 0; t0 < T; t0 += r->K) {
		int Ts = T - t0 < r->K ? T - t0 : r->K;
		fwd_segment(m, r, x + (size_t)t0 * r->B, Ts, r->h, r->c, 0, 0,
			    t0);
		if (y)
			seg_loss(r, y + (size_t)t0 * r->B, Ts, &sum);
		seg_final_state(r, Ts, r->h, r->c);
		if (t0 + Ts >= T && Ts > 1) /* the last step's logits first */
			memmove(r->logits,
				r->logits + (size_t)(Ts - 1) * r->B * r->V,
				(size_t)r->B * r->V * sizeof(float));
	}
	return sum;
}

/* Rows (streams x time steps) per segment of an evaluation: enough for the
 * products to run at full speed, few enough that the workspace stays small
 * (a 2x128 LSTM over 65 symbols: about 15 MB). */
#define EVAL_ROWS 2048

int nk_charlm_evaluate(const nk_charlm *m, const uint32_t *ids, size_t n,
		       int B, int T, double *loss, size_t *count)
{
	*loss = 0;
	*count = 0;
	if (n < 2)
		return nk_error(NK_ERANGE, "%zu symbols: at least 2 are needed "
				"to evaluate", n);
	size_t Be = (n - 1) / (size_t)T;
	if (Be > (size_t)B)
		Be = (size_t)B;
	if (Be < 1)
		Be = 1;
	size_t len = (n - 1) / Be;
	/* Forward only: nothing of a chunk is kept past its segment, so the
	 * chunk runs in segments of about EVAL_ROWS rows (the same sums in the
	 * same order as one segment of T steps: bit-identical) and the
	 * workspace no longer grows with T. */
	int K = (int)((EVAL_ROWS + Be - 1) / Be);
	if (K > T)
		K = T;
	nk_charlm_run *r = nk_charlm_run_new(m, (int)Be, T, K, 0);
	uint32_t *x = nk_reallocarray(NULL, (size_t)T * Be, sizeof *x);
	uint32_t *y = nk_reallocarray(NULL, (size_t)T * Be, sizeof *y);
	if (!r || !x || !y) {
		nk_charlm_run_free(r);
		free(x);
		free(y);
		return NK_ENOMEM;
	}
	double sum = 0;
	for (size_t pos = 0; pos < len; pos += (size_t)T) {
		int Tc = len - pos < (size_t)T ? (int)(len - pos) : T;
		for (size_t b = 0; b < Be; b++)
			for (int t = 0; t < Tc; t++) {
				const uint32_t *src = ids + b * len + pos + t;
				x[(size_t)t * Be + b] = src[0];
				y[(size_t)t * Be + b] = src[1];
			}
		sum += nk_charlm_forward(m, r, x, y, Tc);
	}
	nk_charlm_run_free(r);
	free(x);
	free(y);
	*count = len * Be;
	*loss = sum / (double)*count;
	return NK_OK;
}

static int cmp_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x < y) - (x > y);
}

uint32_t nk_charlm_pick(const float *logits, int V, float temperature,
			int top_k, double u, float *work)
{
	float *p = work, *s = work + V;
	nk_softmax(p, logits, V, temperature);
	if (top_k > 0 && top_k < V) {
		memcpy(s, p, (size_t)V * sizeof *s);
		qsort(s, (size_t)V, sizeof *s, cmp_desc);
		float cut = s[top_k - 1];
		for (int i = 0; i < V; i++)
			if (p[i] < cut)
				p[i] = 0;
	}
	double total = 0;
	for (int i = 0; i < V; i++)
		total += p[i];
	double target = u * total, acc = 0;
	int last = 0;
	for (int i = 0; i < V; i++) {
		if (p[i] <= 0)
			continue;
		last = i;
		acc += p[i];
		if (acc > target)
			return (uint32_t)i;
	}
	return (uint32_t)last;
}
