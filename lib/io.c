/* io.c - inputs from files, stdin and gzip; outputs written atomically. */
#include "io.h"
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char *display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "(stdin)" : path;
}

/* ---- streaming reader ------------------------------------------------ */

struct nk_reader {
	gzFile gz;          /* zlib reads plain files through as they are */
	const char *name;
	char *buf;          /* line buffer for nk_reader_getline */
	size_t pos, len, cap;
	int eof;
};

nk_reader *nk_reader_open(const char *path)
{
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO)
					: open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		nk_error(NK_EIO, "%s: %s", display_name(path), strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		nk_error(NK_EIO, "%s: is a directory", path);
		return NULL;
	}
	nk_reader *r = nk_calloc(1, sizeof *r);
	if (!r) {
		close(fd);
		return NULL;
	}
	r->gz = gzdopen(fd, "rb");
	if (!r->gz) {
		close(fd);
		free(r);
		nk_error(NK_ENOMEM, "%s: cannot set up reader", display_name(path));
		return NULL;
	}
	gzbuffer(r->gz, 1 << 17);
	r->name = display_name(path);
	return r;
}

const char *nk_reader_name(const nk_reader *r)
{
	return r->name;
}

int nk_reader_is_gzip(const nk_reader *r)
{
	return !gzdirect(r->gz);
}

static ssize_t raw_read(nk_reader *r, void *buf, size_t n)
{
	if (n > (1u << 30))
		n = 1u << 30; /* gzread takes an unsigned */
	int got = gzread(r->gz, buf, (unsigned)n);
	if (got < 0) {
		int zerr;
		const char *msg = gzerror(r->gz, &zerr);
		if (zerr == Z_ERRNO)
			msg = strerror(errno);
		nk_error(NK_EIO, "%s: %s", r->name, msg);
		return -1;
	}
	/* A gzip stream cut short reads as a clean end unless we ask. */
	if (got == 0) {
		int zerr;
		const char *msg = gzerror(r->gz, &zerr);
		if (zerr == Z_BUF_ERROR) {
			nk_error(NK_EFORMAT, "%s: truncated gzip data (%s)",
				 r->name, msg);
			return -1;
		}
	}
	return got;
}

ssize_t nk_reader_read(nk_reader *r, void *buf, size_t n)
{
	/* Bytes already buffered by getline come first. */
	if (r->pos < r->len) {
		size_t k = r->len - r->pos < n ? r->len - r->pos : n;
		memcpy(buf, r->buf + r->pos, k);
		r->pos += k;
		return (ssize_t)k;
	}
	return raw_read(r, buf, n);
}

ssize_t nk_reader_getline(nk_reader *r, char **line, size_t *cap,
			  int *had_newline)
{
	size_t n = 0;
	for (;;) {
		if (r->pos == r->len) {
			if (r->eof)
				break;
			if (!r->buf) {
				r->cap = 1 << 16;
				if (!(r->buf = nk_malloc(r->cap)))
					return -2;
			}
			ssize_t got = raw_read(r, r->buf, r->cap);
			if (got < 0)
				return -2;
			r->pos = 0;
			r->len = (size_t)got;
			if (got == 0) {
				r->eof = 1;
				break;
			}
		}
		char *start = r->buf + r->pos;
		char *nl = memchr(start, '\n', r->len - r->pos);
		size_t take = nl ? (size_t)(nl - start) : r->len - r->pos;
		if (n + take + 1 > *cap) {
			size_t want = *cap ? *cap : 256;
			while (want < n + take + 1)
				if (nk_size_mul(&want, want, 2))
					return -2;
			char *bigger = nk_realloc(*line, want);
			if (!bigger)
				return -2;
			*line = bigger;
			*cap = want;
		}
		memcpy(*line + n, start, take);
		n += take;
		r->pos += take;
		if (nl) {
			r->pos++;
			(*line)[n] = '\0';
			if (had_newline)
				*had_newline = 1;
			return (ssize_t)n;
		}
	}
	if (n == 0)
		return -1;
	(*line)[n] = '\0';
	if (had_newline)
		*had_newline = 0;
	return (ssize_t)n;
}

int nk_reader_close(nk_reader *r)
{
	if (!r)
		return NK_OK;
	int rc = gzclose(r->gz) == Z_OK ? NK_OK : NK_EIO;
	free(r->buf);
	free(r);
	return rc;
}

/* ---- whole input ------------------------------------------------------ */

static int is_gzip_file(int fd)
{
	unsigned char magic[2];
	ssize_t got = pread(fd, magic, 2, 0);
	return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

int nk_input_mappable(const char *path)
{
	if (strcmp(path, "-") == 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* whoever opens it next reports why */
	struct stat st;
	int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !is_gzip_file(fd);
	close(fd);
	return ok;
}

int nk_input_load(nk_input *in, const char *path, size_t max_bytes)
{
	memset(in, 0, sizeof *in);
	in->name = display_name(path);
	if (strcmp(path, "-") != 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return nk_error(NK_EIO, "%s: %s", path, strerror(errno));
		struct stat st;
		if (fstat(fd, &st) != 0) {
			close(fd);
			return nk_error(NK_EIO, "%s: %s", path, strerror(errno));
		}
		if (S_ISDIR(st.st_mode)) {
			close(fd);
			return nk_error(NK_EIO, "%s: is a directory", path);
		}
		/* A regular plain file is mapped, never copied. */
		if (S_ISREG(st.st_mode) && !is_gzip_file(fd)) {
			if (max_bytes && (size_t)st.st_size > max_bytes) {
				close(fd);
				return nk_error(NK_ERANGE,
						"%s: %lld bytes, more than the "
						"limit of %zu",
						path, (long long)st.st_size,
						max_bytes);
			}
			in->size = (size_t)st.st_size;
			if (in->size == 0) {
				close(fd);
				in->data = (const unsigned char *)"";
				return NK_OK;
			}
			void *map = mmap(NULL, in->size, PROT_READ, MAP_PRIVATE,
					 fd, 0);
			close(fd);
			if (map == MAP_FAILED)
				return nk_error(NK_EIO, "%s: cannot map: %s",
						path, strerror(errno));
			madvise(map, in->size, MADV_SEQUENTIAL);
			in->map = map;
			in->map_size = in->size;
			in->data = map;
			return NK_OK;
		}
		close(fd);
	}
	/* Pipes, stdin and gzip: read once into a growing buffer. */
	nk_reader *r = nk_reader_open(path);
	if (!r)
		return NK_EIO;
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = nk_malloc(cap);
	int rc = buf ? NK_OK : NK_ENOMEM;
	while (rc == NK_OK) {
		if (n == cap) {
			if (nk_size_mul(&cap, cap, 2)) {
				rc = NK_ENOMEM;
				break;
			}
			unsigned char *bigger = nk_realloc(buf, cap);
			if (!bigger) {
				rc = NK_ENOMEM;
				break;
			}
			buf = bigger;
		}
		ssize_t got = nk_reader_read(r, buf + n, cap - n);
		if (got < 0)
			rc = NK_EIO;
		else if (got == 0)
			break;
		else
			n += (size_t)got;
		if (max_bytes && n > max_bytes)
			rc = nk_error(NK_ERANGE,
				      "%s: more than the limit of %zu bytes",
				      in->name, max_bytes);
	}
	nk_reader_close(r);
	if (rc) {
		free(buf);
		return rc;
	}
	in->owned = buf;
	in->data = buf;
	in->size = n;
	return NK_OK;
}

void nk_input_free(nk_input *in)
{
	if (in->map)
		munmap(in->map, in->map_size);
	free(in->owned);
	memset(in, 0, sizeof *in);
}

/* ---- atomic output ---------------------------------------------------- */

int nk_output_open(nk_output *out, const char *path)
{
	memset(out, 0, sizeof *out);
	if (strcmp(path, "-") == 0) {
		out->fp = stdout;
		return NK_OK;
	}
	/* The temporary lives beside the destination: rename(2) is atomic
	 * only within one file system. */
	size_t n = strlen(path);
	out->path = nk_strdup(path);
	out->tmp_path = nk_malloc(n + 16);
	if (!out->path || !out->tmp_path) {
		nk_output_abort(out);
		return NK_ENOMEM;
	}
	char *slash = strrchr(out->path, '/');
	if (slash)
		snprintf(out->tmp_path, n + 16, "%.*s/.%s.XXXXXX",
			 (int)(slash - out->path), out->path, slash + 1);
	else
		snprintf(out->tmp_path, n + 16, ".%s.XXXXXX", out->path);
	int fd = mkostemp(out->tmp_path, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(out->tmp_path);
		out->tmp_path = NULL;
		nk_output_abort(out);
		return nk_error(NK_EIO, "%s: cannot create: %s", path,
				strerror(e));
	}
	/* mkstemp makes 0600; give the file the usual umask-governed mode. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	out->fp = fdopen(fd, "wb");
	if (!out->fp) {
		close(fd);
		nk_output_abort(out);
		return nk_error(NK_ENOMEM, "%s: cannot open stream", path);
	}
	return NK_OK;
}

static void sync_parent_dir(const char *path)
{
	char *copy = nk_strdup(path);
	if (!copy)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int nk_output_commit(nk_output *out)
{
	if (!out->path) {
		if (fflush(out->fp) != 0 || ferror(out->fp))
			return nk_error(NK_EIO, "write error on standard output: %s",
					strerror(errno));
		return NK_OK;
	}
	int failed = fflush(out->fp) != 0 || ferror(out->fp);
	int e = errno;
	if (!failed && fsync(fileno(out->fp)) != 0 && errno != EINVAL) {
		failed = 1;
		e = errno;
	}
	if (fclose(out->fp) != 0 && !failed) {
		failed = 1;
		e = errno;
	}
	out->fp = NULL;
	if (!failed && rename(out->tmp_path, out->path) != 0) {
		failed = 1;
		e = errno;
	}
	if (failed) {
		int rc = nk_error(NK_EIO, "%s: write failed: %s", out->path,
				  strerror(e));
		nk_output_abort(out);
		return rc;
	}
	sync_parent_dir(out->path);
	free(out->tmp_path);
	free(out->path);
	memset(out, 0, sizeof *out);
	return NK_OK;
}

void nk_output_abort(nk_output *out)
{
	if (out->fp && out->path)
		fclose(out->fp);
	if (out->tmp_path)
		unlink(out->tmp_path);
	free(out->tmp_path);
	free(out->path);
	memset(out, 0, sizeof *out);
}

int nk_is_terminal(FILE *fp)
{
	return isatty(fileno(fp));
}
