/* collapse_probe: does the guest kernel give collapse_race what it needs?
 * A memfd (shmem) range of 2 MiB-aligned PMD blocks is mapped shared,
 * touched as small pages, then MADV_COLLAPSE'd; ShmemPmdMapped in
 * /proc/meminfo must grow by the region's size.  Then MADV_DONTNEED of the
 * range must leave it readable (page cache data kept).  Prints
 * "collapse_probe: ..." lines; as the guest's /init
 * (RECLAIMBENCH_INIT=build/collapse_probe) it mounts /proc and /sys first
 * and resets the machine at the end.  Needs CONFIG_SHMEM, CONFIG_MEMFD_CREATE and
 * CONFIG_TRANSPARENT_HUGEPAGE. */
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
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define PMD (2UL << 20)
#define BLOCKS 4

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void show_file(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		printf("collapse_probe: %s: missing\n", path);
	else
		buf[n] = '\0', printf("collapse_probe: %s: %s", path, buf);
}

static int probe(void)
{
	size_t len = BLOCKS * PMD;
	long before, after;
	char *raw, *p;
	int fd = memfd_create("collapse_probe", MFD_CLOEXEC), rc, bad = 0;

	show_file("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
	if (fd < 0)
		return printf("collapse_probe: FAIL memfd_create: %s\n", strerror(errno)), -1;
	if (ftruncate(fd, len))
		return printf("collapse_probe: FAIL ftruncate: %s\n", strerror(errno)), -1;
	raw = mmap(NULL, len + PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return printf("collapse_probe: FAIL mmap: %s\n", strerror(errno)), -1;
	p = (char *)(((unsigned long)raw + PMD - 1) & ~(PMD - 1));
	if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		return printf("collapse_probe: FAIL mmap of the memfd: %s\n", strerror(errno)), -1;
	for (size_t off = 0; off < len; off += 4096)
		p[off] = (char)(off >> 12 | 1);
	before = meminfo_kb("ShmemPmdMapped");
	rc = madvise(p, len, MADV_COLLAPSE);
	printf("collapse_probe: MADV_COLLAPSE of %zu KiB: %s\n", len >> 10, rc ? strerror(errno) : "ok");
	after = meminfo_kb("ShmemPmdMapped");
	printf("collapse_probe: ShmemPmdMapped %ld -> %ld kB (want +%zu)\n", before, after, len >> 10);
	if (madvise(p, len, MADV_DONTNEED))
		printf("collapse_probe: MADV_DONTNEED: %s\n", strerror(errno)), bad++;
	for (size_t off = 0; off < len; off += 4096)
		bad += p[off] != (char)(off >> 12 | 1);
	printf("collapse_probe: %d pages differ after MADV_DONTNEED\n", bad);
	munmap(raw, len + PMD);
	close(fd);
	rc = !rc && after - before == (long)(len >> 10) && !bad;
	printf("collapse_probe: %s\n", rc ? "PASS" : "FAIL");
	return rc ? 0 : -1;
}

int main(void)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getpid() != 1)
		return probe() ? 1 : 0;
	mkdir("/proc", 0755), mount("proc", "/proc", "proc", 0, NULL);
	mkdir("/sys", 0755), mount("sysfs", "/sys", "sysfs", 0, NULL);
	rc = probe();
	(void)rc;
	sync();
	reboot(RB_AUTOBOOT);	/* ends QEMU (-no-reboot); no ACPI in the guest */
	for (;;)
		pause();
}
