/* dist.h - the ranks of a data-parallel run: the thin layer over MPI that
 * the training loop and word2vec need, and nothing else.
 *
 * Built with -DNK_MPI (the Makefile does so when Open MPI's mpicc is
 * there), a process started by mpirun joins MPI_COMM_WORLD in
 * nk_dist_init; a process started any other way, or a build without MPI,
 * is rank 0 of 1 and every function below is trivial (no MPI call at
 * all), so a single process behaves exactly as a build without MPI.
 *
 * Collectives: every rank must call them in the same order with the same
 * sizes.  Reductions run in a fixed order, so that a run is reproducible
 * and independent of how MPI happens to schedule its messages: the sum of
 * element i is ((x0[i] + x1[i]) + x2[i]) + ... in rank order, whatever
 * the number of ranks, whatever the message sizes.  MPI_Allreduce does not
 * promise that (its algorithm, and so the association of the additions,
 * depends on the message size and the process count), so the sum is a
 * reduce-scatter done by MPI_Alltoallv (every rank receives every rank's
 * copy of its own 1/N of the buffer and adds them in rank order), then an
 * MPI_Allgatherv of the sums: the same 2(N-1)/N x bytes per rank as a
 * ring allreduce.
 *
 * Errors: a rank that fails must not leave the others waiting in a
 * collective.  Wherever the ranks can diverge (reading input, a training
 * step, writing a checkpoint), they call nk_dist_agree with their own
 * status; it tells every rank whether any failed and hands the first
 * failing rank's message to all.  The library itself never aborts; the
 * programs end every rank with exit status 1 after an agreed failure.
 */
#ifndef NK_DIST_H
#define NK_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Joins MPI when the process was started by mpirun (Open MPI's or a PMIx
 * launcher's environment) and the build has MPI; otherwise does nothing.
 * NK_EIO when MPI refuses to start. */
int nk_dist_init(int *argc, char ***argv);
/* Leaves MPI (collective: every rank calls it); harmless when not
 * joined or already left. */
void nk_dist_finalize(void);
/* Whether MPI was joined and not yet left (the programs' exit hook uses
 * it to abort the job instead of hanging the other ranks). */
int nk_dist_joined(void);
/* Ends every rank of the job now with `code` (MPI_Abort); for the
 * programs' exit path after a failure the ranks did not agree on.
 * Returns only when MPI is not joined. */
void nk_dist_abort(int code);
int nk_dist_rank(void);
int nk_dist_size(void);
/* Whether the build has MPI at all. */
int nk_dist_built(void);

/* Every rank's status: NK_OK on every rank when all passed NK_OK;
 * otherwise the code of the lowest failing rank, whose message becomes
 * every rank's last error as "rank R: MESSAGE" (on one rank alone the
 * status is returned untouched). */
int nk_dist_agree(int rc);

/* buf[0..n) = the sum over the ranks, in rank order (see above).  n must
 * be the same on every rank. */
int nk_dist_sum(float *buf, size_t n);
/* The same for a few doubles (losses, counts). */
int nk_dist_sum_f64(double *buf, size_t n);
/* Rank root's bytes to every rank. */
int nk_dist_bcast(void *buf, size_t bytes, int root);
/* Rank root receives every rank's send[0..n) one after the other in rank
 * order (n may differ between ranks) into recv[0..room); recv and room
 * matter on root only.  NK_ERANGE on every rank when the sum of the n
 * exceeds root's room. */
int nk_dist_gather(const float *send, size_t n, float *recv, size_t room,
		   int root);
/* Whether v is the same on every rank (1) or not (0); -1 on an MPI error. */
int nk_dist_same(int64_t v);

/* Rank r's share [*lo, *hi) of n items, in rank order:
 * [n*rank/size, n*(rank+1)/size). */
void nk_dist_share(size_t n, int rank, int size, size_t *lo, size_t *hi);

#endif
