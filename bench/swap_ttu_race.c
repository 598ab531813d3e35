/* swap_ttu_race: ttu_sync_race's scenario on dirty swap-backed mTHP
 * folios, reclaimed to zram swap: MADV_PAGEOUT of one folio at a time
 * while ttu_sync_race's racer rewrites the folio's first PTE on another
 * CPU.  Without TTU_SYNC, try_to_unmap_one() may find that PTE none at
 * its lockless first look, skip it and unmap the rest: the folio is left
 * with PTE 0 present and PTEs 1..n-1 swap entries, seed 000's own
 * example.  The pagemap's present and swap bits tell afterwards, folio by
 * folio, what became of it.  The kernel's own count, nr_anon_partially_mapped,
 * does not see these folios: deferred_split_folio() returns at once for a
 * folio in the swap cache (7.3's mm/huge_memory.c), and a partly swapped
 * folio is in it; race.kernel_partial stays 0 where race.partial is not. */
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>

#include "bench.h"

static const char *const counters[] = {
	"pswpout", "pswpin", "pgsteal_anon", "thp_deferred_split_page", NULL
};

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, params.mthp_kb, "madvise");

	if (!ret)
		ret = swap_zram_on(ctx, 2 * (params.race_region_kb >> 10) + 16);
	return ret ? ret : race_start(ctx);
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	race_stop();
	swap_zram_off();
}

/* One round: a fresh dirty region, registered for the racer, paged out a
 * folio at a time under the racer, then classified. */
static int round_run(struct bench_ctx *ctx, struct race_outcome *o)
{
	size_t len = params.race_region_kb << 10;
	char *p;
	int ret = mthp_fault_region(ctx, len, 1, &p);

	if (ret)
		return ret;
	touch_pages_distinct(p, len);
	ret = race_register(ctx, p, len);
	if (!ret)
		ret = race_pageout(ctx, p, len, 1, o);
	munmap(p, len);
	return ret;
}

static int run(struct bench_ctx *ctx)
{
	struct race_outcome o = { 0 };
	int ret = BENCH_OK;

	if (swap_areas() < 1)
		return bench_fail(ctx, "swap gone before the window");
	window_open(ctx);
	for (unsigned long round = 0; round < params.race_iterations && !ret; round++)
		ret = round_run(ctx, &o);
	window_close(ctx);
	if (ret)
		return ret;
	race_outcome_metrics(ctx, &o);
	metric(ctx, "race.swapped", (double)o.swapped, "folios");
	metric(ctx, "race.kept", (double)o.kept, "folios");
	metric(ctx, "race.other", (double)o.other, "folios");
	if (!o.swapped && !o.partial)
		return bench_skip(ctx, "MADV_PAGEOUT swapped out none of %lu folios: no race to see", o.folios);
	return BENCH_OK;
}

static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING, 0, "pageout", AGG_MEDIAN },
	{ "race.partial", METRIC_INVARIANT, 0, "partial", AGG_SUM, "race.folios" },
	{ "race.split", METRIC_INFO, 0, "split", AGG_SUM },
	{ "race.swapped", METRIC_INFO, 0, "swapped", AGG_SUM },
	{ "race.folios", METRIC_INFO, 0, "folios", AGG_SUM },
	/* 0 even when race.partial is not: see the comment at the top. */
	{ "race.kernel_partial", METRIC_INFO, 0, "nr_partially_mapped", AGG_SUM },
	{ "mthp.swpout", METRIC_INFO, 0, "swpout", AGG_SUM },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double k = r->get(r, "race.partial"), n = r->get(r, "race.folios"), s = r->get(r, "race.swapped");

	if (isnan(k) || !(n > 0))
		return;
	if (k)
		snprintf(buf, cap, "race REPRODUCED on swap-backed folios: %.0f of %.0f left with PTEs "
			 "present and swap entries (%.0f ppm); %.0f swapped out whole", k, n, 1e6 * k / n, s);
	else
		snprintf(buf, cap, "race not reproduced: 0 of %.0f swap-backed folios partially swapped "
			 "(rate below %.0f ppm at 95%%); %.0f swapped out whole", n, 1e6 * (1 - pow(0.05, 1 / n)), s);
}

static const struct bench_claim claims[] = {
	{ "no swap-backed large folio left partly mapped, partly swapped, with TTU_SYNC", "7.3-no-ttu-sync", "7.3",
	  race_partial_judge,
	  "no figure: &ldquo;for an anon folio, after try_to_unmap_one(), we may have PTE0 present, while "
	  "PTE1 ~ PTE(nr_pages - 1) are swap entries&rdquo;; with the patch &ldquo;the folio will either be "
	  "entirely reclaimed or entirely kept&rdquo; (seed 000, arm64)" },
	{ NULL }
};

const struct bench_info bench_swap_ttu_race = {
	.name = "swap_ttu_race",
	.version = 1,
	.params = "mthp-kb,race-iterations,race-region-kb",
	.help = "swap out dirty mTHP one folio at a time while a thread rewrites its first PTE; "
		"count folios left partly present, partly swap entries",
	.vmstat = counters,
	.uses_mthp = 1,
	.parallel = 1,
	.setup = setup,
	.run = run,
	.teardown = teardown,
	.metrics = metrics,
	.finding = finding,
	.claims = claims,
};
