#!/bin/sh
# Real kernels built (cached) and booted under QEMU: counters from inside
# the guests, a kernel panic and a hang caught within their limits, a patch
# that does not apply and an option that does not exist refused.
. "$(dirname "$0")/lib.sh"
db=$work/guest.db
q1() { q "$db" "SELECT $1 FROM samples s JOIN runs r ON r.id = s.run_id JOIN kernels k ON k.id = r.kernel_id WHERE s.kind = 'timed' AND $2"; }

"$rb" run 6.12 7.3 --bench lazyfree_mthp --bench pmd_redirty --bench ttu_sync_race --bench pt_reclaim --reps 2 --race-iterations 2 --db "$db" --out "$work/out" > "$work/run.log" 2>&1; rc=$?
ok $rc "run 6.12 7.3 builds, boots and exits 0" "$(tail -n 1 "$work/run.log")"
[ "$(q "$db" "SELECT count(*) FROM runs WHERE status='ok'")" = 8 ]
ok $? "8 runs ok" "$(q "$db" "SELECT group_concat(bench||'='||status||' '||reason, '; ') FROM runs WHERE status != 'ok'")"
# Under TCG the benchmarks are timed by QEMU's instruction counter, but
# ttu_sync_race needs its CPUs at once: a boot of its own on the host clock.
a=$(q "$db" "SELECT group_concat(x) FROM (SELECT DISTINCT bench||'='||accel AS x FROM runs ORDER BY 1)")
case $a in
lazyfree_mthp=kvm,pmd_redirty=kvm,pt_reclaim=kvm,ttu_sync_race=kvm) ok 0 "accelerator recorded" "$a";;
lazyfree_mthp=tcg-icount,pmd_redirty=tcg-icount,pt_reclaim=tcg-icount,ttu_sync_race=tcg) ok 0 "accelerators recorded" "$a";;
*) ok 1 "accelerators recorded" "$a";;
esac
u=$(q "$db" "SELECT group_concat(DISTINCT s.unit) FROM samples s JOIN runs r ON r.id = s.run_id WHERE s.metric = 'time.wall' AND r.accel = 'tcg-icount'")
[ "$u" = instr ]; ok $? "timings under the instruction clock are stored as instructions" "$u"
w=$(q "$db" "SELECT count(*) FROM samples WHERE metric = 'kernel.warnings'")
[ "$w" = 8 ] && [ "$(q "$db" "SELECT sum(value) FROM samples WHERE metric = 'kernel.warnings'")" = 0.0 ]
ok $? "kernel warnings counted on the console for each of the 8 runs" \
	"$w runs, $(q "$db" "SELECT sum(value) FROM samples WHERE metric = 'kernel.warnings'") warnings"
[ "$(q "$db" "SELECT count(DISTINCT console_log) FROM runs WHERE bench != 'ttu_sync_race'")" = 2 ] &&
[ "$(q "$db" "SELECT count(DISTINCT console_log) FROM runs")" -ge 3 ]
ok $? "one console log per boot" "$(q "$db" "SELECT count(DISTINCT console_log) FROM runs") for 2 variants"
[ "$(q "$db" "SELECT count(*) FROM runs WHERE guest_mem_mb = 1024 AND guest_cpus = CASE accel WHEN 'tcg-icount' THEN 1 ELSE 2 END")" = 8 ]
ok $? "guest size recorded: 1024 MB, one vCPU under the instruction clock, two on the host's clock" "$(q "$db" "SELECT group_concat(DISTINCT accel||':'||guest_cpus) FROM runs")"
r=$(q1 "group_concat(k.release)" "k.variant='6.12' AND r.bench='pt_reclaim' AND s.metric='time.wall'")
case $r in 6.12.*) ok 0 "the 6.12 guest really ran 6.12" "$r";; *) ok 1 "the 6.12 guest really ran 6.12" "$r";; esac

for v in 6.12 7.3; do
	w="k.variant='$v' AND r.bench='lazyfree_mthp'"
	[ "$(q1 "count(*)" "$w AND s.metric='vmstat.pglazyfreed' AND s.value=32768")" = 2 ]
	ok $? "$v: pglazyfreed = 32768 in both repetitions"
done
sd612=$(q1 "group_concat(CAST(s.value AS INTEGER))" "k.variant='6.12' AND r.bench='lazyfree_mthp' AND s.metric='mthp.split_deferred'")
sd73=$(q1 "group_concat(CAST(s.value AS INTEGER))" "k.variant='7.3' AND r.bench='lazyfree_mthp' AND s.metric='mthp.split_deferred'")
[ "$sd612" = "2048,2048" ]; ok $? "6.12 (no batched lazyfree unmap): split_deferred 2048 per repetition" "$sd612"
[ "$sd73" = "0,0" ]; ok $? "7.3 (batched lazyfree unmap): split_deferred 0" "$sd73"
for v in 6.12 7.3; do
	w="k.variant='$v' AND r.bench='pt_reclaim'"
	eval "b_$(echo $v | tr . _)=$(q1 "CAST(min(s.value) AS INTEGER)" "$w AND s.metric='status.VmPTE_before'")"
	eval "a_$(echo $v | tr . _)=$(q1 "CAST(max(s.value) AS INTEGER)" "$w AND s.metric='status.VmPTE_after'")"
done
[ "$a_6_12" -ge $(( b_6_12 * 9 / 10 )) ]; ok $? "6.12 (no PT reclaim): VmPTE kept" "$b_6_12 -> $a_6_12 kB"
[ "$a_7_3" -lt $(( b_7_3 / 10 )) ]; ok $? "7.3 (PT reclaim): VmPTE dropped by more than 90%" "$b_7_3 -> $a_7_3 kB"
grep -q 'split_deferred' "$work/run.log"; ok $? "the summary table is printed"

# Second run of the same variant: nothing rebuilt.
"$rb" run 7.3 --bench pt_reclaim --reps 1 --db "$db" --out "$work/out" > "$work/run2.log" 2>&1
grep -q "variant '7.3': cached build" "$work/run2.log"; ok $? "an unchanged variant is not rebuilt"
"$rb" run 7.3 --bench pt_reclaim --reps 1 --host-clock --db "$db" --out "$work/out" > "$work/run3.log" 2>&1
a=$(q "$db" "SELECT accel FROM runs ORDER BY id DESC LIMIT 1")
case $a in tcg|kvm) ok 0 "--host-clock: timed by the host's clock" "$a";; *) ok 1 "--host-clock: timed by the host's clock" "$a";; esac

# A kernel panic: an /init that cannot run (a dynamic binary, no libc in
# the initramfs) and panic=-1.
start=$(date +%s)
RECLAIMBENCH_INIT=/bin/true "$rb" run 6.12 --bench pt_reclaim --timeout 120 --db "$db" --out "$work/out" > "$work/panic.log" 2>&1; rc=$?
took=$(( $(date +%s) - start ))
r=$(q "$db" "SELECT status||': '||reason FROM runs ORDER BY id DESC LIMIT 1")
[ $rc = 3 ] && [ $took -lt 120 ]; ok $? "panic: exit 3 well within the 120 s limit" "exit $rc in $took s"
case $r in failed:*"kernel panic"*) ok 0 "panic stored as failed with the reason" "$r";; *) ok 1 "panic stored as failed with the reason" "$r";; esac

# A hang: an /init that never ends.
cc -static -O2 -o "$work/hang" "$top/tests/helper/hang-init.c"
start=$(date +%s)
RECLAIMBENCH_INIT=$work/hang "$rb" run 6.12 --bench pt_reclaim --timeout 20 --db "$db" --out "$work/out" > "$work/hang.log" 2>&1; rc=$?
took=$(( $(date +%s) - start ))
r=$(q "$db" "SELECT status||': '||reason FROM runs ORDER BY id DESC LIMIT 1")
[ $rc = 3 ] && [ $took -lt 40 ]; ok $? "hang: exit 3 after the 20 s limit" "exit $rc after $took s"
case $r in failed:*"timed out after 20 s"*) ok 0 "hang stored as failed" "$r";; *) ok 1 "hang stored as failed" "$r";; esac
[ "$(q "$db" "PRAGMA integrity_check")" = ok ]; ok $? "integrity_check ok after the failures"

# A benchmark killed by the OOM killer inside the guest: page tables of a
# 1 TiB region do not fit in 512 MB.
"$rb" run 7.3 --bench pt_reclaim --reps 1 --pt-region-mb 1048576 --guest-mem-mb 512 --timeout 300 \
	--db "$db" --out "$work/out" > "$work/oom.log" 2>&1; rc=$?
r=$(q "$db" "SELECT status||': '||reason FROM runs ORDER BY id DESC LIMIT 1")
[ $rc = 3 ]; ok $? "OOM kill: exit 3" "exit $rc"
case $r in failed:*"signal 9"*OOM*) ok 0 "OOM-killed benchmark stored as failed" "$r";; *) ok 1 "OOM-killed benchmark stored as failed" "$r";; esac

# A build that fails half way: a patch that breaks the compile of one file.
printf -- '--- a/mm/madvise.c\n+++ b/mm/madvise.c\n@@ -1,3 +1,4 @@\n' > "$work/broken.patch"
src73=$("$top/runners/scripts/kernel-source.sh" debian:7.3 | head -n 1)
{ sed -n 1p "$src73/mm/madvise.c" | sed 's/^/ /'; echo '+#error reclaimbench: a compile error on purpose'; sed -n 2,3p "$src73/mm/madvise.c" | sed 's/^/ /'; } >> "$work/broken.patch"
cat > "$work/broken.conf" <<EOC
[broken]
source = debian:7.3
config = $top/kernels/config/guest.config
patch = $work/broken.patch
EOC
"$rb" run broken --variants "$work/broken.conf" --db "$db" > "$work/br.log" 2>&1; rc=$?
[ $rc = 3 ] && grep -q "variant 'broken': compile.* failed" "$work/br.log" && grep -q 'build.log' "$work/br.log"
ok $? "a compile error: exit 3 naming the variant and the log" "exit $rc; $(grep error: "$work/br.log" | head -n 1)"
"$rb" run 7.3 --bench pt_reclaim --reps 1 --db "$db" --out "$work/out" > "$work/after.log" 2>&1
ok $? "the next build and boot of 7.3 still work after the failed build"

# Bad input in a variant spec: a patch that does not apply, an option
# that does not exist.  Exit 2, the variant, the file and the log named.
printf -- '--- a/mm/madvise.c\n+++ b/mm/madvise.c\n@@ -1,3 +1,3 @@\n-no such line here\n+nor here\n context\n' > "$work/bad.patch"
printf 'CONFIG_NO_SUCH_OPTION_RB=y\n' > "$work/bad.config"
cat > "$work/bad.conf" <<EOC
[badpatch]
source = debian:7.3
config = $top/kernels/config/guest.config
patch = $work/bad.patch
[badconfig]
source = debian:6.12
config = $work/bad.config
EOC
"$rb" run badpatch --variants "$work/bad.conf" --db "$db" > "$work/bp.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "variant 'badpatch': patch '$work/bad.patch' does not apply" "$work/bp.log"
ok $? "patch that does not apply: exit 2" "exit $rc; $(grep error: "$work/bp.log" | head -n 1)"
"$rb" run badconfig --variants "$work/bad.conf" --db "$db" > "$work/bc.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "CONFIG_NO_SUCH_OPTION_RB" "$work/bc.log"
ok $? "option that does not exist: exit 2" "exit $rc; $(grep error: "$work/bc.log" | head -n 1)"
printf '[x]\nsource = debian:7.3\nconfig = %s\nbogus = 1\n' "$top/kernels/config/guest.config" > "$work/malformed.conf"
"$rb" run x --variants "$work/malformed.conf" --db "$db" > "$work/m.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "malformed.conf:4: unknown key 'bogus'" "$work/m.log"; ok $? "malformed spec: exit 2 with file:line" "$(cat "$work/m.log")"
"$rb" run nosuchvariant --db "$db" > "$work/u.log" 2>&1; rc=$?
[ $rc = 2 ]; ok $? "unknown variant: exit 2" "$(cat "$work/u.log")"
done_testing
