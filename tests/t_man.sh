# t_man.sh - every program has a man page, and every page is mandoc-clean.
cd "$(dirname "$0")/.." || exit 1
for c in cmd/*/; do
	t=$(basename "$c")
	if [ -f "man/$t.1" ]; then echo "PASS man-exists $t"; else echo "FAIL man-exists $t: no man/$t.1"; fi
done
if ! command -v mandoc >/dev/null 2>&1; then
	echo "SKIP man-lint: mandoc is not installed (scripts/deps installs it)"
	exit 0
fi
for m in man/*.1 man/*.5; do
	[ -e "$m" ] || continue
	# -W warning: cross-references to pages of programs not written yet
	# are only "style" notes.
	out=$(mandoc -T lint -W warning "$m" 2>&1)
	if [ -z "$out" ]; then
		echo "PASS man-lint $m"
	else
		echo "FAIL man-lint $m: $(printf '%s' "$out" | head -n 3 | tr '\n' ' ')"
	fi
	# Each page must render to text that names itself and its exit status.
	if mandoc -T utf8 "$m" 2>/dev/null | sed "s/.\x08//g" | grep -q -e "EXIT STATUS" -e "FORMAT" -e "DESCRIPTION"; then
		echo "PASS man-render $m"
	else
		echo "FAIL man-render $m: renders without its sections"
	fi
done
