/* check.h - the smallest unit-test harness that does the job.
 *
 * Each test binary prints one line per check group:
 *   PASS name            every CHECK in the group held
 *   FAIL name: why       the first failing CHECK, with file:line
 *   SKIP name: why       a peer or a file the test needs is missing
 * tests/run.sh counts those lines; a binary that crashes counts as a FAIL.
 */
#ifndef NK_CHECK_H
#define NK_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_total;
static int check_group_failed;
static const char *check_group_name;

/* Starts a group; nk_test_end() prints its verdict. */
static inline void nk_test_begin(const char *name)
{
	check_group_name = name;
	check_group_failed = 0;
}

static inline void nk_test_end(void)
{
	if (!check_group_failed)
		printf("PASS %s\n", check_group_name);
	fflush(stdout);
}

static inline void nk_test_skip(const char *name, const char *why)
{
	printf("SKIP %s: %s\n", name, why);
	fflush(stdout);
}

/* Reports only the first failure of a group: later ones are usually
 * consequences of it and would drown the cause. */
#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			if (!check_group_failed)                              \
				printf("FAIL %s: %s:%d: %s\n",                \
				       check_group_name, __FILE__, __LINE__,  \
				       #cond);                                \
			check_group_failed = 1;                               \
			check_failed_total++;                                 \
		}                                                             \
	} while (0)

#define CHECK_MSG(cond, ...)                                                  \
	do {                                                                  \
		if (!(cond)) {                                                \
			if (!check_group_failed) {                            \
				printf("FAIL %s: %s:%d: ", check_group_name,  \
				       __FILE__, __LINE__);                   \
				printf(__VA_ARGS__);                          \
				printf("\n");                                 \
			}                                                     \
			check_group_failed = 1;                               \
			check_failed_total++;                                 \
		}                                                             \
	} while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                             \
	do {                                                                  \
		nk_test_begin(#name);                                         \
		name();                                                       \
		nk_test_end();                                                \
	} while (0)

static inline int nk_test_exit(void)
{
	return check_failed_total ? 1 : 0;
}

#endif
