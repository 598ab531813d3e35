/* The table printed at the end of a run: per benchmark and variant the
 * columns the benchmark declares (its main timing and key counters), then
 * the sentence its finding writes about what the counters show.  Nothing
 * here names a benchmark. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

/* The aggregate of one metric of one run; NAN when it has no values. */
double run_metric(sqlite3 *db, long long run, const char *metric, enum agg agg)
{
	double *v, r = NAN;
	int n = db_samples(db, run, metric, &v);

	if (n && agg == AGG_MEDIAN)
		r = median(v, n);
	for (int i = 0; i < n && agg != AGG_MEDIAN; i++)
		r = i == 0 ? v[i] : agg == AGG_SUM ? r + v[i] : fmax(r, v[i]);
	free(v);
	return r;
}

double run_metric_kind(sqlite3 *db, long long run, const char *metric, const char *kind)
{
	char *name = metric ? NULL : run_field(db, run, "bench");
	const struct bench_info *b = name ? bench_find(name) : NULL;
	double *v, r;
	int n;

	if (!metric && !b) {
		free(name);
		return NAN;
	}
	n = db_samples_kind(db, run, metric ? metric : bench_timing(b), kind, &v);
	r = n ? median(v, n) : NAN;
	free(v), free(name);
	return r;
}

/* The unit a run stored a metric in, mallocd ("" when none). */
char *metric_unit(sqlite3 *db, long long run, const char *metric)
{
	sqlite3_stmt *st;
	char *u = NULL;

	sqlite3_prepare_v2(db, "SELECT unit FROM samples WHERE run_id = ?1 AND metric = ?2 LIMIT 1", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		u = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return u ? u : xstrdup("");
}

const char *timing_unit_shown(const char *unit)
{
	return !strcmp(unit, "instr") ? "M instr" : !strcmp(unit, "ns") ? "ms" : unit;
}

double timing_scale(const char *unit)
{
	return !strcmp(unit, "instr") || !strcmp(unit, "ns") ? 1e-6 : 1;
}

void value_format(char *buf, size_t cap, double v, const char *unit)
{
	double scale = timing_scale(unit);

	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (scale != 1)
		snprintf(buf, cap, "%.2f %s", v * scale, timing_unit_shown(unit));
	else
		snprintf(buf, cap, "%.0f", v);
}

static double view_get(const struct run_view *v, const char *metric)
{
	const struct run_view_host *h = (const struct run_view_host *)v;
	const struct metric_decl *d = bench_metric(h->bench, metric);

	return run_metric(h->db, h->run, metric, d ? d->agg : AGG_MEDIAN);
}

void run_view_init(struct run_view_host *h, sqlite3 *db, long long run, const char *variant)
{
	char *name = run_field(db, run, "bench");

	*h = (struct run_view_host){ .view = { .variant = variant, .get = view_get }, .db = db, .run = run,
				     .bench = name ? bench_find(name) : NULL };
	h->view.host = h;
	free(name);
}

/* Where an architecture goes in a table: x86_64 first, then arm64's
 * aarch64, then any other by name; runs that recorded none ('') last. */
static int arch_order(const void *pa, const void *pb)
{
	const char *a = pa, *b = pb;
	int ra = !strcmp(a, "x86_64") ? 0 : !strcmp(a, "aarch64") ? 1 : *a ? 2 : 3;
	int rb = !strcmp(b, "x86_64") ? 0 : !strcmp(b, "aarch64") ? 1 : *b ? 2 : 3;

	return ra != rb ? ra - rb : strcmp(a, b);
}

/* The architectures (runs.arch, uname -m) of a benchmark's runs in the
 * sessions, in table order: how many, at most max. */
static int bench_arches(sqlite3 *db, const char *bench, char **sessions, int nsessions, char arches[][32], int max)
{
	sqlite3_stmt *st;
	int n = 0;

	sqlite3_prepare_v2(db, "SELECT DISTINCT arch FROM runs WHERE session = ?1 AND bench = ?2", -1, &st, NULL);
	for (int s = 0; s < nsessions; s++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, sessions[s], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, bench, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW && n < max) {
			const char *a = (const char *)sqlite3_column_text(st, 0);
			int seen = 0;

			for (int i = 0; i < n; i++)
				seen |= !strcmp(arches[i], a);
			if (!seen)
				snprintf(arches[n++], 32, "%s", a);
		}
	}
	sqlite3_finalize(st);
	qsort(arches, n, 32, arch_order);
	return n;
}

/* The rows of one session's runs of a benchmark on one architecture: its
 * columns, then the finding's sentence (or why the run is not ok). */
static void bench_rows(sqlite3 *db, const struct bench_info *b, sqlite3_stmt *st, const char *session,
		       const char *arch)
{
	const struct metric_decl *m;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, arch, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long run = sqlite3_column_int64(st, 0);
		const char *variant = (const char *)sqlite3_column_text(st, 1);
		const char *status = (const char *)sqlite3_column_text(st, 2);
		struct run_view_host h;
		char cell[64], finding[512] = "";

		run_view_init(&h, db, run, variant);
		printf("  %-24s %-10s", shown(variant), shown(status));
		for (m = b->metrics; m && m->name; m++) {
			char *unit;

			if (!m->column)
				continue;
			unit = metric_unit(db, run, m->name);
			value_format(cell, sizeof(cell), view_get(&h.view, m->name), unit);
			printf(" %16s", cell);
			free(unit);
		}
		/* Kernel warnings: an invariant of every benchmark. */
		value_format(cell, sizeof(cell), run_metric(db, run, "kernel.warnings", AGG_MAX), "");
		printf(" %9s\n", cell);
		if (strcmp(status, "ok"))
			printf("  - %s: %s: %s\n", shown(variant), shown(status),
			       shown((const char *)sqlite3_column_text(st, 3)));
		else if (b->finding && (b->finding(&h.view, finding, sizeof(finding)), finding[0]))
			printf("  - %s: %s\n", shown(variant), shown(finding));
	}
}

/* A benchmark's table: the runs of each architecture apart, under a line
 * naming it when the sessions hold more than one (runs of two
 * architectures are never compared, so they are never interleaved). */
static void bench_table(sqlite3 *db, const struct bench_info *b, char **sessions, int nsessions)
{
	const struct metric_decl *m;
	sqlite3_stmt *st;
	char arches[8][32];
	int narches = bench_arches(db, b->name, sessions, nsessions, arches, 8);

	if (!narches)
		return;
	printf("\n%s\n  %-24s %-10s", b->name, "variant", "status");
	for (m = b->metrics; m && m->name; m++)
		if (m->column)
			printf(" %16s", m->column);
	printf(" %9s\n", "warnings");
	sqlite3_prepare_v2(db, "SELECT r.id, CASE k.variant WHEN '' THEN k.release ELSE k.variant END, "
			       "r.status, r.reason FROM runs r JOIN kernels k ON k.id = r.kernel_id "
			       "WHERE r.session = ?1 AND r.bench = ?2 AND r.arch = ?3", -1, &st, NULL);
	for (int a = 0; a < narches; a++) {
		if (narches > 1)
			printf("  [%s]\n", arches[a][0] ? arches[a] : "architecture not recorded");
		for (int s = 0; s < nsessions; s++)
			bench_rows(db, b, st, sessions[s], arches[a]);
	}
	sqlite3_finalize(st);
}

void summary_print(sqlite3 *db, char **sessions, int nsessions)
{
	printf("\n=== summary: per variant, the median of the repetitions (or as the column says) ===\n");
	for (int i = 0; i < nbenches; i++)
		bench_table(db, benches[i], sessions, nsessions);
}
