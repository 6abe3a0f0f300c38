# tokenize golden table: args | stdin | expected stdout | expected exit [| stderr part]
# The vocabulary is tests/cli/data/tok-small.tiktoken (+ .json): 293 tokens
# trained by `tokenize train -n 320 -p cl100k -S '<|end|>'` on four lines
# of text; exactness against tiktoken itself is tests/t_tiktoken.sh's job.
# Encode: one line of ids per input line, the newline not encoded.
encode -v tests/cli/data/tok-small.tiktoken | The fox\nthe dog\n | 280 274\n116 257 272\n | 0
encode -v tests/cli/data/tok-small.tiktoken | The fox\n\nthe dog | 280 274\n\n116 257 272\n | 0
encode -v tests/cli/data/tok-small.tiktoken |  |  | 0
encode -v tests/cli/data/tok-small.tiktoken | \n | \n | 0
# -z: the whole input is one text, newlines included.
encode -z -v tests/cli/data/tok-small.tiktoken | The fox\nthe dog\n | 280 274 10 116 257 272 10\n | 0
encode -z -v tests/cli/data/tok-small.tiktoken |  | \n | 0
# Invalid UTF-8 is encoded byte by byte, never an error.
encode -v tests/cli/data/tok-small.tiktoken | \xff\xfe\n | 255 254\n | 0
decode -v tests/cli/data/tok-small.tiktoken | 255 254\n | \xff\xfe\n | 0
# -p overrides the vocabulary's split pattern.
encode -p none -v tests/cli/data/tok-small.tiktoken | the the\n | 116 257 261\n | 0
# A split pattern of one's own (PCRE2): from the side file or --regex;
# the ids are npm tiktoken's for the same ranks and pattern.
encode -v tests/cli/data/tok-small.tiktoken --meta tests/cli/data/tok-regex.json | The fox 123\nthe dog!\n | 280 32 102 111 120 32 49 50 51\n116 257 32 100 111 103 33\n | 0
encode -v tests/cli/data/tok-small.tiktoken --regex '\p{L}+|\p{N}|[^\p{L}\p{N}]+' | The fox 123\nthe dog!\n | 280 32 102 111 120 32 49 50 51\n116 257 32 100 111 103 33\n | 0
encode -z -j 2 -v tests/cli/data/tok-small.tiktoken --meta tests/cli/data/tok-regex.json | The fox\nthe dog | 280 32 102 111 120 10 116 257 32 100 111 103\n | 0
# Text the pattern does not match is kept as pieces of its own.
encode -v tests/cli/data/tok-small.tiktoken --regex '\p{L}+' | fox, 1 | 102 111 120 44 32 49\n | 0
encode -v tests/cli/data/tok-small.tiktoken --regex '(\p{L}' | x |  | 1 | --regex: pattern does not compile: missing closing parenthesis at offset 6
encode -v tests/cli/data/tok-small.tiktoken -p none --regex x | x |  | 2 | give one of -p and --regex
# Decode writes each sequence and a newline; -z no newline.
decode -v tests/cli/data/tok-small.tiktoken | 52 269 259\n83 273\n | 4 wer\nS fo\n | 0
decode -z -v tests/cli/data/tok-small.tiktoken | 52 269 259 10\n | 4 wer\n | 0
decode -v tests/cli/data/tok-small.tiktoken | \n\n | \n\n | 0
# A UTF-8 character split across lines still comes out whole.
decode -z -v tests/cli/data/tok-small.tiktoken | 240\n159 153\n130\n | \xf0\x9f\x99\x82 | 0
# Unknown ids: out of range, or a gap between specials; bad text.
decode -v tests/cli/data/tok-small.tiktoken | 1 2 294\n |  | 1 | (stdin):1:5: token id 294 out of range
decode -v tests/cli/data/tok-small.tiktoken | 1 2\n3 x\n | \x01\x02\n | 1 | (stdin):2:3: expected a token id
# Count: per file (wc style) or per line.
count -v tests/cli/data/tok-small.tiktoken | The fox\nthe dog\n | 5 (stdin)\n | 0
count -l -v tests/cli/data/tok-small.tiktoken | The fox\nthe dog\n\n | 2\n3\n0\n | 0
count -v tests/cli/data/tok-small.tiktoken tests/cli/data/tok-small.json - | x | 209 tests/cli/data/tok-small.json\n1 (stdin)\n210 total\n | 0
count -v tests/cli/data/tok-small.tiktoken tests/cli/data/nonexistent - | x | 1 (stdin)\n1 total\n | 1 | nonexistent
# Special tokens: text (default), allow, fail.
encode -v tests/cli/data/tok-small.tiktoken | a<|end|>b\n | 97 60 124 101 260 124 62 98\n | 0
encode -s text -v tests/cli/data/tok-small.tiktoken | a<|end|>b\n | 97 60 124 101 260 124 62 98\n | 0
encode -s allow -v tests/cli/data/tok-small.tiktoken | a<|end|>b\n | 97 293 98\n | 0
decode -v tests/cli/data/tok-small.tiktoken | 97 293 98\n | a<\x7cend\x7c>b\n | 0
encode -s fail -v tests/cli/data/tok-small.tiktoken | x\na<|end|>b\n | 120\n | 1 | (stdin):2:2: special token '<|end|>'
encode -s sometimes -v tests/cli/data/tok-small.tiktoken |  |  | 2 | not text, allow or fail
# GPT-2's encoder.json + vocab.bpe.
encode --gpt2 tests/cli/data/gpt2-encoder.json,tests/cli/data/gpt2-vocab.bpe | hello world\n | 258 78 261 75 67\n | 0
decode --gpt2 tests/cli/data/gpt2-encoder.json,tests/cli/data/gpt2-vocab.bpe | 258 78 261 75 67 262\n | hello world<\x7cendoftext\x7c>\n | 0
encode --gpt2 tests/cli/data/gpt2-bad-encoder.json,tests/cli/data/gpt2-vocab.bpe | x |  | 1 | gpt2-vocab.bpe:6: merge gives rank 260, but tests/cli/data/gpt2-bad-encoder.json disagrees
encode --gpt2 tests/cli/data/gpt2-encoder.json | x |  | 2 | want ENCODER.json,VOCAB.bpe
# Malformed vocabularies: file:line and exit 1.
encode -v tests/cli/data/tok-bad-b64.tiktoken | x |  | 1 | tok-bad-b64.tiktoken:294:1: bad base64 token
encode -v tests/cli/data/tok-dup-rank.tiktoken | x |  | 1 | tok-dup-rank.tiktoken:294: duplicate rank 200 (first on line 201)
encode -v tests/cli/data/tok-dup-token.tiktoken | x |  | 1 | tok-dup-token.tiktoken:294: duplicate token (rank 293 repeats the bytes of rank 279 on line 280)
encode -v tests/cli/data/tok-gap.tiktoken | x |  | 1 | tok-gap.tiktoken:294: rank 294 out of range (294 tokens need ranks 0..293 without gaps)
encode -v tests/cli/data/tok-no-byte.tiktoken | x |  | 1 | no token for the byte 0x41
encode -v tests/cli/data/tok-bad-pat.tiktoken | x |  | 1 | tok-bad-pat.json:1:12: pat_str: pattern does not compile: missing closing parenthesis at offset 6
encode -v tests/cli/data/nonexistent.tiktoken | x |  | 1 | nonexistent.tiktoken
encode -e cl100k_base -d tests/cli/data/nonexistent | x |  | 1 | NNKIT_TIKTOKEN_DIR
# Usage errors exit 2; help and version exit 0.
 |  |  | 2 | no mode given
frobnicate |  |  | 2 | unknown mode 'frobnicate'
encode -e cl99k | x |  | 2 | unknown encoding 'cl99k'
encode -p perl |  |  | 2 | unknown pattern 'perl'
encode -j 0 |  |  | 2 | -j: '0' is not an integer
encode -e cl100k_base -v x.tiktoken |  |  | 2 | give one of -e, -v and --gpt2
train -o x.tiktoken |  |  | 2 | -n SIZE
train -n 300 |  |  | 2 | -o OUT.tiktoken is required
train -n 100 -o x |  |  | 2 | '100' is not an integer in [256
# An option of another mode is a usage error naming it and the mode,
# before its value is looked at.
encode -o x -v tests/cli/data/tok-small.tiktoken | a\n |  | 2 | -o (--output) does not apply to encode (only to train and compile)
encode -l -v tests/cli/data/tok-small.tiktoken | a\n |  | 2 | -l (--lines) does not apply to encode (only to count)
decode -b -v tests/cli/data/tok-small.tiktoken | 97\n |  | 2 | -b (--binary) does not apply to decode (only to encode)
encode -n 5 -v tests/cli/data/tok-small.tiktoken | a\n |  | 2 | -n (--vocab-size) does not apply to encode (only to train)
count -j 0 -f -v tests/cli/data/tok-small.tiktoken | a\n |  | 2 | -f (--force) does not apply to count (only to encode and compile)
decode -p none -v tests/cli/data/tok-small.tiktoken | 97\n |  | 2 | -p (--pattern) does not apply to decode (only to encode, count, train and compile)
decode -s allow -v tests/cli/data/tok-small.tiktoken | 97\n |  | 2 | -s (--special) does not apply to decode
decode -j 2 -v tests/cli/data/tok-small.tiktoken | 97\n |  | 2 | -j (--threads) does not apply to decode
encode -q -v tests/cli/data/tok-small.tiktoken | a\n |  | 2 | -q (--quiet) does not apply to encode (only to train)
count --no-progress -v tests/cli/data/tok-small.tiktoken | a\n |  | 2 | --no-progress does not apply to count
train -n 300 -o tests/cli/data/nonexistent/x.tiktoken -v tests/cli/data/tok-small.tiktoken | a\n |  | 2 | -v (--vocab) does not apply to train (only to encode, decode, count and compile)
train -n 300 -o tests/cli/data/nonexistent/x.tiktoken -e cl100k_base | a\n |  | 2 | -e (--encoding) does not apply to train
train -n 300 -o tests/cli/data/nonexistent/x.tiktoken -s allow | a\n |  | 2 | -s (--special) does not apply to train
train -n 300 -o tests/cli/data/nonexistent/x.tiktoken -j 2 | a\n |  | 2 | -j (--threads) does not apply to train
train -n 300 -o tests/cli/data/nonexistent/x.tiktoken -b | a\n |  | 2 | -b (--binary) does not apply to train
# train writes nothing when an input cannot be read or holds no text
# (the output's folder does not exist: a run that got as far as writing
# fails otherwise; tests/t_tokenize_train.sh checks that existing files
# stay as they were).
train -q -n 300 -o tests/cli/data/nonexistent/v.tiktoken tests/cli/data/nonexistent | a\n |  | 1 | v.tiktoken not written
train -q -n 300 -o tests/cli/data/nonexistent/v.tiktoken - tests/cli/data/nonexistent | ab ab ab\n |  | 1 | an input could not be read; tests/cli/data/nonexistent/v.tiktoken not written
train -q -n 300 -o tests/cli/data/nonexistent/v.tiktoken |  |  | 1 | no text in the input; tests/cli/data/nonexistent/v.tiktoken not written
train -q -n 300 -o tests/cli/data/nonexistent/v.tiktoken | \n\n\n |  | 1 | no text in the input
# -o - writes the ranks alone; the side file only with --meta.
train -q -n 300 -S '<|end|>' -o - | ab\n |  | 2 | -o - writes only the ranks; give --meta FILE.json for the special tokens (-S)
train -q -n 300 -p cl100k -o - | ab\n |  | 2 | give --meta FILE.json for the split pattern
train -q -n 300 -o - --meta - | ab\n |  | 2 | -o and --meta both name '-'
train -q -n 300 -o tests/cli/data/nonexistent/v.tiktoken --meta tests/cli/data/nonexistent/v.tiktoken | ab\n |  | 2 | -o and --meta both name 'tests/cli/data/nonexistent/v.tiktoken'
train -q -n 300 -o - | \n |  | 1 | train: no text in the input; nothing written
# compile: a vocabulary's tables in one file that -v maps (nnkit-bpe(5));
# tests/t_tokenize_compiled.sh checks the ids against the .tiktoken path.
compile -v tests/cli/data/tok-small.tiktoken |  |  | 2 | compile: -o OUT.nkv is required
compile -v tests/cli/data/tok-small.tiktoken -o tests/cli/data/nonexistent/v.nkv x |  |  | 2 | compile: no input files
compile -z -v tests/cli/data/tok-small.tiktoken -o x |  |  | 2 | -z (--whole) does not apply to compile
compile -s allow -v tests/cli/data/tok-small.tiktoken -o x |  |  | 2 | -s (--special) does not apply to compile
compile -v tests/cli/data/tok-small.tiktoken -o tests/cli/data/nonexistent/v.nkv |  |  | 1 | tests/cli/data/nonexistent/v.nkv
compile -v tests/cli/data/nonexistent.tiktoken -o tests/cli/data/nonexistent/v.nkv |  |  | 1 | tests/cli/data/nonexistent.tiktoken
# A file with the magic is read as compiled, and its damage named.
encode -v tests/cli/data/bad-short.nkv | x\n |  | 1 | tokenize: tests/cli/data/bad-short.nkv: 16 bytes, shorter than the 512-byte header (truncated?)
encode -v tests/cli/data/bad-version.nkv | x\n |  | 1 | tests/cli/data/bad-version.nkv: compiled vocabulary version 9; this tokenize reads version 2: compile it again
decode -v tests/cli/data/bad-crc.nkv | 1\n |  | 1 | tests/cli/data/bad-crc.nkv: header CRC mismatch (the file is damaged)
count -v tests/cli/data/bad-short.nkv --meta tests/cli/data/tok-small.json | x\n |  | 2 | --meta: tests/cli/data/bad-short.nkv is a compiled vocabulary, which holds its pattern and special tokens
--version |  | tokenize (nnkit) 0.1.0\n | 0
