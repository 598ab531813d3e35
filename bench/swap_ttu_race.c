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
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* What became of the folios of one round, by their PTEs. */
struct swap_outcome {
	unsigned long partial;	/* a large folio with some PTEs present, others swap entries */
	unsigned long split;	/* pages still present, no longer of a large folio */
	unsigned long swapped;	/* every PTE a swap entry */
	unsigned long kept;	/* every PTE present */
	unsigned long other;	/* anything else (a PTE none, say) */
};

static int folio_classify(const uint64_t *pm, size_t per, struct swap_outcome *o)
{
	size_t present = 0, swap = 0, small = 0;

	for (size_t i = 0; i < per; i++) {
		uint64_t flags;

		swap += !!(pm[i] & PM_SWAP);
		if (!(pm[i] & PM_PRESENT))
			continue;
		present++;
		if (kpageflags(PM_PFN(pm[i]), &flags))
			return -1;
		small += !(flags & (1ULL << KPF_COMPOUND_HEAD | 1ULL << KPF_COMPOUND_TAIL));
	}
	if (swap == per)
		o->swapped++;
	else if (present == per && !small)
		o->kept++;
	else if (small)
		o->split++;
	else if (present && swap && present + swap == per)
		o->partial++;
	else
		o->other++;
	return 0;
}

static int classify(char *p, size_t len, size_t folio, struct swap_outcome *o)
{
	size_t pages = len / 4096, per = folio / 4096;
	uint64_t *pm = malloc(pages * sizeof(*pm));
	int ret = 0;

	if (!pm || pagemap_read(p, pages, pm)) {
		free(pm);
		return -1;
	}
	for (size_t f = 0; f < pages / per && !ret; f++)
		ret = folio_classify(pm + f * per, per, o);
	free(pm);
	return ret;
}

/* One round: a fresh dirty region, registered for the racer, paged out a
 * folio at a time under the racer, then classified. */
static int round_run(struct bench_ctx *ctx, struct swap_outcome *o, long long *kernel_partial)
{
	size_t len = params.race_region_kb << 10, folio = params.mthp_kb << 10;
	uint64_t pm0, pm1;
	int ret, err = 0;
	char *p;

	ret = mthp_fault_region(ctx, len, 1, &p);
	if (ret)
		return ret;
	for (size_t off = 0; off < len; off += 4096)	/* not one byte repeated: zram compresses it */
		*(uint64_t *)(p + off) = off / 4096 * 0x9e3779b97f4a7c15ULL;
	ret = race_register(ctx, p, len);
	if (ret)
		goto unmap;
	if (mthp_stat(ctx, "nr_anon_partially_mapped", &pm0))
		*kernel_partial = -1;
	for (size_t off = 0; off < len && !err; off += folio) {
		race_target(p + off);
		measure_begin(ctx);
		if (madvise(p + off, folio, MADV_PAGEOUT))
			err = errno;
		measure_end(ctx);
	}
	race_target(NULL);
	/* Read before munmap frees the folios. */
	if (*kernel_partial >= 0 && !mthp_stat(ctx, "nr_anon_partially_mapped", &pm1))
		*kernel_partial += (long long)(pm1 - pm0);
	else
		*kernel_partial = -1;
	if (err)
		ret = bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
	else if (classify(p, len, folio, o))
		ret = bench_skip(ctx, "/proc/self/pagemap or /proc/kpageflags unreadable "
				 "(root and CONFIG_PROC_PAGE_MONITOR needed)");
unmap:
	munmap(p, len);
	return ret;
}

static int run(struct bench_ctx *ctx)
{
	struct swap_outcome o = { 0 };
	unsigned long folios = 0;
	long long kernel_partial = 0;
	int ret = BENCH_OK;

	if (swap_areas() < 1)
		return bench_fail(ctx, "swap gone before the window");
	window_open(ctx);
	for (unsigned long round = 0; round < params.race_iterations && !ret; round++) {
		ret = round_run(ctx, &o, &kernel_partial);
		folios += (params.race_region_kb << 10) / (params.mthp_kb << 10);
	}
	window_close(ctx);
	if (ret)
		return ret;
	metric(ctx, "race.folios", (double)folios, "folios");
	metric(ctx, "race.partial", (double)o.partial, "folios");
	metric(ctx, "race.split", (double)o.split, "folios");
	metric(ctx, "race.swapped", (double)o.swapped, "folios");
	metric(ctx, "race.kept", (double)o.kept, "folios");
	metric(ctx, "race.other", (double)o.other, "folios");
	if (kernel_partial >= 0)
		metric(ctx, "race.kernel_partial", (double)kernel_partial, "folios");
	else
		metric_unsupported(ctx, "race.kernel_partial", "folios", "no nr_anon_partially_mapped mTHP stat");
	if (!o.swapped && !o.partial)
		return bench_skip(ctx, "MADV_PAGEOUT swapped out none of %lu folios: no race to see", folios);
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
