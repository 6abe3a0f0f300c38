#!/usr/bin/env bash
# cli.sh - runs a golden table of command-line cases: tests/cli/PROG.t.
#
# One case per line, fields separated by " | ":
#   args | stdin | expected stdout | expected exit [| expected stderr part]
# args are shell words after the program name (the table's file name;
# PROG-MODE.t, when no program is called that, runs PROG: detect-eval.t);
# leading NAME=value words set the environment for that case only;
# stdin and stdout take printf %b escapes (\n, \t, \x7c for a "|");
# the optional fifth field must appear somewhere in stderr.  Lines that
# start with # are comments.  Runs from the repository root, so args may
# name files under tests/.  Prints PASS/FAIL per case, with a diff on FAIL.
set -u
table=$1
prog=$(basename "$table" .t)
command -v "$prog" >/dev/null 2>&1 || prog=${prog%-*}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in '#'* | '') continue ;; esac
	sep=$'\x1f'
	IFS=$sep read -r args input expect code errpart <<<"${line// | /$sep}"
	name="$prog:$lineno [$args]"
	printf '%b' "$input" >"$tmp/in"
	printf '%b' "$expect" >"$tmp/want"
	envs=
	rest=$args
	while [[ $rest =~ ^([A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*)([[:space:]]+(.*))?$ ]]; do
		envs="$envs ${BASH_REMATCH[1]}"
		rest=${BASH_REMATCH[3]}
	done
	(eval "exec env $envs $prog $rest") <"$tmp/in" >"$tmp/got" 2>"$tmp/err"
	rc=$?
	why=
	if ! cmp -s "$tmp/want" "$tmp/got"; then
		why="stdout differs"
	elif [ "$rc" != "$code" ]; then
		why="exit $rc, want $code"
	elif [ -n "${errpart:-}" ] && ! grep -qF -- "$(printf '%b' "$errpart")" "$tmp/err"; then
		why="stderr lacks '$errpart'"
	fi
	if [ -z "$why" ]; then
		echo "PASS $name"
	else
		echo "FAIL $name: $why"
		diff <(od -c "$tmp/want") <(od -c "$tmp/got") | head -n 10 | sed 's/^/    /'
		sed 's/^/    stderr: /' "$tmp/err" | head -n 5
	fi
done <"$table"
