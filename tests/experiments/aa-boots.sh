#!/bin/sh
# The A/A experiment with boots as the unit, for benchmarks timed by the
# host's clock (ttu_sync_race under TCG, or any with --host-clock): per
# experiment K boots of a variant, K boots of the same kernel under another
# name, and K boots of it with an injected 20% slowdown, interleaved;
# `compare --boots` judges every timing metric, each boot's median one sample.
# Usage: sh tests/experiments/aa-boots.sh [N] [K] [VARIANT] [BENCH] [run options...]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10} k=${2:-4} v=${3:-7.3} bench=${4:-ttu_sync_race}
shift $(( $# < 4 ? $# : 4 ))
extra="$*"
rb=$top/build/reclaimbench
work=$(mktemp -d /tmp/rb-aab-XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '[A]\ninherit = %s\n[B]\ninherit = %s\n[S]\ninherit = %s\n' "$v" "$v" "$v" > "$work/v.conf"
sed "s#= config/#= $top/kernels/config/#; s#= patches/#= $top/kernels/patches/#" "$top/kernels/variants.conf" >> "$work/v.conf"
t='^[^,]*,[^,]*,[^,]*,(time\.|perf\.task_clock)'
aa=0 slow=0
for i in $(seq 1 "$n"); do
	db=$work/e$i.db
	for j in $(seq 1 "$k"); do
		for side in A B S; do
			# Only S is fault-injected (and so recorded, compared with --with-faults).
			env $([ $side = S ] && echo RB_TEST_SLOWDOWN_PCT=20) "$rb" run $side --variants "$work/v.conf" \
				--bench "$bench" --reps 5 --db "$db" --out "$work/out" $extra > "$work/run.log" 2>&1 ||
				{ echo "experiment $i: run failed: $(tail -n 3 "$work/run.log")"; exit 3; }
		done
	done
	"$rb" compare --boots --base A --new B --db "$db" --format csv | grep -E "$t" > "$work/ab.csv"
	"$rb" compare --boots --with-faults --base A --new S --db "$db" --format csv | grep ',time\.wall,' > "$work/as.csv"
	bad=$(grep -v ',no change$' "$work/ab.csv" | cut -d, -f4,9,12,15 | tr '\n' ' ')
	[ -z "$bad" ] && aa=$((aa + 1))
	grep -q ',slower$' "$work/as.csv" && slow=$((slow + 1))
	echo "experiment $i: A/A timing metrics not 'no change': ${bad:-none}; slowdown time.wall: $(cut -d, -f9,12,15 "$work/as.csv")"
done
echo "boots as the unit ($k a side, $bench): A/A 'no change' on every timing metric: $aa of $n;" \
	"injected 20% slowdown 'slower': $slow of $n"
