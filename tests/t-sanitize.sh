#!/bin/sh
# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, and
# each libFuzzer target of a parser of outside input for FUZZ_SECONDS
# (default 30) from the seed corpus in tests/fuzz/corpus.  Leak checks are
# off: error paths end in exit() by design, with memory still held.
. "$(dirname "$0")/lib.sh"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
secs=${FUZZ_SECONDS:-30}
"$top/build/unit-asan" > "$work/unit.log" 2>&1
r=$?; [ $r = 0 ] && ! grep -q '^not ok' "$work/unit.log"
ok $? "unit tests under ASan+UBSan" "$(grep -c '^ok' "$work/unit.log") ok (exit $r)"
for f in record ingest variants procfs report; do
	mkdir -p "$work/corpus-$f"
	"$top/build/fuzz-$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/artifact-$f-" "$work/corpus-$f" "$top/tests/fuzz/corpus/$f" > "$work/fuzz-$f.log" 2>&1
	ok $? "fuzz-$f for FUZZ_SECONDS without a crash" \
		"$secs s; $(grep -o 'Done [0-9]* runs' "$work/fuzz-$f.log")$(grep -m1 -h -E 'ERROR|SUMMARY' "$work/fuzz-$f.log")"
done
done_testing
