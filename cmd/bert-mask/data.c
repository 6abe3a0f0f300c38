/* data.c - bert-mask's inputs into the model's sequences: text, token ids
 * or instance streams read and built into sequences, and the dynamic
 * masker over a run's tokenizer (tokens.c). */
#include "cli.h"
#include "bert-mask.h"

#include "core/io.h"
#include "core/rng.h"
#include "formats/mlm_instances.h"
#include "formats/tokstream.h"
#include "text/mlm_mask.h"
#include "text/wordpiece.h"

/* ---- masking ---------------------------------------------------------- */

static void mlm_config(nk_mlm_config *c, const struct bm_tok *k,
		       const struct opts *o, int mask)
{
	nk_mlm_config_default(c);
	c->T = (uint32_t)o->T;
	c->short_seq_prob = o->short_prob;
	c->masked_lm_prob = o->mask_prob;
	c->max_pred = (uint32_t)o->max_pred;
	c->pairs = o->pairs;
	c->whole_word = o->whole_word;
	c->no_mask = !mask;
	c->dupe_factor = (uint32_t)o->dupe;
	c->seed = o->seed;
	c->V = (uint32_t)k->V;
	c->pad = k->t.pad, c->unk = k->t.unk, c->cls = k->t.cls;
	c->sep = k->t.sep, c->mask = k->t.mask;
	c->cont = k->cont;
	/* Plain ids (a model of them, for eval) have no words to keep
	 * whole. */
	if (o->whole_word && !k->wp && !k->t.cont && bm_seen(o, 'w'))
		cli_usage_error(usage, "-w needs word boundaries, which the "
				"model's token ids lack");
	if (nk_mlm_config_check(c))
		cli_die_lib();
}

struct masker_ctx {
	nk_mlm_config cfg;
	uint32_t *pos;
};

static int mask_one(void *ctx, uint32_t *ids, int n, uint64_t seed,
		    int32_t *mpos, uint32_t *mlabel)
{
	struct masker_ctx *m = ctx;
	nk_rng r;
	nk_rng_seed(&r, seed, 0);
	nk_mlm_instance in = {(uint32_t)n, ids, NULL, 0, m->pos, mlabel, 0};
	if (nk_mlm_mask(&m->cfg, &r, &in))
		return -1;
	for (uint32_t j = 0; j < in.nmask; j++)
		mpos[j] = (int32_t)m->pos[j];
	return (int)in.nmask;
}

nk_bert_masker bm_masker(const struct bm_tok *k, const struct opts *o)
{
	static struct masker_ctx m;
	mlm_config(&m.cfg, k, o, 1);
	free(m.pos);
	if (!(m.pos = nk_calloc((size_t)o->max_pred, sizeof *m.pos)))
		cli_die_lib();
	return (nk_bert_masker){mask_one, &m, o->max_pred};
}

/* ---- reading ---------------------------------------------------------- */

enum { IN_TEXT, IN_IDS, IN_INSTANCES };

/* What an input holds: an instance stream by nnkit-mlm(5)'s own
 * recognition (nk_mlm_is_instances), else text or token ids as the
 * tokenizer says. */
static int input_kind(const nk_input *in, const struct bm_tok *k)
{
	if (nk_mlm_is_instances(in->data, in->size))
		return IN_INSTANCES;
	return k->wp ? IN_TEXT : IN_IDS;
}

/* Text is never binary: a NUL byte means a model, an instance stream or
 * some other file given in the place of text. */
static void refuse_binary(const nk_input *in)
{
	const unsigned char *z = memchr(in->data, 0, in->size);
	if (z)
		cli_errx(1, "%s: offset %zu: a NUL byte: not text (a binary "
			 "file?)", in->name, (size_t)(z - in->data));
}

/* Adds a sentence, cut into pieces that fit a sequence: Google's
 * algorithm would keep one truncated instance of a sentence longer than
 * a sequence and drop the rest, and a text with a paragraph, or a whole
 * speech, on one line is mostly such sentences. */
static void add_sentence(nk_mlm_corpus *c, const uint32_t *ids, size_t n,
			 const struct opts *o)
{
	size_t most = (size_t)o->T - (o->pairs ? 3 : 2);
	if (!n && nk_mlm_corpus_add(c, NULL, 0))
		cli_die_lib();
	for (size_t i = 0; i < n; i += most)
		if (nk_mlm_corpus_add(c, ids + i, n - i < most ? n - i : most))
			cli_die_lib();
}

/* Text through WordPiece: a line a sentence, an empty line a document's
 * end. */
static void read_text(nk_mlm_corpus *c, const struct bm_tok *k,
		      const struct opts *o, const nk_input *in)
{
	nk_wp_ids ids = {0};
	const unsigned char *p = in->data, *end = in->data + in->size;
	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *e = nl ? nl : end;
		ids.n = 0;
		if (nk_wp_encode(k->wp, p, (size_t)(e - p), &ids))
			cli_errx(1, "%s: %s", in->name, nk_last_error());
		/* A line that is all spaces is an empty line too. */
		add_sentence(c, ids.id, ids.n, o);
		p = nl ? nl + 1 : end;
	}
	nk_wp_ids_free(&ids);
}

static void read_ids(nk_mlm_corpus *c, const struct bm_tok *k,
		     const struct opts *o, const nk_input *in)
{
	nk_tokreader *r = nk_tokreader_open_mem(in->data, in->size, in->name);
	if (!r)
		cli_die_lib();
	nk_tokreader_set_max_id(r, (uint32_t)k->t.base_vocab);
	uint32_t *ids;
	size_t n;
	int rc;
	while ((rc = nk_tokreader_next(r, &ids, &n)) == 1)
		add_sentence(c, ids, n, o);
	if (rc < 0)
		cli_die_lib();
	nk_tokreader_close(r);
}

static void read_instances(nk_mlm_set *set, const struct bm_tok *k,
			   const struct opts *o, const nk_input *in)
{
	nk_mlm_reader *r = nk_mlm_reader_open_mem(in->data, in->size,
						  in->name);
	if (!r)
		cli_die_lib();
	nk_mlm_reader_set_limits(r, (uint32_t)k->V, (uint32_t)o->T);
	nk_mlm_instance x;
	int rc;
	while ((rc = nk_mlm_reader_next(r, &x)) == 1)
		if (nk_mlm_set_add(set, &x, (uint32_t)o->max_pred))
			cli_die_lib();
	if (rc < 0)
		cli_die_lib();
	nk_mlm_reader_close(r);
}

/* Instances come built (and, but for those without masks, masked):
 * the options that build them, or mask them for `mask`, would do
 * nothing, and are refused rather than ignored. */
static void instance_options(const struct opts *o, int masked,
			     const char *file)
{
	static const struct { int code; const char *name; } build[] = {
		{O_PAIRS, "--pairs"}, {O_SHORT, "--short-prob"},
		{O_DUPE, "--dupe"}, {'T', "--seq-len"}, {'p', "--mask-prob"},
		{O_MAXPRED, "--max-pred"}, {'w', "--whole-word"},
		{O_CASED, "--cased"}};
	/* train and eval mask the instances that have no masks with -p,
	 * --max-pred and -w, and -T bounds what they read; mask writes
	 * them as they are. */
	int n = masked == BM_MASK_TEXT ? 8 : 2;
	const char *name = !file ? "the inputs"
			   : strcmp(file, "-") ? file : "(stdin)";
	for (int i = 0; i < n; i++)
		if (bm_seen(o, build[i].code))
			cli_usage_error(usage, "%s: an instance stream, built%s "
					"already: %s does not apply", name,
					n == 8 ? " and masked" : "",
					build[i].name);
}

/* The set as the task's sequences. */
static void set_to_seqs(struct bm_seqs *q, const nk_mlm_set *set, int masks)
{
	size_t nids = 0, nm = 0;
	for (size_t i = 0; i < set->n; i++) {
		nids += set->inst[i].n;
		nm += set->inst[i].nmask;
	}
	memset(q, 0, sizeof *q);
	if (!(q->off = nk_calloc(set->n + 1, sizeof *q->off)) ||
	    !(q->ids = nk_calloc(nids + 1, sizeof *q->ids)) ||
	    !(q->types = nk_calloc(nids + 1, 1)) ||
	    !(q->random_next = nk_calloc(set->n + 1, 1)) ||
	    (masks && (!(q->moff = nk_calloc(set->n + 1, sizeof *q->moff)) ||
		       !(q->mpos = nk_calloc(nm + 1, sizeof *q->mpos)) ||
		       !(q->mlabel = nk_calloc(nm + 1, sizeof *q->mlabel)))))
		cli_die_lib();
	size_t a = 0, m = 0;
	for (size_t i = 0; i < set->n; i++) {
		const nk_mlm_instance *x = &set->inst[i];
		memcpy(q->ids + a, x->ids, x->n * sizeof *q->ids);
		memcpy(q->types + a, x->types, x->n);
		a += x->n;
		q->off[i + 1] = a;
		q->random_next[i] = (uint8_t)x->is_random_next;
		if (!masks)
			continue;
		for (uint32_t j = 0; j < x->nmask; j++, m++) {
			q->mpos[m] = (int32_t)x->mpos[j];
			q->mlabel[m] = x->mlabel[j];
		}
		q->moff[i + 1] = m;
	}
	q->s = (nk_bert_seqs){set->n, q->off, q->ids, q->types, q->moff,
			      q->mpos, q->mlabel};
}

/* Reads every input: instance streams as they are, or text / ids into a
 * corpus built into instances (masked when asked). */
static void read_set(nk_mlm_set *set, const struct bm_tok *k,
		     const struct opts *o, int masked, int argc, char **argv,
		     int *from_instances)
{
	static char *stdin_only[] = {"-"};
	char **files = argc ? argv : stdin_only;
	int nfiles = argc ? argc : 1, kinds = 0;
	nk_mlm_corpus c = {0};
	for (int i = 0; i < nfiles; i++) {
		nk_input in;
		if (nk_input_load(&in, files[i], 0))
			cli_die_lib();
		int kind = input_kind(&in, k);
		if (kinds && (kinds == 1 << IN_INSTANCES) !=
			     (kind == IN_INSTANCES))
			cli_errx(1, "%s: %s after %s; give one kind of input",
				 in.name, kind == IN_INSTANCES ?
				 "an instance stream" : "text or token ids",
				 kind == IN_INSTANCES ? "text or token ids" :
				 "an instance stream");
		kinds |= 1 << kind;
		if (kind == IN_INSTANCES)
			read_instances(set, k, o, &in);
		else if (kind == IN_TEXT) {
			refuse_binary(&in);
			read_text(&c, k, o, &in);
		}
		else
			read_ids(&c, k, o, &in);
		/* Each file ends its last document. */
		if (kind != IN_INSTANCES && nk_mlm_corpus_add(&c, NULL, 0))
			cli_die_lib();
		nk_input_free(&in);
	}
	*from_instances = kinds == 1 << IN_INSTANCES;
	if (*from_instances)
		instance_options(o, masked, nfiles == 1 ? files[0] : NULL);
	else {
		nk_mlm_config cfg;
		mlm_config(&cfg, k, o, masked);
		if (nk_mlm_build(&cfg, &c, set, NULL))
			cli_die_lib();
	}
	nk_mlm_corpus_free(&c);
	if (!set->n)
		cli_errx(1, "%s: no text to learn from",
			 nfiles == 1 ? (strcmp(files[0], "-") ? files[0]
							     : "(stdin)")
				     : "the inputs");
}

/* Instances that came without masks, masked now with o's rule (eval's
 * fixed masks: nnkit-mlm(5) has such an instance masked when it is
 * used); the others keep theirs. */
static void mask_missing(struct bm_seqs *q, const struct bm_tok *k,
			 const struct opts *o)
{
	nk_bert_masker masker = bm_masker(k, o);
	size_t *moff;
	int32_t *mpos;
	uint32_t *mlabel;
	if (nk_bert_mask_missing(&q->s, q->ids, &masker, o->seed, &moff, &mpos,
				 &mlabel))
		cli_die_lib();
	free(q->moff);
	free(q->mpos);
	free(q->mlabel);
	q->moff = moff, q->mpos = mpos, q->mlabel = mlabel;
	q->s.moff = moff, q->s.mpos = mpos, q->s.mlabel = mlabel;
}

void bm_read_seqs(struct bm_seqs *q, const struct bm_tok *k,
		  const struct opts *o, int masked, int argc, char **argv)
{
	nk_mlm_set set = {0};
	int inst;
	read_set(&set, k, o, masked, argc, argv, &inst);
	set_to_seqs(q, &set, masked || inst);
	nk_mlm_set_free(&set);
	q->instances = inst;
	if (inst && masked == BM_MASK_ALL)
		mask_missing(q, k, o);
}

void bm_seqs_free(struct bm_seqs *q)
{
	free(q->off);
	free(q->moff);
	free(q->ids);
	free(q->mlabel);
	free(q->types);
	free(q->mpos);
	free(q->random_next);
	memset(q, 0, sizeof *q);
}
