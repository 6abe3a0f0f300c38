# t_batch_parallel.sh - batch inference scales out as separate processes:
# four tokenize, detect run and bert-mask fill processes at once under
# xargs -P 4 over one model (read-only) and one output folder give what
# the same commands give one after another, and leave no temporary file.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
if [ -f ../shared/data/sotu.txt ]; then
	head -c 600000 ../shared/data/sotu.txt >"$tmp/text"
else
	for i in 1 2 3 4 5 6; do cat man/*; done >"$tmp/text"
fi
split -n l/8 "$tmp/text" "$tmp/part."
ls "$tmp"/part.* >"$tmp/parts"

# one.sh DIR INPUT CMD...: runs "CMD INPUT" into DIR/basename(INPUT).
cat >"$tmp/one.sh" <<'SH'
out=$1/$(basename "$2") in=$2
shift 2
exec "$@" "$in" >"$out"
SH
# serial NAME CMD...: every part, one after another, into NAME.serial/;
# par NAME CMD...: four at a time into NAME.par/; check NAME: the two
# folders are equal.
serial() {
	local name=$1
	shift
	mkdir -p "$tmp/$name.serial"
	while read -r p; do
		sh "$tmp/one.sh" "$tmp/$name.serial" "$p" "$@" 2>>"$tmp/err" || return 1
	done <"$tmp/parts"
}

par() {
	local name=$1
	shift
	mkdir -p "$tmp/$name.par"
	xargs -P 4 -I{} sh "$tmp/one.sh" "$tmp/$name.par" {} "$@" <"$tmp/parts" 2>>"$tmp/err"
}

check() {
	if [ -z "$(ls "$tmp/$1.serial" 2>/dev/null)" ]; then
		echo "FAIL batch-parallel-$1: the serial run wrote nothing: $(tail -n 2 "$tmp/err")"
	elif diff -r "$tmp/$1.serial" "$tmp/$1.par" >/dev/null; then
		echo "PASS batch-parallel-$1 ($(ls "$tmp/$1.par" | wc -l) inputs, 4 at a time)"
	else
		echo "FAIL batch-parallel-$1: parallel output differs from serial"
	fi
}

# tokenize: a vocabulary of our own, encoded four texts at a time.
tokenize train -q -n 1000 -o "$tmp/v.tiktoken" "$tmp/text" 2>>"$tmp/err"
serial tokenize tokenize encode -v "$tmp/v.tiktoken" && par tokenize tokenize encode -v "$tmp/v.tiktoken"
check tokenize

# bert-mask fill: one model, every part's first lines with a mask.
bert-mask vocab -n 800 -o "$tmp/vocab.txt" "$tmp/text" 2>>"$tmp/err" &&
	bert-mask train -q --vocab "$tmp/vocab.txt" -T 32 -H 32 -A 2 -l 1 -b 8 --steps 5 \
		-o "$tmp/m.nkw" "$tmp/text" 2>>"$tmp/err"
for p in $(cat "$tmp/parts"); do
	head -c 300 "$p" | tr -s ' \n' ' ' | awk '{ for (i = 1; i <= 12 && i <= NF; i++)
		printf "%s%s", (i == 4 ? "[MASK]" : $i), (i < 12 ? " " : "\n") }' >"$p.q"
	mv "$p.q" "$p"
done
# (fill reads its texts from standard input.)
fill='exec bert-mask fill -m "$1" -k 3 <"$2"'
serial fill sh -c "$fill" _ "$tmp/m.nkw" && par fill sh -c "$fill" _ "$tmp/m.nkw"
check fill

# detect run: one network, images drawn into one folder by four processes.
cfg=tests/cli/data/det-tiny.cfg w=tests/cli/data/det-tiny.weights
imgs=$(ls ../shared/data/bccd/JPEGImages/*.jpg 2>/dev/null | head -n 8)
[ -n "$imgs" ] || imgs=$(ls tests/cli/data/pyr-16.png tests/cli/data/pyr-4x3.png tests/cli/data/det-16x8.png)
printf '%s\n' $imgs >"$tmp/parts"
mkdir -p "$tmp/drawn.serial" "$tmp/drawn.par"
serial detect detect run -q -t 0.3 -c "$cfg" -w "$w" -O "$tmp/drawn.serial" &&
	par detect detect run -q -t 0.3 -c "$cfg" -w "$w" -O "$tmp/drawn.par"
check detect
if diff -r "$tmp/drawn.serial" "$tmp/drawn.par" >/dev/null &&
	[ "$(ls -A "$tmp/drawn.par" | grep -c '^\.')" = 0 ]; then
	echo "PASS batch-parallel-detect-images ($(ls "$tmp/drawn.par" | wc -l) images in one folder, no temporary left)"
else
	echo "FAIL batch-parallel-detect-images: drawn images differ or a temporary was left"
fi
