# t_install.sh - make install puts programs and man pages (1 and 5) under
# DESTDIR/PREFIX, and make uninstall takes exactly those away again.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! make -s --no-print-directory install BUILD="$BUILD" DESTDIR="$tmp" PREFIX=/opt/nk >"$tmp.log" 2>&1; then
	echo "FAIL install: make install failed: $(tail -n 3 "$tmp.log")"
	rm -f "$tmp.log"
	exit 0
fi
rm -f "$tmp.log"
ok=1
for c in cmd/*/; do
	p=$(basename "$c")
	[ -x "$tmp/opt/nk/bin/$p" ] || { ok=0; echo "FAIL install-bin $p: not installed"; }
	[ -f "$tmp/opt/nk/share/man/man1/$p.1" ] || { ok=0; echo "FAIL install-man $p: no man1/$p.1"; }
done
for m in man/*.5; do
	[ -e "$m" ] || continue
	[ -f "$tmp/opt/nk/share/man/man5/${m#man/}" ] || { ok=0; echo "FAIL install-man5 $m: not installed"; }
done
[ $ok -eq 1 ] && echo "PASS install"
make -s --no-print-directory uninstall BUILD="$BUILD" DESTDIR="$tmp" PREFIX=/opt/nk >/dev/null 2>&1
left=$(find "$tmp" -type f | wc -l)
if [ "$left" -eq 0 ]; then echo "PASS uninstall"; else echo "FAIL uninstall: $left files left behind"; fi
