/* lcs-seq - the length of the longest run of consecutive integers.
 *
 *	lcs-seq [-ls] [file ...]
 *
 * Without -l every number of every operand forms one array (like cat) and
 * one answer is printed; with -l each line is its own array.  -s adds the
 * run's first and last value: "4 1 4".  An empty array prints "0".
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "algo/intlist.h"
#include "algo/lcs.h"

struct opts {
	int per_line, show_run;
	enum nk_lcs_algo algo;
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-ls] [file ...]\n"
		"Prints the length of the longest run of consecutive integers\n"
		"(values need not be adjacent; duplicates count once).\n"
		"Input: integers separated by blanks, newlines and/or commas,\n"
		"optionally in brackets: [100,4,200,1,3,2].  gzip is read as is.\n"
		"  -l          each line is its own array: one answer per line\n"
		"  -s          also print the run: LENGTH FIRST LAST\n"
		"  -h, --help  this text\n"
		"      --version\n",
		cli_prog);
}

/* lo and hi: the smallest and largest value (the parser's), or lo > hi
 * when not known. */
static void print_answer(const struct opts *o, int64_t *v, size_t n,
			 int64_t lo, int64_t hi)
{
	nk_lcs_result r;
	if (n && lo <= hi ? nk_lcs_bounded(&r, v, n, lo, hi, o->algo)
			  : nk_lcs(&r, v, n, o->algo))
		cli_die_lib();
	if (o->show_run && r.len)
		printf("%" PRIu64 " %" PRId64 " %" PRId64 "\n", r.len, r.first,
		       r.last);
	else
		printf("%" PRIu64 "\n", r.len);
}

/* A plain regular file of S bytes (stdin too, when redirected from one)
 * holds at most S/2 + 1 numbers ("1 1 1"): room for them at once keeps the
 * value array in place, in huge pages (intlist.h); only address space
 * until the values come.  0 for a pipe or a gzip file, whose count is not
 * bounded by its size: an array that outgrew the hint would be moved,
 * which costs more than growing one without it. */
static size_t max_values(const char *path, nk_reader *r)
{
	struct stat st;
	if (nk_reader_is_gzip(r))
		return 0;
	if (strcmp(path, "-") ? stat(path, &st) : fstat(STDIN_FILENO, &st))
		return 0;
	return S_ISREG(st.st_mode) ? (size_t)st.st_size / 2 + 1 : 0;
}

static int on_line(void *ctx, int64_t *v, size_t n, unsigned long long line)
{
	(void)line;
	print_answer(ctx, v, n, 1, 0);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	int ch;

	cli_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "hls", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_exit_help(usage);
		case CLI_OPT_VERSION:
			cli_exit_version();
		case 'l':
			o.per_line = 1;
			break;
		case 's':
			o.show_run = 1;
			break;
		default:
			cli_usage_error(usage, NULL);
		}
	}
	argc -= optind;
	argv += optind;

	/* A hidden switch for the benchmark: both algorithms give the same
	 * answers, only their speed differs. */
	const char *env = getenv("NK_LCS_ALGO");
	int algo = nk_lcs_algo_parse(env);
	if (algo < 0)
		cli_usage_error(usage, "NK_LCS_ALGO: '%s' is not hash, radix or auto",
			       env);
	o.algo = (enum nk_lcs_algo)algo;

	static char *const stdin_only[] = { "-", NULL };
	char *const *files = argc ? argv : stdin_only;
	int nfiles = argc ? argc : 1, bad = 0;

	nk_intlist p;
	if (nk_intlist_init(&p, o.per_line, on_line, &o))
		cli_die_lib();
	for (int i = 0; i < nfiles; i++) {
		nk_reader *r = nk_reader_open(files[i]);
		if (!r) {
			cli_warn_lib();
			bad = 1;
			continue;
		}
		if (!o.per_line)
			nk_intlist_reserve(&p, max_values(files[i], r));
		if (nk_intlist_read(&p, r)) {
			cli_warn_lib();
			bad = 1;
		}
		nk_reader_close(r);
	}
	/* One bad operand spoils the whole array: no answer rather than a
	 * wrong one. */
	if (!o.per_line && !bad)
		print_answer(&o, p.v, p.n, p.lo, p.hi);
	nk_intlist_free(&p);
	cli_close_stdout();
	return bad;
}
