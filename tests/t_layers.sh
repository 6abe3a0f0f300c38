# t_layers.sh - the library's layering and silence (scripts/check-layers):
# the tree as it is passes, and each kind of violation, planted in a copy,
# is caught.  A checker that cannot fail would pass the first check alone.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
lib=$BUILD/libnk.a
if out=$(scripts/check-layers . "$lib" 2>&1); then
	echo "PASS layers: includes run core <- formats <- nn/text/vision/algo <- models <- cmd; libnk.a is silent"
else
	echo "FAIL layers: $(printf '%s' "$out" | head -n 5 | tr '\n' ' ')"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# plant NAME FILE LINE: a copy of lib/ and cmd/ with LINE added to FILE
# must fail the check with a message naming FILE.
plant() {
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree"
	cp -r lib cmd "$tmp/tree/"
	mkdir -p "$(dirname "$tmp/tree/$2")"
	printf '%s\n' "$3" >>"$tmp/tree/$2"
	if out=$(scripts/check-layers "$tmp/tree" 2>&1); then
		echo "FAIL layers-plant-$1: '$3' in $2 was not caught"
	elif printf '%s' "$out" | grep -q "^$2:"; then
		echo "PASS layers-plant-$1"
	else
		echo "FAIL layers-plant-$1: message does not name $2: $out"
	fi
}
plant upward        lib/core/io.c           '#include "formats/wfile.h"'
plant models-in-nn  lib/nn/linear.c         '#include "models/charlm.h"'
plant sideways      lib/text/vocab.c        '#include "vision/image.h"'
plant cmd-in-lib    lib/formats/wfile.c     '#include "cli.h"'
plant unqualified   lib/text/bpe.h          '#include "base.h"'
plant stray-layer   lib/misc/thing.c        '#include "core/base.h"'
plant flat-file     lib/loose.c             '#include "core/base.h"'

# The nm half: an object that calls exit and writes to stderr, added to a
# copy of the archive, must be named.
if ! command -v nm >/dev/null 2>&1 || [ ! -f "$lib" ]; then
	echo "SKIP layers-nm-plant: nm or $lib missing"
	exit 0
fi
cat >"$tmp/bad.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
void nk_planted(void) { fputs("oops\n", stderr); exit(3); }
C
cc -c -o "$tmp/bad.o" "$tmp/bad.c"
cp "$lib" "$tmp/lib.a"
ar rs "$tmp/lib.a" "$tmp/bad.o" 2>/dev/null
if out=$(scripts/check-layers . "$tmp/lib.a" 2>&1); then
	echo "FAIL layers-nm-plant: exit/stderr in the archive were not caught"
elif printf '%s' "$out" | grep -q 'bad.o.*exit' && printf '%s' "$out" | grep -q 'bad.o.*stderr'; then
	echo "PASS layers-nm-plant"
else
	echo "FAIL layers-nm-plant: $out"
fi
