#!/bin/sh
# The benchmarks' own numbers against independent ones: the tlb:tlb_flush
# count of lazyfree_mthp against `perf stat` over exactly the same windows,
# and its MADV_PAGEOUT time against a separate small program.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || [ ! -w /sys/kernel/mm/transparent_hugepage/enabled ]; then
	skip "needs root and a writable THP sysfs"; done_testing; exit 0
fi
before=$(thp_state)
mounted=
if [ ! -d /sys/kernel/tracing/events ] && mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
	mounted=1
fi
if ! command -v perf >/dev/null || [ ! -d /sys/kernel/tracing/events/tlb ]; then
	skip "perf (linux-perf) or the tlb tracepoints are missing"
else
	mkfifo "$work/ctl" "$work/ack"
	RB_PERF_CTL=$work/ctl RB_PERF_ACK=$work/ack perf stat -x, -e tlb:tlb_flush -D -1 \
		--control "fifo:$work/ctl,$work/ack" -o "$work/perf.csv" -- \
		"$bench" --reps 3 lazyfree_mthp > "$work/recs" 2>"$work/err"
	ok $? "perf stat ran the benchmark"
	theirs=$(grep tlb:tlb_flush "$work/perf.csv" | cut -d, -f1)
	ours=$(sed -n 's/.*metric=perf.tlb_flush value=\([0-9]*\) .*/\1/p' "$work/recs" | paste -sd+ | bc)
	# Same windows, same events: equal but for flushes raised in other
	# tasks' context during the window (a few at most).
	d=$(( theirs > ours ? theirs - ours : ours - theirs ))
	[ -n "$ours" ] && [ "$ours" -gt 0 ] && [ $(( d * 100 )) -le $(( ours * 2 + 200 )) ]
	ok $? "tlb:tlb_flush: benchmark counted $ours, perf stat $theirs"
fi
[ -n "$mounted" ] && umount /sys/kernel/tracing

# Independent timing of the same operation.
cc -O2 -o "$work/probe" "$top/tests/pageout_probe.c"
# The probe gets the knobs rb-bench uses: 64 kB for madvise, every other
# size off (else the probe would get PMD THPs), restored afterwards.
thp=/sys/kernel/mm/transparent_hugepage
if [ -w "$thp/hugepages-64kB/enabled" ]; then
	for k in "$thp"/hugepages-*/enabled; do
		[ -f "$k" ] && echo "$k $(sed 's/.*\[\(.*\)\].*/\1/' "$k")"
	done > "$work/knobs"
	for k in "$thp"/hugepages-*/enabled; do [ -f "$k" ] && echo never > "$k"; done
	echo madvise > "$thp/hugepages-64kB/enabled"
	probe=$("$work/probe" 9)
	while read -r k v; do echo "$v" > "$k"; done < "$work/knobs"
	"$bench" --reps 9 lazyfree_mthp > "$work/recs" 2>/dev/null
	mine=$(grep -v kind=counting "$work/recs" | sed -n 's/.*metric=time.wall value=\([0-9]*\) .*/\1/p' | sort -n | sed -n 5p)
	# Within a factor of 2 either way: the noise of a shared 2-core VM,
	# where single medians of 9 move by 1.5x from run to run.
	[ -n "$mine" ] && [ "$mine" -le $(( probe * 2 )) ] && [ "$probe" -le $(( mine * 2 )) ]
	ok $? "MADV_PAGEOUT median of 9: lazyfree_mthp $mine ns, independent probe $probe ns"
	[ "$(thp_state)" = "$before" ]; ok $? "THP knobs restored by the test"
else
	skip "no 64 kB mTHP knob"
fi
done_testing
