/* The guest-side benchmark library: parameters, the benchmark interface,
 * the measurement window (time, /proc and sysfs counters, perf events),
 * kernel knobs and the parsers of the kernel's text files. */
#ifndef RB_BENCH_H
#define RB_BENCH_H
#include <stddef.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "opts.h"

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define PCP_FRACTION_KNOB "/proc/sys/vm/percpu_pagelist_high_fraction"

/* Benchmark parameters: one table (bench_params) declares them. */
struct params {
	unsigned long reps;
	unsigned long region_mb;
	unsigned long mthp_kb;
	unsigned long race_iterations;
	unsigned long collapse_rounds;
	unsigned long race_region_kb;
	unsigned long pt_region_mb;
	unsigned long zap_race_rounds;
	unsigned long mm_cpus;
};
extern struct params params;
extern const struct opt bench_params[];
/* Checks between parameters; a one-line message in err. */
int params_check(char *err, size_t cap);

struct bench_ctx;

/* How the host reads a metric.  Each benchmark declares its own, so the
 * rest of the program never names a benchmark; a metric it does not
 * declare is a timing when its name starts with "time.", else shown only. */
enum metric_role {
	METRIC_INFO,		/* shown, never judged */
	METRIC_TIMING,		/* judged by significance and effect size */
	METRIC_EXACT,		/* an exact count: any change is shown */
	METRIC_INVARIANT,	/* correctness: a change fails compare and gate */
};
enum agg { AGG_MEDIAN, AGG_SUM, AGG_MAX };

struct metric_decl {
	const char *name;	/* as recorded, e.g. "mthp.split_deferred" */
	enum metric_role role;
	double tolerance;	/* exact and invariant: largest change still the same */
	const char *column;	/* title of its summary column, or NULL */
	enum agg agg;		/* how a run's repetitions make the column's value */
	const char *of;		/* a count of events among this metric's total
				 * (e.g. folios): judged as a rate, by an exact test */
};

/* What the host hands a benchmark's finding and claim: one run's values,
 * each aggregated as its declaration says (NAN when absent). */
struct run_view {
	const char *variant;
	double (*get)(const struct run_view *v, const char *metric);
	const void *host;
};
/* One metric of two runs compared by the host's verdict rules, with the
 * timing shown in its unit ("ms" or "M instr"). */
struct verdict_view {
	double base, new, ratio, lo, hi, p;
	const char *verdict, *unit;
};
/* The newest comparable runs of a claim's two variants. */
struct claim_view {
	const struct run_view *base, *new;
	void (*compare)(const struct claim_view *v, const char *metric, struct verdict_view *out);
	const void *host;
};
/* A claim of a seed mail this benchmark backs, judged on the ablation pair:
 * the two variants that differ by that feature alone (6.12 -> 7.3 differs
 * in much more, and the report shows it only as context). */
struct bench_claim {
	const char *text;	/* the claim, HTML-safe text */
	const char *base, *new;	/* the variants it compares */
	/* Returns "reproduced" or "not reproduced" and writes the evidence.
	 * "reproduced" needs the verdict significant in the claimed direction
	 * and the invariants moved as claimed, on both sides. */
	const char *(*judge)(const struct claim_view *v, char *evidence, size_t cap);
	const char *seed;	/* the seed's own figure, with its units and where it
				 * was measured (HTML-safe text) */
};

/* Return values of setup and run. */
enum { BENCH_OK = 0, BENCH_SKIP = 1, BENCH_FAIL = -1 };

struct bench_info {
	const char *name;
	unsigned int version;		/* stored with every result */
	const char *params;		/* the parameters it uses, comma-separated */
	const char *help;
	const char *const *vmstat;	/* /proc/vmstat fields read around the window */
	int uses_mthp;			/* read mTHP stats of params.mthp_kb */
	int parallel;			/* needs CPUs running at once (no -icount) */
	/* For the host: the main timing, the metrics it judges, what a run
	 * shows in words, the seed claims it backs. */
	const char *timing;		/* default "time.wall" */
	const struct metric_decl *metrics;	/* ends with a NULL name */
	void (*finding)(const struct run_view *r, char *buf, size_t cap);
	const struct bench_claim *claims;	/* ends with a NULL text */
	int (*setup)(struct bench_ctx *ctx);	/* knobs and feature checks, once */
	int (*run)(struct bench_ctx *ctx);	/* one repetition */
	void (*teardown)(struct bench_ctx *ctx);
};

#define BENCH(n) extern const struct bench_info bench_##n;
#include "benches.h"
#undef BENCH
extern const struct bench_info *const benches[];
extern const int nbenches;
const struct bench_info *bench_find(const char *name);
/* Whether b uses the parameter (reps and mm-cpus: always). */
int bench_uses(const struct bench_info *b, const char *param);
/* Checks a table entry is complete; returns a reason or NULL. */
const char *bench_check(const struct bench_info *b);
/* The main timing and the declaration of a metric (NULL: undeclared). */
const char *bench_timing(const struct bench_info *b);
const struct metric_decl *bench_metric(const struct bench_info *b, const char *metric);
enum metric_role metric_role(const struct bench_info *b, const char *metric);

#define MAX_COUNTERS 32

struct window {
	uint64_t wall0, cpu0, wall_sum, cpu_sum;
	uint64_t vm0[MAX_COUNTERS];
	uint64_t mthp0[MAX_COUNTERS], partial0;
	long long pte0_kb, pagetables0_kb;
	int mm_cpus;			/* CPUs mm_spread ran us on (--mm-cpus) */
	uint64_t ipi0[3];		/* IPI rows of /proc/interrupts (--mm-cpus) */
};

struct bench_ctx {
	const struct bench_info *b;
	int out;		/* payload lines go here (a pipe to the framer) */
	unsigned long rep;
	int counting;		/* a counting repetition: perf events on */
	char mthp_dir[128];	/* hugepages-<size>kB folder, when uses_mthp */
	void *priv;		/* the benchmark's own state */
	const char *scope;	/* when set, "scope." prefixes every metric name, so
				 * one repetition can hold several windows */
	struct window win;
};

/* Records (payload lines; the parent frames them). */
void emit(struct bench_ctx *ctx, const char *kind, ...);	/* key, value pairs, NULL */
void metric(struct bench_ctx *ctx, const char *name, double value, const char *unit);
void metric_unsupported(struct bench_ctx *ctx, const char *name, const char *unit,
			const char *why);
int bench_skip(struct bench_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int bench_fail(struct bench_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The measured window.  Repetitions come in two kinds: a timed one holds
 * nothing but the measured call and two clock reads; a counting one runs
 * the same scenario with perf events (tracepoints among them, whose cost
 * grows with the work) counting around the call, and its samples are
 * marked "counting".  /proc and sysfs counters are read outside, in both.
 *
 * window_open reads the counters, measure_begin and measure_end bracket
 * one measured call (a benchmark with several calls brackets each; time
 * and perf counts add up), window_close records every metric for
 * ctx->rep.  window_begin/window_end are the one-call case. */
void window_open(struct bench_ctx *ctx);
void measure_begin(struct bench_ctx *ctx);
void measure_end(struct bench_ctx *ctx);
void window_close(struct bench_ctx *ctx);
void window_begin(struct bench_ctx *ctx);
void window_end(struct bench_ctx *ctx);

/* perf events of counting repetitions (perf.c): opened before one, closed
 * after it, so that a timed repetition has no event registered at all. */
int perf_open(void);
void perf_reset(void);
void perf_enable(void);
void perf_disable(void);
void perf_record(struct bench_ctx *ctx);
void perf_close(void);

/* The RB_TEST_* fault injection of our environment, space-separated ("" if
 * none): recorded with every run, which is then never taken as data. */
const char *test_faults(void);

/* Files of /proc and /sys. */
int read_text(const char *path, char *buf, size_t cap);
long long read_count(const char *path);	/* a file holding one count; -1 if absent or not one */
int write_text(const char *path, const char *value);
uint64_t now_ns(int clock);
uint64_t clock_step_ns(int clock);	/* smallest nonzero step seen, 0 if none */
/* Parsers on text, so they can be tested on fixtures: -1 when missing. */
int parse_vmstat(const char *text, const char *name, uint64_t *value);
int parse_status_kb(const char *text, const char *name, long long *kb);
int parse_knob(const char *text, char *choice, size_t cap);
int parse_interrupts(const char *text, const char *desc, uint64_t *sum);
int parse_tracepoint_enum(const char *format, const char *text);
/* Readers of the running kernel's files. */
int vmstat(const char *name, uint64_t *value);
int mthp_stat(const struct bench_ctx *ctx, const char *name, uint64_t *value);
long long status_kb(const char *name);	/* /proc/self/status, -1 if absent */
long long meminfo_kb(const char *name);	/* /proc/meminfo, -1 if absent */
int interrupts(const char *desc, uint64_t *sum);	/* /proc/interrupts, all CPUs */
/* One CPU's per-CPU free-page list (pcp) in /proc/zoneinfo, of the zone
 * with the most managed pages (where user pages come from): pages on it
 * (all orders), its limit and its refill/drain batch.  -1 when absent. */
struct pcp_state {
	long count, high, batch;
};
int parse_pcp(const char *zoneinfo, int cpu, struct pcp_state *s);
int pcp_read(int cpu, struct pcp_state *s);
/* Settling the pcp list before a window (see lib.c): pcp_pin, in setup,
 * pins us to the CPU we are on (pcp_cpu) and checks the knobs may be
 * written; pcp_settle empties its list and gives it the defaults' largest
 * limit, and fills open with what zoneinfo shows then. */
extern int pcp_cpu;
int pcp_pin(struct bench_ctx *ctx);
/* The races: the first two CPUs we may run on (a SKIP naming the option
 * when there is one), the affinity we had saved to put back, and a
 * thread pinned to one CPU (0 or an errno). */
int two_cpus(struct bench_ctx *ctx, cpu_set_t *saved, int cpu[2]);
int thread_pin(pthread_t t, int cpu);
int pcp_settle(struct bench_ctx *ctx, struct pcp_state *open);
/* Pending RCU callbacks run before a window, not inside it (see lib.c):
 * the sleeps it took, -1 when the RCU softirq never went quiet. */
int rcu_settle(void);
/* --mm-cpus: the process pinned to CPU 0 (mm_home) and run on CPUs 1..N-1
 * before every window (mm_spread), so its mm is live on all of them; see
 * lib.c.  mm_spread returns the CPUs it ran on, -1 when a hop failed. */
int mm_home(void);
int mm_spread(void);
/* This CPU's batches of new LRU pages drained before a window (see lib.c). */
int lru_settle(void);
unsigned long long rcu_softirqs(void);	/* RCU softirqs so far on pcp_cpu (all if unpinned) */
/* Sum of an smaps field (such as AnonHugePages) over the mappings that
 * overlap [start, end); -1 when none has it.  mapping_kb reads our own. */
long long smaps_kb(const char *text, const char *field, unsigned long start, unsigned long end);
long long mapping_kb(const void *p, size_t len, const char *field);

/* Kernel knobs: the parent saves all THP knobs (and the pcp high
 * fraction, see pt_reclaim) before a benchmark and
 * restores them after it, whatever became of the child. */
int knobs_save(void);
int knobs_restore(void);
int knob_set(struct bench_ctx *ctx, const char *rel, const char *value);
/* Only the named mTHP size (in kB, 0 for none) enabled as `mode`, every
 * other size set to never. */
int thp_only_size(struct bench_ctx *ctx, unsigned long kb, const char *mode);

#define PMD_SIZE (2UL << 20)
/* Fault in len bytes of PMD-mapped THPs at p (aligned) and MADV_FREE them,
 * each step proven (else a SKIP with the reason). */
int lazyfree_pmd_region(struct bench_ctx *ctx, char *p, size_t len);

/* Seed 003's rule, refcount never below mapcount, counted by the test-only
 * kernels/patches/7.3/test-mapcount-check.patch (kernels/controls.conf):
 * large-folio PTE unmaps checked, those that found the refcount below the
 * mapcount, and write-fault reuse checks that did; -1 when the kernel has
 * no such counters.  rmap_check_metrics records the change as
 * kernel.rmap_unmap_checked, kernel.unmap_ref_below_mapcount and
 * kernel.reuse_ref_below_mapcount, nothing when absent. */
struct rmap_check {
	long long checked, unmap_below, reuse_below;
};
/* Their rows in a benchmark's metric table. */
#define RMAP_CHECK_METRICS \
	{ "kernel.rmap_unmap_checked", METRIC_INFO, 0, NULL, AGG_SUM }, \
	{ "kernel.unmap_ref_below_mapcount", METRIC_INVARIANT, 0, "ref<map", AGG_SUM }, \
	{ "kernel.reuse_ref_below_mapcount", METRIC_INVARIANT, 0, NULL, AGG_SUM }
void rmap_check_read(struct rmap_check *c);
void rmap_check_metrics(struct bench_ctx *ctx, const struct rmap_check *before, const struct rmap_check *after);

/* Fault in len bytes of params.mthp_kb folios holding val, proven whole. */
int mthp_fault_region(struct bench_ctx *ctx, size_t len, char val, char **out);
/* Fault in len bytes of params.mthp_kb folios and MADV_FREE them. */
int lazyfree_region(struct bench_ctx *ctx, char **out, size_t len);

/* Memory helpers. */
int pagemap_read(const void *p, size_t pages, uint64_t *entries);
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_PFN(e) ((e) & ((1ULL << 55) - 1))
/* The /proc/kpageflags word of a page frame; -1 when unreadable. */
int kpageflags(uint64_t pfn, uint64_t *flags);
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
/* How many folio-sized pieces of [p, p+len) are backed by one naturally
 * aligned run of physical pages (needs root for the PFNs; -1 when unknown). */
long whole_folios(const void *p, size_t len, size_t folio);
/* Pages of [p, p+len) the pagemap shows present; -1 when unreadable. */
long present_pages(const void *p, size_t len);
void *map_aligned(size_t len, size_t align);
void touch_pages(void *p, size_t len, char val);
/* Swap and a memory cgroup (swap.c), for the swap-backed benchmarks. */
int swap_header_fill(unsigned char *page, size_t page_size, uint64_t area_bytes);
int swap_areas(void);	/* areas in /proc/swaps, -1 without it */
int swap_zram_on(struct bench_ctx *ctx, unsigned long mb);
void swap_zram_off(void);
int memcg_enter(struct bench_ctx *ctx, const char *name, char *dir, size_t cap);
void memcg_leave(const char *dir);
long long memcg_value(const char *dir, const char *file);
int memcg_stat(const char *dir, const char *name, uint64_t *value);
int memcg_region(struct bench_ctx *ctx, const char *dir, size_t len, char **out);
long swapped_pages(const void *p, size_t len);
/* ttu_sync_race's racer, shared with swap_ttu_race: it rewrites the first
 * PTE of the folio race_target names, on another CPU, until the next. */
int race_start(struct bench_ctx *ctx);
int race_register(struct bench_ctx *ctx, char *p, size_t len);
void race_target(char *t);
void race_stop(void);
const char *race_partial_judge(const struct claim_view *v, char *evidence, size_t cap);
#endif
