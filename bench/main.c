/* rb-bench: runs the benchmarks of the table and writes framed records.
 *
 * Each benchmark runs in a child, so that a crash or an OOM kill of the
 * benchmark is recorded instead of ending the harness; the parent saves the
 * THP knobs before it and restores them after it on every path, frames the
 * child's payload lines (sequence number, checksum) and closes every run
 * with a "done" record and the stream with an "end" record. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "record.h"

enum { EXIT_SKIP = 10, EXIT_FAILED = 11 };

static volatile sig_atomic_t interrupted;
static int out_fd = 1;
static unsigned long seq;
static pid_t bench_child;	/* the benchmark running now, if any */

static void on_signal(int sig)
{
	interrupted = sig;
}

static void frame(const char *payload)
{
	char line[RECORD_MAX_LINE + 32];
	int n = record_frame(line, sizeof(line), seq, payload);

	if (n < 0 || write(out_fd, line, n) != n) {
		/* The reader is gone (the harness was killed): stop the
		 * benchmark first, then put the knobs back. */
		fprintf(stderr, "rb-bench: cannot write records: %s\n", strerror(errno));
		if (bench_child > 0) {
			kill(bench_child, SIGKILL);
			waitpid(bench_child, NULL, 0);
		}
		knobs_restore();
		exit(3);
	}
	seq++;
}

static void framef(const char *kind, ...)
{
	char payload[RECORD_MAX_LINE - 64];
	const char *k, *v;
	va_list ap;

	snprintf(payload, sizeof(payload), "%s", kind);
	va_start(ap, kind);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *)))
		record_field(payload, sizeof(payload), k, v);
	va_end(ap);
	frame(payload);
}

/* "name=value,..." of the parameters a benchmark uses, in table order;
 * mm-cpus only when not 1, so that one-CPU runs keep the string they had. */
static void params_string(const struct bench_info *b, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct opt *o = bench_params; o->name; o++)
		if (bench_uses(b, o->name) && (strcmp(o->name, "mm-cpus") || params.mm_cpus != 1))
			n += snprintf(buf + n, cap - n, "%s%s=%lu", n ? "," : "", o->name,
				      *(unsigned long *)o->value);
}

static int child_main(const struct bench_info *b, int out)
{
	struct bench_ctx ctx = { .b = b, .out = out };
	int ret;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (params.mm_cpus > 1 && !b->parallel && mm_home()) {
		emit(&ctx, "fail", "reason", "--mm-cpus: cannot pin the benchmark to CPU 0", NULL);
		return EXIT_FAILED;
	}
	ret = b->setup(&ctx);
	/* Fault injection for the tests: a benchmark that crashes after it
	 * changed the knobs. */
	if (ret == BENCH_OK && getenv("RB_TEST_CRASH") && !strcmp(getenv("RB_TEST_CRASH"), b->name))
		abort();
	/* Each repetition twice: timed, with no perf event open, then
	 * counting, the same scenario with the events around the call. */
	for (ctx.rep = 0; ctx.rep < params.reps && ret == BENCH_OK; ctx.rep++) {
		ctx.counting = 0;
		ret = b->run(&ctx);
		if (ret != BENCH_OK)
			break;
		ctx.counting = 1;
		perf_open();
		ret = b->run(&ctx);
		perf_close();
	}
	if (b->teardown)
		b->teardown(&ctx);
	return ret == BENCH_OK ? 0 : ret == BENCH_SKIP ? EXIT_SKIP : EXIT_FAILED;
}

static int lock_fd = -1;

static void run_one(const struct bench_info *b)
{
	char buf[512], ver[16], count[24], *line = NULL;
	unsigned long samples = 0;
	const char *status = "ok";
	size_t cap = 0;
	int fds[2], st;
	pid_t pid;
	FILE *in;

	params_string(b, buf, sizeof(buf));
	snprintf(ver, sizeof(ver), "%u", b->version);
	framef("begin", "bench", b->name, "version", ver, "params", buf, NULL);
	fprintf(stderr, "rb-bench: %s (%s)\n", b->name, buf);
	/* One benchmark at a time per machine changes the knobs: two rb-bench
	 * saving and restoring them crosswise would leave them changed. */
	while (flock(lock_fd, LOCK_EX) && errno == EINTR && !interrupted)
		;
	knobs_save();
	if (pipe(fds) || (pid = fork()) < 0) {
		framef("fail", "reason", "cannot start the benchmark child", NULL);
		framef("done", "status", "failed", "samples", "0", NULL);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		_exit(child_main(b, fds[1]));
	}
	bench_child = pid;
	close(fds[1]);
	in = fdopen(fds[0], "r");
	for (;;) {
		errno = 0;
		if (getline(&line, &cap, in) < 0) {
			if (errno == EINTR && interrupted) {
				kill(pid, SIGKILL);
				clearerr(in);
				continue;
			}
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		samples += !strncmp(line, "sample ", 7);
		frame(line);
	}
	free(line);
	fclose(in);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		kill(pid, SIGKILL);
	bench_child = 0;
	if (knobs_restore())
		framef("fail", "reason", "a THP knob could not be restored", NULL);
	flock(lock_fd, LOCK_UN);
	if (interrupted) {
		status = "failed";
		framef("fail", "reason", "interrupted by a signal", NULL);
	} else if (WIFSIGNALED(st)) {
		snprintf(buf, sizeof(buf), "benchmark killed by signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)),
			 WTERMSIG(st) == SIGKILL ? ", perhaps by the OOM killer" : "");
		framef("fail", "reason", buf, NULL);
		status = "failed";
	} else if (WEXITSTATUS(st) == EXIT_SKIP) {
		status = "skip";
	} else if (WEXITSTATUS(st)) {
		status = "failed";
	}
	snprintf(count, sizeof(count), "%lu", samples);
	framef("done", "status", status, "samples", count, NULL);
	/* The console between this line and the "rb-bench: NAME (" one is
	 * the benchmark's: the host counts kernel warnings there. */
	fprintf(stderr, "rb-bench: %s done (%s)\n", b->name, status);
}

/* Tracepoints need tracefs; mount it when it is not there and unmount it
 * again at the end, so the machine is left as it was. */
static int tracefs_mount(void)
{
	struct stat st;

	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return 0;
	return mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0;
}

#define CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"

/* The hello record: the kernel, the machine, and the clock that times the
 * benchmarks (its source and the smallest step it takes). */
static void hello(void)
{
	struct utsname u;
	char ncpu[16], mem[32], fmt[8], cs[64] = "", step[24];

	uname(&u);
	/* x86 boots on tsc-early and switches to tsc when a delayed work
	 * has refined its calibration, a second or so after boot: inside a
	 * benchmark's window that switch would be timed with it (and change
	 * the clock's rate), so we wait for it, 5 s at most. */
	for (int i = 0; i < 50; i++) {
		struct timespec wait = { 0, 100000000 };

		if (read_text(CLOCKSOURCE, cs, sizeof(cs)) <= 0)
			cs[0] = '\0';
		cs[strcspn(cs, "\n")] = '\0';
		if (strcmp(cs, "tsc-early"))
			break;
		nanosleep(&wait, NULL);
	}
	snprintf(step, sizeof(step), "%llu", (unsigned long long)clock_step_ns(CLOCK_MONOTONIC));
	snprintf(ncpu, sizeof(ncpu), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	snprintf(mem, sizeof(mem), "%lld", meminfo_kb("MemTotal"));
	snprintf(fmt, sizeof(fmt), "%d", RECORD_FORMAT);
	framef("hello", "format", fmt, "release", u.release, "kversion", u.version, "arch",
	       u.machine, "ncpu", ncpu, "mem_kb", mem, "faults", test_faults(), "clocksource", cs,
	       "clock_step_ns", step, NULL);
}

static void open_out(const char *path)
{
	struct termios t;

	out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "error: cannot open '%s' for records: %s\n", path, strerror(errno));
		exit(2);
	}
	if (tcgetattr(out_fd, &t) == 0) {	/* a serial line: no CR/LF mangling */
		cfmakeraw(&t);
		tcsetattr(out_fd, TCSANOW, &t);
	}
}

int main(int argc, char **argv)
{
	static int list;
	static const char *out;
	static const struct opt own[] = {
		{ "list", OPT_FLAG, &list, 0, 0, NULL, "list the benchmarks and exit" },
		{ "out", OPT_STRING, &out, 0, 0, "PATH", "write records to PATH instead of stdout" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, bench_params, NULL };
	const struct bench_info *chosen[64];
	struct sigaction sa = { .sa_handler = on_signal };
	char count[24], buf[256];
	int first, n = 0, mounted;

	first = opts_parse(tables, argc, argv, 1, "usage: rb-bench [options] [BENCH...]");
	if (first == -2)
		return 0;
	if (first < 0)
		return 2;
	for (int i = 0; i < nbenches; i++) {
		const char *why = bench_check(benches[i]);

		if (why) {
			fprintf(stderr, "error: benchmark '%s' in the table: %s\n",
				benches[i]->name ? benches[i]->name : "?", why);
			return 2;
		}
	}
	if (list) {
		for (int i = 0; i < nbenches; i++)
			printf("%-14s v%u  %s\n", benches[i]->name, benches[i]->version, benches[i]->help);
		return 0;
	}
	for (int i = first; i < argc; i++) {
		if (!(chosen[n] = bench_find(argv[i]))) {
			fprintf(stderr, "error: unknown benchmark '%s'; see rb-bench --list\n", argv[i]);
			return 2;
		}
		if (++n == 64)
			break;
	}
	if (params_check(buf, sizeof(buf))) {
		fprintf(stderr, "error: %s\n", buf);
		return 2;
	}
	if ((long)params.mm_cpus > sysconf(_SC_NPROCESSORS_ONLN)) {
		fprintf(stderr, "error: --mm-cpus is %lu but %ld CPUs are online\n", params.mm_cpus,
			sysconf(_SC_NPROCESSORS_ONLN));
		return 2;
	}
	for (int i = 0; !n && i < nbenches; i++)
		chosen[i] = benches[i];
	if (!n)
		n = nbenches;
	if (out)
		open_out(out);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a gone reader is an error to handle, not death */
	prctl(PR_SET_PDEATHSIG, SIGTERM);	/* the harness died: stop and restore */
	/* The knob lock sits in a folder only root can write, opened without
	 * following links: a file in /tmp that any user made first could hang
	 * us or point elsewhere.  Not root: no lock, and no knob is changed. */
	{
		struct stat ds;
		int dfd;

		mkdir("/run", 0755);	/* the guest's initramfs has none */
		mkdir("/run/reclaimbench", 0700);
		dfd = open("/run/reclaimbench", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd >= 0 && fstat(dfd, &ds) == 0 && ds.st_uid == geteuid() && !(ds.st_mode & 022))
			lock_fd = openat(dfd, "knobs.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dfd >= 0)
			close(dfd);
	}
	mounted = tracefs_mount();
	hello();
	for (int i = 0; i < n && !interrupted; i++)
		run_one(chosen[i]);
	if (mounted > 0)
		umount("/sys/kernel/tracing");
	snprintf(count, sizeof(count), "%lu", seq);
	framef("end", "count", count, NULL);
	return interrupted ? 130 : 0;
}
