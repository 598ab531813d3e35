/* CPUs: which ones we may run on, and pinning a thread or this task to one. */
#include <sched.h>

#include "helpers.h"

int cpus_first(cpu_set_t *saved, int *cpu, int n)
{
	int found = 0;

	if (sched_getaffinity(0, sizeof(*saved), saved))
		return -1;
	for (int c = 0; c < CPU_SETSIZE && found < n; c++)
		if (CPU_ISSET(c, saved))
			cpu[found++] = c;
	return found;
}

int thread_pin(pthread_t t, int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(t, sizeof(s), &s);
}

int run_on(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	/* sched_setaffinity() moves a running task before it returns. */
	return sched_setaffinity(0, sizeof(one), &one) || sched_getcpu() != cpu ? -1 : 0;
}
