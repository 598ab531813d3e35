#!/bin/sh
# Timings with the mm live on two CPUs (--mm-cpus 2, issue 22 item 4), on
# x86 7.3 under the instruction clock: the benchmark's process hops to the
# second vCPU before every window, so reclaim defers and batches TLB
# flushes (tlb:tlb_flush says "remote IPI send" and "local shootdown",
# where one CPU flushes each folio at once, "local MM shootdown"), and
# pt_reclaim's page tables are freed by RCU inside the window as on one
# CPU (the guest's kernel threads stay on CPU 0).  Two boots: two vCPUs,
# then one.  RB_TEST_NO_HOP=1 (no hop) and RB_TEST_KTHREADS_FREE=1 (kernel
# threads left to wander) turn it red.
. "$(dirname "$0")/lib.sh"
db=$work/twocpu.db
# val KIND VARIANT-CPUS BENCH METRIC: the values of every repetition, in order.
val() {
	q "$db" "SELECT group_concat(CAST(v AS INTEGER), ' ') FROM (SELECT s.value AS v FROM samples s
		JOIN runs r ON r.id = s.run_id WHERE s.kind = '$1' AND r.guest_cpus = $2 AND r.bench = '$3'
		AND s.metric = '$4' ORDER BY s.rep)"
}
# all_ok 'VALUES' TEST: every value passes [ "$v" TEST ].
all_ok() {
	[ -n "$1" ] || return 1
	for v in $1; do [ "$v" $2 ] || return 1; done
}

"$rb" run 7.3 --bench lazyfree_mthp --bench pt_reclaim --mm-cpus 2 --reps 2 --db "$db" --out "$work/out" \
	> "$work/two.log" 2>&1
ok $? "run 7.3 --mm-cpus 2 boots and exits 0" "$(tail -n 1 "$work/two.log")"
s=$(q "$db" "SELECT group_concat(bench||' '||status||' cpus='||guest_cpus||' '||params||' '||clocksource, '; ') FROM runs")
[ "$(q "$db" "SELECT count(*) FROM runs WHERE status = 'ok' AND guest_cpus = 2 AND accel = 'tcg-icount'
	AND params LIKE '%,mm-cpus=2' AND clocksource = 'tsc'")" = 2 ]
ok $? "2 runs ok on two vCPUs under the instruction clock, mm-cpus=2 in their parameters, timed by the TSC" "$s"
m=$(val timed 2 lazyfree_mthp mm.cpus)
all_ok "$m" "= 2"; ok $? "before every window the process ran on both CPUs" "mm.cpus: $m"

ipi=$(val counting 2 lazyfree_mthp tlb.remote_send_ipi)
loc=$(val counting 2 lazyfree_mthp tlb.local_shootdown)
imm=$(val counting 2 lazyfree_mthp tlb.local_mm_shootdown)
all_ok "$ipi" "-gt 0" && all_ok "$loc" "-gt 0"
ok $? "two CPUs: lazyfree_mthp's reclaim deferred and batched flushes" \
	"remote IPI send $ipi, local shootdown $loc; immediate $imm"

f=$(val timed 2 pt_reclaim window.rcu_softirqs)
all_ok "$f" "-gt 0"; ok $? "two CPUs: RCU softirqs ran on the benchmark's CPU inside pt_reclaim's window" "$f"
# freed_pct CPUS: the share of the window's page tables (VmPTE's fall) that
# RCU freed inside the window (PageTables' fall), per repetition.
freed_pct() {
	q "$db" "SELECT group_concat(CAST(100 * (b.value - a.value) / (vb.value - va.value) AS INTEGER), ' ')
		FROM samples b JOIN samples a ON a.run_id = b.run_id AND a.rep = b.rep AND a.kind = b.kind
		JOIN samples vb ON vb.run_id = b.run_id AND vb.rep = b.rep AND vb.kind = b.kind
		JOIN samples va ON va.run_id = b.run_id AND va.rep = b.rep AND va.kind = b.kind
		JOIN runs r ON r.id = b.run_id WHERE b.kind = 'timed' AND r.guest_cpus = $1 AND r.bench = 'pt_reclaim'
		AND b.metric = 'meminfo.PageTables_before' AND a.metric = 'meminfo.PageTables_after'
		AND vb.metric = 'status.VmPTE_before' AND va.metric = 'status.VmPTE_after' ORDER BY b.rep"
}
p2=$(freed_pct 2)
all_ok "$p2" "-ge 80"; ok $? "two CPUs: RCU freed at least 80% of pt_reclaim's page tables inside the window" \
	"% per repetition: $p2"
pb=$(val timed 2 pt_reclaim meminfo.PageTables_before)
first=${pb%% *}
all_ok "$pb" "-lt $((first + first / 10))"
ok $? "two CPUs: no page tables pile up from one repetition to the next" "PageTables before each, kB: $pb"

"$rb" run 7.3 --bench lazyfree_mthp --bench pt_reclaim --reps 2 --db "$db" --out "$work/out" > "$work/one.log" 2>&1
ok $? "run 7.3 on one vCPU boots and exits 0" "$(tail -n 1 "$work/one.log")"
ipi=$(val counting 1 lazyfree_mthp tlb.remote_send_ipi)
imm=$(val counting 1 lazyfree_mthp tlb.local_mm_shootdown)
all_ok "$ipi" "= 0" && all_ok "$imm" "-ge 2048"
ok $? "one CPU: every flush immediate" "remote IPI send $ipi, local MM shootdown $imm"
p1=$(freed_pct 1)
all_ok "$p1" "-ge 80"; ok $? "one CPU: RCU freed at least 80% of pt_reclaim's tables inside the window" "% per repetition: $p1"

a=$(q "$db" "SELECT max(id) FROM runs WHERE bench = 'lazyfree_mthp' AND guest_cpus = 1")
b=$(q "$db" "SELECT max(id) FROM runs WHERE bench = 'lazyfree_mthp' AND guest_cpus = 2")
"$rb" compare --base "$a" --new "$b" --db "$db" > "$work/c.txt" 2> "$work/c.err"; rc=$?
[ $rc = 2 ] && grep -q "differ in" "$work/c.err"
ok $? "compare of a one-CPU and a two-CPU run: refused, exit 2" "exit $rc: $(cat "$work/c.err")"
done_testing
