/* pt_reclaim: one page touched in every 2 MiB of a large region fills a
 * page table each; MADV_DONTNEED of the region is timed and VmPTE read
 * before and after.  With PT reclaim the empty PTE tables are freed.
 *
 * The call frees its pages onto the CPU's per-CPU free list (pcp); what
 * earlier work left there (free THPs after pmd_redirty's munmap) would make
 * it spill into the buddy allocator, so the list is settled right before
 * the window (pcp_settle in settle.c) and /proc/zoneinfo must show it so. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define PMD_SIZE (2UL << 20)

static const char *const counters[] = { "nr_page_table_pages", NULL };

static int setup(struct bench_ctx *ctx)
{
	if (status_kb("VmPTE") < 0)
		return bench_skip(ctx, "no VmPTE in /proc/self/status");
	return pcp_pin(ctx);	/* one pcp list for setup and window */
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.pt_region_mb << 20, tables = len / PMD_SIZE;
	struct pcp_state before, open;
	unsigned long long rcu0, rcu1;
	long long pte0, pte1;
	char *p = map_aligned(len, PMD_SIZE);
	int err = 0, ret;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	/* 4 KiB pages only: a THP would fill 2 MiB instead of one PTE table. */
	if (madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL) {
		munmap(p, len);
		return bench_fail(ctx, "madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	}
	pte0 = status_kb("VmPTE");
	for (size_t off = 0; off < len; off += PMD_SIZE)
		p[off] = 1;
	pte1 = status_kb("VmPTE");
	if (pte1 - pte0 < (long long)tables * 4) {
		munmap(p, len);
		return bench_skip(ctx, "VmPTE grew by %lld kB for %zu page tables (want %zu kB)",
				  pte1 - pte0, tables, tables * 4);
	}
	if (pcp_read(pcp_cpu, &before)) {
		ret = bench_skip(ctx, "no pagesets of CPU %d in /proc/zoneinfo", pcp_cpu);
		goto unmap;
	}
	/* Anything of the settled size is far from making the window spill
	 * (it frees about 25,600 pages into a limit of 31,848 on a one-CPU
	 * 1 GiB guest); what earlier benchmarks left (up to 20,000 pages) is
	 * not. */
	ret = pcp_settle(ctx, &open);
	if (ret != BENCH_OK)
		goto unmap;
	rcu0 = rcu_softirqs();
	window_begin(ctx);
	if (madvise(p, len, MADV_DONTNEED))
		err = errno;
	window_end(ctx);
	rcu1 = rcu_softirqs();
	if (err) {
		ret = bench_skip(ctx, "madvise(MADV_DONTNEED): %s", strerror(err));
		goto unmap;
	}
	metric(ctx, "setup.page_tables", (double)tables, "tables");
	metric(ctx, "window.rcu_softirqs", (double)(rcu1 - rcu0), "softirqs");
	metric(ctx, "pcp.unsettled", (double)before.count, "pages");
	metric(ctx, "pcp.count", (double)open.count, "pages");
	metric(ctx, "pcp.high", (double)open.high, "pages");
unmap:
	munmap(p, len);
	return ret;
}

/* VmPTE moves by a page table or two between builds (102636 vs 102640
 * kB): a tolerance of 64 kB keeps that from reading as a change. */
static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING, 0, "dontneed", AGG_MEDIAN },
	{ "status.VmPTE_before", METRIC_EXACT, 64, "VmPTE_before_kB", AGG_MEDIAN },
	/* With PT reclaim the empty page tables are gone after the call. */
	{ "status.VmPTE_after", METRIC_INVARIANT, 64, "VmPTE_after_kB", AGG_MEDIAN },
	{ "setup.page_tables", METRIC_INFO },
	/* The tables' RCU callbacks that ran inside the window: one CPU runs
	 * them there (PageTables falls by the tables freed). */
	{ "window.rcu_softirqs", METRIC_INFO },
	/* The pcp list of our CPU: pages on it before it was settled (what
	 * earlier work left), and its count and limit at the window. */
	{ "pcp.unsettled", METRIC_INFO },
	{ "pcp.count", METRIC_INFO },
	{ "pcp.high", METRIC_INFO },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double before = r->get(r, "status.VmPTE_before"), after = r->get(r, "status.VmPTE_after");
	double drop = 100 * (1 - after / before);

	if (before > 0)
		snprintf(buf, cap, "MADV_DONTNEED %s empty page tables: VmPTE %.0f -> %.0f kB (%.1f%% freed)",
			 drop > 90 ? "reclaimed" : "kept", before, after, drop);
}

static const char *judge(const struct claim_view *v, char *ev, size_t cap)
{
	double b0 = v->base->get(v->base, "status.VmPTE_before"), b1 = v->base->get(v->base, "status.VmPTE_after");
	double n0 = v->new->get(v->new, "status.VmPTE_before"), n1 = v->new->get(v->new, "status.VmPTE_after");
	struct verdict_view t;

	v->compare(v, "status.VmPTE_after", &t);
	snprintf(ev, cap, "%s: VmPTE %.0f kB -> %.0f kB; %s (without PT reclaim): %.0f kB -> %.0f kB; "
		 "VmPTE after: %s", v->new->variant, n0, n1, v->base->variant, b0, b1, t.verdict);
	return n1 < 0.05 * n0 && b1 > 0.5 * b0 && !strcmp(t.verdict, "CHANGED") ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "VmPTE 102640 kB &rarr; 240 kB after MADV_DONTNEED", "7.3-no-pt-reclaim", "7.3", judge,
	  "VmPTE 102640 kB &rarr; 240 kB after MADV_DONTNEED of a region touched once per 2 MiB (kB of page "
	  "tables, the PT reclaim series' test; no timing claimed)" },
	{ NULL }
};

const struct bench_info bench_pt_reclaim = {
	.name = "pt_reclaim",
	.version = 4,
	.params = "pt-region-mb",
	.help = "touch one page per 2 MiB, settle the CPU's free-page list, time MADV_DONTNEED, VmPTE before and after",
	.vmstat = counters,
	.setup = setup,
	.run = run,
	.metrics = metrics,
	.finding = finding,
	.claims = claims,
};
