/* charlm_file.c - rnn-train's model file: the schema in charlm_file.h,
 * written and read here alone. */
#include "models/charlm_file.h"
#include "core/base.h"
#include "formats/tokstream.h"
#include "formats/wfile.h"

#include <stdlib.h>
#include <string.h>

/* ---- the network ----------------------------------------------------- */

int nk_charlm_to_wfile(const nk_charlm *m, nk_wfile *w)
{
	const nk_charlm_config *c = &m->cfg;
	int rc;
	if ((rc = nk_wfile_set_str(w, "program", "rnn-train")) ||
	    (rc = nk_wfile_set_int(w, NK_WFILE_SCHEMA_KEY, NK_CHARLM_SCHEMA)) ||
	    (rc = nk_wfile_set_str(w, "kind", "charlm")) ||
	    (rc = nk_wfile_set_str(w, "cell", nk_cell_name(c->cell))) ||
	    (rc = nk_wfile_set_int(w, "layers", c->L)) ||
	    (rc = nk_wfile_set_int(w, "hidden", c->H)) ||
	    (rc = nk_wfile_set_int(w, "embedding", c->C)) ||
	    (rc = nk_wfile_set_int(w, "vocab_size", c->V)) ||
	    (rc = nk_wfile_set_float(w, "dropout", c->dropout)))
		return rc;
	return nk_params_add_to_wfile(&m->p, w);
}

int nk_charlm_from_wfile(nk_charlm *m, const nk_wfile *f)
{
	const char *name = nk_wfile_name(f), *cell;
	memset(m, 0, sizeof *m);
	if (nk_wfile_check_program(f, "an", "rnn-train"))
		return NK_EFORMAT;
	int64_t L, H, C, V, version;
	double p;
	if (nk_wfile_check_schema(f, "rnn-train", 1, NK_CHARLM_SCHEMA,
				  &version))
		return NK_EVERSION;
	if (nk_wfile_get_str(f, "cell", &cell) ||
	    nk_wfile_get_int(f, "layers", &L) ||
	    nk_wfile_get_int(f, "hidden", &H) ||
	    nk_wfile_get_int(f, "embedding", &C) ||
	    nk_wfile_get_int(f, "vocab_size", &V) ||
	    nk_wfile_get_float(f, "dropout", &p))
		return NK_EFORMAT;
	nk_charlm_config cfg = {nk_cell_from_name(cell), 0, 0, 0, 0, (float)p};
	if (cfg.cell < 0)
		return nk_error(NK_EFORMAT, "%s: unknown cell '%s'", name, cell);
	if (L < 1 || L > NK_CHARLM_MAX_LAYERS || H < 1 || H > 65536 ||
	    C < 1 || C > 65536 || V < 1 || V > (1 << 24))
		return nk_error(NK_EFORMAT, "%s: model size out of range "
				"(layers %lld, hidden %lld, embedding %lld, "
				"vocabulary %lld)", name, (long long)L,
				(long long)H, (long long)C, (long long)V);
	cfg.L = (int)L, cfg.H = (int)H, cfg.C = (int)C, cfg.V = (int)V;
	/* The sizes above come from the file: before allocating for them,
	 * check that the file holds that many parameters (a damaged or
	 * hostile header must not make us allocate gigabytes). */
	uint64_t G = (uint64_t)nk_cell_gates(cfg.cell), want = (uint64_t)V * C +
		(uint64_t)V * H + (uint64_t)V;
	for (int64_t l = 0; l < L; l++)
		want += G * (uint64_t)H * ((uint64_t)(l ? H : C) + H + 2);
	if (nk_wfile_check_floats(f, want))
		return NK_EFORMAT;
	int rc = nk_charlm_init(m, &cfg);
	if (rc)
		return nk_error_prefix(rc, name);
	if ((rc = nk_params_load_wfile(&m->p, f))) {
		nk_charlm_free(m);
		return rc;
	}
	return NK_OK;
}

/* ---- the vocabulary -------------------------------------------------- */

int nk_charlm_file_add(nk_wfile *w, const nk_charlm *m,
		       const nk_textvocab *vocab, int level, int64_t start_id)
{
	int V = m->cfg.V, rc = nk_charlm_to_wfile(m, w);
	if (!rc && vocab->sym) {
		int64_t *syms = nk_calloc((size_t)V, sizeof *syms);
		if (!syms)
			return NK_ENOMEM;
		for (int i = 0; i < V; i++)
			syms[i] = vocab->sym[i];
		rc = nk_wfile_set_ints(w, "vocab", syms, (size_t)V);
		free(syms);
	}
	if (!rc)
		rc = nk_wfile_set_str(w, "level", nk_text_level_name(level));
	if (!rc)
		rc = nk_wfile_set_int(w, "start_id", start_id);
	return rc;
}

static int vocab_from_wfile(nk_charlm_file *lm)
{
	const char *lv;
	const char *name = nk_wfile_name(lm->f);
	if (nk_wfile_get_str(lm->f, "level", &lv))
		return NK_EFORMAT;
	if ((lm->level = nk_text_level_from_name(lv)) < 0)
		return nk_error(NK_EFORMAT, "%s: unknown level '%s'", name, lv);
	if (lm->level == NK_LEVEL_TOKENS) {
		lm->vocab.level = NK_LEVEL_TOKENS;
		lm->vocab.V = lm->m.cfg.V;
	} else {
		const int64_t *syms;
		size_t n;
		if (nk_wfile_get_ints(lm->f, "vocab", &syms, &n))
			return NK_EFORMAT;
		if (n != (size_t)lm->m.cfg.V)
			return nk_error(NK_EFORMAT, "%s: %zu vocabulary symbols "
					"for a vocabulary of %d", name, n,
					lm->m.cfg.V);
		if (nk_textvocab_from_syms(&lm->vocab, lm->level, syms, n))
			return nk_error_prefix(NK_EFORMAT, name);
	}
	if (nk_wfile_get_int(lm->f, "start_id", &lm->start_id))
		return NK_EFORMAT;
	if (lm->start_id < 0 || lm->start_id >= lm->m.cfg.V)
		return nk_error(NK_EFORMAT, "%s: start_id %lld out of range",
				name, (long long)lm->start_id);
	return NK_OK;
}

int nk_charlm_file_load(nk_charlm_file *lm, const char *path)
{
	memset(lm, 0, sizeof *lm);
	if (!(lm->f = nk_wfile_read(path)))
		return NK_EFORMAT;
	int rc = nk_charlm_from_wfile(&lm->m, lm->f);
	if (!rc)
		rc = vocab_from_wfile(lm);
	return rc;
}

void nk_charlm_file_free(nk_charlm_file *lm)
{
	nk_charlm_free(&lm->m);
	nk_textvocab_free(&lm->vocab);
	nk_wfile_free(lm->f);
	memset(lm, 0, sizeof *lm);
}

/* ---- inputs as the model's ids ----------------------------------------- */

int nk_charlm_file_read_ids(const nk_charlm_file *lm, const char *path,
			    uint32_t **ids, size_t *n)
{
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	int tokens = lm->level == NK_LEVEL_TOKENS;
	int rc = nk_text_read(ids, n, path, lm->level,
			      tokens ? (uint32_t)lm->m.cfg.V : 0);
	if (!rc && !tokens)
		rc = nk_textvocab_encode(&lm->vocab, *ids, *n, name);
	if (rc) {
		free(*ids);
		*ids = NULL;
	}
	return rc;
}

int nk_charlm_file_prime_ids(const nk_charlm_file *lm, const char *prime,
			     uint32_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	if (lm->level != NK_LEVEL_TOKENS) {
		int rc = nk_text_decode(ids, n, (const unsigned char *)prime,
					strlen(prime), lm->level);
		if (!rc)
			rc = nk_textvocab_encode(&lm->vocab, *ids, *n,
						 "--prime");
		return rc;
	}
	int rc = nk_tok_read_all_mem(prime, strlen(prime), "--prime",
				     (uint32_t)lm->m.cfg.V, 0, ids, n);
	if (rc) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}
