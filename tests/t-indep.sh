#!/bin/sh
# The harness against an independent program (tests/helper/indep.c, no code of
# bench/): both booted on 6.12 and 7.3 under the instruction clock run
# lazyfree_mthp, pmd_redirty and pt_reclaim with the same plans; their
# medians must agree within 2% and every exact counter exactly.  A timing
# here is a count of guest instructions, the same from boot to boot, so
# anything left in the harness's timed window shows: with the perf events
# of bench/perf.c counting in the window this test fails (the method
# page's "The independent check").
#
# pt_reclaim on 7.3 needs one correction.  PT reclaim frees the empty page
# tables through RCU (tlb_remove_table -> call_rcu), and how many of those
# callbacks run inside the window varies from repetition to repetition
# (about 630 instructions a table).  Both
# programs record the tables freed in the window (nr_page_table_pages), so
# their timings are compared with that work taken out, at the slope the
# repetitions themselves give (least squares within each program, one
# slope for both).
# Under -icount an idle CPU 1 takes no timer interrupts while the benchmark
# runs on CPU 0: grace periods stop, the tables pile up (100 MB a
# repetition) and 1 GiB runs out after about 10 repetitions, so keep the
# repetitions few.
#
# pt_reclaim's window frees order-0 pages onto the CPU's per-CPU free list
# (pcp); pages already parked there make the window spill the excess into
# the buddy allocator, and how many are parked depends on everything that
# ran before.  So both programs settle the list right before the window,
# each in its own code (the pcp limit fraction raised so the limit falls
# to its floor of 4 x batch, a page freed, stat_refresh drains the rest,
# the fraction 8 and a page freed give the list back its largest default
# limit, the old fraction back), and refuse a window with more than 8 x
# batch pages parked (the method page's "The independent check").
. "$(dirname "$0")/lib.sh"
reps=${INDEP_REPS:-7}
benches="--bench lazyfree_mthp --bench pmd_redirty --bench pt_reclaim"
# INDEP_WORK=DIR keeps the boots in DIR and judges them again on the next
# run instead of booting (for work on this script).
if [ -n "$INDEP_WORK" ]; then
	rm -rf "$work"; work=$INDEP_WORK; trap - EXIT; mkdir -p "$work"
fi
db=$work/harness.db

if [ ! -f "$work/booted" ]; then
	# shellcheck disable=SC2086
	"$rb" run 6.12 7.3 $benches --reps "$reps" --db "$db" --out "$work/out" > "$work/run.log" 2>&1
	echo $? > "$work/booted"
	# The same plans with indep as the guest's /init: it reads the plan,
	# writes its lines on the records line and resets the machine; the harness
	# finds no records and stores the boots as failed, the lines stay in
	# the log.
	# shellcheck disable=SC2086
	RECLAIMBENCH_INIT=$top/build/indep "$rb" run 6.12 7.3 $benches --reps "$reps" --db "$work/indep.db" \
		--out "$work/iout" > "$work/indep.log" 2>&1
fi
ok "$(cat "$work/booted")" "harness: 6.12 and 7.3 booted under the instruction clock" "$(tail -n 1 "$work/run.log")"
a=$(q "$db" "SELECT group_concat(DISTINCT accel) FROM runs")
if [ "$a" != tcg-icount ]; then	# KVM: timings of the host's clock, not comparable to 2%
	skip "the guests ran under '$a', not the instruction clock (tcg-icount)"; done_testing; exit 0
fi

# Timed repetitions only: samples of counting repetitions, when the
# database marks them, are not timings.
timed=
[ "$(q "$db" "SELECT count(*) FROM pragma_table_info('samples') WHERE name = 'kind'")" = 1 ] &&
	timed="AND coalesce(s.kind, '') <> 'counting'"
harness() {	# harness VARIANT BENCH METRIC: one value a repetition
	q "$db" "SELECT CAST(s.value AS INTEGER) FROM samples s JOIN runs r ON r.id = s.run_id
		JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '$1' AND r.bench = '$2'
		AND r.status = 'ok' AND r.accel = 'tcg-icount' AND s.metric = '$3' $timed ORDER BY s.rep"
}
ilog() {	# ilog VARIANT: indep's records of that variant's boot
	echo "$work"/iout/logs/"$1"-*-tcg-icount/records.log
}
indep() {	# indep VARIANT BENCH KEY
	sed -n "s/^indep bench=$2 rep=[0-9]*.* $3=\([0-9-]*\).*/\1/p" "$(ilog "$1")"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
values() { sort -n | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }'; }
within2() { [ -n "$1" ] && [ -n "$2" ] && [ $(( ($1 - $2) * 100 )) -le $(( 2 * $1 )) ] && [ $(( ($2 - $1) * 100 )) -le $(( 2 * $1 )) ]; }
pct() { awk "BEGIN { printf \"%+.2f%%\", ($2 - $1) * 100 / ($1 + ($1 == 0)) }"; }
# Lines "h|i FREED NS" in; out: the slope (instructions per freed table,
# fitted within each program), then each program's median of NS - slope *
# FREED.  A few tables either way are the per-CPU lag of the counter.
adjusted() {
	awk '{ if ($2 < 64) $2 = 0; p[NR] = $1; x[NR] = $2; y[NR] = $3; n[$1]++; sx[$1] += $2; sy[$1] += $3 }
	END {
		for (i = 1; i <= NR; i++) {
			dx = x[i] - sx[p[i]] / n[p[i]]
			sxx += dx * dx; sxy += dx * (y[i] - sy[p[i]] / n[p[i]])
		}
		b = sxx > 0 ? sxy / sxx : 0
		printf "%.0f\n", b
		for (i = 1; i <= NR; i++) print p[i], int(y[i] - b * x[i]) > "/dev/stderr"
	}' 2> "$work/adj" | tr '\n' ' '
	for side in h i; do awk -v s=$side '$1 == s { print $2 }' "$work/adj" | median | tr '\n' ' '; done
}

for v in 6.12 7.3; do
	log=$(ilog "$v")
	grep -q '^indep end' "$log" && ! grep -q '^indep \(skip\|fail\|error\)' "$log"
	ok $? "$v: indep ran every repetition to its end" \
		"$(grep -c '^indep bench=' "$log") lines$(grep '^indep \(skip\|fail\|error\)' "$log" | head -n 1 | sed 's/^/; /')"
	for b in lazyfree_mthp pmd_redirty pt_reclaim; do
		h=$(harness "$v" "$b" time.wall | median) i=$(indep "$v" "$b" ns | median)
		nh=$(harness "$v" "$b" time.wall | wc -l) ni=$(indep "$v" "$b" ns | wc -l)
		[ "$nh" = "$reps" ] && [ "$ni" = "$reps" ]
		ok $? "$v $b: as many repetitions as asked for on each side" "$reps asked; harness $nh, indep $ni"
		if [ $b = pt_reclaim ]; then
			# Tables freed in the window: minus the change of nr_page_table_pages.
			harness "$v" $b vmstat.nr_page_table_pages > "$work/hf"; harness "$v" $b time.wall > "$work/ht"
			indep "$v" $b nr_page_table_pages > "$work/if"; indep "$v" $b ns > "$work/it"
			{ paste -d' ' "$work/hf" "$work/ht" | awk '{ print "h", -$1, $2 }'
			  paste -d' ' "$work/if" "$work/it" | awk '{ print "i", -$1, $2 }'; } > "$work/pts"
			# shellcheck disable=SC2046
			set -- $(adjusted < "$work/pts")
			within2 "$2" "$3"
			ok $? "$v $b: medians within 2% without the RCU frees in the window" \
				"$1 instructions a table: harness $2, indep $3 ($(pct "$2" "$3")); as measured: harness $h, indep $i ($(pct "$h" "$i"))"
		else
			within2 "$h" "$i"
			ok $? "$v $b: medians within 2%" "harness $h, indep $i instructions ($(pct "$h" "$i"))"
		fi
		case $b in
		lazyfree_mthp) pairs="mthp.split_deferred:split_deferred vmstat.thp_split_pmd:thp_split_pmd vmstat.pglazyfreed:pglazyfreed";;
		pmd_redirty) pairs="vmstat.thp_split_pmd:thp_split_pmd vmstat.pglazyfreed:pglazyfreed check.lost_pages:lost_pages";;
		pt_reclaim) pairs=;;
		esac
		for p in $pairs; do
			hv=$(harness "$v" "$b" "${p%%:*}" | values) iv=$(indep "$v" "$b" "${p#*:}" | values)
			[ -n "$hv" ] && [ "$hv" = "$iv" ]
			ok $? "$v $b ${p%%:*}: the same values in harness and indep" "harness $hv; indep $iv"
		done
	done
	# VmPTE: the tables MADV_DONTNEED took away are exact; the totals
	# around them move by a table or two (4 kB each) with where address
	# space randomization put the region.
	harness "$v" pt_reclaim status.VmPTE_before > "$work/hb"; harness "$v" pt_reclaim status.VmPTE_after > "$work/ha"
	indep "$v" pt_reclaim vmpte_before > "$work/ib"; indep "$v" pt_reclaim vmpte_after > "$work/ia"
	hv=$(paste -d- "$work/hb" "$work/ha" | bc | values) iv=$(paste -d- "$work/ib" "$work/ia" | bc | values)
	[ -n "$hv" ] && [ "$hv" = "$iv" ]
	ok $? "$v pt_reclaim VmPTE freed by MADV_DONTNEED: the same in harness and indep" "kB: harness $hv; indep $iv"
	hb=$(median < "$work/hb") ib=$(median < "$work/ib") ha=$(median < "$work/ha") ia=$(median < "$work/ia")
	[ -n "$hb" ] && [ -n "$ib" ] && [ $(( hb - ib )) -le 8 ] && [ $(( ib - hb )) -le 8 ] &&
		[ $(( ha - ia )) -le 8 ] && [ $(( ia - ha )) -le 8 ]
	ok $? "$v pt_reclaim VmPTE before -> after within 8 kB" "harness $hb -> $ha, indep $ib -> $ia"
	# The pcp list was settled before every window (each program refuses
	# a window with more than 8 x batch pages parked): what earlier work
	# left on it, and what the window found.
	range() { sort -n | sed -n '1p;$p' | tr '\n' ' ' | awk '{ printf "%s-%s", $1, $2 }'; }
	nh=$(harness "$v" pt_reclaim pcp.count | wc -l) ni=$(indep "$v" pt_reclaim pcp | wc -l)
	[ "$nh" = "$reps" ] && [ "$ni" = "$reps" ]
	ok $? "$v pt_reclaim pcp list settled before each window" \
		"harness $nh, indep $ni: parked $(harness "$v" pt_reclaim pcp.unsettled | range) -> $(harness "$v" pt_reclaim pcp.count | range) pages (harness), $(indep "$v" pt_reclaim pcp_unsettled | range) -> $(indep "$v" pt_reclaim pcp | range) (indep)"
done
done_testing
