#!/bin/sh
# Hostile input against the real program: nothing it sends may run a
# command, write outside its place, or corrupt the database.
#  1. the sandbox itself (runners/scripts/sandbox.sh): user, network, files, limits;
#  2. a guest record stream whose release and reason carry gnuplot, shell
#     and HTML text, through ingest, report, compare, show and list;
#  2b. what readers show and how much a stream makes them do: a release
#     whose markup survives the length limit, through the report (HTML
#     and SVG) and the terminal; two runs of 46,341 samples each through
#     compare and report;
#  3. git refs with shell text given to bisect and nightly;
#  4. a guest that floods its console, booted: stopped at the limit, and
#     QEMU seen running unprivileged under its seccomp filter;
#  5. a gate of a patch whose Makefile writes outside its tree (into /root,
#     the results database, the source tree), opens a network socket and
#     forks without limit.
. "$(dirname "$0")/lib.sh"
sb=$top/runners/scripts/sandbox.sh
canary=$work/canary
id=$(basename "$work")
pwned() { ls "$canary"* /root/rb-attack-"$id"* 2>/dev/null | tr '\n' ' '; }
# Processes of the fork bombs below (other sessions may run sandboxes too).
bombs() { pgrep -u rb-sandbox -f 'b\(\) \{ b \| b & \}' 2>/dev/null; }

# --- 1. the sandbox --------------------------------------------------------
mkdir -p "$work/sb/rw" "$work/sb/ro" && echo data > "$work/sb/ro/file"
python3 - "$work/port" "$work/connected" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(5)
open(sys.argv[1], 'w').write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept(); open(sys.argv[2], 'a').write('connected\n'); c.close()
PY
listener=$!
for i in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
sh "$sb" -w "$work/sb/rw" -r "$work/sb/ro" -- sh -c '
	echo "uid $(id -u) $(id -un)"; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status
	touch "$1/sb/rw/written" && echo "rw ok"
	touch "$1/sb/ro/written" 2>/dev/null || echo "ro refused"
	touch /root/rb-attack-'"$id"' 2>/dev/null || echo "root refused"
	ls "$1/port" 2>/dev/null || echo "rest unseen"
	python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $2), 3)" 2>/dev/null || echo "net refused"
' sh "$work" "$port" > "$work/sb.log" 2>&1
sleep 0.5
grep -q "uid $(id -u rb-sandbox) rb-sandbox" "$work/sb.log" && grep -q 'CapEff:.*0000000000000000' "$work/sb.log" &&
	grep -q 'NoNewPrivs:.*1' "$work/sb.log"
ok $? "sandbox: runs as rb-sandbox, no capabilities, no new privileges" "$(head -3 "$work/sb.log" | tr '\n' ' ')"
grep -q 'rw ok' "$work/sb.log" && grep -q 'ro refused' "$work/sb.log" && [ ! -e "$work/sb/ro/written" ] &&
	grep -q 'root refused' "$work/sb.log" && [ ! -e /root/rb-attack-"$id" ] && grep -q 'rest unseen' "$work/sb.log"
ok $? "sandbox: writes only its -w folder; -r read-only; /root and the rest of the host not there"
grep -q 'net refused' "$work/sb.log" && [ ! -e "$work/connected" ]
ok $? "sandbox: no network (a listener on the host's 127.0.0.1 got no connection)"
start=$(date +%s)
sh "$sb" -t 3 -- sh -c 'sleep 60' > "$work/t.log" 2>&1; rc=$?
[ $rc = 3 ] && grep -q 'time limit of 3 s' "$work/t.log" && [ $(($(date +%s) - start)) -lt 15 ]
ok $? "sandbox: a command past its time limit is killed, exit 3" "$(cat "$work/t.log" | tail -1)"
sh "$sb" -q 20 -w "$work/sb/rw" -- sh -c 'dd if=/dev/zero of="$1" bs=1M count=200 2>/dev/null; sleep 60' sh "$work/sb/rw/big" \
	> "$work/q.log" 2>&1; rc=$?
[ $rc = 3 ] && grep -q 'disk limit' "$work/q.log"
ok $? "sandbox: a command that fills its folder past the disk limit is killed, exit 3" "$(tail -1 "$work/q.log")"
# The kernel counts the bomb: its pids cgroup's peak (a walk of /proc
# inside counts more, as processes born during the walk are seen twice),
# or where the host has no pids cgroup, the limit the bomb runs under.
# (Once the bomb holds every process it may have, only shell builtins run.)
sh "$sb" -t 60 -- sh -c 'b() { b | b & }; b; seen=0; i=0
	while [ $i -lt 3000 ]; do set -- /proc/[0-9]*; [ $# -gt $seen ] && seen=$#; i=$((i + 1)); done
	echo "a walk of /proc saw $seen processes"' > "$work/fork.log" 2>&1 &
bomb=$! cg= peak= failed= limit=
while kill -0 $bomb 2>/dev/null; do
	if [ -z "$cg$limit" ] && p=$(bombs | head -1) && [ -n "$p" ]; then
		cg=$(sed -n 's/^[0-9]*:pids:\(\/rb-sandbox-[0-9]*\)$/\1/p' /proc/$p/cgroup 2>/dev/null)
		[ -n "$cg" ] || limit=$(awk '/^Max processes/ { print $3 }' /proc/$p/limits 2>/dev/null)
	fi
	if [ -n "$cg" ] && [ -f /sys/fs/cgroup/pids$cg/pids.peak ]; then
		peak=$(cat /sys/fs/cgroup/pids$cg/pids.peak 2>/dev/null || echo "$peak")
		failed=$(awk '$1 == "max" { print $2 }' /sys/fs/cgroup/pids$cg/pids.events 2>/dev/null || echo "$failed")
	fi
	sleep 0.05
done
wait $bomb
for i in $(seq 50); do [ -z "$(bombs)" ] && break; sleep 0.2; done	# the killed die
seen=$(sed -n 's/.*a walk of \/proc saw \([0-9]*\) processes.*/\1/p' "$work/fork.log" | tail -1)
if [ -n "$cg" ]; then
	how="the kernel's count peaked at ${peak:-?} of 512, ${failed:-?} forks refused"
	[ -n "$peak" ] && [ "$peak" -ge 100 ] && [ "$peak" -le 512 ] && [ "${failed:-0}" -gt 0 ]
else
	how="no pids cgroup; ran with a limit of ${limit:-?} processes, forks refused: $(grep -c 'Cannot fork' "$work/fork.log")"
	[ "$limit" = 512 ] && grep -q 'Cannot fork' "$work/fork.log"
fi && [ -z "$(bombs)" ] && [ ! -d "/sys/fs/cgroup/pids$cg" -o -z "$cg" ]
ok $? "sandbox: a fork bomb stops at the process limit, none left after the sandbox ends" \
	"$how; a walk of /proc inside saw ${seen:-?}"
sh "$sb" -f 1 -w "$work/sb/rw" -- sh -c 'dd if=/dev/zero of="$1" bs=1M count=5' sh "$work/sb/rw/f" > /dev/null 2>&1
[ "$(stat -c %s "$work/sb/rw/f")" -le 1048576 ]
ok $? "sandbox: a file stops at the file size limit" "$(stat -c %s "$work/sb/rw/f") bytes of 1 MiB"

# --- 2. records ------------------------------------------------------------
release='a" 1, "b" system("touch '"$canary"'-gp")) #'"'"'$(touch '"$canary"'-sh)`touch '"$canary"'-bq`<script>x</script>'
reason='<img src=x onerror=alert(1)><script>alert(2)</script>'"'"'; touch '"$canary"'-r; $(touch '"$canary"'-r2) '"$(printf '\033[31m')"'red'"'"'); DROP TABLE runs; --'
db=$work/attack.db
python3 "$top/tests/helper/gen_records.py" 3 5 "$reason" "$release" > "$work/hostile.rec"
python3 "$top/tests/helper/gen_records.py" 3 5 "" "6.12.0-plain" > "$work/plain.rec"
"$rb" ingest "$work/hostile.rec" --db "$db" > "$work/ingest.log" 2>&1 &&
	"$rb" ingest "$work/plain.rec" --db "$db" >> "$work/ingest.log" 2>&1 &&
	"$rb" ingest "$work/plain.rec" --variant 'v"); system("touch '"$canary"'-v") #' --db "$db" >> "$work/ingest.log" 2>&1
ok $? "hostile records ingested as data" "$(head -1 "$work/ingest.log")"
[ "$(q "$db" "SELECT count(*) FROM runs")" = 9 ] && [ "$(q "$db" "PRAGMA integrity_check")" = ok ] &&
	q "$db" "SELECT reason FROM runs WHERE id = 1" | grep -qF "DROP TABLE runs; --"
ok $? "the database holds the reason as text (9 runs, integrity ok)"
q "$db" "SELECT reason FROM runs WHERE id = 1" | od -c | grep -q '033'
[ $? != 0 ]; ok $? "a control byte of the reason is not stored (no terminal escape reaches show or list)"
"$rb" report --db "$db" --out "$work/site" > "$work/report.log" 2>&1; rc=$?
[ $rc = 0 ] && [ -z "$(pwned)" ]
ok $? "report (gnuplot on hostile labels): exit 0, nothing executed" "exit $rc $(pwned)"
python3 - "$work/site" "$release" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
site, release = sys.argv[1], sys.argv[2]
texts = []
for svg in glob.glob(site + '/*.svg'):
    texts += [t.text or '' for t in ET.parse(svg).getroot().iter() if t.tag.endswith('text')]
label = release.replace('"', "'")[:64]
assert any(label in t for t in texts), 'hostile label not drawn as text'
for page in glob.glob(site + '/*.html'):
    html = open(page, encoding='utf-8', errors='replace').read()
    for bad in ('<script', '<img src=x', 'onerror=alert(1)>'):
        assert bad not in html, (page, bad)
run1 = open(site + '/run-1.html').read()
assert '&lt;img src=x onerror=alert(1)&gt;' in run1 and '&lt;script&gt;alert(2)&lt;/script&gt;' in run1, 'reason not shown escaped'
PY
ok $? "report: every SVG well-formed with the label drawn as text, every page with the markup escaped"
"$rb" compare --base 2 --new 5 --db "$db" > "$work/cmp.txt" 2>&1 &&
	"$rb" compare --base 2 --new 5 --format json --db "$db" > "$work/cmp.json" 2>&1 &&
	"$rb" compare --base "$(q "$db" "SELECT release FROM kernels WHERE id = 1")" --new 6.12.0-plain --format csv \
		--db "$db" > "$work/cmp.csv" 2>&1
rc=$?
python3 -c 'import csv, json, sys; json.load(open(sys.argv[1]))
rows = list(csv.reader(open(sys.argv[2], newline="")))
assert len(rows) > 1 and all(len(r) == 15 for r in rows), rows' "$work/cmp.json" "$work/cmp.csv" &&
	! grep -q "$(printf '\033')" "$work/cmp.txt" && [ -z "$(pwned)" ] && [ $rc -le 1 ]
ok $? "compare (by run and by the hostile label, text, json, csv): valid JSON and CSV, no escape byte, nothing executed" "exit $rc"
"$rb" show 1 --db "$db" > "$work/show.txt" 2>&1 && "$rb" show 1 --format json --db "$db" > "$work/show.json" 2>&1 &&
	"$rb" list runs --db "$db" > "$work/list.txt" 2>&1 && "$rb" list runs --format json --db "$db" > "$work/list.json" 2>&1
rc=$?
python3 -c 'import json, sys; [json.load(open(f)) for f in sys.argv[1:]]' "$work/show.json" "$work/list.json" &&
	grep -qF 'DROP TABLE runs' "$work/show.txt" && ! grep -q "$(printf '\033')" "$work/show.txt" "$work/list.txt" &&
	[ -z "$(pwned)" ]
ok $? "show and list (text and json): the reason shown as text, valid JSON, no escape byte, nothing executed" "exit $rc"
# A database is untrusted input too: one written past ingest's cleaning
# (by hand, by another tool) carries any byte in every text column.
# ESC ] (a title), BEL, ESC [2J, CR, a bare and a UTF-8 C1 CSI, a byte that
# is not UTF-8, JSON's and CSV's own characters, markup.
evil=781b5d303b70776e656407071b5b324a2271222c635c640a650d669b67c29b68ff3c2f74643e20
cdb=$work/crafted.db
cp "$db" "$cdb"
q "$cdb" "UPDATE kernels SET release = CAST(X'$evil' AS TEXT) || release,
	variant = CASE variant WHEN '' THEN '' ELSE CAST(X'$evil' AS TEXT) END;
	UPDATE runs SET reason = CAST(X'$evil' AS TEXT), params = CAST(X'$evil' AS TEXT);
	UPDATE samples SET metric = CAST(X'$evil' AS TEXT) || metric, unit = CAST(X'$evil' AS TEXT),
		note = CAST(X'$evil' AS TEXT);
	INSERT INTO samples (run_id, kind, rep, metric, value, unit, note) VALUES (2, 'timed', 0, 'kernel.warnings', 1,
		'lines', CAST(X'$evil' AS TEXT) || char(10) || 'WARNING: second line' || char(10))"
crel=$(q "$cdb" "SELECT release FROM kernels WHERE id = 1")
cvar=$(q "$cdb" "SELECT max(variant) FROM kernels")
"$rb" compare --base 2 --new 5 --db "$cdb" > "$work/c-cmp.txt" 2>> "$work/c-err.txt"; r1=$?
"$rb" compare --base "$crel" --new "$cvar" --db "$cdb" >> "$work/c-cmp.txt" 2>> "$work/c-err.txt"; r2=$?
"$rb" compare --base "$crel" --new "$cvar" --format json --db "$cdb" > "$work/c-cmp.json" 2>> "$work/c-err.txt"; r3=$?
"$rb" compare --base 2 --new 5 --format csv --db "$cdb" > "$work/c-cmp.csv" 2>> "$work/c-err.txt"; r4=$?
"$rb" compare --base "$crel" --new nothing-here --db "$cdb" >> "$work/c-cmp.txt" 2>> "$work/c-err.txt"; r5=$?
"$rb" show 2 --db "$cdb" > "$work/c-show.txt" 2>> "$work/c-err.txt" &&
	"$rb" show 2 --format json --db "$cdb" > "$work/c-show.json" 2>> "$work/c-err.txt" &&
	"$rb" list runs --db "$cdb" > "$work/c-list.txt" 2>> "$work/c-err.txt" &&
	"$rb" list runs --format json --db "$cdb" > "$work/c-list.json" 2>> "$work/c-err.txt"
r6=$?
[ $r1 -le 1 ] && [ $r2 -le 1 ] && [ $r3 -le 1 ] && [ $r4 -le 1 ] && [ $r5 = 2 ] && [ $r6 = 0 ] && [ -z "$(pwned)" ]
ok $? "a crafted database through compare (text, json, csv), show and list: nothing executed" "exit $r1 $r2 $r3 $r4 $r5 $r6"
python3 - "$work" "$evil" <<'PY'
import csv, io, json, sys, unicodedata
work, evil = sys.argv[1], bytes.fromhex(sys.argv[2])
# What JSON carries: the text itself, a byte that is not UTF-8 as U+FFFD.
want = evil.decode('utf-8', errors='replace')
def utf8(name):
    return open(f'{work}/{name}', 'rb').read().decode('utf-8')	# strict: raises on a bad byte
def strings(v):
    if isinstance(v, dict):
        v = list(v.values())
    return [y for x in v for y in strings(x)] if isinstance(v, list) else [v] if isinstance(v, str) else []
for name in ('c-cmp.json', 'c-show.json', 'c-list.json'):
    doc = json.loads(utf8(name))	# strict: a raw control character in a string fails
    assert any(want in v for v in strings(doc)), (name, 'the text not carried')
show = json.loads(utf8('c-show.json'))
assert show['run'][0]['reason'] == want and show['run'][0]['release'].startswith(want), 'show json: text changed'
assert any(s['metric'] == want + 'time.wall' and s['unit'] == want for s in show['samples']), 'show json: samples'
cmp = json.loads(utf8('c-cmp.json'))
assert cmp['base'].startswith(want) and cmp['new'] == want and cmp['rows'], 'compare json: the sides'
assert all(r['metric'].startswith(want) or r['metric'] == 'kernel.warnings' for r in cmp['rows']), 'compare json: metric'
rows = list(csv.reader(io.StringIO(utf8('c-cmp.csv'), newline='')))
assert rows[0][3] == 'metric' and len(rows) > 1 and all(len(r) == 15 for r in rows), ('csv: fields', rows)
# As a terminal is shown it: a control character or a byte that is not
# UTF-8 as \xNN.
shown = ''.join(f'\\x{ord(c) - 0xdc00:02x}' if 0xdc80 <= ord(c) <= 0xdcff else
                ''.join(f'\\x{b:02x}' for b in c.encode()) if unicodedata.category(c) == 'Cc' else c
                for c in evil.decode('utf-8', errors='surrogateescape'))
assert any(r[3] == shown + 'time.wall' for r in rows[1:]), ('csv: the metric is not one field', [r[3] for r in rows])
# Text for a terminal: valid UTF-8, no control character but newline
# and tab, the escapes visible.
for name in ('c-cmp.txt', 'c-show.txt', 'c-list.txt', 'c-err.txt'):
    text = utf8(name)
    bad = [c for c in text if c not in '\n\t' and unicodedata.category(c) == 'Cc']
    assert not bad, (name, bad)
    assert '\\x1b]0;pwned\\x07\\x07' in text or name == 'c-err.txt' and '\\x1b]0;pwned' in text, (name, 'not shown')
assert 'WARNING: second line' in utf8('c-show.txt'), 'show: the warnings block lost its lines'
assert all(l.startswith('error: ') for l in utf8('c-err.txt').splitlines()), 'a message broke its line'
PY
ok $? "crafted database: JSON parses (strict, UTF-8) with the text intact, CSV parses with every field in its column, text and messages carry no control character, escapes shown as \\xNN, each message one line"

# --- 2b. readers -----------------------------------------------------------
# The hostile release above is cut at 127 bytes before its markup; this
# one is short enough to be kept whole: markup, the end of an SVG's text
# (']]>') and a right-to-left override (U+202E) that reorders a terminal's
# line.  It is the oldest kernel, so the benchmark page is "Against" it.
rlo=$(printf '\342\200\256')
rel2="<img src=x onerror=alert(3)>]]>${rlo}x"
rdb=$work/readers.db
python3 "$top/tests/helper/gen_records.py" 3 5 "" "$rel2" > "$work/rel2.rec"
"$rb" ingest "$work/rel2.rec" --db "$rdb" > /dev/null 2>&1 && "$rb" ingest "$work/plain.rec" --db "$rdb" > /dev/null 2>&1 &&
	"$rb" report --db "$rdb" --out "$work/site2" > "$work/report2.log" 2>&1; rc=$?
python3 - "$work/site2" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
site = sys.argv[1]
for svg in glob.glob(site + '/*.svg'):
    ET.parse(svg)	# raises on a label that ended the text
bench = open(site + '/bench-pt_reclaim.html', encoding='utf-8').read()
assert '<h2>Against &lt;img src=x onerror=alert(3)&gt;' in bench, 'the heading does not show the release escaped'
for page in glob.glob(site + '/*.html'):
    html = open(page, encoding='utf-8').read()	# strict: every page valid UTF-8
    for bad in ('<img src=x', 'onerror=alert(3)>', '\u202e'):
        assert bad not in html, (page, bad)
PY
ok $? "report: the \"Against\" heading and every page show a short hostile release escaped (no markup, no U+202E), every SVG well-formed" "exit $rc"
"$rb" compare --base "$rel2" --new 6.12.0-plain --db "$rdb" > "$work/cmp2.txt" 2>&1; r1=$?
"$rb" list runs --db "$rdb" > "$work/list2.txt" 2>&1; r2=$?
"$rb" show 1 --db "$rdb" > "$work/show2.txt" 2>&1; r3=$?
[ $r1 -le 1 ] && [ $r2 = 0 ] && [ $r3 = 0 ] && grep -qF 'img src=x' "$work/list2.txt" &&
	! grep -qF "$rlo" "$work/cmp2.txt" "$work/list2.txt" "$work/show2.txt"
ok $? "compare, list and show: the release shown with its U+202E as \\xNN" \
	"exit $r1 $r2 $r3; $(grep -o 'img[^ ]*' "$work/list2.txt" | head -1)"
# Sizes a stream sets: 2 runs of 46,341 samples (46,341^2 > 2^31, the exact
# U test's size once overflowed an int), no ties.  Compare and report must
# neither crash nor stall (the rank sort was O(n^2)).
python3 "$top/tests/helper/gen_records.py" 2 46341 > "$work/big.rec"
bdb=$work/big.db
"$rb" ingest "$work/big.rec" --db "$bdb" > "$work/big.log" 2>&1
start=$(date +%s)
timeout 120 "$rb" compare --base 1 --new 2 --db "$bdb" > "$work/cmpbig.txt" 2>&1; r1=$?
t1=$(( $(date +%s) - start )); start=$(date +%s)
timeout 120 "$rb" report --db "$bdb" --out "$work/site3" > "$work/reportbig.log" 2>&1; r2=$?
t2=$(( $(date +%s) - start ))
[ "$(q "$bdb" "SELECT count(*) FROM samples")" -ge 92682 ] && [ $r1 -le 1 ] && [ $t1 -lt 20 ] && [ $r2 = 0 ] && [ $t2 -lt 20 ] &&
	grep -q 'time.wall' "$work/cmpbig.txt"
ok $? "two runs of 46,341 samples: compare and report each under 20 s" \
	"compare exit $r1 in $t1 s, report exit $r2 in $t2 s; $(grep time.wall "$work/cmpbig.txt" | tr -s ' ')"

# --- 3. refs ---------------------------------------------------------------
git init -q "$work/tree" && for i in 1 2 3; do
	echo $i > "$work/tree/f"; git -C "$work/tree" add f
	git -C "$work/tree" -c user.name=t -c user.email=t@localhost commit -qm "c$i"
done
bdb=$work/bisect.db
for ref in "HEAD;touch $canary-ref1" "\$(touch $canary-ref2)" "HEAD\`touch $canary-ref3\`" "--output=$canary-ref4" \
	"HEAD|touch $canary-ref5" "HEAD
touch $canary-ref6" "HEAD' '--exec=touch $canary-ref7"; do
	"$rb" bisect --tree "$work/tree" --good HEAD~2 --bad "$ref" --bench pt_reclaim --metric time.wall --db "$bdb" \
		--out "$work/bout" > "$work/ref.log" 2>&1; r1=$?
	"$rb" bisect --tree "$work/tree" --good "$ref" --bad HEAD --bench pt_reclaim --metric time.wall --db "$bdb" \
		--out "$work/bout" >> "$work/ref.log" 2>&1; r2=$?
	"$rb" nightly --tree "$work/tree" --ref "$ref" --db "$bdb" --out "$work/bout" >> "$work/ref.log" 2>&1; r3=$?
	[ $r1 = 2 ] && [ $r2 = 2 ] && [ $r3 = 2 ] && [ -z "$(pwned)" ]
	ok $? "a ref with shell text to bisect --bad, --good and nightly --ref: exit 2, nothing executed" \
		"ref '$(printf '%s' "$ref" | tr '\n' ' ')': exit $r1 $r2 $r3"
done
"$rb" bisect --tree "$work/tree" --good HEAD~2 --bad HEAD --bench pt_reclaim --metric "x;touch $canary-m" --db "$bdb" \
	--out "$work/bout" > "$work/ref.log" 2>&1; rc=$?
[ $rc = 2 ] && [ -z "$(pwned)" ]; ok $? "a metric with shell text" "exit $rc; $(head -1 "$work/ref.log")"
[ ! -e "$work/bout" ] && [ "$(q "$bdb" "SELECT count(*) FROM bisections")" = 0 ]
ok $? "no bisection started for any of them"

# --- 4. a guest that floods its console ------------------------------------
cc -static -O2 -o "$work/flood" "$top/tests/helper/flood-init.c"
RECLAIMBENCH_INIT=$work/flood "$rb" run 6.12 --bench pt_reclaim --timeout 300 --db "$work/flood.db" \
	--out "$work/fout" > "$work/flood.log" 2>&1 &
runpid=$!
qemu=
for i in $(seq 3000); do
	for p in /proc/[0-9]*; do
		cat "$p/cmdline" 2>/dev/null | tr '\0' ' ' | grep -q "^qemu-system-x86_64 .*$work/fout" && qemu=$p && break
	done
	[ -n "$qemu" ] || ! kill -0 $runpid 2>/dev/null && break
	sleep 0.2
done
# QEMU applies its seccomp filter while it starts: read its status once it has.
for i in $(seq 50); do
	status=$(cat "$qemu/status" 2>/dev/null) || break
	echo "$status" | grep -q '^Seccomp:[[:space:]]*2' && break
	sleep 0.2
done
wait $runpid; rc=$?
echo "$status" | grep -q "^Uid:[[:space:]]*$(id -u rb-sandbox)[[:space:]]" && echo "$status" | grep -q '^Seccomp:[[:space:]]*2' &&
	echo "$status" | grep -q '^NoNewPrivs:[[:space:]]*1'
ok $? "QEMU runs as rb-sandbox under its seccomp filter with no new privileges" "$(echo "$status" | grep -E '^(Uid|Seccomp|NoNewPrivs)' | tr -s '\t\n' '  ')"
size=$(stat -c %s "$work"/fout/logs/*/console.log 2>/dev/null | sort -n | tail -1)
[ $rc = 3 ] && grep -q 'console log passed 16 MiB' "$work/flood.log" && [ "${size:-0}" -le $((64 << 20)) ] &&
	[ "$(q "$work/flood.db" "SELECT count(*) FROM runs WHERE status = 'failed' AND reason LIKE '%console log passed%'")" = 1 ]
ok $? "a console flood is stopped at the limit, run failed with the reason" "exit $rc, console log ${size:-?} bytes"

# --- 5. a gate of a hostile patch ------------------------------------------
cache=${RECLAIMBENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/reclaimbench}
src=$("$top/runners/scripts/kernel-source.sh" debian:7.3 | head -n 1) || { ok 1 "7.3 source ready"; done_testing; exit 0; }
gdb=$work/gate.db
"$rb" list runs --db "$gdb" > /dev/null && "$rb" ingest "$work/plain.rec" --db "$gdb" > /dev/null
before=$(q "$gdb" "SELECT count(*) FROM runs")
mkdir -p "$work/a/mm" "$work/b/mm"
git -C "$src" show rb-base:mm/Makefile > "$work/a/mm/Makefile"
cp "$work/a/mm/Makefile" "$work/b/mm/Makefile"
cat >> "$work/b/mm/Makefile" <<EOF
# What a hostile patch tries while its tree builds.
\$(shell echo pwned > /root/rb-attack-$id 2>/dev/null)
\$(shell echo pwned >> $gdb 2>/dev/null)
\$(shell echo pwned > \$(srctree)/rb-attack-$id 2>/dev/null)
\$(shell python3 -c 'import socket; socket.create_connection(("127.0.0.1", $port), 3).sendall(b"pwned")' 2>/dev/null)
\$(shell sh -c 'b() { b | b & }; b' >/dev/null 2>&1 &)
EOF
{ printf 'From: attacker\nSubject: [PATCH] mm: hostile\n\n---\n'; (cd "$work" && diff -u a/mm/Makefile b/mm/Makefile); } > "$work/hostile.patch"
"$rb" gate --base 7.3 --patch "$work/hostile.patch" --bench lazyfree_mthp --boots 4 \
	--reps 3 --db "$gdb" --out "$work/gout" > "$work/gate.log" 2>&1; rc=$?
# The bomb runs in the background of the build: whether make still forks
# depends on who fills the sandbox's process limit first.  Either the
# build fails at the limit, or it finishes with the bomb held inside its
# own sandbox (then the gate judges an ordinary kernel); what must hold
# either way is checked below: nothing outside written, the database
# intact, no bomb left.
if [ $rc = 3 ]; then
	grep -q "^error: variant '7.3+[0-9a-f]*': compile" "$work/gate.log" &&
	grep -qE 'Resource temporarily unavailable|Cannot fork' "$(sed -n "s/^error: variant '7.3+.*(log: \(.*\))$/\1/p" "$work/gate.log")"
else
	[ $rc = 0 ] || [ $rc = 1 ]
fi
ok $? "the hostile patch's build fails at the process limit, or completes with its bomb held" \
	"gate exit $rc; $(grep -E '^error|^verdict' "$work/gate.log" | tail -1)"
[ ! -e /root/rb-attack-"$id" ] && [ ! -e "$src/rb-attack-$id" ] && [ ! -e "$work/connected" ]
ok $? "nothing written to /root or the source tree, no connection to the host's listener"
[ "$(q "$gdb" "PRAGMA integrity_check")" = ok ] && ! grep -q pwned "$gdb" &&
	{ [ $rc != 3 ] || [ "$(q "$gdb" "SELECT count(*) FROM runs")" = "$before" ]; }
ok $? "the results database intact (integrity ok, nothing the patch wrote, only the gate's own runs added)"
for i in $(seq 50); do [ -z "$(bombs)" ] && break; sleep 0.2; done
[ -z "$(bombs)" ]
ok $? "no process of the patch's fork bomb left after the gate"
kill $listener 2>/dev/null; wait $listener 2>/dev/null
done_testing
