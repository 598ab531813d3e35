/* perf events of counting repetitions: software events always,
 * tracepoints when tracefs has them, hardware events when the PMU has them.
 * An event that cannot be opened is read as unsupported, never as 0.
 * A timed repetition has none open: an open tracepoint event keeps its
 * probe registered, and the probe runs on every hit even while disabled. */
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"

static const char *const tracefs_roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

static struct event {
	const char *name;	/* metric name */
	const char *unit;
	__u32 type;
	__u64 config;		/* for tracepoints: filled from tracefs */
	const char *tracepoint;	/* "subsystem/event" */
	const char *x86_only;	/* emitted by x86 code alone: elsewhere unsupported, why */
	int fd;
	char why[96];		/* why it is unsupported */
} events[] = {
	{ "perf.task_clock", "ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
	{ "perf.page_faults", "events", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
	{ "perf.context_switches", "events", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "perf.cpu_migrations", "events", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	/* Only arch/x86 calls trace_tlb_flush(); 6.12 defines the event on
	 * every architecture (mm/rmap.c), so on arm64 it opened and counted
	 * a silent 0. */
	{ "perf.tlb_flush", "events", PERF_TYPE_TRACEPOINT, 0, "tlb/tlb_flush",
	  "tlb:tlb_flush is emitted by x86 code only" },
	/* Free pages (of any order, one event each) moved from a per-CPU
	 * free list to the buddy allocator: what a free into a full list
	 * costs, per page (see pcp_settle in settle.c). */
	{ "perf.pcpu_drain", "events", PERF_TYPE_TRACEPOINT, 0, "kmem/mm_page_pcpu_drain" },
	{ "perf.cycles", "events", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	{ "perf.instructions", "events", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
};
#define NEVENTS (int)(sizeof(events) / sizeof(events[0]))

static int tracepoint_id(const char *tp, __u64 *id)
{
	char path[256], buf[32];

	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/%s/id", tracefs_roots[i], tp);
		if (read_text(path, buf, sizeof(buf)) > 0) {
			*id = strtoull(buf, NULL, 10);
			return 0;
		}
	}
	return -1;
}

/* tlb:tlb_flush by its reason, counted on every CPU (x86 only emits
 * it): a flush is immediate on one CPU ("local mm shootdown", one per
 * unmap), deferred and batched when the mm is live on another CPU ("remote
 * IPI send" and "local shootdown" once per batch, "remote shootdown" on a
 * CPU that took the IPI; a CPU in lazy TLB mode is skipped).  The event
 * of the other CPU runs in its interrupt, not in our task: hence one event
 * per CPU, not per task.  The reason's number is read from the event's
 * format, where 6.12 and 7.3 spell the names in different case. */
#define TLB_CPUS 8
static struct tlb_reason {
	const char *name, *text;
	int fd[TLB_CPUS];
	char why[96];
} reasons[] = {
	{ "tlb.local_mm_shootdown", "local mm shootdown" },
	{ "tlb.local_shootdown", "local shootdown" },
	{ "tlb.remote_send_ipi", "remote ipi send" },
	{ "tlb.remote_shootdown", "remote shootdown" },
	{ "tlb.task_switch", "flush on task switch" },
	/* A CPU left in mm_cpumask that runs another mm: taken out (7.3). */
	{ "tlb.remote_wrong_cpu", "remote wrong cpu" },
};
#define NREASONS (int)(sizeof(reasons) / sizeof(reasons[0]))
_Static_assert(NEVENTS + NREASONS <= PERF_COUNTS_MAX, "perf_read's caller holds every count");

static int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > TLB_CPUS ? TLB_CPUS : (int)n;
}

static void reason_close(struct tlb_reason *r)
{
	for (int c = 0; c < TLB_CPUS; c++)
		if (r->fd[c] >= 0)
			close(r->fd[c]), r->fd[c] = -1;
}

static void reason_open(struct tlb_reason *r, __u64 id, const char *format)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT, .config = id,
					.disabled = 1 };
	char filter[32];
	int num = parse_tracepoint_enum(format, r->text);

	for (int c = 0; c < TLB_CPUS; c++)
		r->fd[c] = -1;
	if (num < 0) {
		snprintf(r->why, sizeof(r->why), "no reason '%s' in tlb:tlb_flush's format", r->text);
		return;
	}
	snprintf(filter, sizeof(filter), "reason == %d", num);
	for (int c = 0; c < ncpus(); c++) {
		r->fd[c] = syscall(SYS_perf_event_open, &attr, -1, c, -1, PERF_FLAG_FD_CLOEXEC);
		if (r->fd[c] < 0 || ioctl(r->fd[c], PERF_EVENT_IOC_SET_FILTER, filter)) {
			snprintf(r->why, sizeof(r->why), "perf_event_open on CPU %d with filter '%s': %s", c, filter,
				 strerror(errno));
			reason_close(r);
			return;
		}
	}
}

static void reasons_open(void)
{
	static char format[8192];
	char path[256];
	__u64 id;

	format[0] = '\0';
	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]) && !format[0]; i++) {
		snprintf(path, sizeof(path), "%s/events/tlb/tlb_flush/format", tracefs_roots[i]);
		if (read_text(path, format, sizeof(format)) <= 0)
			format[0] = '\0';
	}
	for (int i = 0; i < NREASONS; i++) {
		struct tlb_reason *r = &reasons[i];

		for (int c = 0; c < TLB_CPUS; c++)
			r->fd[c] = -1;
#ifndef __x86_64__
		snprintf(r->why, sizeof(r->why), "tlb:tlb_flush is emitted by x86 code only");
		continue;
#endif
		if (!format[0] || tracepoint_id("tlb/tlb_flush", &id))
			snprintf(r->why, sizeof(r->why), "no tracefs event tlb/tlb_flush");
		else
			reason_open(r, id, format);
	}
}

/* Every open fd of the reasons, in turn. */
static void reasons_ioctl(unsigned long request)
{
	for (int i = 0; i < NREASONS; i++)
		for (int c = 0; c < TLB_CPUS; c++)
			if (reasons[i].fd[c] >= 0)
				ioctl(reasons[i].fd[c], request, 0);
}

static void count_set(struct perf_count *c, const char *name, const char *unit, double value,
		      const char *why)
{
	*c = (struct perf_count){ name, unit, why ? NAN : value, why };
}

static int reasons_read(struct perf_count *out, int cap)
{
	int n = 0;

	for (int i = 0; i < NREASONS && n < cap; i++) {
		struct tlb_reason *r = &reasons[i];
		__u64 v, sum = 0;
		int ok = r->fd[0] >= 0;

		for (int c = 0; ok && c < TLB_CPUS; c++)
			if (r->fd[c] >= 0 && read(r->fd[c], &v, sizeof(v)) == sizeof(v))
				sum += v;
			else if (r->fd[c] >= 0)
				ok = 0;
		count_set(&out[n++], r->name, "events", (double)sum,
			  ok ? NULL : r->fd[0] >= 0 ? "read of the counter failed" : r->why);
	}
	return n;
}

int perf_open(void)
{
	int opened = 0;

	reasons_open();

	for (int i = 0; i < NEVENTS; i++) {
		struct event *e = &events[i];
		struct perf_event_attr attr = {
			.size = sizeof(attr),
			.type = e->type,
			.config = e->config,
			.disabled = 1,
			.exclude_hv = 1,
		};

		e->fd = -1;
#ifndef __x86_64__
		if (e->x86_only) {
			snprintf(e->why, sizeof(e->why), "%s", e->x86_only);
			continue;
		}
#endif
		if (e->tracepoint && tracepoint_id(e->tracepoint, &attr.config)) {
			snprintf(e->why, sizeof(e->why), "no tracefs event %s", e->tracepoint);
			continue;
		}
		e->fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (e->fd < 0)
			snprintf(e->why, sizeof(e->why), "perf_event_open: %s", strerror(errno));
		else
			opened++;
	}
	return opened;
}

void perf_reset(void)
{
	for (int i = 0; i < NEVENTS; i++)
		if (events[i].fd >= 0)
			ioctl(events[i].fd, PERF_EVENT_IOC_RESET, 0);
	reasons_ioctl(PERF_EVENT_IOC_RESET);
}

void perf_enable(void)
{
	for (int i = 0; i < NEVENTS; i++)
		if (events[i].fd >= 0)
			ioctl(events[i].fd, PERF_EVENT_IOC_ENABLE, 0);
	reasons_ioctl(PERF_EVENT_IOC_ENABLE);
}

void perf_disable(void)
{
	for (int i = 0; i < NEVENTS; i++)
		if (events[i].fd >= 0)
			ioctl(events[i].fd, PERF_EVENT_IOC_DISABLE, 0);
	reasons_ioctl(PERF_EVENT_IOC_DISABLE);
}

int perf_read(struct perf_count *out, int cap)
{
	int n = 0;

	for (int i = 0; i < NEVENTS && n < cap; i++) {
		struct event *e = &events[i];
		__u64 v = 0;

		if (e->fd < 0)
			count_set(&out[n++], e->name, e->unit, 0, e->why);
		else if (read(e->fd, &v, sizeof(v)) != sizeof(v))
			count_set(&out[n++], e->name, e->unit, 0, "read of the counter failed");
		else
			count_set(&out[n++], e->name, e->unit, (double)v, NULL);
	}
	return n + reasons_read(out + n, cap - n);
}

void perf_close(void)
{
	for (int i = 0; i < NEVENTS; i++)
		if (events[i].fd >= 0)
			close(events[i].fd), events[i].fd = -1;
	for (int i = 0; i < NREASONS; i++)
		reason_close(&reasons[i]);
}
