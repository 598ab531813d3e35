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
	ok $? "tlb:tlb_flush: the benchmark counts what perf stat counts" "benchmark counted $ours, perf stat $theirs"
fi
[ -n "$mounted" ] && umount /sys/kernel/tracing

# Independent timing of the same operation.  Single medians of 9 on this
# shared 2-core VM moved by up to 1.5x from run to run (which is why the
# check once took a factor of 2 either way): the host's load comes and goes
# between the two programs.  So they take turns, one repetition each, 15
# rounds of probe, benchmark, probe again, and each side's fastest
# repetition counts (load only ever adds time); the probe's second column
# against its first (A/A, the same moments) is shown as the noise of the
# moment.  Measured here over 32 such measurements on a quiet host:
# benchmark/probe 0.93..1.03, A/A 0.96..1.04; so the bound is 10%.  Under
# three CPU and memory hogs, 2 of 8 measurements fell outside (1.83 with
# A/A 1.00; 0.82 with A/A 1.86) and the rest inside: load is not
# systematic, a wrong timing window is, so up to 5 measurements are taken
# and the first inside the bound passes.
cc -O2 -o "$work/probe" "$top/tests/helper/pageout_probe.c"
thp=/sys/kernel/mm/transparent_hugepage
if [ -w "$thp/hugepages-64kB/enabled" ]; then
	tries=
	for attempt in 1 2 3 4 5; do
		: > "$work/rounds"
		for i in $(seq 15); do
			p1=$(mthp64_only "$work/probe" 1)
			m=$("$bench" --reps 1 lazyfree_mthp 2>/dev/null | grep -v kind=counting |
				sed -n 's/.*metric=time.wall value=\([0-9]*\) .*/\1/p')
			p2=$(mthp64_only "$work/probe" 1)
			echo "${m:-x} ${p1:-x} ${p2:-x}" >> "$work/rounds"
		done
		fastest() { cut -d' ' -f"$1" "$work/rounds" | sort -n | head -n 1; }
		mine=$(fastest 1) probe=$(fastest 2) again=$(fastest 3)
		r=$(awk -v m="$mine" -v p="$probe" -v a="$again" 'BEGIN {
			if (m !~ /^[0-9]+$/ || p !~ /^[0-9]+$/ || a !~ /^[0-9]+$/) { print "no number"; exit 1 }
			printf "%.3f (A/A %.3f)", m / p, a / p; exit !(m / p >= 0.9 && m / p <= 1.1) }'); rc=$?
		tries="$tries${tries:+, }$r"
		[ $rc = 0 ] && break
	done
	ok $rc "MADV_PAGEOUT, fastest of 15 turns: lazyfree_mthp and an independent probe within 10%" \
		"lazyfree_mthp $mine ns, independent probe $probe ns; ratio: $tries"
	[ "$(thp_state)" = "$before" ]; ok $? "THP knobs restored by the test"
else
	skip "no 64 kB mTHP knob"
fi
done_testing
