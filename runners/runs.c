/* Runs looked up: by variant, by session, a column of one, the metrics of
 * two, and whether two can be compared at all. */
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

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
