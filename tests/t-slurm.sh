#!/bin/sh
# The job graph on its two executors: a 2-variant x 2-benchmark plan run by
# the local executor (both boots at once) and through a real single-node
# Slurm (Debian's slurm-wlm and munge, private configuration, stopped at
# the end) gives the same runs, samples and instruction-clock timings; a
# cancelled Slurm job is a failed run with the reason, and running the
# command again completes the plan without running stored boots again;
# boots timed on the host's clock run alone on both executors.
. "$(dirname "$0")/lib.sh"
cluster=$work/slurm
trap 'sh "$top/tests/helper/slurm-cluster.sh" stop "$cluster"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
plan="6.12 7.3 --bench lazyfree_mthp --bench pmd_redirty --reps 3 --out $work/out"
runs() { q "$1" "SELECT k.variant || ' ' || r.bench || ' ' || r.status FROM runs r JOIN kernels k ON k.id = r.kernel_id ORDER BY 1"; }

"$rb" run $plan --jobs 2 --db "$work/local.db" > "$work/local.log" 2>&1; rc=$?
ok $rc "local executor: the plan ran" "exit $rc"
grep -q ', 2 running' "$work/local.log"; ok $? "local executor: two boots ran at once on 2 slots"
grep -q 'CPU-seconds' "$work/local.log" && cpu=$(sed -n 's/^run: .* wall, \([0-9]*\) CPU-seconds.*/\1/p' "$work/local.log")
boot=$(q "$work/local.db" "SELECT CAST(total(wall_s) AS INTEGER) FROM jobs WHERE kind = 'boot'")
# QEMU keeps a core busy while it boots: the CPU-seconds must count the
# sandboxed QEMU (they did not, through rusage, before the cgroup).
[ "${cpu:-0}" -ge $((boot / 2)) ]; ok $? "the run's CPU-seconds count its sandboxed QEMUs" "$cpu s for $boot s of boots"

if ! out=$(sh "$top/tests/helper/slurm-cluster.sh" start "$cluster" 2>&1); then
	ok 1 "a private Slurm cluster started" "$out"
	done_testing; exit 0
fi
export "$out"
ok 0 "a private Slurm cluster started (munged, slurmctld, slurmd on localhost)"
"$rb" run $plan --executor slurm --db "$work/slurm.db" > "$work/slurm.log" 2>&1; rc=$?
ok $rc "Slurm executor: the plan ran" "exit $rc"
sj=$(q "$work/slurm.db" "SELECT count(*) FROM jobs WHERE executor LIKE 'slurm:%'")
t=$(q "$work/slurm.db" "SELECT count(*) FROM jobs")
[ "$sj" -gt 0 ] && [ "$sj" = "$t" ]; ok $? "every job ran as a Slurm job" "$sj of $t"
grep -q 'source job(s) as Slurm job [0-9]*$' "$work/slurm.log" &&
	squeue -h -r --states=all -o '%i' | grep -q '_1$'; ok $? "the two source jobs went as one job array"
[ "$(runs "$work/local.db")" = "$(runs "$work/slurm.db")" ] && [ -n "$(runs "$work/slurm.db")" ]
ok $? "the same runs on both executors" "$(runs "$work/slurm.db" | tr '\n' ',')"
samples() { q "$1" "SELECT k.variant, r.bench, s.metric, s.kind, count(*) FROM samples s JOIN runs r ON r.id = s.run_id
	JOIN kernels k ON k.id = r.kernel_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"; }
[ "$(samples "$work/local.db")" = "$(samples "$work/slurm.db")" ]
ok $? "the same samples: every metric series, each as many repetitions" "$(samples "$work/slurm.db" | wc -l) metric series"
# Instruction counts repeat from boot to boot within 0.1% for these two.
python3 - "$work/local.db" "$work/slurm.db" > "$work/timings" <<'PY'
import sqlite3, statistics, sys
def timings(path):
    c = sqlite3.connect(path)
    rows = c.execute("""SELECT k.variant, r.bench, s.metric, s.value FROM samples s JOIN runs r ON r.id = s.run_id
        JOIN kernels k ON k.id = r.kernel_id WHERE s.unit = 'instr' AND s.kind = 'timed'""")
    out = {}
    for v, b, m, x in rows:
        out.setdefault((v, b, m), []).append(x)
    return {k: statistics.median(v) for k, v in out.items()}
a, b = timings(sys.argv[1]), timings(sys.argv[2])
bad = [k for k in a if k not in b or abs(b[k] / a[k] - 1) > 0.005]
print(f"{len(a)} timings, {len(bad)} differ by more than 0.5%: {bad}")
sys.exit(1 if bad or not a else 0)
PY
ok $? "the same instruction-clock timings within 0.5%" "$(cat "$work/timings")"

# A cancelled job: a failed run with the reason; the same command again
# runs only what is missing.
"$rb" run $plan --executor slurm --db "$work/cancel.db" > "$work/cancel.log" 2>&1 &
pid=$!
id=
for i in $(seq 1 120); do
	id=$(squeue -h -o '%i %j' | awk '$2 == "rb-boot-7.3" { print $1 }')
	[ -n "$id" ] && break
	sleep 0.5
done
[ -n "$id" ] && scancel "$id"
wait $pid; rc=$?
[ -n "$id" ] && [ $rc = 3 ]; ok $? "the Slurm job of the 7.3 boot cancelled: the run exits 3" "job $id; exit $rc"
r=$(q "$work/cancel.db" "SELECT group_concat(r.status || ': ' || r.reason, ' | ') FROM runs r JOIN kernels k ON k.id = r.kernel_id
	WHERE k.variant = '7.3'")
case $r in failed:*CANCELLED*) ok 0 "its runs are failed runs with the reason" "$r";;
	*) ok 1 "its runs are failed runs with the reason" "$r";; esac
before=$(q "$work/cancel.db" "SELECT count(*) FROM jobs")
"$rb" run $plan --executor slurm --db "$work/cancel.db" > "$work/resume.log" 2>&1; rc=$?
ok $rc "the same command again completes the plan" "exit $rc"
grep -q '1 of 2 boots were stored whole before' "$work/resume.log"; ok $? "it says what it resumes"
again=$(q "$work/cancel.db" "SELECT group_concat(kind || ' ' || label, ', ') FROM jobs WHERE id > $before")
[ "$again" = "source debian:7.3, build 7.3, boot 7.3" ]; ok $? "only 7.3's jobs ran again" "$again"
rb6=$(q "$work/cancel.db" "SELECT count(*) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '6.12'")
ok7=$(q "$work/cancel.db" "SELECT count(*) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '7.3' AND r.status = 'ok'")
[ "$rb6" = 2 ] && [ "$ok7" = 2 ]; ok $? "6.12's boot was not run again, 7.3 has its 2 ok runs" "6.12: $rb6 runs; 7.3: $ok7 ok"
c=$(grep -c 'building (log' "$work"/spool/*/build-*/log 2>/dev/null | awk -F: '{ s += $2 } END { print s + 0 }')
[ "$c" = 0 ]; ok $? "no kernel was built again: every build job found its kernel in the cache" "$c builds"

# Boots timed on the host's clock run alone: locally nothing beside
# them, through Slurm as exclusive jobs.
hc="6.12 7.3 --bench pmd_redirty --reps 1 --host-clock --out $work/out"
"$rb" run $hc --jobs 2 --db "$work/hc-local.db" > "$work/hc-local.log" 2>&1; rc=$?
# alone = 1, or 0 only for other work on the machine that the boot
# measured beside it (the plan itself ran nothing beside it: next check).
a=$(q "$work/hc-local.db" "SELECT group_concat(accel || '=' || alone || ' (others ' || others_cpus || ')') FROM runs")
nal=$(q "$work/hc-local.db" "SELECT count(*) FROM runs WHERE accel = 'tcg' AND (alone = 1 OR alone = 0 AND others_cpus > 0.2)")
[ $rc = 0 ] && [ "$nal" = 2 ]; ok $? "local: host-clock boots ran alone, recorded" "$a, exit $rc"
s=$(grep 'started boot' "$work/hc-local.log" | grep -o '[0-9]* running' | tr '\n' ,)
[ "$s" = "1 running,1 running," ]; ok $? "local: each host-clock boot started with nothing beside it" "$s"
"$rb" run $hc --executor slurm --db "$work/hc-slurm.db" > "$work/hc-slurm.log" 2>&1; rc=$?
a=$(q "$work/hc-slurm.db" "SELECT group_concat(accel || '=' || alone) FROM runs")
ids=$(q "$work/hc-slurm.db" "SELECT group_concat(substr(executor, 7)) FROM jobs WHERE kind = 'boot'")
ex=$(for i in $(echo "$ids" | tr ',' ' '); do scontrol show job "$i" | grep -o 'OverSubscribe=[A-Z]*'; done | sort -u)
[ $rc = 0 ] && [ "$a" = "tcg=1,tcg=1" ] && [ "$ex" = "OverSubscribe=NO" ]
ok $? "Slurm: host-clock boots went as exclusive jobs" "$a; $ids: $ex"

# nightly as a systemd timer (checked by systemd's own verifier) or a
# Slurm cron entry; a path that would be a command is refused.
git init -q "$work/tree"
sh "$top/runners/scripts/nightly-install.sh" systemd "$work/tree" "$work/night" "$work/units" 2> "$work/units.log"; rc=$?
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$work/units/reclaimbench-nightly.timer" "$work/units/reclaimbench-nightly.service" \
		>> "$work/units.log" 2>&1; v=$?
	[ $rc = 0 ] && [ $v = 0 ]; ok $? "nightly's systemd timer and service install and pass systemd-analyze verify"
else
	skip "systemd-analyze is missing"
fi
line=$(sh "$top/runners/scripts/nightly-install.sh" scrontab "$work/tree" "$work/night" | grep -v '^#')
case $line in "0 2 * * * $top/build/reclaimbench nightly --tree $work/tree --executor slurm "*) ok 0 "nightly's scrontab entry" "$line";;
	*) ok 1 "nightly's scrontab entry" "$line";; esac
sh "$top/runners/scripts/nightly-install.sh" scrontab "$work/tree" "$work/n;touch $work/pwned" > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && [ ! -e "$work/pwned" ]; ok $? "a work folder with a command in its name is refused" "exit $rc"
done_testing
