# t_tokenize_stream.sh - tokenize encode/count give the same bytes however
# the input arrives and however many threads work on it:
#   - a mapped file, a pipe, a gzip file; -j 1, 2 and 3; every output form
#     (text, -b, -z, -z -b, count, count -l, count -z); inputs of several
#     MB, so that they are cut into many blocks;
#   - on a pipe, a line's ids come out before the writer sends the next
#     line (the program is usable interactively);
#   - memory stays bounded on a long pipe (blocks, not the whole input);
#   - an error on stdin names (stdin):LINE:COL, after the lines before it.
# The vocabulary is tests/cli/data/tok-small (no shared data needed).
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
V="-v tests/cli/data/tok-small.tiktoken"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${COPROC_PID:-}" ] && kill "$COPROC_PID" 2>/dev/null' EXIT
ok() { if [ "$1" = 0 ]; then echo "PASS $2"; else echo "FAIL $2: $3"; fi; }

# About 5 MB: prose-like lines, blank lines, long lines, no final newline.
awk 'BEGIN { srand(3); for (i = 0; i < 90000; i++) {
	n = int(rand() * 12); s = "";
	for (k = 0; k < n; k++) s = s (k ? " " : "") substr("The quick brown fox jumps over lazy dogs and 1234 cats", 1 + int(rand() * 40), 1 + int(rand() * 9));
	if (i % 977 == 0) for (k = 0; k < 3000; k++) s = s "ab ";
	if (i % 13 == 0) s = s "\n";
	print s } }' >"$tmp/text"
printf 'tail without newline' >>"$tmp/text"
gzip -c "$tmp/text" >"$tmp/text.gz"

# `count` names its input ("N FILE"): only the numbers are compared.
numbers() { if [ "$1" = count ] || [ "$1" = "count -z" ]; then awk '{ print $1 }'; else cat; fi; }
for form in "encode" "encode -b -f" "encode -z" "encode -z -b -f" "count" "count -l" "count -z"; do
	# shellcheck disable=SC2086
	tokenize $form $V "$tmp/text" | numbers "$form" >"$tmp/want" || { echo "FAIL stream-same $form: exit $?"; continue; }
	bad=
	for j in 1 2 3; do
		# shellcheck disable=SC2086
		tokenize $form -j $j $V "$tmp/text" | numbers "$form" | cmp -s - "$tmp/want" || bad="$bad file/j$j"
		# shellcheck disable=SC2086
		cat "$tmp/text" | tokenize $form -j $j $V | numbers "$form" | cmp -s - "$tmp/want" || bad="$bad pipe/j$j"
		# shellcheck disable=SC2086
		tokenize $form -j $j $V "$tmp/text.gz" | numbers "$form" | cmp -s - "$tmp/want" || bad="$bad gzip/j$j"
	done
	[ -z "$bad" ]
	ok $? "stream-same $form" "differs from one thread on a file:$bad"
done

# Interactive: the first line's ids arrive while the writer holds the pipe.
coproc tokenize encode -j 2 $V
echo "quick fox" >&"${COPROC[1]}"
line=
read -r -t 10 line <&"${COPROC[0]}"
want=$(echo "quick fox" | tokenize encode $V)
[ -n "$line" ] && [ "$line" = "$want" ]
ok $? stream-interactive "got '$line' for 'quick fox', want '$want' before the pipe closed"
exec {COPROC[1]}>&-
wait "$COPROC_PID" 2>/dev/null
COPROC_PID=

# Bounded memory: 64 MB through a pipe in a few MB of blocks.
if [ -x /usr/bin/time ]; then
	yes "the quick brown fox jumps over the lazy dog 0123456789" | head -c 64000000 |
		/usr/bin/time -f %M -o "$tmp/rss" tokenize encode -b -f -j 2 $V >/dev/null
	kb=$(tail -n 1 "$tmp/rss")
	# A sanitizer's shadow memory and quarantine add their own.
	[ "$kb" -lt "$([ -n "${NK_SANITIZED:-}" ] && echo 120000 || echo 40000)" ]
	ok $? stream-bounded-memory "peak RSS $kb KB for 64 MB of input"
else
	echo "SKIP stream-bounded-memory: GNU time is not installed"
fi

# An error on stdin names the line; the lines before it are written.
out=$(printf 'a\nb\nxy <|end|>\n' | tokenize encode -j 2 -s fail $V 2>"$tmp/err")
rc=$?
[ $rc = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 2 ] && grep -q '(stdin):3:4: special token' "$tmp/err"
ok $? stream-error-location "exit $rc, $(printf '%s\n' "$out" | wc -l) lines, stderr: $(cat "$tmp/err")"

# Any error, not only a special token, names its line, blocks away from
# the start: a pattern of one's own that runs out of its match limit on
# line 40001, after more than a block of input.
{ for i in $(seq 40000); do echo "line $i of plain text"; done
  echo "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"; } >"$tmp/limit.txt"
tokenize encode -j 2 $V --regex '(a+)+$|[^a]+|a' <"$tmp/limit.txt" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$tmp/out")" = 40000 ] && grep -q '(stdin):40001:1: pattern: ' "$tmp/err"
ok $? stream-error-line-far "exit $rc, $(wc -l <"$tmp/out") lines, stderr: $(cat "$tmp/err")"
