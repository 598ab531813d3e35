/* The benchmark layer of the guest program: parameters, the benchmark
 * interface, records, the measurement window (lib.c) and the scenario
 * pieces benchmarks share (scenario.c, settle.c, race.c).  The helpers it
 * builds on, libc alone, are in helpers.h. */
#ifndef RB_BENCH_H
#define RB_BENCH_H
#include <stddef.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "helpers.h"
#include "opts.h"

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
	int by_median;		/* exact and invariant: the sides' medians judged,
				 * not every run (a selftest case that fails in a
				 * minority of boots is flaky, not changed) */
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
	const char *arch;	/* the architecture the seed measured it on, as a
				 * variant's arch says it; NULL: arm64 (every seed so
				 * far: phones).  The report judges the claim on that
				 * architecture's variants and shows x86_64 beside. */
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
	int untimed;			/* its timing is shown, never judged: a gate
					 * reads its invariants alone (selftests) */
	int packed;			/* runs programs the host packs into the
					 * initramfs: not a default of run --host */
	const char *spread;		/* why its timed repetitions may spread
					 * over 2% under the instruction clock
					 * (compare says it), or NULL */
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
/* A helper's HELP_MISSING as a SKIP and HELP_FAILED as a FAIL, with its why. */
int bench_why(struct bench_ctx *ctx, int ret, const struct why *w);

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

/* The RB_TEST_* fault injection of our environment, space-separated ("" if
 * none): recorded with every run, which is then never taken as data. */
const char *test_faults(void);

/* --mm-cpus: the process pinned to CPU 0 (mm_home) and run on CPUs 1..N-1
 * before every window (mm_spread), so its mm is live on all of them; see
 * lib.c.  mm_spread returns the CPUs it ran on, -1 when a hop failed. */
int mm_home(void);
int mm_spread(void);

/* Scenario pieces shared by benchmarks (scenario.c): the helpers' setup
 * steps with their failures turned into a SKIP or FAIL with the reason. */
/* Only the named mTHP size (in kB, 0 for none) enabled as `mode`, every
 * other size set to never; ctx->mthp_dir names its folder. */
int thp_only_size(struct bench_ctx *ctx, unsigned long kb, const char *mode);
int swap_zram_on(struct bench_ctx *ctx, unsigned long mb);
int memcg_enter(struct bench_ctx *ctx, const char *name, char *dir, size_t cap);
/* The first two CPUs we may run on (a SKIP naming the option when there
 * is one) and the affinity we had, saved to put back. */
int two_cpus(struct bench_ctx *ctx, cpu_set_t *saved, int cpu[2]);

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
/* Dirty params.mthp_kb folios charged to the cgroup at dir. */
int memcg_region(struct bench_ctx *ctx, const char *dir, size_t len, char **out);

/* Settling the machine before a window (settle.c).  pcp_pin, in setup,
 * pins us to the CPU we are on (pcp_cpu) and checks the knobs may be
 * written; pcp_settle empties its per-CPU free-page list and gives it the
 * defaults' largest limit, and fills open with what zoneinfo shows then. */
extern int pcp_cpu;
int pcp_pin(struct bench_ctx *ctx);
int pcp_settle(struct bench_ctx *ctx, struct pcp_state *open);
/* Pending RCU callbacks run before a window, not inside it: the sleeps it
 * took, -1 when the RCU softirq never went quiet. */
int rcu_settle(void);
unsigned long long rcu_softirqs(void);	/* RCU softirqs so far on pcp_cpu (all if unpinned) */
/* This CPU's batches of new LRU pages drained before a window. */
int lru_settle(void);

/* The racer of ttu_sync_race and swap_ttu_race (race.c): it rewrites the
 * first PTE of the folio race_target names, on another CPU, until the next. */
int race_start(struct bench_ctx *ctx);
int race_register(struct bench_ctx *ctx, char *p, size_t len);
void race_target(char *t);
void race_stop(void);
unsigned long race_rewrites(void);	/* rewrites so far */
/* What became of the folios raced on, summed over rounds. */
struct race_outcome {
	unsigned long folios, partial, split, kept;
	unsigned long reclaimed;	/* lazyfree: every PTE none */
	unsigned long swapped;		/* swap-backed: every PTE a swap entry */
	unsigned long other;		/* swap-backed: anything else */
	long long kernel_partial;	/* nr_anon_partially_mapped moved, -1 unknown */
};
/* One round: the folios of [p, p+len) paged out one at a time under the
 * racer, each call timed, then classified by pagemap and kpageflags. */
int race_pageout(struct bench_ctx *ctx, char *p, size_t len, int swap_backed, struct race_outcome *o);
/* race.folios, partial, split and kernel_partial, as metrics. */
void race_outcome_metrics(struct bench_ctx *ctx, const struct race_outcome *o);
const char *race_partial_judge(const struct claim_view *v, char *evidence, size_t cap);
#endif
