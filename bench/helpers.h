/* The helpers of the guest programs: files of /proc and /sys and their
 * parsers, kernel knobs, perf events, swap and cgroups, CPUs.  They depend
 * on libc alone and return codes or fill structs; the benchmark layer
 * (lib.c, scenario.c, settle.c, race.c and the benchmarks) turns those into skips,
 * failures and metrics (tests/t-layout.sh checks no helper calls it). */
#ifndef RB_HELPERS_H
#define RB_HELPERS_H
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define PCP_FRACTION_KNOB "/proc/sys/vm/percpu_pagelist_high_fraction"

/* A helper that can fail for more than one reason returns HELP_MISSING
 * (the kernel or the machine lacks something) or HELP_FAILED (a call
 * failed), and says why in words. */
enum { HELP_OK = 0, HELP_MISSING = 1, HELP_FAILED = -1 };
struct why {
	char text[512];
};
int why_set(struct why *w, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Files of /proc and /sys (procfs.c). */
int read_text(const char *path, char *buf, size_t cap);
long long read_count(const char *path);	/* a file holding one count; -1 if absent or not one */
int write_text(const char *path, const char *value);
uint64_t now_ns(int clock);
uint64_t clock_step_ns(int clock);	/* smallest nonzero step seen, 0 if none */
/* Parsers on text, so they can be tested on fixtures: -1 when missing. */
int parse_vmstat(const char *text, const char *name, uint64_t *value);
int parse_status_kb(const char *text, const char *name, long long *kb);
int parse_knob(const char *text, char *choice, size_t cap);
int parse_interrupts(const char *text, const char *desc, uint64_t *sum);
int parse_tracepoint_enum(const char *format, const char *text);
/* Readers of the running kernel's files. */
int vmstat(const char *name, uint64_t *value);
/* A counter of an mTHP size's stats folder (THP_DIR/hugepages-<size>kB). */
int mthp_stat(const char *mthp_dir, const char *name, uint64_t *value);
long long status_kb(const char *name);	/* /proc/self/status, -1 if absent */
long long meminfo_kb(const char *name);	/* /proc/meminfo, -1 if absent */
int interrupts(const char *desc, uint64_t *sum);	/* /proc/interrupts, all CPUs */
/* One CPU's per-CPU free-page list (pcp) in /proc/zoneinfo, of the zone
 * with the most managed pages (where user pages come from): pages on it
 * (all orders), its limit and its refill/drain batch.  -1 when absent. */
struct pcp_state {
	long count, high, batch;
};
int parse_pcp(const char *zoneinfo, int cpu, struct pcp_state *s);
int pcp_read(int cpu, struct pcp_state *s);
/* Sum of an smaps field (such as AnonHugePages) over the mappings that
 * overlap [start, end); -1 when none has it.  mapping_kb reads our own. */
long long smaps_kb(const char *text, const char *field, unsigned long start, unsigned long end);
long long mapping_kb(const void *p, size_t len, const char *field);

/* Memory (procfs.c). */
int pagemap_read(const void *p, size_t pages, uint64_t *entries);
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_PFN(e) ((e) & ((1ULL << 55) - 1))
/* The /proc/kpageflags word of a page frame; -1 when unreadable. */
int kpageflags(uint64_t pfn, uint64_t *flags);
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
/* How many folio-sized pieces of [p, p+len) are backed by one naturally
 * aligned run of physical pages (needs root for the PFNs; -1 when unknown). */
long whole_folios(const void *p, size_t len, size_t folio);
/* The PTEs of each folio-sized piece of [p, p+len), one entry a piece:
 * present, swap entries, and present pages no longer part of a large
 * folio (by /proc/kpageflags).  -1 when the pagemap or kpageflags is
 * unreadable. */
struct folio_ptes {
	size_t present, swap, small;
};
int folio_ptes_read(const void *p, size_t len, size_t folio, struct folio_ptes *out);
/* Pages of [p, p+len) the pagemap shows present (swapped out); -1 when
 * unreadable. */
long present_pages(const void *p, size_t len);
long swapped_pages(const void *p, size_t len);
void *map_aligned(size_t len, size_t align);
void touch_pages(void *p, size_t len, char val);
/* Each page given its own first word, so zram stores it compressed, not
 * as a page filled with one byte. */
void touch_pages_distinct(void *p, size_t len);

/* Kernel knobs (knobs.c): every THP knob and the pcp high fraction saved
 * before a benchmark and restored after it, whatever became of it. */
int knobs_save(void);
int knobs_restore(void);
/* THP_DIR/rel set to value: 0, or -1 with errno. */
int thp_write(const char *rel, const char *value);
/* Only the named mTHP size (in kB, 0 for none) enabled as `mode`, every
 * other size set to never; its folder written to mthp_dir. */
int thp_only_size_set(unsigned long kb, const char *mode, char *mthp_dir, size_t cap,
		      struct why *w);

/* perf events of counting repetitions (perf.c): opened before one, closed
 * after it, so that a timed repetition has no event registered at all. */
int perf_open(void);
void perf_reset(void);
void perf_enable(void);
void perf_disable(void);
/* Every event's count, or why it has none (value NAN). */
struct perf_count {
	const char *name, *unit;
	double value;
	const char *why;
};
#define PERF_COUNTS_MAX 16
int perf_read(struct perf_count *out, int cap);
void perf_close(void);

/* Swap and a memory cgroup (swap.c), for the swap-backed benchmarks. */
int swap_header_fill(unsigned char *page, size_t page_size, uint64_t area_bytes);
int swap_areas(void);	/* areas in /proc/swaps, -1 without it */
int swap_on(unsigned long mb, struct why *w);
void swap_zram_off(void);
int memcg_join(const char *name, char *dir, size_t cap, struct why *w);
void memcg_leave(const char *dir);
long long memcg_value(const char *dir, const char *file);
int memcg_stat(const char *dir, const char *name, uint64_t *value);

/* CPUs (cpus.c). */
/* The first n CPUs of *saved (our affinity, read here); how many there
 * are, -1 with errno when the affinity is unreadable. */
int cpus_first(cpu_set_t *saved, int *cpu, int n);
/* A thread, or this task, pinned to one CPU: 0 or an errno (-1). */
int thread_pin(pthread_t t, int cpu);
int run_on(int cpu);
#endif
