/* Variant specs: an INI-like file of [name] sections with source, arch,
 * patch, config, cmdline and inherit keys.  Errors name file:line. */
#include <ctype.h>
#include <stdarg.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "reclaimbench.h"

/* Parse errors: one line into set->error; the parser returns -1. */
static int spec_error(struct variant_set *set, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(set->error, sizeof(set->error), fmt, ap);
	va_end(ap);
	return -1;
}

static void add(char ***list, int *n, char *item)
{
	if (!(*list = realloc(*list, (*n + 1) * sizeof(char *))))
		die(EXIT_INFRA, "out of memory");
	(*list)[(*n)++] = item;
}

/* Every string the parser makes is kept in the set's list, so one call
 * frees it all however variants share them through inheritance. */
static char *own(struct variant_set *set, char *s)
{
	if (s) {
		set->owned = realloc(set->owned, (set->nowned + 1) * sizeof(char *));
		set->owned[set->nowned++] = s;
	}
	return s;
}

void variants_free(struct variant_set *set)
{
	for (int i = 0; i < set->nowned; i++)
		free(set->owned[i]);
	for (int i = 0; i < set->n; i++)
		free(set->v[i].patches), free(set->v[i].configs);
	free(set->owned), free(set->v), free(set->file);
	memset(set, 0, sizeof(*set));
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int valid_name(const char *s)
{
	if (!*s || *s == '.' || *s == '-')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-+", *s))
			return 0;
	return 1;
}

static int valid_source(const char *s)
{
	return !strncmp(s, "debian:", 7) || (!strncmp(s, "git:", 4) && strchr(s, '@')) ||
	       !strncmp(s, "dir:", 4);
}

/* A path relative to the spec file, which must exist. */
static char *spec_path(const char *dir, const char *rel)
{
	char *joined = rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", dir, rel);
	char *real = realpath(joined, NULL);

	free(joined);
	return real;
}

static struct variant *lookup(struct variant_set *set, const char *name)
{
	for (int i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, name))
			return &set->v[i];
	return NULL;
}

/* Fill a variant from its parents, once; inheritance cycles are errors. */
static int resolve(struct variant_set *set, struct variant *v, int depth)
{
	struct variant *p;
	char **patches = NULL;
	int n = 0;

	if (v->resolved || !v->inherit) {
		v->resolved = 1;
		return 0;
	}
	if (depth > set->n)
		return spec_error(set, "%s:%d: variant '%s' inherits from itself; break the cycle", set->file,
				  v->line, v->name);
	if (!(p = lookup(set, v->inherit)))
		return spec_error(set, "%s:%d: variant '%s' inherits unknown variant '%s'", set->file, v->line,
				  v->name, v->inherit);
	if (resolve(set, p, depth + 1))
		return -1;
	if (!v->source)
		v->source = p->source;
	if (!v->cmdline)
		v->cmdline = p->cmdline;
	if (!v->arch)
		v->arch = p->arch;
	if (!v->nconfigs)
		for (int i = 0; i < p->nconfigs; i++)
			add(&v->configs, &v->nconfigs, p->configs[i]);
	for (int i = 0; i < p->npatches; i++)
		add(&patches, &n, p->patches[i]);
	for (int i = 0; i < v->npatches; i++)
		add(&patches, &n, v->patches[i]);
	free(v->patches);
	v->patches = patches;
	v->npatches = n;
	v->resolved = 1;
	return 0;
}

/* Every variant resolved through what it inherits and checked whole,
 * its arch and command line defaulted; -1 with set->error. */
static int variants_complete(struct variant_set *set)
{
	for (int i = 0; i < set->n; i++)
		if (resolve(set, &set->v[i], 0))
			return -1;
	for (int i = 0; i < set->n; i++) {
		struct variant *v = &set->v[i];

		if (!v->source)
			return spec_error(set, "%s:%d: variant '%s' has no source", set->file, v->line, v->name);
		if (!v->nconfigs)
			return spec_error(set, "%s:%d: variant '%s' has no config fragment", set->file, v->line, v->name);
		if (!v->arch)
			v->arch = own(set, xstrdup(ARCH_DEFAULT));
		if (!v->cmdline)
			v->cmdline = own(set, xstrdup(strcmp(v->arch, "arm64") ? "console=ttyS0 panic=-1"
									: "console=ttyAMA0 panic=-1"));
	}
	return 0;
}

#define fail(set, copy, dirbuf, ...) (spec_error(set, __VA_ARGS__), free(copy), free(dirbuf), -1)

int variants_parse(const char *file, const char *text, struct variant_set *set)
{
	char *copy = xstrdup(text), *dirbuf = xstrdup(file), *dir;
	struct variant *cur = NULL;
	int lineno = 0, rc;

	memset(set, 0, sizeof(*set));
	set->file = xstrdup(file);
	dir = dirname(dirbuf);
	for (char *line = copy, *next; line; line = next) {
		char *s, *eq, *key, *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (!end || trim(end + 1)[0])
				return fail(set, copy, dirbuf, "%s:%d: malformed section '%s'; write [NAME]", file, lineno, s);
			*end = '\0';
			s = trim(s + 1);
			if (!valid_name(s))
				return fail(set, copy, dirbuf, "%s:%d: variant name '%s' may hold only letters, digits and ._-+",
				    file, lineno, s);
			if (lookup(set, s))
				return fail(set, copy, dirbuf, "%s:%d: variant '%s' defined twice", file, lineno, s);
			if (!(set->v = realloc(set->v, (set->n + 1) * sizeof(*set->v))))
				die(EXIT_INFRA, "out of memory");
			cur = memset(&set->v[set->n++], 0, sizeof(*cur));
			cur->name = own(set, xstrdup(s));
			cur->line = lineno;
			continue;
		}
		if (!(eq = strchr(s, '=')))
			return fail(set, copy, dirbuf, "%s:%d: expected 'key = value' or [NAME], not '%s'", file, lineno, s);
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!cur)
			return fail(set, copy, dirbuf, "%s:%d: '%s' before any [NAME] section", file, lineno, key);
		if (!*val)
			return fail(set, copy, dirbuf, "%s:%d: '%s' has no value", file, lineno, key);
		if (!strcmp(key, "source")) {
			if (!valid_source(val))
				return fail(set, copy, dirbuf, "%s:%d: source '%s' is not debian:VERSION, git:DIR@REF or dir:DIR",
				    file, lineno, val);
			cur->source = own(set, xstrdup(val));
		} else if (!strcmp(key, "patch")) {
			char *path = own(set, spec_path(dir, val));

			if (!path)
				return fail(set, copy, dirbuf, "%s:%d: '%s' does not exist; fix the path (relative to the spec file)",
					    file, lineno, val);
			add(&cur->patches, &cur->npatches, path);
		} else if (!strcmp(key, "config")) {
			char *path = own(set, spec_path(dir, val));

			if (!path)
				return fail(set, copy, dirbuf, "%s:%d: '%s' does not exist; fix the path (relative to the spec file)",
					    file, lineno, val);
			add(&cur->configs, &cur->nconfigs, path);
		} else if (!strcmp(key, "arch")) {
			if (!arch_valid(val))
				return fail(set, copy, dirbuf, "%s:%d: arch '%s' is not x86_64 or arm64", file, lineno, val);
			cur->arch = own(set, xstrdup(val));
		} else if (!strcmp(key, "cmdline")) {
			cur->cmdline = own(set, xstrdup(val));
		} else if (!strcmp(key, "inherit")) {
			cur->inherit = own(set, xstrdup(val));
		} else {
			return fail(set, copy, dirbuf, "%s:%d: unknown key '%s'; use source, arch, patch, config, cmdline or inherit",
			    file, lineno, key);
		}
	}
	rc = variants_complete(set);
	free(copy);
	free(dirbuf);
	return rc;
}

void variants_load(const char *file, struct variant_set *set)
{
	char *text;

	if (!project_file(file))
		spec_file_check("variant spec", file);
	if (!(text = read_file(file, NULL)))
		die(EXIT_USAGE, "variant spec '%s' cannot be read; pass --variants FILE", file);
	if (variants_parse(file, text, set))
		die(EXIT_USAGE, "%s", set->error);
	free(text);
	for (int i = 0; i < set->n; i++)
		variant_files_check(&set->v[i]);
}

/* Several spec files as one set, in order: each file is parsed and
 * resolved on its own (inherit stays within a file), and a name defined in
 * two files is an error. */
void variants_load_files(const char *const *files, int nfiles, struct variant_set *set)
{
	variants_load(files[0], set);
	for (int f = 1; f < nfiles; f++) {
		struct variant_set more;

		variants_load(files[f], &more);
		for (int i = 0; i < more.n; i++)
			if (lookup(set, more.v[i].name))
				die(EXIT_USAGE, "%s:%d: variant '%s' is also defined in '%s'; rename one", more.file,
				    more.v[i].line, more.v[i].name, set->file);
		if (!(set->v = realloc(set->v, (set->n + more.n) * sizeof(*set->v))) ||
		    !(set->owned = realloc(set->owned, (set->nowned + more.nowned) * sizeof(char *))))
			die(EXIT_INFRA, "out of memory");
		memcpy(set->v + set->n, more.v, more.n * sizeof(*more.v));
		memcpy(set->owned + set->nowned, more.owned, more.nowned * sizeof(char *));
		set->n += more.n, set->nowned += more.nowned;
		free(more.v), free(more.owned), free(more.file);
	}
}

struct variant *variant_find(struct variant_set *set, const char *name)
{
	return lookup(set, name);
}

const char *variant_arch(const struct variant *v)
{
	return v->arch ? v->arch : ARCH_DEFAULT;
}

int arch_valid(const char *arch)
{
	return !strcmp(arch, "x86_64") || !strcmp(arch, "arm64");
}

const char *arch_machine(const char *arch)
{
	return !strcmp(arch, "arm64") ? "aarch64" : arch;
}

/* The host's architecture as a variant names it (x86_64, arm64). */
const char *arch_host(void)
{
	static struct utsname u;

	if (uname(&u))
		return "unknown";
	return !strcmp(u.machine, "aarch64") ? "arm64" : u.machine;
}

int arch_native(const char *arch)
{
	struct utsname u;

	return uname(&u) == 0 && !strcmp(u.machine, arch_machine(arch));
}

const char *default_variants_file(void)
{
	static char *path;

	if (!path)
		path = xasprintf("%s/../kernels/variants.conf", self_dir());
	return path;
}

/* The default plan of run, build and list variants: the x86 variants and
 * their arm64 counterparts, each of arm64.conf named as its x86 kernel
 * with "-arm64" appended (variant_of_arch). */
int default_plan_files(const char ***files)
{
	static const char *v[2];

	if (!v[0])
		v[0] = default_variants_file(), v[1] = xasprintf("%s/../kernels/arm64.conf", self_dir());
	*files = v;
	return 2;
}

/* The name of variant x86_name's counterpart on arch (as uname -m or the
 * kernel's ARCH names it), mallocd. */
char *variant_of_arch(const char *x86_name, const char *arch)
{
	return !strcmp(arch, "arm64") || !strcmp(arch, "aarch64") ? xasprintf("%s-arm64", x86_name)
								  : xstrdup(x86_name);
}
