/* mlm_instance.c - one masked-language-model training instance in memory:
 * allocation, sets of them, and the checks every writer makes (see
 * mlm_instances.h).
 */
#include "formats/mlm_instances.h"

#include "core/base.h"

#include <stdlib.h>
#include <string.h>

int nk_mlm_instance_alloc(nk_mlm_instance *in, uint32_t n, uint32_t max_pred)
{
	size_t words = (size_t)n + 2 * (size_t)max_pred;
	uint32_t *p = nk_malloc(words * sizeof *p + n + 1);
	if (!p)
		return NK_ENOMEM;
	in->n = n;
	in->ids = p;
	in->mpos = p + n;
	in->mlabel = p + n + max_pred;
	in->types = (uint8_t *)(p + words);
	memset(in->types, 0, n);
	in->nmask = 0;
	in->is_random_next = 0;
	return NK_OK;
}

void nk_mlm_instance_free(nk_mlm_instance *in)
{
	free(in->ids);
	in->ids = NULL;
}

int nk_mlm_set_add(nk_mlm_set *s, const nk_mlm_instance *in,
		   uint32_t max_pred)
{
	if (nk_grow((void **)&s->inst, &s->cap, s->n + 1, sizeof *s->inst))
		return NK_ENOMEM;
	nk_mlm_instance *o = &s->inst[s->n];
	if (nk_mlm_instance_alloc(o, in->n, in->nmask > max_pred ? in->nmask
							       : max_pred))
		return NK_ENOMEM;
	memcpy(o->ids, in->ids, in->n * sizeof *o->ids);
	if (in->types)
		memcpy(o->types, in->types, in->n);
	memcpy(o->mpos, in->mpos, in->nmask * sizeof *o->mpos);
	memcpy(o->mlabel, in->mlabel, in->nmask * sizeof *o->mlabel);
	o->nmask = in->nmask;
	o->is_random_next = in->is_random_next;
	s->n++;
	return NK_OK;
}

void nk_mlm_set_free(nk_mlm_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		nk_mlm_instance_free(&s->inst[i]);
	free(s->inst);
	memset(s, 0, sizeof *s);
}

/* The number of leading type-0 tokens, or -1 when the types are not 0s
 * followed by 1s. */
static long type_split(const nk_mlm_instance *in)
{
	uint32_t na = 0;
	if (!in->types)
		return in->n;
	while (na < in->n && in->types[na] == 0)
		na++;
	for (uint32_t i = na; i < in->n; i++)
		if (in->types[i] != 1)
			return -1;
	return na;
}

int nk_mlm_instance_check(const nk_mlm_instance *in, uint32_t V)
{
	if (in->n < 1 || in->n > NK_MLM_T_MAX)
		return nk_error(NK_ERANGE, "instance of %u tokens (allowed: 1 "
				"to %u)", in->n, NK_MLM_T_MAX);
	if (type_split(in) < 0)
		return nk_error(NK_EINVAL, "token types are not 0s then 1s");
	if (in->nmask > in->n)
		return nk_error(NK_ERANGE, "%u masked positions in %u tokens",
				in->nmask, in->n);
	if (in->is_random_next != 0 && in->is_random_next != 1)
		return nk_error(NK_EINVAL, "is_random_next %d is not 0 or 1",
				in->is_random_next);
	for (uint32_t k = 0; k < in->nmask; k++) {
		if (in->mpos[k] >= in->n)
			return nk_error(NK_ERANGE, "masked position %u beyond "
					"the %u tokens", in->mpos[k], in->n);
		if (k && in->mpos[k] <= in->mpos[k - 1])
			return nk_error(NK_EINVAL, "masked positions not "
					"ascending (%u after %u)", in->mpos[k],
					in->mpos[k - 1]);
		if (V && in->mlabel[k] >= V)
			return nk_error(NK_ERANGE, "label %u out of range for "
					"vocabulary size %u", in->mlabel[k], V);
	}
	for (uint32_t i = 0; V && i < in->n; i++)
		if (in->ids[i] >= V)
			return nk_error(NK_ERANGE, "token id %u out of range for "
					"vocabulary size %u", in->ids[i], V);
	return NK_OK;
}
