/* cache.c - the automatic cache of compiled vocabularies.
 *
 * `-e NAME` and `-v FILE.tiktoken` parse the rank file and hash every
 * token at each start (8-10 ms for cl100k_base); a compiled copy maps in
 * about 0.3 ms.  So the first run with a rank file writes its compiled
 * copy under $NNKIT_VOCAB_CACHE, else $XDG_CACHE_HOME/nnkit/vocab, else
 * ~/.cache/nnkit/vocab, and later runs map that instead.  A copy is named
 * by the rank file's base name and a hash of what identifies the
 * sources' contents without reading them: device, inode, size, mtime and
 * ctime (to the nanosecond) of the rank file and of its side file.  Any
 * change to either (an edit, a copy over it, touch) gives a new name; a
 * copy made by a build with another table layout or format version is
 * refused by the loader and written anew.  A rank file that changes
 * leaves its old copies behind (5-11 MB each), so writing a copy also
 * removes all but the newest KEEP copies of rank files of that name
 * (newest by when they were written: a name in use in several places
 * keeps a copy for each of up to KEEP of them).  Copies are written as every
 * output here (temporary file, fsync, rename), so runs in parallel never
 * see half a file.  Anything that goes wrong with the cache (no home, a
 * read-only disk, a damaged copy) is silent and the rank file is read as
 * without it; NNKIT_VOCAB_CACHE set to the empty string turns it off.
 */
#include "cli.h"
#include "tokenize.h"

#include "core/hash.h"
#include "core/io.h"
#include "text/bpe_compiled.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>

enum { KEEP = 4 };

/* The cache's folder in buf, or NULL: off, or no place for it. */
static const char *cache_dir(char *buf, size_t size)
{
	const char *env = getenv("NNKIT_VOCAB_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	if (env)
		n = *env ? snprintf(buf, size, "%s", env) : -1;
	else if (xdg && *xdg == '/')
		n = snprintf(buf, size, "%s/nnkit/vocab", xdg);
	else if (home && *home == '/')
		n = snprintf(buf, size, "%s/.cache/nnkit/vocab", home);
	else
		n = -1;
	return n <= 0 || (size_t)n >= size ? NULL : buf;
}

/* mkdir -p, each new level 0700 (a cache is the user's alone). */
static int make_dirs(char *buf)
{
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			*p = c;
			return -1;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

static uint64_t stat_key(uint64_t h, const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) != 0)
		return nk_fnv1a_step(h, 0);
	uint64_t v[7] = {
		(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
		(uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
		(uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec,
	};
	for (int i = 0; i < 7; i++)
		h = nk_fnv1a_step(h, v[i]);
	return h;
}

/* Whether name is a copy of a rank file called base: "BASE-" then 16
 * hex digits and ".nkv" (BASE cut to 64 bytes, as open_cached names). */
static int copy_of(const char *name, const char *base)
{
	size_t bl = strnlen(base, 64), n = strlen(name);
	if (n != bl + 21 || strncmp(name, base, bl) || name[bl] != '-' ||
	    strcmp(name + bl + 17, ".nkv"))
		return 0;
	for (size_t i = bl + 1; i < bl + 17; i++)
		if (!isxdigit((unsigned char)name[i]))
			return 0;
	return 1;
}

struct copy {
	struct timespec mtime;
	char *name;
};

static int newer_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct copy *)a)->mtime;
	const struct timespec *y = &((const struct copy *)b)->mtime;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	return x->tv_nsec < y->tv_nsec ? 1 : x->tv_nsec > y->tv_nsec ? -1 : 0;
}

/* Removes all but the newest KEEP copies of rank files called base in
 * dir; quietly does what it can. */
static void prune(const char *dir, const char *base)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct copy *c = NULL;
	size_t n = 0, cap = 0;
	char path[4200];
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		if (!copy_of(e->d_name, base) ||
		    snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
		    (int)sizeof path || lstat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		char *name = strdup(e->d_name);
		if (!name || (n == cap && nk_grow((void **)&c, &cap, n + 1,
						  sizeof *c))) {
			free(name);
			break;
		}
		c[n++] = (struct copy){st.st_mtim, name};
	}
	closedir(d);
	if (n > KEEP)
		qsort(c, n, sizeof *c, newer_first);
	for (size_t i = 0; i < n; i++) {
		if (i >= KEEP &&
		    snprintf(path, sizeof path, "%s/%s", dir, c[i].name) <
		    (int)sizeof path)
			unlink(path);
		free(c[i].name);
	}
	free(c);
}

/* Opens rank_path (and meta_path) as nk_bpe_open does, through the
 * cache: 0 and *out, or the error of nk_bpe_open. */
int open_cached(nk_bpe **out, const char *rank_path, const char *meta_path)
{
	char dir[4096], path[4200];
	struct stat st;
	if (stat(rank_path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !cache_dir(dir, sizeof dir))
		return nk_bpe_open(out, rank_path, meta_path);
	const char *base = strrchr(rank_path, '/');
	base = base ? base + 1 : rank_path;
	/* Without --meta, nk_bpe_open reads FOO.json beside FOO.tiktoken
	 * (or FILE.json beside FILE) when it exists: the key follows it
	 * too, there or not, so a side file edited, added or removed
	 * gets a new copy. */
	char side[4200];
	if (!meta_path) {
		size_t n = strlen(rank_path), el = strlen(".tiktoken");
		if (n > el && !strcmp(rank_path + n - el, ".tiktoken"))
			n -= el;
		if (n + 6 > sizeof side)
			return nk_bpe_open(out, rank_path, meta_path);
		memcpy(side, rank_path, n);
		memcpy(side + n, ".json", 6);
	}
	uint64_t key = stat_key(stat_key(nk_fnv1a_str("nnkit vocab cache 1"),
					 rank_path), meta_path ? meta_path : side);
	int n = snprintf(path, sizeof path, "%s/%.64s-%016llx.nkv", dir, base,
			 (unsigned long long)key);
	if (n <= 0 || (size_t)n >= sizeof path)
		return nk_bpe_open(out, rank_path, meta_path);
	if (nk_bpe_path_is_compiled(path) && nk_bpe_open_compiled(out, path, 0) == 0)
		return 0;
	nk_error_clear();   /* absent, or another build's: written anew */
	int rc = nk_bpe_open(out, rank_path, meta_path);
	if (rc)
		return rc;
	nk_output o;
	if (make_dirs(dir) == 0) {
		if (nk_output_open(&o, path) || nk_bpe_write_compiled(*out, o.fp) ||
		    nk_output_commit(&o))
			nk_output_abort(&o);
		else
			prune(dir, base);
	}
	nk_error_clear();
	return 0;
}
