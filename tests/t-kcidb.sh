#!/bin/sh
# publish --format kcidb on a real database filled by ingest (no boot): a
# run command's two variants and a gate's base and patched kernel (its
# patch a Message-ID), another command's runs, ok, skipped, failed and
# incomplete runs; every document checked by tests/helper/kcidb_check.py (the
# schema's rules), one POSTed to a loopback server; hostile text in a
# reason, a variant and a benchmark name stays data.  patchset_hash on
# two real boots (7.3 and its lazyfree patch, cached builds).
. "$(dirname "$0")/lib.sh"
db=$work/k.db
check_doc() { python3 "$top/tests/helper/kcidb_check.py" "$1" > "$work/check.out" 2>&1; }
say_check() { sed 's/^/# /' "$work/check.out"; }

python3 "$top/tests/helper/gen_records.py" 2 5 > "$work/a.rec"
python3 "$top/tests/helper/gen_records.py" 2 5 'no "mTHP" \ here </script>' > "$work/skip.rec"
ingest_ok=0
for v in 7.3 7.3+0123456789abcdef 6.12; do
	"$rb" ingest "$work/a.rec" --accel tcg --variant "$v" --db "$db" > /dev/null || ingest_ok=1
done
"$rb" ingest "$work/skip.rec" --accel tcg --variant 6.12 --db "$db" > /dev/null || ingest_ok=1
ok $ingest_ok "a database of 8 runs by ingest"
# What a run and a gate would have stored: kernels with their build ids
# and sources, sessions of two commands, the gate's command line; then
# what a hostile database may hold.  Parameters bound: the text is data.
python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
H = 'q"uote \\ back\\slash \x01\x1b[2J ctrl </script><b>x</b> \u2028 \u00e9 tab\t nl\nend'
src = 'debian:linux-source-7.3=7.3.4-1~bpo13+1'
kern = {'7.3': ('aaaaaaaaaaaaaaaa', src, '0000000000000000'),
        '7.3+0123456789abcdef': ('bbbbbbbbbbbbbbbb', src, '0123456789abcdef'),
        '6.12': ('cccccccccccccccc', 'debian:linux-source-6.12=6.12.118-1~deb12u1', '0000000000000000')}
for v, (b, s, p) in kern.items():
    c.execute("UPDATE kernels SET build_id = ?, source = ?, patches_hash = ?, config_hash = 'ffffffffffffffff' "
              "WHERE variant = ?", (b, s, p, v))
gate = 'gate --base 7.3 --patch <20261121.lazyfree-off@example.org> --boots 2'
sess = {'7.3': 'gate-1796000000-4242-{}', '7.3+0123456789abcdef': '7.3+0123456789abcdef-1796000000-4242-{}'}
for v, pat in sess.items():
    ids = [r[0] for r in c.execute("SELECT r.id FROM runs r JOIN kernels k ON k.id = r.kernel_id "
                                   "WHERE k.variant = ? ORDER BY r.id", (v,))]
    for i, rid in enumerate(ids):
        c.execute("UPDATE runs SET session = ?, command = ? WHERE id = ?", (pat.format(i), gate, rid))
c.execute("UPDATE runs SET session = '6.12-1796000999-77' WHERE kernel_id = "
          "(SELECT id FROM kernels WHERE variant = '6.12')")
six = [r[0] for r in c.execute("SELECT r.id FROM runs r JOIN kernels k ON k.id = r.kernel_id "
                               "WHERE k.variant = '6.12' AND r.status = 'ok' ORDER BY r.id")]
c.execute("UPDATE runs SET status = 'failed', reason = ? WHERE id = ?", (H, six[0]))
c.execute("UPDATE runs SET status = 'incomplete', reason = 'the stream ended before the run was done', "
          "bench = ? WHERE id = ?", ('pt reclaim/' + H, six[1]))
c.execute("UPDATE kernels SET variant = ? WHERE variant = '6.12'", ('6.12 ' + H,))
# Kernel warnings on the console during one ok run (as ingest counts them).
c.execute("INSERT INTO samples (run_id, kind, rep, metric, value, unit, note) SELECT min(id), 'timed', 0, "
          "'kernel.warnings', 2, 'lines', ? FROM runs WHERE status = 'ok'",
          ('WARNING: CPU: 0 PID: 1 at mm/rmap.c:1723 try_to_unmap_one\nBUG: Bad page state',))
# Three selftest cases (as the selftests step stores them): ok, not ok, skip.
for num, value, note in ((1, 0, 'ok: Basic COW'), (2, 1, 'not ok: COW of a pinned THP | Leak from parent into child'),
                         (3, 0, 'skip: swapped-out THP | MADV_PAGEOUT did not work')):
    c.execute("INSERT INTO samples (run_id, kind, rep, metric, value, unit, note) SELECT min(id), 'timed', 0, ?, ?, "
              "'bool', ? FROM runs WHERE status = 'ok'", ('case.cow.%d' % num, value, note))
c.commit()
PY
ok $? "kernels, sessions, a gate and hostile text stored as a run and a gate would (and a hostile database may)"
q "$db" "SELECT count(*) FROM runs; SELECT count(*) FROM samples" > "$work/before"

"$rb" publish --format kcidb --all --output "$work/all.json" --db "$db" 2> "$work/err"
ok $? "publish --format kcidb --all --output FILE: exit 0"
check_doc "$work/all.json"; rc=$?; say_check
ok $rc "the whole database's report keeps every rule of the KCIDB v5.3 schema"

python3 - "$work/all.json" "$db" <<'PY'
import json, sqlite3, statistics, sys
d = json.load(open(sys.argv[1])); c = sqlite3.connect(sys.argv[2])
H = 'q"uote \\ back\\slash \x01\x1b[2J ctrl </script><b>x</b> \u2028 \u00e9 tab\t nl\nend'
runs = c.execute("SELECT count(*) FROM runs").fetchone()[0]
variants = {r[0] for r in c.execute("SELECT variant FROM kernels")}
benches = {r[0] for r in c.execute("SELECT bench FROM runs")}
run_tests = [t for t in d['tests'] if t['id'].count('/') == 1]
assert {b['config_name'] for b in d['builds']} == variants, 'every variant a build'
assert {t['misc']['bench'] for t in run_tests} == benches and len(run_tests) == runs, 'every run a test'
by_status = {}
for t in run_tests:
    st = c.execute("SELECT status, reason FROM runs WHERE id = ?", (t['misc']['run'],)).fetchone()
    by_status.setdefault(st[0], set()).add(t['status'])
    assert t.get('log_excerpt', '') == st[1], (t['id'], t.get('log_excerpt'), st[1])
assert by_status == {'ok': {'PASS'}, 'skip': {'SKIP'}, 'failed': {'FAIL'}, 'incomplete': {'ERROR'}}, by_status
PY
ok $? "every variant a build, every run a test: ok PASS, skip SKIP, failed FAIL, incomplete ERROR, each with its reason"

python3 - "$work/all.json" "$db" <<'PY'
import json, sqlite3, statistics, sys
d = json.load(open(sys.argv[1])); c = sqlite3.connect(sys.argv[2])
t = next(t for t in d['tests'] if t['id'].endswith('/time.wall'))
run = int(t['id'].split('/')[1])
ns = [r[0] for r in c.execute("SELECT value FROM samples WHERE run_id = ? AND metric = 'time.wall' ORDER BY rep", (run,))]
n = t['number']
assert n['unit'] == 's' and n['prefix'] == 'metric' and abs(n['value'] - statistics.median(ns) * 1e-9) < 1e-15, n
assert t['status'] == 'DONE' and t['path'] == 'reclaimbench.pt_reclaim.time.wall', t
assert [round(v * 1e9) for v in t['misc']['values']] == ns and t['misc']['n'] == len(ns) == 5, t['misc']
ci = t['misc']['median_ci']
assert ci['lo'] == min(ns) * 1e-9 and ci['hi'] == max(ns) * 1e-9 and abs(ci['level'] - (1 - 2 / 32)) < 1e-12, ci
PY
ok $? "time.wall: the median in s with the metric prefix, the 5 repetitions and their range as the 94% interval in misc"
python3 - "$work/all.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
w = [t for t in d['tests'] if t['id'].endswith('/kernel.warnings')]
assert len(w) == 1 and w[0]['status'] == 'FAIL' and w[0]['number'] == {'value': 2, 'unit': 'lines'}, w
assert w[0]['log_excerpt'] == 'WARNING: CPU: 0 PID: 1 at mm/rmap.c:1723 try_to_unmap_one\nBUG: Bad page state', w
PY
ok $? "kernel warnings during an ok run: that metric's test FAILs with the warning lines as its excerpt"
python3 - "$work/all.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cases = {t['id'].rsplit('.', 1)[1]: t for t in d['tests'] if '/case.cow.' in t['id']}
assert {k: t['status'] for k, t in cases.items()} == {'1': 'PASS', '2': 'FAIL', '3': 'SKIP'}, cases
assert cases['2']['log_excerpt'] == 'not ok: COW of a pinned THP | Leak from parent into child', cases['2']
assert 'log_excerpt' not in cases['1'] and 'log_excerpt' not in cases['3'], cases
PY
ok $? "selftest cases: ok PASS, not ok FAIL with its output as the excerpt, skip SKIP"

python3 - "$work/all.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
co = {c['id']: c for c in d['checkouts']}
b = {x['config_name']: x for x in d['builds']}
gate, base = co[b['7.3+0123456789abcdef']['checkout_id']], co[b['7.3']['checkout_id']]
assert gate['message_id'] == '20261121.lazyfree-off@example.org' and 'message_id' not in base, gate
assert gate['id'] != base['id'] and gate['misc']['patches_fnv1a64'] == '0123456789abcdef', gate
assert b['7.3']['architecture'] == 'x86_64' and b['7.3']['status'] == 'PASS', b['7.3']
# no patches: ""; patches whose sha256 was not stored (before schema 11): left out
assert base['patchset_hash'] == '' and 'patchset_hash' not in gate, (base, gate)
PY
ok $? "a gate's patched kernel: its own checkout with the patch's Message-ID; the base's has none"

# KCIDB's patchset_hash as the build of a variant makes it: 7.3 and
# 7.3 with its lazyfree patch booted once each (cached builds), the
# export checked against hashlib's hash of the same patch file; then the
# checker refuses that document with another patch's hash in its place.
lazy=$top/kernels/patches/7.3/no-lazyfree-batch.patch
"$rb" run 7.3 7.3-no-lazyfree-batch --bench lazyfree_mthp --reps 1 --db "$work/real.db" --out "$work/rout" \
	> "$work/real.log" 2>&1 &&
	"$rb" publish --format kcidb --all --output "$work/real.json" --db "$work/real.db" 2> "$work/err" &&
	python3 "$top/tests/helper/kcidb_check.py" "$work/real.json" --patchset "7.3-no-lazyfree-batch=$lazy" \
		--patchset 7.3= > "$work/check.out" 2>&1
ok $? "booted: the patched variant's checkout has the sha256 patchset_hash of its patch file, 7.3's is empty" \
	"$(cat "$work/check.out"; grep -o '"patchset_hash":"[^"]*"' "$work/real.json"; tail -n 3 "$work/real.log")"
sed 's/"patchset_hash":"[0-9a-f]\{64\}"/"patchset_hash":"'"$(sha256sum "$top/tests/fixtures/patchset-1.patch" |
	cut -c-64)"'"/' "$work/real.json" > "$work/wrong-hash.json"
! python3 "$top/tests/helper/kcidb_check.py" "$work/wrong-hash.json" --patchset "7.3-no-lazyfree-batch=$lazy" \
	> "$work/check.out" 2>&1 && grep -q 'patchset_hash is' "$work/check.out"
ok $? "the checker refuses a patchset_hash that is not of the patch applied" "$(cat "$work/check.out")"

python3 - "$work/all.json" "$work/all.json.raw" <<'PY'
import json, sys
raw = open(sys.argv[1], 'rb').read()
H = 'q"uote \\ back\\slash \x01\x1b[2J ctrl </script><b>x</b> \u2028 \u00e9 tab\t nl\nend'
d = json.loads(raw)
assert not any(b < 0x20 for b in raw.replace(b'\n', b'')), 'a raw control byte'
assert any(b['config_name'] == '6.12 ' + H for b in d['builds']), 'variant'
t = next(t for t in d['tests'] if t['status'] == 'ERROR')
assert t['misc']['bench'] == 'pt reclaim/' + H and t['path'].startswith('reclaimbench.pt_reclaim_'), t['path']
assert any(t.get('log_excerpt') == H for t in d['tests']), 'reason'
PY
ok $? "quotes, backslashes, control characters, </script> and U+2028 in a reason, a variant and a benchmark name come back as the same text"

# The gate's patch named by a URL, or by something that is not a
# Message-ID (a hostile database): a patchset file, or nothing.
cp "$db" "$work/url.db"
i=0
for patch in https://lists.example.org/x/0001-lazyfree.patch '<a"b@c@d>'; do
	i=$((i + 1))
	q "$work/url.db" "UPDATE runs SET command = 'gate --base 7.3 --patch=$patch' WHERE command LIKE 'gate %'"
	"$rb" publish --format kcidb --all --output "$work/url-$i.json" --db "$work/url.db" 2> "$work/err" &&
		check_doc "$work/url-$i.json" || echo "# $patch: $(cat "$work/err" "$work/check.out")"
done
python3 - "$work/url-1.json" "$work/url-2.json" <<'PY'
import json, sys
url, hostile = (json.load(open(f)) for f in sys.argv[1:])
g = [c for c in url['checkouts'] if 'patchset_files' in c]
assert len(g) == 1 and g[0]['patchset_files'] == [{'name': '0001-lazyfree.patch',
    'url': 'https://lists.example.org/x/0001-lazyfree.patch'}] and 'message_id' not in g[0], g
assert not any('message_id' in c or 'patchset_files' in c for c in hostile['checkouts'])
PY
ok $? "a gate's patch by URL is its patchset file; what is not a Message-ID is left out"

"$rb" publish --format kcidb --session gate-1796000000-4242-1 --output "$work/gate.json" --db "$db" 2> "$work/err"
rc=$?
check_doc "$work/gate.json" && [ $rc = 0 ] && python3 - "$work/gate.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
runs = {t['misc']['session'] for t in d['tests'] if t['id'].count('/') == 1}
assert runs == {'gate-1796000000-4242-0', 'gate-1796000000-4242-1', '7.3+0123456789abcdef-1796000000-4242-0',
                '7.3+0123456789abcdef-1796000000-4242-1'}, runs
assert sorted(b['config_name'] for b in d['builds']) == ['7.3', '7.3+0123456789abcdef']
PY
ok $? "--session: every run of the command that made the session (both sides of the gate, both rounds), no other"
"$rb" publish --format kcidb --session 6.12-1796000999-77 --output "$work/six.json" --db "$db" 2> "$work/err" &&
	check_doc "$work/six.json" && [ "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted({t["misc"]["session"] for t in d["tests"] if "bench" in t["misc"]}), len(d["builds"]))' "$work/six.json")" = "['6.12-1796000999-77'] 1" ]
ok $? "--session of a command that booted once: its runs only"

"$rb" publish --format kcidb --run last --output - --db "$db" > "$work/last.json" 2> "$work/err"
rc=$?
check_doc "$work/last.json" && [ $rc = 0 ] && [ "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len([t for t in d["tests"] if t["id"].count("/") == 1]), len(d["builds"]), len(d["checkouts"]))' "$work/last.json")" = "1 1 1" ]
ok $? "--run last --output -: one run, its build and checkout, on standard output"

python3 "$top/tests/helper/http_server.py" "$work/posted.json" "$top/tests/helper/gen_records.py" > "$work/port" &
srv=$!
trap 'kill $srv 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$work/port" ] && break; sleep 0.2; done
RECLAIMBENCH_TOKEN=secret "$rb" publish --format kcidb --all --url "http://127.0.0.1:$(cat "$work/port")/collect" \
	--db "$db" > "$work/pub" 2>&1
rc=$?
[ $rc = 0 ] && cmp -s "$work/posted.json" "$work/all.json" && grep -q 'published 8 runs to .*kcidb' "$work/pub" &&
	grep -q '^POST /collect Bearer secret$' "$work/posted.json.log"
ok $? "POSTed to a loopback server with the token: what arrived is the report, byte for byte"
sed 's/^/# /' "$work/pub"

bad=0
for args in "--format kcidb --output -" "--format kcidb --run 1 --all --output -" "--format kcidb --session nosuch-1-2 --output -" \
	"--format kcidb --run 999 --output -" "--format bogus --run 1 --output -" "--session last --output -" "--format kcidb --all"; do
	# shellcheck disable=SC2086
	"$rb" publish $args --db "$db" > /dev/null 2> "$work/err"; rc=$?
	[ $rc = 2 ] && [ "$(wc -l < "$work/err")" = 1 ] || { bad=1; echo "# publish $args: exit $rc: $(cat "$work/err")"; }
done
ok $bad "no selection, two, an unknown session or run, an unknown format, --session without kcidb, no destination: exit 2, one line"

q "$db" "SELECT count(*) FROM runs; SELECT count(*) FROM samples" > "$work/after"
cmp -s "$work/before" "$work/after" && [ "$(q "$db" "PRAGMA integrity_check")" = ok ]
ok $? "publishing changed nothing in the database"

# The checker itself turns red: each rule broken once in a copy of a
# report that passes.
python3 - "$work/all.json" "$work" <<'PY'
import json, sys
good = json.load(open(sys.argv[1]))
breaks = {
    'status': lambda d: d['tests'][0].update(status='OK'),
    'prefix': lambda d: next(t for t in d['tests'] if 'number' in t)['number'].update(prefix='kilo'),
    'unit': lambda d: next(t for t in d['tests'] if 'number' in t)['number'].update(unit=5),
    'value': lambda d: next(t for t in d['tests'] if 'number' in t)['number'].pop('value'),
    'id': lambda d: d['builds'][0].update(id='no-origin-here'),
    'origin': lambda d: d['checkouts'][0].update(origin='Reclaim Bench'),
    'path': lambda d: d['tests'][0].update(path='reclaimbench..x'),
    'null': lambda d: d['tests'][0].update(comment=None),
    'extra': lambda d: d['builds'][0].update(arch='x86_64'),
    'required': lambda d: d['tests'][0].pop('build_id'),
    'excerpt': lambda d: d['tests'][0].update(log_excerpt='x' * 16385),
    'arch': lambda d: d['builds'][0].update(architecture='x86-64'),
    'version': lambda d: d['version'].update(major=4),
    'dangling': lambda d: d['tests'][0].update(build_id='reclaimbench:nothing'),
    'skipped-number': lambda d: next(t for t in d['tests'] if 'number' in t).update(status='SKIP'),
}
for name, f in breaks.items():
    d = json.loads(json.dumps(good))
    f(d)
    json.dump(d, open(f'{sys.argv[2]}/broken-{name}.json', 'w'))
PY
bad=0
for f in "$work"/broken-*.json; do
	check_doc "$f" && { bad=1; echo "# $(basename "$f") passed the checker"; }
done
ok $bad "the checker refuses a report with each of 15 rules broken"
done_testing
