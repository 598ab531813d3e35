#!/bin/sh
# The A/A experiment with boots as the unit: per experiment K boots of a
# variant, K boots of the same kernel under another name, and K boots of
# it with an injected 20% slowdown, interleaved; `compare --boots`.
# Usage: sh tests/aa-boots.sh [N] [K] [VARIANT]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10} k=${2:-4} v=${3:-7.3}
rb=$top/build/reclaimbench
work=$(mktemp -d /tmp/rb-aab-XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '[A]\ninherit = %s\n[B]\ninherit = %s\n[S]\ninherit = %s\n' "$v" "$v" "$v" > "$work/v.conf"
sed "s#= config/#= $top/kernels/config/#; s#= patches/#= $top/kernels/patches/#" "$top/kernels/variants.conf" >> "$work/v.conf"
aa=0 slow=0
for i in $(seq 1 "$n"); do
	db=$work/e$i.db
	for j in $(seq 1 "$k"); do
		for side in A B S; do
			pct=0; [ $side = S ] && pct=20
			RB_TEST_SLOWDOWN_PCT=$pct "$rb" run $side --variants "$work/v.conf" --bench lazyfree_mthp --reps 5 \
				--db "$db" --out "$work/out" > /dev/null 2>&1
		done
	done
	ab=$("$rb" compare --boots --base A --new B --db "$db" --format csv | grep ',time\.wall,')
	as=$("$rb" compare --boots --base A --new S --db "$db" --format csv | grep ',time\.wall,')
	case $ab in *',no change') aa=$((aa + 1));; esac
	case $as in *',slower') slow=$((slow + 1));; esac
	echo "experiment $i: A/A $(echo "$ab" | cut -d, -f9,12,15); slowdown $(echo "$as" | cut -d, -f9,12,15)"
done
echo "boots as the unit ($k a side): A/A 'no change' on time.wall: $aa of $n; injected 20% slowdown 'slower': $slow of $n"
