/* detect.h - what detect's subcommand files share. */
#ifndef DETECT_CMD_H
#define DETECT_CMD_H

#include <stdio.h>

#include "models/darknet.h"
#include "models/det_arch.h"
#include "nn/train.h"

int detect_run(int argc, char **argv);
int detect_import(int argc, char **argv);
int detect_export(int argc, char **argv);
int detect_train(int argc, char **argv);
int detect_eval(int argc, char **argv);

/* train_opts.c: detect train's options, parsed and checked. */
struct train_opts {
	const char *data, *format, *split, *val_split, *out, *cfg, *log,
		*names_path;
	nk_det_arch arch;
	nk_train_config tc;
	int set_steps, batch, threads, resume, noaug, crop, quiet, max_side,
	    progress;
};
void detect_train_parse(struct train_opts *o, int argc, char **argv);

/* The model from -c/-w or from -m; exits with the library's message.
 * Unless quiet, warns of the cfg's keys that no layer reads.  infer: only
 * to run it (prepared for inference, the parameters themselves let go). */
void detect_load_model(nk_darknet *net, const char *cfg, const char *weights,
		       const char *nkw, int quiet, int infer,
		       void (*usage)(FILE *));

/* output.c: class names (one a line; NULL path: none), the lines or COCO
 * results of one image's boxes, the picture with the boxes drawn. */
struct names {
	char **name;
	int n;
};
void detect_names_load(struct names *nm, const char *path, int classes);
void detect_names_free(struct names *nm);
/* cat_ids: the COCO category_id of each class (--categories), or NULL
 * for class + 1. */
void detect_print_hits(int json, const struct names *nm,
		       const int64_t *cat_ids, const char *path,
		       const nk_box_hit *h, int n, int *json_count);
int detect_draw(const char *out, const nk_image *src, const nk_detection *d,
		int n, int classes, const struct names *nm);
/* DIR/NAME.png for image DIR/.../NAME.EXT (allocated). */
char *detect_drawn_path(const char *dir, const char *image);
/* Usage errors before anything is read or written: output `out` (given
 * by option out_opt) is the file `in` (`what`: "the input", ...); -O DIR
 * would draw two images into one picture, or over an input. */
void detect_refuse_same(void (*usage)(FILE *), const char *out_opt,
			const char *out, const char *what, const char *in);
void detect_check_drawn(void (*usage)(FILE *), const char *dir,
			char *const *images, int n);

#endif
