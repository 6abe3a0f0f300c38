/* run.c - detect run: images through a darknet network, boxes out.
 *
 * Images are read, fitted to the network's input (letterboxed for yolo
 * and region heads, stretched for yolov1's detection head, as darknet
 * does), run -b at a time, decoded, suppressed, and printed one line per
 * (box, class) in descending score; -o/-O draw them, --json writes COCO
 * results instead of lines.  An image that cannot be read or run is
 * reported by name and skipped, the others go on; the exit status is
 * then 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "detect.h"
#include "formats/coco.h"
#include "models/darknet_pyramid.h"
#include "vision/draw.h"
#include "vision/image.h"

enum { OPT_NAMES = CLI_OPT_NO_PROGRESS + 1, OPT_NMS, OPT_AGNOSTIC, OPT_JSON,
       OPT_PYRAMID, OPT_CATEGORIES };

struct run_opts {
	const char *cfg, *weights, *nkw, *names_path, *out, *out_dir,
		*categories;
	float thresh, nms;
	int agnostic, json, threads, batch, quiet;
	float pyr_factor;  /* --pyramid FACTOR,MIN; 0: one level */
	int pyr_min;
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s run (-c MODEL.cfg -w MODEL.weights | -m MODEL.nkw)\n"
		"                  [-q] [--names FILE] [-t THRESH] [--nms IOU] [--agnostic]\n"
		"                  [-o OUT.png | -O DIR] [--json [--categories FILE]]\n"
		"                  [-j N] [-b N] [--pyramid FACTOR,MIN] IMAGE...\n"
		"Prints one line per box: IMAGE CLASS SCORE X Y W H (pixels, top-left\n"
		"corner, width, height).\n"
		"  -c FILE        darknet cfg\n"
		"  -w FILE        darknet weights\n"
		"  -m FILE        a model made by 'detect import'\n"
		"      --names FILE  class names, one a line\n"
		"  -t THRESH      smallest score reported, 0..1 (default 0.25)\n"
		"      --nms IOU     suppress boxes overlapping a better one by more,\n"
		"                    0..1 (default 0.45; 0: no suppression)\n"
		"      --agnostic    suppress across classes\n"
		"  -o FILE        draw the boxes on the (one) image into FILE\n"
		"  -O DIR         draw the boxes of every image into DIR/NAME.png\n"
		"      --json        COCO results JSON instead of lines; category_id\n"
		"                    is the class index + 1\n"
		"      --categories FILE  with --json: category_id k-th of the\n"
		"                    categories of COCO JSON FILE in id order\n"
		"  -j N           threads (default: one per core)\n"
		"  -b N           images per forward pass (default: one a thread)\n"
		"      --pyramid FACTOR,MIN  also run the image at full resolution\n"
		"                    and scaled by FACTOR^k while its longer side\n"
		"                    is >= MIN pixels (at most %d sizes), and pool\n"
		"                    the boxes\n"
		"  -q             no summary on stderr\n"
		"  -h, --help     this text\n",
		cli_prog, NK_DN_PYRAMID_MAX_LEVELS);
}

static const struct option long_opts[] = {
	{"names", required_argument, 0, OPT_NAMES},
	{"nms", required_argument, 0, OPT_NMS},
	{"agnostic", no_argument, 0, OPT_AGNOSTIC},
	{"json", no_argument, 0, OPT_JSON},
	{"pyramid", required_argument, 0, OPT_PYRAMID},
	{"categories", required_argument, 0, OPT_CATEGORIES},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0},
};

static void parse(struct run_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->thresh = 0.25f;
	o->nms = 0.45f;
	o->batch = 0; /* one image a thread */
	int c;
	while ((c = getopt_long(argc, argv, "c:w:m:t:o:O:j:b:qh", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'c': o->cfg = optarg; break;
		case 'w': o->weights = optarg; break;
		case 'm': o->nkw = optarg; break;
		case OPT_NAMES: o->names_path = optarg; break;
		case 't':
			o->thresh = (float)cli_parse_float_opt(usage, "-t", optarg, 0, 1);
			break;
		case OPT_NMS:
			o->nms = (float)cli_parse_float_opt(usage, "--nms", optarg, 0, 1);
			break;
		case OPT_AGNOSTIC: o->agnostic = 1; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_CATEGORIES: o->categories = optarg; break;
		case OPT_PYRAMID: {
			char *end;
			double f = strtod(optarg, &end);
			long m = *end == ',' ? strtol(end + 1, &end, 10) : 0;
			if (*end || !(f > 0 && f < 1) || m < 1 || m > 65536)
				cli_usage_error(usage, "--pyramid: '%s' is not FACTOR,MIN "
						"(0 < FACTOR < 1, MIN >= 1 pixels)", optarg);
			o->pyr_factor = (float)f;
			o->pyr_min = (int)m;
			break;
		}
		case 'o': o->out = optarg; break;
		case 'O': o->out_dir = optarg; break;
		case 'j':
			o->threads = (int)cli_parse_int_opt(usage, "-j", optarg, 1, 1024);
			break;
		case 'b':
			o->batch = (int)cli_parse_int_opt(usage, "-b", optarg, 1, 256);
			break;
		case 'q': o->quiet = 1; break;
		case 'h': cli_exit_help(usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default: cli_usage_error(usage, NULL);
		}
	}
	if (optind == argc)
		cli_usage_error(usage, "no image given");
	if (o->out && o->out_dir)
		cli_usage_error(usage, "-o and -O both given: -o for one image, "
				"-O for several");
	if (o->out && argc - optind > 1)
		cli_usage_error(usage, "-o draws one image and %d were given: use -O DIR",
				argc - optind);
	if (o->out && nk_image_format_from_path(o->out) == NK_IMG_UNKNOWN)
		cli_usage_error(usage, "-o %s: name it .png, .jpg or .jpeg", o->out);
	if (o->categories && !o->json)
		cli_usage_error(usage, "--categories numbers --json's category_id: "
				"give --json too");
	/* A picture never replaces an image or another picture. */
	if (o->out)
		detect_refuse_same(usage, "-o", o->out, "the input image",
				   argv[optind]);
	if (o->out_dir)
		detect_check_drawn(usage, o->out_dir, argv + optind,
				   argc - optind);
}

/* --categories FILE: the COCO category_id of each of the model's
 * classes, as `detect eval` reads a class index in run's lines. */
static int64_t *load_categories(const char *path, int classes)
{
	nk_detset cats;
	if (nk_coco_read(&cats, path))
		cli_die_lib();
	if (cats.nclasses < classes)
		cli_errx(1, "%s: %d categories, the model has %d classes", path,
			 cats.nclasses, classes);
	int64_t *ids = malloc((size_t)classes * sizeof *ids);
	if (!ids)
		cli_errx(1, "out of memory");
	for (int k = 0; k < classes; k++)
		ids[k] = nk_detset_class_id(&cats, k);
	nk_detset_free(&cats);
	return ids;
}

/* One image that failed after it was read: named (the library's message
 * may not name it), and the run goes on. */
static void image_failed(const char *path, int *status)
{
	const char *msg = nk_last_error();
	cli_warnx("%s: %s", path, msg[0] ? msg : "failed");
	*status = 1;
}

/* ---- the run ------------------------------------------------------------ */

int detect_run(int argc, char **argv)
{
	struct run_opts o;
	parse(&o, argc, argv);
	if (o.out_dir) {
		struct stat st;
		if (stat(o.out_dir, &st) != 0)
			cli_errx(1, "%s: %s", o.out_dir, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			cli_errx(1, "%s: not a directory", o.out_dir);
	}
#ifdef _OPENMP
	if (o.threads)
		omp_set_num_threads(o.threads);
#endif
	nk_darknet net;
	/* A pyramid builds the network at other sizes from its parameters. */
	detect_load_model(&net, o.cfg, o.weights, o.nkw, o.quiet, !o.pyr_factor,
			  usage);
	nk_dn_pyramid pyr;
	if (o.pyr_factor && nk_dn_pyramid_init(&pyr, &net, o.pyr_factor, o.pyr_min))
		cli_die_lib();
	int classes = nk_darknet_classes(&net);
	if (classes < 1)
		cli_errx(1, "%s: the last layer is not a detection head (yolo, region, "
			 "detection, grid or centernet)", o.nkw ? o.nkw : o.cfg);
	/* darknet's own heads give darknet's boxes, those clipped to no
	 * width or height included; nnkit's heads and the pyramid drop them. */
	int keep_empty = !o.pyr_factor;
	for (int i = 0; i < net.n; i++)
		if (net.l[i].type == NK_DN_GRID || net.l[i].type == NK_DN_CENTERNET)
			keep_empty = 0;
	struct names nm;
	detect_names_load(&nm, o.names_path, classes);
	int64_t *cat_ids = o.categories ? load_categories(o.categories, classes)
					: NULL;

	/* Several images: by default one a thread, each thread running
	 * whole images (nk_darknet_forward's groups). */
	int nimg = argc - optind, B = o.batch ? o.batch : 1;
#ifdef _OPENMP
	if (!o.batch)
		B = omp_get_max_threads();
#endif
	B = B < nimg ? B : nimg;
	if (o.pyr_factor)
		B = 1; /* every image its own sizes */
	size_t per = (size_t)3 * net.h * net.w;
	float *in = nk_malloc_aligned(per * B * sizeof *in);
	nk_image *ims = calloc((size_t)B, sizeof *ims);
	const char **paths = calloc((size_t)B, sizeof *paths);
	if (!in || !ims || !paths)
		cli_errx(1, "out of memory");
	nk_image_limits lim = nk_image_default_limits();
	int status = 0, json_count = 0, done = 0, total_boxes = 0;
	double forward_s = 0;
	for (int next = optind; next < argc;) {
		int b = 0;
		for (; b < B && next < argc; next++) {
			const char *path = argv[next];
			if (nk_image_load(&ims[b], path, &lim)) {
				cli_warn_lib();
				status = 1;
				continue;
			}
			if (!o.pyr_factor &&
			    nk_darknet_input(&net, in + per * b, &ims[b])) {
				image_failed(path, &status);
				nk_image_free(&ims[b]);
				continue;
			}
			paths[b++] = path;
		}
		if (b == 0)
			continue;
		double t0 = cli_now();
		if (!o.pyr_factor && nk_darknet_forward(&net, in, b))
			cli_die_lib();
		forward_s += cli_now() - t0;
		for (int i = 0; i < b; i++) {
			nk_detection *d = NULL;
			int n = 0, nhits, rc;
			if (o.pyr_factor) {
				t0 = cli_now();
				rc = nk_dn_pyramid_detect(&pyr, &ims[i], o.thresh,
							  &d, &n);
				forward_s += cli_now() - t0;
			} else {
				rc = nk_darknet_boxes(&net, i, ims[i].w, ims[i].h,
						      o.thresh, 0.5f, 0, &d, &n);
			}
			if (!rc && o.nms > 0) {
				if (o.agnostic)
					nk_nms_agnostic(d, n, o.nms);
				else
					nk_nms_per_class(d, n, o.nms);
			}
			nk_box_hit *h = NULL;
			if (!rc)
				rc = nk_box_hits(d, n, ims[i].w, ims[i].h,
						 keep_empty, &h, &nhits);
			if (rc) {
				image_failed(paths[i], &status);
				nk_darknet_free_boxes(d, n);
				nk_image_free(&ims[i]);
				continue;
			}
			detect_print_hits(o.json, &nm, cat_ids, paths[i], h, nhits,
					  &json_count);
			total_boxes += nhits;
			if (o.out || o.out_dir) {
				char *p = o.out ? (char *)o.out
						: detect_drawn_path(o.out_dir, paths[i]);
				if (detect_draw(p, &ims[i], d, n, classes, &nm)) {
					cli_warn_lib();
					status = 1;
				}
				if (p != o.out)
					free(p);
			}
			free(h);
			nk_darknet_free_boxes(d, n);
			nk_image_free(&ims[i]);
			done++;
		}
	}
	if (o.json)
		fputs(json_count ? "\n]\n" : "[]\n", stdout);
	if (!o.quiet && done)
		fprintf(stderr, "%s: %d image%s, %d box%s, forward %.1f ms per image%s\n",
			cli_prog, done, done == 1 ? "" : "s", total_boxes,
			total_boxes == 1 ? "" : "es", 1e3 * forward_s / done,
			o.pyr_factor ? " (all pyramid levels)" : "");
	if (o.pyr_factor)
		nk_dn_pyramid_free(&pyr);
	detect_names_free(&nm);
	free(cat_ids);
	nk_free_aligned(in);
	free(ims);
	free(paths);
	nk_darknet_free(&net);
	cli_close_stdout();
	return status;
}
