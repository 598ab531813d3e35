/* reclaimbench compare: two runs, or the newest runs of two variants,
 * metric by metric.  A timing verdict needs both significance (U test and
 * a bootstrap interval of the ratio of medians that excludes 1) and an
 * effect above the threshold; exact counters are compared exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

/* The benchmark a run ran, from the table (NULL: unknown here). */
static const struct bench_info *run_bench(sqlite3 *db, long long run)
{
	char *name = run_field(db, run, "bench");
	const struct bench_info *b = name ? bench_find(name) : NULL;

	free(name);
	return b;
}

/* The smallest effect called a change, per metric: timings are steady to a
 * few percent under TCG, event counts of other tasks less so. */
static double default_threshold(enum metric_role role)
{
	return role == METRIC_TIMING ? 0.05 : 0.10;
}

/* The samples of a metric over several runs, pooled. */
static int pooled(sqlite3 *db, const long long *runs, int nruns, const char *metric, double **out)
{
	double *all = NULL;
	int n = 0;

	for (int i = 0; i < nruns; i++) {
		double *v;
		int k = db_samples(db, runs[i], metric, &v);

		if (!(all = realloc(all, ((size_t)n + k + 1) * sizeof(*all))))
			die(EXIT_INFRA, "out of memory pooling the samples of '%s'", metric);
		memcpy(all + n, v, k * sizeof(*v));
		n += k;
		free(v);
	}
	*out = all;
	return n;
}

static double sum(const double *v, int n)
{
	double s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* An exact count: the same when every sample of both sides is within the
 * declared tolerance of the base's median; 0 -> N is a change. */
static void judge_exact(const double *a, const double *b, const struct metric_decl *d, struct cmp_row *r)
{
	double tol = d ? d->tolerance : 0;
	int same = 1;

	for (int i = 0; same && i < r->na; i++)
		same = fabs(a[i] - r->ma) <= tol;
	for (int i = 0; same && i < r->nb; i++)
		same = fabs(b[i] - r->ma) <= tol;
	if (!same && d && d->by_median && fabs(r->mb - r->ma) <= tol) {
		strcpy(r->verdict, "same median (flaky)");
		return;
	}
	strcpy(r->verdict, same ? "same" : "CHANGED");
}

/* The smallest two-sided p the rank test can give for na against nb
 * samples: 2 / C(na + nb, na), when one side lies wholly above the other. */
double min_p(int na, int nb)
{
	double c = 1;

	for (int i = 1; i <= na; i++)
		c = c * (nb + i) / i;
	return na && nb ? fmin(1, 2 / c) : 1;
}

/* The fewest samples a side (the same on both) that can reach p < 0.05. */
int min_samples(void)
{
	int n = 1;

	while (min_p(n, n) >= 0.05)
		n++;
	return n;
}

/* A timing or an informational count: significance and size. */
static void judge_stat(const double *a, const double *b, double threshold, struct cmp_row *r)
{
	double u;

	if (min_p(r->na, r->nb) >= 0.05) {
		strcpy(r->verdict, "not enough data");
		return;
	}
	mann_whitney(a, r->na, b, r->nb, &u, &r->p);
	bootstrap_ratio(a, r->na, b, r->nb, 2000, 1, 0.95, &r->lo, &r->hi);
	r->cva = coef_var(a, r->na), r->cvb = coef_var(b, r->nb);
	/* The smallest effect these samples could have called: the threshold,
	 * or the half-width of the ratio's interval when that is wider. */
	r->detectable = fmax(threshold, (r->hi - r->lo) / 2);
	if (r->p < 0.05 && (r->lo > 1 || r->hi < 1) && fabs(r->ratio - 1) >= threshold)
		strcpy(r->verdict, r->role == METRIC_TIMING ? (r->ratio < 1 ? "faster" : "slower") : "changed");
	else
		strcpy(r->verdict, "no change");
}

int run_trend(sqlite3 *db, long long run, const char *metric, struct trend *t)
{
	double *v, med, lo, hi;
	int n = db_samples_kind(db, run, metric, "timed", &v);

	memset(t, 0, sizeof(*t));
	t->n = n;
	if (n < 3) {
		free(v);
		return -1;
	}
	mann_kendall(v, n, &t->tau, &t->p, &t->drift);
	med = median(v, n);
	lo = hi = v[0];
	for (int i = 1; i < n; i++)
		lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
	t->drift = med ? t->drift * (n - 1) / med : NAN;
	t->spread = med ? (hi - lo) / med : NAN;
	t->first = v[0], t->last = v[n - 1];
	t->unsteady = t->p < STEADY_P && fabs(t->drift) >= STEADY_DRIFT;
	free(v);
	return 0;
}

/* A timing of runs whose repetitions trend has no verdict: the kernel was
 * not in a steady state, and where the runs stopped decides the medians.
 * Says which run and how, in the verdict; 1 when one of them does. */
static int unsteady_verdict(sqlite3 *db, const long long *runs, int n, const char *metric, struct cmp_row *r)
{
	for (int i = 0; i < n; i++) {
		struct trend t;
		char a[24], b[24], *unit;

		if (run_trend(db, runs[i], metric, &t) || !t.unsteady)
			continue;
		unit = metric_unit(db, runs[i], metric);
		value_format(a, sizeof(a), t.first, unit);
		value_format(b, sizeof(b), t.last, unit);
		snprintf(r->verdict, sizeof(r->verdict), "unsteady: repetitions %s from %s to %s (run %lld)",
			 t.drift < 0 ? "fell" : "rose", a, b, runs[i]);
		r->detectable = 0;	/* these samples can call nothing */
		free(unit);
		return 1;
	}
	return 0;
}

/* The coarsest clock step of the runs (0 when none was measured). */
static double clock_step(sqlite3 *db, const long long *runs, int n)
{
	double step = 0;

	for (int i = 0; i < n; i++) {
		char *v = run_field(db, runs[i], "coalesce(clock_step_ns, 0)");

		step = fmax(step, v ? atof(v) : 0);
		free(v);
	}
	return step;
}

/* The verdict on the samples of one metric of the runs of two sides, by
 * the role its benchmark declares for it. */
static void judge(sqlite3 *db, const long long *ra, int nra, const long long *rb, int nrb, double *a, int na,
		  double *b, int nb, const char *metric, double threshold, struct cmp_row *r)
{
	const struct bench_info *bench = nra ? run_bench(db, ra[0]) : NULL;
	const struct metric_decl *d = bench_metric(bench, metric);

	snprintf(r->metric, sizeof(r->metric), "%s", metric);
	r->role = metric_role(bench, metric);
	if (threshold < 0)
		threshold = default_threshold(r->role);
	r->na = na, r->nb = nb;
	r->ma = median(a, na), r->mb = median(b, nb);
	r->ratio = r->ma ? r->mb / r->ma : NAN;
	r->lo = r->hi = r->p = r->cva = r->cvb = NAN;
	if (!na || !nb) {
		strcpy(r->verdict, "not enough data");
	} else if (d && d->of) {
		/* Events among trials, summed over the repetitions of every run. */
		double *ta, *tb;
		int nta = pooled(db, ra, nra, d->of, &ta), ntb = pooled(db, rb, nrb, d->of, &tb);

		r->rate = 1;
		r->ma = sum(a, na), r->mb = sum(b, nb);
		r->ta = sum(ta, nta), r->tb = sum(tb, ntb);
		r->ratio = r->ma ? r->mb / r->ma : NAN;
		r->p = fisher_exact(r->ma, r->ta, r->mb, r->tb);
		strcpy(r->verdict, isnan(r->p) ? "not enough data" : r->p < 0.05 ? "CHANGED" : "same rate");
		free(ta), free(tb);
	} else if (r->role == METRIC_EXACT || r->role == METRIC_INVARIANT) {
		judge_exact(a, b, d, r);
	} else {
		double step = r->role == METRIC_TIMING ? fmax(clock_step(db, ra, nra), clock_step(db, rb, nrb)) : 0;

		judge_stat(a, b, threshold, r);
		/* A clock that moves in steps cannot tell apart what differs
		 * by less than one. */
		if (step > 0 && fabs(r->mb - r->ma) < step && strcmp(r->verdict, "not enough data") &&
		    strcmp(r->verdict, "no change")) {
			char *unit = metric_unit(db, ra[0], metric);
			int instr = !strcmp(unit, "instr");

			snprintf(r->verdict, sizeof(r->verdict), "no change (under the clock's step, %.4g %s)",
				 step >= 1e6 && !instr ? step / 1e6 : step >= 1e3 && !instr ? step / 1e3 : step,
				 instr ? "instr" : step >= 1e6 ? "ms" : step >= 1e3 ? "us" : "ns");
			free(unit);
		}
		if (r->role == METRIC_TIMING && strcmp(r->verdict, "not enough data") &&
		    !unsteady_verdict(db, ra, nra, metric, r))
			unsteady_verdict(db, rb, nrb, metric, r);
	}
	r->invariant_changed = r->role == METRIC_INVARIANT && !strcmp(r->verdict, "CHANGED");
}

int metric_expected(const struct opt_list *expect, const char *metric)
{
	for (int i = 0; expect && i < expect->n; i++)
		if (!strcmp(expect->v[i], metric))
			return 1;
	return 0;
}

int compare_sets(sqlite3 *db, const long long *base, int nbase, const long long *new, int nnew,
		 const char *metric, double threshold, struct cmp_row *r)
{
	double *a, *b;
	int na = pooled(db, base, nbase, metric, &a), nb = pooled(db, new, nnew, metric, &b);

	memset(r, 0, sizeof(*r));
	judge(db, base, nbase, new, nnew, a, na, b, nb, metric, threshold, r);
	free(a), free(b);
	return 0;
}

/* Boots as the unit: one median per run (boot), then the same verdict.
 * Repetitions inside a boot share its state (under TCG, boots of one
 * kernel fall into a fast or a slow mode), so they are not independent.
 * Exact counters and rates keep every repetition. */
int compare_boots(sqlite3 *db, const long long *base, int nbase, const long long *new, int nnew,
		  const char *metric, double threshold, struct cmp_row *r)
{
	double *a = calloc(nbase + 1, sizeof(double)), *b = calloc(nnew + 1, sizeof(double)), *v;
	enum metric_role role = metric_role(nbase ? run_bench(db, base[0]) : NULL, metric);
	int na = 0, nb = 0, k;

	if (role != METRIC_TIMING && role != METRIC_INFO) {
		free(a), free(b);
		return compare_sets(db, base, nbase, new, nnew, metric, threshold, r);
	}
	for (int i = 0; i < nbase; i++)
		if ((k = db_samples(db, base[i], metric, &v)) > 0)
			a[na++] = median(v, k), free(v);
	for (int i = 0; i < nnew; i++)
		if ((k = db_samples(db, new[i], metric, &v)) > 0)
			b[nb++] = median(v, k), free(v);
	memset(r, 0, sizeof(*r));
	judge(db, base, nbase, new, nnew, a, na, b, nb, metric, threshold, r);
	free(a), free(b);
	return 0;
}

/* One run against another.  Timings taken by the host's clock under TCG
 * (benchmarks that need CPUs at once, or --host-clock) move with the host's
 * load from boot to boot, by up to 2x here, which the repetitions inside
 * one boot do not show: one boot a side is not enough data for them. */
int compare_metric(sqlite3 *db, long long base, long long new, const char *metric, double threshold,
		   struct cmp_row *r)
{
	char *accel = run_field(db, base, "accel");

	compare_sets(db, &base, 1, &new, 1, metric, threshold, r);
	if (r->role == METRIC_TIMING && accel && !strcmp(accel, "tcg")) {
		strcpy(r->verdict, "not enough data");
		r->boot_bound = 1;
	}
	free(accel);
	return 0;
}

/* Runs made with fault injection are data only when asked for. */
int with_faults;

/* Every ok run (boot) of a benchmark on a variant (or, for the host, a
 * kernel release), newest first. */
int variant_runs(sqlite3 *db, const char *side, const char *bench, long long *out, int max)
{
	sqlite3_stmt *st;
	int n = 0;

	sqlite3_prepare_v2(db, "SELECT r.id FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE "
			       "r.bench = ?2 AND r.status = 'ok' AND (k.variant = ?1 OR (k.variant = '' AND "
			       "k.release = ?1)) AND (r.faults = '' OR ?3) ORDER BY r.id DESC", -1, &st, NULL);
	sqlite3_bind_int(st, 3, with_faults);
	sqlite3_bind_text(st, 1, side, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, bench, -1, SQLITE_STATIC);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		out[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The ok run of a benchmark in a session (one boot's plan), or -1. */
long long session_run(sqlite3 *db, const char *session, const char *bench)
{
	sqlite3_stmt *st;
	long long id = -1;

	sqlite3_prepare_v2(db, "SELECT id FROM runs WHERE session = ?1 AND bench = ?2 AND status = 'ok'", -1, &st, NULL);
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, bench, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* The metrics with a value in run a or run b (-1 for none), sorted by
 * name: their count, the names in *out (metrics_free() them). */
int run_metrics(sqlite3 *db, long long a, long long b, char ***out)
{
	sqlite3_stmt *st;
	int n = 0;

	*out = NULL;
	sqlite3_prepare_v2(db, "SELECT DISTINCT metric FROM samples WHERE run_id IN (?1, ?2) AND value IS NOT NULL "
			       "ORDER BY metric", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!(*out = realloc(*out, (n + 1) * sizeof(**out))))
			die(EXIT_INFRA, "out of memory listing the metrics of runs %lld and %lld", a, b);
		(*out)[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return n;
}

void metrics_free(char **m, int n)
{
	for (int i = 0; i < n; i++)
		free(m[i]);
	free(m);
}

/* The newest of them, or -1. */
long long newest_run(sqlite3 *db, const char *side, const char *bench)
{
	long long id = -1;

	variant_runs(db, side, bench, &id, 1);
	return id;
}

char *run_field(sqlite3 *db, long long run, const char *expr)
{
	/* The SQL names only a column of this list, the run is bound. */
	static const char *const known[] = { "bench", "arch", "accel", "coalesce(guest_mem_mb, 0)", "coalesce(guest_cpus, 0)",
					     "bench_version", "params", "emulator", "faults", "observer_overhead",
					     "(SELECT build_id FROM kernels WHERE id = kernel_id)", "coalesce(alone, -1)",
					     "printf('%.2f', others_cpus)", "coalesce(clock_step_ns, 0)", "clocksource", NULL };
	char *sql = NULL, *v = NULL;
	sqlite3_stmt *st;

	for (int i = 0; known[i] && !sql; i++)
		if (!strcmp(expr, known[i]))
			sql = xasprintf("SELECT %s FROM runs WHERE id = ?1", known[i]);
	if (!sql)
		die(EXIT_INFRA, "run_field: '%s' is not a known column of runs", expr);
	sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	free(sql);
	return v;
}

/* Runs timed by the host's clock that did not have the machine to
 * themselves, said under the rows they are in. */
static void shared_note(sqlite3 *db, const long long *runs, int n)
{
	for (int i = 0; i < n; i++) {
		char *alone = run_field(db, runs[i], "coalesce(alone, -1)");
		char *others = run_field(db, runs[i], "printf('%.2f', others_cpus)");

		if (alone && !strcmp(alone, "0"))
			printf("  run %lld shared the machine (%s%s): its host-clock timings are suspect; run it again\n",
			       runs[i], others ? others : "other jobs of its plan beside it",
			       others ? " CPUs of other work beside its boot" : "");
		free(alone), free(others);
	}
}

/* Why two runs cannot be compared, or NULL. */
const char *not_comparable(sqlite3 *db, long long a, long long b)
{
	static char why[512];
	static const char *const fields[] = {
		"bench", "arch", "accel", "coalesce(guest_mem_mb, 0)", "coalesce(guest_cpus, 0)", "bench_version",
		"params", "emulator", NULL
	};

	for (int i = 0; fields[i]; i++) {
		char *x = run_field(db, a, fields[i]), *y = run_field(db, b, fields[i]);
		int differ = !x || !y || strcmp(x, y);

		if (differ)
			snprintf(why, sizeof(why), "runs %lld and %lld differ in %s: %s vs %s", a, b, fields[i],
				 x ? shown(x) : "?", y ? shown(y) : "?");
		free(x), free(y);
		if (differ)
			return why;
	}
	return NULL;
}

/* Keeps the runs comparable with run a and built like run side (the
 * newest of their own side): boots are pooled of one kernel build only.
 * Forced, every run is kept.  The others are counted in left_out. */
static int comparable_runs(sqlite3 *db, long long a, long long side, int force, long long *runs, int n,
			   int *left_out)
{
	int kept = 0;

	for (int i = 0; i < n; i++) {
		char *x = run_field(db, side, "(SELECT build_id FROM kernels WHERE id = kernel_id)");
		char *y = run_field(db, runs[i], "(SELECT build_id FROM kernels WHERE id = kernel_id)");

		if (force || (!not_comparable(db, a, runs[i]) && x && y && !strcmp(x, y)))
			runs[kept++] = runs[i];
		free(x), free(y);
	}
	*left_out += n - kept;
	return kept;
}

/* A JSON number, null when it is not one (NaN, infinite). */
static void json_number(const char *before, double v, const char *after)
{
	if (isfinite(v))
		printf("%s%.17g%s", before, v, after);
	else
		printf("%snull%s", before, after);
}

static const char *role_name(enum metric_role role)
{
	static const char *const names[] = { "info", "timing", "exact", "invariant" };

	return names[role];
}

static void print_row(const struct cmp_row *r, const char *fmt, const char *bench, long long a, long long b,
		      int *first)
{
	if (!strcmp(fmt, "json")) {
		printf("%s\n {\"bench\":", *first ? "" : ",");
		json_string(stdout, bench);
		printf(",\"base_run\":%lld,\"new_run\":%lld,\"metric\":", a, b);
		json_string(stdout, r->metric);
		printf(",\"kind\":\"%s\",\"n_base\":%d,\"n_new\":%d,", role_name(r->role), r->na, r->nb);
		json_number("\"median_base\":", r->ma, ",");
		json_number("\"median_new\":", r->mb, ",");
		json_number("\"ratio\":", r->ratio, ",");
		json_number("\"ci95\":[", r->lo, ",");
		json_number("", r->hi, "],");
		json_number("\"p\":", r->p, ",");
		json_number("\"cv\":[", r->cva, ",");
		json_number("", r->cvb, "],");
		fputs("\"verdict\":", stdout);
		json_string(stdout, r->verdict);
		putchar('}');
	} else if (!strcmp(fmt, "csv")) {
		csv_field(stdout, bench);
		printf(",%lld,%lld,", a, b);
		csv_field(stdout, r->metric);
		printf(",%d,%d,%.17g,%.17g,%.6g,%.6g,%.6g,%.6g,%.4g,%.4g,", r->na, r->nb, r->ma, r->mb, r->ratio, r->lo,
		       r->hi, r->p, r->cva, r->cvb);
		csv_field(stdout, r->verdict);
		putchar('\n');
	} else {
		char ci[48] = "", p[16] = "", ratio[16] = "-", ma[32], mb[32];

		if (!isnan(r->lo))
			snprintf(ci, sizeof(ci), "[%.3f, %.3f]", r->lo, r->hi);
		if (!isnan(r->p))
			snprintf(p, sizeof(p), "%.3g", r->p);
		if (!isnan(r->ratio))
			snprintf(ratio, sizeof(ratio), "%.3f", r->ratio);
		if (r->rate) {	/* events of trials, e.g. 17/32000 */
			snprintf(ma, sizeof(ma), "%.0f/%.0f", r->ma, r->ta);
			snprintf(mb, sizeof(mb), "%.0f/%.0f", r->mb, r->tb);
		} else {
			snprintf(ma, sizeof(ma), "%.6g", r->ma);
			snprintf(mb, sizeof(mb), "%.6g", r->mb);
		}
		printf("  %-30s %14s %14s %8s %-18s %-8s %s%s", shown(r->metric), ma, mb, ratio, ci, p, r->verdict,
		       r->invariant_changed ? " (invariant)" : "");
		if (r->role == METRIC_TIMING && r->detectable > 0)
			printf(" (sees >= %.1f%%)", 100 * r->detectable);
		else if (r->role == METRIC_TIMING && !strcmp(r->verdict, "not enough data"))
			printf(" (needs >= %d a side)", min_samples());
		putchar('\n');
	}
	*first = 0;
}

/* A comparison: its options and what its rows found. */
struct comparison {
	const char *base, *new;
	const struct opt_list *names, *expect;
	unsigned long threshold_pct;
	int force, by_boot;
	int slower, compared, jfirst, unsteady;
	char broken[1024], expected[1024];	/* invariants changed: "bench metric, ..." */
};

/* The runs a and b of a benchmark to compare: the runs given by id (when
 * they ran it), or the newest ok run of each variant; 0 when the
 * benchmark has nothing to compare. */
static int bench_sides(const struct comparison *c, sqlite3 *db, const char *bench, int numeric, long long *a,
		       long long *b)
{
	if (numeric) {
		char *ba, *bb;
		int same;

		*a = atoll(c->base), *b = atoll(c->new);
		ba = run_field(db, *a, "bench"), bb = run_field(db, *b, "bench");
		if (!ba || !bb)
			die(EXIT_USAGE, "no run %lld in '%s'; see reclaimbench list runs", ba ? *b : *a, opt_db);
		same = !strcmp(ba, bench);
		free(ba), free(bb);
		return same;
	}
	*a = newest_run(db, c->base, bench), *b = newest_run(db, c->new, bench);
	if (*a < 0 || *b < 0) {
		if (c->names->n)
			die(EXIT_USAGE, "no ok run of %s for '%s'; see reclaimbench list runs", bench,
			    *a < 0 ? c->base : c->new);
		return 0;
	}
	return 1;
}

/* The text heading of a benchmark's rows: which runs or boots, then the
 * columns. */
static void bench_heading(const struct comparison *c, const char *bench, long long a, long long b, int na,
			  int nb, int left_out, const char *why)
{
	if (na) {
		printf("\n%s: %d boots of %s -> %d boots of %s, each boot's median one sample%s%s\n", bench, na,
		       shown(c->base), nb, shown(c->new), why ? "; FORCED: " : "", why ? why : "");
		if (left_out)
			printf("  (%d older runs left out: not comparable with run %lld (another accelerator, "
			       "emulator or parameters) or of another kernel build than the newest)\n", left_out, a);
	} else {
		printf("\n%s: run %lld (%s) -> run %lld (%s)%s%s\n", bench, a, shown(c->base), b, shown(c->new),
		       why ? "; FORCED: " : "", why ? why : "");
	}
	printf("  %-30s %14s %14s %8s %-18s %-8s %s\n", "metric", "base", "new", "ratio", "95% CI", "p",
	       "verdict");
}

/* A row per metric of runs a and b (or of the boots ra and rb when na);
 * 1 when a timing needs boots as samples. */
static int bench_rows(struct comparison *c, sqlite3 *db, const char *bench, long long a, long long b,
		      const long long *ra, int na, const long long *rb, int nb)
{
	char **metrics;
	int n = run_metrics(db, a, b, &metrics), boot_bound = 0;

	for (int i = 0; i < n; i++) {
		struct cmp_row r;
		const char *m = metrics[i];
		double thr = c->threshold_pct ? c->threshold_pct / 100.0 : -1;

		if (na)
			compare_boots(db, ra, na, rb, nb, m, thr, &r);
		else
			compare_metric(db, a, b, m, thr, &r);
		print_row(&r, opt_format, bench, a, b, &c->jfirst);
		c->slower |= !strcmp(r.verdict, "slower");
		c->unsteady |= !strncmp(r.verdict, "unsteady", 8);
		if (r.invariant_changed) {
			char *to = metric_expected(c->expect, m) ? c->expected : c->broken;
			size_t len = strlen(to);

			snprintf(to + len, sizeof(c->broken) - len, "%s%s %s", len ? ", " : "", bench, m);
		}
		boot_bound |= r.boot_bound;
	}
	metrics_free(metrics, n);
	return boot_bound;
}

/* One benchmark: its runs on both sides, checked comparable, its rows and
 * the notes under them. */
static void compare_bench(struct comparison *c, sqlite3 *db, const char *bench)
{
	int numeric = strspn(c->base, "0123456789") == strlen(c->base) &&
		      strspn(c->new, "0123456789") == strlen(c->new);
	int text = !strcmp(opt_format, "text"), na = 0, nb = 0, left_out = 0, boot_bound;
	long long a, b, ra[64], rb[64];
	const char *why;

	if (!bench_sides(c, db, bench, numeric, &a, &b))
		return;
	why = not_comparable(db, a, b);
	if (why && !c->force)
		die(EXIT_USAGE, "not comparable: %s; use --force to compare anyway", why);
	if (c->by_boot && !numeric) {
		na = comparable_runs(db, a, a, c->force, ra, variant_runs(db, c->base, bench, ra, 64), &left_out);
		nb = comparable_runs(db, a, b, c->force, rb, variant_runs(db, c->new, bench, rb, 64), &left_out);
	}
	if (text)
		bench_heading(c, bench, a, b, na, nb, left_out, why);
	boot_bound = bench_rows(c, db, bench, a, b, ra, na, rb, nb);
	if (text) {
		long long pair[2] = { a, b };

		shared_note(db, na ? ra : pair, na ? na : 2);
		if (na)
			shared_note(db, rb, nb);
	}
	if (boot_bound && text)
		printf("  timings by the host's clock under TCG vary from boot to boot more than inside one:\n"
		       "  one run a side is not enough data; run each side several times, then compare --boots\n");
	c->compared++;
}

static int bench_wanted(const struct opt_list *names, const char *bench)
{
	int wanted = !names->n;

	for (int j = 0; j < names->n; j++)
		wanted |= !strcmp(names->v[j], bench);
	return wanted;
}

/* What goes before the rows of JSON and CSV. */
static void rows_begin(const struct comparison *c)
{
	if (!strcmp(opt_format, "json")) {
		fputs("{\"format\":1,\"base\":", stdout);
		json_string(stdout, c->base);
		fputs(",\"new\":", stdout);
		json_string(stdout, c->new);
		printf(",\"threshold\":%g,\"rows\":[", c->threshold_pct / 100.0);	/* 0: per metric */
	} else if (!strcmp(opt_format, "csv")) {
		puts("bench,base_run,new_run,metric,n_base,n_new,median_base,median_new,ratio,ci_lo,ci_hi,p,cv_base,cv_new,verdict");
	}
}

/* The text verdict: correctness first, whatever the timings say. */
static void verdict_print(const struct comparison *c)
{
	if (c->broken[0])
		printf("\nverdict: INVARIANT CHANGED: %s\n", shown(c->broken));
	if (c->expected[0])
		printf("%sexpected invariant changes (--expect): %s\n", c->broken[0] ? "" : "\n", shown(c->expected));
	printf("%sverdict: %s\n", c->broken[0] || c->expected[0] ? "" : "\n",
	       c->slower ? "SLOWER (a timing metric regressed)" :
	       c->unsteady ? "UNSTEADY: no timing verdict (a run's repetitions trend, see above; run it again)" :
	       "no timing regression");
}

int cmd_compare(int argc, char **argv)
{
	static const char *base, *new;
	static struct opt_list names, expect;
	static unsigned long threshold_pct = 0;
	static int force, by_boot;
	static const struct opt own[] = {
		{ "boots", OPT_FLAG, &by_boot, 0, 0, NULL,
		  "take every ok run of each variant, each boot's median as one sample" },
		{ "base", OPT_STRING, &base, 0, 0, "VARIANT|RUN", "the reference side" },
		{ "new", OPT_STRING, &new, 0, 0, "VARIANT|RUN", "the side judged against it" },
		{ "bench", OPT_LIST, &names, 0, 0, "NAME", "benchmark to compare (default: all on both sides)" },
		{ "threshold", OPT_UINT, &threshold_pct, 0, 1000, "PCT",
		  "smallest effect called a change (0: per metric, 5% for timings, 10% for other counts)" },
		{ "force", OPT_FLAG, &force, 0, 0, NULL, "compare runs that are not comparable" },
		{ "with-faults", OPT_FLAG, &with_faults, 0, 0, NULL,
		  "also take runs made with RB_TEST_* fault injection (never taken otherwise)" },
		{ "expect", OPT_LIST, &expect, 0, 0, "METRIC",
		  "an invariant whose change is expected: shown, does not fail the comparison" },
		{ "format", OPT_STRING, &opt_format, 0, 0, "text|json|csv", "output format" },
		{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, NULL };
	parse_options(tables, argc, argv, "usage: reclaimbench compare --base VARIANT|RUN --new VARIANT|RUN [--bench NAME]...");
	struct comparison c = { .base = base, .new = new, .names = &names, .expect = &expect,
				.threshold_pct = threshold_pct, .force = force, .by_boot = by_boot, .jfirst = 1 };
	sqlite3 *db;

	if (check_format(opt_format, "text|json|csv"))
		return EXIT_USAGE;
	if (!base || !new)
		die(EXIT_USAGE, "compare needs --base and --new (a variant name or a run id)");
	for (int i = 0; i < names.n; i++)
		if (!bench_find(names.v[i]))
			die(EXIT_USAGE, "unknown benchmark '%s'; see reclaimbench list benches", names.v[i]);
	db = db_open(opt_db);
	rows_begin(&c);
	for (int i = 0; i < nbenches; i++)
		if (bench_wanted(&names, benches[i]->name))
			compare_bench(&c, db, benches[i]->name);
	if (!strcmp(opt_format, "json"))
		printf("\n],\"verdict\":\"%s\"}\n", c.broken[0] ? "invariant changed" : c.slower ? "slower" :
		       c.unsteady ? "unsteady" : "no regression");
	db_close(db);
	if (!c.compared)
		die(EXIT_USAGE, "nothing to compare: no benchmark has ok runs on both '%s' and '%s'%s", base, new,
		    with_faults ? "" : " (runs made with RB_TEST_* fault injection count only with --with-faults)");
	if (!strcmp(opt_format, "text"))
		verdict_print(&c);
	return c.slower || c.broken[0] ? EXIT_VERDICT : EXIT_OK;
}
