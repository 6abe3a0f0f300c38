/* dist.c - the ranks of a data-parallel run over MPI (dist.h). */
#include "core/dist.h"
#include "core/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_dist_share(size_t n, int rank, int size, size_t *lo, size_t *hi)
{
	if (size < 1)
		size = 1;
	*lo = (size_t)((unsigned __int128)n * (unsigned)rank / (unsigned)size);
	*hi = (size_t)((unsigned __int128)n * (unsigned)(rank + 1) /
		       (unsigned)size);
}

int nk_dist_built(void)
{
#ifdef NK_MPI
	return 1;
#else
	return 0;
#endif
}

#ifndef NK_MPI

/* One process: rank 0 of 1, and every collective is the identity. */
int nk_dist_init(int *argc, char ***argv) { (void)argc, (void)argv; return NK_OK; }
void nk_dist_finalize(void) {}
int nk_dist_joined(void) { return 0; }
void nk_dist_abort(int code) { (void)code; }
int nk_dist_rank(void) { return 0; }
int nk_dist_size(void) { return 1; }
int nk_dist_agree(int rc) { return rc; }
int nk_dist_sum(float *buf, size_t n) { (void)buf, (void)n; return NK_OK; }
int nk_dist_sum_f64(double *buf, size_t n) { (void)buf, (void)n; return NK_OK; }
int nk_dist_bcast(void *buf, size_t bytes, int root)
{
	(void)buf, (void)bytes, (void)root;
	return NK_OK;
}
int nk_dist_gather(const float *send, size_t n, float *recv, size_t room,
		   int root)
{
	(void)root;
	if (n > room)
		return nk_error(NK_ERANGE, "%zu values to gather into %zu", n,
				room);
	if (n)
		memcpy(recv, send, n * sizeof *send);
	return NK_OK;
}
int nk_dist_same(int64_t v) { (void)v; return 1; }

#else

#include <mpi.h>

static int joined, rank_, size_ = 1;
/* The reduce-scatter's receive buffer, kept between calls: the loop sums
 * the same gradient size every step. */
static void *scratch;
static size_t scratch_bytes;

static int mpi_fail(int err, const char *what)
{
	char s[MPI_MAX_ERROR_STRING];
	int len = 0;
	if (MPI_Error_string(err, s, &len) != MPI_SUCCESS)
		len = 0;
	s[len] = 0;
	return nk_error(NK_EIO, "MPI: %s: %s", what, len ? s : "failed");
}

int nk_dist_init(int *argc, char ***argv)
{
	/* Started by a launcher?  A plain process stays out of MPI, so that
	 * it starts as fast and behaves as a build without MPI. */
	if (joined || !(getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
			getenv("PMI_RANK")))
		return NK_OK;
	int err = MPI_Init(argc, argv);
	if (err != MPI_SUCCESS)
		return mpi_fail(err, "MPI_Init");
	/* Errors come back as codes, to be agreed on, not as aborts. */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
	MPI_Comm_size(MPI_COMM_WORLD, &size_);
	joined = 1;
	return NK_OK;
}

void nk_dist_finalize(void)
{
	if (!joined)
		return;
	joined = 0;
	free(scratch);
	scratch = NULL;
	scratch_bytes = 0;
	MPI_Finalize();
}

int nk_dist_joined(void) { return joined; }

void nk_dist_abort(int code)
{
	if (joined)
		MPI_Abort(MPI_COMM_WORLD, code);
}

int nk_dist_rank(void) { return rank_; }
int nk_dist_size(void) { return size_; }

int nk_dist_agree(int rc)
{
	if (!joined || size_ == 1)
		return rc;
	/* The lowest failing rank, or size_ when none failed. */
	int mine = rc ? rank_ : size_, first;
	int err = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN,
				MPI_COMM_WORLD);
	if (err != MPI_SUCCESS)
		return mpi_fail(err, "MPI_Allreduce");
	if (first == size_)
		return NK_OK;
	struct { int code; char msg[1020]; } m;
	memset(&m, 0, sizeof m);
	if (rank_ == first) {
		m.code = rc;
		snprintf(m.msg, sizeof m.msg, "%s", nk_last_error());
	}
	if ((err = MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first,
			     MPI_COMM_WORLD)) != MPI_SUCCESS)
		return mpi_fail(err, "MPI_Bcast");
	m.msg[sizeof m.msg - 1] = 0;
	return nk_error(m.code > 0 && m.code < NK_ERR_COUNT ? m.code : NK_EIO,
			"rank %d: %s", first, m.msg);
}

static void *get_scratch(size_t bytes)
{
	if (bytes > scratch_bytes) {
		void *p = realloc(scratch, bytes);
		if (!p) {
			nk_error(NK_ENOMEM, "out of memory (%zu bytes)", bytes);
			return NULL;
		}
		scratch = p;
		scratch_bytes = bytes;
	}
	return scratch;
}

/* Element counts as MPI's ints, in pieces small enough for them. */
#define PIECE ((size_t)1 << 28)

static int sum_piece(void *buf, int n, MPI_Datatype type, size_t elem)
{
	int N = size_, cnt[N], off[N], rcnt[N], roff[N];
	size_t lo, hi, mlo, mhi;
	for (int r = 0; r < N; r++) {
		nk_dist_share((size_t)n, r, N, &lo, &hi);
		cnt[r] = (int)(hi - lo);
		off[r] = (int)lo;
	}
	nk_dist_share((size_t)n, rank_, N, &mlo, &mhi);
	int mine = (int)(mhi - mlo);
	for (int r = 0; r < N; r++) {
		rcnt[r] = mine;
		roff[r] = r * mine;
	}
	char *recv = get_scratch((size_t)N * (mine ? mine : 1) * elem);
	if (!recv)
		return NK_ENOMEM;
	/* Rank r sends its copy of slice s to rank s... */
	int err = MPI_Alltoallv(buf, cnt, off, type, recv, rcnt, roff, type,
				MPI_COMM_WORLD);
	if (err != MPI_SUCCESS)
		return mpi_fail(err, "MPI_Alltoallv");
	/* ...which adds the N copies in rank order... */
	char *dst = (char *)buf + mlo * elem;
	if (type == MPI_FLOAT) {
		float *d = (float *)dst, *s = (float *)recv;
		for (int i = 0; i < mine; i++) {
			float a = s[i];
			for (int r = 1; r < N; r++)
				a += s[(size_t)r * mine + i];
			d[i] = a;
		}
	} else {
		double *d = (double *)dst, *s = (double *)recv;
		for (int i = 0; i < mine; i++) {
			double a = s[i];
			for (int r = 1; r < N; r++)
				a += s[(size_t)r * mine + i];
			d[i] = a;
		}
	}
	/* ...and every rank gathers the sums. */
	err = MPI_Allgatherv(MPI_IN_PLACE, 0, type, buf, cnt, off, type,
			     MPI_COMM_WORLD);
	if (err != MPI_SUCCESS)
		return mpi_fail(err, "MPI_Allgatherv");
	return NK_OK;
}

static int sum_any(void *buf, size_t n, MPI_Datatype type, size_t elem)
{
	if (!joined || size_ == 1)
		return NK_OK;
	for (size_t i = 0; i < n; i += PIECE) {
		size_t k = n - i < PIECE ? n - i : PIECE;
		int rc = sum_piece((char *)buf + i * elem, (int)k, type, elem);
		if (rc)
			return rc;
	}
	return NK_OK;
}

int nk_dist_sum(float *buf, size_t n)
{
	return sum_any(buf, n, MPI_FLOAT, sizeof *buf);
}

int nk_dist_sum_f64(double *buf, size_t n)
{
	return sum_any(buf, n, MPI_DOUBLE, sizeof *buf);
}

int nk_dist_bcast(void *buf, size_t bytes, int root)
{
	if (!joined || size_ == 1)
		return NK_OK;
	for (size_t i = 0; i < bytes; i += PIECE) {
		size_t k = bytes - i < PIECE ? bytes - i : PIECE;
		int err = MPI_Bcast((char *)buf + i, (int)k, MPI_BYTE, root,
				    MPI_COMM_WORLD);
		if (err != MPI_SUCCESS)
			return mpi_fail(err, "MPI_Bcast");
	}
	return NK_OK;
}

int nk_dist_gather(const float *send, size_t n, float *recv, size_t room,
		   int root)
{
	if (!joined || size_ == 1) {
		if (n > room)
			return nk_error(NK_ERANGE, "%zu values to gather into "
					"%zu", n, room);
		if (n)
			memcpy(recv, send, n * sizeof *send);
		return NK_OK;
	}
	if (n > (size_t)INT32_MAX)
		return nk_error(NK_ERANGE, "MPI: %zu values to gather", n);
	/* Every rank learns every count and root's room, so that all
	 * refuse together a gather that would not fit. */
	int N = size_, cnt[N], off[N];
	long long mine[2] = {(long long)n, (long long)room}, all[2 * N];
	int err = MPI_Allgather(mine, 2, MPI_LONG_LONG, all, 2, MPI_LONG_LONG,
				MPI_COMM_WORLD);
	if (err != MPI_SUCCESS)
		return mpi_fail(err, "MPI_Allgather");
	long long at = 0;
	for (int r = 0; r < N; r++) {
		off[r] = (int)(at < INT32_MAX ? at : 0);
		cnt[r] = (int)all[2 * r];
		at += all[2 * r];
	}
	if (at > INT32_MAX || at > all[2 * root + 1])
		return nk_error(NK_ERANGE, "MPI: %lld values to gather into "
				"%lld", at, all[2 * root + 1]);
	err = MPI_Gatherv(send, (int)n, MPI_FLOAT, recv, cnt, off, MPI_FLOAT,
			  root, MPI_COMM_WORLD);
	if (err != MPI_SUCCESS)
		return mpi_fail(err, "MPI_Gatherv");
	return NK_OK;
}

int nk_dist_same(int64_t v)
{
	if (!joined || size_ == 1)
		return 1;
	long long in[2] = {v, -(long long)v}, out[2];
	if (MPI_Allreduce(in, out, 2, MPI_LONG_LONG, MPI_MAX,
			  MPI_COMM_WORLD) != MPI_SUCCESS)
		return -1;
	return out[0] == -out[1];
}

#endif
