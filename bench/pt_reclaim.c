/* pt_reclaim: one page touched in every 2 MiB of a large region fills a
 * page table each; MADV_DONTNEED of the region is timed and VmPTE read
 * before and after.  With PT reclaim the empty PTE tables are freed. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#define PMD_SIZE (2UL << 20)

static const char *const counters[] = { "nr_page_table_pages", NULL };

static int setup(struct bench_ctx *ctx)
{
	if (status_kb("VmPTE") < 0)
		return bench_skip(ctx, "no VmPTE in /proc/self/status");
	return BENCH_OK;
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.pt_region_mb << 20, tables = len / PMD_SIZE;
	long long pte0, pte1;
	char *p = map_aligned(len, PMD_SIZE);
	int err = 0;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	/* 4 KiB pages only: a THP would fill 2 MiB instead of one PTE table. */
	if (madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL) {
		munmap(p, len);
		return bench_fail(ctx, "madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	}
	pte0 = status_kb("VmPTE");
	for (size_t off = 0; off < len; off += PMD_SIZE)
		p[off] = 1;
	pte1 = status_kb("VmPTE");
	if (pte1 - pte0 < (long long)tables * 4) {
		munmap(p, len);
		return bench_skip(ctx, "VmPTE grew by %lld kB for %zu page tables (want %zu kB)",
				  pte1 - pte0, tables, tables * 4);
	}
	window_begin(ctx);
	if (madvise(p, len, MADV_DONTNEED))
		err = errno;
	window_end(ctx);
	munmap(p, len);
	if (err)
		return bench_skip(ctx, "madvise(MADV_DONTNEED): %s", strerror(err));
	metric(ctx, "setup.page_tables", (double)tables, "tables");
	return BENCH_OK;
}

const struct bench_info bench_pt_reclaim = {
	.name = "pt_reclaim",
	.version = 1,
	.params = "pt-region-mb",
	.help = "touch one page per 2 MiB, time MADV_DONTNEED, VmPTE before and after",
	.vmstat = counters,
	.setup = setup,
	.run = run,
};
