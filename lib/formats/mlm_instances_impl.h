/* mlm_instances_impl.h - the instance-stream reader's insides, shared by
 * mlm_instances.c (buffering, binary form) and mlm_instances_text.c (the
 * text form).  Not for use outside lib/formats.
 */
#ifndef NK_MLM_INSTANCES_IMPL_H
#define NK_MLM_INSTANCES_IMPL_H

#include "formats/mlm_instances.h"

#include "core/io.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHUNK (1u << 16)
/* The longest text line: T_MAX ids, positions and labels of 10 digits
 * with their separators. */
#define LINE_MAX_BYTES ((size_t)NK_MLM_T_MAX * 3 * 11 + 64)

struct nk_mlm_reader {
	char *name;
	nk_mlm_read_fn fn;
	void *ctx;
	nk_reader *rd;              /* owned when opened by path */
	const unsigned char *mem;   /* memory input */
	size_t mem_size, mem_pos;
	unsigned char *buf;
	size_t cap, p, end;
	uint64_t base;              /* absolute offset of buf[0] */
	int eof, binary, err;
	uint32_t V, T;
	uint64_t count;             /* instances returned */
	int need_header, headers;   /* binary */
	uint32_t crc;               /* binary: since the header */
	uint64_t nrec;              /* binary: records since the header */
	uint32_t *arr;              /* ids, positions, labels */
	uint8_t *types;
	size_t arr_cap, types_cap;
	char msg[512];
};

/* Records a failure (the message names the file) and keeps it, so that
 * every later call reports it again; returns -code. */
int nk_mlmr_fail(nk_mlm_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a failure a lower layer recorded (I/O, allocation). */
int nk_mlmr_fail_lower(nk_mlm_reader *r, int code);
/* Makes at least k unread bytes available at buf + p (fewer only at the
 * end of input); returns how many there are, or -1 on a read error. */
ssize_t nk_mlmr_fill(nk_mlm_reader *r, size_t k);
/* Room for n tokens and m predictions in the reader's arrays. */
int nk_mlmr_room(nk_mlm_reader *r, size_t n, size_t m);
/* The most tokens an instance may have: the caller's T or the format's. */
uint32_t nk_mlmr_tmax(const nk_mlm_reader *r);
/* Hands out the instance in r->arr (ids, positions, labels) after the
 * checks the counts alone could not make; `where` starts messages. */
int nk_mlmr_finish(nk_mlm_reader *r, nk_mlm_instance *in, uint32_t n,
		   uint32_t na, uint32_t nm, int rnext, const char *where);
/* The next text line as an instance: 1, 0 at the end, or -code. */
int nk_mlmr_text_next(nk_mlm_reader *r, nk_mlm_instance *in);

#endif
