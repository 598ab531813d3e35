/* reclaimbench list, show and summary: what the database holds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

static const char *opt_variants;

static const struct opt common[] = {
	{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
	{ "variants", OPT_STRING, &opt_variants, 0, 0, "FILE",
	  "variant spec file (list variants) [kernels/variants.conf and kernels/arm64.conf]" },
	{ "format", OPT_STRING, &opt_format, 0, 0, "text|json", "output format" },
	{ NULL }
};

static int parse_common(int argc, char **argv, const char *usage)
{
	const struct opt *const tables[] = { common, NULL };
	int first = parse_args(tables, argc, argv, usage);

	if (check_format(opt_format, "text|json"))
		exit(EXIT_USAGE);
	return first;
}

int cmd_list(int argc, char **argv)
{
	int first = parse_common(argc, argv, "usage: reclaimbench list benches|variants|runs [--db PATH] [--format text|json]");
	const char *what = first < argc ? argv[first] : "runs";
	sqlite3 *db;

	if (!strcmp(what, "benches")) {
		int json = !strcmp(opt_format, "json");

		printf(json ? "[" : "%-18s %-7s %-8s %-40s %s\n", "bench", "version", "clock", "parameters",
		       "what it does");
		for (int i = 0; i < nbenches; i++) {
			/* the clock that times it under TCG (see bench_clock in plan.c) */
			const char *clock = benches[i]->parallel ? "host" : "icount";

			if (!json) {
				printf("%-18s %-7u %-8s %-40s %s\n", benches[i]->name, benches[i]->version, clock,
				       benches[i]->params, benches[i]->help);
				continue;
			}
			printf("%s\n {\"bench\":", i ? "," : "");
			json_string(stdout, benches[i]->name);
			printf(",\"version\":%u,\"tcg_clock\":\"%s\",\"params\":", benches[i]->version, clock);
			json_string(stdout, benches[i]->params);
			fputs(",\"help\":", stdout);
			json_string(stdout, benches[i]->help);
			putchar('}');
		}
		if (json)
			puts("\n]");
		return EXIT_OK;
	}
	if (!strcmp(what, "variants")) {
		struct variant_set set;
		const char **files;
		int nfiles = default_plan_files(&files);

		if (opt_variants)
			files = &opt_variants, nfiles = 1;
		variants_load_files(files, nfiles, &set);
		for (int i = 0; i < set.n; i++) {
			struct variant *v = &set.v[i];

			printf("%s\n  source  %s\n  arch    %s\n  cmdline %s\n", shown(v->name), shown(v->source),
			       variant_arch(v), shown(v->cmdline));
			for (int j = 0; j < v->nconfigs; j++)
				printf("  config  %s\n", shown(v->configs[j]));
			for (int j = 0; j < v->npatches; j++)
				printf("  patch   %s\n", shown(v->patches[j]));
		}
		return EXIT_OK;
	}
	if (strcmp(what, "runs"))
		die(EXIT_USAGE, "cannot list '%s'; use list benches, variants or runs", what);
	db = db_open(opt_db);
	db_print(stdout, db,
		 "SELECT r.id AS run, r.started_at AS started, "
		 "CASE k.variant WHEN '' THEN k.release ELSE k.variant END AS kernel, r.accel, r.bench, "
		 "r.status, (SELECT count(DISTINCT rep) FROM samples s WHERE s.run_id = r.id) AS reps, "
		 "r.params, r.faults, r.reason FROM runs r JOIN kernels k ON k.id = r.kernel_id ORDER BY r.id",
		 opt_format, NULL);
	db_close(db);
	return EXIT_OK;
}

/* One line per metric and kind of repetition: unit, median, then every
 * repetition.  Samples of counting repetitions (perf events on) are
 * marked; timings are read from the timed ones. */
static void print_samples(sqlite3 *db, const char *run)
{
	sqlite3_stmt *st;
	char key[160] = "", unit[32] = "", line[4096] = "";
	double vals[1024];
	int n = 0, unsupported = 0, more = 1;

	sqlite3_prepare_v2(db, "SELECT metric || CASE kind WHEN 'counting' THEN ' (counting)' ELSE '' END, unit, "
			       "value FROM samples WHERE run_id = ?1 ORDER BY metric, kind DESC, rep", -1, &st, NULL);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	printf("%-45s %-8s %14s  %s\n", "metric", "unit", "median", "repetitions");
	while (more) {
		more = sqlite3_step(st) == SQLITE_ROW;
		const char *m = more ? (const char *)sqlite3_column_text(st, 0) : "";

		if (key[0] && strcmp(m, key)) {
			if (unsupported)
				printf("%-45s %-8s %14s\n", shown(key), shown(unit), "unsupported");
			else
				printf("%-45s %-8s %14.15g %s\n", shown(key), shown(unit), median(vals, n), line);
			n = unsupported = 0;
			line[0] = '\0';
		}
		if (!more)
			break;
		snprintf(key, sizeof(key), "%s", m);
		snprintf(unit, sizeof(unit), "%s", sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
			unsupported = 1;
		} else if (n < 1024) {
			size_t l = strlen(line);

			vals[n++] = sqlite3_column_double(st, 2);
			snprintf(line + l, sizeof(line) - l, " %.15g", vals[n - 1]);
		}
	}
	sqlite3_finalize(st);
}

int cmd_show(int argc, char **argv)
{
	int first = parse_common(argc, argv, "usage: reclaimbench show RUN|last [--db PATH] [--format text|json]");
	static const char run_sql[] =
		"SELECT r.id AS run, r.session, r.bench, r.bench_version, r.params, r.arch, r.accel, "
		"r.guest_mem_mb, r.guest_cpus, r.status, r.reason, r.started_at, k.release, k.version, "
		"k.variant, k.build_id, r.command, r.console_log, r.faults AS fault_injection, "
		"r.alone, printf('%.2f', r.others_cpus) AS others_cpus, "
		"printf('%+.2f%%', 100 * r.observer_overhead) AS observer_overhead, "
		"CASE WHEN r.trend_p IS NOT NULL THEN printf('tau %.2f, p %.3g, drift %+.2f%%', r.trend_tau, "
		"r.trend_p, 100 * r.trend_drift) END AS trend, "
		"r.clocksource, r.clock_step_ns "
		"FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE r.id = ?1";
	const char *run;
	char *last = NULL;
	sqlite3 *db;

	if (first >= argc)
		die(EXIT_USAGE, "show needs a run id (see reclaimbench list runs) or 'last'");
	run = argv[first];
	if (strcmp(run, "last") && strspn(run, "0123456789") != strlen(run))
		die(EXIT_USAGE, "run '%s' is not a number; see reclaimbench list runs", run);
	db = db_open(opt_db);
	if (!strcmp(run, "last")) {
		sqlite3_stmt *st;

		sqlite3_prepare_v2(db, "SELECT max(id) FROM runs", -1, &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			last = xasprintf("%lld", sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
		if (!last)
			die(EXIT_USAGE, "database '%s' holds no runs yet", opt_db);
		run = last;
	}
	if (!strcmp(opt_format, "json")) {
		fputs("{\"format\":1,\"run\":", stdout);
		if (db_print(stdout, db, run_sql, "json", run) <= 0)
			die(EXIT_USAGE, "no run %s in '%s'; see reclaimbench list runs", run, opt_db);
		fputs(",\"samples\":", stdout);
		db_print(stdout, db, "SELECT kind, rep, metric, value, unit, note FROM samples WHERE run_id = ?1 "
			     "ORDER BY metric, kind DESC, rep", "json", run);
		puts("}");
	} else {
		sqlite3_stmt *st;

		sqlite3_prepare_v2(db, run_sql, -1, &st, NULL);
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			die(EXIT_USAGE, "no run %s in '%s'; see reclaimbench list runs", run, opt_db);
		for (int c = 0; c < sqlite3_column_count(st); c++)
			if (sqlite3_column_text(st, c) && *sqlite3_column_text(st, c))
				printf("%-14s %s\n", sqlite3_column_name(st, c),
				       shown((const char *)sqlite3_column_text(st, c)));
		sqlite3_finalize(st);
		printf("%-14s %s\n", "", "(observer_overhead: the main timing of counting repetitions, perf "
		       "events on, against timed ones; trend: Mann-Kendall of its timed repetitions in order, "
		       "unsteady at p < 0.05 and a drift of 2% or more)");
		putchar('\n');
		print_samples(db, run);
		sqlite3_prepare_v2(db, "SELECT note FROM samples WHERE run_id = ?1 AND metric = 'kernel.warnings' "
				       "AND value > 0", -1, &st, NULL);
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			printf("\nkernel warnings on the console while it ran:\n%s",
			       shown_lines((const char *)sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
	}
	free(last);
	db_close(db);
	return EXIT_OK;
}

/* reclaimbench summary: the table a run ends with, again, from the
 * database: the sessions that hold the newest run of each kernel,
 * benchmark and accelerator (runs with injected faults left out). */
/* reclaimbench summary: the table a run ends with, again, for the newest
 * runs of each kernel and benchmark in the database. */
int cmd_summary(int argc, char **argv)
{
	static const struct opt own[] = {
		{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, NULL };
	int first = parse_args(tables, argc, argv, "usage: reclaimbench summary [--db PATH]");
	char **sessions = NULL;
	int n = 0;
	sqlite3_stmt *st;
	sqlite3 *db;

	if (first < argc)
		die(EXIT_USAGE, "summary takes no operand ('%s')", argv[first]);
	db = db_open(opt_db);
	sqlite3_prepare_v2(db, "SELECT session FROM runs WHERE id IN (SELECT max(id) FROM runs WHERE faults = '' "
			       "GROUP BY kernel_id, bench, accel) GROUP BY session ORDER BY min(id)", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sessions = realloc(sessions, (n + 1) * sizeof(*sessions));
		if (!sessions)
			die(EXIT_INFRA, "out of memory");
		sessions[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (!n)
		die(EXIT_USAGE, "'%s' holds no run; see reclaimbench run", opt_db);
	summary_print(db, sessions, n);
	db_close(db);
	for (int i = 0; i < n; i++)
		free(sessions[i]);
	free(sessions);
	return EXIT_OK;
}
