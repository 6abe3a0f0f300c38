# t_bert_fill_bpe.sh - bert-mask fill on a model of BPE ids, through the
# rank file it was trained on (--tiktoken): text in equals the ids that
# tokenize encode gives (same probabilities as asking with those ids),
# candidates named by the bytes tokenize decode gives, a space before
# [MASK] belonging to the mask, and a wrong rank file refused.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
if [ -f ../shared/data/sotu.txt ]; then
	head -c 200000 ../shared/data/sotu.txt >"$tmp/text"
else
	for i in 1 2 3 4; do cat man/*; done | head -c 200000 >"$tmp/text"
fi
fail() { echo "FAIL $1: $2"; }

if ! tokenize train -n 600 -o "$tmp/v.tiktoken" "$tmp/text" 2>"$tmp/err" ||
	! tokenize encode -v "$tmp/v.tiktoken" "$tmp/text" >"$tmp/ids" 2>>"$tmp/err" ||
	! bert-mask train --tiktoken "$tmp/v.tiktoken" -w -T 32 -H 32 -A 2 -l 1 \
		-b 8 --steps 30 -q -o "$tmp/m.nkw" "$tmp/ids" 2>>"$tmp/err"; then
	fail bert-fill-bpe-setup "$(cat "$tmp/err")"
	exit 0
fi

# The text's ids as tokenize encodes its parts: "the" [MASK] " of the
# nation" (the space before the mask is the mask's).
a=$(printf 'the' | tokenize encode -v "$tmp/v.tiktoken" | tr '\n' ' ')
b=$(printf ' of the nation' | tokenize encode -v "$tmp/v.tiktoken" | tr '\n' ' ')
bert-mask fill -m "$tmp/m.nkw" -k 5 "$a [MASK] $b" >"$tmp/by-ids" 2>"$tmp/err1"
bert-mask fill -m "$tmp/m.nkw" --tiktoken "$tmp/v.tiktoken" -k 5 \
	'the [MASK] of the nation' >"$tmp/by-text" 2>"$tmp/err2"
if [ -s "$tmp/by-ids" ] &&
	[ "$(cut -f1-4 "$tmp/by-ids")" = "$(cut -f1-4 "$tmp/by-text")" ]; then
	echo "PASS bert-fill-bpe-text-as-ids"
else
	fail bert-fill-bpe-text-as-ids "$(paste "$tmp/by-ids" "$tmp/by-text" | head -5; cat "$tmp/err1" "$tmp/err2")"
fi

# Each candidate's text is the token's bytes as tokenize decode writes
# them (controls escaped in the lines).
ok=1
while IFS="$(printf '\t')" read -r _ _ rank _ tok; do
	id=$(sed -n "${rank}p" "$tmp/by-ids" | cut -f5)
	want=$(echo "$id" | tokenize decode -v "$tmp/v.tiktoken" |
		awk 'BEGIN { ORS = "" } { if (NR > 1) print "\\n"; gsub(/\t/, "\\t"); print }')
	[ "$tok" = "$want" ] || { ok=0; echo "  rank $rank: '$tok' vs '$want' (id $id)"; }
done <"$tmp/by-text"
[ $ok = 1 ] && echo "PASS bert-fill-bpe-token-text" ||
	fail bert-fill-bpe-token-text "candidates differ from tokenize decode"

# JSON: the sequence is the text with the candidate in the mask's place.
bert-mask fill -m "$tmp/m.nkw" --tiktoken "$tmp/v.tiktoken" -k 3 --json \
	'the [MASK] of the nation' >"$tmp/json" 2>"$tmp/err"
if /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 3
for c in d:
    assert c["sequence"] == "the" + c["token_str"] + " of the nation", c' \
	"$tmp/json" 2>"$tmp/pyerr"; then
	echo "PASS bert-fill-bpe-json"
elif ! /usr/bin/python3 -c '' 2>/dev/null; then
	echo "SKIP bert-fill-bpe-json: no /usr/bin/python3"
else
	fail bert-fill-bpe-json "$(cat "$tmp/json" "$tmp/err" "$tmp/pyerr")"
fi

# A rank file of another size, or of the same size with other word
# boundaries, is refused naming it; so is --tiktoken on a WordPiece model.
tokenize train -n 500 -o "$tmp/w.tiktoken" "$tmp/text" 2>/dev/null
bert-mask fill -m "$tmp/m.nkw" --tiktoken "$tmp/w.tiktoken" 'the [MASK]' \
	>/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "w.tiktoken: 500 tokens" "$tmp/err" &&
	echo "PASS bert-fill-bpe-wrong-size" ||
	fail bert-fill-bpe-wrong-size "rc $rc: $(cat "$tmp/err")"
tr 'a-z' 'b-za' <"$tmp/text" >"$tmp/text2"
tokenize train -n 600 -p none -o "$tmp/x.tiktoken" "$tmp/text2" 2>/dev/null
bert-mask fill -m "$tmp/m.nkw" --tiktoken "$tmp/x.tiktoken" 'the [MASK]' \
	>/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "x.tiktoken: token .* not the rank file" "$tmp/err" &&
	echo "PASS bert-fill-bpe-wrong-file" ||
	fail bert-fill-bpe-wrong-file "rc $rc: $(cat "$tmp/err")"
head -c 4000 "$tmp/text" >"$tmp/t.txt"
bert-mask vocab -n 100 -o "$tmp/vocab.txt" "$tmp/text" 2>/dev/null &&
	bert-mask train --vocab "$tmp/vocab.txt" -T 16 -H 16 -A 2 -l 1 -b 4 \
		--steps 1 -q -o "$tmp/wp.nkw" "$tmp/t.txt" 2>/dev/null
bert-mask fill -m "$tmp/wp.nkw" --tiktoken "$tmp/v.tiktoken" 'the [MASK]' \
	>/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "wp.nkw: --tiktoken is for a model of token ids" "$tmp/err" &&
	echo "PASS bert-fill-bpe-wordpiece-refused" ||
	fail bert-fill-bpe-wordpiece-refused "rc $rc: $(cat "$tmp/err")"
