/* test_io.c - whole inputs, streaming lines, gzip, atomic outputs. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/base.h"
#include "check.h"
#include "core/io.h"

static char dir[] = "/tmp/nk-test-io-XXXXXX";

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");
	fwrite(data, 1, n, fp);
	fclose(fp);
}

static void write_gz(const char *path, const void *data, size_t n)
{
	gzFile gz = gzopen(path, "wb");
	gzwrite(gz, data, (unsigned)n);
	gzclose(gz);
}

static char *path_in(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ % 4];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static int count_dir_entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.');
	closedir(d);
	return n;
}

TEST(input_load_plain_gzip_empty)
{
	nk_input in;
	const char text[] = "hello\nworld";
	write_file(path_in("plain"), text, sizeof text - 1);
	CHECK(nk_input_load(&in, path_in("plain"), 0) == NK_OK);
	CHECK(in.size == 11 && memcmp(in.data, text, 11) == 0);
	CHECK(in.map != NULL); /* a regular file is mapped, not copied */
	nk_input_free(&in);
	write_gz(path_in("gz"), text, sizeof text - 1);
	CHECK(nk_input_load(&in, path_in("gz"), 0) == NK_OK);
	CHECK(in.size == 11 && memcmp(in.data, text, 11) == 0 && !in.map);
	nk_input_free(&in);
	/* Two gzip members joined by cat(1) read as one stream. */
	write_gz(path_in("m1.gz"), "hello\n", 6);
	write_gz(path_in("m2.gz"), "world", 5);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "cat '%s' '%s' > '%s'", path_in("m1.gz"),
		 path_in("m2.gz"), path_in("both.gz"));
	CHECK(system(cmd) == 0);
	CHECK(nk_input_load(&in, path_in("both.gz"), 0) == NK_OK);
	CHECK(in.size == 11 && memcmp(in.data, "hello\nworld", 11) == 0);
	nk_input_free(&in);
	write_file(path_in("empty"), "", 0);
	CHECK(nk_input_load(&in, path_in("empty"), 0) == NK_OK && in.size == 0);
	nk_input_free(&in);
	CHECK(nk_input_load(&in, path_in("plain"), 5) == NK_ERANGE);
	CHECK(nk_input_load(&in, path_in("gz"), 5) == NK_ERANGE);
}

TEST(input_errors_name_the_file)
{
	nk_input in;
	CHECK(nk_input_load(&in, path_in("missing"), 0) == NK_EIO);
	CHECK(strstr(nk_last_error(), "missing: No such file") != NULL);
	CHECK(nk_input_load(&in, dir, 0) == NK_EIO);
	CHECK(strstr(nk_last_error(), "is a directory") != NULL);
	CHECK(nk_reader_open(path_in("missing")) == NULL);
	/* A gzip stream cut short is an error, not a quiet end. */
	char big[5000];
	for (int i = 0; i < 5000; i++)
		big[i] = (char)('a' + (i * 7919) % 26);
	write_gz(path_in("whole.gz"), big, sizeof big);
	FILE *fp = fopen(path_in("whole.gz"), "rb");
	unsigned char buf[8192];
	size_t n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	write_file(path_in("cut.gz"), buf, n / 2);
	CHECK(nk_input_load(&in, path_in("cut.gz"), 0) != NK_OK);
	CHECK_MSG(strstr(nk_last_error(), "cut.gz") != NULL, "%s",
		  nk_last_error());
}

TEST(reader_lines_long_and_unterminated)
{
	/* One line longer than the reader's internal chunk, a CRLF line
	 * (the CR is data), an empty line, and a last line without '\n'. */
	size_t longn = 200000;
	char *text = malloc(longn + 64);
	memset(text, 'x', longn);
	strcpy(text + longn, "\nab\r\n\nlast");
	size_t total = longn + strlen(text + longn);
	for (int gz = 0; gz < 2; gz++) {
		const char *p = path_in(gz ? "lines.gz" : "lines");
		gz ? write_gz(p, text, total) : write_file(p, text, total);
		nk_reader *r = nk_reader_open(p);
		CHECK(r != NULL);
		if (!r)
			continue;
		CHECK(nk_reader_is_gzip(r) == gz);
		char *line = NULL;
		size_t cap = 0;
		int nl;
		CHECK(nk_reader_getline(r, &line, &cap, &nl) == (ssize_t)longn && nl);
		CHECK(line[0] == 'x' && line[longn - 1] == 'x');
		CHECK(nk_reader_getline(r, &line, &cap, &nl) == 3 &&
		      strcmp(line, "ab\r") == 0);
		CHECK(nk_reader_getline(r, &line, &cap, &nl) == 0 && nl);
		CHECK(nk_reader_getline(r, &line, &cap, &nl) == 4 && !nl &&
		      strcmp(line, "last") == 0);
		CHECK(nk_reader_getline(r, &line, &cap, &nl) == -1);
		free(line);
		nk_reader_close(r);
	}
	/* Raw chunked reads see the same bytes. */
	nk_reader *r = nk_reader_open(path_in("lines.gz"));
	size_t got = 0;
	char buf[4096];
	ssize_t k;
	int same = 1;
	while ((k = nk_reader_read(r, buf, sizeof buf)) > 0) {
		same &= memcmp(buf, text + got, (size_t)k) == 0;
		got += (size_t)k;
	}
	CHECK(k == 0 && got == total && same);
	nk_reader_close(r);
	free(text);
}

/* A line written to a pipe must reach the reader before the writer closes
 * it: pipelines fed a line at a time (a REPL, a log tail) depend on it. */
TEST(reader_pipe_line_arrives_before_eof)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	int saved = dup(STDIN_FILENO);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	CHECK(write(fds[1], "12 7\n", 5) == 5);
	alarm(10); /* a reader that waits for more would hang here */
	nk_reader *r = nk_reader_open("-");
	char *line = NULL;
	size_t cap = 0;
	CHECK(r && nk_reader_getline(r, &line, &cap, NULL) == 4);
	CHECK(line && strcmp(line, "12 7") == 0);
	alarm(0);
	close(fds[1]);
	CHECK(nk_reader_getline(r, &line, &cap, NULL) == -1);
	free(line);
	nk_reader_close(r);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

TEST(output_atomic_commit_and_abort)
{
	const char *p = path_in("model.out");
	write_file(p, "old", 3);
	int before = count_dir_entries();
	nk_output out;
	CHECK(nk_output_open(&out, p) == NK_OK);
	fputs("new contents", out.fp);
	/* Until commit, the old file stands. */
	nk_input in;
	nk_input_load(&in, p, 0);
	CHECK(in.size == 3 && memcmp(in.data, "old", 3) == 0);
	nk_input_free(&in);
	nk_output_abort(&out);
	nk_input_load(&in, p, 0);
	CHECK(in.size == 3);
	nk_input_free(&in);
	CHECK(count_dir_entries() == before); /* no temporary left */
	CHECK(nk_output_open(&out, p) == NK_OK);
	fputs("new contents", out.fp);
	CHECK(nk_output_commit(&out) == NK_OK);
	nk_input_load(&in, p, 0);
	CHECK(in.size == 12 && memcmp(in.data, "new contents", 12) == 0);
	nk_input_free(&in);
	CHECK(count_dir_entries() == before);
	struct stat st;
	stat(p, &st);
	CHECK((st.st_mode & 0777) == 0644); /* umask's mode, not mkstemp's 0600 */
	CHECK(nk_output_open(&out, path_in("no/such/dir/file")) == NK_EIO);
	CHECK(strstr(nk_last_error(), "no/such/dir/file") != NULL);
}

/* -o /dev/null or -o a named pipe: written in place, the node kept (a
 * rename over it once turned /dev/null into a regular file). */
TEST(output_to_fifo_in_place)
{
	const char *p = path_in("pipe");
	CHECK(mkfifo(p, 0600) == 0);
	int rd = open(p, O_RDONLY | O_NONBLOCK); /* so the writer's open returns */
	CHECK(rd >= 0);
	int before = count_dir_entries();
	nk_output out;
	CHECK(nk_output_open(&out, p) == NK_OK);
	CHECK(count_dir_entries() == before); /* no temporary beside it */
	fputs("through the pipe", out.fp);
	CHECK(nk_output_commit(&out) == NK_OK);
	char buf[64] = {0};
	CHECK(read(rd, buf, sizeof buf) == 16 && !strcmp(buf, "through the pipe"));
	close(rd);
	struct stat st;
	CHECK(stat(p, &st) == 0 && S_ISFIFO(st.st_mode));
	unlink(p);
	if (stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode)) {
		CHECK(nk_output_open(&out, "/dev/null") == NK_OK);
		fputs("gone", out.fp);
		CHECK(nk_output_commit(&out) == NK_OK);
		CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	}
}

/* Symbolic links stay links.  A link into /proc (as /dev/stdout is, to
 * /proc/self/fd/1) with its descriptor on a regular file is written in
 * place: a rename replaced the link itself (found when a test ran
 * `-o /dev/stdout` with stdout on a file, as root).  A link to a regular
 * file has that file replaced atomically, the link kept. */
TEST(output_through_links)
{
	char target[256], link1[256], link2[256], fdpath[64];
	snprintf(target, sizeof target, "%s", path_in("target.txt"));
	snprintf(link1, sizeof link1, "%s", path_in("via-proc"));
	snprintf(link2, sizeof link2, "%s", path_in("via-link"));
	int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
	CHECK(symlink(fdpath, link1) == 0);
	nk_output out;
	struct stat st;
	CHECK(nk_output_open(&out, link1) == NK_OK);
	fputs("in place", out.fp);
	CHECK(nk_output_commit(&out) == NK_OK);
	CHECK(lstat(link1, &st) == 0 && S_ISLNK(st.st_mode));
	close(fd);
	char buf[64] = {0};
	int rd = open(target, O_RDONLY);
	CHECK(rd >= 0 && read(rd, buf, sizeof buf) == 8 && !strcmp(buf, "in place"));
	close(rd);
	CHECK(symlink("target.txt", link2) == 0);
	CHECK(nk_output_open(&out, link2) == NK_OK);
	fputs("replaced", out.fp);
	CHECK(nk_output_commit(&out) == NK_OK);
	CHECK(lstat(link2, &st) == 0 && S_ISLNK(st.st_mode));
	memset(buf, 0, sizeof buf);
	rd = open(target, O_RDONLY);
	CHECK(rd >= 0 && read(rd, buf, sizeof buf) == 8 && !strcmp(buf, "replaced"));
	close(rd);
	unlink(link1);
	unlink(link2);
	unlink(target);
}

int main(void)
{
	umask(022);
	if (!mkdtemp(dir)) {
		puts("FAIL io: cannot make a temporary directory");
		return 1;
	}
	RUN(input_load_plain_gzip_empty);
	RUN(input_errors_name_the_file);
	RUN(reader_lines_long_and_unterminated);
	RUN(reader_pipe_line_arrives_before_eof);
	RUN(output_atomic_commit_and_abort);
	RUN(output_to_fifo_in_place);
	RUN(output_through_links);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		puts("# could not clean up the temporary directory");
	return nk_test_exit();
}
