# w2v-query golden table: args | stdin | expected stdout | expected exit [| stderr part]
# w2v-toy.vec: man:king::woman:queen holds exactly (b - a + c = queen);
# "Queen" is a case variant a little further along the same direction.
--version |  | w2v-query (nnkit) 0.1.0\n | 0
near -k 2 tests/cli/data/w2v-toy.vec king |  | king man 0.7071\nking queen 0.5000\n | 0
near -k 1 tests/cli/data/w2v-toy.vec |  king \n\nwoman\n | king man 0.7071\nwoman Queen 0.7399\n | 0
analogy tests/cli/data/w2v-toy.vec man king woman |  | man king woman Queen 1.2156\n | 0
analogy -n 4 tests/cli/data/w2v-toy.vec man king woman |  | man king woman queen 1.2071\n | 0
analogy -k 2 -m mul tests/cli/data/w2v-toy.vec man king woman |  | man king woman Queen 1.2838\nman king woman queen 1.2803\n | 0
analogy tests/cli/data/w2v-toy.vec | man king woman\n | man king woman Queen 1.2156\n | 0
# binary vectors and a w2v-train state read alike
near -k 1 tests/cli/data/w2v-tiny.bin cat |  | cat saw 0.7137\n | 0
near -k 1 tests/cli/data/w2v-tiny.nkw cat |  | cat saw 0.7137\n | 0
# eval: case ignored, first occurrence wins, case variants of a, b, c
# excluded; questions with a word beyond the cut-off are unseen.
eval tests/cli/data/w2v-toy.vec tests/cli/data/w2v-questions.txt |  | # tests/cli/data/w2v-questions.txt\tcut-off 30000\nsection\tseen\ttotal\t3cosadd\t3cosmul\nfamily\t2\t3\t50.00\t50.00\ngram-x\t1\t1\t100.00\t100.00\nsemantic\t2\t3\t50.00\t50.00\nsyntactic\t1\t1\t100.00\t100.00\ntotal\t3\t4\t66.67\t66.67\n | 0
eval -n 3 tests/cli/data/w2v-toy.vec tests/cli/data/w2v-questions.txt |  | # tests/cli/data/w2v-questions.txt\tcut-off 3\nsection\tseen\ttotal\t3cosadd\t3cosmul\nfamily\t0\t3\t-\t-\ngram-x\t0\t1\t-\t-\nsemantic\t0\t3\t-\t-\nsyntactic\t0\t1\t-\t-\ntotal\t0\t4\t-\t-\n | 0
similarity tests/cli/data/w2v-toy.vec tests/cli/data/w2v-pairs.txt |  | tests/cli/data/w2v-pairs.txt\tspearman 1.0000\tpearson 0.9748\tpairs 4\toov 1\n | 0
# Bad input: exit 1, with FILE:LINE or the byte offset.
near tests/cli/data/w2v-toy.vec nope king |  | king man 0.7071\nking queen 0.5000\nking Queen 0.4757\nking woman 0.0000\nking apple 0.0000\n | 1 | 'nope' is not among the known words
near -k 1 -n 4 tests/cli/data/w2v-toy.vec Queen |  |  | 1 | 'Queen' is not among the cut-off words
near -k 1 tests/cli/data/w2v-toy.vec | king queen\nking\n | king man 0.7071\n | 1 | (stdin):1: expected 1 word, found 2
analogy tests/cli/data/w2v-toy.vec | man king\n |  | 1 | (stdin):1: expected 3 words, found 2
eval tests/cli/data/w2v-toy.vec tests/cli/data/w2v-questions-bad.txt |  |  | 1 | w2v-questions-bad.txt:3: 3 fields, expected 4
similarity tests/cli/data/w2v-toy.vec tests/cli/data/w2v-pairs-bad.txt |  |  | 1 | w2v-pairs-bad.txt:2: more than 3 fields, expected 3
near tests/cli/data/w2v-trunc.bin x |  |  | 1 | w2v-trunc.bin: byte 55: truncated (vector 4 of 8)
near tests/cli/data/w2v-tiny.txt x |  |  | 1 | w2v-tiny.txt:1: expected a header 'WORDS DIMENSIONS'
near tests/cli/data/no-such.vec x |  |  | 1 | no-such.vec
# Text told from binary by its shape: a bad first value is reported by
# line, word and field, not as a binary byte offset.
near tests/cli/data/w2v-nan.vec king |  |  | 1 | w2v-nan.vec:2: word 'man', field 1: 'nan' is not a finite float
near tests/cli/data/w2v-huge.vec king |  |  | 1 | w2v-huge.vec:3: word 'king', field 3: '1e39' is not a finite float
# A last line without its newline is read; a word given twice is refused.
near -k 1 tests/cli/data/w2v-nonl.vec woman |  | woman king 0.5000\n | 0
near tests/cli/data/w2v-dup.vec king |  |  | 1 | w2v-dup.vec:4: word 'man' again (first on line 2)
# near and analogy take words as they are (gensim's most_similar); only
# eval and similarity fold case.
near -k 1 tests/cli/data/w2v-toy.vec KING |  |  | 1 | 'KING' is not among the known words
analogy tests/cli/data/w2v-toy.vec MAN king woman |  |  | 1 | 'MAN' is not among the known words
# similarity needs two known pairs: no nan, exit 1.
similarity tests/cli/data/w2v-toy.vec tests/cli/data/w2v-pairs-one.txt |  |  | 1 | w2v-pairs-one.txt: 1 pair with both words known (1 not), a correlation needs 2 or more
# Usage errors: exit 2.
 |  |  | 2 | a command is needed
foo x |  |  | 2 | 'foo' is not near, analogy, eval or similarity
analogy tests/cli/data/w2v-toy.vec a b |  |  | 2 | give three words
eval tests/cli/data/w2v-toy.vec |  |  | 2 | no QUESTIONS file
near -k 0 tests/cli/data/w2v-toy.vec x |  |  | 2 | -k: '0' is not an integer
analogy -m div tests/cli/data/w2v-toy.vec a b c |  |  | 2 | -m: 'div' is not add or mul
