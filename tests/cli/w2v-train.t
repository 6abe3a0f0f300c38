# w2v-train golden table: args | stdin | expected stdout | expected exit [| stderr part]
# -e 0 writes the initial vectors: the vocabulary (by count, ties by bytes)
# and the seeded initialisation, without depending on floating-point
# summation order.  Training itself is tested in tests/unit/test_w2v.c and
# tests/t_w2v_gensim.sh.
--version |  | w2v-train (nnkit) 0.1.0\n | 0
-m 1 -d 2 -e 0 -j 1 | b a b\n | 2 2\nb 0.123905 0.277838\na 0.16304 0.292701\n | 0
-m 1 -d 1 -e 0 -j 1 --seed 1 | b a b\n | 2 1\nb 0.247809\na 0.555676\n | 0
-m 1 -d 1 -e 0 -j 1 --save-vocab - | b a b\n | b 2\na 1\n2 1\nb 0.247809\na 0.555676\n | 0
-m 2 -d 1 -e 0 tests/cli/data/w2v-tiny.txt |  | 5 1\nthe 0.247809\ncat 0.555676\ndog 0.32608\non 0.585401\nsat -0.719825\n | 0
# gzip and several files; stdin as "-"
-m 3 -d 1 -e 0 - tests/cli/data/w2v-tiny.txt.gz | dog dog\n | 2 1\nthe 0.247809\ndog 0.555676\n | 0
# word2vec binary: header, "word ", little-endian float32, newline
-b -e 0 -d 1 | a a a a a\n | 1 1\na \xc0\xc1}>\n | 0
# token ids from tokenize encode, with and without words for them
-I -m 1 -d 1 -e 0 -j 1 | 1 2 3\n3 2\n | 3 1\n2 0.247809\n3 0.555676\n1 0.32608\n | 0
-W tests/cli/data/w2v-idwords.txt -m 2 -d 1 -e 0 -j 1 | 1 2 3\n3 2\n | 2 1\nthree 0.247809\ntwo 0.555676\n | 0
# --resume: the saved vocabulary and shape
-r tests/cli/data/w2v-tiny.nkw -e 0 -j 1 tests/cli/data/w2v-tiny.txt |  | 8 3\nthe 0.0413016 0.0926127 0.0543466\ncat 0.0975669 -0.119971 -0.154182\ndog -0.096473 -0.03237 -0.146302\non 0.0976361 -0.058306 0.0918694\nsat 0.0937506 0.0493257 0.0943798\nlog 0.159159 -0.108575 0.0651722\nmat -0.0370195 -0.156666 0.16285\nsaw 0.136769 -0.0269041 -0.038768\n | 0
# Bad input: a clear message, exit 1; other files still processed.
 |  |  | 1 | (stdin): no words in the input
 | \n \n |  | 1 | no words in the input
 | a b a\n |  | 1 | no word occurs 5 times or more (-m 5)
-m 2 -d 1 -e 0 tests/cli/data/no-such-file tests/cli/data/w2v-tiny.txt |  | 5 1\nthe 0.247809\ncat 0.555676\ndog 0.32608\non 0.585401\nsat -0.719825\n | 1 | no-such-file
# A missing input is one message (stderr into stdout to see all of it).
tests/cli/data/no-such-file 2>&1 |  | w2v-train: tests/cli/data/no-such-file: No such file or directory\n | 1
# A full disk names the output and the reason (outputs over one stdio
# buffer, so that the failure comes while writing, not at the flush).
-m 2 -d 200 -e 0 -o /dev/full tests/cli/data/w2v-tiny.txt |  |  | 1 | /dev/full: write failed: No space left on device
-m 2 -d 300 -e 0 -b -o /dev/full tests/cli/data/w2v-tiny.txt |  |  | 1 | /dev/full: write failed: No space left on device
-m 2 -d 200 -e 0 tests/cli/data/w2v-tiny.txt >/dev/full |  |  | 1 | standard output: write failed: No space left on device
tests/cli/data/w2v-long.txt |  |  | 1 | w2v-long.txt:2:4: word of 300 bytes (limit 255)
--read-vocab tests/cli/data/w2v-vocab-bad.txt tests/cli/data/w2v-tiny.txt |  |  | 1 | w2v-vocab-bad.txt:4: expected 'word count'
-I -m 1 | 1 2 x\n |  | 1 | (stdin):1:5: expected a token id
-W tests/cli/data/w2v-vocab-bad.txt | 1\n |  | 1 | w2v-vocab-bad.txt:4: expected 'WORD' or 'WORD ID'
-r tests/cli/data/w2v-toy.vec tests/cli/data/w2v-tiny.txt |  |  | 1 | w2v-toy.vec: not an nnkit weight file
-r tests/cli/data/no-such.nkw tests/cli/data/w2v-tiny.txt |  |  | 1 | no-such.nkw
# Usage errors: exit 2.
-d 0 |  |  | 2 | -d: '0' is not an integer in [1, 10000]
-s 2 |  |  | 2 | -s: '2' is not a number in [0, 1]
-n 0 |  |  | 2 | -n 0 needs -H
-r tests/cli/data/w2v-tiny.nkw -d 5 |  |  | 2 | -d: --resume takes the vocabulary
--no-such-option |  |  | 2 | Try 'w2v-train --help' for more information.
