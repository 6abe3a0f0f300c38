/* ordered.c - numbered jobs on N threads, results emitted in order.
 *
 * One mutex guards a handful of counters; a thread with nothing to do
 * sleeps on one condition variable, so no core spins while another
 * writes.  What a thread does next, in order of preference:
 *   1. emit the oldest job if its work is done (frees a slot soonest);
 *   2. take a new job if a slot is free and nobody else is taking;
 *   3. wait.
 * Job j lives in slot j % nslots; it may be taken only once job
 * j - nslots has been emitted, so a slot never holds two jobs.
 */
#include "core/ordered.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/base.h"

#define NOT_DONE SIZE_MAX

struct state {
	const nk_ordered_fns *fns;
	void *ctx;
	int nslots;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t *done;     /* by slot: the job whose work finished there */
	size_t taken;     /* jobs taken so far: the next job's number */
	size_t emitted;   /* jobs emitted so far */
	int taking, emitting;
	int end;          /* take said there are no more jobs (or failed) */
	int stop;         /* emit failed */
	int take_rc, emit_rc;
};

static void run_thread(struct state *S, int tid)
{
	pthread_mutex_lock(&S->mu);
	for (;;) {
		if (!S->stop && !S->emitting && S->emitted < S->taken &&
		    S->done[S->emitted % (size_t)S->nslots] == S->emitted) {
			size_t j = S->emitted;
			int slot = (int)(j % (size_t)S->nslots);
			S->emitting = 1;
			pthread_mutex_unlock(&S->mu);
			int rc = S->fns->emit(S->ctx, j, slot);
			pthread_mutex_lock(&S->mu);
			S->emitting = 0;
			S->done[slot] = NOT_DONE;
			S->emitted++;
			if (rc) {
				S->stop = 1;
				S->emit_rc = rc;
			}
			pthread_cond_broadcast(&S->cv);
			continue;
		}
		if (!S->stop && !S->end && !S->taking &&
		    S->taken < S->emitted + (size_t)S->nslots) {
			size_t j = S->taken;
			int slot = (int)(j % (size_t)S->nslots);
			S->taking = 1;
			pthread_mutex_unlock(&S->mu);
			int rc = S->fns->take(S->ctx, j, slot);
			pthread_mutex_lock(&S->mu);
			S->taking = 0;
			if (rc <= 0) {
				S->end = 1;
				S->take_rc = rc;
				pthread_cond_broadcast(&S->cv);
				continue;
			}
			S->taken++;
			pthread_cond_broadcast(&S->cv); /* the next take may start */
			pthread_mutex_unlock(&S->mu);
			S->fns->work(S->ctx, slot, tid);
			pthread_mutex_lock(&S->mu);
			S->done[slot] = j;
			pthread_cond_broadcast(&S->cv);
			continue;
		}
		if (S->stop || (S->end && !S->taking && S->emitted == S->taken))
			break;
		pthread_cond_wait(&S->cv, &S->mu);
	}
	pthread_mutex_unlock(&S->mu);
}

struct helper {
	struct state *S;
	int tid;
	pthread_t th;
};

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	run_thread(h->S, h->tid);
	return NULL;
}

int nk_ordered_run(const nk_ordered_fns *fns, void *ctx, int nthreads,
		   int nslots)
{
	if (nthreads < 1 || nslots < 1)
		return nk_error(NK_EINVAL, "ordered run: %d threads, %d slots",
				nthreads, nslots);
	struct state S = {.fns = fns, .ctx = ctx, .nslots = nslots};
	S.done = nk_malloc((size_t)nslots * sizeof *S.done);
	if (!S.done)
		return NK_ENOMEM;
	for (int i = 0; i < nslots; i++)
		S.done[i] = NOT_DONE;
	pthread_mutex_init(&S.mu, NULL);
	pthread_cond_init(&S.cv, NULL);
	/* Plain threads, not an OpenMP team: the waits are on our own
	 * condition variable, and ThreadSanitizer can check the whole. */
	struct helper *h = NULL;
	int started = 0;
	if (nthreads > 1 && (h = nk_calloc((size_t)nthreads - 1, sizeof *h)))
		for (; started < nthreads - 1; started++) {
			h[started] = (struct helper){.S = &S, .tid = started + 1};
			if (pthread_create(&h[started].th, NULL, helper_main,
					   &h[started]))
				break; /* fewer threads: slower, same output */
		}
	run_thread(&S, 0);
	for (int i = 0; i < started; i++)
		pthread_join(h[i].th, NULL);
	free(h);
	pthread_cond_destroy(&S.cv);
	pthread_mutex_destroy(&S.mu);
	free(S.done);
	return S.stop ? S.emit_rc : S.take_rc;
}
