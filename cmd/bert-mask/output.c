/* output.c - what bert-mask writes besides its models: train's CSV log,
 * kept so that a failed run leaves an existing log as it was, and
 * standard output, with the reason when it could not be written. */
#include "cli.h"
#include "bert-mask.h"

#include <libgen.h>
#include <sys/stat.h>

/* The training loop writes its rows into a memory stream; every step
 * they go on to the file here, so that a write error is caught at once
 * with its errno (stdio forgets it, and the loop goes on to write the
 * model).  The file is a temporary beside the log until the run's first
 * checkpoint: from then on the model file on disk is this run's and the
 * log that describes it takes the old one's place.  A run that fails
 * before (bad data found late, a divergence, a full disk) leaves the old
 * log. */
void bm_log_open(struct bm_log *l, const char *path, int resume)
{
	memset(l, 0, sizeof *l);
	if (!path)
		return;
	l->path = path;
	if (nk_output_open(&l->out, path) ||
	    !(l->mem = open_memstream(&l->buf, &l->size)))
		cli_die_lib();
	/* --resume appends: the old rows first, in both (the loop writes
	 * its header only into an empty stream). */
	FILE *old = resume && strcmp(path, "-") ? fopen(path, "rb") : NULL;
	if (old) {
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, old))) {
			fwrite(chunk, 1, n, l->mem);
			fwrite(chunk, 1, n, l->out.fp);
		}
		if (ferror(old))
			cli_errx(1, "%s: %s", path, strerror(errno));
		fclose(old);
		fflush(l->mem);
		l->done = l->size;
	}
}

FILE *bm_log_stream(const struct bm_log *l)
{
	return l->mem;
}

/* The rows written since the last call, on to the file; 1 with the
 * message printed when that fails. */
static int drain(struct bm_log *l)
{
	if (!l->mem || l->failed)
		return l->failed;
	errno = 0;
	if (fflush(l->mem) != 0)
		cli_errx(1, "out of memory");
	if (l->size > l->done &&
	    (fwrite(l->buf + l->done, 1, l->size - l->done, l->out.fp) !=
		     l->size - l->done || fflush(l->out.fp) != 0)) {
		cli_warnx("%s: write error: %s", l->path,
			  strerror(errno ? errno : EIO));
		l->failed = 1;
		return 1;
	}
	l->done = l->size;
	return 0;
}

int bm_log_step(struct bm_log *l, int saved)
{
	if (drain(l))
		return 1;
	if (!l->mem || !saved || !l->out.tmp_path)
		return 0;
	/* The model file was just replaced: the log follows it.  The stream
	 * stays open on the renamed file. */
	if (fsync(fileno(l->out.fp)) != 0 ||
	    rename(l->out.tmp_path, l->out.path) != 0) {
		cli_warnx("%s: write error: %s", l->path, strerror(errno));
		l->failed = 1;
		return 1;
	}
	free(l->out.tmp_path);
	l->out.tmp_path = NULL;
	return 0;
}

int bm_log_close(struct bm_log *l, int ok)
{
	if (!l->mem)
		return 0;
	int rc = 0;
	if (ok && !drain(l) && nk_output_commit(&l->out)) {
		cli_warn_lib();
		rc = 1;
	}
	if (!ok || l->failed) {
		/* Before its first checkpoint, a failed run removes its
		 * temporary; after it, its rows stay beside its model. */
		if (l->out.tmp_path)
			nk_output_abort(&l->out);
		else if (l->out.fp)
			nk_output_commit(&l->out);
		rc = 1;
	}
	fclose(l->mem);
	free(l->buf);
	memset(l, 0, sizeof *l);
	return rc;
}

/* Checks before a long run that the directory of path (a file to be
 * written there at the end or at checkpoints) takes new files: a typo in
 * -o should not cost the run. */
void bm_check_dir(const char *what, const char *path)
{
	if (!path || strcmp(path, "-") == 0)
		return;
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		cli_errx(1, "%s: is a directory, not a file for %s", path,
			 what);
	/* A device or a FIFO is written in place (nk_output_open). */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return;
	char *copy = strdup(path);
	if (!copy)
		cli_errx(1, "out of memory");
	const char *dir = dirname(copy);
	if (access(dir, W_OK | X_OK) != 0)
		cli_errx(1, "%s: cannot write %s there: %s: %s", path, what,
			 dir, strerror(errno));
	free(copy);
}

/* cli_close_stdout with the reason: a full disk and a closed pipe read
 * differently. */
void bm_close_stdout(void)
{
	errno = 0;
	int failed = ferror(stdout);
	if (fflush(stdout) != 0 || failed)
		cli_errx(1, "write error on standard output: %s",
			 strerror(errno ? errno : EIO));
}
