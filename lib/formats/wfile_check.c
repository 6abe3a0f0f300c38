/* wfile_check.c - the checks every model loader makes of a weight file
 * before believing it (see wfile.h): who wrote it, and whether it holds
 * as many parameters as its metadata describe. */
#include "formats/wfile.h"
#include "core/base.h"

#include <string.h>

int nk_wfile_check_program(const nk_wfile *w, const char *article,
			   const char *program)
{
	const char *name = nk_wfile_name(w), *prog;
	const nk_wmeta *pm = nk_wfile_meta(w, "program");
	if (!pm || pm->type != NK_WMETA_STR)
		return nk_error(NK_EFORMAT, "%s: not %s %s model (no "
				"'program' metadata)", name, article, program);
	if (nk_wfile_get_str(w, "program", &prog))
		return NK_EFORMAT;
	if (strcmp(prog, program) != 0)
		return nk_error(NK_EFORMAT, "%s: a model written by %s, not by "
				"%s", name, prog, program);
	return NK_OK;
}

uint64_t nk_wfile_n_floats(const nk_wfile *w)
{
	uint64_t n = 0;
	for (size_t i = 0; i < nk_wfile_n_tensors(w); i++) {
		const nk_wtensor *t = nk_wfile_tensor_at(w, i);
		if (t->dtype == NK_F32)
			n += t->nelem;
	}
	return n;
}

int nk_wfile_check_floats(const nk_wfile *w, uint64_t want)
{
	uint64_t have = nk_wfile_n_floats(w);
	if (want > have)
		return nk_error(NK_EFORMAT, "%s: the metadata describe %llu "
				"parameters, the file holds %llu",
				nk_wfile_name(w), (unsigned long long)want,
				(unsigned long long)have);
	return NK_OK;
}
