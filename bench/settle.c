/* Settling the machine right before a window, so that what ran before
 * does not show in it: the per-CPU free-page list of our CPU, pending RCU
 * callbacks, and this CPU's batches of new LRU pages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* The per-CPU free-page list (pcp) of the CPU a benchmark runs on holds
 * at most `high` pages.  What earlier work left there (the page tables
 * pt_reclaim freed, free THPs after pmd_redirty's munmap) makes a measured
 * call that frees pages spill the excess into the buddy allocator, so its
 * timing would depend on what ran before; and the kernel tunes `high` as
 * it goes, so it drifts between repetitions.  pcp_settle, right before a
 * window, empties the list down to the least limit the kernel allows (4 x
 * batch), then gives it back the limit the defaults reach (managed pages
 * / 8 per CPU), and /proc/zoneinfo must show it so.  Allocating pages
 * cannot empty it: order-0 faults never take the THPs parked on their own
 * list, and refill the order-0 list in batches whose rest zoneinfo (one
 * count for all lists) cannot tell.  The method page has the figures. */
#define STAT_REFRESH "/proc/sys/vm/stat_refresh"

int pcp_cpu = -1;

int pcp_pin(struct bench_ctx *ctx)
{
	char buf[32], value[32];
	struct pcp_state s;
	cpu_set_t one;
	int cpu = sched_getcpu();

	CPU_ZERO(&one);
	if (cpu >= 0)
		CPU_SET(cpu, &one);
	if (cpu < 0 || sched_setaffinity(0, sizeof(one), &one))
		return bench_fail(ctx, "sched_setaffinity to CPU %d: %s", cpu, strerror(errno));
	if (pcp_read(cpu, &s))
		return bench_skip(ctx, "no pagesets of CPU %d in /proc/zoneinfo", cpu);
	/* Writing the value it has is a no-op that proves we may write it. */
	if (read_text(PCP_FRACTION_KNOB, buf, sizeof(buf)) <= 0 || parse_knob(buf, value, sizeof(value)) ||
	    write_text(PCP_FRACTION_KNOB, value))
		return bench_skip(ctx, "cannot read and write %s: %s (run as root)", PCP_FRACTION_KNOB,
				  strerror(errno));
	if (access(STAT_REFRESH, W_OK))
		return bench_skip(ctx, "cannot write %s: %s (run as root)", STAT_REFRESH, strerror(errno));
	pcp_cpu = cpu;
	return BENCH_OK;
}

/* One try; spare is two touched pages of our own.  A fraction so large
 * that every limit falls to its floor (4 x batch), one page freed so that
 * our list takes that limit (and spills), stat_refresh to drain what is
 * above it (decay_pcp_high frees count - high); then the fraction 8, which
 * fixes the limit at the defaults' largest (managed / 8 per CPU), another
 * page freed so that our list takes it, and the old fraction back: with 0
 * the limit stays until the kernel tunes it again, as it would after the
 * faults of setup.  The parent restores the fraction too, whatever
 * becomes of us. */
static int pcp_settle_once(struct bench_ctx *ctx, char *spare)
{
	char buf[32], old[32];
	int ret = BENCH_OK;

	if (read_text(PCP_FRACTION_KNOB, buf, sizeof(buf)) <= 0 || parse_knob(buf, old, sizeof(old)))
		return bench_skip(ctx, "cannot read %s: %s", PCP_FRACTION_KNOB, strerror(errno));
	/* MADV_COLD drains the per-CPU batch of new LRU pages, which holds a
	 * reference to the spare pages: 7.3's MADV_DONTNEED no longer drains
	 * it, and a page it holds is not freed by the zap. */
	if (madvise(spare, 2 * 4096, MADV_COLD))
		return bench_skip(ctx, "madvise(MADV_COLD): %s", strerror(errno));
	if (write_text(PCP_FRACTION_KNOB, "1000000000"))
		return bench_skip(ctx, "cannot write %s: %s", PCP_FRACTION_KNOB, strerror(errno));
	madvise(spare, 4096, MADV_DONTNEED);
	if (write_text(STAT_REFRESH, "1"))
		ret = bench_skip(ctx, "cannot write %s: %s", STAT_REFRESH, strerror(errno));
	else if (write_text(PCP_FRACTION_KNOB, strcmp(old, "0") ? old : "8"))
		ret = bench_skip(ctx, "cannot write %s: %s", PCP_FRACTION_KNOB, strerror(errno));
	madvise(spare + 4096, 4096, MADV_DONTNEED);
	if (write_text(PCP_FRACTION_KNOB, old))
		ret = bench_fail(ctx, "cannot restore %s to %s: %s", PCP_FRACTION_KNOB, old, strerror(errno));
	return ret;
}

/* Settled: the floor limit (4 x batch), and at most one refill that the
 * kernel's own allocations on the way here may take from the buddy
 * allocator into a list the drain emptied (2 x batch: the settle's frees
 * leave the refill factor at 1 or less).  On a
 * busy machine other tasks on our CPU may refill it again: three tries. */
int pcp_settle(struct bench_ctx *ctx, struct pcp_state *open)
{
	/* Mapped once and kept: an munmap here would free its page table
	 * after the settle (through RCU, see rcu_settle). */
	static char *spare;
	int ret;

	if (!spare && (spare = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) ==
		      MAP_FAILED) {
		spare = NULL;
		return bench_fail(ctx, "mmap of 2 pages: %s", strerror(errno));
	}
	for (int try = 1;; try++) {
		spare[0] = spare[4096] = 1;
		ret = pcp_settle_once(ctx, spare);
		if (ret != BENCH_OK)
			return ret;
		if (!pcp_read(pcp_cpu, open) && open->count <= 8 * open->batch)
			return BENCH_OK;
		if (try == 3)
			return bench_skip(ctx, "the pcp list of CPU %d holds %ld pages before the window, "
					  "more than %ld (8 x batch), after %d tries to settle it", pcp_cpu,
					  open->count, 8 * open->batch, try);
	}
}

/* The RCU softirqs so far on the CPU we are pinned to (pcp_cpu; every CPU
 * when not pinned), from /proc/softirqs; 0 when unknown. */
unsigned long long rcu_softirqs(void)
{
	static char buf[64 << 10];	/* static: no page of ours faulted in here */
	unsigned long long sum = 0, v;
	char *l, *end;

	if (read_text("/proc/softirqs", buf, sizeof(buf)) <= 0 || !(l = strstr(buf, " RCU:")))
		return 0;
	l += 5;
	for (int cpu = 0;; cpu++) {
		v = strtoull(l, &end, 10);
		if (end == l)
			break;
		if (pcp_cpu < 0 || cpu == pcp_cpu)
			sum += v;
		l = end;
	}
	return sum;
}

/* Callbacks queued with call_rcu() run in the RCU softirq on the CPU that
 * queued them, a grace period later: the page tables an earlier process
 * freed at its exit or munmap (x86 frees page tables through RCU) are
 * freed then, page by page, inside whatever window is open.  Sleeping lets
 * the ticks end the grace period and run them; we sleep 4 ms (a tick at
 * HZ=250) at a time until one passes without an RCU softirq on our CPU, at
 * most 250 times (a busy host may never be quiet).  Returns the sleeps, or
 * -1 when it never went quiet. */
int rcu_settle(void)
{
	unsigned long long before = rcu_softirqs(), now;
	struct timespec tick = { 0, 4000000 };

	for (int i = 1; i <= 250; i++) {
		nanosleep(&tick, NULL);
		now = rcu_softirqs();
		if (now == before)
			return i;
		before = now;
	}
	return -1;
}

/* MADV_PAGEOUT and MADV_COLD begin with lru_add_drain(): the folios that
 * setup's own faults and reads left in this CPU's batches of new LRU pages
 * are put on the LRU lists then, by whichever call comes first.  MADV_COLD
 * of a page of our own, right before a window, makes that ours.  -1 when
 * it failed. */
int lru_settle(void)
{
	static char *spare;

	if (!spare && (spare = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) ==
		      MAP_FAILED) {
		spare = NULL;
		return -1;
	}
	spare[0] = 1;
	return madvise(spare, 4096, MADV_COLD);
}
