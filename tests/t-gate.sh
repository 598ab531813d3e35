#!/bin/sh
# The gate on real kernels: the off-switches of batched lazyfree unmap and
# PT reclaim fail it (on their invariants, and --expect'ed, on the timing),
# an unrelated patch (documentation only) passes it.
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
# Two off-switches in one patch: batched lazyfree unmap (split_deferred
# 0 -> 2048, slower) and PT reclaim (VmPTE left after MADV_DONTNEED).
cat "$top/kernels/patches/7.3/no-lazyfree-batch.patch" "$top/kernels/patches/7.3/no-pt-reclaim.patch" > "$work/off.patch"
"$rb" gate --base 7.3 --patch "$work/off.patch" --bench lazyfree_mthp --bench pt_reclaim \
	--boots 4 --reps 5 --db "$db" --out "$work/out" > "$work/fail.log" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'FAIL: the patch changes an invariant' "$work/fail.log"
ok $? "the off-switches fail the gate" "exit $rc; $(grep -E 'time.wall|VmPTE_after|verdict' "$work/fail.log" | tr -s ' ')"
grep -q 'mthp.split_deferred .* 0 .* 2048 .*INVARIANT CHANGED' "$work/fail.log"; ok $? "the report shows split_deferred 0 -> 2048 as a changed invariant"
# VmPTE after the call: a few hundred kB with PT reclaim, ~100 MB without.
awk '$1 == "status.VmPTE_after" && $2 < 1024 && $3 > 65536 && /INVARIANT CHANGED/ { found = 1 } END { exit !found }' "$work/fail.log"
ok $? "the PT-reclaim off-switch fails it on VmPTE left after MADV_DONTNEED" "$(grep 'VmPTE_after' "$work/fail.log" | tr -s ' ')"
ls "$work/out"/gate-*.txt > /dev/null 2>&1; ok $? "the report is saved to paste into a reply"
# The same patch with both changes declared: shown as expected in the
# saved report, and no longer the reason the gate fails (the lazyfree
# timing still is).
rm -f "$work/out"/gate-*.txt
"$rb" gate --base 7.3 --patch "$work/off.patch" --bench lazyfree_mthp --bench pt_reclaim \
	--boots 4 --reps 5 --expect mthp.split_deferred --expect status.VmPTE_after --db "$db" --out "$work/out" \
	> "$work/expect.log" 2>&1; rc=$?
saved=$(ls "$work/out"/gate-*.txt 2>/dev/null | head -n 1)
[ $rc = 1 ] && [ -n "$saved" ] && grep -q 'mthp.split_deferred .* 0 .* 2048 .*invariant changed, expected (--expect)' "$saved" &&
	grep -q 'status.VmPTE_after .*invariant changed, expected (--expect)' "$saved" &&
	grep -q 'FAIL: the patch makes reclaim slower' "$saved" && ! grep -q 'INVARIANT CHANGED\|changes an invariant' "$saved"
ok $? "--expect both: the saved report shows the changes as expected, the gate fails on the timing alone" \
	"exit $rc; $(grep -E 'split_deferred|VmPTE_after|verdict' "$saved" | tr -s ' ')"
"$rb" gate --base 7.3 --patch "$work/unrelated.patch" --bench lazyfree_mthp --boots 4 --reps 5 \
	--db "$db" --out "$work/out" > "$work/pass.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'PASS' "$work/pass.log"; ok $? "an unrelated patch passes the gate" \
	"exit $rc; $(grep -E 'time.wall|verdict' "$work/pass.log" | tr -s ' ')"
# The HTML report of the same runs: the invariants column comes before
# the timings, the off-switches' changes shown, or shown expected.
"$rb" report --db "$db" --out "$work/site" > "$work/report.log" 2>&1 &&
	grep -q '<td class="bad">status.VmPTE_after [0-9.e+]* &rarr; [0-9.e+]* CHANGED</td>' "$work/site/bench-pt_reclaim.html" &&
	grep -q '<td class="bad">mthp.split_deferred 0 &rarr; 2048 CHANGED</td>' "$work/site/bench-lazyfree_mthp.html" &&
	grep -q '<td class="ok">same</td>' "$work/site/bench-lazyfree_mthp.html"
ok $? "report: each kernel's changed invariants against 7.3, before its timing; the unrelated patch's the same" "$(grep -o 'status.VmPTE_after [^<]*' "$work/site/bench-pt_reclaim.html")"
"$rb" report --db "$db" --out "$work/site-exp" --expect status.VmPTE_after > "$work/report.log" 2>&1 &&
	grep -q '<td class="warn">status.VmPTE_after [0-9.e+]* &rarr; [0-9.e+]* (expected, --expect)</td>' "$work/site-exp/bench-pt_reclaim.html" &&
	grep -q '<td class="bad">mthp.split_deferred 0 &rarr; 2048 CHANGED</td>' "$work/site-exp/bench-lazyfree_mthp.html"
ok $? "report --expect status.VmPTE_after: that change shown as expected, split_deferred still CHANGED"
"$rb" gate --base 7.3 --patch "$work/nonexistent.patch" --db "$db" > "$work/bad.log" 2>&1; rc=$?
[ $rc = 2 ]; ok $? "a patch that is not there: exit 2" "$(cat "$work/bad.log")"
done_testing
