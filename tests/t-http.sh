#!/bin/sh
# libcurl against a real HTTP server on loopback: a patch by URL and by
# Message-ID, 404, a timeout, a truncated body, a retried 500, and a
# published run with its token.
. "$(dirname "$0")/lib.sh"
export RECLAIMBENCH_CACHE=$work/cache
patch=$top/kernels/patches/7.3/no-lazyfree-batch.patch
python3 "$top/tests/http_server.py" "$work/posted.json" "$patch" > "$work/port" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$work"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$work/port" ] && break; sleep 0.2; done
base=http://127.0.0.1:$(cat "$work/port")

f=$("$rb" fetch "$base/patch.mbox" 2>"$work/err"); rc=$?
[ $rc = 0 ] && cmp -s "$f" "$patch"; ok $? "fetch by URL: the patch arrives whole ($f)"
f=$("$rb" fetch "<20261121.lazyfree-off@example.org>" --archive "$base" 2>"$work/err"); rc=$?
[ $rc = 0 ] && cmp -s "$f" "$patch"; ok $? "fetch by Message-ID from the archive base"
"$rb" fetch "20261121.x@example.org" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q 'no archive is set' "$work/err"; ok $? "Message-ID without an archive: exit 2: $(cat "$work/err")"
"$rb" fetch "$base/missing" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 3 ] && grep -q 'HTTP 404' "$work/err"; ok $? "404: exit 3: $(tail -n 1 "$work/err")"
start=$(date +%s)
"$rb" fetch "$base/slow" --http-timeout 2 --http-retries 2 > /dev/null 2>"$work/err"; rc=$?
took=$(( $(date +%s) - start ))
[ $rc = 3 ] && grep -q 'Timeout' "$work/err" && [ $took -lt 15 ]; ok $? "timeout: exit 3 after $took s with 2 tries: $(tail -n 1 "$work/err")"
"$rb" fetch "$base/truncated" --http-retries 1 > /dev/null 2>"$work/err"; rc=$?
[ $rc = 3 ] && grep -q 'truncated' "$work/err" && ! ls "$work/cache/patches/"*.part 2>/dev/null
ok $? "truncated body: exit 3, no half file kept: $(tail -n 1 "$work/err")"
f=$("$rb" fetch "$base/flaky" 2>"$work/err"); rc=$?
[ $rc = 0 ] && cmp -s "$f" "$patch" && grep -q 'try 2 of 3' "$work/err"; ok $? "a 500 is retried and the second try succeeds"

python3 "$top/tests/gen_records.py" 1 4 > "$work/r.rec"
"$rb" ingest "$work/r.rec" --db "$work/p.db" > /dev/null
RECLAIMBENCH_TOKEN=secret "$rb" publish --url "$base/collect" --run last --db "$work/p.db" > "$work/pub" 2>&1
ok $? "publish: $(cat "$work/pub")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="reclaimbench-run" and d["version"]==1 and len(d["samples"])==4 and d["run"][0]["bench"]=="pt_reclaim"' "$work/posted.json"
ok $? "the posted JSON has the schema, the version, the run and its 4 samples"
"$rb" publish --url "$base/collect" --run last --db "$work/p.db" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 3 ] && grep -q 'HTTP 401' "$work/err"; ok $? "publish without the token: exit 3, HTTP 401"
done_testing
