/* pyramid - Gaussian, Laplacian and any-scale image pyramids; SPP.
 *
 *	pyramid [gauss] [-n levels] [-o pattern] [-M mosaic] [-t file] image
 *	pyramid laplacian [-n levels] [-o pattern] [-M mosaic] [-t file] image
 *	pyramid scale [-F factor] [-m min] [-n levels] [-o pattern] ... image
 *	pyramid up [-S WxH] -o out image
 *	pyramid reconstruct -o out bands.nkw
 *	pyramid spp [-a] [-b] [-l 4,2,1] [-T tensor] input ...
 *
 * Every output file of one run is written to a temporary file first and
 * renamed into place only after all of them were written, so a failure
 * leaves none of them behind.
 *
 * This file: usage, options and the dispatch; down.c gauss, laplacian and
 * scale; up.c up and reconstruct; spp.c spp; output.c the outputs.
 */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pyramid_cmd.h"

const char *const pyr_mode_names[M_COUNT] = {
	"gauss", "laplacian", "scale", "up", "reconstruct", "spp",
};

enum { OPT_MAX_SIDE = CLI_OPT_NO_PROGRESS + 1, OPT_MAX_PIXELS };

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [gauss|laplacian|scale] [-fq] [-n levels] [-o pattern]\n"
		"               [-M mosaic] [-t file] [-Q quality] image\n"
		"       %s scale [-F factor] [-m min-side] ... image\n"
		"       %s up [-S WxH] -o out image\n"
		"       %s reconstruct -o out bands.nkw\n"
		"       %s spp [-ab] [-l levels] [-T tensor] input ...\n"
		"Builds image pyramids (OpenCV-exact pyrDown/pyrUp), Laplacian\n"
		"bands with lossless reconstruction, any-factor scale pyramids, and\n"
		"spatial pyramid pooling.  Reads PNG, JPEG, BMP, TGA, PNM, GIF;\n"
		"writes PNG or JPEG by extension; '-' is stdin/stdout.\n"
		"  -n N          levels, the image itself included (default 5,\n"
		"                fewer if the image reaches 1x1 sooner)\n"
		"  -o PATTERN    one image per level: %%d is the level (out-%%d.png)\n"
		"  -M FILE       all levels side by side in one image\n"
		"  -t FILE       levels as tensors in an nnkit weight file ('-': stdout)\n"
		"  -f            write binary data to a terminal anyway\n"
		"  -q            no summary on stderr\n"
		"  -Q N          JPEG quality 1..100 (default 95)\n"
		"  -F FACTOR     scale: factor per level, 0.1..0.95 (default 0.709)\n"
		"  -m N          scale: smallest side kept (default 12)\n"
		"  -S WxH        up: output size, 2w or 2w+-1 (default 2w x 2h)\n"
		"  -l N,N,...    spp: bins per side for each level (default 4,2,1)\n"
		"  -a            spp: average pooling (default max)\n"
		"  -b            spp: output an nnkit weight file, not text\n"
		"  -T NAME       spp: tensor to pool in a weight-file input\n"
		"      --max-side N    largest image side accepted (default %d)\n"
		"      --max-pixels N  most pixels accepted (default %lld)\n"
		"  -h, --help    this text\n"
		"      --version\n",
		cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, NK_IMAGE_MAX_SIDE,
		(long long)NK_IMAGE_MAX_PIXELS);
}

static void refuse_tty(const struct opts *o, const char *path)
{
	if (path && strcmp(path, "-") == 0)
		cli_refuse_binary_tty(o->force);
}

/* ---- options ---------------------------------------------------------- */

static void parse_levels(struct opts *o, const char *arg)
{
	o->spp_n = 0;
	const char *p = arg;
	for (;;) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno)
			cli_usage_error(usage, "-l: '%s' is not a list of numbers "
				       "like 4,2,1", arg);
		if (o->spp_n == NK_SPP_MAX_LEVELS)
			cli_usage_error(usage, "-l %s: at most %d levels", arg,
				       NK_SPP_MAX_LEVELS);
		if (v < 1 || v > NK_SPP_MAX_BINS)
			cli_usage_error(usage, "-l %s: %ld bins per side, not in "
				       "[1, %d]", arg, v, NK_SPP_MAX_BINS);
		o->spp_levels[o->spp_n++] = (int)v;
		if (*end == 0)
			break;
		if (*end != ',')
			cli_usage_error(usage, "-l: '%s' is not a list of numbers "
				       "like 4,2,1", arg);
		p = end + 1;
	}
}

/* Sets *o from the options; returns the index of the first operand. */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ "max-side", required_argument, NULL, OPT_MAX_SIDE },
		{ "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },
		{ NULL, 0, NULL, 0 },
	};
	o->quality = 95;
	o->factor = 0.709;
	o->min_side = 12;
	o->lim = nk_image_default_limits();
	o->spp_levels[0] = 4;
	o->spp_levels[1] = 2;
	o->spp_levels[2] = 1;
	o->spp_n = 3;

	int ch;
	while ((ch = getopt_long(argc, argv, "abfhl:m:n:o:qt:F:M:Q:S:T:",
				 longopts, NULL)) != -1) {
		long long v;
		switch (ch) {
		case 'h':
			cli_exit_help(usage);
		case CLI_OPT_VERSION:
			cli_exit_version();
		case 'a':
			o->spp_avg = 1;
			break;
		case 'b':
			o->binary = 1;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'l':
			parse_levels(o, optarg);
			break;
		case 'm':
			v = cli_parse_int_opt(usage, "-m", optarg, LLONG_MIN, LLONG_MAX);
			if (v < 1 || v > NK_IMAGE_MAX_SIDE)
				cli_usage_error(usage, "-m %lld: smallest side not "
					       "in [1, %d]", v, NK_IMAGE_MAX_SIDE);
			o->min_side = (int)v;
			break;
		case 'n':
			/* The range depends on the mode, known after the
			 * options: checked in check_opts(). */
			o->levels_arg = cli_parse_int_opt(usage, "-n", optarg,
							  LLONG_MIN, LLONG_MAX);
			o->levels_given = 1;
			break;
		case 'o':
			o->pattern = optarg;
			break;
		case 't':
			o->tensor = optarg;
			break;
		case 'F':
			o->factor = cli_parse_float_opt(usage, "-F", optarg, -DBL_MAX, DBL_MAX);
			if (!(o->factor >= 0.1 && o->factor <= 0.95))
				cli_usage_error(usage, "-F %s: factor not in "
					       "[0.1, 0.95]", optarg);
			break;
		case 'M':
			o->mosaic = optarg;
			break;
		case 'Q':
			o->quality = (int)cli_parse_int_opt(usage, "-Q", optarg, 1, 100);
			break;
		case 'S': {
			int w, h, len = 0;
			if (sscanf(optarg, "%dx%d%n", &w, &h, &len) != 2 ||
			    optarg[len] || w < 1 || h < 1 ||
			    w > NK_IMAGE_MAX_SIDE || h > NK_IMAGE_MAX_SIDE)
				cli_usage_error(usage, "-S: '%s' is not a size like "
					       "640x480", optarg);
			o->up_w = w;
			o->up_h = h;
			break;
		}
		case 'T':
			o->tname = optarg;
			break;
		case OPT_MAX_SIDE:
			o->lim.max_side = cli_parse_int_opt(usage, "--max-side", optarg,
							  1, INT_MAX);
			break;
		case OPT_MAX_PIXELS:
			o->lim.max_pixels = cli_parse_int_opt(usage, "--max-pixels",
							    optarg, 1, LLONG_MAX);
			break;
		default:
			cli_usage_error(usage, NULL);
		}
	}
	return optind;
}

/* What depends on the mode: the range of -n, and a -o pattern that
 * several levels need a %d in.  All usage errors (exit 2). */
static void check_opts(struct opts *o)
{
	int several = o->mode == M_GAUSS || o->mode == M_LAPLACIAN ||
		      o->mode == M_SCALE;
	if (o->levels_given) {
		int max = o->mode == M_SCALE ? NK_PYR_MAX_SCALES
					     : NK_PYR_MAX_LEVELS;
		if (!several && o->levels_arg != 1)
			cli_usage_error(usage, "-n does not apply to %s",
				       pyr_mode_names[o->mode]);
		if (o->levels_arg < 1 || o->levels_arg > max)
			cli_usage_error(usage, "-n %lld: levels not in [1, %d]%s",
				       o->levels_arg, max,
				       o->mode == M_SCALE ? "" :
				       " (up to 256 for scale)");
		o->levels = (int)o->levels_arg;
	}
	const char *outs[2] = { o->pattern, o->mosaic };
	for (int k = 0; k < 2; k++)
		if (outs[k] && nk_image_format_from_path(outs[k]) == NK_IMG_UNKNOWN)
			cli_usage_error(usage, "%s %s: unknown image type (name "
				       "it .png, .jpg or .jpeg)", k ? "-M" : "-o",
				       outs[k]);
	if (o->pattern) {
		int has;
		if (pyr_pattern_check(o->pattern, &has))
			cli_usage_error(usage, "-o %s: use one %%d for the level "
				       "and %%%% for a %%", o->pattern);
		if (!has && several && o->levels != 1)
			cli_usage_error(usage, "-o %s: several levels need a %%d "
				       "in the name (or -n 1)", o->pattern);
	}
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	cli_init(argv[0]);
	int first = parse_opts(&o, argc, argv);
	argc -= first;
	argv += first;
	/* The mode, when given, is the first operand (a file named like a
	 * mode is given as ./up). */
	if (argc > 0) {
		for (int m = 0; m < M_COUNT; m++)
			if (strcmp(argv[0], pyr_mode_names[m]) == 0) {
				o.mode = m;
				argc--;
				argv++;
				break;
			}
	}
	check_opts(&o);

	if (o.mode == M_SPP) {
		int bad = pyr_run_spp(&o, argc, argv);
		cli_close_stdout();
		return bad;
	}
	if (argc > 1)
		cli_usage_error(usage, "%s takes one image", pyr_mode_names[o.mode]);
	const char *file = argc ? argv[0] : "-";
	refuse_tty(&o, o.tensor);
	refuse_tty(&o, o.mosaic);
	refuse_tty(&o, o.pattern);
	int bad;
	switch (o.mode) {
	case M_LAPLACIAN: bad = pyr_run_laplacian(&o, file); break;
	case M_SCALE: bad = pyr_run_scale(&o, file); break;
	case M_UP: bad = pyr_run_up(&o, file); break;
	case M_RECONSTRUCT: bad = pyr_run_reconstruct(&o, file); break;
	default: bad = pyr_run_gauss(&o, file); break;
	}
	if (bad)
		cli_die_lib();
	cli_close_stdout();
	return 0;
}
