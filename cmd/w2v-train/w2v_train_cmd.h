/* w2v_train_cmd.h - what the files of w2v-train(1) share.  Private to
 * cmd/w2v-train/. */
#ifndef W2V_TRAIN_CMD_H
#define W2V_TRAIN_CMD_H

#include <stdint.h>

#include "cli.h"
#include "core/io.h"
#include "models/w2v.h"

struct w2v_cmd {
	nk_w2v_opts o;
	const char *out_path, *save_path, *resume_path;
	const char *save_vocab, *read_vocab, *id_words;
	int binary, force, ids_in, progress, verbose;
	unsigned set;          /* NK_W2V_SET_ALPHA, NK_W2V_SET_MIN_ALPHA */
	uint64_t max_vocab;
	uint64_t sync_words;   /* MPI: average the ranks' models this often */
	char *const *files;    /* the operands, or "-" */
	int nfiles;
	/* The inputs, kept whole (mapped when they are plain files): the
	 * vocabulary is counted on a first pass, ids made on a second. */
	nk_input *in;
	char *ok;              /* ok[i]: file i was read */
	uint32_t *ids;         /* token ids (-I, or binary streams) */
	size_t nids;
	char **names;          /* -W: words for ids */
	size_t nnames;
	int bad;               /* one of several files failed: exit 1 */
};

/* train.c: reads the inputs, trains, writes; returns the exit status. */
int w2v_run(struct w2v_cmd *c);

/* progress.c: the progress line, an nk_w2v_progress_fn. */
struct w2v_progress {
	struct cli_progress bar;
	int epochs;
};
void w2v_on_progress(void *ctx, const nk_w2v_progress *p);

#endif
