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
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "bench.h"

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

static int zram_swap_make(struct bench_ctx *ctx, uint64_t bytes)
{
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned char *page = calloc(1, page_size);
	char size[32];
	int fd = -1;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
	if (!page || swap_header_fill(page, page_size, bytes)) {
		free(page);
		return bench_fail(ctx, "swap header for %s bytes", size);
	}
	if (write_text(ZRAM_SYS "/disksize", size)) {
		free(page);
		return bench_skip(ctx, "'%s/disksize' of %s: %s (zram in use?)", ZRAM_SYS, size,
				  strerror(errno));
	}
	fd = open(ZRAM_DEV, O_WRONLY);
	if (fd < 0 || pwrite(fd, page, page_size, 0) != page_size || fsync(fd)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		free(page);
		write_text(ZRAM_SYS "/reset", "1");
		return bench_skip(ctx, "writing the swap header to '%s': %s", ZRAM_DEV, strerror(err));
	}
	close(fd);
	free(page);
	if (swapon(ZRAM_DEV, 0)) {
		int err = errno;

		write_text(ZRAM_SYS "/reset", "1");
		return bench_skip(ctx, "swapon '%s': %s", ZRAM_DEV, strerror(err));
	}
	swap_state.zram_on = 1;
	return BENCH_OK;
}

/* Swap of at least mb MiB: the swap already on (a host's), else zram0
 * made swap here.  A machine with neither is a SKIP with the reason. */
int swap_zram_on(struct bench_ctx *ctx, unsigned long mb)
{
	char text[64];
	int areas = swap_areas();

	/* RB_TEST_NO_SWAP: a machine without swap, to show the tests fail. */
	if (getenv("RB_TEST_NO_SWAP"))
		return bench_skip(ctx, "no swap and no zram device (RB_TEST_NO_SWAP)");
	if (areas < 0)
		return bench_skip(ctx, "no /proc/swaps (kernel without CONFIG_SWAP)");
	if (areas > 0) {
		long long free_kb = meminfo_kb("SwapFree");

		if (free_kb < (long long)mb << 10)
			return bench_skip(ctx, "swap on with %lld kB free, %lu MiB needed", free_kb, mb);
		return BENCH_OK;
	}
	/* A host's zram is its owner's: only the guest (whose /init reads
	 * /plan) makes one swap. */
	if (access("/plan", F_OK))
		return bench_skip(ctx, "no swap on, and zram is set up only in the reclaimbench guest");
	if (access(ZRAM_SYS, F_OK) && read_text("/sys/class/zram-control/hot_add", text, sizeof(text)) < 0)
		return bench_skip(ctx, "no swap and no zram device (CONFIG_ZRAM)");
	if (read_text(ZRAM_SYS "/disksize", text, sizeof(text)) < 0 || atoll(text) != 0)
		return bench_skip(ctx, "zram0 already has a disk size (%s): in use by someone else", text);
	return zram_swap_make(ctx, (uint64_t)mb << 20);
}

/* Undoes swap_zram_on: swapoff brings anything still out back in. */
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
static int cgroup2_ready(struct bench_ctx *ctx)
{
	struct stat dir, parent;

	if (!access(CGROUP_ROOT "/cgroup.controllers", R_OK))
		return BENCH_OK;
	mkdir("/sys/fs", 0755);
	mkdir(CGROUP_ROOT, 0755);
	/* Never mount over what is there (a host's cgroup v1 hierarchy). */
	if (stat(CGROUP_ROOT, &dir) || stat("/sys/fs", &parent) || dir.st_dev != parent.st_dev)
		return bench_skip(ctx, "'%s' is not cgroup v2 and something is mounted there", CGROUP_ROOT);
	if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
		return bench_skip(ctx, "mount cgroup2 on '%s': %s (CONFIG_CGROUPS)", CGROUP_ROOT,
				  strerror(errno));
	swap_state.cgroup_mounted = 1;
	return BENCH_OK;
}

/* A child cgroup `name` of the root with the memory controller, holding
 * this process from now on (its path in dir).  Memory charged before
 * stays where it was; what the benchmark faults in later is charged here. */
int memcg_enter(struct bench_ctx *ctx, const char *name, char *dir, size_t cap)
{
	char text[512], procs[600];
	int ret = cgroup2_ready(ctx);

	if (ret)
		return ret;
	if (read_text(CGROUP_ROOT "/cgroup.controllers", text, sizeof(text)) < 0 || !strstr(text, "memory"))
		return bench_skip(ctx, "no memory controller in '%s/cgroup.controllers' (CONFIG_MEMCG)",
				  CGROUP_ROOT);
	if (cgroup_self(swap_state.home, sizeof(swap_state.home)))
		return bench_skip(ctx, "no cgroup v2 line in /proc/self/cgroup");
	if (write_text(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return bench_fail(ctx, "'+memory' to '%s/cgroup.subtree_control': %s", CGROUP_ROOT,
				  strerror(errno));
	snprintf(dir, cap, "%s/%s", CGROUP_ROOT, name);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return bench_fail(ctx, "mkdir '%s': %s", dir, strerror(errno));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (write_text(procs, "0"))
		return bench_fail(ctx, "joining '%s': %s", dir, strerror(errno));
	return BENCH_OK;
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

/* Dirty anonymous params.mthp_kb folios of len bytes, faulted in inside
 * the cgroup at dir: each folio proven whole at its size, each page given
 * its own first word (so zram stores it compressed, not as a page filled
 * with one byte), and the cgroup's anon charge proven to hold them all. */
int memcg_region(struct bench_ctx *ctx, const char *dir, size_t len, char **out)
{
	uint64_t anon0, anon1;
	char *p;
	int ret;

	if (memcg_stat(dir, "anon", &anon0))
		return bench_skip(ctx, "no 'anon' in '%s/memory.stat'", dir);
	ret = mthp_fault_region(ctx, len, 1, &p);
	if (ret)
		return ret;
	for (size_t off = 0; off < len; off += 4096)
		*(uint64_t *)(p + off) = off / 4096 * 0x9e3779b97f4a7c15ULL;
	if (memcg_stat(dir, "anon", &anon1) || anon1 - anon0 < len) {
		munmap(p, len);
		return bench_skip(ctx, "the cgroup's anon grew by %llu bytes for a %zu byte region: "
				  "not charged here", (unsigned long long)(anon1 - anon0), len);
	}
	*out = p;
	return BENCH_OK;
}

/* Pages of [p, p+len) the pagemap shows swapped out; -1 when unreadable. */
long swapped_pages(const void *p, size_t len)
{
	size_t pages = len / 4096;
	uint64_t *pm = malloc(pages * sizeof(*pm));
	long n = 0;

	if (!pm || pagemap_read(p, pages, pm)) {
		free(pm);
		return -1;
	}
	for (size_t i = 0; i < pages; i++)
		n += !!(pm[i] & PM_SWAP);
	free(pm);
	return n;
}
