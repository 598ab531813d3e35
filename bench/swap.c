/* Swap and a memory cgroup for the swap-backed benchmarks: a zram device
 * made swap by a header we write ourselves and swapon(2), and a cgroup v2
 * child with the memory controller that the benchmark process joins.
 * Whatever is set up here is taken down again by the same benchmark's
 * teardown, so the benchmarks without swap see the machine as before
 * (with swap, a redirtied lazyfree folio would be swapped, not kept). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "helpers.h"

#define ZRAM_SYS "/sys/block/zram0"
#define ZRAM_DEV "/dev/zram0"
#define CGROUP_ROOT "/sys/fs/cgroup"

static struct {
	int zram_on;		/* we made zram0 swap: swapoff and reset it */
	int cgroup_mounted;	/* we mounted cgroup2 */
	char home[256];		/* the cgroup we came from, to go back to */
} swap_state;

/* The first page of a swap area, as mkswap writes it (version 1): the
 * header (version, last usable page, bad pages) at byte 1024 and the
 * magic "SWAPSPACE2" in the page's last ten bytes. */
int swap_header_fill(unsigned char *page, size_t page_size, uint64_t area_bytes)
{
	uint32_t version = 1, last_page, nr_bad = 0;

	if (page_size < 4096 || area_bytes / page_size < 10 || area_bytes / page_size - 1 > UINT32_MAX)
		return -1;
	last_page = (uint32_t)(area_bytes / page_size - 1);
	memset(page, 0, page_size);
	memcpy(page + 1024, &version, 4);
	memcpy(page + 1028, &last_page, 4);
	memcpy(page + 1032, &nr_bad, 4);
	memcpy(page + page_size - 10, "SWAPSPACE2", 10);
	return 0;
}

/* Swap areas in use, from /proc/swaps (its first line is a header). */
int swap_areas(void)
{
	char text[4096];
	int lines = 0;

	if (read_text("/proc/swaps", text, sizeof(text)) < 0)
		return -1;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	return lines > 0 ? lines - 1 : 0;
}

static int zram_swap_make(uint64_t bytes, struct why *w)
{
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned char *page = calloc(1, page_size);
	char size[32];
	int fd = -1;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
	if (!page || swap_header_fill(page, page_size, bytes)) {
		free(page);
		return why_set(w, HELP_FAILED, "swap header for %s bytes", size);
	}
	if (write_text(ZRAM_SYS "/disksize", size)) {
		free(page);
		return why_set(w, HELP_MISSING, "'%s/disksize' of %s: %s (zram in use?)", ZRAM_SYS, size,
			       strerror(errno));
	}
	fd = open(ZRAM_DEV, O_WRONLY);
	if (fd < 0 || pwrite(fd, page, page_size, 0) != page_size || fsync(fd)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		free(page);
		write_text(ZRAM_SYS "/reset", "1");
		return why_set(w, HELP_MISSING, "writing the swap header to '%s': %s", ZRAM_DEV, strerror(err));
	}
	close(fd);
	free(page);
	if (swapon(ZRAM_DEV, 0)) {
		int err = errno;

		write_text(ZRAM_SYS "/reset", "1");
		return why_set(w, HELP_MISSING, "swapon '%s': %s", ZRAM_DEV, strerror(err));
	}
	swap_state.zram_on = 1;
	return HELP_OK;
}

/* Swap of at least mb MiB: the swap already on (a host's), else zram0
 * made swap here; HELP_MISSING on a machine with neither. */
int swap_on(unsigned long mb, struct why *w)
{
	char text[64];
	int areas = swap_areas();

	/* RB_TEST_NO_SWAP: a machine without swap, to show the tests fail. */
	if (getenv("RB_TEST_NO_SWAP"))
		return why_set(w, HELP_MISSING, "no swap and no zram device (RB_TEST_NO_SWAP)");
	if (areas < 0)
		return why_set(w, HELP_MISSING, "no /proc/swaps (kernel without CONFIG_SWAP)");
	if (areas > 0) {
		long long free_kb = meminfo_kb("SwapFree");

		if (free_kb < (long long)mb << 10)
			return why_set(w, HELP_MISSING, "swap on with %lld kB free, %lu MiB needed", free_kb, mb);
		return HELP_OK;
	}
	/* A host's zram is its owner's: only the guest (whose /init reads
	 * /plan) makes one swap. */
	if (access("/plan", F_OK))
		return why_set(w, HELP_MISSING, "no swap on, and zram is set up only in the reclaimbench guest");
	if (access(ZRAM_SYS, F_OK) && read_text("/sys/class/zram-control/hot_add", text, sizeof(text)) < 0)
		return why_set(w, HELP_MISSING, "no swap and no zram device (CONFIG_ZRAM)");
	if (read_text(ZRAM_SYS "/disksize", text, sizeof(text)) < 0 || atoll(text) != 0)
		return why_set(w, HELP_MISSING, "zram0 already has a disk size (%s): in use by someone else", text);
	return zram_swap_make((uint64_t)mb << 20, w);
}

/* Undoes swap_on: swapoff brings anything still out back in. */
void swap_zram_off(void)
{
	if (!swap_state.zram_on)
		return;
	swapoff(ZRAM_DEV);
	write_text(ZRAM_SYS "/reset", "1");
	swap_state.zram_on = 0;
}

/* Our cgroup v2 path from /proc/self/cgroup ("0::/path"). */
static int cgroup_self(char *path, size_t cap)
{
	char text[1024], *line;

	if (read_text("/proc/self/cgroup", text, sizeof(text)) < 0 || !(line = strstr(text, "0::")))
		return -1;
	line += 3;
	line[strcspn(line, "\n")] = '\0';
	snprintf(path, cap, "%s", line);
	return 0;
}

/* cgroup2 at /sys/fs/cgroup, mounted here if it is not there yet. */
static int cgroup2_ready(struct why *w)
{
	struct stat dir, parent;

	if (!access(CGROUP_ROOT "/cgroup.controllers", R_OK))
		return HELP_OK;
	mkdir("/sys/fs", 0755);
	mkdir(CGROUP_ROOT, 0755);
	/* Never mount over what is there (a host's cgroup v1 hierarchy). */
	if (stat(CGROUP_ROOT, &dir) || stat("/sys/fs", &parent) || dir.st_dev != parent.st_dev)
		return why_set(w, HELP_MISSING, "'%s' is not cgroup v2 and something is mounted there", CGROUP_ROOT);
	if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
		return why_set(w, HELP_MISSING, "mount cgroup2 on '%s': %s (CONFIG_CGROUPS)", CGROUP_ROOT,
			       strerror(errno));
	swap_state.cgroup_mounted = 1;
	return HELP_OK;
}

/* A child cgroup `name` of the root with the memory controller, holding
 * this process from now on (its path in dir).  Memory charged before
 * stays where it was; what the benchmark faults in later is charged here. */
int memcg_join(const char *name, char *dir, size_t cap, struct why *w)
{
	char text[512], procs[600];
	int ret = cgroup2_ready(w);

	if (ret)
		return ret;
	if (read_text(CGROUP_ROOT "/cgroup.controllers", text, sizeof(text)) < 0 || !strstr(text, "memory"))
		return why_set(w, HELP_MISSING, "no memory controller in '%s/cgroup.controllers' (CONFIG_MEMCG)",
			       CGROUP_ROOT);
	if (cgroup_self(swap_state.home, sizeof(swap_state.home)))
		return why_set(w, HELP_MISSING, "no cgroup v2 line in /proc/self/cgroup");
	if (write_text(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return why_set(w, HELP_FAILED, "'+memory' to '%s/cgroup.subtree_control': %s", CGROUP_ROOT,
			       strerror(errno));
	snprintf(dir, cap, "%s/%s", CGROUP_ROOT, name);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return why_set(w, HELP_FAILED, "mkdir '%s': %s", dir, strerror(errno));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (write_text(procs, "0"))
		return why_set(w, HELP_FAILED, "joining '%s': %s", dir, strerror(errno));
	return HELP_OK;
}

/* Back to the cgroup we came from; the child removed, cgroup2 unmounted
 * if we mounted it. */
void memcg_leave(const char *dir)
{
	char procs[600];

	if (swap_state.home[0]) {
		snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", CGROUP_ROOT,
			 strcmp(swap_state.home, "/") ? swap_state.home : "");
		write_text(procs, "0");
		swap_state.home[0] = '\0';
	}
	if (dir && dir[0])
		rmdir(dir);
	if (swap_state.cgroup_mounted && !umount(CGROUP_ROOT))
		swap_state.cgroup_mounted = 0;
}

/* One number of a cgroup file (memory.current, memory.peak); -1 if none. */
long long memcg_value(const char *dir, const char *file)
{
	char path[600], text[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	return atoll(text);
}

/* A field of the cgroup's memory.stat ("name value" lines); -1 if none. */
int memcg_stat(const char *dir, const char *name, uint64_t *value)
{
	char path[600];
	static char text[8192];

	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	return parse_vmstat(text, name, value);
}
