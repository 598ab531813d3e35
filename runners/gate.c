/* reclaimbench gate: a patch (file, URL or Message-ID, one patch or an
 * mbox series) on a base variant, both built, booted in turns, judged.
 * Exit 0 pass, 1 regression, 3 could not decide. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

/* The ok runs of a benchmark in the given sessions. */
static int session_runs(sqlite3 *db, char **sessions, int n, const char *bench, long long **out)
{
	int k = 0;

	*out = calloc(n + 1, sizeof(**out));
	for (int i = 0; i < n; i++)
		if (((*out)[k] = session_run(db, sessions[i], bench)) > 0)
			k++;
	return k;
}

/* A verdict of the whole series that differs from the base, and where
 * the search over prefixes has it: unchanged up to prefix lo, changed
 * from prefix hi (0 is the base, n the whole series). */
struct change {
	const char *bench;
	char metric[96], verdict[128];
	int timing;		/* judged by the nearer side in ratio, else in value */
	double base, whole;	/* the base's value and the whole series' */
	long long run;		/* the whole series' first run of the bench */
	int lo, hi, undecided;
	double seen[SERIES_MAX + 1];	/* what each prefix booted showed, NAN if not booted */
};
#define CHANGES_MAX 64

/* A prefix of the series booted once to place the changes. */
struct probe {
	int booted, failed, cached;
	char *session, *build_id;
};

/* A gate: its options, the two sides once built and booted, and what
 * judging them found. */
struct gate {
	const char *patch_arg;
	struct opt_list *names, *expect;
	struct series series;
	struct change changes[CHANGES_MAX];
	int nchanges;
	struct probe probes[SERIES_MAX + 1];
	int searched, builds, boots_done;	/* the search's: done, builds not found in the cache, boots */
	double search_s;
	unsigned long boots, threshold, max_cv;
	struct variant *base, *patched;
	struct built kb, kp;
	const char *accel;
	char **sa, **sp;	/* the sessions of each side, one a boot */
	int failed, regress, undecided, broken;
};

/* The base with the first k patches of a series on top, named by their
 * content, not by how they were named (one patch: as a gate of it always
 * was). */
static struct variant *patched_variant(const struct variant *base, char **patches, int k)
{
	struct variant *patched = calloc(1, sizeof(*patched));
	uint64_t h = 0;

	for (int i = 0; i < k; i++) {
		size_t len = 0;
		char *text = read_file(patches[i], &len);

		if (!text)
			die(EXIT_USAGE, "patch '%s' cannot be read", patches[i]);
		h = fnv1a(text, len, h);
		free(text);
	}
	*patched = *base;
	patched->name = xasprintf("%s+%016llx", base->name, (unsigned long long)h);
	patched->patches = calloc(base->npatches + k + 1, sizeof(char *));
	memcpy(patched->patches, base->patches, base->npatches * sizeof(char *));
	for (int i = 0; i < k; i++)
		patched->patches[patched->npatches++] = patches[i];
	return patched;
}

/* Both sides built (the base most likely cached), then booted in turns;
 * 130 when interrupted, else 0 (g->failed says whether anything failed). */
static int gate_build_and_boot(struct gate *g, const struct run_opts *o, int argc, char **argv)
{
	struct plan_item items[2] = { { .v = g->base, .rounds = g->boots }, { .v = g->patched, .rounds = g->boots } };
	/* Nothing is booted unless both build: a patch that does not
	 * build stores nothing. */
	struct plan p = { .what = "gate", .o = o, .names = g->names, .argc = argc, .argv = argv, .items = items,
			  .nitems = 2, .boots_after_builds = 1 };

	on_interrupt_install();
	g->failed = plan_run(&p);
	if (interrupted)
		return 130;
	if (items[0].usage_error || items[1].usage_error)
		die(EXIT_USAGE, "the gate cannot build %s; see the error above", items[1].usage_error ?
		    "the patched kernel" : "the base");
	if (!items[0].k.build_id || !items[1].k.build_id)
		die(EXIT_INFRA, "the gate could not build both kernels; see the error above");
	g->kb = items[0].k, g->kp = items[1].k, g->accel = p.accel;
	g->sa = items[0].sessions, g->sp = items[1].sessions;
	return 0;
}

/* A side's value of a metric: the median of its boots' medians. */
static double side_value(sqlite3 *db, const long long *runs, int n, const char *metric)
{
	double *v = calloc(n + 1, sizeof(double)), m;
	int k = 0;

	for (int i = 0; i < n; i++)
		if (!isnan(v[k] = run_metric(db, runs[i], metric, AGG_MEDIAN)))
			k++;
	m = k ? median(v, k) : NAN;
	free(v);
	return m;
}

/* A verdict of a series that differs from the base, kept for the search
 * of the patch that changed it. */
static void change_add(struct gate *g, sqlite3 *db, const char *bench, const char *metric, const char *verdict,
		       int timing, const long long *ra, int na, const long long *rp, int np)
{
	struct change *c = &g->changes[g->nchanges];

	if (g->series.n < 2 || g->nchanges == CHANGES_MAX || !na || !np)
		return;
	g->nchanges++;
	c->bench = bench;
	snprintf(c->metric, sizeof(c->metric), "%s", metric);
	snprintf(c->verdict, sizeof(c->verdict), "%s", verdict);
	c->timing = timing;
	c->base = side_value(db, ra, na, metric);
	c->whole = side_value(db, rp, np, metric);
	c->run = rp[0];
	c->lo = 0, c->hi = g->series.n;
	for (int k = 0; k <= SERIES_MAX; k++)
		c->seen[k] = NAN;
}

/* What the patched side's first run that has it says of a changed
 * invariant (a selftest case: its result, description and output). */
static void note_shown(sqlite3 *db, FILE *r, const long long *rp, int np, const char *metric)
{
	sqlite3_stmt *st;

	for (int i = 0; i < np; i++) {
		if (sqlite3_prepare_v2(db, "SELECT note FROM samples WHERE run_id = ?1 AND metric = ?2 AND note != '' "
				       "LIMIT 1", -1, &st, NULL))
			return;
		sqlite3_bind_int64(st, 1, rp[i]);
		sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			fprintf(r, "  %-14s   %s\n", "", shown((const char *)sqlite3_column_text(st, 0)));
			sqlite3_finalize(st);
			return;
		}
		sqlite3_finalize(st);
	}
}

/* The exact counters of the first boot of each side that moved, as
 * evidence under a benchmark's row; an invariant not --expect'ed that
 * moved breaks the gate. */
static void counters_moved(struct gate *g, sqlite3 *db, FILE *r, const char *bench, const long long *ra, int na,
			   const long long *rp, int np)
{
	const char *said;
	char **metrics;
	int n = run_metrics(db, na ? ra[0] : -1, np ? rp[0] : -1, &metrics);

	for (int i = 0; i < n; i++) {
		struct cmp_row e;
		int exp = metric_expected(g->expect, metrics[i]);

		compare_sets(db, ra, na, rp, np, metrics[i], -1, &e);
		if (e.invariant_changed && !exp)
			g->broken = 1;
		if (strcmp(e.verdict, "CHANGED"))
			continue;
		said = !e.invariant_changed ? "exact counter changed" :
		       exp ? "invariant changed, expected (--expect)" : "INVARIANT CHANGED";
		fprintf(r, "  %-14s %-18s %12.6g %12.6g   %s\n", "", shown(e.metric), e.ma, e.mb, said);
		if (e.invariant_changed)
			note_shown(db, r, rp, np, metrics[i]);
		change_add(g, db, bench, metrics[i], said, 0, ra, na, rp, np);
	}
	metrics_free(metrics, n);
}

/* One benchmark's timing row, judged with each boot's median one sample,
 * then the counters that moved. */
static void judge_bench(struct gate *g, sqlite3 *db, FILE *r, const char *bench)
{
	long long *ra, *rp;
	int na = session_runs(db, g->sa, g->boots, bench, &ra), np = session_runs(db, g->sp, g->boots, bench, &rp);
	struct cmp_row c;
	char ci[40] = "";
	const struct bench_info *b = bench_find(bench);

	if (b && b->untimed) {	/* its invariants alone decide */
		fprintf(r, "  %-14s %-18s %12s %12s %8s %-18s %-8s %s\n", shown(bench), "(invariants)", "", "", "", "",
			"", na && np ? "timing not judged" : "not enough data");
		g->undecided |= !na || !np;
		counters_moved(g, db, r, bench, ra, na, rp, np);
		free(ra), free(rp);
		return;
	}
	compare_boots(db, ra, na, rp, np, bench_timing(bench_find(bench)), g->threshold / 100.0, &c);
	if (!isnan(c.lo))
		snprintf(ci, sizeof(ci), "[%.3f, %.3f]", c.lo, c.hi);
	if (!na || !np || !strcmp(c.verdict, "not enough data")) {
		g->undecided = 1;
		strcpy(c.verdict, "not enough data");
	} else if (c.cva * 100 > g->max_cv || c.cvb * 100 > g->max_cv) {
		g->undecided = 1;
		snprintf(c.verdict, sizeof(c.verdict), "too noisy (CV %.0f%%/%.0f%%)", 100 * c.cva, 100 * c.cvb);
	} else if (!strncmp(c.verdict, "unsteady", 8)) {
		g->undecided = 1;	/* a boot's repetitions trend: its median is no sample */
	}
	g->regress |= !strcmp(c.verdict, "slower");
	fprintf(r, "  %-14s %-18s %12.4g %12.4g %8.3f %-18s %-8.3g %s\n", shown(bench), shown(c.metric),
		c.ma, c.mb, c.ratio, ci, c.p, c.verdict);
	if (!strcmp(c.verdict, "slower") || !strcmp(c.verdict, "faster"))
		change_add(g, db, bench, c.metric, c.verdict, 1, ra, na, rp, np);
	counters_moved(g, db, r, bench, ra, na, rp, np);
	free(ra), free(rp);
}

/* Prefix k of the series built (incrementally: an untrusted build's
 * layer reads the base's build folder, so only what the prefix changes
 * compiles) and booted once. */
static void probe_boot(struct gate *g, const struct run_opts *o, int argc, char **argv, int k)
{
	struct plan_item item = { .v = patched_variant(g->base, g->series.files, k), .rounds = 1 };
	struct plan p = { .what = "gate", .o = o, .names = g->names, .argc = argc, .argv = argv, .items = &item,
			  .nitems = 1, .accel = g->accel };
	struct probe *pr = &g->probes[k];

	progress("series: booting the first %d of %d patches once", k, g->series.n);
	pr->failed = plan_run(&p) || !item.k.build_id || !item.sessions;
	if (interrupted)
		exit(130);
	pr->booted = 1;
	pr->cached = item.k.cached;
	pr->build_id = item.k.build_id;
	pr->session = item.sessions ? item.sessions[0] : NULL;
	g->builds += item.k.build_id && !item.k.cached;
	g->boots_done++;
}

/* Where prefix k's boot puts each change still open across it: on the
 * series' side (changed) when its value is nearer the whole series' than
 * the base's (in ratio for a timing, in value for a counter), as bisect
 * judges a commit.  A prefix that did not build or boot leaves those
 * changes undecided. */
static void probe_place(struct gate *g, sqlite3 *db, int k)
{
	for (int i = 0; i < g->nchanges; i++) {
		struct change *c = &g->changes[i];
		long long run;
		double v;

		if (c->undecided || k <= c->lo || k >= c->hi)
			continue;
		run = g->probes[k].failed ? -1 : session_run(db, g->probes[k].session, c->bench);
		v = run > 0 ? run_metric(db, run, c->metric, AGG_MEDIAN) : NAN;
		if (isnan(v)) {
			c->undecided = 1;
			continue;
		}
		c->seen[k] = v;
		if (series_sides_with_whole(v, c->base, c->whole, c->timing))
			c->hi = k;
		else
			c->lo = k;
	}
}

/* The patch at which each change happened, by bisection over prefixes:
 * the middle of the first change still open is booted, and every open
 * change is placed by that one boot.  ceil(log2(n)) boots when all change
 * at one patch (2 for 3 or 4 patches; a linear walk needs n - 1 at worst).
 * Assumes a change, once made, stays (a patch undone by a later one in
 * the series is not seen: the whole series does not differ there). */
static void series_search(struct gate *g, const struct run_opts *o, int argc, char **argv)
{
	double t0 = now_s();
	sqlite3 *db;

	for (;;) {
		int lo[CHANGES_MAX], hi[CHANGES_MAX], open[CHANGES_MAX], k;

		for (int i = 0; i < g->nchanges; i++)
			lo[i] = g->changes[i].lo, hi[i] = g->changes[i].hi, open[i] = !g->changes[i].undecided;
		if ((k = series_next_prefix(lo, hi, open, g->nchanges)) < 0)
			break;
		probe_boot(g, o, argc, argv, k);
		db = db_open(opt_db);
		probe_place(g, db, k);
		db_close(db);
	}
	g->searched = 1;
	g->search_s = now_s() - t0;
}

/* A change that fails the gate (not one only shown). */
static int change_fails(const struct change *c)
{
	return !strcmp(c->verdict, "slower") || !strcmp(c->verdict, "INVARIANT CHANGED");
}

/* The series' part of the report: its patches, the search's cost, and
 * for each change the patch at which it happened with what each prefix
 * booted showed. */
static void series_section(struct gate *g, FILE *r)
{
	int booted = 0;

	for (int k = 1; k < g->series.n; k++)
		booted += g->probes[k].booted;
	fprintf(r, "\nseries of %d patches: the whole series judged first; %s\n", g->series.n,
		!g->searched ? "it did not build or boot whole, so no prefix was booted" :
		!g->nchanges ? "no verdict changed, so no prefix was booted" :
		"each change placed by bisection over prefixes, one boot a prefix");
	if (g->searched && g->nchanges)
		fprintf(r, "  prefixes booted: %d, builds made: %d, %.0f s\n", booted, g->builds, g->search_s);
	for (int k = 1; k <= g->series.n; k++)
		fprintf(r, "  patch %d/%d  %s\n", k, g->series.n, shown(g->series.subjects[k - 1]));
	if (g->searched && g->nchanges)
		fprintf(r, "\n  %-14s %-22s %-24s %s\n", "bench", "metric", "verdict of the series", "first changed at");
	for (int i = 0; g->searched && i < g->nchanges; i++) {
		struct change *c = &g->changes[i];

		fprintf(r, "  %-14s %-22s %-24s ", shown(c->bench), shown(c->metric), c->verdict);
		if (c->undecided)
			fprintf(r, "undecided: between patch %d and %d (a prefix did not build or boot)", c->lo + 1, c->hi);
		else
			fprintf(r, "patch %d/%d", c->hi, g->series.n);
		fprintf(r, " (base %.6g, series %.6g", c->base, c->whole);
		for (int k = 1; k < g->series.n; k++)
			if (!isnan(c->seen[k]))
				fprintf(r, "; first %d: %.6g", k, c->seen[k]);
		fprintf(r, ")\n");
	}
}

/* The patch at which the gate's verdict changed: the first at which a
 * change that fails it happened; 0 when none is known. */
static int series_failing_patch(const struct gate *g)
{
	int first = 0;

	for (int i = 0; g->searched && i < g->nchanges; i++)
		if (change_fails(&g->changes[i]) && !g->changes[i].undecided &&
		    (!first || g->changes[i].hi < first))
			first = g->changes[i].hi;
	return first;
}

/* Each change with its patch into the database, on the whole series'
 * run of its benchmark: the report and the KCIDB export read it there. */
static void series_store(const struct gate *g)
{
	sqlite3 *db = db_open(opt_db);
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO series_changes (run_id, metric, verdict, patch, npatches, "
			   "subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL);
	for (int i = 0; i < g->nchanges; i++) {
		const struct change *c = &g->changes[i];

		sqlite3_bind_int64(st, 1, c->run);
		sqlite3_bind_text(st, 2, c->metric, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->verdict, -1, SQLITE_STATIC);
		if (c->undecided)
			sqlite3_bind_null(st, 4);
		else
			sqlite3_bind_int(st, 4, c->hi);
		sqlite3_bind_int(st, 5, g->series.n);
		sqlite3_bind_text(st, 6, c->undecided ? "" : g->series.subjects[c->hi - 1], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			error("cannot store the series' change of '%s': %s", c->metric, sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	db_close(db);
}

/* The gate's report: what ran, a row per benchmark, the verdict.  Every
 * text here may come from outside (the patch's name, the variants file,
 * metric names from the database): shown() each. */
static char *gate_report(struct gate *g, unsigned long reps, const struct run_opts *o, int argc, char **argv)
{
	char *text = NULL;
	size_t len = 0;
	FILE *r = open_memstream(&text, &len);
	sqlite3 *db = db_open(opt_db);
	int named;

	fprintf(r, "reclaimbench gate: %s on %s\n", shown(g->patch_arg), shown(g->base->name));
	fprintf(r, "  base build %s, patched build %s, %s, %lu boots each side in turns, %lu reps each;\n"
		   "  the timing verdict takes each boot's median as one sample\n",
		shown(g->kb.build_id), shown(g->kp.build_id), g->accel, g->boots, reps);
	fprintf(r, "\n  %-14s %-18s %12s %12s %8s %-18s %-8s %s\n", "bench", "metric", "base", "patched", "ratio",
		"95% CI", "p", "verdict");
	for (int i = 0; i < g->names->n; i++)
		judge_bench(g, db, r, g->names->v[i]);
	db_close(db);
	if (g->series.n > 1 && !g->failed) {
		series_search(g, o, argc, argv);
		series_store(g);
	}
	if (g->series.n > 1)
		series_section(g, r);
	fprintf(r, "\nverdict: %s\n", g->failed ? "UNDECIDED: a build, boot or benchmark failed (see above)" :
		g->broken ? "FAIL: the patch changes an invariant (a correctness counter, see above)" :
		g->regress ? "FAIL: the patch makes reclaim slower" :
		g->undecided ? "UNDECIDED: not enough data, too noisy or unsteady" : "PASS: no timing regression");
	if ((named = series_failing_patch(g)))
		fprintf(r, "verdict: changed at patch %d/%d: %s\n", named, g->series.n,
			shown(g->series.subjects[named - 1]));
	fclose(r);
	return text;
}

/* A new file per gate (O_EXCL): two gates in one second never overwrite
 * each other's report, nor write through a link. */
static void gate_report_save(const char *out, const char *text)
{
	char *report_path = NULL;
	int fd = -1;

	if (mkdirs(out))
		return;
	for (int k = 0; fd < 0 && k < 1000; k++) {
		free(report_path);
		report_path = k ? xasprintf("%s/gate-%ld-%d.txt", out, (long)time(NULL), k)
				: xasprintf("%s/gate-%ld.txt", out, (long)time(NULL));
		fd = open(report_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && !close(fd))
		printf("report: %s\n", report_path);
	else
		error("cannot save the gate report '%s': %s", report_path, strerror(errno));
	free(report_path);
}

/* Each --patch as a local file, split into the series' patches. */
static void series_resolve(const struct opt_list *args, struct series *s)
{
	char *files[OPT_LIST_MAX];

	for (int i = 0; i < args->n; i++)
		files[i] = patch_resolve(args->v[i]);
	series_split(files, args->n, s);
}

int cmd_gate(int argc, char **argv)
{
	static const char *base_name;
	static struct opt_list names, expect, patch_args;
	static unsigned long boots = 4, threshold = 5, max_cv = 50;
	static const struct opt own[] = {
		{ "base", OPT_STRING, &base_name, 0, 0, "VARIANT", "the variant the patch applies to" },
		{ "patch", OPT_LIST, &patch_args, 0, 0, "FILE|URL|MSGID",
		  "a patch or an mbox series (git am); again for the next patches of a series" },
		{ "bench", OPT_LIST, &names, 0, 0, "NAME", "benchmark to judge (default: all)" },
		{ "boots", OPT_UINT, &boots, 1, 50, "N", "boots of each side, taken in turns; a boot is one sample" },
		{ "threshold", OPT_UINT, &threshold, 1, 100, "PCT", "smallest slowdown that fails the gate" },
		{ "expect", OPT_LIST, &expect, 0, 0, "METRIC",
		  "an invariant whose change is expected: shown, does not fail the gate" },
		{ "max-cv", OPT_UINT, &max_cv, 1, 1000, "PCT", "above this variation a side is too noisy to judge" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, guest_opts, fetch_opts, bench_params, NULL };
	parse_options(tables, argc, argv,
			       "usage: reclaimbench gate --base VARIANT --patch FILE|URL|MSGID... [--bench NAME]... [--boots N]\n\n"
			       "A series (an mbox of several patches, or several --patch) is judged whole, then the\n"
			       "patch at which each verdict changed is found by bisection over its prefixes.\n"
			       "Exit 0: pass; 1: a timing regression (report printed and saved); 3: could not decide.");
	struct gate g = { .patch_arg = patch_args.n ? joined_argv(patch_args.n, (char **)patch_args.v) : NULL, .names = &names, .expect = &expect, .boots = boots,
			  .threshold = threshold, .max_cv = max_cv };
	struct variant_set set;
	struct run_opts o = { 0 };
	char *text;

	if (!base_name || !patch_args.n)
		die(EXIT_USAGE, "gate needs --base VARIANT and --patch FILE|URL|MSGID");
	if (min_p(boots, boots) >= 0.05)
		die(EXIT_USAGE, "--boots %lu cannot fail a gate: %lu boots against %lu give p >= %.3f at best; use "
		    "--boots %d or more", boots, boots, boots, min_p(boots, boots), min_samples());
	bench_names_check(&names);
	guest_opts_get(&o);
	variants_load_files(o.variant_files, o.nvariant_files, &set);
	if (!(g.base = variant_find(&set, base_name)))
		die(EXIT_USAGE, "unknown variant '%s' in %s; see reclaimbench list variants", base_name,
		    o.nvariant_files > 1 ? "the spec files" : xasprintf("'%s'", o.variants));
	db_close(db_open(opt_db));
	series_resolve(&patch_args, &g.series);
	g.patched = patched_variant(g.base, g.series.files, g.series.n);
	if (gate_build_and_boot(&g, &o, argc, argv))
		return 130;
	text = gate_report(&g, params.reps, &o, argc, argv);
	fputs(text, stdout);
	gate_report_save(o.out, text);
	free(text);
	if (g.failed || (g.undecided && !g.regress && !g.broken))
		return EXIT_INFRA;
	return g.regress || g.broken ? EXIT_VERDICT : EXIT_OK;
}
