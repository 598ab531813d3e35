/* reclaimbench ingest FILE: records written elsewhere (a bare-metal
 * machine, a saved guest log) into the database; the storing is ingest.c's. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bench/opts.h"
#include "reclaimbench.h"

int cmd_ingest(int argc, char **argv)
{
	static const char *accel = "host", *variant = "";
	static const struct opt own[] = {
		{ "accel", OPT_STRING, &accel, 0, 0, "host|kvm|tcg|tcg-icount", "where the records were made" },
		{ "variant", OPT_STRING, &variant, 0, 0, "NAME", "kernel variant they ran on ('' for a plain kernel)" },
		{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
		{ NULL }
	};
	const struct opt *const tables[] = { own, NULL };
	int first = parse_args(tables, argc, argv, "usage: reclaimbench ingest RECORDS [--accel host|kvm|tcg|tcg-icount] [--variant NAME]");
	struct session_info s = { .alone = -1, .others_cpus = -1 };
	struct ingest_result res;
	char *text;
	sqlite3 *db;

	if (first != argc - 1)
		die(EXIT_USAGE, "ingest takes one records file");
	if (strcmp(accel, "host") && strcmp(accel, "kvm") && strcmp(accel, "tcg") && strcmp(accel, ACCEL_ICOUNT))
		die(EXIT_USAGE, "accelerator '%s' is not host, kvm, tcg or tcg-icount", accel);
	if (!(text = read_file(argv[first], NULL)))
		die(EXIT_USAGE, "records file '%s' cannot be read", argv[first]);
	db = db_open(opt_db);
	s.session = xasprintf("ingest-%ld-%d", (long)time(NULL), getpid());
	s.accel = accel;
	s.command = joined_argv(argc, argv);
	s.kernel.variant = variant;
	ingest(db, text, &s, &res);
	db_close(db);
	printf("stored session %s: %d ok, %d skipped, %d failed, %d incomplete%s%s\n", s.session, res.ok,
	       res.skipped, res.failed, res.incomplete, res.problem[0] ? "; " : "", res.problem);
	return res.failed || res.incomplete ? EXIT_INFRA : EXIT_OK;
}
