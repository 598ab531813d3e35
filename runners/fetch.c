/* reclaimbench fetch: a patch by URL or mailing-list Message-ID into the
 * cache; reclaimbench publish: runs as JSON (reclaimbench's own document
 * or a KCIDB report), POSTed or written.  The HTTP is http.c's. */
#include <curl/curl.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bench/opts.h"
#include "reclaimbench.h"

/* Whether url's host is this machine: localhost, 127.0.0.0/8 or ::1 (as
 * libcurl parses it, so "http://127.0.0.1@elsewhere/" is elsewhere). */
static int loopback_url(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	unsigned char a[16];
	int yes = 0;

	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) && !curl_url_get(u, CURLUPART_HOST, &host, 0)) {
		size_t n = strlen(host);

		if (!strcasecmp(host, "localhost"))
			yes = 1;
		else if (inet_pton(AF_INET, host, a) == 1)
			yes = a[0] == 127;
		else if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = '\0';
			yes = inet_pton(AF_INET6, host + 1, a) == 1 && !memcmp(a, &in6addr_loopback, 16);
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

int cmd_fetch(int argc, char **argv)
{
	const struct opt *const tables[] = { http_opts, NULL };
	int first = parse_args(tables, argc, argv,
			       "usage: reclaimbench fetch URL|MSGID|FILE [--archive URL]\n\n"
			       "Fetches a patch or series (mbox) into the cache and prints its path.");

	if (first != argc - 1)
		die(EXIT_USAGE, "fetch takes one URL, Message-ID or file");
	puts(patch_resolve(argv[first]));
	return EXIT_OK;
}

/* One run as reclaimbench's own document (version 1), mallocd. */
static char *run_document(sqlite3 *db, const char *run, size_t *len)
{
	char *body = NULL, *id;
	FILE *f;

	if (strcmp(run, "last")) {
		id = xstrdup(run);
	} else {
		sqlite3_stmt *st;

		sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM runs", -1, &st, NULL);
		sqlite3_step(st);
		id = xasprintf("%lld", sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
	}
	f = open_memstream(&body, len);
	fputs("{\"schema\":\"reclaimbench-run\",\"version\":1,\"machine\":", f);
	db_print(f, db, "SELECT m.fingerprint, m.hostname, m.cpu_model, m.ncpu, m.mem_kb, m.host_kernel FROM machines m "
			"JOIN runs r ON r.machine_id = m.id WHERE r.id = ?1", "json", id);
	fputs(",\"run\":", f);
	if (db_print(f, db, "SELECT r.id, r.session, r.bench, r.bench_version, r.params, r.accel, r.guest_mem_mb, "
			    "r.guest_cpus, r.status, r.reason, r.started_at, k.release, k.variant, k.build_id, k.source, "
			    "k.patches_hash, k.config_hash FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE r.id = ?1",
		     "json", id) <= 0)
		die(EXIT_USAGE, "no run %s in '%s'; see reclaimbench list runs", id, opt_db);
	fputs(",\"samples\":", f);
	db_print(f, db, "SELECT rep, metric, value, unit, note FROM samples WHERE run_id = ?1 ORDER BY metric, rep",
		 "json", id);
	fputs("}\n", f);
	fclose(f);
	free(id);
	return body;
}

/* The chosen runs as a KCIDB report, mallocd; *nruns how many. */
static char *kcidb_document(sqlite3 *db, const struct kcidb_selection *sel, size_t *len, int *nruns)
{
	char *body = NULL;
	FILE *f = open_memstream(&body, len);

	*nruns = kcidb_select(db, sel);
	kcidb_write(f, db);
	if (fclose(f))
		die(EXIT_INFRA, "out of memory writing the KCIDB report");
	return body;
}

static void publish_url_check(const char *url)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		die(EXIT_USAGE, "--url '%s' is not an http(s) URL", url);
	/* A bearer token over plain HTTP can be read on every hop; on this
	 * machine's own loopback there is no hop. */
	if (getenv("RECLAIMBENCH_TOKEN") && !strncmp(url, "http://", 7) && !loopback_url(url))
		die(EXIT_USAGE, "--url '%s' is plain http and not on loopback: the token would travel unencrypted; "
		    "use an https:// URL", url);
}

/* The document whole into path ("-": standard output), or exit 3. */
static void output_write(const char *path, const char *body, size_t len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;

	if (!f || fwrite(body, 1, len, f) != len || fflush(f) || (f != stdout && fclose(f)))
		die(EXIT_INFRA, "cannot write '%s': %s; pass --output a writable file or -", path, strerror(errno));
}

/* reclaimbench publish: runs as JSON, POSTed to --url or written to
 * --output.  The token comes from $RECLAIMBENCH_TOKEN, never from the
 * command line. */
int cmd_publish(int argc, char **argv)
{
	static const char *url, *output, *run, *session, *format = "reclaimbench";
	static int all;
	static const struct opt own[] = {
		{ "url", OPT_STRING, &url, 0, 0, "URL", "where to POST" },
		{ "output", OPT_STRING, &output, 0, 0, "FILE|-", "write the document to FILE (- for standard output)" },
		{ "format", OPT_STRING, &format, 0, 0, "reclaimbench|kcidb",
		  "reclaimbench's own run document, or a KCIDB v5.3 report" },
		{ "run", OPT_STRING, &run, 0, 0, "RUN|last", "one run" },
		{ "session", OPT_STRING, &session, 0, 0, "SESSION|last",
		  "kcidb: every run of the command that made SESSION (all variants and boots of a run or a gate)" },
		{ "all", OPT_FLAG, &all, 0, 0, NULL, "kcidb: every run in the database" },
		{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, http_opts, NULL };
	parse_options(tables, argc, argv,
		      "usage: reclaimbench publish [--url URL] [--output FILE|-] [--format reclaimbench|kcidb]\n"
		      "                            (--run RUN|last | --session SESSION|last | --all)\n\n"
		      "POSTs to --url, writes to --output, or both (at least one).\n"
		      "--format reclaimbench (one --run): {\"schema\":\"reclaimbench-run\",\"version\":1,\"machine\":...,"
		      "\"run\":...,\"samples\":[...]}\n"
		      "--format kcidb: a KCIDB report (schema 5.3): a checkout per source and patch set, a build per\n"
		      "variant, a test per run (ok PASS, failed FAIL, skip SKIP, incomplete ERROR, with the reason)\n"
		      "and per metric of an ok run (its median as the number, each repetition in misc).\n"
		      "A POST carries 'Authorization: Bearer $RECLAIMBENCH_TOKEN' when that variable is set.");
	struct kcidb_selection sel = { .run = run, .session = session };
	char *body, err[1024];
	size_t len = 0;
	int kcidb, nruns = 1;
	sqlite3 *db;

	if (check_format(format, "reclaimbench|kcidb"))
		exit(EXIT_USAGE);
	kcidb = !strcmp(format, "kcidb");
	if (!url && !output)
		die(EXIT_USAGE, "publish needs --url URL or --output FILE|-");
	if (!!run + !!session + all != 1 || (!kcidb && !run))
		die(EXIT_USAGE, kcidb ? "publish --format kcidb needs one of --run, --session or --all" :
		    "publish --format reclaimbench needs --run (--session and --all are for --format kcidb)");
	if (url)
		publish_url_check(url);
	if (run && strcmp(run, "last") && strspn(run, "0123456789") != strlen(run))
		die(EXIT_USAGE, "run '%s' is not a number or 'last'", run);
	db = db_open(opt_db);
	body = kcidb ? kcidb_document(db, &sel, &len, &nruns) : run_document(db, run, &len);
	db_close(db);
	if (output)
		output_write(output, body, len);
	if (url && http(url, NULL, body, getenv("RECLAIMBENCH_TOKEN"), err, sizeof(err)))
		die(EXIT_INFRA, "publish failed: %s", err);
	if (url)
		fprintf(output && !strcmp(output, "-") ? stderr : stdout, "published %d run%s to %s (%zu bytes, %s)\n",
			nruns, nruns == 1 ? "" : "s", url, len, format);
	free(body);
	return EXIT_OK;
}
