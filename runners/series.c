/* A patch series for gate: the patches of one or more --patch files, an
 * mbox holding one message per patch, each written to a file of its own
 * in the cache (named by its content) so that every prefix of the series
 * is a variant of its own and builds as the base plus those files.  The
 * files are untrusted: they are only split and hashed here, never run. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reclaimbench.h"

#define SUBJECT_MAX 200

/* Whether the line at s starts a message of an mbox: "From " at the
 * start of the text or after an empty line, a sender, and a date that
 * has a time (dd:dd) and ends in a year ("From 1a2b... Mon Sep 17
 * 00:00:00 2001"), as git format-patch and mailing-list archives write
 * it.  A "From " line of a message's body has no such shape, or is
 * quoted as ">From ". */
int mbox_from_line(const char *text, const char *s)
{
	const char *end = strchr(s, '\n'), *time = NULL;

	if (strncmp(s, "From ", 5) || (s > text && (s - text < 2 || s[-2] != '\n')))
		return 0;
	if (!end)
		end = s + strlen(s);
	while (end > s && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (const char *p = s + 5; p + 5 <= end && !time; p++)
		if (p[2] == ':' && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[3]) && isdigit((unsigned char)p[4]))
			time = p;
	return time && end - s > 10 && end[-5] == ' ' && isdigit((unsigned char)end[-4]) &&
	       isdigit((unsigned char)end[-3]) && isdigit((unsigned char)end[-2]) && isdigit((unsigned char)end[-1]) &&
	       memchr(s + 5, ' ', time - (s + 5));
}

/* The offsets where each message of an mbox starts (the first is 0); a
 * text that is not an mbox is one patch.  The count. */
int mbox_split(const char *text, size_t len, size_t *starts, int max)
{
	int n = 0;

	starts[n++] = 0;
	if (!mbox_from_line(text, text))
		return 1;
	for (const char *p = strchr(text, '\n'); p && n < max; p = strchr(p + 1, '\n'))
		if ((size_t)(p + 1 - text) < len && mbox_from_line(text, p + 1))
			starts[n++] = p + 1 - text;
	return n;
}

/* A message's Subject: from its header (before the first empty line),
 * folded lines joined, cut to SUBJECT_MAX bytes; "" when it has none. */
char *mbox_subject(const char *msg, size_t len)
{
	char out[SUBJECT_MAX + 1];
	size_t o = 0;
	const char *p = msg, *end = msg + len;

	while (p < end && *p != '\n' && strncasecmp(p, "Subject:", 8)) {
		const char *nl = memchr(p, '\n', end - p);

		p = nl ? nl + 1 : end;
	}
	if (p >= end || *p == '\n')
		return xstrdup("");
	for (p += 8; p < end; p++) {
		if (*p == '\n' && (p + 1 >= end || (p[1] != ' ' && p[1] != '\t')))
			break;
		if (*p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (o < SUBJECT_MAX && !(o == 0 && *p == ' '))
			out[o++] = *p;
	}
	out[o] = '\0';
	return xstrdup(out);
}

/* A message as a file of the cache named by its content, readable by
 * anyone (the sandbox's user reads it to build); written whole, then
 * renamed, so a file of that name is always complete. */
static char *message_file(const char *msg, size_t len)
{
	char *dir = xasprintf("%s/series", cache_dir()), *tmp, *path;
	int fd;

	if (mkdirs(dir))
		die(EXIT_INFRA, "cannot make '%s': %s", dir, strerror(errno));
	path = xasprintf("%s/%016llx.patch", dir, (unsigned long long)fnv1a(msg, len, 0));
	tmp = xasprintf("%s/.part-XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0)
		die(EXIT_INFRA, "cannot write in '%s': %s", dir, strerror(errno));
	if (fchmod(fd, 0644) || write(fd, msg, len) != (ssize_t)len || close(fd) || rename(tmp, path))
		die(EXIT_INFRA, "cannot write '%s': %s", path, strerror(errno));
	free(dir), free(tmp);
	return path;
}

/* Every patch of the files given, in order.  A file of one patch is used
 * as it is (its build id stays what a gate of it always had). */
void series_split(char **files, int nfiles, struct series *s)
{
	memset(s, 0, sizeof(*s));
	for (int f = 0; f < nfiles; f++) {
		size_t len = 0, starts[SERIES_MAX + 1];
		char *text = read_file(files[f], &len);
		int n;

		if (!text)
			die(EXIT_USAGE, "patch '%s' cannot be read", files[f]);
		n = mbox_split(text, len, starts, SERIES_MAX + 1);
		if (s->n + n > SERIES_MAX)
			die(EXIT_USAGE, "a series of more than %d patches; gate a part of it", SERIES_MAX);
		starts[n] = len;
		for (int i = 0; i < n; i++) {
			const char *msg = text + starts[i];
			size_t mlen = starts[i + 1] - starts[i];

			s->files[s->n] = n == 1 && nfiles == 1 ? xstrdup(files[f]) : message_file(msg, mlen);
			s->subjects[s->n] = mbox_subject(msg, mlen);
			if (!*s->subjects[s->n]) {
				free(s->subjects[s->n]);
				s->subjects[s->n] = xstrdup(strrchr(files[f], '/') ? strrchr(files[f], '/') + 1 : files[f]);
			}
			s->n++;
		}
		free(text);
	}
}

/* Whether a prefix's value sides with the whole series rather than the
 * base: nearer it in ratio for a timing (both positive), else in value;
 * a tie sides with the base. */
int series_sides_with_whole(double v, double base, double whole, int timing)
{
	int ratio = timing && v > 0 && base > 0 && whole > 0;
	double to_base = ratio ? fabs(log(v / base)) : fabs(v - base);
	double to_whole = ratio ? fabs(log(v / whole)) : fabs(v - whole);

	return to_whole < to_base;
}

/* The prefix to boot next: the middle of the first open range (lo known
 * unchanged, hi known changed, more than one patch apart); -1 when none
 * is open.  Bisection: ceil(log2(n)) boots for changes at one patch. */
int series_next_prefix(const int *lo, const int *hi, const int *open, int n)
{
	for (int i = 0; i < n; i++)
		if (open[i] && hi[i] - lo[i] > 1)
			return (lo[i] + hi[i]) / 2;
	return -1;
}
