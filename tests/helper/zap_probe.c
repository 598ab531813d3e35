/* zap_probe: an independent check of the 7.3-no-zap-batch off-switch, with
 * none of rb-bench's code.  Maps a region of 64 KiB anonymous mTHPs, then
 * zaps it with munmap or MADV_DONTNEED and reports, per repetition:
 *   ns            the zap's time (guest instructions under tcg-icount)
 *   split_deferred  the 64 KiB size's split_deferred stat, delta
 *   tlb_flush     tlb:tlb_flush events in the zap (counting repetitions only:
 *                 the tracepoint's cost grows with the work, so timed
 *                 repetitions run without it)
 *   pgfree        pages freed during the zap (vmstat)
 * Zapping a large folio one PTE at a time leaves it partly mapped after the
 * first PTE, so every folio is queued for deferred split; the batched zap
 * removes all its PTEs at once and queues none.
 *
 * As the guest's /init (RECLAIMBENCH_INIT=build/zap_probe) it mounts what it
 * reads, runs, prints "zap_probe: ..." lines on the console and resets the machine.
 * Parameters come from the kernel command line's environment:
 * RB_TEST_ZAP_MB (region, default 64), RB_TEST_ZAP_KB (mTHP size, default
 * 64), RB_TEST_ZAP_REPS (default 5).  Run by hand as root on a host, it
 * restores every THP knob it changed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define THP "/sys/kernel/mm/transparent_hugepage"
#define MAX_KNOBS 16

static struct knob {
	char path[320];
	char old[32];
} knobs[MAX_KNOBS];
static int nknobs;

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

/* Save the bracketed choice of a THP "enabled" file, then set it; -2 when
 * it cannot be read (a size the kernel lists but does not offer). */
static int knob_set(const char *path, const char *val)
{
	char buf[128], *l, *r;

	if (read_text(path, buf, sizeof(buf)))
		return -2;
	if (nknobs == MAX_KNOBS)
		return -1;
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return -1;
	if ((size_t)(r - l - 1) == strlen(val) && !strncmp(l + 1, val, strlen(val)))
		return 0;	/* already so: nothing to write or restore */
	snprintf(knobs[nknobs].path, sizeof(knobs[nknobs].path), "%s", path);
	snprintf(knobs[nknobs].old, sizeof(knobs[nknobs].old), "%.*s", (int)(r - l - 1), l + 1);
	nknobs++;
	return write_text(path, val);
}

static void knobs_restore(void)
{
	while (nknobs > 0) {
		nknobs--;
		write_text(knobs[nknobs].path, knobs[nknobs].old);
	}
}

/* Only the wanted size on, every other mTHP size and the PMD size off. */
static int thp_only(int kb)
{
	char path[320], want[64];
	struct dirent *d;
	DIR *dir = opendir(THP);
	int found = 0;

	if (!dir)
		return -1;
	snprintf(want, sizeof(want), "hugepages-%dkB", kb);
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "hugepages-", 10))
			continue;
		snprintf(path, sizeof(path), THP "/%s/enabled", d->d_name);
		if (!strcmp(d->d_name, want))
			found = !knob_set(path, "always");
		else if (knob_set(path, "never") == -1)
			fprintf(stderr, "zap_probe: cannot set '%s' to never\n", path);
	}
	closedir(dir);
	return found ? 0 : -1;
}

static long long stat_of(int kb, const char *name)
{
	char path[320], buf[32];

	snprintf(path, sizeof(path), THP "/hugepages-%dkB/stats/%s", kb, name);
	return read_text(path, buf, sizeof(buf)) ? -1 : strtoll(buf, NULL, 10);
}

static long long vmstat(const char *name)
{
	static char buf[16384];
	size_t len = strlen(name);

	if (read_text("/proc/vmstat", buf, sizeof(buf)))
		return -1;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, len) && l[len] == ' ')
			return strtoll(l + len + 1, NULL, 10);
	return -1;
}

static int tlb_flush_counter(void)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT, .disabled = 1 };
	char buf[32];

	if (read_text("/sys/kernel/tracing/events/tlb/tlb_flush/id", buf, sizeof(buf)) &&
	    read_text("/sys/kernel/debug/tracing/events/tlb/tlb_flush/id", buf, sizeof(buf)))
		return -1;
	attr.config = strtoull(buf, NULL, 10);
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int env_int(const char *name, int def, int lo, int hi)
{
	const char *s = getenv(name);
	int v = s ? atoi(s) : def;

	return v < lo || v > hi ? def : v;
}

/* One repetition: map, fault in as mTHPs, zap; 0 ok, 1 skip, -1 failure. */
static int one(const char *op, int kb, size_t len, int rep, int tlb_fd)
{
	size_t align = (size_t)kb << 10, folios = len / align;
	long long a0, a1, sd0, sd1, pf0, pf1, t0, t1, flushes = -1;
	char *raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *p;
	int rc;

	if (raw == MAP_FAILED)
		return fprintf(stderr, "zap_probe: mmap of %zu bytes: %s\n", len, strerror(errno)), -1;
	p = (char *)(((unsigned long)raw + align - 1) & ~(align - 1));
	a0 = stat_of(kb, "anon_fault_alloc");
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
	a1 = stat_of(kb, "anon_fault_alloc");
	if (a1 - a0 < (long long)folios) {	/* more: other tasks on a host */
		printf("zap_probe: SKIP %s rep=%d: %lld of %zu %d kB folios at fault\n", op, rep, a1 - a0,
		       folios, kb);
		munmap(raw, len + align);
		return 1;
	}
	sd0 = stat_of(kb, "split_deferred");
	pf0 = vmstat("pgfree");
	if (tlb_fd >= 0) {
		ioctl(tlb_fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(tlb_fd, PERF_EVENT_IOC_ENABLE, 0);
	}
	t0 = now_ns();
	rc = !strcmp(op, "munmap") ? munmap(p, len) : madvise(p, len, MADV_DONTNEED);
	t1 = now_ns();
	if (tlb_fd >= 0) {
		ioctl(tlb_fd, PERF_EVENT_IOC_DISABLE, 0);
		if (read(tlb_fd, &flushes, sizeof(flushes)) != sizeof(flushes))
			flushes = -1;
	}
	pf1 = vmstat("pgfree");
	sd1 = stat_of(kb, "split_deferred");
	if (rc)
		return fprintf(stderr, "zap_probe: %s: %s\n", op, strerror(errno)), -1;
	/* What the zap left: the MADV_DONTNEED region reads back zeros. */
	if (strcmp(op, "munmap"))
		for (size_t off = 0; off < len; off += 4096)
			if (p[off])
				return fprintf(stderr, "zap_probe: %s left data at +%zu\n", op, off), -1;
	munmap(raw, len + align);	/* the rest: the alignment slack */
	printf("zap_probe: op=%s kb=%d mb=%zu rep=%d kind=%s ns=%lld split_deferred=%lld pgfree=%lld tlb_flush=%lld\n",
	       op, kb, len >> 20, rep, tlb_fd >= 0 ? "count" : "time", t1 - t0, sd1 - sd0, pf1 - pf0, flushes);
	return 0;
}

static int probe(void)
{
	int kb = env_int("RB_TEST_ZAP_KB", 64, 8, 1024), reps = env_int("RB_TEST_ZAP_REPS", 5, 1, 100);
	size_t len = (size_t)env_int("RB_TEST_ZAP_MB", 64, 1, 4096) << 20;
	static const char *const ops[] = { "munmap", "dontneed" };
	int tlb_fd, rc = 0;

	if (thp_only(kb)) {
		printf("zap_probe: SKIP no %d kB mTHP size in " THP "\n", kb);
		knobs_restore();
		return 0;
	}
	tlb_fd = tlb_flush_counter();
	if (tlb_fd < 0)
		printf("zap_probe: no tlb:tlb_flush tracepoint; counting repetitions report -1\n");
	for (int o = 0; o < 2 && !rc; o++) {
		/* A warm-up, then timed repetitions, then counting ones. */
		for (int r = 0; r <= reps && rc >= 0; r++)
			rc = one(ops[o], kb, len, r, -1);
		for (int r = 0; r < 2 && rc >= 0 && tlb_fd >= 0; r++)
			rc = one(ops[o], kb, len, r, tlb_fd);
		rc = rc < 0 ? rc : 0;
	}
	if (tlb_fd >= 0)
		close(tlb_fd);
	knobs_restore();
	printf("zap_probe: done rc=%d\n", rc);
	return rc;
}

int main(void)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getpid() != 1)
		return probe() ? 1 : 0;
	mkdir("/proc", 0755), mount("proc", "/proc", "proc", 0, NULL);
	mkdir("/sys", 0755), mount("sysfs", "/sys", "sysfs", 0, NULL);
	mkdir("/dev", 0755), mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	{
		char rel[128];

		if (!read_text("/proc/sys/kernel/osrelease", rel, sizeof(rel)))
			printf("zap_probe: kernel %s", rel);
	}
	rc = probe();
	fflush(stdout);
	(void)rc;
	sync();
	reboot(RB_AUTOBOOT);	/* ends QEMU (-no-reboot); no ACPI in the guest */
	for (;;)
		pause();
}
