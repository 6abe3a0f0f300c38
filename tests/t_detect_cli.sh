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
. tests/memcap.sh

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
# Lines and --json score the same in eval: category_id is the class index
# + 1 against ids 1, 2, and with --categories the GT's own sparse ids.
for gt in det-gt12.json det-gt-sparse.json; do
	cats=
	[ $gt = det-gt-sparse.json ] && cats="--categories $D/$gt"
	$det run -q $M --nms 0.01 "$D/det-16x8.png" >"$tmp/l.txt" 2>/dev/null
	$det run -q $M --nms 0.01 --json $cats "$D/det-16x8.png" >"$tmp/j.json" 2>/dev/null
	$det eval -q --gt "$D/$gt" --pred "$tmp/l.txt" >"$tmp/el" 2>&1
	$det eval -q --gt "$D/$gt" --pred "$tmp/j.json" >"$tmp/ej" 2>&1
	if grep -q '^mAP 1.0000$' "$tmp/el" && cmp -s "$tmp/el" "$tmp/ej"; then
		ok "eval: lines and --json $cats score alike ($gt)"
	else
		bad "eval: lines and --json $cats differ on $gt: $(tail -n 1 "$tmp/el") / $(tail -n 1 "$tmp/ej")"
	fi
done
# No output replaces an input or another output: usage errors (exit 2)
# naming the paths, and the files are left as they were.
mkdir "$tmp/d1" "$tmp/d2" "$tmp/O"
cp "$D/det-16x8.png" "$tmp/d1/x.png"
cp "$D/det-16x8.png" "$tmp/d2/x.png"
cp "$D/det-16x8.png" "$tmp/s.png"
cp "$D/det-tiny.weights" "$tmp/s.weights"
cp "$tmp/m.nkw" "$tmp/s.nkw"
refused() { # NAME FILE-LEFT-ALONE REFERENCE PATTERN COMMAND...
	name=$1 file=$2 ref=$3 pat=$4
	shift 4
	"$@" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$pat" "$tmp/err" && cmp -s "$file" "$ref"; then
		ok "$name refused"
	else
		bad "$name: exit $rc, $(head -n 1 "$tmp/err")"
	fi
}
refused "-O with two x.png" "$tmp/d1/x.png" "$D/det-16x8.png" "d1/x.png and .*d2/x.png" \
	$det run -q $M -O "$tmp/O" "$tmp/d1/x.png" "$tmp/d2/x.png"
[ -e "$tmp/O/x.png" ] && bad "-O with two x.png drew one"
refused "-O over an input" "$tmp/d1/x.png" "$D/det-16x8.png" "over the input" \
	$det run -q $M -O "$tmp/d1" "$tmp/d1/x.png"
refused "-o the input image" "$tmp/s.png" "$D/det-16x8.png" "s.png is the input image" \
	$det run -q $M -o "$tmp/s.png" "$tmp/s.png"
refused "import -o its weights" "$tmp/s.weights" "$D/det-tiny.weights" "is the weights" \
	$det import -c "$D/det-tiny.cfg" -w "$tmp/s.weights" -o "$tmp/s.weights"
refused "export -o its model" "$tmp/s.nkw" "$tmp/m.nkw" "is the model" \
	$det export -m "$tmp/s.nkw" -o "$tmp/s.nkw"
refused "export -o and -C one file" "$tmp/s.nkw" "$tmp/m.nkw" "name one file" \
	$det export -m "$tmp/s.nkw" -o "$tmp/z" -C "$tmp/./z"
[ -e "$tmp/z" ] && bad "export -o z -C z wrote z"
# One image given twice draws one picture: not a collision.
if $det run -q $M -O "$tmp/O" "$tmp/d1/x.png" "$tmp/d1/x.png" >/dev/null && [ -s "$tmp/O/x.png" ]; then
	ok "-O with one image twice"
else
	bad "-O with one image twice was refused"
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
memcap 2900 timeout 120 $det run -q $M /dev/zero >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "/dev/zero: more than the limit of 1073741824 bytes" "$tmp/err"; then
	ok "an endless image: the limit"
else
	bad "an endless image: $(cat "$tmp/err")"
fi
memcap 2900 timeout 120 $det run -q -m /dev/zero "$D/det-16x8.png" >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "^detect: /dev/zero: " "$tmp/err"; then
	ok "an endless model: named"
else
	bad "an endless model: $(cat "$tmp/err")"
fi
