/* KCIDB export: runs of the results database as one report for KernelCI's
 * common database (KCIDB I/O schema v5.3, kernelci/kcidb-io).  A checkout
 * per kernel source and patch set, a build per variant, a test per run
 * whose status is our verdict of it, and for an ok run a test per metric
 * whose number is the median of its repetitions (every repetition and the
 * median's interval in misc).  A database is untrusted: every string
 * leaves through json_string(), test paths keep to the schema's
 * characters, and no stored text becomes SQL. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

#define KCIDB_ORIGIN "reclaimbench"
#define KCIDB_MAJOR 5
#define KCIDB_MINOR 3
/* The schema's longest log_excerpt, in characters; json_string() makes
 * at most one character of each input byte, so as many bytes. */
#define EXCERPT_MAX 16384
#define MEDIAN_LEVEL 0.95

/* What makes two kernels one checkout (their source and patch set) and
 * one build (build id and variant); a host kernel has neither id. */
#define CHECKOUT_KEY "CASE WHEN k.source = '' THEN 'host:' || k.release ELSE k.source || " \
		     "CASE WHEN k.patches_hash IN ('', '0000000000000000') THEN '' ELSE '+' || k.patches_hash END END"
#define BUILD_KEY "CASE WHEN k.build_id = '' THEN 'host:' || k.release || ':' || k.variant " \
		  "ELSE k.build_id || ':' || k.variant END"
/* The patched kernel of a gate: its variant is BASE+ and 16 hex digits. */
#define HEX "[0-9a-f]"
#define GATE_VARIANT "'*+" HEX HEX HEX HEX HEX HEX HEX HEX HEX HEX HEX HEX HEX HEX HEX HEX "'"
#define SELECTED "r.id IN (SELECT id FROM kcidb_runs)"

/* ---- A JSON writer: members and elements with their commas ---------- */

struct jw {
	FILE *f;
	int depth, count[16];	/* members written at each depth */
};

static void jw_key(struct jw *w, const char *key)
{
	if (w->count[w->depth]++)
		fputc(',', w->f);
	if (w->depth == 2)
		fputc('\n', w->f);	/* one checkout, build or test a line */
	if (key) {
		json_string(w->f, key);
		fputc(':', w->f);
	}
}

static void jw_open(struct jw *w, const char *key, char bracket)
{
	jw_key(w, key);
	fputc(bracket, w->f);
	if (++w->depth == 16)
		die(EXIT_INFRA, "kcidb: objects nested too deep");
	w->count[w->depth] = 0;
}

static void jw_close(struct jw *w, char bracket)
{
	fputc(bracket, w->f);
	w->depth--;
}

static void jw_str(struct jw *w, const char *key, const char *s)	/* nothing for NULL */
{
	if (!s)
		return;
	jw_key(w, key);
	json_string(w->f, s);
}

static void jw_text(struct jw *w, const char *key, const char *s)	/* nothing for NULL or "" */
{
	if (s && *s)
		jw_str(w, key, s);
}

static void jw_num(struct jw *w, const char *key, double v)	/* nothing for NaN or infinity */
{
	if (!isfinite(v))
		return;
	jw_key(w, key);
	fprintf(w->f, "%.17g", v);
}

static void jw_bool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void jw_id(struct jw *w, const char *key, const char *local)	/* "origin:local" */
{
	char *id = xasprintf("%s:%s", KCIDB_ORIGIN, local);

	jw_str(w, key, id);
	free(id);
}

/* ---- Rows: columns by name ------------------------------------------ */

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(EXIT_USAGE, "kcidb: the database '%s' is not one reclaimbench wrote: %s", opt_db, sqlite3_errmsg(db));
	return st;
}

static int column(sqlite3_stmt *st, const char *name)
{
	for (int c = 0; c < sqlite3_column_count(st); c++)
		if (!strcmp(sqlite3_column_name(st, c), name))
			return c;
	die(EXIT_INFRA, "kcidb: no column '%s' in the query", name);
}

static const char *text(sqlite3_stmt *st, const char *name)	/* "" for NULL */
{
	const char *t = (const char *)sqlite3_column_text(st, column(st, name));

	return t ? t : "";
}

static double real(sqlite3_stmt *st, const char *name)	/* NAN for NULL */
{
	int c = column(st, name);

	return sqlite3_column_type(st, c) == SQLITE_NULL ? NAN : sqlite3_column_double(st, c);
}

/* ---- Values as the schema wants them ------------------------------------ */

/* A name as one or more segments of a test path: [a-zA-Z0-9_-] each,
 * joined by dots; any other character, and an empty segment, is '_'. */
static void path_append(char *buf, size_t cap, const char *name)
{
	size_t n = strlen(buf);

	if (n && n + 1 < cap)
		buf[n++] = '.';
	for (const char *p = name; *p && n + 1 < cap; p++) {
		int dot_ok = *p == '.' && p != name && p[1] && buf[n - 1] != '.';

		buf[n++] = isalnum((unsigned char)*p) || *p == '_' || *p == '-' || dot_ok ? *p : '_';
	}
	if (!*name && n + 1 < cap)
		buf[n++] = '_';
	while (n && buf[n - 1] == '.')	/* cut short by cap */
		n--;
	buf[n] = '\0';
}

/* A run's status as KCIDB's: ok PASS, failed FAIL (the benchmark or the
 * kernel failed), skip SKIP (not applicable here), incomplete ERROR (it
 * did not finish, the kernel's state unknown). */
static const char *run_status(const char *status)
{
	static const char *const map[][2] = {
		{ "ok", "PASS" }, { "failed", "FAIL" }, { "skip", "SKIP" }, { "incomplete", "ERROR" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (status && !strcmp(status, map[i][0]))
			return map[i][1];
	return "ERROR";
}

/* The kernel's name of an architecture (uname -m says aarch64), in the
 * schema's characters; NULL when nothing is left. */
static char *kcidb_arch(const char *machine)
{
	char *a, *o;

	if (!machine || !*machine)
		return NULL;
	if (!strcmp(machine, "aarch64"))
		return xstrdup("arm64");
	o = a = xstrdup(machine);
	for (const char *p = machine; *p; p++)
		if (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')
			*o++ = *p;
	*o = '\0';
	return *a ? a : (free(a), NULL);
}

/* A time stored as now_iso() writes it (RFC 3339), or NULL. */
static const char *iso_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

	if (!s || strlen(s) != sizeof(shape) - 1)
		return NULL;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return NULL;
	return s;
}

static void jw_excerpt(struct jw *w, const char *key, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > EXCERPT_MAX) {	/* the first part, never half a UTF-8 character */
		n = EXCERPT_MAX;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (n) {
		char *cut = xasprintf("%.*s", (int)n, s);

		jw_str(w, key, cut);
		free(cut);
	}
}

/* A stored unit as the schema's number: the SI unit and the prefix its
 * display may add, and the factor to it. */
static const struct number_unit {
	const char *stored, *unit, *prefix;
	double scale;
} number_units[] = {
	{ "ns", "s", "metric", 1e-9 },
	{ "kB", "B", "binary", 1024 },	/* the kernel's kB are KiB */
	{ "instr", "instr", "metric", 1 },
	{ NULL }
};

static const struct number_unit *number_unit(const char *stored)
{
	static struct number_unit other;

	for (const struct number_unit *u = number_units; u->stored; u++)
		if (!strcmp(u->stored, stored))
			return u;
	other = (struct number_unit){ stored, stored, NULL, 1 };
	return &other;
}

/* ---- Checkouts ------------------------------------------------------------ */

/* Whether a URL is printable ASCII with no space (a URI's characters). */
static int url_plain(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return 0;
	return 1;
}

/* The patch a gate's command line names (--patch X or --patch=X): a
 * Message-ID or a URL as KCIDB's, or a file, whose name alone is returned
 * for misc (a local path says nothing to KCIDB).  Words are split at
 * spaces, as joined_argv() joined them; none of the three holds one.
 * A database is untrusted: what is not one of them is left out. */
static char *gate_patch(struct jw *w, const char *command)
{
	char *words = xstrdup(command), *save = NULL, *patch = NULL, *file = NULL, *id;

	for (char *t = strtok_r(words, " ", &save); t && !patch; t = strtok_r(NULL, " ", &save)) {
		if (!strncmp(t, "--patch=", 8))
			patch = t + 8;
		else if (!strcmp(t, "--patch"))
			patch = strtok_r(NULL, " ", &save);
	}
	if (!patch) {
		/* no patch named */
	} else if (!strncmp(patch, "https://", 8) || !strncmp(patch, "http://", 7)) {
		const char *name = strrchr(patch, '/') + 1;

		if (url_plain(patch)) {
			jw_open(w, "patchset_files", '[');
			jw_open(w, NULL, '{');
			jw_str(w, "name", *name ? name : "patch.mbox");
			jw_str(w, "url", patch);
			jw_close(w, '}');
			jw_close(w, ']');
		}
	} else if (strchr(patch, '@') && !strchr(patch, '/')) {
		size_t n = strlen(patch);

		if ((id = msgid_segment(patch))) {	/* the check of fetch: a Message-ID */
			if (patch[0] == '<')
				patch[n - 1] = '\0', patch++;
			jw_str(w, "message_id", patch);
		}
		free(id);
	} else {
		file = xstrdup(strrchr(patch, '/') ? strrchr(patch, '/') + 1 : patch);
	}
	free(words);
	return file;
}

static void checkout(struct jw *w, sqlite3_stmt *st)
{
	const char *source = text(st, "source"), *gate = text(st, "gate_command"), *patches = text(st, "patches_hash");
	char *comment = *source ? xstrdup(source) : xasprintf("the host's own kernel %s", text(st, "release"));
	char *patch_file = NULL;

	jw_open(w, NULL, '{');
	jw_id(w, "id", text(st, "key"));
	jw_str(w, "origin", KCIDB_ORIGIN);
	if (!strncmp(source, "debian:", 7))
		jw_str(w, "tree_name", "debian");
	if (!strncmp(source, "git:", 4) && strlen(source) == 44 && strspn(source + 4, "0123456789abcdef") == 40)
		jw_str(w, "git_commit_hash", source + 4);
	jw_str(w, "comment", comment);
	jw_bool(w, "valid", 1);	/* a kernel of it ran: its patches applied */
	if (*gate)
		patch_file = gate_patch(w, gate);
	/* "" without patches; left out when stored before schema 11 */
	if (!*patches || !strcmp(patches, "0000000000000000"))
		jw_str(w, "patchset_hash", "");
	else
		jw_text(w, "patchset_hash", text(st, "patchset_sha256"));
	jw_open(w, "misc", '{');
	jw_text(w, "source", source);
	/* the key of reclaimbench's build cache: FNV-1a of the patch files */
	jw_text(w, "patches_fnv1a64", patches);
	jw_text(w, "patch_file", patch_file);
	jw_close(w, '}');
	jw_close(w, '}');
	free(comment), free(patch_file);
}

static void checkouts(struct jw *w, sqlite3 *db)
{
	sqlite3_stmt *st = prepare(db, "SELECT " CHECKOUT_KEY " AS key, k.source AS source, k.patches_hash AS "
				   "patches_hash, max(k.patchset_sha256) AS patchset_sha256, k.release AS release, max(CASE WHEN k.variant GLOB " GATE_VARIANT
				   " THEN r.command END) AS gate_command FROM runs r JOIN kernels k ON k.id = "
				   "r.kernel_id WHERE " SELECTED " GROUP BY key ORDER BY min(r.id)");

	jw_open(w, "checkouts", '[');
	while (sqlite3_step(st) == SQLITE_ROW)
		checkout(w, st);
	jw_close(w, ']');
	sqlite3_finalize(st);
}

/* ---- Builds --------------------------------------------------------------- */

static void build(struct jw *w, sqlite3_stmt *st)
{
	const char *variant = text(st, "variant"), *build_id = text(st, "build_id");
	char *arch = kcidb_arch(text(st, "arch")), *compiler = *build_id ?
		kconfig_value(build_id, "CC_VERSION_TEXT") : NULL;

	jw_open(w, NULL, '{');
	jw_id(w, "id", text(st, "key"));
	jw_str(w, "origin", KCIDB_ORIGIN);
	jw_id(w, "checkout_id", text(st, "checkout_key"));
	jw_str(w, "architecture", arch);
	jw_str(w, "config_name", *variant ? variant : "host");
	jw_str(w, "compiler", compiler);	/* from its .config, when this machine's cache holds it */
	if (*build_id)
		jw_str(w, "status", "PASS");	/* only a kernel that built and booted has runs */
	jw_open(w, "misc", '{');
	jw_text(w, "build_id", build_id);
	jw_text(w, "config_fnv1a64", text(st, "config_hash"));
	jw_text(w, "kernel_release", text(st, "release"));
	jw_text(w, "kernel_version", text(st, "version"));
	jw_text(w, "cmdline", text(st, "cmdline"));
	jw_close(w, '}');
	jw_close(w, '}');
	free(arch), free(compiler);
}

static void builds(struct jw *w, sqlite3 *db)
{
	sqlite3_stmt *st = prepare(db, "SELECT " BUILD_KEY " AS key, " CHECKOUT_KEY " AS checkout_key, k.variant AS "
				   "variant, k.build_id AS build_id, k.config_hash AS config_hash, k.release AS "
				   "release, k.version AS version, k.cmdline AS cmdline, max(r.arch) AS arch FROM "
				   "runs r JOIN kernels k ON k.id = r.kernel_id WHERE " SELECTED " GROUP BY key "
				   "ORDER BY min(r.id)");

	jw_open(w, "builds", '[');
	while (sqlite3_step(st) == SQLITE_ROW)
		build(w, st);
	jw_close(w, ']');
	sqlite3_finalize(st);
}

/* ---- Tests ---------------------------------------------------------------- */

static const char *role_name(enum metric_role role)
{
	switch (role) {
	case METRIC_TIMING: return "timing";
	case METRIC_EXACT: return "exact";
	case METRIC_INVARIANT: return "invariant";
	default: return "info";
	}
}

/* A gate of a series names the patch at which this metric's verdict
 * changed (series_changes, on the whole series' run): in misc. */
static void series_misc(struct jw *w, sqlite3 *db, long long run, const char *metric)
{
	sqlite3_stmt *st = prepare(db, "SELECT patch, npatches, verdict, subject FROM series_changes WHERE run_id = ?1 "
				   "AND metric = ?2");

	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			jw_num(w, "series_changed_at_patch", sqlite3_column_int(st, 0));
		jw_num(w, "series_patches", sqlite3_column_int(st, 1));
		jw_text(w, "series_verdict", text(st, "verdict"));
		jw_text(w, "series_patch_subject", text(st, "subject"));
	}
	sqlite3_finalize(st);
}

/* A test's status for a metric whose value is a verdict of its own: kernel
 * warnings on the console (the invariant of every benchmark) PASS at none
 * and FAIL at any; a selftest case (case.PROG.N) as its TAP result said,
 * in its note ("ok: ", "not ok: ", "skip: ").  NULL for a measurement. */
static const char *verdict_status(const char *metric, double med, const char *note)
{
	if (!strcmp(metric, "kernel.warnings"))
		return med > 0 ? "FAIL" : "PASS";
	if (strncmp(metric, "case.", 5))
		return NULL;
	return !strncmp(note, "not ok: ", 8) ? "FAIL" : !strncmp(note, "skip: ", 6) ? "SKIP" : "PASS";
}

/* A metric of an ok run: its median as the number, every repetition and
 * the median's interval in misc; a status from verdict_status, with the
 * note as the log excerpt of a FAIL; every other metric DONE: a
 * measurement, judged only by a comparison. */
static void metric_test(struct jw *w, sqlite3 *db, sqlite3_stmt *run, sqlite3_stmt *m, const char *test_id)
{
	const char *metric = text(m, "metric"), *bench = text(run, "bench");
	const struct number_unit *u = number_unit(text(m, "unit"));
	char path[256] = "", *id = xasprintf("%s/%s", test_id, metric);
	double *v, lo, hi, coverage, med;
	int n = db_samples(db, sqlite3_column_int64(run, column(run, "id")), metric, &v);
	const char *status;

	for (int i = 0; i < n; i++)
		v[i] *= u->scale;
	med = median(v, n);
	median_ci(v, n, MEDIAN_LEVEL, &lo, &hi, &coverage);
	status = verdict_status(metric, med, text(m, "note"));
	path_append(path, sizeof(path), KCIDB_ORIGIN);
	path_append(path, sizeof(path), bench);
	path_append(path, sizeof(path), metric);
	jw_open(w, NULL, '{');
	jw_str(w, "id", id);
	jw_str(w, "origin", KCIDB_ORIGIN);
	jw_id(w, "build_id", text(run, "build_key"));
	jw_str(w, "path", path);
	jw_str(w, "status", status ? status : "DONE");
	if (status && !strcmp(status, "FAIL"))
		jw_excerpt(w, "log_excerpt", text(m, "note"));
	jw_str(w, "start_time", iso_time(text(run, "started_at")));
	if (isfinite(med) && !(status && !strcmp(status, "SKIP"))) {	/* a skipped case measured nothing */
		jw_open(w, "number", '{');
		jw_num(w, "value", med);
		jw_text(w, "unit", u->unit);
		jw_str(w, "prefix", u->prefix);
		jw_close(w, '}');
	}
	jw_open(w, "misc", '{');
	jw_str(w, "role", role_name(metric_role(bench_find(bench), metric)));
	jw_num(w, "n", n);
	jw_open(w, "values", '[');
	for (int i = 0; i < n; i++)
		jw_num(w, NULL, v[i]);
	jw_close(w, ']');
	if (n > 1) {
		jw_open(w, "median_ci", '{');
		jw_num(w, "level", coverage);
		jw_num(w, "lo", lo);
		jw_num(w, "hi", hi);
		jw_close(w, '}');
	}
	series_misc(w, db, sqlite3_column_int64(run, column(run, "id")), metric);
	jw_close(w, '}');
	jw_close(w, '}');
	free(v), free(id);
}

static void metric_tests(struct jw *w, sqlite3 *db, sqlite3_stmt *run, const char *test_id)
{
	sqlite3_stmt *m = prepare(db, "SELECT metric, max(unit) AS unit, max(note) AS note FROM samples WHERE "
				  "run_id = ?1 AND value IS NOT NULL GROUP BY metric ORDER BY metric");

	sqlite3_bind_int64(m, 1, sqlite3_column_int64(run, column(run, "id")));
	while (sqlite3_step(m) == SQLITE_ROW)
		metric_test(w, db, run, m, test_id);
	sqlite3_finalize(m);
}

/* Where a run ran: the accelerator, the guest's size, the machine. */
static void environment(struct jw *w, sqlite3_stmt *run)
{
	const char *accel = text(run, "accel");
	char *comment = !strcmp(accel, "host") ? xasprintf("the host, %s", text(run, "cpu_model")) :
		xasprintf("QEMU %s guest (%.0f CPU%s, %.0f MiB) on %s", accel, real(run, "guest_cpus"),
			  real(run, "guest_cpus") == 1 ? "" : "s", real(run, "guest_mem_mb"), text(run, "cpu_model"));

	jw_open(w, "environment", '{');
	jw_str(w, "comment", comment);
	jw_open(w, "misc", '{');
	jw_str(w, "accel", accel);
	jw_text(w, "emulator", text(run, "emulator"));
	jw_num(w, "guest_cpus", real(run, "guest_cpus"));
	jw_num(w, "guest_mem_mb", real(run, "guest_mem_mb"));
	jw_text(w, "clocksource", text(run, "clocksource"));
	jw_num(w, "alone", real(run, "alone"));
	jw_text(w, "machine", text(run, "fingerprint"));
	jw_text(w, "cpu_model", text(run, "cpu_model"));
	jw_num(w, "ncpu", real(run, "ncpu"));
	jw_num(w, "mem_kb", real(run, "mem_kb"));
	jw_text(w, "host_kernel", text(run, "host_kernel"));
	jw_close(w, '}');
	jw_close(w, '}');
	free(comment);
}

static void run_test(struct jw *w, sqlite3 *db, sqlite3_stmt *run)
{
	const char *status = text(run, "status");
	char path[256] = "", *id = xasprintf("%s:%s/%s", KCIDB_ORIGIN, text(run, "session"), text(run, "id"));

	path_append(path, sizeof(path), KCIDB_ORIGIN);
	path_append(path, sizeof(path), text(run, "bench"));
	jw_open(w, NULL, '{');
	jw_str(w, "id", id);
	jw_str(w, "origin", KCIDB_ORIGIN);
	jw_id(w, "build_id", text(run, "build_key"));
	jw_str(w, "path", path);
	jw_str(w, "status", run_status(status));
	jw_excerpt(w, "log_excerpt", text(run, "reason"));
	jw_str(w, "start_time", iso_time(text(run, "started_at")));
	environment(w, run);
	jw_open(w, "misc", '{');
	jw_num(w, "run", real(run, "id"));
	jw_str(w, "session", text(run, "session"));
	jw_str(w, "bench", text(run, "bench"));
	jw_num(w, "bench_version", real(run, "bench_version"));
	jw_text(w, "params", text(run, "params"));
	jw_text(w, "faults", text(run, "faults"));
	jw_num(w, "boot_wall_s", real(run, "wall_s"));
	jw_close(w, '}');
	jw_close(w, '}');
	if (status && !strcmp(status, "ok"))
		metric_tests(w, db, run, id);
	free(id);
}

static void tests(struct jw *w, sqlite3 *db)
{
	sqlite3_stmt *st = prepare(db, "SELECT r.*, " BUILD_KEY " AS build_key, m.fingerprint, m.cpu_model, m.ncpu, "
				   "m.mem_kb, m.host_kernel FROM runs r JOIN kernels k ON k.id = r.kernel_id JOIN "
				   "machines m ON m.id = r.machine_id WHERE " SELECTED " ORDER BY r.id");

	jw_open(w, "tests", '[');
	while (sqlite3_step(st) == SQLITE_ROW)
		run_test(w, db, st);
	jw_close(w, ']');
	sqlite3_finalize(st);
}

/* ---- The document and which runs it holds ---------------------------------- */

/* The invocation that made a session, "TIME-PID" of its name: sessions
 * are NAME-TIME-PID, or NAME-TIME-PID-ROUND when a plan boots a variant
 * more than once (plan.c; run.c and ingest.c name theirs host-TIME-PID
 * and ingest-TIME-PID).  TIME has 9 to 11 digits, PID at most 7 (Linux's
 * pid_max is 2^22), ROUND a few: so a variant's own digits are not taken
 * for them.  NULL when the name is not of that shape. */
static char *session_invocation(const char *session)
{
	const char *w[4] = { NULL };	/* the last words, w[0] the last */
	size_t len[4] = { 0 };
	int k = 0;

	for (const char *end = session + strlen(session), *p = end; k < 4 && p > session; p--) {
		if (p[-1] != '-')
			continue;
		w[k] = p, len[k] = end - p, k++;
		end = p - 1;
	}
	for (int i = 0; i < k; i++)
		if (!len[i] || strspn(w[i], "0123456789") < len[i])
			k = i;	/* only the digit words at the end count */
	for (int round = 1; round >= 0; round--) {
		int t = round + 1, p = round;

		if (k > t && len[t] >= 9 && len[t] <= 11 && len[p] <= 7 && (!round || len[0] <= 6))
			return xasprintf("%.*s", (int)(len[t] + 1 + len[p]), w[t]);
	}
	return NULL;
}

/* The newest run's id or session, mallocd ("0" or NULL in an empty database). */
static char *newest(sqlite3 *db, const char *what)
{
	sqlite3_stmt *st = prepare(db, !strcmp(what, "id") ? "SELECT coalesce(max(id), 0) FROM runs" :
				   "SELECT session FROM runs ORDER BY id DESC LIMIT 1");
	char *v = sqlite3_step(st) == SQLITE_ROW ? xstrdup((const char *)sqlite3_column_text(st, 0)) : NULL;

	sqlite3_finalize(st);
	return v;
}

int kcidb_select(sqlite3 *db, const struct kcidb_selection *sel)
{
	sqlite3_stmt *st;
	char *session = NULL, *invocation = NULL, *run = NULL;
	int n;

	if (db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS kcidb_runs (id INTEGER PRIMARY KEY); DELETE FROM kcidb_runs"))
		die(EXIT_INFRA, "kcidb: cannot keep the chosen runs");
	if (sel->run) {
		run = strcmp(sel->run, "last") ? xstrdup(sel->run) : newest(db, "id");
		st = prepare(db, "INSERT INTO kcidb_runs SELECT id FROM runs WHERE id = ?1");
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	} else if (sel->session) {
		session = strcmp(sel->session, "last") ? xstrdup(sel->session) : newest(db, "session");
		invocation = session ? session_invocation(session) : NULL;
		/* Every session of that invocation: NAME-ID or NAME-ID-ROUND (an
		 * ID is digits and '-', nothing GLOB reads as a pattern). */
		st = prepare(db, "INSERT INTO kcidb_runs SELECT id FROM runs WHERE session = ?1 OR (?2 IS NOT NULL AND "
				 "(session GLOB '*-' || ?2 OR session GLOB '*-' || ?2 || '-[0-9]*'))");
		sqlite3_bind_text(st, 1, session ? session : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, invocation, -1, SQLITE_STATIC);
	} else {
		st = prepare(db, "INSERT INTO kcidb_runs SELECT id FROM runs");
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		die(EXIT_INFRA, "kcidb: cannot choose the runs: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	n = sqlite3_changes(db);
	if (!n && (sel->run || sel->session))
		die(EXIT_USAGE, "no %s '%s' in '%s'; see reclaimbench list runs", sel->run ? "run" : "session",
		    sel->run ? sel->run : sel->session, opt_db);
	free(session), free(invocation), free(run);
	return n;
}

void kcidb_write(FILE *out, sqlite3 *db)
{
	struct jw w = { .f = out };

	jw_open(&w, NULL, '{');
	jw_open(&w, "version", '{');
	jw_num(&w, "major", KCIDB_MAJOR);
	jw_num(&w, "minor", KCIDB_MINOR);
	jw_close(&w, '}');
	checkouts(&w, db);
	builds(&w, db);
	tests(&w, db);
	jw_close(&w, '}');
	fputc('\n', out);
}
