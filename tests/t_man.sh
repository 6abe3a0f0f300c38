# t_man.sh - every program has a man page, and every page is clean under
# both formatters users meet: mandoc and groff (man(1) on Debian).
cd "$(dirname "$0")/.." || exit 1
for c in cmd/*/; do
	t=$(basename "$c")
	if [ -f "man/$t.1" ]; then echo "PASS man-exists $t"; else echo "FAIL man-exists $t: no man/$t.1"; fi
done
# SEE ALSO names pages that exist: ours in man/ (a program's page is listed
# when it lands), others installed or, for section 1, an installed command.
for m in man/*.1 man/*.5; do
	[ -e "$m" ] || continue
	bad=$(awk '/^\.Sh /{p=($0==".Sh SEE ALSO")} p && $1==".Xr" {print $2 "." $3}' "$m" |
		tr -d ',' | while read -r x; do
			[ -f "man/$x" ] && continue
			n=${x%.*} sec=${x##*.}
			ls /usr/share/man/man"$sec"/"$x"* >/dev/null 2>&1 && continue
			[ "$sec" = 1 ] && command -v "$n" >/dev/null 2>&1 && continue
			printf '%s ' "$x"
		done)
	if [ -z "$bad" ]; then
		echo "PASS man-see-also $m"
	else
		echo "FAIL man-see-also $m: SEE ALSO lists pages that do not exist: $bad"
	fi
done
# groff: every warning (-ww) is a failure; -k runs preconv for UTF-8 text.
if command -v groff >/dev/null 2>&1; then
	for m in man/*.1 man/*.5; do
		[ -e "$m" ] || continue
		out=$(groff -k -mandoc -ww -z -Tutf8 "$m" 2>&1)
		if [ -z "$out" ]; then
			echo "PASS man-groff $m"
		else
			echo "FAIL man-groff $m: $(printf '%s' "$out" | head -n 3 | tr '\n' ' ')"
		fi
	done
else
	echo "SKIP man-groff: groff is not installed (scripts/deps installs groff-base)"
fi
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
