/* A plan: the work of run, gate, bisect and nightly as a graph of jobs.
 * A source job makes a kernel source ready, a build job builds one variant
 * (found in the cache when its build id was built before), a boot job boots
 * a group of benchmarks on a built kernel.  Each job is `reclaimbench job
 * DIR`: its inputs in DIR/argv, its outputs in DIR/result and its log
 * (job.c).  An executor runs the jobs: on this machine as soon as their
 * inputs are ready (local.c), or through Slurm (slurm.c).  This process
 * alone writes the database: it stores each boot's records as the boot
 * ends, one transaction per run.
 *
 * The plan's folder in the spool is named by a hash of everything that
 * decides its results.  A plan stopped anywhere (a kill, a cancelled Slurm
 * job, a failed boot) resumes when the same command runs again: boots
 * already stored are not run again and builds are found in the cache.  A
 * plan that ended with every job done is removed, so the next run of the
 * command measures anew. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

volatile sig_atomic_t interrupted;
const char *cost_note;

static const char *const kind_names[] = { "source", "build", "boot" };

/* ---- Job files ---------------------------------------------------------- */

char *result_get(const char *dir, const char *key)
{
	char *path = xasprintf("%s/result", dir), *text = read_file(path, NULL), *val = NULL;
	size_t kl = strlen(key);

	for (char *l = text; l && *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0')) {
		if (!strncmp(l, key, kl) && l[kl] == '=') {
			val = xasprintf("%.*s", (int)strcspn(l + kl + 1, "\n"), l + kl + 1);
			break;
		}
	}
	free(text), free(path);
	return val;
}

/* The "error: " lines of a job's log (the build's or boot's own words),
 * each shown on our stderr where the user looks, and returned joined,
 * cut and with control bytes made '?': the reason a failed job gives. */
static char *log_errors(const struct job *j)
{
	char *path = xasprintf("%s/log", j->dir), *text = read_file(path, NULL), *out = NULL;
	int n = 0;

	for (char *l = text; l && *l && n < 20; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0')) {
		int len = strcspn(l + 7, "\n");
		char *t;

		if (strncmp(l, "error: ", 7))
			continue;
		error("%.*s", len, l + 7);
		n++;
		if (out && strlen(out) > 400)
			continue;
		t = xasprintf("%s%s%.*s", out ? out : "", out ? "; " : "", len, l + 7);
		free(out);
		out = t;
	}
	if (out) {
		out[strlen(out) > 400 ? 400 : strlen(out)] = '\0';
		for (char *c = out; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
	free(text), free(path);
	return out;
}

/* The job's arguments, NUL-separated, in DIR/argv. */
static void argv_write(const struct job *j, char *const *args, int n)
{
	char *path = xasprintf("%s/argv", j->dir);
	FILE *f;

	if (mkdirs(j->dir))
		die(EXIT_INFRA, "cannot make the job folder '%s': %s", j->dir, strerror(errno));
	if (!(f = fopen(path, "we")))
		die(EXIT_INFRA, "cannot write '%s': %s", path, strerror(errno));
	for (int i = 0; i < n; i++)
		fwrite(args[i], 1, strlen(args[i]) + 1, f);
	if (fclose(f))
		die(EXIT_INFRA, "cannot write '%s': %s", path, strerror(errno));
	free(path);
}

/* ---- The graph ---------------------------------------------------------- */

static char *abs_path(const char *path)
{
	char *r = realpath(path, NULL);

	if (!r)
		die(EXIT_USAGE, "cannot find '%s': %s", path, strerror(errno));
	return r;
}

static struct job *job_add(struct plan *p, enum job_kind kind, char *name, char *label)
{
	struct job *j;

	if (p->njobs == p->cap)
		p->jobs = realloc(p->jobs, (p->cap = p->cap * 2 + 16) * sizeof(*p->jobs));
	j = &p->jobs[p->njobs++];
	memset(j, 0, sizeof(*j));
	j->kind = kind, j->name = name, j->label = label, j->alone = -1, j->item = -1;
	j->dir = xasprintf("%s/%s", p->dir, name);
	return j;
}

static void dep_add(struct job *j, int dep)
{
	if (dep >= 0 && j->ndeps < JOB_DEPS_MAX)
		j->deps[j->ndeps++] = dep;
}

/* The median wall time of the last jobs like this one, 0 when unknown. */
static double estimate(sqlite3 *db, const struct job *j)
{
	sqlite3_stmt *st;
	double v[5];
	int n = 0;

	if (sqlite3_prepare_v2(db, "SELECT wall_s FROM jobs WHERE kind = ?1 AND label = ?2 AND accel = ?3 AND "
			       "status = 'ok' ORDER BY id DESC LIMIT 5", -1, &st, NULL))
		return 0;
	sqlite3_bind_text(st, 1, kind_names[j->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, j->label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->accel ? j->accel : "", -1, SQLITE_STATIC);
	while (n < 5 && sqlite3_step(st) == SQLITE_ROW)
		v[n++] = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return n ? median(v, n) : 0;
}

static void estimates(struct plan *p, int from)
{
	sqlite3 *db = db_open(opt_db);

	for (int i = from; i < p->njobs; i++)
		p->jobs[i].est_s = estimate(db, &p->jobs[i]);
	db_close(db);
}

/* Source and build jobs: one source job per distinct source, one build
 * job per item, builds of one source in a chain (they share one
 * incremental build folder, which one build at a time may use). */
static void graph_builds(struct plan *p)
{
	int *last = calloc(p->nitems + 1, sizeof(int));

	for (int i = 0; i < p->nitems; i++) {
		const struct variant *v = p->items[i].v;
		int src = -1, prev = -1;
		struct job *j;
		char *args[256];
		int n = 0;

		for (int k = 0; k < p->njobs && src < 0; k++)
			if (p->jobs[k].kind == JOB_SOURCE && !strcmp(p->jobs[k].label, v->source))
				src = k;
		if (src < 0) {
			char *a[] = { "source", v->source };

			j = job_add(p, JOB_SOURCE, xasprintf("source-%d", p->njobs), xstrdup(v->source));
			argv_write(j, a, 2);
			src = p->njobs - 1;
		}
		for (int k = 0; k < i; k++)
			if (!strcmp(p->items[k].v->source, v->source))
				prev = last[k];
		j = job_add(p, JOB_BUILD, xasprintf("build-%d", i), xstrdup(v->name));
		j->item = i;
		dep_add(j, src);
		dep_add(j, prev);
		last[i] = p->njobs - 1;
		args[n++] = "build", args[n++] = v->name, args[n++] = v->source, args[n++] = (char *)variant_arch(v);
		args[n++] = v->cmdline;
		args[n++] = xasprintf("%d", v->nconfigs);
		for (int c = 0; c < v->nconfigs && n < 120; c++)
			args[n++] = abs_path(v->configs[c]);
		args[n++] = xasprintf("%d", v->npatches);
		for (int c = 0; c < v->npatches && n < 250; c++)
			args[n++] = abs_path(v->patches[c]);
		argv_write(j, args, n);
	}
	free(last);
}

/* Where a benchmark runs under accel.  Under TCG the host's load reaches
 * the guest's clock, so a benchmark is timed by QEMU's instruction counter
 * (timings become counts of guest instructions); that runs vCPUs in turns,
 * so benchmarks that need CPUs at once (parallel) keep the host's clock,
 * as does --host-clock. */
static const char *bench_clock(const char *name, const char *accel, const struct run_opts *o)
{
	if (strcmp(accel, "tcg") || o->host_clock || bench_find(name)->parallel)
		return accel;
	return ACCEL_ICOUNT;
}

/* vCPUs of a boot.  Instruction-clock boots get one, or --mm-cpus (each
 * benchmark's process then runs on every one of them before its window);
 * host-clock boots --guest-cpus, at least as many. */
static int boot_cpus(const char *where, const struct run_opts *o)
{
	int live = (int)params.mm_cpus;

	if (!strcmp(where, ACCEL_ICOUNT))
		return live;
	return o->cpus > live ? o->cpus : live;
}

/* The accelerator of an item: the plan's, or TCG for a kernel of another
 * architecture than the host's (KVM runs only the host's own). */
static const char *item_accel(const struct plan *p, const struct plan_item *it)
{
	return arch_native(variant_arch(it->v)) ? p->accel : "tcg";
}

/* Whether a benchmark of an instruction-clock boot goes to a boot of its
 * own: the programs packed into the guest (the mm selftests) need memory
 * no benchmark has fragmented, and leave it fragmented (method page). */
static int own_boot(const char *name, const char *clock)
{
	return bench_find(name)->packed && !strcmp(clock, ACCEL_ICOUNT);
}

/* Boot jobs, once the accelerator is known: per round, per item, one
 * boot per clock its benchmarks need, and one for the packed programs.
 * Rounds go in turns (a gate boots base and patched alternately). */
static void graph_boots(struct plan *p)
{
	int rounds = 0;

	for (int i = 0; i < p->nitems; i++)
		if (p->items[i].rounds > rounds)
			rounds = p->items[i].rounds;
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < p->nitems; i++)
			for (int w = 0; w < 3 && r < p->items[i].rounds; w++) {
				struct plan_item *it = &p->items[i];
				const char *where[3] = { ACCEL_ICOUNT, item_accel(p, it), ACCEL_ICOUNT };
				const char *tag = w == 2 ? "-packed" : "";
				struct opt_list g = { .n = 0 };
				int build = -1;
				struct job *j;
				char *args[128];
				int n = 0;

				for (int b = 0; b < p->names->n; b++) {
					const char *clock = bench_clock(p->names->v[b], where[1], p->o);

					if (!strcmp(clock, where[w]) && own_boot(p->names->v[b], clock) == (w == 2))
						g.v[g.n++] = p->names->v[b];
				}
				if (!g.n || (w == 1 && !strcmp(where[0], where[1])))
					continue;
				for (int k = 0; k < p->njobs; k++)
					if (p->jobs[k].kind == JOB_BUILD && p->jobs[k].item == i)
						build = k;
				j = job_add(p, JOB_BOOT, xasprintf("boot-%d-%d-%s%s", i, r, where[w], tag),
					    xstrdup(it->v->name));
				j->item = i, j->round = r, j->accel = where[w], j->group = g;
				j->cpus = boot_cpus(where[w], p->o);
				j->exclusive = strcmp(where[w], ACCEL_ICOUNT) != 0;
				dep_add(j, build);	/* first: the kernel it boots */
				for (int k = 0; p->boots_after_builds && k < p->njobs; k++)
					if (p->jobs[k].kind == JOB_BUILD && k != build)
						dep_add(j, k);
				args[n++] = "boot", args[n++] = p->jobs[build].dir, args[n++] = it->v->cmdline;
				j->logdir = xasprintf("%s/logs/%s-%s%s", p->o->out, it->sessions[r], where[w], tag);
				args[n++] = j->logdir;
				args[n++] = (char *)where[w];
				args[n++] = xasprintf("%d", p->o->mem_mb);
				args[n++] = xasprintf("%d", j->cpus);
				args[n++] = xasprintf("%d", p->o->timeout_s);
				for (const struct opt *o = bench_params; o->name && n < 100; o++)
					args[n++] = xasprintf("--%s=%lu", o->name, *(unsigned long *)o->value);
				for (int b = 0; b < g.n; b++)
					if (!strcmp(g.v[b], "selftests"))
						args[n++] = xasprintf("--selftests=%s", p->o->selftests ? p->o->selftests
													 : "default");
				for (int b = 0; b < g.n; b++)
					args[n++] = (char *)g.v[b];
				argv_write(j, args, n);
			}
}

/* The plan's key: everything that decides its results. */
static uint64_t plan_key(const struct plan *p)
{
	extern char **environ;
	uint64_t h = fnv1a(p->what, strlen(p->what) + 1, 0);
	char *s = xasprintf("%s|%s|%d|%d|%d|%d|%s", opt_db, p->o->out, p->o->mem_mb, p->o->cpus, p->o->timeout_s,
			    p->o->host_clock, p->accel ? p->accel : "");

	h = fnv1a(s, strlen(s) + 1, h);
	free(s);
	for (int i = 0; i < p->nitems; i++) {
		const struct variant *v = p->items[i].v;
		char *files[256];
		int n = 0;

		s = xasprintf("%s|%s|%s|%s|%d", v->name, v->source, variant_arch(v), v->cmdline, p->items[i].rounds);
		h = fnv1a(s, strlen(s) + 1, h);
		free(s);
		for (int c = 0; c < v->nconfigs && n < 128; c++)
			files[n++] = v->configs[c];
		for (int c = 0; c < v->npatches && n < 256; c++)
			files[n++] = v->patches[c];
		for (int f = 0; f < n; f++) {
			size_t len = 0;
			char *text = read_file(files[f], &len);

			h = fnv1a(text ? text : "", text ? len : 0, h);
			free(text);
		}
	}
	for (int b = 0; b < p->names->n; b++)
		h = fnv1a(p->names->v[b], strlen(p->names->v[b]) + 1, h);
	for (const struct opt *o = bench_params; o->name; o++)
		h = fnv1a(o->value, sizeof(unsigned long), h);
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "RB_TEST_", 8))
			h = fnv1a(*e, strlen(*e) + 1, h);
	return h;
}

/* The plan's folder, locked for this process; made new, or resumed. */
static void plan_open(struct plan *p)
{
	const char *spool = p->o->spool ? p->o->spool : xasprintf("%s/spool", cache_dir());
	char *lock, *idf, *id;
	int fd;

	if (mkdirs(spool))
		die(EXIT_USAGE, "cannot make the spool folder '%s': %s; pass --spool DIR", spool, strerror(errno));
	spool = abs_path(spool);
	if (strpbrk(spool, " \t\n'\"\\"))
		die(EXIT_USAGE, "the spool folder '%s' holds white space or quotes; choose a plain folder name", spool);
	p->dir = xasprintf("%s/%s-%016llx", spool, p->what, (unsigned long long)plan_key(p));
	if (mkdirs(p->dir))
		die(EXIT_INFRA, "cannot make '%s': %s", p->dir, strerror(errno));
	lock = xasprintf("%s/lock", p->dir);
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB))
		die(EXIT_INFRA, "the same %s is running in another process (plan '%s'); wait for it to end", p->what,
		    p->dir);
	/* fd stays open: the lock lasts as long as this process. */
	idf = xasprintf("%s/id", p->dir);
	if ((id = read_file(idf, NULL)) && *id) {
		id[strcspn(id, "\n")] = '\0';
		progress("resuming %s (plan %s, started as %s): stored boots are not run again", p->what, p->dir, id);
	} else {
		FILE *f = fopen(idf, "we");

		free(id);
		id = xasprintf("%ld-%d", (long)time(NULL), getpid());
		if (!f || fprintf(f, "%s\n", id) < 0 || fclose(f))
			die(EXIT_INFRA, "cannot write '%s': %s", idf, strerror(errno));
	}
	p->id = id;
	for (int i = 0; i < p->nitems; i++) {
		p->items[i].sessions = calloc(p->items[i].rounds + 1, sizeof(char *));
		for (int r = 0; r < p->items[i].rounds; r++)
			p->items[i].sessions[r] = p->items[i].rounds > 1 ?
				xasprintf("%s-%s-%d", p->items[i].v->name, id, r) : xasprintf("%s-%s", p->items[i].v->name, id);
	}
	free(lock), free(idf);
}

static int rm_tree(const char *path)
{
	char *argv[] = { "rm", "-rf", "--", (char *)path, NULL };

	return run_cmd(argv, NULL);
}

/* ---- Ending jobs -------------------------------------------------------- */

static void built_read(const struct job *j, struct built *k)
{
	char *cached;

	k->dir = result_get(j->dir, "dir");
	k->bzimage = result_get(j->dir, "bzimage");
	k->gen_init_cpio = result_get(j->dir, "gen_init_cpio");
	k->build_id = result_get(j->dir, "build_id");
	k->source_id = result_get(j->dir, "source_id");
	k->patches_hash = result_get(j->dir, "patches_hash");
	k->patchset_sha256 = result_get(j->dir, "patchset_sha256");
	k->config_hash = result_get(j->dir, "config_hash");
	k->tree = result_get(j->dir, "tree");
	k->arch = result_get(j->dir, "arch");
	k->cached = (cached = result_get(j->dir, "cached")) && !strcmp(cached, "1");
	free(cached);
}

/* A boot's records into the database (one transaction per run), its
 * failure as the reason of the runs it did not finish. */
static void boot_store(struct plan *p, struct job *j, const char *failure)
{
	struct plan_item *it = &p->items[j->item];
	struct session_info s = { .accel = j->accel, .guest_mem_mb = p->o->mem_mb, .guest_cpus = j->cpus,
				  .alone = j->exclusive ? j->alone : -1 };
	char *recs = xasprintf("%s/records.log", j->logdir), *wall = result_get(j->dir, "boot_wall_s");
	char *others = result_get(j->dir, "others_cpus"), *quiet_wait = result_get(j->dir, "quiet_wait_s");
	struct ingest_result res;
	char *records = read_file(recs, NULL);
	const char *pause = getenv("RECLAIMBENCH_TEST_PAUSE_BEFORE_STORE");
	sqlite3 *db;

	s.others_cpus = others ? atof(others) : -1;
	if (quiet_wait && atof(quiet_wait) > 0)
		progress("boot %s waited %s s for the machine to be quiet", it->v->name, quiet_wait);
	if (j->exclusive && s.others_cpus > QUIET_CPUS) {
		s.alone = 0;
		progress("warning: boot %s shared the machine: %.2f CPUs of other work ran beside it; its host-clock "
		      "timings are suspect (stored with alone = 0): run it again on a quiet machine",
		      it->v->name, s.others_cpus);
	}
	s.session = it->sessions[j->round];
	s.faults = test_faults();
	s.emulator = result_get(j->dir, "emulator");
	if (!s.emulator)
		s.emulator = guest_emulator(variant_arch(it->v), j->accel);
	s.command = joined_argv(p->argc, p->argv);
	s.console_log = xasprintf("%s/console.log", j->logdir);
	s.wall_s = wall ? atof(wall) : j->wall_s;
	s.failure = failure;
	s.planned = j->group.v;
	s.nplanned = j->group.n;
	s.kernel = (struct kernel_info){ .variant = it->v->name, .build_id = it->k.build_id,
					 .source = it->k.source_id, .patches_hash = it->k.patches_hash,
					 .patchset_sha256 = it->k.patchset_sha256,
					 .config_hash = it->k.config_hash, .cmdline = it->v->cmdline,
					 .tree = it->k.tree };
	/* For tests/t-bisect-kill.sh: a moment long enough to kill the
	 * orchestrator as it stores (not RB_TEST_*: no fault in the data). */
	if (pause) {
		progress("test: pausing %s s before storing the records of %s", pause, s.session);
		sleep(atoi(pause));
	}
	db = db_open(opt_db);
	ingest(db, records ? records : "", &s, &res);
	db_close(db);
	/* A failed boot is booted again when the plan resumes (its failed
	 * runs stay, with their reason): see boot_stored. */
	if (res.failed || res.incomplete || failure)
		it->failed = 1;
	/* A kernel that is not the build it was cached as: its entry goes,
	 * and the next run builds it again. */
	if (res.wrong_kernel && it->k.bzimage && unlink(it->k.bzimage) == 0)
		progress("variant '%s': removed the cached image %s: it is not build %s", it->v->name, it->k.bzimage,
			 it->k.build_id);
	progress("variant '%s': %d ok, %d skipped, %d failed, %d incomplete under %s in %.1f s%s%s", it->v->name,
		 res.ok, res.skipped, res.failed, res.incomplete, j->accel, s.wall_s, failure ? "; " : "",
		 failure ? failure : "");
	free(recs), free(records), free(wall), free(others), free(quiet_wait);
}

static void job_log_row(struct plan *p, struct job *j)
{
	sqlite3 *db = db_open(opt_db);
	sqlite3_stmt *st;
	char *plan = strrchr(p->dir, '/') + 1, *fin = now_iso();
	char *ex = j->slurm_id ? xasprintf("slurm:%s", j->slurm_id) : xstrdup("local");

	if (!sqlite3_prepare_v2(db, "INSERT INTO jobs (plan, name, kind, label, accel, executor, finished_at, "
				"wall_s, status, reason) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", -1, &st, NULL)) {
		sqlite3_bind_text(st, 1, plan, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, j->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, kind_names[j->kind], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, j->label, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, j->accel ? j->accel : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, ex, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, fin, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 8, j->wall_s);
		sqlite3_bind_text(st, 9, j->state == JOB_DONE ? "ok" : "failed", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, j->reason ? j->reason : "", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			error("cannot record job '%s' in '%s': %s", j->name, opt_db, sqlite3_errmsg(db));
		sqlite3_finalize(st);
	}
	db_close(db);
	free(fin), free(ex);
}

static const char *job_what(const struct job *j)
{
	static char buf[160];

	if (j->kind == JOB_BOOT)
		snprintf(buf, sizeof(buf), "boot %s (%s%s)", j->label, j->accel, j->exclusive ? ", alone" : "");
	else
		snprintf(buf, sizeof(buf), "%s %s", kind_names[j->kind], j->label);
	return buf;
}

static void eta_print(struct plan *p, const char *head);

/* An executor saw job j end: ok, or not with why.  Its outputs are taken
 * (a build's kernel, a boot's records into the database). */
void job_ended(struct plan *p, struct job *j, int ok, const char *why)
{
	char *st = result_get(j->dir, "status"), *wall = result_get(j->dir, "wall_s");

	if (j->state == JOB_DONE || j->state == JOB_FAILED)
		return;
	j->wall_s = wall ? atof(wall) : (j->started ? now_s() - j->started : 0);
	/* A job that wrote no result did not finish, whatever its exit says. */
	if (ok && !st)
		ok = 0, why = "it ended without writing its result";
	else if (ok && strcmp(st, "0"))
		ok = 0, why = xasprintf("exit status %s", st);
	j->state = ok ? JOB_DONE : JOB_FAILED;
	if (!ok) {
		char *err = log_errors(j);

		j->reason = err ? (why ? xasprintf("%s (%s)", err, why) : err) : xstrdup(why ? why : "it failed");
	}
	if (j->kind == JOB_BUILD) {
		if (ok) {
			char *cached = result_get(j->dir, "cached"), *again = result_get(j->dir, "rebuilt");

			built_read(j, &p->items[j->item].k);
			if (cached && !strcmp(cached, "1"))
				progress("variant '%s': cached build %s", j->label, p->items[j->item].k.dir);
			if (again && !strcmp(again, "1"))
				progress("variant '%s': the image cached in %s did not name build %s and its tree; built "
					 "again", j->label, p->items[j->item].k.dir, p->items[j->item].k.build_id);
			free(cached), free(again);
		} else {
			p->items[j->item].failed = 1;
			p->items[j->item].usage_error = st && !strcmp(st, "2");
		}
	}
	if (j->kind == JOB_BOOT && p->jobs[j->deps[0]].state == JOB_FAILED) {
		/* Cancelled by Slurm for its failed build: nothing ran. */
		free(j->reason);
		j->reason = xasprintf("not run: %s failed", job_what(&p->jobs[j->deps[0]]));
		p->items[j->item].failed = 1;
		free(st), free(wall);
		return;
	}
	if (j->kind == JOB_BUILD && ok)	/* boots that ended (cancelled) before it: stored now */
		for (int i = 0; i < p->njobs; i++)
			if (p->jobs[i].store_pending && p->jobs[i].deps[0] == j - p->jobs) {
				p->jobs[i].store_pending = 0;
				boot_store(p, &p->jobs[i], p->jobs[i].reason);
			}
	if (j->kind == JOB_BOOT && p->jobs[j->deps[0]].state != JOB_DONE) {
		j->store_pending = 1;	/* its runs need the kernel its build is still making */
	} else if (j->kind == JOB_BOOT) {
		char *failure = result_get(j->dir, "failure");

		if (!p->items[j->item].k.build_id)
			built_read(&p->jobs[j->deps[0]], &p->items[j->item].k);
		boot_store(p, j, ok ? (failure && *failure ? failure : NULL) : j->reason);
		free(failure);
	}
	job_log_row(p, j);
	{
		char *head = ok ? xasprintf("done %s in %.0f s", job_what(j), j->wall_s)
				: xasprintf("FAILED %s: %s", job_what(j), j->reason);

		eta_print(p, head);
		free(head);
	}
	free(st), free(wall);
}

/* ---- Progress ----------------------------------------------------------- */

static int job_over(const struct job *j)
{
	return j->state == JOB_DONE || j->state == JOB_FAILED;
}

/* Time left by the estimates: the longer of the longest chain still to
 * go and the work left spread over the slots (jobs that run alone add up). */
static double time_left(struct plan *p, int *unknown)
{
	double *fin = calloc(p->njobs + 1, sizeof(double)), chain = 0, shared = 0, alone = 0, t = now_s();

	*unknown = 0;
	for (int i = 0; i < p->njobs; i++) {
		struct job *j = &p->jobs[i];
		double left = 0, start = 0;

		if (!job_over(j)) {
			if (!j->est_s)
				++*unknown;
			left = j->est_s - (j->state == JOB_RUNNING && j->started ? t - j->started : 0);
			if (left < 0)
				left = 0;
		}
		for (int d = 0; d < j->ndeps; d++)
			if (fin[j->deps[d]] > start)
				start = fin[j->deps[d]];
		fin[i] = start + left;
		if (fin[i] > chain)
			chain = fin[i];
		*(j->exclusive ? &alone : &shared) += left;
	}
	free(fin);
	shared = shared / (p->o->slots > 0 ? p->o->slots : 1) + alone;
	return chain > shared ? chain : shared;
}

static void eta_print(struct plan *p, const char *head)
{
	int done = 0, running = 0, unknown;
	double left = time_left(p, &unknown);
	char eta[64], never[64] = "";

	for (int i = 0; i < p->njobs; i++)
		done += job_over(&p->jobs[i]), running += p->jobs[i].state == JOB_RUNNING;
	/* Jobs never timed before (a new database) count nothing. */
	if (unknown && left < 1)
		snprintf(eta, sizeof(eta), "time left unknown");
	else
		snprintf(eta, sizeof(eta), "%s%.0f %s left", unknown ? "more than " : "about ",
			 left < 90 ? left : ceil(left / 60), left < 90 ? "s" : "min");
	if (unknown)
		snprintf(never, sizeof(never), " (%d job%s never timed before)", unknown, unknown > 1 ? "s" : "");
	progress("%s; %d/%d jobs done, %d running, %s%s", head, done, p->njobs, running, eta, never);
}

/* On a terminal: one line of what runs now, redrawn. */
static void status_line(struct plan *p)
{
	char buf[512];
	int n = 0, unknown;
	double t = now_s();

	if (!isatty(2))
		return;
	for (int i = 0; i < p->njobs && n < (int)sizeof(buf) - 80; i++) {
		struct job *j = &p->jobs[i];

		if (j->state != JOB_RUNNING)
			continue;
		n += snprintf(buf + n, sizeof(buf) - n, "%s %s %.0fs", n ? "," : "", job_what(j),
			      j->started ? t - j->started : 0);
		if (j->est_s)
			n += snprintf(buf + n, sizeof(buf) - n, "/~%.0fs", j->est_s);
	}
	fprintf(stderr, "\r\033[K[%s] running:%s; ~%.0f min left", p->what, n ? buf : " nothing",
		ceil(time_left(p, &unknown) / 60));
	fflush(stderr);
}

/* Every job of the plan: its state, what it waits for, how long it took
 * the last times. */
static void plan_print(struct plan *p)
{
	for (int i = 0; i < p->njobs; i++) {
		struct job *j = &p->jobs[i];
		char after[256] = "", est[32] = "never timed";

		for (int d = 0, n = 0; d < j->ndeps; d++)
			n += snprintf(after + n, sizeof(after) - n, "%s%s", d ? ", " : "after ",
				      job_what(&p->jobs[j->deps[d]]));
		if (j->est_s)
			snprintf(est, sizeof(est), "about %.0f %s", j->est_s < 90 ? j->est_s : j->est_s / 60,
				 j->est_s < 90 ? "s" : "min");
		fprintf(stderr, "  %-8s %-36s %s%s%s\n", j->state == JOB_DONE ? "stored" : "waiting", job_what(j),
			j->state == JOB_DONE ? "" : est, *after && j->state != JOB_DONE ? "; " : "",
			j->state == JOB_DONE ? "" : after);
	}
}

/* ---- The loop ----------------------------------------------------------- */

static void on_signal(int sig)
{
	interrupted = sig;
}

void on_interrupt_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Jobs whose inputs failed fail too, unrun (inputs come first). */
static void failures_spread(struct plan *p)
{
	for (int i = 0; i < p->njobs; i++) {
		struct job *j = &p->jobs[i];

		for (int d = 0; d < j->ndeps && j->state == JOB_WAITING; d++)
			if (p->jobs[j->deps[d]].state == JOB_FAILED) {
				j->state = JOB_FAILED;
				j->reason = xasprintf("not run: %s failed", job_what(&p->jobs[j->deps[d]]));
				if (j->item >= 0)
					p->items[j->item].failed = 1;
			}
	}
}

/* Jobs that can go now: all inputs made (or, for an eager executor, on
 * their way).  Locally at most `slots` run at once, and a job timed on the
 * host's clock only when nothing else runs, nothing starting beside it. */
static int startable(struct plan *p, struct job **out)
{
	int n = 0, running = 0, free_slots;

	failures_spread(p);
	for (int i = 0; i < p->njobs; i++)
		if (p->jobs[i].state == JOB_RUNNING || p->jobs[i].state == JOB_QUEUED) {
			if (p->jobs[i].exclusive && !p->ex->eager)
				return 0;
			running++;
		}
	free_slots = p->ex->eager ? p->njobs : p->o->slots - running;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < p->njobs && n < free_slots; i++) {
			struct job *j = &p->jobs[i];
			int ready = j->state == JOB_WAITING && j->exclusive == pass;

			for (int d = 0; d < j->ndeps && ready; d++) {
				enum job_state s = p->jobs[j->deps[d]].state;

				ready = s == JOB_DONE || (p->ex->eager && (s == JOB_QUEUED || s == JOB_RUNNING));
			}
			if (!ready)
				continue;
			if (pass == 1 && !p->ex->eager) {	/* alone: only when nothing else runs */
				if (!running && !n)
					out[n++] = j;
				return n;
			}
			out[n++] = j;
		}
	return n;
}

/* Whether every benchmark of boot j has an ok or skipped run stored in
 * its session: the database, not a file, says (a kill between a run's
 * commit and anything after it loses nothing). */
static int boot_stored(struct plan *p, const struct job *j)
{
	sqlite3 *db = db_open(opt_db);
	sqlite3_stmt *st;
	int n = 0;

	/* Its own benchmarks: two boots of a session may share a clock. */
	for (int b = 0; b < j->group.n; b++) {
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE session = ?1 AND accel = ?2 AND bench = ?3 AND "
				       "status IN ('ok', 'skip') LIMIT 1", -1, &st, NULL))
			break;
		sqlite3_bind_text(st, 1, p->items[j->item].sessions[j->round], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, j->accel, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, j->group.v[b], -1, SQLITE_STATIC);
		n += sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	db_close(db);
	return n >= j->group.n;
}

/* On resume: boots stored before stay done; builds and sources only
 * for items with a boot still to run (the cache has the rest). */
static void plan_resume(struct plan *p)
{
	int stored = 0, boots = 0;
	char *need = calloc(p->njobs + 1, 1);

	for (int i = 0; i < p->njobs; i++) {
		struct job *j = &p->jobs[i];

		if (j->kind != JOB_BOOT)
			continue;
		boots++;
		if (boot_stored(p, j)) {
			j->state = JOB_DONE;
			stored++;
		} else {
			need[j->deps[0]] = 1;
		}
	}
	if (!stored)
		goto out;
	for (int i = p->njobs - 1; i >= 0; i--) {
		struct job *j = &p->jobs[i];

		if (j->kind == JOB_BOOT)
			continue;
		if (need[i])
			for (int d = 0; d < j->ndeps; d++)
				need[j->deps[d]] = 1;
		else if (j->kind == JOB_BUILD && p->items[j->item].rounds == 0)
			need[i] = 1;
	}
	for (int i = 0; i < p->njobs; i++)
		if (p->jobs[i].kind != JOB_BOOT && !need[i]) {
			p->jobs[i].state = JOB_DONE;
			if (p->jobs[i].kind == JOB_BUILD)
				built_read(&p->jobs[i], &p->items[p->jobs[i].item].k);
		}
	progress("%d of %d boots were stored whole before; running the other %d", stored, boots, boots - stored);
out:
	free(need);
}

static void executor_pick(struct plan *p)
{
	const char *ex = p->o->executor ? p->o->executor : "local";

	if (!strcmp(ex, "local"))
		p->ex = &local_executor;
	else if (!strcmp(ex, "slurm"))
		p->ex = &slurm_executor, cost_note = ", this process only: the jobs' CPU time is Slurm's to count";
	else
		die(EXIT_USAGE, "unknown executor '%s'; use --executor local or --executor slurm", ex);
}

/* The accelerator known before anything is built (NULL: a KVM probe
 * boots the first kernel of this host's architecture built). */
static void accel_plan(struct plan *p)
{
	int native = 0;

	if (p->accel)
		return;
	for (int i = 0; i < p->nitems; i++)
		native |= arch_native(variant_arch(p->items[i].v));
	p->accel = accel_known();
	if (!native && accel_required() && !strcmp(accel_required(), "kvm"))
		die(EXIT_USAGE, "--accel kvm: no variant of this host's architecture (%s) to run; KVM runs only "
		    "the host's own, the others boot under TCG", arch_host());
	if (native && p->accel)
		accel_checked(p->accel);	/* nothing started yet */
	if (!native)	/* no kernel KVM could run: no probe */
		p->accel = "tcg";
	else if (accel_required() && !strcmp(accel_required(), "kvm"))
		progress("--accel kvm: the variants of this host's architecture (%s) boot under KVM on the "
			 "host's clock, any other under TCG", arch_host());
}

int plan_run(struct plan *p)
{
	int bad = 0, over, boots_added, stopped = 0;
	struct job **ready;
	double t0 = now_s();

	executor_pick(p);
	accel_plan(p);
	cpu_account_start();
	plan_open(p);
	graph_builds(p);
	if ((boots_added = p->accel != NULL))
		graph_boots(p);
	plan_resume(p);
	estimates(p, 0);
	progress("%s: %d jobs (%s executor%s), plan %s", p->what, p->njobs, p->ex->name,
		 p->ex->eager ? "" : xasprintf(", %d at once", p->o->slots), p->dir);
	plan_print(p);
	ready = calloc(p->cap + 1, sizeof(*ready));
	for (;;) {
		int n;

		if (interrupted) {
			p->ex->stop(p);
			break;
		}
		if ((n = startable(p, ready))) {
			p->ex->start(p, ready, n);
			for (int i = 0; i < n && !p->ex->eager; i++)
				if (ready[i]->state == JOB_RUNNING)
					eta_print(p, xasprintf("started %s", job_what(ready[i])));
		}
		over = 1;
		for (int i = 0; i < p->njobs; i++)
			over &= job_over(&p->jobs[i]);
		if (over && boots_added)
			break;
		if (!over)
			p->ex->poll(p, 1000);
		status_line(p);
		/* A KVM probe boots the first kernel built, then the boots join. */
		if (!boots_added) {
			for (int i = 0; i < p->njobs && !p->accel; i++)
				if (p->jobs[i].kind == JOB_BUILD && p->jobs[i].state == JOB_DONE &&
				    arch_native(variant_arch(p->items[p->jobs[i].item].v)))
					p->accel = accel_choose(&p->items[p->jobs[i].item].k,
								p->items[p->jobs[i].item].v->cmdline);
			if (p->accel && accel_required() && strcmp(p->accel, accel_required())) {
				error("--accel %s: %s; without --accel the variants boot under TCG", accel_required(),
				      accel_failure());
				p->ex->stop(p);
				stopped = 1;
				break;
			}
			if (p->accel || over) {
				int first = p->njobs;

				if (!p->accel)	/* every build failed */
					p->accel = "tcg";
				else
					graph_boots(p);
				ready = realloc(ready, (p->cap + 1) * sizeof(*ready));
				estimates(p, first);
				boots_added = 1;
			}
		}
	}
	if (isatty(2))
		fputs("\r\033[K", stderr);
	for (int i = 0; i < p->njobs; i++)
		if (p->jobs[i].state == JOB_FAILED) {
			bad = 1;
			if (strncmp(p->jobs[i].reason, "not run: ", 9))
				error("%s failed (its log: %s/log)", job_what(&p->jobs[i]), p->jobs[i].dir);
		} else if (!job_over(&p->jobs[i])) {
			bad = 1;
		}
	for (int i = 0; i < p->nitems; i++)
		bad |= p->items[i].failed;
	if (!bad && !interrupted) {
		rm_tree(p->dir);
	} else {
		progress("%s stopped after %.0f s with work left or failed; run the same command again to resume "
			 "(plan %s)", p->what, now_s() - t0, p->dir);
	}
	free(ready);
	return bad || interrupted || stopped;
}
