/* rnn-train - recurrent language models over characters or token ids.
 *
 *   rnn-train train  -o MODEL [options] [FILE]
 *   rnn-train sample [-n N] [-p PRIME] [-t TEMP] [-k K] [-s SEED] MODEL
 *   rnn-train eval   MODEL [FILE...]
 *
 * The model, its training step and sampling are lib/charlm.c; the data
 * pipeline is lib/textdata.c.  This file parses options, reads inputs,
 * runs the loop (optimizer, clipping, schedule, evaluation, checkpoints,
 * log, progress) and prints.
 */
#include "cli.h"

#include "models/charlm.h"
#include "nn/optim.h"
#include "nn/lr.h"
#include "core/rng.h"
#include "text/textdata.h"
#include "formats/tokstream.h"
#include "formats/wfile.h"

#include <getopt.h>
#include <math.h>
#include <omp.h>

static void usage(FILE *fp)
{
	fprintf(fp,
"usage: rnn-train train -o MODEL [options] [FILE]\n"
"       rnn-train sample [-n N] [-p PRIME] [-t TEMP] [-k K] [-s SEED] MODEL\n"
"       rnn-train eval [-b B] [-T T] MODEL [FILE...]\n"
"train (FILE is text, or token ids with --level tokens; '-' or none: stdin):\n"
"  -o, --output MODEL      model and training state, rewritten at checkpoints\n"
"      --resume            continue the run saved in MODEL exactly\n"
"  -L, --level LEVEL       byte (default), char (UTF-8) or tokens\n"
"  -m, --model CELL        rnn, lstm (default) or gru\n"
"  -l, --layers N          recurrent layers (2)\n"
"  -H, --hidden N          hidden units per layer (128)\n"
"  -E, --embedding N       embedding size (128)\n"
"  -d, --dropout P         dropout between layers (0)\n"
"  -b, --batch N           parallel streams per batch (50)\n"
"  -T, --bptt N            time steps per batch (50)\n"
"  -n, --steps N           training steps in all (1000)\n"
"  -r, --lr RATE           Adam learning rate (2e-3)\n"
"      --weight-decay W    AdamW decoupled weight decay (0)\n"
"      --clip NORM         clip the gradient's global norm (5; 0: off)\n"
"      --schedule S        constant (default), cosine or step\n"
"      --warmup N          linear warmup steps (0)\n"
"      --min-lr RATE       cosine: final rate (0); step: factor 0.5 every\n"
"      --step-size N       N steps (1000)\n"
"  -c, --checkpoint K      gradient checkpointing every K steps, or auto\n"
"      --val-fraction F    last part of the data held out (0.1)\n"
"      --eval-every N      validation loss every N steps (100)\n"
"      --save-every N      save MODEL every N steps (as --eval-every)\n"
"      --log FILE          CSV: step,train_loss,val_loss,time\n"
"      --log-every N       log rows every N steps (10)\n"
"      --vocab-size N      tokens: the vocabulary (default: largest id + 1)\n"
"sample:\n"
"  -n, --length N          symbols to generate (500)\n"
"  -p, --prime TEXT        text (token models: ids) to start from\n"
"  -t, --temperature T     softmax temperature, 0 < T <= 100 (1)\n"
"  -k, --top-k K           sample among the K most likely (0: all)\n"
"common:\n"
"  -s, --seed N            random seed (1)\n"
"  -j, --threads N         OpenMP threads\n"
"  -q, --quiet             no progress line or reports\n"
"  -v, --verbose           also report memory and timing\n"
"      --progress, --no-progress\n"
"  -h, --help, --version\n");
}

enum { O_RESUME = 0x2000, O_WD, O_CLIP, O_SCHED, O_WARMUP, O_MINLR,
       O_STEPSIZE, O_VALFRAC, O_EVAL, O_SAVE, O_LOG, O_LOGEVERY, O_VOCAB };

static const struct option longopts[] = {
	{"output", required_argument, 0, 'o'},
	{"resume", no_argument, 0, O_RESUME},
	{"level", required_argument, 0, 'L'},
	{"model", required_argument, 0, 'm'},
	{"layers", required_argument, 0, 'l'},
	{"hidden", required_argument, 0, 'H'},
	{"embedding", required_argument, 0, 'E'},
	{"dropout", required_argument, 0, 'd'},
	{"batch", required_argument, 0, 'b'},
	{"bptt", required_argument, 0, 'T'},
	{"steps", required_argument, 0, 'n'},
	{"length", required_argument, 0, 'n'},
	{"lr", required_argument, 0, 'r'},
	{"weight-decay", required_argument, 0, O_WD},
	{"clip", required_argument, 0, O_CLIP},
	{"schedule", required_argument, 0, O_SCHED},
	{"warmup", required_argument, 0, O_WARMUP},
	{"min-lr", required_argument, 0, O_MINLR},
	{"step-size", required_argument, 0, O_STEPSIZE},
	{"checkpoint", required_argument, 0, 'c'},
	{"val-fraction", required_argument, 0, O_VALFRAC},
	{"eval-every", required_argument, 0, O_EVAL},
	{"save-every", required_argument, 0, O_SAVE},
	{"log", required_argument, 0, O_LOG},
	{"log-every", required_argument, 0, O_LOGEVERY},
	{"vocab-size", required_argument, 0, O_VOCAB},
	{"prime", required_argument, 0, 'p'},
	{"temperature", required_argument, 0, 't'},
	{"top-k", required_argument, 0, 'k'},
	{"seed", required_argument, 0, 's'},
	{"threads", required_argument, 0, 'j'},
	{"quiet", no_argument, 0, 'q'},
	{"verbose", no_argument, 0, 'v'},
	{"progress", no_argument, 0, CLI_OPT_PROGRESS},
	{"no-progress", no_argument, 0, CLI_OPT_NO_PROGRESS},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0}};

struct opts {
	const char *out, *log, *prime, *length, *temp, *topk, *sched;
	int resume, level, cell, L, H, C, B, T, K, threads, quiet, verbose;
	int progress;
	float dropout, lr, wd, clip, min_lr, val_frac;
	long long steps, warmup, step_size, eval_every, save_every, log_every;
	long long vocab_size;
	uint64_t seed;
	int set_steps;
};

/* ---- shared: the model file's vocabulary ------------------------------- */

struct lm {
	nk_wfile *f;
	nk_charlm m;
	nk_textvocab vocab;
	int level;
	int64_t start_id;
};

static int lm_vocab_from_wfile(struct lm *lm)
{
	const char *lv;
	const char *name = nk_wfile_name(lm->f);
	if (nk_wfile_get_str(lm->f, "level", &lv))
		return NK_EFORMAT;
	if ((lm->level = nk_text_level_from_name(lv)) < 0)
		return nk_error(NK_EFORMAT, "%s: unknown level '%s'", name, lv);
	if (lm->level == NK_LEVEL_TOKENS) {
		lm->vocab.level = NK_LEVEL_TOKENS;
		lm->vocab.V = lm->m.cfg.V;
	} else {
		const int64_t *syms;
		size_t n;
		if (nk_wfile_get_ints(lm->f, "vocab", &syms, &n))
			return NK_EFORMAT;
		if (n != (size_t)lm->m.cfg.V)
			return nk_error(NK_EFORMAT, "%s: %zu vocabulary symbols "
					"for a vocabulary of %d", name, n,
					lm->m.cfg.V);
		if (nk_textvocab_from_syms(&lm->vocab, lm->level, syms, n))
			return nk_error_prefix(NK_EFORMAT, name);
	}
	if (nk_wfile_get_int(lm->f, "start_id", &lm->start_id))
		return NK_EFORMAT;
	if (lm->start_id < 0 || lm->start_id >= lm->m.cfg.V)
		return nk_error(NK_EFORMAT, "%s: start_id %lld out of range",
				name, (long long)lm->start_id);
	return NK_OK;
}

/* Reads MODEL: the wfile, the network and the vocabulary. */
static int lm_load(struct lm *lm, const char *path)
{
	memset(lm, 0, sizeof *lm);
	if (!(lm->f = nk_wfile_read(path)))
		return NK_EFORMAT;
	int rc = nk_charlm_from_wfile(&lm->m, lm->f);
	if (!rc)
		rc = lm_vocab_from_wfile(lm);
	return rc;
}

static void lm_free(struct lm *lm)
{
	nk_charlm_free(&lm->m);
	nk_textvocab_free(&lm->vocab);
	nk_wfile_free(lm->f);
	memset(lm, 0, sizeof *lm);
}

/* Reads FILE as ids of the model's vocabulary. */
static int read_ids(const struct lm *lm, const char *path, uint32_t **ids,
		    size_t *n)
{
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	int rc = nk_text_read(ids, n, path, lm->level,
			      lm->level == NK_LEVEL_TOKENS
				      ? (uint32_t)lm->m.cfg.V : 0);
	if (!rc && lm->level != NK_LEVEL_TOKENS)
		rc = nk_textvocab_encode(&lm->vocab, *ids, *n, name);
	if (rc) {
		free(*ids);
		*ids = NULL;
	}
	return rc;
}

/* ---- train ---------------------------------------------------------------- */

struct trainer {
	struct opts *o;
	nk_charlm m;
	nk_textvocab vocab;
	nk_adam adam;
	nk_lr_schedule sched;
	nk_streams streams;
	nk_rng rng;
	nk_charlm_run *run;
	uint32_t *ids, *x, *y;
	size_t n, ntrain;
	uint64_t hash;
	int64_t step, start_id;
	double log_sum, elapsed, last_val;
	int64_t log_count;
};

static int save_model(struct trainer *tr)
{
	struct opts *o = tr->o;
	const nk_charlm_config *c = &tr->m.cfg;
	nk_wfile *w = nk_wfile_create();
	if (!w)
		return NK_ENOMEM;
	int64_t rng[4], shape[3] = {c->L, o->B, c->H};
	for (int i = 0; i < 4; i++)
		rng[i] = (int64_t)tr->rng.s[i];
	int64_t *syms = NULL;
	int rc = nk_charlm_to_wfile(&tr->m, w);
	if (!rc && tr->vocab.sym) {
		if (!(syms = nk_calloc((size_t)c->V, sizeof *syms)))
			rc = NK_ENOMEM;
		for (int i = 0; !rc && i < c->V; i++)
			syms[i] = tr->vocab.sym[i];
		if (!rc)
			rc = nk_wfile_set_ints(w, "vocab", syms, (size_t)c->V);
	}
	int64_t numel = (int64_t)tr->m.p.numel;
	if (rc ||
	    (rc = nk_wfile_set_str(w, "level", nk_text_level_name(o->level))) ||
	    (rc = nk_wfile_set_int(w, "start_id", tr->start_id)) ||
	    (rc = nk_wfile_set_int(w, "batch", o->B)) ||
	    (rc = nk_wfile_set_int(w, "bptt", o->T)) ||
	    (rc = nk_wfile_set_int(w, "checkpoint", o->K)) ||
	    (rc = nk_wfile_set_int(w, "steps", o->steps)) ||
	    (rc = nk_wfile_set_float(w, "lr", o->lr)) ||
	    (rc = nk_wfile_set_float(w, "weight_decay", o->wd)) ||
	    (rc = nk_wfile_set_float(w, "clip", o->clip)) ||
	    (rc = nk_wfile_set_str(w, "schedule", o->sched)) ||
	    (rc = nk_wfile_set_int(w, "warmup", o->warmup)) ||
	    (rc = nk_wfile_set_float(w, "min_lr", o->min_lr)) ||
	    (rc = nk_wfile_set_int(w, "step_size", o->step_size)) ||
	    (rc = nk_wfile_set_float(w, "val_fraction", o->val_frac)) ||
	    (rc = nk_wfile_set_int(w, "eval_every", o->eval_every)) ||
	    (rc = nk_wfile_set_int(w, "save_every", o->save_every)) ||
	    (rc = nk_wfile_set_int(w, "log_every", o->log_every)) ||
	    (rc = nk_wfile_set_int(w, "seed", (int64_t)o->seed)) ||
	    (rc = nk_wfile_set_int(w, "step", tr->step)) ||
	    (rc = nk_wfile_set_ints(w, "rng", rng, 4)) ||
	    (rc = nk_wfile_set_int(w, "stream_pos", (int64_t)tr->streams.pos)) ||
	    (rc = nk_wfile_set_int(w, "epoch", tr->streams.epoch)) ||
	    (rc = nk_wfile_set_int(w, "data_len", (int64_t)tr->n)) ||
	    (rc = nk_wfile_set_int(w, "data_hash", (int64_t)tr->hash)) ||
	    (rc = nk_wfile_set_int(w, "adam_t", tr->adam.t)) ||
	    (rc = nk_wfile_set_float(w, "log_loss_sum", tr->log_sum)) ||
	    (rc = nk_wfile_set_int(w, "log_loss_count", tr->log_count)) ||
	    (rc = nk_wfile_set_float(w, "elapsed", tr->elapsed)) ||
	    (rc = nk_wfile_add(w, "train.adam.m", NK_F32, 1, &numel, tr->adam.m)) ||
	    (rc = nk_wfile_add(w, "train.adam.v", NK_F32, 1, &numel, tr->adam.v)) ||
	    (rc = nk_wfile_add(w, "train.h", NK_F32, 3, shape,
			       nk_charlm_run_h(tr->run))) ||
	    (c->cell == NK_CELL_LSTM &&
	     (rc = nk_wfile_add(w, "train.c", NK_F32, 3, shape,
				nk_charlm_run_c(tr->run)))))
		goto out;
	rc = nk_wfile_write(w, o->out, 0);
out:
	free(syms);
	nk_wfile_free(w);
	return rc;
}

static int get_i(const nk_wfile *f, const char *k, long long *v)
{
	int64_t x;
	int rc = nk_wfile_get_int(f, k, &x);
	if (!rc)
		*v = x;
	return rc;
}

static int get_f(const nk_wfile *f, const char *k, float *v)
{
	double x;
	int rc = nk_wfile_get_float(f, k, &x);
	if (!rc)
		*v = (float)x;
	return rc;
}

/* Reads the hyperparameters of a saved run into o (the command line's
 * --steps may extend it; every other training option comes from the file). */
static void resume_options(struct opts *o, struct lm *lm)
{
	const nk_wfile *f = lm->f;
	long long B, T, K, seed, steps;
	const char *sched;
	const nk_charlm_config *c = &lm->m.cfg;
	if (get_i(f, "batch", &B) || get_i(f, "bptt", &T) ||
	    get_i(f, "checkpoint", &K) || get_i(f, "steps", &steps) ||
	    get_f(f, "lr", &o->lr) || get_f(f, "weight_decay", &o->wd) ||
	    get_f(f, "clip", &o->clip) ||
	    nk_wfile_get_str(f, "schedule", &sched) ||
	    get_i(f, "warmup", &o->warmup) || get_f(f, "min_lr", &o->min_lr) ||
	    get_i(f, "step_size", &o->step_size) ||
	    get_f(f, "val_fraction", &o->val_frac) ||
	    get_i(f, "eval_every", &o->eval_every) ||
	    get_i(f, "save_every", &o->save_every) ||
	    get_i(f, "log_every", &o->log_every) || get_i(f, "seed", &seed))
		cli_errx(1, "%s: not a training checkpoint (%s)", o->out,
			nk_last_error());
	if (B < 1 || B > 1000000 || T < 1 || T > 1000000 || K < 0 || K > T ||
	    o->eval_every < 1 || o->save_every < 1 || o->log_every < 1)
		cli_errx(1, "%s: training settings out of range", o->out);
	o->B = (int)B, o->T = (int)T, o->K = (int)K, o->seed = (uint64_t)seed;
	if (!o->set_steps)
		o->steps = steps;
	o->sched = strcmp(sched, "cosine") == 0 ? "cosine"
		   : strcmp(sched, "step") == 0 ? "step" : "constant";
	o->level = lm->level, o->cell = c->cell, o->L = c->L, o->H = c->H;
	o->C = c->C, o->dropout = c->dropout;
}

static void progress_line(struct trainer *tr, double t0, int64_t start,
			  double loss)
{
	struct opts *o = tr->o;
	double el = cli_now() - t0;
	double done = (double)(tr->step - start);
	double rate = el > 0 ? done * o->B * o->T / el : 0;
	double eta = done > 0 ? el / done * (double)(o->steps - tr->step) : 0;
	int s = (int)(eta + 0.5);
	fprintf(stderr, "\r%s: step %lld/%lld  loss %.4f  %.1fk %s/s  "
		"ETA %d:%02d:%02d ", cli_prog, (long long)tr->step, o->steps,
		loss, rate / 1e3,
		o->level == NK_LEVEL_TOKENS ? "tokens" : "chars", s / 3600,
		s / 60 % 60, s % 60);
	fflush(stderr);
}

static int cmd_train(struct opts *o, int argc, char **argv)
{
	if (!o->out)
		cli_usage_error(usage, "train: -o MODEL is required");
	if (strcmp(o->out, "-") == 0)
		cli_usage_error(usage, "train: -o needs a file (it is rewritten "
			       "at every checkpoint)");
	if (argc > 1)
		cli_usage_error(usage, "train: one input file at most");
	const char *path = argc ? argv[0] : "-";
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	struct trainer tr;
	memset(&tr, 0, sizeof tr);
	tr.o = o;
	struct lm lm;
	memset(&lm, 0, sizeof lm);

	if (o->resume) {
		if (lm_load(&lm, o->out))
			cli_die_lib();
		resume_options(o, &lm);
		if (read_ids(&lm, path, &tr.ids, &tr.n))
			cli_die_lib();
		tr.m = lm.m;
		memset(&lm.m, 0, sizeof lm.m);
		tr.vocab = lm.vocab;
		memset(&lm.vocab, 0, sizeof lm.vocab);
		tr.start_id = lm.start_id;
	} else {
		if (nk_text_read(&tr.ids, &tr.n, path, o->level, 0))
			cli_die_lib();
		if (tr.n == 0)
			cli_errx(1, "%s: empty input", name);
		if (nk_textvocab_build(&tr.vocab, o->level, tr.ids, tr.n))
			cli_die_lib();
		if (o->level == NK_LEVEL_TOKENS && o->vocab_size) {
			if (o->vocab_size < tr.vocab.V)
				cli_errx(1, "%s: token id %d is beyond "
					"--vocab-size %lld", name, tr.vocab.V - 1,
					o->vocab_size);
			tr.vocab.V = (int)o->vocab_size;
		}
		if (o->level != NK_LEVEL_TOKENS &&
		    nk_textvocab_encode(&tr.vocab, tr.ids, tr.n, name))
			cli_die_lib();
		tr.start_id = tr.ids[0];
	}
	if (tr.n == 0)
		cli_errx(1, "%s: empty input", name);
	size_t nval = (size_t)((double)tr.n * o->val_frac);
	tr.ntrain = tr.n - nval;
	if (nk_streams_init(&tr.streams, tr.ids, tr.ntrain, o->B, o->T))
		cli_errx(1, "%s: %s", name, nk_last_error());
	tr.hash = nk_text_hash(tr.ids, tr.n);

	if (!o->resume) {
		nk_charlm_config cfg = {o->cell, o->L, o->H, o->C, tr.vocab.V,
					o->dropout};
		if (nk_charlm_init(&tr.m, &cfg))
			cli_die_lib();
		nk_rng init;
		nk_rng_seed(&init, o->seed, 0);
		nk_charlm_randomize(&tr.m, &init);
	}
	nk_rng_seed(&tr.rng, o->seed, 1);
	if (nk_adam_init(&tr.adam, tr.m.p.numel, o->lr, 0.9f, 0.999f, 1e-8f,
			 o->wd))
		cli_die_lib();
	int K = o->K == -1 ? (int)(sqrt((double)o->T) + 0.5) : o->K;
	if (K < 0)
		K = 0;
	o->K = K;
	if (!(tr.run = nk_charlm_run_new(&tr.m, o->B, o->T, K, 1)))
		cli_die_lib();
	tr.sched = (nk_lr_schedule){
		strcmp(o->sched, "cosine") == 0 ? NK_LR_COSINE
		: strcmp(o->sched, "step") == 0 ? NK_LR_STEP : NK_LR_CONSTANT,
		o->lr, o->warmup, o->step_size, 0.5f, o->steps, o->min_lr};

	if (o->resume) {
		const nk_wfile *f = lm.f;
		const int64_t *rng;
		size_t nr;
		long long pos, epoch, len, hash, step, at, cnt;
		double sum, el;
		const nk_charlm_config *c = &tr.m.cfg;
		int64_t numel = (int64_t)tr.m.p.numel;
		int64_t shape[3] = {c->L, o->B, c->H};
		const nk_wtensor *am, *av, *th, *tc = NULL;
		if (get_i(f, "step", &step) || nk_wfile_get_ints(f, "rng", &rng, &nr) ||
		    get_i(f, "stream_pos", &pos) || get_i(f, "epoch", &epoch) ||
		    get_i(f, "data_len", &len) || get_i(f, "data_hash", &hash) ||
		    get_i(f, "adam_t", &at) || get_i(f, "log_loss_count", &cnt) ||
		    nk_wfile_get_float(f, "log_loss_sum", &sum) ||
		    nk_wfile_get_float(f, "elapsed", &el) ||
		    !(am = nk_wfile_expect(f, "train.adam.m", NK_F32, 1, &numel)) ||
		    !(av = nk_wfile_expect(f, "train.adam.v", NK_F32, 1, &numel)) ||
		    !(th = nk_wfile_expect(f, "train.h", NK_F32, 3, shape)) ||
		    (c->cell == NK_CELL_LSTM &&
		     !(tc = nk_wfile_expect(f, "train.c", NK_F32, 3, shape))))
			cli_errx(1, "%s: cannot resume: %s", o->out, nk_last_error());
		if (nr != 4 || (size_t)len != tr.n || (uint64_t)hash != tr.hash)
			cli_errx(1, "%s: cannot resume: the model was trained on "
				"other data than %s", o->out, name);
		if (pos < 0 || (size_t)pos > tr.streams.len || step < 0 ||
		    at < 0 || cnt < 0)
			cli_errx(1, "%s: cannot resume: training state out of "
				"range", o->out);
		for (int i = 0; i < 4; i++)
			tr.rng.s[i] = (uint64_t)rng[i];
		tr.streams.pos = (size_t)pos;
		tr.streams.epoch = epoch;
		tr.step = step;
		tr.adam.t = at;
		memcpy(tr.adam.m, am->data, am->nbytes);
		memcpy(tr.adam.v, av->data, av->nbytes);
		memcpy(nk_charlm_run_h(tr.run), th->data, th->nbytes);
		if (tc)
			memcpy(nk_charlm_run_c(tr.run), tc->data, tc->nbytes);
		tr.log_sum = sum;
		tr.log_count = cnt;
		tr.elapsed = el;
	}
	lm_free(&lm);

	const uint32_t *val = tr.ids + tr.ntrain;
	size_t nval_ok = nval >= 2 ? nval : 0;
	if (nval && !nval_ok && !o->quiet)
		cli_warnx("%s: validation part too short (%zu); not evaluated",
			 name, nval);
	const char *unit = o->level == NK_LEVEL_TOKENS ? "token" : "char";
	if (o->verbose)
		cli_warnx("%d parameters, vocabulary %d, %zu training and %zu "
			 "validation %ss, activations %.1f MB (segment %d)",
			 (int)tr.m.p.numel, tr.m.cfg.V, tr.ntrain, nval, unit,
			 nk_charlm_run_bytes(tr.run) / 1e6, K ? K : o->T);

	FILE *log = NULL;
	if (o->log) {
		if (!(log = fopen(o->log, o->resume ? "a" : "w")))
			cli_errx(1, "%s: %s", o->log, strerror(errno));
		if (ftell(log) == 0)
			fprintf(log, "step,train_loss,val_loss,time\n");
	}
	size_t BT = (size_t)o->B * o->T;
	if (!(tr.x = nk_calloc(BT, sizeof *tr.x)) ||
	    !(tr.y = nk_calloc(BT, sizeof *tr.y)))
		cli_die_lib();
	int prog = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
	if (o->quiet && o->progress < 0)
		prog = 0;
	double t0 = cli_now(), last_draw = 0, el0 = tr.elapsed;
	int64_t start = tr.step;
	int rc = 0;
	double loss = 0;
	while (tr.step < o->steps) {
		if (nk_streams_next(&tr.streams, tr.x, tr.y))
			nk_charlm_run_reset(tr.run);
		uint64_t seed = nk_rng_u64(&tr.rng);
		loss = nk_charlm_train_step(&tr.m, tr.run, tr.x, tr.y, seed);
		if (!isfinite(loss))
			cli_errx(1, "step %lld: the loss is %g (try a smaller "
				"--lr)", (long long)tr.step + 1, loss);
		if (o->clip > 0)
			nk_clip_grad_norm(tr.m.p.grads, tr.m.p.numel, o->clip);
		nk_adam_step(&tr.adam, tr.m.p.data, tr.m.p.grads,
			     nk_lr_at(&tr.sched, tr.step));
		tr.step++;
		tr.log_sum += loss;
		tr.log_count++;
		tr.elapsed = el0 + (cli_now() - t0);
		int do_eval = nval_ok && (tr.step % o->eval_every == 0 ||
					  tr.step == o->steps);
		int do_log = tr.step % o->log_every == 0 || tr.step == o->steps;
		double vloss = NAN;
		if (do_eval) {
			size_t cnt;
			if (nk_charlm_evaluate(&tr.m, val, nval, o->B, o->T,
					       &vloss, &cnt))
				cli_die_lib();
			tr.last_val = vloss;
			if (prog) /* the report replaces the progress line */
				fputs("\r\033[K", stderr);
			if (!o->quiet)
				cli_warnx("step %lld: train %.4f, validation %.4f "
					 "nats/%s (%.4f bits/%s)",
					 (long long)tr.step, loss, vloss, unit,
					 vloss / M_LN2, unit);
		}
		if (log && do_log) {
			fprintf(log, "%lld,%.9g,", (long long)tr.step,
				tr.log_sum / (double)tr.log_count);
			if (do_eval)
				fprintf(log, "%.9g", vloss);
			fprintf(log, ",%.3f\n", tr.elapsed);
			fflush(log);
			tr.log_sum = 0;
			tr.log_count = 0;
		}
		if (tr.step % o->save_every == 0 || tr.step == o->steps) {
			if (save_model(&tr)) {
				if (prog)
					fputc('\n', stderr);
				cli_warn_lib();
				rc = 1;
				break;
			}
		}
		if (prog && (cli_now() - last_draw >= 0.1 || tr.step == o->steps)) {
			last_draw = cli_now();
			progress_line(&tr, t0, start, loss);
		}
	}
	if (prog)
		fputc('\n', stderr);
	if (tr.step == start && !rc && save_model(&tr)) /* --steps 0: the init */
		cli_die_lib(), rc = 1;
	if (o->verbose && tr.step > start) {
		double el = cli_now() - t0;
		cli_warnx("%lld steps in %.2f s: %.0f %ss/s",
			 (long long)(tr.step - start), el,
			 (double)(tr.step - start) * BT / el, unit);
	}
	if (log && (ferror(log) | fclose(log))) {
		cli_warnx("%s: write error", o->log);
		rc = 1;
	}
	nk_charlm_run_free(tr.run);
	nk_adam_free(&tr.adam);
	nk_charlm_free(&tr.m);
	nk_textvocab_free(&tr.vocab);
	free(tr.ids);
	free(tr.x);
	free(tr.y);
	return rc;
}

/* ---- sample ---------------------------------------------------------------- */

static int cmd_sample(struct opts *o, int argc, char **argv)
{
	if (argc != 1)
		cli_usage_error(usage, "sample: one MODEL");
	long long N = 500, topk = 0;
	double temp = 1;
	char *end;
	if (o->length) {
		errno = 0;
		N = strtoll(o->length, &end, 10);
		if (errno || end == o->length || *end)
			cli_usage_error(usage, "--length: '%s' is not an integer",
				       o->length);
		if (N < 1 || N > 1000000000)
			cli_errx(1, "--length %lld is out of range (1 to "
				"1000000000)", N);
	}
	if (o->temp) {
		errno = 0;
		temp = strtod(o->temp, &end);
		if (errno || end == o->temp || *end)
			cli_usage_error(usage, "--temperature: '%s' is not a "
				       "number", o->temp);
		if (!(temp > 0 && temp <= 100))
			cli_errx(1, "--temperature %s is out of range (0 < T <= "
				"100)", o->temp);
	}
	if (o->topk) {
		errno = 0;
		topk = strtoll(o->topk, &end, 10);
		if (errno || end == o->topk || *end)
			cli_usage_error(usage, "--top-k: '%s' is not an integer",
				       o->topk);
		if (topk < 0)
			cli_errx(1, "--top-k %lld is out of range (0 or more)",
				topk);
	}
	struct lm lm;
	if (lm_load(&lm, argv[0]))
		cli_die_lib();
	int V = lm.m.cfg.V, tokens = lm.level == NK_LEVEL_TOKENS;
	if (topk > V)
		topk = V;
	/* The prime as ids. */
	uint32_t *prime = NULL;
	size_t np = 0;
	if (o->prime && tokens) {
		nk_tokreader *r = nk_tokreader_open_mem(o->prime,
							strlen(o->prime),
							"--prime");
		uint32_t *ids;
		size_t n;
		int k;
		if (!r)
			cli_die_lib();
		nk_tokreader_set_max_id(r, (uint32_t)V);
		while ((k = nk_tokreader_next(r, &ids, &n)) == 1) {
			uint32_t *t = nk_reallocarray(prime, np + n + 1,
						      sizeof *t);
			if (!t)
				cli_die_lib();
			prime = t;
			memcpy(prime + np, ids, n * sizeof *ids);
			np += n;
		}
		if (k < 0)
			cli_die_lib();
		nk_tokreader_close(r);
	} else if (o->prime) {
		if (nk_text_decode(&prime, &np, (const unsigned char *)o->prime,
				   strlen(o->prime), lm.level) ||
		    nk_textvocab_encode(&lm.vocab, prime, np, "--prime"))
			cli_die_lib();
	}
	enum { CHUNK = 64 };
	nk_charlm_run *run = nk_charlm_run_new(&lm.m, 1, CHUNK, 0, 0);
	float *work = nk_calloc((size_t)V * 2, sizeof(float));
	if (!run || !work)
		cli_die_lib();
	nk_rng g;
	nk_rng_seed(&g, o->seed, 0);
	uint32_t x;
	const char *sep = "";
	if (np) {
		for (size_t i = 0; i < np; i += CHUNK) {
			int n = np - i < CHUNK ? (int)(np - i) : CHUNK;
			nk_charlm_forward(&lm.m, run, prime + i, NULL, n);
		}
		if (tokens) {
			for (size_t i = 0; i < np; i++, sep = " ")
				printf("%s%u", sep, prime[i]);
		} else {
			fputs(o->prime, stdout);
		}
	} else {
		x = (uint32_t)lm.start_id;
		nk_charlm_forward(&lm.m, run, &x, NULL, 1);
	}
	for (long long i = 0; i < N; i++) {
		x = nk_charlm_pick(nk_charlm_run_logits(run), V, (float)temp,
				   (int)topk, nk_rng_double(&g), work);
		if (tokens) {
			printf("%s%u", sep, x);
			sep = " ";
		} else {
			unsigned char b[4];
			int k = nk_text_encode_sym(b, lm.vocab.sym[x], lm.level);
			fwrite(b, 1, (size_t)k, stdout);
		}
		if (i + 1 < N)
			nk_charlm_forward(&lm.m, run, &x, NULL, 1);
	}
	if (tokens)
		putchar('\n');
	nk_charlm_run_free(run);
	free(work);
	free(prime);
	lm_free(&lm);
	cli_close_stdout();
	return 0;
}

/* ---- eval -------------------------------------------------------------------- */

static int cmd_eval(struct opts *o, int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error(usage, "eval: MODEL [FILE...]");
	struct lm lm;
	if (lm_load(&lm, argv[0]))
		cli_die_lib();
	long long B = o->B, T = o->T;
	if (!B && get_i(lm.f, "batch", &B))
		B = 50;
	if (!T && get_i(lm.f, "bptt", &T))
		T = 50;
	if (B < 1 || B > 100000 || T < 1 || T > 100000)
		B = 50, T = 50;
	const char *unit = lm.level == NK_LEVEL_TOKENS ? "token" : "char";
	char *stdin_only[] = {"-"};
	char **files = argc > 1 ? argv + 1 : stdin_only;
	int nfiles = argc > 1 ? argc - 1 : 1, rc = 0;
	for (int i = 0; i < nfiles; i++) {
		const char *name = strcmp(files[i], "-") ? files[i] : "(stdin)";
		uint32_t *ids;
		size_t n, cnt;
		double loss;
		if (read_ids(&lm, files[i], &ids, &n)) {
			cli_warn_lib();
			rc = 1;
			continue;
		}
		if (nk_charlm_evaluate(&lm.m, ids, n, (int)B, (int)T, &loss,
				       &cnt)) {
			cli_warnx("%s: %s", name, nk_last_error());
			rc = 1;
			free(ids);
			continue;
		}
		printf("%s: %.4f nats/%s  %.4f bits/%s  perplexity %.3f  "
		       "(%zu %ss)\n", name, loss, unit, loss / M_LN2, unit,
		       exp(loss), cnt, unit);
		free(ids);
	}
	lm_free(&lm);
	cli_close_stdout();
	return rc;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	struct opts o = {
		.level = NK_LEVEL_BYTE, .cell = NK_CELL_LSTM, .L = 2, .H = 128,
		.C = 128, .B = 0, .T = 0, .K = 0, .progress = -1,
		.lr = 2e-3f, .clip = 5, .val_frac = 0.1f, .steps = 1000,
		.step_size = 1000, .eval_every = 100, .save_every = 0,
		.log_every = 10, .seed = 1, .sched = "constant"};
	int c;
	while ((c = getopt_long(argc, argv, "o:L:m:l:H:E:d:b:T:n:r:c:p:t:k:s:j:qvh",
				longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case O_RESUME: o.resume = 1; break;
		case 'L':
			if ((o.level = nk_text_level_from_name(optarg)) < 0)
				cli_usage_error(usage, "--level: '%s' is not byte, "
					       "char or tokens", optarg);
			break;
		case 'm':
			if ((o.cell = nk_cell_from_name(optarg)) < 0)
				cli_usage_error(usage, "--model: '%s' is not rnn, "
					       "lstm or gru", optarg);
			break;
		case 'l': o.L = (int)cli_parse_int_opt(usage, "--layers", optarg, 1, NK_CHARLM_MAX_LAYERS); break;
		case 'H': o.H = (int)cli_parse_int_opt(usage, "--hidden", optarg, 1, 65536); break;
		case 'E': o.C = (int)cli_parse_int_opt(usage, "--embedding", optarg, 1, 65536); break;
		case 'd': o.dropout = (float)cli_parse_float_opt(usage, "--dropout", optarg, 0, 0.99); break;
		case 'b': o.B = (int)cli_parse_int_opt(usage, "--batch", optarg, 1, 100000); break;
		case 'T': o.T = (int)cli_parse_int_opt(usage, "--bptt", optarg, 1, 100000); break;
		case 'n': o.length = optarg; break;
		case 'r': o.lr = (float)cli_parse_float_opt(usage, "--lr", optarg, 0, 10); break;
		case O_WD: o.wd = (float)cli_parse_float_opt(usage, "--weight-decay", optarg, 0, 10); break;
		case O_CLIP: o.clip = (float)cli_parse_float_opt(usage, "--clip", optarg, 0, 1e9); break;
		case O_SCHED:
			if (strcmp(optarg, "constant") && strcmp(optarg, "cosine") &&
			    strcmp(optarg, "step"))
				cli_usage_error(usage, "--schedule: '%s' is not "
					       "constant, cosine or step", optarg);
			o.sched = optarg;
			break;
		case O_WARMUP: o.warmup = cli_parse_int_opt(usage, "--warmup", optarg, 0, INT64_MAX / 2); break;
		case O_MINLR: o.min_lr = (float)cli_parse_float_opt(usage, "--min-lr", optarg, 0, 10); break;
		case O_STEPSIZE: o.step_size = cli_parse_int_opt(usage, "--step-size", optarg, 1, INT64_MAX / 2); break;
		case 'c':
			o.K = strcmp(optarg, "auto") == 0
				      ? -1
				      : (int)cli_parse_int_opt(usage, "--checkpoint", optarg, 0, 100000);
			break;
		case O_VALFRAC: o.val_frac = (float)cli_parse_float_opt(usage, "--val-fraction", optarg, 0, 0.9); break;
		case O_EVAL: o.eval_every = cli_parse_int_opt(usage, "--eval-every", optarg, 1, INT64_MAX / 2); break;
		case O_SAVE: o.save_every = cli_parse_int_opt(usage, "--save-every", optarg, 1, INT64_MAX / 2); break;
		case O_LOG: o.log = optarg; break;
		case O_LOGEVERY: o.log_every = cli_parse_int_opt(usage, "--log-every", optarg, 1, INT64_MAX / 2); break;
		case O_VOCAB: o.vocab_size = cli_parse_int_opt(usage, "--vocab-size", optarg, 1, 1 << 24); break;
		case 'p': o.prime = optarg; break;
		case 't': o.temp = optarg; break;
		case 'k': o.topk = optarg; break;
		case 's': o.seed = (uint64_t)cli_parse_int_opt(usage, "--seed", optarg, 0, INT64_MAX); break;
		case 'j': o.threads = (int)cli_parse_int_opt(usage, "--threads", optarg, 1, 1024); break;
		case 'q': o.quiet = 1; break;
		case 'v': o.verbose = 1; break;
		case CLI_OPT_PROGRESS: o.progress = 1; break;
		case CLI_OPT_NO_PROGRESS: o.progress = 0; break;
		case 'h': cli_exit_help(usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default: cli_usage_error(usage, NULL);
		}
	}
	if (optind >= argc)
		cli_usage_error(usage, "a command is required: train, sample or "
			       "eval");
	const char *cmd = argv[optind++];
	if (o.threads)
		omp_set_num_threads(o.threads);
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "train") == 0) {
		if (o.length) {
			o.steps = cli_parse_int_opt(usage, "--steps", o.length, 0,
						   INT64_MAX / 2);
			o.set_steps = 1;
		}
		if (!o.B)
			o.B = 50;
		if (!o.T)
			o.T = 50;
		if (o.K > o.T)
			o.K = o.T;
		if (!o.save_every)
			o.save_every = o.eval_every;
		if (o.prime || o.temp || o.topk)
			cli_usage_error(usage, "train: --prime, --temperature "
				       "and --top-k are for sample");
		return cmd_train(&o, argc, argv);
	}
	if (strcmp(cmd, "sample") == 0)
		return cmd_sample(&o, argc, argv);
	if (strcmp(cmd, "eval") == 0)
		return cmd_eval(&o, argc, argv);
	cli_usage_error(usage, "unknown command '%s' (train, sample, eval)", cmd);
}
