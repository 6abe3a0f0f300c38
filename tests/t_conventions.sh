# t_conventions.sh - the command-line rules every program keeps:
# --help on stdout with exit 0, --version with exit 0, an unknown option a
# usage error with exit 2: on stderr getopt's line and "Try 'PROG --help'",
# not the whole usage text.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for bin in "$BUILD"/bin/*; do
	[ -x "$bin" ] || continue
	p=$(basename "$bin")
	"$bin" --help >"$tmp/out" 2>"$tmp/err"; rc=$?
	if [ $rc -eq 0 ] && grep -qi usage "$tmp/out" && [ ! -s "$tmp/err" ]; then
		echo "PASS help $p"
	else
		echo "FAIL help $p: exit $rc, usage on stdout: $(grep -ci usage "$tmp/out")"
	fi
	"$bin" -h >"$tmp/out2" 2>/dev/null
	if cmp -s "$tmp/out" "$tmp/out2"; then echo "PASS help-short $p"; else echo "FAIL help-short $p: -h differs from --help"; fi
	"$bin" --version >"$tmp/out" 2>&1; rc=$?
	if [ $rc -eq 0 ] && grep -q "^$p (nnkit) [0-9]" "$tmp/out"; then
		echo "PASS version $p"
	else
		echo "FAIL version $p: exit $rc: $(head -c 80 "$tmp/out")"
	fi
	"$bin" --no-such-option </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 2 ] &&
		[ "$(tail -n 1 "$tmp/err")" = "Try '$p --help' for more information." ]; then
		echo "PASS usage-error $p"
	else
		echo "FAIL usage-error $p: exit $rc, $(wc -l <"$tmp/err") lines on stderr (want 2, two lines: getopt's and \"Try '$p --help'\")"
	fi
done
