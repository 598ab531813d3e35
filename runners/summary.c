/* The table printed at the end of a run: per benchmark and variant the
 * median of the main metric and the key counters, then what the counters
 * say about each feature, plainly, including where they contradict it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

const struct column summary_columns[] = {
	{ "lazyfree_mthp", "pageout_ms", "time.wall", AGG_MEDIAN, 1e-6 },
	{ "lazyfree_mthp", "split_deferred", "mthp.split_deferred", AGG_MEDIAN, 1 },
	{ "lazyfree_mthp", "pglazyfreed", "vmstat.pglazyfreed", AGG_MEDIAN, 1 },
	{ "lazyfree_mthp", "tlb_flush", "perf.tlb_flush", AGG_MEDIAN, 1 },
	{ "pmd_redirty", "pageout_ms", "time.wall", AGG_MEDIAN, 1e-6 },
	{ "pmd_redirty", "thp_split_pmd", "vmstat.thp_split_pmd", AGG_MEDIAN, 1 },
	{ "pmd_redirty", "pglazyfreed", "vmstat.pglazyfreed", AGG_MEDIAN, 1 },
	{ "pmd_redirty", "lost_pages", "check.lost_pages", AGG_MAX, 1 },
	{ "ttu_sync_race", "partial", "race.partial", AGG_SUM, 1 },
	{ "ttu_sync_race", "folios", "race.folios", AGG_SUM, 1 },
	{ "ttu_sync_race", "reclaimed", "race.reclaimed", AGG_SUM, 1 },
	{ "ttu_sync_race", "pageout_ms", "time.pageout_sum", AGG_MEDIAN, 1e-6 },
	{ "pt_reclaim", "dontneed_ms", "time.wall", AGG_MEDIAN, 1e-6 },
	{ "pt_reclaim", "VmPTE_before_kB", "status.VmPTE_before", AGG_MEDIAN, 1 },
	{ "pt_reclaim", "VmPTE_after_kB", "status.VmPTE_after", AGG_MEDIAN, 1 },
	{ NULL }
};

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The aggregate of one metric of one run; NAN when it has no values. */
double run_metric(sqlite3 *db, long long run, const char *metric, enum agg agg)
{
	sqlite3_stmt *st;
	double v[1024], r = NAN;
	int n = 0;

	sqlite3_prepare_v2(db, "SELECT value FROM samples WHERE run_id = ?1 AND metric = ?2 "
			       "AND value IS NOT NULL", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	while (n < 1024 && sqlite3_step(st) == SQLITE_ROW)
		v[n++] = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	if (!n)
		return NAN;
	qsort(v, n, sizeof(v[0]), cmp);
	if (agg == AGG_MEDIAN)
		return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	if (agg == AGG_MAX)
		return v[n - 1];
	r = 0;
	for (int i = 0; i < n; i++)
		r += v[i];
	return r;
}

static void findings(const char *bench, const char *variant, double *val)
{
	char f[512] = "";

	if (!strcmp(bench, "lazyfree_mthp") && !isnan(val[1]))
		snprintf(f, sizeof(f), val[1] > 0 ? "%s: lazyfree mTHP unmapped PTE by PTE: split_deferred +%.0f (no batched unmap)"
					      : "%s: lazyfree mTHP unmapped whole: split_deferred +%.0f (batched unmap)",
			 variant, val[1]);
	else if (!strcmp(bench, "pmd_redirty") && !isnan(val[1]))
		snprintf(f, sizeof(f), "%s: redirtied PMD-mapped lazyfree THPs %s (thp_split_pmd +%.0f)%s", variant,
			 val[1] > 0 ? "were still SPLIT by reclaim" : "were skipped without a split", val[1],
			 val[3] > 0 ? "; DATA LOST: redirtied pages were discarded" : "");
	else if (!strcmp(bench, "ttu_sync_race") && !isnan(val[0]) && val[1] > 0) {
		double k = val[0], n = val[1], up = k ? 0 : 1 - pow(0.05, 1 / n);

		if (k)
			snprintf(f, sizeof(f), "%s: race REPRODUCED: %.0f of %.0f folios left partially mapped (%.0f ppm)",
				 variant, k, n, 1e6 * k / n);
		else
			snprintf(f, sizeof(f), "%s: race not reproduced: 0 of %.0f folios partially mapped "
				 "(rate below %.0f ppm at 95%%; not a proof of absence)", variant, n, 1e6 * up);
	} else if (!strcmp(bench, "pt_reclaim") && val[1] > 0) {
		double drop = 100 * (1 - val[2] / val[1]);

		snprintf(f, sizeof(f), "%s: MADV_DONTNEED %s empty page tables: VmPTE %.0f -> %.0f kB (%.1f%% freed)",
			 variant, drop > 90 ? "reclaimed" : "kept", val[1], val[2], drop);
	}
	if (f[0])
		printf("  - %s\n", f);
}

void summary_print(sqlite3 *db, char **sessions, int nsessions)
{
	const char *bench = NULL;

	printf("\n=== summary: median per variant (sums for ttu_sync_race) ===\n");
	for (const struct column *c = summary_columns; c->bench; c++) {
		if (bench && !strcmp(bench, c->bench))
			continue;
		bench = c->bench;
		printf("\n%s\n  %-24s %-10s", bench, "variant", "status");
		for (const struct column *d = c; d->bench && !strcmp(d->bench, bench); d++)
			printf(" %16s", d->title);
		putchar('\n');
		for (int s = 0; s < nsessions; s++) {
			sqlite3_stmt *st;

			sqlite3_prepare_v2(db,
					   "SELECT r.id, CASE k.variant WHEN '' THEN k.release ELSE k.variant END, "
					   "r.status, r.reason FROM runs r JOIN kernels k ON k.id = r.kernel_id "
					   "WHERE r.session = ?1 AND r.bench = ?2", -1, &st, NULL);
			sqlite3_bind_text(st, 1, sessions[s], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, bench, -1, SQLITE_STATIC);
			while (sqlite3_step(st) == SQLITE_ROW) {
				long long run = sqlite3_column_int64(st, 0);
				const char *variant = (const char *)sqlite3_column_text(st, 1);
				const char *status = (const char *)sqlite3_column_text(st, 2);
				double val[8];
				int i = 0;

				printf("  %-24s %-10s", variant, status);
				for (const struct column *d = c; d->bench && !strcmp(d->bench, bench); d++, i++) {
					val[i] = run_metric(db, run, d->metric, d->agg) * d->scale;
					if (isnan(val[i]))
						printf(" %16s", "-");
					else
						printf(" %16.*f", d->scale < 1 ? 2 : 0, val[i]);
				}
				putchar('\n');
				if (strcmp(status, "ok"))
					printf("  - %s: %s: %s\n", variant, status, sqlite3_column_text(st, 3));
				else
					findings(bench, variant, val);
			}
			sqlite3_finalize(st);
		}
	}
}
