#!/usr/bin/env bash
# run.sh - runs every test and prints `N passed, N failed, N skipped` last.
#
# Every piece of the suite speaks one line per check: PASS name, FAIL name:
# why, or SKIP name: why.  This script runs them all and counts those lines:
#   - unit tests        $BUILD/tests/test_*
#   - fuzz corpora      $BUILD/tests/replay_NAME over tests/fuzz/corpus/NAME
#   - CLI golden tables tests/cli/*.t (see tests/cli.sh)
#   - script tests      tests/t_*.sh (peers, Python reader, man pages, ...)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
export PATH="$PWD/$BUILD/bin:$PATH"
log=$(mktemp)
# tokenize's cache of compiled vocabularies goes to a folder of the run's
# own, not the user's ~/.cache (tests that need it off or elsewhere say so).
NNKIT_VOCAB_CACHE=$(mktemp -d)
export NNKIT_VOCAB_CACHE
trap 'rm -f "$log"; rm -rf "$NNKIT_VOCAB_CACHE"' EXIT
# NK_ONLY="name ..." runs just those pieces (make tsan uses it).
wanted() { [ -z "${NK_ONLY:-}" ] || [[ " $NK_ONLY " == *" $1 "* ]]; }

# Runs one piece; a piece that exits non-zero without a FAIL line of its own
# (a crash, a sanitizer abort) still counts as a failure.
run_piece() {
	local name=$1; shift
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) ' >>"$log"
	printf '%s\n' "$out" | grep -E '^(FAIL|SKIP) '
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
		echo "FAIL $name: exited $rc" | tee -a "$log"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
	elif printf '%s\n' "$out" | grep -q '^FAIL '; then
		printf '%s\n' "$out" | grep -v -E '^(PASS|SKIP) ' | grep -v '^FAIL ' | tail -n 20 | sed 's/^/    /'
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && wanted "$(basename "$t")" || continue
	echo "== $(basename "$t")"
	run_piece "$(basename "$t")" "$t"
done

for r in "$BUILD"/tests/replay_*; do
	[ -x "$r" ] || continue
	name=${r##*/replay_}
	wanted "fuzz-corpus-$name" || continue
	echo "== fuzz corpus $name"
	corpus=tests/fuzz/corpus/$name
	if [ ! -d "$corpus" ]; then
		echo "FAIL fuzz-corpus-$name: no corpus in $corpus" | tee -a "$log"
		continue
	fi
	out=$("$r" "$corpus" 2>&1)
	if [ $? -eq 0 ]; then
		echo "PASS fuzz-corpus-$name: $(printf '%s' "$out" | tail -n 1)" >>"$log"
	else
		echo "FAIL fuzz-corpus-$name" | tee -a "$log"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/    /'
	fi
done

for t in tests/cli/*.t; do
	[ -e "$t" ] && wanted "cli-$(basename "$t")" || continue
	echo "== cli $(basename "$t")"
	run_piece "cli-$(basename "$t")" tests/cli.sh "$t"
done

for t in tests/t_*.sh; do
	[ -e "$t" ] && wanted "$(basename "$t")" || continue
	echo "== $(basename "$t")"
	run_piece "$(basename "$t")" bash "$t"
done

pass=$(grep -c '^PASS ' "$log")
fail=$(grep -c '^FAIL ' "$log")
skip=$(grep -c '^SKIP ' "$log")
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
