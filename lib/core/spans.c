/* spans.c - contiguous parts of a range, taken from the front by their
 * thread and from the back by the others (spans.h). */
#include "core/spans.h"

static uint64_t pack(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

void nk_spans_init(nk_spans *s, long n, int nthr)
{
	int np = nthr < 1 ? 1 : nthr > NK_SPANS_MAX ? NK_SPANS_MAX : nthr;
	s->nparts = np;
	for (int k = 0; k < np; k++) {
		uint32_t lo = (uint32_t)(n * k / np), hi = (uint32_t)(n * (k + 1) / np);
		atomic_store_explicit(&s->part[k].lohi, pack(lo, hi),
				      memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_release);
}

/* The front (or, with back, the back) unit of part k, or -1 when it is
 * empty. */
static long take(nk_spans *s, int k, int back)
{
	_Atomic uint64_t *p = &s->part[k].lohi;
	uint64_t v = atomic_load_explicit(p, memory_order_relaxed);
	for (;;) {
		uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
		if (lo >= hi)
			return -1;
		uint64_t rest = back ? pack(lo, hi - 1) : pack(lo + 1, hi);
		if (atomic_compare_exchange_weak_explicit(p, &v, rest,
							  memory_order_acq_rel,
							  memory_order_relaxed))
			return back ? hi - 1 : lo;
	}
}

long nk_spans_next(nk_spans *s, int t)
{
	int np = s->nparts;
	long u;
	if (t < np && (u = take(s, t, 0)) >= 0)
		return u;
	/* Own part done: the next parts' backs in turn, so that two
	 * thieves do not start on the same part. */
	for (int d = 1; d <= np; d++) {
		int k = (t + d) % np;
		if (k != t && (u = take(s, k, 1)) >= 0)
			return u;
	}
	return -1;
}
