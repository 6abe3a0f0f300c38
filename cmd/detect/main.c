/* detect - object detectors in darknet's format, run on the CPU.
 *
 *	detect run -c MODEL.cfg -w MODEL.weights [options] IMAGE...
 *	detect run -m MODEL.nkw [options] IMAGE...
 *	detect import -c MODEL.cfg -w MODEL.weights -o MODEL.nkw
 *	detect export -m MODEL.nkw -o MODEL.weights [-C MODEL.cfg]
 *	detect eval --gt GT --pred PRED [options]
 *
 * The network is lib/models/darknet*.c; this file dispatches, run.c runs
 * images through it, output.c writes what run finds, convert.c converts
 * between the two model files, eval.c scores predictions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "detect.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s run (-c MODEL.cfg -w MODEL.weights | -m MODEL.nkw)\n"
		"                  [options] IMAGE...\n"
		"       %s import -c MODEL.cfg -w MODEL.weights -o MODEL.nkw\n"
		"       %s export -m MODEL.nkw -o MODEL.weights [-C MODEL.cfg]\n"
		"       %s train --data DIR -o MODEL.nkw [--head yolo|centernet] [options]\n"
		"       %s eval --gt GT --pred PRED [options]\n"
		"Runs darknet object detectors (YOLO v1, v2, v3) and nnkit's trained ones\n"
		"(grid, centernet) on images and "
		"prints one line per box: IMAGE CLASS SCORE X Y W H.\n"
		"'%s MODE --help' lists a mode's options.\n",
		cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, cli_prog);
}

void detect_load_model(nk_darknet *net, const char *cfg, const char *weights,
		       const char *nkw, int quiet, int infer,
		       void (*use)(FILE *))
{
	if (nkw && (cfg || weights))
		cli_usage_error(use, "-m and -c/-w are two ways to name the model: "
				"give one");
	if (!nkw && (!cfg || !weights))
		cli_usage_error(use, "name the model: -c MODEL.cfg -w MODEL.weights, "
				"or -m MODEL.nkw");
	int rc;
	if (nkw)
		rc = nk_darknet_load_nkw(net, nkw);
	else if (infer)
		rc = nk_darknet_load_infer(net, cfg, weights);
	else
		rc = nk_darknet_load(net, cfg, weights);
	/* To run it, only the convolution plans are needed (built from the
	 * file itself when it can be mapped: the peak is then the plans, not
	 * the plans and the parameters). */
	if (!rc && infer && !net->params_dropped)
		rc = nk_darknet_drop_params(net);
	if (rc)
		cli_die_lib();
	if (quiet)
		return;
	/* A misspelt key is read as its default: say which ones went unread,
	 * as darknet does. */
	char **lines;
	size_t n;
	if (nk_dncfg_unused(&net->cfg, &lines, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			cli_warnx("%s", lines[i]);
		nk_dncfg_lines_free(lines, n);
	}
}

/* OpenMP's threads wait for work by spinning first (GNU's default: some
 * 300,000 turns), which costs nothing on an idle machine and everything
 * on a shared one: a waiting thread burns the core its partner needs,
 * at every one of the thousands of parallel loops in a training step.
 * Measured on 2 cores with another job running: 0.7 images/s training
 * by default, 6.4 with waiting threads put to sleep.  libgomp reads its
 * environment before main, so the program runs itself again with the
 * policy set, unless the user chose one. */
static void passive_threads(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
		return;
	if (setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
		execv("/proc/self/exe", argv);
	/* No /proc: run as we are. */
}

int main(int argc, char **argv)
{
	passive_threads(argv);
	cli_init(argv[0]);
	if (argc < 2)
		cli_usage_error(usage, "a mode is needed: run, train, eval, import or "
				"export");
	const char *mode = argv[1];
	if (strcmp(mode, "-h") == 0 || strcmp(mode, "--help") == 0)
		cli_exit_help(usage);
	if (strcmp(mode, "--version") == 0)
		cli_exit_version();
	static const char *const modes[] = {"run", "import", "export", "train",
					    "eval"};
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
		if (strcmp(mode, modes[i]) == 0) {
			/* getopt names argv[0] in its messages: "detect
			 * run: unrecognized option", not "run: ...". */
			static char prog[64];
			snprintf(prog, sizeof prog, "%s %s", cli_prog, mode);
			argv[1] = prog;
			cli_mode = modes[i];
		}
	if (strcmp(mode, "run") == 0)
		return detect_run(argc - 1, argv + 1);
	if (strcmp(mode, "import") == 0)
		return detect_import(argc - 1, argv + 1);
	if (strcmp(mode, "export") == 0)
		return detect_export(argc - 1, argv + 1);
	if (strcmp(mode, "train") == 0)
		return detect_train(argc - 1, argv + 1);
	if (strcmp(mode, "eval") == 0)
		return detect_eval(argc - 1, argv + 1);
	cli_usage_error(usage, "unknown mode '%s' (run, train, eval, import or "
			"export)", mode);
}
