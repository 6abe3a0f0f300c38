/* wordpiece_impl.h - what wordpiece.c and wordpiece_train.c share: BERT's
 * basic tokenization (wordpiece_basic.c) into a word list. */
#ifndef NK_WORDPIECE_IMPL_H
#define NK_WORDPIECE_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* Words as UTF-8 in one buffer: word k is buf[off[k] .. off[k] + len[k]). */
struct nk_wp_words {
	unsigned char *buf;
	size_t n_buf, cap_buf;
	uint32_t *off, *len;
	size_t n, cap, cap_len;
};

/* Appends the words of text[0..n) after cleaning, CJK spacing,
 * lower-casing and accent stripping (lower, strip: 0 or 1), split on
 * whitespace and punctuation.  NK_ENOMEM, or NK_ERANGE past 4 GB. */
int nk_wp_basic(struct nk_wp_words *w, const unsigned char *text, size_t n,
		int lower, int strip);
void nk_wp_words_free(struct nk_wp_words *w);

/* The length of the well-formed UTF-8 character at s[0] (n > 0 bytes
 * left) and its code point in *cp; 0 when the byte starts none. */
size_t nk_wp_utf8(const unsigned char *s, size_t n, uint32_t *cp);

#endif
