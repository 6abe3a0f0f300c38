/* test_train.c - the one training loop (lib/nn/train.c) on a toy task:
 * least squares y = w.x + b with a data cursor and a noise stream, so every
 * part of the state that a resume must restore (moments, step, the step
 * seeds, the task's position) changes the result if it is lost.  Also the
 * weight-file schema versions (formats/wfile.c) and rnn-train's use of
 * them (models/charlm_file.c). */
#include "check.h"

#include "core/base.h"
#include "core/rng.h"
#include "formats/wfile.h"
#include "models/charlm.h"
#include "models/charlm_file.h"
#include "nn/train.h"

#include <math.h>
#include <unistd.h>

enum { D = 3, NDATA = 17 };

struct toy {
	float p[D + 1], g[D + 1]; /* w then b */
	float xs[NDATA][D], ys[NDATA];
	int64_t pos;              /* the data cursor: task state */
	int evals, saves, restores;
	int nan_at;               /* step seed count at which to return NaN */
	int steps_seen;
};

static void toy_init(struct toy *t)
{
	memset(t, 0, sizeof *t);
	nk_rng r;
	nk_rng_seed(&r, 42, 0);
	for (int i = 0; i < NDATA; i++) {
		float y = 0.5f;
		for (int j = 0; j < D; j++) {
			t->xs[i][j] = (float)nk_rng_normal(&r);
			y += (float)(j + 1) * t->xs[i][j];
		}
		t->ys[i] = y;
	}
	t->nan_at = -1;
}

static int toy_step(void *ctx, uint64_t seed, double *loss)
{
	struct toy *t = ctx;
	int i = (int)(t->pos++ % NDATA);
	/* The seed perturbs the target: a resume that loses the loop's
	 * random stream trains on other targets. */
	float noise = (float)(seed >> 40) / (float)(1 << 24) * 0.01f;
	float pred = t->p[D], err;
	for (int j = 0; j < D; j++)
		pred += t->p[j] * t->xs[i][j];
	err = pred - (t->ys[i] + noise);
	for (int j = 0; j < D; j++)
		t->g[j] = err * t->xs[i][j];
	t->g[D] = err;
	*loss = 0.5 * err * err;
	if (t->steps_seen++ == t->nan_at)
		*loss = NAN;
	return NK_OK;
}

static int toy_eval(void *ctx, double *loss)
{
	struct toy *t = ctx;
	double s = 0;
	for (int i = 0; i < NDATA; i++) {
		float pred = t->p[D];
		for (int j = 0; j < D; j++)
			pred += t->p[j] * t->xs[i][j];
		s += 0.5 * (pred - t->ys[i]) * (pred - t->ys[i]);
	}
	*loss = s / NDATA;
	t->evals++;
	return NK_OK;
}

static int toy_save(void *ctx, nk_wfile *w)
{
	struct toy *t = ctx;
	int64_t n = D + 1;
	t->saves++;
	int rc = nk_wfile_set_int(w, "pos", t->pos);
	return rc ? rc : nk_wfile_add(w, "p", NK_F32, 1, &n, t->p);
}

static int toy_restore(void *ctx, const nk_wfile *f)
{
	struct toy *t = ctx;
	int64_t n = D + 1;
	const nk_wtensor *p = nk_wfile_expect(f, "p", NK_F32, 1, &n);
	if (!p || nk_wfile_get_int(f, "pos", &t->pos))
		return NK_EFORMAT;
	memcpy(t->p, p->data, sizeof t->p);
	t->restores++;
	return NK_OK;
}

static nk_train_task toy_task(struct toy *t)
{
	return (nk_train_task){t, t->p, t->g, D + 1, toy_step, toy_eval,
			       toy_save, toy_restore, 0, NULL, NULL, 0, NULL,
			       NULL};
}

static nk_train_config toy_config(int64_t steps)
{
	return (nk_train_config){.steps = steps, .lr = 0.05f, .clip = 1.0f,
				 .schedule = NK_LR_COSINE, .warmup = 3,
				 .step_size = 1, .eval_every = 7,
				 .save_every = 5, .log_every = 4, .seed = 9};
}

static char *tmp_path(void)
{
	static char path[64];
	strcpy(path, "/tmp/test_train_XXXXXX");
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	return path;
}

struct seen {
	int calls, evaluated, stop_at;
	int64_t last_step;
};

static int on_step(void *user, const nk_train_event *e)
{
	struct seen *s = user;
	s->calls++;
	s->evaluated += e->evaluated;
	s->last_step = e->step;
	return s->stop_at && e->step == s->stop_at;
}

TEST(learns_and_reports)
{
	struct toy t;
	toy_init(&t);
	nk_train_config c = toy_config(300);
	nk_train_task k = toy_task(&t);
	nk_trainer tr;
	char *path = tmp_path();
	CHECK(nk_trainer_init(&tr, &c, &k, path) == 0);
	double before;
	toy_eval(&t, &before);
	t.evals = 0;
	FILE *log = tmpfile();
	struct seen s = {0};
	CHECK(nk_trainer_run(&tr, log, on_step, &s) == 0);
	double after;
	toy_eval(&t, &after);
	CHECK_MSG(after < before / 100, "loss %g -> %g", before, after);
	CHECK(fabsf(t.p[0] - 1) < 0.05f && fabsf(t.p[2] - 3) < 0.05f);
	/* Every step reported; evaluation every 7 steps and at the end;
	 * a checkpoint every 5 steps (300 is a multiple). */
	CHECK(s.calls == 300 && s.last_step == 300 && tr.step == 300);
	CHECK_MSG(s.evaluated == 300 / 7 + 1, "%d evaluations", s.evaluated);
	CHECK_MSG(t.saves == 60, "%d saves", t.saves);
	/* The log: a header, then a row every 4 steps, 300 included; the
	 * rows' train losses average the steps since the previous row. */
	rewind(log);
	char line[256];
	int rows = 0;
	CHECK(fgets(line, sizeof line, log) &&
	      strcmp(line, "step,train_loss,val_loss,time\n") == 0);
	long long step = 0;
	while (fgets(line, sizeof line, log)) {
		rows++;
		CHECK(sscanf(line, "%lld,", &step) == 1 && step == 4LL * rows);
		/* validation only on rows whose step was evaluated */
		char *v = strchr(strchr(line, ',') + 1, ',') + 1;
		CHECK((*v != ',') == (step % 7 == 0 || step == 300));
	}
	CHECK(rows == 75 && tr.log_count == 0);
	fclose(log);
	nk_trainer_free(&tr);
	unlink(path);
}

/* A run stopped after 23 steps (by the callback, past its last checkpoint
 * at 20) and resumed from the file ends with the very same parameters as
 * a run never stopped: the file holds the whole state. */
TEST(resume_is_exact)
{
	struct toy a, b, b2;
	toy_init(&a);
	toy_init(&b);
	toy_init(&b2);
	nk_train_config c = toy_config(50);
	nk_train_task ka = toy_task(&a), kb = toy_task(&b), kb2 = toy_task(&b2);
	nk_trainer ta, tb, tb2;
	char *pa = tmp_path(), pb[64];
	strcpy(pb, pa);
	strcat(pb, ".b");
	CHECK(nk_trainer_init(&ta, &c, &ka, pa) == 0);
	CHECK(nk_trainer_run(&ta, NULL, NULL, NULL) == 0);
	CHECK(nk_trainer_init(&tb, &c, &kb, pb) == 0);
	struct seen s = {.stop_at = 23};
	CHECK(nk_trainer_run(&tb, NULL, on_step, &s) == 0);
	CHECK(tb.step == 23 && s.calls == 23);
	nk_trainer_free(&tb);
	/* "Killed" at 23: the file has step 20. */
	nk_wfile *f = nk_wfile_read(pb);
	CHECK(f != NULL);
	nk_train_config back;
	CHECK(nk_train_config_load(&back, f) == 0);
	CHECK(back.steps == 50 && back.lr == c.lr && back.clip == c.clip &&
	      back.schedule == NK_LR_COSINE && back.warmup == 3 &&
	      back.eval_every == 7 && back.seed == 9);
	CHECK(nk_trainer_init(&tb2, &back, &kb2, pb) == 0);
	CHECK(nk_trainer_resume(&tb2, f) == 0);
	CHECK(tb2.step == 20 && b2.restores == 1 && b2.pos == 20);
	nk_wfile_free(f);
	CHECK(nk_trainer_run(&tb2, NULL, NULL, NULL) == 0);
	CHECK(tb2.step == 50);
	CHECK_MSG(memcmp(a.p, b2.p, sizeof a.p) == 0, "w0 %.9g vs %.9g",
		  a.p[0], b2.p[0]);
	/* Without the loop's state (a fresh trainer over the restored task)
	 * the result differs: the test can tell a lost moment or seed. */
	struct toy d;
	toy_init(&d);
	nk_train_task kd = toy_task(&d);
	nk_trainer td;
	f = nk_wfile_read(pa);
	CHECK(f && toy_restore(&d, f) == 0);
	nk_wfile_free(f);
	nk_train_config c40 = c;
	CHECK(nk_trainer_init(&td, &c40, &kd, pb) == 0);
	td.step = 20;
	CHECK(nk_trainer_run(&td, NULL, NULL, NULL) == 0);
	CHECK(memcmp(a.p, d.p, sizeof a.p) != 0);
	nk_trainer_free(&ta);
	nk_trainer_free(&tb2);
	nk_trainer_free(&td);
	unlink(pa);
	unlink(pb);
}

TEST(nonfinite_loss_stops)
{
	struct toy t;
	toy_init(&t);
	t.nan_at = 6;
	nk_train_config c = toy_config(30);
	nk_train_task k = toy_task(&t);
	nk_trainer tr;
	char *path = tmp_path();
	CHECK(nk_trainer_init(&tr, &c, &k, path) == 0);
	CHECK(nk_trainer_run(&tr, NULL, NULL, NULL) == NK_ERANGE);
	CHECK(tr.diverged && tr.step == 6);
	CHECK_MSG(strstr(nk_last_error(), "step 7: the loss is nan"), "%s",
		  nk_last_error());
	nk_trainer_free(&tr);
	unlink(path);
}

TEST(nothing_to_do_still_saves)
{
	struct toy t;
	toy_init(&t);
	nk_train_config c = toy_config(0);
	nk_train_task k = toy_task(&t);
	nk_trainer tr;
	char *path = tmp_path();
	unlink(path);
	CHECK(nk_trainer_init(&tr, &c, &k, path) == 0);
	CHECK(nk_trainer_run(&tr, NULL, NULL, NULL) == 0);
	CHECK(t.saves == 1 && access(path, F_OK) == 0);
	nk_trainer_free(&tr);
	/* Settings that make no sense are refused. */
	c.eval_every = 0;
	CHECK(nk_trainer_init(&tr, &c, &k, path) == NK_EINVAL);
	unlink(path);
}

static int toy_values(void *ctx, int evaluated, char *buf, size_t n)
{
	struct toy *t = ctx;
	snprintf(buf, n, "%d,%s", t->saves, evaluated ? "yes" : "");
	return 0;
}

TEST(task_log_columns)
{
	struct toy t;
	toy_init(&t);
	nk_train_config c = toy_config(4);
	c.log_every = 2;
	c.eval_every = 4;
	nk_train_task k = toy_task(&t);
	k.log_columns = "saves,evaluated";
	k.log_values = toy_values;
	nk_trainer tr;
	char *path = tmp_path();
	FILE *log = tmpfile();
	CHECK(nk_trainer_init(&tr, &c, &k, path) == 0);
	CHECK(nk_trainer_run(&tr, log, NULL, NULL) == 0);
	rewind(log);
	char line[256];
	CHECK(fgets(line, sizeof line, log) &&
	      strcmp(line, "step,train_loss,val_loss,time,saves,evaluated\n") == 0);
	/* Row 2: not evaluated, the empty field kept; row 4 evaluated. */
	CHECK(fgets(line, sizeof line, log) && strncmp(line, "2,", 2) == 0);
	CHECK_MSG(strlen(line) > 4 && strcmp(line + strlen(line) - 4, ",0,\n") == 0, "%s", line);
	CHECK(fgets(line, sizeof line, log) && strncmp(line, "4,", 2) == 0);
	CHECK_MSG(strstr(line, ",yes\n") != NULL, "%s", line);
	fclose(log);
	nk_trainer_free(&tr);
	unlink(path);
}

TEST(schema_versions)
{
	char *path = tmp_path();
	nk_wfile *w = nk_wfile_create();
	int64_t v = 0;
	CHECK(nk_wfile_write(w, path, 0) == 0);
	nk_wfile_free(w);
	nk_wfile *f = nk_wfile_read(path);
	/* No key: a file from before the key, version 1. */
	CHECK(f && nk_wfile_check_schema(f, "thing", 1, 3, &v) == 0 && v == 1);
	nk_wfile_free(f);
	w = nk_wfile_create();
	CHECK(nk_wfile_set_int(w, NK_WFILE_SCHEMA_KEY, 4) == 0 && nk_wfile_write(w, path, 0) == 0);
	nk_wfile_free(w);
	f = nk_wfile_read(path);
	CHECK(nk_wfile_check_schema(f, "thing", 1, 3, &v) == NK_EVERSION);
	CHECK_MSG(strstr(nk_last_error(), "thing schema 4 is newer") &&
		  strstr(nk_last_error(), "upgrade nnkit") &&
		  strstr(nk_last_error(), path), "%s", nk_last_error());
	CHECK(nk_wfile_check_schema(f, "thing", 5, 7, &v) == NK_EVERSION);
	CHECK_MSG(strstr(nk_last_error(), "older") &&
		  strstr(nk_last_error(), "make the file again"), "%s",
		  nk_last_error());
	CHECK(nk_wfile_check_schema(f, "thing", 2, 4, &v) == 0 && v == 4);
	nk_wfile_free(f);

	/* rnn-train's files carry the key, and a newer one is refused. */
	nk_charlm m;
	nk_charlm_config cfg = {NK_CELL_RNN, 1, 4, 3, 5, 0};
	CHECK(nk_charlm_init(&m, &cfg) == 0);
	nk_textvocab voc = {NK_LEVEL_TOKENS, 5, NULL};
	w = nk_wfile_create();
	CHECK(nk_charlm_file_add(w, &m, &voc, NK_LEVEL_TOKENS, 2) == 0);
	CHECK(nk_wfile_write(w, path, 0) == 0);
	nk_wfile_free(w);
	nk_charlm_file lm;
	CHECK(nk_charlm_file_load(&lm, path) == 0);
	CHECK(nk_wfile_get_int(lm.f, NK_WFILE_SCHEMA_KEY, &v) == 0 &&
	      v == NK_CHARLM_SCHEMA);
	CHECK(lm.level == NK_LEVEL_TOKENS && lm.start_id == 2 &&
	      lm.m.cfg.V == 5);
	nk_charlm_file_free(&lm);
	w = nk_wfile_create();
	CHECK(nk_charlm_file_add(w, &m, &voc, NK_LEVEL_TOKENS, 2) == 0);
	CHECK(nk_wfile_set_int(w, NK_WFILE_SCHEMA_KEY, NK_CHARLM_SCHEMA + 1) == 0);
	CHECK(nk_wfile_write(w, path, 0) == 0);
	nk_wfile_free(w);
	CHECK(nk_charlm_file_load(&lm, path) == NK_EVERSION);
	CHECK_MSG(strstr(nk_last_error(), "upgrade nnkit"), "%s",
		  nk_last_error());
	nk_charlm_file_free(&lm);
	nk_charlm_free(&m);
	unlink(path);
}

int main(void)
{
	RUN(learns_and_reports);
	RUN(resume_is_exact);
	RUN(nonfinite_loss_stops);
	RUN(nothing_to_do_still_saves);
	RUN(schema_versions);
	RUN(task_log_columns);
	return nk_test_exit();
}
