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
 * - reuse: the same in one process, where the MM-ID shared bit cannot
 *   refuse the reuse: each folio is moved (mremap) to straddle a page-table
 *   boundary, one page of its first half is spliced into a pipe, a child
 *   forks and exits (the PTEs are left read-only, the folio exclusive
 *   again), then this thread writes that page on one CPU while another
 *   MADV_DONTNEEDs two pages of the second half on the other.  The zap
 *   and the write fault hold different page-table locks, so they can meet
 *   in __wp_can_reuse_large_anon_folio(); with one pipe reference and a
 *   zap batch of two PTEs, a zap that dropped one reference before the
 *   mapcount makes refcount == mapcount, and the write reuses the page the
 *   pipe holds: the pipe reads the new byte.
 * Seed 003's test-only kernels (kernels/controls.conf) count the unmaps
 * that found refcount < mapcount; stored as kernel.*.
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

/* What the pipe and the written pages hold after a round of the pin or
 * the reuse probe. */
struct pin_result {
	unsigned long pages, lost, corrupt, write_lost;
};

/* Splice the n pages of iov into the pipe fd, a buffer each. */
static int splice_pages(struct bench_ctx *ctx, int fd, const struct iovec *iov, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t got = vmsplice(fd, iov + done, n - done, 0);

		if (got <= 0)
			return bench_fail(ctx, "vmsplice: %s", got ? strerror(errno) : "spliced nothing");
		done += got / 4096;
	}
	return BENCH_OK;
}

/* Read the n spliced pages back: each must still hold old (the write
 * copied), and each written page new. */
static int spliced_check(struct bench_ctx *ctx, int fd, const struct iovec *iov, size_t n,
			 unsigned char old, unsigned char new, struct pin_result *r)
{
	char page[4096];

	for (size_t i = 0; i < n; i++) {
		if (read(fd, page, sizeof(page)) != sizeof(page))
			return bench_fail(ctx, "read of a spliced page: %s", strerror(errno));
		r->lost += (unsigned char)page[0] == new;
		r->corrupt += (unsigned char)page[0] != new && (unsigned char)page[0] != old;
		r->corrupt += page[4095] != 0;	/* only byte 0 of a page is written */
		r->write_lost += ((unsigned char *)iov[i].iov_base)[0] != new;
	}
	r->pages += n;
	return BENCH_OK;
}

static int pin_round(struct bench_ctx *ctx, unsigned long round, struct pin_result *r)
{
	size_t len = params.race_region_kb << 10, folio = params.mthp_kb << 10;
	size_t nfolios = len / folio, n = 0, per = folio / 4096;
	unsigned char old = round % 100 + 1, new = old + 100;
	int fds[2], go[2], st, ret;
	struct iovec *iov = NULL;
	char *p, c;
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
	ret = splice_pages(ctx, fds[1], iov, n);
	if (ret)
		goto free_iov;
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
	ret = spliced_check(ctx, fds[0], iov, n, old, new, r);
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

/* ---- reuse probe ---- */

/* The write waits (folio index + round) mod REUSE_LAGS sixteenths of the
 * previous folio's zap call after the zap is released, so that some
 * writes land after the zap's references are dropped and before its
 * mapcount is, wherever that falls in the call, however slow the vCPUs
 * run (fixed lags of 0-600 us reused 258 of 1280 pages in one run and 7
 * in the next on the hazard kernel, the machine busier). */
#define REUSE_LAGS 16
#define REUSE_SYNC_NS 5000000

static struct zapper {
	char **folios;
	size_t n, off, len;
	atomic_size_t a_at, b_at;
	unsigned long errors;
	uint64_t *zap_ns;	/* [2 * i] and [2 * i + 1]: folio i's zap call began, ended */
} zp;

static void sync_with(atomic_size_t *other, size_t i)
{
	for (uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	     atomic_load(other) < i && now_ns(CLOCK_MONOTONIC) - t0 < REUSE_SYNC_NS;)
		;
}

/* How long the zap call of the folio before i took: 0 when it has not
 * ended (the wait for the zapper timed out), at most REUSE_SYNC_NS. */
static uint64_t zap_call_ns(size_t i)
{
	uint64_t begin, end;

	if (!i)
		return 0;
	begin = zp.zap_ns[2 * i - 2], end = zp.zap_ns[2 * i - 1];
	if (!begin || end < begin)
		return 0;
	return end - begin < REUSE_SYNC_NS ? end - begin : REUSE_SYNC_NS;
}

static void *zapper(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < zp.n; i++) {
		atomic_store(&zp.b_at, i + 1);
		sync_with(&zp.a_at, i + 1);
		zp.zap_ns[2 * i] = now_ns(CLOCK_MONOTONIC);
		zp.errors += madvise(zp.folios[i] + zp.off, zp.len, MADV_DONTNEED) != 0;
		zp.zap_ns[2 * i + 1] = now_ns(CLOCK_MONOTONIC);
	}
	return NULL;
}

struct reuse_result {
	struct pin_result pages;
	unsigned long moved, overlap;
};

/* Each folio of the region moved to straddle a PMD boundary of area
 * (folio i at boundary i + 1): the first half under one page table, the
 * second under the next. */
static int straddle(struct bench_ctx *ctx, char *p, size_t nfolios, char *area, char **folios)
{
	size_t folio = params.mthp_kb << 10;

	for (size_t i = 0; i < nfolios; i++) {
		char *to = area + (i + 1) * PMD_SIZE - folio / 2;

		if (mremap(p + i * folio, folio, folio, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to)
			return bench_fail(ctx, "mremap of folio %zu to %p: %s", i, (void *)to, strerror(errno));
		folios[i] = to;
	}
	return BENCH_OK;
}

/* Folios still whole (one aligned run of physical pages) after the move;
 * 0 when the PFNs cannot be read. */
static unsigned long whole_folio_count(char **folios, size_t n, size_t folio)
{
	unsigned long whole = 0;

	for (size_t i = 0; i < n; i++) {
		long w = whole_folios(folios[i], folio, folio);

		whole += w > 0;
	}
	return whole;
}

/* The race of one round: a forked child leaves the folios exclusive to us
 * again, then the zapper on the other CPU MADV_DONTNEEDs two pages of each
 * second half while this CPU writes the spliced page of the first half,
 * after a lag taken from the previous zap's length. */
static int reuse_race(struct bench_ctx *ctx, char **folios, size_t n, size_t per, unsigned long round,
		      unsigned char new, uint64_t *zap_ns, struct reuse_result *r)
{
	uint64_t *write_ns = zap_ns + 2 * n;
	pthread_t t;
	pid_t pid;
	int st, err;

	/* A child that maps the folios and exits: our PTEs stay read-only and
	 * not exclusive, the folios exclusive to us again (MM-ID shared bit
	 * clear), one reference over their mapcount (the pipe's). */
	pid = fork();
	if (pid < 0)
		return bench_fail(ctx, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(0);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	zp = (struct zapper){ .folios = folios, .n = n, .off = (per / 2) * 4096, .len = 2 * 4096,
			      .zap_ns = zap_ns };
	if (pthread_create(&t, NULL, zapper, NULL))
		return bench_fail(ctx, "pthread_create failed");
	if ((err = thread_pin(t, gup.cpu[1]))) {
		pthread_join(t, NULL);
		return bench_fail(ctx, "pthread_setaffinity_np to CPU %d: %s", gup.cpu[1], strerror(err));
	}
	for (size_t i = 0; i < n; i++) {	/* the write faults that must copy */
		uint64_t lag = zap_call_ns(i) * ((i + round) % REUSE_LAGS) / REUSE_LAGS, t0;

		atomic_store(&zp.a_at, i + 1);
		sync_with(&zp.b_at, i + 1);
		for (t0 = now_ns(CLOCK_MONOTONIC); now_ns(CLOCK_MONOTONIC) - t0 < lag;)
			;
		write_ns[2 * i] = now_ns(CLOCK_MONOTONIC);
		((volatile char *)folios[i])[0] = (char)new;
		write_ns[2 * i + 1] = now_ns(CLOCK_MONOTONIC);
	}
	pthread_join(t, NULL);
	for (size_t i = 0; i < n; i++)	/* the write fault and the zap call overlapped */
		r->overlap += write_ns[2 * i] < zap_ns[2 * i + 1] && zap_ns[2 * i] < write_ns[2 * i + 1];
	if (zp.errors)
		return bench_fail(ctx, "madvise(MADV_DONTNEED) of the second halves failed %lu times", zp.errors);
	return BENCH_OK;
}

static int reuse_round(struct bench_ctx *ctx, unsigned long round, struct reuse_result *r)
{
	size_t len = params.race_region_kb << 10, folio = params.mthp_kb << 10;
	size_t nfolios = len / folio, n, per = folio / 4096, area_len = (nfolios + 2) * PMD_SIZE;
	unsigned char old = round % 100 + 1, new = old + 100;
	char **folios = NULL, *p, *area, *aligned;
	uint64_t *zap_ns = NULL;
	int fds[2], ret;
	struct iovec *iov = NULL;

	if (per < 4)
		return bench_skip(ctx, "the reuse probe needs folios of 16 kB or more (--mthp-kb %lu)",
				  params.mthp_kb);
	ret = mthp_fault_region(ctx, len, (char)old, &p);
	if (ret)
		return ret;
	area = mmap(NULL, area_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED) {
		ret = bench_fail(ctx, "mmap of %zu bytes of address space: %s", area_len, strerror(errno));
		goto unmap;
	}
	aligned = (char *)(((uintptr_t)area + PMD_SIZE - 1) & ~(PMD_SIZE - 1));
	folios = calloc(nfolios, sizeof(*folios));
	if (!folios) {
		ret = bench_fail(ctx, "out of memory for %zu folio addresses", nfolios);
		goto unmap_area;
	}
	ret = straddle(ctx, p, nfolios, aligned, folios);
	if (ret)
		goto free_folios;
	r->moved += whole_folio_count(folios, nfolios, folio);
	if (pipe2(fds, O_CLOEXEC)) {
		ret = bench_fail(ctx, "pipe2: %s", strerror(errno));
		goto free_folios;
	}
	fcntl(fds[1], F_SETPIPE_SZ, (int)(nfolios * 4096));
	n = fcntl(fds[1], F_GETPIPE_SZ) / 4096;
	n = n < nfolios ? n : nfolios;
	iov = calloc(n, sizeof(*iov));
	zap_ns = calloc(4 * n, sizeof(*zap_ns));
	if (!iov || !zap_ns) {
		ret = bench_fail(ctx, "out of memory for %zu iovecs", n);
		goto free_iov;
	}
	for (size_t i = 0; i < n; i++)	/* page 0: first half, the write's page table */
		iov[i] = (struct iovec){ folios[i], 4096 };
	ret = splice_pages(ctx, fds[1], iov, n);
	if (ret)
		goto free_iov;
	ret = reuse_race(ctx, folios, n, per, round, new, zap_ns, r);
	if (ret)
		goto free_iov;
	ret = spliced_check(ctx, fds[0], iov, n, old, new, &r->pages);
free_iov:
	free(zap_ns);
	free(iov);
	close(fds[0]), close(fds[1]);
free_folios:
	free(folios);
unmap_area:
	munmap(area, area_len);
unmap:
	munmap(p, len);	/* what mremap left of it */
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
	struct reuse_result reuse = { 0 };
	struct rmap_check c0, c1;
	int ret;

	rmap_check_read(&c0);
	ctx->scope = "race";
	window_begin(ctx);
	ret = readv_probe(ctx);
	for (unsigned long r = 0; !ret && r < params.zap_race_rounds; r++)
		ret = pin_round(ctx, r, &pin);
	for (unsigned long r = 0; !ret && r < params.zap_race_rounds; r++)
		ret = reuse_round(ctx, r, &reuse);
	window_end(ctx);
	if (!ret) {
		metric(ctx, "pin_pages", (double)pin.pages, "pages");
		metric(ctx, "pin_lost", (double)pin.lost, "pages");
		metric(ctx, "pin_corrupt", (double)pin.corrupt, "pages");
		metric(ctx, "pin_write_lost", (double)pin.write_lost, "pages");
		metric(ctx, "reuse_pages", (double)reuse.pages.pages, "pages");
		metric(ctx, "reuse_folios_whole", (double)reuse.moved, "folios");
		metric(ctx, "reuse_overlap", (double)reuse.overlap, "count");
		metric(ctx, "reuse_lost", (double)reuse.pages.lost, "pages");
		metric(ctx, "reuse_corrupt", (double)reuse.pages.corrupt, "pages");
		metric(ctx, "reuse_write_lost", (double)reuse.pages.write_lost, "pages");
	}
	ctx->scope = NULL;
	rmap_check_read(&c1);
	if (!ret)
		rmap_check_metrics(ctx, &c0, &c1);
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
	/* The same in one process, the folio across two page tables. */
	{ "race.reuse_overlap", METRIC_INFO, 0, "reuse_overlap", AGG_SUM },
	{ "race.reuse_lost", METRIC_INVARIANT, 0, "reuse_lost", AGG_SUM },
	{ "race.reuse_corrupt", METRIC_INVARIANT, 0, NULL, AGG_SUM },
	{ "race.reuse_write_lost", METRIC_INVARIANT, 0, NULL, AGG_SUM },
	RMAP_CHECK_METRICS,
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double torn = r->get(r, "race.readv_torn"), pages = r->get(r, "race.pin_pages");
	double bad = r->get(r, "race.readv_bad_pages") + r->get(r, "race.pin_lost") + r->get(r, "race.pin_corrupt");
	double reuse = r->get(r, "race.reuse_pages"), lost = r->get(r, "race.reuse_lost");
	double overlap = r->get(r, "race.reuse_overlap");
	double below = r->get(r, "kernel.unmap_ref_below_mapcount");
	char reads[64] = "no process_vm_readv";
	int n;

	if (isnan(pages))
		return;
	if (!isnan(torn))
		snprintf(reads, sizeof(reads), "%.0f reads overlapped a zap", torn);
	n = snprintf(buf, cap, "GUP during the zap on two CPUs: %s, %.0f pages pinned: %s", reads, pages,
		     isnan(bad) ? "not measured" : bad > 0 ? "PAGES WRONG OR LOST" : "no page wrong or lost");
	if (!isnan(reuse) && n > 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - n, "; %.0f spliced pages written (%.0f during the zap call): %s",
			      reuse, overlap, lost > 0 ? "REUSED UNDER THE PIPE" : "all copied");
	if (!isnan(below) && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - n, "; %.0f unmaps found refcount < mapcount", below);
}

const struct bench_info bench_zap_gup_race = {
	.name = "zap_gup_race",
	.version = 2,	/* 2: the reuse probe, in the same window */
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
