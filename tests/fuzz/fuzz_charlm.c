/* fuzz_charlm.c - rnn-train's inputs: model files and raw text.
 *
 * The first byte picks the parser:
 *   0  a model file (weight-file checksums skipped, so mutations reach the
 *      model's own checks); a model that loads must also evaluate a few
 *      symbols without touching memory it does not own;
 *   1  text at UTF-8 character level, 2 at byte level: what decodes must
 *      encode back to exactly the input bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "models/charlm.h"
#include "models/charlm_file.h"
#include "text/textdata.h"
#include "formats/wfile.h"

static void model(const uint8_t *data, size_t size)
{
	nk_wfile *f = nk_wfile_read_mem_flags(data, size, "fuzz.nkw",
					      NK_WFILE_NO_CRC);
	if (!f)
		return;
	nk_charlm m;
	if (nk_charlm_from_wfile(&m, f) == NK_OK) {
		/* Small enough that a fuzzed size cannot make this slow. */
		if ((int64_t)m.cfg.V * m.cfg.H * m.cfg.L < (1 << 20)) {
			uint32_t ids[6];
			for (int i = 0; i < 6; i++)
				ids[i] = (uint32_t)i % (uint32_t)m.cfg.V;
			double loss;
			size_t count;
			/* A finite loss is never negative.  (Weights from a
			 * file may be NaN or infinite: the loss is then too.) */
			if (nk_charlm_evaluate(&m, ids, 6, 2, 2, &loss, &count) ==
			    NK_OK && count > 0 && isfinite(loss) && loss < 0)
				abort();
		}
		nk_charlm_free(&m);
	}
	nk_wfile_free(f);
}

static void text(const uint8_t *data, size_t size, int level)
{
	uint32_t *syms = NULL;
	size_t n = 0;
	if (nk_text_decode(&syms, &n, data, size, level) != NK_OK)
		return;
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char out[4];
		int k = nk_text_encode_sym(out, syms[i], level);
		if (k < 1 || pos + (size_t)k > size ||
		    memcmp(data + pos, out, (size_t)k) != 0)
			abort(); /* decode then encode must give the input back */
		pos += (size_t)k;
	}
	if (pos != size)
		abort();
	free(syms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: model(data + 1, size - 1); break;
	case 1: text(data + 1, size - 1, NK_LEVEL_CHAR); break;
	default: text(data + 1, size - 1, NK_LEVEL_BYTE); break;
	}
	return 0;
}
