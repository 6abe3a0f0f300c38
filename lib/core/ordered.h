/* ordered.h - numbered jobs on N threads, their results emitted in order.
 *
 * The shape of every "cut the input, work on the pieces in parallel, write
 * the results in input order" program (tokenize -j, a parallel filter):
 *
 *   take(job, slot)   fills `slot` with job number `job` (reads input, cuts
 *                     it); called in job order, one call at a time;
 *                     returns 1 for a job, 0 at the end of the input, or a
 *                     negative NK_E* code that stops the run
 *   work(slot, tid)   does the job in `slot` on thread `tid`; runs in
 *                     parallel with other jobs' work and with take/emit
 *   emit(job, slot)   consumes the result (writes it); called in job
 *                     order, one call at a time; nonzero stops the run
 *
 * A slot is the caller's buffers for one job in flight, numbered 0 ..
 * nslots-1; a slot is reused only after its job was emitted, so at most
 * nslots jobs are in flight and memory stays bounded whatever the input
 * size.  There are no rounds: a thread that finishes a job emits whatever
 * is ready and takes the next job at once, so the only serial time is the
 * emit itself, overlapped with other threads' work.
 *
 * Returns 0, or the first nonzero value from take or emit.  After a take
 * error the jobs already taken are still worked and emitted (a read error
 * loses nothing before it); after an emit error nothing more is emitted.
 */
#ifndef NK_ORDERED_H
#define NK_ORDERED_H

#include <stddef.h>

typedef struct nk_ordered_fns {
	int (*take)(void *ctx, size_t job, int slot);
	void (*work)(void *ctx, int slot, int tid);
	int (*emit)(void *ctx, size_t job, int slot);
} nk_ordered_fns;

/* nthreads >= 1 (tid is 0 .. nthreads-1); nslots >= 1, and nslots >=
 * nthreads + 1 keeps every thread busy while one result waits. */
int nk_ordered_run(const nk_ordered_fns *fns, void *ctx, int nthreads,
		   int nslots);

#endif
