/* Parameters, records of metrics and the measured window. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "record.h"

struct params params = {
	.reps = 5,
	.region_mb = 128,
	.mthp_kb = 64,
	.race_iterations = 6,
	.collapse_rounds = 50,
	.race_region_kb = 2048,
	.pt_region_mb = 51200,
	.zap_race_rounds = 20,
	.mm_cpus = 1,
};

const struct opt bench_params[] = {
	{ "reps", OPT_UINT, &params.reps, 1, 1000, "N", "repetitions of each benchmark" },
	{ "region-mb", OPT_UINT, &params.region_mb, 2, 16384, "MB",
	  "region of the timed mTHP and THP benchmarks (multiple of 2)" },
	{ "mthp-kb", OPT_UINT, &params.mthp_kb, 8, 1024, "KB", "mTHP size of the mTHP benchmarks" },
	{ "collapse-rounds", OPT_UINT, &params.collapse_rounds, 1, 100000, "N",
	  "rounds per repetition of collapse_race (a round retries EAGAIN)" },
	{ "race-iterations", OPT_UINT, &params.race_iterations, 1, 100000, "N",
	  "rounds per repetition of the race benchmarks" },
	{ "race-region-kb", OPT_UINT, &params.race_region_kb, 64, 1 << 20, "KB",
	  "region of each round of the race benchmarks" },
	{ "pt-region-mb", OPT_UINT, &params.pt_region_mb, 2, 1 << 22, "MB",
	  "region of pt_reclaim, one page touched per 2 MiB" },
	{ "zap-race-rounds", OPT_UINT, &params.zap_race_rounds, 1, 100000, "N",
	  "rounds of each GUP probe per repetition of zap_mthp" },
	{ "mm-cpus", OPT_UINT, &params.mm_cpus, 1, 8, "N",
	  "CPUs each benchmark's process runs on before every window, so its mm is live on "
	  "all of them (reclaim then defers and batches TLB flushes); instruction-clock boots get N vCPUs" },
	{ NULL }
};

int params_check(char *err, size_t cap)
{
	if (params.region_mb % 2)
		snprintf(err, cap, "option '--region-mb' is %lu; use a multiple of 2", params.region_mb);
	else if (params.mthp_kb & (params.mthp_kb - 1))
		snprintf(err, cap, "option '--mthp-kb' is %lu; use a power of two", params.mthp_kb);
	else if (params.race_region_kb % params.mthp_kb)
		snprintf(err, cap, "option '--race-region-kb' is %lu; use a multiple of --mthp-kb (%lu)",
			 params.race_region_kb, params.mthp_kb);
	else if (params.pt_region_mb % 2)
		snprintf(err, cap, "option '--pt-region-mb' is %lu; use a multiple of 2",
			 params.pt_region_mb);
	else
		return 0;
	return -1;
}

#define BENCH(n) &bench_##n,
const struct bench_info *const benches[] = {
#include "benches.h"
};
#undef BENCH
const int nbenches = sizeof(benches) / sizeof(benches[0]);

const struct bench_info *bench_find(const char *name)
{
	for (int i = 0; i < nbenches; i++)
		if (!strcmp(benches[i]->name, name))
			return benches[i];
	return NULL;
}

/* Parameters of every benchmark, named in none's list. */
static int param_universal(const char *param)
{
	return !strcmp(param, "reps") || !strcmp(param, "mm-cpus");
}

int bench_uses(const struct bench_info *b, const char *param)
{
	size_t len = strlen(param);

	if (param_universal(param))
		return 1;
	for (const char *p = b->params; *p; p += strcspn(p, ","), p += *p == ',')
		if (strcspn(p, ",") == len && !strncmp(p, param, len))
			return 1;
	return 0;
}

const char *bench_check(const struct bench_info *b)
{
	int known = 0, names = 1;

	if (!b->name || !b->version)
		return "no name or version";
	if (!b->setup || !b->run)
		return "no setup or run callback";
	if (!b->help || !b->params)
		return "no help or parameter list";
	for (const char *p = b->params; *p; p++)
		names += *p == ',';
	for (const struct opt *o = bench_params; o->name; o++)
		known += !param_universal(o->name) && bench_uses(b, o->name);
	if (*b->params && known != names)
		return "names an unknown parameter";
	for (const struct metric_decl *m = b->metrics; m && m->name; m++) {
		if (m->role > METRIC_INVARIANT || m->tolerance < 0)
			return "declares a metric with a bad role or tolerance";
		if (bench_metric(b, m->name) != m)
			return "declares a metric twice";
	}
	if (metric_role(b, bench_timing(b)) != METRIC_TIMING)
		return "its main timing is not declared a timing";
	for (const struct bench_claim *c = b->claims; c && c->text; c++)
		if (!c->base || !c->new || !c->judge || !c->seed)
			return "declares a claim without variants, judge or the seed's figure";
	return NULL;
}

const char *bench_timing(const struct bench_info *b)
{
	return b->timing ? b->timing : "time.wall";
}

const struct metric_decl *bench_metric(const struct bench_info *b, const char *metric)
{
	for (const struct metric_decl *m = b ? b->metrics : NULL; m && m->name; m++)
		if (!strcmp(m->name, metric))
			return m;
	return NULL;
}

enum metric_role metric_role(const struct bench_info *b, const char *metric)
{
	const struct metric_decl *m = bench_metric(b, metric);

	if (m)
		return m->role;
	/* Kernel warnings on the console are an invariant of every benchmark. */
	if (!strcmp(metric, "kernel.warnings"))
		return METRIC_INVARIANT;
	return strncmp(metric, "time.", 5) ? METRIC_INFO : METRIC_TIMING;
}

/* One payload line to the framer.  A pipe write of under PIPE_BUF bytes is
 * atomic, so threads of a benchmark cannot interleave lines. */
static void emit_line(struct bench_ctx *ctx, const char *payload)
{
	char line[RECORD_MAX_LINE];
	int n = snprintf(line, sizeof(line), "%s\n", payload);

	if (write(ctx->out, line, n) != n)
		_exit(3);	/* the framer is gone: nothing left to report to */
}

void emit(struct bench_ctx *ctx, const char *kind, ...)
{
	char payload[RECORD_MAX_LINE - 64];
	const char *k, *v;
	va_list ap;

	snprintf(payload, sizeof(payload), "%s", kind);
	va_start(ap, kind);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *)))
		record_field(payload, sizeof(payload), k, v);
	va_end(ap);
	emit_line(ctx, payload);
}

/* A sample of a counting repetition says so (kind=counting); a timed
 * one carries no kind. */
static const char *scoped(const struct bench_ctx *ctx, const char *name, char *buf, size_t cap)
{
	if (!ctx->scope)
		return name;
	snprintf(buf, cap, "%s.%s", ctx->scope, name);
	return buf;
}

void metric(struct bench_ctx *ctx, const char *name, double value, const char *unit)
{
	char rep[24], val[40], full[128];

	/* The host takes only finite numbers as values. */
	if (!isfinite(value)) {
		metric_unsupported(ctx, name, unit, "not a finite number");
		return;
	}
	snprintf(rep, sizeof(rep), "%lu", ctx->rep);
	snprintf(val, sizeof(val), "%.17g", value);
	emit(ctx, "sample", "rep", rep, "metric", scoped(ctx, name, full, sizeof(full)), "value", val,
	     "unit", unit, ctx->counting ? "kind" : NULL, "counting", NULL);
}

void metric_unsupported(struct bench_ctx *ctx, const char *name, const char *unit,
			const char *why)
{
	char rep[24], full[128];

	snprintf(rep, sizeof(rep), "%lu", ctx->rep);
	emit(ctx, "sample", "rep", rep, "metric", scoped(ctx, name, full, sizeof(full)), "value",
	     "unsupported", "unit", unit, "note", why, ctx->counting ? "kind" : NULL, "counting", NULL);
}

static int say(struct bench_ctx *ctx, const char *kind, int ret, const char *fmt, va_list ap)
{
	char why[512];

	vsnprintf(why, sizeof(why), fmt, ap);
	emit(ctx, kind, "reason", why, NULL);
	return ret;
}

int bench_skip(struct bench_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = say(ctx, "skip", BENCH_SKIP, fmt, ap);
	va_end(ap);
	return ret;
}

int bench_fail(struct bench_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = say(ctx, "fail", BENCH_FAIL, fmt, ap);
	va_end(ap);
	return ret;
}

/* perf stat can count exactly the same window: run the benchmarks under
 * `perf stat -D -1 --control fifo:CTL,ACK` with RB_PERF_CTL/RB_PERF_ACK
 * naming the same fifos. */
static void perf_stat_control(const char *cmd)
{
	static int ctl = -2, ack = -1;
	char buf[8];

	if (ctl == -2) {
		const char *c = getenv("RB_PERF_CTL"), *a = getenv("RB_PERF_ACK");

		ctl = c ? open(c, O_WRONLY | O_CLOEXEC) : -1;
		ack = a ? open(a, O_RDONLY | O_CLOEXEC) : -1;
	}
	if (ctl < 0)
		return;
	if (write(ctl, cmd, strlen(cmd)) < 0 || (ack >= 0 && read(ack, buf, sizeof(buf)) < 0))
		ctl = -1;
}

static void ipi_open(struct window *w);
static void ipi_close(struct bench_ctx *ctx);

static const char *const mthp_stats[] = {
	"anon_fault_alloc", "anon_fault_fallback", "split", "split_deferred", "split_failed",
	"swpout", "swpout_fallback", NULL
};

void window_open(struct bench_ctx *ctx)
{
	struct window *w = &ctx->win;
	const char *const *v = ctx->b->vmstat;

	/* First: the hops' own flushes and IPIs stay out of the counts. */
	if (params.mm_cpus > 1) {
		w->mm_cpus = mm_spread();
		ipi_open(w);
	}

	for (int i = 0; v && v[i] && i < MAX_COUNTERS; i++)
		if (vmstat(v[i], &w->vm0[i]))
			w->vm0[i] = UINT64_MAX;
	for (int i = 0; ctx->b->uses_mthp && mthp_stats[i]; i++)
		if (mthp_stat(ctx, mthp_stats[i], &w->mthp0[i]))
			w->mthp0[i] = UINT64_MAX;
	if (!ctx->b->uses_mthp || mthp_stat(ctx, "nr_anon_partially_mapped", &w->partial0))
		w->partial0 = UINT64_MAX;
	w->pte0_kb = status_kb("VmPTE");
	w->pagetables0_kb = meminfo_kb("PageTables");
	w->wall_sum = w->cpu_sum = 0;
	if (ctx->counting)
		perf_reset();
}

void measure_begin(struct bench_ctx *ctx)
{
	if (ctx->counting) {
		perf_stat_control("enable\n");
		perf_enable();
	}
	ctx->win.cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	ctx->win.wall0 = now_ns(CLOCK_MONOTONIC);
}

const char *test_faults(void)
{
	extern char **environ;
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "RB_TEST_", 8) && n < sizeof(buf))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "", *e);
	return buf;
}

/* Fault injection for the statistics experiments: RB_TEST_SLOWDOWN_PCT
 * stretches the window by that share of its length with a busy loop. */
static void injected_slowdown(uint64_t wall0)
{
	const char *pct = getenv("RB_TEST_SLOWDOWN_PCT");
	uint64_t until;

	if (!pct)
		return;
	until = now_ns(CLOCK_MONOTONIC);
	until += (until - wall0) * strtoul(pct, NULL, 10) / 100;
	while (now_ns(CLOCK_MONOTONIC) < until)
		;
}

void measure_end(struct bench_ctx *ctx)
{
	struct window *w = &ctx->win;
	uint64_t wall, cpu;

	injected_slowdown(w->wall0);
	wall = now_ns(CLOCK_MONOTONIC);
	cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (ctx->counting) {
		perf_disable();
		perf_stat_control("disable\n");
	}
	w->wall_sum += wall - w->wall0;
	if (cpu == UINT64_MAX || w->cpu0 == UINT64_MAX || w->cpu_sum == UINT64_MAX)
		w->cpu_sum = UINT64_MAX;
	else
		w->cpu_sum += cpu - w->cpu0;
}

void window_close(struct bench_ctx *ctx)
{
	uint64_t v;
	struct window *w = &ctx->win;
	const char *const *names = ctx->b->vmstat;
	char name[96];

	if (ctx->counting)
		perf_record(ctx);
	metric(ctx, "time.wall", (double)w->wall_sum, "ns");
	if (w->cpu_sum == UINT64_MAX)
		metric_unsupported(ctx, "time.cpu", "ns", "no process CPU clock (CONFIG_POSIX_TIMERS)");
	else
		metric(ctx, "time.cpu", (double)w->cpu_sum, "ns");
	for (int i = 0; names && names[i] && i < MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "vmstat.%s", names[i]);
		if (w->vm0[i] == UINT64_MAX || vmstat(names[i], &v))
			metric_unsupported(ctx, name, "count", "not in /proc/vmstat");
		else
			metric(ctx, name, (double)(int64_t)(v - w->vm0[i]), "count");
	}
	for (int i = 0; ctx->b->uses_mthp && mthp_stats[i]; i++) {
		snprintf(name, sizeof(name), "mthp.%s", mthp_stats[i]);
		if (w->mthp0[i] == UINT64_MAX || mthp_stat(ctx, mthp_stats[i], &v))
			metric_unsupported(ctx, name, "count", "no such mTHP stat");
		else
			metric(ctx, name, (double)(int64_t)(v - w->mthp0[i]), "count");
	}
	if (ctx->b->uses_mthp) {	/* a gauge: its change over the window */
		if (w->partial0 == UINT64_MAX || mthp_stat(ctx, "nr_anon_partially_mapped", &v))
			metric_unsupported(ctx, "mthp.nr_anon_partially_mapped", "folios",
					   "no such mTHP stat");
		else
			metric(ctx, "mthp.nr_anon_partially_mapped", (double)(int64_t)(v - w->partial0),
			       "folios");
	}
	if (w->pte0_kb >= 0) {
		metric(ctx, "status.VmPTE_before", (double)w->pte0_kb, "kB");
		metric(ctx, "status.VmPTE_after", (double)status_kb("VmPTE"), "kB");
	} else {
		metric_unsupported(ctx, "status.VmPTE_before", "kB", "no VmPTE in /proc/self/status");
	}
	if (w->pagetables0_kb >= 0) {
		metric(ctx, "meminfo.PageTables_before", (double)w->pagetables0_kb, "kB");
		metric(ctx, "meminfo.PageTables_after", (double)meminfo_kb("PageTables"), "kB");
	}
	if (params.mm_cpus > 1)
		ipi_close(ctx);
}

void window_begin(struct bench_ctx *ctx)
{
	window_open(ctx);
	measure_begin(ctx);
}

void window_end(struct bench_ctx *ctx)
{
	measure_end(ctx);
	window_close(ctx);
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
 * lazyfree_region and zap_mthp. */
#define RMAP_CHECK_PARAM "/sys/module/rmap/parameters/"

long long read_count(const char *path)
{
	char buf[64], *end;
	long long v;

	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	v = strtoll(buf, &end, 10);
	return end != buf && (*end == '\n' || !*end) && v >= 0 ? v : -1;
}

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

int mthp_fault_region(struct bench_ctx *ctx, size_t len, char val, char **out)
{
	size_t folio = params.mthp_kb << 10, want = len / folio;
	char *p = map_aligned(len, folio);
	uint64_t a0, a1;
	long whole;

	if (!p)
		return bench_fail(ctx, "mmap of %zu bytes: %s", len, strerror(errno));
	if (mthp_stat(ctx, "anon_fault_alloc", &a0)) {
		munmap(p, len);
		return bench_skip(ctx, "no %s/stats/anon_fault_alloc", ctx->mthp_dir);
	}
	madvise(p, len, MADV_HUGEPAGE);	/* the size is enabled for madvise only */
	touch_pages(p, len, val);
	mthp_stat(ctx, "anon_fault_alloc", &a1);
	whole = whole_folios(p, len, folio);
	if (whole >= 0 ? (size_t)whole != want : a1 - a0 < want) {
		munmap(p, len);
		return bench_skip(ctx, "kernel gave %ld of %zu %lu kB folios at fault (%llu allocated)",
				  whole, want, params.mthp_kb, (unsigned long long)(a1 - a0));
	}
	*out = p;
	return BENCH_OK;
}

/* The per-CPU free-page list (pcp) of the CPU a benchmark runs on holds
 * at most `high` pages (31,848 on a one-CPU 1 GiB guest).  What earlier
 * work left there (the page tables pt_reclaim freed, free THPs after
 * pmd_redirty's munmap) makes a measured call that frees pages spill the
 * excess into the buddy allocator, about 290 instructions an order-0 page,
 * so its timing would depend on what ran before.  The kernel also tunes
 * `high` as it goes (up on refills and full lists, down every second), so
 * it drifts from one repetition to the next.  pcp_settle, right before a
 * window, empties the list down to the least limit the kernel allows (4 x
 * batch), then gives it back the limit the defaults reach (managed pages
 * / 8 per CPU), and /proc/zoneinfo must show it so.  Allocating pages
 * cannot empty it: order-0 faults never take the THPs parked on their own
 * list, and refill the order-0 list in batches of up to 2016 pages whose
 * rest zoneinfo (one count for all lists) cannot tell. */
#define STAT_REFRESH "/proc/sys/vm/stat_refresh"

int pcp_cpu = -1;

int pcp_pin(struct bench_ctx *ctx)
{
	char buf[32], value[32];
	struct pcp_state s;
	cpu_set_t one;
	int cpu = sched_getcpu();

	CPU_ZERO(&one);
	if (cpu >= 0)
		CPU_SET(cpu, &one);
	if (cpu < 0 || sched_setaffinity(0, sizeof(one), &one))
		return bench_fail(ctx, "sched_setaffinity to CPU %d: %s", cpu, strerror(errno));
	if (pcp_read(cpu, &s))
		return bench_skip(ctx, "no pagesets of CPU %d in /proc/zoneinfo", cpu);
	/* Writing the value it has is a no-op that proves we may write it. */
	if (read_text(PCP_FRACTION_KNOB, buf, sizeof(buf)) <= 0 || parse_knob(buf, value, sizeof(value)) ||
	    write_text(PCP_FRACTION_KNOB, value))
		return bench_skip(ctx, "cannot read and write %s: %s (run as root)", PCP_FRACTION_KNOB,
				  strerror(errno));
	if (access(STAT_REFRESH, W_OK))
		return bench_skip(ctx, "cannot write %s: %s (run as root)", STAT_REFRESH, strerror(errno));
	pcp_cpu = cpu;
	return BENCH_OK;
}

/* One try; spare is two touched pages of our own.  A fraction so large
 * that every limit falls to its floor (4 x batch), one page freed so that
 * our list takes that limit (and spills), stat_refresh to drain what is
 * above it (decay_pcp_high frees count - high); then the fraction 8, which
 * fixes the limit at the defaults' largest (managed / 8 per CPU), another
 * page freed so that our list takes it, and the old fraction back: with 0
 * the limit stays until the kernel tunes it again, as it would after the
 * faults of setup.  The parent restores the fraction too, whatever
 * becomes of us. */
static int pcp_settle_once(struct bench_ctx *ctx, char *spare)
{
	char buf[32], old[32];
	int ret = BENCH_OK;

	if (read_text(PCP_FRACTION_KNOB, buf, sizeof(buf)) <= 0 || parse_knob(buf, old, sizeof(old)))
		return bench_skip(ctx, "cannot read %s: %s", PCP_FRACTION_KNOB, strerror(errno));
	/* MADV_COLD drains the per-CPU batch of new LRU pages, which holds a
	 * reference to the spare pages: 7.3's MADV_DONTNEED no longer drains
	 * it, and a page it holds is not freed by the zap. */
	if (madvise(spare, 2 * 4096, MADV_COLD))
		return bench_skip(ctx, "madvise(MADV_COLD): %s", strerror(errno));
	if (write_text(PCP_FRACTION_KNOB, "1000000000"))
		return bench_skip(ctx, "cannot write %s: %s", PCP_FRACTION_KNOB, strerror(errno));
	madvise(spare, 4096, MADV_DONTNEED);
	if (write_text(STAT_REFRESH, "1"))
		ret = bench_skip(ctx, "cannot write %s: %s", STAT_REFRESH, strerror(errno));
	else if (write_text(PCP_FRACTION_KNOB, strcmp(old, "0") ? old : "8"))
		ret = bench_skip(ctx, "cannot write %s: %s", PCP_FRACTION_KNOB, strerror(errno));
	madvise(spare + 4096, 4096, MADV_DONTNEED);
	if (write_text(PCP_FRACTION_KNOB, old))
		ret = bench_fail(ctx, "cannot restore %s to %s: %s", PCP_FRACTION_KNOB, old, strerror(errno));
	return ret;
}

/* Settled: the floor limit (4 x batch), and at most one refill that the
 * kernel's own allocations on the way here may take from the buddy
 * allocator into a list the drain emptied (126 pages = 2 x batch seen on
 * 6.12: the settle's frees leave the refill factor at 1 or less).  On a
 * busy machine other tasks on our CPU may refill it again: three tries. */
int pcp_settle(struct bench_ctx *ctx, struct pcp_state *open)
{
	/* Mapped once and kept: an munmap here would free its page table
	 * after the settle (through RCU, see rcu_settle). */
	static char *spare;
	int ret;

	if (!spare && (spare = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) ==
		      MAP_FAILED) {
		spare = NULL;
		return bench_fail(ctx, "mmap of 2 pages: %s", strerror(errno));
	}
	for (int try = 1;; try++) {
		spare[0] = spare[4096] = 1;
		ret = pcp_settle_once(ctx, spare);
		if (ret != BENCH_OK)
			return ret;
		if (!pcp_read(pcp_cpu, open) && open->count <= 8 * open->batch)
			return BENCH_OK;
		if (try == 3)
			return bench_skip(ctx, "the pcp list of CPU %d holds %ld pages before the window, "
					  "more than %ld (8 x batch), after %d tries to settle it", pcp_cpu,
					  open->count, 8 * open->batch, try);
	}
}

/* The RCU softirqs so far on the CPU we are pinned to (pcp_cpu; every CPU
 * when not pinned), from /proc/softirqs; 0 when unknown. */
unsigned long long rcu_softirqs(void)
{
	static char buf[64 << 10];	/* static: no page of ours faulted in here */
	unsigned long long sum = 0, v;
	char *l, *end;

	if (read_text("/proc/softirqs", buf, sizeof(buf)) <= 0 || !(l = strstr(buf, " RCU:")))
		return 0;
	l += 5;
	for (int cpu = 0;; cpu++) {
		v = strtoull(l, &end, 10);
		if (end == l)
			break;
		if (pcp_cpu < 0 || cpu == pcp_cpu)
			sum += v;
		l = end;
	}
	return sum;
}

/* Callbacks queued with call_rcu() run in the RCU softirq on the CPU that
 * queued them, a grace period later: the page tables an earlier process
 * freed at its exit or munmap (x86 frees page tables through RCU) are
 * freed then, page by page, inside whatever window is open.  Sleeping lets
 * the ticks end the grace period and run them; we sleep 4 ms (a tick at
 * HZ=250) at a time until one passes without an RCU softirq on our CPU, at
 * most 250 times (a busy host may never be quiet).  Returns the sleeps, or
 * -1 when it never went quiet. */
int rcu_settle(void)
{
	unsigned long long before = rcu_softirqs(), now;
	struct timespec tick = { 0, 4000000 };

	for (int i = 1; i <= 250; i++) {
		nanosleep(&tick, NULL);
		now = rcu_softirqs();
		if (now == before)
			return i;
		before = now;
	}
	return -1;
}

/* MADV_PAGEOUT and MADV_COLD begin with lru_add_drain(): the folios that
 * setup's own faults and reads left in this CPU's batches of new LRU pages
 * are put on the LRU lists then, by whichever call comes first.  MADV_COLD
 * of a page of our own, right before a window, makes that ours (1,815
 * instructions in pmd_redirty's first window on 7.3-pmd-discard, whose
 * window is 129,091).  -1 when it failed. */
int lru_settle(void)
{
	static char *spare;

	if (!spare && (spare = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) ==
		      MAP_FAILED) {
		spare = NULL;
		return -1;
	}
	spare[0] = 1;
	return madvise(spare, 4096, MADV_COLD);
}

/* --mm-cpus N.  x86 reclaim defers a TLB flush and batches it only when
 * the mm may be live on another CPU: arch_tlbbatch_should_defer() looks
 * for another CPU in mm_cpumask(), where a CPU stays after it ran the mm
 * until a flush trims it (at most once a second).  One hop to each other
 * CPU right before the window puts it there, as on a loaded machine.
 * arm64 always defers and broadcasts its TLBIs; there the hop makes the
 * other CPUs hold the mm's entries when they are invalidated.  The
 * process lives on CPU 0 (mm_home, before setup) so that the window runs
 * on the same CPU in every boot; a benchmark that needs CPUs at once
 * (.parallel) is left unpinned. */
int mm_home(void)
{
	cpu_set_t zero;

	CPU_ZERO(&zero);
	CPU_SET(0, &zero);
	return sched_setaffinity(0, sizeof(zero), &zero);
}

static int run_on(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	/* sched_setaffinity() moves a running task before it returns. */
	return sched_setaffinity(0, sizeof(one), &one) || sched_getcpu() != cpu ? -1 : 0;
}

int mm_spread(void)
{
	int home = sched_getcpu(), ran = 1, bad = 0;
	cpu_set_t old;

	if (home < 0 || sched_getaffinity(0, sizeof(old), &old))
		return -1;
	/* RB_TEST_NO_HOP: the mode without its hop, to show the test fail. */
	for (int cpu = 0; cpu < (int)params.mm_cpus && !getenv("RB_TEST_NO_HOP"); cpu++) {
		if (cpu == home)
			continue;
		if (run_on(cpu))
			bad = 1;
		else
			ran++;
	}
	bad |= run_on(home);
	bad |= sched_setaffinity(0, sizeof(old), &old);
	return bad ? -1 : ran;
}

/* IPIs received, all CPUs, by /proc/interrupts row (--mm-cpus): a flush
 * that reached another CPU by IPI shows here. */
static const char *const ipi_rows[][2] = {
	{ "ipi.tlb_shootdown", "TLB shootdowns" },
	{ "ipi.function_call", "Function call interrupts" },
	{ "ipi.rescheduling", "Rescheduling interrupts" },
};
#define NIPI (int)(sizeof(ipi_rows) / sizeof(ipi_rows[0]))

static void ipi_open(struct window *w)
{
	for (int i = 0; i < NIPI; i++)
		if (interrupts(ipi_rows[i][1], &w->ipi0[i]))
			w->ipi0[i] = UINT64_MAX;
}

static void ipi_close(struct bench_ctx *ctx)
{
	uint64_t v;

	metric(ctx, "mm.cpus", ctx->win.mm_cpus, "cpus");
	for (int i = 0; i < NIPI; i++)
		if (ctx->win.ipi0[i] == UINT64_MAX || interrupts(ipi_rows[i][1], &v))
			metric_unsupported(ctx, ipi_rows[i][0], "ipis", "no such row in /proc/interrupts");
		else
			metric(ctx, ipi_rows[i][0], (double)(int64_t)(v - ctx->win.ipi0[i]), "ipis");
}

int two_cpus(struct bench_ctx *ctx, cpu_set_t *saved, int cpu[2])
{
	int n = 0;

	if (sched_getaffinity(0, sizeof(*saved), saved))
		return bench_fail(ctx, "sched_getaffinity: %s", strerror(errno));
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, saved))
			cpu[n++] = c;
	if (n < 2)
		return bench_skip(ctx, "%d CPU usable: the race needs two running at once "
				  "(boot with --guest-cpus 2 or more)", n);
	return BENCH_OK;
}

int thread_pin(pthread_t t, int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(t, sizeof(s), &s);
}
