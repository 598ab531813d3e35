/* Statistics and verdicts: the samples of a metric on two sides judged by
 * the role its benchmark declares.  A timing verdict needs both
 * significance (U test and a bootstrap interval of the ratio of medians
 * that excludes 1) and an effect above the threshold; exact counters are
 * compared exactly; events among trials by Fisher's exact test. */
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

/* Whether the verdict rules call the runs a and b different in the metric. */
int runs_differ(sqlite3 *db, const long long *a, int na, const long long *b, int nb, const char *metric,
		struct cmp_row *r)
{
	compare_sets(db, a, na, b, nb, metric, -1, r);
	return !strcmp(r->verdict, "faster") || !strcmp(r->verdict, "slower") || !strcmp(r->verdict, "changed") ||
	       !strcmp(r->verdict, "CHANGED");
}
