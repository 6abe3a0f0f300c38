/* run.c - detect run: images through a darknet network, boxes out.
 *
 * Images are read, fitted to the network's input (letterboxed for yolo
 * and region heads, stretched for yolov1's detection head, as darknet
 * does), run -b at a time, decoded, suppressed, and printed one line per
 * (box, class) in descending score; -o/-O draw them, --json writes COCO
 * results instead of lines.  An image that cannot be read is reported and
 * skipped; the exit status is then 1.
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
#include "vision/draw.h"
#include "vision/image.h"
#include "vision/letterbox.h"

enum { OPT_NAMES = CLI_OPT_NO_PROGRESS + 1, OPT_NMS, OPT_AGNOSTIC, OPT_JSON };

struct run_opts {
	const char *cfg, *weights, *nkw, *names_path, *out, *out_dir;
	float thresh, nms;
	int agnostic, json, threads, batch, quiet;
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s run (-c MODEL.cfg -w MODEL.weights | -m MODEL.nkw)\n"
		"                  [-q] [--names FILE] [-t THRESH] [--nms IOU] [--agnostic]\n"
		"                  [-o OUT.png | -O DIR] [--json] [-j N] [-b N] IMAGE...\n"
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
		"      --json        COCO results JSON instead of lines\n"
		"  -j N           threads (default: one per core)\n"
		"  -b N           images per forward pass (default 1)\n"
		"  -q             no summary on stderr\n"
		"  -h, --help     this text\n",
		cli_prog);
}

static const struct option long_opts[] = {
	{"names", required_argument, 0, OPT_NAMES},
	{"nms", required_argument, 0, OPT_NMS},
	{"agnostic", no_argument, 0, OPT_AGNOSTIC},
	{"json", no_argument, 0, OPT_JSON},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, CLI_OPT_VERSION},
	{0, 0, 0, 0},
};

static void parse(struct run_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->thresh = 0.25f;
	o->nms = 0.45f;
	o->batch = 1;
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
}

/* ---- class names ------------------------------------------------------ */

struct names {
	char **name;
	int n;
};

static void names_load(struct names *nm, const char *path, int classes)
{
	nm->name = NULL;
	nm->n = 0;
	if (!path)
		return;
	FILE *fp = fopen(path, "r");
	if (!fp)
		cli_errx(1, "%s: %s", path, strerror(errno));
	nm->name = calloc((size_t)classes, sizeof *nm->name);
	if (!nm->name)
		cli_errx(1, "out of memory");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while (nm->n < classes && (len = getline(&line, &cap, fp)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		nm->name[nm->n] = strdup(line);
		if (!nm->name[nm->n++])
			cli_errx(1, "out of memory");
	}
	int err = ferror(fp);
	free(line);
	fclose(fp);
	if (err)
		cli_errx(1, "%s: read failed", path);
	if (nm->n < classes)
		cli_errx(1, "%s: %d names, the model has %d classes", path, nm->n,
			 classes);
}

static void names_free(struct names *nm)
{
	for (int i = 0; i < nm->n; i++)
		free(nm->name[i]);
	free(nm->name);
}

/* ---- one image's boxes ---------------------------------------------------- */

/* A (detection, class) pair that passed: what one output line says. */
struct hit {
	int det, cls;
	float score;
	float x, y, w, h; /* pixels, top-left corner */
};

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *p = a, *q = b;
	if (p->score != q->score)
		return p->score < q->score ? 1 : -1;
	return p->det != q->det ? p->det - q->det : p->cls - q->cls;
}

static float clampf(float v, float lo, float hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The detections' surviving classes as hits, best first. */
static struct hit *collect(const nk_detection *d, int n, int im_w, int im_h,
			   int *nhits)
{
	size_t cap = 0, k = 0;
	struct hit *h = NULL;
	for (int i = 0; i < n; i++) {
		const nk_box *b = &d[i].box;
		float x1 = clampf(b->x - b->w / 2, 0, (float)im_w);
		float x2 = clampf(b->x + b->w / 2, 0, (float)im_w);
		float y1 = clampf(b->y - b->h / 2, 0, (float)im_h);
		float y2 = clampf(b->y + b->h / 2, 0, (float)im_h);
		for (int c = 0; c < d[i].classes; c++) {
			if (!(d[i].prob[c] > 0))
				continue;
			if (nk_grow((void **)&h, &cap, k + 1, sizeof *h))
				cli_die_lib();
			h[k++] = (struct hit){i, c, d[i].prob[c], x1, y1,
					      x2 - x1, y2 - y1};
		}
	}
	if (k)
		qsort(h, k, sizeof *h, hit_cmp);
	*nhits = (int)k;
	return h;
}

static const char *class_name(const struct names *nm, int c, char *buf,
			      size_t size)
{
	if (nm->name)
		return nm->name[c];
	snprintf(buf, size, "%d", c);
	return buf;
}

/* image_id for COCO results: the file name without directory and
 * extension, a number when it is all digits. */
static void json_image_id(FILE *fp, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	int digits = len > 0 && len < 19;
	for (size_t i = 0; i < len && digits; i++)
		digits = base[i] >= '0' && base[i] <= '9';
	if (digits) {
		fprintf(fp, "%lld", strtoll(base, NULL, 10));
		return;
	}
	fputc('"', fp);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)base[i];
		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static void print_hits(const struct run_opts *o, const struct names *nm,
		       const char *path, const struct hit *h, int n,
		       int *json_count)
{
	char buf[16];
	for (int i = 0; i < n; i++) {
		if (o->json) {
			fputs(*json_count ? ",\n" : "[\n", stdout);
			fputs("{\"image_id\": ", stdout);
			json_image_id(stdout, path);
			printf(", \"category_id\": %d, \"bbox\": [%.3f, %.3f, %.3f, "
			       "%.3f], \"score\": %.6f}",
			       h[i].cls, h[i].x, h[i].y, h[i].w, h[i].h, h[i].score);
			++*json_count;
		} else {
			printf("%s %s %.6f %.3f %.3f %.3f %.3f\n", path,
			       class_name(nm, h[i].cls, buf, sizeof buf),
			       h[i].score, h[i].x, h[i].y, h[i].w, h[i].h);
		}
	}
}

/* The picture: every detection that kept a class gets its box and a label
 * of its classes (darknet's draw_detections), in its best class's colour. */
static int draw(const char *out, const nk_image *src, const nk_detection *d,
		int n, int classes, const struct names *nm)
{
	nk_image im;
	/* The labels are drawn in colour, so a gray image becomes RGB. */
	if (nk_image_alloc(&im, src->w, src->h, 3))
		return NK_ENOMEM;
	size_t px = (size_t)src->w * src->h;
	for (size_t i = 0; i < px; i++)
		for (int c = 0; c < 3; c++)
			im.data[i * 3 + c] =
				src->data[i * src->c + (src->c >= 3 ? c : 0)];
	for (int i = 0; i < n; i++) {
		char label[256] = "", buf[16];
		int best = -1;
		size_t len = 0;
		for (int c = 0; c < d[i].classes; c++) {
			if (!(d[i].prob[c] > 0))
				continue;
			if (best < 0 || d[i].prob[c] > d[i].prob[best])
				best = c;
			len += (size_t)snprintf(label + len,
				len < sizeof label ? sizeof label - len : 0,
				"%s%s", len ? ", " : "",
				class_name(nm, c, buf, sizeof buf));
			if (len >= sizeof label)
				len = sizeof label - 1;
		}
		if (best < 0)
			continue;
		nk_box b = d[i].box;
		b.x /= (float)src->w;
		b.w /= (float)src->w;
		b.y /= (float)src->h;
		b.h /= (float)src->h;
		nk_draw_detection(&im, b, label, nk_class_color(best, classes));
	}
	int rc = nk_image_save(&im, out, 95);
	nk_image_free(&im);
	return rc;
}

static char *drawn_path(const char *dir, const char *image)
{
	const char *base = strrchr(image, '/');
	base = base ? base + 1 : image;
	const char *dot = strrchr(base, '.');
	int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
	size_t size = strlen(dir) + (size_t)len + 6;
	char *p = malloc(size);
	if (!p)
		cli_errx(1, "out of memory");
	snprintf(p, size, "%s/%.*s.png", dir, len, base);
	return p;
}

/* ---- the run ------------------------------------------------------------ */

/* Whether darknet stretches the image (yolov1) rather than letterboxing it. */
static int stretches(const nk_darknet *net)
{
	for (int i = 0; i < net->n; i++)
		if (net->l[i].type == NK_DN_DETECTION)
			return 1;
	return 0;
}

int detect_run(int argc, char **argv)
{
	struct run_opts o;
	parse(&o, argc, argv);
	if (o.out_dir) {
		struct stat st;
		if (stat(o.out_dir, &st) != 0 || !S_ISDIR(st.st_mode))
			cli_errx(1, "%s: not a directory", o.out_dir);
	}
#ifdef _OPENMP
	if (o.threads)
		omp_set_num_threads(o.threads);
#endif
	nk_darknet net;
	detect_load_model(&net, o.cfg, o.weights, o.nkw, o.quiet, 1, usage);
	int classes = nk_darknet_classes(&net);
	if (classes < 1)
		cli_errx(1, "%s: the last layer is not a detection head (yolo, region "
			 "or detection)", o.nkw ? o.nkw : o.cfg);
	struct names nm;
	names_load(&nm, o.names_path, classes);

	int nimg = argc - optind, B = o.batch < nimg ? o.batch : nimg;
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
			int rc = stretches(&net)
				? nk_resize_input(in + per * b, &ims[b], net.w, net.h)
				: nk_letterbox_input(in + per * b, &ims[b], net.w, net.h);
			if (rc)
				cli_die_lib();
			paths[b++] = path;
		}
		if (b == 0)
			continue;
		double t0 = cli_now();
		if (nk_darknet_forward(&net, in, b))
			cli_die_lib();
		forward_s += cli_now() - t0;
		for (int i = 0; i < b; i++) {
			nk_detection *d;
			int n, nhits;
			if (nk_darknet_boxes(&net, i, ims[i].w, ims[i].h, o.thresh,
					     0.5f, 0, &d, &n))
				cli_die_lib();
			if (o.nms > 0) {
				if (o.agnostic)
					nk_nms_agnostic(d, n, o.nms);
				else
					nk_nms_per_class(d, n, o.nms);
			}
			struct hit *h = collect(d, n, ims[i].w, ims[i].h, &nhits);
			print_hits(&o, &nm, paths[i], h, nhits, &json_count);
			total_boxes += nhits;
			if (o.out || o.out_dir) {
				char *p = o.out ? (char *)o.out
						: drawn_path(o.out_dir, paths[i]);
				if (draw(p, &ims[i], d, n, classes, &nm)) {
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
		fprintf(stderr, "%s: %d image%s, %d box%s, forward %.1f ms per image\n",
			cli_prog, done, done == 1 ? "" : "s", total_boxes,
			total_boxes == 1 ? "" : "es", 1e3 * forward_s / done);
	names_free(&nm);
	nk_free_aligned(in);
	free(ims);
	free(paths);
	nk_darknet_free(&net);
	cli_close_stdout();
	return status;
}
