/* test_spans.c - every unit taken once, each thread starting on its own
 * part in order, the others' parts taken from their backs, and more
 * threads than parts. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "core/spans.h"

/* One thread alone: its own part front to back, then the others' parts,
 * each back to front, in the order t+1, t+2, ... */
TEST(one_thread_order)
{
	nk_spans sp;
	nk_spans_init(&sp, 10, 3); /* parts 0-2, 3-5, 6-9 */
	static const long want[] = {3, 4, 5, 9, 8, 7, 6, 2, 1, 0, -1, -1};
	for (int i = 0; i < 12; i++) {
		long u = nk_spans_next(&sp, 1);
		CHECK_MSG(u == want[i], "unit %d: %ld, expected %ld", i, u,
			  want[i]);
	}
}

TEST(empty_and_tiny)
{
	nk_spans sp;
	nk_spans_init(&sp, 0, 4);
	for (int t = 0; t < 4; t++)
		CHECK(nk_spans_next(&sp, t) == -1);
	nk_spans_init(&sp, 2, 4); /* two parts empty */
	long a = nk_spans_next(&sp, 0), b = nk_spans_next(&sp, 0);
	long c = nk_spans_next(&sp, 0);
	CHECK(a >= 0 && b >= 0 && a != b && a + b == 1 && c == -1);
	/* nthr 0 or negative: one part */
	nk_spans_init(&sp, 3, 0);
	CHECK(nk_spans_next(&sp, 0) == 0 && nk_spans_next(&sp, 0) == 1 &&
	      nk_spans_next(&sp, 0) == 2 && nk_spans_next(&sp, 0) == -1);
}

/* Plain threads (so that ThreadSanitizer sees every access: libgomp is
 * not instrumented), some units slower than others: every unit exactly
 * once, with fewer, as many and more threads than parts. */
enum { N = 20000, MAX_THR = NK_SPANS_MAX + 3 };
static atomic_int seen[N];
static atomic_int out_of_range;

struct worker {
	pthread_t th;
	nk_spans *sp;
	long n;
	int t;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (long u; (u = nk_spans_next(w->sp, w->t)) >= 0;) {
		if (u >= w->n) {
			atomic_store(&out_of_range, 1);
			break;
		}
		atomic_fetch_add(&seen[u], 1);
		if (u % 3 == 0) /* uneven units */
			for (volatile int k = 0; k < 200; k++)
				;
	}
	return NULL;
}

TEST(threads_take_each_once)
{
	static const int counts[] = {1, 2, 3, 4, 7, MAX_THR};
	static struct worker w[MAX_THR];
	for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
		int nthr = counts[ci];
		for (long n = 0; n <= N; n += n < 100 ? 7 : 4999) {
			nk_spans sp;
			nk_spans_init(&sp, n, nthr);
			for (long u = 0; u < n; u++)
				atomic_store(&seen[u], 0);
			atomic_store(&out_of_range, 0);
			int started = 0;
			for (int t = 0; t < nthr; t++) {
				w[t] = (struct worker){.sp = &sp, .n = n, .t = t};
				if (pthread_create(&w[t].th, NULL, work, &w[t]) == 0)
					started++;
				else
					break;
			}
			CHECK_MSG(started == nthr, "nthr %d: %d threads started",
				  nthr, started);
			for (int t = 0; t < started; t++)
				pthread_join(w[t].th, NULL);
			if (started != nthr)
				return;
			CHECK_MSG(!atomic_load(&out_of_range),
				  "nthr %d n %ld: a unit past the end", nthr, n);
			for (long u = 0; u < n; u++)
				CHECK_MSG(atomic_load(&seen[u]) == 1,
					  "nthr %d n %ld: unit %ld taken %d times",
					  nthr, n, u, atomic_load(&seen[u]));
		}
	}
}

int main(void)
{
	RUN(one_thread_order);
	RUN(empty_and_tiny);
	RUN(threads_take_each_once);
	return nk_test_exit();
}
