/* Statistics of two samples: medians, a bootstrap confidence interval of
 * the ratio of medians, the Mann-Whitney U test, coefficients of variation. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void *alloc(size_t n, size_t size)
{
	void *p = n && n <= SIZE_MAX / size ? malloc(n * size) : NULL;

	if (!p)
		die(EXIT_INFRA, "out of memory for %zu samples", n);
	return p;
}

/* Puts the k-th smallest of v[0..n) at v[k], the smaller ones before it
 * (quickselect, median-of-three pivot; past 2 log2(n) rounds the rest is
 * sorted, so crafted data cannot make it quadratic). */
static void select_kth(double *v, int n, int k)
{
	int lo = 0, hi = n - 1, depth = 0, limit = 2;

	for (int m = n; m > 1; m >>= 1)
		limit += 2;
	while (hi > lo) {
		double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi], pivot, t;
		int i = lo, j = hi;

		if (++depth > limit) {
			qsort(v + lo, hi - lo + 1, sizeof(*v), cmp);
			return;
		}
		pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
				t = v[i], v[i++] = v[j], v[j--] = t;
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* The median of v[0..n), reordering v: O(n). */
static double median_inplace(double *v, int n)
{
	double below;

	select_kth(v, n, n / 2);
	if (n % 2)
		return v[n / 2];
	below = v[0];
	for (int i = 1; i < n / 2; i++)
		below = fmax(below, v[i]);
	return (below + v[n / 2]) / 2;
}

double median(const double *v, int n)
{
	double *s, m;

	if (n <= 0)
		return NAN;
	s = alloc(n, sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	m = median_inplace(s, n);
	free(s);
	return m;
}

double coef_var(const double *v, int n)
{
	double mean = 0, ss = 0;

	if (n < 2)
		return NAN;
	for (int i = 0; i < n; i++)
		mean += v[i];
	mean /= n;
	for (int i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	return mean ? sqrt(ss / (n - 1)) / fabs(mean) : NAN;
}

static double binomial_half(int n, int k)	/* P(X = k), X ~ binomial(n, 1/2) */
{
	return exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) - n * M_LN2);
}

/* A distribution-free interval of the median: the j-th smallest and the
 * j-th largest of v, with j the largest rank whose binomial(n, 1/2) tail
 * P(X < j) stays within (1 - level) / 2; *coverage is that interval's own
 * confidence.  When n is too small to reach level, j = 1: the whole range.
 * Logarithms of the binomial terms: 0.5^n underflows past n = 1074. */
void median_ci(const double *v, int n, double level, double *lo, double *hi, double *coverage)
{
	double *s, tail, half = (1 - level) / 2;
	int j = 1;

	if (n <= 0) {
		*lo = *hi = *coverage = NAN;
		return;
	}
	tail = binomial_half(n, 0);	/* P(X <= j - 1) */
	while (2 * (j + 1) <= n + 1 && tail + binomial_half(n, j) <= half)
		tail += binomial_half(n, j++);
	s = alloc(n, sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp);
	*lo = s[j - 1], *hi = s[n - j], *coverage = 1 - 2 * tail;
	free(s);
}

/* xorshift64*: a small generator, so a fixed seed gives the same interval
 * on every machine. */
static double uniform(uint64_t *s)
{
	*s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
	return (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* At most this many draws in one interval: 2000 resamples of up to 20,000
 * samples in all; past that fewer resamples (never under 200), so a run of
 * any size takes a bounded time. */
#define BOOTSTRAP_DRAWS 40000000.0
#define BOOTSTRAP_MIN_ITERS 200

void bootstrap_ratio(const double *a, int na, const double *b, int nb, int iters, uint64_t seed,
		     double level, double *lo, double *hi)
{
	double *ra, *rb, *r;
	uint64_t s = seed ? seed : 1;
	int k = 0;

	if (na <= 0 || nb <= 0 || iters <= 0) {
		*lo = *hi = NAN;
		return;
	}
	if ((double)iters * (na + (double)nb) > BOOTSTRAP_DRAWS)
		iters = fmax(fmin(iters, BOOTSTRAP_MIN_ITERS), BOOTSTRAP_DRAWS / (na + (double)nb));
	ra = alloc(na, sizeof(double)), rb = alloc(nb, sizeof(double)), r = alloc(iters, sizeof(double));
	for (int i = 0; i < iters; i++) {
		double ma, mb;

		for (int j = 0; j < na; j++)
			ra[j] = a[(int)(uniform(&s) * na)];
		for (int j = 0; j < nb; j++)
			rb[j] = b[(int)(uniform(&s) * nb)];
		ma = median_inplace(ra, na), mb = median_inplace(rb, nb);
		if (ma != 0)
			r[k++] = mb / ma;
	}
	qsort(r, k, sizeof(*r), cmp);
	*lo = k ? r[(int)floor((1 - level) / 2 * (k - 1))] : NAN;
	*hi = k ? r[(int)ceil((1 + level) / 2 * (k - 1))] : NAN;
	free(ra), free(rb), free(r);
}

/* Number of ways to pick m of the ranks 1..n summing to each total:
 * the exact null distribution of the rank sum without ties. */
static double exact_p(int na, int nb, double u)
{
	int n = na + nb, max = na * nb;	/* the caller keeps na * nb small */
	double *c = calloc((size_t)(na + 1) * (max + 1), sizeof(double)), total = 0, tail = 0;

	if (!c)
		die(EXIT_INFRA, "out of memory for the exact U test of %d against %d samples", na, nb);

	/* c[k][s]: ways for k items of the first group to have U-contribution s,
	 * built one element at a time (the classic recurrence on U). */
	c[0] = 1;
	for (int i = 1; i <= n; i++)
		for (int k = (i < na ? i : na); k >= 1; k--) {
			int shift = i - k;	/* items of the other group below this one */

			if (shift > nb)
				continue;
			for (int s = max; s >= shift; s--)
				c[k * (max + 1) + s] += c[(k - 1) * (max + 1) + s - shift];
		}
	for (int s = 0; s <= max; s++) {
		double w = c[na * (max + 1) + s];

		total += w;
		if (s <= u + 1e-9)
			tail += w;
	}
	free(c);
	return fmin(1.0, 2 * tail / total);
}

struct ranked {
	double v;
	int g;
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/* The exact distribution up to na * nb = 400 (its table has that many
 * columns a row); above, the normal approximation.  Sizes in doubles: two
 * runs of 46,341 samples overflow an int. */
#define EXACT_MAX 400

void mann_whitney(const double *a, int na, const double *b, int nb, double *u_out, double *p_out)
{
	int n = na + nb, ties = 0;
	struct ranked *all;
	double ra = 0, u, ua, tie_sum = 0, mu, sigma, z, nab = (double)na * nb;

	if (na <= 0 || nb <= 0) {
		*u_out = NAN, *p_out = 1;
		return;
	}
	all = alloc(n, sizeof(*all));
	for (int i = 0; i < na; i++)
		all[i].v = a[i], all[i].g = 0;
	for (int i = 0; i < nb; i++)
		all[na + i].v = b[i], all[na + i].g = 1;
	qsort(all, n, sizeof(*all), cmp_ranked);
	for (int i = 0; i < n;) {
		int j = i;

		while (j + 1 < n && all[j + 1].v == all[i].v)
			j++;
		for (int k = i; k <= j; k++)
			if (all[k].g == 0)
				ra += (i + j) / 2.0 + 1;
		if (j > i) {
			double t = j - i + 1;
			tie_sum += t * t * t - t;
			ties = 1;
		}
		i = j + 1;
	}
	ua = ra - na * (na + 1.0) / 2;
	u = fmin(ua, nab - ua);
	*u_out = ua;
	if (!ties && nab <= EXACT_MAX) {
		*p_out = exact_p(na, nb, u);
	} else {
		mu = nab / 2;
		sigma = sqrt(nab / 12 * ((n + 1.0) - tie_sum / ((double)n * (n - 1))));
		z = sigma > 0 ? (fabs(ua - mu) - 0.5) / sigma : 0;
		*p_out = sigma > 0 ? fmin(1.0, erfc(fmax(z, 0) / sqrt(2))) : 1.0;
	}
	free(all);
}

/* log of the hypergeometric probability of k events on the first side,
 * with n1 and n2 trials a side and m events in all. */
static double log_hyper(double k, double n1, double n2, double m)
{
	return lgamma(n1 + 1) - lgamma(k + 1) - lgamma(n1 - k + 1) + lgamma(n2 + 1) - lgamma(m - k + 1) -
	       lgamma(n2 - m + k + 1) - lgamma(n1 + n2 + 1) + lgamma(m + 1) + lgamma(n1 + n2 - m + 1);
}

/* Fisher's exact test of k1 events in n1 trials against k2 in n2: the
 * two-sided p, summing every table no more likely than the one seen. */
double fisher_exact(double k1, double n1, double k2, double n2)
{
	double m = k1 + k2, lo = fmax(0, m - n2), hi = fmin(m, n1), seen, p = 0;

	if (n1 <= 0 || n2 <= 0 || k1 < 0 || k2 < 0 || k1 > n1 || k2 > n2)
		return NAN;
	seen = log_hyper(k1, n1, n2, m);
	for (double k = lo; k <= hi; k++) {
		double l = log_hyper(k, n1, n2, m);

		if (l <= seen + 1e-7)
			p += exp(l);
	}
	return fmin(1, p);
}

/* Permutations of n items with at most k inversions, over n!: the exact
 * null distribution of Kendall's S without ties (S = P - Q, Q the
 * inversions).  Mahonian numbers, one row at a time. */
static double inversions_cdf(int n, int k)
{
	int max = n * (n - 1) / 2;
	double *c = calloc(max + 1, sizeof(double)), total = 0, below = 0;

	c[0] = 1;
	for (int m = 2; m <= n; m++)		/* the m-th item adds 0..m-1 inversions */
		for (int s = m * (m - 1) / 2; s >= 1; s--)
			for (int j = 1; j < m && j <= s; j++)
				c[s] += c[s - j];
	for (int s = 0; s <= max; s++) {
		total += c[s];
		if (s <= k)
			below += c[s];
	}
	free(c);
	return below / total;
}

/* The Mann-Kendall trend test of a series in its order: Kendall's tau of
 * value against position and the two-sided p (exact for up to 30 values
 * without ties, else the normal approximation with the tie term), and
 * Sen's slope (the median of the slopes of all pairs) per position.  A
 * series longer than TREND_MAX (a stream may hold 200,000 samples a run;
 * the test is quadratic) is taken as TREND_MAX medians of consecutive
 * blocks, the slope scaled back to one position. */
#define TREND_MAX 256
void mann_kendall(const double *v, int n, double *tau, double *p, double *slope)
{
	int pairs, ties = 0, k = 0;
	double s = 0, var, *sl;

	*tau = *p = *slope = NAN;
	if (n < 3)
		return;
	if (n > TREND_MAX) {
		double *b = malloc(TREND_MAX * sizeof(*b));
		long from = 0;

		if (!b)
			return;
		for (int i = 0; i < TREND_MAX; i++) {
			long to = (long)n * (i + 1) / TREND_MAX;

			b[i] = median(v + from, to - from);
			from = to;
		}
		mann_kendall(b, TREND_MAX, tau, p, slope);
		*slope *= (double)TREND_MAX / n;
		free(b);
		return;
	}
	pairs = n * (n - 1) / 2;
	if (!(sl = malloc(pairs * sizeof(*sl))))
		return;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			s += (v[j] > v[i]) - (v[j] < v[i]);
			ties |= v[j] == v[i];
			sl[k++] = (v[j] - v[i]) / (j - i);
		}
	*slope = median(sl, k);
	free(sl);
	*tau = s / pairs;
	if (!ties && n <= 30) {
		/* Q = (pairs - |S|) / 2 inversions or fewer, either way round. */
		*p = fmin(1, 2 * inversions_cdf(n, (pairs - (int)fabs(s)) / 2));
		return;
	}
	var = n * (n - 1) * (2.0 * n + 5);
	for (int i = 0; i < n; i++) {
		int t = 0, first = 1;

		for (int j = 0; j < n; j++) {
			t += v[j] == v[i];
			first &= !(j < i && v[j] == v[i]);
		}
		if (first && t > 1)
			var -= t * (t - 1.0) * (2.0 * t + 5);
	}
	var /= 18;
	*p = var > 0 ? fmin(1, erfc(fmax(fabs(s) - 1, 0) / sqrt(var) / sqrt(2))) : 1;
}
