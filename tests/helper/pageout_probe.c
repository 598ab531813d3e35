/* An independent measurement for the tests: times MADV_PAGEOUT of a
 * 128 MiB lazyfree region the plain way, with none of rb-bench's code.
 * Prints the median of N runs in ns.  The caller sets the 64 kB knob.
 * With "stats" after N it also prints what the 64 kB size's own counters
 * moved by over the N runs: anon_fault_alloc (mTHPs really made) and
 * split_deferred (folios queued for split, which a kernel with batched
 * lazyfree unmap never does here), or -1 for a counter it cannot read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static long long mthp_stat(const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/stats/%s", name);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	size_t len = 128 << 20, align = 64 << 10;
	long long t[64], alloc0 = mthp_stat("anon_fault_alloc"), split0 = mthp_stat("split_deferred");
	int stats = argc > 2 && !strcmp(argv[2], "stats");

	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++) {
		char *raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *p = (char *)(((unsigned long)raw + align - 1) & ~(align - 1));
		struct timespec a, b;

		madvise(p, len, MADV_HUGEPAGE);
		memset(p, 1, len);
		madvise(p, len, MADV_FREE);
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (madvise(p, len, MADV_PAGEOUT))
			return perror("madvise"), 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = (b.tv_sec - a.tv_sec) * 1000000000LL + b.tv_nsec - a.tv_nsec;
		munmap(raw, len + align);
	}
	qsort(t, n, sizeof(t[0]), cmp);
	if (!stats)
		printf("%lld\n", t[n / 2]);
	else
		printf("%lld %lld %lld\n", t[n / 2], alloc0 < 0 ? -1 : mthp_stat("anon_fault_alloc") - alloc0,
		       split0 < 0 ? -1 : mthp_stat("split_deferred") - split0);
	return 0;
}
