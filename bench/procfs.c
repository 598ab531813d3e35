/* Reading and parsing /proc and /sys text, the pagemap and kpageflags. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

int why_set(struct why *w, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->text, sizeof(w->text), fmt, ap);
	va_end(ap);
	return ret;
}

int read_text(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	return (int)n;
}

int write_text(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(value), w;

	if (fd < 0)
		return -1;
	w = write(fd, value, len);
	close(fd);
	return w == len ? 0 : -1;
}

uint64_t now_ns(int clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts))
		return UINT64_MAX;	/* e.g. CPU clocks without CONFIG_POSIX_TIMERS */
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* The smallest nonzero step of a clock, read back to back: what a
 * timing by it can tell apart (1 ns on its face, 4 ms on refined-jiffies
 * at HZ=250).  Spins until 1000 steps or 50 ms of that clock have passed;
 * 0 when it never moved. */
uint64_t clock_step_ns(int clock)
{
	uint64_t t0 = now_ns(clock), prev = t0, least = 0;

	for (int steps = 0; steps < 1000;) {
		uint64_t t = now_ns(clock);

		if (t == UINT64_MAX || t < prev)
			break;
		if (t > prev) {
			if (!least || t - prev < least)
				least = t - prev;
			steps++;
			prev = t;
		}
		if (t - t0 > 50000000)
			break;
	}
	return least;
}

/* Find "name<sep>" at the start of a line; return what follows. */
static const char *line_value(const char *text, const char *name, char sep)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == sep)
			return p + n + 1;
	return NULL;
}

int parse_vmstat(const char *text, const char *name, uint64_t *value)
{
	const char *v = line_value(text, name, ' ');
	char *end;

	if (!v)
		return -1;
	*value = strtoull(v, &end, 10);
	return end == v ? -1 : 0;
}

int parse_status_kb(const char *text, const char *name, long long *kb)
{
	const char *v = line_value(text, name, ':');
	char *end;

	if (!v)
		return -1;
	*kb = strtoll(v, &end, 10);
	if (end == v)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	return strncmp(end, "kB", 2) ? -1 : 0;
}

int parse_knob(const char *text, char *choice, size_t cap)
{
	const char *open = strchr(text, '['), *close = open ? strchr(open, ']') : NULL;
	size_t n;

	if (!open || !close) {	/* a plain value, such as "1" or "511" */
		n = strcspn(text, "\n");
	} else {
		text = open + 1;
		n = close - text;
	}
	if (!n || n >= cap)
		return -1;
	memcpy(choice, text, n);
	choice[n] = '\0';
	return 0;
}

int vmstat(const char *name, uint64_t *value)
{
	static char buf[16384];

	if (read_text("/proc/vmstat", buf, sizeof(buf)) < 0)
		return -1;
	return parse_vmstat(buf, name, value);
}

int mthp_stat(const char *mthp_dir, const char *name, uint64_t *value)
{
	char path[256], buf[64], *end;

	snprintf(path, sizeof(path), "%s/stats/%s", mthp_dir, name);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	*value = strtoull(buf, &end, 10);
	return end == buf ? -1 : 0;
}

static long long file_kb(const char *path, const char *name)
{
	char buf[8192];
	long long kb;

	if (read_text(path, buf, sizeof(buf)) < 0 ||
	    parse_status_kb(buf, name, &kb))
		return -1;
	return kb;
}

long long status_kb(const char *name)
{
	return file_kb("/proc/self/status", name);
}

long long meminfo_kb(const char *name)
{
	return file_kb("/proc/meminfo", name);
}

void *map_aligned(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + align - a);
	return a;
}

void touch_pages(void *p, size_t len, char val)
{
	long page = sysconf(_SC_PAGESIZE);

	for (size_t off = 0; off < len; off += page)
		((volatile char *)p)[off] = val;
}

void touch_pages_distinct(void *p, size_t len)
{
	for (size_t off = 0; off < len; off += 4096)
		*(uint64_t *)((char *)p + off) = off / 4096 * 0x9e3779b97f4a7c15ULL;
}

int pagemap_read(const void *p, size_t pages, uint64_t *entries)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t want = pages * sizeof(*entries);
	ssize_t got = fd < 0 ? -1 : pread(fd, entries, want, (uintptr_t)p / 4096 * sizeof(*entries));

	if (fd >= 0)
		close(fd);
	return got == want ? 0 : -1;
}

/* The /proc/kpageflags word of a physical page (root only). */
int kpageflags(uint64_t pfn, uint64_t *flags)
{
	static int fd = -2;

	if (fd == -2)
		fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && pread(fd, flags, sizeof(*flags), pfn * sizeof(*flags)) == sizeof(*flags) ? 0 : -1;
}

/* The pagemap entries of [p, p + pages pages), malloced; NULL when
 * unreadable. */
static uint64_t *pagemap_copy(const void *p, size_t pages)
{
	uint64_t *pm = malloc(pages * sizeof(*pm));

	if (pm && pagemap_read(p, pages, pm)) {
		free(pm);
		return NULL;
	}
	return pm;
}

long whole_folios(const void *p, size_t len, size_t folio)
{
	size_t pages = len / 4096, per = folio / 4096;
	uint64_t *pm = pagemap_copy(p, pages);
	long whole = 0;

	if (!pm)
		return -1;
	for (size_t f = 0; f < pages / per; f++) {
		const uint64_t *e = pm + f * per;
		int ok = (e[0] & PM_PRESENT) && PM_PFN(e[0]) && PM_PFN(e[0]) % per == 0;

		for (size_t i = 1; ok && i < per; i++)
			ok = (e[i] & PM_PRESENT) && PM_PFN(e[i]) == PM_PFN(e[0]) + i;
		whole += ok;
	}
	free(pm);
	return whole;
}

int folio_ptes_read(const void *p, size_t len, size_t folio, struct folio_ptes *out)
{
	size_t pages = len / 4096, per = folio / 4096;
	uint64_t *pm = pagemap_copy(p, pages);
	int ret = 0;

	if (!pm)
		return -1;
	for (size_t f = 0; f < pages / per && !ret; f++) {
		struct folio_ptes *o = &out[f];

		*o = (struct folio_ptes){ 0 };
		for (size_t i = 0; i < per && !ret; i++) {
			uint64_t e = pm[f * per + i], flags;

			o->swap += !!(e & PM_SWAP);
			if (!(e & PM_PRESENT))
				continue;
			o->present++;
			if (kpageflags(PM_PFN(e), &flags))
				ret = -1;
			else
				o->small += !(flags & (1ULL << KPF_COMPOUND_HEAD | 1ULL << KPF_COMPOUND_TAIL));
		}
	}
	free(pm);
	return ret;
}

/* Pages of the pagemap with a bit set (present, swap), -1 unreadable. */
static long pages_with(const void *p, size_t len, uint64_t bit)
{
	size_t pages = len / 4096;
	uint64_t *pm = pagemap_copy(p, pages);
	long n = 0;

	if (!pm)
		return -1;
	for (size_t i = 0; i < pages; i++)
		n += !!(pm[i] & bit);
	free(pm);
	return n;
}

long present_pages(const void *p, size_t len)
{
	return pages_with(p, len, PM_PRESENT);
}

long swapped_pages(const void *p, size_t len)
{
	return pages_with(p, len, PM_SWAP);
}

long long smaps_kb(const char *text, const char *field, unsigned long start, unsigned long end)
{
	size_t n = strlen(field);
	long long sum = -1;
	int inside = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long lo, hi;
		int used = 0;
		char *stop;
		long long kb;

		if (sscanf(l, "%lx-%lx %n", &lo, &hi, &used) == 2 && used) {
			inside = lo < end && hi > start;
		} else if (inside && !strncmp(l, field, n) && l[n] == ':') {
			kb = strtoll(l + n + 1, &stop, 10);
			if (stop != l + n + 1 && kb >= 0 && kb < 1LL << 50)	/* else not a size */
				sum = (sum < 0 ? 0 : sum) + kb;
		}
	}
	return sum;
}

long long mapping_kb(const void *p, size_t len, const char *field)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	long long kb = -1;

	if (buf && read_text("/proc/self/smaps", buf, cap) > 0)
		kb = smaps_kb(buf, field, (uintptr_t)p, (uintptr_t)p + len);
	free(buf);
	return kb;
}

/* /proc/zoneinfo: each zone starts with "Node N, zone NAME", has a
 * "managed N" line, then "pagesets" with per CPU "cpu: N" followed by
 * "count:", "high:" and "batch:" (7.3 adds "high_min:" and more). */
int parse_pcp(const char *text, int cpu, struct pcp_state *s)
{
	long managed = -1, best = -1, v;
	int in_cpu = 0, n;
	struct pcp_state cur = { -1, -1, -1 };

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		while (*l == ' ')
			l++;
		if (!strncmp(l, "Node ", 5)) {
			managed = -1;
			in_cpu = 0;
		} else if (sscanf(l, "managed %ld", &v) == 1) {
			managed = v;
		} else if (sscanf(l, "cpu: %d", &n) == 1) {
			in_cpu = n == cpu;
			cur.count = cur.high = cur.batch = -1;
		} else if (in_cpu && sscanf(l, "count: %ld", &v) == 1) {
			cur.count = v;
		} else if (in_cpu && sscanf(l, "high: %ld", &v) == 1) {
			cur.high = v;
		} else if (in_cpu && sscanf(l, "batch: %ld", &v) == 1) {
			cur.batch = v;
			in_cpu = 0;
			if (cur.count >= 0 && cur.high >= 0 && managed > best) {
				best = managed;
				*s = cur;
			}
		}
	}
	return best < 0 ? -1 : 0;
}

int pcp_read(int cpu, struct pcp_state *s)
{
	/* Static and touched once: reading must not fault in pages of our
	 * own, which would come from the very list being read. */
	static char buf[256 << 10];
	int n = read_text("/proc/zoneinfo", buf, sizeof(buf));

	if (n < 0 || n >= (int)sizeof(buf) - 1)
		return -1;	/* unreadable, or too long to hold whole */
	return parse_pcp(buf, cpu, s);
}

/* The sum over every CPU of the /proc/interrupts row whose description
 * starts with desc ("TLB shootdowns" on x86, "Function call interrupts"
 * on both x86 and arm64): rows are "LABEL: N N ... description".  -1 when
 * no row has it. */
int parse_interrupts(const char *text, const char *desc, uint64_t *sum)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = strchr(l, ':'), *eol = strchr(l, '\n');
		uint64_t total = 0;
		char *end;

		if (!p || (eol && p > eol))
			continue;
		for (p++;; p = end) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p || (eol && end > eol))
				break;
			total += v;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, desc, strlen(desc))) {
			*sum = total;
			return 0;
		}
	}
	return -1;
}

int interrupts(const char *desc, uint64_t *sum)
{
	static char buf[64 << 10];	/* static: no page of ours faulted in here */

	if (read_text("/proc/interrupts", buf, sizeof(buf)) <= 0)
		return -1;
	return parse_interrupts(buf, desc, sum);
}

/* The number of a symbol in a tracepoint's format file, whose print fmt
 * lists them as { N, "text" } (TRACE_DEFINE_ENUM puts the numbers in at
 * boot); text matched whole, in any case.  -1 when absent. */
int parse_tracepoint_enum(const char *format, const char *text)
{
	size_t len = strlen(text);

	for (const char *q = strchr(format, '"'); q; q = strchr(q + 1, '"')) {
		const char *open;

		if (strncasecmp(q + 1, text, len) || q[1 + len] != '"')
			continue;
		for (open = q; open > format && *open != '{' && *open != '}'; open--)
			;
		if (*open == '{')
			return (int)strtol(open + 1, NULL, 0);
	}
	return -1;
}

long long read_count(const char *path)
{
	char buf[64], *end;
	long long v;

	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	v = strtoll(buf, &end, 10);
	return end != buf && (*end == '\n' || !*end) && v >= 0 ? v : -1;
}
