/* collapse_race: MADV_COLLAPSE of a shmem (memfd) range against PT reclaim
 * of the same range in another process.  Process A maps the file without
 * THP and loops: read every page, MADV_DONTNEED the range (with PT reclaim
 * its empty PTE table is freed).  Process B punches one page of each 2 MiB
 * (which splits the huge folio), writes it back and MADV_COLLAPSEs the
 * range: collapse_file() then retracts the page tables of every mapping,
 * A's included, in retract_page_tables(), which must recheck the PMD under
 * its lock because A may have freed that table meanwhile.
 *
 * A collapse that meets A mid-fault (a page locked or with an extra
 * reference) fails with EAGAIN, which the man page calls transient: the
 * round retries it, up to COLLAPSE_TRIES calls.  On a 2-core host only 1 to
 * 57% of single calls succeeded (200 rounds, 4 runs), so without retries a
 * repetition could end with no collapse at all and no retraction raced.
 *
 * Counted: collapses by result (errno), tables freed by A's MADV_DONTNEED
 * and retracted under A and B (VmPTE drops), data that changed (it never
 * may: every page keeps its byte), page-table memory A leaves behind.
 * Kernel warnings are read from the console by the host. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define COLLAPSE_TRIES 20	/* calls per round while the answer is EAGAIN */
#define A_FULL_EVERY 8		/* A reads every page once in so many rounds */

/* Only the test-only kernels of kernels/controls.conf have these
 * (test-retract-delay.patch): the window between retract_page_tables()'s
 * lockless PMD check and pmd_lock() widened, and the PMDs found changed
 * under the lock counted.  -1 when absent. */
#define RETRACT_PARAM "/sys/module/khugepaged/parameters/retract_"

static long long retract_param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), RETRACT_PARAM "%s", name);
	return read_count(path);
}

static const char *const counters[] = {
	"thp_collapse_alloc", "thp_collapse_alloc_failed", "thp_file_alloc", "thp_split_page",
	"thp_split_page_failed", "thp_split_pmd", "nr_shmem_hugepages", "nr_page_table_pages",
	NULL
};

/* What A and B tell each other, in shared memory. */
struct shared {
	atomic_int stop;
	atomic_ulong rounds, pt_freed, retracted, bad, errors;
	atomic_ulong armed, faulted;	/* B's round A may fault for, and the last A did */
	long long pte_leak_kb;
};

static unsigned char byte_of(size_t page)
{
	return page % 251 + 1;
}

static size_t region_len(void)
{
	size_t len = (params.race_region_kb << 10) / PMD_SIZE * PMD_SIZE;

	return len ? len : PMD_SIZE;
}

/* The last page of each 2 MiB is punched and rewritten by B: A may read 0. */
static int punched(size_t page)
{
	return page % (PMD_SIZE / 4096) == PMD_SIZE / 4096 - 1;
}

/* The file mapped shared at a 2 MiB-aligned address, so it can be PMD-mapped. */
static char *map_file_aligned(int fd, size_t len)
{
	char *r = mmap(NULL, len + PMD_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	char *a;

	if (r == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)r + PMD_SIZE - 1) & ~(uintptr_t)(PMD_SIZE - 1));
	if (mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		munmap(r, len + PMD_SIZE);
		return NULL;
	}
	if (a > r)
		munmap(r, a - r);
	munmap(a + len, r + PMD_SIZE - a);
	return a;
}

/* A's round is paced by B's, so that A's MADV_DONTNEED lands while B's
 * collapse runs.  B arms a round once its pages are written back; A then
 * faults its page table in and says so; B calls MADV_COLLAPSE; A waits
 * until the collapse has unmapped A's first page (collapse_file() unmaps
 * each old page before it copies and retracts), holds its emptied table
 * for a time spread evenly over 0 to A_HOLD_MAX_NS, and frees it.  A
 * collapse locks the pages A would fault on, so only a table faulted in
 * before the collapse and freed during it can meet a retraction.  No wait
 * lasts beyond WAIT_MAX_NS: either side may be late or done. */
#define A_HOLD_MAX_NS 32000000
#define WAIT_MAX_NS 50000000

/* Wait while *v still holds old. */
static void wait_change(atomic_ulong *v, unsigned long old, atomic_int *stop)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);

	while (*v == old && !*stop && now_ns(CLOCK_MONOTONIC) - t0 < WAIT_MAX_NS)
		sched_yield();
}

static void hold(struct shared *sh, const char *first, unsigned long round)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), until;

	while (present_pages(first, 4096) > 0 && !sh->stop && now_ns(CLOCK_MONOTONIC) - t0 < WAIT_MAX_NS)
		sched_yield();
	until = now_ns(CLOCK_MONOTONIC) + (round * 2654435761u) % A_HOLD_MAX_NS;
	while (now_ns(CLOCK_MONOTONIC) < until && !sh->stop)
		sched_yield();
}

/* Process A: read, DONTNEED, again, until told to stop. */
static void reclaimer(int fd, size_t len, struct shared *sh)
{
	long long base = status_kb("VmPTE");
	char *p = map_file_aligned(fd, len);

	if (!p) {
		sh->errors++;
		return;
	}
	madvise(p, len, MADV_NOHUGEPAGE);	/* PTE-mapped only: a table to reclaim */
	for (unsigned long round = 0; !sh->stop; round++) {
		/* Every page read in one round of A_FULL_EVERY; in the others
		 * one page per table. */
		size_t step = round % A_FULL_EVERY ? PMD_SIZE / 4096 : 1;
		unsigned long armed;
		long long t0, t1, t2;

		wait_change(&sh->armed, sh->faulted, &sh->stop);
		armed = sh->armed;
		for (size_t i = 0; i < len / 4096; i += step) {
			unsigned char c = ((volatile char *)p)[i * 4096];

			sh->bad += c != byte_of(i) && !(punched(i) && !c);
		}
		sh->faulted = armed;
		t0 = status_kb("VmPTE");
		hold(sh, p, round);
		t1 = status_kb("VmPTE");
		if (madvise(p, len, MADV_DONTNEED))
			sh->errors++;
		t2 = status_kb("VmPTE");
		sh->retracted += t1 < t0;	/* nothing of A's freed it */
		sh->pt_freed += t2 < t1;
		sh->rounds++;
	}
	munmap(p, len);
	sh->pte_leak_kb = base >= 0 ? status_kb("VmPTE") - base : 0;
}

struct tally {
	unsigned long calls, ok, eagain, gave_up, enomem, einval, other, b_retracted, b_bad;
	int other_errno;
	uint64_t collapse_ns;
};

/* Process B, one round: punch, write back, collapse, check. */
static void collapse_round(int fd, char *p, size_t len, struct tally *t, struct shared *sh)
{
	long long v0, v1;
	unsigned long f;
	uint64_t t0;
	int r, tries = 0;

	for (size_t off = PMD_SIZE - 4096; off < len; off += PMD_SIZE) {
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, 4096);
		p[off] = byte_of(off / 4096);
	}
	f = sh->faulted;
	sh->armed++;
	wait_change(&sh->faulted, f, &sh->stop);
	v0 = status_kb("VmPTE");
	t0 = now_ns(CLOCK_MONOTONIC);
	do {
		r = madvise(p, len, MADV_COLLAPSE) ? errno : 0;
		t->calls++;
		t->eagain += r == EAGAIN;
	} while (r == EAGAIN && ++tries < COLLAPSE_TRIES);
	if (r == 0)
		t->ok++;
	else if (r == EAGAIN)
		t->gave_up++;
	else if (r == ENOMEM)
		t->enomem++;
	else if (r == EINVAL)
		t->einval++;
	else
		t->other++, t->other_errno = r;
	t->collapse_ns += now_ns(CLOCK_MONOTONIC) - t0;
	v1 = status_kb("VmPTE");
	t->b_retracted += v1 < v0;
	for (size_t i = 0; i < len / 4096; i++)
		t->b_bad += (unsigned char)p[i * 4096] != byte_of(i);
}

static int setup(struct bench_ctx *ctx)
{
	char buf[256];

	if (read_text(THP_DIR "/shmem_enabled", buf, sizeof(buf)) <= 0)
		return bench_skip(ctx, "no %s/shmem_enabled: kernel without shmem THP "
				  "(CONFIG_SHMEM and CONFIG_TRANSPARENT_HUGEPAGE)", THP_DIR);
	if (strstr(buf, "[deny]"))
		return bench_skip(ctx, "%s/shmem_enabled is deny: no shmem THP at all", THP_DIR);
	if (status_kb("VmPTE") < 0)
		return bench_skip(ctx, "no VmPTE in /proc/self/status");
	return BENCH_OK;
}

/* What both processes counted: the collapses, the race, the checks. */
static void race_metrics(struct bench_ctx *ctx, const struct tally *t, const struct shared *sh)
{
	metric(ctx, "collapse.rounds", (double)params.collapse_rounds, "count");
	metric(ctx, "collapse.calls", (double)t->calls, "count");
	metric(ctx, "collapse.ok", (double)t->ok, "count");
	metric(ctx, "collapse.eagain", (double)t->eagain, "count");
	metric(ctx, "collapse.gave_up", (double)t->gave_up, "count");
	metric(ctx, "collapse.enomem", (double)t->enomem, "count");
	metric(ctx, "collapse.einval", (double)t->einval, "count");
	metric(ctx, "collapse.other", (double)t->other, "count");
	if (t->other)
		metric(ctx, "collapse.other_errno", (double)t->other_errno, "errno");
	metric(ctx, "time.collapse_sum", (double)t->collapse_ns, "ns");
	metric(ctx, "race.a_rounds", (double)sh->rounds, "count");
	metric(ctx, "race.a_pt_freed", (double)sh->pt_freed, "count");
	metric(ctx, "race.a_retracted", (double)sh->retracted, "count");
	metric(ctx, "race.b_retracted", (double)t->b_retracted, "count");
	metric(ctx, "check.data_errors", (double)(sh->bad + t->b_bad), "pages");
	metric(ctx, "check.a_errors", (double)sh->errors, "count");
	metric(ctx, "check.a_pte_leak_kb", (double)sh->pte_leak_kb, "kB");
}

/* The test-only counters around the window, [0] before and [1] after. */
struct retract_counts {
	long long seen[2], changed[2];
};

static void retract_read(struct retract_counts *rc, int after)
{
	rc->seen[after] = retract_param("tables_seen");
	rc->changed[after] = retract_param("pmd_changed");
}

static void retract_metrics(struct bench_ctx *ctx, const struct retract_counts *rc)
{
	long long delay = retract_param("delay_us");

	if (delay < 0 || rc->seen[0] < 0 || rc->seen[1] < 0 || rc->changed[0] < 0 || rc->changed[1] < 0)
		return;
	metric(ctx, "kernel.retract_delay_us", (double)delay, "us");
	metric(ctx, "kernel.retract_tables_seen", (double)(rc->seen[1] - rc->seen[0]), "count");
	metric(ctx, "kernel.retract_pmd_changed", (double)(rc->changed[1] - rc->changed[0]), "count");
}

static int run(struct bench_ctx *ctx)
{
	size_t len = region_len();
	struct tally t = { 0 };
	struct shared *sh;
	struct retract_counts rc;
	long long pmd_kb;
	int fd, st, ret = BENCH_OK;
	pid_t pid;
	char *p;

	fd = memfd_create("collapse_race", MFD_CLOEXEC);
	if (fd < 0)
		return bench_skip(ctx, "memfd_create: %s (CONFIG_MEMFD_CREATE)", strerror(errno));
	if (ftruncate(fd, len)) {
		ret = bench_fail(ctx, "ftruncate of the memfd to %zu bytes: %s", len, strerror(errno));
		goto close_fd;
	}
	p = map_file_aligned(fd, len);
	if (!p) {
		ret = bench_fail(ctx, "mmap of the memfd: %s", strerror(errno));
		goto close_fd;
	}
	for (size_t i = 0; i < len / 4096; i++)
		p[i * 4096] = byte_of(i);
	/* The feature check: a first collapse, before A exists, must leave
	 * the range PMD-mapped here. */
	if (madvise(p, len, MADV_COLLAPSE)) {
		int e = errno;

		ret = bench_skip(ctx, "madvise(MADV_COLLAPSE) of a memfd with no other user: %s%s",
				 strerror(e), e == EINVAL ? " (kernel before 6.1 or no shmem THP)" : "");
		goto unmap;
	}
	pmd_kb = mapping_kb(p, len, "ShmemPmdMapped");
	if (pmd_kb != (long long)(len >> 10)) {
		ret = bench_skip(ctx, "after MADV_COLLAPSE smaps ShmemPmdMapped is %lld of %zu kB",
				 pmd_kb, len >> 10);
		goto unmap;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		ret = bench_fail(ctx, "mmap of shared counters: %s", strerror(errno));
		goto unmap;
	}
	memset(sh, 0, sizeof(*sh));
	pid = fork();
	if (pid < 0) {
		ret = bench_fail(ctx, "fork: %s", strerror(errno));
		goto unmap_shared;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		munmap(p, len);	/* A's only mapping of the file is its own */
		reclaimer(fd, len, sh);
		_exit(0);
	}
	while (!sh->rounds && !sh->errors) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			ret = bench_fail(ctx, "the reclaiming process ended before its first round "
					 "(status %#x)", st);
			goto unmap_shared;
		}
		sched_yield();
	}
	retract_read(&rc, 0);
	window_begin(ctx);
	for (unsigned long i = 0; i < params.collapse_rounds; i++)
		collapse_round(fd, p, len, &t, sh);
	window_end(ctx);
	retract_read(&rc, 1);
	sh->stop = 1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		ret = bench_fail(ctx, "the reclaiming process ended with status %#x", st);
		goto unmap_shared;
	}
	race_metrics(ctx, &t, sh);
	retract_metrics(ctx, &rc);
	if (sh->errors)
		ret = bench_fail(ctx, "the reclaiming process could not map or MADV_DONTNEED the memfd");
	else if (!t.ok)
		ret = bench_fail(ctx, "no round of %lu collapsed in up to %d MADV_COLLAPSE calls "
				 "(%lu calls: EAGAIN %lu, ENOMEM %lu, EINVAL %lu, other %lu)",
				 params.collapse_rounds, COLLAPSE_TRIES, t.calls, t.eagain, t.enomem,
				 t.einval, t.other);
unmap_shared:
	if (ret && pid > 0 && !sh->stop && waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	munmap(sh, sizeof(*sh));
unmap:
	munmap(p, len);
close_fd:
	close(fd);
	return ret;
}

static const struct metric_decl metrics[] = {
	/* The loop holds the pacing of A and B (waits of up to 50 ms): only
	 * the MADV_COLLAPSE calls are timed. */
	{ "time.collapse_sum", METRIC_TIMING, 0, "collapse_calls", AGG_MEDIAN },
	{ "time.wall", METRIC_INFO, 0, "collapse_loop", AGG_MEDIAN },
	{ "collapse.ok", METRIC_INFO, 0, "collapsed", AGG_SUM },
	{ "collapse.eagain", METRIC_INFO, 0, "eagain", AGG_SUM },
	{ "race.a_pt_freed", METRIC_INFO, 0, "pt_freed", AGG_SUM },
	{ "race.a_retracted", METRIC_INFO, 0, "retracted", AGG_SUM },
	{ "kernel.retract_pmd_changed", METRIC_INFO, 0, "pmd_changed", AGG_SUM },
	/* Every page keeps its byte, and no page table is left behind. */
	{ "check.data_errors", METRIC_INVARIANT, 0, "data_errors", AGG_MAX },
	{ "check.a_pte_leak_kb", METRIC_INVARIANT, 64, "pte_leak_kB", AGG_MAX },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double ok = r->get(r, "collapse.ok"), freed = r->get(r, "race.a_pt_freed");
	double bad = r->get(r, "check.data_errors"), warn = r->get(r, "kernel.warnings");
	double changed = r->get(r, "kernel.retract_pmd_changed");
	int n;

	if (isnan(ok))
		return;
	n = snprintf(buf, cap, "%.0f collapses raced %.0f page tables freed by PT reclaim: %s, %s", ok,
		     isnan(freed) ? 0 : freed, bad > 0 ? "DATA CHANGED" : "no data changed",
		     isnan(warn) ? "kernel warnings not read" : warn > 0 ? "KERNEL WARNINGS" : "no kernel warning");
	if (!isnan(changed) && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - n, "; %.0f PMDs changed inside the widened window", changed);
}

const struct bench_info bench_collapse_race = {
	.name = "collapse_race",
	.timing = "time.collapse_sum",
	.version = 3,	/* 2: EAGAIN retried within the round; 3: A reads one page per table in 7 rounds of 8 */
	.metrics = metrics,
	.finding = finding,
	.params = "collapse-rounds,race-region-kb",
	.help = "MADV_COLLAPSE a memfd range while another process MADV_DONTNEEDs it (PT reclaim)",
	.vmstat = counters,
	.parallel = 1,
	.setup = setup,
	.run = run,
};
