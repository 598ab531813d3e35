#!/bin/sh
# Swap-backed reclaim on real kernels: zram swap and a memory cgroup in
# the guest, memcg_reclaim's 64 KiB folios swapped out whole (per-size
# swpout) on 6.12 and 7.3, pressure's limit reclaiming to swap, and
# swap_ttu_race leaving folios partly present, partly swap entries
# without TTU_SYNC and none with it.  Four boots: 6.12 and 7.3 with the
# two single-CPU benchmarks, 7.3-no-ttu-sync and 7.3 with the race, and
# one without swap (RB_TEST_NO_SWAP), which must be a SKIP.
# TTU_OFF and TTU_ON name the race's two sides (swapped, the race's
# checks turn red); RB_TEST_NO_SWAP set for the whole test turns the
# swap checks red.
. "$(dirname "$0")/lib.sh"
db=$work/swap.db
off=${TTU_OFF:-7.3-no-ttu-sync} on=${TTU_ON:-7.3}
run() { "$rb" run "$@" --db "$db" --out "$work/out" >> "$work/run.log" 2>&1; }
run_id() {	# run_id VARIANT BENCH: its newest run stored ok
	q "$db" "SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id
		WHERE k.variant = '$1' AND r.bench = '$2' AND r.status = 'ok'"
}
sum() {	# sum RUN METRIC: over the timed repetitions
	q "$db" "SELECT CAST(total(value) AS INTEGER) FROM samples WHERE run_id = $1 AND metric = '$2' AND kind = 'timed'"
}
at_least() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -ge "$2" ]; }

run 6.12 7.3 --bench memcg_reclaim --bench pressure --reps 2; rc=$?
ok $rc "6.12 and 7.3 booted with memcg_reclaim and pressure" "exit $rc; $(tail -n 3 "$work/run.log")"
for v in 6.12 7.3; do
	id=$(run_id "$v" memcg_reclaim)
	[ -n "$id" ]; ok $? "memcg_reclaim on $v stored ok" "run '$id'"
	[ -n "$id" ] || id=0
	out=$(sum "$id" mthp.swpout) fb=$(sum "$id" mthp.swpout_fallback) pages=$(sum "$id" vmstat.pswpout)
	nf=$(sum "$id" setup.folios) swapped=$(sum "$id" region.swapped)
	at_least "$out" 1; ok $? "memcg_reclaim on $v: 64 KiB folios swapped out whole (per-size swpout)" \
		"swpout $out, swpout_fallback $fb of $nf folios; pswpout $pages"
	# Every folio out, whole or split, and the pagemap agrees.
	at_least $((out + fb)) 1 && at_least "$pages" $((out * 16)) && at_least "$swapped" $(((out + fb) * 16))
	ok $? "memcg_reclaim on $v: pswpout and the pagemap's swap bits cover the folios swapped" \
		"pswpout $pages, region pages with the swap bit $swapped, swpout $out, fallback $fb"
	id=$(run_id "$v" pressure)
	[ -n "$id" ]; ok $? "pressure on $v stored ok" "run '$id'"
	[ -n "$id" ] || id=0
	steal=$(sum "$id" limit.memcg.pgsteal) scan=$(sum "$id" limit.memcg.pgscan)
	swapped=$(sum "$id" limit.region.swapped) region=$(q "$db" "SELECT CAST(total(value) AS INTEGER)
		FROM samples WHERE run_id = $id AND metric = 'setup.limit_kb' AND kind = 'timed'")
	# memory.high at half the region: at least a quarter of it (in pages) reclaimed to swap.
	at_least "$region" 1 && at_least "$steal" $((region / 16)) && at_least "$swapped" $((region / 16)) && at_least "$scan" "$steal"
	ok $? "pressure on $v: memory.high reclaimed the region to swap" \
		"scanned $scan, reclaimed $steal, region pages swapped $swapped (limits $region kB summed)"
done
# pressure declares why its repetitions may spread over 2%: compare says so.
"$rb" compare --base 6.12 --new 7.3 --bench pressure --db "$db" > "$work/cmp.log" 2>&1
grep -q "^  pressure's repetitions may spread over 2% under the instruction clock: " "$work/cmp.log"
ok $? "compare of pressure says why its repetitions may spread over 2%" "$(grep -m 1 'spread over' "$work/cmp.log")"

run "$off" "$on" --bench swap_ttu_race --quiet-wait 60; rc=$?
ok $rc "the TTU_SYNC pair booted with swap_ttu_race" "$off, $on: exit $rc"
r0=$(run_id "$off" swap_ttu_race) r1=$(run_id "$on" swap_ttu_race)
[ -n "$r0" ] && [ -n "$r1" ]; ok $? "swap_ttu_race stored ok on both" "runs '$r0', '$r1'"
k0=$(sum "${r0:-0}" race.partial) n0=$(sum "${r0:-0}" race.folios) s0=$(sum "${r0:-0}" race.swapped)
k1=$(sum "${r1:-0}" race.partial) n1=$(sum "${r1:-0}" race.folios) s1=$(sum "${r1:-0}" race.swapped)
at_least "$k0" 1; ok $? "without TTU_SYNC: folios left partly present, partly swap entries" \
	"$off: $k0 of $n0 partial, $s0 swapped whole"
[ "$k1" = 0 ] && at_least "$s1" 1; ok $? "with TTU_SYNC: none, and folios swapped out" "$on: $k1 of $n1 partial, $s1 swapped whole"

RB_TEST_NO_SWAP=1 run 7.3 --bench memcg_reclaim --reps 1
r=$(q "$db" "SELECT status || ': ' || reason FROM runs WHERE bench = 'memcg_reclaim' ORDER BY id DESC LIMIT 1")
case $r in skip:*swap*) ok 0 "no swap: memcg_reclaim is a SKIP naming swap" "$r";;
	*) ok 1 "no swap: memcg_reclaim is a SKIP naming swap" "$r";; esac
done_testing
