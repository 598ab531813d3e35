/* reclaimbench: the host-side program.  One subcommand table (main.c);
 * one file per part of the data flow. */
#ifndef RECLAIMBENCH_H
#define RECLAIMBENCH_H
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "../bench/bench.h"

/* Exit codes: a contract (the README's "Exit codes"). */
enum { EXIT_OK = 0, EXIT_VERDICT = 1, EXIT_USAGE = 2, EXIT_INFRA = 3 };

/* util.c */
void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *read_file(const char *path, size_t *len);
const char *self_dir(void);		/* folder of this executable */
const char *cache_dir(void);		/* $RECLAIMBENCH_CACHE or XDG cache */
char *now_iso(void);
double now_s(void);			/* seconds on the monotonic clock */
uint64_t fnv1a(const void *data, size_t len, uint64_t h);
char *joined_argv(int argc, char **argv);
int run_cmd(char *const argv[], const char *log);	/* exit status, -1 */
char *cmd_output(char *const argv[], int both, int *status);	/* its stdout (and stderr) */
int mkdirs(const char *path);
int parse_args(const struct opt *const *tables, int argc, char **argv, const char *usage);
void parse_options(const struct opt *const *tables, int argc, char **argv, const char *usage);

/* escape.c: text from outside on its way out.  shown() for a terminal
 * (control characters and bytes that are not UTF-8 as \xNN; valid for
 * eight more calls), shown_lines() the same keeping newlines and tabs. */
const char *shown(const char *s);
const char *shown_lines(const char *s);
void json_string(FILE *f, const char *s);	/* a quoted JSON string, valid UTF-8 */
void csv_field(FILE *f, const char *s);		/* an RFC 4180 field */

/* db.c */
/* The values of one metric of a run in repetition order, from one kind of
 * repetition ("timed", "counting"), or with kind NULL from the kind that
 * holds it (timed first: a timing never comes from a counting one). */
int db_samples_kind(sqlite3 *db, long long run, const char *metric, const char *kind, double **out);
#define db_samples(db, run, metric, out) db_samples_kind(db, run, metric, NULL, out)
extern const char *const schema_sql[];	/* generated from schema/ */
extern const int schema_count;
sqlite3 *db_open(const char *path);	/* dies with exit 2 on bad input */
void db_close(sqlite3 *db);
int64_t db_machine(sqlite3 *db);	/* this host, inserted if new */
struct kernel_info {
	const char *release, *version, *variant, *build_id, *source, *patches_hash,
		*config_hash, *cmdline;
	const char *patchset_sha256;	/* KCIDB's patchset_hash: "" no patches, NULL unknown */
	const char *tree;	/* booted kernels: the tree their version must name */
};
int64_t db_kernel(sqlite3 *db, const struct kernel_info *k);
int db_exec(sqlite3 *db, const char *sql);
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);
/* Prints the rows of a query as JSON (an array of objects) or text columns. */
int db_print(FILE *out, sqlite3 *db, const char *sql, const char *format, const char *bind1);

/* ingest.c: a record stream into runs. */
struct session_info {
	const char *session, *accel, *command, *console_log;
	int guest_mem_mb, guest_cpus;	/* 0 on the host */
	double wall_s;
	struct kernel_info kernel;	/* release/version filled from "hello" */
	const char *const *planned;	/* benchmarks expected, or NULL */
	int nplanned;
	const char *failure;		/* why the session failed, for unstarted runs */
	const char *faults;		/* RB_TEST_* fault injection, "" for none */
	const char *emulator;		/* QEMU version and CPU model, "" on the host */
	const char *arch;		/* set from the hello record: uname -m of its kernel */
	int alone;			/* no other job ran beside it: 1, 0, or -1 unknown */
	double others_cpus;		/* the machine's other work beside it (CPUs), -1 unknown */
	const char *clocksource;	/* from "hello": the clock that timed it */
	double clock_step_ns;		/* its smallest step, 0 unknown */
};

struct ingest_result {
	int ok, skipped, failed, incomplete;
	int has_end;
	int wrong_kernel;		/* the guest's kernel is not the build it was booted as */
	char problem[256];		/* the first stream-level problem */
};
int ingest(sqlite3 *db, const char *stream, struct session_info *s, struct ingest_result *res);
/* Kernel warning lines in a console log between rb-bench's start and end
 * lines of bench: their count (copied into lines), -1 when it never began. */
int console_warnings(const char *log, const char *bench, char *lines, size_t cap);

/* variant.c: kernel variant specs. */
struct variant {
	char *name, *source, *cmdline, *inherit;
	char *arch;		/* "x86_64" or "arm64" (the kernel's ARCH); NULL: x86_64 */
	char **patches, **configs;
	int npatches, nconfigs, line, resolved;
};
struct variant_set {
	char error[512];	/* why variants_parse returned -1 */
	char *file;
	struct variant *v;
	int n;
	char **owned;		/* every string made by the parser */
	int nowned;
};
int variants_parse(const char *file, const char *text, struct variant_set *set);	/* -1: set->error */
void variants_load(const char *file, struct variant_set *set);	/* dies on bad input */
void variants_free(struct variant_set *set);
struct variant *variant_find(struct variant_set *set, const char *name);
void variants_load_files(const char *const *files, int nfiles, struct variant_set *set);	/* one set */
const char *default_variants_file(void);
int default_plan_files(const char ***files);	/* variants.conf and arm64.conf */
char *variant_of_arch(const char *x86_name, const char *arch);	/* "7.3" on arm64: "7.3-arm64" */
/* Architectures a variant may name, as the kernel's ARCH spells them. */
#define ARCH_DEFAULT "x86_64"
const char *variant_arch(const struct variant *v);	/* v->arch or ARCH_DEFAULT */
int arch_valid(const char *arch);
const char *arch_machine(const char *arch);	/* what uname -m says: x86_64, aarch64 */
int arch_native(const char *arch);
const char *arch_host(void);		/* the host's, as a variant names it */		/* the host's own: KVM can run it */

/* build.c: a variant built (or found in the cache). */
struct built {
	char *dir, *bzimage, *gen_init_cpio;	/* bzimage: the image booted (arm64's is Image) */
	const char *arch;	/* the variant's: x86_64 or arm64 */
	char *build_id, *source_id, *patches_hash, *config_hash;
	char *patchset_sha256;	/* of the patches, as KCIDB's patchset_hash */
	char *tree;		/* the git tree compiled, patches applied */
	int cached;		/* found in the cache, not built now */
	int rebuilt;		/* its cache entry was not that build: built again */
	int trusted;		/* a Debian source with the project's own files only */
	char *source_path, *source_ref;	/* the source's git tree and the ref built */
	char *selftests;	/* a folder of static mm selftests to pack, or NULL */
};
int variant_build(const struct variant *v, struct built *k);	/* exits 2/3 on failure */
char *patchset_sha256(char *const *patches, int n);	/* KCIDB's patchset_hash of these files, "" for none */
/* A helper script run with its stdout in *out and its "phase: " lines
 * shown as progress; returns its exit status. */
int run_script(char *const argv[], char **out, const char *label);
char *compiler_version(const char *arch);	/* gcc's, or the cross compiler's */
/* selftests.c: the kernel's mm selftests of a source, built static for
 * arch (selftests-build.sh, sandboxed, cached by content hash); SET is a
 * comma-separated list of programs or "default".  Returns the folder of
 * the programs, or NULL after saying why. */
#define SELFTESTS_DEFAULT "cow,khugepaged,split_huge_page_test,madv_populate,mremap_test,transhuge-stress"
char *selftests_ready(const struct built *k, const char *set);
/* The plan's selftest set: its "--selftests=SET" argument removed from
 * plan (a host-side option, not rb-bench's); NULL when it has none. */
char *selftests_take(char **plan);
int variant_trusted(const struct variant *v);
/* A patch or fragment a spec names: a plain file anyone may read (or the
 * user's own) of at most SPEC_FILE_MAX bytes; dies with exit 2 if not. */
#define SPEC_FILE_MAX (16 << 20)
void spec_file_check(const char *what, const char *path);
int project_file(const char *path);		/* under the project's kernels/ */
void variant_files_check(const struct variant *v);	/* its patches and fragments, not the project's */
/* The version a kernel of build id and tree says it is ("#rb-ID-TREE ..."). */
#define BUILD_STAMP_FMT "#rb-%s-%s"
/* kernel-source.sh: a source made ready in the cache; its tree, ref, id. */
void source_ready(const char *spec, const char *label, char **path, char **ref, char **id);

/* guest.c: boot a built kernel with a plan of rb-bench arguments. */
struct boot {
	const char *accel, *logdir, *label;
	int mem_mb, cpus, timeout_s, quiet;
	/* results */
	char *initramfs, *records, *console_log, *failure;
	double wall_s;
};
int guest_boot(const struct built *k, const char *cmdline, char *const plan[], struct boot *b);
const char *accel_choose(const struct built *k, const char *cmdline);
const char *accel_known(void);	/* without a probe boot, or NULL */
void accel_require(const char *accel);	/* --accel kvm|tcg; NULL: probe (auto) */
const char *accel_required(void);	/* what --accel requires, or NULL */
const char *accel_failure(void);	/* why KVM is not used */
const char *accel_checked(const char *accel);	/* dies when --accel required another */
/* QEMU's version and the CPU model a guest of arch under accel gets. */
const char *guest_emulator(const char *arch, const char *accel);
/* TCG with QEMU's instruction counter as the guest clock. */
#define ACCEL_ICOUNT "tcg-icount"

/* stats.c */
double median(const double *v, int n);
double coef_var(const double *v, int n);
/* A distribution-free interval of the median (order statistics) at
 * level or, when v is too small to reach it, its whole range; coverage
 * is the interval's own confidence. */
void median_ci(const double *v, int n, double level, double *lo, double *hi, double *coverage);
void bootstrap_ratio(const double *a, int na, const double *b, int nb, int iters, uint64_t seed,
		     double level, double *lo, double *hi);
/* U of the first sample and the two-sided p (exact without ties for small
 * samples, else the normal approximation with tie and continuity terms). */
void mann_whitney(const double *a, int na, const double *b, int nb, double *u, double *p);
/* Fisher's exact test of k1 events in n1 trials against k2 in n2 (two-sided p). */
double fisher_exact(double k1, double n1, double k2, double n2);
/* Mann-Kendall trend test of a series in order: Kendall's tau against the
 * position, the two-sided p, and Sen's slope (change per position). */
void mann_kendall(const double *v, int n, double *tau, double *p, double *slope);

/* changepoint.c: change points over a metric's history, one value a
 * night (binary segmentation, a U test and an effect size; the file's
 * head says how).  A step is bisected; a drift is only shown. */
struct cp_params {
	double min_effect;	/* smallest change of the median, as a fraction */
	double alpha;		/* the U test's level between two parts */
	int min_seg;		/* fewest nights a part */
};
#define CP_DEFAULTS { .min_effect = 0.05, .alpha = 0.01, .min_seg = 3 }
struct change_point {
	int at;			/* the first night after it */
	double before, after;	/* medians of the parts either side */
	double p;		/* U test between those parts */
	double local;		/* the min_seg nights either side: |log of their medians' ratio| */
	int step;		/* 1 a step, 0 part of a drift */
	int good, bad;		/* the nights a bisection spans: the last before it, the first after */
};
int change_points(const double *v, int n, const struct cp_params *par, struct change_point *out, int max);
struct drift {
	double p, total;	/* Mann-Kendall's p; Sen's slope over the history, as a fraction of its median */
	int drifts;
};
void history_drift(const double *v, int n, const struct cp_params *par, struct drift *d);
#define HISTORY_MAX 1000
#define HISTORY_CP_MAX 32
struct history {
	int n;
	double *v;		/* each nightly's median, oldest first */
	long long *runs;
	char **commits;		/* the commit each ran ("" when not a git source) */
	struct change_point cp[HISTORY_CP_MAX];
	int ncp;
	struct drift drift;
};
int history_load(sqlite3 *db, const char *bench, const char *metric, struct history *h);
void history_free(struct history *h);

/* verdict.c: statistics and verdicts of two sides of a metric. */
struct cmp_row {
	char metric[96], unit[16], verdict[128];
	enum metric_role role;	/* as its benchmark declares it */
	int na, nb;
	double ma, mb, ratio, lo, hi, p, cva, cvb;
	int rate;		/* events among trials: ma, mb are sums of ta, tb trials */
	double ta, tb;
	int invariant_changed;	/* a correctness counter moved */
	double detectable;	/* a timing: the smallest effect these samples could call */
	int boot_bound;		/* a timing that needs boots as samples (compare --boots) */
};
/* A run's timed repetitions of a metric, in order, by the Mann-Kendall
 * trend test: unsteady when they trend (p < STEADY_P) by STEADY_DRIFT of
 * their median or more over the run.  Such a run gets no timing verdict. */
#define STEADY_P 0.05
#define STEADY_DRIFT 0.02
struct trend {
	int n;
	double tau, p, drift;	/* drift: Sen's slope x (n - 1) over the median */
	double first, last, spread;	/* spread: (max - min) over the median */
	int unsteady;
};
int run_trend(sqlite3 *db, long long run, const char *metric, struct trend *t);	/* -1: under 3 reps */
/* The smallest p the rank test can reach with na against nb samples, and
 * the fewest samples a side that can reach p < 0.05. */
double min_p(int na, int nb);
int min_samples(void);
int compare_metric(sqlite3 *db, long long base, long long new, const char *metric, double threshold,
		   struct cmp_row *r);
int compare_sets(sqlite3 *db, const long long *base, int nbase, const long long *new, int nnew,
		 const char *metric, double threshold, struct cmp_row *r);	/* samples pooled */
int compare_boots(sqlite3 *db, const long long *base, int nbase, const long long *new, int nnew,
		  const char *metric, double threshold, struct cmp_row *r);	/* a median per run */
int runs_differ(sqlite3 *db, const long long *a, int na, const long long *b, int nb, const char *metric,
		struct cmp_row *r);	/* by the verdict rules, any direction */

/* Whether the user declared a change of this metric expected (--expect). */
int metric_expected(const struct opt_list *expect, const char *metric);

/* runs.c: runs looked up. */
int variant_runs(sqlite3 *db, const char *side, const char *bench, long long *out, int max);
extern int with_faults;		/* variant_runs takes fault-injected runs too */
long long newest_run(sqlite3 *db, const char *side, const char *bench);
long long session_run(sqlite3 *db, const char *session, const char *bench);	/* its ok run, or -1 */
/* The metrics with a value in run a or run b (-1 for none), sorted. */
int run_metrics(sqlite3 *db, long long a, long long b, char ***out);
void metrics_free(char **m, int n);
/* One column (or expression) of a run, mallocd, or NULL. */
char *run_field(sqlite3 *db, long long run, const char *expr);
const char *not_comparable(sqlite3 *db, long long a, long long b);

/* summary.c */
double run_metric(sqlite3 *db, long long run, const char *metric, enum agg agg);
/* The median of a metric (NULL: the run's main timing) in one kind of
 * repetition ("timed" or "counting"); NAN when it has none. */
double run_metric_kind(sqlite3 *db, long long run, const char *metric, const char *kind);
/* A number and its unit as shown: timings in ms, or M instr under the
 * instruction clock; counts as they are. */
void value_format(char *buf, size_t cap, double v, const char *unit);
const char *timing_unit_shown(const char *unit);	/* "ms" or "M instr" */
double timing_scale(const char *unit);			/* ns or instr to that */
char *metric_unit(sqlite3 *db, long long run, const char *metric);
void summary_print(sqlite3 *db, char **sessions, int nsessions);
/* A run as the benchmarks' findings and claims see it. */
struct run_view_host {
	struct run_view view;
	sqlite3 *db;
	long long run;
	const struct bench_info *bench;
};
void run_view_init(struct run_view_host *h, sqlite3 *db, long long run, const char *variant);

/* session.c: the options of commands that boot variants; a built variant booted
 * for a plan and stored as one session. */
struct run_opts {
	const char *variants, *tree, *ref, *out;	/* variants: the first spec file */
	const char *accel;	/* --accel kvm|tcg, NULL: auto */
	const char **variant_files;	/* every --variants, or the default plan's two */
	int nvariant_files, variants_given;	/* given: how many --variants */
	int mem_mb, cpus, timeout_s, host_clock;
	/* where the jobs run: plan.c */
	const char *executor, *partition, *account, *spool;
	int slots;
	const char *selftests;	/* the mm selftests of the selftests step */
};
extern const struct opt guest_opts[];	/* --variants, --guest-mem-mb, --timeout, --out, --db ... */
void guest_opts_get(struct run_opts *o);
const char *one_variants_file(const struct run_opts *o, const char *command);	/* dies on several */
void bench_names_check(struct opt_list *names);
int variant_session(const struct variant *v, const struct built *k, const char *accel, const struct run_opts *o,
		    const struct opt_list *names, int argc, char **argv, char **session);

/* bisection.c: a bisection of a git tree by a benchmark's metric, stored
 * step by step and resumed by the same command. */
struct bisect_args {
	const char *tree, *good, *bad;	/* the tree, a good ref and a bad ref */
	const char *bench, *metric;
};
int bisect_run(const struct bisect_args *a, int argc, char **argv);	/* to the first bad commit */
const char *bisect_step(const struct bisect_args *a, int argc, char **argv);	/* "good", "bad" or "skip" */
int sane_ref(const char *s);	/* a git ref: no shell text, no leading '-' */
int safe_path(const char *s);	/* no quote, no newline */
char *commit_of(const char *dir, const char *what, const char *ref);	/* exit 2 when not a commit */

/* plan.c: the work of run, gate, bisect and nightly as a graph of jobs
 * (a source made ready, a variant built, a plan booted on a built kernel),
 * run by an executor; boots are stored as they finish. */
enum job_kind { JOB_SOURCE, JOB_BUILD, JOB_BOOT };
enum job_state { JOB_WAITING, JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED };
#define JOB_DEPS_MAX 4
struct job {
	enum job_kind kind;
	enum job_state state;
	char *name, *dir, *label;	/* file-name safe; its spool folder; as shown */
	int deps[JOB_DEPS_MAX], ndeps;	/* indexes of jobs it needs */
	int item, round;		/* builds and boots: the plan item; boots: its round */
	int exclusive;			/* timed on the host's clock: runs with nothing beside it */
	const char *accel;		/* boots */
	int cpus;
	struct opt_list group;		/* boots: its benchmarks */
	char *logdir;			/* boots: the folder of its console and records */
	pid_t pid;			/* local */
	char *slurm_id;			/* slurm */
	double started, wall_s, est_s;
	int alone;			/* 1 nothing ran beside it, 0 something did, -1 unknown */
	char *reason;			/* why it failed */
	int store_pending;		/* a boot that ended before its build: stored when that ends */
};
struct plan_item {
	const struct variant *v;
	int rounds;			/* boots of the benchmarks (gate: --boots); 0: build only */
	char **sessions;		/* one per round, set by plan_run */
	struct built k;			/* set once its build is done */
	int failed;			/* its build, a boot or a benchmark failed */
	int usage_error;		/* its build failed on bad input (exit 2) */
};
struct plan {
	const char *what;		/* the command: "run", "gate", ... */
	const struct run_opts *o;
	const struct opt_list *names;	/* benchmarks */
	int argc;
	char **argv;
	struct plan_item *items;
	int nitems;
	const char *accel;		/* NULL: chosen by plan_run */
	int boots_after_builds;		/* no boot before every build is done (gate) */
	/* plan_run's own */
	char *dir, *id;
	struct job *jobs;
	int njobs, cap;
	const struct executor *ex;
};
int plan_run(struct plan *p);		/* nonzero when anything failed */
void job_ended(struct plan *p, struct job *j, int ok, const char *why);
extern volatile sig_atomic_t interrupted;	/* SIGINT/SIGTERM seen */
void on_interrupt_install(void);
struct executor {
	const char *name;
	int eager;			/* submits jobs whose inputs are still being made */
	void (*start)(struct plan *p, struct job **js, int n);
	void (*poll)(struct plan *p, int ms);	/* calls job_ended for jobs that ended */
	void (*stop)(struct plan *p);		/* interrupted: stops what it runs */
};
extern const struct executor local_executor, slurm_executor;
/* A job's result file: "key=value" lines. */
char *result_get(const char *dir, const char *key);
int cmd_job(int argc, char **argv);

/* report.c: the escapes of what the report writes (the fuzzer's target). */
#define GP_LABEL_MAX 64
void gp_label(FILE *f, const char *s);		/* one quoted field of a gnuplot data file */
void html_escape(FILE *f, const char *s);
void html_text(FILE *f, const char *s);		/* escape.c: markup, bad UTF-8 and controls */
void markdown_html(FILE *f, const char *md);	/* markdown.c: the method document's subset, escaped */

/* kconfig.c: options whose values differ between two built kernels' .config
 * (cache/kernels/BUILD_ID/config), sorted by name without "CONFIG_"; a or b
 * is "n" when "is not set", NULL when that .config lacks the option.  The
 * count, or -1 when a .config is missing or a build id is not one. */
struct kconfig_change {
	char *name, *a, *b;
};
int kconfig_diff(const char *build_a, const char *build_b, struct kconfig_change **out);
void kconfig_changes_free(struct kconfig_change *c, int n);
/* One option's value in a built kernel's .config (a string's without its
 * quotes), mallocd; NULL when not there. */
char *kconfig_value(const char *build_id, const char *name);

/* series.c: the patches of a gate's --patch files, one file each. */
#define SERIES_MAX 64
struct series {
	int n;
	char *files[SERIES_MAX];	/* patch k's own file (the given file when it is the only one) */
	char *subjects[SERIES_MAX];	/* its Subject:, or its file's name; untrusted text */
};
void series_split(char **files, int nfiles, struct series *s);
int mbox_from_line(const char *text, const char *line);
int mbox_split(const char *text, size_t len, size_t *starts, int max);	/* message offsets, their count */
char *mbox_subject(const char *msg, size_t len);
/* The search over a series' prefixes (gate.c drives it). */
int series_sides_with_whole(double v, double base, double whole, int timing);
int series_next_prefix(const int *lo, const int *hi, const int *open, int n);

/* Subcommands. */
int cmd_run(int argc, char **argv);
int cmd_build(int argc, char **argv);
/* cpu.c: CPU time, ours and the rest of the machine's. */
void cost_print(const char *what);	/* wall time and CPU-seconds so far */
void cpu_account_start(void);		/* count the CPU time of all we start */
extern const char *cost_note;		/* what the CPU-seconds leave out, or NULL */
/* Other work above this many CPUs' worth beside a boot timed by the host's
 * clock: the boot did not have the machine (runs.alone = 0); one busy CPU
 * hides the races (the method page's "Notes behind the commands"). */
#define QUIET_CPUS 0.2
#define QUIET_WAIT_S 120	/* how long such a boot waits for quiet at most, by default */
struct load_mark { double t, busy, ours; };
void load_start(struct load_mark *m);
double load_others(const struct load_mark *since);	/* CPUs' worth since, -1 unknown */
double load_wait_quiet(int limit_s);			/* seconds waited for quiet */
extern struct timespec process_start;	/* CLOCK_MONOTONIC when main() began */
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_bisect(int argc, char **argv);
int cmd_bisect_step(int argc, char **argv);
int cmd_nightly(int argc, char **argv);

/* kcidb.c: runs as one report for KernelCI's database (KCIDB schema v5.3).
 * kcidb_select keeps the runs chosen (one run, every run of the invocation
 * that made a session, or all; "last" the newest) and returns how many,
 * dying with exit 2 when a run or session named is not there. */
struct kcidb_selection {
	const char *run, *session;	/* both NULL: every run */
};
int kcidb_select(sqlite3 *db, const struct kcidb_selection *sel);
void kcidb_write(FILE *out, sqlite3 *db);

/* http.c */
extern const struct opt http_opts[];		/* --archive, --http-timeout, --http-retries */
extern const struct opt *const fetch_opts;	/* the same */
char *patch_resolve(const char *what);	/* a file, URL or Message-ID as a local file */
/* A Message-ID (in <> or not) as one URL path segment, mallocd; NULL
 * when it is not one (RFC 5322 characters, one '@', at most 250). */
char *msgid_segment(const char *what);
/* A GET into out_path or a JSON POST of post (with a bearer token, if
 * any): 0 ok, -1 failed (err says why), -2 the answer is refused. */
int http(const char *url, const char *out_path, const char *post, const char *token, char *err, size_t errlen);

/* Options every subcommand takes. */
extern const char *opt_db;
extern const char *opt_format;
int check_format(const char *format, const char *allowed);
#endif
