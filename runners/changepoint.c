/* Change points over a metric's whole history (one value a night, the
 * median of that night's repetitions), by binary segmentation:
 *
 *   1. In a stretch of nights, the split that best explains it as two
 *      flat parts: the one with the least total absolute deviation from
 *      each part's median (robust to a single wild night), each part at
 *      least min_seg nights long.
 *   2. The split stands when the parts differ by the rank test (U, p <
 *      alpha) and by at least min_effect in ratio of medians; then each
 *      part is searched again.
 *   3. Each change point is then called a step or part of a drift: a step
 *      when the jump is where the split is, i.e. the min_seg nights just
 *      before and just after it differ by at least half the change and at
 *      least min_effect; a drift moves the median between the parts but
 *      only a little from one night to the next.
 *
 * A single noisy night cannot make a part of its own (min_seg) and moves
 * no median; a slow drift is split, but its change points are drifts,
 * which nobody bisects; a step hidden by a noisy night still moves the
 * medians of the nights around it, and its bisection spans the nights
 * that side with the other part near it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

/* The total absolute deviation of v[0..n) from its median. */
static double l1_cost(const double *v, int n)
{
	double m = median(v, n), c = 0;

	for (int i = 0; i < n; i++)
		c += fabs(v[i] - m);
	return c;
}

/* How far apart two medians are: |log of their ratio| when both are
 * positive, else their difference over the larger magnitude. */
static double log_distance(double a, double b)
{
	if (a > 0 && b > 0)
		return fabs(log(b / a));
	if (a == b)
		return 0;
	return fabs(b - a) / fmax(fabs(a), fabs(b));
}

/* The best split of v[a..b), or -1 when the stretch is too short. */
static int best_split(const double *v, int a, int b, int min_seg)
{
	double best = INFINITY;
	int at = -1;

	for (int k = a + min_seg; k <= b - min_seg; k++) {
		double c = l1_cost(v + a, k - a) + l1_cost(v + k, b - k);

		if (c < best)
			best = c, at = k;
	}
	return at;
}

struct segmentation {
	const double *v;
	const struct cp_params *par;
	struct change_point *out;
	int n, max;
};

static void segment(struct segmentation *s, int a, int b)
{
	int k = best_split(s->v, a, b, s->par->min_seg);
	double u, p;

	if (k < 0 || s->n == s->max)
		return;
	mann_whitney(s->v + a, k - a, s->v + k, b - k, &u, &p);
	if (p >= s->par->alpha ||
	    log_distance(median(s->v + a, k - a), median(s->v + k, b - k)) < log1p(s->par->min_effect))
		return;
	s->out[s->n++].at = k;
	segment(s, a, k);
	segment(s, k, b);
}

static int by_position(const void *x, const void *y)
{
	return ((const struct change_point *)x)->at - ((const struct change_point *)y)->at;
}

/* The nights a bisection of the change at k must span: from the night
 * before the first one near it that sides with the other part, to the
 * last such, or k (a noisy night beside a step makes its night unsure:
 * the step may be a night or two earlier or later than the split). */
static void bisect_range(const double *v, int a, int b, int w, struct change_point *cp)
{
	int k = cp->at, first = k, last = k;

	for (int j = k - w > a ? k - w : a; j < k + w && j < b; j++) {
		int after_side = log_distance(v[j], cp->after) < log_distance(v[j], cp->before);

		if (after_side != (j >= k)) {
			if (j < first)
				first = j;
			if (j > last)
				last = j;
		}
	}
	cp->good = first - 1;
	cp->bad = last;
}

/* Each change point's figures on the parts its neighbours leave it, and
 * whether it is a step or part of a drift. */
static void describe(const double *v, int n, const struct cp_params *par, struct change_point *cp, int ncp)
{
	for (int i = 0; i < ncp; i++) {
		int a = i ? cp[i - 1].at : 0, k = cp[i].at, b = i + 1 < ncp ? cp[i + 1].at : n;
		int w = par->min_seg;
		double u, change;

		cp[i].before = median(v + a, k - a);
		cp[i].after = median(v + k, b - k);
		mann_whitney(v + a, k - a, v + k, b - k, &u, &cp[i].p);
		if (k - a < w)
			w = k - a;
		if (b - k < w)
			w = b - k;
		cp[i].local = log_distance(median(v + k - w, w), median(v + k, w));
		change = log_distance(cp[i].before, cp[i].after);
		cp[i].step = cp[i].local >= 0.5 * change && cp[i].local >= log1p(par->min_effect);
		bisect_range(v, a, b, par->min_seg, &cp[i]);
	}
}

int change_points(const double *v, int n, const struct cp_params *par, struct change_point *out, int max)
{
	struct segmentation s = { .v = v, .par = par, .out = out, .max = max };

	memset(out, 0, max * sizeof(*out));
	segment(&s, 0, n);
	qsort(out, s.n, sizeof(*out), by_position);
	describe(v, n, par, out, s.n);
	return s.n;
}

void history_drift(const double *v, int n, const struct cp_params *par, struct drift *d)
{
	double tau, slope, m = n ? median(v, n) : NAN;

	memset(d, 0, sizeof(*d));
	if (n < 4)
		return;
	mann_kendall(v, n, &tau, &d->p, &slope);
	d->total = m != 0 ? slope * (n - 1) / fabs(m) : 0;
	d->drifts = d->p < par->alpha && fabs(d->total) >= par->min_effect;
}

/* The drift of a history its steps leave: each stretch between steps
 * over its own median, so a step is not taken for a drift. */
static void drift_between_steps(struct history *h, const struct cp_params *par)
{
	double *rel = calloc(h->n + 1, sizeof(double));
	int a = 0;

	for (int i = 0; i <= h->ncp; i++) {
		int b = i < h->ncp ? h->cp[i].at : h->n;
		double m;

		if (i < h->ncp && !h->cp[i].step)
			continue;
		m = median(h->v + a, b - a);
		for (int j = a; j < b; j++)
			rel[j] = m ? h->v[j] / m : h->v[j];
		a = b;
	}
	history_drift(rel, h->n, par, &h->drift);
	free(rel);
}

/* A metric's nightly history (the newest HISTORY_MAX nights: the search
 * costs n^2 log n): per ok nightly run of the benchmark (the
 * "nightly" kernel, no fault injected), oldest first, its median, its run
 * and its commit ("git:SHA" as the source's id); then its change points
 * and drift.  Every value is bound, none is SQL. */
int history_load(sqlite3 *db, const char *bench, const char *metric, struct history *h)
{
	struct cp_params par = CP_DEFAULTS;
	sqlite3_stmt *st;
	int cap = 64;

	memset(h, 0, sizeof(*h));
	h->v = calloc(cap, sizeof(*h->v)), h->runs = calloc(cap, sizeof(*h->runs));
	h->commits = calloc(cap, sizeof(*h->commits));
	sqlite3_prepare_v2(db, "SELECT id, source FROM (SELECT r.id AS id, k.source AS source FROM runs r JOIN kernels k "
			       "ON k.id = r.kernel_id WHERE k.variant = 'nightly' AND r.bench = ?1 AND r.status = 'ok' AND "
			       "r.faults = '' ORDER BY r.id DESC LIMIT ?2) ORDER BY id", -1, &st, NULL);
	sqlite3_bind_text(st, 1, bench, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, HISTORY_MAX);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long run = sqlite3_column_int64(st, 0);
		const char *src = (const char *)sqlite3_column_text(st, 1);
		double v = run_metric(db, run, metric, AGG_MEDIAN);

		if (isnan(v))
			continue;
		if (h->n == cap) {
			cap *= 2;
			h->v = realloc(h->v, cap * sizeof(*h->v)), h->runs = realloc(h->runs, cap * sizeof(*h->runs));
			h->commits = realloc(h->commits, cap * sizeof(*h->commits));
		}
		h->v[h->n] = v, h->runs[h->n] = run;
		h->commits[h->n++] = xstrdup(src && !strncmp(src, "git:", 4) ? src + 4 : "");
	}
	sqlite3_finalize(st);
	h->ncp = change_points(h->v, h->n, &par, h->cp, HISTORY_CP_MAX);
	drift_between_steps(h, &par);
	return h->n;
}

void history_free(struct history *h)
{
	for (int i = 0; i < h->n; i++)
		free(h->commits[i]);
	free(h->v), free(h->runs), free(h->commits);
}
