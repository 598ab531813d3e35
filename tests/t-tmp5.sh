#!/bin/sh
# Hostile input against the real program: nothing it sends may run a
# command, write outside its place, or corrupt the database.
#  1. the sandbox itself (runners/sandbox.sh): user, network, files, limits;
#  2. a guest record stream whose release and reason carry gnuplot, shell
#     and HTML text, through ingest, report, compare, show and list;
#  3. git refs with shell text given to bisect and nightly;
#  4. a guest that floods its console, booted: stopped at the limit, and
#     QEMU seen running unprivileged under its seccomp filter;
#  5. a gate of a patch whose Makefile writes outside its tree (into /root,
#     the results database, the source tree), opens a network socket and
#     forks without limit.
. "$(dirname "$0")/lib.sh"
sb=$top/runners/sandbox.sh
canary=$work/canary
id=$(basename "$work")
pwned() { ls "$canary"* /root/rb-attack-"$id"* 2>/dev/null | tr '\n' ' '; }

# --- 1. the sandbox --------------------------------------------------------
mkdir -p "$work/sb/rw" "$work/sb/ro" && echo data > "$work/sb/ro/file"
python3 - "$work/port" "$work/connected" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(5)
open(sys.argv[1], 'w').write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept(); open(sys.argv[2], 'a').write('connected\n'); c.close()
PY
listener=$!; sleep 1; port=$(cat "$work/port")
python3 "$top/tests/gen_records.py" 3 5 '' 6.12.0-plain > "$work/plain.rec"
# --- 5. a gate of a hostile patch ------------------------------------------
cache=${RECLAIMBENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/reclaimbench}
src=$("$top/runners/kernel-source.sh" debian:7.3 | head -n 1) || { ok 1 "7.3 source ready"; done_testing; exit 0; }
gdb=$work/gate.db
"$rb" list runs --db "$gdb" > /dev/null && "$rb" ingest "$work/plain.rec" --db "$gdb" > /dev/null
before=$(q "$gdb" "SELECT count(*) FROM runs")
mkdir -p "$work/a/mm" "$work/b/mm"
git -C "$src" show rb-base:mm/Makefile > "$work/a/mm/Makefile"
cp "$work/a/mm/Makefile" "$work/b/mm/Makefile"
cat >> "$work/b/mm/Makefile" <<EOF
# What a hostile patch tries while its tree builds.
\$(shell echo pwned > /root/rb-attack-$id 2>/dev/null)
\$(shell echo pwned >> $gdb 2>/dev/null)
\$(shell echo pwned > \$(srctree)/rb-attack-$id 2>/dev/null)
\$(shell python3 -c 'import socket; socket.create_connection(("127.0.0.1", $port), 3).sendall(b"pwned")' 2>/dev/null)
\$(shell sh -c 'b() { b | b & }; b' >/dev/null 2>&1 &)
EOF
{ printf 'From: attacker\nSubject: [PATCH] mm: hostile\n\n---\n'; (cd "$work" && diff -u a/mm/Makefile b/mm/Makefile); } > "$work/hostile.patch"
RECLAIMBENCH_BUILD_TIMEOUT=300 "$rb" gate --base 7.3 --patch "$work/hostile.patch" --bench lazyfree_mthp --boots 3 \
	--reps 3 --db "$gdb" --out "$work/gout" > "$work/gate.log" 2>&1; rc=$?
[ $rc = 3 ] && grep -q "^error: variant '7.3+.*in the sandbox failed" "$work/gate.log"
ok $? "the hostile patch's build fails in the sandbox, gate exit $rc: $(grep '^error' "$work/gate.log" | tail -1)"
[ ! -e /root/rb-attack-"$id" ] && [ ! -e "$src/rb-attack-$id" ] && [ ! -e "$work/connected" ]
ok $? "nothing written to /root or the source tree, no connection to the host's listener"
[ "$(q "$gdb" "PRAGMA integrity_check")" = ok ] && [ "$(q "$gdb" "SELECT count(*) FROM runs")" = "$before" ] &&
	! grep -q pwned "$gdb"
ok $? "the results database intact (integrity ok, $before runs, nothing appended)"
[ -z "$(ps -u rb-sandbox -o pid= 2>/dev/null)" ]
ok $? "no process of the sandbox user left after the gate"
kill $listener 2>/dev/null; wait $listener 2>/dev/null
done_testing
