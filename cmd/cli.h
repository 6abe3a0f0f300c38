/* cli.h - what every nnkit program shares on the command line.
 *
 * Header-only: every file of every program (in cmd/PROG/) includes it, and
 * its helpers are prefixed cli_ so that nobody mistakes them for the
 * library's nk_ functions, which never print or exit.  The conventions (see README "Command-line conventions"):
 *   - data on stdout, diagnostics on stderr as "prog: message";
 *   - -h/--help: usage on stdout, exit 0; --version: exit 0;
 *   - a usage error: the message and "Try 'prog --help'" on stderr, exit 2;
 *   - a runtime error: "prog: what went wrong", exit 1;
 *   - a progress line on stderr only when it is a terminal, unless
 *     --progress / --no-progress / -q say otherwise;
 *   - binary output refused on a terminal unless forced.
 */
#ifndef CLI_H
#define CLI_H

#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/base.h"
#include "core/io.h"

/* The program's name in messages, set by cli_init.  One variable for all
 * of a program's files: each file that includes this header defines it,
 * weakly, and the linker keeps one (a static one would leave every file
 * but main's saying "nnkit"). */
__attribute__((weak)) const char *cli_prog = "nnkit";

/* A program with modes (detect run, detect eval) names the mode here, so
 * that a usage error points at the mode's own --help, the text that
 * lists its options; NULL for a program without modes. */
__attribute__((weak)) const char *cli_mode = NULL;

/* Long-option codes shared by every program, above any short option. */
enum { CLI_OPT_VERSION = 0x1000, CLI_OPT_PROGRESS, CLI_OPT_NO_PROGRESS };

static inline void cli_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	cli_prog = slash ? slash + 1 : argv0;
}

static inline void cli_warnx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void cli_warnx(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A runtime failure: prints and exits with `code` (1 for runtime errors). */
static inline _Noreturn void cli_errx(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline _Noreturn void cli_errx(int code, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Reports the library's last error message (which names the file). */
static inline void cli_warn_lib(void)
{
	const char *msg = nk_last_error();
	cli_warnx("%s", msg[0] ? msg : "unknown error");
}

static inline _Noreturn void cli_die_lib(void)
{
	cli_warn_lib();
	exit(1);
}

/* A usage error: the message and one line pointing at --help, both on
 * stderr, exit 2.  The whole usage text would scroll the one line that
 * matters out of sight; -h/--help prints it (cli_exit_help).  A NULL fmt
 * (getopt already printed its own line about the option) prints just the
 * pointer.  `usage` is kept so that every caller names its usage text. */
static inline _Noreturn void cli_usage_error(void (*usage)(FILE *),
					    const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline _Noreturn void cli_usage_error(void (*usage)(FILE *),
					    const char *fmt, ...)
{
	(void)usage;
	fflush(stdout);
	if (fmt) {
		va_list ap;
		fprintf(stderr, "%s: ", cli_prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (cli_mode)
		fprintf(stderr, "Try '%s %s --help' for more information.\n",
			cli_prog, cli_mode);
	else
		fprintf(stderr, "Try '%s --help' for more information.\n",
			cli_prog);
	exit(2);
}

static inline void cli_print_version(void)
{
	printf("%s (nnkit) %s\n", cli_prog, NK_VERSION);
}

static inline void cli_close_stdout(void);

/* -h/--help and --version: print on stdout and exit 0. */
static inline _Noreturn void cli_exit_help(void (*usage)(FILE *))
{
	usage(stdout);
	cli_close_stdout();
	exit(0);
}

static inline _Noreturn void cli_exit_version(void)
{
	cli_print_version();
	cli_close_stdout();
	exit(0);
}

/* Writes stdout and checks that it all went out: a full disk or a closed
 * pipe must not pass as success. */
static inline void cli_close_stdout(void)
{
	/* The reason (a full disk, a closed pipe) is what the user acts on:
	 * the flush's errno.  An error flag set by an earlier write with
	 * nothing left to flush has lost its errno (stdio keeps none). */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_errx(1, "standard output: write failed: %s",
			 errno ? strerror(errno) : "I/O error");
}

/* zstd's rule: binary data is not for a terminal unless the user insists. */
static inline void cli_refuse_binary_tty(int forced)
{
	if (!forced && nk_is_terminal(stdout))
		cli_errx(1, "refusing to write binary data to a terminal "
			   "(redirect stdout, or force it)");
}

/* "H:MM:SS" of a time left in seconds, into buf (at least 16 bytes): the
 * ETA of every progress line. */
static inline const char *cli_eta(char *buf, size_t size, double seconds)
{
	long s = seconds > 0 && seconds < 1e9 ? (long)(seconds + 0.5) : 0;
	snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	return buf;
}

/* Progress line on stderr: "label  42%  12.3 MB/s  ETA 0:07". */
struct cli_progress {
	int enabled;
	double start, last_draw;
	double total; /* 0 when unknown: no percentage, no ETA */
	const char *unit;
};

static inline double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* mode: -1 auto (stderr is a terminal), 0 off, 1 on. */
static inline void cli_progress_init(struct cli_progress *p, int mode,
				    double total, const char *unit)
{
	p->enabled = mode < 0 ? isatty(STDERR_FILENO) : mode;
	p->start = cli_now();
	p->last_draw = 0;
	p->total = total;
	p->unit = unit;
}

static inline void cli_progress_update(struct cli_progress *p, double done)
{
	if (!p->enabled)
		return;
	double now = cli_now();
	if (now - p->last_draw < 0.1 && (p->total == 0 || done < p->total))
		return;
	p->last_draw = now;
	double elapsed = now - p->start, rate = elapsed > 0 ? done / elapsed : 0;
	const char *scale = "";
	double shown = rate;
	if (shown >= 1e9) { shown /= 1e9; scale = "G"; }
	else if (shown >= 1e6) { shown /= 1e6; scale = "M"; }
	else if (shown >= 1e3) { shown /= 1e3; scale = "k"; }
	if (p->total > 0) {
		char eta[32];
		cli_eta(eta, sizeof eta, rate > 0 ? (p->total - done) / rate : 0);
		fprintf(stderr, "\r%s: %5.1f%%  %.1f %s%s/s  ETA %s ", cli_prog,
			100.0 * done / p->total, shown, scale, p->unit, eta);
	} else {
		fprintf(stderr, "\r%s: %.0f %s  %.1f %s%s/s ", cli_prog, done,
			p->unit, shown, scale, p->unit);
	}
	fflush(stderr);
}

static inline void cli_progress_done(struct cli_progress *p)
{
	if (p->enabled)
		fputc('\n', stderr);
}

/* Parses a whole decimal integer option in [lo, hi] or exits with a usage
 * error naming the option. */
static inline long long cli_parse_int_opt(void (*usage)(FILE *),
					 const char *opt, const char *arg,
					 long long lo, long long hi)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		cli_usage_error(usage, "%s: '%s' is not an integer in [%lld, %lld]",
			       opt, arg, lo, hi);
	return v;
}

/* Parses a whole number option (strtod syntax) in [lo, hi], or exits with a
 * usage error naming the option; NaN is never in range. */
static inline double cli_parse_float_opt(void (*usage)(FILE *),
					 const char *opt, const char *arg,
					 double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= lo && v <= hi)) {
		if (lo == -DBL_MAX && hi == DBL_MAX)
			cli_usage_error(usage, "%s: '%s' is not a number", opt,
					arg);
		cli_usage_error(usage, "%s: '%s' is not a number in [%g, %g]",
				opt, arg, lo, hi);
	}
	return v;
}

#endif
