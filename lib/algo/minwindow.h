/* minwindow.h - minimum window substring.
 *
 * For a pattern T and a string s, the window is the shortest substring of
 * s that contains every character of T with its multiplicity (T = "aab"
 * needs two a's and one b); among windows of that length the leftmost
 * wins.  Characters are bytes, or UTF-8 code points with NK_MW_UTF8, where
 * "shortest" is counted in code points.
 *
 * One scan with two pointers: O(|s|) per call after an O(|T|) setup, and
 * O(alphabet of T) memory: 256 counters for bytes, a hash map of T's own
 * code points for UTF-8 (characters not in T cost nothing).  A pattern is
 * built once and reused for any number of strings (one per input line).
 */
#ifndef NK_MINWINDOW_H
#define NK_MINWINDOW_H

#include <stddef.h>

enum { NK_MW_UTF8 = 1 }; /* flags for nk_mw_new */

typedef struct nk_mw nk_mw;

typedef struct nk_mw_match {
	/* The window as bytes of s: len == 0 when s has no window (T is
	 * never empty, so a window never is). */
	size_t off, len;
	/* The same window in code points with NK_MW_UTF8 (equal to off and
	 * len in byte mode). */
	size_t cp_off, cp_len;
	/* On NK_EFORMAT: the byte offset in s (or T) of the first byte of
	 * the invalid UTF-8 sequence. */
	size_t bad;
} nk_mw_match;

/* Builds the pattern from T's `tn` bytes.  NK_EINVAL for an empty T;
 * with NK_MW_UTF8, NK_EFORMAT for invalid UTF-8 in T, its byte offset in
 * *bad (may be NULL).  The message reads "invalid UTF-8 at byte offset N". */
int nk_mw_new(nk_mw **out, const void *t, size_t tn, int flags, size_t *bad);
void nk_mw_free(nk_mw *mw);
/* T's length in characters (bytes, or code points with NK_MW_UTF8). */
size_t nk_mw_len(const nk_mw *mw);

/* Finds the window of s[0..n).  NK_OK, with m->len == 0 when there is
 * none; with NK_MW_UTF8, NK_EFORMAT when s is not valid UTF-8 (m->bad is
 * the offset; all of s is checked, before or after the window). */
int nk_mw_find(nk_mw *mw, const void *s, size_t n, nk_mw_match *m);

/* Checks that s[0..n) is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF).  1 when it is; else 0 with *bad (may be NULL)
 * the offset of the first byte of the first invalid sequence. */
int nk_mw_utf8_valid(const void *s, size_t n, size_t *bad);

#endif
