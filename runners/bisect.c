/* reclaimbench bisect: a bisection of a tree between two refs, by a
 * benchmark's metric; reclaimbench bisect-step: one step of it, run by
 * git bisect run.  The bisection is bisection.c's. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

static const char *tree, *good_ref, *bad_ref, *bench, *bmetric;

static const struct opt bisect_opts[] = {
	{ "tree", OPT_STRING, &tree, 0, 0, "DIR", "the git tree (read only)" },
	{ "good", OPT_STRING, &good_ref, 0, 0, "REF", "a commit with the old behaviour" },
	{ "bad", OPT_STRING, &bad_ref, 0, 0, "REF", "a commit with the new behaviour" },
	{ "bench", OPT_STRING, &bench, 0, 0, "NAME", "the benchmark" },
	{ "metric", OPT_STRING, &bmetric, 0, 0, "NAME", "the metric that moved (e.g. time.wall, mthp.split_deferred)" },
	{ NULL }
};

int cmd_bisect_step(int argc, char **argv)
{
	/* Not parse_args: inside git bisect run, a status of 2 would mean "bad". */
	const struct opt *const tables[] = { bisect_opts, guest_opts, bench_params, NULL };
	int first = opts_parse(tables, argc, argv, 1, "usage: (run by git bisect) reclaimbench bisect-step ...");
	struct bisect_args args = { tree, good_ref, bad_ref, bench, bmetric };
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
		const char *d = bisect_step(&args, argc, argv);

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

int cmd_bisect(int argc, char **argv)
{
	const struct opt *const tables[] = { bisect_opts, guest_opts, bench_params, NULL };
	parse_options(tables, argc, argv,
			       "usage: reclaimbench bisect --tree DIR --good REF --bad REF --bench NAME --metric NAME\n\n"
			       "Finds the first commit whose METRIC is nearer the bad end's than the good end's,\n"
			       "with git bisect run; every step is stored, and the same command resumes.");
	struct bisect_args args = { tree, good_ref, bad_ref, bench, bmetric };

	return bisect_run(&args, argc, argv);
}
