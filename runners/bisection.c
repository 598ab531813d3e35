/* Bisection: find the commit that moved a metric.  The ends are measured
 * first; `git bisect run` then drives `reclaimbench bisect-step` in a bare
 * clone kept in the cache (the user's tree is only read).  Each step
 * builds (cached), boots, runs the benchmark, and calls the commit good or
 * bad by the verdict rules against each end (the nearer end's median when
 * both or neither); a commit that does not build or boot is skipped (125).
 * Steps are stored, so a bisection killed in the middle resumes where it
 * stopped. */
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

int safe_path(const char *s)
{
	return !strpbrk(s, "'\n");
}

/* A ref as git names one (a name, a hash, HEAD~2, v1^{commit}, @{u}): no
 * shell text, no leading '-' that git would read as an option. */
int sane_ref(const char *s)
{
	return *s && *s != '-' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-~^{}@") ==
		strlen(s) && strlen(s) < 256;
}

/* A ref checked, then resolved to a commit id by `git rev-parse --verify`;
 * exit 2 when it is not one. */
char *commit_of(const char *dir, const char *what, const char *ref)
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

/* A bisection under way: what it bisects (commits resolved), its state
 * in the cache and the database, and how its commits are booted. */
struct bisect_ctx {
	char *tree, *good, *bad, *key, *dir, *repo;
	const char *bench, *metric;
	struct opt_list names;	/* the benchmark, as a plan */
	long long id;
	struct run_opts o;
	struct variant_set set;
};

static void ctx_init(struct bisect_ctx *c, const struct bisect_args *a)
{
	char *k;

	if (!a->tree || !a->good || !a->bad || !a->bench || !a->metric)
		die(EXIT_USAGE, "bisect needs --tree, --good, --bad, --bench and --metric");
	if (!bench_find(a->bench))
		die(EXIT_USAGE, "unknown benchmark '%s'; see reclaimbench list benches", a->bench);
	metric_check(a->metric);
	if (!sane_ref(a->good) || !sane_ref(a->bad))
		die(EXIT_USAGE, "--good '%s' or --bad '%s' is not a git ref (letters, digits and ._/-~^{}@ only, "
		    "not starting with '-')", a->good, a->bad);
	if (!(c->tree = realpath(a->tree, NULL)) || !safe_path(c->tree))
		die(EXIT_USAGE, "tree '%s' does not exist (or holds a quote)", a->tree);
	c->good = commit_of(c->tree, "--good", a->good);
	c->bad = commit_of(c->tree, "--bad", a->bad);
	c->bench = a->bench, c->metric = a->metric;
	/* The git bisect state belongs to one database's bisection. */
	k = xasprintf("%s %s %s %s %s %s", c->tree, c->good, c->bad, c->bench, c->metric,
		      realpath(opt_db, NULL) ? realpath(opt_db, NULL) : opt_db);
	c->key = xasprintf("%016llx", (unsigned long long)fnv1a(k, strlen(k), 0));
	c->dir = xasprintf("%s/bisect/%s", cache_dir(), c->key);
	c->repo = xasprintf("%s/repo.git", c->dir);
	guest_opts_get(&c->o);
	variants_load(one_variants_file(&c->o, "bisect"), &c->set);
	if (!c->set.n)
		die(EXIT_USAGE, "'%s' holds no variant to take the config from", c->o.variants);
	c->names.n = 0;
	c->names.v[c->names.n++] = c->bench;
}

static long long bisection_row(sqlite3 *db, struct bisect_ctx *c)
{
	sqlite3_stmt *st;
	long long id = -1;
	char *now = now_iso();

	sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO bisections (key, tree, good, bad, bench, metric, started_at) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL);
	const char *v[] = { c->key, c->tree, c->good, c->bad, c->bench, c->metric, now };
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
	rc = variant_session(j->v, &k, accel_checked(accel_choose(&k, j->v->cmdline)), &j->c->o, &j->c->names, j->argc, j->argv,
			     &session);
	if (session && write(j->session_fd, session, strlen(session)) < 0)
		rc = EXIT_INFRA;
	fflush(NULL);
	_exit(rc ? 1 : 0);
}

/* Build and boot one commit; the median of the metric, NAN when the
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
	if ((*run = session_run(db, session, c->bench)) > 0)
		m = run_metric(db, *run, c->metric, AGG_MEDIAN);
	if (isnan(m)) {
		sqlite3_prepare_v2(db, "SELECT status, reason, console_log FROM runs WHERE session = ?1 AND bench = ?2 "
				       "ORDER BY id DESC LIMIT 1", -1, &st, NULL);
		sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->bench, -1, SQLITE_STATIC);
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
		*reason = !strcmp(status, "ok") ? xasprintf("commit %.12s has no value of %s", commit, c->metric)
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

/* good or bad for the runs of a commit, by the same verdict rules as
 * compare: like one end and unlike the other; NULL when both or neither
 * (borderline). */
static const char *decide(sqlite3 *db, struct bisect_ctx *c, const long long *runs, int n)
{
	long long g = step_run(db, c->id, c->good), b = step_run(db, c->id, c->bad);
	struct cmp_row rg, rb;
	int dg = runs_differ(db, &g, 1, runs, n, c->metric, &rg), db_ = runs_differ(db, &b, 1, runs, n, c->metric, &rb);

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
		if (!(fixed = decide(*db, c, runs, 1)) && metric_role(bench_find(c->bench), c->metric) == METRIC_TIMING) {
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
	progress("bisect: %.12s: %s = %g -> %s", commit, c->metric, *value, fixed);
	return fixed;
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
	if (!runs_differ(*db, &rg, 1, &rb, 1, c->metric, &r))
		die(EXIT_USAGE, "bisect: the ends do not differ in %s by the verdict rules: %g at %.12s, %g at "
		    "%.12s (ratio %.3f, p %.3g, %s); nothing to bisect", c->metric, r.ma, c->good, r.mb, c->bad,
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
			  (char *)c->bench, "--metric", (char *)c->metric, "--db", realpath(opt_db, NULL), "--out",
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
	printf("evidence: %s of %s: good end %.12s = %g, bad end %.12s = %g\n", c->metric, c->bench, c->good, g,
	       c->bad, b);
	id = xasprintf("%lld", c->id);
	db_print(stdout, db, "SELECT substr(commit_id, 1, 12) AS commit_id, decision, value, run_id, reason "
			     "FROM bisect_steps WHERE bisection_id = ?1 ORDER BY rowid", "text", id);
	free(id);
}

/* The whole bisection: both ends measured, then git bisect run to the
 * first bad commit, printed with its evidence and every step. */
int bisect_run(const struct bisect_args *a, int argc, char **argv)
{
	struct bisect_ctx c = { 0 };
	double g, b;
	char *first_bad, *argv_run[48];
	sqlite3 *db;
	int rc;

	db = db_open(opt_db);	/* first: the key holds the database's real path */
	ctx_init(&c, a);
	c.id = bisection_row(db, &c);
	bisection_set(db, c.id, "failed", "running", "");	/* resumed: an older failure's reason gone */
	progress("bisect %s..%s of %s on %s (state %s)", c.good, c.bad, c.metric, c.bench, c.dir);
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

/* One step, run by git bisect run: the decision for BISECT_HEAD, stored
 * or measured now. */
const char *bisect_step(const struct bisect_args *a, int argc, char **argv)
{
	struct bisect_ctx c = { 0 };
	const char *d;
	char *commit;
	double v, g, b;
	sqlite3 *db;

	ctx_init(&c, a);
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
	return d;
}
