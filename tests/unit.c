/* Unit tests of the library parts, on fixtures and a real SQLite file.
 * Prints TAP. */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "../bench/record.h"
#include "../bench/selftests.h"
#include "../runners/reclaimbench.h"

static int tests, failed;
static char tmp[] = "/tmp/rb-unit-XXXXXX";

static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed += !cond;
}

/* What a test saw, on a "# " line after its result: a test's name stays
 * the same from run to run. */
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static char *fixture(const char *name)
{
	char *path = xasprintf("%s/fixtures/%s", FIXTURES, name), *text = read_file(path, NULL);

	if (!text) {
		printf("Bail out! fixture %s missing\n", path);
		exit(1);
	}
	free(path);
	return text;
}

/* Runs fn in a child; returns its exit code and the first stderr line. */
static int in_child(void (*fn)(void *), void *arg, char *err, size_t cap)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;

	if (pipe(p))
		return -1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		close(p[0]);
		fn(arg);
		_exit(0);
	}
	close(p[1]);
	size_t got = 0;
	while (got < cap - 1 && (n = read(p[0], err + got, cap - 1 - got)) > 0)
		got += n;
	err[got] = '\0';
	err[strcspn(err, "\n")] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_parsers(void)
{
	char *vm = fixture("vmstat.txt"), *status = fixture("status.txt"), choice[32];
	uint64_t v = 0;
	long long kb = 0;

	check(parse_vmstat(vm, "pglazyfreed", &v) == 0 && v == 32768, "vmstat pglazyfreed is 32768");
	/* The fixture lists the longer twins first, so a prefix match fails. */
	check(parse_vmstat(vm, "pglazyfree", &v) == 0 && v == 16384, "vmstat name is matched whole");
	check(parse_vmstat(vm, "thp_split_pmd", &v) == 0 && v == 64, "vmstat thp_split_pmd not its longer twin");
	check(parse_vmstat(vm, "thp_deferred_split_page", &v) == -1, "vmstat missing field is -1, not 0");
	check(parse_status_kb(status, "VmPTE", &kb) == 0 && kb == 102640, "status VmPTE 102640 kB");
	check(parse_status_kb(status, "Threads", &kb) == -1, "status field without kB refused");
	check(parse_status_kb(status, "VmPMD", &kb) == -1, "status missing field is -1");
	free(vm), free(status);
	vm = fixture("thp-enabled.txt");
	check(parse_knob(vm, choice, sizeof(choice)) == 0 && !strcmp(choice, "madvise"), "knob [madvise]");
	free(vm);
	vm = fixture("thp-size-enabled.txt");
	check(parse_knob(vm, choice, sizeof(choice)) == 0 && !strcmp(choice, "never"), "size knob [never]");
	free(vm);
	check(parse_knob("511\n", choice, sizeof(choice)) == 0 && !strcmp(choice, "511"), "plain knob value");
	check(parse_knob("", choice, sizeof(choice)) == -1, "empty knob refused");
	vm = fixture("zoneinfo.txt");
	struct pcp_state pcp = { 0 };
	check(parse_pcp(vm, 0, &pcp) == 0 && pcp.count == 17166 && pcp.high == 31848 && pcp.batch == 63,
	      "zoneinfo pcp of CPU 0 from the zone with the most managed pages (DMA32)");
	check(parse_pcp(vm, 1, &pcp) == 0 && pcp.count == 312 && pcp.high == 15924,
	      "zoneinfo pcp of CPU 1, not high_min or high_max");
	check(parse_pcp(vm, 2, &pcp) == -1, "zoneinfo pcp of a CPU not listed is -1");
	check(parse_pcp("", 0, &pcp) == -1, "empty zoneinfo is -1");
	free(vm);
	vm = fixture("interrupts-x86.txt");
	check(parse_interrupts(vm, "TLB shootdowns", &v) == 0 && v == 1089845 + 688798,
	      "interrupts: TLB shootdowns summed over both CPUs");
	check(parse_interrupts(vm, "Function call interrupts", &v) == 0 && v == 3692036 + 2890071,
	      "interrupts: x86 function calls by their description, not the label");
	check(parse_interrupts(vm, "Machine check", &v) == -1, "interrupts: a missing row is -1");
	free(vm);
	vm = fixture("interrupts-arm64.txt");
	check(parse_interrupts(vm, "Function call interrupts", &v) == 0 && v == 55,
	      "interrupts: arm64 IPI1 row summed");
	check(parse_interrupts(vm, "TLB shootdowns", &v) == -1, "interrupts: arm64 has no TLB shootdown row");
	free(vm);
	vm = fixture("tlb_flush-format.txt");
	check(parse_tracepoint_enum(vm, "local mm shootdown") == 3, "tlb_flush reason named in another case");
	check(parse_tracepoint_enum(vm, "local shootdown") == 2, "tlb_flush reason matched whole, not a longer one");
	check(parse_tracepoint_enum(vm, "remote ipi send") == 4, "tlb_flush reason remote IPI send");
	check(parse_tracepoint_enum(vm, "remote") == -1, "tlb_flush reason prefix is no match");
	check(parse_tracepoint_enum("", "remote shootdown") == -1, "tlb_flush reason of an empty format is -1");
	free(vm);
}

static void test_smaps(void)
{
	char *smaps = fixture("smaps.txt");

	check(smaps_kb(smaps, "AnonHugePages", 0x7f0000200000, 0x7f0008200000) == 129024,
	      "smaps AnonHugePages of the one mapping in the range, not its neighbours");
	check(smaps_kb(smaps, "AnonHugePages", 0x7f0000300000, 0x7f0008300000) == 131072,
	      "smaps AnonHugePages summed over the mappings the range overlaps");
	check(smaps_kb(smaps, "AnonHugePages", 0x7f1000000000, 0x7f1000200000) == -1,
	      "smaps range with no mapping is -1, not 0");
	check(smaps_kb(smaps, "Anonymous", 0x7f0000200000, 0x7f0008400000) == 131072,
	      "smaps field matched whole: Anonymous, not AnonHugePages");
	check(smaps_kb(smaps, "ShmemPmdMapped", 0x7f0000000000, 0x7f0008400000) == -1,
	      "smaps field no mapping has is -1");
	free(smaps);
}

/* A metric's scope prefixes its name, and only while it is set. */
static void test_metric_scope(void)
{
	struct bench_ctx ctx = { .rep = 3 };
	char buf[512];
	int p[2];
	ssize_t n;

	if (pipe(p)) {
		check(0, "pipe for metric records");
		return;
	}
	ctx.out = p[1];
	ctx.scope = "munmap";
	metric(&ctx, "time.wall", 42, "ns");
	ctx.scope = NULL;
	metric(&ctx, "time.wall", 43, "ns");
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	check(strstr(buf, "metric=munmap.time.wall") && strstr(buf, "value=42"),
	      "scoped metric is named munmap.time.wall");
	check(strstr(buf, "metric=time.wall value=43") != NULL, "unscoped metric keeps its name");
}

static void test_records(void)
{
	char payload[256] = "sample", line[512];
	struct record r;
	const char *why = NULL;
	int n;

	record_field(payload, sizeof(payload), "reason", "no 64 kB mTHP = odd * % \n");
	n = record_frame(line, sizeof(line), 7, payload);
	check(n > 0 && line[n - 1] == '\n', "frame ends with a newline");
	check(record_parse(line, &r, &why) == 0 && r.seq == 7 && !strcmp(r.kind, "sample"),
	      "framed line parses back");
	check(!strcmp(record_get(&r, "reason") ?: "", "no 64 kB mTHP = odd * % \n"),
	      "escaped value comes back exactly");
	line[10] ^= 1;
	check(record_parse(line, &r, &why) == -1 && !strcmp(why, "bad checksum"), "flipped bit: bad checksum");
	check(record_parse("RB1 1 x *zz", &r, &why) == -1, "malformed checksum refused");
	check(record_parse("hello world", &r, &why) == -1, "not a record line refused");
	check(crc32_update(0, "123456789", 9) == 0xcbf43926, "crc32 check value");
	/* The value syntax is untrusted too: an escape is two hex digits and
	 * never a NUL, a sequence number is digits, a key comes once. */
	{
		static const char *const bad[] = { "sample v=%-1", "sample v=%+f", "sample v=%00x", "sample v=%4",
						   "sample v=% 1", "sample a=1 a=2", "sample =1" };
		static const char *const badseq[] = { "-1", "+1", "0x1", "", "18446744073709551616" };
		int refused = 0, n = 0;

		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++, n++) {
			record_frame(line, sizeof(line), 1, bad[i]);
			refused += record_parse(line, &r, &why) == -1;
		}
		for (size_t i = 0; i < sizeof(badseq) / sizeof(*badseq); i++, n++) {
			char raw[128];

			snprintf(raw, sizeof(raw), "RB1 %s sample", badseq[i]);
			snprintf(line, sizeof(line), "%s *%08x", raw, crc32_update(0, raw, strlen(raw)));
			refused += record_parse(line, &r, &why) == -1;
		}
		check(refused == n, "a sign or a short or NUL escape, a signed, hex, empty or overflowing sequence "
		      "number, a repeated or empty key: %d of %d refused", refused, n);
	}
}

static void test_opts(void)
{
	unsigned long u = 5;
	const char *s = NULL;
	int flag = 0;
	struct opt_list l = { 0 };
	const struct opt t[] = {
		{ "n", OPT_UINT, &u, 1, 10, "N", "a number" },
		{ "s", OPT_STRING, &s, 0, 0, "S", "a string" },
		{ "f", OPT_FLAG, &flag, 0, 0, NULL, "a flag" },
		{ "l", OPT_LIST, &l, 0, 0, "X", "a list" },
		{ NULL }
	};
	const struct opt *const tables[] = { t, NULL };
	char *argv[] = { "x", "op1", "--n", "7", "--s=hi", "--f", "--l", "a", "op2", "--l=b", NULL };
	char err[256];
	int first = opts_parse(tables, 10, argv, 1, "usage");

	check(first == 8 && !strcmp(argv[8], "op1") && !strcmp(argv[9], "op2"), "operands moved after options");
	check(u == 7 && s && !strcmp(s, "hi") && flag && l.n == 2 && !strcmp(l.v[1], "b"), "values set");
	check(opts_set(&t[0], "11", err, sizeof(err)) == -1 && strstr(err, "from 1 to 10"), "bound refused: %s", err);
	check(opts_set(&t[0], "-1", err, sizeof(err)) == -1, "negative refused");
	check(opts_set(&t[0], "3x", err, sizeof(err)) == -1 && strstr(err, "wants a number"), "garbage refused");
	check(opts_find(bench_params, "reps") && opts_find(bench_params, "mthp-kb"), "bench parameter table");
	for (int i = 0; i < nbenches; i++)
		check(bench_check(benches[i]) == NULL, "bench %s passes its table check", benches[i]->name);
}

static void load_spec(void *name)
{
	struct variant_set set;
	char *path = xasprintf("%s/fixtures/%s", FIXTURES, (char *)name);

	variants_load(path, &set);
}

static void test_variants(void)
{
	struct variant_set set;
	char *path = xasprintf("%s/fixtures/variants-good.conf", FIXTURES), err[512];
	struct variant *g;
	static const struct { const char *file, *want; } bad[] = {
		{ "variants-badkey.conf", "variants-badkey.conf:4: unknown key 'bogus'" },
		{ "variants-cycle.conf", "inherits from itself" },
		{ "variants-missing.conf", "variants-missing.conf:3: 'missing.config' does not exist" },
		{ "variants-badname.conf", "variants-badname.conf:1: variant name 'a b'" },
		{ "variants-badarch.conf", "variants-badarch.conf:4: arch 'riscv' is not x86_64 or arm64" },
		{ "no-such.conf", "cannot be read" },
	};

	variants_load(path, &set);
	g = variant_find(&set, "grandchild");
	check(set.n == 3 && g, "three variants parsed");
	check(g && g->npatches == 2 && strstr(g->patches[0], "no-ttu-sync") && strstr(g->patches[1], "no-pt-reclaim"),
	      "inherited patches come first");
	check(g && !strcmp(g->source, "debian:7.3") && !strcmp(g->cmdline, "console=ttyS0 quiet"),
	      "source inherited, cmdline replaced");
	variants_free(&set);
	variants_load(xasprintf("%s/fixtures/variants-arch.conf", FIXTURES), &set);
	g = variant_find(&set, "arm-child");
	check(variant_find(&set, "x86") && !strcmp(variant_arch(variant_find(&set, "x86")), "x86_64") &&
	      !strcmp(variant_find(&set, "x86")->cmdline, "console=ttyS0 panic=-1"),
	      "arch: x86_64 by default, with the console on ttyS0");
	check(g && !strcmp(variant_arch(g), "arm64") && !strcmp(g->cmdline, "console=ttyAMA0 panic=-1"),
	      "arch: arm64 inherited, the console on the PL011 (ttyAMA0) by default");
	check(!strcmp(arch_machine("arm64"), "aarch64") && !strcmp(arch_machine("x86_64"), "x86_64"),
	      "arch: arm64 runs as uname's aarch64");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int code = in_child(load_spec, (void *)bad[i].file, err, sizeof(err));

		check(code == EXIT_USAGE && strstr(err, bad[i].want), "%s: exit 2 and '%s' (got %d: %s)",
		      bad[i].file, bad[i].want, code, err);
	}
}

static char *dbpath;

static void open_db(void *path)
{
	db_close(db_open(path));
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v ? v : xstrdup("");
}

/* A version-2 database with a run and its samples, opened by this
 * reclaimbench: migration 3 copies the runs table and keeps every sample. */
static void test_db_migrate(void)
{
	char *old = xasprintf("%s/v2.db", tmp);
	sqlite3 *db;

	sqlite3_open(old, &db);
	for (int v = 0; v < 2; v++)
		sqlite3_exec(db, schema_sql[v], NULL, NULL, NULL);
	sqlite3_exec(db, "PRAGMA user_version = 2;"
		     "INSERT INTO machines VALUES (1, 'f', 'h', 'c', 2, 1, 'k');"
		     "INSERT INTO kernels (id, release, version) VALUES (1, '7.3', '#1');"
		     "INSERT INTO runs (id, session, machine_id, kernel_id, bench, bench_version, params, accel, "
		     "status, started_at) VALUES (5, 's', 1, 1, 'pt_reclaim', 1, 'reps=2', 'tcg', 'ok', 'now');"
		     "INSERT INTO samples VALUES (5, 0, 'time.wall', 1, 'ns', ''), (5, 1, 'time.wall', 2, 'ns', '');",
		     NULL, NULL, NULL);
	check(query_int(db, "SELECT count(*) FROM samples") == 2, "a version-2 database with 2 samples");
	sqlite3_close(db);
	db = db_open(old);
	check(query_int(db, "PRAGMA user_version") == schema_count, "migrated to version %d", schema_count);
	check(query_int(db, "SELECT count(*) FROM samples WHERE run_id = 5") == 2 &&
	      query_int(db, "SELECT count(*) FROM runs WHERE id = 5 AND accel = 'tcg'") == 1,
	      "the run and both samples kept");
	check(query_int(db, "SELECT count(*) FROM samples WHERE run_id = 5 AND kind = 'counting'") == 2,
	      "samples from before version 4 (perf events in the window) are marked counting");
	check(db_exec(db, "UPDATE runs SET accel = 'tcg-icount' WHERE id = 5") == 0, "tcg-icount is an accelerator");
	check(db_exec(db, "UPDATE runs SET accel = 'icount' WHERE id = 5") == -1, "other names are still refused");
	check(db_exec(db, "DELETE FROM runs WHERE id = 5") == 0 &&
	      query_int(db, "SELECT count(*) FROM samples") == 0, "samples still go with their run (cascade)");
	db_close(db);
	free(old);
}

/* KCIDB's patchset_hash of two fixture patches, against what the
 * schema's own shell command printed for them
 * (sha256sum patchset-1.patch patchset-2.patch | cut -c-64 | sha256sum). */
static void test_patchset_hash(void)
{
	char *one = xasprintf("%s/fixtures/patchset-1.patch", FIXTURES);
	char *two = xasprintf("%s/fixtures/patchset-2.patch", FIXTURES);
	char *in_order[] = { one, two }, *reversed[] = { two, one };
	char *h12 = patchset_sha256(in_order, 2), *h21 = patchset_sha256(reversed, 2), *none = patchset_sha256(NULL, 0);

	check(!strcmp(h12, "a76dccce8586bfd0b95098c7d5974f84ef0407393ed989775e1009ae8e9cb7b5"),
	      "a patch set's sha256 is that of its patches' sha256 lines, in order");
	diag("%s", h12);
	check(!strcmp(h21, "a0452ae7983478f6c8e92180fa63b5b8ba689dcda9acd9050bce9b1880b5a642"),
	      "the same patches in the other order hash differently");
	check(!strcmp(none, ""), "no patches: the empty string");
	free(h12), free(h21), free(none), free(one), free(two);
}

static void test_db(void)
{
	char err[512], *newer = xasprintf("%s/newer.db", tmp), *junk = xasprintf("%s/junk.db", tmp);
	char *before, *after, *mode;
	sqlite3 *db, *raw;
	int code;

	dbpath = xasprintf("%s/t.db", tmp);
	db = db_open(dbpath);
	check(query_int(db, "PRAGMA user_version") == schema_count, "migrations bring user_version to %d", schema_count);
	mode = query_text(db, "PRAGMA journal_mode");
	check(!strcmp(mode, "wal"), "journal mode is WAL (%s)", mode);
	check(query_int(db, "PRAGMA foreign_keys") == 1, "foreign keys on");
	check(db_exec(db, "INSERT INTO samples (run_id, rep, metric, unit) VALUES (999, 0, 'x', 'ns')") == -1,
	      "a sample of no run is refused (foreign key)");
	db_close(db);
	db = db_open(dbpath);
	check(query_int(db, "PRAGMA user_version") == schema_count, "reopening applies nothing twice");
	db_close(db);

	sqlite3_open(newer, &raw);
	sqlite3_exec(raw, "CREATE TABLE t (x); PRAGMA user_version = 99;", NULL, NULL, NULL);
	sqlite3_close(raw);
	before = read_file(newer, NULL);
	code = in_child(open_db, newer, err, sizeof(err));
	after = read_file(newer, NULL);
	check(code == EXIT_USAGE && strstr(err, "schema version 99, newer"), "newer schema: exit 2 with the reason");
	diag("exit %d, '%s'", code, err);
	check(before && after && !memcmp(before, after, 4096), "newer database left untouched");
	{
		FILE *f = fopen(junk, "w");
		fputs("this is not a database, it is a text file long enough to have a header......", f);
		fclose(f);
	}
	code = in_child(open_db, junk, err, sizeof(err));
	check(code == EXIT_USAGE && strstr(err, "not an SQLite database"), "not SQLite: exit 2 with the reason");
	diag("exit %d, '%s'", code, err);
	code = in_child(open_db, "/nonexistent-dir/x.db", err, sizeof(err));
	check(code == EXIT_USAGE && strstr(err, "cannot be created"), "unwritable path: exit 2, '%s'", err);
	test_db_migrate();
}

/* A record stream: payloads separated by '|', framed with sequence numbers. */
static char *stream(const char *payloads, int drop, int dup, int corrupt)
{
	char *copy = xstrdup(payloads), *out = calloc(1, 65536), line[1024];
	unsigned long seq = 0;
	int i = 0;

	for (char *p = strtok(copy, "|"); p; p = strtok(NULL, "|"), i++) {
		record_frame(line, sizeof(line), seq++, p);
		if (i == corrupt)
			line[8] ^= 2;
		if (i != drop)
			strcat(out, line);
		if (i == dup)
			strcat(out, line);
	}
	free(copy);
	return out;
}

#define GOOD "hello format=1 release=6.18 kversion=x|begin bench=pt_reclaim version=1 params=reps=1|" \
	     "sample rep=0 metric=time.wall value=100 unit=ns|sample rep=0 metric=perf.cycles value=unsupported unit=events note=no|" \
	     "done status=ok samples=2|end count=5"

static void ingest_case(const char *what, const char *text, const char *want_status, const char *want_reason)
{
	struct session_info s = { .session = what, .accel = "host", .alone = -1 };
	const char *planned[] = { "pt_reclaim" };
	struct ingest_result res;
	sqlite3 *db = db_open(dbpath);
	char *sql, *status, *reason;

	s.planned = planned;
	s.nplanned = 1;
	ingest(db, text, &s, &res);
	sql = xasprintf("SELECT status FROM runs WHERE session = '%s'", what);
	status = query_text(db, sql);
	free(sql);
	sql = xasprintf("SELECT reason FROM runs WHERE session = '%s'", what);
	reason = query_text(db, sql);
	check(!strcmp(status, want_status) && strstr(reason, want_reason), "ingest %s: %s (%s)", what, status, reason);
	free(sql), free(status), free(reason);
	db_close(db);
}

static void test_ingest(void)
{
	sqlite3 *db;

	ingest_case("good", stream(GOOD, -1, -1, -1), "ok", "");
	db = db_open(dbpath);
	check(query_int(db, "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.session = 'good'") == 2,
	      "both samples stored");
	check(query_int(db, "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.session = 'good' "
			    "AND s.value IS NULL AND s.note = 'no'") == 1, "unsupported stored as NULL with its note");
	db_close(db);
	/* The architecture the hello record names is the run's; runs of two
	 * architectures are never compared. */
	ingest_case("good-x86", stream("hello format=1 release=6.18 kversion=x arch=x86_64|begin bench=pt_reclaim "
				       "version=1 params=reps=1|sample rep=0 metric=time.wall value=100 unit=ns|"
				       "done status=ok samples=1|end count=4", -1, -1, -1), "ok", "");
	ingest_case("good-arm", stream("hello format=1 release=6.18 kversion=x arch=aarch64|begin bench=pt_reclaim "
				       "version=1 params=reps=1|sample rep=0 metric=time.wall value=100 unit=ns|"
				       "done status=ok samples=1|end count=4", -1, -1, -1), "ok", "");
	db = db_open(dbpath);
	{
		long long x = query_int(db, "SELECT id FROM runs WHERE session = 'good-x86' AND arch = 'x86_64'");
		long long a = query_int(db, "SELECT id FROM runs WHERE session = 'good-arm' AND arch = 'aarch64'");
		const char *why = x > 0 && a > 0 ? not_comparable(db, x, a) : NULL;

		check(why && strstr(why, "differ in arch: x86_64 vs aarch64"), "arch stored from the hello record (%lld, %lld) "
		      "and never compared across: %s", x, a, why ? why : "(compared)");
	}
	db_close(db);
	ingest_case("clock", stream("hello format=1 release=7.3 kversion=x clocksource=tsc clock_step_ns=37|begin "
				    "bench=pt_reclaim version=1 params=reps=1|done status=ok samples=0|end count=3", -1, -1, -1),
		    "ok", "");
	db = db_open(dbpath);
	check(query_int(db, "SELECT count(*) FROM runs WHERE session = 'clock' AND clocksource = 'tsc' AND "
			    "clock_step_ns = 37") == 1 &&
	      query_int(db, "SELECT count(*) FROM runs WHERE session = 'good' AND clocksource = '' AND "
			    "clock_step_ns IS NULL") == 1,
	      "the hello record's clocksource and clock step stored with the run (unknown without them)");
	db_close(db);
	ingest_case("truncated", stream("hello format=1|begin bench=pt_reclaim version=1 params=|sample rep=0 metric=a value=1 unit=ns", -1, -1, -1),
		    "incomplete", "stream ended before the run was done");
	ingest_case("lost", stream(GOOD, 2, -1, -1), "incomplete", "records lost");
	ingest_case("duplicated", stream(GOOD, -1, 2, -1), "incomplete", "repeated or reordered");
	ingest_case("corrupt", stream(GOOD, -1, -1, 3), "incomplete", "bad checksum");
	ingest_case("miscounted", stream("hello format=1|begin bench=pt_reclaim version=1 params=|done status=ok samples=3|end count=3", -1, -1, -1),
		    "incomplete", "counts 3 samples, 0 arrived");
	ingest_case("never-began", stream("hello format=1|end count=1", -1, -1, -1), "failed", "never started");
	/* Numbers from a stream are parsed strictly: no empty value, no NaN or
	 * infinity, no leading space, no sign or overflow in a count. */
	{
		static const char *const cases[][2] = {
			{ "value-empty", "sample rep=0 metric=time.wall value= unit=ns" },
			{ "value-nan", "sample rep=0 metric=time.wall value=nan unit=ns" },
			{ "value-inf", "sample rep=0 metric=time.wall value=-inf unit=ns" },
			{ "value-huge", "sample rep=0 metric=time.wall value=1e999 unit=ns" },
			{ "value-space", "sample rep=0 metric=time.wall value=%201 unit=ns" },
			{ "value-hex", "sample rep=0 metric=time.wall value=0x10 unit=ns" },
			{ "rep-negative", "sample rep=-1 metric=time.wall value=1 unit=ns" },
			{ "rep-text", "sample rep=x metric=time.wall value=1 unit=ns" },
			{ "rep-overflow", "sample rep=99999999999999999999999 metric=time.wall value=1 unit=ns" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
			char *payloads = xasprintf("hello format=1|begin bench=pt_reclaim version=1 params=|%s|"
						   "done status=ok samples=1|end count=4", cases[i][1]);

			ingest_case(cases[i][0], stream(payloads, -1, -1, -1), "incomplete", "line 3");
			free(payloads);
		}
		ingest_case("version-text", stream("hello format=1|begin bench=pt_reclaim version=x params=|"
						   "done status=ok samples=0|end count=3", -1, -1, -1), "incomplete",
			    "version");
		ingest_case("count-text", stream("hello format=1|begin bench=pt_reclaim version=1 params=|"
						 "done status=ok samples=x|end count=3", -1, -1, -1), "incomplete",
			    "samples");
	}
	db = db_open(dbpath);
	check(query_int(db, "SELECT count(*) FROM runs WHERE status = 'ok' AND session NOT LIKE 'good-%'") == 2,
	      "only the good runs are ok");
	{
		char *ic = query_text(db, "PRAGMA integrity_check");
		check(!strcmp(ic, "ok"), "integrity_check ok");
		free(ic);
	}
	db_close(db);
}

static void test_stats(void)
{
	double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 }, c[] = { 1, 2, 3, 4 }, d[] = { 5, 6, 7, 8 };
	double u, p, lo, hi, lo2, hi2;
	/* Textbook example with ties (Siegel & Castellan style data), the
	 * normal approximation: U and p checked against the formula by hand. */
	double x[] = { 7, 3, 6, 2, 4, 3, 5, 5 }, y[] = { 3, 5, 6, 4, 6, 5, 7, 5 };

	mann_whitney(a, 3, b, 3, &u, &p);
	check(u == 0 && fabs(p - 0.1) < 1e-12, "U test 3 vs 3 separated: U=0, exact p=2/20 (%g)", p);
	mann_whitney(c, 4, d, 4, &u, &p);
	check(u == 0 && fabs(p - 2.0 / 70) < 1e-12, "U test 4 vs 4 separated: exact p=2/70 (%g)", p);
	mann_whitney(d, 4, c, 4, &u, &p);
	check(u == 16 && fabs(p - 2.0 / 70) < 1e-12, "U test is symmetric: U=16, p=2/70 (%g)", p);
	mann_whitney(a, 3, a, 3, &u, &p);
	check(u == 4.5 && p == 1.0, "identical samples: U=4.5, p=1 (%g)", p);
	{
		double e[] = { 1, 3, 5 }, f[] = { 2, 4, 6 };	/* U=3 of 9: P(U<=3)=7/20 */
		mann_whitney(e, 3, f, 3, &u, &p);
		check(u == 3 && fabs(p - 0.7) < 1e-12, "interleaved: U=3, exact p=14/20 (%g)", p);
	}
	mann_whitney(x, 8, y, 8, &u, &p);
	/* by hand: x's ranks 15.5+3+13+1+5.5+3+9+9 = 59, U = 59-36 = 23; ties
	 * t=3,2,5,3,2 (sum t^3-t = 180); sigma = sqrt(64/12 * (17 - 180/240))
	 * = 9.309; z = (|23-32| - 0.5)/9.309 = 0.913; p = 0.3612 */
	check(u == 23 && fabs(p - erfc(8.5 / sqrt(64 / 12.0 * (17 - 180 / 240.0)) / sqrt(2))) < 1e-9 &&
	      fabs(p - 0.3612) < 5e-4, "ties: U=23 and the normal approximation p=0.3612 (%.4f)", p);
	check(median(b, 3) == 5 && median(c, 4) == 2.5, "medians");
	{
		/* The median's interval by order statistics: of 10, the 2nd and
		 * 9th smallest (P(X <= 1) = 11/1024 a side); of 5, the range
		 * (1 - 2/32); of 100001, about 1.96 sqrt(n) / 2 = 310 ranks a side. */
		double ten[] = { 10, 1, 9, 2, 8, 3, 7, 4, 6, 5 }, cov, *many = malloc(100001 * sizeof(*many));

		median_ci(ten, 10, 0.95, &lo, &hi, &cov);
		check(lo == 2 && hi == 9 && fabs(cov - (1 - 22 / 1024.0)) < 1e-12, "median interval of 10 samples");
		median_ci(ten, 5, 0.95, &lo, &hi, &cov);
		check(lo == 1 && hi == 10 && fabs(cov - (1 - 2 / 32.0)) < 1e-12, "median interval of 5 samples: the range");
		for (int i = 0; i < 100001; i++)
			many[i] = (i * 7919) % 100001;
		median_ci(many, 100001, 0.95, &lo, &hi, &cov);
		check(fabs(50000 - lo - 310) < 3 && fabs(hi - 50000 - 310) < 3 && cov >= 0.95 && cov < 0.9505,
		      "median interval of 100001 samples");
		free(many);
	}
	check(fabs(fisher_exact(3, 4, 1, 4) - 0.4857) < 1e-4, "Fisher's exact test, the tea-tasting table: p=0.4857 (%.4f)",
	      fisher_exact(3, 4, 1, 4));
	check(fabs(fisher_exact(0, 32000, 7, 32000) - 0.0156) < 2e-4 && fisher_exact(0, 100, 0, 100) == 1,
	      "Fisher: 0 vs 7 of 32000 p=0.0156 (%.4f); 0 vs 0 p=1", fisher_exact(0, 32000, 7, 32000));
	check(fabs(coef_var(c, 4) - sqrt(5.0 / 3) / 2.5) < 1e-12, "coefficient of variation");
	bootstrap_ratio(c, 4, d, 4, 2000, 42, 0.95, &lo, &hi);
	bootstrap_ratio(c, 4, d, 4, 2000, 42, 0.95, &lo2, &hi2);
	check(lo == lo2 && hi == hi2, "bootstrap with a fixed seed repeats exactly [%g, %g]", lo, hi);
	check(lo <= 6.5 / 2.5 && hi >= 6.5 / 2.5 && lo >= 5.0 / 4 && hi <= 8.0 / 1, "bootstrap interval holds the ratio 2.6 and stays in range");
	{
		double k[] = { 10, 10, 10, 10, 10 }, m[] = { 12, 12, 12, 12, 12 };
		bootstrap_ratio(k, 5, m, 5, 500, 7, 0.95, &lo, &hi);
		check(lo == 1.2 && hi == 1.2, "constant samples: interval is the ratio itself");
	}
	{
		/* pmd_lazyfree on 7.3-pmd-discard before the fix (issue 21). */
		double fell[] = { 4.04, 1.75, 1.59, 1.51, 1.45 }, one[] = { 1, 2, 3, 5, 4 }, flat[] = { 7, 7, 7, 7, 7 };
		double w[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
			       21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40 };
		double tau, slope;

		mann_kendall(fell, 5, &tau, &p, &slope);
		check(tau == -1 && fabs(p - 2.0 / 120) < 1e-12 && fabs(slope - (-0.14)) < 1e-9,
		      "Mann-Kendall, 5 falling: tau=-1, exact p=2/120 (%g), Sen's slope -0.14 (%g)", p, slope);
		mann_kendall(one, 5, &tau, &p, &slope);
		/* one inversion: 1 + 4 = 5 of 120 permutations have at most one */
		check(fabs(tau - 0.8) < 1e-12 && fabs(p - 10.0 / 120) < 1e-12, "one inversion: tau=0.8, p=10/120 (%g)", p);
		mann_kendall(flat, 5, &tau, &p, &slope);
		check(tau == 0 && p == 1 && slope == 0, "all tied: tau=0, p=1 (%g)", p);
		mann_kendall(w, 40, &tau, &p, &slope);
		/* S = 780, var = 40*39*85/18 = 7366.7: z = 779/85.83 = 9.08 */
		check(tau == 1 && p < 1e-15 && slope == 1, "40 rising: the normal approximation, p=%.2g", p);
	}
}

/* Samples a stream or a database can hold: far more than a benchmark
 * makes.  Each case runs in a child under a time limit, so a crash or a
 * stall is a failed check, not a dead test program. */
static double *big_sample(int n, double base, unsigned seed)
{
	double *v = malloc(n * sizeof(*v));

	for (int i = 0; i < n; i++)
		v[i] = base + (seed = seed * 1103515245 + 12345) % 100000;
	return v;
}

/* A guard against a hang, not a speed target (they take 0-4 s here). */
#define BIG_SAMPLES_HANG_S 300

static void big_mann_whitney(void *arg)
{
	int n = *(int *)arg;
	double *a = big_sample(n, 1e6, 1), *b = big_sample(n, 1e6 + 500, 2), u, p;

	alarm(BIG_SAMPLES_HANG_S);
	mann_whitney(a, n, b, n, &u, &p);
	if (!(p >= 0 && p <= 1) || !(u >= 0 && u <= (double)n * n))
		exit(1);
	exit(0);
}

static void big_bootstrap(void *arg)
{
	int n = *(int *)arg;
	double *a = big_sample(n, 1e6, 3), *b = big_sample(n, 1.1e6, 4), lo, hi;

	alarm(BIG_SAMPLES_HANG_S);
	bootstrap_ratio(a, n, b, n, 2000, 1, 0.95, &lo, &hi);
	exit(lo > 1 && lo < 1.2 && hi > lo && hi < 1.2 ? 0 : 1);
}

static void test_big_samples(void)
{
	static int sizes[] = { 46341, 200000 };
	char err[256];

	for (int i = 0; i < 2; i++) {
		struct timespec t0, t1;
		int code;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		code = in_child(big_mann_whitney, &sizes[i], err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		check(code == 0, "U test of %d against %d samples: exit 0, p in [0, 1]", sizes[i], sizes[i]);
		diag("exit %d after %ld s", code, (long)(t1.tv_sec - t0.tv_sec));
	}
	{
		struct timespec t0, t1;
		int code;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		code = in_child(big_bootstrap, &sizes[1], err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		check(code == 0, "bootstrap of %d against %d samples: exit 0, the interval around 1.1", sizes[1],
		      sizes[1]);
		diag("exit %d after %ld s", code, (long)(t1.tv_sec - t0.tv_sec));
	}
}

static void test_console(void)
{
	const char *log = "boot\n[ 1.0] WARNING: before any benchmark\nrb-bench: pt_reclaim (reps=1)\n"
			  "[ 2.0] ------------[ cut here ]------------\n[ 2.0] WARNING: CPU: 0 PID: 9 at mm/x.c:1\n"
			  "[ 2.1] BUG: Bad page state in process rb-bench\nrb-bench: pt_reclaim done (ok)\n"
			  "rb-bench: lazyfree_mthp (reps=1)\nrb-bench: lazyfree_mthp done (ok)\n[ 3.0] Oops: after\n";
	char lines[512];

	check(console_warnings(log, "pt_reclaim", lines, sizeof(lines)) == 2 && strstr(lines, "mm/x.c:1") &&
	      strstr(lines, "Bad page state"), "console: 2 warnings inside pt_reclaim's lines, none from outside");
	check(console_warnings(log, "lazyfree_mthp", lines, sizeof(lines)) == 0 && !lines[0] &&
	      console_warnings(log, "pmd_redirty", lines, sizeof(lines)) == -1,
	      "console: 0 for a clean benchmark, -1 for one that never began");
}

/* A run of bench with samples "metric=v,v,v" (timed repetitions). */
static long long verdict_run(sqlite3 *db, const char *bench, const char *metric, const double *v, int n)
{
	static long long id = 100;
	char *sql = xasprintf("INSERT INTO runs (id, session, machine_id, kernel_id, bench, bench_version, params, "
			      "accel, status, started_at) VALUES (%lld, 's', 1, 1, '%s', 2, '', 'tcg-icount', 'ok', "
			      "'now')", ++id, bench);

	db_exec(db, sql);
	free(sql);
	for (int i = 0; i < n; i++) {
		sql = xasprintf("INSERT INTO samples (run_id, rep, metric, value, unit) VALUES (%lld, %d, '%s', %.17g, "
				"'count')", id, i, metric, v[i]);
		db_exec(db, sql);
		free(sql);
	}
	return id;
}

/* The verdict rules at their edges, on a real database. */
static void test_verdicts(void)
{
	char *path = xasprintf("%s/verdicts.db", tmp);
	sqlite3 *db = db_open(path);
	double zeros[] = { 0, 0, 0, 0, 0 }, lost[] = { 0, 0, 0, 512, 512 }, many[] = { 32768, 32768, 32768, 32768, 32768 };
	double pte0[] = { 102636, 102636, 102636 }, pte1[] = { 102640, 102640, 102644 }, pte2[] = { 240, 236, 240 };
	double t0[] = { 100, 101, 99, 100, 100 }, t1[] = { 100, 101, 99, 100, 100 };
	struct cmp_row r;
	long long a, b;

	db_exec(db, "INSERT INTO machines VALUES (1, 'f', 'h', 'c', 2, 1, 'k');"
		    "INSERT INTO kernels (id, release, version) VALUES (1, '7.3', '#1')");
	a = verdict_run(db, "pmd_redirty", "check.lost_pages", zeros, 5);
	b = verdict_run(db, "pmd_redirty", "check.lost_pages", lost, 5);
	compare_sets(db, &a, 1, &b, 1, "check.lost_pages", -1, &r);
	check(!strcmp(r.verdict, "CHANGED") && r.invariant_changed && r.role == METRIC_INVARIANT,
	      "lost pages 0,0,0,512,512 against zeros: CHANGED, an invariant (%s)", r.verdict);
	a = verdict_run(db, "lazyfree_mthp", "mthp.split_deferred", zeros, 5);
	b = verdict_run(db, "lazyfree_mthp", "mthp.split_deferred", many, 5);
	compare_sets(db, &a, 1, &b, 1, "mthp.split_deferred", -1, &r);
	check(!strcmp(r.verdict, "CHANGED") && r.invariant_changed, "split_deferred 0 -> 32768 (zero base): CHANGED (%s)",
	      r.verdict);
	compare_sets(db, &a, 1, &a, 1, "mthp.split_deferred", -1, &r);
	check(!strcmp(r.verdict, "same") && !r.invariant_changed, "split_deferred 0 -> 0: same (%s)", r.verdict);
	a = verdict_run(db, "pt_reclaim", "status.VmPTE_after", pte0, 3);
	b = verdict_run(db, "pt_reclaim", "status.VmPTE_after", pte1, 3);
	compare_sets(db, &a, 1, &b, 1, "status.VmPTE_after", -1, &r);
	check(!strcmp(r.verdict, "same"), "VmPTE 102636 -> 102640..102644 kB, within its declared 64 kB: same (%s)",
	      r.verdict);
	b = verdict_run(db, "pt_reclaim", "status.VmPTE_after", pte2, 3);
	compare_sets(db, &a, 1, &b, 1, "status.VmPTE_after", -1, &r);
	check(!strcmp(r.verdict, "CHANGED") && r.invariant_changed, "VmPTE 102636 -> 240 kB: CHANGED (%s)", r.verdict);
	a = verdict_run(db, "pt_reclaim", "time.wall", t0, 5);
	b = verdict_run(db, "pt_reclaim", "time.wall", t1, 5);
	compare_sets(db, &a, 1, &b, 1, "time.wall", -1, &r);
	check(r.role == METRIC_TIMING && !strcmp(r.verdict, "no change"), "identical timings: no change (%s)", r.verdict);
	{
		double k0[] = { 3, 4, 2, 5, 3 }, k1[] = { 0, 0, 0, 0, 0 }, n[] = { 6400, 6400, 6400, 6400, 6400 };

		a = verdict_run(db, "ttu_sync_race", "race.partial", k0, 5);
		db_exec(db, "INSERT INTO samples (run_id, rep, metric, value, unit) SELECT run_id, rep, 'race.folios', "
			    "6400, 'folios' FROM samples WHERE metric = 'race.partial'");
		b = verdict_run(db, "ttu_sync_race", "race.partial", k1, 5);
		db_exec(db, "INSERT OR IGNORE INTO samples (run_id, rep, metric, value, unit) SELECT run_id, rep, "
			    "'race.folios', 6400, 'folios' FROM samples WHERE metric = 'race.partial'");
		(void)n;
		compare_sets(db, &a, 1, &b, 1, "race.partial", -1, &r);
		check(r.rate && r.ma == 17 && r.ta == 32000 && r.mb == 0 && r.p < 0.01 && !strcmp(r.verdict, "CHANGED"),
		      "race 17/32000 -> 0/32000: a rate, Fisher p = %.3g < 0.01, CHANGED (%s)", r.p, r.verdict);
	}
	check(fabs(min_p(3, 3) - 0.1) < 1e-12 && fabs(min_p(4, 4) - 2.0 / 70) < 1e-12 && min_samples() == 4,
	      "the rank test cannot reach p < 0.05 with 3 against 3 (%.3f); 4 against 4 can (%.4f)", min_p(3, 3),
	      min_p(4, 4));
	{
		double x[] = { 100, 100, 100 }, y[] = { 200, 200, 200 }, x4[] = { 100, 101, 100, 99 },
		       y4[] = { 104, 105, 104, 103 }, y6[] = { 106, 107, 106, 105 };

		a = verdict_run(db, "pt_reclaim", "time.wall", x, 3);
		b = verdict_run(db, "pt_reclaim", "time.wall", y, 3);
		compare_sets(db, &a, 1, &b, 1, "time.wall", -1, &r);
		check(!strcmp(r.verdict, "not enough data"), "2x slower from 3 against 3: not enough data (%s)", r.verdict);
		a = verdict_run(db, "pt_reclaim", "time.wall", x4, 4);
		b = verdict_run(db, "pt_reclaim", "time.wall", y4, 4);
		compare_sets(db, &a, 1, &b, 1, "time.wall", 0.05, &r);
		check(!strcmp(r.verdict, "no change") && r.p < 0.05,
		      "4%% slower, significant (p=%.3f), under a 5%% threshold: no change (%s)", r.p, r.verdict);
		b = verdict_run(db, "pt_reclaim", "time.wall", y6, 4);
		compare_sets(db, &a, 1, &b, 1, "time.wall", 0.05, &r);
		check(!strcmp(r.verdict, "slower") && r.detectable >= 0.05,
		      "6%% slower from 4 against 4 at a 5%% threshold: slower, sees >= %.1f%% (%s)", 100 * r.detectable,
		      r.verdict);
	}
	{
		/* Repetitions that fall every time get no timing verdict. */
		double fell[] = { 6.02e6, 3.95e6, 3.85e6, 3.72e6, 3.67e6 }, fast[] = { 1.46e6, 1.45e6, 1.45e6, 1.46e6, 1.45e6 },
		       steady[] = { 3.70e6, 3.71e6, 3.70e6, 3.72e6, 3.70e6 }, creep[] = { 100, 100.2, 100.4, 100.6, 100.8 };
		struct trend t;

		a = verdict_run(db, "pmd_lazyfree", "time.wall", fell, 5);
		b = verdict_run(db, "pmd_lazyfree", "time.wall", fast, 5);
		db_exec(db, "UPDATE samples SET unit = 'instr' WHERE metric = 'time.wall'");
		compare_sets(db, &a, 1, &b, 1, "time.wall", -1, &r);
		check(!run_trend(db, a, "time.wall", &t) && t.unsteady && !strncmp(r.verdict, "unsteady: repetitions fell "
		      "from 6.02 M instr to 3.67 M instr", 54), "falling repetitions: %s", r.verdict);
		a = verdict_run(db, "pmd_lazyfree", "time.wall", steady, 5);
		db_exec(db, "UPDATE samples SET unit = 'instr' WHERE metric = 'time.wall'");
		compare_sets(db, &a, 1, &b, 1, "time.wall", -1, &r);
		check(!strcmp(r.verdict, "faster"), "steady repetitions 3.70 -> 1.45 M instr: faster (%s)", r.verdict);
		b = verdict_run(db, "pmd_lazyfree", "time.wall", creep, 5);
		check(!run_trend(db, b, "time.wall", &t) && t.p < 0.05 && !t.unsteady,
		      "a significant trend of 0.8%% over the run (under %.0f%%) is steady", 100 * STEADY_DRIFT);
	}
	{
		/* On refined-jiffies every timing is a multiple of 4 ms. */
		double four[] = { 4e6, 4e6, 4e6, 4e6, 4e6 }, six[] = { 6e6, 6e6, 6e6, 6e6, 6e6 };

		a = verdict_run(db, "ttu_sync_race", "time.wall", four, 5);
		b = verdict_run(db, "ttu_sync_race", "time.wall", six, 5);
		db_exec(db, "UPDATE samples SET unit = 'ns' WHERE metric = 'time.wall'");
		compare_sets(db, &a, 1, &b, 1, "time.wall", -1, &r);
		check(!strcmp(r.verdict, "slower"), "4 -> 6 ms with no clock step known: slower (%s)", r.verdict);
		db_exec(db, "UPDATE runs SET clock_step_ns = 4e6, clocksource = 'refined-jiffies' WHERE id IN (SELECT "
			    "run_id FROM samples WHERE value IN (4e6, 6e6))");
		compare_sets(db, &a, 1, &b, 1, "time.wall", -1, &r);
		check(!strcmp(r.verdict, "no change (under the clock's step, 4 ms)"),
		      "4 -> 6 ms on a clock of 4 ms steps: %s", r.verdict);
	}
	/* Timed repetitions first: a counting repetition's timing is never read. */
	db_exec(db, "INSERT INTO samples (run_id, kind, rep, metric, value, unit) VALUES "
		    "(101, 'counting', 0, 'time.wall', 150, 'ns'), (101, 'timed', 0, 'time.wall', 100, 'ns'), "
		    "(101, 'counting', 0, 'perf.tlb_flush', 7, 'events')");
	check(run_metric(db, 101, "time.wall", AGG_MEDIAN) == 100 && run_metric(db, 101, "perf.tlb_flush", AGG_MEDIAN) == 7 &&
	      run_metric_kind(db, 101, "time.wall", "counting") == 150,
	      "timings read from timed repetitions, perf counts from counting ones");
	db_close(db);
	free(path);
}

/* What an escape writes, as a string. */
static char *escaped(void (*fn)(FILE *, const char *), const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, in);
	fclose(f);
	return buf;
}

/* Every '<' of the converter's output opens one of the tags it may write,
 * with no attribute but an id of letters, digits and dashes; every '>'
 * closes one.  Markup written in the document fails this. */
static int markup_only_own(const char *html)
{
	static const char *const tags[] = { "h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "li", "pre", "code",
					    "strong", "table", "tr", "th", "td", NULL };

	for (const char *p = html; (p = strpbrk(p, "<>"));) {
		size_t n;
		int known = 0;

		if (*p == '>')
			return 0;
		p += 1 + (p[1] == '/');
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
		for (int i = 0; tags[i]; i++)
			known |= strlen(tags[i]) == n && !strncmp(p, tags[i], n);
		if (!known)
			return 0;
		p += n;
		if (!strncmp(p, " id=\"", 5))
			p += 5 + strspn(p + 5, "abcdefghijklmnopqrstuvwxyz0123456789-"), p += *p == '"';
		if (*p++ != '>')
			return 0;
	}
	return 1;
}

/* The method page's Markdown: structure from the document, none of its
 * text as markup. */
static void test_markdown(void)
{
	const char *md = "# A <b>heading</b> & \"more\"\n\n"
			 "A paragraph with <script>alert(1)</script>, `<img src=x onerror=alert(1)>`\n"
			 "and **<i>bold</i>** that goes on; an `unclosed <a href=x>\n\n"
			 "- an item <iframe>\n  continued `code` </ul>\n- **two**\n\n"
			 "| a <th> | b \\| c |\n|---|---|\n| `x\\|y` | </table><svg onload=alert(1)> |\n\n"
			 "```\n</code></pre><script>x()</script>\n```\n";
	char *html = escaped(markdown_html, md);

	check(markup_only_own(html), "markdown: every tag is the converter's own, the document's markup escaped");
	check(strstr(html, "<h1 id=\"a-b-heading-b-more\">A &lt;b&gt;heading&lt;/b&gt; &amp; &quot;more&quot;</h1>") &&
	      strstr(html, "<code>&lt;img src=x onerror=alert(1)&gt;</code>") &&
	      strstr(html, "<strong>&lt;i&gt;bold&lt;/i&gt;</strong>") && strstr(html, "an `unclosed &lt;a href=x&gt;") &&
	      strstr(html, "<ul>\n<li>an item &lt;iframe&gt;\ncontinued <code>code</code> &lt;/ul&gt;</li>\n"
			   "<li><strong>two</strong></li>\n</ul>") &&
	      strstr(html, "<tr><th>a &lt;th&gt;</th><th>b | c</th></tr>") &&
	      strstr(html, "<tr><td><code>x|y</code></td><td>&lt;/table&gt;&lt;svg onload=alert(1)&gt;</td></tr>") &&
	      strstr(html, "<pre><code>&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;x()&lt;/script&gt;\n</code></pre>"),
	      "markdown: headings, paragraphs, lists, tables, code blocks and spans, each escaped");
	if (!markup_only_own(html))
		printf("# %s\n", shown(html));
	free(html);
}

/* Text from outside on its way to a terminal, JSON and CSV. */
static void test_escapes(void)
{
	/* ESC [ 31 m, CSI as a C1 character (U+009B) and as a bare byte,
	 * a CR that would overwrite the line, DEL, a cut UTF-8 sequence. */
	const char *hostile = "a\033[31mb\xc2\x9b" "2J\x9b" "c\rd\x7f\xe2\x82";
	char *j, *c;

	check(!strcmp(shown(hostile), "a\\x1b[31mb\\xc2\\x9b" "2J\\x9b" "c\\x0dd\\x7f\\xe2\\x82"),
	      "shown: ESC, C1 CSI, a stray byte, CR, DEL and a cut sequence as \\xNN: %s", shown(hostile));
	check(!strcmp(shown("6.12.0 \xc3\xa9t\xc3\xa9 \xe2\x82\xac"), "6.12.0 \xc3\xa9t\xc3\xa9 \xe2\x82\xac"),
	      "shown: UTF-8 text kept as it is");
	check(!strcmp(shown("a\nb\tc"), "a\\x0ab\\x09c") && !strcmp(shown_lines("a\nb\tc\033"), "a\nb\tc\\x1b"),
	      "shown: one line escapes newline and tab, shown_lines keeps them (and still escapes ESC)");
	check(!strcmp(shown("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80"),
		      "\\xc0\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80"),
	      "shown: an overlong '/', a surrogate and a code point past U+10FFFF are not UTF-8");
	j = escaped(json_string, "q\"b\\n\n\x01\033\x7f\xc2\x9b\xff\xe2\x80\xa8\xc3\xa9");
	check(!strcmp(j, "\"q\\\"b\\\\n\\n\\u0001\\u001b\\u007f\\u009b\\ufffd\\u2028\xc3\xa9\""),
	      "json_string: quote, backslash, newline, C0, ESC, DEL, C1, a bad byte, U+2028: %s", j);
	free(j);
	j = escaped(json_string, NULL);
	check(!strcmp(j, "\"\""), "json_string: NULL is the empty string");
	free(j);
	c = escaped(csv_field, "a,b \"c\"\n\033");
	check(!strcmp(c, "\"a,b \"\"c\"\"\\x0a\\x1b\""), "csv_field: comma and quotes quoted, quotes doubled, "
	      "control bytes escaped: %s", c);
	free(c);
	/* Bidirectional overrides and isolates reorder what a terminal shows
	 * (U+202E, U+2066, U+200F): shown as bytes, like a control. */
	{
		const char *bidi = "a\xe2\x80\xae" "b\xe2\x81\xa6" "c\xe2\x80\x8f";

		check(!strcmp(shown(bidi), "a\\xe2\\x80\\xaeb\\xe2\\x81\\xa6c\\xe2\\x80\\x8f"),
		      "shown: bidirectional controls U+202E, U+2066, U+200F as \\xNN: %s", shown(bidi));
	}
	/* HTML: markup escaped, and a page stays valid UTF-8 without control
	 * characters; a gnuplot label never closes the SVG's text ("]]>"). */
	c = escaped(html_escape, "<img src=x onerror='a()'>&\"\033\x9b\xff\xc2\x9b\xe2\x80\xae\xc3\xa9\n");
	check(!strcmp(c, "&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;&quot;\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		      "\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\n"),
	      "html_escape: markup escaped; ESC, a stray C1 byte, a bad byte, U+009B and U+202E as U+FFFD: %s", shown(c));
	free(c);
	c = escaped(gp_label, "a]]>b]]]>c");
	check(!strstr(c, "]]>"), "gp_label: ']]>' (which ends an SVG's text) is broken up: %s", c);
	free(c);
	c = escaped(csv_field, "time.wall");
	check(!strcmp(c, "time.wall"), "csv_field: a plain name stays unquoted");
	free(c);
	c = escaped(csv_field, " lead");
	check(!strcmp(c, "\" lead\""), "csv_field: a leading space is quoted");
	free(c);
}

/* Two builds' .config differences: values that differ, options one side
 * lacks, "is not set" read as n; a build id that is not hex is refused.
 * Runs first: cache_dir() is read once. */
static void test_kconfig(void)
{
	char *cache = xasprintf("%s/cache", tmp), *d;
	static const char *const cfg[2] = {
		"# Linux/x86 6.12\nCONFIG_A=y\nCONFIG_PREEMPT_NONE=y\n# CONFIG_PREEMPT_LAZY is not set\nCONFIG_OLD=y\n"
		"CONFIG_S=\"x\"\n",
		"CONFIG_A=y\n# CONFIG_PREEMPT_NONE is not set\nCONFIG_PREEMPT_LAZY=y\nCONFIG_NEW=64\nCONFIG_S=\"x\"\n" };
	static const char *const id[2] = { "00000000000000aa", "00000000000000bb" };
	struct kconfig_change *c;
	int n;

	setenv("RECLAIMBENCH_CACHE", cache, 1);
	for (int i = 0; i < 2; i++) {
		d = xasprintf("%s/kernels/%s", cache, id[i]);
		mkdirs(d);
		free(d);
		d = xasprintf("%s/kernels/%s/config", cache, id[i]);
		FILE *f = fopen(d, "w");

		if (f)
			fputs(cfg[i], f), fclose(f);
		free(d);
	}
	n = kconfig_diff(id[0], id[1], &c);
	check(n == 4 && !strcmp(c[0].name, "NEW") && !c[0].a && !strcmp(c[0].b, "64") && !strcmp(c[1].name, "OLD") &&
	      !strcmp(c[1].a, "y") && !c[1].b && !strcmp(c[2].name, "PREEMPT_LAZY") && !strcmp(c[2].a, "n") &&
	      !strcmp(c[2].b, "y") && !strcmp(c[3].name, "PREEMPT_NONE") && !strcmp(c[3].a, "y") &&
	      !strcmp(c[3].b, "n"), "kconfig_diff: values that differ, options on one side only, 'is not set' as n (%d)",
	      n);
	if (n > 0)
		kconfig_changes_free(c, n);
	check(kconfig_diff("../../etc", id[1], &c) == -1 && kconfig_diff(id[0], "00000000000000cc", &c) == -1,
	      "kconfig_diff: a build id that is not hex, or a build without a .config, is refused");
	unsetenv("RECLAIMBENCH_CACHE");
	free(cache);
}

/* The swap header swap.c writes to zram0, read back field by field as
 * the kernel's swapon reads it (union swap_header, version 1). */
static void test_swap_header(void)
{
	static unsigned char page[4096];
	uint32_t version, last, bad;

	check(swap_header_fill(page, sizeof(page), 64ULL << 20) == 0, "swap header of 64 MiB is made");
	memcpy(&version, page + 1024, 4);
	memcpy(&last, page + 1028, 4);
	memcpy(&bad, page + 1032, 4);
	check(version == 1 && last == 16383 && bad == 0, "swap header: version 1, last page 16383, no bad pages");
	check(!memcmp(page + 4086, "SWAPSPACE2", 10), "swap header ends with SWAPSPACE2");
	check(swap_header_fill(page, sizeof(page), 4096 * 9) == -1, "swap header of 9 pages is refused");
}

/* A series' mbox split into its patches, each with its subject. */
static void test_series(void)
{
	const char *mbox =
		"From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
		"From: a <a@b>\nSubject: [PATCH 1/3] mm: one\n\nFrom the start, a body line.\n---\n"
		"diff\n\n"
		"From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001\n"
		"Subject: [PATCH 2/3] mm: a subject\n folded\n\n>From a quoted line\n\nFrom here on: not a From line\n\n"
		"From 3333333333333333333333333333333333333333 Mon Sep 17 00:00:00 2001\n"
		"From: c <c@d>\n\nno subject\n";
	size_t starts[8], len = strlen(mbox);
	int n = mbox_split(mbox, len, starts, 8);
	char *s1, *s2, *s3, *path = xasprintf("%s/series.mbox", tmp), *files[1] = { path };
	struct series s;
	FILE *f;

	check(n == 3 && !strncmp(mbox + starts[1], "From 2222", 9) && !strncmp(mbox + starts[2], "From 3333", 9),
	      "an mbox of three messages splits in three, body lines starting with From kept");
	s1 = mbox_subject(mbox, starts[1]);
	s2 = mbox_subject(mbox + starts[1], starts[2] - starts[1]);
	s3 = mbox_subject(mbox + starts[2], len - starts[2]);
	check(!strcmp(s1, "[PATCH 1/3] mm: one") && !strcmp(s2, "[PATCH 2/3] mm: a subject folded") && !*s3,
	      "each message's subject, folded lines joined, none when it has none");
	check(mbox_split("--- a/x\n+++ b/x\n", 16, starts, 8) == 1, "a plain diff is one patch");
	setenv("RECLAIMBENCH_CACHE", tmp, 1);
	f = fopen(path, "w");
	fputs(mbox, f);
	fclose(f);
	series_split(files, 1, &s);
	check(s.n == 3 && !strcmp(s.subjects[0], s1) && !strcmp(s.subjects[2], "series.mbox") &&
	      strcmp(s.files[0], path) && strstr(s.files[1], "/series/"),
	      "series_split writes each patch to a file of its own, named by content");
	f = fopen(path, "w");
	fputs("--- a/x\n+++ b/x\n", f);
	fclose(f);
	series_split(files, 1, &s);
	check(s.n == 1 && !strcmp(s.files[0], path) && !strcmp(s.subjects[0], "series.mbox"),
	      "a single patch stays the file given (a gate of it keeps its build id)");
	free(s1), free(s2), free(s3), free(path);
}

/* The search over a series' prefixes, on values each prefix would show:
 * the patch named and the prefixes booted. */
static int series_found(const double *at_prefix, int n, int timing, int *booted)
{
	int lo = 0, hi = n, open = 1, k;

	*booted = 0;
	while ((k = series_next_prefix(&lo, &hi, &open, 1)) >= 0) {
		++*booted;
		if (series_sides_with_whole(at_prefix[k], at_prefix[0], at_prefix[n], timing))
			hi = k;
		else
			lo = k;
	}
	return hi;
}

static void test_series_search(void)
{
	/* 8.5 M instr on the base and after patch 1, 27.5 M from patch 2 */
	const double three[] = { 8.5e6, 8.6e6, 27.5e6, 27.4e6 }, counter[] = { 0, 0, 2048, 2048 };
	double eight[9];
	int booted, found, worst = 0;

	found = series_found(three, 3, 1, &booted);
	check(found == 2 && booted == 2, "3 patches, the timing changed by patch 2: patch 2 named, 2 prefixes booted");
	found = series_found(counter, 3, 0, &booted);
	check(found == 2 && booted == 2, "3 patches, a counter 0 -> 2048 by patch 2: patch 2 named");
	for (int culprit = 1; culprit <= 8; culprit++) {
		for (int k = 0; k <= 8; k++)
			eight[k] = k < culprit ? 100 : 130;
		found = series_found(eight, 8, 1, &booted);
		if (found != culprit)
			worst = 99;
		else if (booted > worst)
			worst = booted;
	}
	check(worst == 3, "8 patches, each the culprit in turn: named every time, 3 boots at most (log2 8)");
}

/* Noise of +-0.5% from a fixed generator: the same history every run. */
static double noisy(double v, unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return v * (1 + ((int)((*state >> 16) % 1001) - 500) / 100000.0);
}

static int steps_of(const double *v, int n, int *at, int *good, int *bad)
{
	struct cp_params par = CP_DEFAULTS;
	struct change_point cp[16];
	int ncp = change_points(v, n, &par, cp, 16), steps = 0;

	for (int i = 0; i < ncp; i++)
		if (cp[i].step && steps++ == 0)
			*at = cp[i].at, *good = cp[i].good, *bad = cp[i].bad;
	return steps;
}

/* Change points over synthetic histories of 40 nights. */
static void test_change_points(void)
{
	struct cp_params par = CP_DEFAULTS;
	struct drift d;
	double v[40];
	unsigned seed = 7;
	int at = -1, good = -1, bad = -1, steps;

	for (int i = 0; i < 40; i++)
		v[i] = noisy(100 * (1 + 0.01 * i), &seed);
	steps = steps_of(v, 40, &at, &good, &bad);
	history_drift(v, 40, &par, &d);
	check(steps == 0 && d.drifts, "a slow drift (1%% a night): a drift, no step");
	for (int i = 0; i < 40; i++)
		v[i] = noisy(100, &seed);
	v[17] = 130;
	steps = steps_of(v, 40, &at, &good, &bad);
	history_drift(v, 40, &par, &d);
	check(steps == 0 && !d.drifts, "one noisy night (+30%%): no change point, no drift");
	for (int i = 0; i < 40; i++)
		v[i] = noisy(i < 20 ? 100 : 120, &seed);
	v[21] = 100;	/* a noisy night just after the step, back at the old level */
	steps = steps_of(v, 40, &at, &good, &bad);
	check(steps == 1 && good <= 19 && bad >= 20 && bad - good <= 4,
	      "a real step of 20%% hidden by a noisy night: one step, its bisection spans its night");
	printf("# the step split at night %d, bisected from night %d to %d\n", at, good, bad);
	for (int i = 0; i < 40; i++)
		v[i] = noisy(i < 20 ? 100 : 103, &seed);
	check(steps_of(v, 40, &at, &good, &bad) == 0, "a step of 3%%, under the smallest effect: none");
}

/* TAP of the kernel's selftests, as the guest's selftests step reads it. */
static void test_tap(void)
{
	struct tap_result r;

	check(tap_line("1..12", &r) == TAP_PLAN && r.planned == 12, "tap: a plan");
	check(tap_line("ok 3 Basic COW after fork() ... with base page", &r) == TAP_RESULT && r.number == 3 &&
	      r.status == TAP_OK && !strcmp(r.desc, "Basic COW after fork() ... with base page"), "tap: an ok case");
	check(tap_line("not ok 7 - collapse_full", &r) == TAP_RESULT && r.number == 7 && r.status == TAP_NOT_OK &&
	      !strcmp(r.desc, "collapse_full"), "tap: a not ok case, its '- ' dropped");
	check(tap_line("ok 10 # SKIP Basic COW ... with swapped-out THP", &r) == TAP_RESULT &&
	      r.status == TAP_SKIPPED && !strcmp(r.desc, "Basic COW ... with swapped-out THP"),
	      "tap: kselftest's skip, the directive before the description");
	check(tap_line("ok 2 hugetlb # SKIP no hugetlb pages", &r) == TAP_RESULT && r.status == TAP_SKIPPED &&
	      !strcmp(r.desc, "hugetlb") && !strcmp(r.reason, "no hugetlb pages"), "tap: a skip directive after the description");
	check(tap_line("ok 4 split # XFAIL known", &r) == TAP_RESULT && r.status == TAP_OK && !strcmp(r.reason, "XFAIL known"),
	      "tap: an xfail is ok, its directive kept");
	check(tap_line("ok 1234567 too long", &r) == TAP_BAD && tap_line("ok x", &r) == TAP_BAD &&
	      tap_line("not ok 5x", &r) == TAP_BAD && tap_line("ok -1", &r) == TAP_BAD, "tap: a result without a sane number is malformed");
	check(tap_line("1..", &r) == TAP_OTHER && tap_line("1..9999999", &r) == TAP_OTHER && tap_line("1..3 x", &r) == TAP_OTHER,
	      "tap: a plan without a sane count is no plan");
	check(tap_line("# [RUN] Basic COW", &r) == TAP_DIAG && tap_line("Bail out! no THP", &r) == TAP_OTHER &&
	      tap_line("okay 3", &r) == TAP_OTHER, "tap: diagnostics and other lines");
	{
		char long_desc[400];

		memset(long_desc, 'a', sizeof(long_desc));
		memcpy(long_desc, "ok 1 ", 5);
		long_desc[sizeof(long_desc) - 1] = '\0';
		check(tap_line(long_desc, &r) == TAP_RESULT && strlen(r.desc) == sizeof(r.desc) - 1,
		      "tap: a long description is cut to its field");
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(tmp)) {
		puts("Bail out! mkdtemp");
		return 1;
	}
	test_kconfig();
	test_parsers();
	test_smaps();
	test_swap_header();
	test_metric_scope();
	test_records();
	test_opts();
	test_variants();
	test_db();
	test_patchset_hash();
	test_ingest();
	test_stats();
	test_big_samples();
	test_verdicts();
	test_console();
	test_escapes();
	test_markdown();
	test_tap();
	test_series();
	test_change_points();
	test_series_search();
	printf("1..%d\n", tests);
	{
		char *cmd = xasprintf("rm -rf '%s'", tmp);
		int rc = system(cmd);

		free(cmd);
		if (rc)
			puts("# could not remove the temporary folder");
	}
	return failed ? 1 : 0;
}
