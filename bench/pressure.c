/* pressure: memcg_reclaim's region of dirty mTHP folios pushed out by a
 * limit instead of a request: memory.high set to half the region (the
 * write reclaims the cgroup down to it, in the writing task: limit
 * reclaim, counted as direct), then the whole region written again under
 * that limit (every fault over it reclaims again: swap-ins and swap-outs
 * at once).  memory.high, not memory.max: a limit it cannot meet throttles
 * instead of calling the OOM killer.  kswapd wakes only on a zone's
 * watermarks, which a cgroup's limit never touches: its counters are
 * recorded and expected to stay 0 here. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

static const char *const counters[] = {
	"pgscan_direct", "pgscan_kswapd", "pgsteal_direct", "pgsteal_kswapd", "pswpout", "pswpin",
	"thp_split_page", "thp_deferred_split_page", NULL
};

static char memcg_dir[256], high_path[300];

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, params.mthp_kb, "madvise");

	if (!ret)
		ret = swap_zram_on(ctx, 2 * params.region_mb + 16);
	if (!ret)
		ret = memcg_enter(ctx, "rb-pressure", memcg_dir, sizeof(memcg_dir));
	snprintf(high_path, sizeof(high_path), "%s/memory.high", memcg_dir);
	return ret;
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	write_text(high_path, "max");
	memcg_leave(memcg_dir);
	swap_zram_off();
}

/* The cgroup's own scan and steal counts over a window, and what it holds. */
static void memcg_window_metrics(struct bench_ctx *ctx, const uint64_t before[2])
{
	static const char *const names[2] = { "pgscan", "pgsteal" };
	char name[64];
	uint64_t v;

	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "memcg.%s", names[i]);
		if (before[i] == UINT64_MAX || memcg_stat(memcg_dir, names[i], &v))
			metric_unsupported(ctx, name, "pages", "not in memory.stat");
		else
			metric(ctx, name, (double)(v - before[i]), "pages");
	}
	metric(ctx, "memcg.current_kb", (double)memcg_value(memcg_dir, "memory.current") / 1024, "kB");
}

static void memcg_window_open(uint64_t before[2])
{
	if (memcg_stat(memcg_dir, "pgscan", &before[0]))
		before[0] = UINT64_MAX;
	if (memcg_stat(memcg_dir, "pgsteal", &before[1]))
		before[1] = UINT64_MAX;
}

/* Scope "limit": the write of memory.high; scope "refault": the whole
 * region written again under it. */
static int pressure_windows(struct bench_ctx *ctx, char *p, size_t len)
{
	char half[32];
	uint64_t before[2];
	int err = 0;

	snprintf(half, sizeof(half), "%zu", len / 2);
	ctx->scope = "limit";
	memcg_window_open(before);
	window_begin(ctx);
	if (write_text(high_path, half))
		err = errno;
	window_end(ctx);
	memcg_window_metrics(ctx, before);
	metric(ctx, "region.swapped", (double)swapped_pages(p, len), "pages");
	ctx->scope = "refault";
	memcg_window_open(before);
	window_begin(ctx);
	for (size_t off = 0; off < len && !err; off += 4096)
		p[off + 8]++;
	window_end(ctx);
	memcg_window_metrics(ctx, before);
	metric(ctx, "region.swapped", (double)swapped_pages(p, len), "pages");
	ctx->scope = NULL;
	if (err)
		return bench_fail(ctx, "write '%s' to '%s': %s", half, high_path, strerror(err));
	return BENCH_OK;
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.region_mb << 20;
	long long free_kb = meminfo_kb("SwapFree");
	char *p;
	int ret;

	if (swap_areas() < 1 || free_kb < (long long)(len >> 10))
		return bench_fail(ctx, "swap gone or short before the window: %lld kB free", free_kb);
	if (write_text(high_path, "max"))
		return bench_skip(ctx, "'max' to '%s': %s", high_path, strerror(errno));
	ret = memcg_region(ctx, memcg_dir, len, &p);
	if (ret)
		return ret;
	ret = pressure_windows(ctx, p, len);
	write_text(high_path, "max");
	munmap(p, len);
	metric(ctx, "setup.folios", (double)(len / (params.mthp_kb << 10)), "folios");
	metric(ctx, "setup.limit_kb", (double)(len / 2048), "kB");
	return ret;
}

static const struct metric_decl metrics[] = {
	{ "limit.time.wall", METRIC_TIMING, 0, "limit", AGG_MEDIAN },
	{ "refault.time.wall", METRIC_TIMING, 0, "refault", AGG_MEDIAN },
	{ "limit.memcg.pgscan", METRIC_INFO, 0, "scanned", AGG_MEDIAN },
	{ "limit.memcg.pgsteal", METRIC_INFO, 0, "reclaimed", AGG_MEDIAN },
	{ "limit.mthp.swpout", METRIC_EXACT, 0, "swpout", AGG_MEDIAN },
	{ "limit.mthp.split", METRIC_EXACT, 0, "split", AGG_MEDIAN },
	{ "refault.memcg.pgsteal", METRIC_INFO, 0, "refault_reclaimed", AGG_MEDIAN },
	{ "refault.vmstat.pgscan_kswapd", METRIC_INFO, 0, "kswapd", AGG_MEDIAN },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double scan = r->get(r, "limit.memcg.pgscan"), steal = r->get(r, "limit.memcg.pgsteal");
	double out = r->get(r, "limit.mthp.swpout"), split = r->get(r, "limit.mthp.split");
	double again = r->get(r, "refault.memcg.pgsteal");

	if (isnan(steal))
		return;
	snprintf(buf, cap, "memory.high at half the region: %.0f pages scanned, %.0f reclaimed, %.0f mTHP "
		 "swapped out whole, %.0f split; writing it all again reclaimed %.0f more", scan, steal,
		 isnan(out) ? 0 : out, isnan(split) ? 0 : split, isnan(again) ? 0 : again);
}

const struct bench_info bench_pressure = {
	.name = "pressure",
	.version = 1,
	.params = "region-mb,mthp-kb",
	.help = "dirty mTHP region in a memory cgroup pushed to zram swap by memory.high at half of it, "
		"then written again under that limit",
	.vmstat = counters,
	.uses_mthp = 1,
	.timing = "limit.time.wall",
	.spread = "the kernel picks what memory.high reclaims (direct reclaim in each write that "
		  "crosses the limit, and the LRU order it leaves), not the benchmark: repetitions "
		  "differed by up to 6%, so read a smaller difference with care",
	.setup = setup,
	.run = run,
	.teardown = teardown,
	.metrics = metrics,
	.finding = finding,
};
