#!/bin/sh
# t_detect_cli.sh - detect's files: import and export round trips, the
# drawn pictures, outputs left alone by a failed run.  Uses the hand-made
# model of tests/cli/detect.t (tests/cli/data/det-tiny.*).
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
det=$PWD/$BUILD/bin/detect
D=$PWD/tests/cli/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
M="-c $D/det-tiny.cfg -w $D/det-tiny.weights"
ok() { echo "PASS detect-cli $1"; }
bad() { echo "FAIL detect-cli $1"; }

# import, export: the weights and the cfg come back byte for byte, and the
# imported model finds the same boxes.
if $det import $M -o "$tmp/m.nkw" && $det export -m "$tmp/m.nkw" -o "$tmp/back.weights" -C "$tmp/back.cfg" &&
	cmp -s "$tmp/back.weights" "$D/det-tiny.weights" && cmp -s "$tmp/back.cfg" "$D/det-tiny.cfg"; then
	ok "import/export round trip"
else
	bad "import/export round trip: the weights or the cfg differ after import and export"
fi
$det run -q $M "$D/det-16x8.png" >"$tmp/a" 2>/dev/null
$det run -q -m "$tmp/m.nkw" "$D/det-16x8.png" >"$tmp/b" 2>/dev/null
if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b"; then
	ok "run -m equals run -c -w"
else
	bad "run -m: boxes differ from the cfg and weights' own"
fi
# --nms 0 keeps every cell's box.
n=$($det run -q $M --nms 0 "$D/det-16x8.png" | wc -l)
[ "$n" -eq 16 ] && ok "--nms 0 keeps all 16 boxes" || bad "--nms 0 printed $n boxes, not 16"
# Pictures: -o one, -O a directory; both are the image with boxes drawn.
if $det run -q $M -o "$tmp/one.png" "$D/det-16x8.png" >/dev/null &&
	mkdir "$tmp/d" && $det run -q $M -O "$tmp/d" "$D/det-16x8.png" "$D/pyr-4x3.png" >/dev/null &&
	[ -s "$tmp/d/det-16x8.png" ] && [ -s "$tmp/d/pyr-4x3.png" ] && cmp -s "$tmp/one.png" "$tmp/d/det-16x8.png" &&
	! cmp -s "$tmp/one.png" "$D/det-16x8.png"; then
	ok "-o and -O draw the boxes"
else
	bad "-o/-O: the pictures are missing or equal to the input"
fi
# A failed run leaves existing outputs as they were.
echo keep >"$tmp/keep.png"
echo keep >"$tmp/keep.nkw"
$det run -q -c "$D/det-tiny.cfg" -w "$D/det-short.weights" -o "$tmp/keep.png" "$D/det-16x8.png" >/dev/null 2>&1
$det import -c "$D/det-tiny.cfg" -w "$D/det-short.weights" -o "$tmp/keep.nkw" 2>/dev/null
if [ "$(cat "$tmp/keep.png")" = keep ] && [ "$(cat "$tmp/keep.nkw")" = keep ]; then
	ok "a failed run replaces nothing"
else
	bad "a failed run replaced an existing output"
fi
# A model file that is not one is named.
head -c 100 "$tmp/m.nkw" >"$tmp/cut.nkw"
if ! $det run -m "$tmp/cut.nkw" "$D/det-16x8.png" 2>"$tmp/err" && grep -q cut.nkw "$tmp/err"; then
	ok "a truncated model is named"
else
	bad "a truncated model: $(cat "$tmp/err")"
fi
# A write that fails says why.
$det run -q $M "$D/det-16x8.png" >/dev/full 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "standard output: write failed: No space left on device" "$tmp/err"; then
	ok "a full stdout: the reason"
else
	bad "a full stdout: $(cat "$tmp/err")"
fi
# Endless inputs end at their limit, named, even with little memory: an
# image (1 GiB) and a model (4 GiB: out of memory first, still named).
(ulimit -v 3000000; timeout 60 $det run -q $M /dev/zero) >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "/dev/zero: more than the limit of 1073741824 bytes" "$tmp/err"; then
	ok "an endless image: the limit"
else
	bad "an endless image: $(cat "$tmp/err")"
fi
(ulimit -v 3000000; timeout 60 $det run -q -m /dev/zero "$D/det-16x8.png") >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "^detect: /dev/zero: " "$tmp/err"; then
	ok "an endless model: named"
else
	bad "an endless model: $(cat "$tmp/err")"
fi
