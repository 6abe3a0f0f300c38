# bert-mask golden table: args | stdin | expected stdout | expected exit [| stderr part]
# Usage errors exit 2 before any file is read; training, fill and eval on
# real models are tests/t_bert_mask.sh.
--version |  | bert-mask (nnkit) 0.1.0\n | 0
 |  |  | 2 | a command is required
fly |  |  | 2 | unknown command 'fly'
train |  |  | 2 | -o MODEL is required
train -o - --vocab v.txt |  |  | 2 | -o needs a file
train -o /tmp/bert-cli-never.nkw |  |  | 2 | --vocab VOCAB.txt, --ids N or --tiktoken FILE
train -o /tmp/bert-cli-never.nkw --vocab v.txt --ids 10 |  |  | 2 | --vocab, --ids and --tiktoken exclude each other
mask --tiktoken x.tiktoken --ids 10 |  |  | 2 | exclude each other
vocab --ids 10 |  |  | 2 | vocab: --ids is for mask train
train -o /tmp/bert-cli-never.nkw --ids 10 -H 100 -A 3 |  |  | 2 | --heads 3 does not divide --hidden 100
train -o /tmp/bert-cli-never.nkw --ids 10 --gelu relu |  |  | 2 | --gelu: 'relu' is not erf or tanh
train -o /tmp/bert-cli-never.nkw --ids 10 -p 0 |  |  | 2 | --mask-prob
train -o /tmp/bert-cli-never.nkw --ids 10 --dropout 1 |  |  | 2 | --dropout
train -o /tmp/bert-cli-never.nkw --ids 10 --steps -1 |  |  | 2 | --steps
train -o /tmp/bert-cli-never.nkw --ids 10 -T 2 |  |  | 2 | --seq-len
train -o /tmp/bert-cli-never.nkw --ids 10 --schedule wavy |  |  | 2 | --schedule: 'wavy'
train -o /tmp/bert-cli-never.nkw --ids 10 -k 3 |  |  | 2 | train: --top-k is for fill
train -o /tmp/bert-cli-never.nkw --ids 10 --dupe 3 |  |  | 2 | train: --dupe is for mask
fill |  |  | 2 | -m MODEL is required
fill -m x.nkw --steps 10 |  |  | 2 | fill: --steps is for train
fill -m x.nkw -k 0 |  |  | 2 | --top-k
eval |  |  | 2 | -m MODEL is required
eval -m x.nkw --json |  |  | 2 | eval: --json is for fill
vocab -m x.nkw |  |  | 2 | vocab: --model is for fill eval
mask --vocab v.txt -l 3 |  |  | 2 | mask: --layers is for train
# Models and files that are not what they should be: exit 1, named.
fill -m /nonexistent.nkw x |  |  | 1 | /nonexistent.nkw
fill -m tests/cli/data/rnn-tiny.nkw x |  |  | 1 | a model written by rnn-train, not by bert-mask
eval -m tests/cli/data/rnn-tiny.nkw |  |  | 1 | not by bert-mask
fill -m x.nkw -o y |  |  | 2 | fill: --output is for vocab mask train
mask --ids 10 -T 8 --max-pred 9 |  |  | 2 | --max-pred 9 is more than --seq-len 8
# The shortest sequences: 4, or 5 for two segments (-T 4 --pairs looped
# forever, -T 3 failed only after reading the input).
mask --ids 10 -T 3 |  |  | 2 | --seq-len: '3' is not an integer in [4, 65536]
mask --ids 10 -T 4 --pairs |  |  | 2 | --seq-len 4 is too short for --pairs (5 or more)
# Options that would do nothing are refused, not ignored.
train -o /tmp/bert-cli-never.nkw --ids 300 -w |  |  | 2 | -w needs word boundaries, which --ids lacks
mask --ids 10 --cased |  |  | 2 | --cased is for --vocab
mask --ids 300 -T 16 --text | 0\t3\t2 5 3\t\t\n |  | 2 | (stdin): an instance stream, built and masked already: --seq-len does not apply
# Input kinds by the whole instance syntax: ids may be separated by tabs.
mask --ids 300 --text -T 8 | 1\t2\t3\n | 0\t5\t302 304 2 3 303\t1\t1\n | 0
fill -m tests/cli/bert-mask.t x |  |  | 1 | not an nnkit weight file (a model file begins with "NKWF")
train -o /nonexistent-dir/x.nkw --ids 10 | 1 2 3\n |  | 1 | /nonexistent-dir/x.nkw: cannot create
