/* HTTP with libcurl: patches fetched by URL or by mailing-list Message-ID
 * (from an archive base URL the user configures), and results published as
 * JSON.  Timeouts, retries of transient failures, and one-line errors. */
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

static unsigned long timeout_s = 60, retries = 3;

/* The largest body taken: a patch series far larger than any on a list,
 * and the answer to a POST (read only to be dropped). */
#define PATCH_MAX_BYTES (16UL << 20)
#define ANSWER_MAX_BYTES (1UL << 20)

static int transient(CURLcode rc, long status)
{
	return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT || rc == CURLE_PARTIAL_FILE ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || (rc == CURLE_OK && status >= 500);
}

/* Where a body goes: a file or nowhere, never past max bytes (the
 * server's Content-Length is checked too, but a body need not have one). */
struct sink {
	FILE *f;
	size_t n, max;
	int over;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t len = size * nmemb;

	if (len > s->max - s->n) {
		s->over = 1;
		return 0;	/* libcurl stops the transfer: CURLE_WRITE_ERROR */
	}
	s->n += len;
	return s->f && fwrite(data, 1, len, s->f) != len ? 0 : len;
}

/* One request, retried while the failure looks transient.  GET into a
 * file (written whole or not at all; only a 200 with a body counts) or
 * POST a body (never to where a redirect points: libcurl would send the
 * body and the token again).  0 ok; -1 the request failed (err says why);
 * -2 what came back is not what was asked for (too large, empty, not a
 * 200). */
static int http(const char *url, const char *out_path, const char *post, const char *token, char *err,
		size_t errlen)
{
	/* Each process its own part file beside the target (mkstemp: new,
	 * 0600, never through a link), renamed over it when whole. */
	char *tmp = out_path ? xasprintf("%s.XXXXXX.part", out_path) : NULL;
	struct sink sink = { .max = post ? ANSWER_MAX_BYTES : PATCH_MAX_BYTES };
	CURLcode rc = CURLE_OK;
	long status = 0;
	char *moved = NULL;
	int tmp_fd = -1, bad = 0;

	if (tmp && (tmp_fd = mkstemps(tmp, 5)) < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (unsigned long attempt = 1; attempt <= retries; attempt++) {
		CURL *c = curl_easy_init();
		struct curl_slist *hdr = NULL;
		FILE *f = tmp ? fdopen(dup(tmp_fd), "wb") : NULL;
		char *auth = NULL, *where = NULL;

		if (!c || (tmp && !f))
			die(EXIT_INFRA, "cannot start a request to '%s': %s", url, strerror(errno));
		if (tmp && (ftruncate(tmp_fd, 0) || lseek(tmp_fd, 0, SEEK_SET)))
			die(EXIT_INFRA, "cannot rewind '%s': %s", tmp, strerror(errno));
		sink.f = f, sink.n = 0, sink.over = 0;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink.max);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, post ? 0L : 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_s);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "reclaimbench/1");
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		if (post) {
			hdr = curl_slist_append(hdr, "Content-Type: application/json");
			if (token) {
				auth = xasprintf("Authorization: Bearer %s", token);
				hdr = curl_slist_append(hdr, auth);
			}
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		}
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (post && status >= 300 && status < 400 && curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &where) == CURLE_OK)
			moved = xstrdup(where ? where : "(nowhere)");
		if (f)
			fclose(f);
		curl_slist_free_all(hdr);
		free(auth);
		curl_easy_cleanup(c);
		if (rc == CURLE_OK && status < 400)
			break;
		if (!transient(rc, status) || attempt == retries)
			break;
		progress("%s: %s, try %lu of %lu again in %lu s", url,
			 rc ? curl_easy_strerror(rc) : "server error", attempt + 1, retries, attempt);
		sleep(attempt);
	}
	if (rc == CURLE_FILESIZE_EXCEEDED || sink.over) {
		bad = 1;
		snprintf(err, errlen, "'%s': the body is larger than %lu MiB; refused", url, sink.max >> 20);
	} else if (rc == CURLE_PARTIAL_FILE) {
		snprintf(err, errlen, "'%s': the body was cut short (truncated transfer)", url);
	} else if (rc != CURLE_OK) {
		snprintf(err, errlen, "'%s': %s", url, curl_easy_strerror(rc));
	} else if (moved) {
		snprintf(err, errlen, "'%s': HTTP %ld, a redirect to '%s': not followed with a body and a token; "
			 "pass --url the URL it names if you trust it", url, status, moved);
	} else if (status >= 400) {
		snprintf(err, errlen, "'%s': HTTP %ld", url, status);
	} else if (tmp && status != 200) {
		bad = 1;
		snprintf(err, errlen, "'%s': HTTP %ld is not a patch (only a 200 with a body is)", url, status);
	} else if (tmp && !sink.n) {
		bad = 1;
		snprintf(err, errlen, "'%s': the body is empty: not a patch", url);
	} else {
		err[0] = '\0';
	}
	free(moved);
	if (err[0]) {
		if (tmp)
			unlink(tmp), close(tmp_fd);
		free(tmp);
		return bad ? -2 : -1;
	}
	if (tmp && (close(tmp_fd) || rename(tmp, out_path))) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write '%s': %s", out_path, strerror(errno));
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* A Message-ID (RFC 5322 msg-id, its angle brackets optional) as one path
 * segment of the archive's URL, mallocd; NULL when it is not one.  Every
 * character a URL gives a meaning ('?' a query, '#' a fragment, '%', '/')
 * goes percent-encoded, so the ID can only name URL/MSGID/raw. */
char *msgid_segment(const char *what)
{
	static const char atext[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "!#$%&'*+-/=?^_`{|}~.[]@";
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "-._~!$&'*+=@";
	size_t len = strlen(what);
	const char *at;
	char *seg, *o;

	if (what[0] == '<') {
		if (len < 2 || what[len - 1] != '>')
			return NULL;
		what++, len -= 2;
	}
	at = memchr(what, '@', len);
	if (len > 250 || strspn(what, atext) < len || !at || at == what || at == what + len - 1 ||
	    memchr(at + 1, '@', what + len - at - 1))
		return NULL;
	o = seg = xasprintf("%*s", (int)(3 * len), "");
	for (size_t i = 0; i < len; i++)
		o += strchr(plain, what[i]) ? sprintf(o, "%c", what[i]) : sprintf(o, "%%%02X", (unsigned char)what[i]);
	*o = '\0';
	return seg;
}

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

static const char *archive;

static const struct opt http_opts[] = {
	{ "archive", OPT_STRING, &archive, 0, 0, "URL",
	  "mailing-list archive base; a Message-ID is fetched from URL/MSGID/raw ($RECLAIMBENCH_ARCHIVE)" },
	{ "http-timeout", OPT_UINT, &timeout_s, 1, 3600, "S", "time limit of one HTTP request" },
	{ "http-retries", OPT_UINT, &retries, 1, 10, "N", "tries of a request that failed transiently" },
	{ NULL }
};
const struct opt *const fetch_opts = http_opts;

/* A patch named by a file, a URL or a Message-ID, as a local file. */
char *patch_resolve(const char *what)
{
	char err[1024], *url, *path, *id;
	struct stat st;
	int rc;

	if (!strncmp(what, "http://", 7) || !strncmp(what, "https://", 8)) {
		url = xstrdup(what);
	} else if (stat(what, &st) == 0) {
		spec_file_check("patch", what);
		return realpath(what, NULL);
	} else if (what[0] == '<' || (strchr(what, '@') && !strchr(what, '/'))) {
		const char *base = archive ? archive : getenv("RECLAIMBENCH_ARCHIVE");

		if (!(id = msgid_segment(what)))
			die(EXIT_USAGE, "'%s' is not a Message-ID: LEFT@RIGHT, at most 250 of the characters "
			    "a-z A-Z 0-9 !#$%%&'*+-/=?^_`{|}~.[] and one '@', in <> or not", what);
		if (!base || !*base)
			die(EXIT_USAGE, "'%s' looks like a Message-ID but no archive is set; pass --archive URL "
			    "or set RECLAIMBENCH_ARCHIVE", what);
		url = xasprintf("%s%s%s/raw", base, base[strlen(base) - 1] == '/' ? "" : "/", id);
		free(id);
	} else {
		die(EXIT_USAGE, "patch '%s' is not a file, an http(s) URL or a Message-ID", what);
	}
	mkdirs(xasprintf("%s/patches", cache_dir()));
	path = xasprintf("%s/patches/%016llx.mbox", cache_dir(),
			 (unsigned long long)fnv1a(url, strlen(url), 0));
	progress("fetching %s", url);
	if ((rc = http(url, path, NULL, NULL, err, sizeof(err))))
		die(rc == -2 ? EXIT_USAGE : EXIT_INFRA, "fetch failed: %s", err);
	free(url);
	return path;
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
