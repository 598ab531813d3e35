/* libFuzzer: what the report takes from the database.  The input is a
 * kernel release as a guest would send it: through ingest into a
 * database, then out as a gnuplot data-file label and as HTML.  Checked:
 * the stored text holds no control byte; the label is one quoted field
 * of printable ASCII with no quote inside (gnuplot has no escape there);
 * the HTML holds no markup character unescaped; the terminal's text holds
 * no control byte, JSON's string no raw control byte and no quote that
 * ends it early, CSV's field no quote that is not doubled. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/record.h"
#include "../../runners/reclaimbench.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_report: %s\n", #c); abort(); } } while (0)

static char *stored_release(sqlite3 *db, const char *release)
{
	char payload[RECORD_MAX_LINE], stream[3 * RECORD_MAX_LINE], *p = stream, *out = NULL;
	struct session_info s = { .session = "fuzz", .accel = "tcg", .guest_mem_mb = 1, .guest_cpus = 1 };
	struct ingest_result res;
	sqlite3_stmt *st;

	snprintf(payload, sizeof(payload), "hello format=1");
	/* Too long for one record: rb-bench could not send it either. */
	if (record_field(payload, sizeof(payload), "release", release) ||
	    record_frame(p, RECORD_MAX_LINE, 0, payload) < 0)
		return NULL;
	p += strlen(p);
	record_frame(p, RECORD_MAX_LINE, 1, "begin bench=pt_reclaim version=1 params=");
	p += strlen(p);
	record_frame(p, RECORD_MAX_LINE, 2, "done status=ok samples=0");
	ingest(db, stream, &s, &res);
	sqlite3_prepare_v2(db, "SELECT release FROM kernels ORDER BY id DESC LIMIT 1", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	db_exec(db, "DELETE FROM samples; DELETE FROM runs; DELETE FROM kernels;");
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sqlite3 *db;
	char *label = malloc(size + 1), *stored, *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!db)
		db = db_open(":memory:");
	memcpy(label, data, size);
	label[size] = '\0';
	stored = stored_release(db, label);
	for (const char *c = stored; c && *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	CHECK(!stored || strlen(stored) < 128);

	for (int pass = 0; pass < 2; pass++) {
		const char *in = pass ? (stored ? stored : "") : label;

		f = open_memstream(&buf, &len);
		gp_label(f, in);
		fclose(f);
		CHECK(len >= 3 && len <= GP_LABEL_MAX + 2 && buf[0] == '"' && buf[len - 1] == '"');
		for (size_t i = 1; i + 1 < len; i++)
			CHECK(buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '"');
		free(buf);

		f = open_memstream(&buf, &len);
		html_escape(f, in);
		fclose(f);
		for (const char *c = buf; *c; c++) {
			CHECK(!strchr("<>\"'", *c));
			if (*c == '&')
				CHECK(!strncmp(c, "&lt;", 4) || !strncmp(c, "&gt;", 4) || !strncmp(c, "&amp;", 5) ||
				      !strncmp(c, "&quot;", 6) || !strncmp(c, "&#39;", 5));
		}
		free(buf);

		for (const unsigned char *c = (const unsigned char *)shown(in); *c; c++)
			CHECK(*c >= 0x20 && *c != 0x7f && !(c[0] == 0xc2 && c[1] >= 0x80 && c[1] < 0xa0));
		f = open_memstream(&buf, &len);
		json_string(f, in);
		fclose(f);
		CHECK(len >= 2 && buf[0] == '"' && buf[len - 1] == '"');
		for (size_t i = 1; i + 1 < len; i++) {
			CHECK((unsigned char)buf[i] >= 0x20);
			if (buf[i] == '\\')
				CHECK(strchr("\"\\ntu", buf[++i]));
			else
				CHECK(buf[i] != '"');
		}
		free(buf);
		f = open_memstream(&buf, &len);
		csv_field(f, in);
		fclose(f);
		if (len && buf[0] == '"') {
			CHECK(len >= 2 && buf[len - 1] == '"');
			for (size_t i = 1; i + 1 < len; i++)
				if (buf[i] == '"')
					CHECK(buf[++i] == '"' && i + 1 < len);
		} else {
			CHECK(!memchr(buf, ',', len) && !memchr(buf, '"', len));
		}
		free(buf);
	}
	free(stored);
	free(label);
	return 0;
}
