/* The local executor: plan.c's jobs as child processes of this one, as
 * many at once as there are slots, each `reclaimbench job DIR` in a
 * process group of its own (stopped as a whole when the run is). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reclaimbench.h"

static void local_start(struct plan *p, struct job **js, int n)
{
	int others = 0;

	for (int i = 0; i < p->njobs; i++)
		others += p->jobs[i].state == JOB_RUNNING;
	for (int k = 0; k < n; k++) {
		struct job *j = js[k];
		char *exe = xasprintf("%s/reclaimbench", self_dir());
		pid_t pid, parent = getpid();

		fflush(NULL);
		if ((pid = fork()) < 0) {
			job_ended(p, j, 0, xasprintf("cannot start it: %s", strerror(errno)));
			continue;
		}
		if (pid == 0) {
			setpgid(0, 0);
			/* Killed outright (kill -9), we take the job with us: it
			 * stops its group as local_stop() would (job.c), rather than
			 * booting on beside the resumed plan's run of it. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				_exit(127);
			execl(exe, "reclaimbench", "job", j->dir, (char *)NULL);
			_exit(127);
		}
		setpgid(pid, pid);
		j->pid = pid;
		j->state = JOB_RUNNING;
		j->started = now_s();
		/* Whatever runs at once is not alone, on either side. */
		j->alone = !others && n == 1;
		if (others || n > 1)
			for (int i = 0; i < p->njobs; i++)
				if (p->jobs[i].state == JOB_RUNNING)
					p->jobs[i].alone = 0;
		others++;
		free(exe);
	}
}

static void local_poll(struct plan *p, int ms)
{
	double until = now_s() + ms / 1000.0;

	do {
		int ended = 0;

		for (int i = 0; i < p->njobs; i++) {
			struct job *j = &p->jobs[i];
			int st;

			if (j->state != JOB_RUNNING || waitpid(j->pid, &st, WNOHANG) != j->pid)
				continue;
			ended = 1;
			if (WIFSIGNALED(st))
				job_ended(p, j, 0, xasprintf("killed by signal %d", WTERMSIG(st)));
			else
				job_ended(p, j, 1, NULL);
		}
		if (ended || interrupted)
			return;
		usleep(100000);
	} while (now_s() < until);
}

static void local_stop(struct plan *p)
{
	for (int i = 0; i < p->njobs; i++)
		if (p->jobs[i].state == JOB_RUNNING)
			kill(-p->jobs[i].pid, SIGTERM);
	for (int i = 0; i < p->njobs; i++)
		if (p->jobs[i].state == JOB_RUNNING) {
			int st;

			for (int t = 0; t < 50 && waitpid(p->jobs[i].pid, &st, WNOHANG) == 0; t++)
				usleep(100000);
			if (waitpid(p->jobs[i].pid, &st, WNOHANG) == 0) {
				kill(-p->jobs[i].pid, SIGKILL);
				waitpid(p->jobs[i].pid, &st, 0);
			}
			p->jobs[i].state = JOB_FAILED;
			p->jobs[i].reason = xstrdup("interrupted");
		}
}

const struct executor local_executor = {
	.name = "local", .eager = 0, .start = local_start, .poll = local_poll, .stop = local_stop,
};
