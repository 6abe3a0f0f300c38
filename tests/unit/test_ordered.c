/* test_ordered.c - jobs come out in order, once each, with bounded slots,
 * whatever the thread count and however long each job takes. */
#include <stdatomic.h>
#include <time.h>

#include "core/base.h"
#include "check.h"
#include "core/ordered.h"

#define MAX_SLOTS 16

struct ctx {
	size_t njobs;          /* take says "end" after this many */
	size_t fail_take_at;   /* take fails at this job (SIZE_MAX: never) */
	size_t fail_emit_at;   /* emit fails at this job */
	size_t slot_job[MAX_SLOTS];
	long slot_value[MAX_SLOTS];
	size_t emitted[4096];
	size_t nemitted;
	int out_of_order, slot_clash, bad_tid, nthreads;
	atomic_int in_flight, max_in_flight;
	atomic_int in_take, in_emit, overlap;
};

static int take(void *vc, size_t job, int slot)
{
	struct ctx *c = vc;
	if (atomic_fetch_add(&c->in_take, 1) != 0)
		c->overlap = 1;
	int r = 1;
	if (job == c->fail_take_at)
		r = -NK_EIO;
	else if (job >= c->njobs)
		r = 0;
	else
		c->slot_job[slot] = job;
	atomic_fetch_sub(&c->in_take, 1);
	return r;
}

static void work(void *vc, int slot, int tid)
{
	struct ctx *c = vc;
	int now = atomic_fetch_add(&c->in_flight, 1) + 1;
	int seen = atomic_load(&c->max_in_flight);
	while (now > seen && !atomic_compare_exchange_weak(&c->max_in_flight,
							   &seen, now))
		;
	if (tid < 0 || tid >= c->nthreads)
		c->bad_tid = 1;
	size_t job = c->slot_job[slot];
	/* Uneven work: some jobs sleep, so later ones finish first. */
	if (job % 7 == 3) {
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	long v = 0;
	for (size_t i = 0; i < (job % 5) * 1000; i++)
		v += (long)(i ^ job);
	c->slot_value[slot] = (long)job * 3 + (v & 0);
	atomic_fetch_sub(&c->in_flight, 1);
}

static int emit(void *vc, size_t job, int slot)
{
	struct ctx *c = vc;
	if (atomic_fetch_add(&c->in_emit, 1) != 0)
		c->overlap = 1;
	if (c->slot_job[slot] != job)
		c->slot_clash = 1;
	if (c->slot_value[slot] != (long)job * 3)
		c->slot_clash = 1;
	if (c->nemitted != job)
		c->out_of_order = 1;
	c->emitted[c->nemitted++] = job;
	atomic_fetch_sub(&c->in_emit, 1);
	return job == c->fail_emit_at ? 7 : 0;
}

static const nk_ordered_fns fns = {take, work, emit};

static int run(struct ctx *c, size_t njobs, int nt, int nslots)
{
	memset(c, 0, sizeof *c);
	c->njobs = njobs;
	c->fail_take_at = c->fail_emit_at = SIZE_MAX;
	c->nthreads = nt;
	return nk_ordered_run(&fns, c, nt, nslots);
}

TEST(ordered_all_jobs_in_order)
{
	static struct ctx c;
	int threads[] = {1, 2, 3, 4};
	int slots[] = {1, 2, 5, 16};
	size_t jobs[] = {0, 1, 2, 17, 1000};
	for (int t = 0; t < 4; t++)
		for (int s = 0; s < 4; s++)
			for (int j = 0; j < 5; j++) {
				int rc = run(&c, jobs[j], threads[t], slots[s]);
				CHECK_MSG(rc == 0 && c.nemitted == jobs[j] &&
					  !c.out_of_order && !c.slot_clash &&
					  !c.overlap && !c.bad_tid,
					  "%d threads, %d slots, %zu jobs: rc %d, "
					  "%zu emitted", threads[t], slots[s],
					  jobs[j], rc, c.nemitted);
				CHECK(c.max_in_flight <= slots[s] &&
				      c.max_in_flight <= threads[t]);
			}
}

TEST(ordered_take_error_keeps_earlier_jobs)
{
	static struct ctx c;
	for (int nt = 1; nt <= 3; nt++) {
		memset(&c, 0, sizeof c);
		c.njobs = 100;
		c.fail_take_at = 40;
		c.fail_emit_at = SIZE_MAX;
		c.nthreads = nt;
		int rc = nk_ordered_run(&fns, &c, nt, 4);
		CHECK_MSG(rc == -NK_EIO && c.nemitted == 40 && !c.out_of_order,
			  "%d threads: rc %d, %zu emitted", nt, rc, c.nemitted);
	}
}

TEST(ordered_emit_error_stops)
{
	static struct ctx c;
	for (int nt = 1; nt <= 3; nt++) {
		memset(&c, 0, sizeof c);
		c.njobs = 100;
		c.fail_take_at = SIZE_MAX;
		c.fail_emit_at = 25;
		c.nthreads = nt;
		int rc = nk_ordered_run(&fns, &c, nt, 5);
		CHECK_MSG(rc == 7 && c.nemitted == 26 && !c.out_of_order,
			  "%d threads: rc %d, %zu emitted", nt, rc, c.nemitted);
	}
}

TEST(ordered_rejects_nonsense)
{
	static struct ctx c;
	CHECK(run(&c, 3, 0, 4) == NK_EINVAL);
	CHECK(run(&c, 3, 2, 0) == NK_EINVAL);
	CHECK(c.nemitted == 0);
}

int main(void)
{
	RUN(ordered_all_jobs_in_order);
	RUN(ordered_take_error_keeps_earlier_jobs);
	RUN(ordered_emit_error_stops);
	RUN(ordered_rejects_nonsense);
	return nk_test_exit();
}
