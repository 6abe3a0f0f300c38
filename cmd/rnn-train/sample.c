/* sample.c - rnn-train sample: text (or token ids) from a model. */
#include "cli.h"
#include "rnn-train.h"

#include "models/charlm_file.h"

/* An integer option given as text (sample's -n shares its letter with
 * train's --steps, so main.c keeps it unparsed). */
static long long int_arg(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end)
		cli_usage_error(usage, "%s: '%s' is not an integer", opt, arg);
	return v;
}

int cmd_sample(struct opts *o, int argc, char **argv)
{
	if (argc != 1)
		cli_usage_error(usage, "sample: one MODEL");
	long long N = 500, topk = 0;
	double temp = 1;
	if (o->length) {
		N = int_arg("--length", o->length);
		if (N < 1 || N > 1000000000)
			cli_usage_error(usage, "--length %lld is out of range "
					"(1 to 1000000000)", N);
	}
	if (o->temp) {
		char *end;
		errno = 0;
		temp = strtod(o->temp, &end);
		if (errno || end == o->temp || *end)
			cli_usage_error(usage, "--temperature: '%s' is not a "
					"number", o->temp);
		if (!(temp > 0 && temp <= 100))
			cli_usage_error(usage, "--temperature %s is out of "
					"range (0 < T <= 100)", o->temp);
	}
	if (o->topk) {
		topk = int_arg("--top-k", o->topk);
		if (topk < 0)
			cli_usage_error(usage, "--top-k %lld is out of range "
					"(0 or more)", topk);
	}
	nk_charlm_file lm;
	if (nk_charlm_file_load(&lm, argv[0]))
		cli_die_lib();
	int tokens = lm.level == NK_LEVEL_TOKENS;
	uint32_t *prime = NULL;
	size_t np = 0;
	if (o->prime && nk_charlm_file_prime_ids(&lm, o->prime, &prime, &np))
		cli_die_lib();
	nk_charlm_sampler *s = nk_charlm_sampler_new(
		&lm.m, o->seed, (float)temp,
		topk > lm.m.cfg.V ? lm.m.cfg.V : (int)topk);
	if (!s)
		cli_die_lib();
	const char *sep = "";
	int last = 0; /* the last byte written */
	if (np) {
		nk_charlm_sampler_feed(s, prime, np);
		if (tokens) {
			for (size_t i = 0; i < np; i++, sep = " ")
				printf("%s%u", sep, prime[i]);
		} else {
			fputs(o->prime, stdout);
		}
	} else {
		uint32_t start = (uint32_t)lm.start_id;
		nk_charlm_sampler_feed(s, &start, 1);
	}
	for (long long i = 0; i < N; i++) {
		uint32_t x = nk_charlm_sampler_next(s);
		if (tokens) {
			printf("%s%u", sep, x);
			sep = " ";
		} else {
			unsigned char b[4];
			int k = nk_text_encode_sym(b, lm.vocab.sym[x], lm.level);
			fwrite(b, 1, (size_t)k, stdout);
			last = b[k - 1];
		}
	}
	/* Token ids are one line; text ends with a newline, unless the
	 * model's last symbol was one (then nothing is added). */
	if (tokens || last != '\n')
		putchar('\n');
	nk_charlm_sampler_free(s);
	free(prime);
	nk_charlm_file_free(&lm);
	cli_close_stdout();
	return 0;
}
