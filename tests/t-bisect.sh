#!/bin/sh
# Bisection by the real pipeline: the test tree of bisect-tree.sh (Debian's
# 7.3 source with 8 commits, the fifth switching batched lazyfree unmap
# off), bisected on lazyfree_mthp's split_deferred, killed in the middle,
# resumed.  t-bisect-kill.sh kills it at each moment of a step.
. "$(dirname "$0")/lib.sh"
. "$top/tests/helper/bisect-tree.sh"
db=$work/bisect.db
args="--tree $tree --good $good --bad $bad --bench lazyfree_mthp --metric mthp.split_deferred --reps 3 --db $db --out $work/out"
# Interrupted: killed (the whole process group) once the ends and a first
# middle commit are stored.
setsid "$rb" bisect $args > "$work/b1.log" 2>&1 &
pid=$!
for i in $(seq 1 18000); do
	[ "$(q "$db" "SELECT count(*) FROM bisect_steps" 2>/dev/null)" -ge 3 ] 2>/dev/null && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
/bin/kill -9 -- -$pid 2>/dev/null; wait $pid 2>/dev/null
steps1=$(q "$db" "SELECT count(*) FROM bisect_steps")
[ "$steps1" -ge 3 ]; ok $? "bisection killed after 3 or more stored steps" "$steps1 steps"
start=$(date +%s)
"$rb" bisect $args > "$work/b2.log" 2>&1; rc=$?
[ $rc = 0 ]; ok $? "the same command resumes and finishes" "exit $rc, $(( $(date +%s) - start )) s"
grep -q "first bad commit: $culprit" "$work/b2.log"; ok $? "first bad commit is the off-switch" "$(grep 'first bad' "$work/b2.log")"
grep -q 'already measured' "$work/b2.log"; ok $? "steps stored before the kill were not measured again"
steps2=$(q "$db" "SELECT count(*) FROM bisect_steps")
[ "$steps2" -gt "$steps1" ]; ok $? "the resumed bisection went on from there" "$steps1 -> $steps2 steps"
measured=$(q "$db" "SELECT count(*) FROM bisect_steps WHERE decision != 'skip'")
[ "$measured" -le 6 ]; ok $? "6 measured commits at most for 8 (the 2 ends and about log2(8) = 3 in between)" "$measured measured"
[ "$(q "$db" "SELECT status || ' ' || substr(first_bad, 1, 12) FROM bisections")" = "found $(echo "$culprit" | cut -c1-12)" ]
ok $? "the bisection is stored as found, with its steps"
[ -z "$(git -C "$tree" status --porcelain)" ] && [ "$(git -C "$tree" rev-parse HEAD)" = "$bad" ]; ok $? "the tree was not touched"

# A failure of the harness is not the commit's: with rb-bench missing (a
# copy of the program in a folder without it) the bisection stops at once
# with exit 3 and the reason, stored with it, and skips no commit.
fake=$work/fake
mkdir -p "$fake/build" && cp "$rb" "$top/build/rb-init" "$fake/build/" &&
	for d in runners kernels reports schema bench; do ln -s "$top/$d" "$fake/$d"; done
hdb=$work/harness.db
"$fake/build/reclaimbench" bisect $(echo "$args" | sed "s|--db [^ ]*|--db $hdb|; s|--out [^ ]*|--out $work/hout|") \
	> "$work/h.log" 2>&1; rc=$?
[ $rc = 3 ] && grep -q "^error: bisect: harness failure at .*rb-bench' does not exist" "$work/h.log" &&
	[ "$(q "$hdb" "SELECT status FROM bisections")" = failed ] &&
	q "$hdb" "SELECT reason FROM bisections" | grep -q 'rb-bench' &&
	[ "$(q "$hdb" "SELECT count(*) FROM bisect_steps WHERE decision = 'skip'")" = 0 ]
ok $? "rb-bench missing: exit 3 with the reason, stored, no commit skipped" \
	"exit $rc; $(grep '^error: bisect' "$work/h.log" | cut -c1-160)"

# Nightly: the tree before the off-switch, then after it: the step in
# split_deferred is found and bisected without a human.
ndb=$work/nightly.db
before=$(git -C "$tree" rev-parse HEAD~4)
"$rb" nightly --tree "$tree" --ref "$before" --bench lazyfree_mthp --reps 3 --db "$ndb" --out "$work/out" > "$work/n1.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'no key metric stepped' "$work/n1.log"; ok $? "first nightly stored, nothing to compare" "exit $rc"
"$rb" nightly --tree "$tree" --ref "$bad" --bench lazyfree_mthp --reps 3 --db "$ndb" --out "$work/out" > "$work/n2.log" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "first bad commit: $culprit" "$work/n2.log"
ok $? "second nightly sees split_deferred step and bisects to the off-switch" \
	"exit $rc; $(grep -E 'stepped|first bad' "$work/n2.log")"
done_testing
