/* utf8.h - well-formed UTF-8, and text made so by replacing what is not.
 *
 * Byte-level BPE tokens are byte strings: a token may hold half of a
 * character, and the bytes of several tokens joined need not be UTF-8.
 * Text meant for people and for JSON is repaired the way tiktoken's
 * decode (Python's errors="replace") and the WHATWG decoder do it: every
 * maximal subpart of an ill-formed sequence becomes one U+FFFD (Unicode
 * 15, section 3.9, "U+FFFD Substitution of Maximal Subparts"). */
#ifndef NK_UTF8_H
#define NK_UTF8_H

#include <stddef.h>

/* The length (1-4) of the well-formed sequence at s[0..n), n >= 1; or 0
 * when ill-formed, with *bad the length of its maximal subpart (1-3),
 * the bytes that one U+FFFD replaces. */
size_t nk_utf8_seq(const unsigned char *s, size_t n, size_t *bad);

/* s[0..n) with each maximal ill-formed subpart replaced by U+FFFD, as a
 * NUL-terminated malloc'd string (its length in *len when len is not
 * NULL); NULL when out of memory.  A NUL byte passes through (it is
 * well-formed) and then ends the C string early: callers that may see
 * one use *len. */
char *nk_utf8_repair(const unsigned char *s, size_t n, size_t *len);

#endif
