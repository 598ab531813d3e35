/* pmd_free_probe: both halves of the PMD-level lazyfree path, with none of
 * rb-bench's code.  A region of PMD-mapped THPs is made lazyfree, every
 * second THP is written again, then MADV_PAGEOUT reclaims the region.
 * Prints, per repetition:
 *   split_pmd   thp_split_pmd delta (7.3: every THP; 7.3-pmd-discard: 0)
 *   lazyfreed   pglazyfreed delta (the clean half: 256 pages a THP)
 *   lost        pages of the redirtied half not holding their new value
 *               (must be 0 on every kernel)
 *   zeroed      pages of the clean half that read 0 afterwards (discarded)
 *   ns          the MADV_PAGEOUT call (instructions under tcg-icount)
 * As the guest's /init (RECLAIMBENCH_INIT=build/pmd_free_probe) it mounts
 * /proc and /sys, prints "pmd_free_probe: ..." lines and resets the machine.
 * RB_TEST_PMD_COUNT sets the number of THPs (default 16). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define PMD (2UL << 20)

static long long vmstat(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			v = strtoll(line + len + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int one(int thps, int rep)
{
	size_t len = (size_t)thps * PMD;
	long long a0, a1, s0, s1, f0, f1, t0, t1;
	long lost = 0, zeroed = 0;
	char *raw = mmap(NULL, len + PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *p;
	int rc;

	if (raw == MAP_FAILED)
		return printf("pmd_free_probe: FAIL mmap: %s\n", strerror(errno)), -1;
	p = (char *)(((unsigned long)raw + PMD - 1) & ~(PMD - 1));
	madvise(p, len, MADV_HUGEPAGE);
	a0 = vmstat("thp_fault_alloc");
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
	a1 = vmstat("thp_fault_alloc");
	if (a1 - a0 != thps) {
		printf("pmd_free_probe: SKIP rep=%d: %lld of %d THPs at fault\n", rep, a1 - a0, thps);
		munmap(raw, len + PMD);
		return 1;
	}
	if (madvise(p, len, MADV_FREE))
		return printf("pmd_free_probe: FAIL MADV_FREE: %s\n", strerror(errno)), -1;
	for (int t = 1; t < thps; t += 2)	/* redirty every second THP */
		for (size_t off = t * PMD; off < (t + 1) * PMD; off += 4096)
			p[off] = 2;
	s0 = vmstat("thp_split_pmd");
	f0 = vmstat("pglazyfreed");
	t0 = now_ns();
	rc = madvise(p, len, MADV_PAGEOUT);
	t1 = now_ns();
	s1 = vmstat("thp_split_pmd");
	f1 = vmstat("pglazyfreed");
	if (rc)
		return printf("pmd_free_probe: FAIL MADV_PAGEOUT: %s\n", strerror(errno)), -1;
	for (int t = 0; t < thps; t++)
		for (size_t off = t * PMD; off < (t + 1) * PMD; off += 4096) {
			if (t & 1)
				lost += p[off] != 2;
			else
				zeroed += p[off] == 0;
		}
	munmap(raw, len + PMD);
	printf("pmd_free_probe: rep=%d thps=%d ns=%lld split_pmd=%lld lazyfreed=%lld lost=%ld zeroed=%ld\n",
	       rep, thps, t1 - t0, s1 - s0, f1 - f0, lost, zeroed);
	return 0;
}

static int probe(void)
{
	const char *s = getenv("RB_TEST_PMD_COUNT");
	int thps = s ? atoi(s) : 16, rc = 0;

	if (thps < 2 || thps > 256)
		thps = 16;
	for (int r = 0; r < 5 && rc >= 0; r++)
		rc = one(thps, r);
	printf("pmd_free_probe: done rc=%d\n", rc < 0 ? rc : 0);
	return rc < 0 ? -1 : 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getpid() != 1)
		return probe() ? 1 : 0;
	mkdir("/proc", 0755), mount("proc", "/proc", "proc", 0, NULL);
	mkdir("/sys", 0755), mount("sysfs", "/sys", "sysfs", 0, NULL);
	probe();
	sync();
	reboot(RB_AUTOBOOT);	/* ends QEMU (-no-reboot); no ACPI in the guest */
	for (;;)
		pause();
}
