/* Kernel builds: source ready (kernel-source.sh), then an out-of-tree
 * build (kernel-build.sh) into a folder of the cache named by the variant
 * and a content hash of source id, patches, config, compiler and build
 * script.  An unchanged variant is never rebuilt; variants of one source
 * share one build folder, so a one-file patch rebuilds one file. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reclaimbench.h"

/* Run a helper script, its stdout captured; stderr lines starting with
 * "phase: " shown as progress, "error: " lines passed through. */
static int run_script(char *const argv[], char **out, const char *label)
{
	int outp[2], errp[2], st;
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap), line[1024];
	size_t ll = 0;
	time_t t0 = time(NULL);
	int tty = isatty(2), open_fds = 2;
	char phase[1024] = "starting";
	pid_t pid;

	if (pipe(outp) || pipe(errp))
		die(EXIT_INFRA, "pipe: %s", strerror(errno));
	if ((pid = fork()) == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]), close(errp[0]), close(outp[1]), close(errp[1]);
		execv(argv[0], argv);
		fprintf(stderr, "error: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(3);
	}
	close(outp[1]), close(errp[1]);
	struct pollfd pf[2] = { { outp[0], POLLIN }, { errp[0], POLLIN } };
	while (open_fds) {
		int r = poll(pf, 2, 1000);

		if (r < 0 && errno != EINTR)
			break;
		if (tty)
			fprintf(stderr, "\r\033[K[%s] %s (%lds)", label, phase, (long)(time(NULL) - t0));
		for (int i = 0; r > 0 && i < 2; i++) {
			char chunk[4096];
			ssize_t k;

			if (!(pf[i].revents & (POLLIN | POLLHUP)))
				continue;
			k = read(pf[i].fd, chunk, sizeof(chunk));
			if (k <= 0) {
				pf[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				while (n + k + 1 > cap)
					buf = realloc(buf, cap *= 2);
				memcpy(buf + n, chunk, k);
				n += k;
				continue;
			}
			for (ssize_t j = 0; j < k; j++) {
				if (chunk[j] != '\n') {
					if (ll < sizeof(line) - 1)
						line[ll++] = chunk[j];
					continue;
				}
				line[ll] = '\0';
				ll = 0;
				if (!strncmp(line, "phase: ", 7)) {
					snprintf(phase, sizeof(phase), "%s", line + 7);
					if (!tty)
						fprintf(stderr, "[%s] %s (%lds)\n", label, phase,
							(long)(time(NULL) - t0));
				} else if (!strncmp(line, "error: ", 7) || !strncmp(line, "kernel-source: ", 15)) {
					fprintf(stderr, "%s%s\n", tty ? "\r\033[K" : "", shown(line));
				}
			}
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K[%s] %s (%lds)\n", label, phase, (long)(time(NULL) - t0));
	close(outp[0]), close(errp[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	buf[n] = '\0';
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_INFRA;
}

static uint64_t hash_file(const char *path, uint64_t h)
{
	size_t len;
	char *text = read_file(path, &len);

	if (!text)
		die(EXIT_USAGE, "cannot read '%s': %s", path, strerror(errno));
	h = fnv1a(text, len, h);
	free(text);
	return h;
}

/* A build killed during its checkout (kill -9 of a bisection) leaves
 * .git/index.lock behind, and every later checkout of that tree fails.
 * Under the build folder's lock, which every build of the tree holds while
 * it runs git there, a lock file can only be such a leftover. */
static void stale_git_lock_remove(const char *src, const char *build)
{
	char *lock = xasprintf("%s.lock", build), *index = xasprintf("%s/.git/index.lock", src);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0 && flock(fd, LOCK_EX) == 0 && unlink(index) == 0)
		progress("removed '%s', left by a build that was killed", index);
	if (fd >= 0)
		close(fd);
	free(lock), free(index);
}

static char *hex(uint64_t h)
{
	return xasprintf("%016llx", (unsigned long long)h);
}

static char *compiler_version(void)
{
	FILE *p = popen("gcc --version 2>/dev/null | head -n 1", "r");
	char buf[256] = "unknown";

	if (p) {
		if (!fgets(buf, sizeof(buf), p))
			strcpy(buf, "unknown");
		pclose(p);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

void source_ready(const char *spec, const char *label, char **path, char **ref, char **id)
{
	char *script = xasprintf("%s/../runners/kernel-source.sh", self_dir());
	char *argv[] = { script, (char *)spec, NULL }, *out = NULL, *p, *r, *i;
	int rc = run_script(argv, &out, label);

	if (rc)
		die(rc == EXIT_USAGE ? EXIT_USAGE : EXIT_INFRA, "variant '%s': source '%s' is not ready", label, spec);
	p = strtok(out, "\n");
	r = strtok(NULL, "\n");
	i = strtok(NULL, "\n");
	if (!p || !r || !i)
		die(EXIT_INFRA, "variant '%s': kernel-source.sh printed no tree", label);
	*path = xstrdup(p), *ref = xstrdup(r), *id = xstrdup(i);
	free(out), free(script);
}

int variant_build(const struct variant *v, struct built *k)
{
	char *bscript = xasprintf("%s/../runners/kernel-build.sh", self_dir());
	char *out = NULL, *path, *ref, *fragment, *cc;
	char **argv;
	uint64_t h, ph = 0, ch = 0;
	struct stat st;
	int rc, n = 0;
	FILE *f;

	memset(k, 0, sizeof(*k));
	source_ready(v->source, v->name, &path, &ref, &k->source_id);
	for (int i = 0; i < v->npatches; i++)
		ph = hash_file(v->patches[i], ph);
	for (int i = 0; i < v->nconfigs; i++)
		ch = hash_file(v->configs[i], ch);
	cc = compiler_version();
	h = fnv1a(k->source_id, strlen(k->source_id) + 1, 0);
	h = fnv1a(&ph, sizeof(ph), h);
	h = fnv1a(&ch, sizeof(ch), h);
	h = fnv1a(cc, strlen(cc) + 1, h);
	h = hash_file(bscript, h);
	k->patches_hash = hex(ph);
	k->config_hash = hex(ch);
	k->build_id = hex(h);
	/* Keyed by content alone: variants that build the same kernel share it. */
	k->dir = xasprintf("%s/kernels/%s", cache_dir(), k->build_id);
	k->bzimage = xasprintf("%s/bzImage", k->dir);
	k->gen_init_cpio = xasprintf("%s/gen_init_cpio", k->dir);
	if (stat(k->bzimage, &st) == 0 && stat(k->gen_init_cpio, &st) == 0) {
		progress("variant '%s': cached build %s", v->name, k->dir);
		k->cached = 1;
		goto done;
	}
	/* The fragments, merged in order, as one file of the build's record. */
	mkdir(xasprintf("%s/kernels", cache_dir()), 0755);
	mkdir(k->dir, 0755);
	fragment = xasprintf("%s/fragment.config", k->dir);
	if (!(f = fopen(fragment, "w")))
		die(EXIT_INFRA, "cannot write '%s': %s", fragment, strerror(errno));
	for (int i = 0; i < v->nconfigs; i++) {
		char *text = read_file(v->configs[i], NULL);

		fprintf(f, "# %s\n%s\n", v->configs[i], text);
		free(text);
	}
	fclose(f);
	argv = calloc(8 + v->npatches, sizeof(char *));
	argv[n++] = bscript;
	argv[n++] = path;
	argv[n++] = ref;
	argv[n++] = xasprintf("%s/build/%s", cache_dir(), strrchr(path, '/') + 1);
	argv[n++] = k->dir;
	argv[n++] = v->name;
	argv[n++] = fragment;
	for (int i = 0; i < v->npatches; i++)
		argv[n++] = v->patches[i];
	stale_git_lock_remove(path, argv[3]);
	progress("variant '%s': building (log: %s/build.log)", v->name, k->dir);
	rc = run_script(argv, &out, v->name);
	if (rc)
		exit(rc == EXIT_USAGE ? EXIT_USAGE : EXIT_INFRA);
done:
	free(cc);
	return 0;
}
