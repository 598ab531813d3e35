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
	for (; s && *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
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
void gp_label(FILE *f, const char *s)
{
	int n = 0;

	fputc('"', f);
	for (; s && *s && n < GP_LABEL_MAX; s++, n++) {
		unsigned char c = *s;

		fputc(c == '"' ? '\'' : c < 0x20 || c >= 0x7f ? '?' : c, f);
	}
	fputs(n ? "\"" : "(none)\"", f);
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
			       "r.status = 'ok' GROUP BY label ORDER BY min(r.id)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, bench, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		*out = realloc(*out, (n + 1) * sizeof(**out));
		(*out)[n].run = sqlite3_column_int64(st, 0);
		(*out)[n++].label = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return n;
}

static const char *main_metric(const char *bench)
{
	return !strcmp(bench, "ttu_sync_race") ? "time.pageout_sum" : "time.wall";
}

static void bench_page(sqlite3 *db, const char *bench)
{
	struct side *s;
	int n = newest_per_kernel(db, bench, &s);
	char *name = xasprintf("bench-%s.html", bench), *dat = xasprintf("%s/data/%s-dist.dat", outdir, bench);
	char *svg = xasprintf("%s/%s-dist.%s", outdir, bench, ext), nbuf[16];
	char *lab = xasprintf("%s/data/%s-labels.dat", outdir, bench);
	FILE *f = page_open(name, bench), *d, *l;

	fprintf(f, "<p>%s</p>\n", bench_find(bench) ? bench_find(bench)->help : "");
	if (!n) {
		fputs("<p>No ok run of this benchmark yet.</p>\n", f);
		page_close(f);
		return;
	}
	d = fopen(dat, "w");
	l = fopen(lab, "w");
	for (int i = 0; i < n; i++) {
		double *v;
		int k = db_samples(db, s[i].run, main_metric(bench), &v);

		for (int j = 0; j < k; j++)
			fprintf(d, "%.6f\n", v[j] / 1e6);
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
		char *title = xasprintf("%s: %s per repetition, newest run of each kernel", bench, main_metric(bench));
		const char *vars[] = { "datafile", dat, "n", nbuf, "labels", lab, "outfile", svg, "plottitle", title,
				       "ylab", "ms", "term", ext, NULL };
		plot("box.gp", vars);
		free(title);
	}
	fprintf(f, "<h2>Distribution</h2>\n<img src=\"%s-dist.%s\" alt=\"%s distribution\">\n", bench, ext, bench);
	fprintf(f, "<h2>Against %s</h2>\n<table><tr><th>kernel</th><th>run</th><th>median ms</th><th>ratio</th>"
		   "<th>95%% CI</th><th>p (U test)</th><th>CV</th><th>verdict</th></tr>\n", s[0].label);
	for (int i = 0; i < n; i++) {
		struct cmp_row r;

		compare_metric(db, s[0].run, s[i].run, main_metric(bench), 0.05, &r);
		fprintf(f, "<tr><td>");
		esc(f, s[i].label);
		fprintf(f, "</td><td><a href=\"run-%lld.html\">%lld</a></td><td class=num>%.3f</td><td class=num>%.3f</td>",
			s[i].run, s[i].run, r.mb / 1e6, r.ratio);
		if (i && !isnan(r.lo))
			fprintf(f, "<td>[%.3f, %.3f]</td><td class=num>%.3g</td>", r.lo, r.hi, r.p);
		else
			fputs("<td></td><td></td>", f);
		fprintf(f, "<td class=num>%.3f</td><td class=\"%s\">%s</td></tr>\n", r.cvb,
			!strcmp(r.verdict, "slower") ? "bad" : !strcmp(r.verdict, "faster") ? "ok" : "",
			i ? r.verdict : "base");
	}
	fputs("</table>\n<h2>Counters</h2>\n", f);
	for (const struct column *c = summary_columns; c->bench; c++) {
		const char *metric = c->metric;
		char *cd, *cs;

		if (strcmp(c->bench, bench) || !strncmp(metric, "time.", 5))
			continue;
		cd = xasprintf("%s/data/%s-%s.dat", outdir, bench, metric);
		cs = xasprintf("%s/%s-%s.%s", outdir, bench, metric, ext);
		d = fopen(cd, "w");
		for (int i = 0; i < n; i++) {
			double v = run_metric(db, s[i].run, metric, c->agg);
			gp_label(d, s[i].label);
			fprintf(d, " %.6g\n", isnan(v) ? 0 : v);
		}
		fclose(d);
		const char *vars[] = { "datafile", cd, "outfile", cs, "plottitle", metric, "ylab",
				       c->agg == AGG_SUM ? "sum over repetitions" : "median", "term", ext, NULL };
		plot("bars.gp", vars);
		fprintf(f, "<img src=\"%s-%s.%s\" alt=\"%s\">\n", bench, metric, ext, metric);
		free(cd), free(cs);
	}
	fprintf(f, "<p><a href=\"history-%s.html\">history of %s</a></p>\n", bench, main_metric(bench));
	page_close(f);
	for (int i = 0; i < n; i++)
		free(s[i].label);
	free(s), free(name), free(dat), free(svg), free(lab);
}

static void history_page(sqlite3 *db, const char *bench)
{
	char *name = xasprintf("history-%s.html", bench), *dat = xasprintf("%s/data/%s-history.dat", outdir, bench);
	char *svg = xasprintf("%s/%s-history.%s", outdir, bench, ext), nbuf[16], *prev = NULL;
	char *title = xasprintf("%s history of %s", bench, main_metric(bench));
	FILE *f = page_open(name, title), *d = fopen(dat, "w");
	sqlite3_stmt *st;
	int n = 0;

	/* One pass in label order; a block per kernel. */
	/* (SQLite refuses an OFFSET that names the outer row: the median
	 * comes from run_metric.) */
	sqlite3_prepare_v2(db, "SELECT r.id, CASE k.variant WHEN '' THEN k.release ELSE k.variant END AS label "
			       "FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE r.bench = ?1 AND r.status = 'ok' "
			       "ORDER BY label, r.id", -1, &st, NULL);
	sqlite3_bind_text(st, 1, bench, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *label = (const char *)sqlite3_column_text(st, 1) ?: "";

		if (!prev || strcmp(label, prev)) {
			/* A block per kernel, its name in its first row. */
			fputs(n ? "\n\n\"run\" " : "\"run\" ", d);
			gp_label(d, label);
			fputc('\n', d);
			free(prev);
			prev = xstrdup(label);
			n++;
		}
		fprintf(d, "%lld %.6f\n", sqlite3_column_int64(st, 0),
			run_metric(db, sqlite3_column_int64(st, 0), main_metric(bench), AGG_MEDIAN) / 1e6);
	}
	sqlite3_finalize(st);
	fclose(d);
	if (n) {
		snprintf(nbuf, sizeof(nbuf), "%d", n);
		const char *vars[] = { "datafile", dat, "n", nbuf, "outfile", svg,
				       "plottitle", title, "ylab", "ms (median of the run)", "term", ext, NULL };
		plot("history.gp", vars);
		fprintf(f, "<img src=\"%s-history.%s\" alt=\"history\">\n", bench, ext);
	} else {
		fputs("<p>No ok run yet.</p>\n", f);
	}
	page_close(f);
	free(name), free(dat), free(svg), free(prev), free(title);
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

/* One seed claim beside what was measured on the default variants. */
static void claim(FILE *f, const char *claimed, const char *verdict, const char *evidence)
{
	fprintf(f, "<tr><td>%s</td><td class=\"%s\">%s</td><td>", claimed,
		!strcmp(verdict, "reproduced") ? "ok" : !strcmp(verdict, "not reproduced") ? "bad" : "warn", verdict);
	esc(f, evidence);
	fputs("</td></tr>\n", f);
}

static void claims_page(sqlite3 *db)
{
	FILE *f = page_open("claims.html", "Claims of the seed patches, measured here");
	long long a, b, c;
	const char *why;
	char ev[512];

	fputs("<p>Each headline result of the seed mails beside the newest ok runs of the default variants "
	      "in this database.</p>\n<table><tr><th>claim</th><th>here</th><th>evidence</th></tr>\n", f);
	a = newest_run(db, "6.12", "lazyfree_mthp"), b = newest_run(db, "7.3", "lazyfree_mthp");
	if (a < 0 || b < 0) {
		claim(f, "64 KiB lazyfree reclaim 2.4&times; faster, split_deferred 2048 &rarr; 0", "not measurable here",
		      "needs ok lazyfree_mthp runs of 6.12 and 7.3");
	} else if ((why = not_comparable(db, a, b))) {
		claim(f, "64 KiB lazyfree reclaim 2.4&times; faster, split_deferred 2048 &rarr; 0", "not measurable here",
		      why);
	} else {
		struct cmp_row r;
		double s0 = run_metric(db, a, "mthp.split_deferred", AGG_MEDIAN), s1 = run_metric(db, b, "mthp.split_deferred", AGG_MEDIAN);
		char *accel = run_field(db, b, "accel");

		compare_metric(db, a, b, "time.wall", 0.05, &r);
		snprintf(ev, sizeof(ev), "6.12 %.1f ms -> 7.3 %.1f ms on %s%s; %.2fx faster: "
			 "7.3/6.12 = %.3f, 95%% CI [%.3f, %.3f], verdict %s; split_deferred %.0f -> %.0f", r.ma / 1e6,
			 r.mb / 1e6, accel,
			 strcmp(accel, ACCEL_ICOUNT) ? "" : ", where a ms is a million guest instructions, not time",
			 r.ma / r.mb, r.ratio, r.lo, r.hi, r.verdict, s0, s1);
		free(accel);
		claim(f, "64 KiB lazyfree reclaim 2.4&times; faster, split_deferred 2048 &rarr; 0",
		      !strcmp(r.verdict, "faster") && s1 == 0 && s0 > 0 ? "reproduced" : "not reproduced", ev);
	}
	b = newest_run(db, "7.3", "pmd_redirty");
	if (b < 0) {
		claim(f, "redirtied PMD-mapped lazyfree THP skipped without a split, 3.5&times; faster",
		      "not measurable here", "needs an ok pmd_redirty run of 7.3");
	} else {
		double sp = run_metric(db, b, "vmstat.thp_split_pmd", AGG_MEDIAN), th = run_metric(db, b, "setup.thps", AGG_MEDIAN);

		snprintf(ev, sizeof(ev), "7.3: thp_split_pmd +%.0f of %.0f THPs during MADV_PAGEOUT%s", sp, th,
			 sp > 0 ? ": the THPs were split, not skipped" : "");
		claim(f, "redirtied PMD-mapped lazyfree THP skipped without a split, 3.5&times; faster",
		      sp == 0 ? "reproduced" : "not reproduced", ev);
	}
	b = newest_run(db, "7.3", "pt_reclaim");
	if (b < 0) {
		claim(f, "VmPTE 102640 kB &rarr; 240 kB after MADV_DONTNEED", "not measurable here",
		      "needs an ok pt_reclaim run of 7.3");
	} else {
		double x = run_metric(db, b, "status.VmPTE_before", AGG_MEDIAN), y = run_metric(db, b, "status.VmPTE_after", AGG_MEDIAN);

		snprintf(ev, sizeof(ev), "7.3: VmPTE %.0f kB -> %.0f kB", x, y);
		claim(f, "VmPTE 102640 kB &rarr; 240 kB after MADV_DONTNEED", y < 0.05 * x ? "reproduced" : "not reproduced", ev);
	}
	b = newest_run(db, "7.3", "ttu_sync_race"), c = newest_run(db, "7.3-no-ttu-sync", "ttu_sync_race");
	if (b < 0) {
		claim(f, "no folio left partially mapped with TTU_SYNC", "not measurable here",
		      "needs an ok ttu_sync_race run of 7.3");
	} else {
		double k = run_metric(db, b, "race.partial", AGG_SUM), n = run_metric(db, b, "race.folios", AGG_SUM);
		double k0 = c < 0 ? NAN : run_metric(db, c, "race.partial", AGG_SUM), n0 = c < 0 ? NAN : run_metric(db, c, "race.folios", AGG_SUM);

		snprintf(ev, sizeof(ev), "7.3: %.0f of %.0f folios partially mapped; without TTU_SYNC: %.0f of %.0f", k, n, k0, n0);
		claim(f, "no folio left partially mapped with TTU_SYNC",
		      k > 0 ? "not reproduced" : (k0 > 0 ? "reproduced" : "not measurable here"), ev);
	}
	fputs("</table>\n", f);
	page_close(f);
}

static void index_page(sqlite3 *db)
{
	FILE *f = page_open("index.html", "reclaimbench results");
	sqlite3_stmt *st;

	fputs("<h2>Benchmarks</h2>\n<ul>\n", f);
	for (int i = 0; i < nbenches; i++)
		fprintf(f, "<li><a href=\"bench-%s.html\">%s</a> (<a href=\"history-%s.html\">history</a>) &mdash; %s</li>\n",
			benches[i]->name, benches[i]->name, benches[i]->name, benches[i]->help);
	fputs("</ul>\n<p><a href=\"claims.html\">The seed patches' claims, measured here</a></p>\n"
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
		{ NULL }
	};
	const struct opt *const tables[] = { own, NULL };
	int first = parse_args(tables, argc, argv, "usage: reclaimbench report [--out DIR] [--png] [--db PATH]");
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
		bench_page(db, benches[i]->name);
		history_page(db, benches[i]->name);
	}
	claims_page(db);
	run_pages(db);
	db_close(db);
	printf("report: %s/index.html\n", out);
	return EXIT_OK;
}
