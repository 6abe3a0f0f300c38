/* bert_file.c - bert-mask's model file: the schema in bert_file.h,
 * written and read here alone. */
#include "models/bert_file.h"
#include "core/base.h"
#include "formats/wfile.h"

#include <stdlib.h>
#include <string.h>

int nk_gelu_from_name(const char *name)
{
	if (strcmp(name, "erf") == 0)
		return NK_GELU_ERF;
	if (strcmp(name, "tanh") == 0)
		return NK_GELU_TANH;
	return -1;
}

const char *nk_gelu_name(int kind)
{
	return kind == NK_GELU_ERF ? "erf" : kind == NK_GELU_TANH ? "tanh"
								   : NULL;
}

static const char *const special_keys[5] = {"pad_id", "unk_id", "cls_id",
					    "sep_id", "mask_id"};

int nk_bert_file_add(nk_wfile *w, const nk_bert *m, const nk_bert_tokens *tok)
{
	const nk_bert_config *c = &m->cfg;
	const uint32_t sp[5] = {tok->pad, tok->unk, tok->cls, tok->sep,
				tok->mask};
	int rc;
	if ((rc = nk_wfile_set_str(w, "program", "bert-mask")) ||
	    (rc = nk_wfile_set_int(w, NK_WFILE_SCHEMA_KEY, NK_BERT_SCHEMA)) ||
	    (rc = nk_wfile_set_str(w, "kind", "bert")) ||
	    (rc = nk_wfile_set_int(w, "layers", c->L)) ||
	    (rc = nk_wfile_set_int(w, "hidden", c->H)) ||
	    (rc = nk_wfile_set_int(w, "heads", c->A)) ||
	    (rc = nk_wfile_set_int(w, "ff", c->FF)) ||
	    (rc = nk_wfile_set_int(w, "vocab_size", c->V)) ||
	    (rc = nk_wfile_set_int(w, "positions", c->P)) ||
	    (rc = nk_wfile_set_int(w, "types", c->types)) ||
	    (rc = nk_wfile_set_float(w, "dropout", c->dropout)) ||
	    (rc = nk_wfile_set_str(w, "gelu", nk_gelu_name(c->gelu))) ||
	    (rc = nk_wfile_set_float(w, "ln_eps", c->ln_eps)) ||
	    (rc = nk_wfile_set_str(w, "attention_bias",
				   c->alibi ? "alibi" : "none")))
		return rc;
	if (tok->kind == NK_BERT_WORDPIECE) {
		if ((rc = nk_wfile_set_str(w, "tokenizer", "wordpiece")) ||
		    (rc = nk_wfile_set_str(w, "vocab", tok->vocab)) ||
		    (rc = nk_wfile_set_int(w, "lower_case", tok->lower_case)))
			return rc;
	} else if ((rc = nk_wfile_set_str(w, "tokenizer", "ids")) ||
		   (rc = nk_wfile_set_int(w, "base_vocab", tok->base_vocab)) ||
		   (tok->cont && (rc = nk_wfile_add(w, "tokens.cont", NK_U8, 1,
						   (int64_t[]){c->V},
						   tok->cont)))) {
		return rc;
	}
	for (int i = 0; i < 5; i++)
		if ((rc = nk_wfile_set_int(w, special_keys[i], sp[i])))
			return rc;
	return nk_params_add_to_wfile(&m->p, w);
}

/* The network's settings, checked against caps and against the floats
 * the file holds, so a damaged header cannot make us allocate gigabytes. */
static int config_from_wfile(nk_bert_config *c, const nk_wfile *f,
			     int64_t schema)
{
	const char *name = nk_wfile_name(f), *gelu, *bias = "none";
	int64_t L, H, A, FF, V, P, types;
	double p, eps;
	if (nk_wfile_get_int(f, "layers", &L) ||
	    nk_wfile_get_int(f, "hidden", &H) ||
	    nk_wfile_get_int(f, "heads", &A) ||
	    nk_wfile_get_int(f, "ff", &FF) ||
	    nk_wfile_get_int(f, "vocab_size", &V) ||
	    nk_wfile_get_int(f, "positions", &P) ||
	    nk_wfile_get_int(f, "types", &types) ||
	    nk_wfile_get_float(f, "dropout", &p) ||
	    nk_wfile_get_str(f, "gelu", &gelu) ||
	    nk_wfile_get_float(f, "ln_eps", &eps) ||
	    (schema >= 2 && nk_wfile_get_str(f, "attention_bias", &bias)))
		return NK_EFORMAT;
	if (L < 1 || L > NK_BERT_MAX_LAYERS || H < 1 || H > 65536 || A < 1 ||
	    A > H || FF < 1 || FF > 1 << 20 || V < 6 || V > 1 << 24 ||
	    P < 2 || P > 1 << 16 || types < 1 || types > 16)
		return nk_error(NK_EFORMAT, "%s: model size out of range "
				"(layers %lld, hidden %lld, heads %lld, ff %lld, "
				"vocabulary %lld, positions %lld, types %lld)",
				name, (long long)L, (long long)H, (long long)A,
				(long long)FF, (long long)V, (long long)P,
				(long long)types);
	uint64_t want = ((uint64_t)V + P + types) * H +
		(uint64_t)L * (4 * (uint64_t)H * H + 2 * (uint64_t)FF * H) +
		(uint64_t)H * H;
	if (nk_wfile_check_floats(f, want))
		return NK_EFORMAT;
	*c = (nk_bert_config){(int)L, (int)H, (int)A, (int)FF, (int)V, (int)P,
			      (int)types, (float)p, nk_gelu_from_name(gelu),
			      (float)eps, strcmp(bias, "alibi") == 0};
	if (c->gelu < 0)
		return nk_error(NK_EFORMAT, "%s: unknown gelu '%s'", name, gelu);
	if (!c->alibi && strcmp(bias, "none") != 0)
		return nk_error(NK_EFORMAT, "%s: unknown attention_bias '%s'",
				name, bias);
	return NK_OK;
}

static int tokens_from_wfile(nk_bert_tokens *t, const nk_wfile *f, int V)
{
	const char *name = nk_wfile_name(f), *kind;
	int64_t sp[5];
	memset(t, 0, sizeof *t);
	if (nk_wfile_get_str(f, "tokenizer", &kind))
		return NK_EFORMAT;
	for (int i = 0; i < 5; i++) {
		if (nk_wfile_get_int(f, special_keys[i], &sp[i]))
			return NK_EFORMAT;
		if (sp[i] < 0 || sp[i] >= V)
			return nk_error(NK_EFORMAT, "%s: %s %lld is outside the "
					"vocabulary of %d", name,
					special_keys[i], (long long)sp[i], V);
	}
	t->pad = (uint32_t)sp[0], t->unk = (uint32_t)sp[1];
	t->cls = (uint32_t)sp[2], t->sep = (uint32_t)sp[3];
	t->mask = (uint32_t)sp[4];
	if (strcmp(kind, "wordpiece") == 0) {
		int64_t lc;
		t->kind = NK_BERT_WORDPIECE;
		if (nk_wfile_get_str(f, "vocab", &t->vocab) ||
		    nk_wfile_get_int(f, "lower_case", &lc))
			return NK_EFORMAT;
		t->vocab_len = strlen(t->vocab);
		t->lower_case = lc != 0;
		size_t lines = 1;
		for (const char *s = t->vocab; *s; s++)
			lines += *s == '\n';
		if (lines != (size_t)V)
			return nk_error(NK_EFORMAT, "%s: %zu vocabulary tokens "
					"for a vocabulary of %d", name, lines, V);
	} else if (strcmp(kind, "ids") == 0) {
		t->kind = NK_BERT_IDS;
		if (nk_wfile_get_int(f, "base_vocab", &t->base_vocab))
			return NK_EFORMAT;
		if (t->base_vocab < 1 || t->base_vocab > V)
			return nk_error(NK_EFORMAT, "%s: base_vocab %lld out of "
					"range", name, (long long)t->base_vocab);
		if (nk_wfile_tensor(f, "tokens.cont")) {
			const nk_wtensor *c = nk_wfile_expect(f, "tokens.cont",
							      NK_U8, 1,
							      (int64_t[]){V});
			if (!c)
				return NK_EFORMAT;
			t->cont = c->data;
		}
	} else {
		return nk_error(NK_EFORMAT, "%s: unknown tokenizer '%s'", name,
				kind);
	}
	return NK_OK;
}

int nk_bert_file_from_wfile(nk_bert_file *bf, nk_wfile *f)
{
	const char *name = nk_wfile_name(f);
	memset(bf, 0, sizeof *bf);
	bf->f = f;
	int rc;
	int64_t schema;
	nk_bert_config cfg;
	if ((rc = nk_wfile_check_program(f, "a", "bert-mask")) ||
	    (rc = nk_wfile_check_schema(f, "bert-mask", 1, NK_BERT_SCHEMA,
					&schema)) ||
	    (rc = config_from_wfile(&cfg, f, schema)))
		goto fail;
	if ((rc = nk_bert_init(&bf->m, &cfg))) {
		nk_error_prefix(rc, name);
		goto fail;
	}
	if ((rc = nk_params_load_wfile(&bf->m.p, f)) ||
	    (rc = tokens_from_wfile(&bf->tok, f, cfg.V)))
		goto fail;
	return NK_OK;
fail:
	nk_bert_file_free(bf);
	return rc ? rc : NK_EFORMAT;
}

int nk_bert_file_load(nk_bert_file *bf, const char *path)
{
	memset(bf, 0, sizeof *bf);
	nk_wfile *f = nk_wfile_read(path);
	if (!f)
		return NK_EFORMAT;
	return nk_bert_file_from_wfile(bf, f);
}

void nk_bert_file_free(nk_bert_file *bf)
{
	if (bf->m.p.data)
		nk_bert_free(&bf->m);
	nk_wfile_free(bf->f);
	memset(bf, 0, sizeof *bf);
}
