/* Kernel builds: source ready (kernel-source.sh), then an out-of-tree
 * build (kernel-build.sh) into a folder of the cache named by the variant
 * and a content hash of source id, architecture, patches, config, compiler
 * and build script.  An unchanged variant is never rebuilt.
 *
 * Trust: a build of a Debian source with nothing but the project's own
 * patches and fragments (kernels/) is trusted; it builds in the source's
 * shared build folder and writes the shared ccache.  Any other patch or
 * fragment (a gate's, a user's variants file) makes the build untrusted:
 * it reads the trusted folders through overlays and writes only a layer
 * of its own, deleted when it ends.  A git: or dir: source is untrusted
 * as a whole: its builds share a build folder and a ccache of that
 * source's own, which no other build reads.  Every kernel names its build
 * id and tree in its version; a cache entry whose image does not is
 * built again. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "reclaimbench.h"

/* Run a helper script, its stdout captured; stderr lines starting with
 * "phase: " shown as progress, "error: " lines passed through. */
int run_script(char *const argv[], char **out, const char *label)
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

/* KCIDB's patchset_hash: sha256 (OpenSSL's) over each patch's sha256 in
 * hex, newline-terminated, in the order applied; what
 * "sha256sum *.patch | cut -c-64 | sha256sum" prints.  "" for none. */
char *patchset_sha256(char *const *patches, int n)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	char *lines = calloc(n + 1, 65), *out = calloc(1, 65);
	unsigned int len;

	if (!n)
		goto out;
	for (int i = 0; i < n; i++) {
		size_t size;
		char *text = read_file(patches[i], &size);

		if (!text)
			die(EXIT_USAGE, "cannot read '%s': %s", patches[i], strerror(errno));
		if (!EVP_Digest(text, size, md, &len, EVP_sha256(), NULL))
			die(EXIT_INFRA, "sha256 of '%s' failed (EVP_Digest)", patches[i]);
		for (unsigned int b = 0; b < len; b++)
			lines[65 * i + 2 * b] = digits[md[b] >> 4], lines[65 * i + 2 * b + 1] = digits[md[b] & 15];
		lines[65 * i + 64] = '\n';
		free(text);
	}
	if (!EVP_Digest(lines, 65 * n, md, &len, EVP_sha256(), NULL))
		die(EXIT_INFRA, "sha256 of a patch set failed (EVP_Digest)");
	for (unsigned int b = 0; b < len; b++)
		out[2 * b] = digits[md[b] >> 4], out[2 * b + 1] = digits[md[b] & 15];
out:
	free(lines);
	return out;
}

/* A build killed during its checkout (kill -9 of a bisection) leaves
 * .git/index.lock behind, and every later checkout of that tree fails.
 * Under the tree's lock, which every build of the tree holds while it runs
 * git there, a lock file can only be such a leftover. */
static void stale_git_lock_remove(const char *src)
{
	char *lock = xasprintf("%s.lock", src), *index = xasprintf("%s/.git/index.lock", src);
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

/* The compiler of arch: gcc, or Debian's cross compiler for arm64. */
char *compiler_version(const char *arch)
{
	FILE *p = popen(strcmp(arch, "arm64") ? "gcc --version 2>/dev/null | head -n 1"
					      : "aarch64-linux-gnu-gcc --version 2>/dev/null | head -n 1", "r");
	char buf[256] = "unknown";

	if (p) {
		if (!fgets(buf, sizeof(buf), p))
			strcpy(buf, "unknown");
		pclose(p);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

/* A file a spec names (a patch, a config fragment): a plain file of sane
 * size that anyone may read, or that belongs to the user who ran us (sudo's
 * user, or ours when we are not root).  Never a way to read, as root, a
 * file the user could not. */
void spec_file_check(const char *what, const char *path)
{
	const char *sudo = getenv("SUDO_UID");
	uid_t user = getuid() ? getuid() : sudo && *sudo ? (uid_t)atol(sudo) : (uid_t)-1;
	struct stat st;

	if (stat(path, &st))
		die(EXIT_USAGE, "%s '%s' cannot be read: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die(EXIT_USAGE, "%s '%s' is not a plain file; name a regular file", what, path);
	if (st.st_size > SPEC_FILE_MAX)
		die(EXIT_USAGE, "%s '%s' has %lld bytes, more than %d MiB; is it the right file?", what, path,
		    (long long)st.st_size, SPEC_FILE_MAX >> 20);
	if (!(st.st_mode & S_IROTH) && st.st_uid != user)
		die(EXIT_USAGE, "%s '%s' is readable only by its owner and group; a file a spec names must be one "
		    "anyone may read (chmod o+r) or your own", what, path);
}

/* Whether path lies in the project's own kernels/ folder. */
int project_file(const char *path)
{
	static char *kernels;
	char *real = realpath(path, NULL);
	int in;

	if (!kernels && !(kernels = realpath(xasprintf("%s/../kernels", self_dir()), NULL)))
		kernels = xstrdup("/nonexistent/");
	in = real && !strncmp(real, kernels, strlen(kernels)) && real[strlen(kernels)] == '/';
	free(real);
	return in;
}

void variant_files_check(const struct variant *v)
{
	for (int i = 0; i < v->npatches; i++)
		if (!project_file(v->patches[i]))
			spec_file_check("patch", v->patches[i]);
	for (int i = 0; i < v->nconfigs; i++)
		if (!project_file(v->configs[i]))
			spec_file_check("config fragment", v->configs[i]);
}

/* Whether everything v builds from, past its source, is the project's. */
static int variant_own_files(const struct variant *v)
{
	for (int i = 0; i < v->npatches; i++)
		if (!project_file(v->patches[i]))
			return 0;
	for (int i = 0; i < v->nconfigs; i++)
		if (!project_file(v->configs[i]))
			return 0;
	return 1;
}

int variant_trusted(const struct variant *v)
{
	return !strncmp(v->source, "debian:", 7) && variant_own_files(v);
}

/* Whether the image at path names build id and tree ("#rb-ID-TREE" in its
 * version); an entry's tree is its file "tree". */
static int image_is_build(const char *image, const char *id, const char *treef)
{
	size_t len = 0;
	char *img = read_file(image, &len), *tree = read_file(treef, NULL), *want;
	int ok;

	if (!img || !tree) {
		free(img), free(tree);
		return 0;
	}
	tree[strcspn(tree, "\n")] = '\0';
	want = xasprintf(BUILD_STAMP_FMT, id, tree);
	ok = strlen(tree) == 40 && memmem(img, len, want, strlen(want)) != NULL;
	free(img), free(tree), free(want);
	return ok;
}

void source_ready(const char *spec, const char *label, char **path, char **ref, char **id)
{
	char *script = xasprintf("%s/../runners/scripts/kernel-source.sh", self_dir());
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

/* Whether the cache entry of k is there and is that build (k->tree read). */
static int entry_valid(struct built *k)
{
	char *treef = xasprintf("%s/tree", k->dir);
	struct stat st;
	int ok = stat(k->gen_init_cpio, &st) == 0 && image_is_build(k->bzimage, k->build_id, treef);

	if (ok) {
		k->tree = read_file(treef, NULL);
		k->tree[strcspn(k->tree, "\n")] = '\0';
	}
	free(treef);
	return ok;
}

/* The fragments, merged in order, as one file of the build's record:
 * readable by the sandbox's user alone, who reads it to configure. */
static char *fragment_write(const struct variant *v, const char *dir)
{
	char *fragment = xasprintf("%s/fragment.config", dir);
	struct passwd *pw = getpwnam(getenv("RECLAIMBENCH_SANDBOX_USER") ? getenv("RECLAIMBENCH_SANDBOX_USER") :
				     "rb-sandbox");
	FILE *f;
	int fd;

	unlink(fragment);
	if ((fd = open(fragment, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
	    !(f = fdopen(fd, "w")))
		die(EXIT_INFRA, "cannot write '%s': %s", fragment, strerror(errno));
	for (int i = 0; i < v->nconfigs; i++) {
		char *text = read_file(v->configs[i], NULL);

		fprintf(f, "# %s\n%s\n", v->configs[i], text);
		free(text);
	}
	if (pw && fchown(fd, pw->pw_uid, pw->pw_gid))
		die(EXIT_INFRA, "cannot hand '%s' to the sandbox's user: %s", fragment, strerror(errno));
	if (fclose(f))
		die(EXIT_INFRA, "cannot write '%s': %s", fragment, strerror(errno));
	return fragment;
}

int variant_build(const struct variant *v, struct built *k)
{
	char *bscript = xasprintf("%s/../runners/scripts/kernel-build.sh", self_dir());
	char *out = NULL, *path, *ref, *cc, *build, *shared_cc = xasprintf("%s/ccache", cache_dir());
	const char *srcname;
	char **argv;
	uint64_t h, ph = 0, ch = 0;
	int rc, n = 0, own = variant_own_files(v);

	memset(k, 0, sizeof(*k));
	variant_files_check(v);
	source_ready(v->source, v->name, &path, &ref, &k->source_id);
	for (int i = 0; i < v->npatches; i++)
		ph = hash_file(v->patches[i], ph);
	for (int i = 0; i < v->nconfigs; i++)
		ch = hash_file(v->configs[i], ch);
	k->arch = variant_arch(v);
	cc = compiler_version(k->arch);
	h = fnv1a(k->source_id, strlen(k->source_id) + 1, 0);
	h = fnv1a(k->arch, strlen(k->arch) + 1, h);
	h = fnv1a(&ph, sizeof(ph), h);
	h = fnv1a(&ch, sizeof(ch), h);
	h = fnv1a(cc, strlen(cc) + 1, h);
	h = hash_file(bscript, h);
	/* Never the same entry for a trusted build and an untrusted one of
	 * the same files: a trusted variant never takes what a layer made. */
	k->trusted = variant_trusted(v);
	h = fnv1a(k->trusted ? "trusted" : "untrusted", k->trusted ? 8 : 10, h);
	k->patches_hash = hex(ph);
	k->patchset_sha256 = patchset_sha256(v->patches, v->npatches);
	k->config_hash = hex(ch);
	k->build_id = hex(h);
	/* Keyed by content alone: variants that build the same kernel share it. */
	k->dir = xasprintf("%s/kernels/%s", cache_dir(), k->build_id);
	k->bzimage = xasprintf("%s/%s", k->dir, strcmp(k->arch, "arm64") ? "bzImage" : "Image");
	k->gen_init_cpio = xasprintf("%s/gen_init_cpio", k->dir);
	if (entry_valid(k)) {
		progress("variant '%s': cached build %s", v->name, k->dir);
		k->cached = 1;
		k->source_path = path, k->source_ref = ref;
		free(cc);
		return 0;
	}
	k->rebuilt = unlink(k->bzimage) == 0;	/* there, and not this build */
	if (k->rebuilt)
		progress("variant '%s': the image cached in %s does not name build %s and its tree; building it again",
			 v->name, k->dir, k->build_id);
	mkdirs(k->dir);
	k->source_path = path, k->source_ref = ref;
	srcname = strrchr(path, '/') + 1;
	/* One build folder per source, architecture and configuration: x86
	 * and arm64 builds of a source never share objects (they share the
	 * source tree, and with it its lock: kernel-build.sh), and a build of
	 * another configuration (a debug flavour) never recompiles the folder
	 * of the default one.  A layer needs its folder there, if empty. */
	build = xasprintf("%s/build/%s%s%s-c%.8s", cache_dir(), srcname, strcmp(k->arch, ARCH_DEFAULT) ? "-" : "",
			  strcmp(k->arch, ARCH_DEFAULT) ? k->arch : "", k->config_hash);
	if (mkdirs(build))
		die(EXIT_INFRA, "cannot make the build folder '%s': %s", build, strerror(errno));
	argv = calloc(18 + v->npatches, sizeof(char *));
	argv[n++] = bscript;
	argv[n++] = "-a", argv[n++] = (char *)k->arch;
	if (!own)	/* untrusted files on the source's folders: a layer */
		argv[n++] = "-l", argv[n++] = xasprintf("%s/layers/%s", cache_dir(), k->build_id);
	argv[n++] = "-i", argv[n++] = k->build_id;
	if (k->trusted) {
		argv[n++] = "-c", argv[n++] = shared_cc;
	} else {
		/* An untrusted source writes a ccache of its own (a layer its
		 * own inside it); the shared one, and the source's, read only. */
		char *source_cc = xasprintf("%s/ccache-%s", cache_dir(), srcname);

		if (own)
			argv[n++] = "-c", argv[n++] = source_cc;
		else if (strncmp(v->source, "debian:", 7) && !mkdirs(source_cc))
			argv[n++] = "-s", argv[n++] = source_cc;
		if (!mkdirs(shared_cc))
			argv[n++] = "-s", argv[n++] = shared_cc;
	}
	argv[n++] = path;
	argv[n++] = ref;
	argv[n++] = build;
	argv[n++] = k->dir;
	argv[n++] = v->name;
	argv[n++] = fragment_write(v, k->dir);
	for (int i = 0; i < v->npatches; i++)
		argv[n++] = v->patches[i];
	stale_git_lock_remove(path);
	progress("variant '%s': building%s (log: %s/build.log)", v->name,
		 k->trusted ? "" : own ? ", untrusted source" : ", untrusted, in a layer of its own", k->dir);
	rc = run_script(argv, &out, v->name);
	if (rc)
		exit(rc == EXIT_USAGE ? EXIT_USAGE : EXIT_INFRA);
	if (!entry_valid(k))	/* kernel-build.sh checked it; so does every use */
		die(EXIT_INFRA, "variant '%s': the build left no image of build %s in %s", v->name, k->build_id,
		    k->dir);
	free(cc);
	return 0;
}
