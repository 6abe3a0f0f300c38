/* convert.c - detect import and export: a darknet model (cfg + weights)
 * to one nnkit weight file and back. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/io.h"
#include "detect.h"

static void import_usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s import -c MODEL.cfg -w MODEL.weights -o MODEL.nkw\n"
		"Converts a darknet model into one nnkit weight file (its cfg text\n"
		"and every layer's tensors).\n"
		"  -c FILE   the darknet cfg\n"
		"  -w FILE   the darknet weights\n"
		"  -o FILE   the nnkit weight file to write ('-': stdout)\n"
		"  -f        write binary data to a terminal anyway\n",
		cli_prog);
}

static void export_usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s export -m MODEL.nkw -o MODEL.weights [-C MODEL.cfg] [-f]\n"
		"Writes a model made by import (or trained by nnkit) back as\n"
		"darknet's weights, and with -C its cfg.\n"
		"  -m FILE   the nnkit weight file\n"
		"  -o FILE   the darknet weights to write ('-': stdout)\n"
		"  -C FILE   the darknet cfg to write ('-': stdout)\n"
		"  -f        write binary data to a terminal anyway\n",
		cli_prog);
}

static const struct option import_opts[] = {
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0},
};

int detect_import(int argc, char **argv)
{
	const char *cfg = NULL, *weights = NULL, *out = NULL;
	int force = 0, c;
	while ((c = getopt_long(argc, argv, "c:w:o:fh", import_opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg = optarg; break;
		case 'w': weights = optarg; break;
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 'h': cli_exit_help(import_usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default: cli_usage_error(import_usage, NULL);
		}
	}
	if (optind < argc)
		cli_usage_error(import_usage, "unexpected argument '%s'", argv[optind]);
	if (!cfg || !weights || !out)
		cli_usage_error(import_usage, "-c, -w and -o are all needed");
	/* The model is read whole before the output is written, but a
	 * conversion that replaces its own input is a mistake in the
	 * command line all the same. */
	detect_refuse_same(import_usage, "-o", out, "the cfg", cfg);
	detect_refuse_same(import_usage, "-o", out, "the weights", weights);
	if (strcmp(out, "-") == 0)
		cli_refuse_binary_tty(force);
	nk_darknet net;
	detect_load_model(&net, cfg, weights, NULL, 0, 0, import_usage);
	if (nk_darknet_save_nkw(&net, out))
		cli_die_lib();
	nk_darknet_free(&net);
	cli_close_stdout();
	return 0;
}

static const struct option export_opts[] = {
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0},
};

/* The cfg text exactly as it was imported, atomically. */
static int write_cfg(const nk_darknet *net, const char *path)
{
	nk_output o;
	if (nk_output_open(&o, path))
		return NK_EIO;
	size_t len = strlen(net->cfg.text);
	if (fwrite(net->cfg.text, 1, len, o.fp) != len) {
		nk_output_abort(&o);
		return nk_error(NK_EIO, "%s: write failed", path);
	}
	return nk_output_commit(&o);
}

int detect_export(int argc, char **argv)
{
	const char *nkw = NULL, *out = NULL, *cfg_out = NULL;
	int force = 0, c;
	while ((c = getopt_long(argc, argv, "m:o:C:fh", export_opts, NULL)) != -1) {
		switch (c) {
		case 'm': nkw = optarg; break;
		case 'o': out = optarg; break;
		case 'C': cfg_out = optarg; break;
		case 'f': force = 1; break;
		case 'h': cli_exit_help(export_usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default: cli_usage_error(export_usage, NULL);
		}
	}
	if (optind < argc)
		cli_usage_error(export_usage, "unexpected argument '%s'", argv[optind]);
	if (!nkw || !out)
		cli_usage_error(export_usage, "-m and -o are both needed");
	detect_refuse_same(export_usage, "-o", out, "the model", nkw);
	if (cfg_out) {
		detect_refuse_same(export_usage, "-C", cfg_out, "the model", nkw);
		if (nk_same_file(out, cfg_out) ||
		    (strcmp(out, "-") == 0 && strcmp(cfg_out, "-") == 0))
			cli_usage_error(export_usage, "-o %s and -C %s name one "
					"file: the cfg would replace the weights",
					out, cfg_out);
	}
	if (strcmp(out, "-") == 0)
		cli_refuse_binary_tty(force);
	nk_darknet net;
	detect_load_model(&net, NULL, NULL, nkw, 1, 0, export_usage);
	if (nk_darknet_save_weights(&net, out))
		cli_die_lib();
	if (cfg_out && write_cfg(&net, cfg_out))
		cli_die_lib();
	nk_darknet_free(&net);
	cli_close_stdout();
	return 0;
}
