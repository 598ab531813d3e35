/* Guest -> host records: one line each, versioned, numbered, checksummed.
 *
 *   RB1 <seq> <kind> key=value ... *<crc32>
 *
 * The crc covers everything before " *".  Values are percent-escaped so a
 * line never holds a space, '=', '*' or a newline inside a value.  A stream
 * starts with "hello", each benchmark run is "begin" ... "done samples=N",
 * and the stream closes with "end count=N" (N = records before it).
 * Shared by the guest-side writer and the host-side parser. */
#ifndef RB_RECORD_H
#define RB_RECORD_H
#include <stddef.h>
#include <stdint.h>

#define RECORD_MAGIC "RB1"
#define RECORD_FORMAT 1
#define RECORD_MAX_LINE 4096
#define RECORD_MAX_FIELDS 24

struct record {
	unsigned long seq;
	char kind[16];
	int nfields;
	char *key[RECORD_MAX_FIELDS];
	char *val[RECORD_MAX_FIELDS];
	char buf[RECORD_MAX_LINE];
};

uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

/* Append "key=escaped(value)" with a leading space to payload (size cap). */
int record_field(char *payload, size_t cap, const char *key, const char *value);

/* Frame payload ("kind k=v ...") as a full line with newline into out. */
int record_frame(char *out, size_t cap, unsigned long seq, const char *payload);

/* Parse one line (with or without its newline).  Returns 0, or -1 with a
 * short reason in *why (static string). */
int record_parse(const char *line, struct record *r, const char **why);

/* Value of key in r, or NULL. */
const char *record_get(const struct record *r, const char *key);
#endif
