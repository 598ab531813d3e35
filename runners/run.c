/* reclaimbench run: on the running kernel (--host) or on kernel variants. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

static pid_t child;

static void on_host_signal(int sig)
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
	struct sigaction sa = { .sa_handler = on_host_signal };
	struct ingest_result res;
	struct session_info s = { .accel = "host", .alone = -1, .others_cpus = -1 };
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

/* Boot one built variant for the plan, once per clock its benchmarks
 * need, and store what came back as one session (a plan of one item, for
 * bisect and nightly); returns nonzero when anything failed. */
int variant_session(const struct variant *v, const struct built *k, const char *accel, const struct run_opts *o,
		    const struct opt_list *names, int argc, char **argv, char **session)
{
	struct plan_item it = { .v = v, .rounds = 1 };
	struct plan p = { .what = "session", .o = o, .names = names, .argc = argc, .argv = argv, .items = &it,
			  .nitems = 1, .accel = accel };
	int bad = plan_run(&p);

	(void)k;
	*session = it.sessions[0];
	return bad;
}

static int run_variants(int argc, char **argv, const struct opt_list *names, char **ops, int nops,
			const struct run_opts *o)
{
	struct variant_set set;
	struct variant **chosen;
	struct plan p = { .what = "run", .o = o, .names = names, .argc = argc, .argv = argv };
	char **sessions;
	int n = 0, bad, usage = 0;
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
		for (char *c = t->name; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+", *c))
				*c = '_';
		t->source = xasprintf("git:%s@%s", o->tree, o->ref);
		t->patches = NULL, t->npatches = 0;
		chosen[n++] = t;
	}
	if (!n)
		for (int i = 0; i < set.n; i++)
			chosen[n++] = &set.v[i];
	db = db_open(opt_db);
	db_close(db);
	p.items = calloc(n + 1, sizeof(*p.items));
	p.nitems = n;
	for (int i = 0; i < n; i++)
		p.items[i] = (struct plan_item){ .v = chosen[i], .rounds = 1 };
	on_interrupt_install();
	bad = plan_run(&p);
	sessions = calloc(n + 1, sizeof(*sessions));
	for (int i = 0; i < n; i++) {
		sessions[i] = p.items[i].sessions[0];
		usage |= p.items[i].usage_error;
	}
	db = db_open(opt_db);
	summary_print(db, sessions, n);
	db_close(db);
	printf("\nstored in %s; logs in %s/logs\n", opt_db, o->out);
	cost_print("run");
	if (interrupted)
		return 130;
	return usage ? EXIT_USAGE : bad ? EXIT_INFRA : EXIT_OK;
}

/* reclaimbench build VARIANT...: only the build jobs (cached by build id). */
int cmd_build(int argc, char **argv)
{
	static struct run_opts o;
	static struct opt_list none;
	const struct opt *const tables[] = { guest_opts, NULL };
	int first = parse_args(tables, argc, argv,
			       "usage: reclaimbench build [VARIANT...] [--variants FILE] [--executor local|slurm]\n\n"
			       "Builds the variants (default: all in the spec file), or finds them in the cache,\n"
			       "and prints each one's build id and kernel image.");
	struct plan p = { .what = "build", .o = &o, .names = &none, .argc = argc, .argv = argv, .accel = "none" };
	struct variant_set set;
	int bad, usage = 0;

	guest_opts_get(&o);
	variants_load(o.variants, &set);
	for (int i = first; i < argc; i++)
		if (!variant_find(&set, argv[i]))
			die(EXIT_USAGE, "unknown variant '%s' in '%s'; see reclaimbench list variants", argv[i],
			    o.variants);
	p.nitems = first < argc ? argc - first : set.n;
	p.items = calloc(p.nitems + 1, sizeof(*p.items));
	for (int i = 0; i < p.nitems; i++)
		p.items[i].v = first < argc ? variant_find(&set, argv[first + i]) : &set.v[i];
	db_close(db_open(opt_db));
	on_interrupt_install();
	bad = plan_run(&p);
	for (int i = 0; i < p.nitems; i++) {
		usage |= p.items[i].usage_error;
		if (p.items[i].k.build_id)
			printf("%-24s %s %s\n", p.items[i].v->name, p.items[i].k.build_id, p.items[i].k.bzimage);
	}
	cost_print("build");
	if (interrupted)
		return 130;
	return usage ? EXIT_USAGE : bad ? EXIT_INFRA : EXIT_OK;
}

/* Options of every command that boots variants. */
static unsigned long guest_mem = 1024, guest_cpus = 2, boot_timeout = 900, slots;
static const char *selftests_set = "default";
static int host_clock;
static const char *variants_file, *out_dir = "out", *executor, *partition, *account, *spool, *quiet_wait;
const struct opt guest_opts[] = {
	{ "variants", OPT_STRING, &variants_file, 0, 0, "FILE", "variant spec file [kernels/variants.conf]" },
	{ "guest-mem-mb", OPT_UINT, &guest_mem, 256, 65536, "MB", "guest memory" },
	{ "guest-cpus", OPT_UINT, &guest_cpus, 1, 64, "N",
	  "guest CPUs of host-clock boots (instruction-clock boots get 1, or --mm-cpus)" },
	{ "timeout", OPT_UINT, &boot_timeout, 10, 86400, "S", "time limit of one boot, in seconds" },
	{ "out", OPT_STRING, &out_dir, 0, 0, "DIR", "folder for boot logs" },
	{ "host-clock", OPT_FLAG, &host_clock, 0, 0, NULL,
	  "under TCG, time by the host's clock, not by counted guest instructions (-icount)" },
	{ "quiet-wait", OPT_STRING, &quiet_wait, 0, 0, "S",
	  "longest wait for a quiet machine before a host-clock boot [$RECLAIMBENCH_QUIET_WAIT, 120]" },
	{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
	{ "selftests", OPT_STRING, &selftests_set, 0, 0, "SET",
	  "mm selftests the selftests step runs: 'default' (" SELFTESTS_DEFAULT "), programs separated by commas, "
	  "or 'none'" },
	{ "executor", OPT_STRING, &executor, 0, 0, "local|slurm",
	  "where jobs run: this machine, or Slurm's sbatch [$RECLAIMBENCH_EXECUTOR, local]" },
	{ "jobs", OPT_UINT, &slots, 0, 256, "N", "local: jobs at once, 0 for one per CPU" },
	{ "partition", OPT_STRING, &partition, 0, 0, "NAME", "slurm: partition [$RECLAIMBENCH_SLURM_PARTITION]" },
	{ "account", OPT_STRING, &account, 0, 0, "NAME", "slurm: account [$RECLAIMBENCH_SLURM_ACCOUNT]" },
	{ "spool", OPT_STRING, &spool, 0, 0, "DIR",
	  "jobs' files; under Slurm on a file system every node shares [$RECLAIMBENCH_SPOOL, cache/spool]" },
	{ NULL }
};

static const char *setting(const char *opt, const char *env)
{
	return opt ? opt : getenv(env) && *getenv(env) ? getenv(env) : NULL;
}

void guest_opts_get(struct run_opts *o)
{
	const char *wait;

	o->variants = variants_file ? variants_file : default_variants_file();
	/* The initramfs list names files by path, separated by white space. */
	if (strpbrk(out_dir, " \t\n\"'\\"))
		die(EXIT_USAGE, "--out '%s' holds white space or quotes; choose a plain folder name", out_dir);
	/* Absolute: jobs may run elsewhere (a Slurm node, another folder). */
	if (mkdirs(out_dir) || !(o->out = realpath(out_dir, NULL)))
		die(EXIT_USAGE, "cannot make the folder '%s': %s; pass --out DIR", out_dir, strerror(errno));
	o->mem_mb = guest_mem, o->cpus = guest_cpus, o->timeout_s = boot_timeout, o->host_clock = host_clock;
	o->selftests = selftests_set;
	o->executor = setting(executor, "RECLAIMBENCH_EXECUTOR");
	o->partition = setting(partition, "RECLAIMBENCH_SLURM_PARTITION");
	o->account = setting(account, "RECLAIMBENCH_SLURM_ACCOUNT");
	o->spool = setting(spool, "RECLAIMBENCH_SPOOL");
	o->slots = slots ? slots : sysconf(_SC_NPROCESSORS_ONLN);
	/* The boot jobs read it from their environment (sbatch passes it on). */
	if ((wait = setting(quiet_wait, "RECLAIMBENCH_QUIET_WAIT"))) {
		if (!*wait || strspn(wait, "0123456789") != strlen(wait) || strlen(wait) > 4 || atoi(wait) > 3600)
			die(EXIT_USAGE, "the quiet wait '%s' (--quiet-wait or $RECLAIMBENCH_QUIET_WAIT) is not a number "
			    "of seconds from 0 to 3600", wait);
		setenv("RECLAIMBENCH_QUIET_WAIT", wait, 1);
	}
	if (o->executor && strcmp(o->executor, "local") && strcmp(o->executor, "slurm"))
		die(EXIT_USAGE, "unknown executor '%s'; use --executor local or --executor slurm", o->executor);
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
	/* The running kernel has no programs packed for it: by default, no
	 * step that runs them (selftests). */
	if (host && !names.n)
		for (int i = 0; i < nbenches; i++)
			if (!benches[i]->packed)
				names.v[names.n++] = benches[i]->name;
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
