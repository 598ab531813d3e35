/* selftests: the kernel's own mm selftests (tools/testing/selftests/mm of
 * the booted kernel's source, built static by the host and packed into
 * /selftests of the initramfs) run in the guest as a step of the plan.
 * Each program runs in a child of its own with a time limit, its output
 * (stdout and stderr, at most OUTPUT_MAX bytes) parsed as TAP, strictly:
 * a result line must carry the next number, anything else is counted as a
 * TAP error.  Every case is a metric "case.PROG.N" (1 when not ok, 0 when
 * ok or skipped; the note says which, with its description and the skip
 * reason or the output before a skip or a failure), an invariant: a case that
 * passes on one side and fails on the other fails compare and gate.  Per
 * program: passed, failed, skipped (counted apart), missing (planned but
 * never reported: a crash or the time limit), exit (1 when it ended
 * otherwise than by 0 or KSFT_SKIP).  Only the first timed repetition
 * runs them; the others record nothing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "selftests.h"

#define SELFTESTS_DIR "/selftests"
#define WORK_DIR "/tmp"			/* a tmpfs: split_huge_page_test's files */
#define OUTPUT_MAX (512 << 10)		/* bytes of one program's output kept */
#define NOTE_MAX 200
#define KSFT_SKIP 4

/* The programs this step knows, in run order, with the arguments and
 * time limit (guest seconds) of a short run; the host packs a chosen
 * set and only those present run. */
static const struct selftest {
	const char *name;
	const char *const args[4];
	int limit_s;
	const char *needs;	/* a file without which it cannot run: a SKIP */
	int swap;		/* runs with zram swap on */
} programs[] = {
	/* khugepaged first and without swap: after cow or with swap on, its
	 * collapse_compound_extreme may find no huge page and bail out (the
	 * method page).  cow's swapped-out cases get swap. */
	{ "khugepaged", { NULL }, 600 },
	{ "cow", { NULL }, 900, NULL, 1 },
	{ "split_huge_page_test", { NULL }, 600, "/sys/kernel/debug/split_huge_pages" },
	{ "madv_populate", { NULL }, 300 },
	{ "mremap_test", { NULL }, 600 },
	{ "transhuge-stress", { "-d", "2", "64", NULL }, 120 },
	{ "mkdirty", { NULL }, 300 },
	{ "migration", { NULL }, 300 },
	{ NULL }
};

int tap_line(const char *line, struct tap_result *r)
{
	const char *p = line, *hash;
	char *end;
	int not_ok = !strncmp(p, "not ok ", 7);

	memset(r, 0, sizeof(*r));
	if (!strncmp(p, "1..", 3) && p[3] && strspn(p + 3, "0123456789") == strlen(p + 3) && strlen(p + 3) <= 6) {
		r->planned = strtol(p + 3, NULL, 10);
		return TAP_PLAN;
	}
	if (*p == '#')
		return TAP_DIAG;
	if (!not_ok && strncmp(p, "ok ", 3))
		return TAP_OTHER;
	p += not_ok ? 7 : 3;
	if (*p < '0' || *p > '9' || strspn(p, "0123456789") > 6)
		return TAP_BAD;
	r->number = strtol(p, &end, 10);
	if (*end && *end != ' ')
		return TAP_BAD;
	p = *end ? end + 1 : end;
	if (!strncmp(p, "- ", 2))
		p += 2;
	/* kselftest writes a skip as "ok N # SKIP desc": no description
	 * before the directive, whose text is then the description. */
	if (*p == '#' && p[1] == ' ' && !strncasecmp(p + 2, "SKIP", 4)) {
		r->status = TAP_SKIPPED;
		snprintf(r->desc, sizeof(r->desc), "%s", p + 6 + (p[6] == ' '));
		return TAP_RESULT;
	}
	hash = strstr(p, " # ");
	snprintf(r->desc, sizeof(r->desc), "%.*s", hash ? (int)(hash - p) : (int)strlen(p), p);
	r->status = not_ok ? TAP_NOT_OK : TAP_OK;
	if (hash && !strncasecmp(hash + 3, "SKIP", 4)) {
		r->status = TAP_SKIPPED;
		snprintf(r->reason, sizeof(r->reason), "%s", hash + 7 + (hash[7] == ' '));
	} else if (hash) {	/* XFAIL, TODO: as the line says, with its directive */
		snprintf(r->reason, sizeof(r->reason), "%s", hash + 3);
	}
	return TAP_RESULT;
}

/* Counts of one program's cases. */
struct tally {
	int passed, failed, skipped, errors, planned, last;
	char diag[3][96];	/* the last lines other than results, a ring */
	int ndiag, nlines;	/* since the last result, and in all */
};

static void case_emit(struct bench_ctx *ctx, const char *prog, const struct tap_result *r, struct tally *t)
{
	static const char *const words[] = { [TAP_OK] = "ok", [TAP_NOT_OK] = "not ok", [TAP_SKIPPED] = "skip" };
	char name[128], note[NOTE_MAX + 1], num[16];
	int n = snprintf(note, sizeof(note), "%s: %s", words[r->status], r->desc);

	if (*r->reason && n < NOTE_MAX)
		n += snprintf(note + n, sizeof(note) - n, " (%s)", r->reason);
	for (int i = 0; r->status != TAP_OK && i < t->ndiag && n < NOTE_MAX; i++)
		n += snprintf(note + n, sizeof(note) - n, " | %s", t->diag[(t->nlines - t->ndiag + i) % 3]);
	snprintf(name, sizeof(name), "case.%s.%d", prog, r->number);
	snprintf(num, sizeof(num), "%d", r->status == TAP_NOT_OK);
	emit(ctx, "sample", "rep", "0", "metric", name, "value", num, "unit", "failed", "note", note, NULL);
	t->passed += r->status == TAP_OK;
	t->failed += r->status == TAP_NOT_OK;
	t->skipped += r->status == TAP_SKIPPED;
	t->ndiag = 0;
}

/* Every line of one program's output, its cases emitted as they come. */
static void tap_parse(struct bench_ctx *ctx, const char *prog, char *out, struct tally *t)
{
	struct tap_result r;

	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		switch (tap_line(line, &r)) {
		case TAP_PLAN:
			t->errors += t->planned != 0;	/* one plan a program */
			t->planned = r.planned;
			break;
		case TAP_DIAG:
		case TAP_OTHER:	/* "Bail out! ...", a message on stderr */
			snprintf(t->diag[t->nlines++ % 3], sizeof(t->diag[0]), "%s",
				 line[0] == '#' ? line + 1 + (line[1] == ' ') : line);
			t->ndiag = t->ndiag < 3 ? t->ndiag + 1 : 3;
			break;
		case TAP_RESULT:
			if (r.number != t->last + 1) {
				t->errors++;
				break;
			}
			t->last = r.number;
			case_emit(ctx, prog, &r, t);
			break;
		case TAP_BAD:
			t->errors++;
			break;
		}
	}
}

/* Reads the child's output until it ends or the deadline passes; the
 * child is killed then.  Returns the output (at most OUTPUT_MAX bytes). */
static char *output_collect(int fd, pid_t pid, int limit_s, int *timed_out)
{
	char *buf = malloc(OUTPUT_MAX + 1), chunk[4096];
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)limit_s * 1000000000ull;
	size_t n = 0;

	*timed_out = 0;
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		ssize_t k;

		if (now >= deadline) {
			*timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pf, 1, (int)((deadline - now) / 1000000 + 1)) <= 0)
			continue;
		if ((k = read(fd, chunk, sizeof(chunk))) <= 0)
			break;
		if (n < OUTPUT_MAX) {
			size_t take = (size_t)k < OUTPUT_MAX - n ? (size_t)k : OUTPUT_MAX - n;

			memcpy(buf + n, chunk, take);
			n += take;
		}
	}
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)	/* a NUL would cut the text short unseen */
		if (!buf[i])
			buf[i] = '?';
	return buf;
}

/* Runs one program; its exit status in *st (-1 when it could not run). */
static char *program_run(const struct selftest *s, int *st, int *timed_out)
{
	char path[128];
	const char *argv[6] = { path };
	int fds[2];
	pid_t pid;
	char *out;

	snprintf(path, sizeof(path), "%s/%s", SELFTESTS_DIR, s->name);
	for (int i = 0; s->args[i]; i++)
		argv[i + 1] = s->args[i];
	if (pipe(fds))
		return NULL;
	if ((pid = fork()) == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]), close(fds[1]);
		if (chdir(WORK_DIR))
			_exit(127);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	out = pid < 0 ? NULL : output_collect(fds[0], pid, s->limit_s, timed_out);
	close(fds[0]);
	*st = -1;
	if (pid > 0)
		while (waitpid(pid, st, 0) < 0 && errno == EINTR)
			;
	return out;
}

static void program_metrics(struct bench_ctx *ctx, const char *prog, const struct tally *t, int st,
			    int timed_out, double seconds)
{
	char name[128];
	int clean_exit = st >= 0 && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == KSFT_SKIP);
	int missing = t->planned > t->last ? t->planned - t->last : 0;

	snprintf(name, sizeof(name), "passed.%s", prog), metric(ctx, name, t->passed, "cases");
	snprintf(name, sizeof(name), "failed.%s", prog), metric(ctx, name, t->failed, "cases");
	snprintf(name, sizeof(name), "skipped.%s", prog), metric(ctx, name, t->skipped, "cases");
	snprintf(name, sizeof(name), "missing.%s", prog), metric(ctx, name, missing, "cases");
	snprintf(name, sizeof(name), "tap_errors.%s", prog), metric(ctx, name, t->errors, "lines");
	snprintf(name, sizeof(name), "timeout.%s", prog), metric(ctx, name, timed_out, "bool");
	snprintf(name, sizeof(name), "exit.%s", prog);
	{
		char note[NOTE_MAX + 1], val[2] = { '0' + !clean_exit, 0 };
		int n = snprintf(note, sizeof(note), "%s", timed_out ? "time limit" : st < 0 ? "not run" :
				 WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit");

		if (st >= 0 && WIFEXITED(st))
			n += snprintf(note + n, sizeof(note) - n, " %d", WEXITSTATUS(st));
		for (int i = 0; i < t->ndiag && n < NOTE_MAX; i++)	/* its last words */
			n += snprintf(note + n, sizeof(note) - n, " | %s", t->diag[(t->nlines - t->ndiag + i) % 3]);
		emit(ctx, "sample", "rep", "0", "metric", name, "value", val, "unit", "bool", "note", note, NULL);
	}
	snprintf(name, sizeof(name), "seconds.%s", prog), metric(ctx, name, seconds, "s");
}

/* A program the guest cannot run: a SKIP of the whole program, counted
 * apart from its cases (unrun.PROG), with the reason. */
static void unrun(struct bench_ctx *ctx, const char *prog, const char *needs)
{
	char name[128], note[NOTE_MAX + 1];

	snprintf(name, sizeof(name), "unrun.%s", prog);
	snprintf(note, sizeof(note), "skip: the guest has no %s", needs);
	emit(ctx, "sample", "rep", "0", "metric", name, "value", "1", "unit", "bool", "note", note, NULL);
}

/* The programs the host could not build (its file "skipped", a line
 * "PROG: the compiler's first error" each): SKIPs counted apart. */
static int unbuilt(struct bench_ctx *ctx)
{
	char text[4096], *line;
	int n = 0;

	if (read_text(SELFTESTS_DIR "/skipped", text, sizeof(text)) < 0)
		return 0;
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *colon = strchr(line, ':'), name[128], note[NOTE_MAX + 1];

		if (!colon || colon == line || colon - line > 64)
			continue;
		*colon = '\0';
		if (strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(line))
			continue;
		snprintf(name, sizeof(name), "unrun.%s", line);
		snprintf(note, sizeof(note), "skip: not built:%s", colon + 1);
		emit(ctx, "sample", "rep", "0", "metric", name, "value", "1", "unit", "bool", "note", note, NULL);
		n++;
	}
	return n;
}

/* Swap for the cases that page out (cow's swapped-out THPs, khugepaged's
 * swapin): zram, made as the swap benchmarks make it. */
#define SELFTESTS_SWAP_MB 256
static int swap_ready;

static void swap_fresh(void)
{
	struct why w;

	swap_ready = swap_on(SELFTESTS_SWAP_MB, &w) == HELP_OK;
	if (!swap_ready)
		fprintf(stderr, "selftests: no swap, the cases that page out will skip: %s\n", w.text);
}

static int setup(struct bench_ctx *ctx)
{
	int found = 0;

	for (const struct selftest *s = programs; s->name; s++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", SELFTESTS_DIR, s->name);
		found += access(path, X_OK) == 0;
	}
	if (!found)
		return bench_skip(ctx, "no selftest programs in %s (the host packs them with --selftests)",
				  SELFTESTS_DIR);
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) && errno != EBUSY && errno != ENODEV)
		fprintf(stderr, "selftests: cannot mount debugfs: %s\n", strerror(errno));
	mkdir(WORK_DIR, 01777);
	if (mount("tmpfs", WORK_DIR, "tmpfs", 0, NULL) && errno != EBUSY &&
	    mount("ramfs", WORK_DIR, "ramfs", 0, NULL) && errno != EBUSY)
		fprintf(stderr, "selftests: no tmpfs or ramfs on %s: %s\n", WORK_DIR, strerror(errno));
	return BENCH_OK;
}

static void teardown(struct bench_ctx *ctx)
{
	(void)ctx;
	swap_zram_off();
}

static int run(struct bench_ctx *ctx)
{
	uint64_t t0, t1;
	int ran = 0;

	if (ctx->rep || ctx->counting)	/* once a boot: the cases are not timings */
		return BENCH_OK;
	unbuilt(ctx);
	t0 = now_ns(CLOCK_MONOTONIC);
	for (const struct selftest *s = programs; s->name; s++) {
		char path[128], *out;
		struct tally t = { 0 };
		int st = -1, timed_out = 0;
		uint64_t p0 = now_ns(CLOCK_MONOTONIC);

		snprintf(path, sizeof(path), "%s/%s", SELFTESTS_DIR, s->name);
		if (access(path, X_OK))
			continue;
		if (s->needs && access(s->needs, F_OK)) {
			unrun(ctx, s->name, s->needs);
			continue;
		}
		/* Swap on for the programs that use it alone. */
		swap_zram_off();
		if (s->swap)
			swap_fresh();
		fprintf(stderr, "rb-bench: selftest %s\n", s->name);
		if (!(out = program_run(s, &st, &timed_out)))
			return bench_fail(ctx, "cannot start '%s': %s", path, strerror(errno));
		tap_parse(ctx, s->name, out, &t);
		free(out);
		program_metrics(ctx, s->name, &t, st, timed_out, (now_ns(CLOCK_MONOTONIC) - p0) / 1e9);
		ran++;
	}
	t1 = now_ns(CLOCK_MONOTONIC);
	metric(ctx, "time.wall", t1 - t0, "ns");
	metric(ctx, "programs", ran, "programs");
	metric(ctx, "swap", swap_ready, "bool");
	return BENCH_OK;
}

static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING },
	/* By the median of each side's boots: mremap_test's case 15 failed
	 * in 1 of 11 boots of the same 7.3 ("Failed to map dest preamble
	 * region: File exists", its random addresses). */
	{ "case.*", METRIC_INVARIANT, .by_median = 1 },
	{ "failed.*", METRIC_INVARIANT, .by_median = 1 },
	{ "missing.*", METRIC_INVARIANT, .by_median = 1 },
	{ "exit.*", METRIC_INVARIANT, .by_median = 1 },
	{ "timeout.*", METRIC_INVARIANT, .by_median = 1 },
	{ "passed.*", METRIC_EXACT },
	{ "skipped.*", METRIC_EXACT },
	{ "tap_errors.*", METRIC_EXACT },
	{ "seconds.*", METRIC_INFO },
	{ "unrun.*", METRIC_EXACT },
	{ "programs", METRIC_EXACT },
	{ "swap", METRIC_EXACT },
	{ NULL }
};

const struct bench_info bench_selftests = {
	.name = "selftests",
	.version = 2,
	.params = "",
	.help = "the kernel's own mm selftests (cow, khugepaged, ...) packed by the host, each case's TAP result "
		"an invariant",
	.setup = setup,
	.run = run,
	.teardown = teardown,
	.metrics = metrics,
	.untimed = 1,
	.packed = 1,
};
