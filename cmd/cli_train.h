/* cli_train.h - what the programs that train through lib/nn/train.c share
 * on the command line: the training loop's options, the reports and the
 * progress line of a run, its CSV log.
 *
 * Header-only and cli_-prefixed like cli.h.  A program keeps a struct
 * cli_train_opts in its options, puts the rows of the options it takes in
 * its getopt table (the macros below, so that each program keeps its own
 * order), and hands getopt's codes to cli_train_opt first:
 *
 *	default:
 *		if (!cli_train_opt(&o.t, c, optarg, usage))
 *			cli_usage_error(usage, NULL);
 *
 * then calls cli_train_finish once the command is known.  The seed is the
 * program's (-s also seeds sampling and masking): it copies it into
 * t.tc.seed itself.
 */
#ifndef CLI_TRAIN_H
#define CLI_TRAIN_H

#include <getopt.h>
#include <sys/stat.h>

#include "cli.h"
#include "nn/lr.h"
#include "nn/train.h"

/* Long-option codes, above cli.h's and below every program's own. */
enum {
	CLI_OPT_RESUME = 0x1800, CLI_OPT_STEPS, CLI_OPT_WD, CLI_OPT_CLIP,
	CLI_OPT_SCHED, CLI_OPT_WARMUP, CLI_OPT_MINLR, CLI_OPT_STEPSIZE,
	CLI_OPT_VALFRAC, CLI_OPT_EVAL, CLI_OPT_SAVE, CLI_OPT_LOG,
	CLI_OPT_LOGEVERY
};

/* The rows, by the groups the usage texts list them in.  --lr is also
 * -r (put "r:" in the short options).  --steps is the program's: rnn-train
 * shares -n with sample's --length; CLI_TRAIN_ROW_STEPS is the plain one. */
#define CLI_TRAIN_ROW_RESUME {"resume", no_argument, 0, CLI_OPT_RESUME}
#define CLI_TRAIN_ROW_STEPS {"steps", required_argument, 0, CLI_OPT_STEPS}
#define CLI_TRAIN_ROWS_OPTIM \
	{"lr", required_argument, 0, 'r'}, \
	{"weight-decay", required_argument, 0, CLI_OPT_WD}, \
	{"clip", required_argument, 0, CLI_OPT_CLIP}, \
	{"schedule", required_argument, 0, CLI_OPT_SCHED}, \
	{"warmup", required_argument, 0, CLI_OPT_WARMUP}, \
	{"min-lr", required_argument, 0, CLI_OPT_MINLR}
#define CLI_TRAIN_ROW_STEP_SIZE {"step-size", required_argument, 0, CLI_OPT_STEPSIZE}
#define CLI_TRAIN_ROWS_EVAL \
	{"val-fraction", required_argument, 0, CLI_OPT_VALFRAC}, \
	{"eval-every", required_argument, 0, CLI_OPT_EVAL}, \
	{"save-every", required_argument, 0, CLI_OPT_SAVE}, \
	{"log", required_argument, 0, CLI_OPT_LOG}, \
	{"log-every", required_argument, 0, CLI_OPT_LOGEVERY}

struct cli_train_opts {
	nk_train_config tc;     /* the loop's settings, seed aside */
	const char *log;        /* --log FILE */
	const char *steps;      /* --steps, parsed by cli_train_finish */
	int resume, set_steps;
	float val_frac;         /* the task's: the held-out part */
	const char *schedules;  /* the names in --schedule's message, the
				 * program's default first */
};

/* Takes one of the options above; 0 for a code that is not one. */
static inline int cli_train_opt(struct cli_train_opts *t, int c,
				const char *arg, void (*usage)(FILE *))
{
	nk_train_config *tc = &t->tc;
	switch (c) {
	case CLI_OPT_RESUME: t->resume = 1; break;
	case CLI_OPT_STEPS: t->steps = arg; break;
	case 'r': tc->lr = (float)cli_parse_float_opt(usage, "--lr", arg, 0, 10); break;
	case CLI_OPT_WD: tc->weight_decay = (float)cli_parse_float_opt(usage, "--weight-decay", arg, 0, 10); break;
	case CLI_OPT_CLIP: tc->clip = (float)cli_parse_float_opt(usage, "--clip", arg, 0, 1e9); break;
	case CLI_OPT_SCHED:
		if ((tc->schedule = nk_lr_kind_from_name(arg)) < 0)
			cli_usage_error(usage, "--schedule: '%s' is not %s", arg,
					t->schedules);
		break;
	case CLI_OPT_WARMUP: tc->warmup = cli_parse_int_opt(usage, "--warmup", arg, 0, INT64_MAX / 2); break;
	case CLI_OPT_MINLR: tc->min_lr = (float)cli_parse_float_opt(usage, "--min-lr", arg, 0, 10); break;
	case CLI_OPT_STEPSIZE: tc->step_size = cli_parse_int_opt(usage, "--step-size", arg, 1, INT64_MAX / 2); break;
	case CLI_OPT_VALFRAC: t->val_frac = (float)cli_parse_float_opt(usage, "--val-fraction", arg, 0, 0.9); break;
	case CLI_OPT_EVAL: tc->eval_every = cli_parse_int_opt(usage, "--eval-every", arg, 1, INT64_MAX / 2); break;
	case CLI_OPT_SAVE: tc->save_every = cli_parse_int_opt(usage, "--save-every", arg, 1, INT64_MAX / 2); break;
	case CLI_OPT_LOG: t->log = arg; break;
	case CLI_OPT_LOGEVERY: tc->log_every = cli_parse_int_opt(usage, "--log-every", arg, 1, INT64_MAX / 2); break;
	default: return 0;
	}
	return 1;
}

/* After the options: --steps (parsed last, so that its error comes after
 * the others'), and --save-every as --eval-every unless given. */
static inline void cli_train_finish(struct cli_train_opts *t,
				    void (*usage)(FILE *))
{
	if (t->steps) {
		t->tc.steps = cli_parse_int_opt(usage, "--steps", t->steps, 0,
					       INT64_MAX / 2);
		t->set_steps = 1;
	}
	if (!t->tc.save_every)
		t->tc.save_every = t->tc.eval_every;
}

/* Whether a long run could write its output path at a checkpoint: not a
 * directory, and its directory takes a new file (a temporary file is
 * made there and removed).  NK_EIO with a message naming the path: a
 * typo in -o should not cost the run. */
static inline int cli_train_output_ok(const char *path)
{
	struct stat st;
	if (!path || strcmp(path, "-") == 0)
		return NK_OK;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return nk_error(NK_EIO, "%s: is a directory", path);
	nk_output probe;
	int rc = nk_output_open(&probe, path);
	if (!rc)
		nk_output_abort(&probe);
	return rc;
}

/* --log FILE written whole (every training program): the rows go to a temporary
 * file beside FILE, started as a copy of FILE on --resume, which
 * replaces FILE at each checkpoint (cli_train_log_sync) and at the end of
 * a run that succeeded (cli_train_log_end).  A run that fails leaves
 * FILE as its last checkpoint left it, the log and the model of the same
 * step, and one that fails before any checkpoint leaves FILE untouched.
 * A FILE that is not a regular file (/dev/stdout, a pipe) is written in
 * place.  A log of a row every 10 steps is a few kB per thousand steps:
 * copying it at each checkpoint costs nothing next to the training. */
struct cli_train_log {
	nk_output out;     /* out.fp: the rows; NULL without --log */
};

/* Copies the file at `from` to the end of `to`; a missing `from` is
 * empty when missing_ok.  NK_EIO with a message naming `name`. */
static inline int cli_train_log_copy(FILE *to, const char *from,
				     int missing_ok, const char *name)
{
	FILE *in = fopen(from, "rb");
	if (!in)
		return missing_ok && errno == ENOENT ? NK_OK :
			nk_error(NK_EIO, "%s: %s", name, strerror(errno));
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, to) != n)
			break;
	int bad = ferror(in) || ferror(to);
	fclose(in);
	return bad ? nk_error(NK_EIO, "%s: cannot copy the log", name) : NK_OK;
}

static inline int cli_train_log_begin(struct cli_train_log *l,
				      const char *path, int resume)
{
	memset(l, 0, sizeof *l);
	if (!path)
		return NK_OK;
	int rc = nk_output_open(&l->out, path);
	if (!rc && resume && l->out.tmp_path &&
	    (rc = cli_train_log_copy(l->out.fp, l->out.path, 1, path)))
		nk_output_abort(&l->out);
	return rc;
}

/* FILE := the rows so far (through a second temporary file, so that FILE
 * is never half written). */
static inline int cli_train_log_sync(struct cli_train_log *l)
{
	if (!l->out.fp || !l->out.tmp_path)
		return NK_OK;
	errno = 0;
	if (fflush(l->out.fp) || ferror(l->out.fp))
		return nk_error(NK_EIO, "%s: write failed: %s", l->out.path,
				errno ? strerror(errno) : "I/O error");
	nk_output snap;
	int rc = nk_output_open(&snap, l->out.path);
	if (rc)
		return rc;
	if ((rc = cli_train_log_copy(snap.fp, l->out.tmp_path, 0,
				     l->out.path))) {
		nk_output_abort(&snap);
		return rc;
	}
	return nk_output_commit(&snap);
}

/* Reports the training loop's error, naming --log's FILE when it was
 * writing the log that failed (the loop's message gives the reason). */
static inline void cli_train_warn_run(const struct cli_train_log *l)
{
	if (l->out.fp && ferror(l->out.fp))
		cli_warnx("%s: %s", l->out.path, nk_last_error());
	else
		cli_warn_lib();
}

/* ok: FILE := the rows (1 with a message when that fails); else the
 * temporary file is dropped. */
static inline int cli_train_log_end(struct cli_train_log *l, int ok)
{
	if (!l->out.fp)
		return 0;
	if (!ok) {
		nk_output_abort(&l->out);
		return 0;
	}
	/* The flush's errno is the reason (a full disk); an error flag
	 * from an earlier write with nothing left to flush has lost its. */
	errno = 0;
	if (fflush(l->out.fp) != 0 || ferror(l->out.fp)) {
		cli_warnx("%s: write failed: %s", l->out.path,
			  errno ? strerror(errno) : "I/O error");
		nk_output_abort(&l->out);
		return 1;
	}
	if (nk_output_commit(&l->out)) {
		cli_warn_lib();
		return 1;
	}
	return 0;
}

/* A run's reports on stderr: a line every `every` steps (and at every
 * validation, and at the end) with the mean training loss since the last
 * one, and the progress line between them. */
struct cli_train_report {
	int prog;             /* draw a progress line */
	double t0, last_draw;
	int64_t start;        /* the step this invocation started from */
	int64_t every;        /* a report every N steps */
	double per_step;      /* units (chars, tokens) a step trains on */
	const char *unit;     /* "char", "token": the rates' "%ss/s" */
	double sum;           /* training losses since the last report */
	int64_t count;
};

/* progress: -1 auto (stderr a terminal, unless quiet), 0 off, 1 on. */
static inline void cli_train_report_init(struct cli_train_report *r,
					 int progress, int quiet,
					 int64_t start, int64_t every,
					 double per_step, const char *unit)
{
	int prog = progress < 0 ? isatty(STDERR_FILENO) : progress;
	if (quiet && progress < 0)
		prog = 0;
	*r = (struct cli_train_report){prog, cli_now(), 0, start, every,
				       per_step, unit, 0, 0};
}

/* Counts the step's loss; 1 when a report line is due, the progress line
 * then cleared for it. */
static inline int cli_train_report_due(struct cli_train_report *r,
				       const nk_train_event *e)
{
	r->sum += e->loss;
	r->count++;
	if (!e->evaluated && e->step % r->every != 0 && e->step != e->steps)
		return 0;
	if (r->prog) /* the report replaces the progress line */
		fputs("\r\033[K", stderr);
	return 1;
}

/* The mean training loss since the last report, over *count steps; starts
 * the next span. */
static inline double cli_train_report_take(struct cli_train_report *r,
					   int64_t *count)
{
	double mean = r->sum / (double)r->count;
	*count = r->count;
	r->sum = 0;
	r->count = 0;
	return mean;
}

/* The progress line, at most ten times a second and at the end. */
static inline void cli_train_progress(struct cli_train_report *r,
				      const nk_train_event *e)
{
	if (!r->prog || (cli_now() - r->last_draw < 0.1 && e->step != e->steps))
		return;
	r->last_draw = cli_now();
	double el = r->last_draw - r->t0, done = (double)(e->step - r->start);
	double rate = el > 0 ? done * r->per_step / el : 0;
	char eta[32];
	cli_eta(eta, sizeof eta,
		done > 0 ? el / done * (double)(e->steps - e->step) : 0);
	fprintf(stderr, "\r%s: step %lld/%lld  loss %.4f  %.1fk %ss/s  ETA %s ",
		cli_prog, (long long)e->step, (long long)e->steps, e->loss,
		rate / 1e3, r->unit, eta);
	fflush(stderr);
}

/* After the loop: ends the progress line. */
static inline void cli_train_report_end(const struct cli_train_report *r)
{
	if (r->prog)
		fputc('\n', stderr);
}

/* -v's last line: this invocation's steps and speed. */
static inline void cli_train_report_speed(const struct cli_train_report *r,
					  int64_t step)
{
	if (step <= r->start)
		return;
	double el = cli_now() - r->t0;
	cli_warnx("%lld steps in %.2f s: %.0f %ss/s",
		  (long long)(step - r->start), el,
		  (double)(step - r->start) * r->per_step / el, r->unit);
}

#endif
