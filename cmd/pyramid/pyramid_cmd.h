/* pyramid_cmd.h - what the files of pyramid(1) share: the options and
 * one entry point per subcommand.  Private to cmd/pyramid/. */
#ifndef PYRAMID_CMD_H
#define PYRAMID_CMD_H

#include "vision/image.h"
#include "vision/pyramid.h"
#include "vision/spp.h"

enum mode { M_GAUSS, M_LAPLACIAN, M_SCALE, M_UP, M_RECONSTRUCT, M_SPP,
	    M_COUNT };
extern const char *const pyr_mode_names[M_COUNT];

struct opts {
	int mode;
	int levels;          /* 0: default */
	long long levels_arg; /* -n as given, checked once the mode is known */
	int levels_given;
	const char *pattern; /* -o */
	const char *mosaic;  /* -M */
	const char *tensor;  /* -t */
	int force, quiet, quality;
	double factor;
	int min_side;
	int up_w, up_h;
	nk_image_limits lim;
	int spp_levels[NK_SPP_MAX_LEVELS], spp_n;
	int spp_avg, binary;
	const char *tname;
};

/* output.c: what -o, -M and -t ask for, written as one transaction.
 * views[i] are the images to look at; the tensor file gets either the
 * views (u8) or, with lp, the Laplacian bands. */
int pyr_write_levels(const struct opts *o, const char *src,
		     const nk_image *views, int n, const nk_laplacian *lp);
/* "level I: WxH" per level on stderr, unless -q. */
void pyr_summary(const struct opts *o, const nk_image *lv, int n);
/* "MODE: WxH" for the one image of up and reconstruct, unless -q. */
void pyr_summary_one(const struct opts *o, const nk_image *img);
/* 0 if a -o pattern has at most one %d (or %0Nd) and no other '%' but
 * "%%"; *has_level says whether it has the %d. */
int pyr_pattern_check(const char *p, int *has_level);

/* Each returns nonzero on failure, with the message in nk_last_error(). */
int pyr_run_gauss(const struct opts *o, const char *file);       /* down.c */
int pyr_run_laplacian(const struct opts *o, const char *file);   /* down.c */
int pyr_run_scale(const struct opts *o, const char *file);       /* down.c */
int pyr_run_up(const struct opts *o, const char *file);          /* up.c */
int pyr_run_reconstruct(const struct opts *o, const char *file); /* up.c */
/* spp.c: reports each bad input itself; nonzero if there was one. */
int pyr_run_spp(const struct opts *o, int argc, char **argv);

#endif
