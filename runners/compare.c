/* reclaimbench compare: two runs, or the newest runs of two variants (or
 * every comparable boot of each), metric by metric, as text, JSON or CSV;
 * the verdicts are verdict.c's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

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
	if (text && bench_find(bench) && bench_find(bench)->spread)
		printf("  %s's repetitions may spread over 2%% under the instruction clock: %s\n", shown(bench),
		       bench_find(bench)->spread);
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
