/* pmd_redirty: PMD-mapped THPs are made lazyfree, every page is written
 * again, then MADV_PAGEOUT is timed.  A redirtied lazyfree THP must not be
 * discarded (its new data would be lost); with the skip patch it is left
 * whole instead of being split. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define PMD_SIZE (2UL << 20)

static const char *const counters[] = {
	"thp_split_pmd", "thp_split_page", "thp_deferred_split_page", "pglazyfree",
	"pglazyfreed", "pswpout", "thp_swpout", NULL
};

static int setup(struct bench_ctx *ctx)
{
	return thp_only_size(ctx, PMD_SIZE >> 10, "madvise");
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.region_mb << 20, lost = 0;
	uint64_t t0, t1;
	char *p = map_aligned(len, PMD_SIZE);
	long whole;
	int err = 0;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	madvise(p, len, MADV_HUGEPAGE);	/* PMD size is enabled for madvise only */
	if (vmstat("thp_fault_alloc", &t0))
		return bench_skip(ctx, "no thp_fault_alloc in /proc/vmstat");
	touch_pages(p, len, 1);
	vmstat("thp_fault_alloc", &t1);
	whole = whole_folios(p, len, PMD_SIZE);
	if (whole >= 0 ? (size_t)whole != len / PMD_SIZE : t1 - t0 < len / PMD_SIZE) {
		munmap(p, len);
		return bench_skip(ctx, "kernel gave %ld of %zu PMD THPs at fault (%llu allocated)",
				  whole, len / PMD_SIZE, (unsigned long long)(t1 - t0));
	}
	if (madvise(p, len, MADV_FREE)) {
		munmap(p, len);
		return bench_skip(ctx, "madvise(MADV_FREE): %s", strerror(errno));
	}
	touch_pages(p, len, 2);	/* redirty every page */
	window_begin(ctx);
	if (madvise(p, len, MADV_PAGEOUT))
		err = errno;
	window_end(ctx);
	for (size_t off = 0; off < len; off += 4096)
		lost += p[off] != 2;
	munmap(p, len);
	if (err)
		return bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
	metric(ctx, "setup.thps", (double)(len / PMD_SIZE), "folios");
	/* An invariant, not a speed: redirtied data must survive reclaim. */
	metric(ctx, "check.lost_pages", (double)lost, "pages");
	return BENCH_OK;
}

const struct bench_info bench_pmd_redirty = {
	.name = "pmd_redirty",
	.version = 1,
	.params = "region-mb",
	.help = "MADV_FREE PMD THPs, write them again, time MADV_PAGEOUT",
	.vmstat = counters,
	.setup = setup,
	.run = run,
};
