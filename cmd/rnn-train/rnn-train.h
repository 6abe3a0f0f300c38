/* rnn-train.h - what the files of rnn-train share: the options and the
 * three subcommands (train.c, sample.c, eval.c); main.c parses. */
#ifndef RNN_TRAIN_H
#define RNN_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "cli_train.h"

struct opts {
	struct cli_train_opts t;   /* train's loop options */
	const char *out, *prime, *length, *temp, *topk;
	int level, cell, L, H, C, B, T, K, threads, quiet, verbose;
	int progress;
	float dropout;
	long long vocab_size;
	uint64_t seed;
};

void usage(FILE *fp);
int cmd_train(struct opts *o, int argc, char **argv);
int cmd_sample(struct opts *o, int argc, char **argv);
int cmd_eval(struct opts *o, int argc, char **argv);

#endif
