/* kconfig: the configuration differences between two built kernels, read
 * from the .config their build left in the kernel cache
 * (cache/kernels/BUILD_ID/config).  The claims page lists them beside the
 * 6.12 -> 7.3 context, where a difference is not a feature's effect. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reclaimbench.h"

/* A build id as the cache names it (hex): anything else, which a database
 * could hold, never becomes a path. */
static int build_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n < 8 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)id[i]))
			return 0;
	return 1;
}

struct kopt {
	char *name, *value;	/* value "n" for "# CONFIG_X is not set" */
};

static int kopt_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kopt *)a)->name, ((const struct kopt *)b)->name);
}

/* The options of one .config, sorted by name; -1 when unreadable. */
static int kconfig_read(const char *build_id, struct kopt **out)
{
	char *path, line[4096];
	struct kopt *o = NULL;
	int n = 0, cap = 0;
	FILE *f;

	if (!build_id_ok(build_id))
		return -1;
	path = xasprintf("%s/kernels/%s/config", cache_dir(), build_id);
	f = fopen(path, "r");
	free(path);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *name = line, *value, *end;

		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "# CONFIG_", 9) && (end = strstr(line, " is not set")) && !end[11]) {
			*end = 0, name = line + 2, value = "n";
		} else if (!strncmp(line, "CONFIG_", 7) && (end = strchr(line, '='))) {
			*end = 0, value = end + 1;
		} else {
			continue;
		}
		if (n == cap)
			{
			struct kopt *grown = realloc(o, (cap = cap ? 2 * cap : 1024) * sizeof(*o));

			if (!grown)
				die(EXIT_INFRA, "out of memory");
			o = grown;
		}
		o[n++] = (struct kopt){ xstrdup(name + 7), xstrdup(value) };
	}
	fclose(f);
	qsort(o, n, sizeof(*o), kopt_cmp);
	*out = o;
	return n;
}

int kconfig_diff(const char *build_a, const char *build_b, struct kconfig_change **out)
{
	struct kopt *a = NULL, *b = NULL;
	struct kconfig_change *c = NULL;
	int na = kconfig_read(build_a, &a), nb = na < 0 ? -1 : kconfig_read(build_b, &b), i = 0, j = 0, n = 0;

	if (na < 0 || nb < 0) {
		for (i = 0; i < na; i++)
			free(a[i].name), free(a[i].value);
		free(a);
		return -1;
	}
	c = calloc(na + nb + 1, sizeof(*c));
	if (!c)
		die(EXIT_INFRA, "out of memory");
	while (i < na || j < nb) {
		int d = i == na ? 1 : j == nb ? -1 : strcmp(a[i].name, b[j].name);

		if (d < 0)
			c[n++] = (struct kconfig_change){ a[i].name, a[i].value, NULL }, i++;
		else if (d > 0)
			c[n++] = (struct kconfig_change){ b[j].name, NULL, b[j].value }, j++;
		else if (strcmp(a[i].value, b[j].value))
			c[n++] = (struct kconfig_change){ a[i].name, a[i].value, b[j].value }, free(b[j].name), i++, j++;
		else
			free(a[i].name), free(a[i].value), free(b[j].name), free(b[j].value), i++, j++;
	}
	free(a), free(b);
	*out = c;
	return n;
}

void kconfig_changes_free(struct kconfig_change *c, int n)
{
	for (int i = 0; i < n; i++) {
		free(c[i].name), free(c[i].a), free(c[i].b);
	}
	free(c);
}

char *kconfig_value(const char *build_id, const char *name)
{
	struct kopt *o = NULL, key = { (char *)name, NULL }, *hit;
	int n = kconfig_read(build_id, &o);
	char *value = NULL;

	if (n > 0 && (hit = bsearch(&key, o, n, sizeof(*o), kopt_cmp))) {
		size_t len = strlen(hit->value);

		/* A string option is quoted: the text inside. */
		if (len >= 2 && hit->value[0] == '"' && hit->value[len - 1] == '"')
			value = xasprintf("%.*s", (int)len - 2, hit->value + 1);
		else
			value = xstrdup(hit->value);
	}
	for (int i = 0; i < n; i++)
		free(o[i].name), free(o[i].value);
	free(o);
	return value;
}
