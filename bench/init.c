/* /init of the reclaimbench guest: mounts what the benchmarks read, runs
 * rb-bench with the arguments in /plan (one a line), records going to the
 * second serial line (arm64: the virtio console, QEMU's -M virt having one
 * UART), and resets the machine, which ends QEMU (-no-reboot).
 * A reset needs no ACPI, which the guest kernel does not have; a power off
 * would without it only halt.  Static, libc only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __aarch64__
#define RECORDS_TTY "/dev/hvc0"
#else
#define RECORDS_TTY "/dev/ttyS1"
#endif
#define MAX_ARGS 64
/* A virtio console's port is added by a message from the host after the
 * device probes, maybe after /init starts: it is waited for this long
 * (guest time) before rb-bench fails to open it. */
#define RECORDS_WAIT_MS 10000

static void say(const char *fmt, const char *arg)
{
	printf("reclaimbench-init: ");
	printf(fmt, arg);
	putchar('\n');
	fflush(stdout);
}

static void mount_or_say(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		say("cannot mount %s", dir);
}

static void end_machine(void)
{
	sync();
	reboot(RB_AUTOBOOT);
	say("%s", "reset failed; halting");
	for (;;)
		pause();
}

/* With --mm-cpus (the benchmark's mm live on more CPUs than the one it
 * runs on), the kernel's own threads stay on CPU 0, the benchmark's, as
 * they are on a one-CPU guest; the other CPUs only take the benchmark's
 * hops, their ticks and IPIs.  Left free, RCU's grace-period kthread runs
 * on the idle CPU: the benchmark's CPU then passes a quiescent state
 * only when a tick finds it preemptible, which inside a zap under page
 * table locks is rare, or when RCU forces it after its scheduler-
 * enlistment delay (25 jiffies, 100 ms), so page tables freed by RCU
 * are freed after the window instead of in it (the method page's notes).
 * Per-CPU kthreads refuse (EINVAL) and stay.  Returns the threads moved. */
static int kthreads_to_cpu0(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	cpu_set_t zero;
	int moved = 0;

	CPU_ZERO(&zero);
	CPU_SET(0, &zero);
	while (d && (e = readdir(d))) {
		char path[300], stat[512], *p;
		unsigned long flags = 0;
		int fd, len;

		if (atoi(e->d_name) <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY);
		len = fd < 0 ? -1 : read(fd, stat, sizeof(stat) - 1);
		if (fd >= 0)
			close(fd);
		if (len <= 0 || !(p = strrchr((stat[len] = '\0', stat), ')')))
			continue;
		/* After "(comm)": state ppid pgrp session tty tpgid flags. */
		sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags);
		if ((flags & 0x00200000) && !sched_setaffinity(atoi(e->d_name), sizeof(zero), &zero))
			moved++;	/* PF_KTHREAD */
	}
	if (d)
		closedir(d);
	return moved;
}

/* The --mm-cpus of the plan, 1 when absent. */
static int plan_mm_cpus(char *const argv[])
{
	for (int i = 0; argv[i]; i++)
		if (!strncmp(argv[i], "--mm-cpus=", 10))
			return atoi(argv[i] + 10);
	return 1;
}

int main(void)
{
	static char plan[8192];
	char *argv[MAX_ARGS + 4];
	int argc = 0, fd, st;
	ssize_t n;
	pid_t pid;

	mount_or_say("proc", "/proc", "proc");
	mount_or_say("sysfs", "/sys", "sysfs");
	mount_or_say("devtmpfs", "/dev", "devtmpfs");
	mount_or_say("tracefs", "/sys/kernel/tracing", "tracefs");
	for (int ms = 0; access(RECORDS_TTY, W_OK) && ms < RECORDS_WAIT_MS; ms += 10)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	argv[argc++] = "/bin/rb-bench";
	argv[argc++] = "--out=" RECORDS_TTY;
	fd = open("/plan", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, plan, sizeof(plan) - 1);
	if (n < 0) {
		say("%s", "no /plan in the initramfs");
		end_machine();
	}
	plan[n] = '\0';
	for (char *line = strtok(plan, "\n"); line && argc < MAX_ARGS; line = strtok(NULL, "\n"))
		argv[argc++] = line;
	argv[argc] = NULL;
	/* RB_TEST_KTHREADS_FREE: the mode without it, to show the test fail. */
	if (plan_mm_cpus(argv) > 1 && !getenv("RB_TEST_KTHREADS_FREE")) {
		char count[16];

		snprintf(count, sizeof(count), "%d", kthreads_to_cpu0());
		say("%s kernel threads moved to CPU 0 (--mm-cpus)", count);
	}
	say("%s", "running the plan");
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		say("cannot exec %s", argv[0]);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	say("%s", "plan done, resetting the machine");
	end_machine();
	return 0;
}
