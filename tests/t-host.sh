#!/bin/sh
# Host mode on the running kernel: every benchmark, real counters, knobs
# restored after a run, an interrupted run and a crashed benchmark; bad
# input refused with exit 2 and the database untouched.
. "$(dirname "$0")/lib.sh"
db=$work/host.db

# Bad input first: nothing may be written.
"$rb" run --host --bench nosuch --db "$db" 2>"$work/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$db" ]; ok $? "unknown benchmark: exit 2, database not created" "exit $rc"
grep -q "unknown benchmark 'nosuch'" "$work/err"; ok $? "unknown benchmark named" "$(cat "$work/err")"
"$rb" run --host --reps 0 --db "$db" 2>"$work/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$db" ]; ok $? "--reps 0: exit 2" "exit $rc; $(cat "$work/err")"
"$rb" run --host --region-mb 3 --db "$db" 2>"$work/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$db" ]; ok $? "--region-mb 3: exit 2" "exit $rc; $(cat "$work/err")"
"$rb" run --host --db /nonexistent/dir/x.db 2>"$work/err"; rc=$?
[ $rc = 2 ]; ok $? "unwritable database path: exit 2" "exit $rc; $(cat "$work/err")"

if [ "$(id -u)" != 0 ] || [ ! -w /sys/kernel/mm/transparent_hugepage/enabled ]; then
	skip "host benchmarks need root and a writable THP sysfs"
	done_testing; exit 0
fi

before=$(thp_state)
"$rb" run --host --reps 3 --db "$db" > "$work/out" 2>&1; rc=$?
ok $rc "run --host --reps 3 exits 0" "$(tail -n 2 "$work/out" | head -n 1)"
# selftests runs programs packed into a guest: not a default of --host.
nb=$("$rb" list benches | tail -n +2 | grep -v '^selftests ' | wc -l)
# The swap benchmarks use only swap the host has already turned on.
ok $(( $(q "$db" "SELECT count(*) FROM runs WHERE status='ok' OR (status='skip' AND reason LIKE 'no swap on%')") != nb )) \
	"a run ok for every benchmark, the swap ones a SKIP only for a host without swap" \
	"$nb benchmarks; $(q "$db" "SELECT group_concat(bench||'='||status||' '||reason, '; ') FROM runs")"
ok $(( $(q "$db" "SELECT count(DISTINCT rep) FROM samples") != 3 )) "3 repetitions stored raw"
[ "$(thp_state)" = "$before" ]; ok $? "THP knobs as before the run"

lf="FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.bench = 'lazyfree_mthp'"
ok $(( $(q "$db" "SELECT count(*) $lf AND metric='vmstat.pglazyfreed' AND value = 32768") != 6 )) \
	"lazyfree_mthp: pglazyfreed = 32768 (the region's pages) in every repetition, timed and counting"
# Timed repetitions carry no perf event; counting ones carry them all.
ok $(( $(q "$db" "SELECT count(*) FROM samples WHERE metric LIKE 'perf.%' AND kind = 'timed'") != 0 ||
       $(q "$db" "SELECT count(*) $lf AND metric='perf.tlb_flush' AND kind = 'counting' AND value > 0") != 3 )) \
	"perf events only in counting repetitions" "tlb_flush $(q "$db" "SELECT group_concat(value) $lf AND metric='perf.tlb_flush'")"
ok $(( $(q "$db" "SELECT count(*) FROM runs WHERE status = 'ok' AND observer_overhead IS NULL") != 0 )) \
	"every ok run stores its observer overhead" \
	"$(q "$db" "SELECT group_concat(bench||' '||round(100*observer_overhead,1)||'%', '; ') FROM runs")"
# Whether this kernel unmaps lazyfree mTHPs whole (batched) is asked of the
# kernel itself, not of its version string (distributions backport): an
# independent probe (tests/helper/pageout_probe.c, none of rb-bench's code) pages
# out 64 kB mTHPs and reads the size's own counters.
sd=$(q "$db" "SELECT group_concat(value) $lf AND metric='mthp.split_deferred'")
cc -O2 -o "$work/probe" "$top/tests/helper/pageout_probe.c"
set -- $(mthp64_only "$work/probe" 3 stats)
if [ "${2:--1}" -lt 6144 ] || [ "${3:--1}" -lt 0 ]; then
	skip "the probe cannot tell batched lazyfree unmap: it made ${2:-?} of 6144 64 kB mTHPs, split_deferred moved by ${3:-?}"
elif [ "$3" -gt 0 ]; then
	skip "this kernel queues lazyfree mTHPs for split (the probe saw split_deferred +$3): no batched unmap; lazyfree_mthp saw $sd"
else
	ok $(( $(q "$db" "SELECT CAST(max(value) AS INTEGER) $lf AND metric='mthp.split_deferred'") != 0 )) \
		"lazyfree_mthp: split_deferred delta 0, as the independent probe saw" "$sd; the probe: +$3 over $2 mTHPs"
fi
cyc=$(q "$db" "SELECT count(*) $lf AND metric='perf.cycles' AND value IS NULL AND note != ''")
ok $(( cyc != 3 && $(q "$db" "SELECT count(*) $lf AND metric='perf.cycles' AND value > 0") != 3 )) \
	"hardware events: a count, or 'unsupported' with a reason, never a bare 0"

pt="FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.bench = 'pt_reclaim'"
pb=$(q "$db" "SELECT min(value) $pt AND metric='status.VmPTE_before'")
pa=$(q "$db" "SELECT max(value) $pt AND metric='status.VmPTE_after'")
# PT reclaim is a build option: asked of the kernel's own configuration.
kconfig=$( { zcat /proc/config.gz || cat "/boot/config-$(uname -r)"; } 2>/dev/null)
if [ -z "$kconfig" ]; then
	skip "no kernel configuration to read (/proc/config.gz, /boot/config-$(uname -r)): PT reclaim unknown; VmPTE $pb -> $pa kB"
elif ! echo "$kconfig" | grep -qx 'CONFIG_PT_RECLAIM=y'; then
	skip "kernel built without CONFIG_PT_RECLAIM: VmPTE $pb -> $pa kB"
else
	ok $(( $(q "$db" "SELECT $pa < 0.05 * $pb") != 1 )) "pt_reclaim: VmPTE after MADV_DONTNEED under 5% of before (CONFIG_PT_RECLAIM=y)" \
		"$pb -> $pa kB"
fi
ok $(( $(q "$db" "SELECT CAST(max(value) AS INTEGER) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.bench='pmd_redirty' AND metric='check.lost_pages'") != 0 )) \
	"pmd_redirty: no redirtied page lost"
ok $(( $(q "$db" "SELECT CAST(sum(value) AS INTEGER) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.bench='ttu_sync_race' AND metric='race.reclaimed'") <= 0 )) \
	"ttu_sync_race: folios really reclaimed while racing"

pl="FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.kind = 'timed' AND r.bench = 'pmd_lazyfree'"
ok $(( $(q "$db" "SELECT count(*) $pl AND metric='vmstat.pglazyfreed' AND value = 32768") != 3 ||
       $(q "$db" "SELECT count(*) $pl AND metric='check.pages_left_mapped' AND value = 0") != 3 )) \
	"pmd_lazyfree: every clean lazyfree page discarded, none left mapped, in every repetition"
zm="FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.kind = 'timed' AND r.bench = 'zap_mthp'"
ok $(( $(q "$db" "SELECT count(*) $zm AND metric IN ('munmap.time.wall', 'dontneed.time.wall') AND value > 0") != 6 )) \
	"zap_mthp: a munmap and a MADV_DONTNEED timing in every repetition"
ok $(( $(q "$db" "SELECT count(*) $zm AND metric='munmap.check.rss_freed_kb' AND value >= 130048") != 3 )) \
	"zap_mthp: munmap freed the region"
zg="FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.kind = 'timed' AND r.bench = 'zap_gup_race'"
ok $(( $(q "$db" "SELECT count(*) $zg AND metric='race.pin_pages' AND value > 0") != 3 ||
       $(q "$db" "SELECT CAST(max(value) AS INTEGER) $zg AND metric='race.pin_lost'") != 0 ||
       $(q "$db" "SELECT CAST(max(value) AS INTEGER) $zg AND metric='race.readv_bad_pages'") != 0 )) \
	"zap_gup_race: pinned pages kept their bytes through the zap, no page read wrong"
cr="FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.kind = 'timed' AND r.bench = 'collapse_race'"
ok $(( $(q "$db" "SELECT count(*) $cr AND metric='collapse.ok' AND value > 0") != 3 ||
       $(q "$db" "SELECT CAST(max(value) AS INTEGER) $cr AND metric='check.data_errors'") != 0 )) \
	"collapse_race: collapses succeeded in every repetition, no page changed"

"$rb" show "$(q "$db" "SELECT max(id) FROM runs WHERE status = 'ok'")" --db "$db" > "$work/show"
ok $? "show prints the last ok run as a table"
grep -q '^status.VmPTE_after' "$work/show"; ok $? "show lists VmPTE_after"
"$rb" show 1 --format json --db "$db" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["format"]==1 and len(d["samples"])>20' 2>/dev/null
ok $? "show --format json is valid JSON with the samples"

# THPs split into PTE mappings in setup (RB_TEST_SPLIT_PMD: mprotect of one
# page of each and back) must make pmd_redirty a SKIP, not a number.
RB_TEST_SPLIT_PMD=1 "$rb" run --host --bench pmd_redirty --reps 1 --db "$db" > "$work/out" 2>&1
r=$(q "$db" "SELECT status || ': ' || reason FROM runs ORDER BY id DESC LIMIT 1")
case $r in skip:*"not PMD-mapped before MADV_PAGEOUT"*) ok 0 "PMDs split before the window: SKIP with the reason" "$r";;
*) ok 1 "PMDs split before the window: SKIP with the reason" "$r";; esac
[ "$(q "$db" "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.status = 'skip' AND s.metric = 'time.wall'")" = 0 ]
ok $? "the skipped run stored no timing"

# A benchmark that crashes after it changed the knobs.
RB_TEST_CRASH=lazyfree_mthp "$rb" run --host --bench lazyfree_mthp --reps 1 --db "$db" > "$work/out" 2>&1; rc=$?
ok $(( rc != 3 )) "crashed benchmark: exit 3" "exit $rc"
r=$(q "$db" "SELECT status || ': ' || reason FROM runs ORDER BY id DESC LIMIT 1")
case $r in failed*signal\ 6*) ok 0 "crashed benchmark stored as failed" "$r";; *) ok 1 "crashed benchmark stored as failed" "$r";; esac
[ "$(thp_state)" = "$before" ]; ok $? "THP knobs restored after the crash"

# Interrupted with SIGINT in the middle of ttu_sync_race.
"$rb" run --host --bench ttu_sync_race --race-iterations 2000 --reps 5 --db "$db" > "$work/out" 2>&1 &
pid=$!
sleep 2
kill -INT $pid
wait $pid; rc=$?
ok $(( rc != 130 )) "SIGINT: exit 130" "exit $rc"
r=$(q "$db" "SELECT status || ': ' || reason FROM runs ORDER BY id DESC LIMIT 1")
case $r in failed*interrupted*) ok 0 "interrupted run stored as failed" "$r";; *) ok 1 "interrupted run stored as failed" "$r";; esac
[ "$(thp_state)" = "$before" ]; ok $? "THP knobs restored after SIGINT"
[ "$(q "$db" "PRAGMA integrity_check")" = ok ]; ok $? "integrity_check ok"

# A database from a newer schema is refused and left as it was.
cp "$db" "$work/newer.db"; sqlite3 "$work/newer.db" "PRAGMA user_version = 42"
sum=$(md5sum < "$work/newer.db")
"$rb" run --host --bench pt_reclaim --db "$work/newer.db" 2>"$work/err"; rc=$?
[ $rc = 2 ]; ok $? "newer schema: exit 2" "exit $rc; $(cat "$work/err")"
[ "$(md5sum < "$work/newer.db")" = "$sum" ]; ok $? "newer database untouched"
done_testing
