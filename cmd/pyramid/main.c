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
 */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vision/image.h"
#include "core/io.h"
#include "vision/pyramid.h"
#include "vision/spp.h"
#include "formats/wfile.h"

enum mode { M_GAUSS, M_LAPLACIAN, M_SCALE, M_UP, M_RECONSTRUCT, M_SPP };
static const char *const mode_names[] = {
	"gauss", "laplacian", "scale", "up", "reconstruct", "spp",
};

enum { OPT_MAX_SIDE = CLI_OPT_NO_PROGRESS + 1, OPT_MAX_PIXELS };

struct opts {
	int mode;
	int levels;          /* 0: default */
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

/* ---- outputs written as one transaction ------------------------------ */

#define MAX_OUTS (NK_PYR_MAX_SCALES + 4)

struct outset {
	int n;
	nk_output out[MAX_OUTS];
	char *final[MAX_OUTS]; /* final path, kept to undo a rename */
};

static int outset_open(struct outset *s, const char *path, FILE **fp)
{
	if (s->n == MAX_OUTS)
		return nk_error(NK_ERANGE, "too many output files");
	for (int i = 0; i < s->n; i++)
		if (s->final[i] && strcmp(s->final[i], path) == 0)
			return nk_error(NK_EINVAL, "%s: named twice as an output",
					path);
	nk_output *o = &s->out[s->n];
	if (nk_output_open(o, path))
		return NK_EIO;
	s->final[s->n] = strcmp(path, "-") == 0 ? NULL : nk_strdup(path);
	s->n++;
	*fp = o->fp;
	return NK_OK;
}

static void outset_abort(struct outset *s)
{
	for (int i = 0; i < s->n; i++) {
		nk_output_abort(&s->out[i]);
		free(s->final[i]);
	}
	s->n = 0;
}

/* Renames every output into place; if one fails, the ones already renamed
 * are removed again, so a run leaves all of its files or none. */
static int outset_commit(struct outset *s)
{
	int rc = NK_OK, done = 0;
	for (; done < s->n; done++)
		if ((rc = nk_output_commit(&s->out[done])))
			break;
	if (rc) {
		for (int i = 0; i < done; i++)
			if (s->final[i])
				unlink(s->final[i]);
		for (int i = done; i < s->n; i++)
			nk_output_abort(&s->out[i]);
	}
	for (int i = 0; i < s->n; i++)
		free(s->final[i]);
	s->n = 0;
	return rc;
}

/* Checks that a -o pattern has at most one %d (or %0Nd) and nothing else
 * after a '%' but "%%"; the pattern is never given to printf. */
static int pattern_check(const char *p, int *has_level)
{
	*has_level = 0;
	for (; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		const char *q = p + 1;
		if (*q == '0')
			q++;
		if (*q >= '1' && *q <= '9')
			q++;
		if (*q != 'd' || *has_level)
			return -1;
		*has_level = 1;
		p = q;
	}
	return 0;
}

static char *pattern_path(const char *p, int level)
{
	size_t cap = strlen(p) + 32, n = 0;
	char *s = nk_malloc(cap);
	if (!s)
		return NULL;
	for (; *p; p++) {
		if (*p != '%') {
			s[n++] = *p;
			continue;
		}
		if (p[1] == '%') {
			s[n++] = '%';
			p++;
			continue;
		}
		int width = 0, zero = 0;
		p++;
		if (*p == '0') {
			zero = 1;
			p++;
		}
		if (*p >= '1' && *p <= '9')
			width = *p++ - '0';
		n += (size_t)snprintf(s + n, cap - n, zero ? "%0*d" : "%*d",
				      width, level);
	}
	s[n] = 0;
	return s;
}

static int add_image(struct outset *s, const char *path,
		     const nk_image *img, int quality)
{
	int format = nk_image_format_from_path(path);
	if (format == NK_IMG_UNKNOWN)
		return nk_error(NK_EINVAL, "%s: unknown image type (name it .png, "
				".jpg or .jpeg)", path);
	FILE *fp;
	if (outset_open(s, path, &fp))
		return NK_EIO;
	return nk_image_write_fp(img, fp, strcmp(path, "-") ? path : "(stdout)",
				 format, quality);
}

static int mosaic_of(nk_image *m, const nk_image *lv, int n)
{
	int w = 0;
	for (int i = 0; i < n; i++) {
		if (w > NK_IMAGE_MAX_SIDE - lv[i].w)
			return nk_error(NK_ERANGE, "mosaic wider than %d pixels",
					NK_IMAGE_MAX_SIDE);
		w += lv[i].w;
	}
	int rc = nk_image_alloc(m, w, lv[0].h, lv[0].c);
	if (rc)
		return rc;
	int x0 = 0;
	for (int i = 0; i < n; i++) {
		size_t rowb = (size_t)lv[i].w * lv[i].c;
		for (int y = 0; y < lv[i].h && y < m->h; y++)
			memcpy(m->data + ((size_t)y * m->w + x0) * m->c,
			       lv[i].data + (size_t)y * rowb, rowb);
		x0 += lv[i].w;
	}
	return NK_OK;
}

static void refuse_tty(const struct opts *o, const char *path)
{
	if (path && strcmp(path, "-") == 0)
		cli_refuse_binary_tty(o->force);
}

/* Writes what -o, -M and -t ask for.  views[i] are the images to look at;
 * the tensor file gets either the views (u8) or the Laplacian bands. */
static int write_levels(const struct opts *o, const char *src,
			const nk_image *views, int n, const nk_laplacian *lp)
{
	struct outset s = { 0 };
	int rc = NK_OK;
	nk_wfile *wf = NULL;

	if (o->pattern) {
		int has;
		if (pattern_check(o->pattern, &has))
			return nk_error(NK_EINVAL, "-o %s: use one %%d for the "
					"level and %%%% for a %%", o->pattern);
		if (!has && n > 1)
			return nk_error(NK_EINVAL, "-o %s: %d levels need a %%d in "
					"the name", o->pattern, n);
		for (int i = 0; i < n && !rc; i++) {
			char *path = pattern_path(o->pattern, i);
			rc = path ? add_image(&s, path, &views[i], o->quality)
				  : NK_ENOMEM;
			free(path);
		}
	}
	if (!rc && o->mosaic) {
		nk_image m;
		rc = mosaic_of(&m, views, n);
		if (!rc) {
			rc = add_image(&s, o->mosaic, &m, o->quality);
			nk_image_free(&m);
		}
	}
	if (!rc && o->tensor) {
		FILE *fp;
		wf = nk_wfile_create();
		rc = wf ? NK_OK : NK_ENOMEM;
		if (!rc)
			rc = nk_wfile_set_str(wf, "program", "pyramid");
		if (!rc)
			rc = nk_wfile_set_str(wf, "kind", mode_names[o->mode]);
		if (!rc)
			rc = nk_wfile_set_str(wf, "source", src);
		if (!rc)
			rc = nk_wfile_set_int(wf, "levels", n);
		if (!rc)
			rc = nk_wfile_set_int(wf, "channels", views[0].c);
		for (int i = 0; i < n && !rc; i++) {
			char name[32];
			snprintf(name, sizeof name, "level.%d", i);
			int64_t shape[3] = { views[i].h, views[i].w, views[i].c };
			if (lp) {
				rc = nk_wfile_add(wf, name, NK_I16, 3, shape,
						  lp->band[i]);
			} else {
				rc = nk_wfile_add(wf, name, NK_U8, 3, shape,
						  views[i].data);
			}
		}
		if (!rc)
			rc = outset_open(&s, o->tensor, &fp);
		if (!rc)
			rc = nk_wfile_write_fp(wf, fp, strcmp(o->tensor, "-") ?
					       o->tensor : "(stdout)", 0);
	}
	if (rc)
		outset_abort(&s);
	else
		rc = outset_commit(&s);
	nk_wfile_free(wf);
	return rc;
}

static void summary(const struct opts *o, const nk_image *lv, int n)
{
	if (o->quiet)
		return;
	for (int i = 0; i < n; i++)
		fprintf(stderr, "level %d: %dx%d\n", i, lv[i].w, lv[i].h);
}

static int levels_for(const struct opts *o, const char *file, int w, int h)
{
	int max = nk_pyr_max_levels(w, h);
	if (max > NK_PYR_MAX_LEVELS)
		max = NK_PYR_MAX_LEVELS;
	if (!o->levels)
		return max < 5 ? max : 5;
	if (o->levels > max) {
		nk_error(NK_ERANGE, "%s: %d levels requested, but a %dx%d image "
			 "has at most %d (it is 1x1 by then)", file, o->levels, w,
			 h, max);
		return -1;
	}
	return o->levels;
}

static int run_gauss(const struct opts *o, const char *file)
{
	nk_image img, lv[NK_PYR_MAX_LEVELS];
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int n = levels_for(o, file, img.w, img.h);
	int rc = n < 0 ? NK_ERANGE : nk_pyr_gaussian(lv, n, &img);
	nk_image_free(&img);
	if (rc)
		return 1;
	summary(o, lv, n);
	rc = write_levels(o, file, lv, n, NULL);
	for (int i = 0; i < n; i++)
		nk_image_free(&lv[i]);
	return rc != 0;
}

static int run_laplacian(const struct opts *o, const char *file)
{
	nk_image img, views[NK_PYR_MAX_LEVELS];
	nk_laplacian lp;
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int n = levels_for(o, file, img.w, img.h);
	int rc = n < 0 ? NK_ERANGE : nk_laplacian_build(&lp, &img, n);
	nk_image_free(&img);
	if (rc)
		return 1;
	int made = 0;
	for (; made < n && !rc; made++)
		rc = nk_laplacian_view(&views[made], &lp, made);
	if (!rc) {
		summary(o, views, n);
		rc = write_levels(o, file, views, n, &lp);
	}
	for (int i = 0; i < made; i++)
		nk_image_free(&views[i]);
	nk_laplacian_free(&lp);
	return rc != 0;
}

static int run_scale(const struct opts *o, const char *file)
{
	static nk_image lv[NK_PYR_MAX_SCALES];
	static int ws[NK_PYR_MAX_SCALES], hs[NK_PYR_MAX_SCALES];
	nk_image img;
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int max = o->levels ? o->levels : NK_PYR_MAX_SCALES;
	int n = nk_pyr_scale_sizes(ws, hs, max, img.w, img.h, o->factor,
				   o->min_side);
	if (o->levels && n < o->levels) {
		nk_error(NK_ERANGE, "%s: %d levels requested, but a %dx%d image "
			 "has %d at factor %g down to %d pixels", file, o->levels,
			 img.w, img.h, n, o->factor, o->min_side);
		nk_image_free(&img);
		return 1;
	}
	int rc = NK_OK, made = 0;
	for (; made < n && !rc; made++) {
		rc = nk_image_alloc(&lv[made], ws[made], hs[made], img.c);
		if (!rc)
			rc = nk_resize_area(lv[made].data, ws[made], hs[made],
					    img.data, img.w, img.h, img.c);
	}
	nk_image_free(&img);
	if (!rc) {
		summary(o, lv, n);
		rc = write_levels(o, file, lv, n, NULL);
	}
	for (int i = 0; i < made; i++)
		nk_image_free(&lv[i]);
	return rc != 0;
}

static int run_up(const struct opts *o, const char *file)
{
	nk_image img, up;
	if (nk_image_load(&img, file, &o->lim))
		return 1;
	int dw = o->up_w ? o->up_w : 2 * img.w, dh = o->up_h ? o->up_h : 2 * img.h;
	if (abs(dw - 2 * img.w) != dw % 2 || abs(dh - 2 * img.h) != dh % 2) {
		nk_error(NK_ERANGE, "%s: pyrUp of %dx%d gives %dx%d (or one less "
			 "or more on an odd side), not %dx%d", file, img.w, img.h,
			 2 * img.w, 2 * img.h, dw, dh);
		nk_image_free(&img);
		return 1;
	}
	int rc = nk_image_alloc(&up, dw, dh, img.c);
	if (!rc)
		rc = nk_pyr_up(up.data, dw, dh, img.data, img.w, img.h, img.c);
	nk_image_free(&img);
	if (!rc) {
		summary(o, &up, 1);
		rc = write_levels(o, file, &up, 1, NULL);
	}
	nk_image_free(&up);
	return rc != 0;
}

static int run_reconstruct(const struct opts *o, const char *file)
{
	nk_wfile *r = nk_wfile_read(file);
	if (!r)
		return 1;
	nk_laplacian lp;
	memset(&lp, 0, sizeof lp);
	int64_t n = 0;
	const char *kind = NULL;
	int rc = nk_wfile_get_str(r, "kind", &kind);
	if (!rc && strcmp(kind, "laplacian") != 0)
		rc = nk_error(NK_EFORMAT, "%s: holds a '%s' pyramid, not "
			      "laplacian bands", file, kind);
	if (!rc)
		rc = nk_wfile_get_int(r, "levels", &n);
	if (!rc && (n < 1 || n > NK_PYR_MAX_LEVELS))
		rc = nk_error(NK_EFORMAT, "%s: %" PRId64 " levels", file, n);
	for (int i = 0; i < n && !rc; i++) {
		char name[32];
		snprintf(name, sizeof name, "level.%d", i);
		const nk_wtensor *t = nk_wfile_expect(r, name, NK_I16, 3,
						      (int64_t[]){ -1, -1, -1 });
		if (!t) {
			rc = NK_EFORMAT;
			break;
		}
		if (t->ne[0] < 1 || t->ne[0] > NK_IMAGE_MAX_SIDE || t->ne[1] < 1 ||
		    t->ne[1] > NK_IMAGE_MAX_SIDE || t->ne[2] < 1 || t->ne[2] > 4 ||
		    (i > 0 && t->ne[2] != lp.c)) {
			rc = nk_error(NK_EFORMAT, "%s: tensor '%s' has a bad shape",
				      file, name);
			break;
		}
		lp.h[i] = (int)t->ne[0];
		lp.w[i] = (int)t->ne[1];
		lp.c = (int)t->ne[2];
		lp.band[i] = nk_malloc(t->nelem * sizeof(int16_t) + 1);
		if (!lp.band[i]) {
			rc = NK_ENOMEM;
			break;
		}
		const int16_t *v = t->data;
		for (size_t k = 0; k < t->nelem && !rc; k++) {
			if (v[k] < -255 || v[k] > 255)
				rc = nk_error(NK_EFORMAT, "%s: tensor '%s' value "
					      "%d outside -255..255",
					      file, name, v[k]);
			lp.band[i][k] = v[k];
		}
	}
	lp.n = (int)n;
	nk_image out;
	if (!rc) {
		rc = nk_laplacian_reconstruct(&out, &lp);
		if (rc)
			nk_error_prefix(rc, file);
	}
	nk_laplacian_free(&lp);
	nk_wfile_free(r);
	if (rc)
		return 1;
	summary(o, &out, 1);
	rc = write_levels(o, file, &out, 1, NULL);
	nk_image_free(&out);
	return rc != 0;
}

/* ---- spp ------------------------------------------------------------- */

static int spp_one(const struct opts *o, const char *file, nk_wfile *bin)
{
	nk_input in;
	if (nk_input_load(&in, file, (size_t)1 << 31))
		return 1;
	float *x = NULL;
	int B = 1, C = 0, H = 0, W = 0, rc = NK_OK;
	if (in.size >= 4 && memcmp(in.data, "NKWF", 4) == 0) {
		nk_wfile *r = nk_wfile_read_mem(in.data, in.size, in.name);
		const nk_wtensor *t = NULL;
		if (!r)
			rc = NK_EFORMAT;
		else if (o->tname)
			t = nk_wfile_tensor(r, o->tname);
		else if (nk_wfile_n_tensors(r) > 0)
			t = nk_wfile_tensor_at(r, 0);
		else
			rc = nk_error(NK_EFORMAT, "%s: no tensors", in.name);
		if (!rc && !t)
			rc = NK_ENOTFOUND;
		if (!rc && (t->dtype != NK_F32 || t->ndim < 3 || t->ndim > 4))
			rc = nk_error(NK_EFORMAT, "%s: tensor '%s' must be f32 "
				      "(C,H,W) or (B,C,H,W)", in.name, t->name);
		if (!rc) {
			const int64_t *ne = t->ne;
			int off = t->ndim - 3;
			int64_t b = off ? ne[0] : 1;
			if (b < 1 || ne[off] < 1 || ne[off + 1] < 1 ||
			    ne[off + 2] < 1 || b > INT_MAX || ne[off] > INT_MAX ||
			    ne[off + 1] > INT_MAX || ne[off + 2] > INT_MAX)
				rc = nk_error(NK_EFORMAT, "%s: tensor '%s' is empty",
					      in.name, t->name);
			else {
				B = (int)b;
				C = (int)ne[off];
				H = (int)ne[off + 1];
				W = (int)ne[off + 2];
				x = nk_malloc(t->nbytes);
				if (!x)
					rc = NK_ENOMEM;
				else
					memcpy(x, t->data, t->nbytes);
			}
		}
		nk_wfile_free(r);
	} else {
		nk_image img;
		rc = nk_image_decode(&img, in.data, in.size, in.name, &o->lim);
		if (!rc) {
			C = img.c;
			H = img.h;
			W = img.w;
			x = nk_calloc(nk_image_bytes(&img), sizeof *x);
			if (!x)
				rc = NK_ENOMEM;
			/* (H,W,C) bytes to a (1,C,H,W) float map. */
			for (size_t p = 0; x && p < (size_t)H * W; p++)
				for (int k = 0; k < C; k++)
					x[(size_t)k * H * W + p] = img.data[p * C + k];
			nk_image_free(&img);
		}
	}
	nk_input_free(&in);
	size_t D = rc ? 0 : nk_spp_dim(C, o->spp_levels, o->spp_n);
	float *out = NULL;
	int32_t *am = NULL;
	if (!rc && !D)
		rc = NK_ERANGE;
	if (!rc) {
		out = nk_calloc((size_t)B * D, sizeof *out);
		am = nk_calloc((size_t)B * D, sizeof *am);
		if (!out || !am)
			rc = NK_ENOMEM;
	}
	if (!rc)
		rc = nk_spp_forward(out, am, x, B, C, H, W, o->spp_levels,
				    o->spp_n, o->spp_avg ? NK_SPP_AVG : NK_SPP_MAX);
	if (!rc && bin) {
		char name[32];
		snprintf(name, sizeof name, "spp.%zu", nk_wfile_n_tensors(bin));
		rc = nk_wfile_add(bin, name, NK_F32, 2,
				  (int64_t[]){ B, (int64_t)D }, out);
		if (!rc) {
			/* The file borrows `out` until it is written. */
			out = NULL;
		}
	} else if (!rc) {
		for (int b = 0; b < B; b++)
			for (size_t i = 0; i < D; i++)
				printf("%.9g%c", out[(size_t)b * D + i],
				       i + 1 < D ? ' ' : '\n');
	}
	free(x);
	free(out);
	free(am);
	return rc != 0;
}

static int run_spp(const struct opts *o, int argc, char **argv)
{
	static char *const stdin_only[] = { "-", NULL };
	char *const *files = argc ? argv : stdin_only;
	int n = argc ? argc : 1, bad = 0;
	nk_wfile *bin = NULL;
	/* Tensors borrowed by the weight file, freed after it is written. */
	if (o->binary) {
		cli_refuse_binary_tty(o->force);
		bin = nk_wfile_create();
		if (!bin || nk_wfile_set_str(bin, "program", "pyramid") ||
		    nk_wfile_set_str(bin, "kind", "spp") ||
		    nk_wfile_set_str(bin, "pool", o->spp_avg ? "avg" : "max") ||
		    nk_wfile_set_ints(bin, "bins",
				      (int64_t[]){ o->spp_levels[0], o->spp_levels[1],
						   o->spp_levels[2], o->spp_levels[3],
						   o->spp_levels[4], o->spp_levels[5],
						   o->spp_levels[6], o->spp_levels[7] },
				      (size_t)o->spp_n))
			cli_die_lib();
	}
	for (int i = 0; i < n; i++) {
		if (spp_one(o, files[i], bin)) {
			cli_warn_lib();
			bad = 1;
		}
	}
	/* Nothing at all is written when no input could be pooled. */
	if (bin && nk_wfile_n_tensors(bin) > 0) {
		if (nk_wfile_write_fp(bin, stdout, "(stdout)", 0))
			cli_die_lib();
	}
	if (bin) {
		for (size_t i = 0; i < nk_wfile_n_tensors(bin); i++)
			free((void *)nk_wfile_tensor_at(bin, i)->data);
		nk_wfile_free(bin);
	}
	return bad;
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
			cli_errx(1, "-l %s: at most %d levels", arg,
				NK_SPP_MAX_LEVELS);
		if (v < 1 || v > NK_SPP_MAX_BINS)
			cli_errx(1, "-l %s: %ld bins per side, not in [1, %d]", arg,
				v, NK_SPP_MAX_BINS);
		o->spp_levels[o->spp_n++] = (int)v;
		if (*end == 0)
			break;
		if (*end != ',')
			cli_usage_error(usage, "-l: '%s' is not a list of numbers "
				       "like 4,2,1", arg);
		p = end + 1;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ "max-side", required_argument, NULL, OPT_MAX_SIDE },
		{ "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	o.quality = 95;
	o.factor = 0.709;
	o.min_side = 12;
	o.lim = nk_image_default_limits();
	o.spp_levels[0] = 4;
	o.spp_levels[1] = 2;
	o.spp_levels[2] = 1;
	o.spp_n = 3;

	cli_init(argv[0]);
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
			o.spp_avg = 1;
			break;
		case 'b':
			o.binary = 1;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'l':
			parse_levels(&o, optarg);
			break;
		case 'm':
			v = cli_parse_int_opt(usage, "-m", optarg, LLONG_MIN, LLONG_MAX);
			if (v < 1 || v > NK_IMAGE_MAX_SIDE)
				cli_errx(1, "-m %lld: smallest side not in [1, %d]", v,
					NK_IMAGE_MAX_SIDE);
			o.min_side = (int)v;
			break;
		case 'n':
			v = cli_parse_int_opt(usage, "-n", optarg, LLONG_MIN, LLONG_MAX);
			if (v < 1 || v > NK_PYR_MAX_SCALES)
				cli_errx(1, "-n %lld: levels not in [1, %d]", v,
					NK_PYR_MAX_SCALES);
			o.levels = (int)v;
			break;
		case 'o':
			o.pattern = optarg;
			break;
		case 't':
			o.tensor = optarg;
			break;
		case 'F':
			o.factor = cli_parse_float_opt(usage, "-F", optarg, -DBL_MAX, DBL_MAX);
			if (!(o.factor >= 0.1 && o.factor <= 0.95))
				cli_errx(1, "-F %s: factor not in [0.1, 0.95]",
					optarg);
			break;
		case 'M':
			o.mosaic = optarg;
			break;
		case 'Q':
			o.quality = (int)cli_parse_int_opt(usage, "-Q", optarg, 1, 100);
			break;
		case 'S': {
			int w, h, len = 0;
			if (sscanf(optarg, "%dx%d%n", &w, &h, &len) != 2 ||
			    optarg[len] || w < 1 || h < 1 ||
			    w > NK_IMAGE_MAX_SIDE || h > NK_IMAGE_MAX_SIDE)
				cli_usage_error(usage, "-S: '%s' is not a size like "
					       "640x480", optarg);
			o.up_w = w;
			o.up_h = h;
			break;
		}
		case 'T':
			o.tname = optarg;
			break;
		case OPT_MAX_SIDE:
			o.lim.max_side = cli_parse_int_opt(usage, "--max-side", optarg,
							  1, INT_MAX);
			break;
		case OPT_MAX_PIXELS:
			o.lim.max_pixels = cli_parse_int_opt(usage, "--max-pixels",
							    optarg, 1, LLONG_MAX);
			break;
		default:
			cli_usage_error(usage, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	/* The mode, when given, is the first operand (a file named like a
	 * mode is given as ./up). */
	if (argc > 0) {
		for (int m = 0; m < (int)(sizeof mode_names / sizeof *mode_names); m++)
			if (strcmp(argv[0], mode_names[m]) == 0) {
				o.mode = m;
				argc--;
				argv++;
				break;
			}
	}

	if (o.mode == M_SPP) {
		int bad = run_spp(&o, argc, argv);
		cli_close_stdout();
		return bad;
	}
	if (argc > 1)
		cli_usage_error(usage, "%s takes one image", mode_names[o.mode]);
	if (o.levels > NK_PYR_MAX_LEVELS && o.mode != M_SCALE)
		cli_errx(1, "-n %d: levels not in [1, %d]", o.levels,
			NK_PYR_MAX_LEVELS);
	if ((o.mode == M_UP || o.mode == M_RECONSTRUCT) && o.levels > 1)
		cli_usage_error(usage, "-n does not apply to %s",
			       mode_names[o.mode]);
	const char *file = argc ? argv[0] : "-";
	refuse_tty(&o, o.tensor);
	refuse_tty(&o, o.mosaic);
	refuse_tty(&o, o.pattern);
	int bad;
	switch (o.mode) {
	case M_LAPLACIAN: bad = run_laplacian(&o, file); break;
	case M_SCALE: bad = run_scale(&o, file); break;
	case M_UP: bad = run_up(&o, file); break;
	case M_RECONSTRUCT: bad = run_reconstruct(&o, file); break;
	default: bad = run_gauss(&o, file); break;
	}
	if (bad)
		cli_die_lib();
	cli_close_stdout();
	return 0;
}
