/* zap_mthp: zap of a region of anonymous mTHPs.  Each repetition times
 * munmap of one freshly faulted region and MADV_DONTNEED of another, each
 * in its own window (metrics "munmap.*" and "dontneed.*"); with batched zap
 * a large folio's PTEs are cleared, its mapcount dropped and its pages
 * freed in batches instead of one PTE at a time.
 *
 * Then, untimed, two probes of the seed's concern that a batched zap can
 * briefly leave a folio's mapcount above its refcount, so that a check
 * "refcount == mapcount: no other references" misses a GUP reference:
 * - readv: a thread reads the region with process_vm_readv (GUP) while it
 *   is zapped; every page read must hold what was written or zeros.
 * - pin: one page of each folio is spliced into a pipe (a GUP reference),
 *   the process forks, the child munmaps the shared folios while the
 *   parent writes those pages.  The write must copy (the pipe holds a
 *   reference), so the pipe must still read the old bytes; a reused page
 *   shows up as the new bytes in the pipe. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
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
	"pgfree", "thp_deferred_split_page", "nr_tlb_remote_flush", "nr_tlb_local_flush_all",
	"nr_tlb_local_flush_one", NULL
};

enum zap { ZAP_MUNMAP, ZAP_DONTNEED };

/* One timed zap of a fresh region, its metrics under the zap's name; then
 * the proof that it freed the region. */
static int zap_timed(struct bench_ctx *ctx, enum zap how)
{
	size_t len = params.region_mb << 20;
	long long rss0, freed;
	long left = 0;
	int ret, err = 0;
	char *p;

	ret = mthp_fault_region(ctx, len, 1, &p);
	if (ret)
		return ret;
	rss0 = status_kb("RssAnon");
	ctx->scope = how == ZAP_MUNMAP ? "munmap" : "dontneed";
	window_begin(ctx);
	if (how == ZAP_MUNMAP ? munmap(p, len) : madvise(p, len, MADV_DONTNEED))
		err = errno;
	window_end(ctx);
	freed = rss0 - status_kb("RssAnon");
	if (how == ZAP_DONTNEED)
		left = present_pages(p, len);
	if (!err) {
		metric(ctx, "check.rss_freed_kb", (double)freed, "kB");
		if (how == ZAP_DONTNEED && left >= 0)
			metric(ctx, "check.pages_left_mapped", (double)left, "pages");
		else if (how == ZAP_DONTNEED)
			metric_unsupported(ctx, "check.pages_left_mapped", "pages",
					   "no /proc/self/pagemap (CONFIG_PROC_PAGE_MONITOR)");
	}
	ctx->scope = NULL;
	if (how == ZAP_DONTNEED || err)
		munmap(p, len);
	if (err)
		return bench_fail(ctx, "%s of the region: %s",
				  how == ZAP_MUNMAP ? "munmap" : "madvise(MADV_DONTNEED)", strerror(err));
	/* RssAnon is read from per-CPU counters: allow 1 MiB of slack. */
	if (rss0 >= 0 && freed + 1024 < (long long)(len >> 10))
		return bench_fail(ctx, "%s freed %lld of %zu kB of RssAnon",
				  how == ZAP_MUNMAP ? "munmap" : "MADV_DONTNEED", freed, len >> 10);
	if (left > 0)
		return bench_fail(ctx, "MADV_DONTNEED left %ld pages mapped", left);
	return BENCH_OK;
}

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

static void *reader(void *arg)
{
	char *buf = arg;

	for (rd.reads = 0; rd.reads < READS_PER_ROUND; rd.reads++) {
		struct iovec local = { buf, rd.len }, remote = { rd.base, rd.len };
		ssize_t n;
		int old = 0, zero = 0;

		rd.started = 1;
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
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
	if (pid == 0) {	/* the zap of the shared folios */
		_exit(write(go[1], "z", 1) != 1 || munmap(p, len));
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
	return thp_only_size(ctx, params.mthp_kb, "madvise");	/* params_check: whole folios */
}

static int run(struct bench_ctx *ctx)
{
	struct pin_result pin = { 0 };
	unsigned long reads = 0, bad = 0, errors = 0, torn = 0;
	int ret, readv = 1;

	ret = zap_timed(ctx, ZAP_MUNMAP);
	if (!ret)
		ret = zap_timed(ctx, ZAP_DONTNEED);
	if (ret)
		return ret;
	ctx->scope = "race";
	if (process_vm_readv(getpid(), NULL, 0, NULL, 0, 0) < 0 && errno == ENOSYS) {
		readv = 0;
		metric_unsupported(ctx, "readv_bad_pages", "pages",
				   "no process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH)");
	}
	for (unsigned long r = 0; readv && !ret && r < params.zap_race_rounds; r++) {
		ret = readv_round(ctx, r, &reads, &torn);
		bad += rd.bad, errors += rd.errors;
	}
	for (unsigned long r = 0; !ret && r < params.zap_race_rounds; r++)
		ret = pin_round(ctx, r, &pin);
	if (!ret && readv) {
		metric(ctx, "readv_calls", (double)reads, "count");
		metric(ctx, "readv_torn", (double)torn, "count");
		metric(ctx, "readv_bad_pages", (double)bad, "pages");
		metric(ctx, "readv_errors", (double)errors, "count");
	}
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
	{ "munmap.time.wall", METRIC_TIMING, 0, "munmap", AGG_MEDIAN },
	{ "dontneed.time.wall", METRIC_TIMING, 0, "dontneed", AGG_MEDIAN },
	/* Zapped one PTE at a time, each folio is left partly mapped after its
	 * first PTE and queued for deferred split; batched, never. */
	{ "munmap.mthp.split_deferred", METRIC_INVARIANT, 0, "split_deferred", AGG_MEDIAN },
	{ "dontneed.mthp.split_deferred", METRIC_INVARIANT, 0, NULL, AGG_MEDIAN },
	{ "munmap.perf.tlb_flush", METRIC_INFO, 0, "tlb_flush", AGG_MEDIAN },
	{ "munmap.check.pages_left_mapped", METRIC_INVARIANT, 0, NULL, AGG_MAX },
	{ "dontneed.check.pages_left_mapped", METRIC_INVARIANT, 0, NULL, AGG_MAX },
	/* GUP during the zap: no page may read wrong or be lost. */
	{ "race.readv_bad_pages", METRIC_INVARIANT, 0, "readv_bad", AGG_SUM },
	{ "race.pin_lost", METRIC_INVARIANT, 0, "pin_lost", AGG_SUM },
	{ "race.pin_corrupt", METRIC_INVARIANT, 0, "pin_corrupt", AGG_SUM },
	{ "race.pin_write_lost", METRIC_INVARIANT, 0, NULL, AGG_SUM },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double split = r->get(r, "munmap.mthp.split_deferred");
	double bad = r->get(r, "race.readv_bad_pages") + r->get(r, "race.pin_lost") + r->get(r, "race.pin_corrupt");

	if (!isnan(split))
		snprintf(buf, cap, "mTHP zapped %s (munmap split_deferred +%.0f); GUP during the zap: %s",
			 split > 0 ? "PTE by PTE" : "in batches, whole folios", split,
			 isnan(bad) ? "not measured" : bad > 0 ? "PAGES WRONG OR LOST" : "no page wrong or lost");
}

static const char *judge(const struct claim_view *v, char *ev, size_t cap)
{
	struct verdict_view t;
	double s0 = v->base->get(v->base, "munmap.mthp.split_deferred");
	double s1 = v->new->get(v->new, "munmap.mthp.split_deferred");

	v->compare(v, "munmap.time.wall", &t);
	snprintf(ev, cap, "munmap of the mTHP region: %s %.2f -> %s %.2f %s, %.2fx less (95%% CI of new/base "
		 "[%.3f, %.3f], %s); split_deferred %.0f -> %.0f", v->base->variant, t.base, v->new->variant, t.new,
		 t.unit, t.base / t.new, t.lo, t.hi, t.verdict, s0, s1);
	return !strcmp(t.verdict, "faster") && s1 == 0 && s0 > 0 ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "batched zap of anonymous mTHP PTEs: munmap faster, no folio left for deferred split", "7.3-no-zap-batch",
	  "7.3", judge, "no figure in the seed (seed 003 is the review of the series: the hazard of references "
	  "dropped before the mapcount)" },
	{ NULL }
};

const struct bench_info bench_zap_mthp = {
	.name = "zap_mthp",
	.version = 1,
	.timing = "munmap.time.wall",
	.metrics = metrics,
	.finding = finding,
	.claims = claims,
	.params = "region-mb,mthp-kb,race-region-kb,zap-race-rounds",
	.help = "time munmap and MADV_DONTNEED of an mTHP region; GUP during the zap",
	.vmstat = counters,
	.uses_mthp = 1,
	.setup = setup,
	.run = run,
};
