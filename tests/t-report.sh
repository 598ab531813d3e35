#!/bin/sh
# The HTML report of real runs, opened in a real headless browser: the
# index and a benchmark page render with their charts.
. "$(dirname "$0")/lib.sh"
db=$work/report.db
if [ "$(id -u)" != 0 ] || [ ! -w /sys/kernel/mm/transparent_hugepage/enabled ]; then
	skip "needs root for host runs"; done_testing; exit 0
fi
"$rb" run --host --reps 3 --bench lazyfree_mthp --bench pmd_redirty --bench pt_reclaim --db "$db" > "$work/run.log" 2>&1
"$rb" run --host --reps 3 --bench lazyfree_mthp --bench pmd_redirty --bench pt_reclaim --db "$db" >> "$work/run.log" 2>&1
ok $? "two host sessions stored"
"$rb" report --db "$db" --out "$work/site" > "$work/rep.log" 2>&1
ok $? "report writes the site" "$(cat "$work/rep.log")"
for p in index claims runs method bench-lazyfree_mthp history-lazyfree_mthp run-1; do
	[ -s "$work/site/$p.html" ]; ok $? "$p.html written"
done
nsvg=$(ls "$work/site"/*.svg | wc -l)
python3 - "$work/site" <<'PY'
import glob, re, sys, xml.etree.ElementTree as ET
site = sys.argv[1]
for svg in glob.glob(site + '/*.svg'):
    root = ET.parse(svg).getroot()
    assert root.tag.endswith('svg'), svg
    assert len(list(root.iter())) > 20, svg + ' is nearly empty'
for page in glob.glob(site + '/*.html'):
    html = open(page).read()
    assert '<script' not in html, page + ' has a script'
    for src in re.findall(r'<img src="([^"]+)"', html):
        assert '/' not in src and open(site + '/' + src), src
PY
ok $? "every SVG chart well-formed and every <img> of every page present; no script" "$nsvg SVG charts"
grep -q 'lazyfree_mthp-dist.svg' "$work/site/bench-lazyfree_mthp.html"; ok $? "the benchmark page shows the distribution chart"
grep -q 'time.wall' "$work/site/run-1.html" && grep -q 'run --host' "$work/site/run-1.html"; ok $? "a run page has the samples and the exact command line"
# The method page: reports/method.md rendered, linked from the index, and
# the document's own markup (the attack table's <script>) shown as text.
grep -q '<a href="method.html">' "$work/site/index.html"; ok $? "the index links the method page"
grep -q '<h3 id="clocks">Clocks</h3>' "$work/site/method.html" && grep -q '<td>' "$work/site/method.html"
ok $? "the method page renders the document's headings and tables"
grep -q '&lt;script&gt;' "$work/site/method.html" && ! grep -q '<script' "$work/site/method.html"
ok $? "the method page shows the document's markup escaped"
if command -v chromium >/dev/null; then
	for p in index bench-lazyfree_mthp method; do
		timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$work/chrome" --window-size=1200,1400 --screenshot="$work/$p.png" \
			"file://$work/site/$p.html" > "$work/chrome.log" 2>&1
		r=$(python3 "$top/tests/helper/png_check.py" "$work/$p.png" 2>&1); ok $? "chromium renders $p.html" "$r"
	done
else
	skip "chromium is not installed (make deps installs it)"
fi
done_testing
