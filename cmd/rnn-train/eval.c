/* eval.c - rnn-train eval: a model's loss on each input. */
#include "cli.h"
#include "rnn-train.h"

#include "models/charlm_file.h"
#include "formats/wfile.h"

#include <math.h>

int cmd_eval(struct opts *o, int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error(usage, "eval: MODEL [FILE...]");
	nk_charlm_file lm;
	if (nk_charlm_file_load(&lm, argv[0]))
		cli_die_lib();
	/* The batch shape of training unless -b/-T say otherwise: the loss
	 * depends on it (each stream starts with no context). */
	int64_t B = o->B, T = o->T;
	if (!B && nk_wfile_get_int(lm.f, "batch", &B))
		B = 50;
	if (!T && nk_wfile_get_int(lm.f, "bptt", &T))
		T = 50;
	if (B < 1 || B > 100000 || T < 1 || T > 100000)
		B = 50, T = 50;
	const char *unit = lm.level == NK_LEVEL_TOKENS ? "token" : "char";
	char *stdin_only[] = {"-"};
	char **files = argc > 1 ? argv + 1 : stdin_only;
	int nfiles = argc > 1 ? argc - 1 : 1, rc = 0;
	for (int i = 0; i < nfiles; i++) {
		const char *name = strcmp(files[i], "-") ? files[i] : "(stdin)";
		uint32_t *ids;
		size_t n, cnt;
		double loss;
		if (nk_charlm_file_read_ids(&lm, files[i], &ids, &n)) {
			cli_warn_lib();
			rc = 1;
			continue;
		}
		if (nk_charlm_evaluate(&lm.m, ids, n, (int)B, (int)T, &loss,
				       &cnt)) {
			cli_warnx("%s: %s", name, nk_last_error());
			rc = 1;
			free(ids);
			continue;
		}
		printf("%s: %.4f nats/%s  %.4f bits/%s  perplexity %.3f  "
		       "(%zu %ss)\n", name, loss, unit, loss / M_LN2, unit,
		       exp(loss), cnt, unit);
		free(ids);
	}
	nk_charlm_file_free(&lm);
	cli_close_stdout();
	return rc;
}
