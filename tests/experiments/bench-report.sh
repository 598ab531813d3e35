#!/bin/sh
# A benchmark the project ships (not a test): the time to write the report
# of a database with N runs (default 10000), made by copying real host
# runs.  Usage: sh tests/experiments/bench-report.sh [N]   (as root)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10000}
work=$(mktemp -d /tmp/rb-bench-report-XXXXXX)
trap 'rm -rf "$work"' EXIT
db=$work/big.db
"$top/build/reclaimbench" run --host --reps 5 --race-iterations 20 --db "$db" > /dev/null 2>&1
have=$(sqlite3 "$db" "SELECT count(*) FROM runs")
while [ "$have" -lt "$n" ]; do
	sqlite3 "$db" "BEGIN;
	CREATE TEMP TABLE m AS SELECT id, (SELECT max(id) FROM runs) AS top FROM runs ORDER BY id LIMIT min($have, $n - $have);
	INSERT INTO runs (id, session, machine_id, kernel_id, bench, bench_version, params, accel, guest_mem_mb,
		guest_cpus, status, reason, started_at, wall_s, command, console_log)
		SELECT r.id + m.top, session || '-copy', machine_id, kernel_id, bench, bench_version, params, accel,
		guest_mem_mb, guest_cpus, status, reason, started_at, wall_s, command, console_log
		FROM runs r JOIN m ON m.id = r.id;
	INSERT INTO samples SELECT s.run_id + m.top, rep, metric, value, unit, note FROM samples s JOIN m ON m.id = s.run_id;
	COMMIT;"
	have=$(sqlite3 "$db" "SELECT count(*) FROM runs")
done
echo "runs: $have, samples: $(sqlite3 "$db" "SELECT count(*) FROM samples")"
start=$(date +%s.%N)
"$top/build/reclaimbench" report --db "$db" --out "$work/site" > /dev/null
end=$(date +%s.%N)
echo "report of $have runs: $(echo "$end - $start" | bc) s, $(ls "$work/site" | wc -l) files"
