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
	struct variant_set set;
	struct variant *base, *patched;
	struct built kb, kp;
	struct run_opts o = { 0 };
	char **sa, **sp, *patch, *report_path = NULL, *text = NULL;
	const char *accel;
	int failed = 0, regress = 0, undecided = 0, broken = 0;
	size_t len = 0;
	sqlite3 *db;
	FILE *r;

	if (!base_name || !patch_arg)
		die(EXIT_USAGE, "gate needs --base VARIANT and --patch FILE|URL|MSGID");
	if (min_p(boots, boots) >= 0.05)
		die(EXIT_USAGE, "--boots %lu cannot fail a gate: %lu boots against %lu give p >= %.3f at best; use "
		    "--boots %d or more", boots, boots, boots, min_p(boots, boots), min_samples());
	bench_names_check(&names);
	guest_opts_get(&o);
	variants_load(o.variants, &set);
	if (!(base = variant_find(&set, base_name)))
		die(EXIT_USAGE, "unknown variant '%s' in '%s'; see reclaimbench list variants", base_name, o.variants);
	db_close(db_open(opt_db));
	patch = patch_resolve(patch_arg);
	patched = calloc(1, sizeof(*patched));
	*patched = *base;
	/* Keyed by the patch's content, not by how it was named. */
	{
		size_t len = 0;
		char *text = read_file(patch, &len);

		if (!text)
			die(EXIT_USAGE, "patch '%s' cannot be read", patch);
		patched->name = xasprintf("%s+%016llx", base->name, (unsigned long long)fnv1a(text, len, 0));
		free(text);
	}
	patched->patches = calloc(base->npatches + 1, sizeof(char *));
	memcpy(patched->patches, base->patches, base->npatches * sizeof(char *));
	patched->patches[patched->npatches++] = patch;
	{
		/* Both built (the base most likely cached), then boots in turns. */
		struct plan_item items[2] = { { .v = base, .rounds = boots }, { .v = patched, .rounds = boots } };
		/* Nothing is booted unless both build: a patch that does not
		 * build stores nothing. */
		struct plan p = { .what = "gate", .o = &o, .names = &names, .argc = argc, .argv = argv, .items = items,
				  .nitems = 2, .boots_after_builds = 1 };

		on_interrupt_install();
		failed = plan_run(&p);
		if (interrupted)
			return 130;
		if (items[0].usage_error || items[1].usage_error)
			die(EXIT_USAGE, "the gate cannot build %s; see the error above", items[1].usage_error ?
			    "the patched kernel" : "the base");
		if (!items[0].k.build_id || !items[1].k.build_id)
			die(EXIT_INFRA, "the gate could not build both kernels; see the error above");
		kb = items[0].k, kp = items[1].k, accel = p.accel;
		sa = items[0].sessions, sp = items[1].sessions;
	}
	db = db_open(opt_db);
	r = open_memstream(&text, &len);
	/* Every text here may come from outside (the patch's name, the
	 * variants file, metric names from the database): shown() each. */
	fprintf(r, "reclaimbench gate: %s on %s\n", shown(patch_arg), shown(base->name));
	fprintf(r, "  base build %s, patched build %s, %s, %lu boots each side in turns, %lu reps each;\n"
		   "  the timing verdict takes each boot's median as one sample\n",
		shown(kb.build_id), shown(kp.build_id), accel, boots, params.reps);
	fprintf(r, "\n  %-14s %-18s %12s %12s %8s %-18s %-8s %s\n", "bench", "metric", "base", "patched", "ratio",
		"95% CI", "p", "verdict");
	for (int i = 0; i < names.n; i++) {
		long long *ra, *rp;
		int na = session_runs(db, sa, boots, names.v[i], &ra), np = session_runs(db, sp, boots, names.v[i], &rp);
		struct cmp_row c;
		char ci[40] = "";

		compare_boots(db, ra, na, rp, np, bench_timing(bench_find(names.v[i])), threshold / 100.0, &c);
		if (!isnan(c.lo))
			snprintf(ci, sizeof(ci), "[%.3f, %.3f]", c.lo, c.hi);
		if (!na || !np || !strcmp(c.verdict, "not enough data")) {
			undecided = 1;
			strcpy(c.verdict, "not enough data");
		} else if (c.cva * 100 > max_cv || c.cvb * 100 > max_cv) {
			undecided = 1;
			snprintf(c.verdict, sizeof(c.verdict), "too noisy (CV %.0f%%/%.0f%%)", 100 * c.cva, 100 * c.cvb);
		} else if (!strncmp(c.verdict, "unsteady", 8)) {
			undecided = 1;	/* a boot's repetitions trend: its median is no sample */
		}
		regress |= !strcmp(c.verdict, "slower");
		fprintf(r, "  %-14s %-18s %12.4g %12.4g %8.3f %-18s %-8.3g %s\n", shown(names.v[i]), shown(c.metric),
			c.ma, c.mb, c.ratio, ci, c.p, c.verdict);
		/* Exact counters that moved, as evidence. */
		{
			sqlite3_stmt *st;

			sqlite3_prepare_v2(db, "SELECT DISTINCT metric FROM samples WHERE run_id IN (?1, ?2) AND value IS NOT NULL "
					       "ORDER BY metric", -1, &st, NULL);
			sqlite3_bind_int64(st, 1, na ? ra[0] : -1);
			sqlite3_bind_int64(st, 2, np ? rp[0] : -1);
			while (sqlite3_step(st) == SQLITE_ROW) {
				struct cmp_row e;

				const char *m = (const char *)sqlite3_column_text(st, 0);
				int exp = metric_expected(&expect, m);

				compare_sets(db, ra, na, rp, np, m, -1, &e);
				if (e.invariant_changed && !exp)
					broken = 1;
				if (!strcmp(e.verdict, "CHANGED"))
					fprintf(r, "  %-14s %-18s %12.6g %12.6g   %s\n", "", shown(e.metric), e.ma, e.mb,
						!e.invariant_changed ? "exact counter changed" :
						exp ? "invariant changed, expected (--expect)" : "INVARIANT CHANGED");
			}
			sqlite3_finalize(st);
		}
		free(ra), free(rp);
	}
	db_close(db);
	fprintf(r, "\nverdict: %s\n", failed ? "UNDECIDED: a build, boot or benchmark failed (see above)" :
		broken ? "FAIL: the patch changes an invariant (a correctness counter, see above)" :
		regress ? "FAIL: the patch makes reclaim slower" :
		undecided ? "UNDECIDED: not enough data, too noisy or unsteady" : "PASS: no timing regression");
	fclose(r);
	fputs(text, stdout);
	/* A new file per gate (O_EXCL): two gates in one second never
	 * overwrite each other's report, nor write through a link. */
	if (mkdirs(o.out) == 0) {
		int fd = -1;

		for (int k = 0; fd < 0 && k < 1000; k++) {
			free(report_path);
			report_path = k ? xasprintf("%s/gate-%ld-%d.txt", o.out, (long)time(NULL), k)
					: xasprintf("%s/gate-%ld.txt", o.out, (long)time(NULL));
			fd = open(report_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (fd < 0 && errno != EEXIST)
				break;
		}
		if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && !close(fd))
			printf("report: %s\n", report_path);
		else
			error("cannot save the gate report '%s': %s", report_path, strerror(errno));
	}
	free(text);
	if (failed || (undecided && !regress && !broken))
		return EXIT_INFRA;
	return regress || broken ? EXIT_VERDICT : EXIT_OK;
}
