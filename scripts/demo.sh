#!/usr/bin/env bash
# demo.sh - a short tour of every nnkit program built so far, on data this
# script makes itself.  Run by `make demo`; takes well under two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export PATH="$PWD/$BUILD/bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; eval "$@"; }
has() { [ -x "$BUILD/bin/$1" ]; }

if has lcs-seq; then
	echo "== lcs-seq: longest run of consecutive integers, in O(n)"
	run "echo '[100,4,200,1,3,2]' | lcs-seq"
	run "printf '[0,3,7,2,5,8,4,6,0,1]\n[1,0,1,2]\n[]\n' | lcs-seq -ls"
	# A million shuffled integers with a planted run of 5000.
	awk 'BEGIN { srand(7); for (i = 0; i < 1000000; i++) print int(rand() * 2e9) - 1e9;
	             for (i = 0; i < 5000; i++) print 123456789 + i }' | shuf --random-source=<(yes) >"$work/ints.txt"
	run "gzip -c $work/ints.txt > $work/ints.txt.gz; time lcs-seq -s $work/ints.txt.gz"
	run "echo '1, 2, x' | lcs-seq || echo \"exit status \$?\""
fi

if has minwindow; then
	echo
	echo "== minwindow: shortest substring holding every character of T"
	run "echo ADOBECODEBANC | minwindow -t ABC"
	run "printf 'ADOBECODEBANC\nxyz\naa\n' | minwindow -n -t ABC"
	run "echo 'a€b12a' | minwindow -u -t ab"
	head -c 20000000 /dev/zero | tr '\0' 'q' >"$work/letters.txt"
	printf 'thequickbrownfox' >>"$work/letters.txt"
	run "time minwindow -n -t 'fox' $work/letters.txt"
fi

if has tokenize; then
	echo
	echo "== tokenize: byte-level BPE (train, encode, decode, count)"
	# English text the project makes itself: its own man pages, rendered.
	for m in man/*.[15]; do mandoc -T ascii "$m" 2>/dev/null || cat "$m"; done |
		sed 's/.\x08//g' >"$work/manpages.txt"
	run "wc -c $work/manpages.txt"
	run "tokenize train -q -n 600 -p cl100k -o $work/man.tiktoken $work/manpages.txt"
	run "echo 'Bad input gets a clear error.' | tokenize encode -v $work/man.tiktoken"
	run "echo 'Bad input gets a clear error.' | tokenize encode -v $work/man.tiktoken | tokenize decode -v $work/man.tiktoken"
	run "tokenize count -v $work/man.tiktoken $work/manpages.txt"
	if [ -f ../shared/data/tiktoken/cl100k_base.tiktoken ]; then
		run "echo 'Hello, world! 12345' | tokenize encode -e cl100k_base -d ../shared/data/tiktoken"
	fi
fi

if has pyramid; then
	echo
	echo "== pyramid: Gaussian and Laplacian image pyramids"
	# A 257x171 test card: gradients and a checkerboard, as binary PGM.
	LC_ALL=C awk 'BEGIN { w = 257; h = 171; printf "P5\n%d %d\n255\n", w, h;
	             for (y = 0; y < h; y++) for (x = 0; x < w; x++)
	                 printf "%c", (int(x / 16) + int(y / 16)) % 2 ? 1 + int(254 * x / w) : 1 + int(254 * y / h) }' >"$work/card.pgm"
	run "pyramid -n 4 -o $work/level-%d.png -M $work/mosaic.png $work/card.pgm"
	run "ls -l $work/level-*.png $work/mosaic.png"
	run "pyramid laplacian -q -n 4 -t $work/bands.nkw $work/card.pgm"
	run "pyramid reconstruct -q -o $work/back.png $work/bands.nkw"
	run "pyramid -q -n 1 -o $work/orig-%d.png $work/card.pgm && cmp $work/orig-0.png $work/back.png && echo 'lossless: reconstruction equals the original'"
	run "pyramid scale -F 0.709 -m 12 -o $work/s-%02d.png $work/card.pgm"
	run "pyramid spp -l 4,2,1 $work/card.pgm | wc -w"
fi
echo
echo "demo done."
