#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

const struct opt *opts_find(const struct opt *table, const char *name)
{
	for (const struct opt *o = table; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

int opts_set(const struct opt *o, const char *text, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	switch (o->type) {
	case OPT_UINT:
		errno = 0;
		v = strtoul(text, &end, 10);
		if (!*text || *end || errno || text[0] == '-') {
			snprintf(err, errlen, "option '--%s' wants a number, not '%s'", o->name, text);
			return -1;
		}
		if (v < o->min || v > o->max) {
			snprintf(err, errlen, "option '--%s' is %lu; use a value from %lu to %lu",
				 o->name, v, o->min, o->max);
			return -1;
		}
		*(unsigned long *)o->value = v;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = text;
		return 0;
	case OPT_FLAG:
		*(int *)o->value = 1;
		return 0;
	case OPT_LIST: {
		struct opt_list *l = o->value;

		if (l->n == OPT_LIST_MAX) {
			snprintf(err, errlen, "option '--%s' given more than %d times", o->name, OPT_LIST_MAX);
			return -1;
		}
		l->v[l->n++] = text;
		return 0;
	}
	}
	return -1;
}

static const struct opt *lookup(const struct opt *const *tables, const char *name)
{
	for (int t = 0; tables[t]; t++) {
		const struct opt *o = opts_find(tables[t], name);
		if (o)
			return o;
	}
	return NULL;
}

/* Options may come before or after operands (as with git); operands are
 * moved, in order, to the end of argv and their first index returned. */
int opts_parse(const struct opt *const *tables, int argc, char **argv, int first,
	       const char *usage)
{
	char **operands = calloc(argc + 1, sizeof(char *));
	int nop = 0, i, w = first;

	for (i = first; i < argc; i++) {
		char name[64], err[256];
		const char *arg = argv[i], *val, *eq;
		const struct opt *o;

		if (!strcmp(arg, "--")) {
			while (++i < argc)
				operands[nop++] = argv[i];
			break;
		}
		if (strncmp(arg, "--", 2) || !arg[2]) {
			operands[nop++] = argv[i];
			continue;
		}
		argv[w++] = argv[i];
		if (!strcmp(arg, "--help")) {
			opts_help(tables, usage);
			free(operands);
			return -2;
		}
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg - 2) : (int)strlen(arg + 2),
			 arg + 2);
		o = lookup(tables, name);
		if (!o) {
			fprintf(stderr, "error: unknown option '--%s'; see --help\n", name);
			goto fail;
		}
		if (o->type == OPT_FLAG) {
			if (eq) {
				fprintf(stderr, "error: option '--%s' takes no value\n", name);
				goto fail;
			}
			val = "1";
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[w++] = argv[++i];
		} else {
			fprintf(stderr, "error: option '--%s' needs a value (%s)\n", name, o->arg);
			goto fail;
		}
		if (opts_set(o, val, err, sizeof(err))) {
			fprintf(stderr, "error: %s\n", err);
			goto fail;
		}
	}
	memcpy(argv + w, operands, nop * sizeof(char *));
	free(operands);
	return w;
fail:
	free(operands);
	return -1;
}

void opts_help(const struct opt *const *tables, const char *usage)
{
	printf("%s\n\noptions:\n", usage);
	for (int t = 0; tables[t]; t++)
		for (const struct opt *o = tables[t]; o->name; o++) {
			char left[48];

			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
			printf("  %-26s %s", left, o->help);
			if (o->type == OPT_UINT)
				printf(" [%lu; %lu..%lu]", *(unsigned long *)o->value, o->min, o->max);
			else if (o->type == OPT_STRING && *(const char **)o->value)
				printf(" [%s]", *(const char **)o->value);
			else if (o->type == OPT_LIST)
				printf(" (repeatable)");
			putchar('\n');
		}
}
