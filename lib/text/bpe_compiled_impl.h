/* bpe_compiled_impl.h - what the compiled vocabulary's reader
 * (bpe_compiled.c) and writer (bpe_compiled_write.c) share: the layout's
 * constants, the section checksum and the build's table fingerprint.
 * nnkit-bpe(5) describes the format. */
#ifndef NK_BPE_COMPILED_IMPL_H
#define NK_BPE_COMPILED_IMPL_H

#include "text/bpe_impl.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HEADER_SIZE 512
#define ALIGN 64
#define N_SECT 9
#define MAX_SLOTS (1u << 28)
#define MAX_SPEC 65536u
#define MAX_PATTERN 65536u

enum { S_POOL, S_OFF, S_SLOTS, S_PAIR1, S_BYTE, S_PATTERN, S_SPEC, S_SPEC_TEXT,
       S_FILTER };

_Static_assert(sizeof(struct rank_slot) == 16, "rank_slot is 16 bytes on disk");

static inline size_t pad64(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* ---- the checksum ---- */

typedef uint64_t v8u64 __attribute__((vector_size(64)));

struct sum {
	v8u64 s1, s2;
	uint64_t blocks;
};

/* Adds n bytes (a multiple of 64) at p. */
static inline void sum_blocks(struct sum *s, const unsigned char *p, size_t n)
{
	v8u64 s1 = s->s1, s2 = s->s2;
	for (size_t i = 0; i < n; i += ALIGN) {
		v8u64 w;
		memcpy(&w, p + i, sizeof w);
		s1 += w;
		s2 += s1;
	}
	s->s1 = s1;
	s->s2 = s2;
	s->blocks += n / ALIGN;
}

/* Adds n bytes and the zeros that pad them to 64. */
static inline void sum_padded(struct sum *s, const unsigned char *p, size_t n)
{
	size_t whole = n & ~(size_t)(ALIGN - 1);
	sum_blocks(s, p, whole);
	if (whole < n) {
		unsigned char last[ALIGN] = {0};
		memcpy(last, p + whole, n - whole);
		sum_blocks(s, last, ALIGN);
	}
}

/* The checksum of what was summed (FNV-1a of the lanes and the block
 * count), and this build's table layout (bpe_compiled.c). */
uint64_t nk_bpe_compiled_sum_final(const struct sum *s);
uint64_t nk_bpe_layout_fingerprint(void);

#endif
