#!/bin/sh
# libcurl against a real HTTP server on loopback: a patch by URL and by
# Message-ID, 404, a timeout, a truncated body, a retried 500, and a
# published run with its token; then what a hostile server or name tries:
# a body past the size limit, an empty answer, a Message-ID that would
# change the URL, a token over plain HTTP, a redirected POST.
. "$(dirname "$0")/lib.sh"
export RECLAIMBENCH_CACHE=$work/cache
patch=$top/kernels/patches/7.3/no-lazyfree-batch.patch
python3 "$top/tests/helper/http_server.py" "$work/posted.json" "$patch" > "$work/port" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$work"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$work/port" ] && break; sleep 0.2; done
base=http://127.0.0.1:$(cat "$work/port")

f=$("$rb" fetch "$base/patch.mbox" 2>"$work/err"); rc=$?
[ $rc = 0 ] && cmp -s "$f" "$patch"; ok $? "fetch by URL: the patch arrives whole" "$f"
f=$("$rb" fetch "<20261121.lazyfree-off@example.org>" --archive "$base" 2>"$work/err"); rc=$?
[ $rc = 0 ] && cmp -s "$f" "$patch"; ok $? "fetch by Message-ID from the archive base"
"$rb" fetch "20261121.x@example.org" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q 'no archive is set' "$work/err"; ok $? "Message-ID without an archive: exit 2" "$(cat "$work/err")"
"$rb" fetch "$base/missing" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 3 ] && grep -q 'HTTP 404' "$work/err"; ok $? "404: exit 3" "$(tail -n 1 "$work/err")"
start=$(date +%s)
"$rb" fetch "$base/slow" --http-timeout 2 --http-retries 2 > /dev/null 2>"$work/err"; rc=$?
took=$(( $(date +%s) - start ))
[ $rc = 3 ] && grep -q 'Timeout' "$work/err" && [ $took -lt 15 ]; ok $? "timeout: exit 3 within 15 s with 2 tries" \
	"$took s; $(tail -n 1 "$work/err")"
"$rb" fetch "$base/truncated" --http-retries 1 > /dev/null 2>"$work/err"; rc=$?
[ $rc = 3 ] && grep -q 'truncated' "$work/err" && ! ls "$work/cache/patches/"*.part 2>/dev/null
ok $? "truncated body: exit 3, no half file kept" "$(tail -n 1 "$work/err")"
f=$("$rb" fetch "$base/flaky" 2>"$work/err"); rc=$?
[ $rc = 0 ] && cmp -s "$f" "$patch" && grep -q 'try 2 of 3' "$work/err"; ok $? "a 500 is retried and the second try succeeds"

# A body past the limit (16 MiB), with its length announced or not: exit 2,
# nothing kept, and the transfer stopped (not all 64 MiB read).
kept=$(ls "$work/cache/patches/" | wc -l)
for path in big big-unsized; do
	start=$(date +%s)
	"$rb" fetch "$base/$path" > /dev/null 2>"$work/err"; rc=$?
	took=$(( $(date +%s) - start ))
	[ $rc = 2 ] && grep -q 'larger than 16 MiB' "$work/err" && [ $(ls "$work/cache/patches/" | wc -l) = $kept ] &&
		[ $took -lt 10 ]
	ok $? "a 64 MiB body ($path) is refused at the limit: exit 2 within 10 s, nothing kept" \
		"exit $rc after $took s; $(tail -n 1 "$work/err")"
done
"$rb" fetch "$base/empty" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q 'HTTP 204' "$work/err" && [ $(ls "$work/cache/patches/" | wc -l) = $kept ]
ok $? "an empty 204 is not a patch" "exit $rc; $(tail -n 1 "$work/err")"
"$rb" fetch "$base/empty200" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q 'empty' "$work/err" && [ $(ls "$work/cache/patches/" | wc -l) = $kept ]
ok $? "a 200 with an empty body is not a patch" "exit $rc; $(tail -n 1 "$work/err")"
# A Message-ID is a path segment: '?', '#' and '%' are sent
# percent-encoded, so they never start a query or a fragment; what is
# not a Message-ID at all is refused before any request.
f=$("$rb" fetch "<odd?id#frag%@example.org>" --archive "$base" 2>"$work/err"); rc=$?
[ $rc = 0 ] && cmp -s "$f" "$patch" && grep -qF 'GET /odd%3Fid%23frag%25@example.org/raw' "$work/posted.json.log"
ok $? "a Message-ID with ? # % stays one path segment" "exit $rc, asked for $(grep -o 'GET /odd[^ ]*' "$work/posted.json.log")"
: > "$work/posted.json.log"
bad=0
for id in '<a b@example.org>' '<x@example.org>y>' "$(printf '<x\033[2J@example.org>')" '<noat>' '<@example.org>' '<x@>' \
	"<$(printf '%0300d' 0)@example.org>"; do
	"$rb" fetch "$id" --archive "$base" > /dev/null 2>"$work/err"; rc=$?
	[ $rc = 2 ] && grep -q 'not a Message-ID' "$work/err" || { bad=1; echo "# $id: exit $rc: $(cat "$work/err")"; }
done
[ $bad = 0 ] && [ ! -s "$work/posted.json.log" ]
ok $? "what is not a Message-ID (a space, a '>', ESC, no '@', an empty side, 300 bytes) is refused, exit 2, no request made"

python3 "$top/tests/helper/gen_records.py" 1 4 > "$work/r.rec"
"$rb" ingest "$work/r.rec" --db "$work/p.db" > /dev/null
RECLAIMBENCH_TOKEN=secret "$rb" publish --url "$base/collect" --run last --db "$work/p.db" > "$work/pub" 2>&1
ok $? "publish" "$(cat "$work/pub")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="reclaimbench-run" and d["version"]==1 and len(d["samples"])==4 and d["run"][0]["bench"]=="pt_reclaim"' "$work/posted.json"
ok $? "the posted JSON has the schema, the version, the run and its 4 samples"
"$rb" publish --url "$base/collect" --run last --db "$work/p.db" > /dev/null 2>"$work/err"; rc=$?
[ $rc = 3 ] && grep -q 'HTTP 401' "$work/err"; ok $? "publish without the token: exit 3, HTTP 401"
# The token never goes over plain HTTP off this machine; checked before any
# connection (192.0.2.1 is TEST-NET-1: nothing answers there).
for url in http://192.0.2.1/collect "http://127.0.0.1@192.0.2.1/collect" http://127.0.0.1.example.org/collect; do
	start=$(date +%s)
	RECLAIMBENCH_TOKEN=secret "$rb" publish --url "$url" --run last --db "$work/p.db" --http-timeout 5 \
		> /dev/null 2>"$work/err"; rc=$?
	[ $rc = 2 ] && grep -q 'plain http' "$work/err" && [ $(( $(date +%s) - start )) -lt 3 ]
	ok $? "publish with a token to $url: refused, exit 2" "exit $rc; $(tail -n 1 "$work/err")"
done
# A redirected POST: never followed, so neither the body nor the token
# reaches where the server points.
: > "$work/posted.json.log"
for path in moved moved308; do
	RECLAIMBENCH_TOKEN=secret "$rb" publish --url "$base/$path" --run last --db "$work/p.db" > /dev/null 2>"$work/err"; rc=$?
	[ $rc = 3 ] && grep -q 'redirect' "$work/err" && [ ! -e "$work/posted.json.moved" ] &&
		! grep -q 'collect-moved' "$work/posted.json.log"
	ok $? "publish answered by a redirect ($path): exit 3, nothing sent again" "exit $rc; $(tail -n 1 "$work/err")"
done
done_testing
