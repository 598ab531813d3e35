/* reclaimbench: build kernel variants, boot them, run reclaim benchmarks,
 * keep every sample in SQLite, and compare.  One table of subcommands. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reclaimbench.h"


static const struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} subcommands[] = {
	{ "run", cmd_run, "run benchmarks on the host (--host) or on built kernel variants" },
	{ "build", cmd_build, "build kernel variants only (cached by build id)" },
	{ "bisect", cmd_bisect, "find the commit that moved a metric (git bisect run; resumable)" },
	{ "nightly", cmd_nightly, "run a tree's newest commit, keep history, bisect when a metric steps" },
	{ "bisect-step", cmd_bisect_step, "one step of a bisection (run by git bisect)" },
	{ "job", cmd_job, "one job of a plan (run by the executors: local or Slurm)" },
	{ "gate", cmd_gate, "apply a patch to a variant, A/B boots, exit 0 pass / 1 regression / 3 undecided" },
	{ "fetch", cmd_fetch, "fetch a patch by URL or Message-ID (libcurl)" },
	{ "publish", cmd_publish, "POST a run as JSON to a collecting lab" },
	{ "ingest", cmd_ingest, "store a records file made elsewhere" },
	{ "list", cmd_list, "list benches, variants or runs" },
	{ "show", cmd_show, "print one run's samples as a table" },
	{ "summary", cmd_summary, "print the table a run ends with, for the newest runs in the database" },
	{ "report", cmd_report, "write the static HTML report with gnuplot charts" },
	{ "compare", cmd_compare, "compare two variants or runs with medians, intervals and a U test" },
	{ NULL }
};

static void usage(FILE *f)
{
	fprintf(f, "usage: reclaimbench <subcommand> [options]   (each takes --help and --db PATH)\n\n");
	for (const struct subcommand *c = subcommands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->help);
	fprintf(f, "\nexit codes: 0 ok, 1 negative verdict, 2 bad usage or input, 3 build/boot/run failure\n");
}

int main(int argc, char **argv)
{
	clock_gettime(CLOCK_MONOTONIC, &process_start);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A full disk or a file size limit is an error SQLite reports and
	 * rolls back, not a signal that kills us mid-transaction. */
	signal(SIGXFSZ, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (const struct subcommand *c = subcommands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	die(EXIT_USAGE, "unknown subcommand '%s'; see reclaimbench --help", argv[1]);
}
