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
 * refused by the loader and written anew.  Copies are written as every
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

#include <sys/stat.h>

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
	if (make_dirs(dir) == 0 && (nk_output_open(&o, path) ||
				    nk_bpe_write_compiled(*out, o.fp) ||
				    nk_output_commit(&o)))
		nk_output_abort(&o);
	nk_error_clear();
	return 0;
}
