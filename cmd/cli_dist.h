/* cli_dist.h - a program as one rank of a data-parallel MPI job (the
 * library's core/dist.h does the communication; this is the part that
 * talks and exits, which the library never does).
 *
 *	cli_dist_init(&argc, &argv);     joins when started by mpirun
 *	cli_dist_check(rc);              a point where ranks may diverge
 *	return cli_dist_end(rc);         every rank, at the end
 *
 * After a failure that the ranks agreed on (cli_dist_check, or a
 * collective's error), rank 0 prints the failing rank's message and every
 * rank leaves MPI and exits 1.  Any other exit while joined (a usage error
 * on one rank, cli_errx) aborts the whole job through MPI_Abort, so that
 * no rank is left waiting in a collective.  Outside MPI all three are the
 * single-process behaviour: cli_dist_check(rc) is cli_die_lib() on
 * failure.
 */
#ifndef CLI_DIST_H
#define CLI_DIST_H

#include "cli.h"
#include "core/dist.h"

static inline void cli_dist_exit_hook(void)
{
	/* Still joined at exit: this rank left without the others. */
	if (nk_dist_joined())
		nk_dist_abort(1);
}

static inline void cli_dist_init(int *argc, char ***argv)
{
	if (nk_dist_init(argc, argv))
		cli_die_lib();
	if (nk_dist_joined())
		atexit(cli_dist_exit_hook);
}

/* Whether this process speaks for the job: rank 0 (or a lone process). */
static inline int cli_dist_root(void)
{
	return nk_dist_rank() == 0;
}

/* A failed agreed status: the message once, from rank 0, and exit 1 on
 * every rank. */
static inline _Noreturn void cli_dist_die(void)
{
	if (cli_dist_root())
		cli_warn_lib();
	nk_dist_finalize();
	exit(1);
}

/* Every rank passes its status; all go on or all exit 1. */
static inline void cli_dist_check(int rc)
{
	if (nk_dist_agree(rc))
		cli_dist_die();
}

static inline int cli_dist_end(int rc)
{
	nk_dist_finalize();
	return rc;
}

#endif
