/* lazyfree_ref: clean lazyfree mTHP folios that hold an extra reference
 * while reclaim unmaps them (seed 002, patch 1/4, "mm: set folio
 * swapbacked iff folios are dirty in try_to_unmap_one").
 *
 * The folios are faulted in, made lazyfree (MADV_FREE) and never written
 * again.  One page of every other folio is spliced into a pipe
 * (vmsplice: GUP takes a folio reference that does not dirty it and that
 * the pipe holds until it is closed), then MADV_PAGEOUT runs over all of
 * them.  For a held folio try_to_unmap_one() sees refcount != 1 + mapcount
 * and cannot discard it; it must put the PTEs back and leave the folio
 * lazyfree.  Before patch 1/4 the kernel also made it swap-backed, as if it
 * had been redirtied: it then reads KPF_SWAPBACKED in /proc/kpageflags,
 * and once the reference is gone a second MADV_PAGEOUT can no longer
 * discard it (with no swap device it stays in memory for good).
 *
 * Counted per repetition: folios held, held folios made swap-backed (the
 * invariant; 0 with the patch), folios still mapped after the reference is
 * dropped and MADV_PAGEOUT runs again (0 with the patch), and the control
 * folios (never held): every one must be discarded by the first pageout,
 * or the scenario did not run and the repetition fails. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#define REF_FOLIOS 64		/* folios of the region; the even ones are held */
#define KPF_DIRTY 4
#define KPF_SWAPBACKED 14

static const char *const counters[] = {
	"pglazyfree", "pglazyfreed", "pgsteal_anon", "pgscan_anon", "pswpout", NULL
};

static int setup(struct bench_ctx *ctx)
{
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bench_skip(ctx, "open of \"/proc/kpageflags\": %s (CONFIG_PROC_PAGE_MONITOR, root)",
				  strerror(errno));
	close(fd);
	return thp_only_size(ctx, params.mthp_kb, "madvise");
}

/* What the kernel shows of one folio: mapped (its first page present in the
 * pagemap), and the kpageflags word of its head page. */
struct folio_state {
	int mapped;
	uint64_t flags;
};

static int folio_states(const char *p, size_t per, struct folio_state *st)
{
	uint64_t *pm = malloc(REF_FOLIOS * per * sizeof(*pm));
	int ret = 0;

	if (!pm || pagemap_read(p, REF_FOLIOS * per, pm)) {
		free(pm);
		return -1;
	}
	for (int f = 0; f < REF_FOLIOS; f++) {
		uint64_t e = pm[f * per];

		st[f].mapped = (e & PM_PRESENT) != 0;
		st[f].flags = 0;
		if (st[f].mapped && (!PM_PFN(e) || kpageflags(PM_PFN(e), &st[f].flags)))
			ret = -1;
	}
	free(pm);
	return ret;
}

/* Splices the first page of every even folio into a pipe, which holds a
 * reference to each until it is closed; *held counts them.  On an error
 * the pipe is closed. */
static int hold_folios(struct bench_ctx *ctx, char *p, size_t folio, int pipefd[2], int *held)
{
	int ret;

	*held = 0;
	if (pipe2(pipefd, O_CLOEXEC))
		return bench_fail(ctx, "pipe2: %s", strerror(errno));
	if (fcntl(pipefd[1], F_SETPIPE_SZ, REF_FOLIOS * 4096) < 0) {
		ret = bench_fail(ctx, "fcntl(F_SETPIPE_SZ, %d): %s", REF_FOLIOS * 4096, strerror(errno));
		goto close_pipe;
	}
	for (int f = 0; f < REF_FOLIOS; f += 2) {
		struct iovec iov = { .iov_base = p + f * folio, .iov_len = 4096 };
		ssize_t n = vmsplice(pipefd[1], &iov, 1, SPLICE_F_NONBLOCK);

		if (n != 4096) {
			if (n < 0 && errno == ENOSYS)
				ret = bench_skip(ctx, "vmsplice: %s", strerror(errno));
			else
				ret = bench_fail(ctx, "vmsplice of folio %d: %zd (%s)", f, n, strerror(errno));
			goto close_pipe;
		}
		(*held)++;
	}
	return BENCH_OK;
close_pipe:
	close(pipefd[0]);
	close(pipefd[1]);
	return ret;
}

static int run(struct bench_ctx *ctx)
{
	size_t folio = params.mthp_kb << 10, per = folio / 4096, len = REF_FOLIOS * folio;
	struct folio_state st[REF_FOLIOS];
	int pipefd[2], held, ret, err = 0, sb_before = 0, swapbacked = 0, dirty = 0, kept = 0;
	int held_mapped = 0, free_left = 0;
	char *p;

	ret = lazyfree_region(ctx, &p, len);
	if (ret)
		return ret;
	if (folio_states(p, per, st)) {
		ret = bench_fail(ctx, "read of \"/proc/self/pagemap\" or \"/proc/kpageflags\" failed");
		goto unmap;
	}
	for (int f = 0; f < REF_FOLIOS; f++)
		sb_before += !!(st[f].flags & (1ULL << KPF_SWAPBACKED));
	if (sb_before) {
		ret = bench_skip(ctx, "%d of %d folios still swap-backed after MADV_FREE", sb_before, REF_FOLIOS);
		goto unmap;
	}
	ret = hold_folios(ctx, p, folio, pipefd, &held);
	if (ret)
		goto unmap;
	window_begin(ctx);
	if (madvise(p, len, MADV_PAGEOUT))
		err = errno;
	window_end(ctx);
	if (err) {
		ret = bench_skip(ctx, "madvise(MADV_PAGEOUT): %s", strerror(err));
		goto close_pipe;
	}
	if (folio_states(p, per, st)) {
		ret = bench_fail(ctx, "read of \"/proc/self/pagemap\" or \"/proc/kpageflags\" failed");
		goto close_pipe;
	}
	for (int f = 0; f < REF_FOLIOS; f++) {
		if (f % 2) {
			free_left += st[f].mapped;
			continue;
		}
		held_mapped += st[f].mapped;
		swapbacked += st[f].mapped && (st[f].flags & (1ULL << KPF_SWAPBACKED));
		dirty += st[f].mapped && (st[f].flags & (1ULL << KPF_DIRTY));
	}
	/* The reference gone, a clean lazyfree folio is discarded by the next
	 * pageout; one made swap-backed has nowhere to go. */
	close(pipefd[0]);
	close(pipefd[1]);
	madvise(p, len, MADV_PAGEOUT);
	if (folio_states(p, per, st)) {
		ret = bench_fail(ctx, "read of \"/proc/self/pagemap\" or \"/proc/kpageflags\" failed");
		goto unmap;
	}
	for (int f = 0; f < REF_FOLIOS; f++)
		kept += st[f].mapped;
	metric(ctx, "setup.folios", REF_FOLIOS, "folios");
	metric(ctx, "probe.held", held, "folios");
	metric(ctx, "probe.held_mapped", held_mapped, "folios");
	metric(ctx, "probe.swapbacked", swapbacked, "folios");
	metric(ctx, "probe.dirty", dirty, "folios");
	metric(ctx, "probe.kept", kept, "folios");
	metric(ctx, "check.free_left_mapped", free_left, "folios");
	/* Each repetition must really have done the work: the folios nobody
	 * held were discarded, the held ones were not. */
	if (free_left)
		ret = bench_fail(ctx, "MADV_PAGEOUT left %d of %d unheld lazyfree folios mapped", free_left,
				 REF_FOLIOS - held);
	else if (held_mapped != held)
		ret = bench_fail(ctx, "%d of %d held folios were reclaimed despite the pipe's reference",
				 held - held_mapped, held);
	goto unmap;
close_pipe:
	close(pipefd[0]);
	close(pipefd[1]);
unmap:
	munmap(p, len);
	return ret;
}

/* Counts of folios among the held ones: judged as rates by an exact test,
 * summed over the repetitions. */
static const struct metric_decl metrics[] = {
	{ "time.wall", METRIC_TIMING, 0, "pageout", AGG_MEDIAN },
	/* A clean lazyfree folio is made swap-backed only when dirty. */
	{ "probe.swapbacked", METRIC_INVARIANT, 0, "swapbacked", AGG_SUM, "probe.held" },
	/* ...so once its reference is gone it is discarded. */
	{ "probe.kept", METRIC_INVARIANT, 0, "kept", AGG_SUM, "probe.held" },
	{ "probe.held", METRIC_INFO, 0, "held", AGG_SUM },
	{ "probe.dirty", METRIC_INFO, 0, "dirty", AGG_SUM },
	{ "check.free_left_mapped", METRIC_INVARIANT, 0, "unheld_left", AGG_MAX },
	{ "setup.folios", METRIC_INFO },
	{ NULL }
};

static void finding(const struct run_view *r, char *buf, size_t cap)
{
	double sb = r->get(r, "probe.swapbacked"), held = r->get(r, "probe.held"), kept = r->get(r, "probe.kept");

	if (isnan(sb) || !(held > 0))
		return;
	if (sb > 0)
		snprintf(buf, cap, "clean lazyfree folios WRONGLY made swap-backed: %.0f of %.0f held during reclaim; "
			 "%.0f never freed after the reference went", sb, held, kept);
	else
		snprintf(buf, cap, "clean lazyfree folios stayed lazyfree: 0 of %.0f held during reclaim made "
			 "swap-backed; %.0f left after the reference went", held, kept);
}

static const char *judge(const struct claim_view *v, char *ev, size_t cap)
{
	struct verdict_view t;
	double b = v->base->get(v->base, "probe.swapbacked"), bh = v->base->get(v->base, "probe.held");
	double nh = v->new->get(v->new, "probe.held");
	double bk = v->base->get(v->base, "probe.kept"), nk = v->new->get(v->new, "probe.kept");

	v->compare(v, "probe.swapbacked", &t);
	snprintf(ev, cap, "%s (without patch 1/4): %.0f of %.0f clean lazyfree folios holding a pipe's reference "
		 "made swap-backed, %.0f never freed; %s: %.0f of %.0f, %.0f never freed; exact test p = %.2g (%s)",
		 v->base->variant, b, bh, bk, v->new->variant, t.new, nh, nk, t.p, t.verdict);
	return t.new == 0 && nk == 0 && b > 0 && t.p < 0.01 ? "reproduced" : "not reproduced";
}

static const struct bench_claim claims[] = {
	{ "a clean lazyfree folio holding an extra reference during reclaim is not made swap-backed "
	  "(patch 1/4)", "7.3-no-swapbacked-iff-dirty", "7.3", judge,
	  "no figure: &ldquo;the refcount may be temporarily or long-term increased, but this does not change "
	  "the fundamental nature of the folio already being lazy-freed&rdquo; (seed 002, patch 1/4)" },
	{ NULL }
};

const struct bench_info bench_lazyfree_ref = {
	.name = "lazyfree_ref",
	.version = 1,
	.params = "mthp-kb",
	.help = "MADV_FREE mTHP folios, hold every other one by a pipe (vmsplice), MADV_PAGEOUT; count folios "
		"made swap-backed (kpageflags)",
	.vmstat = counters,
	.uses_mthp = 1,
	.setup = setup,
	.run = run,
	.metrics = metrics,
	.finding = finding,
	.claims = claims,
};
