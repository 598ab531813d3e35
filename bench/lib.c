/* Parameters, records of metrics and the measured window. */
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "record.h"

struct params params = {
	.reps = 5,
	.region_mb = 128,
	.mthp_kb = 64,
	.race_iterations = 24,
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
	/* A name ending in '*' declares every metric it begins (a family
	 * of one per case or program, e.g. "case.*"). */
	for (const struct metric_decl *m = b ? b->metrics : NULL; m && m->name; m++) {
		size_t n = strlen(m->name);

		if (!strcmp(m->name, metric) || (n > 1 && m->name[n - 1] == '*' && !strncmp(m->name, metric, n - 1)))
			return m;
	}
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

int bench_why(struct bench_ctx *ctx, int ret, const struct why *w)
{
	if (ret == HELP_MISSING)
		return bench_skip(ctx, "%s", w->text);
	if (ret == HELP_FAILED)
		return bench_fail(ctx, "%s", w->text);
	return BENCH_OK;
}

/* The counts of perf events (perf.c) as metrics. */
static void perf_metrics(struct bench_ctx *ctx)
{
	struct perf_count c[PERF_COUNTS_MAX];
	int n = perf_read(c, PERF_COUNTS_MAX);

	for (int i = 0; i < n; i++)
		if (c[i].why)
			metric_unsupported(ctx, c[i].name, c[i].unit, c[i].why);
		else
			metric(ctx, c[i].name, c[i].value, c[i].unit);
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
		if (mthp_stat(ctx->mthp_dir, mthp_stats[i], &w->mthp0[i]))
			w->mthp0[i] = UINT64_MAX;
	if (!ctx->b->uses_mthp || mthp_stat(ctx->mthp_dir, "nr_anon_partially_mapped", &w->partial0))
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
		perf_metrics(ctx);
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
		if (w->mthp0[i] == UINT64_MAX || mthp_stat(ctx->mthp_dir, mthp_stats[i], &v))
			metric_unsupported(ctx, name, "count", "no such mTHP stat");
		else
			metric(ctx, name, (double)(int64_t)(v - w->mthp0[i]), "count");
	}
	if (ctx->b->uses_mthp) {	/* a gauge: its change over the window */
		if (w->partial0 == UINT64_MAX || mthp_stat(ctx->mthp_dir, "nr_anon_partially_mapped", &v))
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
