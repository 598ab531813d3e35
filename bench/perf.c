/* perf events of counting repetitions: software events always,
 * tracepoints when tracefs has them, hardware events when the PMU has them.
 * An event that cannot be opened is recorded as unsupported, never as 0.
 * A timed repetition has none open: an open tracepoint event keeps its
 * probe registered, and the probe runs on every hit even while disabled. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

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
	 * costs, per page (see pcp_settle in lib.c). */
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

int perf_open(void)
{
	int opened = 0;

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
}

void perf_enable(void)
{
	for (int i = 0; i < NEVENTS; i++)
		if (events[i].fd >= 0)
			ioctl(events[i].fd, PERF_EVENT_IOC_ENABLE, 0);
}

void perf_disable(void)
{
	for (int i = 0; i < NEVENTS; i++)
		if (events[i].fd >= 0)
			ioctl(events[i].fd, PERF_EVENT_IOC_DISABLE, 0);
}

void perf_record(struct bench_ctx *ctx)
{
	for (int i = 0; i < NEVENTS; i++) {
		struct event *e = &events[i];
		__u64 v;

		if (e->fd < 0)
			metric_unsupported(ctx, e->name, e->unit, e->why);
		else if (read(e->fd, &v, sizeof(v)) != sizeof(v))
			metric_unsupported(ctx, e->name, e->unit, "read of the counter failed");
		else
			metric(ctx, e->name, (double)v, e->unit);
	}
}

void perf_close(void)
{
	for (int i = 0; i < NEVENTS; i++)
		if (events[i].fd >= 0)
			close(events[i].fd), events[i].fd = -1;
}
