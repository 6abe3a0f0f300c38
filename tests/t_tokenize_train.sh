# t_tokenize_train.sh - what tokenize train writes, and what it leaves alone:
#   - a run whose input cannot be read (alone or among good ones), or that
#     holds no text, exits 1 and leaves OUT.tiktoken and OUT.json as they
#     were;
#   - -o - writes the ranks to stdout and no side file (no "-.json"),
#     unless --meta FILE names one; --meta FILE replaces OUT.json.
# Runs in a temporary directory; needs no shared data.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { if [ "$1" = 0 ]; then echo "PASS $2"; else echo "FAIL $2: $3"; fi; }
cd "$tmp" || exit 1

printf 'the cat sat on the mat\nthe dog sat on the log\n' >text.txt
: >empty.txt
tokenize train -q -n 270 -o v.tiktoken text.txt || echo "FAIL train-setup: exit $?"
cp v.tiktoken v0.tiktoken
cp v.json v0.json

# Each failing run: exit 1, a message, the vocabulary untouched.
while IFS='|' read -r name args; do
	eval "tokenize train -q -n 300 -o v.tiktoken $args" >out 2>err
	rc=$?
	if [ $rc != 1 ]; then
		ok 1 "train-keeps-output $name" "exit $rc, want 1"
	elif ! grep -q 'not written' err; then
		ok 1 "train-keeps-output $name" "stderr: $(head -c 200 err)"
	elif ! cmp -s v.tiktoken v0.tiktoken || ! cmp -s v.json v0.json; then
		ok 1 "train-keeps-output $name" "v.tiktoken or v.json changed"
	elif ls -a | grep -q '^\.v\.'; then
		ok 1 "train-keeps-output $name" "a temporary file was left"
	else
		ok 0 "train-keeps-output $name"
	fi
done <<'EOF'
missing|/nonexist
missing-among-good|text.txt /nonexist text.txt
empty-file|empty.txt
empty-stdin|</dev/null
blank-lines|- <<<$'\n\n\n'
directory|.
EOF

# -o -: the ranks on stdout, no side file in the current directory.
tokenize train -q -n 270 -o - text.txt >ranks 2>err
rc=$?
[ $rc = 0 ] && cmp -s ranks v0.tiktoken && [ ! -e ./-.json ] && [ ! -e ./-.tiktoken ]
ok $? "train-stdout-no-side-file" "exit $rc; $(ls -a | tr '\n' ' ')"

# --meta FILE: the side file there, with -o - or with -o FILE.
tokenize train -q -n 270 -S '<|end|>' -o - --meta m1.json text.txt >ranks2 2>err
rc=$?
[ $rc = 0 ] && cmp -s ranks2 v0.tiktoken && grep -q '"<|end|>": ' m1.json &&
	[ ! -e ./-.json ]
ok $? "train-stdout-meta" "exit $rc; $(cat err)"
tokenize train -q -n 270 -o w.tiktoken --meta m2.json text.txt 2>err
rc=$?
[ $rc = 0 ] && cmp -s w.tiktoken v0.tiktoken && cmp -s m2.json v0.json && [ ! -e w.json ]
ok $? "train-meta-path" "exit $rc; $(cat err)"
# The files it writes load back: encode with the side file named.
out=$(echo 'the cat' | tokenize encode -v w.tiktoken --meta m2.json 2>&1)
[ -n "$out" ] && [ "$(echo "$out" | tokenize decode -v w.tiktoken --meta m2.json)" = "the cat" ]
ok $? "train-meta-loads" "$out"
