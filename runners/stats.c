/* Statistics of two samples: medians, a bootstrap confidence interval of
 * the ratio of medians, the Mann-Whitney U test, coefficients of variation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(const double *v, int n)
{
	double *s, m;

	if (n <= 0)
		return NAN;
	s = malloc(n * sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
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

/* xorshift64*: a small generator, so a fixed seed gives the same interval
 * on every machine. */
static double uniform(uint64_t *s)
{
	*s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
	return (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

void bootstrap_ratio(const double *a, int na, const double *b, int nb, int iters, uint64_t seed,
		     double level, double *lo, double *hi)
{
	double *ra = malloc(na * sizeof(double)), *rb = malloc(nb * sizeof(double));
	double *r = malloc(iters * sizeof(double));
	uint64_t s = seed ? seed : 1;
	int k = 0;

	for (int i = 0; i < iters; i++) {
		double ma, mb;

		for (int j = 0; j < na; j++)
			ra[j] = a[(int)(uniform(&s) * na)];
		for (int j = 0; j < nb; j++)
			rb[j] = b[(int)(uniform(&s) * nb)];
		ma = median(ra, na), mb = median(rb, nb);
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
	int n = na + nb, max = na * nb;
	double *c = calloc((size_t)(na + 1) * (max + 1), sizeof(double)), total = 0, tail = 0;

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

void mann_whitney(const double *a, int na, const double *b, int nb, double *u_out, double *p_out)
{
	int n = na + nb, ties = 0;
	struct { double v; int g; } *all = malloc(n * sizeof(*all));
	double *rank = malloc(n * sizeof(double)), ra = 0, u, ua, tie_sum = 0, mu, sigma, z;

	for (int i = 0; i < na; i++)
		all[i].v = a[i], all[i].g = 0;
	for (int i = 0; i < nb; i++)
		all[na + i].v = b[i], all[na + i].g = 1;
	/* sort by value (insertion sort: samples are small) */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && all[j - 1].v > all[j].v; j--) {
			typeof(*all) t = all[j];
			all[j] = all[j - 1], all[j - 1] = t;
		}
	for (int i = 0; i < n;) {
		int j = i;

		while (j + 1 < n && all[j + 1].v == all[i].v)
			j++;
		for (int k = i; k <= j; k++)
			rank[k] = (i + j) / 2.0 + 1;
		if (j > i) {
			double t = j - i + 1;
			tie_sum += t * t * t - t;
			ties = 1;
		}
		i = j + 1;
	}
	for (int i = 0; i < n; i++)
		if (all[i].g == 0)
			ra += rank[i];
	ua = ra - na * (na + 1) / 2.0;
	u = fmin(ua, (double)na * nb - ua);
	*u_out = ua;
	if (!ties && na * nb <= 400) {
		*p_out = exact_p(na, nb, u);
	} else {
		mu = na * nb / 2.0;
		sigma = sqrt(na * nb / 12.0 * ((n + 1) - tie_sum / ((double)n * (n - 1))));
		z = sigma > 0 ? (fabs(ua - mu) - 0.5) / sigma : 0;
		*p_out = sigma > 0 ? fmin(1.0, erfc(fmax(z, 0) / sqrt(2))) : 1.0;
	}
	free(all), free(rank);
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
 * Sen's slope (the median of the slopes of all pairs) per position. */
void mann_kendall(const double *v, int n, double *tau, double *p, double *slope)
{
	int pairs = n * (n - 1) / 2, ties = 0, k = 0;
	double s = 0, var, *sl;

	*tau = *p = *slope = NAN;
	if (n < 3)
		return;
	sl = malloc(pairs * sizeof(*sl));
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
