/* HTTP with libcurl: a GET into a file or a JSON POST, with timeouts,
 * retries of transient failures, bounded bodies and one-line errors; and
 * patches named by a file, a URL or a mailing-list Message-ID (from an
 * archive base URL the user configures) made local files. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

/* A request's options: a GET into the sink, or with post a JSON POST
 * (with the token, if any) that follows no redirect.  Its headers, for
 * the caller to free with the header *auth points into. */
static struct curl_slist *request_options(CURL *c, const char *url, struct sink *sink, const char *post,
					  const char *token, char **auth)
{
	struct curl_slist *hdr = NULL;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink->max);
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
			*auth = xasprintf("Authorization: Bearer %s", token);
			hdr = curl_slist_append(hdr, *auth);
		}
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	}
	return hdr;
}

/* What was wrong with the last answer, in err ("" when nothing was); 1
 * when the answer itself is refused (too large, or no patch when one was
 * to be written to a file). */
static int answer_error(char *err, size_t errlen, const char *url, CURLcode rc, long status,
			const struct sink *sink, const char *moved, int to_file)
{
	err[0] = '\0';
	if (rc == CURLE_FILESIZE_EXCEEDED || sink->over) {
		snprintf(err, errlen, "'%s': the body is larger than %lu MiB; refused", url, sink->max >> 20);
		return 1;
	}
	if (rc == CURLE_PARTIAL_FILE) {
		snprintf(err, errlen, "'%s': the body was cut short (truncated transfer)", url);
	} else if (rc != CURLE_OK) {
		snprintf(err, errlen, "'%s': %s", url, curl_easy_strerror(rc));
	} else if (moved) {
		snprintf(err, errlen, "'%s': HTTP %ld, a redirect to '%s': not followed with a body and a token; "
			 "pass --url the URL it names if you trust it", url, status, moved);
	} else if (status >= 400) {
		snprintf(err, errlen, "'%s': HTTP %ld", url, status);
	} else if (to_file && status != 200) {
		snprintf(err, errlen, "'%s': HTTP %ld is not a patch (only a 200 with a body is)", url, status);
		return 1;
	} else if (to_file && !sink->n) {
		snprintf(err, errlen, "'%s': the body is empty: not a patch", url);
		return 1;
	}
	return 0;
}

/* One request, retried while the failure looks transient.  GET into a
 * file (written whole or not at all; only a 200 with a body counts) or
 * POST a body (never to where a redirect points: libcurl would send the
 * body and the token again).  0 ok; -1 the request failed (err says why);
 * -2 what came back is not what was asked for (too large, empty, not a
 * 200). */
int http(const char *url, const char *out_path, const char *post, const char *token, char *err, size_t errlen)
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
		hdr = request_options(c, url, &sink, post, token, &auth);
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
	bad = answer_error(err, errlen, url, rc, status, &sink, moved, tmp != NULL);
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

static const char *archive;

const struct opt http_opts[] = {
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
