/* The racer of ttu_sync_race and swap_ttu_race: another thread, on
 * another CPU, rewrites the first PTE of the folio being reclaimed through
 * userfaultfd, over and over.  UFFDIO_WRITEPROTECT without the
 * write-protect mode, on a PTE that is not write-protected, runs
 * change_protection() on it: under the page table lock (and only the mmap
 * read lock, so it runs during MADV_PAGEOUT, which mprotect cannot) the
 * PTE is cleared by ptep_modify_prot_start() and written back unchanged by
 * ptep_modify_prot_commit() -- a break-before-make that leaves nothing
 * behind: no TLB flush, no uffd-wp bit (which would break the folio's PTE
 * batch in MADV_PAGEOUT and split it).  The main thread hands the racer
 * each folio's address before it pages the folio out; the two threads are
 * pinned to two CPUs so that they really run at once. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

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
 * NULL, until it has stopped touching the region). */
void race_target(char *t)
{
	pthread_mutex_lock(&race.lock);
	race.target = t;
	pthread_cond_signal(&race.wake);
	pthread_mutex_unlock(&race.lock);
	while (race.ack != t)
		sched_yield();
}

/* The userfaultfd and the racer thread, the two threads pinned to two
 * CPUs; a SKIP with the reason when the kernel or the guest cannot. */
int race_start(struct bench_ctx *ctx)
{
	struct uffdio_api api = { .api = UFFD_API };
	int cpu[2], ret;

	race.uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (race.uffd < 0)
		return bench_skip(ctx, "userfaultfd: %s (kernel without CONFIG_USERFAULTFD)",
				  strerror(errno));
	if (ioctl(race.uffd, UFFDIO_API, &api))
		return bench_skip(ctx, "UFFDIO_API: %s", strerror(errno));
	if (access("/proc/self/pagemap", R_OK))
		return bench_skip(ctx, "/proc/self/pagemap: %s (CONFIG_PROC_PAGE_MONITOR)",
				  strerror(errno));
	ret = two_cpus(ctx, &race.saved, cpu);
	race.saved_ok = ret != BENCH_FAIL;	/* a SKIP for one CPU has it too */
	if (ret)
		return ret;
	if (pthread_create(&race.racer, NULL, racer, NULL))
		return bench_fail(ctx, "pthread_create failed");
	race.started = 1;
	if (thread_pin(pthread_self(), cpu[0]) || thread_pin(race.racer, cpu[1]))
		return bench_fail(ctx, "pthread_setaffinity_np to CPUs %d and %d failed", cpu[0], cpu[1]);
	return BENCH_OK;
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

unsigned long race_rewrites(void)
{
	return race.rewrites;
}

/* What became of one folio, by its PTEs.  A range whose present pages
 * are no longer part of a large folio was split (which can happen in
 * MADV_PAGEOUT itself, before reclaim) and is not a partially mapped large
 * folio.  Reclaim drops a lazyfree folio's PTEs and leaves swap entries
 * for a swap-backed one, so "partial" is some PTEs present and the others
 * none, or some present and the others swap entries. */
static void tally(const struct folio_ptes *f, size_t per, int swap_backed, struct race_outcome *o)
{
	if (!swap_backed) {
		if (!f->present)
			o->reclaimed++;
		else if (f->small)
			o->split++;
		else if (f->present < per)
			o->partial++;
		else
			o->kept++;
	} else if (f->swap == per) {
		o->swapped++;
	} else if (f->present == per && !f->small) {
		o->kept++;
	} else if (f->small) {
		o->split++;
	} else if (f->present && f->swap && f->present + f->swap == per) {
		o->partial++;
	} else {
		o->other++;
	}
}

static int classify(char *p, size_t len, size_t folio, int swap_backed, struct race_outcome *o)
{
	size_t n = len / folio;
	struct folio_ptes *f = malloc(n * sizeof(*f));
	int ret = f ? folio_ptes_read(p, len, folio, f) : -1;

	for (size_t i = 0; i < n && !ret; i++)
		tally(&f[i], folio / 4096, swap_backed, o);
	free(f);
	return ret;
}

int race_pageout(struct bench_ctx *ctx, char *p, size_t len, int swap_backed, struct race_outcome *o)
{
	size_t folio = params.mthp_kb << 10;
	uint64_t pm0, pm1;
	int err = 0;

	if (mthp_stat(ctx->mthp_dir, "nr_anon_partially_mapped", &pm0))
		o->kernel_partial = -1;
	for (size_t off = 0; off < len && !err; off += folio) {
		race_target(p + off);
		measure_begin(ctx);
		if (madvise(p + off, folio, MADV_PAGEOUT))
			err = errno;
		measure_end(ctx);
	}
	race_target(NULL);
	/* Read before munmap frees the folios. */
	if (o->kernel_partial >= 0 && !mthp_stat(ctx->mthp_dir, "nr_anon_partially_mapped", &pm1))
		o->kernel_partial += (long long)(pm1 - pm0);
	else
		o->kernel_partial = -1;
	o->folios += len / folio;
	if (err)
		return bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
	if (classify(p, len, folio, swap_backed, o))
		return bench_skip(ctx, "/proc/self/pagemap or /proc/kpageflags unreadable "
				  "(root and CONFIG_PROC_PAGE_MONITOR needed)");
	return BENCH_OK;
}

void race_outcome_metrics(struct bench_ctx *ctx, const struct race_outcome *o)
{
	metric(ctx, "race.folios", (double)o->folios, "folios");
	metric(ctx, "race.partial", (double)o->partial, "folios");
	metric(ctx, "race.split", (double)o->split, "folios");
	if (o->kernel_partial >= 0)
		metric(ctx, "race.kernel_partial", (double)o->kernel_partial, "folios");
	else
		metric_unsupported(ctx, "race.kernel_partial", "folios", "no nr_anon_partially_mapped mTHP stat");
}

/* The claim of both benchmarks, whose race.partial counts the same way. */
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
