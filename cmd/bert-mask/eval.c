/* eval.c - bert-mask eval: a model's masked-token loss, perplexity and
 * top-1 / top-5 accuracy on held-out text, masked with a fixed seed. */
#include "cli.h"
#include "bert-mask.h"

#include "formats/wfile.h"

#include <math.h>

int cmd_eval(struct opts *o, int argc, char **argv)
{
	if (!o->model)
		cli_usage_error(usage, "eval: -m MODEL is required");
	nk_bert_file bf;
	if (nk_bert_file_load(&bf, o->model))
		cli_die_lib();
	struct bm_tok *k = bm_tok_from_model(&bf);
	/* Sequences as long as the model reads unless -T says shorter. */
	if (o->T > bf.m.cfg.P)
		o->T = bf.m.cfg.P;
	struct bm_seqs q;
	bm_read_seqs(&q, k, o, BM_MASK_ALL, argc, argv);
	/* The run's buffers grow with the batch: no bigger than the input. */
	if (q.s.n && (size_t)o->B > q.s.n)
		o->B = (int)q.s.n;
	/* Room for the most masks any sequence has: instances made with a
	 * larger --max-pred bring more than this run's. */
	int maxm = 1;
	for (size_t i = 0; i < q.s.n; i++)
		if ((int)(q.s.moff[i + 1] - q.s.moff[i]) > maxm)
			maxm = (int)(q.s.moff[i + 1] - q.s.moff[i]);
	nk_bert_run *run = nk_bert_run_new(&bf.m, o->B, o->T, o->B * maxm, 0, 0);
	if (!run)
		cli_die_lib();
	double loss;
	int64_t top1, top5, count;
	if (nk_bert_score(&bf.m, run, &q.s, 0, q.s.n, o->B, &loss, &top1,
			  &top5, &count))
		cli_die_lib();
	if (!count)
		cli_errx(1, "%s: nothing to predict",
			 argc == 1 ? argv[0] : "the input");
	double mean = loss / (double)count;
	printf("loss %.4f  perplexity %.3f  top-1 %.4f  top-5 %.4f  (%lld "
	       "masked tokens in %zu sequences)\n", mean, exp(mean),
	       (double)top1 / (double)count, (double)top5 / (double)count,
	       (long long)count, q.s.n);
	nk_bert_run_free(run);
	bm_seqs_free(&q);
	bm_tok_free(k);
	nk_bert_file_free(&bf);
	cli_close_stdout();
	return 0;
}
