# rnn-train golden table: args | stdin | expected stdout | expected exit [| stderr part]
# Models: tests/cli/data/rnn-tiny.nkw, a 1-layer GRU (H 24) trained on three
# copies of rnn-text.txt at byte level; rnn-tok.nkw, a 1-layer LSTM over
# token ids 0..9 (rnn-tok.txt).  rnn-other.nkw is a weight file of another
# program, rnn-corrupt.nkw one with a damaged byte.  Sampling rows use
# --top-k 1 (the most likely symbol), which does not hang on the last bit
# of a float.  Training, resuming and checkpointing: tests/t_rnn_resume.sh.
--version |  | rnn-train (nnkit) 0.1.0\n | 0
 |  |  | 2 | a command is required
fly |  |  | 2 | unknown command 'fly'
train |  |  | 2 | -o MODEL is required
train -o /tmp/rnn-cli-never.nkw -m cnn |  |  | 2 | --model: 'cnn' is not rnn, lstm or gru
train -o /tmp/rnn-cli-never.nkw -L words |  |  | 2 | --level: 'words'
train -o /tmp/rnn-cli-never.nkw -n -3 |  |  | 2 | --steps
train -o /tmp/rnn-cli-never.nkw -d 1.5 |  |  | 2 | --dropout
train -o /tmp/rnn-cli-never.nkw -c often |  |  | 2 | --checkpoint
train -o /tmp/rnn-cli-never.nkw --vocab-size 10 |  |  | 2 | --vocab-size is for --level tokens
train -o /tmp/rnn-cli-never.nkw -p x |  |  | 2 | --prime, --temperature and --top-k are for sample
# Bad input: empty, shorter than one window, ids beyond the vocabulary.
train -o /tmp/rnn-cli-never.nkw |  |  | 1 | (stdin): empty input
train -L tokens -o /tmp/rnn-cli-never.nkw |  |  | 1 | (stdin): empty input
train -b 2 -T 4 -o /tmp/rnn-cli-never.nkw | hello |  | 1 | too few for 2 streams of one BPTT window
train -L tokens -b 1 -T 8 -o /tmp/rnn-cli-never.nkw | 1 2 3\n4 5\n |  | 1 | too few
train -L tokens --vocab-size 4 -b 1 -T 2 -o /tmp/rnn-cli-never.nkw | 1 2 3\n4 5\n |  | 1 | token id 5 is beyond --vocab-size 4
train -L tokens -o /tmp/rnn-cli-never.nkw | 1 2 x\n |  | 1 | (stdin):1:5
# Sampling: the most likely continuation; token models print ids.
sample -k 1 -n 30 -p 'the' tests/cli/data/rnn-tiny.nkw |  | the mat.\nthe cat sat on the mat.\n | 0
sample -k 1 -n 8 -p '0 2' tests/cli/data/rnn-tok.nkw |  | 0 2 4 6 8 0 2 4 6 8\n | 0
sample -k 1 -n 3 -p 5 tests/cli/data/rnn-tok.nkw |  | 5 7 9 1\n | 0
# Text ends with a newline: added unless the last symbol drawn is one.
sample -k 1 -n 5 -p 'the' tests/cli/data/rnn-tiny.nkw |  | the mat.\n | 0
sample -k 1 -n 6 -p 'the' tests/cli/data/rnn-tiny.nkw |  | the mat.\n | 0
sample -n 0 tests/cli/data/rnn-tiny.nkw |  |  | 2 | --length 0 is out of range
sample -n ten tests/cli/data/rnn-tiny.nkw |  |  | 2 | --length: 'ten' is not an integer
sample -t 0 tests/cli/data/rnn-tiny.nkw |  |  | 2 | --temperature 0 is out of range
sample -t 101 tests/cli/data/rnn-tiny.nkw |  |  | 2 | --temperature 101 is out of range
sample -t -1 tests/cli/data/rnn-tiny.nkw |  |  | 2 | out of range
sample -t warm tests/cli/data/rnn-tiny.nkw |  |  | 2 | not a number
sample -k -2 tests/cli/data/rnn-tiny.nkw |  |  | 2 | --top-k -2 is out of range
sample -k -1 tests/cli/data/rnn-tiny.nkw |  |  | 2 | --top-k -1 is out of range
sample -n 1000000001 tests/cli/data/rnn-tiny.nkw |  |  | 2 | --length 1000000001 is out of range
sample -t nan tests/cli/data/rnn-tiny.nkw |  |  | 2 | --temperature nan is out of range
sample -p Zebra tests/cli/data/rnn-tiny.nkw |  |  | 1 | --prime:1:1: character 'Z' is not in the model's vocabulary
sample -p '0 12' tests/cli/data/rnn-tok.nkw |  |  | 1 | --prime:1:3: token id 12 out of range
sample |  |  | 2 | one MODEL
sample tests/cli/data/rnn-other.nkw |  |  | 1 | a model written by w2v-train, not by rnn-train
sample tests/cli/data/rnn-corrupt.nkw |  |  | 1 | CRC mismatch
sample tests/cli/data/rnn-text.txt |  |  | 1 | rnn-text.txt
sample /nonexistent.nkw |  |  | 1 | /nonexistent.nkw
# Evaluation: loss, bits and perplexity; a bad file of several is reported.
eval tests/cli/data/rnn-tiny.nkw tests/cli/data/rnn-text.txt |  | tests/cli/data/rnn-text.txt: 0.2198 nats/char  0.3171 bits/char  perplexity 1.246  (352 chars)\n | 0
eval tests/cli/data/rnn-tok.nkw | 0 2 4 6 8\n | (stdin): 0.0629 nats/token  0.0908 bits/token  perplexity 1.065  (4 tokens)\n | 0
eval tests/cli/data/rnn-tiny.nkw | the cat\nsat on Zed |  | 1 | (stdin):2:8: character 'Z' is not in the model's vocabulary
eval tests/cli/data/rnn-tok.nkw | 1 2 30\n |  | 1 | (stdin):1:5: token id 30 out of range
eval tests/cli/data/rnn-tiny.nkw /nonexistent tests/cli/data/rnn-text.txt |  | tests/cli/data/rnn-text.txt: 0.2198 nats/char  0.3171 bits/char  perplexity 1.246  (352 chars)\n | 1 | /nonexistent
eval tests/cli/data/rnn-tiny.nkw | t |  | 1 | at least 2
eval tests/cli/data/rnn-other.nkw tests/cli/data/rnn-text.txt |  |  | 1 | w2v-train
train -o - |  |  | 2 | -o needs a file
