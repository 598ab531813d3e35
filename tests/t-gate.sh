#!/bin/sh
# The gate on real kernels: the off-switch of batched lazyfree unmap fails
# it, an unrelated patch (documentation only) passes it.
. "$(dirname "$0")/lib.sh"
db=$work/gate.db
printf 'From: reclaimbench tests\nSubject: [PATCH] Documentation: a note\n\n---\n' > "$work/unrelated.patch"
cat >> "$work/unrelated.patch" <<'EOP'
diff --git a/Documentation/rb-gate-note.txt b/Documentation/rb-gate-note.txt
new file mode 100644
--- /dev/null
+++ b/Documentation/rb-gate-note.txt
@@ -0,0 +1 @@
+A note that changes no code.
EOP
"$rb" gate --base 7.3 --patch "$top/kernels/patches/7.3/no-lazyfree-batch.patch" --bench lazyfree_mthp \
	--boots 4 --reps 5 --db "$db" --out "$work/out" > "$work/fail.log" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'FAIL' "$work/fail.log"; ok $? "the lazyfree off-switch fails the gate (exit $rc): $(grep -E 'time.wall|verdict' "$work/fail.log" | tr -s ' ' | tr '\n' ';')"
grep -q 'mthp.split_deferred .* 0 .* 2048' "$work/fail.log"; ok $? "the report shows split_deferred 0 -> 2048 as evidence"
ls "$work/out"/gate-*.txt > /dev/null 2>&1; ok $? "the report is saved to paste into a reply"
# The same patch with its invariant change declared: shown as expected in
# the saved report, and no longer the reason the gate fails.
rm -f "$work/out"/gate-*.txt
"$rb" gate --base 7.3 --patch "$top/kernels/patches/7.3/no-lazyfree-batch.patch" --bench lazyfree_mthp \
	--boots 4 --reps 5 --expect mthp.split_deferred --db "$db" --out "$work/out" > "$work/expect.log" 2>&1; rc=$?
saved=$(ls "$work/out"/gate-*.txt 2>/dev/null | head -n 1)
[ -n "$saved" ] && grep -q 'mthp.split_deferred .* 0 .* 2048 .*invariant changed, expected (--expect)' "$saved" &&
	! grep -q 'INVARIANT CHANGED\|changes an invariant' "$saved"
ok $? "--expect mthp.split_deferred: the saved report shows the change as expected, the gate does not fail on it (exit $rc): $(grep -E 'split_deferred|verdict' "$saved" | tr -s ' ' | tr '\n' ';')"
"$rb" gate --base 7.3 --patch "$work/unrelated.patch" --bench lazyfree_mthp --boots 4 --reps 5 \
	--db "$db" --out "$work/out" > "$work/pass.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'PASS' "$work/pass.log"; ok $? "an unrelated patch passes the gate (exit $rc): $(grep -E 'time.wall|verdict' "$work/pass.log" | tr -s ' ' | tr '\n' ';')"
"$rb" gate --base 7.3 --patch "$work/nonexistent.patch" --db "$db" > "$work/bad.log" 2>&1; rc=$?
[ $rc = 2 ]; ok $? "a patch that is not there: exit 2: $(cat "$work/bad.log")"
done_testing
