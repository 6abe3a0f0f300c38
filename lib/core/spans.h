/* spans.h - units of work shared out among threads so that each takes
 * the same contiguous part every time and neighbours meet only at their
 * ends.
 *
 *	nk_spans sp;
 *	nk_spans_init(&sp, n, nthr);
 *	#pragma omp parallel num_threads(nthr)
 *	for (long u; (u = nk_spans_next(&sp, omp_get_thread_num())) >= 0;)
 *		work(u);
 *
 * Thread t starts at the front of its own part (the t-th of nthr nearly
 * equal parts of 0..n-1) and goes forward; when its part is done it takes
 * units from the back of the others' parts.  Against schedule(dynamic),
 * where neighbouring units go to different threads at the same moment:
 * units that write neighbouring memory (a layer's rows) are then written
 * by the same thread, save where two parts meet, so no cache line is
 * written by two cores at once at every unit's edge, and a thread's
 * rows stay in its core's cache from one call to the next.  Against
 * schedule(static): a core that runs slower (on a shared machine the two
 * halves of one layer finish 5-60% apart) is relieved by the other.
 */
#ifndef NK_CORE_SPANS_H
#define NK_CORE_SPANS_H

#include <stdatomic.h>
#include <stdint.h>

enum { NK_SPANS_MAX = 64 }; /* parts; threads beyond only take from others */

typedef struct {
	/* A part: the next unit from the front in the low 32 bits, one past
	 * the last from the back in the high ones; each on its own line. */
	struct {
		_Alignas(64) _Atomic uint64_t lohi;
	} part[NK_SPANS_MAX];
	int nparts;
} nk_spans;

/* Units 0..n-1 (n < 2^31) for nthr threads. */
void nk_spans_init(nk_spans *s, long n, int nthr);
/* Thread t's next unit, or -1 when none is left anywhere. */
long nk_spans_next(nk_spans *s, int t);

#endif
