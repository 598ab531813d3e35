/* pmd_lazyfree: clean lazyfree PMD-mapped THPs (MADV_FREE, no write
 * after it), then MADV_PAGEOUT is timed.  A clean lazyfree THP can be
 * discarded whole at PMD level; kernels that carry "mm/rmap: don't discard
 * lazyfree THPs at PMD level" split every PMD first (thp_split_pmd +1 per
 * THP) and discard the pieces.  Before the window the pagemap shows every
 * THP whole, smaps shows the mapping PMD-mapped and pglazyfree shows every
 * page made lazyfree; after it the pagemap shows every page gone.
 *
 * The window frees more pages onto the CPU's per-CPU free list than its
 * limit, so what earlier work left there spills into the buddy allocator
 * inside the window, and RCU callbacks queued by earlier exits free page
 * tables in it: unsettled, the repetitions fell one after another (the
 * method page's "Steady repetitions").  So before each window pending RCU
 * callbacks run (rcu_settle: sleep a
 * tick at a time until one passes without an RCU softirq on our CPU),
 * then the pcp list is settled as pt_reclaim's is (pcp_settle); the RCU
 * softirqs in the window and the list before and after it are recorded. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

static const char *const counters[] = {
	"thp_split_pmd", "thp_split_page", "thp_deferred_split_page", "pglazyfree",
	"pglazyfreed", "pgsteal_anon", "pswpout", "thp_swpout", "pgfree", NULL
};

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, PMD_SIZE >> 10, "madvise");

	return ret != BENCH_OK ? ret : pcp_pin(ctx);
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.region_mb << 20;
	struct pcp_state open, after;
	unsigned long long rcu0, rcu1;
	long left;
	char *p = map_aligned(len, PMD_SIZE);
	int ret, err = 0, sleeps;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	ret = lazyfree_pmd_region(ctx, p, len);
	if (ret)
		goto unmap;
	sleeps = rcu_settle();	/* -1, recorded: never quiet (a busy host) */
	ret = pcp_settle(ctx, &open);
	if (ret != BENCH_OK)
		goto unmap;
	rcu0 = rcu_softirqs();
	window_begin(ctx);
	if (madvise(p, len, MADV_PAGEOUT))
		err = errno;
	window_end(ctx);
	rcu1 = rcu_softirqs();
	if (pcp_read(pcp_cpu, &after))
		after.count = -1;
	metric(ctx, "settle.rcu_sleeps", sleeps, "sleeps");
	metric(ctx, "window.rcu_softirqs", (double)(rcu1 - rcu0), "softirqs");
	metric(ctx, "pcp.count", (double)open.count, "pages");
	metric(ctx, "pcp.high", (double)open.high, "pages");
	metric(ctx, "pcp.count_after", (double)after.count, "pages");
	if (err) {
		ret = bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
		goto unmap;
	}
	/* Clean lazyfree memory is discarded, not swapped: nothing of it may
	 * stay mapped, whether the kernel split the THPs or not. */
	left = present_pages(p, len);
	metric(ctx, "setup.thps", (double)(len / PMD_SIZE), "folios");
	if (left < 0) {
		ret = bench_fail(ctx, "read of /proc/self/pagemap failed");
		goto unmap;
	}
	metric(ctx, "check.pages_left_mapped", (double)left, "pages");
	if ((size_t)left == len / 4096)
		ret = bench_fail(ctx, "MADV_PAGEOUT discarded none of %ld lazyfree pages", left);
unmap:
	munmap(p, len);
	return ret;
}

static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING, 0, "pageout", AGG_MEDIAN },
	/* Discarded at PMD level, a clean lazyfree THP is never split. */
	{ "vmstat.thp_split_pmd", METRIC_INVARIANT, 0, "thp_split_pmd", AGG_MEDIAN },
	{ "vmstat.pglazyfreed", METRIC_EXACT, 0, "pglazyfreed", AGG_MEDIAN },
	/* Clean lazyfree memory is discarded: none of it may stay mapped. */
	{ "check.pages_left_mapped", METRIC_INVARIANT, 0, "left_mapped", AGG_MAX },
	{ "setup.thps", METRIC_INFO },
	/* The settling (see the top): 4 ms sleeps until no RCU softirq came
	 * (-1: none passed quiet in 1 s, as on a busy host),
	 * the RCU softirqs inside the window (0 when settled), the pcp list's
	 * count and limit at the window and its count after. */
	{ "settle.rcu_sleeps", METRIC_INFO },
	{ "window.rcu_softirqs", METRIC_INFO },
	{ "pcp.count", METRIC_INFO },
	{ "pcp.high", METRIC_INFO },
	{ "pcp.count_after", METRIC_INFO },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double split = r->get(r, "vmstat.thp_split_pmd"), thps = r->get(r, "setup.thps");

	if (!isnan(split))
		snprintf(buf, cap, "clean lazyfree PMD-mapped THPs %s (thp_split_pmd +%.0f of %.0f THPs)",
			 split > 0 ? "were SPLIT, then discarded" : "were discarded whole, at PMD level", split, thps);
}

static const char *judge(const struct claim_view *v, char *ev, size_t cap)
{
	struct verdict_view t;
	double s0 = v->base->get(v->base, "vmstat.thp_split_pmd"), s1 = v->new->get(v->new, "vmstat.thp_split_pmd");

	v->compare(v, "time.wall", &t);
	snprintf(ev, cap, "%s splits %.0f THPs (stable change \"mm/rmap: don't discard lazyfree THPs at PMD level\"); "
		 "%s splits %.0f; %.2f -> %.2f %s, %.2fx less (95%% CI of new/base [%.3f, %.3f], p = %.2g, %s)",
		 v->base->variant, s0, v->new->variant, s1, t.base, t.new, t.unit, t.base / t.new, t.lo, t.hi, t.p,
		 t.verdict);
	/* Discarding whole THPs instead of splitting them must also be faster. */
	return s1 == 0 && s0 > 0 && !strcmp(t.verdict, "faster") ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "clean lazyfree PMD-mapped THPs discarded at PMD level, without a split", "7.3", "7.3-pmd-discard", judge,
	  "no figure: the behaviour of 735ecdfaf4e8 (&ldquo;mm/vmscan: avoid split lazyfree THP during "
	  "shrink_folio_list()&rdquo;) that seed 002 starts from" },
	{ NULL }
};

const struct bench_info bench_pmd_lazyfree = {
	.name = "pmd_lazyfree",
	.version = 2,
	.metrics = metrics,
	.finding = finding,
	.claims = claims,
	.params = "region-mb",
	.help = "MADV_FREE clean PMD-mapped THPs, settle RCU and the CPU's free-page list, time MADV_PAGEOUT",
	.vmstat = counters,
	.setup = setup,
	.run = run,
};
