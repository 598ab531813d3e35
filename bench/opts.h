/* Options declared once in a typed table with bounds and help; one parser
 * fills them and prints --help.  Used by the guest-side benchmarks and by
 * the host-side reclaimbench alike. */
#ifndef RB_OPTS_H
#define RB_OPTS_H

#define OPT_LIST_MAX 32

enum opt_type { OPT_UINT, OPT_STRING, OPT_FLAG, OPT_LIST };

struct opt_list {
	int n;
	const char *v[OPT_LIST_MAX];
};

struct opt {
	const char *name;	/* long name without "--" */
	enum opt_type type;
	void *value;		/* unsigned long *, const char **, int *, struct opt_list * */
	unsigned long min, max;	/* bounds of OPT_UINT */
	const char *arg;	/* placeholder shown in --help */
	const char *help;
};

/* Parse argv[first..] against one or more NULL-name-terminated tables.
 * Returns the index of the first operand, or -1 after printing a one-line
 * error to stderr.  "--help" prints usage and the tables and returns -2. */
int opts_parse(const struct opt *const *tables, int argc, char **argv, int first,
	       const char *usage);
void opts_help(const struct opt *const *tables, const char *usage);

/* Find an option by name in a table; NULL if absent. */
const struct opt *opts_find(const struct opt *table, const char *name);

/* Set one option from its text value, checking type and bounds.  On error
 * writes a one-line message into err and returns -1. */
int opts_set(const struct opt *o, const char *text, char *err, size_t errlen);
#endif
