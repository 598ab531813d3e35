/* CPU time: what a run used (for its closing line), and what the rest of
 * the machine used while a boot timed by the host's clock ran. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reclaimbench.h"

/* CPU time of this process and everything it starts, sandboxed builds
 * and QEMU included: those run under bubblewrap, whose processes never
 * reach our RUSAGE_CHILDREN (the method page's notes).  A cgroup of our own counts them: cgroup v1's cpuacct, or v2's
 * cpu.stat.  Without one (not root), rusage, which says what it misses. */
static char *cpu_cgroup;

static int write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "we");
	int bad;

	if (!f)
		return -1;
	bad = fputs(s, f) < 0;
	return fclose(f) || bad ? -1 : 0;
}

void cpu_account_start(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char pid[32];

	if (cpu_cgroup)
		return;
	snprintf(pid, sizeof(pid), "%d", getpid());
	for (int i = 0; i < 3 && !cpu_cgroup; i++) {
		char *dir = xasprintf("%s/reclaimbench-%d", roots[i], getpid());
		char *procs = xasprintf("%s/cgroup.procs", dir);

		if (access(xasprintf("%s/cgroup.procs", roots[i]), W_OK) == 0 && mkdir(dir, 0755) == 0) {
			if (write_str(procs, pid) == 0)
				cpu_cgroup = dir;
			else
				rmdir(dir);
		}
		if (!cpu_cgroup)
			free(dir);
		free(procs);
	}
}

/* CPU-seconds a cgroup's processes have used (v1's cpuacct.usage, v2's
 * cpu.stat), or -1. */
static double cgroup_cpu_s(const char *dir)
{
	char *text = NULL;
	double cpu = -1;

	if (dir && (text = read_file(xasprintf("%s/cpuacct.usage", dir), NULL)))
		cpu = atof(text) / 1e9;
	else if (dir && (text = read_file(xasprintf("%s/cpu.stat", dir), NULL)) && strstr(text, "usage_usec "))
		cpu = atof(strstr(text, "usage_usec ") + 11) / 1e6;
	free(text);
	return cpu;
}

static double rusage_s(int who)
{
	struct rusage u;

	getrusage(who, &u);
	return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* CPU-seconds so far; *how says how they were counted. */
static double cpu_seconds(const char **how)
{
	double cpu;

	if (cost_note) {
		*how = cost_note;
		return rusage_s(RUSAGE_SELF);
	}
	*how = "";
	if ((cpu = cgroup_cpu_s(cpu_cgroup)) >= 0)
		return cpu;
	*how = ", sandboxed builds and QEMU not counted: run as root for a cgroup that counts them";
	return rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN);
}

/* Wall time since the process started and the CPU time it and its
 * children (builds, QEMU) used: how far a run is from the floor that
 * its CPU-seconds set on this machine's cores.  The cgroup is left. */
void cost_print(const char *what)
{
	struct timespec now;
	const char *how;
	double cpu = cpu_seconds(&how), wall;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	clock_gettime(CLOCK_MONOTONIC, &now);
	wall = now.tv_sec - process_start.tv_sec + (now.tv_nsec - process_start.tv_nsec) / 1e9;
	printf("%s: %.0f s wall, %.0f CPU-seconds (%.0f s on %ld cores at best%s)\n", what, wall, cpu, cpu / cores,
	       cores, how);
	if (cpu_cgroup) {
		char pid[32], *parent = xstrdup(cpu_cgroup);

		snprintf(pid, sizeof(pid), "%d", getpid());
		*strrchr(parent, '/') = '\0';
		if (write_str(xasprintf("%s/cgroup.procs", parent), pid) == 0)
			rmdir(cpu_cgroup);	/* fails while a child lingers: the kernel keeps it */
		free(parent);
	}
}

/* ---- The rest of the machine ------------------------------------------- */

/* CPU-seconds the machine has been busy since it booted: /proc/stat's
 * total but idle and iowait.  Steal counts as busy: the hypervisor gave
 * our CPUs to someone else, which slows a guest just as a neighbour does. */
static double machine_busy_s(void)
{
	unsigned long long v[8] = { 0 };
	char *text = read_file("/proc/stat", NULL);
	long hz = sysconf(_SC_CLK_TCK);
	double busy = -1;

	if (text && sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
			   &v[5], &v[6], &v[7]) == 8)
		busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;	/* not [3] idle, [4] iowait */
	free(text);
	return busy;
}

/* The folder of the cgroup that counts this process's CPU time, or NULL
 * in a root cgroup (which counts everyone's).  /proc/self/cgroup has a
 * line "ID:CONTROLLERS:PATH" per hierarchy: v1's with cpuacct among its
 * controllers, or v2's with none. */
static char *own_cgroup(void)
{
	static const char *const v1roots[] = { "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct", NULL };
	static const char *const v2roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", NULL };
	char *text = read_file("/proc/self/cgroup", NULL), *dir = NULL, *save = NULL;

	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l && !dir; l = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(l, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
		const char *const *roots;

		if (!path || !strcmp(path, ":/"))
			continue;
		*path++ = '\0';
		if (!strcmp(ctl, ":"))
			roots = v2roots;
		else if (strstr(ctl, "cpuacct"))
			roots = v1roots;
		else
			continue;
		for (int i = 0; roots[i] && !dir; i++)
			if (cgroup_cpu_s(dir = xasprintf("%s%s", roots[i], path)) < 0)
				free(dir), dir = NULL;
	}
	free(text);
	return dir;
}

void load_start(struct load_mark *m)
{
	char *cg = own_cgroup();

	m->t = now_s();
	m->busy = machine_busy_s();
	m->ours = cgroup_cpu_s(cg);
	free(cg);
}

/* The CPUs' worth of work the rest of the machine did since the mark:
 * its busy time less our cgroup's, over the wall time; -1 unknown.  The
 * machine's time is counted in ticks, ours to the nanosecond: on a quiet
 * machine the difference comes out a little below 0 as often as above. */
double load_others(const struct load_mark *since)
{
	struct load_mark now;
	double others;

	load_start(&now);
	if (since->busy < 0 || since->ours < 0 || now.t <= since->t)
		return -1;
	others = ((now.busy - since->busy) - (now.ours - since->ours)) / (now.t - since->t);
	return others > 0 ? others : 0;
}

/* Before a boot timed by the host's clock: wait up to limit_s seconds for
 * the machine to be quiet (this job sleeps meanwhile, so whatever is busy
 * is someone else's); the seconds waited. */
double load_wait_quiet(int limit_s)
{
	double t0 = now_s();

	for (;;) {
		double b0 = machine_busy_s(), t = now_s(), busy;

		usleep(500000);
		busy = (machine_busy_s() - b0) / (now_s() - t);
		if (b0 < 0 || busy <= QUIET_CPUS || now_s() - t0 >= limit_s)
			return now_s() - t0 < 1 ? 0 : now_s() - t0;
	}
}
