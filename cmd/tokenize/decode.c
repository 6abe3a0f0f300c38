/* decode.c - tokenize decode: token ids back to text. */
#include "cli.h"
#include "tokenize.h"

#include "formats/tokstream.h"

int cmd_decode(const struct opts *o, int nfiles, char **files)
{
	nk_bpe *b = load_vocab(o);
	char *dash[] = {"-"};
	int status = 0;
	if (nfiles == 0) {
		nfiles = 1;
		files = dash;
	}
	for (int f = 0; f < nfiles; f++) {
		nk_tokreader *r = nk_tokreader_open(files[f]);
		if (!r) {
			cli_warn_lib();
			status = 1;
			continue;
		}
		nk_tokreader_set_max_id(r, nk_bpe_n_vocab(b));
		uint32_t *ids;
		size_t n;
		int rc;
		while ((rc = nk_tokreader_next(r, &ids, &n)) > 0) {
			for (size_t i = 0; i < n; i++) {
				size_t len;
				const unsigned char *t = nk_bpe_token(b, ids[i], &len);
				if (!t) {
					cli_warnx("%s: sequence %llu, id %zu: unknown "
						 "id %u (no token has it)",
						 nk_tokreader_name(r),
						 (unsigned long long)nk_tokreader_seqno(r),
						 i + 1, ids[i]);
					rc = -1;
					break;
				}
				fwrite(t, 1, len, stdout);
			}
			if (rc < 0)
				break;
			if (!o->whole)
				putchar('\n');
		}
		if (rc < 0) {
			if (rc != -1)
				cli_warn_lib();
			status = 1;
		}
		nk_tokreader_close(r);
	}
	nk_bpe_free(b);
	cli_close_stdout();
	return status;
}
