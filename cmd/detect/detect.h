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

/* train_opts.c: detect train's options, parsed and checked.  given: the
 * options that shape the network (TO_ARCH) or the run (the rest) that
 * were given, which -c (the network) and --resume (both) fix. */
enum {
	TO_HEAD, TO_FPN, TO_LEVELS, TO_SPP, TO_SIZE, TO_BASE, TO_ARCH,
	TO_BATCH = TO_ARCH, TO_LR, TO_WD, TO_WARMUP, TO_SCHED, TO_CLIP,
	TO_EVAL, TO_LOG_EVERY, TO_SEED, TO_NOAUG, TO_CROP, TO_MAXSIDE, TO_COUNT
};
struct train_opts {
	const char *data, *format, *split, *val_split, *out, *cfg, *log,
		*names_path;
	nk_det_arch arch;
	nk_train_config tc;
	int set_steps, batch, threads, resume, noaug, crop, quiet, max_side,
	    progress;
	unsigned given; /* 1 << TO_* */
};
void detect_train_parse(struct train_opts *o, int argc, char **argv);
struct nk_det_task_config;
/* On --resume: exits 2 naming the first option given that differs from
 * the checkpoint's run (its settings; arch NULL: a user's cfg). */
void detect_train_check_resume(const struct train_opts *o,
			       const nk_train_config *tc,
			       const struct nk_det_task_config *kc,
			       const nk_det_arch *arch);
/* Usage error: exits 2 (for the checks train.c makes after parsing). */
_Noreturn void detect_train_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

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
