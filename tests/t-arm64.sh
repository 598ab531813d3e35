#!/bin/sh
# arm64 variants (kernels/arm64.conf): 7.3 and its lazyfree-batch
# off-switch cross-built and booted under qemu-system-aarch64 -M virt with
# the instruction clock; the guest says it is aarch64, the off-switch's
# probe shows on arm64 as on x86, and compare never sets an arm64 run
# against an x86 one; the default plan lists both architectures, and
# --accel kvm says why it cannot run here.
. "$(dirname "$0")/lib.sh"
db=$work/arm64.db
arm=$top/kernels/arm64.conf
q1() { q "$db" "SELECT $1 FROM samples s JOIN runs r ON r.id = s.run_id JOIN kernels k ON k.id = r.kernel_id WHERE s.kind = 'timed' AND $2"; }

"$rb" list variants --variants "$arm" > "$work/list.txt"
grep -A2 '^7.3-arm64$' "$work/list.txt" | grep -q '^  arch    arm64$'
ok $? "list variants shows 7.3-arm64 with arch arm64"

"$rb" list variants > "$work/plan.txt"
grep -q '^7.3-arm64$' "$work/plan.txt" && grep -q '^7.3$' "$work/plan.txt"
ok $? "the default plan lists the x86 and the arm64 variants"

# --accel kvm: KVM runs the host's own architecture only, and says so; on
# a host whose KVM cannot boot (this one) the plan stops with the probe's
# reason instead of falling back to TCG.
"$rb" run 7.3-arm64 --variants "$arm" --accel kvm --db "$work/kvm.db" --out "$work/out" > "$work/kvm1.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "accel kvm: no variant of this host's architecture" "$work/kvm1.log"
ok $? "--accel kvm with arm64 variants only on an x86 host: refused, exit 2" "exit $rc; $(tail -n 1 "$work/kvm1.log")"
"$rb" run 7.3 --accel kvm --bench pt_reclaim --reps 1 --db "$work/kvm.db" --out "$work/out" > "$work/kvm2.log" 2>&1; rc=$?
a=$(q "$work/kvm.db" "SELECT group_concat(DISTINCT accel) FROM runs")
{ [ $rc = 0 ] && [ "$a" = kvm ]; } || { [ $rc = 3 ] && [ -z "$a" ] && grep -q '^error: --accel kvm: .*without --accel' "$work/kvm2.log"; }
ok $? "--accel kvm on 7.3: KVM boots it, or the plan stops with the reason" "exit $rc, accel '$a'; $(grep -m1 '^error' "$work/kvm2.log")"

"$rb" run 7.3-arm64 7.3-no-lazyfree-batch-arm64 --variants "$arm" --bench lazyfree_mthp --bench pt_reclaim --reps 2 \
	--db "$db" --out "$work/out" > "$work/run.log" 2>&1; rc=$?
ok $rc "run 7.3-arm64 7.3-no-lazyfree-batch-arm64 builds, boots and exits 0" "$(tail -n 1 "$work/run.log")"
[ "$(q "$db" "SELECT count(*) FROM runs WHERE status = 'ok'")" = 4 ]
ok $? "4 runs ok" "$(q "$db" "SELECT group_concat(bench||'='||status||' '||reason, '; ') FROM runs WHERE status != 'ok'")"
a=$(q "$db" "SELECT group_concat(DISTINCT arch) FROM runs")
[ "$a" = aarch64 ]; ok $? "the guests' uname says aarch64" "runs.arch: $a"
r=$(q "$db" "SELECT group_concat(DISTINCT k.release) FROM runs r JOIN kernels k ON k.id = r.kernel_id")
case $r in 7.3.*) ok 0 "the guests ran 7.3" "$r";; *) ok 1 "the guests ran 7.3" "$r";; esac
e=$(q "$db" "SELECT group_concat(DISTINCT accel||' '||emulator) FROM runs")
case $e in "tcg-icount qemu-system-aarch64 -M virt: QEMU emulator version "*"; -cpu max,pauth-impdef=on") ok 0 "booted by qemu-system-aarch64 under the instruction clock" "$e";;
*) ok 1 "booted by qemu-system-aarch64 under the instruction clock" "$e";; esac
grep -q 'Booting Linux on physical CPU' "$(q "$db" "SELECT console_log FROM runs LIMIT 1")" &&
grep -q 'ttyAMA0' "$(q "$db" "SELECT console_log FROM runs LIMIT 1")"
ok $? "the console is the PL011 (ttyAMA0)"

sd=$(q1 "group_concat(CAST(s.value AS INTEGER))" "k.variant='7.3-arm64' AND r.bench='lazyfree_mthp' AND s.metric='mthp.split_deferred'")
[ "$sd" = "0,0" ]; ok $? "7.3-arm64 (batched lazyfree unmap): split_deferred 0" "$sd"
sd=$(q1 "group_concat(CAST(s.value AS INTEGER))" "k.variant='7.3-no-lazyfree-batch-arm64' AND r.bench='lazyfree_mthp' AND s.metric='mthp.split_deferred'")
[ "$sd" = "2048,2048" ]; ok $? "7.3-no-lazyfree-batch-arm64: split_deferred 2048 per repetition" "$sd"
for v in 7.3-arm64 7.3-no-lazyfree-batch-arm64; do
	f=$(q1 "group_concat(CAST(s.value AS INTEGER))" "k.variant='$v' AND r.bench='lazyfree_mthp' AND s.metric='vmstat.pglazyfreed'")
	[ "$f" = "32768,32768" ]; ok $? "$v: pglazyfreed 32768 in both repetitions" "$f"
done
b=$(q1 "CAST(min(s.value) AS INTEGER)" "k.variant='7.3-arm64' AND r.bench='pt_reclaim' AND s.metric='status.VmPTE_before'")
f=$(q1 "CAST(max(s.value) AS INTEGER)" "k.variant='7.3-arm64' AND r.bench='pt_reclaim' AND s.metric='status.VmPTE_after'")
[ -n "$b" ] && [ -n "$f" ] && [ "$f" -lt $((b / 10)) ]
ok $? "7.3-arm64 (PT reclaim): VmPTE dropped by more than 90%" "$b -> $f kB"
t=$(q1 "group_concat(s.unit)" "k.variant='7.3-arm64' AND r.bench='lazyfree_mthp' AND s.metric='time.wall'")
[ "$t" = "instr,instr" ]; ok $? "timings under the instruction clock are instructions" "$t"

# The arm64 build keeps its own folder: the x86 one of the source untouched.
# The folder 7.3-arm64 was compiled in, as its build's log names it.
img=$("$rb" build 7.3-arm64 --variants "$arm" 2> /dev/null | awk '$1 == "7.3-arm64" { print $3 }')
c=$(grep -o '[^ ]*/\.rb-config' "$(dirname "$img")/build.log" 2> /dev/null | head -n 1)
c=${c%/.rb-config}
case $c in */build/linux-source-7.3-arm64*) [ -f "$c/arch/arm64/boot/Image" ] ;; *) false ;; esac
ok $? "arm64 builds of 7.3 in a folder of their own" "$c"

# The same kernel on x86: compare refuses the pair, and says why.
"$rb" run 7.3 --bench lazyfree_mthp --reps 2 --db "$db" --out "$work/out" > "$work/x86.log" 2>&1
ok $? "7.3 on x86 booted" "$(tail -n 1 "$work/x86.log")"
x=$(q "$db" "SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '7.3' AND r.bench = 'lazyfree_mthp'")
y=$(q "$db" "SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '7.3-arm64' AND r.bench = 'lazyfree_mthp'")
[ "$(q "$db" "SELECT arch FROM runs WHERE id = $x")" = x86_64 ]; ok $? "the x86 run says x86_64"
"$rb" compare --base "$x" --new "$y" --db "$db" > "$work/c.txt" 2> "$work/c.err"; rc=$?
[ $rc = 2 ] && grep -q "differ in arch: x86_64 vs aarch64" "$work/c.err"
ok $? "compare an x86 run with an arm64 run: refused, exit 2" "runs $x and $y: exit $rc; $(cat "$work/c.err")"
"$rb" compare --base 7.3 --new 7.3-arm64 --bench lazyfree_mthp --db "$db" > "$work/c2.txt" 2> "$work/c2.err"; rc=$?
[ $rc = 2 ] && grep -q "differ in arch" "$work/c2.err"
ok $? "compare by variant name, 7.3 against 7.3-arm64: refused, exit 2" "exit $rc"
done_testing
