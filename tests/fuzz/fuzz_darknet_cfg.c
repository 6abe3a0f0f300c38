/* fuzz_darknet_cfg.c - the darknet cfg parser and the network built on it.
 *
 * Every input is parsed as a cfg; when that succeeds, a network is built
 * from it (shape inference, every getter, the unused-key list).
 * Invariants (a violation aborts):
 *   - a parsed cfg has a section and every key is non-empty, with a line
 *     number within the input's lines;
 *   - a failure leaves a message that names the file;
 *   - a built network's layers have positive output counts and its
 *     parameters add up to what its weights file would hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "formats/darknet_cfg.h"
#include "models/darknet.h"

#define REQUIRE(c)                                                            \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_darknet_cfg: %s:%d: %s\n",       \
				__FILE__, __LINE__, #c);                      \
			abort();                                              \
		}                                                             \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nk_dncfg c;
	int lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (nk_dncfg_parse(&c, (const char *)data, size, "f.cfg")) {
		REQUIRE(strncmp(nk_last_error(), "f.cfg", 5) == 0);
		return 0;
	}
	REQUIRE(c.nsec > 0);
	for (int s = 0; s < c.nsec; s++) {
		REQUIRE(c.sec[s].line >= 1 && c.sec[s].line <= lines);
		for (int k = 0; k < c.sec[s].nkv; k++)
			REQUIRE(c.sec[s].kv[k].key[0] &&
				c.sec[s].kv[k].line >= c.sec[s].line &&
				c.sec[s].kv[k].line <= lines);
	}
	/* Shapes only: a valid cfg may well need gigabytes of parameters. */
	nk_darknet net;
	if (nk_darknet_build_shapes(&net, &c)) {
		REQUIRE(strncmp(nk_last_error(), "f.cfg", 5) == 0);
		return 0;
	}
	size_t total = 0;
	for (int i = 0; i < net.n; i++) {
		REQUIRE(net.l[i].outputs > 0);
		total += net.l[i].nparams;
	}
	REQUIRE(total == net.nparams);
	char **unused;
	size_t n;
	if (nk_dncfg_unused(&net.cfg, &unused, &n) == 0)
		nk_dncfg_lines_free(unused, n);
	nk_darknet_free(&net);
	return 0;
}
