/* mlm_mask.c - BERT training instances and their masks (see mlm_mask.h).
 *
 * The comments name the lines of create_pretraining_data.py each step
 * follows; Python's rng.random() is nk_rng_double, rng.randint(a, b) (both
 * ends included) is a + nk_rng_below(b - a + 1).
 */
#include "text/mlm_mask.h"

#include "core/base.h"
#include "formats/tokstream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nk_mlm_config_default(nk_mlm_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->T = 128;
	cfg->short_seq_prob = 0.1;
	cfg->masked_lm_prob = 0.15;
	cfg->max_pred = 20;
	cfg->dupe_factor = 10;
	cfg->seed = 12345;
	cfg->pad = cfg->unk = cfg->cls = cfg->sep = cfg->mask = NK_MLM_NONE;
}

int nk_mlm_config_check(const nk_mlm_config *cfg)
{
	uint32_t tmin = cfg->pairs ? 5 : 4;  /* room for randint(2, T - 3|2) */
	if (cfg->T < tmin || cfg->T > NK_MLM_T_MAX)
		return nk_error(NK_EINVAL, "mlm: sequence length %u outside "
				"[%u, %u]", cfg->T, tmin, NK_MLM_T_MAX);
	if (!(cfg->short_seq_prob >= 0 && cfg->short_seq_prob <= 1))
		return nk_error(NK_EINVAL, "mlm: short_seq_prob %g outside "
				"[0, 1]", cfg->short_seq_prob);
	if (!(cfg->masked_lm_prob > 0 && cfg->masked_lm_prob <= 1))
		return nk_error(NK_EINVAL, "mlm: masked_lm_prob %g outside "
				"(0, 1]", cfg->masked_lm_prob);
	if (cfg->max_pred < 1 || cfg->max_pred > cfg->T)
		return nk_error(NK_EINVAL, "mlm: max_pred %u outside [1, T = "
				"%u]", cfg->max_pred, cfg->T);
	if (cfg->dupe_factor < 1)
		return nk_error(NK_EINVAL, "mlm: dupe_factor is 0");
	if (cfg->V < 1)
		return nk_error(NK_EINVAL, "mlm: vocabulary size is 0");
	const uint32_t req[3] = {cfg->cls, cfg->sep, cfg->mask};
	const char *rname[3] = {"[CLS]", "[SEP]", "[MASK]"};
	for (int k = 0; k < 3; k++)
		if (req[k] >= cfg->V)
			return nk_error(NK_EINVAL, "mlm: %s id %s%u outside the "
					"vocabulary of %u", rname[k],
					req[k] == NK_MLM_NONE ? "(none) " : "",
					req[k], cfg->V);
	if ((cfg->pad != NK_MLM_NONE && cfg->pad >= cfg->V) ||
	    (cfg->unk != NK_MLM_NONE && cfg->unk >= cfg->V))
		return nk_error(NK_EINVAL, "mlm: [PAD] or [UNK] id outside the "
				"vocabulary of %u", cfg->V);
	if (cfg->whole_word && !cfg->cont)
		return nk_error(NK_EINVAL, "mlm: whole-word masking without "
				"the continuation flags");
	return NK_OK;
}

uint32_t nk_mlm_num_to_predict(const nk_mlm_config *cfg, uint32_t n)
{
	/* Python's round() on the double n * p: half to even, which is
	 * nearbyint() in the default rounding mode. */
	double r = nearbyint((double)n * cfg->masked_lm_prob);
	uint32_t k = r < 1 ? 1 : (uint32_t)r;
	return k < cfg->max_pred ? k : cfg->max_pred;
}

/* ---- corpus ------------------------------------------------------------- */

int nk_mlm_corpus_add(nk_mlm_corpus *c, const uint32_t *ids, size_t n)
{
	if (n == 0) {
		c->open = 0;
		return NK_OK;
	}
	if (!c->sent) {
		if (nk_grow((void **)&c->sent, &c->cap_sent, 1, sizeof *c->sent) ||
		    nk_grow((void **)&c->doc, &c->cap_doc, 1, sizeof *c->doc))
			return NK_ENOMEM;
		c->sent[0] = 0;
		c->doc[0] = 0;
	}
	if (nk_grow((void **)&c->ids, &c->cap_ids, c->nids + n, sizeof *c->ids) ||
	    nk_grow((void **)&c->sent, &c->cap_sent, c->nsent + 2,
		    sizeof *c->sent) ||
	    nk_grow((void **)&c->doc, &c->cap_doc, c->ndoc + 2, sizeof *c->doc))
		return NK_ENOMEM;
	if (!c->open) {
		/* doc[ndoc] is always nsent: the new document starts there */
		c->ndoc++;
		c->open = 1;
	}
	memcpy(c->ids + c->nids, ids, n * sizeof *ids);
	c->nids += n;
	c->sent[++c->nsent] = c->nids;
	c->doc[c->ndoc] = c->nsent;
	return NK_OK;
}

int nk_mlm_corpus_read(nk_mlm_corpus *c, const char *path, uint32_t V)
{
	nk_tokreader *r = nk_tokreader_open(path);
	if (!r)
		return NK_EIO;
	nk_tokreader_set_max_id(r, V);
	uint32_t *ids;
	size_t n;
	int rc;
	while ((rc = nk_tokreader_next(r, &ids, &n)) == 1)
		if ((rc = -nk_mlm_corpus_add(c, ids, n)) != 0)
			break;
	c->open = 0;    /* the next file starts a document */
	if (rc < 0) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", nk_last_error());
		nk_tokreader_close(r);
		return nk_error(-rc, "%s", msg);
	}
	if (nk_tokreader_close(r))
		return nk_error(NK_EIO, "%s: error closing", path);
	return NK_OK;
}

void nk_mlm_corpus_free(nk_mlm_corpus *c)
{
	free(c->ids);
	free(c->sent);
	free(c->doc);
	memset(c, 0, sizeof *c);
}

/* ---- instances ---------------------------------------------------------- */

void nk_mlm_unmask(nk_mlm_instance *in)
{
	for (uint32_t k = 0; k < in->nmask; k++)
		in->ids[in->mpos[k]] = in->mlabel[k];
	in->nmask = 0;
}

/* ---- masking ------------------------------------------------------------ */

static int is_special(const nk_mlm_config *cfg, uint32_t id)
{
	return id == cfg->cls || id == cfg->sep || id == cfg->mask ||
	       id == cfg->pad || id == cfg->unk;
}

/* create_masked_lm_predictions, with whole-word groups. */
int nk_mlm_mask(const nk_mlm_config *cfg, nk_rng *rng, nk_mlm_instance *in)
{
	uint32_t n = in->n, *ids = in->ids;
	uint32_t stack[3 * 512], *heap = NULL, *gstart = stack;
	if (n > 512) {
		heap = nk_reallocarray(NULL, 3 * (size_t)n, sizeof *heap);
		if (!heap)
			return NK_ENOMEM;
		gstart = heap;
	}
	uint32_t *glen = gstart + n, *order = glen + n, ng = 0;
	int rc = NK_OK;
	/* cand_indexes: a word is a start token and the continuations
	 * right after it; a special token ends a word (Google's lets a
	 * "##" piece after [SEP] join the word before the [SEP]). */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = ids[i];
		if (id >= cfg->V) {
			rc = nk_error(NK_ERANGE, "mlm: token id %u at position "
				      "%u outside the vocabulary of %u", id, i,
				      cfg->V);
			goto out;
		}
		if (is_special(cfg, id))
			continue;
		if (cfg->whole_word && cfg->cont[id] && ng &&
		    gstart[ng - 1] + glen[ng - 1] == i) {
			glen[ng - 1]++;
			continue;
		}
		gstart[ng] = i;
		glen[ng] = 1;
		order[ng] = ng;
		ng++;
	}
	nk_rng_shuffle_u32(rng, order, ng);      /* rng.shuffle(cand_indexes) */
	uint32_t want = nk_mlm_num_to_predict(cfg, n), nm = 0;
	for (uint32_t g = 0; g < ng && nm < want; g++) {
		uint32_t s = gstart[order[g]], len = glen[order[g]];
		if (nm + len > want)     /* the word would exceed the budget */
			continue;
		for (uint32_t i = s; i < s + len; i++) {
			uint32_t to;
			if (nk_rng_double(rng) < 0.8)
				to = cfg->mask;
			else if (nk_rng_double(rng) < 0.5)
				to = ids[i];
			else
				to = (uint32_t)nk_rng_below(rng, cfg->V);
			in->mpos[nm] = i;
			in->mlabel[nm] = ids[i];
			ids[i] = to;
			nm++;
		}
	}
	/* sorted by position: insertion sort, nm is at most max_pred */
	for (uint32_t k = 1; k < nm; k++) {
		uint32_t p = in->mpos[k], l = in->mlabel[k], j = k;
		for (; j > 0 && in->mpos[j - 1] > p; j--) {
			in->mpos[j] = in->mpos[j - 1];
			in->mlabel[j] = in->mlabel[j - 1];
		}
		in->mpos[j] = p;
		in->mlabel[j] = l;
	}
	in->nmask = nm;
out:
	free(heap);
	return rc;
}

/* ---- building ----------------------------------------------------------- */

typedef struct builder {
	const nk_mlm_config *cfg;
	const nk_mlm_corpus *c;
	nk_mlm_set *out;
	nk_mlm_stats *st;
	nk_rng rng;
	uint32_t *perm;          /* all_documents after rng.shuffle */
} builder;

static size_t sent_len(const nk_mlm_corpus *c, size_t s)
{
	return c->sent[s + 1] - c->sent[s];
}

/* Makes an instance of ids [a0, a1) and [b0, b1) (b0 == b1: one segment). */
static int emit(builder *b, size_t a0, size_t a1, size_t b0, size_t b1,
		int random_next)
{
	const nk_mlm_config *cfg = b->cfg;
	nk_mlm_set *out = b->out;
	size_t la = a1 - a0, lb = b1 - b0;
	uint32_t n = (uint32_t)(la + lb + (cfg->pairs ? 3 : 2));
	if (nk_grow((void **)&out->inst, &out->cap, out->n + 1,
		    sizeof *out->inst))
		return NK_ENOMEM;
	nk_mlm_instance *in = &out->inst[out->n];
	if (nk_mlm_instance_alloc(in, n, cfg->max_pred))
		return NK_ENOMEM;
	out->n++;
	const uint32_t *ids = b->c->ids;
	uint32_t *o = in->ids;
	*o++ = cfg->cls;
	memcpy(o, ids + a0, la * sizeof *o);
	o += la;
	*o++ = cfg->sep;
	memset(in->types, 0, la + 2);
	if (cfg->pairs) {
		memcpy(o, ids + b0, lb * sizeof *o);
		o += lb;
		*o++ = cfg->sep;
		memset(in->types + la + 2, 1, lb + 1);
	}
	in->is_random_next = random_next;
	if (b->st) {
		b->st->instances++;
		b->st->random_next += random_next != 0;
		b->st->tokens += n;
	}
	if (cfg->no_mask)
		return NK_OK;
	int rc = nk_mlm_mask(cfg, &b->rng, in);
	if (!rc && b->st)
		b->st->masked += in->nmask;
	return rc;
}

/* create_instances_from_document for the di-th of the shuffled documents. */
static int from_document(builder *b, size_t di)
{
	const nk_mlm_config *cfg = b->cfg;
	const nk_mlm_corpus *c = b->c;
	nk_rng *rng = &b->rng;
	size_t d = b->perm[di], s0 = c->doc[d], nsent = c->doc[d + 1] - s0;
	uint64_t max_num = cfg->T - (cfg->pairs ? 3 : 2);
	/* one target per document, as Google's draws it */
	uint64_t target = max_num;
	if (nk_rng_double(rng) < cfg->short_seq_prob) {
		target = 2 + nk_rng_below(rng, max_num - 1);
		if (b->st)
			b->st->short_docs++;
	}
	if (b->st)
		b->st->docs++;
	size_t cs = 0, clen = 0;     /* current_chunk: sentences cs.. */
	uint64_t cur = 0;            /* current_length */
	for (size_t i = 0; i < nsent; i++) {
		if (clen++ == 0)
			cs = i;
		cur += sent_len(c, s0 + i);
		if (i != nsent - 1 && cur < target)
			continue;
		size_t a_end = clen;     /* one segment: the whole chunk */
		int random_next = 0;
		size_t a0 = c->sent[s0 + cs], b0 = 0, b1 = 0;
		if (cfg->pairs) {
			a_end = 1;
			if (clen >= 2)
				a_end = 1 + nk_rng_below(rng, clen - 1);
		}
		size_t a1 = c->sent[s0 + cs + a_end];
		if (cfg->pairs && (clen == 1 || nk_rng_double(rng) < 0.5)) {
			random_next = 1;
			uint64_t la = a1 - a0;
			uint64_t tb = target > la ? target - la : 0;
			size_t rd = 0;
			for (int t = 0; t < 10; t++) {
				rd = nk_rng_below(rng, c->ndoc);
				if (rd != di)
					break;
			}
			size_t rs0 = c->doc[b->perm[rd]];
			size_t rn = c->doc[b->perm[rd] + 1] - rs0;
			size_t j = rs0 + nk_rng_below(rng, rn);
			b0 = b1 = c->sent[j];
			for (; j < rs0 + rn; j++) {
				b1 = c->sent[j + 1];
				if (b1 - b0 >= tb)
					break;
			}
			i -= clen - a_end;   /* put the unused sentences back */
		} else if (cfg->pairs) {
			b0 = a1;
			b1 = c->sent[s0 + cs + clen];
		}
		/* truncate_seq_pair: trim the longer (B on a tie) */
		while ((a1 - a0) + (b1 - b0) > max_num) {
			int front = nk_rng_double(rng) < 0.5;
			if (a1 - a0 > b1 - b0) {
				if (front)
					a0++;
				else
					a1--;
			} else {
				if (front)
					b0++;
				else
					b1--;
			}
			if (b->st)
				b->st->trimmed++;
		}
		int rc = emit(b, a0, a1, b0, b1, random_next);
		if (rc)
			return rc;
		clen = 0;
		cur = 0;
	}
	return NK_OK;
}

int nk_mlm_build(const nk_mlm_config *cfg, const nk_mlm_corpus *c,
		 nk_mlm_set *out, nk_mlm_stats *stats)
{
	int rc = nk_mlm_config_check(cfg);
	if (rc)
		return rc;
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (c->ndoc == 0)
		return NK_OK;
	if (c->ndoc > UINT32_MAX)
		return nk_error(NK_ERANGE, "mlm: %zu documents (the most is "
				"%u)", c->ndoc, UINT32_MAX);
	builder b = {.cfg = cfg, .c = c, .out = out, .st = stats};
	nk_rng_seed(&b.rng, cfg->seed, 0);
	b.perm = nk_reallocarray(NULL, c->ndoc, sizeof *b.perm);
	if (!b.perm)
		return NK_ENOMEM;
	for (size_t d = 0; d < c->ndoc; d++)
		b.perm[d] = (uint32_t)d;
	nk_rng_shuffle_u32(&b.rng, b.perm, c->ndoc);
	size_t first = out->n;
	for (uint32_t k = 0; k < cfg->dupe_factor && !rc; k++)
		for (size_t di = 0; di < c->ndoc && !rc; di++)
			rc = from_document(&b, di);
	free(b.perm);
	if (rc)
		return rc;
	/* rng.shuffle(instances): Fisher-Yates over this build's instances */
	nk_mlm_instance *v = out->inst + first;
	for (size_t i = out->n - first; i > 1; i--) {
		size_t j = nk_rng_below(&b.rng, i);
		nk_mlm_instance t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
	return NK_OK;
}
