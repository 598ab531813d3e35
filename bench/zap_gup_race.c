/* zap_gup_race: GUP during the zap of anonymous mTHPs, the GUP user and
 * the zap on two CPUs at once.  Seed 003's concern is that a batched zap
 * could briefly leave a folio's mapcount above its refcount, so that a
 * check "refcount == mapcount: no other references" misses a GUP
 * reference.  Two probes, untimed, round by round:
 * - readv: a thread on one CPU reads the region with process_vm_readv
 *   (GUP) while this one, on the other, zaps it; every page read must hold
 *   what was written or zeros.
 * - pin: one page of each folio is spliced into a pipe (a GUP reference),
 *   the process forks, the child munmaps the shared folios on one CPU
 *   while the parent writes those pages on the other.  The write must copy
 *   (the pipe holds a reference), so the pipe must still read the old
 *   bytes; a reused page shows up as the new bytes in the pipe.
 * The race needs two CPUs running at once: on one, a SKIP. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *const counters[] = {
	"pgfree", "thp_deferred_split_page", "nr_tlb_remote_flush", "nr_tlb_remote_flush_received", NULL
};

enum zap { ZAP_MUNMAP, ZAP_DONTNEED };

static struct {
	cpu_set_t saved;
	int saved_ok, cpu[2];
} gup;

/* ---- readv probe ---- */

/* The reader reads the region READS_PER_ROUND times and ends; the zap
 * starts once the reader has started, or after START_WAIT_NS whatever
 * happened.  No unbounded wait for a busy thread: under -icount the vCPUs
 * run in turns, and such a wait costs a whole turn of the busy vCPU. */
#define READS_PER_ROUND 16
#define START_WAIT_NS 5000000

static struct reader {
	char *base;
	size_t len;
	unsigned char val;
	atomic_int started;
	unsigned long reads, bad, errors, torn;
} rd;

/* The region as one remote iovec per folio (at most IOV_MAX): the kernel
 * pins and copies one iovec at a time, so a zap can land between two of
 * them; as one iovec, a 2 MiB region is pinned in a single call, before
 * any zap (the method page's probes). */
static int remote_iovecs(struct iovec *iov, int max)
{
	size_t folio = params.mthp_kb << 10;
	int n = 0;

	for (size_t off = 0; off < rd.len && n < max; off += folio, n++)
		iov[n] = (struct iovec){ rd.base + off, rd.len - off < folio ? rd.len - off : folio };
	if (n == max)	/* the last one takes the rest */
		iov[n - 1].iov_len = rd.len - ((char *)iov[n - 1].iov_base - rd.base);
	return n;
}

static void *reader(void *arg)
{
	static struct iovec remote[1024];
	int nremote = remote_iovecs(remote, 1024);
	char *buf = arg;

	for (rd.reads = 0; rd.reads < READS_PER_ROUND; rd.reads++) {
		struct iovec local = { buf, rd.len };
		ssize_t n;
		int old = 0, zero = 0;

		rd.started = 1;
		n = process_vm_readv(getpid(), &local, 1, remote, nremote, 0);
		if (n < 0 && errno != EFAULT && errno != ENOMEM)
			rd.errors++;	/* EFAULT: the region is gone (munmap) */
		for (ssize_t off = 0; n > 0 && off + 4096 <= n; off += 4096) {
			unsigned char a = buf[off], z = buf[off + 4095];

			/* byte 0 was written, the rest of a page never was */
			rd.bad += (a != rd.val && a) || z;
			old |= a == rd.val, zero |= !a;
		}
		/* A read that saw part of the region before the zap and part
		 * after it: proof that the two overlapped. */
		rd.torn += (old && zero) || (n > 0 && (size_t)n < rd.len);
	}
	return NULL;
}

/* Zap a region while a thread reads it through GUP (process_vm_readv);
 * round by round, MADV_DONTNEED and munmap. */
static int readv_round(struct bench_ctx *ctx, unsigned long round, unsigned long *reads,
		       unsigned long *torn)
{
	size_t len = params.race_region_kb << 10;
	enum zap how = round % 2 ? ZAP_MUNMAP : ZAP_DONTNEED;
	char *p, *buf = malloc(len);
	pthread_t t;
	int ret;

	if (!buf)
		return bench_fail(ctx, "out of memory for the readv buffer");
	ret = mthp_fault_region(ctx, len, (char)(round % 200 + 1), &p);
	if (ret)
		goto free_buf;
	rd = (struct reader){ .base = p, .len = len, .val = round % 200 + 1 };
	if (pthread_create(&t, NULL, reader, buf)) {
		ret = bench_fail(ctx, "pthread_create failed");
		goto unmap;
	}
	if (thread_pin(t, gup.cpu[1])) {
		ret = bench_fail(ctx, "pthread_setaffinity_np to CPU %d: %s", gup.cpu[1], strerror(errno));
		pthread_join(t, NULL);
		goto unmap;
	}
	for (uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	     !rd.started && now_ns(CLOCK_MONOTONIC) - t0 < START_WAIT_NS;)
		;
	if (how == ZAP_MUNMAP)
		munmap(p, len);
	else
		madvise(p, len, MADV_DONTNEED);
	pthread_join(t, NULL);
	*reads += rd.reads, *torn += rd.torn;
unmap:
	if (how == ZAP_DONTNEED || ret)
		munmap(p, len);
free_buf:
	free(buf);
	return ret;
}

/* ---- pin probe ---- */

struct pin_result {
	unsigned long pages, lost, corrupt, write_lost;
};

static int pin_round(struct bench_ctx *ctx, unsigned long round, struct pin_result *r)
{
	size_t len = params.race_region_kb << 10, folio = params.mthp_kb << 10;
	size_t nfolios = len / folio, n = 0, per = folio / 4096;
	unsigned char old = round % 100 + 1, new = old + 100;
	int fds[2], go[2], st, ret;
	struct iovec *iov = NULL;
	char page[4096], *p, c;
	pid_t pid;

	ret = mthp_fault_region(ctx, len, (char)old, &p);
	if (ret)
		return ret;
	if (pipe2(fds, O_CLOEXEC)) {
		ret = bench_fail(ctx, "pipe2: %s", strerror(errno));
		goto unmap;
	}
	if (pipe2(go, O_CLOEXEC)) {
		ret = bench_fail(ctx, "pipe2: %s", strerror(errno));
		goto close_fds;
	}
	/* One buffer per spliced page: make room for one page per folio. */
	fcntl(fds[1], F_SETPIPE_SZ, (int)(nfolios * 4096));
	n = fcntl(fds[1], F_GETPIPE_SZ) / 4096;
	n = n < nfolios ? n : nfolios;
	iov = calloc(n, sizeof(*iov));
	if (!iov) {
		ret = bench_fail(ctx, "out of memory for %zu iovecs", n);
		goto close_go;
	}
	for (size_t i = 0; i < n; i++)	/* a different page of each folio */
		iov[i] = (struct iovec){ p + i * folio + (i % per) * 4096, 4096 };
	for (size_t done = 0; done < n;) {
		ssize_t got = vmsplice(fds[1], iov + done, n - done, 0);

		if (got <= 0) {
			ret = bench_fail(ctx, "vmsplice: %s", got ? strerror(errno) : "spliced nothing");
			goto free_iov;
		}
		done += got / 4096;
	}
	pid = fork();
	if (pid < 0) {
		ret = bench_fail(ctx, "fork: %s", strerror(errno));
		goto free_iov;
	}
	if (pid == 0) {	/* the zap of the shared folios, on the other CPU */
		_exit(thread_pin(pthread_self(), gup.cpu[1]) || write(go[1], "z", 1) != 1 ||
		      munmap(p, len));
	}
	if (read(go[0], &c, 1) != 1)
		c = 0;
	for (size_t i = 0; i < n; i++)	/* the write faults that must copy */
		((volatile char *)iov[i].iov_base)[0] = (char)new;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) || c != 'z') {
		ret = bench_fail(ctx, "the zapping child failed");
		goto free_iov;
	}
	for (size_t i = 0; i < n; i++) {
		if (read(fds[0], page, sizeof(page)) != sizeof(page)) {
			ret = bench_fail(ctx, "read of a spliced page: %s", strerror(errno));
			goto free_iov;
		}
		r->lost += (unsigned char)page[0] == new;
		r->corrupt += (unsigned char)page[0] != new && (unsigned char)page[0] != old;
		r->corrupt += page[4095] != 0;	/* only byte 0 of a page is written */
		r->write_lost += ((unsigned char *)iov[i].iov_base)[0] != new;
	}
	r->pages += n;
free_iov:
	free(iov);
close_go:
	close(go[0]), close(go[1]);
close_fds:
	close(fds[0]), close(fds[1]);
unmap:
	munmap(p, len);
	return ret;
}

static int setup(struct bench_ctx *ctx)
{
	int ret = thp_only_size(ctx, params.mthp_kb, "madvise");	/* params_check: whole folios */

	if (ret)
		return ret;
	ret = two_cpus(ctx, &gup.saved, gup.cpu);
	gup.saved_ok = ret != BENCH_FAIL;	/* a SKIP for one CPU has it too */
	if (ret)
		return ret;
	if (thread_pin(pthread_self(), gup.cpu[0]))
		return bench_fail(ctx, "pthread_setaffinity_np to CPU %d failed", gup.cpu[0]);
	return BENCH_OK;
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	if (gup.saved_ok)
		sched_setaffinity(0, sizeof(gup.saved), &gup.saved);
	gup.saved_ok = 0;
}

static int readv_probe(struct bench_ctx *ctx)
{
	unsigned long reads = 0, bad = 0, errors = 0, torn = 0;
	int ret = BENCH_OK;

	if (process_vm_readv(getpid(), NULL, 0, NULL, 0, 0) < 0 && errno == ENOSYS) {
		metric_unsupported(ctx, "readv_bad_pages", "pages",
				   "no process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH)");
		return BENCH_OK;
	}
	for (unsigned long r = 0; !ret && r < params.zap_race_rounds; r++) {
		ret = readv_round(ctx, r, &reads, &torn);
		bad += rd.bad, errors += rd.errors;
	}
	if (ret)
		return ret;
	metric(ctx, "readv_calls", (double)reads, "count");
	metric(ctx, "readv_torn", (double)torn, "count");
	metric(ctx, "readv_bad_pages", (double)bad, "pages");
	metric(ctx, "readv_errors", (double)errors, "count");
	return BENCH_OK;
}

static int run(struct bench_ctx *ctx)
{
	struct pin_result pin = { 0 };
	int ret;

	ctx->scope = "race";
	window_begin(ctx);
	ret = readv_probe(ctx);
	for (unsigned long r = 0; !ret && r < params.zap_race_rounds; r++)
		ret = pin_round(ctx, r, &pin);
	window_end(ctx);
	if (!ret) {
		metric(ctx, "pin_pages", (double)pin.pages, "pages");
		metric(ctx, "pin_lost", (double)pin.lost, "pages");
		metric(ctx, "pin_corrupt", (double)pin.corrupt, "pages");
		metric(ctx, "pin_write_lost", (double)pin.write_lost, "pages");
	}
	ctx->scope = NULL;
	return ret;
}

static const struct metric_decl metrics[] = {
	{ "race.time.wall", METRIC_TIMING, 0, "probes", AGG_MEDIAN },
	{ "race.readv_torn", METRIC_INFO, 0, "readv_torn", AGG_SUM },
	/* GUP during the zap: no page may read wrong or be lost. */
	{ "race.readv_bad_pages", METRIC_INVARIANT, 0, "readv_bad", AGG_SUM },
	{ "race.pin_lost", METRIC_INVARIANT, 0, "pin_lost", AGG_SUM },
	{ "race.pin_corrupt", METRIC_INVARIANT, 0, "pin_corrupt", AGG_SUM },
	{ "race.pin_write_lost", METRIC_INVARIANT, 0, NULL, AGG_SUM },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double torn = r->get(r, "race.readv_torn"), pages = r->get(r, "race.pin_pages");
	double bad = r->get(r, "race.readv_bad_pages") + r->get(r, "race.pin_lost") + r->get(r, "race.pin_corrupt");
	char reads[64] = "no process_vm_readv";

	if (isnan(pages))
		return;
	if (!isnan(torn))
		snprintf(reads, sizeof(reads), "%.0f reads overlapped a zap", torn);
	snprintf(buf, cap, "GUP during the zap on two CPUs: %s, %.0f pages pinned: %s", reads, pages,
		 isnan(bad) ? "not measured" : bad > 0 ? "PAGES WRONG OR LOST" : "no page wrong or lost");
}

const struct bench_info bench_zap_gup_race = {
	.name = "zap_gup_race",
	.version = 1,
	.timing = "race.time.wall",	/* the probes' window, for the observer overhead */
	.metrics = metrics,
	.finding = finding,
	.params = "mthp-kb,race-region-kb,zap-race-rounds",
	.help = "GUP (process_vm_readv, vmsplice pins) during the zap of mTHPs, on two CPUs at once",
	.vmstat = counters,
	.uses_mthp = 1,
	.parallel = 1,
	.setup = setup,
	.teardown = teardown,
	.run = run,
};
