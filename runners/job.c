/* reclaimbench job DIR: one job of a plan (plan.c), run by an executor on
 * this machine or on a Slurm node.  Its inputs are DIR/argv (NUL-separated
 * arguments written by plan.c); it writes its log to DIR/log and, when it
 * ends by itself, DIR/result: "key=value" lines with status= (its exit
 * code), wall_s= and what it made.  The work runs in a child, so a job
 * that dies of bad input still leaves its status; a job that leaves no
 * result was stopped from outside (killed, cancelled, out of time).
 *
 *   source SPEC                                   a kernel source made ready
 *   build NAME SOURCE ARCH CMDLINE N CONFIG... M PATCH...   a variant built
 *   boot BUILD_DIR CMDLINE LOGDIR ACCEL MB CPUS TIMEOUT PLAN...
 *                                                 a plan booted on the kernel
 *                                                 that BUILD_DIR's job built
 * With --array FILE, the job is the line of FILE that $SLURM_ARRAY_TASK_ID
 * numbers (from 0): a Slurm job array. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reclaimbench.h"

static FILE *out;	/* DIR/result.part */

static void put(const char *key, const char *val)
{
	/* One line a value: no newline of a value can make a key of its own. */
	fprintf(out, "%s=", key);
	for (const char *c = val ? val : ""; *c; c++)
		fputc(*c == '\n' || *c == '\r' ? ' ' : *c, out);
	fputc('\n', out);
}

static int job_source(char **a, int n)
{
	char *path, *ref, *id;

	if (n != 2)
		die(EXIT_USAGE, "job source takes SPEC");
	source_ready(a[1], a[1], &path, &ref, &id);
	put("path", path), put("ref", ref), put("source_id", id);
	return 0;
}

static int job_build(char **a, int n)
{
	struct variant v = { 0 };
	struct built k;
	int i = 5;

	if (n < 7)
		die(EXIT_USAGE, "job build takes NAME SOURCE ARCH CMDLINE N CONFIG... M PATCH...");
	v.name = a[1], v.source = a[2], v.arch = a[3], v.cmdline = a[4];
	if (!arch_valid(v.arch))
		die(EXIT_USAGE, "job build: arch '%s' is not x86_64 or arm64", v.arch);
	v.nconfigs = atoi(a[i++]);
	if (v.nconfigs < 0 || i + v.nconfigs >= n)
		die(EXIT_USAGE, "job build: bad config count");
	v.configs = a + i;
	i += v.nconfigs;
	v.npatches = atoi(a[i++]);
	if (v.npatches < 0 || i + v.npatches != n)
		die(EXIT_USAGE, "job build: bad patch count");
	v.patches = a + i;
	variant_build(&v, &k);
	put("build_id", k.build_id), put("source_id", k.source_id), put("patches_hash", k.patches_hash);
	put("patchset_sha256", k.patchset_sha256);
	put("config_hash", k.config_hash), put("dir", k.dir), put("bzimage", k.bzimage);
	put("gen_init_cpio", k.gen_init_cpio), put("tree", k.tree), put("arch", k.arch);
	put("cached", k.cached ? "1" : "0"), put("rebuilt", k.rebuilt ? "1" : "0");
	put("source_path", k.source_path), put("source_ref", k.source_ref);
	return 0;
}

/* The selftests the plan asks for (its --selftests=SET, taken out of
 * it), built for the kernel of build job dir; without them the step
 * says so in the guest (a SKIP: no programs). */
static void selftests_pack(struct built *k, const char *dir, char **plan)
{
	const char *set = selftests_take(plan);

	if (!set)
		return;
	k->source_path = result_get(dir, "source_path");
	k->source_ref = result_get(dir, "source_ref");
	k->source_id = result_get(dir, "source_id");
	k->selftests = selftests_ready(k, set);
}

static int job_boot(char **a, int n)
{
	struct built k = { 0 };
	struct boot b = { 0 };
	struct load_mark load;
	double others;

	if (n < 9)
		die(EXIT_USAGE, "job boot takes BUILD_DIR CMDLINE LOGDIR ACCEL MB CPUS TIMEOUT PLAN...");
	k.bzimage = result_get(a[1], "bzimage");
	k.gen_init_cpio = result_get(a[1], "gen_init_cpio");
	k.arch = result_get(a[1], "arch");
	if (!k.bzimage || !k.gen_init_cpio || !k.arch || !arch_valid(k.arch))
		die(EXIT_INFRA, "the build job '%s' left no kernel", a[1]);
	selftests_pack(&k, a[1], a + 8);
	b.logdir = a[3], b.accel = a[4], b.mem_mb = atoi(a[5]), b.cpus = atoi(a[6]), b.timeout_s = atoi(a[7]);
	b.label = a[3], b.quiet = 1;
	/* Timed by the host's clock: the machine's other work is in its
	 * window, so wait for quiet, then say how much there was. */
	if (strcmp(b.accel, ACCEL_ICOUNT)) {
		const char *wait = getenv("RECLAIMBENCH_QUIET_WAIT");

		put("quiet_wait_s", xasprintf("%.0f", load_wait_quiet(wait && *wait ? atoi(wait) : QUIET_WAIT_S)));
		load_start(&load);
	}
	/* No guest at all (no initramfs, no QEMU): the harness failed, not
	 * the kernel; the error lines above say why. */
	if (guest_boot(&k, a[2], a + 8, &b) && !b.failure)
		die(EXIT_INFRA, "the guest could not be started");
	/* A guest that failed is data (the runs' reason), not a failed job. */
	put("failure", b.failure ? b.failure : "");
	put("emulator", guest_emulator(k.arch, b.accel));
	put("boot_wall_s", xasprintf("%.3f", b.wall_s));
	if (strcmp(b.accel, ACCEL_ICOUNT) && (others = load_others(&load)) >= 0)
		put("others_cpus", xasprintf("%.3f", others));
	return 0;
}

/* SIGTERM to a job that leads its process group (the local executor's
 * stop, or its death: local.c) stops the whole group, whatever the
 * signal reached: the work and what it started, a build's scripts too. */
static void on_term(int sig)
{
	signal(sig, SIG_DFL);
	kill(0, sig);
}

static char **argv_read(const char *dir, int *n)
{
	char *path = xasprintf("%s/argv", dir), *text;
	size_t len;
	char **a;
	int k = 0;

	if (!(text = read_file(path, &len)))
		die(EXIT_USAGE, "cannot read '%s': %s; is '%s' a job folder of a plan?", path, strerror(errno), dir);
	a = calloc(len + 2, sizeof(char *));
	for (size_t i = 0; i < len; i += strlen(text + i) + 1)
		a[k++] = text + i;
	*n = k;
	free(path);
	return a;
}

/* The folder of array task $SLURM_ARRAY_TASK_ID in the list FILE. */
static char *array_dir(const char *list)
{
	const char *id = getenv("SLURM_ARRAY_TASK_ID");
	char *text = read_file(list, NULL), *l = text;
	int want = id ? atoi(id) : -1;

	if (!text || want < 0)
		die(EXIT_USAGE, "job --array '%s': no list, or no $SLURM_ARRAY_TASK_ID", list);
	for (int i = 0; l && *l && i < want; i++)
		l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL;
	if (!l || !*l)
		die(EXIT_USAGE, "job --array '%s': no task %d", list, want);
	return xasprintf("%.*s", (int)strcspn(l, "\n"), l);
}

int cmd_job(int argc, char **argv)
{
	const char *dir;
	char *part, *final, **a;
	struct timespec t0, t1;
	int n, st, fd;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "--array"))
		dir = array_dir(argv[2]);
	else if (argc == 2 && argv[1][0] != '-')
		dir = argv[1];
	else
		die(EXIT_USAGE, "usage: reclaimbench job DIR | job --array FILE (run by plans, not by hand)");
	a = argv_read(dir, &n);
	part = xasprintf("%s/result.part", dir), final = xasprintf("%s/result", dir);
	unlink(final);
	fd = open(xasprintf("%s/log", dir), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		die(EXIT_INFRA, "cannot write the log of job '%s': %s", dir, strerror(errno));
	dup2(fd, 1), dup2(fd, 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(out = fopen(part, "we")))
		die(EXIT_INFRA, "cannot write '%s': %s", part, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (getpgrp() == getpid())
		signal(SIGTERM, on_term);
	fflush(NULL);
	if ((pid = fork()) < 0)
		die(EXIT_INFRA, "fork: %s", strerror(errno));
	if (pid == 0) {
		int rc = EXIT_USAGE;

		signal(SIGTERM, SIG_DFL);
		if (!strcmp(a[0], "source"))
			rc = job_source(a, n);
		else if (!strcmp(a[0], "build"))
			rc = job_build(a, n);
		else if (!strcmp(a[0], "boot"))
			rc = job_boot(a, n);
		else
			error("unknown job kind '%s' in '%s/argv'", a[0], dir);
		fflush(out);
		_exit(rc);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fclose(out);
	/* The child's lines stand only if it ended well. */
	if (!(out = fopen(part, WIFEXITED(st) && !WEXITSTATUS(st) ? "ae" : "we")))
		die(EXIT_INFRA, "cannot write '%s': %s", part, strerror(errno));
	fprintf(out, "status=%d\nwall_s=%.3f\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (fclose(out) || rename(part, final))
		die(EXIT_INFRA, "cannot write '%s': %s", final, strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_INFRA;
}
