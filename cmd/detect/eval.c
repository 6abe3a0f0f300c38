/* eval.c - detect eval: COCO's twelve numbers and VOC's per-class AP of
 * predictions against ground truth.
 *
 *	detect eval --gt GT --pred PRED [--split S] [--voc07] [--names FILE]
 *
 * GT is a COCO JSON file or a VOC directory (with --split, default test);
 * PRED is COCO results JSON or detect run's lines (told apart by a
 * leading '[').  The readers are lib/formats (voc.c, coco.c, detlines.c),
 * the metrics lib/vision/det_eval.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "detect.h"
#include "core/io.h"
#include "formats/coco.h"
#include "formats/detlines.h"
#include "formats/voc.h"
#include "vision/det_eval.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s eval --gt GT --pred PRED [--split S] [--voc07]\n"
		"                   [--names FILE] [--iou-type bbox] [-q]\n"
		"Scores predictions against ground truth: pycocotools' twelve\n"
		"summary lines, then VOC AP at IoU > 0.5 per class and its mean.\n"
		"  --gt GT        COCO JSON, or a VOC directory\n"
		"  --pred PRED    COCO results JSON, or detect run's lines\n"
		"  --split S      the VOC image set (ImageSets/Main/S.txt; test)\n"
		"  --names FILE   VOC class order, one name a line (default:\n"
		"                 the names found, sorted)\n"
		"  --voc07        VOC2007's 11-point AP instead of all points\n"
		"  -q             no warnings about skipped boxes\n",
		cli_prog);
}

enum { OPT_GT = 256, OPT_PRED, OPT_SPLIT, OPT_NAMES, OPT_VOC07, OPT_IOUTYPE };

static const struct option long_opts[] = {
	{"gt", required_argument, 0, OPT_GT},
	{"pred", required_argument, 0, OPT_PRED},
	{"split", required_argument, 0, OPT_SPLIT},
	{"names", required_argument, 0, OPT_NAMES},
	{"voc07", no_argument, 0, OPT_VOC07},
	{"iou-type", required_argument, 0, OPT_IOUTYPE},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0},
};

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void read_pred(nk_detset *pred, const nk_detset *gt, const char *path)
{
	nk_input in;
	if (nk_input_load(&in, path, 0))
		cli_die_lib();
	size_t i = 0;
	while (i < in.size && (in.data[i] == ' ' || in.data[i] == '\t' ||
			       in.data[i] == '\n' || in.data[i] == '\r'))
		i++;
	const char *d = (const char *)in.data;
	int rc = i < in.size && in.data[i] == '[' ?
		 nk_coco_results_parse(pred, gt, d, in.size, in.name) :
		 nk_detlines_parse(pred, gt, d, in.size, in.name);
	nk_input_free(&in);
	if (rc)
		cli_die_lib();
}

int detect_eval(int argc, char **argv)
{
	const char *gt_path = NULL, *pred_path = NULL, *split = "test";
	const char *names_path = NULL;
	int voc07 = 0, quiet = 0, c;
	while ((c = getopt_long(argc, argv, "qh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_GT: gt_path = optarg; break;
		case OPT_PRED: pred_path = optarg; break;
		case OPT_SPLIT: split = optarg; break;
		case OPT_NAMES: names_path = optarg; break;
		case OPT_VOC07: voc07 = 1; break;
		case OPT_IOUTYPE:
			if (strcmp(optarg, "bbox") != 0)
				cli_usage_error(usage, "--iou-type: only bbox "
						"is supported, not '%s'", optarg);
			break;
		case 'q': quiet = 1; break;
		case 'h': cli_exit_help(usage);
		case CLI_OPT_VERSION: cli_exit_version();
		default: cli_usage_error(usage, NULL);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (!gt_path || !pred_path)
		cli_usage_error(usage, "--gt and --pred are both needed");

	nk_detset gt, pred;
	char **names = NULL;
	int nnames = 0;
	if (names_path && nk_names_read(names_path, &names, &nnames))
		cli_die_lib();
	int rc = is_dir(gt_path) ?
		 nk_voc_read(&gt, gt_path, split, (const char *const *)names,
			     nnames) :
		 nk_coco_read(&gt, gt_path);
	if (rc)
		cli_die_lib();
	if (!quiet)
		for (int i = 0; i < gt.nwarnings; i++)
			cli_warnx("%s", gt.warnings[i].msg);
	read_pred(&pred, &gt, pred_path);

	nk_coco_eval e;
	if (nk_coco_evaluate(&e, &gt, &pred))
		cli_die_lib();
	char line[128];
	for (int i = 0; i < 12; i++) {
		nk_coco_summary_line(line, sizeof line, i, e.stats[i]);
		printf("%s\n", line);
	}
	double *ap = calloc((size_t)gt.nclasses + 1, sizeof *ap), map;
	if (!ap)
		cli_errx(1, "out of memory");
	if (nk_voc_evaluate(ap, &map, &gt, &pred, 0.5, voc07))
		cli_die_lib();
	printf("\nclass AP50 (VOC%s)\n", voc07 ? "2007 11-point" : " all-point");
	for (int k = 0; k < gt.nclasses; k++)
		printf("%s %.4f\n", gt.names[k], ap[k]);
	printf("mAP %.4f\n", map);

	free(ap);
	nk_coco_eval_free(&e);
	nk_detset_free(&pred);
	nk_detset_free(&gt);
	nk_names_free(names, nnames);
	cli_close_stdout();
	return 0;
}
