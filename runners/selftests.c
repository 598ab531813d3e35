/* The kernel's own mm selftests for the guest: built from the booted
 * kernel's source (its ref, without the variant's patches: the programs
 * test the patched kernel, they are not under test) by
 * selftests-build.sh in the sandbox, static, for the variant's
 * architecture, into a cache entry named by a content hash of source id,
 * architecture, compiler, build script and the set, so that a second run
 * takes them as they are. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "reclaimbench.h"

/* A set: "default", or program names of [a-z0-9_-] separated by commas. */
static char *set_expand(const char *set)
{
	if (!strcmp(set, "default"))
		return xstrdup(SELFTESTS_DEFAULT);
	if (!*set || strspn(set, "abcdefghijklmnopqrstuvwxyz0123456789_-,") != strlen(set) || strlen(set) > 512 ||
	    set[0] == ',' || strstr(set, ",,"))
		die(EXIT_USAGE, "--selftests '%s': name programs of tools/testing/selftests/mm separated by commas, "
		    "or 'default' (%s), or 'none'", shown(set), SELFTESTS_DEFAULT);
	return xstrdup(set);
}

char *selftests_take(char **plan)
{
	char *set = NULL;
	int k = 0;

	for (int i = 0; plan[i]; i++) {
		if (!strncmp(plan[i], "--selftests=", 12))
			set = plan[i] + 12;
		else
			plan[k++] = plan[i];
	}
	plan[k] = NULL;
	return set && strcmp(set, "none") ? set : NULL;
}

static char *entry_of(const struct built *k, const char *programs, char *script)
{
	char *cc = compiler_version(k->arch), *key;
	size_t len;
	char *text = read_file(script, &len);
	uint64_t h;

	if (!text)
		die(EXIT_INFRA, "cannot read '%s': %s", script, strerror(errno));
	h = fnv1a(text, len, 0);
	key = xasprintf("%s|%s|%s|%s", k->source_id, k->arch, cc, programs);
	h = fnv1a(key, strlen(key) + 1, h);
	free(text), free(cc), free(key);
	return xasprintf("%s/selftests/%016llx", cache_dir(), (unsigned long long)h);
}

char *selftests_ready(const struct built *k, const char *set)
{
	char *programs = set_expand(set), *script = xasprintf("%s/../runners/scripts/selftests-build.sh", self_dir());
	char *dir, *done, *lock, *out = NULL, *argv[48];
	int n = 0, fd, rc;

	if (!k->source_path || !k->source_ref || !k->source_id)
		return error("no source to build the selftests of"), NULL;
	dir = entry_of(k, programs, script);
	done = xasprintf("%s/done", dir), lock = xasprintf("%s.lock", dir);
	mkdirs(xasprintf("%s/selftests", cache_dir()));
	/* Two boots of one source wait for one build. */
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 || flock(fd, LOCK_EX))
		die(EXIT_INFRA, "cannot lock '%s': %s", lock, strerror(errno));
	if (access(done, F_OK) == 0) {
		close(fd);
		return xasprintf("%s/bin", dir);
	}
	argv[n++] = script, argv[n++] = k->source_path, argv[n++] = k->source_ref;
	argv[n++] = (char *)k->arch, argv[n++] = dir;
	for (char *p = strtok(programs, ","); p && n < 46; p = strtok(NULL, ","))
		argv[n++] = p;
	argv[n] = NULL;
	progress("selftests: building %s for %s (log: %s/build.log)", set, k->arch, dir);
	rc = run_script(argv, &out, "selftests");
	close(fd);
	free(out);
	if (rc || access(done, F_OK))
		return error("the selftests of '%s' did not build (log: %s/build.log)", k->source_path, dir), NULL;
	return xasprintf("%s/bin", dir);
}
