/* reclaimbench run: on the running kernel (--host) or on kernel variants. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

static volatile sig_atomic_t interrupted;
static pid_t child;

static void on_signal(int sig)
{
	interrupted = sig;
	if (child > 0)
		kill(child, sig);
}

/* The rb-bench arguments of the chosen benchmarks and parameters. */
static char **bench_argv(const char *exe, const struct opt_list *names)
{
	char **av = calloc(64 + OPT_LIST_MAX, sizeof(char *));
	int n = 0;

	av[n++] = xstrdup(exe ? exe : "rb-bench");
	for (const struct opt *o = bench_params; o->name; o++)
		av[n++] = xasprintf("--%s=%lu", o->name, *(unsigned long *)o->value);
	for (int i = 0; i < names->n; i++)
		av[n++] = xstrdup(names->v[i]);
	return av;
}

/* Runs rb-bench on this machine, collecting its records. */
static char *host_records(char **av, int *status)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap);
	int fds[2];
	ssize_t r;

	if (!buf || pipe(fds))
		die(EXIT_INFRA, "cannot start the benchmarks: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die(EXIT_INFRA, "fork: %s", strerror(errno));
	if (child == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(av[0], av);
		fprintf(stderr, "error: cannot run '%s': %s; build it with make\n", av[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while ((r = read(fds[0], buf + n, cap - n - 1)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += r;
		if (n + 1 == cap && !(buf = realloc(buf, cap *= 2)))
			die(EXIT_INFRA, "out of memory");
	}
	buf[n] = '\0';
	close(fds[0]);
	while (waitpid(child, status, 0) < 0 && errno == EINTR)
		;
	child = 0;
	return buf;
}

static int run_host(int argc, char **argv, const struct opt_list *names)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct ingest_result res;
	struct session_info s = { .accel = "host" };
	char *exe = xasprintf("%s/rb-bench", self_dir()), **av, *stream;
	struct timespec t0, t1;
	sqlite3 *db;
	int st;

	if (geteuid() != 0)
		progress("not root: the benchmarks cannot set THP knobs and will SKIP; run as root");
	db = db_open(opt_db);
	av = bench_argv(exe, names);
	s.session = xasprintf("host-%ld-%d", (long)time(NULL), getpid());
	s.faults = test_faults();
	s.command = joined_argv(argc, argv);
	s.planned = names->v;
	s.nplanned = names->n;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	progress("running %d benchmark(s) on the host kernel", names->n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stream = host_records(av, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s.wall_s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (interrupted)
		s.failure = "interrupted";
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		s.failure = xasprintf("rb-bench exited with status %d", WIFEXITED(st) ? WEXITSTATUS(st) :
				      128 + WTERMSIG(st));
	ingest(db, stream, &s, &res);
	db_close(db);
	printf("stored session %s in %s: %d ok, %d skipped, %d failed, %d incomplete%s%s\n", s.session,
	       opt_db, res.ok, res.skipped, res.failed, res.incomplete,
	       res.problem[0] ? "; " : "", res.problem);
	printf("see: reclaimbench list runs --db %s; reclaimbench show RUN --db %s\n", opt_db, opt_db);
	if (interrupted)
		return 130;
	return res.failed || res.incomplete ? EXIT_INFRA : EXIT_OK;
}

/* Where a benchmark runs on a variant booted under accel.  Under TCG the
 * host's load reaches the guest's clock (boots of one kernel differ by
 * half their time), so a benchmark is timed by QEMU's instruction counter
 * instead: timings become counts of guest instructions, the same from boot
 * to boot.  That runs vCPUs in turns, so benchmarks that need CPUs running
 * at once (parallel) keep the host clock, as does --host-clock. */
static const char *bench_accel(const char *name, const char *accel, const struct run_opts *o)
{
	if (strcmp(accel, "tcg") || o->host_clock || bench_find(name)->parallel)
		return accel;
	return ACCEL_ICOUNT;
}

/* One boot of a built variant with the plan names, stored under session. */
static int variant_boot(const struct variant *v, const struct built *k, const char *accel, const struct run_opts *o,
			const struct opt_list *names, const char *session, int argc, char **argv)
{
	/* Under the instruction clock vCPUs run in turns, and an idle second
	 * vCPU takes almost no timer interrupts: RCU stalls on it, page tables
	 * freed by RCU pile up (100 MB a pt_reclaim repetition here) and land
	 * in later windows.  So those boots get one vCPU. */
	int cpus = !strcmp(accel, ACCEL_ICOUNT) ? 1 : o->cpus;
	struct boot b = { .accel = accel, .mem_mb = o->mem_mb, .cpus = cpus, .timeout_s = o->timeout_s,
			  .label = v->name };
	struct session_info s = { .accel = accel, .guest_mem_mb = o->mem_mb, .guest_cpus = cpus };
	char **plan = bench_argv(NULL, names);
	struct ingest_result res;
	sqlite3 *db;

	b.logdir = xasprintf("%s/logs/%s-%s", o->out, session, accel);
	if (mkdirs(b.logdir))
		die(EXIT_USAGE, "cannot make the log folder '%s': %s; pass --out DIR", b.logdir, strerror(errno));
	progress("variant '%s': booting under %s (%d MB, %d CPUs, limit %d s) for %d benchmark(s)", v->name,
		 accel, o->mem_mb, cpus, o->timeout_s, names->n);
	guest_boot(k, v->cmdline, plan + 1, &b);
	s.session = session;
	s.faults = test_faults();
	s.emulator = guest_emulator(accel);
	s.command = joined_argv(argc, argv);
	s.console_log = b.console_log;
	s.wall_s = b.wall_s;
	s.failure = b.failure;
	s.planned = names->v;
	s.nplanned = names->n;
	s.kernel = (struct kernel_info){ .variant = v->name, .build_id = k->build_id, .source = k->source_id,
					 .patches_hash = k->patches_hash, .config_hash = k->config_hash,
					 .cmdline = v->cmdline };
	db = db_open(opt_db);
	ingest(db, b.records, &s, &res);
	db_close(db);
	progress("variant '%s': %d ok, %d skipped, %d failed, %d incomplete in %.1f s%s%s", v->name, res.ok,
		 res.skipped, res.failed, res.incomplete, b.wall_s, b.failure ? "; " : "", b.failure ? b.failure : "");
	return res.failed || res.incomplete || b.failure;
}

/* Boot one built variant for the plan, once per clock its benchmarks
 * need, and store what came back as one session; returns nonzero when
 * anything failed. */
int variant_session(const struct variant *v, const struct built *k, const char *accel, const struct run_opts *o,
		    const struct opt_list *names, int argc, char **argv, char **session)
{
	static int count;
	const char *where[2] = { ACCEL_ICOUNT, accel };
	int bad = 0;

	*session = xasprintf("%s-%ld-%d-%d", v->name, (long)time(NULL), getpid(), count++);
	for (int w = 0; w < 2 && !interrupted; w++) {
		struct opt_list group = { .n = 0 };

		for (int i = 0; i < names->n; i++)
			if (!strcmp(bench_accel(names->v[i], accel, o), where[w]))
				group.v[group.n++] = names->v[i];
		if (group.n)
			bad |= variant_boot(v, k, where[w], o, &group, *session, argc, argv);
	}
	return bad;
}

static int run_variants(int argc, char **argv, const struct opt_list *names, char **ops, int nops,
			const struct run_opts *o)
{
	struct variant_set set;
	struct variant **chosen;
	struct built *built;
	char **sessions;
	const char *accel;
	int n = 0, bad = 0;
	sqlite3 *db;

	variants_load(o->variants, &set);
	chosen = calloc(set.n + nops + 2, sizeof(*chosen));
	for (int i = 0; i < nops; i++)
		if (!(chosen[n++] = variant_find(&set, ops[i])))
			die(EXIT_USAGE, "unknown variant '%s' in '%s'; see reclaimbench list variants",
			    ops[i], o->variants);
	if (o->tree) {
		struct variant *t = calloc(1, sizeof(*t)), *base = set.n ? &set.v[0] : NULL;

		if (!base)
			die(EXIT_USAGE, "'%s' holds no variant to take config and cmdline from", o->variants);
		*t = *base;
		t->name = xasprintf("tree-%s", o->ref);
		for (char *p = t->name; *p; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+", *p))
				*p = '_';
		t->source = xasprintf("git:%s@%s", o->tree, o->ref);
		t->patches = NULL, t->npatches = 0;
		chosen[n++] = t;
	}
	if (!n)
		for (int i = 0; i < set.n; i++)
			chosen[n++] = &set.v[i];
	db = db_open(opt_db);
	db_close(db);
	built = calloc(n > 0 ? n : 1, sizeof(*built));
	for (int i = 0; i < n; i++)
		variant_build(chosen[i], &built[i]);
	accel = accel_choose(&built[0], chosen[0]->cmdline);
	sessions = calloc(n > 0 ? n : 1, sizeof(*sessions));
	for (int i = 0; i < n && !interrupted; i++)
		bad |= variant_session(chosen[i], &built[i], accel, o, names, argc, argv, &sessions[i]);
	db = db_open(opt_db);
	summary_print(db, sessions, n);
	db_close(db);
	printf("\nstored in %s; logs in %s/logs\n", opt_db, o->out);
	cost_print("run");
	if (interrupted)
		return 130;
	return bad ? EXIT_INFRA : EXIT_OK;
}

/* Wall time since the process started and the CPU time it and its
 * children (builds, QEMU) used: how far a run is from the floor that
 * its CPU-seconds set on this machine's cores. */
void cost_print(const char *what)
{
	struct rusage self, kids;
	struct timespec now;
	double cpu, wall;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	clock_gettime(CLOCK_MONOTONIC, &now);
	cpu = self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec + kids.ru_stime.tv_sec +
	      (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
	wall = now.tv_sec - process_start.tv_sec + (now.tv_nsec - process_start.tv_nsec) / 1e9;
	printf("%s: %.0f s wall, %.0f CPU-seconds (%.0f s on %ld cores at best)\n", what, wall, cpu,
	       cpu / sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_ONLN));
}

/* reclaimbench build VARIANT...: only the builds (cached by build id). */
int cmd_build(int argc, char **argv)
{
	static struct run_opts o;
	const struct opt *const tables[] = { guest_opts, NULL };
	int first = parse_args(tables, argc, argv,
			       "usage: reclaimbench build [VARIANT...] [--variants FILE]\n\n"
			       "Builds the variants (default: all in the spec file), or finds them in the cache,\n"
			       "and prints each one's build id and kernel image.");
	struct variant_set set;

	guest_opts_get(&o);
	variants_load(o.variants, &set);
	for (int i = first; i < argc; i++)
		if (!variant_find(&set, argv[i]))
			die(EXIT_USAGE, "unknown variant '%s' in '%s'; see reclaimbench list variants", argv[i],
			    o.variants);
	for (int i = first < argc ? first : 0; i < (first < argc ? argc : set.n); i++) {
		struct variant *v = first < argc ? variant_find(&set, argv[i]) : &set.v[i];
		struct built k;

		variant_build(v, &k);
		printf("%-24s %s %s\n", v->name, k.build_id, k.bzimage);
	}
	cost_print("build");
	return EXIT_OK;
}

/* Options of every command that boots variants. */
static unsigned long guest_mem = 1024, guest_cpus = 2, boot_timeout = 900;
static int host_clock;
static const char *variants_file, *out_dir = "out";
const struct opt guest_opts[] = {
	{ "variants", OPT_STRING, &variants_file, 0, 0, "FILE", "variant spec file [kernels/variants.conf]" },
	{ "guest-mem-mb", OPT_UINT, &guest_mem, 256, 65536, "MB", "guest memory" },
	{ "guest-cpus", OPT_UINT, &guest_cpus, 1, 64, "N",
	  "guest CPUs of host-clock boots (instruction-clock boots get 1)" },
	{ "timeout", OPT_UINT, &boot_timeout, 10, 86400, "S", "time limit of one boot, in seconds" },
	{ "out", OPT_STRING, &out_dir, 0, 0, "DIR", "folder for boot logs" },
	{ "host-clock", OPT_FLAG, &host_clock, 0, 0, NULL,
	  "under TCG, time by the host's clock, not by counted guest instructions (-icount)" },
	{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
	{ NULL }
};

void guest_opts_get(struct run_opts *o)
{
	o->variants = variants_file ? variants_file : default_variants_file();
	o->out = out_dir;
	o->mem_mb = guest_mem, o->cpus = guest_cpus, o->timeout_s = boot_timeout, o->host_clock = host_clock;
	/* The initramfs list names files by path, separated by white space. */
	if (strpbrk(o->out, " \t\n\"'\\"))
		die(EXIT_USAGE, "--out '%s' holds white space or quotes; choose a plain folder name", o->out);
}

/* --bench names checked, or all benchmarks; parameters cross-checked. */
void bench_names_check(struct opt_list *names)
{
	char err[256];

	for (int i = 0; i < names->n; i++)
		if (!bench_find(names->v[i]))
			die(EXIT_USAGE, "unknown benchmark '%s'; see reclaimbench list benches", names->v[i]);
	if (params_check(err, sizeof(err)))
		die(EXIT_USAGE, "%s", err);
	if (!names->n)
		for (int i = 0; i < nbenches; i++)
			names->v[names->n++] = benches[i]->name;
}

void on_interrupt_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cmd_run(int argc, char **argv)
{
	static int host;
	static struct opt_list names;
	static struct run_opts o;
	static const struct opt own[] = {
		{ "host", OPT_FLAG, &host, 0, 0, NULL, "run on the running kernel (as root), no build or boot" },
		{ "bench", OPT_LIST, &names, 0, 0, "NAME", "benchmark to run (default: all)" },
		{ "tree", OPT_STRING, &o.tree, 0, 0, "DIR", "also run a git tree (with --ref), cloned, never touched" },
		{ "ref", OPT_STRING, &o.ref, 0, 0, "REF", "the commit of --tree to build" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, guest_opts, bench_params, NULL };
	int first;

	first = parse_args(tables, argc, argv,
			   "usage: reclaimbench run [VARIANT...] [--variants FILE] [--tree DIR --ref REF]\n"
			   "       reclaimbench run --host\n"
			   "       [--bench NAME]... [--reps N] [--db PATH]\n\n"
			   "Builds what is missing, boots each variant (default: all in the spec file) and\n"
			   "stores every repetition; --host runs on the running kernel instead.");
	bench_names_check(&names);
	if (!o.tree != !o.ref)
		die(EXIT_USAGE, "--tree and --ref go together; give both");
	guest_opts_get(&o);
	if (host) {
		if (first < argc)
			die(EXIT_USAGE, "run --host takes no variant ('%s'); name benchmarks with --bench",
			    argv[first]);
		return run_host(argc, argv, &names);
	}
	on_interrupt_install();
	return run_variants(argc, argv, &names, argv + first, argc - first, &o);
}
