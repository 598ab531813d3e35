#!/bin/sh
# The sandbox's limits (runners/scripts/sandbox.sh), each with a small command:
# a memory hog, a burst of writes past the disk allowance, a flood of
# output, and a fork bomb in one sandbox while another starts.
. "$(dirname "$0")/lib.sh"
sb=$top/runners/scripts/sandbox.sh
bombs() { pgrep -u rb-sandbox -f 'b\(\) \{ b \| b & \}' 2>/dev/null; }

# A memory hog: 512 MiB touched (Python fills the bytes) under a 64 MB limit.
sh "$sb" -m 64 -- python3 -c 'b = b"x" * (512 << 20); print("allocated", len(b))' > "$work/mem.log" 2>&1; rc=$?
[ $rc = 3 ] && grep -q 'memory limit of 64 MB' "$work/mem.log" && ! grep -q allocated "$work/mem.log"
ok $? "a memory hog past -m 64 is stopped, exit 3" "$(tail -1 "$work/mem.log")"
sh "$sb" -m 64 -- python3 -c 'b = b"x" * (16 << 20); print("allocated", len(b))' > "$work/mem2.log" 2>&1
grep -q 'allocated 16777216' "$work/mem2.log"
ok $? "16 MiB within -m 64 is fine"

# A burst of 200 MB into a 10 MB allowance: refused as it is written (the
# command itself sees the write fail), stopped, nothing of it kept.
mkdir -p "$work/rw" && echo kept > "$work/rw/old"
start=$(date +%s)
sh "$sb" -t 60 -q 10 -w "$work/rw" -- sh -c 'dd if=/dev/zero of="$1/big" bs=1M count=200 2>&1; sleep 30' \
	sh "$work/rw" > "$work/q.log" 2>&1; rc=$?
[ $rc = 3 ] && grep -q 'disk limit' "$work/q.log" && grep -q 'No space left' "$work/q.log" &&
	[ ! -e "$work/rw/big" ] && [ "$(cat "$work/rw/old")" = kept ] && [ $(($(date +%s) - start)) -lt 20 ]
ok $? "a 200 MB burst into -q 10 fails as it is written and is stopped, exit 3" "$(grep -v '^$' "$work/q.log" | tail -2 | tr '\n' ' ')"
# Within the allowance, what the command writes, changes and deletes is
# there afterwards.
mkdir -p "$work/rw/gone" "$work/rw/d" && echo x > "$work/rw/gone/f" && echo old > "$work/rw/d/f"
sh "$sb" -q 10 -w "$work/rw" -- sh -c 'cd "$1" && dd if=/dev/zero of=five bs=1M count=5 2>/dev/null &&
	rm -r gone && echo new > d/f && rm old && mkdir old && touch -d @1000000000 old/t && ln -s five link' \
	sh "$work/rw" > "$work/q2.log" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(stat -c %s "$work/rw/five")" = 5242880 ] && [ ! -e "$work/rw/gone" ] &&
	[ "$(cat "$work/rw/d/f")" = new ] && [ -d "$work/rw/old" ] && [ "$(stat -c %Y "$work/rw/old/t")" = 1000000000 ] &&
	[ "$(readlink "$work/rw/link")" = five ] && [ "$(stat -c %U "$work/rw/five")" = rb-sandbox ]
ok $? "within -q 10 the writes, changes, deletions, mtimes and links are kept" "status $rc$(cat "$work/q2.log")"

# A flood of output: stdout and stderr each stop at -o MB.
sh "$sb" -t 60 -o 1 -- sh -c 'yes flood; sleep 30' > "$work/out.log" 2> "$work/err.log"; rc=$?
size=$(stat -c %s "$work/out.log")
[ $rc = 3 ] && grep -q 'output limit of 1 MB' "$work/err.log" && [ "$size" -le 1048576 ]
ok $? "a flood of output is cut at -o 1 and stopped, exit 3" "$size bytes; $(tail -1 "$work/err.log")"
sh "$sb" -o 1 -- sh -c 'echo out; echo err >&2' > "$work/o2.log" 2> "$work/e2.log"
[ "$(cat "$work/o2.log")" = out ] && [ "$(cat "$work/e2.log")" = err ]
ok $? "output within -o 1 passes, stdout and stderr apart"

# A fork bomb holds every process its sandbox may have; another sandbox
# (as QEMU's: no -t, no -q) still starts and forks.
sh "$sb" -t 60 -- sh -c 'b() { b | b & }; b; sleep 30' > /dev/null 2>&1 &
bomb=$!
# Its own count, as the kernel keeps it (processes come and go too fast
# for a walk of /proc to see them all).
count() { cat /sys/fs/cgroup/pids/rb-sandbox-$bomb/pids.current /sys/fs/cgroup/pids/*/rb-sandbox-$bomb/pids.current 2>/dev/null | head -1; }
held=0
for i in $(seq 200); do
	c=$(count); [ "${c:-0}" -gt $held ] && held=$c
	[ $held -ge 500 ] && break
	sleep 0.1
done
good=0
for i in 1 2 3 4 5; do
	sh "$sb" -- sh -c 'echo started; (echo forked); python3 -c "import threading; t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join()"' \
		> "$work/other.log" 2>&1 && grep -q started "$work/other.log" && grep -q forked "$work/other.log" &&
		grep -q thread "$work/other.log" && good=$((good + 1))
done
[ $held -ge 500 ] && [ $good = 5 ]
ok $? "with a fork bomb holding 500 or more processes in its sandbox, another sandbox started, forked and started a thread 5 times of 5" \
	"$held processes held; $good of 5; $(tr '\n' ' ' < "$work/other.log")"
kill $bomb 2>/dev/null; wait $bomb 2>/dev/null
for i in $(seq 50); do [ -z "$(bombs)" ] && break; sleep 0.2; done
[ -z "$(bombs)" ] && [ -z "$(ls -d /sys/fs/cgroup/*/rb-sandbox-$bomb /sys/fs/cgroup/memory/*/*/rb-sandbox-$bomb 2>/dev/null)" ]
ok $? "no bomb left once its sandbox is killed"
done_testing
