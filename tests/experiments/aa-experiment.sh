#!/bin/sh
# An experiment the project ships (not a test): how often compare calls an
# A/A pair (the same kernel booted twice) "no change" on every timing
# metric, and how often it calls an injected 20% slowdown "slower".
# Usage: sh tests/experiments/aa-experiment.sh [N] [BENCH|all] [VARIANT] [run options...]
# VARIANT is a kernel variant booted under QEMU (default 7.3), or "host".
# The slowdown (RB_TEST_SLOWDOWN_PCT=20 stretches every measured window by
# 20%) is judged on time.wall of lazyfree_mthp, or of BENCH when one is named.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-20} bench=${2:-all} where=${3:-7.3}
shift $(( $# < 3 ? $# : 3 ))
extra="$*"
[ "$where" = host ] && where=--host
sel="--bench $bench" slowbench=$bench
[ "$bench" = all ] && sel="" slowbench=lazyfree_mthp
rb=$top/build/reclaimbench
work=$(mktemp -d /tmp/rb-aa-XXXXXX)
trap 'rm -rf "$work"' EXIT
aa=0 slow=0 alarms=0
for i in $(seq 1 "$n"); do
	db=$work/aa$i.db
	for pct in 0 0 20; do
		RB_TEST_SLOWDOWN_PCT=$pct "$rb" run $where $sel --reps 5 --db "$db" --out "$work/out" $extra > "$work/run.log" 2>&1 ||
			{ echo "experiment $i: run failed: $(tail -n 3 "$work/run.log")"; exit 3; }
	done
	# per benchmark: run 1 and 2 are A and A again, run 3 the slowdown
	for b in $(sqlite3 "$db" "SELECT DISTINCT bench FROM runs"); do
		ids=$(sqlite3 "$db" "SELECT id FROM runs WHERE bench = '$b' AND status = 'ok' ORDER BY id")
		set -- $ids
		[ $# = 3 ] || { echo "experiment $i: $b has $# ok runs, not 3"; exit 3; }
		"$rb" compare --base "$1" --new "$2" --db "$db" --format csv | tail -n +2 >> "$work/aa$i.csv"
		[ "$b" = "$slowbench" ] && "$rb" compare --base "$1" --new "$3" --db "$db" --format csv | tail -n +2 > "$work/slow$i.csv"
	done
	# timing metrics: time.* and perf.task_clock
	t='^[^,]*,[^,]*,[^,]*,(time\.|perf\.task_clock)'
	bad=$(grep -E "$t" "$work/aa$i.csv" | grep -v ',no change$' | cut -d, -f1,4,9,12,15 | tr '\n' ' ')
	[ -z "$bad" ] && aa=$((aa + 1))
	# a false alarm: a timing called faster or slower
	echo "$bad" | grep -qE ',(faster|slower)( |$)' && alarms=$((alarms + 1))
	sw=$(grep -E '^[^,]*,[^,]*,[^,]*,time\.wall,' "$work/slow$i.csv")
	case $sw in *',slower') slow=$((slow + 1));; esac
	echo "experiment $i: A/A timing metrics not 'no change': ${bad:-none}; 20% slowdown $slowbench time.wall: $(echo "$sw" | awk -F, '{print $9, $NF}')"
done
echo "A/A 'no change' on every timing metric ($bench): $aa of $n (a timing called faster or slower in $alarms);" \
	"injected 20% slowdown called 'slower': $slow of $n"
