#!/bin/sh
# Change points over a whole nightly history, on synthetic histories in
# SQLite (no boots): a slow drift is shown as a drift and never as a step,
# one noisy night is nothing, a real step hidden by a noisy night is one
# step whose bisection spans its night.
. "$(dirname "$0")/lib.sh"
page() { # page SHAPE: the history page of lazyfree_mthp over that history
	"$rb" list runs --db "$work/$1.db" > /dev/null 2>&1 &&
		python3 "$top/tests/helper/history_db.py" "$work/$1.db" "$1" 40 &&
		"$rb" report --db "$work/$1.db" --out "$work/site-$1" > "$work/report-$1.log" 2>&1 &&
		sed -n '/Change points over the nightly history/,/<\/table>\|<\/p>/p' "$work/site-$1/history-lazyfree_mthp.html"
}
rows() { grep -c "$2" "$work/$1.rows"; }
page drift > "$work/drift.rows"; ok $? "the history page of a drifting history is written"
[ "$(rows drift 'class="bad">step')" = 0 ] && grep -q 'class="warn">drift</td><td>all 40 nights</td><td>+[0-9.]*% over the history' "$work/drift.rows"
ok $? "a slow drift: shown as a drift over the history, no step" "$(sed 's/<[^>]*>/ /g' "$work/drift.rows" | tr -s ' ')"
page noisy > "$work/noisy.rows"
grep -q 'None: no step or drift' "$work/noisy.rows"
ok $? "one noisy night: no change point" "$(sed 's/<[^>]*>/ /g' "$work/noisy.rows" | tr -s ' ')"
page step > "$work/step.rows"
# Night 20 (its commit starts 0015: nights count from 1 there) is the
# first slower one; night 21 is noisy.
[ "$(rows step 'class="bad">step')" = 1 ] && grep -q 'class="bad">step.*[0-9a-f]\{12\}\.\.[0-9a-f]\{12\}' "$work/step.rows"
ok $? "a real step hidden by a noisy night: one step" "$(sed 's/<[^>]*>/ /g' "$work/step.rows" | tr -s ' ')"
[ "$(rows step 'drift')" = 0 ]
ok $? "a step is not taken for a drift" "$(grep -c drift "$work/step.rows") drift rows"
range=$(grep 'class="bad">step' "$work/step.rows" | sed 's/.*<td>\([0-9a-f]*\)\.\.\([0-9a-f]*\)<\/td><\/tr>.*/\1 \2/')
good=$(sqlite3 "$work/step.db" "SELECT r.id - 1 FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE substr(k.source, 5, 12) = '${range% *}'")
bad=$(sqlite3 "$work/step.db" "SELECT r.id - 1 FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE substr(k.source, 5, 12) = '${range#* }'")
[ -n "$good" ] && [ -n "$bad" ] && [ "$good" -le 19 ] && [ "$bad" -ge 20 ] && [ $((bad - good)) -le 4 ]
ok $? "the step's bisection spans night 20, where it happened" "bisect from night $good to night $bad"
done_testing
