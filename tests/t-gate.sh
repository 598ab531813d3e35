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
"$rb" gate --base 7.3 --patch "$work/unrelated.patch" --bench lazyfree_mthp --boots 4 --reps 5 \
	--db "$db" --out "$work/out" > "$work/pass.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'PASS' "$work/pass.log"; ok $? "an unrelated patch passes the gate (exit $rc): $(grep -E 'time.wall|verdict' "$work/pass.log" | tr -s ' ' | tr '\n' ';')"
"$rb" gate --base 7.3 --patch "$work/nonexistent.patch" --db "$db" > "$work/bad.log" 2>&1; rc=$?
[ $rc = 2 ]; ok $? "a patch that is not there: exit 2: $(cat "$work/bad.log")"
done_testing
