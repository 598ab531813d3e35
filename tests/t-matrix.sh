#!/bin/sh
# The report's index opens with the matrix of benchmarks by feature: on
# an ablation pair, an invariant that moves as the benchmark's own claim
# says reads as the feature working; one that moves without such a claim
# reads CHANGED.  Runs made from records, no kernel booted.
. "$(dirname "$0")/lib.sh"
db=$work/m.db
# stream BENCH SPLIT_METRIC SPLIT_VALUE WALL_BASE: one run of five
# repetitions, framed as the guest frames them.
stream() {
	python3 - "$@" <<'PY'
import sys, zlib
bench, metric, value, wall = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seq = 0
def rec(payload):
    global seq
    line = f'RB1 {seq} {payload}'
    print(f'{line} *{zlib.crc32(line.encode()):08x}')
    seq += 1
rec('hello format=1 release=7.3.4 kversion=%231 arch=x86_64 ncpu=1 mem_kb=1000000')
rec(f'begin bench={bench} version=1 params=reps%3D5')
n = 0
for i, jitter in enumerate((3, 0, 4, 1, 2)):
    rec(f'sample rep={i} metric=time.wall value={wall + jitter} unit=ns'); n += 1
    rec(f'sample rep={i} metric={metric} value={value} unit=count'); n += 1
rec(f'done status=ok samples={n}')
rec(f'end count={seq}')
PY
}
stream lazyfree_mthp mthp.split_deferred 2048 27500000 > "$work/a.rec"
stream lazyfree_mthp mthp.split_deferred 0 8500000 > "$work/b.rec"
stream pmd_redirty vmstat.thp_split_pmd 64 1280000 > "$work/c.rec"
stream pmd_redirty vmstat.thp_split_pmd 0 3180000 > "$work/d.rec"
"$rb" ingest "$work/a.rec" --accel tcg-icount --variant 7.3-no-lazyfree-batch --db "$db" > "$work/log" 2>&1 &&
"$rb" ingest "$work/b.rec" --accel tcg-icount --variant 7.3 --db "$db" >> "$work/log" 2>&1 &&
"$rb" ingest "$work/c.rec" --accel tcg-icount --variant 7.3-no-lazyfree-batch --db "$db" >> "$work/log" 2>&1 &&
"$rb" ingest "$work/d.rec" --accel tcg-icount --variant 7.3 --db "$db" >> "$work/log" 2>&1
ok $? "four runs of two benchmarks on one ablation pair stored"
sed 's/^/# /' "$work/log"
# The other default variants' long names, for the charts' labels.
for v in 6.12 7.3-no-ttu-sync 7.3-no-pt-reclaim 7.3-no-zap-batch 7.3-pmd-discard 7.3-no-swapbacked-iff-dirty; do
	"$rb" ingest "$work/a.rec" --accel tcg-icount --variant "$v" --db "$db" > "$work/log" 2>&1 || break
done
ok $? "the same run under six more variants' names stored"
"$rb" report --db "$db" --out "$work/site" > "$work/rep.log" 2>&1; ok $? "report writes the site"
python3 - "$work/site/index.html" > "$work/cells" <<'PY'
import re, sys
html = open(sys.argv[1]).read()
first = html.index('<table>')
assert first < html.index('<h2>Benchmarks</h2>'), 'the matrix is not first'
head = re.findall(r'<th>(.*?)</th>', html[first:html.index('</tr>', first)])
col = head.index('7.3-no-lazyfree-batch &rarr; 7.3')
for row in re.findall(r'<tr><td><a href="bench-([a-z_]+)\.html">.*?</a></td>(.*?)</tr>', html):
    cells = re.findall(r'<td( class="[a-z]*")?>(.*?)</td>', row[1])
    print(row[0], cells[col - 1][0], cells[col - 1][1])
PY
ok $? "the index opens with the matrix, a column per ablation pair"
sed 's/^/# /' "$work/cells"
grep -q '^lazyfree_mthp  class="ok" faster .*mthp.split_deferred 2048 &rarr; 0 (expected: the feature working)' "$work/cells"
ok $? "the feature working on its own pair reads as expected"
grep -q '^pmd_redirty  class="bad" slower .*vmstat.thp_split_pmd 64 &rarr; 0 CHANGED' "$work/cells"
ok $? "an invariant that moves without a claim on the pair reads CHANGED"
python3 "$top/tests/helper/svg_labels.py" "$work/site"/*.svg > "$work/labels"
ok $? "no chart label overlaps another or crosses a chart's frame"
echo "# $(ls "$work/site"/*.svg | wc -l) SVG charts checked"
sed 's/^/# /' "$work/labels" | head -20
done_testing
