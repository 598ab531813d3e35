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

/* The spec files read, for messages: 'a' or 'a' and 'b'. */
static char *spec_files_named(const struct run_opts *o)
{
	char *s = xasprintf("'%s'", o->variant_files[0]);

	for (int i = 1; i < o->nvariant_files; i++) {
		char *t = xasprintf("%s%s'%s'", s, i + 1 < o->nvariant_files ? ", " : " and ", o->variant_files[i]);

		free(s);
		s = t;
	}
	return s;
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

	variants_load_files(o->variant_files, o->nvariant_files, &set);
	chosen = calloc(set.n + nops + 2, sizeof(*chosen));
	for (int i = 0; i < nops; i++)
		if (!(chosen[n++] = variant_find(&set, ops[i])))
			die(EXIT_USAGE, "unknown variant '%s' in %s; see reclaimbench list variants",
			    ops[i], spec_files_named(o));
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
			       "usage: reclaimbench build [VARIANT...] [--variants FILE]... [--executor local|slurm]\n\n"
			       "Builds the variants (default: all in the spec files, x86 and arm64), or finds them\n"
			       "in the cache, and prints each one's build id and kernel image.");
	struct plan p = { .what = "build", .o = &o, .names = &none, .argc = argc, .argv = argv, .accel = "none" };
	struct variant_set set;
	int bad, usage = 0;

	guest_opts_get(&o);
	variants_load_files(o.variant_files, o.nvariant_files, &set);
	for (int i = first; i < argc; i++)
		if (!variant_find(&set, argv[i]))
			die(EXIT_USAGE, "unknown variant '%s' in %s; see reclaimbench list variants", argv[i],
			    spec_files_named(&o));
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
			   "usage: reclaimbench run [VARIANT...] [--variants FILE]... [--tree DIR --ref REF]\n"
			   "       reclaimbench run --host\n"
			   "       [--bench NAME]... [--reps N] [--db PATH]\n\n"
			   "Builds what is missing, boots each variant (default: all in the spec files, x86\n"
			   "and arm64) and stores every repetition; --host runs on the running kernel instead.");
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
