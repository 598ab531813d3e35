#!/bin/sh
# The kernel's own mm selftests in the guest, on real 7.3 kernels: one
# boot stores every case of the default set; a patch that breaks
# copy-on-write of large folios (tests/fixtures/cow-large-folio-reuse.patch)
# fails a gate on the selftests alone, naming the failing cases; a
# documentation-only patch passes the same gate.  Boots: 1 + 2 gates of
# --boots 4 a side (17).
. "$(dirname "$0")/lib.sh"
db=$work/selftests.db
"$rb" run 7.3 --bench selftests --db "$db" --out "$work/out" > "$work/run.log" 2>&1; rc=$?
run=$(q "$db" "SELECT max(id) FROM runs WHERE bench = 'selftests' AND status = 'ok'")
cases=$(q "$db" "SELECT count(*) FROM samples WHERE run_id = '$run' AND metric LIKE 'case.%'")
cow=$(q "$db" "SELECT count(*) FROM samples WHERE run_id = '$run' AND metric LIKE 'case.cow.%' AND note LIKE 'ok: %'")
[ $rc = 0 ] && [ -n "$run" ] && [ "$cases" -gt 100 ] && [ "$cow" -gt 100 ]
ok $? "one boot of 7.3 stores every selftest case of the default set" "exit $rc; run $run: $cases cases, cow ok: $cow"
progs=$(q "$db" "SELECT group_concat(substr(metric, 8), ',') FROM samples WHERE run_id = '$run' AND metric LIKE 'passed.%'")
for p in cow khugepaged madv_populate mremap_test transhuge-stress; do
	case ,$progs, in *,$p,*) ;; *) progs=missing ;; esac
done
[ "$progs" != missing ]; ok $? "the default set ran cow, khugepaged, madv_populate, mremap_test, transhuge-stress" "$progs"
skips=$(q "$db" "SELECT count(*) FROM samples WHERE run_id = '$run' AND metric LIKE 'case.%' AND value = 0 AND note LIKE 'skip: %'")
unrun=$(q "$db" "SELECT metric || ' ' || note FROM samples WHERE run_id = '$run' AND metric LIKE 'unrun.%'")
[ "$skips" -gt 0 ] && printf '%s' "$unrun" | grep -q 'unrun.split_huge_page_test skip: the guest has no /sys/kernel/debug/split_huge_pages'
ok $? "what the guest lacks is a skip with its reason, counted apart" "$skips skipped cases; $unrun"
q "$db" "SELECT program, number, result, detail FROM selftest_cases WHERE run_id = $run AND result = 'skip' LIMIT 1" > "$work/view" 2>&1 &&
	grep -q '^cow|[0-9]*|skip|' "$work/view"
ok $? "the selftest_cases view shows each case's program, number, result and detail" "$(cat "$work/view")"
# The cow fixture: a gate on the selftests alone fails, naming the cases.
"$rb" gate --base 7.3 --patch "$top/tests/fixtures/cow-large-folio-reuse.patch" --bench selftests --boots 4 \
	--db "$db" --out "$work/out" > "$work/cow.log" 2>&1; rc=$?
named=$(grep -c 'case\.cow\.[0-9]* .*INVARIANT CHANGED' "$work/cow.log")
[ $rc = 1 ] && grep -q 'FAIL: the patch changes an invariant' "$work/cow.log" && [ "$named" -gt 0 ] &&
	grep -q 'not ok: .*COW' "$work/cow.log"
ok $? "a patch that breaks copy-on-write of large folios fails the gate on the selftests, naming the cases" \
	"exit $rc; $named cases named; $(grep -m 4 -A1 'case\.cow\.[0-9]* .*INVARIANT' "$work/cow.log")"
! grep -q 'selftests: building' "$work/cow.log"
ok $? "the gate's boots take the selftests built by the first run from the cache"
base=$(q "$db" "SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '7.3' AND r.bench = 'selftests'")
new=$(q "$db" "SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant LIKE '7.3+%' AND r.bench = 'selftests'")
"$rb" compare --base "$base" --new "$new" --db "$db" > "$work/compare.log" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'verdict: INVARIANT CHANGED: selftests case\.cow\.' "$work/compare.log"
ok $? "compare of a base run and a patched run fails on the changed cow cases" "exit $rc; $(grep -m 1 'INVARIANT CHANGED' "$work/compare.log" | cut -c 1-300)"
"$rb" report --db "$db" --out "$work/site" > "$work/report.log" 2>&1 &&
	grep -q 'case\.cow\.[0-9]* 0 &rarr; 1 CHANGED: not ok: ' "$work/site/bench-selftests.html"
ok $? "the report's invariants cell names the failing cases with their output" \
	"$(grep -o 'case\.cow\.[0-9]* 0 &rarr; 1 CHANGED: not ok: [^<]*' "$work/site/bench-selftests.html" | head -n 2)"
"$rb" gate --base 7.3 --patch "$top/tests/fixtures/doc-only.patch" --bench selftests --boots 4 \
	--db "$db" --out "$work/out" > "$work/doc.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'PASS' "$work/doc.log" && grep -q 'selftests .*(invariants) .*timing not judged' "$work/doc.log"
ok $? "a documentation-only patch passes the same selftests gate" "exit $rc; $(grep -E 'selftests|verdict' "$work/doc.log")"
done_testing
