/* indep: an independent check of three reclaimbench benchmarks, sharing no
 * code with bench/.  It repeats the scenarios of lazyfree_mthp, pmd_redirty
 * and pt_reclaim (same parameters, same setup in the same order, same THP
 * knobs) and times each measured call by two CLOCK_MONOTONIC reads and
 * nothing else.  One line a repetition:
 *
 *   indep bench=NAME rep=N ns=T COUNTER=VALUE...
 *
 * then "indep end".  As a guest's /init it mounts /proc, /sys and /dev,
 * takes its arguments from the initramfs's /plan (the harness's own plan:
 * --reps=N, --region-mb=N, --mthp-kb=N, --pt-region-mb=N, benchmark names),
 * writes to /dev/ttyS1 and resets the machine; elsewhere it takes the same
 * arguments on its command line and writes to stdout.  Static, libc only. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define THP "/sys/kernel/mm/transparent_hugepage"
#define MB (1UL << 20)
#define PAGE 4096UL
#define PMD (2 * MB)

static unsigned long reps = 5, region_mb = 128, mthp_kb = 64, pt_region_mb = 51200, pmd_kb = PMD >> 10;
static FILE *out;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("indep ", out);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	fflush(out);
	va_end(ap);
}

/* ---- the kernel's text files ---- */

static int slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r;

	if (fd < 0)
		return -1;
	while ((size_t)n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	return 0;
}

static int put(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

/* The number after "key<sep>" at the start of a line of path; -1 if none. */
static long long field(const char *path, const char *key, char sep)
{
	static char buf[65536];
	size_t n = strlen(key);

	if (slurp(path, buf, sizeof(buf)))
		return -1;
	for (char *l = buf; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, n) && l[n] == sep)
			return strtoll(l + n + 1, NULL, 10);
	return -1;
}

static long long vm(const char *name)
{
	return field("/proc/vmstat", name, ' ');
}

static long long vmpte(void)
{
	return field("/proc/self/status", "VmPTE", ':');
}

static long long mthp(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), THP "/hugepages-%lukB/stats/%s", mthp_kb, name);
	return slurp(path, buf, sizeof(buf)) ? -1 : strtoll(buf, NULL, 10);
}

static uint64_t now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/* ---- THP knobs: every hugepages-*kB/enabled saved, one size set ---- */

static struct knob {
	char path[320], value[16];
} knobs[32];
static int nknobs;

/* pt_reclaim changes the pcp limits for a moment (pcp_settle below). */
#define FRACTION "/proc/sys/vm/percpu_pagelist_high_fraction"
static char fraction[16];

static void knobs_save(void)
{
	DIR *d = opendir(THP);
	struct dirent *e;
	char buf[128], *l, *r;

	while (d && (e = readdir(d)) && nknobs < 32) {
		struct knob *k = &knobs[nknobs];

		if (strncmp(e->d_name, "hugepages-", 10))
			continue;
		snprintf(k->path, sizeof(k->path), THP "/%s/enabled", e->d_name);
		if (slurp(k->path, buf, sizeof(buf)) || !(l = strchr(buf, '[')) || !(r = strchr(l, ']')))
			continue;
		*r = '\0';
		snprintf(k->value, sizeof(k->value), "%s", l + 1);
		nknobs++;
	}
	if (d)
		closedir(d);
	if (!slurp(FRACTION, buf, sizeof(buf)))
		snprintf(fraction, sizeof(fraction), "%lld", strtoll(buf, NULL, 10));
}

static int knobs_restore(void)
{
	int bad = 0;

	if (fraction[0] && put(FRACTION, fraction)) {
		say("error cannot restore '%s' to '%s': %s", FRACTION, fraction, strerror(errno));
		bad = 1;
	}

	for (int i = 0; i < nknobs; i++)
		if (put(knobs[i].path, knobs[i].value)) {
			say("error cannot restore '%s' to '%s': %s", knobs[i].path, knobs[i].value,
			    strerror(errno));
			bad = 1;
		}
	return bad;
}

/* Only hugepages-<kb>kB enabled, for madvise; every other size never. */
static int only_size(unsigned long kb)
{
	char want[96];

	snprintf(want, sizeof(want), THP "/hugepages-%lukB/enabled", kb);
	if (access(want, W_OK))
		return -1;
	for (int i = 0; i < nknobs; i++)
		if (put(knobs[i].path, strcmp(knobs[i].path, want) ? "never" : "madvise"))
			return -1;
	return 0;
}

/* ---- memory ---- */

/* len bytes at an address aligned to align, no swap space reserved. */
static char *map(size_t len, size_t align)
{
	char *raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), *p;

	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + len, raw + align - p);
	return p;
}

static void fill(char *p, size_t len, size_t step, char v)
{
	for (size_t off = 0; off < len; off += step)
		((volatile char *)p)[off] = v;
}

/* ---- the three scenarios; each returns 0, or 1 with a skip said ---- */

static int lazyfree_mthp(unsigned long rep)
{
	size_t len = region_mb * MB, folio = mthp_kb << 10;
	long long a0, f0, sd0, sp0, lf0, sd1, sp1, lf1;
	uint64_t t0, t1;
	char *p = map(len, folio);
	int err;

	if (!p)
		return say("skip bench=lazyfree_mthp reason=mmap: %s", strerror(errno)), 1;
	a0 = mthp("anon_fault_alloc");
	madvise(p, len, MADV_HUGEPAGE);
	fill(p, len, PAGE, 1);
	if (mthp("anon_fault_alloc") - a0 < (long long)(len / folio))
		return say("skip bench=lazyfree_mthp reason=%lld of %zu folios at fault",
			   mthp("anon_fault_alloc") - a0, len / folio), 1;
	f0 = vm("pglazyfree");
	if (madvise(p, len, MADV_FREE) || vm("pglazyfree") - f0 < (long long)(len / PAGE))
		return say("skip bench=lazyfree_mthp reason=MADV_FREE did not mark the region lazyfree"), 1;
	sd0 = mthp("split_deferred"), sp0 = vm("thp_split_pmd"), lf0 = vm("pglazyfreed");
	t0 = now();
	err = madvise(p, len, MADV_PAGEOUT);
	t1 = now();
	sd1 = mthp("split_deferred"), sp1 = vm("thp_split_pmd"), lf1 = vm("pglazyfreed");
	munmap(p, len);
	if (err)
		return say("skip bench=lazyfree_mthp reason=MADV_PAGEOUT: %s", strerror(errno)), 1;
	say("bench=lazyfree_mthp rep=%lu ns=%llu split_deferred=%lld thp_split_pmd=%lld pglazyfreed=%lld",
	    rep, (unsigned long long)(t1 - t0), sd1 - sd0, sp1 - sp0, lf1 - lf0);
	return 0;
}

static int pmd_redirty(unsigned long rep)
{
	size_t len = region_mb * MB, lost = 0;
	long long a0, sp0, lf0, sp1, lf1;
	uint64_t t0, t1;
	char *p = map(len, PMD);
	int err;

	if (!p)
		return say("skip bench=pmd_redirty reason=mmap: %s", strerror(errno)), 1;
	madvise(p, len, MADV_HUGEPAGE);
	a0 = vm("thp_fault_alloc");
	fill(p, len, PAGE, 1);
	if (vm("thp_fault_alloc") - a0 < (long long)(len / PMD))
		return say("skip bench=pmd_redirty reason=%lld of %zu THPs at fault",
			   vm("thp_fault_alloc") - a0, len / PMD), 1;
	if (madvise(p, len, MADV_FREE))
		return say("skip bench=pmd_redirty reason=MADV_FREE: %s", strerror(errno)), 1;
	fill(p, len, PAGE, 2);
	sp0 = vm("thp_split_pmd"), lf0 = vm("pglazyfreed");
	t0 = now();
	err = madvise(p, len, MADV_PAGEOUT);
	t1 = now();
	sp1 = vm("thp_split_pmd"), lf1 = vm("pglazyfreed");
	for (size_t off = 0; off < len; off += PAGE)
		lost += p[off] != 2;
	munmap(p, len);
	if (err)
		return say("skip bench=pmd_redirty reason=MADV_PAGEOUT: %s", strerror(errno)), 1;
	say("bench=pmd_redirty rep=%lu ns=%llu thp_split_pmd=%lld pglazyfreed=%lld lost_pages=%zu",
	    rep, (unsigned long long)(t1 - t0), sp1 - sp0, lf1 - lf0, lost);
	return 0;
}

/* ---- the per-CPU free list (pcp) of our CPU, for pt_reclaim ---- */

struct pcp {
	long count, high, batch;
};

/* Our CPU's pagesets entry in /proc/zoneinfo, in the zone with the most
 * managed pages.  The buffer is static: reading must not fault pages in. */
static int pcp_get(int cpu, struct pcp *out)
{
	static char buf[1 << 18];
	long managed = 0, top = -1, count = -1, high = -1, v;
	int mine = 0, c;

	if (slurp("/proc/zoneinfo", buf, sizeof(buf)))
		return -1;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		l += strspn(l, " ");
		if (!strncmp(l, "Node", 4))
			managed = 0, mine = 0;
		else if (sscanf(l, "managed %ld", &v) == 1)
			managed = v;
		else if (sscanf(l, "cpu: %d", &c) == 1)
			mine = c == cpu;
		else if (mine && sscanf(l, "count: %ld", &v) == 1)
			count = v;
		else if (mine && sscanf(l, "high: %ld", &v) == 1)
			high = v;
		else if (mine && sscanf(l, "batch: %ld", &v) == 1 && managed > top) {
			top = managed;
			*out = (struct pcp){ count, high, v };
		}
	}
	return top < 0 ? -1 : 0;
}

/* Empty our CPU's pcp list to its floor, then give it its usual limit:
 * the fraction so large that the limit is 4 x batch, a page freed so our
 * list takes it, stat_refresh (decay_pcp_high frees all above it), the
 * fraction 8 (the limit auto-tuning reaches: managed / 8 a CPU), a page
 * freed so our list takes that, the old fraction back.  MADV_COLD first:
 * it empties the batch of new LRU pages, whose reference would keep the
 * pages from being freed (7.3's zap does not empty it). */
static int pcp_settle(char *two)
{
	int bad;

	if (madvise(two, 2 * PAGE, MADV_COLD) || put(FRACTION, "1000000000"))
		return -1;
	madvise(two, PAGE, MADV_DONTNEED);
	bad = put("/proc/sys/vm/stat_refresh", "1");
	bad |= put(FRACTION, strcmp(fraction, "0") ? fraction : "8");
	madvise(two + PAGE, PAGE, MADV_DONTNEED);
	bad |= put(FRACTION, fraction);
	return bad ? -1 : 0;
}

static int pt_reclaim(unsigned long rep)
{
	size_t len = pt_region_mb * MB;
	long long pte0, before, after, pt0, pt1, free0, free1;
	int cpu0, cpu1, cpu = sched_getcpu();
	uint64_t t0, t1;
	char *p = map(len, PMD), *two;
	struct pcp was, at;
	cpu_set_t just;
	int err;

	/* Setup and window on one CPU, so on one pcp list. */
	CPU_ZERO(&just);
	if (cpu < 0 || (CPU_SET(cpu, &just), sched_setaffinity(0, sizeof(just), &just)))
		return say("skip bench=pt_reclaim reason=sched_setaffinity: %s", strerror(errno)), 1;
	if (!p)
		return say("skip bench=pt_reclaim reason=mmap: %s", strerror(errno)), 1;
	if (madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL)
		return say("skip bench=pt_reclaim reason=MADV_NOHUGEPAGE: %s", strerror(errno)), 1;
	pte0 = vmpte();
	fill(p, len, PMD, 1);
	before = vmpte();
	if (pte0 < 0 || before - pte0 < (long long)(len / PMD * 4))
		return say("skip bench=pt_reclaim reason=VmPTE %lld -> %lld kB", pte0, before), 1;
	/* The pcp list settled right before the window: what earlier
	 * scenarios left on it would otherwise spill into the buddy
	 * allocator inside the window.  At most 8 x batch may be there: the
	 * floor and one refill by the kernel's own allocations after it. */
	two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED)
		return say("skip bench=pt_reclaim reason=mmap: %s", strerror(errno)), 1;
	two[0] = two[PAGE] = 1;
	if (pcp_get(cpu, &was) || pcp_settle(two) || pcp_get(cpu, &at))
		return say("skip bench=pt_reclaim reason=cannot settle the pcp list of CPU %d: %s", cpu,
			   strerror(errno)), 1;
	if (at.count > 8 * at.batch)
		return say("skip bench=pt_reclaim reason=pcp list of CPU %d holds %ld pages, batch %ld", cpu,
			   at.count, at.batch), 1;
	/* Read again: the two pages just touched may have needed a page
	 * table of their own. */
	before = vmpte();
	pt0 = vm("nr_page_table_pages"), free0 = vm("pgfree");
	cpu0 = sched_getcpu();
	t0 = now();
	err = madvise(p, len, MADV_DONTNEED);
	t1 = now();
	cpu1 = sched_getcpu();
	after = vmpte();
	pt1 = vm("nr_page_table_pages"), free1 = vm("pgfree");
	munmap(p, len);
	munmap(two, 2 * PAGE);
	if (err)
		return say("skip bench=pt_reclaim reason=MADV_DONTNEED: %s", strerror(errno)), 1;
	/* Page tables and pages freed while the window was open, and the CPU
	 * it ran on: PT reclaim frees the tables through RCU callbacks, which
	 * run in the window or later, depending on the CPU (t-indep.sh). */
	say("bench=pt_reclaim rep=%lu ns=%llu vmpte_before=%lld vmpte_after=%lld "
	    "nr_page_table_pages=%lld pgfree=%lld cpu=%d/%d pcp_unsettled=%ld pcp=%ld pcp_high=%ld", rep,
	    (unsigned long long)(t1 - t0), before, after, pt1 - pt0, free1 - free0, cpu0, cpu1, was.count,
	    at.count, at.high);
	return 0;
}

static const struct scenario {
	const char *name;
	int (*run)(unsigned long rep);
	const unsigned long *thp_kb;	/* the one size enabled for madvise, or NULL */
} scenarios[] = {
	{ "lazyfree_mthp", lazyfree_mthp, &mthp_kb },
	{ "pmd_redirty", pmd_redirty, &pmd_kb },
	{ "pt_reclaim", pt_reclaim, NULL },
};

/* All repetitions in a child, as the harness runs them; the knobs put back
 * by the parent whatever became of it. */
static void scenario_run(const struct scenario *s)
{
	int st;
	pid_t pid;

	if (s->thp_kb && only_size(*s->thp_kb)) {
		say("skip bench=%s reason=no writable %s/hugepages-%lukB/enabled", s->name, THP,
		    *s->thp_kb);
		knobs_restore();
		return;
	}
	pid = fork();
	if (pid == 0) {
		for (unsigned long r = 0; r < reps; r++)
			if (s->run(r))
				_exit(1);
		_exit(0);
	}
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFEXITED(st))
		say("fail bench=%s reason=child %s", s->name, pid < 0 ? "not started" : "killed");
	knobs_restore();
}

/* --reps=N and friends; names of the scenarios to run (others ignored). */
static int parse(int argc, char **argv, const struct scenario **todo)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "--reps=", 7))
			reps = strtoul(a + 7, NULL, 10);
		else if (!strncmp(a, "--region-mb=", 12))
			region_mb = strtoul(a + 12, NULL, 10);
		else if (!strncmp(a, "--mthp-kb=", 10))
			mthp_kb = strtoul(a + 10, NULL, 10);
		else if (!strncmp(a, "--pt-region-mb=", 15))
			pt_region_mb = strtoul(a + 15, NULL, 10);
		for (int s = 0; s < 3; s++)
			if (!strcmp(a, scenarios[s].name))
				todo[n++] = &scenarios[s];
	}
	for (int s = 0; !n && s < 3; s++)
		todo[s] = &scenarios[s];
	return n ? n : 3;
}

/* As the guest's /init: mounts, the plan as arguments, the records line as
 * output; the work runs in a child, as rb-init runs rb-bench, so that the
 * benchmark children sit as deep in the process tree as the harness's and
 * the scheduler places them alike (it matters: see tests/t-indep.sh). */
static void guest_init(int *argc, char ***argv)
{
	static char plan[8192];
	static char *av[64];
	struct termios t;
	int ac = 0, fd, st;
	pid_t pid;

	mkdir("/dev", 0755), mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/proc", 0755), mount("proc", "/proc", "proc", 0, NULL);
	mkdir("/sys", 0755), mount("sysfs", "/sys", "sysfs", 0, NULL);
	fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 && tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);	/* plain \n, as written */
		tcsetattr(fd, TCSANOW, &t);
	}
	if (fd >= 0 && !(out = fdopen(fd, "w")))
		out = stdout;
	if (slurp("/plan", plan, sizeof(plan)) == 0)
		for (char *l = strtok(plan, "\n"); l && ac < 64; l = strtok(NULL, "\n"))
			av[ac++] = l;
	*argc = ac, *argv = av;
	pid = fork();
	if (pid == 0)
		return;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	sync();
	reboot(RB_AUTOBOOT);	/* ends QEMU (-no-reboot); no ACPI in the guest */
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const struct scenario *todo[64];
	int n;

	out = stdout;
	if (getpid() == 1)
		guest_init(&argc, &argv);
	else
		argc--, argv++;
	n = parse(argc, argv, todo);
	if (!reps || !region_mb || !mthp_kb || !pt_region_mb) {
		say("error bad parameters: reps, region, mTHP size and PT region must be above 0");
		return 2;
	}
	knobs_save();
	say("start reps=%lu region_mb=%lu mthp_kb=%lu pt_region_mb=%lu", reps, region_mb, mthp_kb,
	    pt_region_mb);
	for (int i = 0; i < n; i++)
		scenario_run(todo[i]);
	say("end");
	return 0;
}
