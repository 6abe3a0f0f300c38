/* io.c - inputs from files, stdin and gzip; outputs written atomically. */
#include "core/io.h"
#include "core/base.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
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

/* read(2) returns what a pipe has now, so a consumer fed a line at a time
 * sees each line as it comes; zlib's gzread would wait for a whole buffer.
 * Hence plain input goes through read(2) and gzip through inflate here. */
enum { IN_CAP = 1 << 16 };

struct nk_reader {
	int fd;
	const char *name;
	int gzip, gz_done, eof;
	z_stream zs;
	unsigned char *in;  /* raw bytes from fd */
	size_t in_pos, in_len; /* plain mode: pending probe bytes */
	char *buf;          /* line buffer for nk_reader_getline */
	size_t pos, len, cap;
	int line_eof;
};

static ssize_t read_fd(nk_reader *r, void *buf, size_t n)
{
	ssize_t got;
	do
		got = read(r->fd, buf, n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		nk_error(NK_EIO, "%s: %s", r->name, strerror(errno));
	return got;
}

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
	unsigned char *in = nk_malloc(IN_CAP);
	if (!r || !in) {
		close(fd);
		free(r);
		free(in);
		return NULL;
	}
	r->fd = fd;
	r->in = in;
	r->name = display_name(path);
	/* Probe: enough bytes to see the gzip magic, or the end. */
	while (r->in_len < 2 && (r->in_len == 0 || in[0] == 0x1f)) {
		ssize_t got = read_fd(r, r->in + r->in_len, IN_CAP - r->in_len);
		if (got < 0) {
			nk_reader_close(r);
			return NULL;
		}
		if (got == 0) {
			r->eof = 1;
			break;
		}
		r->in_len += (size_t)got;
	}
	if (r->in_len >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
		r->gzip = 1;
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
			nk_reader_close(r);
			nk_error(NK_ENOMEM, "%s: cannot set up gzip", r->name);
			return NULL;
		}
		r->zs.next_in = r->in;
		r->zs.avail_in = (uInt)r->in_len;
	}
	return r;
}

int nk_reader_pending(nk_reader *r)
{
	if (r->pos < r->len || r->in_pos < r->in_len || r->eof || r->gz_done ||
	    (r->gzip && r->zs.avail_in > 0))
		return 1;
	struct pollfd p = {.fd = r->fd, .events = POLLIN};
	int k;
	do
		k = poll(&p, 1, 0);
	while (k < 0 && errno == EINTR);
	return k != 0; /* an error is for the read to report */
}

const char *nk_reader_name(const nk_reader *r)
{
	return r->name;
}

int nk_reader_is_gzip(const nk_reader *r)
{
	return r->gzip;
}

/* Gives inflate the next bytes of the file; sets eof at its end. */
static int refill_gz(nk_reader *r)
{
	ssize_t got = read_fd(r, r->in, IN_CAP);
	if (got < 0)
		return -1;
	r->eof = got == 0;
	r->zs.next_in = r->in;
	r->zs.avail_in = (uInt)got;
	return 0;
}

static ssize_t inflate_some(nk_reader *r, void *buf, size_t n)
{
	if (n > (1u << 30))
		n = 1u << 30;
	r->zs.next_out = buf;
	r->zs.avail_out = (uInt)n;
	while (r->zs.avail_out == n && !r->gz_done) {
		if (r->zs.avail_in == 0 && !r->eof && refill_gz(r))
			return -1;
		int ret = inflate(&r->zs, Z_NO_FLUSH);
		if (ret == Z_STREAM_END) {
			/* Members joined by cat(1) continue the stream. */
			if (r->zs.avail_in == 0 && !r->eof && refill_gz(r))
				return -1;
			if (r->zs.avail_in == 0)
				r->gz_done = 1;
			else
				inflateReset(&r->zs);
		} else if (ret == Z_BUF_ERROR && r->eof && r->zs.avail_in == 0) {
			nk_error(NK_EFORMAT, "%s: truncated gzip data", r->name);
			return -1;
		} else if (ret != Z_OK && ret != Z_BUF_ERROR) {
			nk_error(NK_EFORMAT, "%s: corrupt gzip data (%s)", r->name,
				 r->zs.msg ? r->zs.msg : "inflate failed");
			return -1;
		}
	}
	return (ssize_t)(n - r->zs.avail_out);
}

static ssize_t raw_read(nk_reader *r, void *buf, size_t n)
{
	if (r->gzip)
		return inflate_some(r, buf, n);
	if (r->in_pos < r->in_len) {
		size_t k = r->in_len - r->in_pos < n ? r->in_len - r->in_pos : n;
		memcpy(buf, r->in + r->in_pos, k);
		r->in_pos += k;
		return (ssize_t)k;
	}
	if (r->eof)
		return 0;
	return read_fd(r, buf, n);
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
			if (r->line_eof)
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
				r->line_eof = 1;
				break;
			}
		}
		char *start = r->buf + r->pos;
		char *nl = memchr(start, '\n', r->len - r->pos);
		size_t take = nl ? (size_t)(nl - start) : r->len - r->pos;
		if (nk_grow((void **)line, cap, n + take + 1, 1))
			return -2;
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
	if (r->gzip)
		inflateEnd(&r->zs);
	int rc = close(r->fd) == 0 ? NK_OK : NK_EIO;
	free(r->in);
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
		/* Doubling, but never past the limit and one byte: the limit's
		 * message, not an allocation of twice it, ends an endless
		 * input (/dev/zero). */
		if (n == cap) {
			size_t want = cap * 2;
			if (max_bytes && want > max_bytes + 1)
				want = max_bytes + 1;
			unsigned char *g = nk_realloc(buf, want);
			if (!g) {
				rc = nk_error(NK_ENOMEM, "%s: out of memory after "
					      "reading %zu bytes", in->name, n);
				break;
			}
			buf = g;
			cap = want;
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

void nk_input_release(const nk_input *in, size_t off, size_t len)
{
	if (!in->map || off >= in->map_size)
		return;
	if (len > in->map_size - off)
		len = in->map_size - off;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t a = (off + page - 1) / page * page, b = (off + len) / page * page;
	if (a < b)
		madvise((char *)in->map + a, b - a, MADV_DONTNEED);
}

/* ---- atomic output ---------------------------------------------------- */

/* Whether path, or the first link it is, points into /dev or /proc. */
static int through_dev_or_proc(const char *path)
{
	char to[64];
	ssize_t k;
	if (strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0)
		return 1;
	if ((k = readlink(path, to, sizeof to - 1)) <= 0)
		return 0;
	to[k] = 0;
	return strncmp(to, "/dev/", 5) == 0 || strncmp(to, "/proc/", 6) == 0;
}

/* The directory part of path ("." when none) and its last component. */
static int split_path(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	size_t len = slash ? (size_t)(slash - path) : 1;
	if (slash && len == 0)
		len = 1; /* "/x": the root */
	*dir = nk_malloc(len + 1);
	if (!*dir)
		return NK_ENOMEM;
	memcpy(*dir, slash ? path : ".", len);
	(*dir)[len] = 0;
	return NK_OK;
}

int nk_same_file(const char *a, const char *b)
{
	if (strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
		return 0;
	struct stat sa, sb;
	int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
	if (ea && eb)
		return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev &&
		       sa.st_ino == sb.st_ino;
	if (ea != eb)
		return 0; /* one exists, the other not: two names */
	/* Neither exists yet: one name in one directory (./z and z). */
	char *da, *db;
	const char *ba, *bb;
	if (split_path(a, &da, &ba))
		return strcmp(a, b) == 0;
	if (split_path(b, &db, &bb)) {
		free(da);
		return strcmp(a, b) == 0;
	}
	int same = strcmp(ba, bb) == 0 &&
		   (strcmp(da, db) == 0 ||
		    (stat(da, &sa) == 0 && stat(db, &sb) == 0 &&
		     sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino));
	free(da);
	free(db);
	return same;
}

int nk_output_open(nk_output *out, const char *path)
{
	memset(out, 0, sizeof *out);
	if (strcmp(path, "-") == 0) {
		out->fp = stdout;
		return NK_OK;
	}
	/* A device or a FIFO (-o /dev/null, -o /dev/stdout, a named pipe)
	 * is written in place: renaming a temporary over it would replace
	 * the device node with a regular file.  So is anything reached
	 * through /dev or /proc: /dev/stdout is a link to /proc/self/fd/1,
	 * which with stdout on a file names that regular file, and a rename
	 * would replace the machine's /dev/stdout link itself. */
	struct stat st;
	int exists = stat(path, &st) == 0;
	if ((exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) ||
	    through_dev_or_proc(path)) {
		if (!(out->path = nk_strdup(path)))
			return NK_ENOMEM;
		if (!(out->fp = fopen(path, "wb"))) {
			int e = errno;
			nk_output_abort(out);
			return nk_error(NK_EIO, "%s: cannot open: %s", path,
					strerror(e));
		}
		return NK_OK;
	}
	/* A symbolic link keeps being one: the file it names is replaced
	 * (model.nkw linked to a versioned file stays linked). */
	char *real = NULL;
	struct stat lst;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && exists &&
	    (real = realpath(path, NULL)))
		path = real;
	/* The temporary lives beside the destination: rename(2) is atomic
	 * only within one file system. */
	size_t n = strlen(path);
	out->path = nk_strdup(path);
	free(real);
	path = out->path ? out->path : "";
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
		/* The message first: path is out->path, which abort frees. */
		int rc = nk_error(NK_EIO, "%s: cannot create: %s", path,
				  strerror(errno));
		free(out->tmp_path);
		out->tmp_path = NULL;
		nk_output_abort(out);
		return rc;
	}
	/* mkstemp makes 0600; give the file the usual umask-governed mode. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	out->fp = fdopen(fd, "wb");
	if (!out->fp) {
		int rc = nk_error(NK_ENOMEM, "%s: cannot open stream", path);
		close(fd);
		nk_output_abort(out);
		return rc;
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
	if (!out->tmp_path) { /* a device or FIFO, written in place */
		if (failed) {
			int rc = nk_error(NK_EIO, "%s: write failed: %s",
					  out->path, strerror(e));
			nk_output_abort(out);
			return rc;
		}
		free(out->path);
		memset(out, 0, sizeof *out);
		return NK_OK;
	}
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
