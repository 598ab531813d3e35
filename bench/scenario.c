/* Scenario pieces shared by benchmarks: the helpers' setup steps (THP
 * sizes, swap, a memory cgroup, two CPUs) with a failure turned into a
 * SKIP or FAIL with its reason, and the regions of large folios the
 * benchmarks fault in, each step proven. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

int thp_only_size(struct bench_ctx *ctx, unsigned long kb, const char *mode)
{
	struct why w;

	return bench_why(ctx, thp_only_size_set(kb, mode, ctx->mthp_dir, sizeof(ctx->mthp_dir), &w), &w);
}

int swap_zram_on(struct bench_ctx *ctx, unsigned long mb)
{
	struct why w;

	return bench_why(ctx, swap_on(mb, &w), &w);
}

int memcg_enter(struct bench_ctx *ctx, const char *name, char *dir, size_t cap)
{
	struct why w;

	return bench_why(ctx, memcg_join(name, dir, cap, &w), &w);
}

int two_cpus(struct bench_ctx *ctx, cpu_set_t *saved, int cpu[2])
{
	int n = cpus_first(saved, cpu, 2);

	if (n < 0)
		return bench_fail(ctx, "sched_getaffinity: %s", strerror(errno));
	if (n < 2)
		return bench_skip(ctx, "%d CPU usable: the race needs two running at once "
				  "(boot with --guest-cpus 2 or more)", n);
	return BENCH_OK;
}

/* Fault in len bytes of PMD-mapped THPs and make them lazyfree, proving
 * each step; a kernel that cannot is a SKIP with what it did instead.
 * Shared by pmd_lazyfree and pmd_redirty. */
int lazyfree_pmd_region(struct bench_ctx *ctx, char *p, size_t len)
{
	size_t thps = len / PMD_SIZE;
	uint64_t f0, f1;
	long long huge_kb;
	long whole;

	madvise(p, len, MADV_HUGEPAGE);	/* PMD size is enabled for madvise only */
	touch_pages(p, len, 1);
	whole = whole_folios(p, len, PMD_SIZE);
	if (whole < 0)
		return bench_skip(ctx, "cannot read /proc/self/pagemap PFNs (root and "
				  "CONFIG_PROC_PAGE_MONITOR needed)");
	if ((size_t)whole != thps)
		return bench_skip(ctx, "kernel gave %ld of %zu 2 MiB THPs at fault", whole, thps);
	huge_kb = mapping_kb(p, len, "AnonHugePages");
	if (huge_kb != (long long)(len >> 10))
		return bench_skip(ctx, "smaps AnonHugePages of the mapping is %lld kB, not %zu kB: "
				  "the THPs are not all PMD-mapped", huge_kb, len >> 10);
	if (vmstat("pglazyfree", &f0))
		return bench_skip(ctx, "no pglazyfree in /proc/vmstat");
	if (madvise(p, len, MADV_FREE))
		return bench_skip(ctx, "madvise(MADV_FREE): %s", strerror(errno));
	vmstat("pglazyfree", &f1);
	if (f1 - f0 < len / 4096)
		return bench_skip(ctx, "MADV_FREE made %llu of %zu pages lazyfree",
				  (unsigned long long)(f1 - f0), len / 4096);
	/* MADV_FREE of a whole PMD-mapped THP must leave it PMD-mapped. */
	huge_kb = mapping_kb(p, len, "AnonHugePages");
	if (huge_kb != (long long)(len >> 10))
		return bench_skip(ctx, "after MADV_FREE smaps AnonHugePages is %lld of %zu kB",
				  huge_kb, len >> 10);
	metric(ctx, "setup.pglazyfree", (double)(f1 - f0), "pages");
	return BENCH_OK;
}

/* Fault in len bytes of params.mthp_kb folios holding val; checks that
 * the kernel gave every folio at that size (else a SKIP).  Shared by
 * lazyfree_region, memcg_region and the mTHP benchmarks. */
int mthp_fault_region(struct bench_ctx *ctx, size_t len, char val, char **out)
{
	size_t folio = params.mthp_kb << 10, want = len / folio;
	char *p = map_aligned(len, folio);
	uint64_t a0, a1;
	long whole;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	if (mthp_stat(ctx->mthp_dir, "anon_fault_alloc", &a0)) {
		munmap(p, len);
		return bench_skip(ctx, "no %s/stats/anon_fault_alloc", ctx->mthp_dir);
	}
	madvise(p, len, MADV_HUGEPAGE);	/* the size is enabled for madvise only */
	touch_pages(p, len, val);
	mthp_stat(ctx->mthp_dir, "anon_fault_alloc", &a1);
	whole = whole_folios(p, len, folio);
	if (whole >= 0 ? (size_t)whole != want : a1 - a0 < want) {
		munmap(p, len);
		return bench_skip(ctx, "kernel gave %ld of %zu %lu kB folios at fault (%llu allocated)",
				  whole, want, params.mthp_kb, (unsigned long long)(a1 - a0));
	}
	*out = p;
	return BENCH_OK;
}

/* Fault in a region of mTHP folios and mark it lazyfree; checks that the
 * kernel gave every folio at the asked size.  Shared by
 * lazyfree_mthp, lazyfree_ref and ttu_sync_race. */
int lazyfree_region(struct bench_ctx *ctx, char **out, size_t len)
{
	uint64_t f0, f1;
	char *p;
	int ret = mthp_fault_region(ctx, len, 1, &p);

	if (ret)
		return ret;
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

/* Dirty anonymous params.mthp_kb folios of len bytes, faulted in inside
 * the cgroup at dir: each folio proven whole at its size, each page given
 * its own first word (so zram stores it compressed, not as a page filled
 * with one byte), and the cgroup's anon charge proven to hold them all. */
int memcg_region(struct bench_ctx *ctx, const char *dir, size_t len, char **out)
{
	uint64_t anon0, anon1;
	char *p;
	int ret;

	if (memcg_stat(dir, "anon", &anon0))
		return bench_skip(ctx, "no 'anon' in '%s/memory.stat'", dir);
	ret = mthp_fault_region(ctx, len, 1, &p);
	if (ret)
		return ret;
	touch_pages_distinct(p, len);
	if (memcg_stat(dir, "anon", &anon1) || anon1 - anon0 < len) {
		munmap(p, len);
		return bench_skip(ctx, "the cgroup's anon grew by %llu bytes for a %zu byte region: "
				  "not charged here", (unsigned long long)(anon1 - anon0), len);
	}
	*out = p;
	return BENCH_OK;
}

#define RMAP_CHECK_PARAM "/sys/module/rmap/parameters/"

static long long rmap_check_param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), RMAP_CHECK_PARAM "%s", name);
	return read_count(path);
}

void rmap_check_read(struct rmap_check *c)
{
	c->checked = rmap_check_param("unmap_checked");
	c->unmap_below = rmap_check_param("unmap_ref_below_mapcount");
	c->reuse_below = rmap_check_param("reuse_ref_below_mapcount");
}

void rmap_check_metrics(struct bench_ctx *ctx, const struct rmap_check *b, const struct rmap_check *a)
{
	if (b->checked < 0 || b->unmap_below < 0 || b->reuse_below < 0 || a->checked < 0 ||
	    a->unmap_below < 0 || a->reuse_below < 0)
		return;
	metric(ctx, "kernel.rmap_unmap_checked", (double)(a->checked - b->checked), "count");
	metric(ctx, "kernel.unmap_ref_below_mapcount", (double)(a->unmap_below - b->unmap_below), "count");
	metric(ctx, "kernel.reuse_ref_below_mapcount", (double)(a->reuse_below - b->reuse_below), "count");
}
