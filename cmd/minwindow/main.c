/* minwindow - the shortest substring of each line that holds all of T.
 *
 * A regular file is mapped and its lines scanned in place; stdin, pipes
 * and gzip input are read a line at a time, so no input is held twice.
 * With -z the whole input is one string.  See minwindow(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "cli.h"
#include "core/io.h"
#include "algo/minwindow.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s -t T | -T TFILE [-nuz] [FILE ...]\n"
		"Prints, for each input line, its shortest substring that holds every\n"
		"character of T (with multiplicity); the leftmost on a tie; an empty\n"
		"line when there is none.\n"
		"  -t T        the characters to cover (must not be empty)\n"
		"  -T TFILE    read T from TFILE, less one trailing newline\n"
		"  -n          print \"offset length\" instead (\"-1 0\" for none)\n"
		"  -u          characters are UTF-8 code points, not bytes\n"
		"  -z          the whole input, newlines included, is one string\n"
		"  -h, --help  this help;  --version  the version\n",
		cli_prog);
}

struct opts {
	int numeric, utf8, whole;
};

/* Prints the window of s (or its place with -n). */
static void emit(const struct opts *o, const unsigned char *s,
		 const nk_mw_match *m)
{
	if (o->numeric) {
		if (m->len == 0)
			fputs_unlocked("-1 0\n", stdout);
		else
			printf("%zu %zu\n", o->utf8 ? m->cp_off : m->off,
			       o->utf8 ? m->cp_len : m->len);
		return;
	}
	fwrite_unlocked(s + m->off, 1, m->len, stdout);
	putchar_unlocked('\n');
}

/* One string: prints its window, or reports where its UTF-8 goes wrong
 * (as NAME:LINE: with the byte offset in the string) and returns 1. */
static int one(nk_mw *mw, const struct opts *o, const char *name,
	       size_t lineno, const unsigned char *s, size_t n)
{
	nk_mw_match m;
	if (nk_mw_find(mw, s, n, &m) == NK_OK) {
		emit(o, s, &m);
		return 0;
	}
	/* With -z the string spans lines: name the line of the bad byte. */
	for (size_t i = 0; o->whole && i < m.bad; i++)
		lineno += s[i] == '\n';
	cli_warnx("%s:%zu: %s", name, lineno, nk_last_error());
	return 1;
}

/* Every line of one input; 0, or 1 after reporting a failure (the rest
 * of that input is then skipped: its output lines would not line up). */
static int run_file(nk_mw *mw, const struct opts *o, const char *path)
{
	if (o->whole || nk_input_mappable(path)) {
		nk_input in;
		if (nk_input_load(&in, path, 0)) {
			cli_warn_lib();
			return 1;
		}
		int bad = 0;
		if (o->whole) {
			bad = one(mw, o, in.name, 1, in.data, in.size);
		} else {
			const unsigned char *p = in.data, *end = p + in.size;
			size_t lineno = 0;
			while (p < end && !bad) {
				const unsigned char *nl =
					memchr(p, '\n', (size_t)(end - p));
				size_t len = nl ? (size_t)(nl - p)
						: (size_t)(end - p);
				bad = one(mw, o, in.name, ++lineno, p, len);
				p += len + 1;
			}
		}
		nk_input_free(&in);
		return bad;
	}
	nk_reader *r = nk_reader_open(path);
	if (!r) {
		cli_warn_lib();
		return 1;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int bad = 0;
	while ((len = nk_reader_getline(r, &line, &cap, NULL)) >= 0) {
		if ((bad = one(mw, o, nk_reader_name(r), ++lineno,
			       (const unsigned char *)line, (size_t)len)))
			break;
	}
	if (len == -2) {
		cli_warn_lib();
		bad = 1;
	}
	free(line);
	nk_reader_close(r);
	return bad;
}

/* T from a file: its whole content less one trailing newline. */
static nk_mw *pattern_from_file(const char *path, int flags)
{
	nk_input in;
	if (nk_input_load(&in, path, 0))
		cli_die_lib();
	size_t n = in.size;
	if (n > 0 && in.data[n - 1] == '\n')
		n--;
	if (n == 0)
		cli_usage_error(usage, "%s: the pattern T is empty", in.name);
	nk_mw *mw;
	size_t bad = 0;
	int rc = nk_mw_new(&mw, in.data, n, flags, &bad);
	if (rc == NK_EFORMAT) {
		size_t line = 1;
		for (size_t i = 0; i < bad; i++)
			line += in.data[i] == '\n';
		cli_errx(1, "%s:%zu: %s", in.name, line, nk_last_error());
	}
	if (rc)
		cli_die_lib();
	nk_input_free(&in);
	return mw;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, CLI_OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	cli_init(argv[0]);
	struct opts o = {0};
	const char *t = NULL, *tfile = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "hnT:t:uz", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_exit_help(usage);
		case CLI_OPT_VERSION:
			cli_exit_version();
		case 'n': o.numeric = 1; break;
		case 'T': tfile = optarg; break;
		case 't': t = optarg; break;
		case 'u': o.utf8 = 1; break;
		case 'z': o.whole = 1; break;
		default: cli_usage_error(usage, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (t && tfile)
		cli_usage_error(usage, "-t and -T both give T: use one");
	if (!t && !tfile)
		cli_usage_error(usage, "no pattern: give -t T or -T TFILE");
	int stdin_input = argc == 0;
	for (int i = 0; i < argc; i++)
		stdin_input |= strcmp(argv[i], "-") == 0;
	if (tfile && strcmp(tfile, "-") == 0 && stdin_input)
		cli_usage_error(usage, "-T -: standard input cannot hold both T "
				      "and the input");

	int flags = o.utf8 ? NK_MW_UTF8 : 0;
	nk_mw *mw;
	if (tfile) {
		mw = pattern_from_file(tfile, flags);
	} else {
		if (!*t)
			cli_usage_error(usage, "-t: the pattern T is empty");
		int rc = nk_mw_new(&mw, t, strlen(t), flags, NULL);
		if (rc == NK_EFORMAT)
			cli_usage_error(usage, "-t: %s", nk_last_error());
		if (rc)
			cli_die_lib();
	}

	int status = 0;
	if (argc == 0)
		status |= run_file(mw, &o, "-");
	for (int i = 0; i < argc; i++)
		status |= run_file(mw, &o, argv[i]);
	nk_mw_free(mw);
	cli_close_stdout();
	return status;
}
