# t_bert_mask.sh - bert-mask end to end: vocab, mask, train, fill, eval on
# real text; exact resume; gradient checkpointing with the same losses;
# outputs left alone by a failing run; and against PyTorch
# (scripts/torch-bert.py): 10 AdamW steps from the same weights on the
# same masks with per-step losses within 1e-4, and fill-mask probabilities
# within 1e-5.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
. tests/memcap.sh
if [ -f ../shared/data/sotu.txt ]; then
	head -c 400000 ../shared/data/sotu.txt >"$tmp/text"
	tail -c 40000 ../shared/data/sotu.txt >"$tmp/held"
else
	for i in 1 2 3 4 5 6 7 8; do cat man/*; done | head -c 400000 >"$tmp/text"
	head -c 40000 "$tmp/text" >"$tmp/held"
fi

# A small model on real text: the loss falls, fill and eval answer.
small="-T 32 -H 32 -A 2 -l 1 -b 8 --eval-every 20 --log-every 5 -q"
if bert-mask vocab -n 1000 -o "$tmp/vocab.txt" "$tmp/text" &&
	bert-mask train --vocab "$tmp/vocab.txt" $small --steps 60 -r 3e-3 \
		--log "$tmp/log.csv" -o "$tmp/m.nkw" "$tmp/text"; then
	first=$(awk -F, 'NR == 2 { print $2 }' "$tmp/log.csv")
	last=$(awk -F, 'END { print $2 }' "$tmp/log.csv")
	if awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.5) }'; then
		echo "PASS bert-train-learns (loss $first -> $last)"
	else
		echo "FAIL bert-train-learns: loss $first -> $last"
	fi
else
	echo "FAIL bert-train-learns: vocab or train failed"
fi
out=$(bert-mask fill -m "$tmp/m.nkw" -k 3 'the [MASK] of the united states' 2>&1)
n=$(printf '%s\n' "$out" | awk -F'\t' 'NF == 5 && $1 == 1 && $2 == 1 && $4 > 0 && $4 <= 1' | wc -l)
[ "$n" = 3 ] && echo "PASS bert-fill-lines" || echo "FAIL bert-fill-lines: $out"
out=$(printf 'a [MASK] b [MASK]\nno mask here\n' | bert-mask fill -m "$tmp/m.nkw" -k 2 --json 2>"$tmp/err")
rc=$?
if [ $rc = 1 ] && grep -q '(stdin):2: no \[MASK\]' "$tmp/err" &&
	printf '%s\n' "$out" | $PY -c 'import json, sys
d = json.loads(sys.stdin.readline())
assert sys.stdin.readline() == "null\n"   # the refused text keeps its line
assert len(d) == 2 and all(len(x) == 2 for x in d)
assert all(set(c) == {"score", "token", "token_str", "sequence"} for x in d for c in x)
assert "[MASK]" in d[0][0]["sequence"]' 2>"$tmp/pyerr"; then
	echo "PASS bert-fill-json"
else
	echo "FAIL bert-fill-json: rc $rc, $(cat "$tmp/err" "$tmp/pyerr")"
fi
out=$(bert-mask eval -m "$tmp/m.nkw" "$tmp/held" 2>&1)
case $out in
loss\ [0-9]*perplexity*top-1*top-5*) echo "PASS bert-eval ($out)" ;;
*) echo "FAIL bert-eval: $out" ;;
esac

# Instances masked with a larger --max-pred than train's and eval's own
# (mask -p 0.5 --max-pred 30, then the defaults; train --max-pred 2): the
# workspaces take the instances' counts.  Before, train's validation
# overran its buffer (glibc: "malloc(): invalid size") and eval printed
# a loss of nan.
if bert-mask mask --vocab "$tmp/vocab.txt" -T 32 -p 0.5 --max-pred 30 \
		-o "$tmp/many.mlm" "$tmp/held" &&
	bert-mask train --vocab "$tmp/vocab.txt" -T 32 -H 32 -A 2 -l 1 -b 8 \
		--steps 3 --max-pred 2 --val-fraction 0.3 -q -o "$tmp/mp.nkw" \
		"$tmp/many.mlm" 2>"$tmp/err" &&
	out=$(bert-mask eval -m "$tmp/mp.nkw" --max-pred 1 "$tmp/many.mlm" 2>&1) &&
	case $out in loss\ [0-9]*) true ;; *) false ;; esac; then
	echo "PASS bert-more-masks-than-max-pred ($out)"
else
	echo "FAIL bert-more-masks-than-max-pred: $(cat "$tmp/err") ${out:-}"
fi

# Exact resume: 10 steps in one run equal 4 steps and a resume to 10
# (a constant schedule: the linear one's slope depends on --steps; the
# 4-step run's own validation at its end adds a value to its row 4).
args="--vocab $tmp/vocab.txt $small --log-every 1 --eval-every 5 --schedule constant --warmup 2"
bert-mask train $args --steps 10 --log "$tmp/a.csv" -o "$tmp/a.nkw" "$tmp/text" &&
	bert-mask train $args --steps 4 --log "$tmp/b.csv" -o "$tmp/b.nkw" "$tmp/text" &&
	bert-mask train --resume --steps 10 -q --log "$tmp/b.csv" -o "$tmp/b.nkw" "$tmp/text"
cut -d, -f1,2,5 "$tmp/a.csv" >"$tmp/a.cut"
cut -d, -f1,2,5 "$tmp/b.csv" >"$tmp/b.cut"
if [ -s "$tmp/a.cut" ] && cmp -s "$tmp/a.cut" "$tmp/b.cut" &&
	[ "$(sed -n 11p "$tmp/a.csv" | cut -d, -f3)" = "$(sed -n 11p "$tmp/b.csv" | cut -d, -f3)" ]; then
	echo "PASS bert-resume-exact"
else
	echo "FAIL bert-resume-exact: $(diff "$tmp/a.csv" "$tmp/b.csv" | head -n 4 | tr '\n' ' ')"
fi
# Gradient checkpointing: the same losses, bit for bit.
bert-mask train $args --steps 6 -c --log "$tmp/c.csv" -o "$tmp/c.nkw" "$tmp/text"
if [ "$(head -n 7 "$tmp/a.csv" | cut -d, -f1,2,5)" = "$(cut -d, -f1,2,5 "$tmp/c.csv")" ]; then
	echo "PASS bert-checkpoint-same-losses"
else
	echo "FAIL bert-checkpoint-same-losses"
fi
# A failing run leaves the model it would have replaced.
cp "$tmp/m.nkw" "$tmp/keep.nkw"
printf '1 2 3\n' >"$tmp/ids"
bert-mask train --resume -o "$tmp/m.nkw" /nonexistent 2>/dev/null
if [ $? = 1 ] && cmp -s "$tmp/m.nkw" "$tmp/keep.nkw"; then
	echo "PASS bert-failed-run-keeps-model"
else
	echo "FAIL bert-failed-run-keeps-model"
fi
# Bad inputs named with file and line.
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nthe\n' >"$tmp/dup.txt"
msg=$(bert-mask train --vocab "$tmp/dup.txt" -o "$tmp/x.nkw" "$tmp/text" 2>&1)
case $msg in *dup.txt:7*) echo "PASS bert-vocab-duplicate" ;; *) echo "FAIL bert-vocab-duplicate: $msg" ;; esac
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n' >"$tmp/nomask.txt"
msg=$(bert-mask train --vocab "$tmp/nomask.txt" -o "$tmp/x.nkw" "$tmp/text" 2>&1)
case $msg in *nomask.txt*'[MASK]'*) echo "PASS bert-vocab-no-mask" ;; *) echo "FAIL bert-vocab-no-mask: $msg" ;; esac
printf '1 2 3\n4 5 60\n' >"$tmp/big.ids"
msg=$(bert-mask train --ids 50 -o "$tmp/x.nkw" "$tmp/big.ids" 2>&1)
case $msg in *big.ids:2*) echo "PASS bert-ids-beyond" ;; *) echo "FAIL bert-ids-beyond: $msg" ;; esac
[ -e "$tmp/x.nkw" ] && echo "FAIL bert-bad-input-writes-nothing" || echo "PASS bert-bad-input-writes-nothing"
msg=$(bert-mask fill -m "$tmp/m.nkw" "$(printf 'word %.0s' $(seq 40)) [MASK]" 2>&1)
case $msg in *"the model reads at most 32"*) echo "PASS bert-fill-too-long" ;; *) echo "FAIL bert-fill-too-long: $msg" ;; esac

# On tiny models: inputs told apart by their content, instances without
# masks masked, options checked rather than ignored, errors named.
T="-l 1 -H 16 -A 2 --ff 32 -b 4 -q"
check() { # NAME CONDITION-STATUS MESSAGE
	[ "$2" = 0 ] && echo "PASS $1" || echo "FAIL $1: $3"
}
head -c 20000 "$tmp/text" >"$tmp/small"
bert-mask vocab -n 200 -q -o "$tmp/v.txt" "$tmp/small"
bert-mask mask --vocab "$tmp/v.txt" -T 16 --text -o "$tmp/inst.txt" "$tmp/small"
awk -F'\t' 'BEGIN { OFS = "\t" } { $4 = ""; $5 = ""; print }' "$tmp/inst.txt" >"$tmp/nomask.txt"
bert-mask train --vocab "$tmp/v.txt" $T --steps 5 --eval-every 5 --log "$tmp/nm.csv" \
	-o "$tmp/nm.nkw" "$tmp/nomask.txt" 2>"$tmp/err"
check bert-instances-without-masks-train $(awk -F, 'END { exit !($2 > 1 && $3 > 1) }' "$tmp/nm.csv"; echo $?) \
	"$(cat "$tmp/err" "$tmp/nm.csv" | tail -n 2)"
msg=$(bert-mask eval -m "$tmp/nm.nkw" "$tmp/nomask.txt" 2>&1)
case $msg in loss\ [1-9]*) r=0 ;; *) r=1 ;; esac
check bert-instances-without-masks-eval $r "$msg"
printf '1\tThe first chapter\nmore text\n' >"$tmp/tabtext"
bert-mask mask --vocab "$tmp/v.txt" --text -o "$tmp/o" "$tmp/tabtext" 2>"$tmp/err"
check bert-kind-text-with-tab $? "$(cat "$tmp/err")"
printf '1\t2\t3\n4 5 6\n' | bert-mask mask --ids 300 --text -T 8 >"$tmp/o" 2>"$tmp/err"
check bert-kind-ids-with-tabs $? "$(cat "$tmp/err")"
{ echo; cat "$tmp/inst.txt"; } >"$tmp/blank1.txt"
msg=$(bert-mask mask --ids 300 --text "$tmp/blank1.txt" 2>&1 >/dev/null)
case $msg in *blank1.txt:1:*) r=0 ;; *) r=1 ;; esac
check bert-kind-instances-after-blank $r "$msg"
msg=$(bert-mask mask --vocab "$tmp/v.txt" --text "$tmp/nm.nkw" 2>&1 >/dev/null)
case $msg in *nm.nkw:\ offset\ *NUL*) r=0 ;; *) r=1 ;; esac
check bert-kind-binary-as-text $r "$msg"
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n' >"$tmp/specials.txt"
msg=$(bert-mask train --vocab "$tmp/specials.txt" $T --steps 5 -o "$tmp/sp.nkw" "$tmp/small" 2>&1)
case $msg in *specials.txt:\ no\ tokens\ besides*) r=0 ;; *) r=1 ;; esac
[ -e "$tmp/sp.nkw" ] && r=1
check bert-vocab-only-specials $r "$msg"
printf '\357\273\277' | cat - "$tmp/v.txt" >"$tmp/bom.txt"
msg=$(bert-mask mask --vocab "$tmp/bom.txt" --text "$tmp/small" 2>&1 >/dev/null)
case $msg in *bom.txt:1:*byte-order\ mark*) r=0 ;; *) r=1 ;; esac
check bert-vocab-bom $r "$msg"
# --resume: the saved settings, or the same values; never fewer steps.
bert-mask train --vocab "$tmp/v.txt" $T --steps 8 -o "$tmp/r.nkw" "$tmp/small"
cp "$tmp/r.nkw" "$tmp/r0.nkw"
r=0
for opt in "-H 64" "-A 4" "-l 3" "-T 16" "-b 2" "-r 0.5" "-s 9" "--pairs" "-p 0.9" "--steps 3" "--alibi"; do
	bert-mask train --resume -o "$tmp/r.nkw" --steps 10 $opt "$tmp/small" 2>"$tmp/err"
	rc=$?
	{ [ $rc = 2 ] && cmp -s "$tmp/r.nkw" "$tmp/r0.nkw"; } || { r=1; echo "    $opt: exit $rc"; }
done
bert-mask train --resume -o "$tmp/r.nkw" --steps 10 -H 16 -l 1 -b 4 -s 1 -q "$tmp/small" || r=1
check bert-resume-options $r "$(cat "$tmp/err")"
# mask passes an instance stream through: what would build it is refused.
bert-mask mask --vocab "$tmp/v.txt" --text "$tmp/inst.txt" | cmp -s - "$tmp/inst.txt"
r=$?
for opt in "-T 16" "--dupe 2" "-p 0.5" "--pairs" "--max-pred 3"; do
	bert-mask mask --vocab "$tmp/v.txt" --text $opt "$tmp/inst.txt" >/dev/null 2>&1
	[ $? = 2 ] || { r=1; echo "    mask $opt: not refused"; }
done
check bert-mask-instances-options $r ""
# Outputs: the directory first, the reasons named, an old log kept.
msg=$(bert-mask train --vocab "$tmp/v.txt" $T --steps 5 -o "$tmp/nodir/x.nkw" "$tmp/small" 2>&1)
case $msg in *nodir/x.nkw:\ cannot\ create*) r=0 ;; *) r=1 ;; esac
check bert-train-output-dir-first $r "$msg"
if [ -w /dev/full ]; then
	# The model cannot be saved: the run fails after it has trained.
	echo precious >"$tmp/keep.csv"
	bert-mask train --vocab "$tmp/v.txt" $T --steps 5 --log "$tmp/keep.csv" -o /dev/full \
		"$tmp/small" 2>/dev/null
	check bert-failed-run-keeps-log $([ "$(cat "$tmp/keep.csv")" = precious ] &&
		[ -z "$(ls -A "$tmp" | grep '^\.keep')" ]; echo $?) "$(head -n 2 "$tmp/keep.csv")"
	msg=$(bert-mask train --vocab "$tmp/v.txt" $T --steps 5 --log /dev/full -o "$tmp/f.nkw" "$tmp/small" 2>&1)
	case $msg in */dev/full:\ write\ failed:\ No\ space*) r=0 ;; *) r=1 ;; esac
	check bert-log-write-error $r "$msg"
	msg=$(bert-mask mask --vocab "$tmp/v.txt" -o /dev/full "$tmp/small" 2>&1)
	case $msg in */dev/full:\ writing*No\ space*) r=0 ;; *) r=1 ;; esac
	check bert-mask-write-error $r "$msg"
	msg=$(bert-mask fill -m "$tmp/nm.nkw" 'the [MASK]' 2>&1 >/dev/full)
	case $msg in *standard\ output:\ write\ failed:\ No\ space*) r=0 ;; *) r=1 ;; esac
	check bert-fill-write-error $r "$msg"
fi
# fill: CRs dropped, NULs refused with their place, arguments named so.
bert-mask fill -m "$tmp/nm.nkw" -k 2 'the [MASK] of' >"$tmp/lf"
printf 'the [MASK] of\r\na\0b [MASK]\n' | bert-mask fill -m "$tmp/nm.nkw" -k 2 >"$tmp/crlf" 2>"$tmp/err"
r=$?
[ $r = 1 ] && cmp -s "$tmp/lf" "$tmp/crlf" && grep -q '(stdin):2: column 2: a NUL byte' "$tmp/err"
check bert-fill-crlf-nul $? "rc $r, $(cat "$tmp/err")"
msg=$(bert-mask fill -m "$tmp/nm.nkw" 'x' 2>&1)
case $msg in *"argument 1: no [MASK]"*) r=0 ;; *) r=1 ;; esac
check bert-fill-argument-named $r "$msg"
# Small things: -n below what the text needs, getopt's name, the batch cap.
msg=$(bert-mask vocab -n 20 "$tmp/small" 2>&1 >/dev/null)
case $msg in *"-n 20: "*tokens*) r=0 ;; *) r=1 ;; esac
check bert-vocab-more-than-n $r "$msg"
msg=$("$PWD/$BUILD/bin/bert-mask" --bogus 2>&1)
case $msg in "bert-mask: unrecognized option"*) r=0 ;; *) r=1 ;; esac
check bert-getopt-name $r "$msg"
msg=$(memcap 1950 bert-mask eval -m "$tmp/nm.nkw" -b 100000 "$tmp/small" 2>&1)
case $msg in loss*) r=0 ;; *) r=1 ;; esac
check bert-eval-batch-capped $r "$msg"

# Against PyTorch: token ids 0..49, 10 AdamW steps, full batch.
if ! [ -x $PY ] || ! $PY -c 'import torch, numpy' 2>/dev/null; then
	echo "SKIP bert-torch-steps: python3-torch (for /usr/bin/python3) is not installed"
	echo "SKIP bert-torch-fill-tanh: python3-torch (for /usr/bin/python3) is not installed"
	echo "SKIP bert-torch-fill-alibi: python3-torch (for /usr/bin/python3) is not installed"
	exit 0
fi
awk 'BEGIN { srand(5); for (d = 0; d < 6; d++) { for (s = 0; s < 5; s++) {
	n = 3 + int(rand() * 9); for (i = 0; i < n; i++) printf "%d%s", int(rand() * 50), i < n - 1 ? " " : "\n" }
	print "" } }' >"$tmp/c.ids"
# erf and tanh GELU; ALiBi's penalty (with erf, 8 heads)
for gelu in erf tanh alibi; do
	targs="--ids 50 -T 24 -H 32 -A 4 -l 2 --ff 48 --dropout 0 -p 0.2 --val-fraction 0 -q"
	case $gelu in alibi) targs="$targs -A 8 --alibi" ;; *) targs="$targs --gelu $gelu" ;; esac
	bert-mask mask --ids 50 -T 24 -p 0.2 --text --dupe 2 -o "$tmp/c.mlmt" "$tmp/c.ids" &&
	n=$(wc -l <"$tmp/c.mlmt") &&
	bert-mask train $targs -b "$n" --steps 10 --warmup 3 -r 3e-3 --steps 0 -o "$tmp/init.nkw" "$tmp/c.mlmt" &&
	bert-mask train $targs -b "$n" --steps 10 --warmup 3 -r 3e-3 --log-every 1 --log "$tmp/t.csv" \
		-o "$tmp/t-$gelu.nkw" "$tmp/c.mlmt" || { echo "FAIL bert-torch-steps-$gelu: bert-mask failed"; continue; }
	if ! $PY scripts/torch-bert.py steps --init "$tmp/init.nkw" --run "$tmp/t-$gelu.nkw" \
		--instances "$tmp/c.mlmt" --steps 10 >"$tmp/torch.txt" 2>"$tmp/err"; then
		echo "FAIL bert-torch-steps-$gelu: $(tail -n 2 "$tmp/err")"
		continue
	fi
	worst=$(paste -d' ' <(awk -F, 'NR > 1 { print $1, $2 }' "$tmp/t.csv") \
		<(awk '{ print $2, $4 }' "$tmp/torch.txt") | awk '
		$1 != $3 { print "misaligned"; exit }
		{ d = $2 - $4; if (d < 0) d = -d; if (d > w) { w = d; at = $1 } }
		END { if (NR != 10) print "rows " NR; else printf "%.2e at step %s\n", w, at }')
	case $worst in
	[0-9]*) awk -v w="${worst%% *}" 'BEGIN { exit !(w <= 1e-4) }' &&
		echo "PASS bert-torch-steps-$gelu (largest difference $worst over 10 steps)" ||
		echo "FAIL bert-torch-steps-$gelu: difference $worst exceeds 1e-4" ;;
	*) echo "FAIL bert-torch-steps-$gelu: $worst" ;;
	esac
done
ids="7 [MASK] 12 3 [MASK] 40"
for kind in tanh alibi; do
bert-mask fill -m "$tmp/t-$kind.nkw" -k 55 "$ids" >"$tmp/ours.fill"
$PY scripts/torch-bert.py fill --model "$tmp/t-$kind.nkw" --ids "52 7 54 12 3 54 40 53" >"$tmp/torch.fill"
worst=$(awk 'NR == FNR { p[$2 " " $5] = $4; next }
	{ tok = $2 >= 50 ? "[" ($2 == 50 ? "PAD" : $2 == 51 ? "UNK" : $2 == 52 ? "CLS" : $2 == 53 ? "SEP" : "MASK") "]" : $2
	  k = $1 " " tok; if (!(k in p)) { miss++; next }
	  d = p[k] - $3; if (d < 0) d = -d; if (d > w) w = d; n++ }
	END { if (miss || n != 110) print "compared " n ", missing " miss; else printf "%.2e\n", w }' \
	"$tmp/ours.fill" "$tmp/torch.fill")
case $worst in
[0-9]*) awk -v w="$worst" 'BEGIN { exit !(w <= 1e-5) }' &&
	echo "PASS bert-torch-fill-$kind (largest probability difference $worst over 2 masks x 55 ids)" ||
	echo "FAIL bert-torch-fill-$kind: difference $worst exceeds 1e-5" ;;
*) echo "FAIL bert-torch-fill-$kind: $worst" ;;
esac
done
