/* train.c - w2v-train's run: the inputs read and told apart, the
 * vocabulary counted (or taken from a file or a saved state), the corpus
 * encoded, the model trained and written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_dist.h"
#include "text/vocab.h"
#include "w2v_train_cmd.h"

static int is_nkw(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && strcmp(path + n - 4, ".nkw") == 0;
}

/* Reads every input: token ids with -I, else whole files; binary token
 * streams among them (tokenize encode -b) become ids too. */
static void load_inputs(struct w2v_cmd *c)
{
	c->in = nk_calloc((size_t)c->nfiles, sizeof *c->in);
	c->ok = nk_calloc((size_t)c->nfiles, 1);
	if (!c->in || !c->ok)
		cli_die_lib();
	if (c->id_words) {
		nk_input wf;
		if (nk_input_load(&wf, c->id_words, 0) ||
		    nk_w2v_names_load(&c->names, &c->nnames, wf.data, wf.size,
				      wf.name))
			cli_die_lib();
		nk_input_free(&wf);
	}
	int streams = 0, loaded = 0;
	for (int i = 0; i < c->nfiles; i++) {
		if (c->ids_in) {
			c->ok[i] = nk_w2v_ids_read(&c->ids, &c->nids, c->files[i]) == 0;
		} else {
			c->ok[i] = nk_input_load(&c->in[i], c->files[i], 0) == 0;
			loaded += c->ok[i];
			streams += c->ok[i] && nk_w2v_is_token_stream(c->in[i].data,
								      c->in[i].size);
		}
		if (!c->ok[i])
			cli_warn_lib();
		c->bad |= !c->ok[i];
	}
	int any = 0;
	for (int i = 0; i < c->nfiles; i++)
		any |= c->ok[i];
	if (!any) /* each failure is reported already */
		exit(1);
	if (streams && streams != loaded)
		cli_errx(1, "binary token streams and text mixed in the input");
	if (!streams)
		return;
	c->ids_in = 1;
	for (int i = 0; i < c->nfiles; i++) {
		if (!c->ok[i])
			continue;
		if (nk_w2v_ids_read_mem(&c->ids, &c->nids, c->in[i].data,
					c->in[i].size, c->in[i].name)) {
			cli_warn_lib();
			c->bad = 1;
		}
		nk_input_free(&c->in[i]);
	}
}

/* The corpus's vocabulary as counted, before -m (sorted; min-count 1
 * keeps every word). */
static void save_counted(nk_vocab *v, const char *path)
{
	nk_output out;
	if (nk_output_open(&out, path))
		cli_die_lib();
	if (nk_vocab_finish(v, 1) || nk_vocab_save(v, out.fp) ||
	    nk_output_commit(&out)) {
		nk_output_abort(&out);
		cli_die_lib();
	}
}

/* A new model over the vocabulary of --read-vocab or of the input. */
static void new_model(struct w2v_cmd *c, nk_w2v *m)
{
	nk_vocab v;
	if (nk_vocab_init(&v, c->max_vocab))
		cli_die_lib();
	if (c->read_vocab) {
		nk_input vf;
		if (nk_input_load(&vf, c->read_vocab, 0) ||
		    nk_vocab_load_mem(&v, vf.data, vf.size, vf.name))
			cli_die_lib();
		nk_input_free(&vf);
	} else if (c->ids_in) {
		if (nk_w2v_count_ids(&v, c->ids, c->nids, c->names, c->nnames))
			cli_die_lib();
	} else {
		for (int i = 0; i < c->nfiles; i++)
			if (c->ok[i] && nk_w2v_count_text(&v, c->in[i].data,
							  c->in[i].size,
							  c->in[i].name)) {
				cli_warn_lib();
				c->ok[i] = 0;
				c->bad = 1;
			}
	}
	if (v.total == 0)
		cli_errx(1, "%s: no words in the input", c->read_vocab ? c->read_vocab
			: c->nfiles == 1 ? (strcmp(c->files[0], "-") ? c->files[0]
					    : "(stdin)")
			: "the input");
	if (c->save_vocab && cli_dist_root())
		save_counted(&v, c->save_vocab);
	if (nk_vocab_finish(&v, c->o.min_count))
		cli_die_lib();
	if (v.n == 0)
		cli_errx(1, "no word occurs %llu times or more (-m %llu)",
			(unsigned long long)c->o.min_count,
			(unsigned long long)c->o.min_count);
	if (nk_w2v_init(m, &c->o, &v))
		cli_die_lib();
	nk_vocab_free(&v);
}

/* The input as word ids of the model's vocabulary; the inputs are freed. */
static void encode(struct w2v_cmd *c, const nk_w2v *m, nk_w2v_corpus *corpus)
{
	if (c->ids_in) {
		if (nk_w2v_encode_ids(corpus, &m->vocab, c->ids, c->nids, c->names,
				      c->nnames))
			cli_die_lib();
		free(c->ids);
		c->ids = NULL;
	} else {
		for (int i = 0; i < c->nfiles; i++) {
			if (c->ok[i] && nk_w2v_encode_text(corpus, &m->vocab,
							   c->in[i].data,
							   c->in[i].size,
							   c->in[i].name)) {
				cli_warn_lib();
				c->bad = 1;
			}
			if (c->ok[i])
				nk_input_free(&c->in[i]);
		}
	}
	nk_w2v_names_free(c->names, c->nnames);
	c->names = NULL;
	free(c->in);
	free(c->ok);
	c->in = NULL;
	c->ok = NULL;
	if (corpus->words == 0)
		cli_errx(1, "no word of the vocabulary in the input");
}

/* The vectors (-o, or stdout unless -S) and the state (-S, or -o x.nkw). */
static void write_outputs(const struct w2v_cmd *c, const nk_w2v *m)
{
	if (c->out_path && is_nkw(c->out_path)) {
		if (nk_w2v_save(m, c->out_path))
			cli_die_lib();
	} else if (c->out_path || !c->save_path) {
		nk_output out;
		if (nk_output_open(&out, c->out_path ? c->out_path : "-"))
			cli_die_lib();
		if (nk_w2v_write_vectors(m, out.fp, c->binary,
					 c->out_path ? c->out_path
						     : "standard output") ||
		    nk_output_commit(&out)) {
			nk_output_abort(&out);
			cli_die_lib();
		}
	}
	if (c->save_path && nk_w2v_save(m, c->save_path))
		cli_die_lib();
}

int w2v_run(struct w2v_cmd *c)
{
	/* Under MPI every rank reads the whole input (the same files at the
	 * same paths) and builds the same vocabulary and model; a rank
	 * that fails here exits, and its exit aborts the job (cli_dist.h). */
	if (!cli_dist_root())
		c->progress = 0, c->verbose = 0;
	load_inputs(c);
	nk_w2v m;
	double t0 = cli_now();
	if (c->resume_path) {
		if (nk_w2v_load(&m, c->resume_path))
			cli_die_lib();
		nk_w2v_resume_opts(&m, &c->o, c->set);
	} else {
		new_model(c, &m);
	}
	nk_w2v_corpus corpus = { 0 };
	encode(c, &m, &corpus);

	struct w2v_progress pr = { .epochs = m.o.epochs };
	cli_progress_init(&pr.bar, c->progress, 0, "words");
	double t1 = cli_now();
	uint64_t words0 = m.words_done;
	cli_dist_check(nk_w2v_train_dist(&m, &corpus, c->sync_words,
					 w2v_on_progress, &pr));
	cli_progress_done(&pr.bar);
	double t2 = cli_now();
	nk_w2v_corpus_free(&corpus);

	/* Rank 0 alone writes; the others wait for it to have done so. */
	if (cli_dist_root())
		write_outputs(c, &m);
	cli_dist_check(NK_OK);
	if (c->verbose) {
		double tw = t2 - t1;
		cli_warnx("%u words, dim %d, %lld epochs done; trained in %.2f s "
			 "(%.2f s in all): %.0f words/s/thread, %d threads",
			 m.V, m.D, (long long)m.epochs_done, tw, cli_now() - t0,
			 tw > 0 ? (double)(m.words_done - words0) / tw / m.o.threads : 0,
			 m.o.threads);
	}
	nk_w2v_free(&m);
	return c->bad;
}
