/* reclaimbench fetch: a patch by URL or mailing-list Message-ID into the
 * cache; reclaimbench publish: a run POSTed as JSON.  The HTTP is http.c's. */
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

/* reclaimbench publish: a run (or every run of a session) as JSON, POSTed.
 * The token comes from $RECLAIMBENCH_TOKEN, never from the command line. */
int cmd_publish(int argc, char **argv)
{
	static const char *url, *run;
	static const struct opt own[] = {
		{ "url", OPT_STRING, &url, 0, 0, "URL", "where to POST" },
		{ "run", OPT_STRING, &run, 0, 0, "RUN|last", "the run to publish" },
		{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, http_opts, NULL };
	parse_options(tables, argc, argv,
			       "usage: reclaimbench publish --url URL --run RUN|last\n\n"
			       "POSTs {\"schema\":\"reclaimbench-run\",\"version\":1,\"machine\":...,\"run\":...,\"samples\":[...]}\n"
			       "with 'Authorization: Bearer $RECLAIMBENCH_TOKEN' when that variable is set.");
	char *body = NULL, err[1024], *id;
	size_t len = 0;
	sqlite3 *db;
	FILE *f;

	if (!url || !run)
		die(EXIT_USAGE, "publish needs --url and --run");
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		die(EXIT_USAGE, "--url '%s' is not an http(s) URL", url);
	/* A bearer token over plain HTTP can be read on every hop; on this
	 * machine's own loopback there is no hop. */
	if (getenv("RECLAIMBENCH_TOKEN") && !strncmp(url, "http://", 7) && !loopback_url(url))
		die(EXIT_USAGE, "--url '%s' is plain http and not on loopback: the token would travel unencrypted; "
		    "use an https:// URL", url);
	if (strcmp(run, "last") && strspn(run, "0123456789") != strlen(run))
		die(EXIT_USAGE, "run '%s' is not a number or 'last'", run);
	db = db_open(opt_db);
	id = !strcmp(run, "last") ? xasprintf("%lld", (long long)0) : xstrdup(run);
	if (!strcmp(run, "last")) {
		sqlite3_stmt *st;

		sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM runs", -1, &st, NULL);
		sqlite3_step(st);
		free(id);
		id = xasprintf("%lld", sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
	}
	f = open_memstream(&body, &len);
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
	db_close(db);
	if (http(url, NULL, body, getenv("RECLAIMBENCH_TOKEN"), err, sizeof(err)))
		die(EXIT_INFRA, "publish failed: %s", err);
	printf("published run %s to %s (%zu bytes)\n", id, url, len);
	free(body);
	return EXIT_OK;
}
