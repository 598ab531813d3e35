/* The guest-side benchmark library: parameters, the benchmark interface,
 * the measurement window (time, /proc and sysfs counters, perf events),
 * kernel knobs and the parsers of the kernel's text files. */
#ifndef RB_BENCH_H
#define RB_BENCH_H
#include <stddef.h>
#include <stdint.h>

#include "opts.h"

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

/* Benchmark parameters: one table (bench_params) declares them. */
struct params {
	unsigned long reps;
	unsigned long region_mb;
	unsigned long mthp_kb;
	unsigned long race_iterations;
	unsigned long race_region_kb;
	unsigned long pt_region_mb;
	unsigned long zap_race_rounds;
};
extern struct params params;
extern const struct opt bench_params[];
/* Checks between parameters; a one-line message in err. */
int params_check(char *err, size_t cap);

struct bench_ctx;

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
/* Whether b uses the parameter (reps: always). */
int bench_uses(const struct bench_info *b, const char *param);
/* Checks a table entry is complete; returns a reason or NULL. */
const char *bench_check(const struct bench_info *b);

#define MAX_COUNTERS 32

struct window {
	uint64_t wall0, cpu0;
	uint64_t vm0[MAX_COUNTERS];
	uint64_t mthp0[MAX_COUNTERS];
	long long pte0_kb, pagetables0_kb;
};

struct bench_ctx {
	const struct bench_info *b;
	int out;		/* payload lines go here (a pipe to the framer) */
	unsigned long rep;
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

/* The measured window: counters read, perf enabled, clock read; then the
 * reverse, and every metric recorded for ctx->rep. */
void window_begin(struct bench_ctx *ctx);
void window_end(struct bench_ctx *ctx);

/* perf events around the window (perf.c). */
int perf_open(void);
void perf_enable(void);
void perf_disable_and_record(struct bench_ctx *ctx);
void perf_close(void);

/* Files of /proc and /sys. */
int read_text(const char *path, char *buf, size_t cap);
int write_text(const char *path, const char *value);
uint64_t now_ns(int clock);
/* Parsers on text, so they can be tested on fixtures: -1 when missing. */
int parse_vmstat(const char *text, const char *name, uint64_t *value);
int parse_status_kb(const char *text, const char *name, long long *kb);
int parse_knob(const char *text, char *choice, size_t cap);
/* Readers of the running kernel's files. */
int vmstat(const char *name, uint64_t *value);
int mthp_stat(const struct bench_ctx *ctx, const char *name, uint64_t *value);
long long status_kb(const char *name);	/* /proc/self/status, -1 if absent */
long long meminfo_kb(const char *name);	/* /proc/meminfo, -1 if absent */
/* Sum of an smaps field (such as AnonHugePages) over the mappings that
 * overlap [start, end); -1 when none has it.  mapping_kb reads our own. */
long long smaps_kb(const char *text, const char *field, unsigned long start, unsigned long end);
long long mapping_kb(const void *p, size_t len, const char *field);

/* Kernel knobs: the parent saves all THP knobs before a benchmark and
 * restores them after it, whatever became of the child. */
int knobs_save(void);
int knobs_restore(void);
int knob_set(struct bench_ctx *ctx, const char *rel, const char *value);
/* Only the named mTHP size (in kB, 0 for none) enabled as `mode`, every
 * other size set to never. */
int thp_only_size(struct bench_ctx *ctx, unsigned long kb, const char *mode);

/* Fault in len bytes of params.mthp_kb folios and MADV_FREE them. */
int lazyfree_region(struct bench_ctx *ctx, char **out, size_t len);

/* Memory helpers. */
int pagemap_read(const void *p, size_t pages, uint64_t *entries);
/* How many folio-sized pieces of [p, p+len) are backed by one naturally
 * aligned run of physical pages (needs root for the PFNs; -1 when unknown). */
long whole_folios(const void *p, size_t len, size_t folio);
/* Pages of [p, p+len) the pagemap shows present; -1 when unreadable. */
long present_pages(const void *p, size_t len);
void *map_aligned(size_t len, size_t align);
void touch_pages(void *p, size_t len, char val);
#endif
