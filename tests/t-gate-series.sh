#!/bin/sh
# gate of a 3-patch series on real kernels: a documentation patch, the
# lazyfree off-switch, another documentation patch.  The whole series is
# judged first (4 boots a side), then each changed verdict is placed by
# bisection over prefixes, one boot a prefix: the gate must name patch 2,
# booting prefixes 1 and 2 only, and say so in its summary, the database,
# the KCIDB export and the HTML report.
. "$(dirname "$0")/lib.sh"
db=$work/series.db
note() { # note N: a documentation-only patch, one message of an mbox
	printf 'From 000000000000000000000000000000000000000%s Mon Sep 17 00:00:00 2001\n' "$1"
	printf 'From: reclaimbench tests <tests@localhost>\nDate: Fri, 4 Dec 2026 00:00:0%s +0000\n' "$1"
	printf 'Subject: [PATCH %s/3] Documentation: series note %s\n\nA note that changes no code.\n---\n' "$1" "$1"
	printf 'diff --git a/Documentation/rb-series-note-%s.txt b/Documentation/rb-series-note-%s.txt\n' "$1" "$1"
	printf 'new file mode 100644\n--- /dev/null\n+++ b/Documentation/rb-series-note-%s.txt\n' "$1"
	printf '@@ -0,0 +1 @@\n+Series note %s changes no code.\n\n' "$1"
}
{
	note 1
	printf 'From 0000000000000000000000000000000000000002 Mon Sep 17 00:00:00 2001\n'
	printf 'Date: Fri, 4 Dec 2026 00:00:02 +0000\n'
	# git am needs an author with an address, as every mailed patch has
	sed -e 's/^Subject: \[PATCH\]/Subject: [PATCH 2\/3]/' -e 's/^From: reclaimbench$/From: reclaimbench <tests@localhost>/' \
		"$top/kernels/patches/7.3/no-lazyfree-batch.patch"
	printf '\n'
	note 3
} > "$work/series.mbox"
t0=$(date +%s)
"$rb" gate --base 7.3 --patch "$work/series.mbox" --bench lazyfree_mthp --boots 4 --reps 3 \
	--db "$db" --out "$work/out" > "$work/gate.log" 2> "$work/gate.err"; rc=$?
wall=$(($(date +%s) - t0))
summary=$(sed -n '/^series of/,$p' "$work/gate.log")
[ $rc = 1 ] && grep -q '^verdict: changed at patch 2/3: \[PATCH 2/3\] mm/rmap' "$work/gate.log"
ok $? "the series fails the gate and its verdict changed at patch 2" "exit $rc, ${wall} s; $summary"
grep -q '^  lazyfree_mthp  mthp.split_deferred .*INVARIANT CHANGED *patch 2/3' "$work/gate.log"
ok $? "split_deferred's change is placed at patch 2"
grep -q '^  lazyfree_mthp  time.wall .*slower *patch 2/3' "$work/gate.log"
ok $? "the timing's change is placed at patch 2"
! grep -q 'patch [13]/3 (base' "$work/gate.log" && ! grep -q undecided "$work/gate.log"
ok $? "no change is placed at patch 1 or 3, none undecided"
grep -q '^  prefixes booted: 2, ' "$work/gate.log"
ok $? "bisection over 3 patches boots 2 prefixes once each" "$(grep 'prefixes booted' "$work/gate.log")"
boots=$(q "$db" "SELECT count(DISTINCT session) FROM runs")
[ "$boots" = 10 ]; ok $? "the boots the verdicts need: 4 a side, then one a prefix booted" "boots: $boots"
q "$db" "SELECT patch FROM series_changes WHERE metric = 'mthp.split_deferred'" | grep -qx 2
ok $? "the database keeps the patch of each change" "$(q "$db" 'SELECT metric, verdict, patch, npatches, subject FROM series_changes')"
"$rb" publish --format kcidb --all --output "$work/kcidb.json" --db "$db" > /dev/null 2>&1 &&
	python3 "$top/tests/helper/kcidb_check.py" "$work/kcidb.json" > "$work/kcidb.log" 2>&1 &&
	grep -q '"series_changed_at_patch":2,"series_patches":3' "$work/kcidb.json"
ok $? "the KCIDB export names the patch and validates" "$(tail -n 3 "$work/kcidb.log")"
"$rb" report --db "$db" --out "$work/site" > /dev/null 2>&1 &&
	grep -q 'mthp.split_deferred</td><td>INVARIANT CHANGED</td><td>patch 2/3' "$work/site/index.html"
ok $? "the report's index names the patch"
done_testing
