/* rnn-train.h - what the files of rnn-train share: the options and the
 * three subcommands (train.c, sample.c, eval.c); main.c parses. */
#ifndef RNN_TRAIN_H
#define RNN_TRAIN_H

#include <stdint.h>
#include <stdio.h>

struct opts {
	const char *out, *log, *prime, *length, *temp, *topk;
	int resume, level, cell, L, H, C, B, T, K, threads, quiet, verbose;
	int progress, sched;
	float dropout, lr, wd, clip, min_lr, val_frac;
	long long steps, warmup, step_size, eval_every, save_every, log_every;
	long long vocab_size;
	uint64_t seed;
	int set_steps;
};

void usage(FILE *fp);
int cmd_train(struct opts *o, int argc, char **argv);
int cmd_sample(struct opts *o, int argc, char **argv);
int cmd_eval(struct opts *o, int argc, char **argv);

#endif
