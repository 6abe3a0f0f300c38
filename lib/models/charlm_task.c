/* charlm_task.c - a language model as a training task (charlm_task.h). */
#include "models/charlm_task.h"
#include "core/base.h"
#include "core/dist.h"
#include "formats/wfile.h"
#include "models/charlm_file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nk_charlm_task_config_load(nk_charlm_task_config *cfg,
			       const nk_wfile *f)
{
	const char *name = nk_wfile_name(f);
	int64_t B, T, K;
	double vf;
	if (nk_wfile_get_int(f, "batch", &B) ||
	    nk_wfile_get_int(f, "bptt", &T) ||
	    nk_wfile_get_int(f, "checkpoint", &K) ||
	    nk_wfile_get_float(f, "val_fraction", &vf)) {
		return nk_train_not_checkpoint(f);
	}
	if (B < 1 || B > 1000000 || T < 1 || T > 1000000 || K < 0 || K > T ||
	    !(vf >= 0 && vf < 1))
		return nk_error(NK_EFORMAT, "%s: training settings out of range",
				name);
	cfg->B = (int)B, cfg->T = (int)T, cfg->K = (int)K;
	cfg->val_fraction = (float)vf;
	return NK_OK;
}

int nk_charlm_task_init(nk_charlm_task *t, const nk_charlm_task_config *cfg,
			nk_charlm *m, const nk_textvocab *vocab, int level,
			int64_t start_id, const uint32_t *ids, size_t n,
			const char *data_name)
{
	memset(t, 0, sizeof *t);
	t->cfg = *cfg;
	t->m = m;
	t->vocab = vocab;
	t->level = level;
	t->start_id = start_id;
	t->ids = ids;
	t->n = n;
	t->data_name = data_name;
	t->nval = (size_t)((double)n * cfg->val_fraction);
	t->ntrain = n - t->nval;
	t->validate = t->nval >= 2;
	if (nk_streams_init(&t->streams, ids, t->ntrain, cfg->B, cfg->T))
		return nk_error_prefix(NK_ERANGE, data_name);
	t->hash = nk_text_hash(ids, n);
	/* A share of the streams: the same streams as the whole batch's
	 * b0..b0+Bl-1 (stream b starts at b * len), moving in step. */
	int N = cfg->nranks > 1 ? cfg->nranks : 1;
	size_t lo, hi, len = t->streams.len;
	if (N > cfg->B || cfg->rank < 0 || cfg->rank >= N)
		return nk_error(NK_EINVAL, "a batch of %d streams cannot be "
				"shared by %d ranks", cfg->B, N);
	nk_dist_share((size_t)cfg->B, cfg->rank, N, &lo, &hi);
	t->b0 = (int)lo, t->Bl = (int)(hi - lo);
	if (N > 1 && nk_streams_init(&t->streams, ids + lo * len,
				     (size_t)t->Bl * len, t->Bl, cfg->T))
		return nk_error_prefix(NK_ERANGE, data_name);
	size_t BT = (size_t)t->Bl * cfg->T;
	if (!(t->run = nk_charlm_run_new(m, t->Bl, cfg->T, cfg->K, 1)) ||
	    !(t->x = nk_calloc(BT, sizeof *t->x)) ||
	    !(t->y = nk_calloc(BT, sizeof *t->y))) {
		nk_charlm_task_free(t);
		return NK_ENOMEM;
	}
	return NK_OK;
}

void nk_charlm_task_free(nk_charlm_task *t)
{
	nk_charlm_run_free(t->run);
	free(t->x);
	free(t->y);
	free(t->hall);
	free(t->call);
	memset(t, 0, sizeof *t);
}

static int task_step(void *ctx, uint64_t seed, double *loss)
{
	nk_charlm_task *t = ctx;
	/* A new epoch starts every stream over: the carried state no longer
	 * belongs to what follows. */
	if (nk_streams_next(&t->streams, t->x, t->y))
		nk_charlm_run_reset(t->run);
	*loss = nk_charlm_train_step(t->m, t->run, t->x, t->y, seed);
	return NK_OK;
}

static double task_weight(void *ctx)
{
	nk_charlm_task *t = ctx;
	return t->Bl; /* every stream contributes T terms */
}

/* The shares' hidden states into (L,B,H) on rank 0, layer by layer. */
static int gather_state(nk_charlm_task *t, const float *h, float **all)
{
	const nk_charlm_config *c = &t->m->cfg;
	size_t one = (size_t)t->Bl * c->H, whole = (size_t)t->cfg.B * c->H;
	if (!*all && !(*all = nk_calloc((size_t)c->L * whole, sizeof **all)))
		return NK_ENOMEM;
	for (int l = 0; l < c->L; l++) {
		int rc = nk_dist_gather(h + l * one, one, *all + l * whole,
					whole, 0);
		if (rc)
			return rc;
	}
	return NK_OK;
}

static int task_gather(void *ctx)
{
	nk_charlm_task *t = ctx;
	int rc = gather_state(t, nk_charlm_run_h(t->run), &t->hall);
	if (!rc && t->m->cfg.cell == NK_CELL_LSTM)
		rc = gather_state(t, nk_charlm_run_c(t->run), &t->call);
	return rc;
}

/* This rank's share of a saved (L,B,H) state. */
static void take_share(const nk_charlm_task *t, float *dst, const float *all)
{
	const nk_charlm_config *c = &t->m->cfg;
	size_t one = (size_t)t->Bl * c->H, whole = (size_t)t->cfg.B * c->H;
	for (int l = 0; l < c->L; l++)
		memcpy(dst + l * one, all + l * whole + (size_t)t->b0 * c->H,
		       one * sizeof *dst);
}

static int task_evaluate(void *ctx, double *loss)
{
	nk_charlm_task *t = ctx;
	size_t count;
	return nk_charlm_evaluate(t->m, t->ids + t->ntrain, t->nval, t->cfg.B,
				  t->cfg.T, loss, &count);
}

static int task_save(void *ctx, nk_wfile *w)
{
	nk_charlm_task *t = ctx;
	const nk_charlm_config *c = &t->m->cfg;
	int64_t shape[3] = {c->L, t->cfg.B, c->H};
	int rc;
	if ((rc = nk_charlm_file_add(w, t->m, t->vocab, t->level,
				     t->start_id)) ||
	    (rc = nk_wfile_set_int(w, "batch", t->cfg.B)) ||
	    (rc = nk_wfile_set_int(w, "bptt", t->cfg.T)) ||
	    (rc = nk_wfile_set_int(w, "checkpoint", t->cfg.K)) ||
	    (rc = nk_wfile_set_float(w, "val_fraction", t->cfg.val_fraction)) ||
	    (rc = nk_wfile_set_int(w, "stream_pos", (int64_t)t->streams.pos)) ||
	    (rc = nk_wfile_set_int(w, "epoch", t->streams.epoch)) ||
	    (rc = nk_wfile_set_int(w, "data_len", (int64_t)t->n)) ||
	    (rc = nk_wfile_set_int(w, "data_hash", (int64_t)t->hash)) ||
	    (rc = nk_wfile_add(w, "train.h", NK_F32, 3, shape,
			       t->Bl < t->cfg.B ? t->hall
						: nk_charlm_run_h(t->run))))
		return rc;
	if (c->cell == NK_CELL_LSTM)
		rc = nk_wfile_add(w, "train.c", NK_F32, 3, shape,
				  t->Bl < t->cfg.B ? t->call
						   : nk_charlm_run_c(t->run));
	return rc;
}

static int task_restore(void *ctx, const nk_wfile *f)
{
	nk_charlm_task *t = ctx;
	const char *name = nk_wfile_name(f);
	const nk_charlm_config *c = &t->m->cfg;
	int64_t shape[3] = {c->L, t->cfg.B, c->H};
	int64_t pos, epoch, len, hash;
	const nk_wtensor *th, *tc = NULL;
	if (nk_wfile_get_int(f, "stream_pos", &pos) ||
	    nk_wfile_get_int(f, "epoch", &epoch) ||
	    nk_wfile_get_int(f, "data_len", &len) ||
	    nk_wfile_get_int(f, "data_hash", &hash) ||
	    !(th = nk_wfile_expect(f, "train.h", NK_F32, 3, shape)) ||
	    (c->cell == NK_CELL_LSTM &&
	     !(tc = nk_wfile_expect(f, "train.c", NK_F32, 3, shape)))) {
		return nk_train_cannot_resume(f);
	}
	if (nk_train_check_data(f, len, hash, t->n, t->hash, t->data_name))
		return NK_EFORMAT;
	if (pos < 0 || (size_t)pos > t->streams.len)
		return nk_error(NK_EFORMAT, "%s: cannot resume: training state "
				"out of range", name);
	t->streams.pos = (size_t)pos;
	t->streams.epoch = epoch;
	take_share(t, nk_charlm_run_h(t->run), th->data);
	if (tc)
		take_share(t, nk_charlm_run_c(t->run), tc->data);
	return NK_OK;
}

nk_train_task nk_charlm_task_bind(nk_charlm_task *t)
{
	return (nk_train_task){
		.ctx = t,
		.params = t->m->p.data,
		.grads = t->m->p.grads,
		.numel = t->m->p.numel,
		.step = task_step,
		.evaluate = t->validate ? task_evaluate : NULL,
		.save = task_save,
		.restore = task_restore,
		.sharded = 1,
		.weight = task_weight,
		.gather = task_gather,
	};
}
