/* memcg_reclaim: dirty anonymous mTHP folios in a memory cgroup, swapped
 * out to zram by a timed write of the region's size to memory.reclaim.
 * A large folio is swapped out whole (the size's swpout) when the swap
 * device gives it a run of slots, else split first (swpout_fallback). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

static const char *const counters[] = {
	"pswpout", "pswpin", "pgsteal_anon", "pgscan_anon", "thp_split_page", "thp_deferred_split_page",
	"thp_swpout", "thp_swpout_fallback", NULL
};

static char memcg_dir[256];

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, params.mthp_kb, "madvise");

	if (!ret)
		ret = swap_zram_on(ctx, 2 * params.region_mb + 16);
	if (!ret)
		ret = memcg_enter(ctx, "rb-memcg_reclaim", memcg_dir, sizeof(memcg_dir));
	return ret;
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	memcg_leave(memcg_dir);
	swap_zram_off();
}

/* What the window did to the region and the cgroup. */
static void region_metrics(struct bench_ctx *ctx, char *p, size_t len, long long current0)
{
	long long current1 = memcg_value(memcg_dir, "memory.current");
	long swapped = swapped_pages(p, len);

	if (current0 >= 0 && current1 >= 0)
		metric(ctx, "memcg.reclaimed_kb", (double)(current0 - current1) / 1024, "kB");
	if (swapped >= 0)
		metric(ctx, "region.swapped", (double)swapped, "pages");
	metric(ctx, "region.present", (double)present_pages(p, len), "pages");
	metric(ctx, "setup.folios", (double)(len / (params.mthp_kb << 10)), "folios");
	metric(ctx, "setup.pages", (double)(len / 4096), "pages");
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.region_mb << 20;
	char path[300], amount[32], *p;
	long long current0, free_kb = meminfo_kb("SwapFree");
	int ret, err = 0;

	if (swap_areas() < 1 || free_kb < (long long)(len >> 10))
		return bench_fail(ctx, "swap gone or short before the window: %lld kB free", free_kb);
	ret = memcg_region(ctx, memcg_dir, len, &p);
	if (ret)
		return ret;
	current0 = memcg_value(memcg_dir, "memory.current");
	snprintf(path, sizeof(path), "%s/memory.reclaim", memcg_dir);
	snprintf(amount, sizeof(amount), "%zu", len);
	window_begin(ctx);
	if (write_text(path, amount))
		err = errno;
	window_end(ctx);
	/* EAGAIN: less than asked was reclaimed; the counters say how much. */
	metric(ctx, "memcg.reclaim_short", err == EAGAIN, "count");
	region_metrics(ctx, p, len, current0);
	munmap(p, len);
	if (err && err != EAGAIN)
		return bench_fail(ctx, "write '%s' to '%s': %s", amount, path, strerror(err));
	return BENCH_OK;
}

static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING, 0, "reclaim", AGG_MEDIAN },
	/* Swapped out whole at the size: the check is that it is not 0. */
	{ "mthp.swpout", METRIC_EXACT, 0, "swpout", AGG_MEDIAN },
	{ "mthp.swpout_fallback", METRIC_EXACT, 0, "fallback", AGG_MEDIAN },
	{ "vmstat.pswpout", METRIC_EXACT, 0, "pswpout", AGG_MEDIAN },
	{ "mthp.split", METRIC_EXACT, 0, "split", AGG_MEDIAN },
	{ "region.swapped", METRIC_INFO, 0, "swapped", AGG_MEDIAN },
	{ "setup.folios", METRIC_INFO, 0, "folios", AGG_MEDIAN },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double out = r->get(r, "mthp.swpout"), fb = r->get(r, "mthp.swpout_fallback");
	double n = r->get(r, "setup.folios"), pages = r->get(r, "vmstat.pswpout");

	if (isnan(out) || isnan(n))
		return;
	snprintf(buf, cap, "%s: %.0f of %.0f large folios swapped out whole, %.0f split first "
		 "(swpout_fallback); pswpout %.0f", out > 0 ? "mTHP swapped out whole" : "no mTHP swapped out whole",
		 out, n, isnan(fb) ? 0 : fb, isnan(pages) ? 0 : pages);
}

const struct bench_info bench_memcg_reclaim = {
	.name = "memcg_reclaim",
	.version = 1,
	.params = "region-mb,mthp-kb",
	.help = "dirty mTHP region in a memory cgroup, time memory.reclaim of it to zram swap",
	.vmstat = counters,
	.uses_mthp = 1,
	.setup = setup,
	.run = run,
	.teardown = teardown,
	.metrics = metrics,
	.finding = finding,
};
