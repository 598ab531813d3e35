/* zap_mthp: zap of a region of anonymous mTHPs.  Each repetition times
 * munmap of one freshly faulted region and MADV_DONTNEED of another, each
 * in its own window (metrics "munmap.*" and "dontneed.*"); with batched zap
 * a large folio's PTEs are cleared, its mapcount dropped and its pages
 * freed in batches instead of one PTE at a time.  GUP during the zap is
 * zap_gup_race's, on two vCPUs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *const counters[] = {
	"pgfree", "thp_deferred_split_page", "nr_tlb_remote_flush", "nr_tlb_local_flush_all",
	"nr_tlb_local_flush_one", NULL
};

enum zap { ZAP_MUNMAP, ZAP_DONTNEED };

/* One timed zap of a fresh region, its metrics under the zap's name; then
 * the proof that it freed the region. */
static int zap_timed(struct bench_ctx *ctx, enum zap how)
{
	size_t len = params.region_mb << 20;
	long long rss0, freed;
	long left = 0;
	int ret, err = 0;
	char *p;

	ret = mthp_fault_region(ctx, len, 1, &p);
	if (ret)
		return ret;
	rss0 = status_kb("RssAnon");
	ctx->scope = how == ZAP_MUNMAP ? "munmap" : "dontneed";
	window_begin(ctx);
	if (how == ZAP_MUNMAP ? munmap(p, len) : madvise(p, len, MADV_DONTNEED))
		err = errno;
	window_end(ctx);
	freed = rss0 - status_kb("RssAnon");
	if (how == ZAP_DONTNEED)
		left = present_pages(p, len);
	if (!err) {
		metric(ctx, "check.rss_freed_kb", (double)freed, "kB");
		if (how == ZAP_DONTNEED && left >= 0)
			metric(ctx, "check.pages_left_mapped", (double)left, "pages");
		else if (how == ZAP_DONTNEED)
			metric_unsupported(ctx, "check.pages_left_mapped", "pages",
					   "no /proc/self/pagemap (CONFIG_PROC_PAGE_MONITOR)");
	}
	ctx->scope = NULL;
	if (how == ZAP_DONTNEED || err)
		munmap(p, len);
	if (err)
		return bench_fail(ctx, "%s of the region: %s",
				  how == ZAP_MUNMAP ? "munmap" : "madvise(MADV_DONTNEED)", strerror(err));
	/* RssAnon is read from per-CPU counters: allow 1 MiB of slack. */
	if (rss0 >= 0 && freed + 1024 < (long long)(len >> 10))
		return bench_fail(ctx, "%s freed %lld of %zu kB of RssAnon",
				  how == ZAP_MUNMAP ? "munmap" : "MADV_DONTNEED", freed, len >> 10);
	if (left > 0)
		return bench_fail(ctx, "MADV_DONTNEED left %ld pages mapped", left);
	return BENCH_OK;
}

static int setup(struct bench_ctx *ctx)
{
	return thp_only_size(ctx, params.mthp_kb, "madvise");	/* params_check: whole folios */
}

/* The test-only kernels of seed 003's hazard count, outside the windows,
 * the unmaps that found a folio's refcount below its mapcount. */
static int run(struct bench_ctx *ctx)
{
	struct rmap_check c0, c1;
	int ret;

	rmap_check_read(&c0);
	ret = zap_timed(ctx, ZAP_MUNMAP);
	if (!ret)
		ret = zap_timed(ctx, ZAP_DONTNEED);
	rmap_check_read(&c1);
	if (!ret)
		rmap_check_metrics(ctx, &c0, &c1);
	return ret;
}

static const struct metric_decl metrics[] = {
	{ "munmap.time.wall", METRIC_TIMING, 0, "munmap", AGG_MEDIAN },
	{ "dontneed.time.wall", METRIC_TIMING, 0, "dontneed", AGG_MEDIAN },
	/* Zapped one PTE at a time, each folio is left partly mapped after its
	 * first PTE and queued for deferred split; batched, never. */
	{ "munmap.mthp.split_deferred", METRIC_INVARIANT, 0, "split_deferred", AGG_MEDIAN },
	{ "dontneed.mthp.split_deferred", METRIC_INVARIANT, 0, NULL, AGG_MEDIAN },
	{ "munmap.perf.tlb_flush", METRIC_INFO, 0, "tlb_flush", AGG_MEDIAN },
	{ "munmap.check.pages_left_mapped", METRIC_INVARIANT, 0, NULL, AGG_MAX },
	{ "dontneed.check.pages_left_mapped", METRIC_INVARIANT, 0, NULL, AGG_MAX },
	RMAP_CHECK_METRICS,
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double split = r->get(r, "munmap.mthp.split_deferred");
	double checked = r->get(r, "kernel.rmap_unmap_checked"), below = r->get(r, "kernel.unmap_ref_below_mapcount");
	int n;

	if (isnan(split))
		return;
	n = snprintf(buf, cap, "mTHP zapped %s (munmap split_deferred +%.0f)",
		     split > 0 ? "PTE by PTE" : "in batches, whole folios", split);
	if (!isnan(checked) && !isnan(below) && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - n, "; %s: %.0f of %.0f large-folio unmaps found refcount < mapcount",
			 below > 0 ? "SEED 003's RULE BROKEN" : "seed 003's rule held", below, checked);
}

static const char *judge(const struct claim_view *v, char *ev, size_t cap)
{
	struct verdict_view t;
	double s0 = v->base->get(v->base, "munmap.mthp.split_deferred");
	double s1 = v->new->get(v->new, "munmap.mthp.split_deferred");

	v->compare(v, "munmap.time.wall", &t);
	snprintf(ev, cap, "munmap of the mTHP region: %s %.2f -> %s %.2f %s, %.2fx less (95%% CI of new/base "
		 "[%.3f, %.3f], %s); split_deferred %.0f -> %.0f", v->base->variant, t.base, v->new->variant, t.new,
		 t.unit, t.base / t.new, t.lo, t.hi, t.verdict, s0, s1);
	return !strcmp(t.verdict, "faster") && s1 == 0 && s0 > 0 ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "batched zap of anonymous mTHP PTEs: munmap faster, no folio left for deferred split", "7.3-no-zap-batch",
	  "7.3", judge, "no figure in the seed (seed 003 is the review of the series: the hazard of references "
	  "dropped before the mapcount)" },
	{ NULL }
};

const struct bench_info bench_zap_mthp = {
	.name = "zap_mthp",
	.version = 2,	/* 2: the GUP probes moved to zap_gup_race (the test-only rmap counters change no figure) */
	.timing = "munmap.time.wall",
	.metrics = metrics,
	.finding = finding,
	.claims = claims,
	.params = "region-mb,mthp-kb",
	.help = "time munmap and MADV_DONTNEED of an mTHP region",
	.vmstat = counters,
	.uses_mthp = 1,
	.setup = setup,
	.run = run,
};
