#!/bin/sh
# A bisection killed with kill -9 (its whole process group) at each moment
# of a step, one kill each: the checkout of its commit, the compile, the
# boot (QEMU running), the storing of the boot's records.  After each, the
# same command runs again; the last run ends at the off-switch commit with
# no commit skipped and the database intact.  All four kills fall on the
# first middle commit, whose cached build is removed first so that it is
# built again; the ends and the later commits come from the cache.  Each
# run after a kill must get past the moment of that kill to reach the
# next one, so every kill is checked by the next run as well.
. "$(dirname "$0")/lib.sh"
. "$top/tests/helper/bisect-tree.sh"
db=$work/kill.db
args="--tree $tree --good $good --bad $bad --bench lazyfree_mthp --metric mthp.split_deferred --reps 3 --db $db --out $work/out"
pid=
trap '[ -n "$pid" ] && /bin/kill -9 -- -$pid 2>/dev/null; rm -rf "$work"' EXIT
echo "# work folder $work" >&2
mid=$(git -C "$tree" rev-list --bisect "$bad" "^$good")
mid12=$(echo "$mid" | cut -c1-12)
# The builds of the first middle commit leave the cache (whatever their
# config): its step checks out and compiles (incrementally) again.
for l in "$cache"/kernels/*/build.log; do
	grep -q "^== checking out $mid in " "$l" 2>/dev/null && rm -rf "$(dirname "$l")"
done

start() {	# start NAME: the bisection in the background, in a process group of its own
	setsid "$rb" bisect $args > "$work/$1.log" 2>&1 &
	pid=$!
}
# upto SECONDS COMMAND...: polls COMMAND until it succeeds; fails when the
# bisection ended first or SECONDS passed.
upto() {
	_end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.05
	done
}
kill_all() {
	/bin/kill -9 -- -"$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
}
# The build log of the middle commit's build, once one started.
blog() { grep -l "^== checking out $mid in " "$cache"/kernels/*/build.log 2>/dev/null | head -n 1; }
phase_is() { _l=$(blog) && [ -n "$_l" ] && tail -n 1 "$_l" | grep -q "^== $1"; }
# Processes of the killed bisection still running: its jobs and its QEMU.
leftovers() { pgrep -f "reclaimbench job $work/|qemu-system-x86_64 .*$work/" | tr '\n' ' '; }
t0=$(date +%s)

# 1. During the checkout of the middle commit (right after its phase line).
start k1
upto 3600 phase_is "checking out"; hit=$?
kill_all
srcdir=$(sed -n "s/^== checking out $mid in //p" "$(blog)")
left=$( [ -f "$srcdir/.git/index.lock" ] && echo "index.lock left" || echo "no index.lock left")
[ $hit = 0 ]; ok $? "killed during the checkout of the middle commit" \
	"$mid12: $left; log ends: $(tail -n 1 "$(blog)" | cut -c1-40)"

# 2. During the compile: make running in the sandbox for a few seconds.
# An incremental compile can end within seconds, before the kill comes;
# without mm/'s objects this one compiles for a while.
find "$cache/build/$(basename "$srcdir")"-c*/mm -name '*.o' -delete 2>/dev/null
start k2
upto 1800 phase_is compiling && upto 120 pgrep -f "make -s -C $srcdir " > /dev/null && sleep 5 && phase_is compiling
hit=$?
kill_all
[ $hit = 0 ]; ok $? "killed during the compile of the middle commit" "$mid12: log ends: $(tail -n 1 "$(blog)" | cut -c1-40)"

# 3. During the boot: its QEMU running for a second (the whole boot of
# the instruction clock takes about 5 s).
start k3
upto 3600 pgrep -f "qemu-system-x86_64 .*$work/out/logs/bisect-$mid12" > /dev/null && sleep 1 &&
	pgrep -f "qemu-system-x86_64 .*$work/out/logs/bisect-$mid12" > /dev/null
hit=$?
kill_all
sleep 3
l=$(leftovers)
[ $hit = 0 ]; ok $? "killed while QEMU booted the middle commit" "$mid12"
[ -z "$l" ]; ok $? "nothing of the killed bisection runs on" "left: ${l:-none}"

# 4. While the boot's records are stored: the orchestrator paused there.
export RECLAIMBENCH_TEST_PAUSE_BEFORE_STORE=600
start k4
unset RECLAIMBENCH_TEST_PAUSE_BEFORE_STORE
upto 3600 grep -qs "test: pausing 600 s before storing the records of bisect-$mid12" "$work/k4.log"; hit=$?
kill_all
[ $hit = 0 ]; ok $? "killed as the records of the middle commit were being stored" "$mid12"

# The same command, to the end.
s=$(date +%s)
"$rb" bisect $args > "$work/k5.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "first bad commit: $culprit" "$work/k5.log"
ok $? "the same command resumes and finds the off-switch" \
	"exit $rc, $(( $(date +%s) - s )) s; $(( $(date +%s) - t0 )) s in all; $(grep -o 'first bad commit: .*' "$work/k5.log" | cut -c1-90)"
skips=$(q "$db" "SELECT count(*) FROM bisect_steps WHERE decision NOT IN ('good', 'bad')")
wrong=$(q "$db" "SELECT commit_id || ' ' || decision FROM bisect_steps" | while read -r c d; do
	if git -C "$tree" merge-base --is-ancestor "$culprit" "$c"; then [ "$d" = bad ] || echo "$c"; else [ "$d" = good ] || echo "$c"; fi
done)
[ "$skips" = 0 ] && [ -z "$wrong" ] && [ "$(q "$db" "SELECT decision FROM bisect_steps WHERE commit_id = '$mid'")" = good ]
ok $? "no commit skipped or called wrongly; the middle commit measured good" \
	"$skips skipped; wrong: ${wrong:-none}; $mid12 measured: $(q "$db" "SELECT decision FROM bisect_steps WHERE commit_id = '$mid'")"
dup=$(q "$db" "SELECT session || ' x' || count(*) FROM runs GROUP BY session, bench HAVING count(*) > 1")
[ -z "$dup" ]; ok $? "one stored run per boot" "duplicates: ${dup:-none}"
[ "$(q "$db" "PRAGMA integrity_check")" = ok ] && [ -z "$(q "$db" "PRAGMA foreign_key_check")" ]
ok $? "the database is intact" "integrity_check: $(q "$db" "PRAGMA integrity_check" | head -n 1)"
[ "$(q "$db" "SELECT status FROM bisections")" = found ]; ok $? "the bisection is stored as found"
l=$(leftovers)
[ -z "$l" ] && [ -z "$(git -C "$tree" status --porcelain)" ]; ok $? "nothing left running, the tree untouched" "left: ${l:-none}"
done_testing
