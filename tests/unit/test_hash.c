/* test_hash.c - FNV-1a vectors, the id table, and nk_grow. */
#include "check.h"
#include "core/base.h"
#include "core/hash.h"
#include "text/textdata.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(fnv1a_vectors)
{
	/* From the FNV reference (Fowler, Noll, Vo): 64-bit FNV-1a. */
	CHECK(nk_fnv1a("", 0) == 0xcbf29ce484222325ULL);
	CHECK(nk_fnv1a("a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(nk_fnv1a("foobar", 6) == 0x85944171f73967e8ULL);
	CHECK(nk_fnv1a_str("") == 0xcbf29ce484222325ULL);
	CHECK(nk_fnv1a_str("foobar") == 0x85944171f73967e8ULL);
	/* Bytes above 0x7f are hashed unsigned. */
	CHECK(nk_fnv1a("\xff", 1) == nk_fnv1a_step(NK_FNV1A_INIT, 0xff));
	CHECK(nk_fnv1a_str("\xe9t\xe9") == nk_fnv1a("\xe9t\xe9", 3));
}

TEST(fnv1a_ids)
{
	/* One step per whole id: the value below was computed by the
	 * formula checkpoints were written with; a change here breaks
	 * every saved rnn-train checkpoint's data_hash. */
	uint32_t ids[] = {1, 2, 3, 4000000000u};
	CHECK(nk_fnv1a_u32(ids, 4) == 0xd9625ab1451da991ULL);
	CHECK(nk_text_hash(ids, 4) == 0xd9625ab1451da995ULL);
	CHECK(nk_fnv1a_u32(ids, 0) == NK_FNV1A_INIT);
	uint32_t a = 0x61;
	CHECK(nk_fnv1a_u32(&a, 1) == nk_fnv1a("a", 1));
}

/* Keys "k0".."k<N-1>" in one buffer; id i is key i. */
static char keys[200000][12];

static int64_t find(const nk_idtab *t, const char *k)
{
	nk_idprobe p = nk_idtab_probe(t, nk_fnv1a_str(k));
	for (uint32_t id; (id = nk_idtab_next(t, &p)) != NK_IDTAB_END;)
		if (strcmp(keys[id], k) == 0)
			return id;
	return -1;
}

TEST(idtab_many)
{
	enum { N = 200000 };
	nk_idtab t;
	CHECK(nk_idtab_init(&t, 4) == 0);
	size_t slots0 = t.mask + 1;
	int ok = 1;
	for (uint32_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "k%u", i);
		ok &= find(&t, keys[i]) == -1;
		ok &= nk_idtab_put(&t, nk_fnv1a_str(keys[i]), i) == 0;
	}
	CHECK(ok);
	CHECK(t.n == N);
	CHECK(t.mask + 1 > slots0);               /* it grew */
	CHECK((t.mask + 1) * 7 >= (size_t)N * 10); /* at most 70% full */
	ok = 1;
	for (uint32_t i = 0; i < N; i++)
		ok &= find(&t, keys[i]) == i;
	CHECK(ok);
	CHECK(find(&t, "k200000") == -1);
	CHECK(find(&t, "") == -1);
	nk_idtab_clear(&t);
	CHECK(t.n == 0 && find(&t, "k5") == -1);
	CHECK(nk_idtab_put(&t, nk_fnv1a_str("k5"), 5) == 0);
	CHECK(find(&t, "k5") == 5 && find(&t, "k6") == -1);
	nk_idtab_free(&t);
	CHECK(t.slot == NULL && find(&t, "k5") == -1);
}

TEST(idtab_collisions)
{
	/* Every key under one hash: the probe must still tell them apart
	 * by the caller's comparison, and ids stay distinct. */
	nk_idtab t;
	CHECK(nk_idtab_init(&t, 0) == 0);
	for (uint32_t i = 0; i < 100; i++) {
		snprintf(keys[i], sizeof keys[i], "c%u", i);
		CHECK(nk_idtab_put(&t, 42, i) == 0);
	}
	int seen[100] = {0}, n = 0;
	nk_idprobe p = nk_idtab_probe(&t, 42);
	for (uint32_t id; (id = nk_idtab_next(&t, &p)) != NK_IDTAB_END; n++)
		if (id < 100)
			seen[id]++;
	CHECK(n == 100);
	for (int i = 0; i < 100; i++)
		CHECK(seen[i] == 1);
	/* A different high half shares no candidates even in the same slot. */
	p = nk_idtab_probe(&t, (uint64_t)43 << 32);
	CHECK(nk_idtab_next(&t, &p) == NK_IDTAB_END);
	CHECK(nk_idtab_put(&t, 1, NK_IDTAB_END) == NK_ERANGE);
	nk_idtab_free(&t);
}

TEST(grow)
{
	int *v = NULL;
	size_t cap = 0;
	CHECK(nk_grow((void **)&v, &cap, 1, sizeof *v) == 0);
	CHECK(v && cap >= 1);
	int ok = 1;
	for (int i = 0; i < 100000; i++) {
		ok &= nk_grow((void **)&v, &cap, (size_t)i + 1, sizeof *v) == 0;
		v[i] = i;
	}
	CHECK(ok && cap >= 100000 && cap < 200000 * 2);
	ok = 1;
	for (int i = 0; i < 100000; i++)
		ok &= v[i] == i;
	CHECK(ok);
	size_t before = cap;
	CHECK(nk_grow((void **)&v, &cap, 10, sizeof *v) == 0 && cap == before);
	/* Overflowing sizes are refused, leaving the buffer as it was. */
	int *keep = v;
	nk_error_clear();
	CHECK(nk_grow((void **)&v, &cap, SIZE_MAX / 2, sizeof *v) == NK_ENOMEM);
	CHECK(v == keep && cap == before);
	CHECK(nk_last_error()[0] != 0);
	CHECK(v[99999] == 99999);
	free(v);
	char *c = NULL;
	size_t cc = 0;
	CHECK(nk_grow((void **)&c, &cc, (size_t)1 << 62, 8) == NK_ENOMEM);
	CHECK(c == NULL && cc == 0);
}

int main(void)
{
	RUN(fnv1a_vectors);
	RUN(fnv1a_ids);
	RUN(idtab_many);
	RUN(idtab_collisions);
	RUN(grow);
	return nk_test_exit();
}
