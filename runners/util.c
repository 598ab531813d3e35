/* Messages, small string and file helpers, child processes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reclaimbench.h"

const char *opt_db = "reclaimbench.db";
const char *opt_format = "text";

/* One line "PREFIX: message" on stderr.  Messages quote names, refs and
 * reasons from outside: shown escaped, so none can drive the terminal or
 * start a line of its own. */
static void say(const char *prefix, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0) {
		fprintf(stderr, "%s: (out of memory for the message)\n", prefix);
		return;
	}
	fprintf(stderr, "%s: %s\n", prefix, shown(msg));
	free(msg);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("error", fmt, ap);
	va_end(ap);
	exit(code);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("error", fmt, ap);
	va_end(ap);
	return -1;
}

/* Progress for a person at a terminal (and in logs). */
void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("reclaimbench", fmt, ap);
	va_end(ap);
}

char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		die(EXIT_INFRA, "out of memory");
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(EXIT_INFRA, "out of memory");
	va_end(ap);
	return s;
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 65536 > cap && !(buf = realloc(buf, cap = cap * 2 + 65536)))
			die(EXIT_INFRA, "out of memory reading '%s'", path);
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

const char *self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (!dir[0]) {
		n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		if (n <= 0)
			die(EXIT_INFRA, "readlink /proc/self/exe: %s", strerror(errno));
		dir[n] = '\0';
		*strrchr(dir, '/') = '\0';
	}
	return dir;
}

const char *cache_dir(void)
{
	static char *dir;
	const char *env;

	if (dir)
		return dir;
	if ((env = getenv("RECLAIMBENCH_CACHE")) && *env)
		dir = xstrdup(env);
	else if ((env = getenv("XDG_CACHE_HOME")) && *env)
		dir = xasprintf("%s/reclaimbench", env);
	else
		dir = xasprintf("%s/.cache/reclaimbench", getenv("HOME") ? getenv("HOME") : "/tmp");
	return dir;
}

char *now_iso(void)
{
	time_t t = time(NULL);
	char buf[32];

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return xstrdup(buf);
}

uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	if (!h)
		h = 0xcbf29ce484222325ULL;
	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

char *joined_argv(int argc, char **argv)
{
	size_t n = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = calloc(1, n);
	if (!s)
		die(EXIT_INFRA, "out of memory");
	for (int i = 0; i < argc; i++) {
		strcat(s, argv[i]);
		if (i + 1 < argc)
			strcat(s, " ");
	}
	return s;
}

/* Run argv, stdout and stderr appended to log (or inherited when NULL);
 * returns the exit status, 128+signal, or -1 when it could not start. */
int run_cmd(char *const argv[], const char *log)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (log) {
			int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

			if (fd < 0)
				_exit(127);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "error: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs argv (no shell) with stdin from /dev/null and returns what it
 * printed on stdout (with stderr too when both), its exit status in
 * *status (-1: it could not run). */
char *cmd_output(char *const argv[], int both, int *status)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);
	int fds[2], st;
	ssize_t r;
	pid_t pid;

	*status = -1;
	if (!buf || pipe(fds))
		die(EXIT_INFRA, "cannot run '%s': %s", argv[0], strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0), dup2(fds[1], 1), dup2(both ? fds[1] : null, 2);
		close(fds[0]), close(fds[1]);
		execvp(argv[0], argv);
		dprintf(1, "cannot run %s: %s", argv[0], strerror(errno));	/* unbuffered: _exit flushes nothing */
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && (r = read(fds[0], buf + n, cap - n - 1)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if ((n += r) + 1 == cap && !(buf = realloc(buf, cap *= 2)))
			die(EXIT_INFRA, "out of memory");
	}
	buf[n] = '\0';
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return buf;
	if (pid > 0)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return buf;
}

int check_format(const char *format, const char *allowed)
{
	size_t n = strlen(format);

	for (const char *p = allowed; *p; p += strcspn(p, "|"), p += *p == '|')
		if (strcspn(p, "|") == n && !strncmp(p, format, n))
			return 0;
	return error("format '%s' is not one of %s; use --format %s", format, allowed, allowed);
}

/* mkdir -p */
int mkdirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) && errno != EEXIST)
				goto fail;
			*s = '/';
		}
	if (mkdir(p, 0755) && errno != EEXIST)
		goto fail;
	free(p);
	return 0;
fail:
	free(p);
	return -1;
}

/* opts_parse for a subcommand: --help ends it with 0, bad options with 2. */
int parse_args(const struct opt *const *tables, int argc, char **argv, const char *usage)
{
	int first = opts_parse(tables, argc, argv, 1, usage);

	if (first == -2)
		exit(EXIT_OK);
	if (first < 0)
		exit(EXIT_USAGE);
	return first;
}

/* parse_args for a subcommand that takes options only. */
void parse_options(const struct opt *const *tables, int argc, char **argv, const char *usage)
{
	int first = parse_args(tables, argc, argv, usage);

	if (first < argc)
		die(EXIT_USAGE, "unexpected '%s': %s takes options only; see --help", argv[first], argv[0]);
}

struct timespec process_start;

/* Seconds on the monotonic clock. */
double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}
