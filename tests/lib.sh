# TAP helpers for the shell tests.  Each test script prints TAP lines; the
# runner (tests/run.sh) counts them.
n=0
# ok STATUS NAME [DIAGNOSTIC]: NAME is fixed, the same in every run (no
# output, no value measured); what was seen goes in DIAGNOSTIC, printed
# after the result as "# " lines.
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
	if [ $# -ge 3 ] && [ -n "$3" ]; then printf '%s\n' "$3" | sed 's/^/# /'; fi
}
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then ok 0 "$d"; else ok 1 "$d"; fi
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
done_testing() { echo "1..$n"; }
top=$(cd "$(dirname "$0")/.." && pwd)
rb=$top/build/reclaimbench
bench=$top/build/rb-bench
work=$(mktemp -d "${TMPDIR:-/tmp}/rb-test-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
q() { sqlite3 "$1" "$2"; }
thp_state() { cat /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag \
	/sys/kernel/mm/transparent_hugepage/hugepages-*/enabled 2>/dev/null | md5sum; }
# Plans (their job files) of a test stay in its own folder.
export RECLAIMBENCH_SPOOL=$work/spool
# A host-clock boot waits for a quiet machine; on a machine that never is,
# 30 s a boot (not 120) keeps the suite's time bounded.
export RECLAIMBENCH_QUIET_WAIT=${RECLAIMBENCH_QUIET_WAIT:-30}
# mthp64_only COMMAND...: runs it with the THP knobs rb-bench uses for a
# 64 kB mTHP region (64 kB for madvise, every other size off, else a plain
# program gets PMD THPs), then puts every size's knob back.
mthp64_only() {
	_thp=/sys/kernel/mm/transparent_hugepage
	for _k in "$_thp"/hugepages-*/enabled; do
		[ -f "$_k" ] && echo "$_k $(sed 's/.*\[\(.*\)\].*/\1/' "$_k")"
	done > "$work/knobs"
	for _k in "$_thp"/hugepages-*/enabled; do [ -f "$_k" ] && echo never > "$_k"; done
	echo madvise > "$_thp/hugepages-64kB/enabled"
	"$@"; _rc=$?
	while read -r _k _v; do echo "$_v" > "$_k"; done < "$work/knobs"
	return $_rc
}
