/* Boot a built kernel under QEMU with the project's initramfs (its own
 * /init, rb-bench and the plan), records coming back on the second serial
 * line, the console on the first.  Every boot has a time limit; a hang, a
 * panic or missing records come back as a failure reason, never a crash.
 * arm64 kernels boot under qemu-system-aarch64 -M virt, whose one PL011 is
 * the console; their records come back on a virtio console (hvc0). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reclaimbench.h"

/* What a guest may write: past these its boot is stopped (the console is
 * checked while it runs; every file QEMU writes has a hard limit above). */
#define CONSOLE_MAX_MB 16
#define RECORDS_MAX_MB 32
#define QEMU_FILE_MAX_MB 64
#define INITRAMFS_MAX_MB 64
/* QEMU's memory cgroup: the guest's RAM, TCG's code buffer (up to 1 GiB)
 * and QEMU itself; the same as an address-space limit where there is no
 * memory cgroup. */
#define QEMU_MEM_EXTRA_MB 2048

/* argv[] of runners/scripts/sandbox.sh with opts (NULL-ended) before "--": the
 * command that follows runs in the project's sandbox. */
static int sandbox_argv(char **argv, char *const opts[])
{
	int n = 0;

	argv[n++] = "sh";
	argv[n++] = xasprintf("%s/../runners/scripts/sandbox.sh", self_dir());
	for (int i = 0; opts[i]; i++)
		argv[n++] = opts[i];
	argv[n++] = "--";
	return n;
}

static int write_text_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		return error("cannot write '%s': %s", path, strerror(errno));
	return 0;
}

/* The folder of the guest programs (rb-init, rb-bench) of arch: the
 * build folder for x86_64, its aarch64/ for arm64 (make all builds both). */
static char *guest_bin_dir(const char *arch)
{
	return strcmp(arch, "arm64") ? xstrdup(self_dir()) : xasprintf("%s/aarch64", self_dir());
}

/* The mm selftests of folder dir appended to an initramfs list, as
 * /selftests/NAME; the names are our own build's ([a-z0-9_-]). */
static int selftests_list(const char *dir, char **list)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *more = xasprintf("%sdir /selftests 0755 0 0\n", *list), *skipped = xasprintf("%s/../skipped", dir);

	if (!d)
		return error("cannot read the selftests in '%s': %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		char *next;

		if (e->d_name[0] == '.' || strspn(e->d_name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(e->d_name))
			continue;
		next = xasprintf("%sfile /selftests/%s %s/%s 0755 0 0\n", more, e->d_name, dir, e->d_name);
		free(more);
		more = next;
	}
	closedir(d);
	/* What the host could not build, for the guest to say so. */
	if (access(skipped, R_OK) == 0) {
		char *next = xasprintf("%sfile /selftests/skipped %s 0644 0 0\n", more, skipped);

		free(more);
		more = next;
	}
	free(skipped);
	free(*list);
	*list = more;
	return 0;
}

static int make_initramfs(const struct built *k, struct boot *b, char *const plan[])
{
	char *list = xasprintf("%s/initramfs.list", b->logdir), *planf = xasprintf("%s/plan", b->logdir);
	char *cpio = xasprintf("%s/initramfs.cpio", b->logdir), *text, *p, *init;
	char *bin = guest_bin_dir(k->arch);
	size_t len = 0;
	int rc;

	for (int i = 0; plan[i]; i++)
		len += strlen(plan[i]) + 1;
	p = text = calloc(1, len + 1);
	for (int i = 0; plan[i]; i++)
		p += sprintf(p, "%s\n", plan[i]);
	if (write_text_file(planf, text))
		return -1;
	free(text);
	/* RECLAIMBENCH_INIT replaces /init: the tests boot a broken one. */
	init = getenv("RECLAIMBENCH_INIT") ? xstrdup(getenv("RECLAIMBENCH_INIT")) : xasprintf("%s/rb-init", bin);
	{
		char *bench = xasprintf("%s/rb-bench", bin), *missing = access(init, R_OK) ? init :
			access(bench, R_OK) ? bench : NULL;

		if (missing)
			return error("'%s' does not exist (a guest program for %s): run 'make all'", missing, k->arch);
		free(bench);
	}
	text = xasprintf("dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n"
			 "dir /proc 0755 0 0\ndir /sys 0755 0 0\ndir /bin 0755 0 0\n"
			 "file /init %s 0755 0 0\nfile /bin/rb-bench %s/rb-bench 0755 0 0\n"
			 "file /plan %s 0644 0 0\n", init, bin, planf);
	free(init);
	if (k->selftests && selftests_list(k->selftests, &text))
		return -1;
	if (write_text_file(list, text))
		return -1;
	free(text);
	/* gen_init_cpio was built from the kernel's (maybe patched) tree:
	 * it runs sandboxed, seeing only what it packs. */
	{
		int fd = open(cpio, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), st;
		char *init_path = getenv("RECLAIMBENCH_INIT") ? getenv("RECLAIMBENCH_INIT")
							      : xasprintf("%s/rb-init", bin);
		/* The initramfs it writes (our two programs and the plan: a
		 * few MB) is cut at INITRAMFS_MAX_MB. */
		char *opts[] = { "-t", "120", "-m", "256", "-o", xasprintf("%d", INITRAMFS_MAX_MB), "-r", k->gen_init_cpio,
				 "-r", list, "-r", planf, "-r", init_path, "-r", xasprintf("%s/rb-bench", bin),
				 k->selftests ? "-r" : NULL, k->selftests ? xasprintf("%s/..", k->selftests) : NULL, NULL };
		char *argv[32];
		int n = sandbox_argv(argv, opts);
		pid_t pid;

		argv[n++] = k->gen_init_cpio, argv[n++] = list, argv[n] = NULL;
		fflush(NULL);
		pid = fd < 0 ? -1 : fork();
		if (pid == 0) {
			dup2(fd, 1);
			execvp(argv[0], argv);
			_exit(127);
		}
		rc = pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st);
		if (fd >= 0)
			close(fd);
	}
	if (rc)
		return error("gen_init_cpio failed for '%s'", list);
	b->initramfs = cpio;
	return 0;
}

static char *first_line_with(const char *text, const char *needle)
{
	const char *p = text ? strstr(text, needle) : NULL;
	char *line;

	if (!p)
		return NULL;
	while (p > text && p[-1] != '\n')
		p--;
	/* Guest text: cut, control bytes as '?'. */
	line = xasprintf("%.*s", (int)(strcspn(p, "\r\n") < 200 ? strcspn(p, "\r\n") : 200), p);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return line;
}

#define KVM_CPU "host,-arch-capabilities"
/* arm64 under TCG: QEMU's "max" CPU, for what recent phones have and the
 * kernels use: ARMv8.4's range TLBIs (one for a batch of a large folio's
 * PTEs), LSE atomics (contiguous PTEs are in every ARMv8).  QEMU 7.2's max
 * has no hardware access/dirty flag update: the kernel keeps young and
 * dirty in software.  Its pointer authentication uses QEMU's cheaper
 * algorithm: the architected QARMA5 costs host time on every kernel
 * function's entry and return (instruction counts are the same). */
#define ARM64_CPU "max,pauth-impdef=on"
#define ARM64_KVM_CPU "host"

#if defined(__x86_64__)
#include <x86intrin.h>

/* A TSC reading and CLOCK_MONOTONIC_RAW's at the same moment: the clock
 * read between two TSC reads less than 10,000 cycles apart (no preemption
 * in between). */
static int tsc_at(uint64_t *tsc, double *ns)
{
	for (int i = 0; i < 100; i++) {
		struct timespec t;
		uint64_t a = __rdtsc(), b;

		clock_gettime(CLOCK_MONOTONIC_RAW, &t);
		b = __rdtsc();
		if (b - a < 10000) {
			*tsc = a + (b - a) / 2, *ns = t.tv_sec * 1e9 + t.tv_nsec;
			return 0;
		}
	}
	return -1;
}
#endif

/* The host's TSC rate in kHz, over 50 ms of its clock; 0 when unknown.
 * Under TCG without icount a guest's rdtsc reads the host's TSC (QEMU's
 * cpu_get_host_ticks), one counter for every vCPU. */
static unsigned long host_tsc_khz(void)
{
	static unsigned long khz;
#if defined(__x86_64__)
	uint64_t t0, t1;
	double n0, n1;

	if (!khz && !tsc_at(&t0, &n0)) {
		usleep(50000);
		if (!tsc_at(&t1, &n1) && n1 > n0)
			khz = (unsigned long)((t1 - t0) / ((n1 - n0) / 1e6) + 0.5);
	}
#endif
	return khz;
}

/* A path as a value of QEMU's option syntax, where ',' is written ',,'. */
static char *qemu_opt_value(const char *path)
{
	char *v = calloc(2 * strlen(path) + 1, 1), *o = v;

	for (const char *c = path; *c; c++)
		if ((*o++ = *c) == ',')
			*o++ = ',';
	return v;
}

static const char *qemu_binary(const char *arch)
{
	return strcmp(arch, "arm64") ? "qemu-system-x86_64" : "qemu-system-aarch64";
}

const char *guest_emulator(const char *arch, const char *accel)
{
	static char version[2][128];
	int a = !strcmp(arch, "arm64");
	const char *cpu;

	if (!version[a][0]) {	/* "QEMU emulator version 7.2.19 (Debian ...)" */
		char *cmd = xasprintf("%s --version 2>/dev/null", qemu_binary(arch));
		FILE *p = popen(cmd, "r");

		if (!p || !fgets(version[a], sizeof(version[a]), p))
			snprintf(version[a], sizeof(version[a]), "%s (version unknown)", qemu_binary(arch));
		version[a][strcspn(version[a], "\n")] = '\0';
		if (p)
			pclose(p);
		free(cmd);
	}
	if (a)	/* another machine than x86's: named with its binary */
		cpu = !strcmp(accel, "kvm") ? ARM64_KVM_CPU : ARM64_CPU;
	else
		cpu = !strcmp(accel, "kvm") ? KVM_CPU : "default (qemu64)";
	return xasprintf("%s%s%s; -cpu %s", a ? qemu_binary(arch) : "", a ? " -M virt: " : "", version[a], cpu);
}

/* An x86 kernel's command line under the instruction clock: its vCPUs
 * tick by the PIT (noapictimer), the boot CPU by its interrupt, the others
 * by the tick the kernel broadcasts to them.  With more than one vCPU
 * their TSCs, which QEMU derives from the one instruction counter, are
 * declared reliable: taking turns, they would fail the kernel's warp check
 * and leave refined-jiffies, every timing a multiple of 4 ms. */
static char *icount_cmdline(const char *cmdline, int cpus)
{
	return xasprintf("%s noapictimer%s", cmdline, cpus > 1 ? " tsc=reliable" : "");
}

/* The kernel's command line with what the accelerator needs and the
 * RB_TEST_* fault-injection settings: they reach the guest's /init (and
 * rb-bench) as environment, since the kernel hands unknown key=value
 * parameters of its command line to init. */
static char *guest_cmdline(const char *cmdline, const char *accel, int arm64, int cpus)
{
	extern char **environ;
	/* Under the instruction clock the guest ticks by the PIT: the
	 * local APIC timer's calibration spins on rdtsc, which ends a
	 * QEMU translation block each time, and would take most of the
	 * boot.  arm64's architected timer needs none of these options.
	 * Under the host's clock several TCG vCPUs fail the TSC warp
	 * check and a busy host fails the PIT calibration, leaving
	 * refined-jiffies (4 ms steps); QEMU's TSC is one counter for all
	 * vCPUs, so it is declared reliable and given its rate.  The
	 * method page ("Clocks") has the figures. */
	char *full = arm64 ? xstrdup(cmdline) :
		     !strcmp(accel, ACCEL_ICOUNT) ? icount_cmdline(cmdline, cpus) :
		     strcmp(accel, "tcg") ? xstrdup(cmdline) :
		     host_tsc_khz() ? xasprintf("%s tsc=reliable tsc_early_khz=%lu", cmdline, host_tsc_khz()) :
		     xasprintf("%s tsc=reliable", cmdline);

	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "RB_TEST_", 8) && !strchr(*e, ' ')) {
			char *t = xasprintf("%s %s", full, *e);
			free(full);
			full = t;
		}
	return full;
}

/* QEMU's argv (at most 64), in the sandbox: it runs the kernel we built,
 * as the sandbox user with its own seccomp filter, seeing only its
 * kernel, initramfs and log files. */
static void qemu_argv(char **argv, const struct built *k, const char *cmdline, const struct boot *b,
		      const char *console, const char *recs)
{
	int arm64 = !strcmp(k->arch, "arm64"), n;
	char *m = xasprintf("%d", b->mem_mb);
	char *c = arm64 ? xasprintf("%d", b->cpus) : xasprintf("%d,sockets=%d", b->cpus, b->cpus);
	char *opts[] = { "-f", xasprintf("%d", QEMU_FILE_MAX_MB), "-m", xasprintf("%d", b->mem_mb + QEMU_MEM_EXTRA_MB),
			 "-r", k->bzimage, "-r", b->initramfs,
			 "-w", (char *)console, "-w", (char *)recs, !strcmp(b->accel, "kvm") ? "-k" : NULL, NULL };

	n = sandbox_argv(argv, opts);
	argv[n++] = (char *)qemu_binary(k->arch);
	argv[n++] = "-sandbox", argv[n++] = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";
	argv[n++] = "-accel";
	if (!strcmp(b->accel, "kvm")) {
		argv[n++] = "kvm";
		argv[n++] = "-cpu";
		argv[n++] = arm64 ? ARM64_KVM_CPU : KVM_CPU;
	} else {
		argv[n++] = "tcg";
		/* The guest clock counts instructions, 1 ns each, and no
		 * time passes while a vCPU idles: see bench_clock() in plan.c. */
		if (!strcmp(b->accel, ACCEL_ICOUNT))
			argv[n++] = "-icount", argv[n++] = "shift=0,sleep=off";
		if (arm64)
			argv[n++] = "-cpu", argv[n++] = ARM64_CPU;
	}
	if (arm64)	/* no ACPI: QEMU's device tree names the CPUs and devices */
		argv[n++] = "-M", argv[n++] = "virt";
	/* One CPU a socket: the guest has no ACPI, and the firmware's MP
	 * table names only the first CPU of each socket. */
	argv[n++] = "-m", argv[n++] = m, argv[n++] = "-smp", argv[n++] = c;
	argv[n++] = "-kernel", argv[n++] = k->bzimage;
	argv[n++] = "-initrd", argv[n++] = b->initramfs;
	argv[n++] = "-append", argv[n++] = guest_cmdline(cmdline, b->accel, arm64, b->cpus);
	argv[n++] = "-display", argv[n++] = "none", argv[n++] = "-nodefaults", argv[n++] = "-no-reboot";
	argv[n++] = "-serial", argv[n++] = xasprintf("file:%s", console);
	if (arm64) {
		/* -M virt has one UART for the non-secure world: the records
		 * take a virtio console on virtio-mmio, the guest's hvc0. */
		argv[n++] = "-chardev", argv[n++] = xasprintf("file,id=records,path=%s", qemu_opt_value(recs));
		argv[n++] = "-device", argv[n++] = "virtio-serial-device";
		argv[n++] = "-device", argv[n++] = "virtconsole,chardev=records";
	} else {
		argv[n++] = "-serial", argv[n++] = xasprintf("file:%s", recs);
	}
	argv[n] = NULL;
}

/* The log folder (absolute: the sandbox binds each file at its own path)
 * and in it the console and records files, made anew. */
static int boot_files(struct boot *b, char **console, char **recs)
{
	char *abs;

	if (mkdirs(b->logdir) || !(abs = realpath(b->logdir, NULL)))
		return error("cannot make the log folder '%s': %s", b->logdir, strerror(errno));
	b->logdir = abs;
	*console = xasprintf("%s/console.log", b->logdir), *recs = xasprintf("%s/records.log", b->logdir);
	b->console_log = *console;
	return 0;
}

static int files_create(const char *console, const char *recs)
{
	unlink(console);
	unlink(recs);
	for (int i = 0; i < 2; i++) {
		int fd = open(i ? recs : console, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0)
			return error("cannot make '%s': %s", i ? recs : console, strerror(errno));
		close(fd);
	}
	return 0;
}

static pid_t qemu_start(char **argv, const char *qemu_log)
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		int fd = open(qemu_log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);

		dup2(fd, 1), dup2(fd, 2);
		setpgid(0, 0);			/* a terminal's ^C goes to the harness, which stops us */
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* and if the harness dies, so do we */
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* How QEMU ended: its wait status, or stopped at the time limit or for
 * the output limit it passed. */
struct qemu_end {
	int status;
	int timed_out;
	char *limit;
};

/* The output limit the guest has passed, or NULL. */
static char *output_limit(const char *console, const char *recs)
{
	struct stat cs, rs;

	if (stat(console, &cs) == 0 && cs.st_size > (off_t)CONSOLE_MAX_MB << 20)
		return xasprintf("the console log passed %d MiB", CONSOLE_MAX_MB);
	if (stat(recs, &rs) == 0 && rs.st_size > (off_t)RECORDS_MAX_MB << 20)
		return xasprintf("the records passed %d MiB", RECORDS_MAX_MB);
	return NULL;
}

/* Waits for QEMU, started at t0, to end, stopping it at the time limit
 * or when the guest's output passes its limit; the wall time in
 * b->wall_s. */
static void qemu_wait(pid_t pid, struct timespec t0, struct boot *b, const char *console, const char *recs,
		      struct qemu_end *e)
{
	struct timespec t1;

	memset(e, 0, sizeof(*e));
	for (;;) {
		pid_t r = waitpid(pid, &e->status, WNOHANG);

		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (r == pid)
			break;
		if (t1.tv_sec - t0.tv_sec >= b->timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &e->status, 0);
			e->timed_out = 1;
			break;
		}
		if ((e->limit = output_limit(console, recs))) {
			kill(pid, SIGKILL);
			waitpid(pid, &e->status, 0);
			break;
		}
		if (isatty(2) && !b->quiet)
			fprintf(stderr, "\r\033[K[%s] booted under %s, running the plan (%lds)", b->label,
				b->accel, (long)(t1.tv_sec - t0.tv_sec));
		usleep(200000);
	}
	if (isatty(2) && !b->quiet)
		fputs("\r\033[K", stderr);
	b->wall_s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Why the boot failed, from how QEMU ended, the console and the records;
 * NULL when it did not. */
static char *boot_failure(const struct boot *b, const struct qemu_end *e, const char *console, const char *qemu_log)
{
	char *text = read_file(console, NULL), *line, *why = NULL;

	if (e->limit)
		why = xasprintf("%s; the guest was stopped (console: %s)", e->limit, console);
	else if ((line = first_line_with(text, "Kernel panic")))
		why = xasprintf("kernel panic: %s (console: %s)", line, console);
	else if (e->timed_out)
		why = xasprintf("guest timed out after %d s, a hang (console: %s)", b->timeout_s, console);
	else if ((line = first_line_with(text, "Out of memory: Killed process")))
		why = xasprintf("OOM kill in the guest: %s (console: %s)", line, console);
	else if (!WIFEXITED(e->status) || WEXITSTATUS(e->status))
		why = xasprintf("qemu failed with status %d (log: %s)",
				WIFEXITED(e->status) ? WEXITSTATUS(e->status) : 128 + WTERMSIG(e->status), qemu_log);
	else if (!strstr(b->records, " end count="))
		why = xasprintf("the guest stopped before its end record (console: %s)", console);
	free(text);
	return why;
}

int guest_boot(const struct built *k, const char *cmdline, char *const plan[], struct boot *b)
{
	char *console = NULL, *recs = NULL, *argv[64], *qemu_log;
	struct qemu_end e;
	struct timespec t0;

	b->failure = NULL;
	b->records = NULL;
	if (boot_files(b, &console, &recs) || make_initramfs(k, b, plan) || files_create(console, recs))
		return -1;
	qemu_argv(argv, k, cmdline, b, console, recs);
	qemu_log = xasprintf("%s/qemu.log", b->logdir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	qemu_wait(qemu_start(argv, qemu_log), t0, b, console, recs, &e);
	b->records = read_file(recs, NULL);
	if (!b->records)
		b->records = xstrdup("");
	b->failure = boot_failure(b, &e, console, qemu_log);
	return b->failure ? -1 : 0;
}

/* KVM when a short probe boot reaches the end of a tiny plan, else TCG.
 * The answer is kept per host kernel in the cache.  --accel (or
 * $RECLAIMBENCH_ACCEL) requires one: tcg skips the probe, kvm probes even
 * when the cache says tcg (the host may have changed) and the plan stops
 * when the probe fails, with the reason (accel_failure). */
static char answer[8], *failure;
static const char *required;

void accel_require(const char *accel)
{
	required = accel;
}

const char *accel_required(void)
{
	return required;
}

const char *accel_failure(void)
{
	return failure ? failure : "KVM was not probed";
}

static char *accel_file(void)
{
	struct utsname u;

	uname(&u);
	return xasprintf("%s/accel-%s", cache_dir(), u.release);
}

const char *accel_known(void)
{
	char *old;

	if (required && !strcmp(required, "tcg"))
		return "tcg";
	if (answer[0])
		return answer;
	if (access("/dev/kvm", R_OK | W_OK)) {
		failure = xasprintf("/dev/kvm: %s", strerror(errno));
		return strcpy(answer, "tcg");
	}
	if ((old = read_file(accel_file(), NULL)) && (!strncmp(old, "kvm", 3) || !strncmp(old, "tcg", 3)) &&
	    !(required && strncmp(old, "kvm", 3)))
		snprintf(answer, sizeof(answer), "%.3s", old);
	free(old);
	return answer[0] ? answer : NULL;
}

const char *accel_choose(const struct built *k, const char *cmdline)
{
	char *file, *logdir, *qemu_log, *why;
	char *plan[] = { "--reps=1", "--pt-region-mb=2", "pt_reclaim", NULL };
	struct boot b = { .accel = "kvm", .mem_mb = 256, .cpus = 1, .timeout_s = 20,
			  .label = "kvm probe", .quiet = 1 };

	if (!arch_native(k->arch))	/* KVM runs only the host's own architecture */
		return "tcg";
	if (accel_known())
		return accel_known();
	file = accel_file();
	logdir = xasprintf("%s/kvm-probe", cache_dir());
	b.logdir = logdir;
	progress("probing KVM with a %d s boot (once per host kernel)", b.timeout_s);
	strcpy(answer, guest_boot(k, cmdline, plan, &b) == 0 ? "kvm" : "tcg");
	if (b.failure) {	/* QEMU's own first words say why, when it failed */
		qemu_log = xasprintf("%s/qemu.log", logdir);
		why = read_file(qemu_log, NULL);
		failure = xasprintf("%s%s%.*s", b.failure, why && *why ? "; QEMU: " : "",
				    why ? (int)strcspn(why, "\n") : 0, why ? why : "");
		free(why), free(qemu_log);
	}
	progress("KVM %s: using %s%s%s", strcmp(answer, "kvm") ? "does not boot guests here" : "works",
		 answer, failure ? "; probe: " : "", failure ? failure : "");
	write_text_file(file, answer);
	return answer;
}

const char *accel_checked(const char *accel)
{
	if (required && strcmp(accel, required))
		die(EXIT_INFRA, "--accel %s: %s; without --accel the variants boot under TCG", required,
		    accel_failure());
	return accel;
}
