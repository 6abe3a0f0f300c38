/* resume.c - bert-mask train --resume: the run's settings come from the
 * model file, so an option that would set one is checked against it, not
 * dropped: the same value is accepted (a script may repeat its command
 * line), another one is a usage error naming both. */
#include "cli.h"
#include "bert-mask.h"

#include "nn/lr.h"

enum { V_INT, V_FLOAT, V_FLAG, V_SCHEDULE, V_GELU };

struct setting {
	int code;           /* the option's getopt code */
	const char *name;   /* as the user writes it */
	int kind;
	double given, saved;
};

static void show(char *buf, size_t size, int kind, double v)
{
	if (kind == V_SCHEDULE)
		snprintf(buf, size, "%s", nk_lr_kind_name((int)v));
	else if (kind == V_GELU)
		snprintf(buf, size, "%s", nk_gelu_name((int)v));
	else if (kind == V_FLAG)
		snprintf(buf, size, "%s", v ? "on" : "off");
	else
		snprintf(buf, size, "%.9g", v);
}

static int same(const struct setting *s)
{
	/* Floats are kept as floats: compare what the option would set. */
	if (s->kind == V_FLOAT)
		return (float)s->given == (float)s->saved;
	if (s->kind == V_FLAG)
		return !s->given == !s->saved;
	return s->given == s->saved;
}

void bm_resume_check(const struct opts *o, const nk_bert_file *bf,
		     const nk_train_config *tc, const nk_bert_task_config *kc)
{
	const nk_bert_config *m = &bf->m.cfg;
	const nk_train_config *g = &o->t.tc;
	const struct setting rows[] = {
		{'l', "--layers", V_INT, o->L, m->L},
		{'H', "--hidden", V_INT, o->H, m->H},
		{'A', "--heads", V_INT, o->A, m->A},
		{O_FF, "--ff", V_INT, o->FF, m->FF},
		{O_DROPOUT, "--dropout", V_FLOAT, o->dropout, m->dropout},
		{O_GELU, "--gelu", V_GELU, o->gelu, m->gelu},
		{O_ALIBI, "--alibi", V_FLAG, o->alibi, m->alibi},
		{'T', "--seq-len", V_INT, o->T, kc->seq_len},
		{'b', "--batch", V_INT, o->B, kc->B},
		{'c', "--checkpoint", V_FLAG, o->checkpoint, kc->checkpoint},
		{CLI_OPT_VALFRAC, "--val-fraction", V_FLOAT, o->t.val_frac,
		 kc->val_fraction},
		{'s', "--seed", V_INT, (double)o->seed, (double)kc->seed},
		{O_MAXPRED, "--max-pred", V_INT, o->max_pred, kc->max_pred},
		{'w', "--whole-word", V_FLAG, o->whole_word, kc->whole_word},
		{O_PAIRS, "--pairs", V_FLAG, o->pairs, kc->pairs},
		{'p', "--mask-prob", V_FLOAT, o->mask_prob, kc->mask_prob},
		{O_SHORT, "--short-prob", V_FLOAT, o->short_prob,
		 kc->short_prob},
		{O_CASED, "--cased", V_FLAG, o->cased,
		 bf->tok.kind == NK_BERT_WORDPIECE && !bf->tok.lower_case},
		{'r', "--lr", V_FLOAT, g->lr, tc->lr},
		{CLI_OPT_WD, "--weight-decay", V_FLOAT, g->weight_decay,
		 tc->weight_decay},
		{CLI_OPT_CLIP, "--clip", V_FLOAT, g->clip, tc->clip},
		{CLI_OPT_SCHED, "--schedule", V_SCHEDULE, g->schedule,
		 tc->schedule},
		{CLI_OPT_WARMUP, "--warmup", V_INT, (double)g->warmup,
		 (double)tc->warmup},
		{CLI_OPT_MINLR, "--min-lr", V_FLOAT, g->min_lr, tc->min_lr},
		{CLI_OPT_EVAL, "--eval-every", V_INT, (double)g->eval_every,
		 (double)tc->eval_every},
		{CLI_OPT_SAVE, "--save-every", V_INT, (double)g->save_every,
		 (double)tc->save_every},
		{CLI_OPT_LOGEVERY, "--log-every", V_INT, (double)g->log_every,
		 (double)tc->log_every},
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		const struct setting *s = &rows[i];
		if (!bm_seen(o, s->code) || same(s))
			continue;
		char given[64], saved[64];
		show(given, sizeof given, s->kind, s->given);
		show(saved, sizeof saved, s->kind, s->saved);
		if (s->kind == V_FLAG)
			cli_usage_error(usage, "train --resume: %s is %s in the "
					"run saved in %s; its settings cannot "
					"change", s->name, saved, o->out);
		cli_usage_error(usage, "train --resume: %s %s differs from "
				"the run saved in %s (%s); its settings cannot "
				"change", s->name, given, o->out, saved);
	}
}
