/* lazyfree_mthp: reclaim of lazyfree mTHP folios (MADV_FREE, then timed
 * MADV_PAGEOUT).  With batched unmap of lazyfree large folios the folios
 * are unmapped whole and never queued for deferred split. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

static const char *const counters[] = {
	"pglazyfree", "pglazyfreed", "thp_split_pmd", "thp_deferred_split_page", "pgsteal_anon",
	"pgscan_anon", "pswpout", NULL
};

static int setup(struct bench_ctx *ctx)
{
	return thp_only_size(ctx, params.mthp_kb, "madvise");
}

/* Fault in a region of mTHP folios and mark it lazyfree; checks that the
 * kernel gave every folio at the asked size.  Shared with ttu_sync_race. */
int lazyfree_region(struct bench_ctx *ctx, char **out, size_t len)
{
	size_t folio = params.mthp_kb << 10, want = len / folio;
	uint64_t a0, a1, f0, f1;
	char *p = map_aligned(len, folio);
	long whole;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	if (mthp_stat(ctx, "anon_fault_alloc", &a0))
		return bench_skip(ctx, "no %s/stats/anon_fault_alloc", ctx->mthp_dir);
	madvise(p, len, MADV_HUGEPAGE);	/* the size is enabled for madvise only */
	touch_pages(p, len, 1);
	mthp_stat(ctx, "anon_fault_alloc", &a1);
	whole = whole_folios(p, len, folio);
	/* The counter is global, the pagemap is ours: trust it when we can. */
	if (whole >= 0 ? (size_t)whole != want : a1 - a0 < want) {
		munmap(p, len);
		return bench_skip(ctx, "kernel gave %ld of %zu %lu kB folios at fault (%llu allocated)",
				  whole, want, params.mthp_kb, (unsigned long long)(a1 - a0));
	}
	vmstat("pglazyfree", &f0);
	if (madvise(p, len, MADV_FREE)) {
		munmap(p, len);
		return bench_skip(ctx, "madvise(MADV_FREE): %s", strerror(errno));
	}
	vmstat("pglazyfree", &f1);
	if (f1 - f0 < len / 4096) {
		munmap(p, len);
		return bench_skip(ctx, "MADV_FREE made %llu of %zu pages lazyfree",
				  (unsigned long long)(f1 - f0), len / 4096);
	}
	*out = p;
	return BENCH_OK;
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.region_mb << 20;
	char *p;
	int ret = lazyfree_region(ctx, &p, len), err = 0;

	if (ret)
		return ret;
	window_begin(ctx);
	if (madvise(p, len, MADV_PAGEOUT))
		err = errno;
	window_end(ctx);
	munmap(p, len);
	if (err)
		return bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
	metric(ctx, "setup.folios", (double)(len / (params.mthp_kb << 10)), "folios");
	metric(ctx, "setup.pages", (double)(len / 4096), "pages");
	return BENCH_OK;
}

const struct bench_info bench_lazyfree_mthp = {
	.name = "lazyfree_mthp",
	.version = 1,
	.params = "region-mb,mthp-kb",
	.help = "MADV_FREE an mTHP region, time MADV_PAGEOUT of it",
	.vmstat = counters,
	.uses_mthp = 1,
	.setup = setup,
	.run = run,
};
