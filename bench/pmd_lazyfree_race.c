/* pmd_lazyfree_race: MADV_PAGEOUT of lazyfree PMD-mapped THPs while a
 * thread on the other CPU zaps, writes and pins them.  The stable change
 * "mm/rmap: don't discard lazyfree THPs at PMD level" (6.12.117) took out
 * the PMD-level discard that 7.3-pmd-discard puts back; whatever stable's
 * reason, a discard of a whole THP must never lose what raced with it.
 * Each repetition makes THPS_PER_ROUND THPs lazyfree (every page holding 1),
 * then, while this thread pages the region out, the other takes THP i:
 * - i % 3 == 0: MADV_DONTNEED of its second half, which must read 0;
 * - i % 3 == 1: writes 3 to every 8th page, which must keep it;
 * - i % 3 == 2: vmsplice of its first page into a pipe (GUP-fast), which
 *   must read what the page held: 1, or 0 if reclaim discarded it first.
 * Every other page may read 1 (kept) or 0 (discarded), never anything
 * else.  Untimed: a probe, counted. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#define THPS_PER_ROUND 12	/* 24 MiB, 4 THPs of each kind */

static const char *const counters[] = {
	"thp_split_pmd", "pglazyfree", "pglazyfreed", "pgactivate", NULL
};

enum { ZAPPED, WRITTEN, PINNED };

static struct {
	cpu_set_t saved;
	int saved_ok, cpu[2];
} race;

struct round {
	char *p;
	int pipe[2];
	atomic_int go, done;
};

struct tally {
	unsigned long zapped_nonzero, written_lost, other_bad, pinned_bad, pinned_discarded, pinned;
};

/* The other CPU's part of a round. */
static void *racer(void *arg)
{
	struct round *r = arg;

	while (!r->go)
		;
	for (int i = 0; i < THPS_PER_ROUND; i++) {
		char *thp = r->p + i * PMD_SIZE;

		if (i % 3 == ZAPPED) {
			madvise(thp + PMD_SIZE / 2, PMD_SIZE / 2, MADV_DONTNEED);
		} else if (i % 3 == WRITTEN) {
			for (size_t off = 0; off < PMD_SIZE; off += 8 * 4096)
				((volatile char *)thp)[off] = 3;
		} else {
			struct iovec iov = { thp, 4096 };

			if (vmsplice(r->pipe[1], &iov, 1, 0) != 4096)
				r->done = -1;
		}
	}
	if (!r->done)
		r->done = 1;
	return NULL;
}

/* What each page holds after the round, by what the racer did to it. */
static void check_round(const struct round *r, struct tally *t)
{
	for (int i = 0; i < THPS_PER_ROUND; i++) {
		const char *thp = r->p + i * PMD_SIZE;

		for (size_t off = 0; off < PMD_SIZE; off += 4096) {
			char c = thp[off];

			if (i % 3 == ZAPPED && off >= PMD_SIZE / 2)
				t->zapped_nonzero += c != 0;
			else if (i % 3 == WRITTEN && off % (8 * 4096) == 0)
				t->written_lost += c != 3;
			else
				t->other_bad += c != 0 && c != 1;
		}
		if (i % 3 == PINNED) {
			char page[4096];

			if (read(r->pipe[0], page, sizeof(page)) != sizeof(page) || (page[0] != 0 && page[0] != 1))
				t->pinned_bad++;
			else
				t->pinned_discarded += page[0] == 0;
			t->pinned++;
		}
	}
}

static int one_round(struct bench_ctx *ctx, struct tally *t)
{
	size_t len = THPS_PER_ROUND * PMD_SIZE;
	struct round r = { .p = map_aligned(len, PMD_SIZE) };
	pthread_t th;
	int ret;

	if (!r.p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	if (pipe2(r.pipe, O_CLOEXEC)) {
		munmap(r.p, len);
		return bench_fail(ctx, "pipe2: %s", strerror(errno));
	}
	ret = lazyfree_pmd_region(ctx, r.p, len);
	if (!ret && pthread_create(&th, NULL, racer, &r))
		ret = bench_fail(ctx, "pthread_create failed");
	if (!ret) {
		thread_pin(th, race.cpu[1]);
		window_begin(ctx);
		r.go = 1;
		madvise(r.p, len, MADV_PAGEOUT);
		window_end(ctx);
		pthread_join(th, NULL);
		if (r.done < 0)
			ret = bench_fail(ctx, "vmsplice of a lazyfree THP's page: %s", strerror(errno));
		else
			check_round(&r, t);
	}
	close(r.pipe[0]), close(r.pipe[1]);
	munmap(r.p, len);
	return ret;
}

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, PMD_SIZE >> 10, "madvise");

	if (ret)
		return ret;
	ret = two_cpus(ctx, &race.saved, race.cpu);
	race.saved_ok = ret != BENCH_FAIL;	/* a SKIP for one CPU has it too */
	if (ret)
		return ret;
	if (thread_pin(pthread_self(), race.cpu[0]))
		return bench_fail(ctx, "pthread_setaffinity_np to CPU %d failed", race.cpu[0]);
	return BENCH_OK;
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	if (race.saved_ok)
		sched_setaffinity(0, sizeof(race.saved), &race.saved);
	race.saved_ok = 0;
}

/* One round a repetition: lazyfree_pmd_region proves (and records) its
 * setup once, and the window holds the MADV_PAGEOUT alone. */
static int run(struct bench_ctx *ctx)
{
	struct tally t = { 0 };
	int ret = one_round(ctx, &t);

	if (ret)
		return ret;
	metric(ctx, "race.thps", THPS_PER_ROUND, "folios");
	metric(ctx, "race.pinned", (double)t.pinned, "pages");
	metric(ctx, "race.pinned_discarded", (double)t.pinned_discarded, "pages");
	metric(ctx, "check.zapped_nonzero", (double)t.zapped_nonzero, "pages");
	metric(ctx, "check.written_lost", (double)t.written_lost, "pages");
	metric(ctx, "check.other_bad", (double)t.other_bad, "pages");
	metric(ctx, "check.pinned_bad", (double)t.pinned_bad, "pages");
	return BENCH_OK;
}

static const struct metric_decl metrics[] = {
	{ "vmstat.pglazyfreed", METRIC_INFO, 0, "pglazyfreed", AGG_SUM },
	{ "vmstat.thp_split_pmd", METRIC_INFO, 0, "thp_split_pmd", AGG_SUM },
	/* What raced with the discard: zapped reads 0, written survives,
	 * pinned reads what it held. */
	{ "check.zapped_nonzero", METRIC_INVARIANT, 0, "zapped_nonzero", AGG_SUM },
	{ "check.written_lost", METRIC_INVARIANT, 0, "written_lost", AGG_SUM },
	{ "check.other_bad", METRIC_INVARIANT, 0, "other_bad", AGG_SUM },
	{ "check.pinned_bad", METRIC_INVARIANT, 0, "pinned_bad", AGG_SUM },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double thps = r->get(r, "race.thps"), freed = r->get(r, "vmstat.pglazyfreed");
	double bad = r->get(r, "check.zapped_nonzero") + r->get(r, "check.written_lost") +
		     r->get(r, "check.other_bad") + r->get(r, "check.pinned_bad");

	if (!isnan(thps))
		snprintf(buf, cap, "%.0f lazyfree THPs paged out while zapped, written and pinned on the other CPU "
			 "(%.0f pages discarded): %s", thps, isnan(freed) ? 0 : freed,
			 bad > 0 ? "DATA WRONG OR LOST" : "no page wrong or lost");
}

const struct bench_info bench_pmd_lazyfree_race = {
	.name = "pmd_lazyfree_race",
	.version = 1,
	.metrics = metrics,
	.finding = finding,
	.params = "",
	.help = "MADV_PAGEOUT of lazyfree THPs while the other CPU zaps, writes and pins them",
	.vmstat = counters,
	.parallel = 1,
	.setup = setup,
	.teardown = teardown,
	.run = run,
};
