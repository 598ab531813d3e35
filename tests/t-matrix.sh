#!/bin/sh
# The report's index opens with the matrix of benchmarks by feature: on
# an ablation pair, an invariant that moves as the benchmark's own claim
# says reads as the feature working; one that moves without such a claim
# reads CHANGED.  The same pair on arm64 (kernels/arm64.conf's names)
# gets a matrix of its own, the claims page judges the claim on arm64 with
# x86_64 beside it, and the summary prints each architecture apart.  Runs
# made from records, no kernel booted.
. "$(dirname "$0")/lib.sh"
db=$work/m.db
# stream BENCH SPLIT_METRIC SPLIT_VALUE WALL_BASE [ARCH]: one run of five
# repetitions, framed as the guest frames them, by a guest whose uname -m
# is ARCH (x86_64).
stream() {
	python3 - "$@" <<'PY'
import sys, zlib
bench, metric, value, wall = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
arch = sys.argv[5] if len(sys.argv) > 5 else 'x86_64'
seq = 0
def rec(payload):
    global seq
    line = f'RB1 {seq} {payload}'
    print(f'{line} *{zlib.crc32(line.encode()):08x}')
    seq += 1
rec(f'hello format=1 release=7.3.4 kversion=%231 arch={arch} ncpu=1 mem_kb=1000000')
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

# The same pair on arm64: slower without the batch, as on x86.
stream lazyfree_mthp mthp.split_deferred 2048 31430000 aarch64 > "$work/a64.rec"
stream lazyfree_mthp mthp.split_deferred 0 9400000 aarch64 > "$work/b64.rec"
"$rb" ingest "$work/a64.rec" --accel tcg-icount --variant 7.3-no-lazyfree-batch-arm64 --db "$db" > "$work/log" 2>&1 &&
"$rb" ingest "$work/b64.rec" --accel tcg-icount --variant 7.3-arm64 --db "$db" >> "$work/log" 2>&1 &&
"$rb" report --db "$db" --out "$work/site" > "$work/rep.log" 2>&1
ok $? "arm64 runs of the pair stored, the report written again" "$(cat "$work/log")"
python3 - "$work/site/index.html" "$work/site/claims.html" > "$work/arch" <<'PY'
import re, sys
html = open(sys.argv[1]).read()
for arch in ('x86_64', 'arm64'):
    at = html.index(f'<h2>Features, benchmark by benchmark, on {arch}</h2>')
    table = html[at:html.index('</table>', at)]
    head = re.findall(r'<th>(.*?)</th>', table[:table.index('</tr>')])
    for row in re.findall(r'<tr><td><a href="bench-(lazyfree_mthp)\.html">.*?</a></td>(.*?)</tr>', table):
        cells = re.findall(r'<td( class="[a-z]*")?>(.*?)</td>', row[1])
        for h, c in zip(head[1:], cells):
            if 'lazyfree-batch' in h:
                print('matrix', arch, h, c[0], c[1])
claims = open(sys.argv[2]).read()
for row in re.findall(r'<tr><td>64 KiB lazyfree reclaim.*?</tr>', claims, re.S):
    for c in re.findall(r'<td( class="[a-z]*")?>(.*?)</td>', row)[2:6]:
        print('claim', c[0], c[1].split(': ')[0])
PY
ok $? "the index and the claims page read" "$(cat "$work/arch")"
grep -q '^matrix x86_64 7.3-no-lazyfree-batch &rarr; 7.3  class="ok" faster .*split_deferred 2048 &rarr; 0 (expected' "$work/arch" &&
grep -q '^matrix arm64 7.3-no-lazyfree-batch-arm64 &rarr; 7.3-arm64  class="ok" faster .*split_deferred 2048 &rarr; 0 (expected' "$work/arch"
ok $? "a matrix per architecture, each on its own variants"
grep '^claim' "$work/arch" > "$work/claim"
printf '%s\n' 'claim  class="ok" reproduced' 'claim  7.3-no-lazyfree-batch-arm64 -&gt; 7.3-arm64' \
	'claim  class="ok" reproduced' 'claim  7.3-no-lazyfree-batch -&gt; 7.3' | cmp -s - "$work/claim"
ok $? "the claim judged on arm64 first, x86_64 beside it"
"$rb" summary --db "$db" > "$work/summary" 2>&1
awk '/^lazyfree_mthp/ { on = 1; next } on && /^$/ { exit } on' "$work/summary" > "$work/lf"
sed -n '/\[x86_64\]/,/\[aarch64\]/p' "$work/lf" | grep -q '^  7.3  ' &&
sed -n '/\[aarch64\]/,$p' "$work/lf" | grep -q '^  7.3-arm64  ' &&
! sed -n '/\[aarch64\]/,$p' "$work/lf" | grep -q '^  7.3  ' &&
! sed -n '/\[x86_64\]/,/\[aarch64\]/p' "$work/lf" | grep -q 'arm64  '
ok $? "the summary prints x86_64 and aarch64 apart" "$(cat "$work/lf")"
python3 "$top/tests/helper/svg_labels.py" "$work/site"/*.svg > "$work/labels"
ok $? "no chart label overlaps another or crosses a chart's frame"
echo "# $(ls "$work/site"/*.svg | wc -l) SVG charts checked"
sed 's/^/# /' "$work/labels" | head -20
done_testing
