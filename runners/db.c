/* The results database: SQLite with WAL and foreign keys; numbered
 * migrations from schema/ applied on open, PRAGMA user_version tells which. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "reclaimbench.h"

/* Whether any row points at a row that is not there (with the reason in err). */
static int foreign_keys_broken(sqlite3 *db, char **err)
{
	sqlite3_stmt *st;
	int broken;

	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL)) {
		*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
		return 1;
	}
	if ((broken = sqlite3_step(st) == SQLITE_ROW))
		*err = sqlite3_mprintf("table %s holds a row whose %s is gone", sqlite3_column_text(st, 0),
				       sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return broken;
}

static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

sqlite3 *db_open(const char *path)
{
	char *dir = xstrdup(path), *err = NULL;
	sqlite3 *db;
	int v = 0, rc;

	if (access(path, F_OK)) {
		if (access(dirname(dir), W_OK))
			die(EXIT_USAGE, "database '%s' cannot be created: folder '%s' is not writable (%s); "
			    "pass --db PATH in a writable folder", path, dir, strerror(errno));
	} else if (access(path, R_OK | W_OK)) {
		die(EXIT_USAGE, "database '%s' is not writable (%s); fix its permissions or pass --db PATH",
		    path, strerror(errno));
	}
	free(dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		die(EXIT_USAGE, "database '%s' cannot be opened: %s", path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 30000);
	rc = user_version(db, &v);
	if (rc == SQLITE_NOTADB)
		die(EXIT_USAGE, "'%s' is not an SQLite database; pass --db with a reclaimbench database", path);
	if (rc != SQLITE_OK)
		die(EXIT_USAGE, "database '%s': %s", path, sqlite3_errmsg(db));
	if (v > schema_count)
		die(EXIT_USAGE, "database '%s' has schema version %d, newer than this reclaimbench knows (%d); "
		    "use a newer reclaimbench", path, v, schema_count);
	/* Switching a new file to WAL needs a moment alone with it: another
	 * process opening it at the same time makes that busy, not wrong. */
	for (int tries = 0; (rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL,
					       &err)) != SQLITE_OK; tries++) {
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries == 300)
			die(EXIT_INFRA, "database '%s': %s", path, err);
		sqlite3_free(err);
		err = NULL;
		usleep(100000);
	}
	/* Each migration in its own write transaction; the version is read
	 * again inside it, so two processes opening a new file at once apply
	 * each migration once.  Foreign keys are enforced after the
	 * migrations, which may copy a table, and checked before each commit. */
	while (v < schema_count) {
		char *sql;

		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) || user_version(db, &v)) {
			die(EXIT_INFRA, "database '%s': %s", path, err ? err : sqlite3_errmsg(db));
		}
		if (v >= schema_count) {
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
			break;
		}
		sql = xasprintf("%s\nPRAGMA user_version=%d;", schema_sql[v], v + 1);
		if (sqlite3_exec(db, sql, NULL, NULL, &err) || foreign_keys_broken(db, &err) ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &err)) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			die(EXIT_INFRA, "database '%s': migration %d failed: %s", path, v + 1, err);
		}
		free(sql);
		v++;
	}
	if (sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, &err))
		die(EXIT_INFRA, "database '%s': %s", path, err);
	return db;
}

void db_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	error("database: %s", err);
	sqlite3_free(err);
	return -1;
}

int db_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(sqlite3 *db)
{
	return db_exec(db, "COMMIT");
}

void db_rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Insert the row unless an equal one exists; return its id either way. */
static int64_t upsert(sqlite3 *db, const char *insert, const char *select,
		      const char *const *vals, int nvals)
{
	const char *sqls[2] = { insert, select };
	int64_t id = -1;

	for (int q = 0; q < 2; q++) {
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(db, sqls[q], -1, &st, NULL) != SQLITE_OK) {
			error("database: %s", sqlite3_errmsg(db));
			return -1;
		}
		for (int i = 0; i < nvals; i++)
			sqlite3_bind_text(st, i + 1, vals[i] ? vals[i] : "", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (id < 0)
		error("database: %s", sqlite3_errmsg(db));
	return id;
}

int64_t db_machine(sqlite3 *db)
{
	char host[256] = "", model[256] = "unknown", ncpu[16], mem[32], fp[24], *info, *p;
	struct utsname u;
	long long kb = 0;

	gethostname(host, sizeof(host) - 1);
	uname(&u);
	if ((info = read_file("/proc/cpuinfo", NULL)) && (p = strstr(info, "model name"))) {
		p = strchr(p, ':');
		if (p)
			snprintf(model, sizeof(model), "%.*s", (int)strcspn(p + 2, "\n"), p + 2);
	}
	free(info);
	if ((info = read_file("/proc/meminfo", NULL)) && (p = strstr(info, "MemTotal:")))
		kb = atoll(p + 9);
	free(info);
	snprintf(ncpu, sizeof(ncpu), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	snprintf(mem, sizeof(mem), "%lld", kb);
	{
		const char *vals[] = { host, model, ncpu, mem, u.release };
		uint64_t h = 0;

		for (int i = 0; i < 5; i++)
			h = fnv1a(vals[i], strlen(vals[i]) + 1, h);
		snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)h);
	}
	const char *vals[] = { fp, host, model, ncpu, mem, u.release };
	return upsert(db,
		      "INSERT OR IGNORE INTO machines (fingerprint, hostname, cpu_model, ncpu, mem_kb, "
		      "host_kernel) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		      "SELECT id FROM machines WHERE fingerprint = ?1", vals, 6);
}

int64_t db_kernel(sqlite3 *db, const struct kernel_info *k)
{
	const char *vals[] = { k->release, k->version, k->variant, k->build_id, k->source,
			       k->patches_hash, k->config_hash, k->cmdline, k->patchset_sha256 };
	int64_t id = upsert(db,
			    "INSERT OR IGNORE INTO kernels (release, version, variant, build_id, source, "
			    "patches_hash, config_hash, cmdline, patchset_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			    "?8, ?9)",
			    "SELECT id FROM kernels WHERE release = ?1 AND version = ?2 AND variant = ?3 "
			    "AND build_id = ?4",
			    vals, 9);
	sqlite3_stmt *st;

	/* A kernel first stored before version 11 learns its patch set's hash. */
	if (id > 0 && k->patchset_sha256 && *k->patchset_sha256 &&
	    sqlite3_prepare_v2(db, "UPDATE kernels SET patchset_sha256 = ?1 WHERE id = ?2 AND patchset_sha256 = ''",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, k->patchset_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return id;
}

int db_print(FILE *out, sqlite3 *db, const char *sql, const char *format, const char *bind1)
{
	sqlite3_stmt *st;
	int ncol, nrows = 0, json = !strcmp(format, "json"), *width;
	char ***rows = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return error("database: %s", sqlite3_errmsg(db));
	if (bind1)
		sqlite3_bind_text(st, 1, bind1, -1, SQLITE_TRANSIENT);
	ncol = sqlite3_column_count(st);
	width = calloc(ncol, sizeof(*width));
	if (json)
		fputc('[', out);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) {
			fprintf(out, "%s\n {", nrows ? "," : "");
			for (int c = 0; c < ncol; c++) {
				json_string(out, sqlite3_column_name(st, c));
				fputc(':', out);
				switch (sqlite3_column_type(st, c)) {
				case SQLITE_NULL: fputs("null", out); break;
				case SQLITE_INTEGER: fprintf(out, "%lld", sqlite3_column_int64(st, c)); break;
				case SQLITE_FLOAT: fprintf(out, "%.17g", sqlite3_column_double(st, c)); break;
				default: json_string(out, (const char *)sqlite3_column_text(st, c));
				}
				if (c + 1 < ncol)
					fputc(',', out);
			}
			fputc('}', out);
		} else {
			rows = realloc(rows, (nrows + 1) * sizeof(*rows));
			rows[nrows] = calloc(ncol, sizeof(char *));
			for (int c = 0; c < ncol; c++) {
				const char *t = (const char *)sqlite3_column_text(st, c);
				int w;

				rows[nrows][c] = xstrdup(t ? shown(t) : "-");
				w = strlen(rows[nrows][c]);
				if (w > width[c])
					width[c] = w;
			}
		}
		nrows++;
	}
	if (json) {
		fputs(nrows ? "\n]" : "]", out);
	} else {
		for (int c = 0; c < ncol; c++) {
			int w = strlen(sqlite3_column_name(st, c));
			if (w > width[c])
				width[c] = w;
		}
		for (int r = -1; r < nrows; r++) {
			for (int c = 0; c < ncol; c++) {
				const char *t = r < 0 ? sqlite3_column_name(st, c) : rows[r][c];

				fprintf(out, c + 1 < ncol ? "%-*s  " : "%-*s", c + 1 < ncol ? width[c] : 0, t);
			}
			fputc('\n', out);
		}
		for (int r = 0; r < nrows; r++) {
			for (int c = 0; c < ncol; c++)
				free(rows[r][c]);
			free(rows[r]);
		}
		free(rows);
	}
	free(width);
	sqlite3_finalize(st);
	return nrows;
}

#define DB_SAMPLES_MAX (1 << 24)

int db_samples_kind(sqlite3 *db, long long run, const char *metric, const char *kind, double **out)
{
	sqlite3_stmt *st;
	int n = 0, cap = 16;
	double *v = malloc(cap * sizeof(*v));

	/* 'timed' sorts after 'counting': max(kind) prefers timed samples. */
	sqlite3_prepare_v2(db, "SELECT value FROM samples WHERE run_id = ?1 AND metric = ?2 AND value IS NOT NULL "
			       "AND kind = coalesce(?3, (SELECT max(kind) FROM samples WHERE run_id = ?1 AND "
			       "metric = ?2 AND value IS NOT NULL)) ORDER BY rep", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	if (kind)
		sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* A database is untrusted: ingest stores at most 200,000 samples
		 * a run; one that holds this many was not written by it. */
		if (n == DB_SAMPLES_MAX)
			die(EXIT_USAGE, "run %lld holds more than %d samples of '%s' in '%s': not a database "
			    "reclaimbench wrote; remove that run", run, DB_SAMPLES_MAX, metric, opt_db);
		if (n == cap && !(v = realloc(v, (cap *= 2) * sizeof(*v))))
			die(EXIT_INFRA, "out of memory reading the samples of run %lld", run);
		v[n++] = sqlite3_column_double(st, 0);
	}
	sqlite3_finalize(st);
	*out = v;
	return n;
}
