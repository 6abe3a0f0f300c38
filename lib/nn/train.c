/* train.c - the one training loop (see train.h). */
#include "nn/train.h"
#include "core/base.h"
#include "core/dist.h"
#include "formats/wfile.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int nk_train_not_checkpoint(const nk_wfile *f)
{
	char why[512];
	snprintf(why, sizeof why, "%s", nk_last_error());
	return nk_error(NK_EFORMAT, "%s: not a training checkpoint (%s)",
			nk_wfile_name(f), why);
}

int nk_train_cannot_resume(const nk_wfile *f)
{
	char why[512];
	snprintf(why, sizeof why, "%s", nk_last_error());
	return nk_error(NK_EFORMAT, "%s: cannot resume: %s", nk_wfile_name(f),
			why);
}

int nk_train_check_data(const nk_wfile *f, int64_t len, int64_t hash,
			size_t n, uint64_t want_hash, const char *data_name)
{
	if ((size_t)len != n || (uint64_t)hash != want_hash)
		return nk_error(NK_EFORMAT, "%s: cannot resume: the model was "
				"trained on other data than %s",
				nk_wfile_name(f), data_name);
	return NK_OK;
}

int nk_trainer_init(nk_trainer *t, const nk_train_config *cfg,
		    const nk_train_task *task, const char *path)
{
	memset(t, 0, sizeof *t);
	if (!task->step || !task->save || !task->params || !task->grads ||
	    cfg->steps < 0 || cfg->eval_every < 1 || cfg->save_every < 1 ||
	    cfg->log_every < 1 || !nk_lr_kind_name(cfg->schedule))
		return nk_error(NK_EINVAL, "training: incomplete task or "
				"settings out of range");
	t->cfg = *cfg;
	t->task = *task;
	t->path = path;
	if (nk_adam_init(&t->adam, task->numel, cfg->lr, 0.9f, 0.999f, 1e-8f,
			 cfg->weight_decay))
		return NK_ENOMEM;
	if (task->ndecay && task->ndecay < task->numel)
		t->adam.ndecay = task->ndecay;
	t->sched = (nk_lr_schedule){cfg->schedule, cfg->lr, cfg->warmup,
				    cfg->step_size, 0.5f, cfg->steps,
				    cfg->min_lr};
	nk_rng_seed(&t->rng, cfg->seed, 1);
	return NK_OK;
}

void nk_trainer_free(nk_trainer *t)
{
	nk_adam_free(&t->adam);
	memset(t, 0, sizeof *t);
}

static int get_float(const nk_wfile *f, const char *k, float *v)
{
	double x;
	int rc = nk_wfile_get_float(f, k, &x);
	if (!rc)
		*v = (float)x;
	return rc;
}

int nk_train_config_load(nk_train_config *cfg, const nk_wfile *f)
{
	const char *name = nk_wfile_name(f), *sched;
	int64_t seed;
	memset(cfg, 0, sizeof *cfg);
	if (nk_wfile_get_int(f, "steps", &cfg->steps) ||
	    get_float(f, "lr", &cfg->lr) ||
	    get_float(f, "weight_decay", &cfg->weight_decay) ||
	    get_float(f, "clip", &cfg->clip) ||
	    nk_wfile_get_str(f, "schedule", &sched) ||
	    nk_wfile_get_int(f, "warmup", &cfg->warmup) ||
	    get_float(f, "min_lr", &cfg->min_lr) ||
	    nk_wfile_get_int(f, "step_size", &cfg->step_size) ||
	    nk_wfile_get_int(f, "eval_every", &cfg->eval_every) ||
	    nk_wfile_get_int(f, "save_every", &cfg->save_every) ||
	    nk_wfile_get_int(f, "log_every", &cfg->log_every) ||
	    nk_wfile_get_int(f, "seed", &seed)) {
		/* The lower layer's message names the file and the key. */
		return nk_train_not_checkpoint(f);
	}
	cfg->seed = (uint64_t)seed;
	/* Files before the schedule names were checked kept any string;
	 * such a run trained at a constant rate. */
	cfg->schedule = nk_lr_kind_from_name(sched);
	if (cfg->schedule < 0)
		cfg->schedule = NK_LR_CONSTANT;
	if (cfg->eval_every < 1 || cfg->save_every < 1 || cfg->log_every < 1 ||
	    cfg->steps < 0 || cfg->warmup < 0 || cfg->step_size < 1)
		return nk_error(NK_EFORMAT, "%s: training settings out of range",
				name);
	return NK_OK;
}

static int save_config(const nk_train_config *c, nk_wfile *w)
{
	int rc;
	if ((rc = nk_wfile_set_int(w, "steps", c->steps)) ||
	    (rc = nk_wfile_set_float(w, "lr", c->lr)) ||
	    (rc = nk_wfile_set_float(w, "weight_decay", c->weight_decay)) ||
	    (rc = nk_wfile_set_float(w, "clip", c->clip)) ||
	    (rc = nk_wfile_set_str(w, "schedule", nk_lr_kind_name(c->schedule))) ||
	    (rc = nk_wfile_set_int(w, "warmup", c->warmup)) ||
	    (rc = nk_wfile_set_float(w, "min_lr", c->min_lr)) ||
	    (rc = nk_wfile_set_int(w, "step_size", c->step_size)) ||
	    (rc = nk_wfile_set_int(w, "eval_every", c->eval_every)) ||
	    (rc = nk_wfile_set_int(w, "save_every", c->save_every)) ||
	    (rc = nk_wfile_set_int(w, "log_every", c->log_every)) ||
	    (rc = nk_wfile_set_int(w, "seed", (int64_t)c->seed)))
		return rc;
	return NK_OK;
}

int nk_trainer_save(nk_trainer *t)
{
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NK_ENOMEM;
	int64_t rng[4], numel = (int64_t)t->adam.n;
	for (int i = 0; i < 4; i++)
		rng[i] = (int64_t)t->rng.s[i];
	int rc;
	if ((rc = t->task.save(t->task.ctx, w)) ||
	    (rc = save_config(&t->cfg, w)) ||
	    (rc = nk_wfile_set_int(w, "step", t->step)) ||
	    (rc = nk_wfile_set_ints(w, "rng", rng, 4)) ||
	    (rc = nk_wfile_set_int(w, "adam_t", t->adam.t)) ||
	    (rc = nk_wfile_set_float(w, "log_loss_sum", t->log_sum)) ||
	    (rc = nk_wfile_set_int(w, "log_loss_count", t->log_count)) ||
	    (rc = nk_wfile_set_float(w, "elapsed", t->elapsed)) ||
	    (rc = nk_wfile_add(w, "train.adam.m", NK_F32, 1, &numel, t->adam.m)) ||
	    (rc = nk_wfile_add(w, "train.adam.v", NK_F32, 1, &numel, t->adam.v)))
		goto out;
	rc = nk_wfile_write(w, t->path, 0);
out:
	nk_wfile_free(w);
	return rc;
}

int nk_train_saved_step(const nk_wfile *f, int64_t *step)
{
	if (nk_wfile_get_int(f, "step", step))
		return nk_train_cannot_resume(f);
	if (*step < 0)
		return nk_error(NK_EFORMAT, "%s: cannot resume: training state "
				"out of range", nk_wfile_name(f));
	return NK_OK;
}

int nk_trainer_resume(nk_trainer *t, const nk_wfile *f)
{
	const char *name = nk_wfile_name(f);
	const int64_t *rng;
	size_t nr;
	int64_t step, at, cnt, numel = (int64_t)t->adam.n;
	double sum, el;
	const nk_wtensor *am, *av;
	if (nk_wfile_get_int(f, "step", &step) ||
	    nk_wfile_get_ints(f, "rng", &rng, &nr) ||
	    nk_wfile_get_int(f, "adam_t", &at) ||
	    nk_wfile_get_int(f, "log_loss_count", &cnt) ||
	    nk_wfile_get_float(f, "log_loss_sum", &sum) ||
	    nk_wfile_get_float(f, "elapsed", &el) ||
	    !(am = nk_wfile_expect(f, "train.adam.m", NK_F32, 1, &numel)) ||
	    !(av = nk_wfile_expect(f, "train.adam.v", NK_F32, 1, &numel))) {
		return nk_train_cannot_resume(f);
	}
	if (nr != 4 || step < 0 || at < 0 || cnt < 0)
		return nk_error(NK_EFORMAT, "%s: cannot resume: training state "
				"out of range", name);
	if (t->task.restore) {
		int rc = t->task.restore(t->task.ctx, f);
		if (rc)
			return rc;
	}
	for (int i = 0; i < 4; i++)
		t->rng.s[i] = (uint64_t)rng[i];
	t->step = step;
	t->adam.t = at;
	memcpy(t->adam.m, am->data, am->nbytes);
	memcpy(t->adam.v, av->data, av->nbytes);
	t->log_sum = sum;
	t->log_count = cnt;
	t->elapsed = el;
	return NK_OK;
}

/* One CSV row; the train loss is the mean since the previous row, so a
 * row every N steps still accounts for every step. */
static int log_row(nk_trainer *t, FILE *log, int evaluated, double vloss)
{
	char extra[512] = "";
	nk_train_task *k = &t->task;
	if (k->log_columns && k->log_values) {
		int rc = k->log_values(k->ctx, evaluated, extra, sizeof extra);
		if (rc)
			return rc;
	}
	fprintf(log, "%lld,%.9g,", (long long)t->step,
		t->log_sum / (double)t->log_count);
	if (evaluated)
		fprintf(log, "%.9g", vloss);
	fprintf(log, ",%.3f%s%s\n", t->elapsed, k->log_columns ? "," : "",
		k->log_columns ? extra : "");
	/* A full disk stops the run here, with the reason: stdio keeps an
	 * error flag but not its errno, which is gone by the next write. */
	errno = 0;
	if (fflush(log) != 0 || ferror(log))
		return nk_error(NK_EIO, "write failed: %s",
				errno ? strerror(errno) : "I/O error");
	t->log_sum = 0;
	t->log_count = 0;
	return NK_OK;
}

/* A checkpoint on every rank: the task's per-share state to rank 0, which
 * writes the file; then every rank learns whether that worked. */
static int checkpoint(nk_trainer *t)
{
	int rc = NK_OK;
	if (nk_dist_size() > 1 && t->task.gather)
		rc = t->task.gather(t->task.ctx);
	if (!rc && nk_dist_rank() == 0)
		rc = nk_trainer_save(t);
	return nk_dist_agree(rc);
}

/* Several ranks: each has the gradient of its share's mean loss; make
 * every rank's grads the gradient of the global batch's mean loss and
 * *loss its value.  The shares are weighted by their counts of loss
 * terms; a lone rank's result is left exactly as it is. */
static int combine(nk_trainer *t, int rc, double *loss)
{
	nk_train_task *k = &t->task;
	double w = 1, s[2];
	if (!rc && k->weight)
		w = k->weight(k->ctx);
	if ((rc = nk_dist_agree(rc)))
		return rc;
	s[0] = w;
	s[1] = w > 0 ? w * *loss : 0;
	if ((rc = nk_dist_sum_f64(s, 2)))
		return nk_dist_agree(rc);
	if (!(s[0] > 0))
		return nk_error(NK_EINVAL, "training: every rank's share of "
				"the batch is empty");
	float f = (float)(w / s[0]);
	for (size_t i = 0; i < k->numel; i++)
		k->grads[i] = w > 0 ? k->grads[i] * f : 0.0f;
	*loss = s[1] / s[0];
	return nk_dist_agree(nk_dist_sum(k->grads, k->numel));
}

/* Several ranks: the same model everywhere before the first step. */
static int start_ranks(nk_trainer *t)
{
	nk_train_task *k = &t->task;
	int rc = NK_OK;
	if (!k->sharded)
		rc = nk_error(NK_EINVAL, "training: this task runs on one "
			      "process only (%d ranks)", nk_dist_size());
	else if (nk_dist_same((int64_t)k->numel) != 1)
		rc = nk_error(NK_EINVAL, "training: the ranks' models differ "
			      "in size");
	if ((rc = nk_dist_agree(rc)))
		return rc;
	return nk_dist_agree(nk_dist_bcast(k->params, k->numel *
					   sizeof *k->params, 0));
}

int nk_trainer_run(nk_trainer *t, FILE *log, nk_train_callback cb,
		   void *user)
{
	const nk_train_config *c = &t->cfg;
	nk_train_task *k = &t->task;
	int ranks = nk_dist_size(), root = nk_dist_rank() == 0, rc;
	if (ranks > 1 && (rc = start_ranks(t)))
		return rc;
	if (!root)
		log = NULL;
	if (log && ftell(log) == 0)
		fprintf(log, "step,train_loss,val_loss,time%s%s\n",
			k->log_columns ? "," : "",
			k->log_columns ? k->log_columns : "");
	double t0 = now(), el0 = t->elapsed;
	int64_t start = t->step;
	while (t->step < c->steps) {
		double loss;
		rc = k->step(k->ctx, nk_rng_u64(&t->rng), &loss);
		if (ranks > 1)
			rc = combine(t, rc, &loss);
		if (rc)
			return rc;
		if (!isfinite(loss)) {
			t->diverged = 1;
			return nk_error(NK_ERANGE, "step %lld: the loss is %g",
					(long long)t->step + 1, loss);
		}
		if (c->clip > 0)
			nk_clip_grad_norm(k->grads, k->numel, c->clip);
		nk_adam_step(&t->adam, k->params, k->grads,
			     nk_lr_at(&t->sched, t->step));
		t->step++;
		t->log_sum += loss;
		t->log_count++;
		t->elapsed = el0 + (now() - t0);
		int last = t->step == c->steps;
		nk_train_event e = {t->step, c->steps, loss, NAN, 0,
				    t->elapsed};
		if (k->evaluate && (t->step % c->eval_every == 0 || last)) {
			/* Rank 0 evaluates the whole validation set. */
			rc = root ? k->evaluate(k->ctx, &e.val_loss) : NK_OK;
			if (ranks > 1 && !(rc = nk_dist_agree(rc)))
				rc = nk_dist_agree(nk_dist_bcast(
					&e.val_loss, sizeof e.val_loss, 0));
			if (rc)
				return rc;
			e.evaluated = 1;
		}
		if (log && (t->step % c->log_every == 0 || last))
			rc = log_row(t, log, e.evaluated, e.val_loss);
		if ((rc = nk_dist_agree(rc)))
			return rc;
		if ((t->step % c->save_every == 0 || last) &&
		    (rc = checkpoint(t)))
			return rc;
		if (cb && cb(user, &e))
			return NK_OK;
	}
	/* Nothing to train (--steps 0, or reached already): the checkpoint
	 * still records the model as it stands. */
	if (t->step == start)
		return checkpoint(t);
	return NK_OK;
}
