/* ttu_sync_race: lazyfree mTHP folios are reclaimed one at a time while
 * another thread, on another CPU, rewrites the first PTE of the folio
 * being reclaimed through userfaultfd, over and over.  UFFDIO_WRITEPROTECT
 * without the write-protect mode, on a PTE that is not write-protected,
 * runs change_protection() on it: under the page table lock (and only the
 * mmap read lock, so it runs during MADV_PAGEOUT, which mprotect cannot)
 * the PTE is cleared by ptep_modify_prot_start() and written back unchanged
 * by ptep_modify_prot_commit() -- a break-before-make that leaves nothing
 * behind: no TLB flush, no uffd-wp bit (which would break the folio's PTE
 * batch in MADV_PAGEOUT and split it).  Without TTU_SYNC,
 * try_to_unmap_one() looks at that first PTE without the lock, may see it
 * none, skip it and unmap the rest: the folio is left partially mapped.
 *
 * Only the first PTE's state at that one lockless read matters, so the
 * racer works on the folio being reclaimed and nothing else: the main
 * thread pages out one folio per MADV_PAGEOUT call and hands its address
 * to the racer first.  Two threads pinned to two CPUs make sure the two
 * really run at once.  The pagemap and /proc/kpageflags tell afterwards,
 * folio by folio, what became of it. */
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
	int started;
	pthread_t racer;
	cpu_set_t saved;		/* the main thread's affinity before setup */
	int saved_ok;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	char *_Atomic target;		/* first page of the folio to race on, or NULL */
	char *_Atomic ack;		/* the target the racer last worked on */
	atomic_int quit;
	atomic_ulong rewrites;
	size_t nfolios, folio;
} race = { .uffd = -1, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

/* Break and remake the PTE of one page: see the comment at the top. */
static int pte_rewrite(char *addr)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (unsigned long)addr, .len = 4096 },
		.mode = UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
	};
	return ioctl(race.uffd, UFFDIO_WRITEPROTECT, &w);
}

static void *racer(void *arg)
{
	(void)arg;
	while (!race.quit) {
		char *t = race.target;

		if (!t) {
			/* Idle between rounds: sleep rather than spin. */
			pthread_mutex_lock(&race.lock);
			race.ack = NULL;
			while (!race.target && !race.quit)
				pthread_cond_wait(&race.wake, &race.lock);
			pthread_mutex_unlock(&race.lock);
			continue;
		}
		pte_rewrite(t);
		race.rewrites++;
		race.ack = t;
	}
	return NULL;
}

/* Hand the racer a new target and wait until it has worked on it (or, for
 * NULL, until it has stopped touching the region).  Shared with
 * swap_ttu_race, as are race_start, race_register and race_stop. */
void race_target(char *t)
{
	pthread_mutex_lock(&race.lock);
	race.target = t;
	pthread_cond_signal(&race.wake);
	pthread_mutex_unlock(&race.lock);
	while (race.ack != t)
		sched_yield();
}

static int pin(pthread_t t, int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(t, sizeof(s), &s);
}

/* The userfaultfd and the racer thread, the two threads pinned to two
 * CPUs; a SKIP with the reason when the kernel or the guest cannot. */
int race_start(struct bench_ctx *ctx)
{
	struct uffdio_api api = { .api = UFFD_API };
	int cpu[2], n = 0;

	race.uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (race.uffd < 0)
		return bench_skip(ctx, "userfaultfd: %s (kernel without CONFIG_USERFAULTFD)",
				  strerror(errno));
	if (ioctl(race.uffd, UFFDIO_API, &api))
		return bench_skip(ctx, "UFFDIO_API: %s", strerror(errno));
	if (access("/proc/self/pagemap", R_OK))
		return bench_skip(ctx, "/proc/self/pagemap: %s (CONFIG_PROC_PAGE_MONITOR)",
				  strerror(errno));
	if (sched_getaffinity(0, sizeof(race.saved), &race.saved))
		return bench_fail(ctx, "sched_getaffinity: %s", strerror(errno));
	race.saved_ok = 1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &race.saved))
			cpu[n++] = c;
	if (n < 2)
		return bench_skip(ctx, "%d CPU usable: the race needs two running at once "
				  "(boot with --guest-cpus 2 or more)", n);
	race.folio = params.mthp_kb << 10;
	race.nfolios = (params.race_region_kb << 10) / race.folio;
	if (pthread_create(&race.racer, NULL, racer, NULL))
		return bench_fail(ctx, "pthread_create failed");
	race.started = 1;
	if (pin(pthread_self(), cpu[0]) || pin(race.racer, cpu[1]))
		return bench_fail(ctx, "pthread_setaffinity_np to CPUs %d and %d failed", cpu[0], cpu[1]);
	return BENCH_OK;
}

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, params.mthp_kb, "madvise");

	return ret ? ret : race_start(ctx);
}

/* Registers [p, p+len) for write-protect faults, which the racer's
 * rewrites need; a SKIP when the kernel has no uffd-wp for anon memory. */
int race_register(struct bench_ctx *ctx, char *p, size_t len)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };

	reg.range.start = (unsigned long)p;
	reg.range.len = len;
	if (ioctl(race.uffd, UFFDIO_REGISTER, &reg))
		return bench_skip(ctx, "UFFDIO_REGISTER write-protect: %s (no uffd-wp for anon)",
				  strerror(errno));
	return BENCH_OK;
}

void race_stop(void)
{
	if (race.started) {
		pthread_mutex_lock(&race.lock);
		race.quit = 1;
		pthread_cond_signal(&race.wake);
		pthread_mutex_unlock(&race.lock);
		pthread_join(race.racer, NULL);
		race.started = 0;
	}
	if (race.saved_ok)
		sched_setaffinity(0, sizeof(race.saved), &race.saved);
	if (race.uffd >= 0)
		close(race.uffd);
	race.uffd = -1;
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	race_stop();
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

/* nr_anon_partially_mapped of the mTHP size, or -1 without the stat. */
static long long partially_mapped(const struct bench_ctx *ctx)
{
	uint64_t v;

	return mthp_stat(ctx, "nr_anon_partially_mapped", &v) ? -1 : (long long)v;
}

static int run(struct bench_ctx *ctx)
{
	size_t len = params.race_region_kb << 10;
	unsigned long folios = 0, rewrites0 = race.rewrites;
	long long kernel_partial = 0;
	struct outcome o = { 0 };
	int ret = BENCH_OK;

	/* Counters over the whole repetition; the clocks (and, in a counting
	 * repetition, perf events) only around each MADV_PAGEOUT. */
	window_open(ctx);
	for (unsigned long round = 0; round < params.race_iterations && !ret; round++) {
		long long pm0, pm1;
		int err = 0;
		char *p;

		ret = lazyfree_region(ctx, &p, len);
		if (ret)
			break;
		ret = race_register(ctx, p, len);
		if (ret) {
			munmap(p, len);
			break;
		}
		pm0 = partially_mapped(ctx);
		for (size_t f = 0; f < race.nfolios && !err; f++) {
			char *folio = p + f * race.folio;

			race_target(folio);
			measure_begin(ctx);
			if (madvise(folio, race.folio, MADV_PAGEOUT))
				err = errno;
			measure_end(ctx);
		}
		race_target(NULL);
		/* The kernel's own count of partially mapped large folios, read
		 * before munmap frees them: it should move with race.partial. */
		pm1 = partially_mapped(ctx);
		if (pm0 >= 0 && pm1 >= 0 && kernel_partial >= 0)
			kernel_partial += pm1 - pm0;
		else
			kernel_partial = -1;
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
	metric(ctx, "race.rewrites", (double)(race.rewrites - rewrites0), "count");
	if (kernel_partial >= 0)
		metric(ctx, "race.kernel_partial", (double)kernel_partial, "folios");
	else
		metric_unsupported(ctx, "race.kernel_partial", "folios", "no nr_anon_partially_mapped mTHP stat");
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
	/* nr_anon_partially_mapped moved by the pageouts, read before munmap
	 * frees the folios (over the whole repetition it is always 0). */
	{ "race.kernel_partial", METRIC_INFO, 0, "nr_partially_mapped", AGG_SUM },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double k = r->get(r, "race.partial"), n = r->get(r, "race.folios"), split = r->get(r, "race.split");
	double kernel = r->get(r, "race.kernel_partial");
	char counted[64] = "";

	if (isnan(k) || !(n > 0))
		return;
	if (!isnan(kernel))
		snprintf(counted, sizeof(counted), "; the kernel counted %.0f", kernel);
	if (k)
		snprintf(buf, cap, "race REPRODUCED: %.0f of %.0f large folios left partially mapped "
			 "(%.0f ppm%s); %.0f split before reclaim", k, n, 1e6 * k / n, counted, split);
	else
		snprintf(buf, cap, "race not reproduced: 0 of %.0f large folios partially mapped (rate below "
			 "%.0f ppm at 95%%; not a proof of absence); %.0f split before reclaim", n,
			 1e6 * (1 - pow(0.05, 1 / n)), split);
}

/* Shared with swap_ttu_race, whose race.partial counts the same way. */
const char *race_partial_judge(const struct claim_view *v, char *ev, size_t cap)
{
	struct verdict_view t;
	double k0 = v->base->get(v->base, "race.partial"), n0 = v->base->get(v->base, "race.folios");

	v->compare(v, "race.partial", &t);
	snprintf(ev, cap, "%s: %.0f of %.0f large folios partially mapped; %s: %.0f of %.0f; "
		 "exact test p = %.2g (%s)", v->new->variant, t.new, v->new->get(v->new, "race.folios"),
		 v->base->variant, k0, n0, t.p, t.verdict);
	return t.new == 0 && k0 > 0 && t.p < 0.01 ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "no large folio left partially mapped with TTU_SYNC", "7.3-no-ttu-sync", "7.3", race_partial_judge,
	  "no figure: &ldquo;the folio will either be entirely reclaimed or entirely kept&rdquo;, &ldquo;this "
	  "patch makes the number 100%&rdquo; (seed 000, arm64)" },
	{ NULL }
};

const struct bench_info bench_ttu_sync_race = {
	.name = "ttu_sync_race",
	.version = 3,
	.params = "mthp-kb,race-iterations,race-region-kb",
	.help = "reclaim lazyfree mTHP one folio at a time while a thread rewrites its first PTE; count partially mapped folios",
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
