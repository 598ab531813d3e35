/* ttu_sync_race: lazyfree mTHP folios are reclaimed one at a time while
 * another thread, on another CPU, rewrites the first PTE of the folio
 * being reclaimed through userfaultfd, over and over (race.c).  Without
 * TTU_SYNC,
 * try_to_unmap_one() looks at that first PTE without the lock, may see it
 * none, skip it and unmap the rest: the folio is left partially mapped.
 *
 * Only the first PTE's state at that one lockless read matters, so the
 * racer works on the folio being reclaimed and nothing else: the main
 * thread pages out one folio per MADV_PAGEOUT call and hands its address
 * to the racer first.  Two threads pinned to two CPUs make sure the two
 * really run at once.  The pagemap and /proc/kpageflags tell afterwards,
 * folio by folio, what became of it. */
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>

#include "bench.h"

static const char *const counters[] = {
	"pglazyfree", "pglazyfreed", "thp_deferred_split_page", "pgsteal_anon", NULL
};

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, params.mthp_kb, "madvise");

	return ret ? ret : race_start(ctx);
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	race_stop();
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.race_region_kb << 10;
	unsigned long rewrites0 = race_rewrites();
	struct race_outcome o = { 0 };
	int ret = BENCH_OK;

	/* Counters over the whole repetition; the clocks (and, in a counting
	 * repetition, perf events) only around each MADV_PAGEOUT. */
	window_open(ctx);
	for (unsigned long round = 0; round < params.race_iterations && !ret; round++) {
		char *p;

		ret = lazyfree_region(ctx, &p, len);
		if (ret)
			break;
		ret = race_register(ctx, p, len);
		if (!ret)
			ret = race_pageout(ctx, p, len, 0, &o);
		munmap(p, len);
	}
	window_close(ctx);
	if (ret)
		return ret;
	race_outcome_metrics(ctx, &o);
	metric(ctx, "race.reclaimed", (double)o.reclaimed, "folios");
	metric(ctx, "race.kept", (double)o.kept, "folios");
	metric(ctx, "race.rewrites", (double)(race_rewrites() - rewrites0), "count");
	if (!o.reclaimed)
		return bench_skip(ctx, "MADV_PAGEOUT reclaimed none of %lu folios: no race to see",
				  o.folios);
	return BENCH_OK;
}

/* The race's result is a count of events among many folios: judged as a
 * rate (an exact test on the counts), summed over the repetitions. */
static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING, 0, "pageout", AGG_MEDIAN },
	{ "race.partial", METRIC_INVARIANT, 0, "partial", AGG_SUM, "race.folios" },
	{ "race.split", METRIC_INFO, 0, "split", AGG_SUM },
	{ "race.reclaimed", METRIC_INFO, 0, "reclaimed", AGG_SUM },
	{ "race.folios", METRIC_INFO, 0, "folios", AGG_SUM },
	/* nr_anon_partially_mapped moved by the pageouts, read before munmap
	 * frees the folios (over the whole repetition it is always 0). */
	{ "race.kernel_partial", METRIC_INFO, 0, "nr_partially_mapped", AGG_SUM },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double k = r->get(r, "race.partial"), n = r->get(r, "race.folios"), split = r->get(r, "race.split");
	double kernel = r->get(r, "race.kernel_partial");
	char counted[64] = "";

	if (isnan(k) || !(n > 0))
		return;
	if (!isnan(kernel))
		snprintf(counted, sizeof(counted), "; the kernel counted %.0f", kernel);
	if (k)
		snprintf(buf, cap, "race REPRODUCED: %.0f of %.0f large folios left partially mapped "
			 "(%.0f ppm%s); %.0f split before reclaim", k, n, 1e6 * k / n, counted, split);
	else
		snprintf(buf, cap, "race not reproduced: 0 of %.0f large folios partially mapped (rate below "
			 "%.0f ppm at 95%%; not a proof of absence); %.0f split before reclaim", n,
			 1e6 * (1 - pow(0.05, 1 / n)), split);
}

static const struct bench_claim claims[] = {
	{ "no large folio left partially mapped with TTU_SYNC", "7.3-no-ttu-sync", "7.3", race_partial_judge,
	  "no figure: &ldquo;the folio will either be entirely reclaimed or entirely kept&rdquo;, &ldquo;this "
	  "patch makes the number 100%&rdquo; (seed 000, arm64)" },
	{ NULL }
};

const struct bench_info bench_ttu_sync_race = {
	.name = "ttu_sync_race",
	.version = 3,
	.params = "mthp-kb,race-iterations,race-region-kb",
	.help = "reclaim lazyfree mTHP one folio at a time while a thread rewrites its first PTE; count partially mapped folios",
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
