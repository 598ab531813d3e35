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

/* A gate: its options, the two sides once built and booted, and what
 * judging them found. */
struct gate {
	const char *patch_arg;
	struct opt_list *names, *expect;
	unsigned long boots, threshold, max_cv;
	struct variant *base, *patched;
	struct built kb, kp;
	const char *accel;
	char **sa, **sp;	/* the sessions of each side, one a boot */
	int failed, regress, undecided, broken;
};

/* The base with the patch on top, named by the patch's content, not by
 * how it was named. */
static struct variant *patched_variant(const struct variant *base, char *patch)
{
	struct variant *patched = calloc(1, sizeof(*patched));
	size_t len = 0;
	char *text = read_file(patch, &len);

	if (!text)
		die(EXIT_USAGE, "patch '%s' cannot be read", patch);
	*patched = *base;
	patched->name = xasprintf("%s+%016llx", base->name, (unsigned long long)fnv1a(text, len, 0));
	free(text);
	patched->patches = calloc(base->npatches + 1, sizeof(char *));
	memcpy(patched->patches, base->patches, base->npatches * sizeof(char *));
	patched->patches[patched->npatches++] = patch;
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
static void counters_moved(struct gate *g, sqlite3 *db, FILE *r, const long long *ra, int na, const long long *rp,
			   int np)
{
	char **metrics;
	int n = run_metrics(db, na ? ra[0] : -1, np ? rp[0] : -1, &metrics);

	for (int i = 0; i < n; i++) {
		struct cmp_row e;
		int exp = metric_expected(g->expect, metrics[i]);

		compare_sets(db, ra, na, rp, np, metrics[i], -1, &e);
		if (e.invariant_changed && !exp)
			g->broken = 1;
		if (!strcmp(e.verdict, "CHANGED"))
			fprintf(r, "  %-14s %-18s %12.6g %12.6g   %s\n", "", shown(e.metric), e.ma, e.mb,
				!e.invariant_changed ? "exact counter changed" :
				exp ? "invariant changed, expected (--expect)" : "INVARIANT CHANGED");
		if (e.invariant_changed)
			note_shown(db, r, rp, np, metrics[i]);
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
		counters_moved(g, db, r, ra, na, rp, np);
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
	counters_moved(g, db, r, ra, na, rp, np);
	free(ra), free(rp);
}

/* The gate's report: what ran, a row per benchmark, the verdict.  Every
 * text here may come from outside (the patch's name, the variants file,
 * metric names from the database): shown() each. */
static char *gate_report(struct gate *g, unsigned long reps)
{
	char *text = NULL;
	size_t len = 0;
	FILE *r = open_memstream(&text, &len);
	sqlite3 *db = db_open(opt_db);

	fprintf(r, "reclaimbench gate: %s on %s\n", shown(g->patch_arg), shown(g->base->name));
	fprintf(r, "  base build %s, patched build %s, %s, %lu boots each side in turns, %lu reps each;\n"
		   "  the timing verdict takes each boot's median as one sample\n",
		shown(g->kb.build_id), shown(g->kp.build_id), g->accel, g->boots, reps);
	fprintf(r, "\n  %-14s %-18s %12s %12s %8s %-18s %-8s %s\n", "bench", "metric", "base", "patched", "ratio",
		"95% CI", "p", "verdict");
	for (int i = 0; i < g->names->n; i++)
		judge_bench(g, db, r, g->names->v[i]);
	db_close(db);
	fprintf(r, "\nverdict: %s\n", g->failed ? "UNDECIDED: a build, boot or benchmark failed (see above)" :
		g->broken ? "FAIL: the patch changes an invariant (a correctness counter, see above)" :
		g->regress ? "FAIL: the patch makes reclaim slower" :
		g->undecided ? "UNDECIDED: not enough data, too noisy or unsteady" : "PASS: no timing regression");
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

int cmd_gate(int argc, char **argv)
{
	static const char *base_name, *patch_arg;
	static struct opt_list names, expect;
	static unsigned long boots = 4, threshold = 5, max_cv = 50;
	static const struct opt own[] = {
		{ "base", OPT_STRING, &base_name, 0, 0, "VARIANT", "the variant the patch applies to" },
		{ "patch", OPT_STRING, &patch_arg, 0, 0, "FILE|URL|MSGID", "a patch or an mbox series (git am)" },
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
			       "usage: reclaimbench gate --base VARIANT --patch FILE|URL|MSGID [--bench NAME]... [--boots N]\n\n"
			       "Exit 0: pass; 1: a timing regression (report printed and saved); 3: could not decide.");
	struct gate g = { .patch_arg = patch_arg, .names = &names, .expect = &expect, .boots = boots,
			  .threshold = threshold, .max_cv = max_cv };
	struct variant_set set;
	struct run_opts o = { 0 };
	char *text;

	if (!base_name || !patch_arg)
		die(EXIT_USAGE, "gate needs --base VARIANT and --patch FILE|URL|MSGID");
	if (min_p(boots, boots) >= 0.05)
		die(EXIT_USAGE, "--boots %lu cannot fail a gate: %lu boots against %lu give p >= %.3f at best; use "
		    "--boots %d or more", boots, boots, boots, min_p(boots, boots), min_samples());
	bench_names_check(&names);
	guest_opts_get(&o);
	variants_load(o.variants, &set);
	if (!(g.base = variant_find(&set, base_name)))
		die(EXIT_USAGE, "unknown variant '%s' in '%s'; see reclaimbench list variants", base_name, o.variants);
	db_close(db_open(opt_db));
	g.patched = patched_variant(g.base, patch_resolve(patch_arg));
	if (gate_build_and_boot(&g, &o, argc, argv))
		return 130;
	text = gate_report(&g, params.reps);
	fputs(text, stdout);
	gate_report_save(o.out, text);
	free(text);
	if (g.failed || (g.undecided && !g.regress && !g.broken))
		return EXIT_INFRA;
	return g.regress || g.broken ? EXIT_VERDICT : EXIT_OK;
}
