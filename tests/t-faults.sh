#!/bin/sh
# Faults injected on purpose; after each the database is consistent
# (integrity_check ok, no half-stored run, the failure recorded with its
# reason) and the host's THP knobs are as they were.
. "$(dirname "$0")/lib.sh"
db=$work/faults.db
gen="python3 $top/tests/helper/gen_records.py"
consistent() {	# consistent DB: integrity ok and every ok run whole
	[ "$(q "$1" "PRAGMA integrity_check")" = ok ] &&
	[ "$(q "$1" "SELECT count(*) FROM runs r WHERE status = 'ok' AND (SELECT count(*) FROM samples s WHERE s.run_id = r.id) != $2")" = 0 ]
}
$gen 200 500 > "$work/big.rec"

# kill -9 of the harness during ingest, at a different moment each time.
for delay in 0.05 0.1 0.2 0.3 0.5 0.8; do
	"$rb" ingest "$work/big.rec" --db "$db" > /dev/null 2>&1 &
	pid=$!; sleep $delay; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done
consistent "$db" 500; ok $? "kill -9 during ingest (6 times): integrity ok, every stored run whole" \
	"$(q "$db" "SELECT count(*) FROM runs") runs"

# Disk full: a file size limit the WAL cannot grow past.
$gen 5 500 > "$work/small.rec"
before=$(q "$db" "SELECT count(*) FROM runs")
size=$(( $(stat -c %s "$db") / 1024 + $(stat -c %s "$db-wal" 2>/dev/null || echo 0) / 1024 + 16 ))
(ulimit -f $size; "$rb" ingest "$work/big.rec" --db "$db" > "$work/full.log" 2>&1); rc=$?
[ $rc = 3 ] && grep -q 'error: database' "$work/full.log"; ok $? "disk full: exit 3 with a database error" "ulimit -f $size KiB; exit $rc: $(grep -m1 error "$work/full.log")"
consistent "$db" 500; ok $? "disk full: integrity ok, no half-stored run"
"$rb" ingest "$work/small.rec" --db "$db" > /dev/null 2>&1
[ "$(q "$db" "SELECT count(*) FROM runs")" -ge $((before + 5)) ]; ok $? "after the disk full, the database takes runs again"

# Two writers at once: both sessions stored.
db2=$work/two.db
"$rb" ingest "$work/big.rec" --db "$db2" > "$work/w1.log" 2>&1 & p1=$!
"$rb" ingest "$work/big.rec" --db "$db2" > "$work/w2.log" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && [ "$(q "$db2" "SELECT count(*) FROM runs WHERE status='ok'")" = 400 ]
ok $? "two ingests into one database at once: both stored" \
	"exit $r1, $r2; $(q "$db2" "SELECT count(DISTINCT session) FROM runs") sessions; $(grep -h error "$work/w1.log" "$work/w2.log")"
consistent "$db2" 500; ok $? "two writers: integrity ok"

# Records that are bad: HTML in a reason is stored as text and escaped.
$gen 2 3 '<script>alert(1)</script> $(touch /tmp/rb-pwned) ; rm -rf /' > "$work/evil.rec"
"$rb" ingest "$work/evil.rec" --db "$work/evil.db" --variant 'x' > /dev/null 2>&1; r1=$?
"$rb" report --db "$work/evil.db" --out "$work/evil-site" > /dev/null 2>&1; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && ! grep -q '<script' "$work/evil-site"/*.html &&
	grep -q '&lt;script&gt;' "$work/evil-site/run-1.html" && [ ! -e /tmp/rb-pwned ]
ok $? "a reason holding HTML and shell text is shown escaped and runs nothing" "ingest exit $r1, report exit $r2"
printf '[a;touch /tmp/rb-pwned]\nsource = debian:7.3\n' > "$work/evil.conf"
"$rb" list variants --variants "$work/evil.conf" > "$work/ev.log" 2>&1; rc=$?
[ $rc = 2 ] && [ ! -e /tmp/rb-pwned ]; ok $? "a variant name with shell characters is refused" "$(cat "$work/ev.log")"
"$rb" run --host --out "$work/a b" --bench pt_reclaim --db "$work/x.db" > "$work/sp.log" 2>&1; r1=$?
"$rb" run 7.3 --out "$work/a b" --db "$work/x.db" >> "$work/sp.log" 2>&1; r2=$?
[ $r1 = 2 ] && [ $r2 = 2 ] && [ "$(grep -c "^error: --out '$work/a b' holds white space" "$work/sp.log")" = 2 ] &&
	[ ! -e "$work/a b" ] && [ ! -e "$work/x.db" ]
ok $? "an --out folder with white space is refused before anything runs, on the host and in a guest (no folder, no database)" \
	"exit $r1, $r2; $(head -n 1 "$work/sp.log")"

if [ "$(id -u)" != 0 ] || [ ! -w /sys/kernel/mm/transparent_hugepage/enabled ]; then
	skip "host faults need root and a writable THP sysfs"; done_testing; exit 0
fi
before=$(thp_state)

# kill -9 of the harness in the middle of a benchmark.
"$rb" run --host --bench ttu_sync_race --race-iterations 5000 --db "$db" > /dev/null 2>&1 &
pid=$!; sleep 2; kill -9 $pid; wait $pid 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -x rb-bench > /dev/null || break; sleep 0.5; done
! pgrep -x rb-bench > /dev/null; ok $? "kill -9 of the harness: rb-bench stopped by itself"
[ "$(thp_state)" = "$before" ]; ok $? "kill -9 of the harness: THP knobs restored"
consistent "$db" 500; ok $? "kill -9 of the harness: database consistent"

# Two host runs into one database at once: knobs taken in turn, both stored.
"$rb" run --host --bench lazyfree_mthp --reps 3 --db "$work/host2.db" > /dev/null 2>&1 & p1=$!
"$rb" run --host --bench lazyfree_mthp --reps 3 --db "$work/host2.db" > /dev/null 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && [ "$(q "$work/host2.db" "SELECT count(*) FROM runs WHERE status='ok'")" = 2 ]
ok $? "two host runs at once: both stored" "exit $r1, $r2"
[ "$(thp_state)" = "$before" ]; ok $? "two host runs at once: THP knobs restored"
done_testing
