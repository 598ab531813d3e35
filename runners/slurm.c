/* The Slurm executor: plan.c's jobs submitted with sbatch, each waiting
 * for its inputs with afterok dependencies (Slurm cancels it when one of
 * them failed), jobs of one kind with the same inputs as one job array,
 * boots timed on the host's clock as exclusive jobs.  Their state is
 * followed with squeue (sacct once squeue has forgotten a job).  Nothing
 * here decides where or when a job runs: that is Slurm's work.  The spool
 * folder, the cache and this binary must be at the same paths on every
 * node (a shared file system). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reclaimbench.h"

/* A Slurm command's output; NULL and its first line in err when it failed. */
static char *slurm_cmd(char *const argv[], char *err, size_t cap)
{
	int st;
	char *out = cmd_output(argv, 1, &st);

	if (st == 0)
		return out;
	snprintf(err, cap, "%s: %.*s", argv[0], (int)strcspn(out, "\n"), out);
	free(out);
	return NULL;
}

/* Whether two jobs can be one array: same kind, inputs and exclusivity. */
static int same_group(const struct plan *p, const struct job *a, const struct job *b)
{
	if (a->kind != b->kind || a->exclusive != b->exclusive || a->ndeps != b->ndeps)
		return 0;
	for (int d = 0; d < a->ndeps; d++)
		if (a->deps[d] != b->deps[d])
			return 0;
	return p->ex == &slurm_executor;
}

static void submit(struct plan *p, struct job **js, int n)
{
	static int batches;
	const struct run_opts *o = p->o;
	char *script = xasprintf("%s/batch-%d.sh", p->dir, batches), *list = xasprintf("%s/array-%d", p->dir, batches);
	char *args[32], *out, err[512], *dep = NULL;
	int a = 0;
	FILE *f;

	batches++;
	/* The script names only our own binary and the plan's files (the
	 * spool's name was checked by plan.c), each in single quotes. */
	if (strpbrk(self_dir(), "'\n"))
		die(EXIT_USAGE, "reclaimbench lives in '%s', a folder with a quote or newline in its name; move it", self_dir());
	if (!(f = fopen(script, "we")))
		die(EXIT_INFRA, "cannot write '%s': %s", script, strerror(errno));
	fprintf(f, "#!/bin/sh\n# reclaimbench: %d %s job(s) of plan %s\n", n, js[0]->kind == JOB_BOOT ? "boot" :
		js[0]->kind == JOB_BUILD ? "build" : "source", p->dir);
	if (n == 1)
		fprintf(f, "exec '%s/reclaimbench' job '%s'\n", self_dir(), js[0]->dir);
	else
		fprintf(f, "exec '%s/reclaimbench' job --array '%s'\n", self_dir(), list);
	if (fclose(f))
		die(EXIT_INFRA, "cannot write '%s': %s", script, strerror(errno));
	if (n > 1) {
		if (!(f = fopen(list, "we")))
			die(EXIT_INFRA, "cannot write '%s': %s", list, strerror(errno));
		for (int i = 0; i < n; i++)
			fprintf(f, "%s\n", js[i]->dir);
		fclose(f);
	}
	for (int d = 0; d < js[0]->ndeps; d++) {
		struct job *x = &p->jobs[js[0]->deps[d]];
		char *t;

		if (x->state == JOB_DONE)
			continue;
		t = xasprintf("%s%s%s", dep ? dep : "afterok", ":", x->slurm_id);
		free(dep);
		dep = t;
	}
	args[a++] = "sbatch", args[a++] = "--parsable";
	args[a++] = xasprintf("--job-name=rb-%s-%s", js[0]->kind == JOB_BOOT ? "boot" : js[0]->kind == JOB_BUILD ?
			      "build" : "source", n == 1 ? js[0]->label : "array");
	args[a++] = xasprintf("--output=%s/slurm-%%A_%%a.out", p->dir);
	args[a++] = xasprintf("--chdir=%s", p->dir);
	args[a++] = "--kill-on-invalid-dep=yes";
	if (o->partition)
		args[a++] = xasprintf("--partition=%s", o->partition);
	if (o->account)
		args[a++] = xasprintf("--account=%s", o->account);
	if (js[0]->exclusive)
		args[a++] = "--exclusive";
	if (dep)
		args[a++] = xasprintf("--dependency=%s", dep);
	if (n > 1)
		args[a++] = xasprintf("--array=0-%d", n - 1);
	args[a++] = script;
	args[a] = NULL;
	if (!(out = slurm_cmd(args, err, sizeof(err)))) {
		for (int i = 0; i < n; i++)
			job_ended(p, js[i], 0, xasprintf("sbatch refused it: %s", err));
		return;
	}
	out[strcspn(out, ";\n")] = '\0';	/* "JOBID" or "JOBID;CLUSTER" */
	if (!*out || strspn(out, "0123456789") != strlen(out)) {
		for (int i = 0; i < n; i++)
			job_ended(p, js[i], 0, xasprintf("sbatch printed no job id ('%.60s')", out));
		free(out);
		return;
	}
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/slurm-id", js[i]->dir);

		js[i]->slurm_id = n == 1 ? xstrdup(out) : xasprintf("%s_%d", out, i);
		js[i]->state = JOB_QUEUED;
		js[i]->alone = js[i]->exclusive ? 1 : -1;
		if ((f = fopen(path, "we")))
			fprintf(f, "%s\n", js[i]->slurm_id), fclose(f);
		free(path);
	}
	progress("submitted %d %s job(s) as Slurm job %s%s%s", n, js[0]->kind == JOB_BOOT ? "boot" :
		 js[0]->kind == JOB_BUILD ? "build" : "source", out, dep ? ", after " : "", dep ? dep + 8 : "");
	free(out), free(dep);
}

static void slurm_start(struct plan *p, struct job **js, int n)
{
	char *done = calloc(n + 1, 1);

	for (int i = 0; i < n; i++) {
		struct job *group[n];
		int g = 0;

		if (done[i])
			continue;
		for (int k = i; k < n; k++)
			if (!done[k] && same_group(p, js[i], js[k]))
				group[g++] = js[k], done[k] = 1;
		submit(p, group, g);
	}
	free(done);
}

static struct job *by_id(struct plan *p, const char *id)
{
	for (int i = 0; i < p->njobs; i++)
		if (p->jobs[i].slurm_id && !strcmp(p->jobs[i].slurm_id, id))
			return &p->jobs[i];
	return NULL;
}

static int terminal(const char *state)
{
	static const char *const states[] = { "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL",
					      "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", NULL };

	for (int i = 0; states[i]; i++)
		if (!strncmp(state, states[i], strlen(states[i])))
			return 1;
	return 0;
}

/* One job changed to state (Slurm's word); reason as squeue gives it. */
static void state_seen(struct plan *p, struct job *j, const char *state, const char *reason)
{
	if (!strcmp(state, "RUNNING") || !strcmp(state, "COMPLETING")) {
		if (j->state != JOB_RUNNING)
			j->started = now_s(), j->state = JOB_RUNNING;
	} else if (!strcmp(state, "COMPLETED")) {
		job_ended(p, j, 1, NULL);
	} else if (terminal(state)) {
		job_ended(p, j, 0, xasprintf("Slurm job %s %s%s%s", j->slurm_id, state,
					     reason && *reason && strcmp(reason, "None") ? ": " : "",
					     reason && strcmp(reason, "None") ? reason : ""));
	} else if (reason && !strcmp(reason, "DependencyNeverSatisfied")) {
		char *args[] = { "scancel", j->slurm_id, NULL }, err[256];

		free(slurm_cmd(args, err, sizeof(err)));
		job_ended(p, j, 0, xasprintf("Slurm job %s: an input failed", j->slurm_id));
	}
}

/* What squeue no longer shows: sacct, where accounting is kept, else the
 * job's own result file. */
static void forgotten(struct plan *p, struct job *j)
{
	char *args[] = { "sacct", "-n", "-P", "-X", "-o", "State", "-j", j->slurm_id, NULL }, err[256];
	char *out = slurm_cmd(args, err, sizeof(err));
	char *r = result_get(j->dir, "status");

	if (out && *out) {
		out[strcspn(out, " \n")] = '\0';
		state_seen(p, j, out, NULL);
	} else {
		job_ended(p, j, r != NULL, r ? NULL : xasprintf("Slurm job %s vanished without a result", j->slurm_id));
	}
	free(out), free(r);
}

static void slurm_poll(struct plan *p, int ms)
{
	char *ids = NULL, *out, err[512];
	int n = 0;

	for (int i = 0; i < p->njobs; i++) {
		struct job *j = &p->jobs[i];
		char *t;

		if (j->state != JOB_QUEUED && j->state != JOB_RUNNING)
			continue;
		t = xasprintf("%s%s%.*s", ids ? ids : "", ids ? "," : "", (int)strcspn(j->slurm_id, "_"), j->slurm_id);
		free(ids);
		ids = t, n++;
	}
	usleep(ms * 1000);
	if (!n)
		return;
	{
		char *args[] = { "squeue", "-h", "-r", "--states=all", "-o", "%i|%T|%r", "-j", ids, NULL };

		out = slurm_cmd(args, err, sizeof(err));
	}
	if (!out) {
		progress("squeue failed (%s); trying again", err);
		free(ids);
		return;
	}
	{
		/* In the plan's order, inputs first: a build's failure is known
		 * before the boots Slurm cancelled for it. */
		char **state = calloc(p->njobs + 1, sizeof(char *)), **reason = calloc(p->njobs + 1, sizeof(char *));

		for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
			char *id = l, *s = strchr(l, '|'), *r;
			struct job *j;

			if (!s)
				continue;
			*s++ = '\0';
			if ((r = strchr(s, '|')))
				*r++ = '\0';
			if ((j = by_id(p, id)))
				state[j - p->jobs] = s, reason[j - p->jobs] = r;
		}
		for (int i = 0; i < p->njobs; i++) {
			if (p->jobs[i].state != JOB_QUEUED && p->jobs[i].state != JOB_RUNNING)
				continue;
			if (state[i])
				state_seen(p, &p->jobs[i], state[i], reason[i]);
			else
				forgotten(p, &p->jobs[i]);
		}
		free(state), free(reason);
	}
	free(out), free(ids);
}

static void slurm_stop(struct plan *p)
{
	for (int i = 0; i < p->njobs; i++) {
		struct job *j = &p->jobs[i];
		char *args[] = { "scancel", j->slurm_id, NULL }, err[256];

		if (j->state != JOB_QUEUED && j->state != JOB_RUNNING)
			continue;
		free(slurm_cmd(args, err, sizeof(err)));
		j->state = JOB_FAILED;
		j->reason = xstrdup("interrupted");
	}
}

const struct executor slurm_executor = {
	.name = "slurm", .eager = 1, .start = slurm_start, .poll = slurm_poll, .stop = slurm_stop,
};
