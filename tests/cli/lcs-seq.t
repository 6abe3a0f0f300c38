# lcs-seq golden table: args | stdin | expected stdout | expected exit [| stderr part]
# The problem's examples.
 | [100,4,200,1,3,2] | 4\n | 0
 | [0,3,7,2,5,8,4,6,0,1]\n | 9\n | 0
 | [1,0,1,2] | 3\n | 0
 |  | 0\n | 0
 | [] | 0\n | 0
- | 100 4 200 1 3 2 | 4\n | 0
- | 100,4,\n200, 1 ,3\t2\r\n | 4\n | 0
-s | [100,4,200,1,3,2] | 4 1 4\n | 0
-s | [] | 0\n | 0
-s | 7 7 7 | 1 7 7\n | 0
# Ties: the run with the smallest first value.
-s | 10 11 -5 -4 100 101 | 2 -5 -4\n | 0
# Whole mode: lines, brackets and files all form one array.
 | [1,2]\n[3,4]\n | 4\n | 0
 | [1,\n2,\n3] | 3\n | 0
tests/cli/data/lcs-a.txt tests/cli/data/lcs-b.txt |  | 8\n | 0
-s tests/cli/data/lcs-a.txt - tests/cli/data/lcs-b.txt | 9 10 | 10 1 10\n | 0
tests/cli/data/lcs-lines.txt.gz |  | 9\n | 0
# -l: one answer per line; an empty line or [] gives 0.
-l | [100,4,200,1,3,2]\n[0,3,7,2,5,8,4,6,0,1]\n[1,0,1,2]\n\n[]\n  \n5 6 | 4\n9\n3\n0\n0\n0\n2\n | 0
-l |  |  | 0
-ls | [100,4,200,1,3,2]\n\n9 | 4 1 4\n0\n1 9 9\n | 0
-l tests/cli/data/lcs-lines.txt.gz tests/cli/data/lcs-b.txt |  | 9\n3\n3\n1\n | 0
# The 64-bit edges.
-s | -9223372036854775808 -9223372036854775807 -9223372036854775806 | 3 -9223372036854775808 -9223372036854775806\n | 0
-s | 9223372036854775807,9223372036854775805,9223372036854775806 | 3 9223372036854775805 9223372036854775807\n | 0
-s | 9223372036854775807 -9223372036854775808 | 1 -9223372036854775808 -9223372036854775808\n | 0
 | +5 -0 0 1 0004 3 2 | 6\n | 0
# Bad input: FILE:LINE:COL, exit 1, never an answer.
 | 9223372036854775808 |  | 1 | lcs-seq: (stdin):1:1: integer out of 64-bit range
 | 1 -9223372036854775809 |  | 1 | (stdin):1:3: integer out of 64-bit range
 | 1,,2 |  | 1 | (stdin):1:3: expected a number, found ','
 | ,1 |  | 1 | (stdin):1:1: ',' without a number before it
 | 1,2, |  | 1 | (stdin):1:5: expected a number after ',', found end of input
 | [1,2,] |  | 1 | (stdin):1:6: expected a number, found ']'
 | 1\n [2,3 |  | 1 | (stdin):2:2: unterminated '['
 | 1 2] |  | 1 | (stdin):1:4: unmatched ']'
 | [[1]] |  | 1 | (stdin):1:2: nested '['
 | 1 two 3 |  | 1 | (stdin):1:3: unexpected character 't'
 | 1.5 |  | 1 | (stdin):1:2: unexpected character '.'
 | 3-4 |  | 1 | (stdin):1:2: unexpected character '-'
 | 1 - 2 |  | 1 | (stdin):1:3: expected a digit after '-'
 | 1\x002 |  | 1 | (stdin):1:2: unexpected byte 0x00
- | 1\n2\n3 x |  | 1 | (stdin):3:3: unexpected character 'x'
# -l: the lines before a bad one are answered, the rest of that file is not.
-l | 1 2\n3,,4\n5\n | 2\n | 1 | (stdin):2:3: expected a number, found ','
-l | [1,2\n3]\n |  | 1 | (stdin):1:1: unterminated '['
-l | 1,\n2\n |  | 1 | (stdin):1:3: expected a number after ',', found end of line
# Several files: a bad one is reported, the rest still read, exit 1; without
# -l no answer at all (the array is incomplete).
tests/cli/data/lcs-bad.txt tests/cli/data/lcs-a.txt |  |  | 1 | lcs-seq: tests/cli/data/lcs-bad.txt:2:3: unexpected character 'x'
-l tests/cli/data/lcs-bad.txt tests/cli/data/lcs-a.txt |  | 2\n4\n | 1 | tests/cli/data/lcs-bad.txt:2:3:
-l tests/cli/data/no-such-file tests/cli/data/lcs-a.txt |  | 4\n | 1 | lcs-seq: tests/cli/data/no-such-file:
# The command line.
--version |  | lcs-seq (nnkit) 0.1.0\n | 0
-x |  |  | 2 | Try 'lcs-seq --help' for more information.
-h |  | usage: lcs-seq [-ls] [file ...]\nPrints the length of the longest run of consecutive integers\n(values need not be adjacent; duplicates count once).\nInput: integers separated by blanks, newlines and/or commas,\noptionally in brackets: [100,4,200,1,3,2].  gzip is read as is.\n  -l          each line is its own array: one answer per line\n  -s          also print the run: LENGTH FIRST LAST\n  -h, --help  this text\n      --version\n | 0
--help |  | usage: lcs-seq [-ls] [file ...]\nPrints the length of the longest run of consecutive integers\n(values need not be adjacent; duplicates count once).\nInput: integers separated by blanks, newlines and/or commas,\noptionally in brackets: [100,4,200,1,3,2].  gzip is read as is.\n  -l          each line is its own array: one answer per line\n  -s          also print the run: LENGTH FIRST LAST\n  -h, --help  this text\n      --version\n | 0
# Both algorithms behind NK_LCS_ALGO give the same answers; a bad name is a usage error.
NK_LCS_ALGO=hash -s | [0,3,7,2,5,8,4,6,0,1] | 9 0 8\n | 0
NK_LCS_ALGO=radix -s | [0,3,7,2,5,8,4,6,0,1] | 9 0 8\n | 0
NK_LCS_ALGO=hash | -9223372036854775808 9223372036854775807 -9223372036854775807 | 2\n | 0
NK_LCS_ALGO=bogus |  |  | 2 | NK_LCS_ALGO
