/* Ingest: a stream of guest (or host) records into runs and samples.
 * Each run lands in its own transaction.  A run whose "done" record is
 * missing or disagrees, or that holds a bad, missing or repeated line, is
 * stored as incomplete with the reason, never as good data. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/opts.h"

#include "../bench/record.h"
#include "reclaimbench.h"

/* What one stream may hold: far above what rb-bench sends (1000 reps of
 * a few dozen metrics), far below what would fill the disk or the CPU. */
#define STREAM_MAX_RECORDS 2000000
#define STREAM_MAX_RUNS 256
#define RUN_MAX_SAMPLES 200000
#define FIELD_MAX 256		/* bytes of a stored name, unit, note or parameter */
#define REP_MAX 100000000	/* a repetition's number */
#define VERSION_MAX 1000000	/* a benchmark's version */

/* A value from the guest as stored text: cut at FIELD_MAX bytes, control
 * bytes (escape sequences for a terminal, newlines) as '?'. */
static char *clean(const char *v, size_t max)
{
	char *c = xasprintf("%.*s", (int)max, v ? v : "");

	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

/* Names (benchmarks, metrics, units) are printed unquoted in text, CSV
 * and JSON: only these characters. */
static int plain_name(const char *v)
{
	return *v && strlen(v) < 96 &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/%+-") == strlen(v);
}

/* A count from the stream: decimal digits only (no sign, space or hex),
 * at most max.  0, or -1 when v is anything else. */
static int count_field(const char *v, unsigned long max, unsigned long *out)
{
	char *end;

	if (!v || !*v || strlen(v) > 19 || strspn(v, "0123456789") != strlen(v))
		return -1;
	*out = strtoul(v, &end, 10);
	return *out <= max ? 0 : -1;
}

/* A measured value: a finite decimal number ("12", "-0.5", "1.5e6"); no
 * space, no hex, no "nan" or "inf", nothing past what fits a double. */
static int value_field(const char *v, double *out)
{
	char *end;

	if (!*v || strspn(v, "0123456789+-.eE") != strlen(v) || !(isdigit((unsigned char)*v) || *v == '-'))
		return -1;
	*out = strtod(v, &end);
	return *end || !isfinite(*out) ? -1 : 0;
}

struct sample {
	long rep;
	int counting;		/* from a counting repetition */
	char *metric, *unit, *note;
	int has_value;
	double value;
};

struct run {
	char *bench, *params, *status;
	char reason[512];
	int version, nsamples, cap;
	struct sample *samples;
	int dropped;		/* samples beyond RUN_MAX_SAMPLES */
	int *index, index_cap;	/* open addressing on (rep, metric): duplicates found in O(1) */
};

static uint64_t sample_hash(long rep, int counting, const char *metric)
{
	long key = rep * 2 + counting;

	return fnv1a(metric, strlen(metric), fnv1a(&key, sizeof(key), 0));
}

/* The slot of (rep, kind, metric): its sample's index + 1, or 0 when free. */
static int *sample_slot(struct run *r, long rep, int counting, const char *metric)
{
	size_t mask = r->index_cap - 1, i = sample_hash(rep, counting, metric) & mask;
	const struct sample *x;

	while (r->index[i] && ((x = &r->samples[r->index[i] - 1])->rep != rep || x->counting != counting ||
			       strcmp(x->metric, metric)))
		i = (i + 1) & mask;
	return &r->index[i];
}

static void reason_add(struct run *r, const char *why)
{
	size_t n = strlen(r->reason);

	if (n < sizeof(r->reason) - 3)
		snprintf(r->reason + n, sizeof(r->reason) - n, "%s%s", n ? "; " : "", why);
}

static void incomplete(struct run *r, const char *why)
{
	if (strcmp(r->status, "incomplete")) {
		free(r->status);
		r->status = xstrdup("incomplete");
	}
	reason_add(r, why);
}

/* The cost of our own instrumentation in a run: the main timing's median
 * in counting repetitions over its median in timed ones, minus 1. */
static int observer_overhead_store(sqlite3 *db, int64_t run)
{
	double c = run_metric_kind(db, run, NULL, "counting"), t = run_metric_kind(db, run, NULL, "timed");
	sqlite3_stmt *st;
	int rc;

	if (isnan(c) || isnan(t) || t <= 0)
		return 0;
	if (sqlite3_prepare_v2(db, "UPDATE runs SET observer_overhead = ?2 WHERE id = ?1", -1, &st, NULL))
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_double(st, 2, c / t - 1);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Whether the run's repetitions of its main timing trend (schema 7). */
static int trend_store(sqlite3 *db, int64_t run, const char *bench)
{
	const struct bench_info *b = bench_find(bench);
	struct trend t;
	sqlite3_stmt *st;
	int rc;

	if (!b || run_trend(db, run, bench_timing(b), &t))
		return 0;
	if (sqlite3_prepare_v2(db, "UPDATE runs SET trend_tau = ?2, trend_p = ?3, trend_drift = ?4 WHERE id = ?1",
			       -1, &st, NULL))
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_double(st, 2, t.tau);
	sqlite3_bind_double(st, 3, t.p);
	if (isfinite(t.drift))
		sqlite3_bind_double(st, 4, t.drift);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

static int store(sqlite3 *db, const struct session_info *s, int64_t machine, struct run *r)
{
	sqlite3_stmt *st = NULL;
	int64_t kernel, id;
	char *started = now_iso();
	int rc = -1;

	if (db_begin(db))
		goto out;
	if ((kernel = db_kernel(db, &s->kernel)) < 0)
		goto rollback;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO runs (session, machine_id, kernel_id, bench, bench_version, params, "
			       "accel, guest_mem_mb, guest_cpus, status, reason, started_at, wall_s, command, "
			       "console_log, faults, emulator, alone, others_cpus, clocksource, clock_step_ns, arch) VALUES (?1,"
			       "?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)",
			       -1, &st, NULL))
		goto rollback;
	sqlite3_bind_text(st, 1, s->session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, machine);
	sqlite3_bind_int64(st, 3, kernel);
	sqlite3_bind_text(st, 4, r->bench, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, r->version);
	sqlite3_bind_text(st, 6, r->params, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, s->accel, -1, SQLITE_STATIC);
	if (s->guest_mem_mb)
		sqlite3_bind_int(st, 8, s->guest_mem_mb), sqlite3_bind_int(st, 9, s->guest_cpus);
	sqlite3_bind_text(st, 10, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, started, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 13, s->wall_s);
	sqlite3_bind_text(st, 14, s->command ? s->command : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, s->console_log ? s->console_log : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, s->faults ? s->faults : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, s->emulator ? s->emulator : "", -1, SQLITE_STATIC);
	if (s->alone >= 0)
		sqlite3_bind_int(st, 18, s->alone);
	if (s->others_cpus >= 0)
		sqlite3_bind_double(st, 19, s->others_cpus);
	sqlite3_bind_text(st, 20, s->clocksource ? s->clocksource : "", -1, SQLITE_STATIC);
	if (s->clock_step_ns > 0 && isfinite(s->clock_step_ns))
		sqlite3_bind_double(st, 21, s->clock_step_ns);
	sqlite3_bind_text(st, 22, s->arch ? s->arch : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO samples (run_id, rep, metric, value, unit, note, kind) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL))
		goto rollback;
	for (int i = 0; i < r->nsamples; i++) {
		struct sample *x = &r->samples[i];
		/* Under QEMU's instruction counter a nanosecond of the guest's
		 * clock is one guest instruction: store what was measured. */
		int instr = !strcmp(s->accel, ACCEL_ICOUNT) && !strcmp(x->unit, "ns");

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, x->rep);
		sqlite3_bind_text(st, 3, x->metric, -1, SQLITE_STATIC);
		if (x->has_value)
			sqlite3_bind_double(st, 4, x->value);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_text(st, 5, instr ? "instr" : x->unit, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, x->note, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, x->counting ? "counting" : "timed", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (observer_overhead_store(db, id) || trend_store(db, id, r->bench))
		goto rollback;
	if (db_commit(db))
		goto rollback;
	rc = 0;
	goto out;
rollback:
	error("database: storing run of '%s': %s", r->bench, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	db_rollback(db);
out:
	free(started);
	return rc;
}

static void run_free(struct run *r)
{
	for (int i = 0; i < r->nsamples; i++)
		free(r->samples[i].metric), free(r->samples[i].unit), free(r->samples[i].note);
	free(r->samples), free(r->index);
	free(r->bench), free(r->params), free(r->status);
	free(r);
}

static struct run *run_new(const char *bench, int version, const char *params)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		die(EXIT_INFRA, "out of memory");
	r->bench = clean(bench, 64);
	r->params = clean(params, FIELD_MAX);
	r->status = xstrdup("ok");
	r->version = version;
	return r;
}

/* Kernel messages that mean something went wrong in the kernel. */
static const char *const warning_marks[] = {
	"WARNING:", "BUG:", "Bad page", "Oops", "general protection fault", "Unable to handle",
	"page dumped because", "list_del corruption", "list_add corruption", "page_table_check", NULL
};

int console_warnings(const char *log, const char *bench, char *lines, size_t cap)
{
	char *start = xasprintf("rb-bench: %s (", bench), *end = xasprintf("rb-bench: %s done", bench);
	const char *from = log ? strstr(log, start) : NULL, *to;
	int n = 0;

	if (lines && cap)
		lines[0] = '\0';
	if (!from) {
		free(start), free(end);
		return -1;
	}
	to = strstr(from, end);
	for (const char *p = from; p && *p && (!to || p < to); p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t len = strcspn(p, "\n");
		int hit = 0;

		for (int i = 0; warning_marks[i] && !hit; i++) {
			const char *m = memmem(p, len, warning_marks[i], strlen(warning_marks[i]));

			hit = m != NULL;
		}
		if (hit && lines) {
			size_t used = strlen(lines);

			if (used + len + 2 < cap)
				snprintf(lines + used, cap - used, "%.*s\n", (int)len, p);
		}
		n += hit;
	}
	free(start), free(end);
	return n;
}

static char *console_text;	/* the session's console log, when it has one */

/* Kernel warnings while the benchmark ran: an invariant of every
 * benchmark, its lines kept in the sample's note. */
static void add_console_warnings(struct run *r)
{
	char lines[2048];
	int n = console_warnings(console_text, r->bench, lines, sizeof(lines));
	struct sample *x;

	if (n < 0)
		return;
	if (r->nsamples == r->cap &&
	    !(r->samples = realloc(r->samples, (r->cap = r->cap * 2 + 64) * sizeof(*x))))
		die(EXIT_INFRA, "out of memory");
	x = &r->samples[r->nsamples++];
	*x = (struct sample){ .rep = 0, .metric = xstrdup("kernel.warnings"), .unit = xstrdup("lines"),
			      .note = xstrdup(lines), .has_value = 1, .value = n };
}

/* Whether a booted kernel's version names the build it was booted as
 * (kernel-build.sh makes it "#rb-ID-TREE ..."); the host's kernel, with
 * no build id, is what it is. */
static char wrong_kernel_why[200];

static int kernel_is_build(const struct kernel_info *k, const char *version)
{
	char want[128];

	if (!k->build_id || !*k->build_id)
		return 1;
	snprintf(want, sizeof(want), BUILD_STAMP_FMT, k->build_id, k->tree ? k->tree : "");
	return !strncmp(version, want, strlen(want)) && (!k->tree || version[strlen(want)] == ' ' ||
							  !version[strlen(want)]);
}

static void finish(sqlite3 *db, const struct session_info *s, int64_t machine, struct run *r,
		   struct ingest_result *res)
{
	add_console_warnings(r);
	if (res->wrong_kernel) {	/* refused: nothing it measured is of the build asked for */
		free(r->status);
		r->status = xstrdup("failed");
		reason_add(r, wrong_kernel_why);
	}
	if (store(db, s, machine, r) == 0) {
		if (!strcmp(r->status, "ok"))
			res->ok++;
		else if (!strcmp(r->status, "skip"))
			res->skipped++;
		else if (!strcmp(r->status, "failed"))
			res->failed++;
		else
			res->incomplete++;
	} else {
		res->failed++;
	}
	run_free(r);
}

static void add_sample(struct run *r, const struct record *rec, long line)
{
	const char *rep = record_get(rec, "rep"), *metric = record_get(rec, "metric"),
		   *value = record_get(rec, "value"), *unit = record_get(rec, "unit"),
		   *note = record_get(rec, "note"), *kind = record_get(rec, "kind");
	int counting = kind && !strcmp(kind, "counting");
	struct sample *x;
	char why[160], *m;
	unsigned long nrep;
	double v = 0;

	if (!rep || !metric || !value || !unit) {
		snprintf(why, sizeof(why), "line %ld: sample without rep, metric, value or unit", line);
		incomplete(r, why);
		return;
	}
	if (kind && !counting) {
		snprintf(why, sizeof(why), "line %ld: sample of unknown kind '%.20s'", line, kind);
		incomplete(r, why);
		return;
	}
	if (count_field(rep, REP_MAX, &nrep)) {
		snprintf(why, sizeof(why), "line %ld: rep '%.20s' is not a count up to %d", line, rep, REP_MAX);
		incomplete(r, why);
		return;
	}
	if (strcmp(value, "unsupported") && value_field(value, &v)) {
		snprintf(why, sizeof(why), "line %ld: value '%.20s' of %.40s is not a finite decimal number", line,
			 value, metric);
		incomplete(r, why);
		return;
	}
	if (r->nsamples >= RUN_MAX_SAMPLES) {
		if (!r->dropped++) {
			snprintf(why, sizeof(why), "line %ld: more than %d samples in one run; the rest dropped", line,
				 RUN_MAX_SAMPLES);
			incomplete(r, why);
		}
		return;
	}
	if (!plain_name(metric) || strlen(metric) >= sizeof(((struct cmp_row *)0)->metric) || !plain_name(unit) ||
	    strlen(unit) >= 16) {
		snprintf(why, sizeof(why), "line %ld: metric or unit name too long or not a plain name", line);
		incomplete(r, why);
		return;
	}
	if (r->nsamples * 2 >= r->index_cap) {
		r->index_cap = r->index_cap ? r->index_cap * 2 : 256;
		free(r->index);
		if (!(r->index = calloc(r->index_cap, sizeof(*r->index))))
			die(EXIT_INFRA, "out of memory");
		for (int i = 0; i < r->nsamples; i++)
			*sample_slot(r, r->samples[i].rep, r->samples[i].counting, r->samples[i].metric) = i + 1;
	}
	m = clean(metric, FIELD_MAX);
	if (*sample_slot(r, nrep, counting, m)) {
		snprintf(why, sizeof(why), "line %ld: sample %.40s of %s rep %.20s given twice", line, m,
			 counting ? "counting" : "timed", rep);
		incomplete(r, why);
		free(m);
		return;
	}
	if (r->nsamples == r->cap &&
	    !(r->samples = realloc(r->samples, (r->cap = r->cap * 2 + 64) * sizeof(*x))))
		die(EXIT_INFRA, "out of memory");
	x = &r->samples[r->nsamples++];
	x->rep = nrep;
	x->counting = counting;
	x->metric = m;
	x->unit = clean(unit, FIELD_MAX);
	x->note = clean(note, FIELD_MAX);
	*sample_slot(r, x->rep, counting, m) = r->nsamples;
	x->has_value = strcmp(value, "unsupported") != 0;
	x->value = v;
}

static void problem(struct ingest_result *res, struct run *cur, const char *why)
{
	if (!res->problem[0])
		snprintf(res->problem, sizeof(res->problem), "%s", why);
	if (cur)
		incomplete(cur, why);
}

/* A stream being read: where its runs go, the record due next, the run
 * open now and the benchmarks that began. */
struct stream {
	sqlite3 *db;
	struct session_info *s;
	struct ingest_result *res;
	int64_t machine;
	long lineno;
	unsigned long expect;	/* the sequence number due next */
	struct run *cur;
	char **began;
	int nbegan;
};

static void stream_finish(struct stream *st, struct run *r)
{
	finish(st->db, st->s, st->machine, r, st->res);
}

/* "hello": the kernel as it says it is, checked against the build it was
 * booted as, its clock and its fault injection. */
static void on_hello(struct stream *st, const struct record *rec)
{
	static char release[128], version[256], faults[512], clocksource[64], arch[32];
	struct session_info *s = st->s;
	char *r = clean(record_get(rec, "release"), sizeof(release) - 1),
	     *v = clean(record_get(rec, "kversion"), sizeof(version) - 1);

	snprintf(release, sizeof(release), "%s", r);
	snprintf(version, sizeof(version), "%s", v);
	free(r), free(v);
	s->kernel.release = release;
	s->kernel.version = version;
	/* The machine the kernel says it runs on (uname -m): the
	 * build id checked below vouches for it. */
	r = clean(record_get(rec, "arch"), sizeof(arch) - 1);
	snprintf(arch, sizeof(arch), "%s", r);
	free(r);
	s->arch = arch;
	if (!kernel_is_build(&s->kernel, version)) {
		snprintf(wrong_kernel_why, sizeof(wrong_kernel_why),
			 "the guest's kernel is not build %s of '%s': it says '%.64s'", s->kernel.build_id,
			 s->kernel.variant ? s->kernel.variant : "?", version);
		st->res->wrong_kernel = 1;
		problem(st->res, NULL, wrong_kernel_why);
	}
	/* Absent from streams older than the field: unknown. */
	r = clean(record_get(rec, "clocksource") ?: "", sizeof(clocksource) - 1);
	snprintf(clocksource, sizeof(clocksource), "%s", r);
	free(r);
	s->clocksource = clocksource;
	s->clock_step_ns = atof(record_get(rec, "clock_step_ns") ?: "0");
	/* The host's own record of fault injection comes first. */
	if (!s->faults || !*s->faults) {
		char *f = clean(record_get(rec, "faults"), sizeof(faults) - 1);

		snprintf(faults, sizeof(faults), "%s", f);
		free(f);
		s->faults = faults;
	}
}

/* "begin": a new run, the open one stored as incomplete; -1 past the
 * runs a stream may hold. */
static int on_begin(struct stream *st, const struct record *rec)
{
	const char *b = record_get(rec, "bench"), *ver = record_get(rec, "version");
	unsigned long version = 0;
	int bad_version;
	char msg[200];

	if (st->cur) {
		incomplete(st->cur, "no done record before the next run began");
		stream_finish(st, st->cur);
		st->cur = NULL;
	}
	if (st->nbegan >= STREAM_MAX_RUNS) {
		snprintf(msg, sizeof(msg), "line %ld: more than %d runs in the stream; the rest ignored",
			 st->lineno, STREAM_MAX_RUNS);
		problem(st->res, NULL, msg);
		return -1;
	}
	bad_version = ver && count_field(ver, VERSION_MAX, &version);
	st->cur = run_new(b && plain_name(b) ? b : "?", version, record_get(rec, "params") ?: "");
	if (b && !plain_name(b))
		incomplete(st->cur, "the benchmark's name is not a plain name");
	if (bad_version) {
		snprintf(msg, sizeof(msg), "line %ld: version '%.20s' is not a count up to %d", st->lineno,
			 ver, VERSION_MAX);
		incomplete(st->cur, msg);
	}
	if (!(st->began = realloc(st->began, (st->nbegan + 1) * sizeof(*st->began))))
		die(EXIT_INFRA, "out of memory");
	st->began[st->nbegan++] = xstrdup(st->cur->bench);
	return 0;
}

/* "skip" and "fail": the benchmark's reason. */
static void on_reason(struct stream *st, const struct record *rec)
{
	char *why_given = clean(record_get(rec, "reason") ?: "(no reason given)", FIELD_MAX);

	reason_add(st->cur, why_given);
	free(why_given);
}

/* "done": the run's status, when the count of its samples agrees; the
 * run is stored. */
static void on_done(struct stream *st, const struct record *rec)
{
	const char *status = record_get(rec, "status") ?: "failed", *count = record_get(rec, "samples");
	struct run *cur = st->cur;
	unsigned long n;
	char msg[200];

	if (count_field(count, STREAM_MAX_RECORDS, &n)) {
		snprintf(msg, sizeof(msg), "line %ld: done record's samples '%.20s' is not a count", st->lineno,
			 count ? count : "");
		incomplete(cur, msg);
	} else if (n != (unsigned long)cur->nsamples + cur->dropped) {
		snprintf(msg, sizeof(msg), "done record counts %lu samples, %d arrived", n, cur->nsamples);
		incomplete(cur, msg);
	} else if (strcmp(cur->status, "incomplete")) {
		free(cur->status);
		cur->status = xstrdup(!strcmp(status, "ok") || !strcmp(status, "skip") ? status : "failed");
	}
	stream_finish(st, cur);
	st->cur = NULL;
}

/* "end": the stream's last record, which counts the records before it. */
static void on_end(struct stream *st, const struct record *rec)
{
	unsigned long count;
	char msg[200];

	if (count_field(record_get(rec, "count"), ULONG_MAX, &count) || count != rec->seq) {
		snprintf(msg, sizeof(msg), "end record counts %s records, %lu came before it",
			 record_get(rec, "count") ?: "?", rec->seq);
		problem(st->res, st->cur, msg);
	}
	st->res->has_end = 1;
}

/* One record to the handler of its kind; -1 when the stream stops here. */
static int on_record(struct stream *st, const struct record *rec)
{
	char msg[200];

	if (!strcmp(rec->kind, "hello")) {
		on_hello(st, rec);
	} else if (!strcmp(rec->kind, "begin")) {
		return on_begin(st, rec);
	} else if (!st->cur && strcmp(rec->kind, "end")) {
		snprintf(msg, sizeof(msg), "line %ld: '%s' record outside a run", st->lineno, rec->kind);
		problem(st->res, NULL, msg);
	} else if (!strcmp(rec->kind, "sample")) {
		add_sample(st->cur, rec, st->lineno);
	} else if (!strcmp(rec->kind, "skip") || !strcmp(rec->kind, "fail")) {
		on_reason(st, rec);
	} else if (!strcmp(rec->kind, "done")) {
		on_done(st, rec);
	} else if (!strcmp(rec->kind, "end")) {
		on_end(st, rec);
	} else {
		snprintf(msg, sizeof(msg), "line %ld: unknown record kind '%s'", st->lineno, rec->kind);
		problem(st->res, st->cur, msg);
	}
	return 0;
}

/* A line parsed into rec, its sequence number checked: nonzero when the
 * line is no record to take (a bad line, a record repeated). */
static int record_take(struct stream *st, const char *line, struct record *rec)
{
	const char *why;
	char msg[200];

	if (record_parse(line, rec, &why)) {
		snprintf(msg, sizeof(msg), "line %ld: %s", st->lineno, why);
		problem(st->res, st->cur, msg);
		return -1;
	}
	if (rec->seq != st->expect) {
		snprintf(msg, sizeof(msg), "line %ld: record %lu where %lu was due (%s)", st->lineno,
			 rec->seq, st->expect, rec->seq < st->expect ? "repeated or reordered" : "records lost");
		problem(st->res, st->cur, msg);
		if (rec->seq < st->expect)
			return -1;
	}
	st->expect = rec->seq + 1;
	return 0;
}

/* The stream's end: the run still open stored as incomplete, the
 * benchmarks of the plan that never began stored as failed runs. */
static void stream_end(struct stream *st)
{
	struct session_info *s = st->s;
	struct ingest_result *res = st->res;

	if (st->cur) {
		incomplete(st->cur, s->failure ? s->failure : "the stream ended before the run was done");
		stream_finish(st, st->cur);
	}
	if (!res->has_end && !res->problem[0])
		snprintf(res->problem, sizeof(res->problem), "no end record: %s",
			 s->failure ? s->failure : "the benchmarks stopped early");
	for (int i = 0; i < s->nplanned; i++) {
		int seen = 0;

		for (int j = 0; j < st->nbegan; j++)
			seen |= !strcmp(st->began[j], s->planned[i]);
		if (!seen) {
			struct run *r = run_new(s->planned[i], 0, "");

			free(r->status);
			r->status = xstrdup("failed");
			reason_add(r, s->failure ? s->failure : res->problem[0] ? res->problem :
				   "the benchmark never started");
			stream_finish(st, r);
		}
	}
	for (int j = 0; j < st->nbegan; j++)
		free(st->began[j]);
	free(st->began);
}

int ingest(sqlite3 *db, const char *stream, struct session_info *s, struct ingest_result *res)
{
	struct stream st = { .db = db, .s = s, .res = res, .machine = db_machine(db) };
	static struct record rec;

	memset(res, 0, sizeof(*res));
	if (st.machine < 0)
		return -1;
	free(console_text);
	console_text = s->console_log && *s->console_log ? read_file(s->console_log, NULL) : NULL;
	for (const char *line = stream, *next; line && *line; line = next) {
		char msg[200];
		size_t len = strcspn(line, "\n");

		next = line[len] ? line + len + 1 : NULL;
		st.lineno++;
		if (strspn(line, "\r") >= len)
			continue;	/* an empty line */
		if (st.lineno > STREAM_MAX_RECORDS) {
			snprintf(msg, sizeof(msg), "more than %d lines in the stream; the rest ignored",
				 STREAM_MAX_RECORDS);
			problem(res, st.cur, msg);
			break;
		}
		if (record_take(&st, line, &rec))
			continue;
		if (on_record(&st, &rec))
			break;
	}
	stream_end(&st);
	return 0;
}
