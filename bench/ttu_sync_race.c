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
#include <stdio.h>
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

/* What became of the folios of one round. */
struct outcome {
	unsigned long partial, split, reclaimed, kept;
};

/* Classify each folio-sized range by the pagemap and, for the pages still
 * mapped, /proc/kpageflags: a large folio with some of its pages mapped is
 * partial; a range whose mapped pages are no longer part of a large folio
 * was split (which can happen in MADV_PAGEOUT itself, before reclaim), and
 * is not a partially mapped large folio. */
static int classify(char *p, size_t len, struct outcome *o)
{
	size_t pages = len / 4096, per = race.folio / 4096;
	uint64_t *pm = malloc(pages * sizeof(*pm));

	if (!pm || pagemap_read(p, pages, pm)) {
		free(pm);
		return -1;
	}
	for (size_t f = 0; f < pages / per; f++) {
		size_t present = 0, small = 0;

		for (size_t i = 0; i < per; i++) {
			uint64_t e = pm[f * per + i], flags;

			if (!(e & PM_PRESENT))
				continue;
			present++;
			if (kpageflags(PM_PFN(e), &flags)) {
				free(pm);
				return -1;
			}
			small += !(flags & (1ULL << KPF_COMPOUND_HEAD | 1ULL << KPF_COMPOUND_TAIL));
		}
		if (!present)
			o->reclaimed++;
		else if (small)
			o->split++;
		else if (present < per)
			o->partial++;
		else
			o->kept++;
	}
	free(pm);
	return 0;
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.race_region_kb << 10;
	unsigned long folios = 0, toggles0 = race.toggles;
	struct outcome o = { 0 };
	int ret = BENCH_OK;

	/* Counters over the whole repetition; the clocks (and, in a counting
	 * repetition, perf events) only around each MADV_PAGEOUT. */
	window_open(ctx);
	for (unsigned long round = 0; round < params.race_iterations && !ret; round++) {
		struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
		unsigned long seen;
		int err = 0;
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
		measure_begin(ctx);
		if (madvise(p, len, MADV_PAGEOUT))
			err = errno;
		measure_end(ctx);
		race.go = 0;
		while (race.busy)
			sched_yield();
		if (err)
			ret = bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
		else if (classify(p, len, &o))
			ret = bench_skip(ctx, "/proc/self/pagemap or /proc/kpageflags unreadable "
					 "(root and CONFIG_PROC_PAGE_MONITOR needed)");
		folios += race.nfolios;
		munmap(p, len);
	}
	window_close(ctx);
	if (ret)
		return ret;
	metric(ctx, "race.folios", (double)folios, "folios");
	metric(ctx, "race.partial", (double)o.partial, "folios");
	metric(ctx, "race.split", (double)o.split, "folios");
	metric(ctx, "race.reclaimed", (double)o.reclaimed, "folios");
	metric(ctx, "race.kept", (double)o.kept, "folios");
	metric(ctx, "race.toggles", (double)(race.toggles - toggles0), "count");
	if (!o.reclaimed)
		return bench_skip(ctx, "MADV_PAGEOUT reclaimed none of %lu folios: no race to see",
				  folios);
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
	{ "mthp.nr_anon_partially_mapped", METRIC_INFO, 0, "nr_partially_mapped", AGG_SUM },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double k = r->get(r, "race.partial"), n = r->get(r, "race.folios"), split = r->get(r, "race.split");

	if (isnan(k) || !(n > 0))
		return;
	if (k)
		snprintf(buf, cap, "race REPRODUCED: %.0f of %.0f large folios left partially mapped "
			 "(%.0f ppm); %.0f split before reclaim", k, n, 1e6 * k / n, split);
	else
		snprintf(buf, cap, "race not reproduced: 0 of %.0f large folios partially mapped (rate below "
			 "%.0f ppm at 95%%; not a proof of absence); %.0f split before reclaim", n,
			 1e6 * (1 - pow(0.05, 1 / n)), split);
}

static const char *judge(const struct claim_view *v, char *ev, size_t cap)
{
	struct verdict_view t;
	double k0 = v->base->get(v->base, "race.partial"), n0 = v->base->get(v->base, "race.folios");

	v->compare(v, "race.partial", &t);
	snprintf(ev, cap, "%s: %.0f of %.0f large folios partially mapped; %s (without TTU_SYNC): %.0f of %.0f; "
		 "exact test p = %.2g (%s)", v->new->variant, t.new, v->new->get(v->new, "race.folios"),
		 v->base->variant, k0, n0, t.p, t.verdict);
	return t.new == 0 && t.p < 0.01 ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "no large folio left partially mapped with TTU_SYNC", "7.3-no-ttu-sync", "7.3", judge },
	{ NULL }
};

const struct bench_info bench_ttu_sync_race = {
	.name = "ttu_sync_race",
	.version = 2,
	.params = "mthp-kb,race-iterations,race-region-kb",
	.help = "reclaim lazyfree mTHP while a thread write-protects first PTEs; count partially mapped folios",
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
