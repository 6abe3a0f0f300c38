# t_rnn_torch.sh - rnn-train against PyTorch (scripts/torch-charlm.py):
# the same initial weights (rnn-train --steps 0 writes them), data, streams,
# Adam and clipping; the training loss of every step and the validation
# loss at the end must agree within 1e-4 nats (float32 sums in another
# order drift a little over the steps: about 5e-7 after 30 steps here),
# for the LSTM, the GRU and the tanh RNN, plain and with gradient
# checkpointing.
# Needs Debian's python3-torch for /usr/bin/python3; skips without it.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! [ -x $PY ] || ! $PY -c 'import torch, numpy' 2>/dev/null; then
	echo "SKIP rnn-torch: python3-torch (for /usr/bin/python3) is not installed"
	exit 0
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ -f ../shared/data/tinyshakespeare.txt ]; then
	head -c 60000 ../shared/data/tinyshakespeare.txt >"$tmp/text"
else
	for i in $(seq 150); do cat tests/cli/data/rnn-text.txt; done >"$tmp/text"
fi
STEPS=30
for cfg in "lstm 2 48 0" "gru 2 40 0" "rnn 1 64 0" "lstm 2 48 7"; do
	set -- $cfg
	name="rnn-torch-$1-L$2-H$3-ckpt$4"
	args="-q -m $1 -l $2 -H $3 -E 24 -b 16 -T 25 -r 3e-3 --clip 1 -c $4"
	rnn-train train $args -n 0 -o "$tmp/init.nkw" "$tmp/text" &&
		rnn-train train $args -n $STEPS --log-every 1 --eval-every $STEPS \
			-o "$tmp/m.nkw" --log "$tmp/ours.csv" "$tmp/text" ||
		{ echo "FAIL $name: rnn-train failed"; continue; }
	if ! $PY scripts/torch-charlm.py --init "$tmp/init.nkw" --data "$tmp/text" \
		--steps $STEPS >"$tmp/torch.txt" 2>"$tmp/err"; then
		echo "FAIL $name: torch-charlm.py: $(tail -n 2 "$tmp/err")"
		continue
	fi
	awk -F, 'NR > 1 { print $1, $2 } END { print "val", $3 }' "$tmp/ours.csv" >"$tmp/a"
	awk '$1 == "step" { print $2, $4 } $1 == "val" { print "val", $2 }' "$tmp/torch.txt" >"$tmp/b"
	worst=$(paste -d' ' "$tmp/a" "$tmp/b" | awk '
		$1 != $3 { print "misaligned"; exit }
		{ d = $2 - $4; if (d < 0) d = -d; if (d > w) { w = d; at = $1 } }
		END { if (NR != '$STEPS' + 1) print "rows " NR; else printf "%.2e at %s\n", w, at }')
	case $worst in
	[0-9]*) awk -v w="${worst%% *}" 'BEGIN { exit !(w <= 1e-4) }' &&
		echo "PASS $name (largest difference $worst; final loss $(tail -n 1 "$tmp/a" | cut -d' ' -f2))" ||
		echo "FAIL $name: difference $worst exceeds 1e-4" ;;
	*) echo "FAIL $name: $worst" ;;
	esac
done
exit 0
