/* bert_task.c - BERT's masked-language model as a training task
 * (bert_task.h). */
#include "models/bert_task.h"
#include "core/base.h"
#include "core/dist.h"
#include "core/rng.h"
#include "formats/wfile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Streams of the task's generator: the masks of a training sequence come
 * from (seed, MASK_STREAM) mixed with (epoch, index); the epoch's order
 * from (seed, ORDER_STREAM + epoch); validation from VAL_STREAM. */
enum { ORDER_STREAM = 16, MASK_STREAM = 8, VAL_STREAM = 9 };

int nk_bert_task_config_load(nk_bert_task_config *cfg, const nk_wfile *f)
{
	const char *name = nk_wfile_name(f);
	int64_t B, ck, seed, T, mp, ww, pairs;
	double vf, p, sp;
	if (nk_wfile_get_int(f, "batch", &B) ||
	    nk_wfile_get_int(f, "seq_len", &T) ||
	    nk_wfile_get_int(f, "max_pred", &mp) ||
	    nk_wfile_get_int(f, "whole_word", &ww) ||
	    nk_wfile_get_int(f, "pairs", &pairs) ||
	    nk_wfile_get_float(f, "mask_prob", &p) ||
	    nk_wfile_get_float(f, "short_prob", &sp) ||
	    nk_wfile_get_int(f, "grad_checkpoint", &ck) ||
	    nk_wfile_get_int(f, "data_seed", &seed) ||
	    nk_wfile_get_float(f, "val_fraction", &vf)) {
		return nk_train_not_checkpoint(f);
	}
	if (B < 1 || B > 1000000 || !(vf >= 0 && vf < 1) || T < 3 ||
	    T > 1 << 16 || mp < 1 || mp > 1 << 16 || !(p > 0 && p <= 1) ||
	    !(sp >= 0 && sp <= 1))
		return nk_error(NK_EFORMAT, "%s: training settings out of range",
				name);
	cfg->B = (int)B;
	cfg->checkpoint = ck != 0;
	cfg->val_fraction = (float)vf;
	cfg->seed = (uint64_t)seed;
	cfg->seq_len = (int)T, cfg->max_pred = (int)mp;
	cfg->whole_word = ww != 0, cfg->pairs = pairs != 0;
	cfg->mask_prob = (float)p, cfg->short_prob = (float)sp;
	return NK_OK;
}

static uint64_t seqs_hash(const nk_bert_seqs *s)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < s->off[s->n]; i++)
		h = (h ^ s->ids[i]) * 1099511628211ull;
	for (size_t i = 0; i <= s->n; i++)
		h = (h ^ s->off[i]) * 1099511628211ull;
	return h & INT64_MAX;
}

static uint64_t mask_seed(uint64_t seed, int64_t epoch, size_t index)
{
	return nk_mix64(seed ^ nk_mix64(((uint64_t)epoch << 40) ^ index ^
					((uint64_t)MASK_STREAM << 60)));
}

/* Whether sequence i carries its masks: sequences without them, and
 * instances written with none (nnkit-mlm(5): "masked when it is used"),
 * are masked by the masker. */
static int static_masks(const nk_bert_seqs *s, size_t i)
{
	return s->moff && s->moff[i + 1] > s->moff[i];
}

static void shuffle_epoch(nk_bert_task *t)
{
	nk_rng r;
	nk_rng_seed(&r, t->cfg.seed, ORDER_STREAM + (uint64_t)t->epoch);
	for (size_t i = 0; i < t->ntrain; i++)
		t->order[i] = (uint32_t)i;
	nk_rng_shuffle_u32(&r, t->order, t->ntrain);
}

/* Masks the validation sequences once, with their own stream. */
static int mask_validation(nk_bert_task *t)
{
	const nk_bert_seqs *s = &t->data;
	size_t base = s->off[t->ntrain], len = s->off[s->n] - base;
	/* Static masks bring their own count, which --max-pred does not
	 * bound (instances made with a larger one). */
	size_t cap = 0;
	for (size_t i = 0; i < t->nval; i++)
		cap += static_masks(s, t->ntrain + i)
			       ? s->moff[t->ntrain + i + 1] - s->moff[t->ntrain + i]
			       : (size_t)t->masker.max_pred;
	if (!(t->val_ids = nk_calloc(len ? len : 1, sizeof *t->val_ids)) ||
	    !(t->val_moff = nk_calloc(t->nval + 1, sizeof *t->val_moff)) ||
	    !(t->val_mpos = nk_calloc(cap ? cap : 1, sizeof *t->val_mpos)) ||
	    !(t->val_mlabel = nk_calloc(cap ? cap : 1,
					sizeof *t->val_mlabel)))
		return NK_ENOMEM;
	memcpy(t->val_ids, s->ids + base, len * sizeof *t->val_ids);
	size_t nm = 0;
	for (size_t i = 0; i < t->nval; i++) {
		size_t a = s->off[t->ntrain + i] - base;
		size_t b = s->off[t->ntrain + i + 1] - base;
		if (static_masks(s, t->ntrain + i)) {
			size_t ma = s->moff[t->ntrain + i];
			size_t mb = s->moff[t->ntrain + i + 1];
			memcpy(t->val_mpos + nm, s->mpos + ma,
			       (mb - ma) * sizeof *t->val_mpos);
			memcpy(t->val_mlabel + nm, s->mlabel + ma,
			       (mb - ma) * sizeof *t->val_mlabel);
			nm += mb - ma;
		} else {
			int k = t->masker.mask(t->masker.ctx, t->val_ids + a,
					       (int)(b - a),
					       mask_seed(t->cfg.seed ^ VAL_STREAM,
							 -1, i),
					       t->val_mpos + nm,
					       t->val_mlabel + nm);
			if (k < 0)
				return NK_EINVAL;
			nm += (size_t)k;
		}
		t->val_moff[i + 1] = nm;
	}
	return NK_OK;
}

int nk_bert_task_init(nk_bert_task *t, const nk_bert_task_config *cfg,
		      nk_bert *m, const nk_bert_tokens *tok,
		      const nk_bert_seqs *data, const nk_bert_masker *masker,
		      const char *data_name)
{
	memset(t, 0, sizeof *t);
	t->cfg = *cfg;
	t->m = m;
	t->tok = tok;
	t->data = *data;
	t->masker = *masker;
	t->data_name = data_name;
	t->rank = nk_dist_rank();
	t->nranks = nk_dist_size();
	t->nval = (size_t)((double)data->n * cfg->val_fraction);
	if (t->nval > NK_BERT_VAL_MAX)
		t->nval = NK_BERT_VAL_MAX;
	t->ntrain = data->n - t->nval;
	if (t->ntrain < (size_t)cfg->B)
		return nk_error(NK_ERANGE, "%s: %zu training sequences cannot "
				"fill a batch of %d", data_name, t->ntrain,
				cfg->B);
	int T = 0, maxm = 0;
	for (size_t i = 0; i < data->n; i++) {
		if (!static_masks(data, i) && maxm < masker->max_pred)
			maxm = masker->max_pred;
		size_t len = data->off[i + 1] - data->off[i];
		if (len > (size_t)m->cfg.P)
			return nk_error(NK_ERANGE, "%s: sequence %zu has %zu "
					"tokens, the model %d positions",
					data_name, i + 1, len, m->cfg.P);
		if ((int)len > T)
			T = (int)len;
		if (data->moff && (int)(data->moff[i + 1] - data->moff[i]) > maxm)
			maxm = (int)(data->moff[i + 1] - data->moff[i]);
	}
	/* A sequence has no more masked positions than tokens. */
	if (maxm > T)
		maxm = T;
	t->T = T;
	t->Mmax = cfg->B * (maxm ? maxm : 1);
	t->hash = seqs_hash(data);
	size_t BT = (size_t)cfg->B * T;
	int rc = NK_ENOMEM;
	if (!(t->run = nk_bert_run_new(m, cfg->B, T, t->Mmax, cfg->checkpoint,
				       1)) ||
	    !(t->order = nk_calloc(t->ntrain, sizeof *t->order)) ||
	    !(t->rows = nk_calloc((size_t)cfg->B, sizeof *t->rows)) ||
	    !(t->ids = nk_calloc(BT, sizeof *t->ids)) ||
	    !(t->types = nk_calloc(BT, sizeof *t->types)) ||
	    !(t->lengths = nk_calloc((size_t)cfg->B, sizeof *t->lengths)) ||
	    !(t->mpos = nk_calloc((size_t)t->Mmax, sizeof *t->mpos)) ||
	    !(t->mlabel = nk_calloc((size_t)t->Mmax, sizeof *t->mlabel)))
		goto fail;
	if (t->nval && (rc = mask_validation(t)))
		goto fail;
	shuffle_epoch(t);
	return NK_OK;
fail:
	nk_bert_task_free(t);
	return rc;
}

void nk_bert_task_free(nk_bert_task *t)
{
	nk_bert_run_free(t->run);
	free(t->order);
	free(t->rows);
	free(t->ids);
	free(t->types);
	free(t->lengths);
	free(t->mpos);
	free(t->mlabel);
	free(t->val_ids);
	free(t->val_mpos);
	free(t->val_mlabel);
	free(t->val_moff);
	memset(t, 0, sizeof *t);
}

/* Copies sequence i of s into row b of a batch of width T: ids, types,
 * padding, and (static masks) its masked positions. */
static void put_row(const nk_bert_seqs *s, size_t i, int b, int T,
		    uint32_t pad, uint32_t *ids, uint8_t *types, int *lengths)
{
	size_t a = s->off[i];
	int n = (int)(s->off[i + 1] - a);
	memcpy(ids + (size_t)b * T, s->ids + a, (size_t)n * sizeof *ids);
	for (int j = n; j < T; j++)
		ids[(size_t)b * T + j] = pad;
	if (s->types)
		memcpy(types + (size_t)b * T, s->types + a, (size_t)n);
	else
		memset(types + (size_t)b * T, 0, (size_t)n);
	memset(types + (size_t)b * T + n, 0, (size_t)(T - n));
	lengths[b] = n;
}

/* Under MPI every rank draws the same global batch of B sequences and
 * keeps its share of the rows; the masks of a sequence come from (seed,
 * epoch, the sequence's index), never from the rank, so the ranks
 * together train on exactly the batch one process would. */
static int task_step(void *ctx, uint64_t seed, double *loss)
{
	nk_bert_task *t = ctx;
	const nk_bert_seqs *s = &t->data;
	int B = t->cfg.B, T = 0, M = 0;
	size_t lo, hi;
	nk_dist_share((size_t)B, t->rank, t->nranks, &lo, &hi);
	for (int b = 0; b < B; b++) {
		if (t->pos == t->ntrain) {
			t->epoch++;
			t->pos = 0;
			shuffle_epoch(t);
		}
		t->rows[b] = t->order[t->pos++];
		int n = (int)(s->off[t->rows[b] + 1] - s->off[t->rows[b]]);
		if ((size_t)b >= lo && (size_t)b < hi && n > T)
			T = n;
	}
	int nb = (int)(hi - lo);
	for (int b = 0; b < nb; b++) {
		size_t i = t->rows[lo + (size_t)b];
		put_row(s, i, b, T, t->tok->pad, t->ids, t->types, t->lengths);
		int k;
		if (static_masks(s, i)) {
			k = (int)(s->moff[i + 1] - s->moff[i]);
			for (int j = 0; j < k; j++) {
				t->mpos[M + j] = b * T + s->mpos[s->moff[i] + j];
				t->mlabel[M + j] = s->mlabel[s->moff[i] + j];
			}
		} else {
			k = t->masker.mask(t->masker.ctx, t->ids + (size_t)b * T,
					   t->lengths[b],
					   mask_seed(t->cfg.seed, t->epoch, i),
					   t->mpos + M, t->mlabel + M);
			if (k < 0)
				return NK_EINVAL;
			for (int j = 0; j < k; j++)
				t->mpos[M + j] += b * T;
		}
		M += k;
	}
	int hits = 0;
	if (M) {
		nk_bert_batch batch = {nb, T, t->ids, t->types, t->lengths, M,
				       t->mpos, t->mlabel};
		*loss = nk_bert_train_step(t->m, t->run, &batch, seed, &hits);
		if (isnan(*loss) && nk_last_error()[0])
			return NK_EINVAL;
	} else {
		/* An empty share (or a batch without masks) weighs nothing. */
		memset(t->m->p.grads, 0, t->m->p.numel * sizeof *t->m->p.grads);
		*loss = 0;
	}
	t->weight = M;
	/* The log's accuracy counts every rank's rows. */
	double sums[2] = {hits, M};
	int rc = nk_dist_sum_f64(sums, 2);
	t->hits += (int64_t)sums[0];
	t->masked += (int64_t)sums[1];
	return rc;
}

static double task_weight(void *ctx)
{
	return ((nk_bert_task *)ctx)->weight;
}

int nk_bert_score(const nk_bert *m, nk_bert_run *run, const nk_bert_seqs *s,
		  size_t from, size_t to, int B, double *loss, int64_t *top1,
		  int64_t *top5, int64_t *count)
{
	size_t T = 0, maxm = 0;
	for (size_t i = from; i < to; i++) {
		if (s->off[i + 1] - s->off[i] > T)
			T = s->off[i + 1] - s->off[i];
		if (s->moff[i + 1] - s->moff[i] > maxm)
			maxm = s->moff[i + 1] - s->moff[i];
	}
	*loss = 0;
	*top1 = *top5 = *count = 0;
	size_t BT = (size_t)B * (T ? T : 1), BM = (size_t)B * (maxm ? maxm : 1);
	uint32_t *ids = nk_calloc(BT, sizeof *ids);
	uint8_t *types = nk_calloc(BT, 1);
	int *lengths = nk_calloc((size_t)B, sizeof *lengths);
	int32_t *mpos = nk_calloc(BM, sizeof *mpos);
	uint32_t *mlabel = nk_calloc(BM, sizeof *mlabel);
	int rc = NK_ENOMEM;
	if (!ids || !types || !lengths || !mpos || !mlabel)
		goto out;
	for (size_t i = from; i < to; i += (size_t)B) {
		int nb = (int)(to - i < (size_t)B ? to - i : (size_t)B), Tb = 0;
		int M = 0;
		for (int b = 0; b < nb; b++) {
			int n = (int)(s->off[i + b + 1] - s->off[i + b]);
			if (n > Tb)
				Tb = n;
		}
		for (int b = 0; b < nb; b++) {
			put_row(s, i + b, b, Tb, 0, ids, types, lengths);
			for (size_t j = s->moff[i + b]; j < s->moff[i + b + 1];
			     j++, M++) {
				mpos[M] = b * Tb + s->mpos[j];
				mlabel[M] = s->mlabel[j];
			}
		}
		if (!M)
			continue;
		nk_bert_batch batch = {nb, Tb, ids, types, lengths, M, mpos,
				       mlabel};
		int h1 = 0, h5 = 0;
		if (M > nk_bert_run_max_masked(run)) {
			rc = nk_error(NK_ERANGE, "sequences %zu to %zu hold %d "
				      "masked positions, more than the %d the "
				      "workspace was made for", i + 1,
				      i + (size_t)nb, M,
				      nk_bert_run_max_masked(run));
			goto out;
		}
		*loss += nk_bert_forward(m, run, &batch, &h1, &h5);
		*top1 += h1;
		*top5 += h5;
		*count += M;
	}
	rc = NK_OK;
out:
	free(ids);
	free(types);
	free(lengths);
	free(mpos);
	free(mlabel);
	return rc;
}

static int task_evaluate(void *ctx, double *loss)
{
	nk_bert_task *t = ctx;
	const nk_bert_seqs *s = &t->data;
	/* The validation sequences as masked once, offsets from 0. */
	size_t base = s->off[t->ntrain];
	size_t *off = nk_calloc(t->nval + 1, sizeof *off);
	if (!off)
		return NK_ENOMEM;
	for (size_t i = 0; i <= t->nval; i++)
		off[i] = s->off[t->ntrain + i] - base;
	nk_bert_seqs v = {t->nval, off, t->val_ids,
			  s->types ? s->types + base : NULL, t->val_moff,
			  t->val_mpos, t->val_mlabel};
	int64_t h1, h5, count;
	double sum;
	int rc = nk_bert_score(t->m, t->run, &v, 0, t->nval, t->cfg.B, &sum,
			       &h1, &h5, &count);
	free(off);
	if (rc)
		return rc;
	*loss = count ? sum / (double)count : 0;
	t->val_acc = count ? (double)h1 / (double)count : 0;
	return NK_OK;
}

static int task_log_values(void *ctx, int evaluated, char *buf, size_t n)
{
	nk_bert_task *t = ctx;
	char val[32] = "";
	if (evaluated)
		snprintf(val, sizeof val, "%.4f", t->val_acc);
	snprintf(buf, n, "%.4f,%s",
		 t->masked ? (double)t->hits / (double)t->masked : 0.0, val);
	t->hits = t->masked = 0;
	return NK_OK;
}

static int task_save(void *ctx, nk_wfile *w)
{
	nk_bert_task *t = ctx;
	int rc;
	if ((rc = nk_bert_file_add(w, t->m, t->tok)) ||
	    (rc = nk_wfile_set_int(w, "batch", t->cfg.B)) ||
	    (rc = nk_wfile_set_int(w, "grad_checkpoint", t->cfg.checkpoint)) ||
	    (rc = nk_wfile_set_int(w, "data_seed",
				   (int64_t)(t->cfg.seed & INT64_MAX))) ||
	    (rc = nk_wfile_set_float(w, "val_fraction", t->cfg.val_fraction)) ||
	    (rc = nk_wfile_set_int(w, "seq_len", t->cfg.seq_len)) ||
	    (rc = nk_wfile_set_int(w, "max_pred", t->cfg.max_pred)) ||
	    (rc = nk_wfile_set_int(w, "whole_word", t->cfg.whole_word)) ||
	    (rc = nk_wfile_set_int(w, "pairs", t->cfg.pairs)) ||
	    (rc = nk_wfile_set_float(w, "mask_prob", t->cfg.mask_prob)) ||
	    (rc = nk_wfile_set_float(w, "short_prob", t->cfg.short_prob)) ||
	    (rc = nk_wfile_set_int(w, "data_pos", (int64_t)t->pos)) ||
	    (rc = nk_wfile_set_int(w, "epoch", t->epoch)) ||
	    (rc = nk_wfile_set_int(w, "data_len", (int64_t)t->data.n)) ||
	    (rc = nk_wfile_set_int(w, "data_hash", (int64_t)t->hash)))
		return rc;
	return NK_OK;
}

static int task_restore(void *ctx, const nk_wfile *f)
{
	nk_bert_task *t = ctx;
	const char *name = nk_wfile_name(f);
	int64_t pos, epoch, len, hash;
	if (nk_wfile_get_int(f, "data_pos", &pos) ||
	    nk_wfile_get_int(f, "epoch", &epoch) ||
	    nk_wfile_get_int(f, "data_len", &len) ||
	    nk_wfile_get_int(f, "data_hash", &hash)) {
		return nk_train_cannot_resume(f);
	}
	if (nk_train_check_data(f, len, hash, t->data.n, t->hash, t->data_name))
		return NK_EFORMAT;
	if (pos < 0 || (size_t)pos > t->ntrain || epoch < 0)
		return nk_error(NK_EFORMAT, "%s: cannot resume: training state "
				"out of range", name);
	t->epoch = epoch;
	shuffle_epoch(t);
	t->pos = (size_t)pos;
	return NK_OK;
}

nk_train_task nk_bert_task_bind(nk_bert_task *t)
{
	return (nk_train_task){
		.ctx = t,
		.params = t->m->p.data,
		.grads = t->m->p.grads,
		.numel = t->m->p.numel,
		.step = task_step,
		.evaluate = t->nval ? task_evaluate : NULL,
		.save = task_save,
		.restore = task_restore,
		.ndecay = t->m->ndecay,
		.log_columns = "mlm_acc,val_acc",
		.log_values = task_log_values,
		.sharded = 1,
		.weight = task_weight,
	};
}

int nk_bert_mask_missing(const nk_bert_seqs *s, uint32_t *ids,
			 const nk_bert_masker *masker, uint64_t seed,
			 size_t **moff_out, int32_t **mpos_out,
			 uint32_t **mlabel_out)
{
	size_t nm = 0;
	for (size_t i = 0; i < s->n; i++)
		nm += s->moff[i + 1] > s->moff[i] ? s->moff[i + 1] - s->moff[i]
						  : (size_t)masker->max_pred;
	size_t *moff = nk_calloc(s->n + 1, sizeof *moff);
	int32_t *mpos = nk_calloc(nm + 1, sizeof *mpos);
	uint32_t *mlabel = nk_calloc(nm + 1, sizeof *mlabel);
	int rc = moff && mpos && mlabel ? NK_OK : NK_ENOMEM;
	size_t m = 0;
	for (size_t i = 0; i < s->n && !rc; i++) {
		size_t a = s->moff[i], b = s->moff[i + 1];
		if (b > a) {
			memcpy(mpos + m, s->mpos + a, (b - a) * sizeof *mpos);
			memcpy(mlabel + m, s->mlabel + a,
			       (b - a) * sizeof *mlabel);
			m += b - a;
		} else {
			int got = masker->mask(masker->ctx, ids + s->off[i],
					       (int)(s->off[i + 1] - s->off[i]),
					       nk_mix64(seed ^ nk_mix64(i)),
					       mpos + m, mlabel + m);
			if (got < 0)
				rc = NK_EINVAL;
			else
				m += (size_t)got;
		}
		moff[i + 1] = m;
	}
	if (rc) {
		free(moff);
		free(mpos);
		free(mlabel);
		return rc;
	}
	*moff_out = moff, *mpos_out = mpos, *mlabel_out = mlabel;
	return NK_OK;
}
