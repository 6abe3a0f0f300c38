# t_tokenize_compiled.sh - a compiled vocabulary (tokenize compile,
# nnkit-bpe(5)) gives the bytes the .tiktoken it came from gives:
#   - r50k, cl100k, o200k from ../shared/data/tiktoken (the encodings it
#     holds; a missing one is SKIP): TestPlans.txt's samples, 1 MB of sotu.txt, crafted text
#     (scripts, digits, spaces, special tokens' text, invalid UTF-8), in
#     every output form (per line, -z -b, count -l, -s allow, -j 2) and
#     decode of the same ids;
#   - the small test vocabulary with its side file, and with a pattern of
#     one's own (PCRE2), recorded in the compiled file; -p still overrides;
#   - compile writes atomically: a failure leaves the old file as it was;
#   - a damaged file is named with what is wrong (exit 1), and compile,
#     which checks every table, refuses damage that a run need not read;
#   - the automatic cache of compiled copies (NNKIT_VOCAB_CACHE).
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
D=../shared/data/tiktoken
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { if [ "$1" = 0 ]; then echo "PASS $2"; else echo "FAIL $2: $3"; fi; }
# The .tiktoken side of each comparison reads the rank file itself.
export NNKIT_VOCAB_CACHE=

# Crafted text, seeded: words, numbers, spaces, newlines, several scripts,
# emoji, special tokens' text, and a sprinkle of invalid bytes.
LC_ALL=C awk 'BEGIN { srand(20261206);
	split("the| The|ing|  |    |\t|123|4567890| 3.14|don'\''t|'\''LL|!?|...|caf\303\251|\344\270\255\346\226\207|\360\237\230\200|\320\237\321\200\320\270|<|endoftext|>|<|fim_prefix|>|\377|\303|----------|int main(void) {|aaaaaaaaaaaaaaaaaaaaaaa", p, "|");
	for (i = 0; i < 40000; i++) { printf "%s", p[1 + int(rand() * length(p))]; if (rand() < 0.05) printf "\n" } }' >"$tmp/crafted"
head -c 1000000 ../shared/data/sotu.txt >"$tmp/sotu" 2>/dev/null || : >"$tmp/sotu"
grep '^Sample: ' "$D/TestPlans.txt" 2>/dev/null | sed 's/^Sample: //' >"$tmp/plans"

# Every output form with vocabulary A and B: the same bytes.
same_forms() { # name "vocab A args" "vocab B args" files...
	local name=$1 a=$2 b=$3 bad= f form
	# decode takes no pattern
	local da db
	da=$(printf '%s' "$a" | sed -E 's/ (-p|--regex) [^ ]+//g')
	db=$(printf '%s' "$b" | sed -E 's/ (-p|--regex) [^ ]+//g')
	shift 3
	for f in "$@"; do
		for form in "encode" "encode -z -b -f" "count -l" "encode -s allow" "encode -j 2"; do
			# shellcheck disable=SC2086
			tokenize $form $a "$f" >"$tmp/want" 2>&1
			# shellcheck disable=SC2086
			tokenize $form $b "$f" 2>&1 | cmp -s - "$tmp/want" || bad="$bad ${f##*/}/$form"
		done
		# shellcheck disable=SC2086
		tokenize encode -s allow $a "$f" >"$tmp/ids"
		# shellcheck disable=SC2086
		tokenize decode $da "$tmp/ids" >"$tmp/want"
		# shellcheck disable=SC2086
		tokenize decode $db "$tmp/ids" | cmp -s - "$tmp/want" || bad="$bad ${f##*/}/decode"
	done
	[ -z "$bad" ]
	ok $? "$name" "differs:$bad"
}

for enc in r50k_base cl100k_base o200k_base; do
	if [ ! -f "$D/$enc.tiktoken" ]; then
		echo "SKIP compiled-same $enc: no $enc.tiktoken in $D"
		continue
	fi
	if ! tokenize compile -e $enc -d $D -o "$tmp/$enc.nkv" 2>"$tmp/err"; then
		echo "FAIL compiled-same $enc: compile: $(cat "$tmp/err")"
		continue
	fi
	files="$tmp/crafted"
	[ -s "$tmp/plans" ] && files="$files $tmp/plans"
	[ -s "$tmp/sotu" ] && files="$files $tmp/sotu"
	# shellcheck disable=SC2086
	same_forms "compiled-same $enc" "-e $enc -d $D" "-v $tmp/$enc.nkv" $files
done

# The small vocabulary, its side file's pattern and special token, a
# pattern of one's own, and -p over a compiled file.
V=tests/cli/data/tok-small.tiktoken
tokenize compile -v $V -o "$tmp/small.nkv" &&
tokenize compile -v $V --meta tests/cli/data/tok-regex.json -o "$tmp/regex.nkv" &&
tokenize compile -v $V --regex '\p{L}+|\p{N}' -o "$tmp/own.nkv"
ok $? compiled-small-compile "compile failed"
same_forms compiled-small "-v $V" "-v $tmp/small.nkv" "$tmp/crafted"
same_forms compiled-small-regex "-v $V --meta tests/cli/data/tok-regex.json" "-v $tmp/regex.nkv" "$tmp/crafted"
same_forms compiled-small-own-pattern "-v $V --regex \p{L}+|\p{N}" "-v $tmp/own.nkv" "$tmp/crafted"
same_forms compiled-small-p-none "-v $V -p none" "-v $tmp/small.nkv -p none" "$tmp/crafted"
# Compiling a compiled file gives the same bytes.
tokenize compile -v "$tmp/regex.nkv" -o "$tmp/again.nkv" && cmp -s "$tmp/regex.nkv" "$tmp/again.nkv"
ok $? compiled-recompile "compile of the compiled file differs"

# Atomic: a failed compile leaves the old file; the temp file is gone.
cp "$tmp/small.nkv" "$tmp/keep.nkv"
tokenize compile -v tests/cli/data/tok-regex.json -o "$tmp/keep.nkv" 2>/dev/null
rc=$?
[ $rc = 1 ] && cmp -s "$tmp/small.nkv" "$tmp/keep.nkv" && [ "$(ls "$tmp" | grep -c keep)" = 1 ]
ok $? compiled-atomic "exit $rc, or the old file changed, or a temp file is left: $(ls "$tmp")"

# Damage: a cut file, a changed byte in the offsets (read at every
# start), and one in the rank table (read only by compile, which checks
# all).  Offsets from nnkit-bpe(5): section k's entry at 64 + 24k.
sect() { od -An -t u8 -j $((64 + 24 * $2)) -N 8 "$1" | tr -d ' '; }
flip() { # file offset
	printf "$(printf '\\%03o' $(( ($(od -An -t u1 -j "$2" -N 1 "$1") ^ 1) )))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
head -c 5000 "$tmp/small.nkv" >"$tmp/cut.nkv"
out=$(echo x | tokenize encode -v "$tmp/cut.nkv" 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"$tmp/cut.nkv: 5000 bytes where the header says"*"(truncated)"* ]]
ok $? compiled-truncated "exit $rc: $out"
cp "$tmp/small.nkv" "$tmp/off.nkv"
flip "$tmp/off.nkv" $(( $(sect "$tmp/off.nkv" 1) + 41 ))
out=$(echo x | tokenize encode -v "$tmp/off.nkv" 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"$tmp/off.nkv: "*offsets* ]]
ok $? compiled-damaged-offsets "exit $rc: $out"
cp "$tmp/small.nkv" "$tmp/slots.nkv"
flip "$tmp/slots.nkv" $(( $(sect "$tmp/slots.nkv" 2) + 16 * 7 + 3 ))
out=$(tokenize compile -v "$tmp/slots.nkv" -o "$tmp/x.nkv" 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"$tmp/slots.nkv: checksum mismatch in the rank table"* ]] && [ ! -e "$tmp/x.nkv" ]
ok $? compiled-damaged-table "exit $rc: $out"

# The automatic cache: the first run with a rank file writes a compiled
# copy, later runs map it, with the same output; a change to the rank
# file gives a new copy; a damaged copy is ignored and written anew; an
# empty NNKIT_VOCAB_CACHE writes nothing, and a cache that cannot be
# written is no error.
mkdir "$tmp/c" && cp $V tests/cli/data/tok-small.json "$tmp/c/"
export NNKIT_VOCAB_CACHE="$tmp/cache"
want=$(tokenize encode -v "$tmp/c/tok-small.tiktoken" "$tmp/crafted" | md5sum)
n1=$(ls "$tmp/cache" 2>/dev/null | wc -l)
got=$(tokenize encode -v "$tmp/c/tok-small.tiktoken" "$tmp/crafted" | md5sum)
n2=$(ls "$tmp/cache" | wc -l)
f=$(ls "$tmp/cache"/tok-small.tiktoken-*.nkv 2>/dev/null)
[ "$n1" = 1 ] && [ "$n2" = 1 ] && [ "$got" = "$want" ] && [ -n "$f" ] &&
	[ "$(head -c 4 "$f")" = NKBV ] &&
	[ "$(NNKIT_VOCAB_CACHE= tokenize encode -v $V "$tmp/crafted" | md5sum)" = "$want" ]
ok $? compiled-cache "files $n1 then $n2 ($f), output $got against $want"
printf 'X' | dd of="$f" bs=1 seek=4 conv=notrunc status=none   # version
got=$(tokenize encode -v "$tmp/c/tok-small.tiktoken" "$tmp/crafted" 2>&1 | md5sum)
[ "$got" = "$want" ] && [ "$(od -An -t u1 -j 4 -N 1 "$f" | tr -d ' ')" = \
	"$(sed -n 's/^#define NK_BPE_COMPILED_VERSION //p' lib/text/bpe_compiled.h)" ]
ok $? compiled-cache-damaged "output $got, version byte $(od -An -t u1 -j 4 -N 1 "$f")"
touch -d '2001-01-01' "$tmp/c/tok-small.tiktoken"
tokenize encode -v "$tmp/c/tok-small.tiktoken" </dev/null
[ "$(ls "$tmp/cache" | wc -l)" = 2 ]
ok $? compiled-cache-key "$(ls "$tmp/cache")"
# the side file found beside the rank file is part of the key: a new
# pattern there is used at once
printf '{"pat_str": "", "special_tokens": {"<|end|>": 293}}\n' >"$tmp/c/tok-small.json"
g2=$(echo 'the the' | tokenize encode -v "$tmp/c/tok-small.tiktoken")
w2=$(echo 'the the' | NNKIT_VOCAB_CACHE= tokenize encode -v "$tmp/c/tok-small.tiktoken")
[ "$(ls "$tmp/cache" | wc -l)" = 3 ] && [ "$g2" = "$w2" ]
ok $? compiled-cache-side-file "$(ls "$tmp/cache"): got '$g2', want '$w2'"
# old copies of a rank file of the same name are pruned to the newest 4
# when a copy is written; other names are left alone
cp "$tmp/c/tok-small.tiktoken" "$tmp/c/other.tiktoken"
tokenize encode -v "$tmp/c/other.tiktoken" </dev/null
for d in 2002-01-01 2003-01-01 2004-01-01; do
	touch -d "$d" "$tmp/c/tok-small.tiktoken"
	sleep 0.01
	tokenize encode -v "$tmp/c/tok-small.tiktoken" </dev/null
done
last=$(ls -t "$tmp/cache"/tok-small.tiktoken-*.nkv | head -1)
tokenize encode -v "$tmp/c/tok-small.tiktoken" </dev/null
[ "$(ls "$tmp/cache" | grep -c '^tok-small\.tiktoken-')" = 4 ] &&
	[ "$(ls "$tmp/cache" | grep -c '^other\.tiktoken-')" = 1 ] &&
	[ "$(ls -t "$tmp/cache"/tok-small.tiktoken-*.nkv | head -1)" = "$last" ]
ok $? compiled-cache-pruned "$(ls -t "$tmp/cache")"
rm -rf "$tmp/cache"
NNKIT_VOCAB_CACHE= tokenize encode -v "$tmp/c/tok-small.tiktoken" </dev/null
[ ! -e "$tmp/cache" ]
ok $? compiled-cache-off "$(ls "$tmp/cache" 2>&1)"
: >"$tmp/notdir"
got=$(NNKIT_VOCAB_CACHE="$tmp/notdir/x" tokenize encode -v "$tmp/c/tok-small.tiktoken" "$tmp/crafted" 2>&1 | md5sum)
[ "$got" = "$want" ]
ok $? compiled-cache-unwritable "output $got against $want"
