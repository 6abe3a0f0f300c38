/* fuzz_bert.c - bert-mask's model files: the weight-file container with
 * checksums skipped (so mutations reach the model's own checks), then the
 * schema's sizes, tokens and special ids.  A model that loads must also
 * fill one masked position without touching memory it does not own. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "formats/wfile.h"
#include "models/bert.h"
#include "models/bert_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nk_wfile *f = nk_wfile_read_mem_flags(data, size, "fuzz.nkw",
					      NK_WFILE_NO_CRC);
	if (!f)
		return 0;
	nk_bert_file bf;
	if (nk_bert_file_from_wfile(&bf, f) != NK_OK)
		return 0; /* freed f */
	const nk_bert_config *c = &bf.m.cfg;
	/* Small enough that a fuzzed size cannot make this slow. */
	if ((int64_t)c->V * c->H + (int64_t)c->L * c->H * c->FF < (1 << 20) &&
	    c->P >= 3) {
		nk_bert_run *r = nk_bert_run_new(&bf.m, 1, 3, 1, 0, 0);
		if (r) {
			uint32_t ids[3] = {bf.tok.cls, bf.tok.mask, bf.tok.sep};
			int len = 3;
			int32_t mpos = 1;
			nk_bert_batch b = {1, 3, ids, NULL, &len, 1, &mpos, NULL};
			nk_bert_forward(&bf.m, r, &b, NULL, NULL);
			nk_bert_run_free(r);
		}
	}
	nk_bert_file_free(&bf);
	return 0;
}
