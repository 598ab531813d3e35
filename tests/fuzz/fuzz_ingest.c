/* libFuzzer: a whole record stream into an in-memory database. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../runners/reclaimbench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sqlite3 *db;
	const char *planned[] = { "pt_reclaim", "lazyfree_mthp" };
	struct session_info s = { .session = "fuzz", .accel = "tcg", .guest_mem_mb = 1, .guest_cpus = 1,
				  .planned = planned, .nplanned = 2 };
	struct ingest_result res;
	char *text = malloc(size + 1);

	if (!db)
		db = db_open(":memory:");
	memcpy(text, data, size);
	text[size] = '\0';
	ingest(db, text, &s, &res);
	db_exec(db, "DELETE FROM samples; DELETE FROM runs;");
	free(text);
	return 0;
}
