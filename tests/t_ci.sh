# t_ci.sh - CI does not pass on a skip: .ci/run's SKIP gate (run alone with
# --check-skips on made-up logs), the README's list of accepted reasons
# matching the messages the tests really print, and scripts/deps' status
# not thrown away.
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count="41 passed, 0 failed, 2 skipped"
# The accepted messages as the Makefile and t_rnn_resume.sh print them.
tsan=$(sed -n 's/.*echo "\(SKIP tsan: [^"]*\)".*/\1/p' Makefile | head -n 1)
resume=$(sed -n 's/.*echo "\(SKIP resume-killed-run: [^"]*\)".*/\1/p' tests/t_rnn_resume.sh | sed 's/\$st/0/')
printf 'PASS a\n%s\n%s\n%s\n' "$tsan" "$resume" "$count" >"$tmp/ok.log"
out=$(bash .ci/run --check-skips "$tmp/ok.log" 2>"$tmp/err")
rc=$?
if [ -n "$tsan" ] && [ -n "$resume" ] && [ $rc -eq 0 ]; then
	echo "PASS ci-allowed-skips"
else
	echo "FAIL ci-allowed-skips: exit $rc on '$tsan' / '$resume': $(head -c 300 "$tmp/err")"
fi
printf 'PASS a\nSKIP nn-torch: Debian'"'"'s python3-torch is not installed\n%s\n%s\n' "$tsan" "$count" >"$tmp/bad.log"
out=$(bash .ci/run --check-skips "$tmp/bad.log" 2>"$tmp/err")
rc=$?
if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | tail -n 1)" = "$count" ] &&
	grep -q 'SKIP nn-torch' "$tmp/err" && ! grep -q 'SKIP tsan' "$tmp/err"; then
	echo "PASS ci-peer-skip-fails"
else
	echo "FAIL ci-peer-skip-fails: exit $rc, last line '$(printf '%s\n' "$out" | tail -n 1)', stderr: $(head -c 300 "$tmp/err")"
fi
# A skip whose reason only starts like an accepted one is not accepted.
printf 'SKIP resume-killed-run: the run ended (status 0) before the kill, and torch is missing\n%s\n' "$count" >"$tmp/tail.log"
if bash .ci/run --check-skips "$tmp/tail.log" >/dev/null 2>&1; then
	echo "FAIL ci-whole-line: an accepted reason with more after it passed"
else
	echo "PASS ci-whole-line"
fi
if grep -q 'scripts/deps.*|| *true' .ci/run; then
	echo "FAIL ci-deps-status: .ci/run ignores scripts/deps' exit status"
else
	echo "PASS ci-deps-status"
fi
