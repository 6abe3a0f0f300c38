/* cli.h - what every nnkit program shares on the command line.
 *
 * Header-only so that each program stays one C file over libnk.a.  The
 * conventions (see README "Command-line conventions"):
 *   - data on stdout, diagnostics on stderr as "prog: message";
 *   - -h/--help: usage on stdout, exit 0; --version: exit 0;
 *   - a usage error: message and usage on stderr, exit 2;
 *   - a runtime error: "prog: what went wrong", exit 1;
 *   - a progress line on stderr only when it is a terminal, unless
 *     --progress / --no-progress / -q say otherwise;
 *   - binary output refused on a terminal unless forced.
 */
#ifndef NK_CLI_H
#define NK_CLI_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "io.h"

static const char *nk_prog = "nnkit";

/* Long-option codes shared by every program, above any short option. */
enum { NK_OPT_VERSION = 0x1000, NK_OPT_PROGRESS, NK_OPT_NO_PROGRESS };

static inline void nk_cli_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	nk_prog = slash ? slash + 1 : argv0;
}

static inline void nk_warnx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void nk_warnx(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: ", nk_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A runtime failure: prints and exits with `code` (1 for runtime errors). */
static inline _Noreturn void nk_errx(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline _Noreturn void nk_errx(int code, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: ", nk_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Reports the library's last error message (which names the file). */
static inline void nk_warn_lib(void)
{
	const char *msg = nk_last_error();
	nk_warnx("%s", msg[0] ? msg : "unknown error");
}

static inline _Noreturn void nk_die_lib(void)
{
	nk_warn_lib();
	exit(1);
}

/* A usage error: the message, then the usage text, both on stderr, exit 2. */
static inline _Noreturn void nk_usage_error(void (*usage)(FILE *),
					    const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline _Noreturn void nk_usage_error(void (*usage)(FILE *),
					    const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		fprintf(stderr, "%s: ", nk_prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	usage(stderr);
	exit(2);
}

static inline void nk_print_version(void)
{
	printf("%s (nnkit) %s\n", nk_prog, NK_VERSION);
}

static inline void nk_close_stdout(void);

/* -h/--help and --version: print on stdout and exit 0. */
static inline _Noreturn void nk_exit_help(void (*usage)(FILE *))
{
	usage(stdout);
	nk_close_stdout();
	exit(0);
}

static inline _Noreturn void nk_exit_version(void)
{
	nk_print_version();
	nk_close_stdout();
	exit(0);
}

/* Writes stdout and checks that it all went out: a full disk or a closed
 * pipe must not pass as success. */
static inline void nk_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		nk_errx(1, "write error on standard output");
}

/* zstd's rule: binary data is not for a terminal unless the user insists. */
static inline void nk_refuse_binary_tty(int forced)
{
	if (!forced && nk_is_terminal(stdout))
		nk_errx(1, "refusing to write binary data to a terminal "
			   "(redirect stdout, or force it)");
}

/* Progress line on stderr: "label  42%  12.3 MB/s  ETA 0:07". */
struct nk_progress {
	int enabled;
	double start, last_draw;
	double total; /* 0 when unknown: no percentage, no ETA */
	const char *unit;
};

static inline double nk_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* mode: -1 auto (stderr is a terminal), 0 off, 1 on. */
static inline void nk_progress_init(struct nk_progress *p, int mode,
				    double total, const char *unit)
{
	p->enabled = mode < 0 ? isatty(STDERR_FILENO) : mode;
	p->start = nk_now();
	p->last_draw = 0;
	p->total = total;
	p->unit = unit;
}

static inline void nk_progress_update(struct nk_progress *p, double done)
{
	if (!p->enabled)
		return;
	double now = nk_now();
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
		double eta = rate > 0 ? (p->total - done) / rate : 0;
		int s = (int)(eta + 0.5);
		fprintf(stderr, "\r%s: %5.1f%%  %.1f %s%s/s  ETA %d:%02d:%02d ",
			nk_prog, 100.0 * done / p->total, shown, scale, p->unit,
			s / 3600, s / 60 % 60, s % 60);
	} else {
		fprintf(stderr, "\r%s: %.0f %s  %.1f %s%s/s ", nk_prog, done,
			p->unit, shown, scale, p->unit);
	}
	fflush(stderr);
}

static inline void nk_progress_done(struct nk_progress *p)
{
	if (p->enabled)
		fputc('\n', stderr);
}

/* Parses a whole decimal integer option in [lo, hi] or exits with a usage
 * error naming the option. */
static inline long long nk_parse_int_opt(void (*usage)(FILE *),
					 const char *opt, const char *arg,
					 long long lo, long long hi)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		nk_usage_error(usage, "%s: '%s' is not an integer in [%lld, %lld]",
			       opt, arg, lo, hi);
	return v;
}

#endif
