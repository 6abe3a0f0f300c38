/* spp.c - pyramid spp: spatial pyramid pooling of images or weight-file
 * feature maps, as text (one line per batch item) or a weight file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "core/io.h"
#include "vision/pyramid_file.h"
#include "pyramid_cmd.h"

/* Pools one input; its features go to `bin` when given, else to stdout. */
static int spp_one(const struct opts *o, const char *file, nk_wfile *bin)
{
	nk_input in;
	if (nk_input_load(&in, file, (size_t)1 << 31))
		return 1;
	float *x = NULL;
	int d[4] = { 1, 0, 0, 0 }; /* B, C, H, W */
	int rc = nk_spp_input_decode(&x, d, in.data, in.size, in.name, o->tname,
				     &o->lim);
	nk_input_free(&in);
	int B = d[0];
	size_t D = rc ? 0 : nk_spp_dim(d[1], o->spp_levels, o->spp_n);
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
		rc = nk_spp_forward(out, am, x, B, d[1], d[2], d[3], o->spp_levels,
				    o->spp_n, o->spp_avg ? NK_SPP_AVG : NK_SPP_MAX);
	if (!rc && bin) {
		rc = nk_spp_file_add(bin, out, B, D);
		if (!rc)
			out = NULL; /* the file's now */
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

int pyr_run_spp(const struct opts *o, int argc, char **argv)
{
	static char *const stdin_only[] = { "-", NULL };
	char *const *files = argc ? argv : stdin_only;
	int n = argc ? argc : 1, bad = 0;
	nk_wfile *bin = NULL;
	if (o->binary) {
		cli_refuse_binary_tty(o->force);
		bin = nk_spp_file_create(o->spp_avg ? NK_SPP_AVG : NK_SPP_MAX,
					 o->spp_levels, o->spp_n);
		if (!bin)
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
	nk_spp_file_free(bin);
	return bad;
}
