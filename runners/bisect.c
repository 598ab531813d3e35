/* reclaimbench bisect: find the commit that moved a bmetric.  The ends are
 * measured first; `git bisect run` then drives `reclaimbench bisect-step`
 * in a bare clone kept in the cache (the user's tree is only read).  Each
 * step builds (cached), boots, runs the benchmark, and calls the commit
 * good or bad by which end's median it is nearer; a commit that does not
 * build or boot is skipped (125).  Steps are stored, so a bisection killed
 * in the middle resumes where it stopped. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

static const char *tree, *good_ref, *bad_ref, *bench, *bmetric;
static struct opt_list names;

static const struct opt bisect_opts[] = {
	{ "tree", OPT_STRING, &tree, 0, 0, "DIR", "the git tree (read only)" },
	{ "good", OPT_STRING, &good_ref, 0, 0, "REF", "a commit with the old behaviour" },
	{ "bad", OPT_STRING, &bad_ref, 0, 0, "REF", "a commit with the new behaviour" },
	{ "bench", OPT_STRING, &bench, 0, 0, "NAME", "the benchmark" },
	{ "metric", OPT_STRING, &bmetric, 0, 0, "NAME", "the metric that moved (e.g. time.wall, mthp.split_deferred)" },
	{ NULL }
};

/* The first line git prints for `git -C DIR ARGS...` (NULL-terminated),
 * or NULL when it fails or prints nothing.  An argv, never a shell. */
static char *git_out(const char *dir, ...)
{
	/* The tree's own config must not name a program for git to run. */
	char *argv[20] = { "git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-C", (char *)dir },
	     *out;
	int n = 7, st;
	va_list ap;

	va_start(ap, dir);
	while (n < 19 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	out = cmd_output(argv, 0, &st);
	out[strcspn(out, "\n")] = '\0';
	if (st || !out[0]) {
		free(out);
		return NULL;
	}
	return out;
}

static int safe_path(const char *s)
{
	return !strpbrk(s, "'\n");
}

/* A ref as git names one (a name, a hash, HEAD~2, v1^{commit}, @{u}): no
 * shell text, no leading '-' that git would read as an option. */
static int sane_ref(const char *s)
{
	return *s && *s != '-' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-~^{}@") ==
		strlen(s) && strlen(s) < 256;
}

/* A ref checked, then resolved to a commit id by `git rev-parse --verify`;
 * exit 2 when it is not one. */
static char *commit_of(const char *dir, const char *what, const char *ref)
{
	char *spec, *sha;

	if (!sane_ref(ref))
		die(EXIT_USAGE, "%s '%s' is not a git ref (letters, digits and ._/-~^{}@ only, not starting with '-')",
		    what, ref);
	spec = xasprintf("%s^{commit}", ref);
	sha = git_out(dir, "rev-parse", "-q", "--verify", spec, NULL);
	free(spec);
	if (!sha || strlen(sha) != 40 || strspn(sha, "0123456789abcdef") != 40)
		die(EXIT_USAGE, "%s '%s' is not a commit of the git tree '%s'", what, ref, dir);
	return sha;
}

/* A metric name goes into the git bisect run command line: a plain name. */
static void metric_check(const char *m)
{
	if (!*m || *m == '-' || strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(m))
		die(EXIT_USAGE, "metric '%s' is not a metric name (letters, digits and ._- only)", m);
}

struct bisect_ctx {
	char *tree, *good, *bad, *key, *dir, *repo;
	long long id;
	struct run_opts o;
	struct variant_set set;
};

static void ctx_init(struct bisect_ctx *c)
{
	char *k;

	if (!tree || !good_ref || !bad_ref || !bench || !bmetric)
		die(EXIT_USAGE, "bisect needs --tree, --good, --bad, --bench and --metric");
	if (!bench_find(bench))
		die(EXIT_USAGE, "unknown benchmark '%s'; see reclaimbench list benches", bench);
	metric_check(bmetric);
	if (!sane_ref(good_ref) || !sane_ref(bad_ref))
		die(EXIT_USAGE, "--good '%s' or --bad '%s' is not a git ref (letters, digits and ._/-~^{}@ only, "
		    "not starting with '-')", good_ref, bad_ref);
	if (!(c->tree = realpath(tree, NULL)) || !safe_path(c->tree))
		die(EXIT_USAGE, "tree '%s' does not exist (or holds a quote)", tree);
	c->good = commit_of(c->tree, "--good", good_ref);
	c->bad = commit_of(c->tree, "--bad", bad_ref);
	/* The git bisect state belongs to one database's bisection. */
	k = xasprintf("%s %s %s %s %s %s", c->tree, c->good, c->bad, bench, bmetric,
		      realpath(opt_db, NULL) ? realpath(opt_db, NULL) : opt_db);
	c->key = xasprintf("%016llx", (unsigned long long)fnv1a(k, strlen(k), 0));
	c->dir = xasprintf("%s/bisect/%s", cache_dir(), c->key);
	c->repo = xasprintf("%s/repo.git", c->dir);
	guest_opts_get(&c->o);
	variants_load(c->o.variants, &c->set);
	if (!c->set.n)
		die(EXIT_USAGE, "'%s' holds no variant to take the config from", c->o.variants);
	names.n = 0;
	names.v[names.n++] = bench;
}

static long long bisection_row(sqlite3 *db, struct bisect_ctx *c)
{
	sqlite3_stmt *st;
	long long id = -1;
	char *now = now_iso();

	sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO bisections (key, tree, good, bad, bench, metric, started_at) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL);
	const char *v[] = { c->key, c->tree, c->good, c->bad, bench, bmetric, now };
	for (int i = 0; i < 7; i++)
		sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db, "SELECT id FROM bisections WHERE key = ?1", -1, &st, NULL);
	sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	free(now);
	return id;
}

/* A stored step: its decision (and value), or NULL. */
static char *stored_step(sqlite3 *db, long long id, const char *commit, double *value)
{
	sqlite3_stmt *st;
	char *d = NULL;

	sqlite3_prepare_v2(db, "SELECT decision, value FROM bisect_steps WHERE bisection_id = ?1 AND commit_id = ?2",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, commit, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		d = xstrdup((const char *)sqlite3_column_text(st, 0));
		*value = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return d;
}

static void store_step(sqlite3 *db, long long id, const char *commit, long long run, double value,
		       const char *decision, const char *reason)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO bisect_steps (bisection_id, commit_id, run_id, value, decision, "
			       "reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, commit, -1, SQLITE_STATIC);
	if (run > 0)
		sqlite3_bind_int64(st, 3, run);
	if (!isnan(value))
		sqlite3_bind_double(st, 4, value);
	sqlite3_bind_text(st, 5, decision, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		die(EXIT_INFRA, "database: storing bisect step: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

/* The bisection's state and reason (where it is in state `from`, or
 * whatever its state when from is NULL). */
static void bisection_set(sqlite3 *db, long long id, const char *from, const char *status, const char *reason)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "UPDATE bisections SET status = ?2, reason = ?3 WHERE id = ?1 AND "
			       "(?4 IS NULL OR status = ?4)", -1, &st, NULL))
		return;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	if (from)
		sqlite3_bind_text(st, 4, from, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* A failure of the harness itself (a checkout, the cache, the disk, the
 * database, rb-bench, QEMU): not the commit's doing, so never a skip.
 * The bisection stops with exit 3 and the reason, stored with it. */
static void harness_failure(struct bisect_ctx *c, const char *commit, const char *why)
{
	char *msg = xasprintf("harness failure at %.12s: %s", commit, why && *why ? why : "no reason given");
	sqlite3 *db;

	if (sqlite3_open_v2(opt_db, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		bisection_set(db, c->id, NULL, "failed", msg);
	}
	sqlite3_close(db);
	die(EXIT_INFRA, "bisect: %s; the bisection stops (fix it, then run the same command to resume)", msg);
}

/* fn(arg) in a child whose stderr passes through and whose "error: "
 * lines are kept in errors (cut at cap); its exit status, or 128 + the
 * signal that ended it. */
static int captured(void (*fn)(void *), void *arg, char *errors, size_t cap)
{
	char buf[4096], line[1024];
	size_t used = 0, ll = 0;
	int p[2], st;
	ssize_t k;
	pid_t pid;

	errors[0] = '\0';
	fflush(NULL);
	if (pipe(p) || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		fn(arg);
		_exit(0);
	}
	close(p[1]);
	while ((k = read(p[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR)) {
		if (k > 0)
			(void)!write(2, buf, k);
		for (ssize_t i = 0; i < k; i++) {
			if (buf[i] != '\n' && ll < sizeof(line) - 1) {
				line[ll++] = buf[i];
				continue;
			}
			if (buf[i] != '\n')
				continue;
			line[ll] = '\0';
			ll = 0;
			if (!strncmp(line, "error: ", 7) && used + strlen(line) + 2 < cap)
				used += sprintf(errors + used, "%s%s", used ? "; " : "", line + 7);
		}
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Whether a failed build was the commit's doing: its tree does not
 * configure or compile (make's own failure, or the sandbox's process
 * limit), its Kconfig drops an option, or its build outgrows the build's
 * time or disk limit.  Anything else (a checkout, the source cache, the
 * sandbox itself, the host's free disk) is the harness's. */
static int commits_build_failure(const char *why)
{
	const char *d = strstr(why, "sandbox: stopped: disk limit: the writable folders grew by ");
	long grew, limit;

	if (strstr(why, "in the sandbox failed") && (strstr(why, "compile failed") || strstr(why, "configuration failed")))
		return 1;
	if (strstr(why, "config options did not survive olddefconfig") || strstr(why, "sandbox: stopped: time limit"))
		return 1;
	return d && sscanf(d, "sandbox: stopped: disk limit: the writable folders grew by %ld MB (limit %ld MB)",
			   &grew, &limit) == 2 && grew > limit;
}

/* Whether a boot that stored no value was the commit's doing: the guest
 * ran (its console has text) or was stopped for what it did (panic, hang,
 * OOM, a flood of output).  A guest that never started is the harness's. */
static int commits_boot_failure(const char *reason, const char *console)
{
	struct stat st;

	if (reason && (strstr(reason, "kernel panic") || strstr(reason, "timed out") ||
		       strstr(reason, "OOM kill") || strstr(reason, "passed")))
		return 1;
	return console && stat(console, &st) == 0 && st.st_size > 0;
}

struct measure_job {
	struct variant *v;
	struct bisect_ctx *c;
	int argc;
	char **argv;
	int session_fd;		/* the boot writes its session's name here */
};

static void build_job(void *arg)
{
	struct measure_job *j = arg;
	struct built k;

	variant_build(j->v, &k);
}

/* The cached build and its boot, in a child: a die() in the boot (the
 * log folder, the database, rb-bench, QEMU) ends the child, not us. */
static void boot_job(void *arg)
{
	struct measure_job *j = arg;
	struct built k;
	char *session = NULL;
	int rc;

	variant_build(j->v, &k);	/* cached now: fills k */
	rc = variant_session(j->v, &k, accel_choose(&k, j->v->cmdline), &j->c->o, &names, j->argc, j->argv,
			     &session);
	if (session && write(j->session_fd, session, strlen(session)) < 0)
		rc = EXIT_INFRA;
	fflush(NULL);
	_exit(rc ? 1 : 0);
}

/* Build and boot one commit; the median of the bmetric, NAN when the
 * commit could not be measured (reason says why: a skip), run id in
 * *run.  A failure of the harness stops the bisection (exit 3). */
static double measure(struct bisect_ctx *c, const char *commit, long long *run, char **reason, int argc, char **argv)
{
	struct variant v = c->set.v[0];
	struct measure_job j = { &v, c, argc, argv, -1 };
	char errors[2048], session[256] = "", *status = NULL, *why = NULL, *console = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	double m = NAN;
	int p[2], rc;
	ssize_t k;

	v.name = xasprintf("bisect-%.12s", commit);
	v.source = xasprintf("git:%s@%s", c->tree, commit);
	v.patches = NULL, v.npatches = 0;
	*run = -1;
	/* variant_build exits on failure: it runs in a child, its errors kept
	 * to tell the commit's failure from the harness's. */
	if ((rc = captured(build_job, &j, errors, sizeof(errors)))) {
		if (!commits_build_failure(errors))
			harness_failure(c, commit, errors[0] ? errors : "the build ended without a reason");
		*reason = xasprintf("commit %.12s does not build: %s", commit, errors);
		return NAN;
	}
	if (pipe(p))
		harness_failure(c, commit, "pipe failed");
	j.session_fd = p[1];
	rc = captured(boot_job, &j, errors, sizeof(errors));
	close(p[1]);
	k = read(p[0], session, sizeof(session) - 1);
	session[k > 0 ? k : 0] = '\0';
	close(p[0]);
	if (rc > 1 || !session[0])
		harness_failure(c, commit, errors[0] ? errors : "the boot ended without a reason");
	db = db_open(opt_db);
	if ((*run = session_run(db, session, bench)) > 0)
		m = run_metric(db, *run, bmetric, AGG_MEDIAN);
	if (isnan(m)) {
		sqlite3_prepare_v2(db, "SELECT status, reason, console_log FROM runs WHERE session = ?1 AND bench = ?2 "
				       "ORDER BY id DESC LIMIT 1", -1, &st, NULL);
		sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, bench, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			status = xstrdup((const char *)sqlite3_column_text(st, 0));
			why = xstrdup((const char *)sqlite3_column_text(st, 1));
			console = xstrdup((const char *)sqlite3_column_text(st, 2));
		}
		sqlite3_finalize(st);
	}
	db_close(db);
	if (isnan(m) && !status)
		harness_failure(c, commit, errors[0] ? errors : "the boot's results were not stored");
	if (isnan(m) && strcmp(status, "ok") && strcmp(status, "skip") && !commits_boot_failure(why, console))
		harness_failure(c, commit, errors[0] ? errors : why);
	if (isnan(m))
		*reason = !strcmp(status, "ok") ? xasprintf("commit %.12s has no value of %s", commit, bmetric)
						: xasprintf("commit %.12s did not boot or run cleanly: %s: %s", commit,
							    status, why);
	free(status), free(why), free(console);
	return m;
}

/* The run a stored step measured, or -1. */
static long long step_run(sqlite3 *db, long long id, const char *commit)
{
	sqlite3_stmt *st;
	long long run = -1;

	sqlite3_prepare_v2(db, "SELECT run_id FROM bisect_steps WHERE bisection_id = ?1 AND commit_id = ?2 AND "
			       "run_id IS NOT NULL", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, commit, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		run = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return run;
}

/* Whether the verdict rules call a and b different in the metric. */
static int differs(sqlite3 *db, const long long *a, int na, const long long *b, int nb, struct cmp_row *r)
{
	compare_sets(db, a, na, b, nb, bmetric, -1, r);
	return !strcmp(r->verdict, "faster") || !strcmp(r->verdict, "slower") || !strcmp(r->verdict, "changed") ||
	       !strcmp(r->verdict, "CHANGED");
}

/* good or bad for the runs of a commit, by the same verdict rules as
 * compare: like one end and unlike the other; NULL when both or neither
 * (borderline). */
static const char *decide(sqlite3 *db, struct bisect_ctx *c, const long long *runs, int n)
{
	long long g = step_run(db, c->id, c->good), b = step_run(db, c->id, c->bad);
	struct cmp_row rg, rb;
	int dg = differs(db, &g, 1, runs, n, &rg), db_ = differs(db, &b, 1, runs, n, &rb);

	return dg && !db_ ? "bad" : db_ && !dg ? "good" : NULL;
}

/* The decision for a commit: stored, or measured now and stored. */
static const char *step(struct bisect_ctx *c, sqlite3 **db, const char *commit, const char *fixed, double *value,
			int argc, char **argv)
{
	char *d = stored_step(*db, c->id, commit, value), *reason = NULL;
	double g = NAN, b = NAN;
	long long run;

	if (d) {
		progress("bisect: %.12s already measured: %s (%g)", commit, d, *value);
		return d;
	}
	db_close(*db);
	*value = measure(c, commit, &run, &reason, argc, argv);
	*db = db_open(opt_db);
	if (isnan(*value)) {
		store_step(*db, c->id, commit, run, NAN, "skip", reason);
		return "skip";
	}
	if (!fixed) {
		long long runs[2] = { run, -1 };

		free(stored_step(*db, c->id, c->good, &g));
		free(stored_step(*db, c->id, c->bad, &b));
		if (isnan(g) || isnan(b))
			die(EXIT_INFRA, "the ends of the bisection are not measured");
		if (!(fixed = decide(*db, c, runs, 1)) && metric_role(bench_find(bench), bmetric) == METRIC_TIMING) {
			/* Borderline: measure again, judge both boots together. */
			progress("bisect: %.12s is borderline; measuring it again", commit);
			db_close(*db);
			measure(c, commit, &runs[1], &reason, argc, argv);
			*db = db_open(opt_db);
			if (runs[1] > 0)
				fixed = decide(*db, c, runs, 2);
		}
		if (!fixed)	/* still both or neither: the nearer end */
			fixed = fabs(*value - b) < fabs(*value - g) ? "bad" : "good";
	}
	store_step(*db, c->id, commit, run, *value, fixed, "");
	progress("bisect: %.12s: %s = %g -> %s", commit, bmetric, *value, fixed);
	return fixed;
}

int cmd_bisect_step(int argc, char **argv)
{
	/* Not parse_args: inside git bisect run, a status of 2 would mean "bad". */
	const struct opt *const tables[] = { bisect_opts, guest_opts, bench_params, NULL };
	int first = opts_parse(tables, argc, argv, 1, "usage: (run by git bisect) reclaimbench bisect-step ...");
	struct bisect_ctx c = { 0 };
	const char *d;
	char *commit;
	double v, g, b;
	sqlite3 *db;
	pid_t pid;
	int st;

	if (first < 0)
		return 128;	/* bad usage ends git bisect run */
	/* git bisect run exports GIT_DIR=. for its own repository; the
	 * trees we read and build are others. */
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	/* Any failure of ours (die exits 2 or 3) would read as "bad" to git:
	 * the step runs in a child and only 0, 1 and 125 pass through. */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		ctx_init(&c);
		if (!(commit = git_out(c.repo, "rev-parse", "BISECT_HEAD", NULL)))
			die(EXIT_INFRA, "no BISECT_HEAD in '%s'", c.repo);
		db = db_open(opt_db);
		c.id = bisection_row(db, &c);
		g = b = NAN;
		free(stored_step(db, c.id, c.good, &g));
		free(stored_step(db, c.id, c.bad, &b));
		if (isnan(g) || isnan(b))
			die(EXIT_INFRA, "the ends of the bisection are not measured; run reclaimbench bisect");
		d = step(&c, &db, commit, NULL, &v, argc, argv);
		db_close(db);
		_exit(!strcmp(d, "good") ? 0 : !strcmp(d, "bad") ? 1 : 125);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	if (WIFEXITED(st) && (WEXITSTATUS(st) <= 1 || WEXITSTATUS(st) == 125))
		return WEXITSTATUS(st);
	fprintf(stderr, "error: bisect step failed (status %d); stopping the bisection\n",
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 128;
}

/* Both ends measured (or found measured) and called good and bad, and
 * different by the verdict rules; their values in g and b. */
static void ends_measured(struct bisect_ctx *c, sqlite3 **db, double *g, double *b, int argc, char **argv)
{
	long long rg, rb;
	struct cmp_row r;

	if (strcmp(step(c, db, c->good, "good", g, argc, argv), "good") ||
	    strcmp(step(c, db, c->bad, "bad", b, argc, argv), "bad")) {
		bisection_set(*db, c->id, NULL, "failed", "an end could not be measured");
		die(EXIT_INFRA, "bisect: the good or the bad end could not be measured; see reclaimbench list runs");
	}
	rg = step_run(*db, c->id, c->good), rb = step_run(*db, c->id, c->bad);
	if (!differs(*db, &rg, 1, &rb, 1, &r))
		die(EXIT_USAGE, "bisect: the ends do not differ in %s by the verdict rules: %g at %.12s, %g at "
		    "%.12s (ratio %.3f, p %.3g, %s); nothing to bisect", bmetric, r.ma, c->good, r.mb, c->bad,
		    r.ratio, r.p, r.verdict);
}

/* The bare clone in the cache with git's bisection started in it, or
 * resumed: a bisection killed while git updated its state leaves lock
 * files (refs/bisect/...lock, index.lock) in the clone; only this
 * bisection (its key) uses the clone, so on a resume they are leftovers. */
static void clone_ready(struct bisect_ctx *c)
{
	if (!access(c->repo, F_OK)) {
		char *find[] = { "find", c->repo, "-name", "*.lock", "-type", "f", "-print", "-delete", NULL };
		char *log = xasprintf("%s/stale-locks.log", c->dir);

		if (run_cmd(find, log) == 0)
			progress("bisect: stale git locks of a killed bisection removed (list: %s)", log);
		free(log);
	}
	if (access(c->repo, F_OK)) {
		char *clone[] = { "git", "clone", "-q", "--bare", "--", c->tree, c->repo, NULL };

		mkdirs(c->dir);
		if (run_cmd(clone, NULL))
			die(EXIT_INFRA, "cannot clone '%s' into '%s'", c->tree, c->repo);
	}
	if (!git_out(c->repo, "rev-parse", "-q", "--verify", "BISECT_HEAD", NULL)) {
		char *start[] = { "git", "-C", c->repo, "bisect", "start", "--no-checkout", c->bad, c->good, NULL };
		char *log = xasprintf("%s/bisect-start.log", c->dir);

		if (run_cmd(start, log))
			die(EXIT_INFRA, "git bisect start failed in '%s'; see %s", c->repo, log);
		free(log);
	} else {
		progress("bisect: resuming the bisection in %s", c->repo);
	}
}

/* `git bisect run` calling us back for every commit it picks, in the
 * repository: every path absolute, every value our own or checked (git
 * quotes each argument for its shell).  argv holds 48. */
static void bisect_run_argv(struct bisect_ctx *c, char **argv)
{
	int n = 0;

	mkdirs(c->o.out);
	if (!safe_path(c->o.out) || !safe_path(c->o.variants) || !safe_path(opt_db))
		die(EXIT_USAGE, "a path of the bisection holds a quote or a newline; rename it");
	char *fixed[] = { "git", "-C", c->repo, "bisect", "run", xasprintf("%s/reclaimbench", self_dir()),
			  "bisect-step", "--tree", c->tree, "--good", c->good, "--bad", c->bad, "--bench",
			  (char *)bench, "--metric", (char *)bmetric, "--db", realpath(opt_db, NULL), "--out",
			  realpath(c->o.out, NULL), "--variants", realpath(c->o.variants, NULL), "--guest-mem-mb",
			  xasprintf("%d", c->o.mem_mb), "--guest-cpus", xasprintf("%d", c->o.cpus), "--timeout",
			  xasprintf("%d", c->o.timeout_s), NULL };

	for (; fixed[n]; n++)
		argv[n] = fixed[n];
	for (const struct opt *o = bench_params; o->name && n < 46; o++)
		argv[n++] = xasprintf("--%s=%lu", o->name, *(unsigned long *)o->value);
	argv[n] = NULL;
}

/* git bisect run ended without a first bad commit: the reason a step
 * stored when it met a failure of the harness, or git's failure. */
static void __attribute__((noreturn)) bisect_run_failed(struct bisect_ctx *c, sqlite3 *db, int rc)
{
	char *why = NULL;
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "SELECT reason FROM bisections WHERE id = ?1 AND status = 'failed'", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, c->id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		why = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (why)
		die(EXIT_INFRA, "bisect: %s; the bisection stops (fix it, then run the same command to resume)", why);
	bisection_set(db, c->id, NULL, "failed", "git bisect run failed");
	die(EXIT_INFRA, "bisect: git bisect run did not finish (%d); run the same command to resume", rc);
}

/* The first bad commit stored and shown with the ends and every step. */
static void bisection_found(struct bisect_ctx *c, sqlite3 *db, const char *first_bad, double g, double b)
{
	char *subject = git_out(c->repo, "log", "-1", "--format=%s", first_bad, NULL), *id;
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "UPDATE bisections SET status = 'found', first_bad = ?2 WHERE id = ?1", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_text(st, 2, first_bad, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	printf("first bad commit: %s %s\n", shown(first_bad), shown(subject));
	printf("evidence: %s of %s: good end %.12s = %g, bad end %.12s = %g\n", bmetric, bench, c->good, g, c->bad, b);
	id = xasprintf("%lld", c->id);
	db_print(stdout, db, "SELECT substr(commit_id, 1, 12) AS commit_id, decision, value, run_id, reason "
			     "FROM bisect_steps WHERE bisection_id = ?1 ORDER BY rowid", "text", id);
	free(id);
}

/* The bisection named by the globals; the step command line is built from
 * them, so nightly can start one too. */
static int bisect_run(int argc, char **argv)
{
	struct bisect_ctx c = { 0 };
	double g, b;
	char *first_bad, *argv_run[48];
	sqlite3 *db;
	int rc;

	db = db_open(opt_db);	/* first: the key holds the database's real path */
	ctx_init(&c);
	c.id = bisection_row(db, &c);
	bisection_set(db, c.id, "failed", "running", "");	/* resumed: an older failure's reason gone */
	progress("bisect %s..%s of %s on %s (state %s)", c.good, c.bad, bmetric, bench, c.dir);
	on_interrupt_install();
	ends_measured(&c, &db, &g, &b, argc, argv);
	db_close(db);
	clone_ready(&c);
	bisect_run_argv(&c, argv_run);
	rc = run_cmd(argv_run, NULL);
	first_bad = git_out(c.repo, "rev-parse", "-q", "--verify", "refs/bisect/bad", NULL);
	db = db_open(opt_db);
	if (rc || !first_bad)
		bisect_run_failed(&c, db, rc);
	bisection_found(&c, db, first_bad, g, b);
	db_close(db);
	return EXIT_OK;
}

int cmd_bisect(int argc, char **argv)
{
	const struct opt *const tables[] = { bisect_opts, guest_opts, bench_params, NULL };
	parse_options(tables, argc, argv,
			       "usage: reclaimbench bisect --tree DIR --good REF --bad REF --bench NAME --metric NAME\n\n"
			       "Finds the first commit whose METRIC is nearer the bad end's than the good end's,\n"
			       "with git bisect run; every step is stored, and the same command resumes.");

	return bisect_run(argc, argv);
}

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
 * boots judged together against the previous nightly.  1 confirmed, 0
 * not, -1 when the boot failed. */
static int step_confirmed(const struct variant *v, const struct built *k, const char *accel,
			  const struct run_opts *o, const struct nightly_step *ns, int argc, char **argv)
{
	struct opt_list one = { .n = 1, .v = { ns->bench } };
	long long runs[2] = { ns->now, -1 }, before = ns->before;
	struct cmp_row r;
	char *session;
	sqlite3 *db;

	progress("nightly: confirming the step of %s %s with a second boot", ns->bench, ns->metric);
	if (variant_session(v, k, accel, o, &one, argc, argv, &session))
		return -1;
	db = db_open(opt_db);
	runs[1] = session_run(db, session, ns->bench);
	if (runs[1] < 0 || !differs(db, &before, 1, runs, 2, &r)) {
		printf("nightly: the step of %s %s was not confirmed by a second boot (%s); no bisection\n",
		       ns->bench, ns->metric, runs[1] < 0 ? "it did not run" : r.verdict);
		db_close(db);
		return 0;
	}
	printf("nightly: confirmed: %g -> %g (%s, p %.3g)\n", r.ma, r.mb, r.verdict, r.p);
	db_close(db);
	return 1;
}

/* reclaimbench nightly: the suite on a tree's newest commit, kept as the
 * history of the "nightly" kernel; when a key metric stepped against the
 * previous nightly, the bisection between the two starts by itself. */
int cmd_nightly(int argc, char **argv)
{
	static const char *ref = "HEAD";
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
	struct run_opts o = { 0 };
	struct variant_set set;
	struct variant v;
	struct built k;
	char *sha, *session, *t;
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
	variants_load(o.variants, &set);
	v = set.v[0];
	v.name = "nightly";
	v.source = xasprintf("git:%s@%s", tree, sha);
	v.patches = NULL, v.npatches = 0;
	variant_build(&v, &k);
	accel = accel_choose(&k, v.cmdline);
	on_interrupt_install();
	if (variant_session(&v, &k, accel, &o, &nnames, argc, argv, &session))
		return EXIT_INFRA;
	db = db_open(opt_db);
	for (int i = 0; i < nnames.n && !bench_stepped(db, session, nnames.v[i], &ns); i++)
		;
	db_close(db);
	if (!ns.prev_sha) {
		printf("nightly: %.12s stored; no key metric stepped against the previous nightly\n", sha);
		return EXIT_OK;
	}
	bench = ns.bench, bmetric = ns.metric;	/* the bisection's, if confirmed */
	if ((confirmed = step_confirmed(&v, &k, accel, &o, &ns, argc, argv)) <= 0)
		return confirmed < 0 ? EXIT_INFRA : EXIT_OK;
	good_ref = ns.prev_sha;
	bad_ref = sha;
	if (bisect_run(argc, argv) != EXIT_OK)
		return EXIT_INFRA;
	return EXIT_VERDICT;
}
