#!/bin/sh
# compare on real guest runs: 6.12 against 7.3, an A/A pair, an injected
# 20% slowdown, the three formats, runs that are not comparable, and
# timings taken by the host's clock under TCG.
. "$(dirname "$0")/lib.sh"
db=$work/cmp.db
run() { "$rb" run "$@" --db "$db" --out "$work/out" >> "$work/run.log" 2>&1; }
last() { q "$db" "SELECT max(id) FROM runs WHERE bench = '$1'"; }
cmp() { "$rb" compare "$@" --db "$db"; }
row() { grep -E "^[^,]*,[^,]*,[^,]*,$1," "$2"; }	# a metric's csv row
verdict() { row "$1" "$2" | cut -d, -f15; }

run 6.12 7.3 --bench lazyfree_mthp --bench ttu_sync_race --race-iterations 2
ok $? "6.12 and 7.3 booted" "$(tail -n 1 "$work/run.log")"
# Boots run at once and are stored as they end: the run of 7.3 by name.
a=$(q "$db" "SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE r.bench = 'lazyfree_mthp' AND k.variant = '7.3'")

# By variant name (the newest runs), in each format.
cmp --base 6.12 --new 7.3 --bench lazyfree_mthp > "$work/v.txt"; rc=$?
[ $rc = 1 ] && grep -qE '^  time.wall .* faster \(sees >= ' "$work/v.txt" &&
grep -qE '^  mthp.split_deferred .* CHANGED \(invariant\)$' "$work/v.txt" && grep -q '^verdict: INVARIANT CHANGED: lazyfree_mthp mthp.split_deferred' "$work/v.txt"
ok $? "6.12 -> 7.3: faster, but the invariant split_deferred CHANGED: exit 1" \
	"exit $rc; $(grep -E 'time.wall|split_deferred |verdict' "$work/v.txt" | tr -s ' ')"
cmp --base 6.12 --new 7.3 --bench lazyfree_mthp --expect mthp.split_deferred > "$work/e.txt"; rc=$?
[ $rc = 0 ] && grep -q '^expected invariant changes (--expect): lazyfree_mthp mthp.split_deferred' "$work/e.txt"
ok $? "--expect mthp.split_deferred: shown as expected, exit 0" "exit $rc"
cmp --base 7.3 --new 6.12 --bench lazyfree_mthp --format csv > "$work/rev.csv"; rc=$?
[ $rc = 1 ] && [ "$(verdict time.wall "$work/rev.csv")" = slower ]
ok $? "7.3 -> 6.12: slower, exit 1" "exit $rc; $(row time.wall "$work/rev.csv")"
head -n 1 "$work/rev.csv" | grep -q '^bench,base_run,new_run,metric,n_base,n_new,median_base,median_new,ratio,ci_lo,ci_hi,p,cv_base,cv_new,verdict$'
ok $? "csv has its header"
cmp --base 6.12 --new 7.3 --bench lazyfree_mthp --expect mthp.split_deferred --format json > "$work/v.json"
python3 - "$work/v.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
w = [r for r in d['rows'] if r['metric'] == 'time.wall'][0]
assert d['verdict'] == 'no regression' and w['verdict'] == 'faster' and w['kind'] == 'timing', w
assert w['n_base'] == w['n_new'] == 5 and w['ci95'][1] < 1 and w['p'] < 0.05, w
PY
ok $? "json parses: time.wall faster, 5 samples a side, CI below 1, p < 0.05"

# The race benchmark is timed by the host's clock (it needs its CPUs at once).
cmp --base 6.12 --new 7.3 --bench ttu_sync_race --format csv > "$work/race.csv"
[ "$(verdict time.wall "$work/race.csv")" = "not enough data" ] && [ "$(verdict race.partial "$work/race.csv")" = "same rate" ]
ok $? "ttu_sync_race on tcg's host clock: time.wall not enough data from one boot a side; race.partial judged as a rate" \
	"$(row race.partial "$work/race.csv" | cut -d, -f7-8,12,15)"
cmp --base 6.12 --new 7.3 --bench ttu_sync_race > "$work/race.txt"
grep -q 'compare --boots' "$work/race.txt"; ok $? "the text output says why and what to do"

# A/A and an injected slowdown, run against run.
run 7.3 --bench lazyfree_mthp; a2=$(last lazyfree_mthp)
RB_TEST_SLOWDOWN_PCT=20 run 7.3 --bench lazyfree_mthp; s=$(last lazyfree_mthp)
cmp --base "$a" --new "$a2" --format csv > "$work/aa.csv"; rc=$?
bad=$(grep -E '^[^,]*,[^,]*,[^,]*,(time\.|perf\.task_clock)' "$work/aa.csv" | grep -v ',no change$')
[ $rc = 0 ] && [ -z "$bad" ]; ok $? "A/A: every timing metric no change" "runs $a, $a2${bad:+: $bad}"
cmp --base "$a" --new "$s" --format csv > "$work/slow.csv"; rc=$?
[ $rc = 1 ] && [ "$(verdict time.wall "$work/slow.csv")" = slower ]
ok $? "injected 20% slowdown: slower, exit 1" "exit $rc; $(row time.wall "$work/slow.csv" | cut -d, -f7-9,12,15)"

# Runs that differ in their parameters: refused with the reason, unless forced.
run 7.3 --bench lazyfree_mthp --reps 3; r3=$(last lazyfree_mthp)
cmp --base "$a" --new "$r3" > "$work/nc.txt" 2> "$work/nc.err"; rc=$?
[ $rc = 2 ] && grep -q "differ in params" "$work/nc.err" && [ "$(wc -l < "$work/nc.err")" = 1 ]
ok $? "different --reps refused, exit 2" "exit $rc; $(cat "$work/nc.err")"
cmp --base "$a" --new "$r3" --force > "$work/f.txt"; rc=$?
[ $rc = 0 ] && grep -q 'FORCED: runs .* differ in params' "$work/f.txt"; ok $? "--force compares them and says so" "exit $rc"
# By boots: the older runs that are not comparable with the newest are left out.
cmp --base 7.3 --new 6.12 --bench lazyfree_mthp --boots > "$work/b.txt" 2>&1; rc=$?
[ $rc = 2 ] && grep -q 'differ in params' "$work/b.txt"; ok $? "--boots: the newest runs differ in params: refused" "exit $rc"
cmp --base "$a" --new "$r3" --bench nosuch > "$work/u.txt" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "unknown benchmark 'nosuch'" "$work/u.txt"; ok $? "unknown benchmark: exit 2" "exit $rc"
[ "$(q "$db" "PRAGMA integrity_check")" = ok ]; ok $? "database intact"
done_testing
