/* reclaimbench report: a static HTML site from the database.  Charts are
 * SVG (PNG with --png) drawn by gnuplot from data files the report writes,
 * with the templates of reports/.  Works from file:// with no script. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

static const char *outdir, *ext = "svg";
static char *head_template;

static void esc(FILE *f, const char *s)
{
	html_text(f, s);
}

static FILE *page_open(const char *name, const char *title)
{
	char *path = xasprintf("%s/%s", outdir, name), *mark = strstr(head_template, "{{title}}"), *m2;
	FILE *f = fopen(path, "w");

	if (!f)
		die(EXIT_INFRA, "cannot write '%s': %s", path, strerror(errno));
	fwrite(head_template, 1, mark - head_template, f);
	esc(f, title);
	m2 = strstr(mark + 9, "{{title}}");
	fwrite(mark + 9, 1, m2 - mark - 9, f);
	esc(f, title);
	fputs(m2 + 9, f);
	free(path);
	return f;
}

static void page_close(FILE *f)
{
	fprintf(f, "<p><small>reclaimbench report, database format %d</small></p>\n</body></html>\n", schema_count);
	fclose(f);
}

/* A label as one quoted field of a gnuplot data file (exported for the
 * fuzzer).  gnuplot knows no escape inside a quoted field, so a quote
 * becomes an apostrophe; control bytes and bytes outside ASCII (which
 * would make the SVG invalid) become '?'; long labels are cut. */
/* gnuplot escapes '<' and '&' in an SVG's text but not the '>' of "]]>",
 * which no XML text may hold: that '>' becomes '?' too. */
static char *gp_text(const char *s, int max)
{
	char *t = xasprintf("%.*s", max, s ? s : "");

	for (char *p = t; *p; p++) {
		unsigned char c = *p;

		*p = c == '"' ? '\'' : c < 0x20 || c >= 0x7f || (c == '>' && p - t >= 2 && !strncmp(p - 2, "]]", 2)) ? '?' : c;
	}
	return t;
}

void gp_label(FILE *f, const char *s)
{
	char *t = gp_text(s, GP_LABEL_MAX);

	fprintf(f, "\"%s\"", *t ? t : "(none)");
	free(t);
}

/* The HTML escape of the report's pages, for the fuzzer. */
void html_escape(FILE *f, const char *s)
{
	esc(f, s);
}

/* gnuplot SCRIPT with the named values of vars as its call arguments
 * (`gnuplot -c`, ARG1.. in the template), which gnuplot keeps as strings
 * and never reads as commands.  Every template takes the same list. */
static int plot(const char *script, const char *const *vars)
{
	static const char *const args[] = { "datafile", "outfile", "plottitle", "ylab", "term", "n", "labels", NULL };
	char *path = xasprintf("%s/../reports/%s", self_dir(), script), *argv[12] = { "gnuplot", "-c", path };
	char *log = xasprintf("%s/gnuplot.log", outdir), *owned[8] = { NULL };
	int rc, n = 3;

	for (int a = 0; args[a]; a++) {
		const char *v = "";

		for (int i = 0; vars[i]; i += 2)
			if (!strcmp(vars[i], args[a]))
				v = vars[i + 1];
		/* gnuplot reads a file named "<cmd" and writes one named
		 * "|cmd" through a shell: a path never starts with either. */
		if (a < 2 || a == 6)
			v = owned[a] = *v == '/' || !*v ? xstrdup(v) : xasprintf("./%s", v);
		argv[n++] = (char *)v;
	}
	argv[n] = NULL;
	rc = run_cmd(argv, log);
	for (int a = 0; a < 8; a++)
		free(owned[a]);
	free(path), free(log);
	return rc ? error("gnuplot %s failed; see %s/gnuplot.log", script, outdir) : 0;
}

struct side {
	long long run;
	char *label;
};

/* The newest ok run of bench per kernel, oldest kernel first. */
static int newest_per_kernel(sqlite3 *db, const char *bench, struct side **out)
{
	sqlite3_stmt *st;
	int n = 0;

	*out = NULL;
	sqlite3_prepare_v2(db, "SELECT max(r.id), CASE k.variant WHEN '' THEN k.release ELSE k.variant END AS "
			       "label FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE r.bench = ?1 AND "
			       "r.status = 'ok' AND r.faults = '' GROUP BY label ORDER BY min(r.id)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, bench, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		*out = realloc(*out, (n + 1) * sizeof(**out));
		(*out)[n].run = sqlite3_column_int64(st, 0);
		(*out)[n++].label = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return n;
}

/* One bar chart of a counter: its value per kernel. */
static void counter_chart(sqlite3 *db, FILE *f, const char *bench, const struct metric_decl *m, struct side *s, int n)
{
	char *cd = xasprintf("%s/data/%s-%s.dat", outdir, bench, m->name);
	char *cs = xasprintf("%s/%s-%s.%s", outdir, bench, m->name, ext);
	FILE *d = fopen(cd, "w");

	for (int i = 0; i < n; i++) {
		double v = run_metric(db, s[i].run, m->name, m->agg);

		gp_label(d, s[i].label);
		fprintf(d, " %.6g\n", isnan(v) ? 0 : v);
	}
	fclose(d);
	const char *vars[] = { "datafile", cd, "outfile", cs, "plottitle", m->name, "ylab",
			       m->agg == AGG_SUM ? "sum over repetitions" : m->agg == AGG_MAX ? "largest" : "median",
			       "term", ext, NULL };
	plot("bars.gp", vars);
	fprintf(f, "<img src=\"%s-%s.%s\" alt=\"%s\">\n", bench, m->name, ext, m->name);
	free(cd), free(cs);
}

/* The cost of our own counters in a run: its counting repetitions' main
 * timing against its timed ones. */
static void overhead_cell(sqlite3 *db, FILE *f, long long run)
{
	char *v = run_field(db, run, "observer_overhead");

	if (!v || !*v)
		fputs("<td>-</td>", f);
	else
		fprintf(f, "<td class=\"num%s\">%+.1f%%%s</td>", fabs(atof(v)) > 0.02 ? " warn" : "",
			100 * atof(v), fabs(atof(v)) > 0.02 ? " (above 2%)" : "");
	free(v);
}

static struct opt_list expect;	/* --expect: invariant changes shown as expected */

/* The note of a run's metric (a selftest case: its result, description
 * and output), or NULL when it has none. */
static char *sample_note(sqlite3 *db, long long run, const char *metric)
{
	sqlite3_stmt *st;
	char *note = NULL;

	if (sqlite3_prepare_v2(db, "SELECT note FROM samples WHERE run_id = ?1 AND metric = ?2 AND note != '' LIMIT 1",
			       -1, &st, NULL))
		return NULL;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		note = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return note;
}

/* The invariants of a benchmark between two runs, the verdict listed
 * before any timing: each one that changed with its two values, those
 * declared expected (--expect) marked so. */
static void invariants_cell(sqlite3 *db, FILE *f, const struct bench_info *b, long long base, long long run)
{
	char *text = NULL;
	size_t len = 0;
	FILE *t = open_memstream(&text, &len);
	int changed = 0, unexpected = 0;
	char **names;
	/* Every metric of the two runs its benchmark declares an invariant:
	 * a family ("case.*", one per selftest case) by its members. */
	int nnames = run_metrics(db, base, run, &names);

	for (int i = 0; i < nnames; i++) {
		struct cmp_row r;
		int exp = metric_expected(&expect, names[i]);
		char *note;

		if (metric_role(b, names[i]) != METRIC_INVARIANT || compare_metric(db, base, run, names[i], -1, &r) ||
		    !r.invariant_changed)
			continue;
		fputs(changed++ ? "<br>" : "", t);
		esc(t, names[i]);
		fprintf(t, " %.6g &rarr; %.6g %s", r.ma, r.mb, exp ? "(expected, --expect)" : "CHANGED");
		if ((note = sample_note(db, run, names[i]))) {	/* a selftest case's result and output */
			fputs(": ", t);
			esc(t, note);
			free(note);
		}
		unexpected |= !exp;
	}
	metrics_free(names, nnames);
	fclose(t);
	fprintf(f, "<td class=\"%s\">%s</td>", unexpected ? "bad" : changed ? "warn" : "ok", changed ? text : "same");
	free(text);
}

/* The box plot of every timed repetition of the newest run of each
 * kernel (sides s), in the unit shown. */
static void distribution_chart(sqlite3 *db, FILE *f, const char *bench, const char *main, struct side *s, int n,
			       double scale, const char *shown)
{
	char *dat = xasprintf("%s/data/%s-dist.dat", outdir, bench), *lab = xasprintf("%s/data/%s-labels.dat", outdir, bench);
	char *svg = xasprintf("%s/%s-dist.%s", outdir, bench, ext), nbuf[16];
	FILE *d = fopen(dat, "w"), *l = fopen(lab, "w");

	for (int i = 0; i < n; i++) {
		double *v;
		int k = db_samples(db, s[i].run, main, &v);

		for (int j = 0; j < k; j++)
			fprintf(d, "%.6f\n", v[j] * scale);
		fprintf(d, k ? "\n\n" : "nan\n\n\n");
		fprintf(l, "%d ", i + 1);
		gp_label(l, s[i].label);
		fputc('\n', l);
		free(v);
	}
	fclose(d);
	fclose(l);
	snprintf(nbuf, sizeof(nbuf), "%d", n);
	{
		char *title = xasprintf("%s: %s per timed repetition, newest run of each kernel", bench, main);
		char *ylab = gp_text(shown, GP_LABEL_MAX);
		const char *vars[] = { "datafile", dat, "n", nbuf, "labels", lab, "outfile", svg, "plottitle", title,
				       "ylab", ylab, "term", ext, NULL };
		plot("box.gp", vars);
		free(title), free(ylab);
	}
	fprintf(f, "<h2>Distribution</h2>\n<img src=\"%s-dist.%s\" alt=\"%s distribution\">\n", bench, ext, bench);
	free(dat), free(svg), free(lab);
}

/* Side i's row of the table against the first side: its main timing,
 * invariants, verdict and observer overhead. */
static void against_row(sqlite3 *db, FILE *f, const struct bench_info *b, const struct side *s, int i, double scale)
{
	const char *why = i ? not_comparable(db, s[0].run, s[i].run) : NULL;
	char *accel = run_field(db, s[i].run, "accel");
	struct cmp_row r;

	compare_metric(db, s[0].run, s[i].run, bench_timing(b), 0.05, &r);
	fprintf(f, "<tr><td>");
	esc(f, s[i].label);
	fprintf(f, "</td><td><a href=\"run-%lld.html\">%lld</a></td><td>", s[i].run, s[i].run);
	esc(f, accel);
	fputs("</td>", f);
	if (!i || why)
		fputs(i ? "<td>-</td>" : "<td>base</td>", f);
	else
		invariants_cell(db, f, b, s[0].run, s[i].run);
	fprintf(f, "<td class=num>%.3f</td>", r.mb * scale);
	if (why) {
		fputs("<td colspan=5>not comparable: ", f);
		esc(f, why);
		fputs("</td>", f);
	} else {
		fprintf(f, "<td class=num>%.3f</td>", r.ratio);
		if (i && !isnan(r.lo))
			fprintf(f, "<td>[%.3f, %.3f]</td><td class=num>%.3g</td>", r.lo, r.hi, r.p);
		else
			fputs("<td></td><td></td>", f);
		fprintf(f, "<td class=num>%.3f</td><td class=\"%s\">%s</td>", r.cvb,
			!strcmp(r.verdict, "slower") ? "bad" : !strcmp(r.verdict, "faster") ? "ok" :
			!strncmp(r.verdict, "unsteady", 8) ? "warn" : "",
			i ? r.verdict : "base");
	}
	overhead_cell(db, f, s[i].run);
	fputs("</tr>\n", f);
	free(accel);
}

static void bench_page(sqlite3 *db, const struct bench_info *b)
{
	const char *bench = b->name, *main = bench_timing(b);
	struct side *s;
	int n = newest_per_kernel(db, bench, &s);
	char *name = xasprintf("bench-%s.html", bench), *unit;
	FILE *f = page_open(name, bench);
	double scale;
	const char *shown;

	fputs("<p>", f);
	esc(f, b->help);
	fputs("</p>\n", f);
	if (!n) {
		fputs("<p>No ok run of this benchmark yet.</p>\n", f);
		page_close(f);
		free(name);
		return;
	}
	unit = metric_unit(db, s[0].run, main);
	scale = timing_scale(unit), shown = timing_unit_shown(unit);
	distribution_chart(db, f, bench, main, s, n, scale, shown);
	fprintf(f, "<p>Timings come from timed repetitions, whose window holds only the measured call; perf "
		   "counters from counting repetitions of the same scenario. The observer overhead is the main "
		   "timing of the counting repetitions against the timed ones: what our own counters would have "
		   "added.</p>\n");
	fputs("<h2>Against ", f);
	esc(f, s[0].label);
	fputs("</h2>\n<table><tr><th>kernel</th><th>run</th><th>accel</th><th>invariants</th><th>median ", f);
	esc(f, shown);
	fputs("</th><th>ratio</th><th>95% CI</th><th>p (U test)</th><th>CV</th><th>verdict</th>"
	      "<th>observer overhead</th></tr>\n", f);
	for (int i = 0; i < n; i++)
		against_row(db, f, b, s, i, scale);
	fputs("</table>\n<h2>Counters</h2>\n", f);
	for (const struct metric_decl *m = b->metrics; m && m->name; m++)
		if (m->column && m->role != METRIC_TIMING)
			counter_chart(db, f, bench, m, s, n);
	fprintf(f, "<p><a href=\"history-%s.html\">history of %s</a></p>\n", bench, main);
	page_close(f);
	for (int i = 0; i < n; i++)
		free(s[i].label);
	free(s), free(name), free(unit);
}

/* One metric's change points over every stored nightly, as rows. */
static int change_rows(FILE *f, sqlite3 *db, const char *bench, const char *metric)
{
	struct history h;
	char sha[13];
	int rows = 0;

	history_load(db, bench, metric, &h);
	for (int i = 0; i < h.ncp; i++, rows++) {
		const struct change_point *c = &h.cp[i];

		fputs("<tr><td>", f);
		esc(f, metric);
		fprintf(f, "</td><td class=\"%s\">%s</td><td><a href=\"run-%lld.html\">%lld</a> ", c->step ? "bad" : "warn",
			c->step ? "step" : "drift", h.runs[c->at], h.runs[c->at]);
		snprintf(sha, sizeof(sha), "%s", h.commits[c->at]);
		esc(f, sha);
		fprintf(f, "</td><td>%.6g &rarr; %.6g</td><td>%.3f</td><td>%.2g</td><td>", c->before, c->after,
			c->before ? c->after / c->before : NAN, c->p);
		if (c->step) {
			snprintf(sha, sizeof(sha), "%s", h.commits[c->good]);
			esc(f, sha);
			fputs("..", f);
			snprintf(sha, sizeof(sha), "%s", h.commits[c->bad]);
			esc(f, sha);
		}
		fputs("</td></tr>\n", f);
	}
	if (h.drift.drifts) {
		fputs("<tr><td>", f);
		esc(f, metric);
		fprintf(f, "</td><td class=\"warn\">drift</td><td>all %d nights</td><td>%+.1f%% over the history"
			"</td><td></td><td>%.2g</td><td></td></tr>\n", h.n, 100 * h.drift.total, h.drift.p);
		rows++;
	}
	history_free(&h);
	return rows;
}

/* Steps and drifts over every stored nightly of each declared metric
 * (changepoint.c says how they are found). */
static void history_changes(FILE *f, sqlite3 *db, const struct bench_info *b)
{
	char *text = NULL;
	size_t len = 0;
	FILE *t = open_memstream(&text, &len);
	int rows = 0;

	for (const struct metric_decl *m = b->metrics; m && m->name; m++)
		rows += change_rows(t, db, b->name, m->name);
	fclose(t);
	fputs("<h2>Change points over the nightly history</h2>\n", f);
	if (rows)
		fprintf(f, "<table><tr><th>metric</th><th>kind</th><th>first night after (run, commit)</th>"
			"<th>median before &rarr; after</th><th>ratio</th><th>p</th><th>bisected between</th></tr>\n"
			"%s</table>\n", text);
	else
		fputs("<p>None: no step or drift of 5% or more in the nightly history.</p>\n", f);
	free(text);
}

static void history_page(sqlite3 *db, const struct bench_info *b)
{
	const char *bench = b->name, *main = bench_timing(b);
	char *name = xasprintf("history-%s.html", bench), *dat = xasprintf("%s/data/%s-history.dat", outdir, bench);
	char *svg = xasprintf("%s/%s-history.%s", outdir, bench, ext), nbuf[16], *prev = NULL;
	char *title = xasprintf("%s history of %s", bench, main), *unit = NULL;
	FILE *f = page_open(name, title), *d = fopen(dat, "w");
	sqlite3_stmt *st;
	int n = 0;

	/* One pass in label order; a block per kernel. */
	sqlite3_prepare_v2(db, "SELECT r.id, CASE k.variant WHEN '' THEN k.release ELSE k.variant END AS label "
			       "FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE r.bench = ?1 AND r.status = 'ok' "
			       "AND r.faults = '' ORDER BY label, r.id", -1, &st, NULL);
	sqlite3_bind_text(st, 1, bench, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long run = sqlite3_column_int64(st, 0);
		const char *label = (const char *)sqlite3_column_text(st, 1) ?: "";

		if (!unit)
			unit = metric_unit(db, run, main);
		if (!prev || strcmp(label, prev)) {
			/* A block per kernel, its name in its first row. */
			fputs(n ? "\n\n\"run\" " : "\"run\" ", d);
			gp_label(d, label);
			fputc('\n', d);
			free(prev);
			prev = xstrdup(label);
			n++;
		}
		fprintf(d, "%lld %.6f\n", run, run_metric(db, run, main, AGG_MEDIAN) * timing_scale(unit));
	}
	sqlite3_finalize(st);
	fclose(d);
	if (n) {
		char *u = gp_text(timing_unit_shown(unit), GP_LABEL_MAX), *ylab = xasprintf("%s (median of the run)", u);

		free(u);

		snprintf(nbuf, sizeof(nbuf), "%d", n);
		const char *vars[] = { "datafile", dat, "n", nbuf, "outfile", svg,
				       "plottitle", title, "ylab", ylab, "term", ext, NULL };
		plot("history.gp", vars);
		fprintf(f, "<img src=\"%s-history.%s\" alt=\"history\">\n", bench, ext);
		free(ylab);
	} else {
		fputs("<p>No ok run yet.</p>\n", f);
	}
	history_changes(f, db, b);
	page_close(f);
	free(name), free(dat), free(svg), free(prev), free(title), free(unit);
}

static void runs_table(sqlite3 *db, FILE *f, const char *limit)
{
	char *sql = xasprintf("SELECT r.id, r.started_at, CASE k.variant WHEN '' THEN k.release ELSE k.variant END, "
			      "r.accel, r.bench, r.status, r.reason FROM runs r JOIN kernels k ON k.id = r.kernel_id "
			      "ORDER BY r.id DESC %s", limit);
	sqlite3_stmt *st;

	fputs("<table><tr><th>run</th><th>started</th><th>kernel</th><th>accel</th><th>bench</th><th>status</th>"
	      "<th>reason</th></tr>\n", f);
	sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 5);

		fprintf(f, "<tr><td><a href=\"run-%lld.html\">%lld</a></td>", sqlite3_column_int64(st, 0),
			sqlite3_column_int64(st, 0));
		for (int c = 1; c < 7; c++) {
			fprintf(f, c == 5 ? "<td class=\"%s\">" : "<td%s>",
				c == 5 ? (!strcmp(status, "ok") ? "ok" : !strcmp(status, "skip") ? "warn" : "bad") : "");
			esc(f, (const char *)sqlite3_column_text(st, c));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	sqlite3_finalize(st);
	fputs("</table>\n<p>accel: <b>host</b> the running kernel; <b>kvm</b>; <b>tcg</b> QEMU's emulator, timed "
	      "by the host's clock (its load shows); <b>tcg-icount</b> QEMU's emulator with its instruction "
	      "counter as the guest's clock: 1 ns of a timing is one guest instruction, the same from boot to "
	      "boot. Runs of different accelerators are not compared.</p>\n", f);
	free(sql);
}

static void run_pages(sqlite3 *db)
{
	sqlite3_stmt *st, *ss;

	sqlite3_prepare_v2(db, "SELECT r.id, r.bench, r.status, r.reason, r.params, r.accel, r.command, r.console_log, "
			       "r.session, r.started_at, k.release, k.variant, k.build_id, k.source, k.cmdline, "
			       "coalesce(r.guest_mem_mb, ''), coalesce(r.guest_cpus, '') FROM runs r "
			       "JOIN kernels k ON k.id = r.kernel_id", -1, &st, NULL);
	sqlite3_prepare_v2(db, "SELECT metric, unit, group_concat(coalesce(value, 'unsupported'), ' '), "
			       "max(note) FROM (SELECT * FROM samples WHERE run_id = ?1 ORDER BY rep) "
			       "GROUP BY metric ORDER BY metric", -1, &ss, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		char *name = xasprintf("run-%lld.html", id), *title = xasprintf("run %lld: %s", id,
						sqlite3_column_text(st, 1));
		static const char *const labels[] = { NULL, "bench", "status", "reason", "parameters", "accelerator",
						      "command line", "console log", "session", "started", "kernel release",
						      "variant", "build id", "source", "kernel command line",
						      "guest memory MB", "guest CPUs" };
		FILE *f = page_open(name, title);

		fputs("<table>\n", f);
		for (int c = 1; c < 17; c++) {
			const char *v = (const char *)sqlite3_column_text(st, c);

			if (!v || !*v)
				continue;
			fprintf(f, "<tr><th>%s</th><td>", labels[c]);
			if (c == 7) {
				fputs("<a href=\"file://", f);
				esc(f, v);
				fputs("\">", f);
				esc(f, v);
				fputs("</a>", f);
			} else {
				if (c == 6)
					fputs("<code>reclaimbench ", f);
				esc(f, v);
				if (c == 6)
					fputs("</code>", f);
			}
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n<h2>Samples (every repetition)</h2>\n<table><tr><th>metric</th><th>unit</th>"
		      "<th>values</th><th>note</th></tr>\n", f);
		sqlite3_reset(ss);
		sqlite3_bind_int64(ss, 1, id);
		while (sqlite3_step(ss) == SQLITE_ROW) {
			fputs("<tr>", f);
			for (int c = 0; c < 4; c++) {
				fputs("<td>", f);
				esc(f, (const char *)sqlite3_column_text(ss, c));
				fputs("</td>", f);
			}
			fputs("</tr>\n", f);
		}
		fputs("</table>\n", f);
		page_close(f);
		free(name), free(title);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(ss);
}

/* One seed claim: the seed's figure beside ours on the ablation pair, and
 * 6.12 -> 7.3 as context. */
/* A claim's verdict on one architecture and its evidence: two cells. */
static void claim_cells(FILE *f, const char *verdict, const char *pair, const char *evidence)
{
	fprintf(f, "<td class=\"%s\">%s</td><td>",
		!strcmp(verdict, "reproduced") ? "ok" : !strcmp(verdict, "not reproduced") ? "bad" : "warn", verdict);
	esc(f, pair);
	fputs(": ", f);
	esc(f, evidence);
	fputs("</td>", f);
}

struct claim_host {
	struct claim_view view;
	sqlite3 *db;
	long long base, new;
};

/* A metric of a claim's two runs by the verdict rules, timings in the
 * unit they were measured in. */
static void claim_compare(const struct claim_view *v, const char *metric, struct verdict_view *out)
{
	const struct claim_host *h = (const struct claim_host *)v;
	static char verdict[128], unit[16];
	char *u = metric_unit(h->db, h->new, metric);
	double scale = timing_scale(u);
	struct cmp_row r;

	compare_metric(h->db, h->base, h->new, metric, -1, &r);
	snprintf(verdict, sizeof(verdict), "%s", r.verdict);
	snprintf(unit, sizeof(unit), "%s", timing_unit_shown(u));
	*out = (struct verdict_view){ .base = r.ma * scale, .new = r.mb * scale, .ratio = r.ratio, .lo = r.lo,
				      .hi = r.hi, .p = r.p, .verdict = verdict, .unit = unit };
	free(u);
}

/* The claim judged on the newest comparable runs of two variants: its
 * verdict, evidence in ev; NULL with the reason in ev when not measurable. */
static const char *claim_judge(sqlite3 *db, const char *bench, const struct bench_claim *c, const char *base,
			       const char *new, char *ev, size_t cap, long long run[2])
{
	long long a = newest_run(db, base, bench), b = newest_run(db, new, bench);
	struct run_view_host ha, hb;
	struct claim_host h = { .view = { .compare = claim_compare }, .db = db, .base = a, .new = b };
	const char *why;

	run[0] = a, run[1] = b;
	if (a < 0 || b < 0) {
		snprintf(ev, cap, "needs ok %s runs of %s and %s", bench, base, new);
		return NULL;
	}
	if ((why = not_comparable(db, a, b))) {
		snprintf(ev, cap, "%s", why);
		return NULL;
	}
	run_view_init(&ha, db, a, base);
	run_view_init(&hb, db, b, new);
	h.view.base = &ha.view, h.view.new = &hb.view, h.view.host = &h;
	return c->judge(&h.view, ev, cap);
}

/* The preemption model a .config chose, from its changes list or "?". */
static const char *preempt_model(const struct kconfig_change *c, int n, int side)
{
	static const char *const models[] = { "PREEMPT_NONE", "PREEMPT_VOLUNTARY", "PREEMPT", "PREEMPT_LAZY",
					      "PREEMPT_RT", NULL };

	for (int i = 0; i < n; i++)
		for (int m = 0; models[m]; m++) {
			const char *v = side ? c[i].b : c[i].a;

			if (!strcmp(c[i].name, models[m]) && v && !strcmp(v, "y"))
				return models[m];
		}
	return "the same in both";
}

/* Whether an option is off on both sides: "is not set" on one, not offered
 * (absent) on the other. */
static int kconfig_both_off(const struct kconfig_change *c)
{
	return (!c->a || !strcmp(c->a, "n")) && (!c->b || !strcmp(c->b, "n"));
}

/* What else differs between the 6.12 and 7.3 guest kernels of the context
 * runs: their .config files in the kernel cache.  Preemption options come
 * first, options off on both sides are only counted. */
static void config_differences(FILE *f, sqlite3 *db, const long long run[2])
{
	char *ida = run[0] >= 0 ? run_field(db, run[0], "(SELECT build_id FROM kernels WHERE id = kernel_id)") : NULL;
	char *idb = run[1] >= 0 ? run_field(db, run[1], "(SELECT build_id FROM kernels WHERE id = kernel_id)") : NULL;
	struct kconfig_change *c = NULL;
	int n = ida && idb ? kconfig_diff(ida, idb, &c) : -1, off = 0;

	fputs("<h2>6.12 and 7.3: what differs besides the features</h2>\n", f);
	if (!ida || !idb) {
		fputs("<p>No comparable ok runs of 6.12 and 7.3 in this database.</p>\n", f);
		free(ida), free(idb);
		return;
	}
	if (n < 0) {
		fputs("<p>The .config files of the two context kernels are not in this machine's kernel cache "
		      "(build ids ", f);
		esc(f, ida);
		fputs(", ", f);
		esc(f, idb);
		fputs(").</p>\n", f);
		free(ida), free(idb);
		return;
	}
	for (int i = 0; i < n; i++)
		off += kconfig_both_off(&c[i]);
	fputs("<p>Both guest kernels are tinyconfig plus the project's fragments, each completed by its own tree's "
	      "defaults, so they differ in more than the features: preemption model ", f);
	esc(f, preempt_model(c, n, 0));
	fputs(" on 6.12, ", f);
	esc(f, preempt_model(c, n, 1));
	fprintf(f, " on 7.3 (on x86, 7.3 offers neither PREEMPT_NONE nor PREEMPT_VOLUNTARY and 6.12 has no "
		"PREEMPT_LAZY: full PREEMPT is the one non-RT model both accept). %d options differ; %d more are off in "
		"one and not offered by the other, not listed. Builds ", n - off, off);
	esc(f, ida);
	fputs(" (6.12) and ", f);
	esc(f, idb);
	fputs(" (7.3); &ldquo;absent&rdquo;: not in that .config (not offered by that tree, or an option "
	      "without a prompt that is off).</p>\n"
	      "<details><summary>every difference</summary>\n"
	      "<table><tr><th>option</th><th>6.12</th><th>7.3</th></tr>\n", f);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			if (kconfig_both_off(&c[i]) || (strncmp(c[i].name, "PREEMPT", 7) != 0) != pass)
				continue;
			fputs("<tr><td>CONFIG_", f);
			esc(f, c[i].name);
			fputs("</td><td>", f);
			esc(f, c[i].a ? c[i].a : "(absent)");
			fputs("</td><td>", f);
			esc(f, c[i].b ? c[i].b : "(absent)");
			fputs("</td></tr>\n", f);
		}
	fputs("</table></details>\n", f);
	kconfig_changes_free(c, n);
	free(ida), free(idb);
}

/* The architecture a claim was made for (arm64 unless it says) and the
 * other one shown beside it. */
static const char *claim_arch(const struct bench_claim *c)
{
	return c->arch ? c->arch : "arm64";
}

static const char *other_arch(const char *arch)
{
	return strcmp(arch, "arm64") ? "arm64" : "x86_64";
}

/* A claim judged on one architecture's variants of its pair (the x86 names
 * of the claim, "-arm64" appended on arm64): the verdict cells, and the
 * 6.12 -> 7.3 context sentence appended to ctx; the context runs kept in
 * crun_out for the config comparison when found. */
static void claim_on_arch(FILE *f, sqlite3 *db, const char *bench, const struct bench_claim *c, const char *arch,
			  FILE *ctx, long long crun_out[2])
{
	char *base = variant_of_arch(c->base, arch), *new = variant_of_arch(c->new, arch);
	char *pair = xasprintf("%s -> %s", base, new), ev[1024];
	const char *verdict;
	long long run[2];

	verdict = claim_judge(db, bench, c, base, new, ev, sizeof(ev), run);
	claim_cells(f, verdict ? verdict : "not measurable here", pair, ev);
	if (strcmp(c->base, "6.12") || strcmp(c->new, "7.3")) {
		char *b = variant_of_arch("6.12", arch), *n = variant_of_arch("7.3", arch), cev[1024];
		long long crun[2];
		const char *cv = claim_judge(db, bench, c, b, n, cev, sizeof(cev), crun);

		if (cv && crun_out && crun_out[0] < 0)
			crun_out[0] = crun[0], crun_out[1] = crun[1];
		fprintf(ctx, "%s%s: %s%s", ftell(ctx) ? "; " : "", arch, cv ? "" : "not measurable: ", cev);
		free(b), free(n);
	}
	free(base), free(new), free(pair);
}

static void claims_page(sqlite3 *db)
{
	FILE *f = page_open("claims.html", "Claims of the seed patches, measured here");
	long long context_runs[2] = { -1, -1 };

	fputs("<p>Each headline result of the seed mails, judged on its ablation pair: the newest ok runs of the "
	      "two variants that differ by that feature alone (an off-switch patch of this project, or the "
	      "on-switch 7.3-pmd-discard). A claim reads &ldquo;reproduced&rdquo; only when the verdict is "
	      "significant in the claimed direction and its invariants moved as claimed. Each claim is judged on "
	      "the architecture its seed was written and measured for (arm64, the variants of "
	      "<code>kernels/arm64.conf</code>), with the same pair on x86_64 beside it; runs of two "
	      "architectures are never compared with each other. The seed's figures are wall-clock seconds on "
	      "arm64 phones; ours are counts of guest instructions under TCG (tcg-icount, &ldquo;M instr&rdquo;) "
	      "or milliseconds of the host's clock (&ldquo;ms&rdquo;), so ratios compare, absolute values do not. "
	      "6.12 &rarr; 7.3 is context only, never the verdict: the two kernels differ in much more than the "
	      "feature (below).</p>\n"
	      "<table><tr><th>claim</th><th>the seed's figure</th><th>here, on the seed's architecture</th>"
	      "<th>ours, on its ablation pair</th><th>beside it, on the other architecture</th>"
	      "<th>ours, on its ablation pair</th><th>context: 6.12 &rarr; 7.3</th></tr>\n", f);
	for (int i = 0; i < nbenches; i++)
		for (const struct bench_claim *c = benches[i]->claims; c && c->text; c++) {
			const char *arch = claim_arch(c), *other = other_arch(arch);
			char *text = NULL;
			size_t len = 0;
			FILE *ctx = open_memstream(&text, &len);

			fprintf(f, "<tr><td>%s</td><td>%s</td>", c->text, c->seed ? c->seed : "");
			/* The config comparison below is of the x86 kernels. */
			claim_on_arch(f, db, benches[i]->name, c, arch, ctx,
				      strcmp(arch, "x86_64") ? NULL : context_runs);
			claim_on_arch(f, db, benches[i]->name, c, other, ctx,
				      strcmp(other, "x86_64") ? NULL : context_runs);
			fclose(ctx);
			fputs("<td>", f);
			esc(f, text);
			fputs("</td></tr>\n", f);
			free(text);
		}
	fputs("</table>\n", f);
	config_differences(f, db, context_runs);
	page_close(f);
}

/* Whether b claims a feature on the pair base -> new, and the claim holds
 * on the newest runs: then its invariants moving is the feature working. */
static int claim_holds(sqlite3 *db, const struct bench_info *b, const char *base, const char *new, const char *arch)
{
	for (const struct bench_claim *c = b->claims; c && c->text; c++) {
		char ev[1024], *ab, *an;
		long long run[2];
		const char *v;

		if (strcmp(c->base, base) || strcmp(c->new, new))
			continue;
		ab = variant_of_arch(base, arch), an = variant_of_arch(new, arch);
		v = claim_judge(db, b->name, c, ab, an, ev, sizeof(ev), run);
		free(ab), free(an);
		return v && !strcmp(v, "reproduced");
	}
	return 0;
}

/* One cell of the index's matrix: the main timing's verdict and ratio with
 * its interval, then each invariant that moved, as expected when the
 * benchmark's own claim on this pair holds (or --expect names it).  base
 * and new are the claim's (x86) names, run on arch's variants of them. */
static void matrix_cell(FILE *f, sqlite3 *db, const struct bench_info *b, const char *base, const char *new,
			const char *arch)
{
	char *ab = variant_of_arch(base, arch), *an = variant_of_arch(new, arch);
	long long a = newest_run(db, ab, b->name), n = newest_run(db, an, b->name);
	int holds, changed = 0, alarm = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *t;
	const char *why;
	struct cmp_row r;

	if (a < 0 || n < 0 || (why = not_comparable(db, a, n))) {
		fputs(a < 0 || n < 0 ? "<td>not measured" : "<td class=\"warn\">", f);
		if (a >= 0 && n >= 0)
			esc(f, why);
		fputs("</td>", f);
		free(ab), free(an);
		return;
	}
	free(ab), free(an);
	holds = claim_holds(db, b, base, new, arch);
	t = open_memstream(&text, &len);
	if (!compare_metric(db, a, n, bench_timing(b), -1, &r)) {
		esc(t, r.verdict);
		if (isfinite(r.ratio))
			fprintf(t, " &times;%.3f [%.3f, %.3f]", r.ratio, r.lo, r.hi);
	}
	for (const struct metric_decl *m = b->metrics; m && m->name; m++) {
		int expected;

		if (m->role != METRIC_INVARIANT || compare_metric(db, a, n, m->name, -1, &r) || !r.invariant_changed)
			continue;
		expected = holds || metric_expected(&expect, m->name);
		fputs("<br>", t);
		esc(t, m->name);
		fprintf(t, " %.6g &rarr; %.6g %s", r.ma, r.mb, expected ? "(expected: the feature working)" : "CHANGED");
		changed = 1, alarm |= !expected;
	}
	fclose(t);
	fprintf(f, "<td class=\"%s\">%s</td>", alarm ? "bad" : changed ? "ok" : "", text);
	free(text);
}

/* The index's first tables, one per architecture with runs: every
 * benchmark against every feature's ablation pair (the pairs the
 * benchmarks' claims name, in order) on that architecture's variants. */
static void feature_matrix(FILE *f, sqlite3 *db, const char *arch)
{
	const char *pair[32][2];
	int npairs = 0, any;
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE arch = ?1 LIMIT 1", -1, &st, NULL);
	sqlite3_bind_text(st, 1, arch_machine(arch), -1, SQLITE_STATIC);
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!any && strcmp(arch, "x86_64"))	/* the x86 table always, as before arm64 */
		return;

	for (int i = 0; i < nbenches; i++)
		for (const struct bench_claim *c = benches[i]->claims; c && c->text; c++) {
			int seen = 0;

			for (int p = 0; p < npairs; p++)
				seen |= !strcmp(pair[p][0], c->base) && !strcmp(pair[p][1], c->new);
			if (!seen && npairs < 32)
				pair[npairs][0] = c->base, pair[npairs++][1] = c->new;
		}
	fputs("<h2>Features, benchmark by benchmark, on ", f);
	esc(f, arch);
	fputs("</h2>\n<p>Each column a feature's ablation pair (the two variants that differ by it alone), each "
	      "cell the newest runs compared: the main timing's verdict, the ratio new/base with its 95% interval, "
	      "and every invariant that moved.</p>\n<table><tr><th>benchmark</th>", f);
	for (int p = 0; p < npairs; p++) {
		char *b = variant_of_arch(pair[p][0], arch), *n = variant_of_arch(pair[p][1], arch);

		fputs("<th>", f);
		esc(f, b);
		fputs(" &rarr; ", f);
		esc(f, n);
		fputs("</th>", f);
		free(b), free(n);
	}
	fputs("</tr>\n", f);
	for (int i = 0; i < nbenches; i++) {
		fprintf(f, "<tr><td><a href=\"bench-%s.html\">%s</a></td>", benches[i]->name, benches[i]->name);
		for (int p = 0; p < npairs; p++)
			matrix_cell(f, db, benches[i], pair[p][0], pair[p][1], arch);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* reports/method.md, how every figure was obtained, as the method page:
 * read from the templates' folder like page-head.html, so the report and
 * the document it renders come from one place. */
static void method_page(void)
{
	char *path = xasprintf("%s/../reports/method.md", self_dir()), *md = read_file(path, NULL);
	FILE *f;

	if (!md)
		die(EXIT_INFRA, "the method document '%s' is missing", path);
	f = page_open("method.html", "Method");
	markdown_html(f, md);
	page_close(f);
	free(md), free(path);
}

/* Gates of a series: per verdict that changed, the patch at which it
 * did (series_changes); nothing when no series was gated. */
static void series_gates(FILE *f, sqlite3 *db)
{
	sqlite3_stmt *st;
	int rows = 0;

	sqlite3_prepare_v2(db, "SELECT k.variant, r.id, r.bench, c.metric, c.verdict, c.patch, c.npatches, c.subject "
			       "FROM series_changes c JOIN runs r ON r.id = c.run_id JOIN kernels k ON k.id = r.kernel_id "
			       "ORDER BY r.id DESC, c.metric LIMIT 200", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!rows++)
			fputs("<h2>Patch series gated</h2>\n<p>A series is judged whole against its base, then each verdict "
			      "that changed is placed at its patch by bisection over the series' prefixes, one boot a "
			      "prefix.</p>\n<table><tr><th>series</th><th>run</th><th>bench</th><th>metric</th>"
			      "<th>verdict</th><th>first changed at</th><th>that patch</th></tr>\n", f);
		fputs("<tr><td>", f);
		esc(f, (const char *)sqlite3_column_text(st, 0));
		fprintf(f, "</td><td><a href=\"run-%lld.html\">%lld</a></td><td>", sqlite3_column_int64(st, 1),
			sqlite3_column_int64(st, 1));
		for (int c = 2; c < 5; c++) {
			esc(f, (const char *)sqlite3_column_text(st, c));
			fputs("</td><td>", f);
		}
		if (sqlite3_column_type(st, 5) == SQLITE_NULL)
			fputs("undecided", f);
		else
			fprintf(f, "patch %d/%d", sqlite3_column_int(st, 5), sqlite3_column_int(st, 6));
		fputs("</td><td>", f);
		esc(f, (const char *)sqlite3_column_text(st, 7));
		fputs("</td></tr>\n", f);
	}
	sqlite3_finalize(st);
	if (rows)
		fputs("</table>\n", f);
}

static void index_page(sqlite3 *db)
{
	FILE *f = page_open("index.html", "reclaimbench results");
	sqlite3_stmt *st;

	feature_matrix(f, db, "x86_64");
	feature_matrix(f, db, "arm64");
	series_gates(f, db);
	fputs("<h2>Benchmarks</h2>\n<ul>\n", f);
	for (int i = 0; i < nbenches; i++)
		fprintf(f, "<li><a href=\"bench-%s.html\">%s</a> (<a href=\"history-%s.html\">history</a>) &mdash; %s</li>\n",
			benches[i]->name, benches[i]->name, benches[i]->name, benches[i]->help);
	fputs("</ul>\n<p><a href=\"claims.html\">The seed patches' claims, measured here</a></p>\n"
	      "<p><a href=\"method.html\">How the figures were measured (method)</a></p>\n"
	      "<h2>Kernels</h2>\n<table><tr><th>kernel</th><th>release</th><th>build id</th><th>source</th>"
	      "<th>runs</th><th>newest</th></tr>\n", f);
	sqlite3_prepare_v2(db, "SELECT CASE k.variant WHEN '' THEN '(host)' ELSE k.variant END, k.release, k.build_id, "
			       "k.source, count(r.id), max(r.started_at) FROM kernels k LEFT JOIN runs r ON r.kernel_id = k.id "
			       "GROUP BY k.id ORDER BY k.id", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		fputs("<tr>", f);
		for (int c = 0; c < 6; c++) {
			fputs("<td>", f);
			esc(f, (const char *)sqlite3_column_text(st, c));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	sqlite3_finalize(st);
	fputs("</table>\n<h2>Newest runs</h2>\n", f);
	runs_table(db, f, "LIMIT 100");
	page_close(f);
}

int cmd_report(int argc, char **argv)
{
	static int png;
	static const char *out = "out/report";
	static const struct opt own[] = {
		{ "out", OPT_STRING, &out, 0, 0, "DIR", "folder of the site" },
		{ "png", OPT_FLAG, &png, 0, 0, NULL, "PNG charts instead of SVG" },
		{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
		{ "expect", OPT_LIST, &expect, 0, 0, "METRIC",
		  "an invariant whose change is expected: shown as expected rather than as CHANGED" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, NULL };
	int first = parse_args(tables, argc, argv,
			       "usage: reclaimbench report [--out DIR] [--png] [--db PATH] [--expect METRIC]...");
	char *mk;
	sqlite3 *db;
	FILE *f;

	if (first < argc)
		die(EXIT_USAGE, "report takes no operand ('%s')", argv[first]);
	outdir = out;
	ext = png ? "png" : "svg";
	mk = xasprintf("%s/data", out);
	if (mkdirs(mk))
		die(EXIT_USAGE, "cannot make the report folder '%s': %s; pass --out DIR", out, strerror(errno));
	free(mk);
	head_template = read_file(xasprintf("%s/../reports/page-head.html", self_dir()), NULL);
	if (!head_template || !strstr(head_template, "{{title}}"))
		die(EXIT_INFRA, "the template reports/page-head.html is missing");
	db = db_open(opt_db);
	index_page(db);
	f = page_open("runs.html", "All runs");
	runs_table(db, f, "");
	page_close(f);
	for (int i = 0; i < nbenches; i++) {
		bench_page(db, benches[i]);
		history_page(db, benches[i]);
	}
	claims_page(db);
	method_page();
	run_pages(db);
	db_close(db);
	printf("report: %s/index.html\n", out);
	return EXIT_OK;
}
