#!/bin/sh
# An experiment the project ships (not a test): how often compare calls an
# A/A pair (the same kernel twice) "no change" on every timing metric, and
# how often it calls an injected 20% slowdown "slower".
# Usage: sh tests/aa-experiment.sh [N] [BENCH] [VARIANT]
# VARIANT is a kernel variant booted under QEMU (default 7.3), or "host".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20} bench=${2:-lazyfree_mthp} where=${3:-7.3}
[ "$where" = host ] && where=--host
rb=$top/build/reclaimbench
work=$(mktemp -d /tmp/rb-aa-XXXXXX)
trap 'rm -rf "$work"' EXIT
aa=0 slow=0
for i in $(seq 1 "$n"); do
	db=$work/aa$i.db
	"$rb" run $where --bench "$bench" --reps 5 --db "$db" > /dev/null 2>&1
	"$rb" run $where --bench "$bench" --reps 5 --db "$db" > /dev/null 2>&1
	RB_TEST_SLOWDOWN_PCT=20 "$rb" run $where --bench "$bench" --reps 5 --db "$db" > /dev/null 2>&1
	"$rb" compare --base 1 --new 2 --db "$db" --format csv > "$work/aa.csv"
	"$rb" compare --base 1 --new 3 --db "$db" --format csv > "$work/slow.csv"
	# timing metrics: time.* and perf.task_clock
	t='^[^,]*,[^,]*,[^,]*,(time\.|perf\.task_clock)'
	bad=$(grep -E "$t" "$work/aa.csv" | grep -cv ',no change$')
	[ "$bad" = 0 ] && aa=$((aa + 1))
	grep -E '^[^,]*,[^,]*,[^,]*,time\.wall,' "$work/slow.csv" | grep -q ',slower$' && slow=$((slow + 1))
	echo "experiment $i: A/A timing metrics not 'no change': $bad; 20% slowdown time.wall: $(grep -E '^[^,]*,[^,]*,[^,]*,time\.wall,' "$work/slow.csv" | awk -F, '{print $9, $NF}')"
done
echo "A/A 'no change' on every timing metric: $aa of $n; injected 20% slowdown called 'slower': $slow of $n"
