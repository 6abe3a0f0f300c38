/* test_cli.c - the shared command-line helpers in cmd/cli.h. */
#include <fcntl.h>
#include <sys/wait.h>

#include "cli.h"
#include "check.h"

static char captured[4096];

/* Runs fn with stderr sent to a file and returns what it wrote. */
static const char *capture_stderr(void (*fn)(void))
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(captured, 1, sizeof captured - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
	return captured;
}

static void progress_on(void)
{
	struct cli_progress p;
	cli_progress_init(&p, 1, 100, "B");
	cli_progress_update(&p, 50);
	cli_progress_done(&p);
}

static void progress_off(void)
{
	struct cli_progress p;
	cli_progress_init(&p, 0, 100, "B");
	cli_progress_update(&p, 50);
	cli_progress_done(&p);
}

static void progress_unknown_total(void)
{
	struct cli_progress p;
	cli_progress_init(&p, 1, 0, "words");
	cli_progress_update(&p, 1234);
}

static void warn_lib(void)
{
	nk_error(NK_EFORMAT, "model.nkw: bad magic");
	cli_warn_lib();
}

TEST(cli_progress_line)
{
	cli_init("/usr/bin/w2v-train");
	const char *s = capture_stderr(progress_on);
	CHECK_MSG(strstr(s, "w2v-train:") && strstr(s, "50.0%") &&
			  strstr(s, "ETA") && strchr(s, '\r'),
		  "got '%s'", s);
	CHECK(capture_stderr(progress_off)[0] == '\0');
	s = capture_stderr(progress_unknown_total);
	CHECK_MSG(strstr(s, "1234 words") && !strstr(s, "ETA"), "got '%s'", s);
}

TEST(cli_messages_are_prefixed)
{
	cli_init("lcs-seq");
	const char *s = capture_stderr(warn_lib);
	CHECK_MSG(strcmp(s, "lcs-seq: model.nkw: bad magic\n") == 0, "got '%s'", s);
}

static void usage(FILE *fp)
{
	fprintf(fp, "usage: prog [-n N]\n");
}

/* Runs a helper that exits in a child; returns its exit status. */
static int exit_status_of(void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, STDERR_FILENO);
		fn();
		_exit(99);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void bad_int(void) { cli_parse_int_opt(usage, "-n", "12x", 0, 100); }
static void big_int(void) { cli_parse_int_opt(usage, "-n", "101", 0, 100); }
static void die(void) { cli_errx(1, "boom"); }

TEST(cli_exit_codes)
{
	CHECK(cli_parse_int_opt(usage, "-n", "42", 0, 100) == 42);
	CHECK(exit_status_of(bad_int) == 2);
	CHECK(exit_status_of(big_int) == 2);
	CHECK(exit_status_of(die) == 1);
}

/* A usage error is the message and one "Try" line, not the whole usage
 * (which would scroll the message away); with no message (getopt has
 * printed its own) just the "Try" line.  Both exit 2. */
static void usage_error_msg(void)
{
	if (fork() == 0)
		cli_usage_error(usage, "-n: '%s' is not an integer", "x");
	wait(NULL);
}

static void usage_error_bare(void)
{
	if (fork() == 0)
		cli_usage_error(usage, NULL);
	wait(NULL);
}

static void usage_error_exit(void) { cli_usage_error(usage, "bad"); }

TEST(cli_usage_error_is_short)
{
	cli_init("/usr/bin/prog");
	const char *s = capture_stderr(usage_error_msg);
	CHECK_MSG(strcmp(s, "prog: -n: 'x' is not an integer\n"
			    "Try 'prog --help' for more information.\n") == 0,
		  "got '%s'", s);
	s = capture_stderr(usage_error_bare);
	CHECK_MSG(strcmp(s, "Try 'prog --help' for more information.\n") == 0,
		  "got '%s'", s);
	CHECK(exit_status_of(usage_error_exit) == 2);
}

int main(void)
{
	RUN(cli_progress_line);
	RUN(cli_messages_are_prefixed);
	RUN(cli_exit_codes);
	RUN(cli_usage_error_is_short);
	return nk_test_exit();
}
