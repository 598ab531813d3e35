/* /init of the reclaimbench guest: mounts what the benchmarks read, runs
 * rb-bench with the arguments in /plan (one a line), records going to the
 * second serial line (arm64: the virtio console, QEMU's -M virt having one
 * UART), and resets the machine, which ends QEMU (-no-reboot).
 * A reset needs no ACPI, which the guest kernel does not have; a power off
 * would without it only halt.  Static, libc only. */
#include <errno.h>
#include <fcntl.h>
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
