/* pmd_redirty: PMD-mapped THPs are made lazyfree, every page is written
 * again, then MADV_PAGEOUT is timed.  A redirtied lazyfree THP must not be
 * discarded (its new data would be lost); with the skip patch it is left
 * whole instead of being split.
 *
 * The call starts with lru_add_drain(): whatever setup left in the CPU's
 * batches of new LRU pages would be put on the LRU inside the window, in
 * some repetitions and not others, so they are drained right before it
 * (lru_settle; the method page's "Steady repetitions"). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

static const char *const counters[] = {
	"thp_split_pmd", "thp_split_page", "thp_deferred_split_page", "pglazyfree",
	"pglazyfreed", "pswpout", "thp_swpout", NULL
};

static int setup(struct bench_ctx *ctx)
{
	return thp_only_size(ctx, PMD_SIZE >> 10, "madvise");
}

/* Fault injection for the tests: RB_TEST_SPLIT_PMD makes setup split
 * every PMD mapping (mprotect of one page of each THP and back) while the
 * folios stay whole, the case the proof before the window must catch. */
static void injected_pmd_split(char *p, size_t len)
{
	if (!getenv("RB_TEST_SPLIT_PMD"))
		return;
	for (size_t off = 0; off < len; off += PMD_SIZE) {
		mprotect(p + off, 4096, PROT_READ);
		mprotect(p + off, 4096, PROT_READ | PROT_WRITE);
	}
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.region_mb << 20, lost = 0;
	uint64_t s0, s1;
	char *p = map_aligned(len, PMD_SIZE);
	long long huge_kb;
	int err = 0, ret;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	if (vmstat("thp_split_pmd", &s0)) {
		ret = bench_skip(ctx, "no thp_split_pmd in /proc/vmstat");
		goto unmap;
	}
	ret = lazyfree_pmd_region(ctx, p, len);
	if (ret)
		goto unmap;
	injected_pmd_split(p, len);
	touch_pages(p, len, 2);	/* redirty every page */
	/* The scenario, proven right before the window: every THP still
	 * mapped by its PMD after the rewrite, none split during setup. */
	huge_kb = mapping_kb(p, len, "AnonHugePages");
	vmstat("thp_split_pmd", &s1);
	if (huge_kb != (long long)(len >> 10) || s1 != s0) {
		ret = bench_skip(ctx, "THPs not PMD-mapped before MADV_PAGEOUT: AnonHugePages %lld of %zu kB, "
				 "thp_split_pmd +%llu during setup", huge_kb, len >> 10,
				 (unsigned long long)(s1 - s0));
		goto unmap;
	}
	if (lru_settle()) {
		ret = bench_skip(ctx, "madvise(MADV_COLD) of a page of our own: %s", strerror(errno));
		goto unmap;
	}
	window_begin(ctx);
	if (madvise(p, len, MADV_PAGEOUT))
		err = errno;
	window_end(ctx);
	for (size_t off = 0; off < len; off += 4096)
		lost += p[off] != 2;
	if (err) {
		ret = bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
		goto unmap;
	}
	metric(ctx, "setup.thps", (double)(len / PMD_SIZE), "folios");
	/* An invariant, not a speed: redirtied data must survive reclaim. */
	metric(ctx, "check.lost_pages", (double)lost, "pages");
unmap:
	munmap(p, len);
	return ret;
}

static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING, 0, "pageout", AGG_MEDIAN },
	/* With the skip, a redirtied THP is left mapped whole. */
	{ "vmstat.thp_split_pmd", METRIC_INVARIANT, 0, "thp_split_pmd", AGG_MEDIAN },
	{ "vmstat.pglazyfreed", METRIC_EXACT, 0, "pglazyfreed", AGG_MEDIAN },
	{ "check.lost_pages", METRIC_INVARIANT, 0, "lost_pages", AGG_MAX },
	{ "setup.thps", METRIC_INFO },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double split = r->get(r, "vmstat.thp_split_pmd"), lost = r->get(r, "check.lost_pages");

	if (!isnan(split))
		snprintf(buf, cap, "redirtied PMD-mapped lazyfree THPs %s (thp_split_pmd +%.0f)%s",
			 split > 0 ? "were still SPLIT by reclaim" : "were skipped without a split", split,
			 lost > 0 ? "; DATA LOST: redirtied pages were discarded" : "");
}

/* Debian's 6.12.117 and 7.3.4 carry the stable change "mm/rmap: don't
 * discard lazyfree THPs at PMD level": try_to_unmap_one() no longer calls
 * unmap_huge_pmd_locked(), so stock kernels split every such THP. */
static const char *judge(const struct claim_view *v, char *ev, size_t cap)
{
	struct verdict_view t;
	double s0 = v->base->get(v->base, "vmstat.thp_split_pmd"), s1 = v->new->get(v->new, "vmstat.thp_split_pmd");
	double lost = v->new->get(v->new, "check.lost_pages");

	v->compare(v, "time.wall", &t);
	snprintf(ev, cap, "%s splits %.0f THPs (the stable change \"mm/rmap: don't discard lazyfree THPs at PMD "
		 "level\" took the PMD-level path out of try_to_unmap_one()); %s splits %.0f, "
		 "lost pages %.0f; %.2f -> %.2f %s, %.2fx less (95%% CI of new/base [%.3f, %.3f], %s)",
		 v->base->variant, s0, v->new->variant, s1, lost, t.base, t.new, t.unit, t.base / t.new, t.lo,
		 t.hi, t.verdict);
	return s1 == 0 && s0 > 0 && lost == 0 && !strcmp(t.verdict, "faster") ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "redirtied PMD-mapped lazyfree THP skipped without a split, 3.5&times; faster", "7.3", "7.3-pmd-discard",
	  judge, "redirtied PMD-mapped lazyfree THPs skipped 3.5&times; faster by MADV_PAGEOUT (a ratio of "
	  "wall-clock times on arm64; seed 002, patch 4/4). Stable 6.12.117 took the PMD-level path out "
	  "(&ldquo;mm/rmap: don't discard lazyfree THPs at PMD level&rdquo;, per Debian's changelog; its "
	  "reason could not be read here): 7.3-pmd-discard puts it back to measure it, not as safe" },
	{ NULL }
};

const struct bench_info bench_pmd_redirty = {
	.name = "pmd_redirty",
	.version = 3,
	.params = "region-mb",
	.help = "MADV_FREE PMD THPs, write them again, time MADV_PAGEOUT",
	.vmstat = counters,
	.setup = setup,
	.run = run,
	.metrics = metrics,
	.finding = finding,
	.claims = claims,
};
