#!/bin/sh
# Bisection by the real pipeline: the test tree of bisect-tree.sh (Debian's
# 7.3 source with 8 commits, the fifth switching batched lazyfree unmap
# off), bisected on lazyfree_mthp's split_deferred, killed in the middle,
# resumed.  t-bisect-kill.sh kills it at each moment of a step.  Then
# nightly: a step against the previous night, and steps over a stored
# history of the tree's commits, one confirmed by a boot and bisected, one
# that a boot does not show.
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

# Nightly's step over the whole history, on real boots.  A stored history
# of split_deferred (0 before the off-switch, 2048 after it) whose nights
# ran note 3 and then note 6: the night-to-night check sees nothing (the
# night before tonight's is at the same level), the history shows one step
# between those two commits; nightly boots note 6 again, which confirms
# it, and bisects only that range, to the off-switch.
hdb=$work/history.db
note3=$(git -C "$tree" rev-parse "$bad~5") note4=$(git -C "$tree" rev-parse "$bad~4")
note6=$(git -C "$tree" rev-parse "$bad~2") note8=$bad
"$rb" list runs --db "$hdb" > /dev/null 2>&1 &&
	python3 "$top/tests/helper/history_db.py" "$hdb" tree mthp.split_deferred 0@"$good" 0@"$good" 0@"$good" \
		0@"$note3" 0@"$note3" 0@"$note3" 2048@"$note6" 2048@"$note6" 2048@"$note6" 2048@"$note8" 2048@"$note8"
"$rb" nightly --tree "$tree" --ref "$note8" --bench lazyfree_mthp --reps 3 --db "$hdb" --out "$work/out" \
	> "$work/h1.log" 2>&1; rc=$?
grep -q "the history of lazyfree_mthp mthp.split_deferred steps: 0 -> 2048 .* between $(echo "$note3" | cut -c1-12) and $(echo "$note6" | cut -c1-12)" "$work/h1.log" &&
	! grep -q -e 'stepped:' -e 'drifts' "$work/h1.log"
ok $? "11 stored nights and tonight's: no step since last night, one step over the history (no drift), note 3 to note 6" \
	"$(grep -E '^nightly:' "$work/h1.log")"
grep -q '^nightly: confirmed: 0 -> 2048' "$work/h1.log" &&
	[ "$(q "$hdb" "SELECT count(*) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = 'nightly-confirm' AND k.source = 'git:$note6'")" = 1 ]
ok $? "a boot of note 6 confirms the step (and is not a night of the history)"
[ $rc = 1 ] && grep -q "first bad commit: $culprit" "$work/h1.log" &&
	[ "$(q "$hdb" "SELECT good || ' ' || bad || ' ' || status || ' ' || first_bad FROM bisections")" = "$note3 $note6 found $culprit" ]
ok $? "the step's range alone is bisected, to the off-switch" "exit $rc; $(q "$hdb" 'SELECT good, bad, status, first_bad FROM bisections')"
[ -z "$(q "$hdb" "SELECT DISTINCT commit_id FROM bisect_steps" | grep -v -e "$note3" -e "$note4" -e "$culprit" -e "$note6")" ]
ok $? "no commit outside note 3..note 6 is booted by the bisection" "$(q "$hdb" "SELECT substr(commit_id, 1, 12), decision FROM bisect_steps")"

# A step the history shows but a boot does not: nights of note 3 and
# note 4 stored at 2048 (made up: both are before the off-switch), tonight
# note 6 at 2048.  The boot of note 3 shows 0: no bisection, and the next
# night does not boot it again.
fdb=$work/fake-step.db
"$rb" list runs --db "$fdb" > /dev/null 2>&1 &&
	python3 "$top/tests/helper/history_db.py" "$fdb" tree mthp.split_deferred 0@"$good" 0@"$good" 0@"$good" \
		2048@"$note3" 2048@"$note3" 2048@"$note3" 2048@"$note4" 2048@"$note4" 2048@"$note4"
"$rb" nightly --tree "$tree" --ref "$note6" --bench lazyfree_mthp --reps 3 --db "$fdb" --out "$work/out" \
	> "$work/f1.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "the history of lazyfree_mthp mthp.split_deferred steps: 0 -> 2048 .* and $(echo "$note3" | cut -c1-12)" "$work/f1.log" &&
	grep -q '^nightly: the step of lazyfree_mthp mthp.split_deferred was not confirmed by a second boot (0, ' "$work/f1.log" &&
	[ "$(q "$fdb" "SELECT count(*) FROM bisections")" = 0 ]
ok $? "a step of the history that a boot of its commit does not show: nothing bisected" \
	"exit $rc; $(grep -E '^nightly:' "$work/f1.log")"
"$rb" nightly --tree "$tree" --ref "$note6" --bench lazyfree_mthp --reps 3 --db "$fdb" --out "$work/out" \
	> "$work/f2.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'steps between .* checked before' "$work/f2.log" &&
	[ "$(q "$fdb" "SELECT count(*) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = 'nightly-confirm'")" = 1 ]
ok $? "the next night does not boot that commit again" "exit $rc; $(grep -E '^nightly:' "$work/f2.log")"
done_testing
