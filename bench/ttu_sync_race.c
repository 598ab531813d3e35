/* ttu_sync_race: lazyfree mTHP folios are reclaimed while another thread
 * write-protects and unprotects the first PTE of each folio through
 * userfaultfd.  That is a break-before-make of one PTE under the page table
 * lock and the mmap read lock, so it runs during MADV_PAGEOUT (mprotect
 * cannot: it waits for the mmap write lock) and it does not split the VMA.
 * Without TTU_SYNC, try_to_unmap_one() may see that PTE as none, skip it
 * and unmap the rest: the folio is left partially mapped.  The pagemap
 * tells, folio by folio, how many of its pages are still mapped. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *const counters[] = {
	"pglazyfree", "pglazyfreed", "thp_deferred_split_page", "pgsteal_anon", NULL
};

static struct race {
	int uffd;
	pthread_t racer;
	char *_Atomic base;
	size_t nfolios, folio;
	atomic_int go, busy, quit;
	atomic_ulong toggles;
} race = { .uffd = -1 };

static int wp(char *addr, size_t len, int on)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (unsigned long)addr, .len = len },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
	};
	return ioctl(race.uffd, UFFDIO_WRITEPROTECT, &w);
}

static void *racer(void *arg)
{
	(void)arg;
	while (!race.quit) {
		race.busy = 1;
		if (!race.go) {
			race.busy = 0;
			sched_yield();
			continue;
		}
		for (size_t i = 0; race.go && i < race.nfolios; i++) {
			char *first = race.base + i * race.folio;

			wp(first, 4096, 1);
			wp(first, 4096, 0);
			race.toggles++;
		}
	}
	race.busy = 0;
	return NULL;
}

static int setup(struct bench_ctx *ctx)
{
	struct uffdio_api api = { .api = UFFD_API };
	int ret = thp_only_size(ctx, params.mthp_kb, "madvise");

	if (ret)
		return ret;
	race.uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (race.uffd < 0)
		return bench_skip(ctx, "userfaultfd: %s (kernel without CONFIG_USERFAULTFD)",
				  strerror(errno));
	if (ioctl(race.uffd, UFFDIO_API, &api))
		return bench_skip(ctx, "UFFDIO_API: %s", strerror(errno));
	if (access("/proc/self/pagemap", R_OK))
		return bench_skip(ctx, "/proc/self/pagemap: %s (CONFIG_PROC_PAGE_MONITOR)",
				  strerror(errno));
	race.folio = params.mthp_kb << 10;
	race.nfolios = (params.race_region_kb << 10) / race.folio;
	if (pthread_create(&race.racer, NULL, racer, NULL))
		return bench_fail(ctx, "pthread_create failed");
	return BENCH_OK;
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	if (race.folio) {
		race.quit = 1;
		pthread_join(race.racer, NULL);
	}
}

/* Classify each folio by how many of its pages the pagemap shows present. */
static int count_mapped(char *p, size_t len, unsigned long *partial, unsigned long *none)
{
	size_t pages = len / 4096, per = race.folio / 4096;
	uint64_t *pm = malloc(pages * sizeof(*pm));

	if (!pm || pagemap_read(p, pages, pm)) {
		free(pm);
		return -1;
	}
	for (size_t f = 0; f < pages / per; f++) {
		size_t present = 0;

		for (size_t i = 0; i < per; i++)
			present += pm[f * per + i] >> 63;
		*partial += present && present < per;
		*none += !present;
	}
	free(pm);
	return 0;
}

/* Upper end of the 95% interval of a rate of k in n: exact for k == 0,
 * Wilson's score interval otherwise. */
static double upper95(unsigned long k, unsigned long n)
{
	double z = 1.959964, p = (double)k / n;

	if (!k)
		return 1 - pow(0.05, 1.0 / n);
	return (p + z * z / (2 * n) + z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n))) /
	       (1 + z * z / n);
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.race_region_kb << 10;
	unsigned long partial = 0, none = 0, folios = 0, toggles0 = race.toggles;
	uint64_t pageout_ns = 0;
	int ret = BENCH_OK;

	window_begin(ctx);
	for (unsigned long round = 0; round < params.race_iterations && !ret; round++) {
		struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
		unsigned long seen;
		uint64_t t0;
		char *p;

		ret = lazyfree_region(ctx, &p, len);
		if (ret)
			break;
		reg.range.start = (unsigned long)p;
		reg.range.len = len;
		if (ioctl(race.uffd, UFFDIO_REGISTER, &reg)) {
			ret = bench_skip(ctx, "UFFDIO_REGISTER write-protect: %s (no uffd-wp for anon)",
					 strerror(errno));
			munmap(p, len);
			break;
		}
		race.base = p;
		seen = race.toggles;
		race.go = 1;
		while (race.toggles == seen)	/* the racer is running */
			sched_yield();
		t0 = now_ns(CLOCK_MONOTONIC);
		if (madvise(p, len, MADV_PAGEOUT))
			ret = bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(errno));
		pageout_ns += now_ns(CLOCK_MONOTONIC) - t0;
		race.go = 0;
		while (race.busy)
			sched_yield();
		if (!ret && count_mapped(p, len, &partial, &none))
			ret = bench_fail(ctx, "read of /proc/self/pagemap failed");
		folios += race.nfolios;
		munmap(p, len);
	}
	window_end(ctx);
	if (ret)
		return ret;
	metric(ctx, "race.folios", (double)folios, "folios");
	metric(ctx, "race.partial", (double)partial, "folios");
	metric(ctx, "race.reclaimed", (double)none, "folios");
	metric(ctx, "race.toggles", (double)(race.toggles - toggles0), "count");
	metric(ctx, "race.partial_ppm", 1e6 * partial / folios, "ppm");
	metric(ctx, "race.partial_upper95_ppm", 1e6 * upper95(partial, folios), "ppm");
	metric(ctx, "time.pageout_sum", (double)pageout_ns, "ns");
	if (!none)
		return bench_skip(ctx, "MADV_PAGEOUT reclaimed none of %lu folios: no race to see",
				  folios);
	return BENCH_OK;
}

const struct bench_info bench_ttu_sync_race = {
	.name = "ttu_sync_race",
	.version = 1,
	.params = "mthp-kb,race-iterations,race-region-kb",
	.help = "reclaim lazyfree mTHP while a thread write-protects first PTEs; count partial maps",
	.vmstat = counters,
	.uses_mthp = 1,
	.parallel = 1,
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
