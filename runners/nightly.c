/* reclaimbench nightly: the suite on a tree's newest commit, kept as the
 * history of the "nightly" kernel; when a key metric stepped against the
 * previous nightly (confirmed by a second boot), the bisection between the
 * two starts by itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

/* A key metric of a nightly that stepped against the previous nightly. */
struct nightly_step {
	char *prev_sha, *bench, *metric;
	long long before, now;	/* the runs of the previous nightly and of this one */
};

/* Whether a key metric of a benchmark of this session stepped against the
 * newest earlier nightly of another commit of the same tree (the first
 * found in ns); metrics whose repetitions trend are said not judged. */
static int bench_stepped(sqlite3 *db, const char *session, const char *name, struct nightly_step *ns)
{
	static const char sql[] = "SELECT r.id, (SELECT r2.id FROM runs r2 JOIN kernels k2 ON k2.id = r2.kernel_id "
			      "WHERE k2.variant = 'nightly' AND r2.bench = r.bench AND r2.status = 'ok' AND r2.faults = '' AND "
			      "k2.source != k.source AND r2.session != r.session ORDER BY r2.id DESC LIMIT 1), "
			      "(SELECT k2.source FROM runs r2 JOIN kernels k2 ON k2.id = r2.kernel_id "
			      "WHERE k2.variant = 'nightly' AND r2.bench = r.bench AND r2.status = 'ok' AND r2.faults = '' AND "
			      "k2.source != k.source AND r2.session != r.session ORDER BY r2.id DESC LIMIT 1) "
			      "FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE r.session = ?1 AND "
			      "r.bench = ?2 AND r.status = 'ok'";
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL) {
		long long now = sqlite3_column_int64(st, 0), before = sqlite3_column_int64(st, 1);
		const char *src = (const char *)sqlite3_column_text(st, 2);
		char **metrics;
		int n = run_metrics(db, now, -1, &metrics);

		for (int i = 0; !ns->prev_sha && i < n; i++) {
			const char *m = metrics[i];
			struct cmp_row r;

			/* the metrics its benchmark declares */
			if (!bench_metric(bench_find(name), m))
				continue;
			/* an untimed step (selftests) steps by its invariants alone */
			if (bench_find(name)->untimed && metric_role(bench_find(name), m) == METRIC_TIMING)
				continue;
			compare_metric(db, before, now, m, 0.05, &r);
			if (!strcmp(r.verdict, "slower") || !strcmp(r.verdict, "faster") || !strcmp(r.verdict, "CHANGED")) {
				printf("nightly: %s %s stepped: %g -> %g (%s) since %s\n", name, m, r.ma, r.mb, r.verdict,
				       src);
				ns->prev_sha = xstrdup(src + 4);	/* "git:SHA" */
				ns->bench = xstrdup(name);
				ns->metric = xstrdup(m);
				ns->before = before, ns->now = now;
			} else if (!strncmp(r.verdict, "unsteady", 8)) {
				printf("nightly: %s %s not judged: %s\n", name, m, r.verdict);
			}
		}
		metrics_free(metrics, n);
	}
	sqlite3_finalize(st);
	return ns->prev_sha != NULL;
}

/* One noisy boot starts no bisection: the commit measured again, both
 * boots judged together against the previous nightly, and the second boot
 * on its own nearer the level after the step than before it (pooled, an
 * exact counter changed in the night's run alone would be a change).  1
 * confirmed, 0 not, -1 when the boot failed. */
static int step_confirmed(const struct variant *v, const struct built *k, const char *accel,
			  const struct run_opts *o, const struct nightly_step *ns, int argc, char **argv)
{
	struct opt_list one = { .n = 1, .v = { ns->bench } };
	long long runs[2] = { ns->now, -1 }, before = ns->before;
	double was, stepped, again;	/* medians: the night before, the night after, the second boot */
	struct cmp_row r;
	char *session;
	sqlite3 *db;

	progress("nightly: confirming the step of %s %s with a second boot", ns->bench, ns->metric);
	if (variant_session(v, k, accel, o, &one, argc, argv, &session))
		return -1;
	db = db_open(opt_db);
	runs[1] = session_run(db, session, ns->bench);
	if (runs[1] < 0 || !runs_differ(db, &before, 1, runs, 2, ns->metric, &r)) {
		printf("nightly: the step of %s %s was not confirmed by a second boot (%s); no bisection\n",
		       ns->bench, ns->metric, runs[1] < 0 ? "it did not run" : r.verdict);
		db_close(db);
		return 0;
	}
	was = run_metric(db, before, ns->metric, AGG_MEDIAN);
	stepped = run_metric(db, ns->now, ns->metric, AGG_MEDIAN);
	again = run_metric(db, runs[1], ns->metric, AGG_MEDIAN);
	if (!(fabs(again - stepped) < fabs(again - was))) {
		printf("nightly: the step of %s %s was not confirmed by a second boot (%g, nearer %g before the step "
		       "than %g after it); no bisection\n", ns->bench, ns->metric, again, was, stepped);
		db_close(db);
		return 0;
	}
	printf("nightly: confirmed: %g -> %g (%s, p %.3g)\n", r.ma, r.mb, r.verdict, r.p);
	db_close(db);
	return 1;
}

/* The variant of the boot that confirms a step of the history: the
 * commit after the step booted again, which is not a night (stored as
 * one, an old commit would be the newest night of the history). */
#define HISTORY_CONFIRM_VARIANT "nightly-confirm"

/* Whether a step of the history between these commits was taken already:
 * its bisection begun, or the commit after it booted to confirm it (a
 * step that boot did not confirm is not booted again every night). */
static int step_taken(sqlite3 *db, const char *good, const char *bad, const char *name, const char *metric)
{
	sqlite3_stmt *st;
	int found;

	sqlite3_prepare_v2(db, "SELECT 1 FROM bisections WHERE good = ?1 AND bad = ?2 AND bench = ?3 AND metric = ?4 "
			   "UNION ALL SELECT 1 FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '"
			   HISTORY_CONFIRM_VARIANT "' AND k.source = 'git:' || ?2 AND r.bench = ?3 AND r.status = 'ok'",
			   -1, &st, NULL);
	sqlite3_bind_text(st, 1, good, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, bad, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, metric, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* The newest step over the whole history of a declared metric of a
 * benchmark that no bisection has taken yet (changepoint.c: a step hidden
 * by a noisy night, or one that only a longer history shows), into ns
 * with the commit after it in bad_sha; drifts are said, never bisected. */
static int history_stepped(sqlite3 *db, const char *name, struct nightly_step *ns, char **bad_sha)
{
	const struct bench_info *b = bench_find(name);

	for (const struct metric_decl *m = b ? b->metrics : NULL; m && m->name && !ns->prev_sha; m++) {
		struct history h;

		history_load(db, name, m->name, &h);
		if (h.drift.drifts)
			printf("nightly: %s %s drifts %+.1f%% over %d nights (p %.2g); a drift is not bisected\n", name,
			       m->name, 100 * h.drift.total, h.n, h.drift.p);
		for (int i = h.ncp - 1; i >= 0 && !ns->prev_sha; i--) {
			const struct change_point *c = &h.cp[i];
			const char *good = h.commits[c->good], *bad = h.commits[c->bad];

			if (!c->step || !*good || !*bad)
				continue;
			if (step_taken(db, good, bad, name, m->name)) {
				printf("nightly: the history of %s %s steps between %.12s and %.12s, checked before\n", name,
				       m->name, good, bad);
				continue;
			}
			printf("nightly: the history of %s %s steps: %g -> %g (p %.2g) between %.12s and %.12s\n", name,
			       m->name, c->before, c->after, c->p, good, bad);
			ns->prev_sha = xstrdup(good), *bad_sha = xstrdup(bad);
			ns->bench = xstrdup(name), ns->metric = xstrdup(m->name);
			ns->before = h.runs[c->good], ns->now = h.runs[c->bad];
		}
		history_free(&h);
	}
	return ns->prev_sha != NULL;
}

/* A step the history shows, confirmed by a boot of the commit after it
 * (that boot and the night's run against the night before it), then
 * bisected.  Exit code of nightly. */
static int history_step_bisect(const char *tree, const struct variant *base, const struct run_opts *o,
			       struct nightly_step *ns, const char *bad_sha, int argc, char **argv)
{
	struct variant v = *base;
	struct bisect_args args;
	struct built k;
	int confirmed;

	v.name = HISTORY_CONFIRM_VARIANT;
	v.source = xasprintf("git:%s@%s", tree, bad_sha);
	variant_build(&v, &k);
	if ((confirmed = step_confirmed(&v, &k, accel_checked(accel_choose(&k, v.cmdline)), o, ns, argc, argv)) <= 0)
		return confirmed < 0 ? EXIT_INFRA : EXIT_OK;
	args = (struct bisect_args){ tree, ns->prev_sha, bad_sha, ns->bench, ns->metric };
	return bisect_run(&args, argc, argv) != EXIT_OK ? EXIT_INFRA : EXIT_VERDICT;
}

/* reclaimbench nightly: the suite on a tree's newest commit, kept as the
 * history of the "nightly" kernel; when a key metric stepped against the
 * previous nightly, the bisection between the two starts by itself. */
int cmd_nightly(int argc, char **argv)
{
	static const char *tree, *ref = "HEAD";
	static struct opt_list nnames;
	static const struct opt own[] = {
		{ "tree", OPT_STRING, &tree, 0, 0, "DIR", "the git tree (read only)" },
		{ "ref", OPT_STRING, &ref, 0, 0, "REF", "the commit to run" },
		{ "bench", OPT_LIST, &nnames, 0, 0, "NAME", "benchmark to run (default: all)" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, guest_opts, bench_params, NULL };
	parse_options(tables, argc, argv, "usage: reclaimbench nightly --tree DIR [--ref REF] [--bench NAME]...");
	struct nightly_step ns = { 0 };
	struct bisect_args args;
	struct run_opts o = { 0 };
	struct variant_set set;
	struct variant v;
	struct built k;
	char *sha, *session, *t, *bad_sha = NULL;
	const char *accel;
	sqlite3 *db;
	int confirmed;

	if (!sane_ref(ref))
		die(EXIT_USAGE, "--ref '%s' is not a git ref (letters, digits and ._/-~^{}@ only, not starting with '-')",
		    ref);
	if (!tree || !(t = realpath(tree, NULL)) || !safe_path(t))
		die(EXIT_USAGE, "nightly needs --tree DIR of a git tree");
	tree = t;
	sha = commit_of(tree, "--ref", ref);
	bench_names_check(&nnames);
	guest_opts_get(&o);
	variants_load(one_variants_file(&o, "nightly"), &set);
	v = set.v[0];
	v.name = "nightly";
	v.source = xasprintf("git:%s@%s", tree, sha);
	v.patches = NULL, v.npatches = 0;
	variant_build(&v, &k);
	accel = accel_checked(accel_choose(&k, v.cmdline));
	on_interrupt_install();
	if (variant_session(&v, &k, accel, &o, &nnames, argc, argv, &session))
		return EXIT_INFRA;
	db = db_open(opt_db);
	for (int i = 0; i < nnames.n && !bench_stepped(db, session, nnames.v[i], &ns); i++)
		;
	for (int i = 0; i < nnames.n && !ns.prev_sha && !history_stepped(db, nnames.v[i], &ns, &bad_sha); i++)
		;
	db_close(db);
	if (!ns.prev_sha) {
		printf("nightly: %.12s stored; no key metric stepped against the previous nightly, nor over the "
		       "history\n", sha);
		return EXIT_OK;
	}
	if (bad_sha)
		return history_step_bisect(tree, &v, &o, &ns, bad_sha, argc, argv);
	if ((confirmed = step_confirmed(&v, &k, accel, &o, &ns, argc, argv)) <= 0)
		return confirmed < 0 ? EXIT_INFRA : EXIT_OK;
	args = (struct bisect_args){ tree, ns.prev_sha, sha, ns.bench, ns.metric };
	if (bisect_run(&args, argc, argv) != EXIT_OK)
		return EXIT_INFRA;
	return EXIT_VERDICT;
}
