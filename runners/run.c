/* reclaimbench run: on the running kernel (--host) or on kernel variants. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

	av[n++] = xstrdup(exe);
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

int cmd_run(int argc, char **argv)
{
	static int host;
	static struct opt_list names;
	static const struct opt own[] = {
		{ "host", OPT_FLAG, &host, 0, 0, NULL, "run on the running kernel (as root), no build or boot" },
		{ "bench", OPT_LIST, &names, 0, 0, "NAME", "benchmark to run (default: all)" },
		{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, bench_params, NULL };
	int first = opts_parse(tables, argc, argv, 1,
			       "usage: reclaimbench run --host [--bench NAME]... [--reps N] [--db PATH]");

	if (first == -2)
		return EXIT_OK;
	if (first < 0)
		return EXIT_USAGE;
	for (int i = 0; i < names.n; i++)
		if (!bench_find(names.v[i]))
			die(EXIT_USAGE, "unknown benchmark '%s'; see reclaimbench list benches", names.v[i]);
	{
		char err[256];

		if (params_check(err, sizeof(err)))
			die(EXIT_USAGE, "%s", err);
	}
	if (!names.n)
		for (int i = 0; i < nbenches; i++)
			names.v[names.n++] = benches[i]->name;
	if (!host)
		die(EXIT_USAGE, "kernel variants are not built yet; use run --host");
	if (first < argc)
		die(EXIT_USAGE, "run --host takes no operand ('%s'); name benchmarks with --bench", argv[first]);
	return run_host(argc, argv, &names);
}
