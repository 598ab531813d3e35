#!/bin/sh
# Positive controls (kernels/controls.conf): a probe is only worth something
# if a kernel with the bug put back makes it fail.  Seed 003's pair is
# described where its checks begin, below.  collapse_race on
# 7.3-retract-delay (stock 7.3, the window between retract_page_tables()'s
# lockless PMD check and pmd_lock() widened to 4 ms) sees page tables freed
# inside the window and bailed out by seed 004's recheck, with no harm; on
# 7.3-no-retract-recheck (the recheck taken out) the same run fails.
. "$(dirname "$0")/lib.sh"
db=$work/controls.db
spec=$top/kernels/controls.conf
metric() {	# metric VARIANT METRIC: total over the timed repetitions of its last run
	q "$db" "SELECT CAST(total(s.value) AS INTEGER) FROM samples s WHERE s.kind = 'timed' AND s.metric = '$2'
		AND s.run_id = (SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '$1')"
}

# Each control is its variants.conf twin plus test-only patches.
keys() {	# keys VARIANT: its source, arch and config lines from `list variants`
	awk -v v="$1" '/^[^ ]/ { on = $0 == v; next } on && !/^  (patch|cmdline) /'
}
"$rb" list variants --variants "$spec" | keys 7.3-retract-delay > "$work/ctl.keys"
"$rb" list variants | keys 7.3 > "$work/plain.keys"
[ -s "$work/ctl.keys" ] && cmp -s "$work/ctl.keys" "$work/plain.keys"
ok $? "7.3-retract-delay has 7.3's source, arch and config fragments"

"$rb" run --variants "$spec" 7.3-retract-delay 7.3-no-retract-recheck --bench collapse_race --reps 3 \
	--db "$db" --out "$work/out" > "$work/run.log" 2>&1
rc=$?
echo "# run exit $rc (3: the control's boot failed, as it must)"
st=$(q "$db" "SELECT r.status FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '7.3-retract-delay'")
echo "# 7.3-retract-delay: $st"
[ "$st" = ok ]; ok $? "7.3-retract-delay: collapse_race ok"
changed=$(metric 7.3-retract-delay kernel.retract_pmd_changed)
echo "# PMDs found changed under pmd_lock (the recheck's bail-out): ${changed:-none}"
[ "${changed:-0}" -gt 0 ]; ok $? "7.3-retract-delay: page tables freed inside the window, seen by the recheck"
w=$(metric 7.3-retract-delay kernel.warnings) bad=$(metric 7.3-retract-delay check.data_errors)
echo "# kernel warnings ${w:-none}, data errors ${bad:-none}"
[ "$w" = 0 ] && [ "$bad" = 0 ]; ok $? "7.3-retract-delay: no kernel warning, no data changed"

r=$(q "$db" "SELECT r.status || ': ' || r.reason || '|' || r.console_log FROM runs r JOIN kernels k ON k.id = r.kernel_id
	WHERE k.variant = '7.3-no-retract-recheck'")
echo "# 7.3-no-retract-recheck: ${r%|*}"
log=${r#*|}
w=$(metric 7.3-no-retract-recheck kernel.warnings)
[ "${r%%:*}" != ok ] || [ "${w:-0}" -gt 0 ]; ok $? "7.3-no-retract-recheck: collapse_race fails"
grep -q -e 'BUG:' -e 'Bad page' -e 'Oops' "$log" 2>/dev/null
ok $? "7.3-no-retract-recheck: the console shows the kernel's own report"

# Seed 003's hazard, on the debug flavour: 7.3-mapcount-check-debug
# (7.3-debug with test-mapcount-check.patch, a counter of large-folio PTE
# unmaps that find the refcount below the mapcount under the
# large-mapcount lock) must count 0 under zap_gup_race and zap_mthp;
# 7.3-zap-refs-first-debug (zap-refs-first.patch: the batched zap drops
# nr - 1 references before the mapcount) must count some.
db3=$work/controls-003.db
bmetric() {	# bmetric VARIANT BENCH METRIC: total over the timed repetitions of its last run of BENCH
	q "$db3" "SELECT CAST(total(s.value) AS INTEGER) FROM samples s WHERE s.kind = 'timed' AND s.metric = '$3'
		AND s.run_id = (SELECT max(r.id) FROM runs r JOIN kernels k ON k.id = r.kernel_id
			WHERE k.variant = '$1' AND r.bench = '$2')"
}
"$rb" list variants --variants "$spec" | keys 7.3-mapcount-check-debug > "$work/ctl3.keys"
"$rb" list variants --variants "$top/kernels/debug.conf" | keys 7.3-debug > "$work/debug.keys"
[ -s "$work/ctl3.keys" ] && cmp -s "$work/ctl3.keys" "$work/debug.keys"
ok $? "7.3-mapcount-check-debug has 7.3-debug's source, arch and config fragments"

# zap_mthp on 16 MiB: the hazard's 200 us wait per batch costs about
# 80 s a repetition of the default 128 MiB under the instruction clock.
"$rb" run --variants "$spec" 7.3-mapcount-check-debug 7.3-zap-refs-first-debug --bench zap_gup_race --bench zap_mthp \
	--reps 2 --region-mb 16 --db "$db3" --out "$work/out3" > "$work/run3.log" 2>&1
echo "# run exit $?"
for v in 7.3-mapcount-check-debug 7.3-zap-refs-first-debug; do
	for b in zap_gup_race zap_mthp; do
		st=$(q "$db3" "SELECT r.status || ' ' || coalesce(r.reason, '') FROM runs r JOIN kernels k ON k.id = r.kernel_id
			WHERE k.variant = '$v' AND r.bench = '$b' ORDER BY r.id DESC LIMIT 1")
		checked=$(bmetric $v $b kernel.rmap_unmap_checked) below=$(bmetric $v $b kernel.unmap_ref_below_mapcount)
		reuse=$(bmetric $v $b kernel.reuse_ref_below_mapcount) w=$(bmetric $v $b kernel.warnings)
		echo "# $v $b: $st; unmaps checked ${checked:-none}, refcount < mapcount ${below:-none}" \
			"(at unmap) ${reuse:-none} (at reuse), kernel warnings ${w:-none}"
		[ "${checked:-0}" -gt 0 ]; ok $? "$v: $b's zaps went through the check"
		if [ $v = 7.3-mapcount-check-debug ]; then
			[ "${st%% *}" = ok ] && [ "$below" = 0 ] && [ "$reuse" = 0 ] && [ "$w" = 0 ]
			ok $? "$v: $b ok, no unmap found refcount < mapcount, no kernel warning"
		else
			[ "${below:-0}" -gt 0 ]; ok $? "$v: $b's unmaps found refcount < mapcount"
		fi
	done
done
# From user space: zap_gup_race's reuse probe (a folio across two page
# tables, one pipe reference, a write fault beside a zap of two PTEs).
for v in 7.3-mapcount-check-debug 7.3-zap-refs-first-debug; do
	lost=$(bmetric $v zap_gup_race race.reuse_lost) pages=$(bmetric $v zap_gup_race race.reuse_pages)
	over=$(bmetric $v zap_gup_race race.reuse_overlap)
	echo "# $v: ${pages:-none} spliced pages written, ${over:-none} during the zap call, ${lost:-none} reused under the pipe"
	if [ $v = 7.3-mapcount-check-debug ]; then
		[ "${over:-0}" -gt 0 ] && [ "$lost" = 0 ]
		ok $? "$v: writes met the zap, and every spliced page was copied"
	else
		[ "${lost:-0}" -gt 0 ]; ok $? "$v: zap_gup_race's reuse probe fails (a spliced page reused)"
	fi
done
done_testing
