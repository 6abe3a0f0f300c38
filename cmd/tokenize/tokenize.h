/* tokenize.h - what tokenize's files share: the options, the usage text
 * and the vocabulary they name, and a function per subcommand. */
#ifndef TOKENIZE_H
#define TOKENIZE_H

#include "text/bpe.h"

#include <stdio.h>

#ifndef NK_TIKTOKEN_DIR
#define NK_TIKTOKEN_DIR "/usr/local/share/nnkit/tiktoken"
#endif

struct opts {
	const char *encoding, *vocab, *meta, *gpt2, *dir, *out, *regex;
	int pattern, special, whole, binary, force, lines, threads, progress;
	long long vocab_size, min_freq;
	const char *spec[64];
	int n_spec;
};

/* main.c */
void usage(FILE *fp);
/* The vocabulary -e, -v or --gpt2 name, with -p or --regex applied;
 * exits on failure. */
nk_bpe *load_vocab(const struct opts *o);

/* encode.c: encode, and count (count_mode 1 per file, 2 per line). */
int cmd_encode(const struct opts *o, int count_mode, int nfiles, char **files);
/* decode.c */
int cmd_decode(const struct opts *o, int nfiles, char **files);
/* train.c */
int cmd_train(const struct opts *o, int nfiles, char **files);
/* cache.c: nk_bpe_open through the cache of compiled copies. */
int open_cached(nk_bpe **out, const char *rank_path, const char *meta_path);
/* compile.c */
int cmd_compile(const struct opts *o, int nfiles, char **files);

#endif
