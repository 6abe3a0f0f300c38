# t_rnn_resume.sh - rnn-train's training runs end to end:
#   - a run killed (SIGKILL) and resumed with --resume ends at the same
#     losses, bit for bit in the log, and the same weights, as one left
#     alone; so does a run stopped at a checkpoint and extended;
#   - the step reports (with and without validation) say what their
#     training loss is: the mean since the previous report;
#   - gradient checkpointing (--checkpoint K, auto) gives the same loss
#     curve as the plain run; the same thread count gives the same curve;
#   - bad input (empty, too short, other data on --resume, a damaged model)
#     fails with exit 1 and leaves an existing model file as it was.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

for i in $(seq 12); do cat tests/cli/data/rnn-text.txt; done >"$tmp/text"
# Losses per step; when a resumed run logged a step twice, the last wins.
losses() { awk -F, 'NR > 1 { v[$1] = $2 "," $3 } END { for (k in v) print k "," v[k] }' "$1" | sort -n; }
ok() { if [ "$1" = 0 ]; then echo "PASS $2"; else echo "FAIL $2: $3"; fi; }

# Dropout and an LSTM with c carried: everything the resume must restore.
args="-q -m lstm -l 2 -H 96 -E 32 -d 0.2 -b 8 -T 32 -r 3e-3 --schedule cosine
	--warmup 5 --eval-every 10 --log-every 1 --save-every 10"

rnn-train train $args -n 300 -o "$tmp/a.nkw" --log "$tmp/a.csv" "$tmp/text"
ok $? train-runs "exit $?"
[ "$(losses "$tmp/a.csv" | wc -l)" = 300 ]
ok $? train-logs-every-step "$(wc -l <"$tmp/a.csv") rows"

# Killed after a checkpoint, then resumed.
rnn-train train $args -n 300 -o "$tmp/b.nkw" --log "$tmp/b.csv" "$tmp/text" &
pid=$!
while [ ! -s "$tmp/b.nkw" ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done
sleep 0.2
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
st=$?
pid=
if [ $st = 137 ]; then
	echo "PASS resume-killed-run ($(tail -n 1 "$tmp/b.csv" | cut -d, -f1) steps logged when killed)"
else
	echo "SKIP resume-killed-run: the run ended (status $st) before the kill"
fi
rnn-train train $args -n 300 --resume -o "$tmp/b.nkw" --log "$tmp/b.csv" "$tmp/text"
ok $? resume-exit "exit $?"
diff <(losses "$tmp/a.csv") <(losses "$tmp/b.csv") >"$tmp/d" 2>&1
ok $? resume-same-losses "$(head -n 3 "$tmp/d")"

# Stopped at step 70 and extended to 120 (a constant rate, so the
# shorter run is the first part of the longer one).
cargs="-q -m gru -l 2 -H 24 -E 8 -d 0.1 -b 4 -T 16 --eval-every 10 --log-every 1"
rnn-train train $cargs -n 120 -o "$tmp/f.nkw" --log "$tmp/f.csv" "$tmp/text"
rnn-train train $cargs -n 70 -o "$tmp/g.nkw" --log "$tmp/g.csv" "$tmp/text"
rnn-train train $cargs -n 120 --resume -o "$tmp/g.nkw" --log "$tmp/g.csv" "$tmp/text"
diff <(losses "$tmp/f.csv") <(losses "$tmp/g.csv") >"$tmp/d" 2>&1
ok $? resume-extend-same-losses "$(head -n 3 "$tmp/d")"

# Same weights: sampling and evaluating them gives the same bytes.
s1=$(rnn-train sample -n 300 -s 7 "$tmp/a.nkw" | od -c)
s2=$(rnn-train sample -n 300 -s 7 "$tmp/b.nkw" | od -c)
[ -n "$s1" ] && [ "$s1" = "$s2" ]
ok $? resume-same-weights "samples differ"
s3=$(rnn-train sample -n 300 -s 7 "$tmp/f.nkw" | od -c)
s4=$(rnn-train sample -n 300 -s 7 "$tmp/g.nkw" | od -c)
[ -n "$s3" ] && [ "$s3" = "$s4" ]
ok $? resume-extend-same-weights "samples differ"
# ... and the loss really moved: the model learned the text.
first=$(awk -F, 'NR == 2 { print $2 }' "$tmp/a.csv")
last=$(awk -F, 'END { print $3 }' "$tmp/a.csv")
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a / 2) }'
ok $? train-learns "loss $first -> validation $last"

# Gradient checkpointing: the same curve as the plain run.
for k in 0 3 auto 16; do
	rnn-train train $cargs -d 0.2 -n 40 -c $k -o "$tmp/k$k.nkw" --log "$tmp/k$k.csv" "$tmp/text"
done
for k in 3 auto 16; do
	diff <(losses "$tmp/k0.csv") <(losses "$tmp/k$k.csv") >"$tmp/d" 2>&1
	ok $? "checkpoint-$k-same-losses" "$(head -n 3 "$tmp/d")"
done
# The same thread count gives the same curve.
rnn-train train $cargs -n 30 -j 2 -o "$tmp/j1.nkw" --log "$tmp/j1.csv" "$tmp/text"
rnn-train train $cargs -n 30 -j 2 -o "$tmp/j2.nkw" --log "$tmp/j2.csv" "$tmp/text"
diff <(losses "$tmp/j1.csv") <(losses "$tmp/j2.csv") >"$tmp/d" 2>&1
ok $? same-threads-same-losses "$(head -n 3 "$tmp/d")"

# The step reports: one every --eval-every steps and at the end, with or
# without validation; the training loss is the mean since the previous
# report, labelled, and equals the CSV's row when rows come as often.
rargs="-m rnn -l 1 -H 16 -E 8 -b 4 -T 16 -n 25 --eval-every 10 --log-every 10"
rnn-train train $rargs --val-fraction 0 -o "$tmp/r.nkw" --log "$tmp/r.csv" \
	"$tmp/text" 2>"$tmp/err"
rc=$?
grep -c '^rnn-train: step ' "$tmp/err" >"$tmp/n"
[ $rc = 0 ] && [ "$(cat "$tmp/n")" = 3 ] &&
	grep -q '^rnn-train: step 10: train [0-9.]* nats/char (mean of steps 1-10)$' "$tmp/err" &&
	grep -q '^rnn-train: step 25: train [0-9.]* nats/char (mean of steps 21-25)$' "$tmp/err"
ok $? report-without-validation "exit $rc: $(head -c 300 "$tmp/err")"
mean() { awk -F, -v s="$2" '$1 == s { printf "%.4f", $2 }' "$1"; }
grep -q "^rnn-train: step 20: train $(mean "$tmp/r.csv" 20) nats/char (mean of steps 11-20)$" "$tmp/err"
ok $? report-mean-as-csv "csv $(mean "$tmp/r.csv" 20): $(grep 'step 20' "$tmp/err")"
rnn-train train $rargs -o "$tmp/r.nkw" "$tmp/text" 2>"$tmp/err"
grep -q '^rnn-train: step 20: train [0-9.]* nats/char (mean of steps 11-20), validation [0-9.]* nats/char ([0-9.]* bits/char)$' "$tmp/err"
ok $? report-with-validation "$(head -c 300 "$tmp/err")"
rnn-train train $rargs -q --val-fraction 0 -o "$tmp/r.nkw" "$tmp/text" 2>"$tmp/err"
[ ! -s "$tmp/err" ]
ok $? report-quiet "$(head -c 300 "$tmp/err")"

# Bad input leaves an existing model alone.
cp "$tmp/a.nkw" "$tmp/keep.nkw"
check_kept() { # name, then the command (stdin from $tmp/in)
	local name=$1; shift
	"$@" <"$tmp/in" >/dev/null 2>"$tmp/err"
	local rc=$?
	if [ $rc = 1 ] && cmp -s "$tmp/a.nkw" "$tmp/keep.nkw"; then
		echo "PASS $name"
	else
		echo "FAIL $name: exit $rc, model $(cmp -s "$tmp/a.nkw" "$tmp/keep.nkw" && echo kept || echo changed): $(head -c 200 "$tmp/err")"
	fi
	cp "$tmp/keep.nkw" "$tmp/a.nkw"
}
: >"$tmp/in"
check_kept no-overwrite-empty rnn-train train -q -o "$tmp/a.nkw" -
printf 'short text' >"$tmp/in"
check_kept no-overwrite-short rnn-train train -q -b 4 -T 16 -o "$tmp/a.nkw" -
check_kept no-overwrite-resume-other-data rnn-train train -q --resume -o "$tmp/a.nkw" -
printf 'the cat sat on the mat' >"$tmp/in"
check_kept no-overwrite-resume-other-data2 rnn-train train -q --resume -o "$tmp/a.nkw" -
printf 'the Cat\n' >"$tmp/in"
check_kept no-overwrite-resume-bad-char rnn-train train -q --resume -o "$tmp/a.nkw" -
cp tests/cli/data/rnn-other.nkw "$tmp/other.nkw"
cp "$tmp/text" "$tmp/in"
rnn-train train -q --resume -o "$tmp/other.nkw" "$tmp/text" 2>"$tmp/err"
rc=$?
cmp -s "$tmp/other.nkw" tests/cli/data/rnn-other.nkw && [ $rc = 1 ] && grep -q w2v-train "$tmp/err"
ok $? no-overwrite-other-program "exit $rc: $(cat "$tmp/err")"
# A damaged checkpoint: refused, and not replaced.
cp "$tmp/a.nkw" "$tmp/bad.nkw"
printf '\x55' | dd of="$tmp/bad.nkw" bs=1 seek=300 conv=notrunc 2>/dev/null
cp "$tmp/bad.nkw" "$tmp/bad0.nkw"
rnn-train train -q --resume -o "$tmp/bad.nkw" "$tmp/text" 2>"$tmp/err"
rc=$?
cmp -s "$tmp/bad.nkw" "$tmp/bad0.nkw" && [ $rc = 1 ] && grep -q -i crc "$tmp/err"
ok $? no-overwrite-damaged "exit $rc: $(cat "$tmp/err")"

# --log: an existing log outlives a run that fails before its first
# checkpoint (here at once: -o's directory does not exist); a log that
# cannot be written stops the run, naming the file and the reason.
echo precious >"$tmp/keep.csv"
rnn-train train -q --steps 5 --log "$tmp/keep.csv" -o "$tmp/nodir/m.nkw" "$tmp/text" 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && [ "$(cat "$tmp/keep.csv")" = precious ] && grep -q "nodir/m.nkw: cannot create" "$tmp/err" &&
	[ -z "$(ls -A "$tmp" | grep '^\.keep')" ]
ok $? log-kept-on-failure "exit $rc: $(cat "$tmp/err"), log: $(head -c 80 "$tmp/keep.csv")"
if [ -w /dev/full ]; then
	rnn-train train -q --steps 5 --log /dev/full -o "$tmp/f.nkw" "$tmp/text" 2>"$tmp/err"
	rc=$?
	[ $rc = 1 ] && grep -q "/dev/full: write failed: No space left on device" "$tmp/err"
	ok $? log-write-error "exit $rc: $(cat "$tmp/err")"
fi
exit 0
